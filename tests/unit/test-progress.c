/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: migration phases and states, progress, convergence and
 * statistics math, and the QMP backend's translation into it */
#define G_LOG_DOMAIN "test-progress"

#include "ferryd-phase.h"
#include "ferryd-progress.h"
#include "ferryd-qmp-progress.h"

static void
test_phase_transitions (void)
{
  static const FerrydPhase order[] = { PHASE_NONE,   PHASE_BEGIN,   PHASE_PREPARE, PHASE_PERFORM,
                                       PHASE_FINISH, PHASE_CONFIRM, PHASE_DONE };

  /* Forward, one step at a time. */
  for (gsize i = 0; i + 1 < G_N_ELEMENTS (order); i++)
    g_assert_true (ferryd_phase_transition_allowed (order[i], order[i + 1]));
  /* Every failure before Finish goes to Confirm. */
  g_assert_true (ferryd_phase_transition_allowed (PHASE_BEGIN, PHASE_CONFIRM));
  g_assert_true (ferryd_phase_transition_allowed (PHASE_PREPARE, PHASE_CONFIRM));
  g_assert_true (ferryd_phase_transition_allowed (PHASE_PERFORM, PHASE_CONFIRM));
  /* Nothing else: no skipping, no way back, no way out of Done. */
  g_assert_false (ferryd_phase_transition_allowed (PHASE_NONE, PHASE_CONFIRM));
  g_assert_false (ferryd_phase_transition_allowed (PHASE_NONE, PHASE_DONE));
  g_assert_false (ferryd_phase_transition_allowed (PHASE_BEGIN, PHASE_PERFORM));
  g_assert_false (ferryd_phase_transition_allowed (PHASE_BEGIN, PHASE_DONE));
  g_assert_false (ferryd_phase_transition_allowed (PHASE_PERFORM, PHASE_PREPARE));
  g_assert_false (ferryd_phase_transition_allowed (PHASE_FINISH, PHASE_PERFORM));
  g_assert_false (ferryd_phase_transition_allowed (PHASE_FINISH, PHASE_DONE));
  g_assert_false (ferryd_phase_transition_allowed (PHASE_CONFIRM, PHASE_BEGIN));
  for (gsize i = 0; i < G_N_ELEMENTS (order); i++)
    {
      g_assert_false (ferryd_phase_transition_allowed (PHASE_DONE, order[i]));
      g_assert_false (ferryd_phase_transition_allowed (order[i], PHASE_NONE));
    }
  /* Count: exactly nine allowed transitions. */
  {
    guint n = 0;
    for (gsize i = 0; i < G_N_ELEMENTS (order); i++)
      for (gsize j = 0; j < G_N_ELEMENTS (order); j++)
        n += ferryd_phase_transition_allowed (order[i], order[j]);
    g_assert_cmpuint (n, ==, 9);
  }
}

static void
test_phase_names (void)
{
  g_assert_cmpstr (ferryd_phase_to_string (PHASE_NONE), ==, "none");
  g_assert_cmpstr (ferryd_phase_to_string (PHASE_BEGIN), ==, "begin");
  g_assert_cmpstr (ferryd_phase_to_string (PHASE_PREPARE), ==, "prepare");
  g_assert_cmpstr (ferryd_phase_to_string (PHASE_PERFORM), ==, "perform");
  g_assert_cmpstr (ferryd_phase_to_string (PHASE_FINISH), ==, "finish");
  g_assert_cmpstr (ferryd_phase_to_string (PHASE_CONFIRM), ==, "confirm");
  g_assert_cmpstr (ferryd_phase_to_string (PHASE_DONE), ==, "done");
  g_assert_cmpstr (ferryd_state_to_string (STATE_PENDING), ==, "pending");
  g_assert_cmpstr (ferryd_state_to_string (STATE_SETUP), ==, "setup");
  g_assert_cmpstr (ferryd_state_to_string (STATE_ACTIVE), ==, "active");
  g_assert_cmpstr (ferryd_state_to_string (STATE_POSTCOPY_ACTIVE), ==, "postcopy-active");
  g_assert_cmpstr (ferryd_state_to_string (STATE_POSTCOPY_PAUSED), ==, "postcopy-paused");
  g_assert_cmpstr (ferryd_state_to_string (STATE_COMPLETED), ==, "completed");
  g_assert_cmpstr (ferryd_state_to_string (STATE_FAILED), ==, "failed");
  g_assert_cmpstr (ferryd_state_to_string (STATE_CANCELLED), ==, "cancelled");
}

static void
test_states (void)
{
  for (FerrydState from = STATE_PENDING; from <= STATE_CANCELLED; from++)
    {
      gboolean final = from == STATE_COMPLETED || from == STATE_FAILED || from == STATE_CANCELLED;

      g_assert_cmpint (ferryd_state_is_final (from), ==, final);
      for (FerrydState to = STATE_PENDING; to <= STATE_CANCELLED; to++)
        g_assert_cmpint (ferryd_state_change_allowed (from, to), ==, !final || from == to);
    }
  /* Post-copy may pause and resume. */
  g_assert_true (ferryd_state_change_allowed (STATE_POSTCOPY_ACTIVE, STATE_POSTCOPY_PAUSED));
  g_assert_true (ferryd_state_change_allowed (STATE_POSTCOPY_PAUSED, STATE_POSTCOPY_ACTIVE));
}

static FerrydProgress
sample (guint64 total, guint64 remaining, guint64 rate, guint64 dirty, guint32 iteration)
{
  FerrydProgress p = { 0 };

  p.has_memory = TRUE;
  p.memory_total = total;
  p.memory_remaining = remaining;
  p.memory_processed = total - MIN (remaining, total);
  p.transfer_rate = rate;
  p.dirty_rate = dirty;
  p.iteration = iteration;
  p.expected_downtime = 300;
  return p;
}

static void
test_progress_fraction (void)
{
  FerrydEstimateContext context = { .downtime_limit = 50 };
  FerrydEstimate e;
  FerrydProgress p = sample (1000, 250, 0, 0, 1);

  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat_with_epsilon (e.progress, 0.75, 1e-9);

  /* Never backwards, even when more memory got dirty. */
  context.previous_progress = 0.8;
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat_with_epsilon (e.progress, 0.8, 1e-9);

  /* Capped below 1 until completed. */
  context.previous_progress = 0;
  p = sample (1000, 0, 0, 0, 3);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat_with_epsilon (e.progress, 0.99, 1e-9);
  context.completed = TRUE;
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat_with_epsilon (e.progress, 1.0, 1e-9);

  /* Nothing known yet; more remaining than total. */
  context.completed = FALSE;
  p = sample (0, 0, 0, 0, 0);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat (e.progress, ==, 0.0);
  p = sample (100, 500, 0, 0, 0);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat (e.progress, ==, 0.0);
}

static guint64 lookup_u64 (GVariant *dict, const char *key);

/* Disks copy before the memory: both count, byte for byte. */
static void
test_progress_disks (void)
{
  FerrydEstimateContext context = { .downtime_limit = 50 };
  FerrydEstimate e;
  FerrydProgress p = { 0 };
  FerrydTimes t = { 0 };
  g_autoptr (GVariant) stats = NULL;
  g_autoptr (GVariant) disks = NULL;
  g_autoptr (GVariant) vda = NULL;

  /* Disks half copied, memory not started: a quarter of 2000 bytes. */
  p.memory_total = 1000;
  p.disk_total = 1000;
  p.disk_processed = 500;
  p.transfer_rate = 100;
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat_with_epsilon (e.progress, 0.25, 1e-9);
  /* 1500 bytes left at the disks' rate */
  g_assert_cmpuint (e.time_remaining, ==, 15000);

  /* Disks done, memory 3/4 sent. */
  p.disk_processed = 1000;
  p.has_memory = TRUE;
  p.memory_remaining = 250;
  p.transfer_rate = 0;
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpfloat_with_epsilon (e.progress, 0.875, 1e-9);

  p.n_disks = 1;
  g_strlcpy (p.disks[0].id, "vda", sizeof p.disks[0].id);
  p.disks[0].total = 1000;
  p.disks[0].processed = 1000;
  stats = g_variant_ref_sink (ferryd_progress_build_statistics (&p, &t));
  g_assert_cmpuint (lookup_u64 (stats, "disk-total"), ==, 1000);
  g_assert_cmpuint (lookup_u64 (stats, "disk-transferred"), ==, 1000);
  disks = g_variant_lookup_value (stats, "disks", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (disks);
  vda = g_variant_lookup_value (disks, "vda", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (vda);
  g_assert_cmpuint (lookup_u64 (vda, "total"), ==, 1000);
  g_assert_cmpuint (lookup_u64 (vda, "transferred"), ==, 1000);
}

static void
test_progress_eta (void)
{
  FerrydEstimateContext context = { .downtime_limit = 50 };
  FerrydEstimate e;
  /* 100 MB left at 100 MB/s, 20 MB/s dirtied: 1.25 s; downtime 1 s. */
  FerrydProgress p = sample (1000000000, 100000000, 100000000, 20000000, 1);

  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpuint (e.time_remaining, ==, 1250);
  g_assert_cmpuint (e.expected_downtime, ==, 1000);

  /* Dirtied as fast as sent: unknown. */
  p = sample (1000, 500, 100, 100, 1);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpuint (e.time_remaining, ==, 0);

  /* No rate measured: the backend's own expected downtime stands. */
  p = sample (1000, 500, 0, 0, 1);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpuint (e.expected_downtime, ==, 300);
  g_assert_cmpuint (e.time_remaining, ==, 0);

  /* Nothing left. */
  p = sample (1000, 0, 100, 0, 1);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpuint (e.time_remaining, ==, 0);
  g_assert_cmpuint (e.expected_downtime, ==, 0);
}

static void
test_progress_converging (void)
{
  FerrydEstimateContext context = { .downtime_limit = 50 };
  FerrydEstimate e;
  FerrydProgress p;

  /* Too early to tell in the first pass. */
  p = sample (1000000, 900000, 1000, 5000, 1);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpint (e.converging, ==, FERRYD_CONVERGING_UNKNOWN);
  g_assert_cmpstr (ferryd_converging_to_string (e.converging), ==, "unknown");

  /* Dirtied faster than sent. */
  p.iteration = 2;
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpint (e.converging, ==, FERRYD_CONVERGING_NO);
  g_assert_cmpstr (ferryd_converging_to_string (e.converging), ==, "no");

  /* What is left fits in the downtime limit: 40 ms. */
  p = sample (1000000, 40000, 1000000, 1000, 2);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpint (e.converging, ==, FERRYD_CONVERGING_YES);
  g_assert_cmpstr (ferryd_converging_to_string (e.converging), ==, "yes");

  /* Does not fit: unknown until two passes can be compared... */
  p = sample (1000000, 500000, 1000000, 1000, 2);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpint (e.converging, ==, FERRYD_CONVERGING_UNKNOWN);
  /* ... then shrinking by more than a tenth is converging ... */
  context.prev_pass_remaining = 1000;
  context.pass_remaining = 899;
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpint (e.converging, ==, FERRYD_CONVERGING_YES);
  /* ... and by less is not. */
  context.pass_remaining = 900;
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpint (e.converging, ==, FERRYD_CONVERGING_NO);

  /* In post-copy it always converges. */
  context.postcopy_started = TRUE;
  p = sample (1000000, 900000, 1000, 5000, 5);
  ferryd_progress_estimate (&p, &context, &e);
  g_assert_cmpint (e.converging, ==, FERRYD_CONVERGING_YES);
}

static guint64
lookup_u64 (GVariant *dict, const char *key)
{
  guint64 value = G_MAXUINT64;

  g_assert_true (g_variant_lookup (dict, key, "t", &value));
  return value;
}

static void
test_statistics (void)
{
  static const char *const keys[] = {
    "total-time",         "setup-time",       "downtime",          "memory-total",
    "memory-transferred", "memory-remaining", "pages-transferred", "pages-zero",
    "iterations",         "dirty-rate",       "transfer-rate",     "postcopy-requests",
    "postcopy-time",      "disk-total",       "disk-transferred",  "mode",
  };
  FerrydProgress p = sample (4096, 1024, 800, 100, 3);
  FerrydTimes t = { .stop_us = 10000000, .resume_us = 10042000 };
  g_autoptr (GVariant) stats = NULL;
  g_autoptr (GVariant) empty = NULL;
  const char *mode = NULL;
  guint32 iterations = 0;

  p.total_time = 1234;
  p.pages_zero = 7;
  stats = g_variant_ref_sink (ferryd_progress_build_statistics (&p, &t));
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    g_assert_true (g_variant_lookup_value (stats, keys[i], NULL) != NULL);
  g_assert_cmpuint (lookup_u64 (stats, "total-time"), ==, 1234);
  g_assert_cmpuint (lookup_u64 (stats, "memory-total"), ==, 4096);
  g_assert_cmpuint (lookup_u64 (stats, "memory-transferred"), ==, 3072);
  g_assert_cmpuint (lookup_u64 (stats, "memory-remaining"), ==, 1024);
  g_assert_cmpuint (lookup_u64 (stats, "pages-zero"), ==, 7);
  g_assert_cmpuint (lookup_u64 (stats, "downtime-real"), ==, 42);
  g_assert_cmpuint (lookup_u64 (stats, "postcopy-time"), ==, 0);
  g_assert_true (g_variant_lookup (stats, "iterations", "u", &iterations));
  g_assert_cmpuint (iterations, ==, 3);
  g_assert_true (g_variant_lookup (stats, "mode", "&s", &mode));
  g_assert_cmpstr (mode, ==, "precopy");
  g_clear_pointer (&stats, g_variant_unref);

  /* Post-copy started, but pre-copy finished first: still pre-copy. */
  t = (FerrydTimes){ .postcopy_us = 1000000, .end_us = 3000000, .postcopy_started = TRUE };
  stats = g_variant_ref_sink (ferryd_progress_build_statistics (&p, &t));
  g_assert_true (g_variant_lookup (stats, "mode", "&s", &mode));
  g_assert_cmpstr (mode, ==, "precopy");
  g_assert_cmpuint (lookup_u64 (stats, "postcopy-time"), ==, 2000);
  g_assert_null (g_variant_lookup_value (stats, "downtime-real", NULL));
  g_clear_pointer (&stats, g_variant_unref);
  p.postcopy_bytes = 1;
  stats = g_variant_ref_sink (ferryd_progress_build_statistics (&p, &t));
  g_assert_true (g_variant_lookup (stats, "mode", "&s", &mode));
  g_assert_cmpstr (mode, ==, "postcopy");
  g_clear_pointer (&stats, g_variant_unref);

  /* A backend that measured the real downtime itself (libvirt): used
   * when the engine has no stop and resume times of its own... */
  p.downtime_real = 37;
  stats = g_variant_ref_sink (ferryd_progress_build_statistics (&p, &t));
  g_assert_cmpuint (lookup_u64 (stats, "downtime-real"), ==, 37);
  g_clear_pointer (&stats, g_variant_unref);
  /* ...and the engine's own measurement wins when it has one. */
  {
    FerrydTimes measured = { .stop_us = 10000000, .resume_us = 10042000 };

    g_clear_pointer (&stats, g_variant_unref);
    stats = g_variant_ref_sink (ferryd_progress_build_statistics (&p, &measured));
    g_assert_cmpuint (lookup_u64 (stats, "downtime-real"), ==, 42);
  }
  p.downtime_real = 0;

  /* Nothing reported at all. */
  empty = g_variant_ref_sink (ferryd_progress_build_statistics (NULL, &t));
  g_assert_cmpuint (lookup_u64 (empty, "memory-total"), ==, 0);
  g_assert_true (g_variant_lookup (empty, "mode", "&s", &mode));
  g_assert_cmpstr (mode, ==, "postcopy");
}

static void
test_iteration_statistics (void)
{
  FerrydProgress p = sample (4096, 1024, 800, 100, 3);
  g_autoptr (GVariant) stats = g_variant_ref_sink (ferryd_progress_iteration_statistics (&p));

  g_assert_cmpuint (lookup_u64 (stats, "memory-remaining"), ==, 1024);
  g_assert_cmpuint (lookup_u64 (stats, "memory-transferred"), ==, 3072);
  g_assert_cmpuint (lookup_u64 (stats, "transfer-rate"), ==, 800);
  g_assert_cmpuint (lookup_u64 (stats, "dirty-rate"), ==, 100);
  g_assert_cmpuint (lookup_u64 (stats, "expected-downtime"), ==, 300);
}

static void
test_incoming_statistics (void)
{
  GVariantDict dict;
  g_autoptr (GVariant) source = NULL;
  g_autoptr (GVariant) stats = NULL;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "downtime", "t", (guint64) 30);
  g_variant_dict_insert (&dict, "source-stop-time", "t", (guint64) 5000000);
  source = g_variant_ref_sink (g_variant_dict_end (&dict));

  stats = g_variant_ref_sink (ferryd_progress_incoming_statistics (source, 5075000));
  g_assert_cmpuint (lookup_u64 (stats, "downtime"), ==, 30);
  g_assert_cmpuint (lookup_u64 (stats, "downtime-real"), ==, 75);
  g_assert_null (g_variant_lookup_value (stats, "source-stop-time", NULL));
  g_clear_pointer (&stats, g_variant_unref);

  /* Resumed "before" it stopped (clocks apart): no real downtime. */
  stats = g_variant_ref_sink (ferryd_progress_incoming_statistics (source, 4000000));
  g_assert_null (g_variant_lookup_value (stats, "downtime-real", NULL));
  g_assert_null (g_variant_lookup_value (stats, "source-stop-time", NULL));
}

static void
test_qmp_progress (void)
{
  g_autoptr (JsonNode) reply = json_from_string (
      "{\"status\": \"active\", \"total-time\": 1500, \"setup-time\": 12, "
      "\"expected-downtime\": 300, \"ram\": {\"total\": 268435456, \"remaining\": 1048576, "
      "\"transferred\": 300000000, \"mbps\": 800.0, \"dirty-pages-rate\": 100, "
      "\"page-size\": 4096, \"normal\": 70000, \"duplicate\": 5000, \"dirty-sync-count\": 3, "
      "\"postcopy-requests\": 2, \"postcopy-bytes\": 0}}",
      NULL);
  g_autoptr (JsonNode) bare = json_from_string ("{\"status\": \"setup\"}", NULL);
  g_autoptr (JsonNode) array = json_from_string ("[]", NULL);
  FerrydProgress p = { 0 };

  g_assert_nonnull (reply);
  g_assert_true (ferryd_qmp_progress_from_reply (reply, &p));
  g_assert_cmpint (p.status, ==, FERRYD_STREAM_ACTIVE);
  g_assert_true (p.has_memory);
  g_assert_cmpuint (p.total_time, ==, 1500);
  g_assert_cmpuint (p.setup_time, ==, 12);
  g_assert_cmpuint (p.expected_downtime, ==, 300);
  g_assert_cmpuint (p.memory_total, ==, 268435456);
  g_assert_cmpuint (p.memory_remaining, ==, 1048576);
  g_assert_cmpuint (p.memory_processed, ==, 300000000);
  g_assert_cmpuint (p.transfer_rate, ==, 100000000); /* 800 Mbit/s */
  g_assert_cmpuint (p.dirty_rate, ==, 409600);
  g_assert_cmpuint (p.pages_transferred, ==, 70000);
  g_assert_cmpuint (p.pages_zero, ==, 5000);
  g_assert_cmpuint (p.iteration, ==, 3);
  g_assert_cmpuint (p.postcopy_requests, ==, 2);

  g_assert_true (ferryd_qmp_progress_from_reply (bare, &p));
  g_assert_cmpint (p.status, ==, FERRYD_STREAM_SETUP);
  g_assert_false (p.has_memory);
  g_assert_cmpuint (p.memory_total, ==, 0);

  p.total_time = 99;
  g_assert_false (ferryd_qmp_progress_from_reply (array, &p));
  g_assert_false (ferryd_qmp_progress_from_reply (NULL, &p));
  g_assert_cmpuint (p.total_time, ==, 99);

  g_assert_cmpint (ferryd_qmp_stream_status ("postcopy-paused"), ==, FERRYD_STREAM_POSTCOPY_PAUSED);
  g_assert_cmpint (ferryd_qmp_stream_status ("cancelled"), ==, FERRYD_STREAM_CANCELLED);
  g_assert_cmpint (ferryd_qmp_stream_status ("wait-unplug"), ==, FERRYD_STREAM_NONE);
  g_assert_cmpint (ferryd_qmp_stream_status (NULL), ==, FERRYD_STREAM_NONE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/phase/transitions", test_phase_transitions);
  g_test_add_func ("/phase/names", test_phase_names);
  g_test_add_func ("/phase/states", test_states);
  g_test_add_func ("/progress/fraction", test_progress_fraction);
  g_test_add_func ("/progress/eta", test_progress_eta);
  g_test_add_func ("/progress/disks", test_progress_disks);
  g_test_add_func ("/progress/converging", test_progress_converging);
  g_test_add_func ("/progress/statistics", test_statistics);
  g_test_add_func ("/progress/iteration-statistics", test_iteration_statistics);
  g_test_add_func ("/progress/incoming-statistics", test_incoming_statistics);
  g_test_add_func ("/progress/qmp", test_qmp_progress);
  return g_test_run ();
}
