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
  N_SIGNALS
};
static guint signals[N_SIGNALS];

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

FerryDBusMigration *
ferryd_migration_get_record (FerrydMigration *self)
{
  return SHARED (self)->record;
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
  g_variant_iter_init (&iter, ferry_dbus_migration_get_phase_timestamps (SHARED (self)->record));
  while (g_variant_iter_next (&iter, "{&st}", &key, &value))
    g_variant_builder_add (&stamps, "{st}", key, value);
  g_variant_builder_add (&stamps, "{st}", ferryd_phase_to_string (phase),
                         (guint64) g_get_real_time ());
  ferry_dbus_migration_set_phase_timestamps (SHARED (self)->record,
                                             g_variant_builder_end (&stamps));
  ferry_dbus_migration_set_phase (SHARED (self)->record, ferryd_phase_to_string (phase));
  migration_journal_save (self);
  ferry_dbus_migration_emit_phase_changed (SHARED (self)->record, ferryd_phase_to_string (phase));
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
  ferry_dbus_migration_set_state (SHARED (self)->record, ferryd_state_to_string (state));
  migration_journal_save (self);
}

/* --- statistics and progress --- */

GVariant *
migration_build_statistics (FerrydMigration *self)
{
  FerrydTimes times = { SHARED (self)->stop_us, SHARED (self)->resume_us,
                        SHARED (self)->postcopy_us, SHARED (self)->end_us,
                        SHARED (self)->postcopy_started };

  return ferryd_progress_build_statistics (&SHARED (self)->info, &times);
}

GVariant *
ferryd_migration_get_statistics (FerrydMigration *self)
{
  if (SHARED (self)->statistics)
    return g_variant_ref (SHARED (self)->statistics);
  return migration_build_statistics (self);
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

  if (!p->has_memory)
    return;
  ferryd_progress_estimate (p, &context, &estimate);
  SHARED (self)->progress = estimate.progress;
  ferry_dbus_migration_set_progress (SHARED (self)->record, SHARED (self)->progress);
  ferry_dbus_migration_set_time_elapsed (SHARED (self)->record, p->total_time);
  ferry_dbus_migration_set_time_remaining (SHARED (self)->record, estimate.time_remaining);
  ferry_dbus_migration_set_memory_total (SHARED (self)->record, p->memory_total);
  ferry_dbus_migration_set_memory_processed (SHARED (self)->record, p->memory_processed);
  ferry_dbus_migration_set_memory_remaining (SHARED (self)->record, p->memory_remaining);
  ferry_dbus_migration_set_transfer_rate (SHARED (self)->record, p->transfer_rate);
  ferry_dbus_migration_set_dirty_rate (SHARED (self)->record, p->dirty_rate);
  ferry_dbus_migration_set_iteration (SHARED (self)->record, p->iteration);
  ferry_dbus_migration_set_expected_downtime (SHARED (self)->record, estimate.expected_downtime);
  ferry_dbus_migration_set_converging (SHARED (self)->record,
                                       ferryd_converging_to_string (estimate.converging));
}

/* --- convergence policy --- */

void
migration_policy_action (FerrydMigration *self, const char *action, const char *reason)
{
  g_info ("%s: policy: %s (%s)", SHARED (self)->label, action, reason);
  ferry_dbus_migration_emit_policy_action (SHARED (self)->record, action, reason);
}

static void
apply_policy (FerrydMigration *self)
{
  const char *converging = ferry_dbus_migration_get_converging (SHARED (self)->record);
  g_autofree char *reason = NULL;

  if (!ferryd_progress_wants_postcopy (
          SHARED (self)->options->postcopy == FERRYD_POSTCOPY_AUTO,
          SHARED (self)->postcopy_requested, SHARED (self)->state == STATE_ACTIVE,
          SHARED (self)->pass,
          g_strcmp0 (converging, "no") == 0 ? FERRYD_CONVERGING_NO : FERRYD_CONVERGING_UNKNOWN))
    return;
  reason = g_strdup_printf (
      "pre-copy is not converging after %u passes: dirty rate %" G_GUINT64_FORMAT
      " B/s, transfer rate %" G_GUINT64_FORMAT " B/s, expected downtime %" G_GUINT64_FORMAT
      " ms > limit %" G_GUINT64_FORMAT " ms",
      SHARED (self)->pass, SHARED (self)->info.dirty_rate, SHARED (self)->info.transfer_rate,
      SHARED (self)->info.expected_downtime, SHARED (self)->downtime_limit);
  migration_policy_action (self, "start-postcopy", reason);
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
  SHARED (self)->info = progress;
  if (SHARED (self)->pass_sample_pending)
    {
      SHARED (self)->pass_sample_pending = FALSE;
      SHARED (self)->prev_pass_remaining = SHARED (self)->pass_remaining;
      SHARED (self)->pass_remaining = SHARED (self)->info.memory_remaining;
    }
  migration_update_progress (self);
  apply_policy (self);
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
      ferry_dbus_migration_set_progress (SHARED (self)->record, 1.0);
      ferry_dbus_migration_set_time_remaining (SHARED (self)->record, 0);
    }
  g_clear_pointer (&SHARED (self)->statistics, g_variant_unref);
  {
    GVariant *statistics = FERRYD_MIGRATION_GET_CLASS (self)->final_statistics (self);

    SHARED (self)->statistics =
        g_variant_ref_sink (statistics ? statistics : migration_build_statistics (self));
  }
  ferry_dbus_migration_set_statistics (SHARED (self)->record, SHARED (self)->statistics);
  if (SHARED (self)->postcopy_started)
    ferry_dbus_migration_set_mode (SHARED (self)->record, "postcopy");
  if (error)
    {
      /* Kept as the engine's error (FERRY_ERROR); only its D-Bus name and
       * message go to the record, converted by common/. */
      g_autoptr (GError) dbus_error = ferry_error_to_dbus (error);
      g_autofree char *name = g_dbus_error_encode_gerror (dbus_error);

      g_clear_error (&SHARED (self)->error);
      SHARED (self)->error = g_error_copy (error);
      ferry_dbus_migration_set_error_name (SHARED (self)->record, name);
      ferry_dbus_migration_set_error_message (SHARED (self)->record, dbus_error->message);
    }
  if (SHARED (self)->phase != PHASE_CONFIRM)
    migration_set_phase (self, PHASE_CONFIRM);
  migration_set_state (self, state);
  migration_set_phase (self, PHASE_DONE);
  migration_journal_save (self);
  migration_drop_stream (self);
  ferryd_domain_set_migration (SHARED (self)->domain, NULL, FALSE);

  if (state == STATE_COMPLETED)
    ferry_dbus_migration_emit_completed (SHARED (self)->record, SHARED (self)->statistics);
  else
    ferry_dbus_migration_emit_failed (
        SHARED (self)->record, ferry_dbus_migration_get_error_name (SHARED (self)->record),
        ferry_dbus_migration_get_error_message (SHARED (self)->record));
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
  ferry_dbus_migration_set_mode (SHARED (self)->record, "postcopy");
  migration_journal_save (self);
  ferry_dbus_migration_emit_post_copy_started (SHARED (self)->record);
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
  ferry_dbus_migration_set_error_name (SHARED (self)->record,
                                       ferry_error_to_dbus_name (FERRY_ERROR_MIGRATION_FAILED));
  ferry_dbus_migration_set_error_message (
      SHARED (self)->record,
      "The post-copy data link broke: the guest is paused on both hosts and nothing is lost; "
      "Recover (on the source host's migration) resumes it");
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
  ferry_dbus_migration_set_error_name (SHARED (self)->record, "");
  ferry_dbus_migration_set_error_message (SHARED (self)->record, "");
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

  SHARED (self)->record = ferry_dbus_migration_skeleton_new ();
  ferry_dbus_migration_set_domain_name (SHARED (self)->record, name);
  ferry_dbus_migration_set_source (SHARED (self)->record, setup->source);
  ferry_dbus_migration_set_destination (SHARED (self)->record, setup->destination);
  ferry_dbus_migration_set_direction (SHARED (self)->record, ferryd_migration_get_direction (self));
  ferry_dbus_migration_set_backend (SHARED (self)->record,
                                    ferryd_backend_get_name (SHARED (self)->backend));
  ferry_dbus_migration_set_options (SHARED (self)->record, SHARED (self)->options->variant);
  ferry_dbus_migration_set_started_by_uid (SHARED (self)->record, setup->uid);
  ferry_dbus_migration_set_phase (SHARED (self)->record, "begin");
  ferry_dbus_migration_set_state (SHARED (self)->record, "pending");
  ferry_dbus_migration_set_mode (SHARED (self)->record, "precopy");
  ferry_dbus_migration_set_phase_timestamps (
      SHARED (self)->record, g_variant_new_array (G_VARIANT_TYPE ("{st}"), NULL, 0));
  ferry_dbus_migration_set_converging (SHARED (self)->record, "unknown");
  ferry_dbus_migration_set_statistics (SHARED (self)->record,
                                       g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  ferry_dbus_migration_set_error_name (SHARED (self)->record, "");
  ferry_dbus_migration_set_error_message (SHARED (self)->record, "");
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

  g_clear_object (&SHARED (self)->record);
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
ferryd_migration_class_init (FerrydMigrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_migration_dispose;
  object_class->finalize = ferryd_migration_finalize;

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferryd_migration_init (FerrydMigration *self)
{
  SHARED (self)->cancellable = g_cancellable_new ();
}
