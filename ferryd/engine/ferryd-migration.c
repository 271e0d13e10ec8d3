/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration.c: one migration as a state machine
 *
 * Phases follow libvirt's version 3 protocol (Begin, Prepare, Perform,
 * Finish, Confirm) on both hosts; every failure goes through Confirm,
 * which rolls back so the guest runs on exactly one host. Phase and state
 * changes go through set_phase()/set_state(), which check them against
 * the transition tables below.
 *
 * This is the base both sides derive from (ferryd-outgoing-migration.c,
 * ferryd-incoming-migration.c); what differs by side goes through the
 * class (FerrydMigrationClass), never through a test of the side here.
 *
 * The hypervisor's side is the backend's FerrydStream: progress comes
 * from its signals (status, pass, stopped, resumed) plus a query sampled
 * every 250 ms, only while the stream runs: an idle daemon runs no timers.
 */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-migration-private.h"
#include "ferry-error.h"

enum
{
  SIGNAL_FINISHED,
  SIGNAL_PHASE_CHANGED,
  SIGNAL_ITERATION,
  SIGNAL_POST_COPY_STARTED,
  SIGNAL_POLICY_ACTION,
  SIGNAL_COMPLETED,
  SIGNAL_FAILED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];
static GParamSpec *props[MIGRATION_N_PROPS];

/* G_ADD_PRIVATE wants this name for what the sides share. */
typedef FerrydMigrationShared FerrydMigrationPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (FerrydMigration, ferryd_migration, G_TYPE_OBJECT)

static void apply_policy (FerrydMigration *self);
static void sample_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static gboolean sample_tick (gpointer user_data);
static void ferryd_migration_dispose (GObject *object);
static void ferryd_migration_finalize (GObject *object);
static void ferryd_migration_class_init (FerrydMigrationClass *klass);
static void ferryd_migration_init (FerrydMigration *self);
static void
ferryd_migration_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static void install_properties (GObjectClass *object_class);

/* --- accessors --- */

FerrydMigrationShared *
migration_shared (FerrydMigration *self)
{
  return ferryd_migration_get_instance_private (self);
}

guint
ferryd_migration_get_id (FerrydMigration *self)
{
  return SHARED (self)->id;
}

/* --- the public record --- */

static gboolean
value_equal (GParamSpec *pspec, const GValue *a, const GValue *b)
{
  /* g_param_values_cmp() does not compare container variants. */
  if (G_VALUE_HOLDS_VARIANT (a))
    {
      GVariant *va = g_value_get_variant (a);
      GVariant *vb = g_value_get_variant (b);

      if (va == NULL || vb == NULL)
        return va == vb;
      return g_variant_type_equal (g_variant_get_type (va), g_variant_get_type (vb)) &&
             g_variant_equal (va, vb);
    }
  return g_param_values_cmp (pspec, a, b) == 0;
}

/* Takes @value (unset on return). */
static void
record_set (FerrydMigration *self, MigrationProp prop, GValue *value)
{
  GValue *slot = &SHARED (self)->record[prop];

  if (value_equal (props[prop], slot, value))
    {
      g_value_unset (value);
      return;
    }
  g_value_unset (slot);
  *slot = *value;
  memset (value, 0, sizeof *value);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

void
migration_set_string (FerrydMigration *self, MigrationProp prop, const char *value)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, value);
  record_set (self, prop, &v);
}

void
migration_set_uint (FerrydMigration *self, MigrationProp prop, guint value)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_UINT);
  g_value_set_uint (&v, value);
  record_set (self, prop, &v);
}

void
migration_set_uint64 (FerrydMigration *self, MigrationProp prop, guint64 value)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_UINT64);
  g_value_set_uint64 (&v, value);
  record_set (self, prop, &v);
}

void
migration_set_double (FerrydMigration *self, MigrationProp prop, double value)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_DOUBLE);
  g_value_set_double (&v, value);
  record_set (self, prop, &v);
}

void
migration_set_variant (FerrydMigration *self, MigrationProp prop, GVariant *value)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_VARIANT);
  g_value_set_variant (&v, value);
  record_set (self, prop, &v);
}

const char *
migration_get_string (FerrydMigration *self, MigrationProp prop)
{
  return g_value_get_string (&SHARED (self)->record[prop]);
}

GVariant *
migration_get_variant (FerrydMigration *self, MigrationProp prop)
{
  return g_value_get_variant (&SHARED (self)->record[prop]);
}

guint
migration_get_uint (FerrydMigration *self, MigrationProp prop)
{
  return g_value_get_uint (&SHARED (self)->record[prop]);
}

void
migration_show_error (FerrydMigration *self, const GError *error)
{
  if (error == NULL && SHARED (self)->shown_error == NULL)
    return;
  g_clear_error (&SHARED (self)->shown_error);
  if (error)
    SHARED (self)->shown_error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), props[MIGRATION_PROP_ERROR]);
}

void
migration_emit_iteration (FerrydMigration *self, guint n, GVariant *stats)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (stats);

  g_signal_emit (self, signals[SIGNAL_ITERATION], 0, n, owned);
}

FerrydDomain *
ferryd_migration_get_domain (FerrydMigration *self)
{
  return SHARED (self)->domain;
}

const char *
ferryd_migration_get_direction (FerrydMigration *self)
{
  return FERRYD_MIGRATION_GET_CLASS (self)->direction;
}

const GError *
ferryd_migration_get_error (FerrydMigration *self)
{
  return SHARED (self)->error;
}

gboolean
ferryd_migration_is_finished (FerrydMigration *self)
{
  return SHARED (self)->finished;
}

/* --- phases and states --- */

void
migration_set_phase (FerrydMigration *self, Phase phase)
{
  GVariantBuilder stamps;
  GVariantIter iter;
  const char *key;
  guint64 value;

  if (SHARED (self)->phase == phase)
    return;
  if (!ferryd_phase_transition_allowed (SHARED (self)->phase, phase))
    {
      g_critical ("%s: invalid phase transition %s -> %s", SHARED (self)->label,
                  ferryd_phase_to_string (SHARED (self)->phase), ferryd_phase_to_string (phase));
      return;
    }
  g_debug ("%s: phase %s", SHARED (self)->label, ferryd_phase_to_string (phase));
  SHARED (self)->phase = phase;
  g_variant_builder_init (&stamps, G_VARIANT_TYPE ("a{st}"));
  g_variant_iter_init (&iter, migration_get_variant (self, MIGRATION_PROP_PHASE_TIMESTAMPS));
  while (g_variant_iter_next (&iter, "{&st}", &key, &value))
    g_variant_builder_add (&stamps, "{st}", key, value);
  g_variant_builder_add (&stamps, "{st}", ferryd_phase_to_string (phase),
                         (guint64) g_get_real_time ());
  migration_set_variant (self, MIGRATION_PROP_PHASE_TIMESTAMPS, g_variant_builder_end (&stamps));
  migration_set_string (self, MIGRATION_PROP_PHASE, ferryd_phase_to_string (phase));
  migration_journal_save (self);
  g_signal_emit (self, signals[SIGNAL_PHASE_CHANGED], 0, ferryd_phase_to_string (phase));
}

void
migration_set_state (FerrydMigration *self, State state)
{
  if (SHARED (self)->state == state)
    return;
  if (!ferryd_state_change_allowed (SHARED (self)->state, state))
    {
      g_critical ("%s: state change %s -> %s after the end", SHARED (self)->label,
                  ferryd_state_to_string (SHARED (self)->state), ferryd_state_to_string (state));
      return;
    }
  g_debug ("%s: state %s", SHARED (self)->label, ferryd_state_to_string (state));
  SHARED (self)->state = state;
  migration_set_string (self, MIGRATION_PROP_STATE, ferryd_state_to_string (state));
  migration_journal_save (self);
}

/* --- statistics and progress --- */

/* The negotiated features in the words of Manager.Capabilities. */
static GVariant *
features_in_effect (FerrydMigration *self)
{
  static const char *const names[][2] = {
    { "postcopy-ram", "postcopy" },
    { "multifd", "multifd" },
    { "auto-converge", "auto-converge" },
    { "switchover-ack", "switchover-ack" },
    { "tls", "tls" },
    { "storage-mirror", "storage-mirror" },
    { "synchronous-writes", "synchronous-writes" },
  };
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (SHARED (self)->features &&
        g_strv_contains ((const char *const *) SHARED (self)->features, names[i][0]))
      g_variant_builder_add (&builder, "s", names[i][1]);
  return g_variant_builder_end (&builder);
}

GVariant *
migration_build_statistics (FerrydMigration *self)
{
  FerrydTimes times = { SHARED (self)->stop_us, SHARED (self)->resume_us,
                        SHARED (self)->postcopy_us, SHARED (self)->end_us,
                        SHARED (self)->postcopy_started };
  g_autoptr (GVariant) stats =
      g_variant_ref_sink (ferryd_progress_build_statistics (&SHARED (self)->info, &times));
  GVariantDict dict;

  g_variant_dict_init (&dict, stats);
  g_variant_dict_insert_value (&dict, "features", features_in_effect (self));
  return g_variant_dict_end (&dict);
}

GVariant *
ferryd_migration_get_statistics (FerrydMigration *self)
{
  if (SHARED (self)->statistics)
    return g_variant_ref (SHARED (self)->statistics);
  return migration_build_statistics (self);
}

/* What the convergence policy looks at, from the last sample. */
static void
policy_sample (FerrydMigration *self, FerrydPolicySample *sample)
{
  FerrydMigrationShared *m = SHARED (self);
  const FerrydProgress *p = &m->info;

  *sample = (FerrydPolicySample){ 0 };
  sample->active = m->state == STATE_ACTIVE && p->status == FERRYD_STREAM_ACTIVE;
  sample->postcopy_started = m->postcopy_started;
  sample->postcopy_requested = m->postcopy_requested;
  sample->pass = MAX (m->pass, p->iteration);
  sample->remaining = p->memory_remaining;
  sample->transfer_rate = p->transfer_rate;
  sample->dirty_rate = p->dirty_rate;
  sample->pass_remaining = m->pass_remaining;
  sample->prev_pass_remaining = m->prev_pass_remaining;
  sample->downtime_limit = m->downtime_limit;
  sample->throttle = p->cpu_throttle;
  sample->last_step_pass = m->policy_step_pass;
  sample->published = m->published_verdict;
  sample->disk_copying = p->disk_total > 0 && !p->disk_in_sync;
  sample->disk_remaining = p->disk_total - MIN (p->disk_processed, p->disk_total);
  sample->disk_copy_rate = m->disk_copy_rate;
  sample->disk_write_rate = m->disk_write_rate;
}

/* The disk mirrors' rates over windows of two seconds or more: the
 * copied bytes grow by what they copy, the bytes to copy by what the
 * guest writes again. A capped mirror copies 1 MiB at a time, so two
 * samples 250 ms apart would often show writes and no copy. */
#define DISK_WINDOW_US (2 * G_USEC_PER_SEC)

static void
disk_rates (FerrydMigration *self, const FerrydProgress *progress, gint64 now_us)
{
  FerrydMigrationShared *m = SHARED (self);
  gint64 elapsed_us = now_us - m->disk_window_us;

  if (progress->disk_total == 0)
    return;
  if (m->disk_window_us != 0 && elapsed_us < DISK_WINDOW_US)
    return;
  if (m->disk_window_us != 0)
    {
      m->disk_copy_rate =
          progress->disk_processed > m->disk_window_processed
              ? (progress->disk_processed - m->disk_window_processed) * G_USEC_PER_SEC / elapsed_us
              : 0;
      m->disk_write_rate =
          progress->disk_total > m->disk_window_total
              ? (progress->disk_total - m->disk_window_total) * G_USEC_PER_SEC / elapsed_us
              : 0;
    }
  m->disk_window_us = now_us;
  m->disk_window_total = progress->disk_total;
  m->disk_window_processed = progress->disk_processed;
}

void
migration_update_progress (FerrydMigration *self)
{
  const FerrydProgress *p = &SHARED (self)->info;
  FerrydEstimateContext context = {
    SHARED (self)->progress,         SHARED (self)->state == STATE_COMPLETED,
    SHARED (self)->postcopy_started, SHARED (self)->downtime_limit,
    SHARED (self)->pass_remaining,   SHARED (self)->prev_pass_remaining
  };
  FerrydEstimate estimate;
  FerrydPolicySample sample;
  g_auto (FerrydConvergence) convergence = { 0 };

  if (!p->has_memory && p->disk_total == 0)
    return;
  ferryd_progress_estimate (p, &context, &estimate);
  migration_set_uint64 (self, MIGRATION_PROP_DISK_TOTAL, p->disk_total);
  migration_set_uint64 (self, MIGRATION_PROP_DISK_PROCESSED, p->disk_processed);
  migration_set_uint64 (self, MIGRATION_PROP_DISK_REMAINING,
                        p->disk_total - MIN (p->disk_processed, p->disk_total));
  if (!p->has_memory)
    {
      /* Disks still copy before the memory: only what is known moves,
       * and Convergence tells whether the mirrors catch up. */
      policy_sample (self, &sample);
      ferryd_policy_assess (&sample, &SHARED (self)->rules, &convergence);
      if (convergence.verdict == FERRYD_VERDICT_DIVERGING ||
          SHARED (self)->published_verdict != FERRYD_VERDICT_UNKNOWN)
        {
          migration_set_variant (self, MIGRATION_PROP_CONVERGENCE,
                                 ferryd_convergence_to_variant (&convergence, &sample));
          SHARED (self)->published_verdict = convergence.verdict;
        }
      SHARED (self)->progress = estimate.progress;
      migration_set_double (self, MIGRATION_PROP_PROGRESS, SHARED (self)->progress);
      migration_set_uint64 (self, MIGRATION_PROP_TIME_REMAINING, estimate.time_remaining);
      migration_set_uint64 (self, MIGRATION_PROP_TRANSFER_RATE, p->transfer_rate);
      return;
    }
  SHARED (self)->progress = estimate.progress;
  migration_set_double (self, MIGRATION_PROP_PROGRESS, SHARED (self)->progress);
  migration_set_uint64 (self, MIGRATION_PROP_TIME_ELAPSED, p->total_time);
  migration_set_uint64 (self, MIGRATION_PROP_TIME_REMAINING, estimate.time_remaining);
  migration_set_uint64 (self, MIGRATION_PROP_MEMORY_TOTAL, p->memory_total);
  migration_set_uint64 (self, MIGRATION_PROP_MEMORY_PROCESSED, p->memory_processed);
  migration_set_uint64 (self, MIGRATION_PROP_MEMORY_REMAINING, p->memory_remaining);
  migration_set_uint64 (self, MIGRATION_PROP_TRANSFER_RATE, p->transfer_rate);
  migration_set_uint64 (self, MIGRATION_PROP_DIRTY_RATE, p->dirty_rate);
  migration_set_uint (self, MIGRATION_PROP_ITERATION, p->iteration);
  migration_set_uint64 (self, MIGRATION_PROP_EXPECTED_DOWNTIME, estimate.expected_downtime);
  /* The verdict is kept (not reset to unknown) once the stream ends. */
  policy_sample (self, &sample);
  if (!sample.active && !sample.postcopy_started)
    {
      if (SHARED (self)->published_verdict == FERRYD_VERDICT_UNKNOWN)
        migration_set_string (self, MIGRATION_PROP_CONVERGING,
                              ferryd_converging_to_string (estimate.converging));
      return;
    }
  ferryd_policy_assess (&sample, &SHARED (self)->rules, &convergence);
  migration_set_variant (self, MIGRATION_PROP_CONVERGENCE,
                         ferryd_convergence_to_variant (&convergence, &sample));
  SHARED (self)->published_verdict = convergence.verdict;
  /* Converging is the short form of the same verdict. */
  migration_set_string (self, MIGRATION_PROP_CONVERGING,
                        convergence.verdict == FERRYD_VERDICT_CONVERGING ? "yes"
                        : convergence.verdict == FERRYD_VERDICT_UNKNOWN  ? "unknown"
                                                                         : "no");
}

/* --- convergence policy --- */

void
migration_policy_action (FerrydMigration *self, const char *action, const char *reason)
{
  g_info ("%s: policy: %s (%s)", SHARED (self)->label, action, reason);
  g_signal_emit (self, signals[SIGNAL_POLICY_ACTION], 0, action, reason);
}

static void
policy_downtime_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!ferryd_migration_control_finish (FERRYD_MIGRATION (source), result, &error))
    g_debug ("policy: the downtime limit was not raised: %s", error->message);
}

/* The rules are zero (nothing allowed) on a side that does not steer. */
static void
apply_policy (FerrydMigration *self)
{
  FerrydMigrationShared *m = SHARED (self);
  FerrydPolicySample sample;
  g_auto (FerrydConvergence) convergence = { 0 };
  g_auto (FerrydPolicyStep) step = { 0 };

  policy_sample (self, &sample);
  /* auto-converge is QEMU's own throttle: each rise is a step too. */
  if (sample.throttle > m->reported_throttle && !sample.postcopy_started)
    {
      g_autofree char *reason = ferryd_policy_throttle_reason (&sample);

      m->reported_throttle = sample.throttle;
      migration_policy_action (self, "throttle", reason);
    }
  ferryd_policy_assess (&sample, &m->rules, &convergence);
  ferryd_policy_next_step (&sample, &m->rules, &convergence, &step);
  if (step.kind == FERRYD_POLICY_STEP_NONE)
    return;
  m->policy_step_pass = sample.pass;
  migration_policy_action (self, ferryd_policy_step_to_string (step.kind), step.reason);
  if (step.kind == FERRYD_POLICY_STEP_RAISE_DOWNTIME)
    {
      /* Taken at once, so the next sample judges against it. */
      m->downtime_limit = step.value;
      ferryd_migration_set_max_downtime_async (self, step.value, NULL, policy_downtime_cb, NULL);
    }
  else if (step.kind == FERRYD_POLICY_STEP_START_POSTCOPY)
    ferryd_migration_start_postcopy (self, NULL);
}

/* --- sampling --- */

static void
sample_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  FerrydProgress progress;

  SHARED (self)->sampling = FALSE;
  if (!ferryd_stream_query_finish (FERRYD_STREAM (source), result, &progress, NULL, NULL) ||
      SHARED (self)->finished)
    return;
  disk_rates (self, &progress, g_get_monotonic_time ());
  SHARED (self)->info = progress;
  if (SHARED (self)->pass_sample_pending)
    {
      SHARED (self)->pass_sample_pending = FALSE;
      SHARED (self)->prev_pass_remaining = SHARED (self)->pass_remaining;
      SHARED (self)->pass_remaining = SHARED (self)->info.memory_remaining;
    }
  /* The policy acts on what Convergence showed so far, then the sample
   * is published. */
  apply_policy (self);
  migration_update_progress (self);
}

void
migration_sample_now (FerrydMigration *self)
{
  if (SHARED (self)->stream == NULL || !ferryd_stream_is_alive (SHARED (self)->stream) ||
      SHARED (self)->sampling)
    return;
  SHARED (self)->sampling = TRUE;
  ferryd_stream_query_async (SHARED (self)->stream, sample_cb, g_object_ref (self));
}

static gboolean
sample_tick (gpointer user_data)
{
  migration_sample_now (user_data);
  return G_SOURCE_CONTINUE;
}

void
migration_start_sampling (FerrydMigration *self)
{
  if (SHARED (self)->sample_id == 0)
    SHARED (self)->sample_id = g_timeout_add (SAMPLE_INTERVAL_MS, sample_tick, self);
}

void
migration_stop_sampling (FerrydMigration *self)
{
  g_clear_handle_id (&SHARED (self)->sample_id, g_source_remove);
  g_clear_handle_id (&SHARED (self)->timeout_id, g_source_remove);
}

/* --- the end --- */

void
migration_drop_stream (FerrydMigration *self)
{
  if (SHARED (self)->stream == NULL)
    return;
  g_signal_handlers_disconnect_by_data (SHARED (self)->stream, self);
  g_clear_object (&SHARED (self)->stream);
}

void
migration_finish (FerrydMigration *self, State state, const GError *error)
{
  if (SHARED (self)->finished)
    return;
  SHARED (self)->finished = TRUE;
  migration_stop_sampling (self);
  FERRYD_MIGRATION_GET_CLASS (self)->ending (self);
  if (SHARED (self)->end_us == 0)
    SHARED (self)->end_us = g_get_real_time ();
  if (state == STATE_COMPLETED)
    {
      SHARED (self)->progress = 1.0;
      migration_set_double (self, MIGRATION_PROP_PROGRESS, 1.0);
      migration_set_uint64 (self, MIGRATION_PROP_TIME_REMAINING, 0);
    }
  g_clear_pointer (&SHARED (self)->statistics, g_variant_unref);
  {
    GVariant *statistics = FERRYD_MIGRATION_GET_CLASS (self)->final_statistics (self);

    SHARED (self)->statistics =
        g_variant_ref_sink (statistics ? statistics : migration_build_statistics (self));
  }
  migration_set_variant (self, MIGRATION_PROP_STATISTICS, SHARED (self)->statistics);
  if (SHARED (self)->postcopy_started)
    migration_set_string (self, MIGRATION_PROP_MODE, "postcopy");
  if (error)
    {
      /* Kept as the engine's error (FERRY_ERROR); the D-Bus layer shows
       * its D-Bus name and message. */
      g_clear_error (&SHARED (self)->error);
      SHARED (self)->error = g_error_copy (error);
      migration_show_error (self, error);
    }
  if (SHARED (self)->phase != PHASE_CONFIRM)
    migration_set_phase (self, PHASE_CONFIRM);
  migration_set_state (self, state);
  migration_set_phase (self, PHASE_DONE);
  migration_journal_save (self);
  migration_drop_stream (self);
  ferryd_domain_set_migration (SHARED (self)->domain, NULL, FALSE);

  if (state == STATE_COMPLETED)
    g_signal_emit (self, signals[SIGNAL_COMPLETED], 0, SHARED (self)->statistics);
  else
    g_signal_emit (self, signals[SIGNAL_FAILED], 0);
  g_info ("%s: %s%s%s", SHARED (self)->label, ferryd_state_to_string (state), error ? ": " : "",
          error ? error->message : "");
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/* The backend says post-copy runs: from here on neither host holds the whole
 * guest. Returns FALSE if that was known already. */
gboolean
migration_note_postcopy_started (FerrydMigration *self, gint64 ts)
{
  if (SHARED (self)->postcopy_started)
    return FALSE;
  SHARED (self)->postcopy_started = TRUE;
  SHARED (self)->postcopy_us = ts;
  migration_set_string (self, MIGRATION_PROP_MODE, "postcopy");
  migration_journal_save (self);
  g_signal_emit (self, signals[SIGNAL_POST_COPY_STARTED], 0);
  return TRUE;
}

/* Neither side holds the whole guest: both stay paused until Recover,
 * nothing is rolled back, nothing is lost. Nothing moves either: no
 * samples, no property changes. */
void
migration_note_postcopy_paused (FerrydMigration *self)
{
  if (SHARED (self)->finished)
    return;
  migration_stop_sampling (self);
  migration_set_state (self, STATE_POSTCOPY_PAUSED);
  {
    g_autoptr (GError) paused = g_error_new_literal (
        FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
        "The post-copy data link broke: the guest is paused on both hosts and nothing is lost; "
        "Recover (on the source host's migration) resumes it");

    migration_show_error (self, paused);
  }
  g_info ("%s: post-copy paused", SHARED (self)->label);
}

void
migration_note_postcopy_resumed (FerrydMigration *self)
{
  gboolean was_paused = SHARED (self)->state == STATE_POSTCOPY_PAUSED;

  if (SHARED (self)->finished)
    return;
  migration_set_state (self, STATE_POSTCOPY_ACTIVE);
  if (!was_paused)
    return;
  /* The pause is over: its error is not the migration's. */
  migration_show_error (self, NULL);
  g_info ("%s: post-copy resumed", SHARED (self)->label);
}

static void
on_stream_exited (FerrydStream *stream, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (SHARED (self)->finished)
    return;
  FERRYD_MIGRATION_GET_CLASS (self)->stream_exited (self);
}

/* The guest crashed (a panic, a KVM internal error) while it migrated:
 * the migration ends with an error that names the crash, on this side
 * and the other, and a crashed guest is never resumed. */
static void
on_stream_crashed (FerrydStream *stream, const char *why, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (SHARED (self)->finished || SHARED (self)->crash_error)
    return;
  FERRYD_MIGRATION_GET_CLASS (self)->crashed (self, why);
}

void
migration_set_crash_error (FerrydMigration *self, const char *host, const char *why)
{
  g_clear_error (&SHARED (self)->crash_error);
  g_clear_error (&SHARED (self)->error);
  SHARED (self)->crash_error = g_error_new (
      FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
      "The guest crashed on the %s host during the migration (%s); it is kept there, paused, "
      "for inspection",
      host, why);
  g_warning ("%s: %s", SHARED (self)->label, SHARED (self)->crash_error->message);
}

void
migration_attach_stream (FerrydMigration *self, FerrydStream *stream)
{
  migration_drop_stream (self);
  SHARED (self)->stream = stream;
  g_signal_connect (stream, "exited", G_CALLBACK (on_stream_exited), self);
  g_signal_connect (stream, "crashed", G_CALLBACK (on_stream_crashed), self);
}

/* --- control --- */

gboolean
ferryd_migration_cancel (FerrydMigration *self, GError **error)
{
  if (SHARED (self)->finished)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                   ferryd_state_to_string (SHARED (self)->state));
      return FALSE;
    }
  if (SHARED (self)->postcopy_started)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Post-copy has started: neither host holds the whole guest, so the "
                           "migration can no longer be cancelled");
      return FALSE;
    }
  return FERRYD_MIGRATION_GET_CLASS (self)->cancel (self, error);
}

gboolean
ferryd_migration_start_postcopy (FerrydMigration *self, GError **error)
{
  return FERRYD_MIGRATION_GET_CLASS (self)->start_postcopy (self, error);
}

/* --- controls the backend must accept: answered once it has --- */

/* Runs @control through the side; @refusal, when set, is returned
 * instead (taken). */
static void
control_async (FerrydMigration *self,
               gpointer source_tag,
               const char *what,
               GError *refusal,
               FerrydStreamControl control,
               guint64 value,
               GCancellable *cancellable,
               GAsyncReadyCallback callback,
               gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  /* The downtime limit the policy takes once the backend took it. */
  if (control == FERRYD_STREAM_CONTROL_DOWNTIME)
    g_task_set_task_data (task, GSIZE_TO_POINTER ((gsize) value), NULL);
  if (refusal)
    {
      g_task_return_error (task, refusal);
      g_object_unref (task);
      return;
    }
  FERRYD_MIGRATION_GET_CLASS (self)->control (self, what, control, value, task);
}

void
ferryd_migration_set_max_downtime_async (FerrydMigration *self,
                                         guint64 ms,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  GError *refusal = NULL;

  ferryd_migrate_option_check_range ("max-downtime", ms, &refusal);
  control_async (self, ferryd_migration_set_max_downtime_async, "Tuning", refusal,
                 FERRYD_STREAM_CONTROL_DOWNTIME, ms, cancellable, callback, user_data);
}

void
ferryd_migration_set_max_bandwidth_async (FerrydMigration *self,
                                          guint64 bps,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  GError *refusal = NULL;

  ferryd_migrate_option_check_range ("max-bandwidth", bps, &refusal);
  control_async (self, ferryd_migration_set_max_bandwidth_async, "Tuning", refusal,
                 FERRYD_STREAM_CONTROL_BANDWIDTH, bps, cancellable, callback, user_data);
}

void
ferryd_migration_pause_async (FerrydMigration *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  control_async (self, ferryd_migration_pause_async, "Pausing", NULL, FERRYD_STREAM_CONTROL_PAUSE,
                 0, cancellable, callback, user_data);
}

gboolean
ferryd_migration_control_finish (FerrydMigration *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ferryd_migration_recover_async (FerrydMigration *self,
                                const char *uri,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_migration_recover_async);
  if (SHARED (self)->finished)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                             ferryd_state_to_string (SHARED (self)->state));
  else
    FERRYD_MIGRATION_GET_CLASS (self)->recover (self, uri ? uri : "", g_steal_pointer (&task));
}

void
ferryd_migration_shutdown (FerrydMigration *self)
{
  /* Guests outlive ferryd; only timers and watches stop here. */
  migration_stop_sampling (self);
  FERRYD_MIGRATION_GET_CLASS (self)->shutdown (self);
}

/* --- object --- */

void
migration_construct (FerrydMigration *self, const FerrydMigrationSetup *setup)
{
  const char *name = ferryd_domain_get_name (setup->domain);

  SHARED (self)->daemon = g_object_ref (setup->daemon);
  SHARED (self)->backend =
      g_object_ref (setup->backend ? setup->backend : ferryd_backend_for_domain (setup->domain));
  SHARED (self)->domain = g_object_ref (setup->domain);
  SHARED (self)->options = setup->options;
  SHARED (self)->local_hostname = g_strdup (setup->local_hostname);
  SHARED (self)->local_host_uuid = g_strdup (setup->local_host_uuid);
  SHARED (self)->id = setup->id;
  SHARED (self)->label = g_strdup_printf ("migration %u", setup->id);
  SHARED (self)->downtime_limit = SHARED (self)->options->max_downtime
                                      ? SHARED (self)->options->max_downtime
                                      : DEFAULT_DOWNTIME_MS;

  /* Before anyone binds: no notifications yet. */
  migration_set_string (self, MIGRATION_PROP_DOMAIN_NAME, name);
  migration_set_string (self, MIGRATION_PROP_SOURCE, setup->source);
  migration_set_string (self, MIGRATION_PROP_DESTINATION, setup->destination);
  migration_set_string (self, MIGRATION_PROP_DIRECTION, ferryd_migration_get_direction (self));
  migration_set_string (self, MIGRATION_PROP_BACKEND,
                        ferryd_backend_get_name (SHARED (self)->backend));
  migration_set_variant (self, MIGRATION_PROP_OPTIONS, SHARED (self)->options->variant);
  migration_set_uint (self, MIGRATION_PROP_STARTED_BY_UID, setup->uid);
  migration_set_string (self, MIGRATION_PROP_PHASE, "begin");
  migration_set_string (self, MIGRATION_PROP_STATE, "pending");
  migration_set_string (self, MIGRATION_PROP_MODE, "precopy");
  {
    FerrydPolicySample none = { 0 };
    g_auto (FerrydConvergence) convergence = { 0 };

    ferryd_policy_assess (&none, &SHARED (self)->rules, &convergence);
    migration_set_variant (self, MIGRATION_PROP_CONVERGENCE,
                           ferryd_convergence_to_variant (&convergence, &none));
  }
}

static void
ferryd_migration_dispose (GObject *object)
{
  FerrydMigration *self = FERRYD_MIGRATION (object);

  migration_stop_sampling (self);
  migration_drop_stream (self);
  G_OBJECT_CLASS (ferryd_migration_parent_class)->dispose (object);
}

static void
ferryd_migration_finalize (GObject *object)
{
  FerrydMigration *self = FERRYD_MIGRATION (object);

  for (guint i = 1; i < MIGRATION_N_PROPS; i++)
    if (G_IS_VALUE (&SHARED (self)->record[i]))
      g_value_unset (&SHARED (self)->record[i]);
  g_free (SHARED (self)->record);
  g_clear_error (&SHARED (self)->shown_error);
  g_clear_object (&SHARED (self)->domain);
  g_clear_object (&SHARED (self)->daemon);
  g_clear_object (&SHARED (self)->backend);
  g_clear_object (&SHARED (self)->cancellable);
  ferryd_migrate_options_free (SHARED (self)->options);
  g_clear_pointer (&SHARED (self)->statistics, g_variant_unref);
  g_strfreev (SHARED (self)->features);
  g_free (SHARED (self)->label);
  g_free (SHARED (self)->local_hostname);
  g_free (SHARED (self)->local_host_uuid);
  g_clear_error (&SHARED (self)->crash_error);
  g_clear_error (&SHARED (self)->error);
  G_OBJECT_CLASS (ferryd_migration_parent_class)->finalize (object);
}

static void
ferryd_migration_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerrydMigration *self = FERRYD_MIGRATION (object);

  if (prop_id == MIGRATION_PROP_ERROR)
    g_value_set_boxed (value, SHARED (self)->shown_error);
  else if (prop_id > 0 && prop_id < MIGRATION_N_PROPS)
    g_value_copy (&SHARED (self)->record[prop_id], value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

/* Types as gdbus-codegen's for the D-Bus type (s: string, t: guint64,
 * u: guint, d: double, a{..}: GVariant), so the D-Bus layer can bind
 * them as they are. */
static void
install_properties (GObjectClass *object_class)
{
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const struct
  {
    MigrationProp id;
    const char *name;
  } strings[] = {
    { MIGRATION_PROP_DOMAIN_NAME, "domain-name" }, { MIGRATION_PROP_SOURCE, "source" },
    { MIGRATION_PROP_DESTINATION, "destination" }, { MIGRATION_PROP_DIRECTION, "direction" },
    { MIGRATION_PROP_BACKEND, "backend" },         { MIGRATION_PROP_PHASE, "phase" },
    { MIGRATION_PROP_STATE, "state" },             { MIGRATION_PROP_MODE, "mode" },
  },
    counters[] = {
      { MIGRATION_PROP_TIME_ELAPSED, "time-elapsed" },
      { MIGRATION_PROP_TIME_REMAINING, "time-remaining" },
      { MIGRATION_PROP_MEMORY_TOTAL, "memory-total" },
      { MIGRATION_PROP_MEMORY_PROCESSED, "memory-processed" },
      { MIGRATION_PROP_MEMORY_REMAINING, "memory-remaining" },
      { MIGRATION_PROP_DISK_TOTAL, "disk-total" },
      { MIGRATION_PROP_DISK_PROCESSED, "disk-processed" },
      { MIGRATION_PROP_DISK_REMAINING, "disk-remaining" },
      { MIGRATION_PROP_TRANSFER_RATE, "transfer-rate" },
      { MIGRATION_PROP_DIRTY_RATE, "dirty-rate" },
      { MIGRATION_PROP_EXPECTED_DOWNTIME, "expected-downtime" },
    };

  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    props[strings[i].id] = g_param_spec_string (strings[i].name, NULL, NULL, "", flags);
  for (gsize i = 0; i < G_N_ELEMENTS (counters); i++)
    props[counters[i].id] =
        g_param_spec_uint64 (counters[i].name, NULL, NULL, 0, G_MAXUINT64, 0, flags);
  props[MIGRATION_PROP_CONVERGING] =
      g_param_spec_string ("converging", NULL, NULL, "unknown", flags);
  props[MIGRATION_PROP_OPTIONS] =
      g_param_spec_variant ("options", NULL, NULL, G_VARIANT_TYPE ("a{sv}"), NULL, flags);
  props[MIGRATION_PROP_CONVERGENCE] =
      g_param_spec_variant ("convergence", NULL, NULL, G_VARIANT_TYPE ("a{sv}"), NULL, flags);
  props[MIGRATION_PROP_STATISTICS] =
      g_param_spec_variant ("statistics", NULL, NULL, G_VARIANT_TYPE ("a{sv}"),
                            g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0), flags);
  props[MIGRATION_PROP_PHASE_TIMESTAMPS] =
      g_param_spec_variant ("phase-timestamps", NULL, NULL, G_VARIANT_TYPE ("a{st}"),
                            g_variant_new_array (G_VARIANT_TYPE ("{st}"), NULL, 0), flags);
  props[MIGRATION_PROP_STARTED_BY_UID] =
      g_param_spec_uint ("started-by-uid", NULL, NULL, 0, G_MAXUINT, 0, flags);
  props[MIGRATION_PROP_ITERATION] =
      g_param_spec_uint ("iteration", NULL, NULL, 0, G_MAXUINT, 0, flags);
  props[MIGRATION_PROP_PROGRESS] =
      g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0, flags);
  props[MIGRATION_PROP_ERROR] = g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR, flags);
  g_object_class_install_properties (object_class, MIGRATION_N_PROPS, props);
}

static void
ferryd_migration_class_init (FerrydMigrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_migration_dispose;
  object_class->finalize = ferryd_migration_finalize;
  object_class->get_property = ferryd_migration_get_property;

  install_properties (object_class);

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* The D-Bus Migration signals, same names and arguments ("failed" has
   * none: the "error" property says why). */
  signals[SIGNAL_PHASE_CHANGED] =
      g_signal_new ("phase-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_ITERATION] =
      g_signal_new ("iteration", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_VARIANT);
  signals[SIGNAL_POST_COPY_STARTED] =
      g_signal_new ("post-copy-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_POLICY_ACTION] =
      g_signal_new ("policy-action", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_COMPLETED] =
      g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, G_TYPE_VARIANT);
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferryd_migration_init (FerrydMigration *self)
{
  SHARED (self)->cancellable = g_cancellable_new ();
  SHARED (self)->record = g_new0 (GValue, MIGRATION_N_PROPS);
  for (guint i = 1; i < MIGRATION_N_PROPS; i++)
    if (i != MIGRATION_PROP_ERROR)
      {
        g_value_init (&SHARED (self)->record[i], props[i]->value_type);
        g_param_value_set_default (props[i], &SHARED (self)->record[i]);
      }
}
