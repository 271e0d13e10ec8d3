/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-check.c: Check's judgements, as pure functions so that each
 * figure it reports can be tested against the arithmetic behind it */
#define G_LOG_DOMAIN "ferry-check"

#include "ferryd-check.h"
#include "ferryd-policy.h"

/* Pre-copy passes Check models before it calls a migration endless. */
#define MAX_PASSES 30

char *
ferryd_check_combination_blocker (gboolean multifd, gboolean postcopy)
{
  /* QEMU 10.0 refuses postcopy-ram with multifd ("Postcopy is not yet
   * compatible with multifd") when the capabilities are set, after the
   * destination has started. */
  if (multifd && postcopy)
    return g_strdup ("multifd-channels cannot be combined with post-copy on this QEMU: use "
                     "postcopy=off or leave multifd-channels out");
  return NULL;
}

void
ferryd_check_space (
    guint64 allocated, guint64 virtual_size, guint64 free, char **blocker, char **warning)
{
  g_autofree char *need = ferryd_policy_format_size (allocated);
  g_autofree char *size = ferryd_policy_format_size (virtual_size);
  g_autofree char *has = ferryd_policy_format_size (free);

  *blocker = NULL;
  *warning = NULL;
  if (allocated > free)
    *blocker = g_strdup_printf ("The destination has %s free for disk images; the copied disks "
                                "hold %s",
                                has, need);
  else if (virtual_size > free)
    *warning = g_strdup_printf ("The destination has %s free for disk images; the copied disks "
                                "hold %s but may grow to %s there",
                                has, need, size);
}

void
ferryd_check_estimate_clear (FerrydCheckEstimate *e)
{
  g_clear_pointer (&e->warning, g_free);
}

static guint64
ms_at (guint64 bytes, guint64 rate)
{
  if (bytes > G_MAXUINT64 / 1000)
    return bytes / rate * 1000;
  return (bytes * 1000 + rate - 1) / rate;
}

void
ferryd_check_estimate (guint64 memory,
                       guint64 disk,
                       guint64 dirty_rate,
                       guint64 bandwidth,
                       guint64 downtime_limit,
                       FerrydCheckEstimate *e)
{
  guint64 time;
  guint64 left = memory;

  memset (e, 0, sizeof *e);
  if (bandwidth == 0)
    return;
  /* The disks copy first, then the memory; each pass sends what the
   * one before left dirty, until what is left fits the limit. */
  time = ms_at (disk, bandwidth);
  if (dirty_rate >= bandwidth)
    {
      g_autofree char *dirty = ferryd_policy_format_size (dirty_rate);
      g_autofree char *link = ferryd_policy_format_size (bandwidth);

      e->warning = g_strdup_printf ("Pre-copy will not converge at this bandwidth: dirty rate "
                                    "%s/s > link %s/s; post-copy would finish it",
                                    dirty, link);
      return;
    }
  for (guint pass = 0; pass < MAX_PASSES; pass++)
    {
      guint64 pass_ms = ms_at (left, bandwidth);

      if (pass > 0 && pass_ms <= downtime_limit)
        {
          e->time = time + pass_ms + FERRYD_CHECK_STARTUP_MS;
          e->downtime = pass_ms;
          return;
        }
      time += pass_ms;
      /* What the guest dirtied meanwhile, at most all its memory. */
      left = MIN (memory, (guint64) ((double) dirty_rate * pass_ms / 1000.0));
      if (dirty_rate == 0)
        {
          /* Not measured (an idle guest): the final pass sends almost
           * nothing; the pause is at most the limit. */
          e->time = time + FERRYD_CHECK_STARTUP_MS;
          e->downtime = downtime_limit;
          return;
        }
    }
  {
    g_autofree char *dirty = ferryd_policy_format_size (dirty_rate);
    g_autofree char *link = ferryd_policy_format_size (bandwidth);

    e->warning = g_strdup_printf ("Pre-copy may not converge at this bandwidth: dirty rate %s/s "
                                  "against link %s/s leaves more than %" G_GUINT64_FORMAT
                                  " ms of memory after %u passes; post-copy would finish it",
                                  dirty, link, downtime_limit, MAX_PASSES);
  }
}
