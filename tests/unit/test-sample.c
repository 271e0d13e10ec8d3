/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-sample.c: what Check reads from a running guest's QEMU: the
 * blocked-reasons of query-migrate and the rate of query-dirty-rate */
#define G_LOG_DOMAIN "test-sample"

#include "ferryd-qmp-sample.h"

static JsonNode *
parse (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  return json_node_copy (json_parser_get_root (parser));
}

static void
test_blocked_reasons (void)
{
  g_autoptr (JsonNode) blocked = parse (
      "{\"blocked-reasons\": [\"Migration is disabled when using feature 'peer mode' in device "
      "'ivshmem'\"]}");
  g_autoptr (JsonNode) free_ = parse ("{}");
  g_auto (GStrv) reasons = ferryd_qmp_sample_blocked_reasons (blocked);
  g_auto (GStrv) none = ferryd_qmp_sample_blocked_reasons (free_);

  g_assert_cmpuint (g_strv_length (reasons), ==, 1);
  g_assert_nonnull (strstr (reasons[0], "ivshmem"));
  g_assert_cmpuint (g_strv_length (none), ==, 0);
}

static void
test_dirty_rate (void)
{
  g_autoptr (JsonNode) measured =
      parse ("{\"status\": \"measured\", \"dirty-rate\": 12, \"calc-time\": 500}");
  g_autoptr (JsonNode) measuring = parse ("{\"status\": \"measuring\"}");
  guint64 rate = 1;
  gboolean busy = TRUE;

  /* QEMU says MiB/s. */
  g_assert_true (ferryd_qmp_sample_dirty_rate (measured, &rate, &busy));
  g_assert_cmpuint (rate, ==, 12 << 20);
  g_assert_false (busy);
  g_assert_false (ferryd_qmp_sample_dirty_rate (measuring, &rate, &busy));
  g_assert_cmpuint (rate, ==, 0);
  g_assert_true (busy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sample/blocked-reasons", test_blocked_reasons);
  g_test_add_func ("/sample/dirty-rate", test_dirty_rate);
  return g_test_run ();
}
