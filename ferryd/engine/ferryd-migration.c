/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration.c: one migration as a state machine
 *
 * Phases follow libvirt's version 3 protocol (Begin, Prepare, Perform,
 * Finish, Confirm) on both hosts; every failure goes through Confirm,
 * which rolls back so the guest runs on exactly one host. Phase and state
 * changes go through set_phase()/set_state(), which check them against
 * the transition tables below.
 *
 * The hypervisor's side is the backend's FerrydStream: progress comes
 * from its signals (status, pass, stopped, resumed) plus a query sampled
 * every 250 ms, only while the stream runs: an idle daemon runs no timers.
 */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-migration-private.h"
#include "ferryd-error.h"

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydMigration, ferryd_migration, G_TYPE_OBJECT)

static void apply_policy (FerrydMigration *self);
static void sample_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static gboolean sample_tick (gpointer user_data);
static void ferryd_migration_dispose (GObject *object);
static void ferryd_migration_finalize (GObject *object);
static void ferryd_migration_class_init (FerrydMigrationClass *klass);
static void ferryd_migration_init (FerrydMigration *self);

/* --- accessors --- */

guint
ferryd_migration_get_id (FerrydMigration *self)
{
  return self->id;
}

FerryDBusMigration *
ferryd_migration_get_record (FerrydMigration *self)
{
  return self->record;
}

FerrydDomain *
ferryd_migration_get_domain (FerrydMigration *self)
{
  return self->domain;
}

gboolean
ferryd_migration_is_incoming (FerrydMigration *self)
{
  return self->incoming;
}

gboolean
ferryd_migration_is_finished (FerrydMigration *self)
{
  return self->finished;
}

/* --- phases and states --- */

void
migration_set_phase (FerrydMigration *self, Phase phase)
{
  GVariantBuilder stamps;
  GVariantIter iter;
  const char *key;
  guint64 value;

  if (self->phase == phase)
    return;
  if (!ferryd_phase_transition_allowed (self->phase, phase))
    {
      g_critical ("%s: invalid phase transition %s -> %s", self->label,
                  ferryd_phase_to_string (self->phase), ferryd_phase_to_string (phase));
      return;
    }
  g_debug ("%s: phase %s", self->label, ferryd_phase_to_string (phase));
  self->phase = phase;
  g_variant_builder_init (&stamps, G_VARIANT_TYPE ("a{st}"));
  g_variant_iter_init (&iter, ferry_dbus_migration_get_phase_timestamps (self->record));
  while (g_variant_iter_next (&iter, "{&st}", &key, &value))
    g_variant_builder_add (&stamps, "{st}", key, value);
  g_variant_builder_add (&stamps, "{st}", ferryd_phase_to_string (phase),
                         (guint64) g_get_real_time ());
  ferry_dbus_migration_set_phase_timestamps (self->record, g_variant_builder_end (&stamps));
  ferry_dbus_migration_set_phase (self->record, ferryd_phase_to_string (phase));
  ferry_dbus_migration_emit_phase_changed (self->record, ferryd_phase_to_string (phase));
}

void
migration_set_state (FerrydMigration *self, State state)
{
  if (self->state == state)
    return;
  if (!ferryd_state_change_allowed (self->state, state))
    {
      g_critical ("%s: state change %s -> %s after the end", self->label,
                  ferryd_state_to_string (self->state), ferryd_state_to_string (state));
      return;
    }
  g_debug ("%s: state %s", self->label, ferryd_state_to_string (state));
  self->state = state;
  ferry_dbus_migration_set_state (self->record, ferryd_state_to_string (state));
}

/* --- statistics and progress --- */

GVariant *
migration_build_statistics (FerrydMigration *self)
{
  FerrydTimes times = { self->stop_us, self->resume_us, self->postcopy_us, self->end_us,
                        self->postcopy_started };

  return ferryd_progress_build_statistics (&self->info, &times);
}

GVariant *
ferryd_migration_get_statistics (FerrydMigration *self)
{
  if (self->statistics)
    return g_variant_ref (self->statistics);
  return migration_build_statistics (self);
}

void
migration_update_progress (FerrydMigration *self)
{
  const FerrydProgress *p = &self->info;
  FerrydEstimateContext context = { self->progress,         self->state == STATE_COMPLETED,
                                    self->postcopy_started, self->downtime_limit,
                                    self->pass_remaining,   self->prev_pass_remaining };
  FerrydEstimate estimate;

  if (!p->has_memory)
    return;
  ferryd_progress_estimate (p, &context, &estimate);
  self->progress = estimate.progress;
  ferry_dbus_migration_set_progress (self->record, self->progress);
  ferry_dbus_migration_set_time_elapsed (self->record, p->total_time);
  ferry_dbus_migration_set_time_remaining (self->record, estimate.time_remaining);
  ferry_dbus_migration_set_memory_total (self->record, p->memory_total);
  ferry_dbus_migration_set_memory_processed (self->record, p->memory_processed);
  ferry_dbus_migration_set_memory_remaining (self->record, p->memory_remaining);
  ferry_dbus_migration_set_transfer_rate (self->record, p->transfer_rate);
  ferry_dbus_migration_set_dirty_rate (self->record, p->dirty_rate);
  ferry_dbus_migration_set_iteration (self->record, p->iteration);
  ferry_dbus_migration_set_expected_downtime (self->record, estimate.expected_downtime);
  ferry_dbus_migration_set_converging (self->record,
                                       ferryd_converging_to_string (estimate.converging));
}

/* --- convergence policy --- */

void
migration_policy_action (FerrydMigration *self, const char *action, const char *reason)
{
  g_info ("%s: policy: %s (%s)", self->label, action, reason);
  ferry_dbus_migration_emit_policy_action (self->record, action, reason);
}

static void
apply_policy (FerrydMigration *self)
{
  const char *converging = ferry_dbus_migration_get_converging (self->record);
  g_autofree char *reason = NULL;

  if (!ferryd_progress_wants_postcopy (
          self->options->postcopy == FERRYD_POSTCOPY_AUTO, self->postcopy_requested,
          self->state == STATE_ACTIVE, self->pass,
          g_strcmp0 (converging, "no") == 0 ? FERRYD_CONVERGING_NO : FERRYD_CONVERGING_UNKNOWN))
    return;
  reason = g_strdup_printf (
      "pre-copy is not converging after %u passes: dirty rate %" G_GUINT64_FORMAT
      " B/s, transfer rate %" G_GUINT64_FORMAT " B/s, expected downtime %" G_GUINT64_FORMAT
      " ms > limit %" G_GUINT64_FORMAT " ms",
      self->pass, self->info.dirty_rate, self->info.transfer_rate, self->info.expected_downtime,
      self->downtime_limit);
  migration_policy_action (self, "start-postcopy", reason);
  ferryd_migration_start_postcopy (self, NULL);
}

/* --- sampling --- */

static void
sample_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  FerrydProgress progress;

  self->sampling = FALSE;
  if (!ferryd_stream_query_finish (FERRYD_STREAM (source), result, &progress, NULL, NULL) ||
      self->finished)
    return;
  self->info = progress;
  if (self->pass_sample_pending)
    {
      self->pass_sample_pending = FALSE;
      self->prev_pass_remaining = self->pass_remaining;
      self->pass_remaining = self->info.memory_remaining;
    }
  migration_update_progress (self);
  apply_policy (self);
}

void
migration_sample_now (FerrydMigration *self)
{
  if (self->stream == NULL || !ferryd_stream_is_alive (self->stream) || self->sampling)
    return;
  self->sampling = TRUE;
  ferryd_stream_query_async (self->stream, sample_cb, g_object_ref (self));
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
  if (self->sample_id == 0 && !self->incoming)
    self->sample_id = g_timeout_add (SAMPLE_INTERVAL_MS, sample_tick, self);
}

void
migration_stop_sampling (FerrydMigration *self)
{
  g_clear_handle_id (&self->sample_id, g_source_remove);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
}

/* --- the end --- */

void
migration_drop_stream (FerrydMigration *self)
{
  if (self->stream == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->stream, self);
  g_clear_object (&self->stream);
}

void
migration_finish (FerrydMigration *self, State state, const GError *error)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  migration_stop_sampling (self);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer_watch)
    ferryd_peer_watch_stop (self->peer_watch);
  if (self->end_us == 0)
    self->end_us = g_get_real_time ();
  if (self->peer)
    {
      /* The destination sees us leave; the link is not needed any more. */
      g_signal_handlers_disconnect_by_data (self->peer, self);
      ferryd_peer_client_close (self->peer);
    }
  if (state == STATE_COMPLETED)
    {
      self->progress = 1.0;
      ferry_dbus_migration_set_progress (self->record, 1.0);
      ferry_dbus_migration_set_time_remaining (self->record, 0);
    }
  g_clear_pointer (&self->statistics, g_variant_unref);
  if (self->incoming && self->source_statistics)
    {
      self->statistics = g_variant_ref_sink (
          ferryd_progress_incoming_statistics (self->source_statistics, self->resume_us));
    }
  else
    self->statistics = g_variant_ref_sink (migration_build_statistics (self));
  ferry_dbus_migration_set_statistics (self->record, self->statistics);
  if (self->postcopy_started)
    ferry_dbus_migration_set_mode (self->record, "postcopy");
  if (error)
    {
      g_autoptr (GError) dbus_error = ferryd_error_to_dbus (error);
      g_autofree char *name = g_dbus_error_encode_gerror (dbus_error);

      ferry_dbus_migration_set_error_name (self->record, name);
      ferry_dbus_migration_set_error_message (self->record, dbus_error->message);
    }
  if (self->phase != PHASE_CONFIRM)
    migration_set_phase (self, PHASE_CONFIRM);
  migration_set_state (self, state);
  migration_set_phase (self, PHASE_DONE);
  migration_drop_stream (self);
  ferryd_domain_set_migration (self->domain, NULL, FALSE);

  if (state == STATE_COMPLETED)
    ferry_dbus_migration_emit_completed (self->record, self->statistics);
  else
    ferry_dbus_migration_emit_failed (self->record,
                                      ferry_dbus_migration_get_error_name (self->record),
                                      ferry_dbus_migration_get_error_message (self->record));
  g_info ("%s: %s%s%s", self->label, ferryd_state_to_string (state), error ? ": " : "",
          error ? error->message : "");
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/* The backend says post-copy runs: from here on neither host holds the whole
 * guest. Returns FALSE if that was known already. */
gboolean
migration_note_postcopy_started (FerrydMigration *self, gint64 ts)
{
  if (self->postcopy_started)
    return FALSE;
  self->postcopy_started = TRUE;
  self->postcopy_us = ts;
  ferry_dbus_migration_set_mode (self->record, "postcopy");
  ferry_dbus_migration_emit_post_copy_started (self->record);
  return TRUE;
}

static void
on_stream_exited (FerrydStream *stream, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished)
    return;
  if (self->incoming)
    {
      if (self->state == STATE_POSTCOPY_ACTIVE || self->state == STATE_POSTCOPY_PAUSED)
        g_warning ("%s: destination QEMU died during post-copy: the guest is lost unless the "
                   "source still holds it",
                   self->label);
      migration_drop_stream (self);
      migration_rollback_incoming (self,
                                   g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                                        "The destination QEMU exited"));
      return;
    }
  if (self->phase == PHASE_FINISH || self->phase == PHASE_CONFIRM)
    return; /* expected: Confirm stops it */
  migration_drop_stream (self);
  migration_rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                                 "The source QEMU exited during the migration"));
}

/* The guest crashed (a panic, a KVM internal error) while it migrated:
 * the migration ends with an error that names the crash, on this side
 * and the other, and a crashed guest is never resumed. */
static void
on_stream_crashed (FerrydStream *stream, const char *why, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished || self->crash_error)
    return;
  self->crash_error = g_error_new (
      FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
      "The guest crashed on the %s host during the migration (%s); it is kept there, paused, "
      "for inspection",
      self->incoming ? "destination" : "source", why);
  g_warning ("%s: %s", self->label, self->crash_error->message);
  if (self->incoming)
    migration_incoming_crashed (self);
  else
    migration_outgoing_crashed (self);
}

void
migration_attach_stream (FerrydMigration *self, FerrydStream *stream)
{
  migration_drop_stream (self);
  self->stream = stream;
  g_signal_connect (stream, "exited", G_CALLBACK (on_stream_exited), self);
  g_signal_connect (stream, "crashed", G_CALLBACK (on_stream_crashed), self);
}

/* --- control --- */

gboolean
ferryd_migration_cancel (FerrydMigration *self, GError **error)
{
  if (self->finished)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                   ferryd_state_to_string (self->state));
      return FALSE;
    }
  if (self->postcopy_started)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Post-copy has started: neither host holds the whole guest, so the "
                           "migration can no longer be cancelled");
      return FALSE;
    }
  if (self->incoming)
    {
      ferryd_migration_abort_incoming (self, "cancelled on the destination");
      return TRUE;
    }
  if (self->cancel_requested)
    return TRUE;
  self->cancel_requested = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->migrate_sent && self->stream)
    {
      ferryd_stream_cancel (self->stream);
      /* In pre-copy the source holds the whole guest: the destination can
       * drop its copy now, while QEMU winds the stream down. */
      migration_send_peer_abort (self, "cancelled");
    }
  return TRUE;
}

void
ferryd_migration_shutdown (FerrydMigration *self)
{
  /* Guests outlive ferryd; only timers and watches stop here. */
  migration_stop_sampling (self);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer_watch)
    ferryd_peer_watch_stop (self->peer_watch);
}

/* --- object --- */

FerrydMigration *
ferryd_migration_new (const FerrydMigrationSetup *setup)
{
  FerrydMigration *self = g_object_new (FERRYD_TYPE_MIGRATION, NULL);
  const char *name = ferryd_domain_get_name (setup->domain);

  self->daemon = g_object_ref (setup->daemon);
  self->backend =
      g_object_ref (setup->backend ? setup->backend : ferryd_backend_for_domain (setup->domain));
  self->domain = g_object_ref (setup->domain);
  self->incoming = setup->incoming;
  self->options = setup->options;
  self->local_hostname = g_strdup (setup->local_hostname);
  self->local_host_uuid = g_strdup (setup->local_host_uuid);
  self->id = setup->id;
  self->label = g_strdup_printf ("migration %u", setup->id);
  self->downtime_limit =
      self->options->max_downtime ? self->options->max_downtime : DEFAULT_DOWNTIME_MS;

  self->record = ferry_dbus_migration_skeleton_new ();
  ferry_dbus_migration_set_domain_name (self->record, name);
  ferry_dbus_migration_set_source (self->record, setup->source);
  ferry_dbus_migration_set_destination (self->record, setup->destination);
  ferry_dbus_migration_set_direction (self->record, setup->incoming ? "incoming" : "outgoing");
  ferry_dbus_migration_set_backend (self->record, ferryd_backend_get_name (self->backend));
  ferry_dbus_migration_set_options (self->record, self->options->variant);
  ferry_dbus_migration_set_started_by_uid (self->record, setup->uid);
  ferry_dbus_migration_set_phase (self->record, "begin");
  ferry_dbus_migration_set_state (self->record, "pending");
  ferry_dbus_migration_set_mode (self->record, "precopy");
  ferry_dbus_migration_set_phase_timestamps (
      self->record, g_variant_new_array (G_VARIANT_TYPE ("{st}"), NULL, 0));
  ferry_dbus_migration_set_converging (self->record, "unknown");
  ferry_dbus_migration_set_statistics (self->record,
                                       g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  ferry_dbus_migration_set_error_name (self->record, "");
  ferry_dbus_migration_set_error_message (self->record, "");
  return self;
}

static void
ferryd_migration_dispose (GObject *object)
{
  FerrydMigration *self = FERRYD_MIGRATION (object);

  migration_stop_sampling (self);
  migration_drop_stream (self);
  if (self->peer_watch)
    ferryd_peer_watch_stop (self->peer_watch);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer)
    g_signal_handlers_disconnect_by_data (self->peer, self);
  g_clear_object (&self->peer);
  g_clear_object (&self->peer_watch);
  G_OBJECT_CLASS (ferryd_migration_parent_class)->dispose (object);
}

static void
ferryd_migration_finalize (GObject *object)
{
  FerrydMigration *self = FERRYD_MIGRATION (object);

  g_clear_object (&self->record);
  g_clear_object (&self->domain);
  g_clear_object (&self->daemon);
  g_clear_object (&self->backend);
  g_clear_object (&self->cancellable);
  ferryd_migrate_options_free (self->options);
  g_clear_pointer (&self->statistics, g_variant_unref);
  g_clear_pointer (&self->source_statistics, g_variant_unref);
  g_strfreev (self->features);
  g_free (self->label);
  g_free (self->local_hostname);
  g_free (self->local_host_uuid);
  g_free (self->peer_address);
  g_free (self->peer_migration);
  g_free (self->migrate_uri);
  g_clear_pointer (&self->live_config, ferryd_domain_config_free);
  g_free (self->abort_reason);
  g_clear_error (&self->rollback_error);
  g_clear_error (&self->crash_error);
  g_free (self->data_host);
  g_free (self->persistent_description);
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
  self->cancellable = g_cancellable_new ();
}
