/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-check.c: Check's judgements: combinations QEMU refuses, room
 * for the copied disks, and the estimates from dirty rate and link */
#define G_LOG_DOMAIN "test-check"

#include "ferryd-check.h"

#define MiB (G_GUINT64_CONSTANT (1) << 20)

static void
test_combination (void)
{
  g_autofree char *both = ferryd_check_combination_blocker (TRUE, TRUE);

  g_assert_nonnull (both);
  g_assert_nonnull (strstr (both, "multifd-channels"));
  g_assert_nonnull (strstr (both, "post-copy"));
  g_assert_null (ferryd_check_combination_blocker (TRUE, FALSE));
  g_assert_null (ferryd_check_combination_blocker (FALSE, TRUE));
}

static void
test_space (void)
{
  char *blocker, *warning;

  /* 64 MiB of data into 8 MiB: cannot be copied. */
  ferryd_check_space (64 * MiB, 64 * MiB, 8 * MiB, &blocker, &warning);
  g_assert_cmpstr (blocker, ==,
                   "The destination has 8.0 MiB free for disk images; the copied disks hold "
                   "64.0 MiB");
  g_assert_null (warning);
  g_free (blocker);
  /* The data fits, the disk's full size does not: it may fill up. */
  ferryd_check_space (1 * MiB, 64 * MiB, 8 * MiB, &blocker, &warning);
  g_assert_null (blocker);
  g_assert_nonnull (strstr (warning, "may grow to 64.0 MiB"));
  g_free (warning);
  ferryd_check_space (1 * MiB, 8 * MiB, 8 * MiB, &blocker, &warning);
  g_assert_null (blocker);
  g_assert_null (warning);
}

static void
test_estimate (void)
{
  g_auto (FerrydCheckEstimate) e = { 0 };

  /* Idle (no dirty rate): disks and memory once over the link, plus the
   * destination's start-up; the pause is at most the limit. */
  ferryd_check_estimate (64 * MiB, 32 * MiB, 0, 32 * MiB, 50, &e);
  g_assert_cmpuint (e.time, ==, 3000 + FERRYD_CHECK_STARTUP_MS);
  g_assert_cmpuint (e.downtime, ==, 50);
  g_assert_null (e.warning);

  /* 100 MiB at 100 MiB/s while 10 MiB/s are dirtied: 1000 ms, then
   * 10 MiB (100 ms > 50), then 1 MiB (10 ms): the switch-over. */
  ferryd_check_estimate_clear (&e);
  ferryd_check_estimate (100 * MiB, 0, 10 * MiB, 100 * MiB, 50, &e);
  g_assert_cmpuint (e.time, ==, 1000 + 100 + 10 + FERRYD_CHECK_STARTUP_MS);
  g_assert_cmpuint (e.downtime, ==, 10);
  g_assert_null (e.warning);

  /* Dirtied faster than the link: never, and 0 rather than a figure. */
  ferryd_check_estimate_clear (&e);
  ferryd_check_estimate (100 * MiB, 0, 120 * MiB, 32 * MiB, 50, &e);
  g_assert_cmpuint (e.time, ==, 0);
  g_assert_cmpuint (e.downtime, ==, 0);
  g_assert_cmpstr (e.warning, ==,
                   "Pre-copy will not converge at this bandwidth: dirty rate 120.0 MiB/s > link "
                   "32.0 MiB/s; post-copy would finish it");

  /* Just below the link: what is left hardly shrinks; no figure. */
  ferryd_check_estimate_clear (&e);
  ferryd_check_estimate (1024 * MiB, 0, 99 * MiB, 100 * MiB, 50, &e);
  g_assert_cmpuint (e.time, ==, 0);
  g_assert_nonnull (e.warning);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/check/combination", test_combination);
  g_test_add_func ("/check/space", test_space);
  g_test_add_func ("/check/estimate", test_estimate);
  return g_test_run ();
}
