/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-progress.c: progress, convergence and statistics math over the
 * neutral FerrydProgress; pure functions, no objects, no I/O */
#define G_LOG_DOMAIN "ferry-progress"

#include "ferryd-progress.h"

const char *
ferryd_converging_to_string (FerrydConverging converging)
{
  switch (converging)
    {
    case FERRYD_CONVERGING_YES:
      return "yes";
    case FERRYD_CONVERGING_NO:
      return "no";
    case FERRYD_CONVERGING_UNKNOWN:
    default:
      return "unknown";
    }
}

void
ferryd_progress_estimate (const FerrydProgress *p,
                          const FerrydEstimateContext *context,
                          FerrydEstimate *estimate)
{
  /* Disks and memory count byte for byte: disks copy first, so their
   * share comes before the memory's. */
  guint64 disk_left = p->disk_total - MIN (p->disk_processed, p->disk_total);
  guint64 total = p->memory_total + p->disk_total;
  guint64 remaining = (p->has_memory ? p->memory_remaining : p->memory_total) + disk_left;
  guint64 rate = p->transfer_rate;
  guint64 dirty = p->dirty_rate;
  guint64 expected = p->expected_downtime;
  FerrydConverging converging = FERRYD_CONVERGING_UNKNOWN;
  double progress;

  /* Progress of the whole job: the share of memory already sent at least
   * once, then of what is left to send; never goes backwards. */
  progress = total ? (double) (total - MIN (remaining, total)) / (double) total : 0.0;
  progress = CLAMP (progress, 0.0, context->completed ? 1.0 : 0.99);
  estimate->progress = MAX (progress, context->previous_progress);

  /* The backend's own expected downtime lags (QEMU repeats the limit
   * until a pass completes); what is left over the measured rate is more
   * honest. */
  if (rate > 0)
    expected = p->memory_remaining * 1000 / rate;
  estimate->expected_downtime = expected;

  if (context->postcopy_started)
    converging = FERRYD_CONVERGING_YES;
  else if (p->iteration >= 2)
    {
      if (dirty >= rate)
        converging = FERRYD_CONVERGING_NO;
      else if (expected <= context->downtime_limit)
        converging = FERRYD_CONVERGING_YES;
      /* What is left at the start of each pass: if it does not shrink
       * clearly, the guest dirties as fast as the link copies. */
      else if (context->prev_pass_remaining > 0)
        converging = context->pass_remaining < context->prev_pass_remaining * 9 / 10
                         ? FERRYD_CONVERGING_YES
                         : FERRYD_CONVERGING_NO;
    }
  estimate->converging = converging;

  /* An honest estimate: what is left over the net rate at which it
   * shrinks; unknown (0) when it does not shrink. */
  estimate->time_remaining = rate > dirty && remaining > 0 ? remaining * 1000 / (rate - dirty) : 0;
  /* Before the memory stream has a rate, the disks' copy rate is the
   * only measure there is. */
  if (!p->has_memory && rate > 0 && remaining > 0)
    estimate->time_remaining = remaining * 1000 / rate;
}

GVariant *
ferryd_progress_build_statistics (const FerrydProgress *progress, const FerrydTimes *t)
{
  static const FerrydProgress none = { 0 };
  const FerrydProgress *p = progress ? progress : &none;
  GVariantBuilder builder;
  gboolean postcopy = t->postcopy_started && (p->postcopy_bytes > 0 || !p->has_memory);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "total-time", g_variant_new_uint64 (p->total_time));
  g_variant_builder_add (&builder, "{sv}", "setup-time", g_variant_new_uint64 (p->setup_time));
  g_variant_builder_add (&builder, "{sv}", "downtime", g_variant_new_uint64 (p->downtime));
  if (t->stop_us && t->resume_us >= t->stop_us)
    g_variant_builder_add (&builder, "{sv}", "downtime-real",
                           g_variant_new_uint64 ((guint64) (t->resume_us - t->stop_us) / 1000));
  else if (p->downtime_real > 0)
    g_variant_builder_add (&builder, "{sv}", "downtime-real",
                           g_variant_new_uint64 (p->downtime_real));
  g_variant_builder_add (&builder, "{sv}", "memory-total", g_variant_new_uint64 (p->memory_total));
  g_variant_builder_add (&builder, "{sv}", "memory-transferred",
                         g_variant_new_uint64 (p->memory_processed));
  g_variant_builder_add (&builder, "{sv}", "memory-remaining",
                         g_variant_new_uint64 (p->memory_remaining));
  g_variant_builder_add (&builder, "{sv}", "pages-transferred",
                         g_variant_new_uint64 (p->pages_transferred));
  g_variant_builder_add (&builder, "{sv}", "pages-zero", g_variant_new_uint64 (p->pages_zero));
  g_variant_builder_add (&builder, "{sv}", "iterations", g_variant_new_uint32 (p->iteration));
  g_variant_builder_add (&builder, "{sv}", "dirty-rate", g_variant_new_uint64 (p->dirty_rate));
  g_variant_builder_add (&builder, "{sv}", "transfer-rate",
                         g_variant_new_uint64 (p->transfer_rate));
  g_variant_builder_add (&builder, "{sv}", "postcopy-requests",
                         g_variant_new_uint64 (p->postcopy_requests));
  g_variant_builder_add (&builder, "{sv}", "postcopy-time",
                         g_variant_new_uint64 (t->postcopy_us && t->end_us > t->postcopy_us
                                                   ? (guint64) (t->end_us - t->postcopy_us) / 1000
                                                   : 0));
  g_variant_builder_add (&builder, "{sv}", "disk-total", g_variant_new_uint64 (p->disk_total));
  g_variant_builder_add (&builder, "{sv}", "disk-transferred",
                         g_variant_new_uint64 (p->disk_processed));
  if (p->n_disks > 0)
    {
      GVariantBuilder disks;

      g_variant_builder_init (&disks, G_VARIANT_TYPE_VARDICT);
      for (guint i = 0; i < p->n_disks && i < FERRYD_PROGRESS_MAX_DISKS; i++)
        {
          GVariantDict disk;

          g_variant_dict_init (&disk, NULL);
          g_variant_dict_insert (&disk, "total", "t", p->disks[i].total);
          g_variant_dict_insert (&disk, "transferred", "t", p->disks[i].processed);
          g_variant_builder_add (&disks, "{sv}", p->disks[i].id, g_variant_dict_end (&disk));
        }
      g_variant_builder_add (&builder, "{sv}", "disks", g_variant_builder_end (&disks));
    }
  g_variant_builder_add (&builder, "{sv}", "mode",
                         g_variant_new_string (postcopy ? "postcopy" : "precopy"));
  return g_variant_builder_end (&builder);
}

GVariant *
ferryd_progress_iteration_statistics (const FerrydProgress *p)
{
  GVariantDict stats;

  g_variant_dict_init (&stats, NULL);
  g_variant_dict_insert (&stats, "memory-remaining", "t", p->memory_remaining);
  g_variant_dict_insert (&stats, "memory-transferred", "t", p->memory_processed);
  g_variant_dict_insert (&stats, "transfer-rate", "t", p->transfer_rate);
  g_variant_dict_insert (&stats, "dirty-rate", "t", p->dirty_rate);
  g_variant_dict_insert (&stats, "expected-downtime", "t", p->expected_downtime);
  return g_variant_dict_end (&stats);
}

GVariant *
ferryd_progress_incoming_statistics (GVariant *source_statistics, gint64 resume_us)
{
  GVariantDict dict;
  guint64 stop_us = 0;

  g_variant_dict_init (&dict, source_statistics);
  if (g_variant_dict_lookup (&dict, "source-stop-time", "t", &stop_us) && stop_us > 0 &&
      resume_us >= (gint64) stop_us)
    g_variant_dict_insert (&dict, "downtime-real", "t",
                           (guint64) (resume_us - (gint64) stop_us) / 1000);
  g_variant_dict_remove (&dict, "source-stop-time");
  return g_variant_dict_end (&dict);
}
