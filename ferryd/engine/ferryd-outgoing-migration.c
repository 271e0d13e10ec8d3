/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration-source.c: the source side of a migration: Begin, Perform, Confirm,
 * and the controls of a running source */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-migration-private.h"
#include "ferry-error.h"
#include "ferryd-peer.h"

static GVariant *source_info (FerrydMigration *self);
static void rollback_step_done (FerrydMigration *self);
static void source_resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void peer_abort_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static gboolean check_cancelled (FerrydMigration *self);
static void migrate_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static gboolean timeout_cb (gpointer user_data);
static void perform (FerrydMigration *self);
static void prepare_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static GStrv choose_features (FerrydMigration *self, const char *const *peer_caps, GError **error);
static void hello_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void peer_closed_cb (FerrydPeerClient *peer, gpointer user_data);
static void peer_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void begin_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void confirm_success (FerrydMigration *self);
static void peer_finish_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static GVariant *finish_statistics (FerrydMigration *self);
static void final_query_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void migration_failed_query_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void on_source_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data);
static gboolean require_active_source (FerrydMigration *self, const char *what, GError **error);

/* --- source side --- */

static GVariant *
source_info (FerrydMigration *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "version", g_variant_new_string (PACKAGE_VERSION));
  g_variant_builder_add (&builder, "{sv}", "api", g_variant_new_uint32 (1));
  g_variant_builder_add (&builder, "{sv}", "hostname", g_variant_new_string (self->local_hostname));
  g_variant_builder_add (&builder, "{sv}", "host-uuid",
                         g_variant_new_string (self->local_host_uuid));
  g_variant_builder_add (&builder, "{sv}", "domain",
                         g_variant_new_string (ferryd_domain_get_name (self->domain)));
  if (self->features)
    g_variant_builder_add (&builder, "{sv}", "features",
                           g_variant_new_strv ((const char *const *) self->features, -1));
  g_variant_builder_add (&builder, "{sv}", "begin-time",
                         g_variant_new_uint64 ((guint64) self->begin_us));
  {
    g_autofree char *host = ferryd_peer_data_host (self->peer_address);
    g_variant_builder_add (&builder, "{sv}", "data-host", g_variant_new_string (host));
  }
  return g_variant_builder_end (&builder);
}

/* Roll back from any phase: abort the destination, make sure the guest
 * runs on the source, record the error. Takes @error. */

void
migration_rollback (FerrydMigration *self, GError *error)
{
  g_autoptr (GError) owned = error;
  State final = self->cancel_requested ? STATE_CANCELLED : STATE_FAILED;

  if (self->finished || self->rollback_waiting)
    return;
  g_debug ("%s: rolling back: %s", self->label, error->message);
  migration_stop_sampling (self);
  if (self->phase != PHASE_CONFIRM)
    migration_set_phase (self, PHASE_CONFIRM);
  if (self->cancel_requested && !g_error_matches (error, FERRY_ERROR, FERRY_ERROR_CANCELLED))
    {
      g_clear_error (&owned);
      owned = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                   "Migration cancelled by request");
    }

  /* Confirm ends when the guest runs where it was and the destination
   * is clean, so a final state means "on exactly one host". */
  self->rollback_error = g_steal_pointer (&owned);
  self->rollback_state = final;
  self->rollback_waiting = TRUE;
  self->rollback_pending = 1; /* released below */
  if (self->stream && ferryd_stream_can_resume (self->stream) && self->stopped_for_migration)
    {
      self->rollback_pending++;
      ferryd_stream_resume_async (self->stream, source_resumed_cb, g_object_ref (self));
    }
  if (self->peer && self->peer_migration && !self->abort_done)
    {
      self->rollback_pending++;
      migration_send_peer_abort (self, final == STATE_CANCELLED ? "cancelled" : "failed");
    }
  rollback_step_done (self);
}

/* One part of the rollback is over; the last one ends the migration. */
static void
rollback_step_done (FerrydMigration *self)
{
  if (--self->rollback_pending == 0)
    migration_finish (self, self->rollback_state, self->rollback_error);
}

static void
source_resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_stream_resume_finish (FERRYD_STREAM (source), result, &error))
    g_warning ("%s: the guest could not be resumed on the source: %s", self->label, error->message);
  rollback_step_done (self);
}

static void
peer_abort_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_peer_client_abort_finish (FERRYD_PEER_CLIENT (source), result, &error))
    g_warning ("%s: %s", self->label, error->message);
  self->abort_done = TRUE;
  if (self->rollback_waiting)
    rollback_step_done (self);
}

/* Tell the destination to drop its half-started guest (once). */
void
migration_send_peer_abort (FerrydMigration *self, const char *reason)
{
  if (self->abort_sent || self->peer == NULL || self->peer_migration == NULL)
    return;
  self->abort_sent = TRUE;
  ferryd_peer_client_abort_async (self->peer, self->peer_migration, reason, NULL, peer_abort_cb,
                                  g_object_ref (self));
}

/* Between the steps of Begin and Prepare: stop here if the migration
 * was cancelled or its guest crashed meanwhile. */
static gboolean
check_cancelled (FerrydMigration *self)
{
  if (self->crash_error)
    {
      migration_rollback (self, g_error_copy (self->crash_error));
      return TRUE;
    }
  if (!self->cancel_requested)
    return FALSE;
  migration_rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                 "Migration cancelled by request"));
  return TRUE;
}

static void
migrate_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_stream_start_finish (FERRYD_STREAM (source), result, &error))
    {
      if (!self->finished)
        migration_rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                               "Cannot start the migration on the source: %s",
                                               error->message));
      return;
    }
  self->migrate_sent = TRUE;
  if ((self->cancel_requested || self->crash_error) && self->stream)
    ferryd_stream_cancel (self->stream);
  migration_start_sampling (self);
}

static gboolean
timeout_cb (gpointer user_data)
{
  FerrydMigration *self = user_data;
  g_autofree char *reason =
      g_strdup_printf ("migration did not complete within %u s", self->options->timeout);

  self->timeout_id = 0;
  if (self->finished || self->state != STATE_ACTIVE)
    return G_SOURCE_REMOVE;
  if (g_str_equal (self->options->timeout_action, "postcopy"))
    {
      migration_policy_action (self, "start-postcopy", reason);
      ferryd_migration_start_postcopy (self, NULL);
    }
  else if (g_str_equal (self->options->timeout_action, "pause"))
    {
      /* A paused guest dirties nothing: pre-copy then converges. */
      migration_policy_action (self, "pause-guest", reason);
      self->stopped_for_migration = TRUE;
      if (self->stream)
        ferryd_stream_stop_guest (self->stream);
    }
  else
    {
      migration_policy_action (self, "abort", reason);
      self->cancel_requested = FALSE;
      self->abort_reason = g_strdup (reason);
      if (self->stream)
        ferryd_stream_cancel (self->stream);
    }
  return G_SOURCE_REMOVE;
}

static void
perform (FerrydMigration *self)
{
  FerrydMigrateOptions *o = self->options;
  FerrydStreamTuning tuning = { 0 };

  migration_set_phase (self, PHASE_PERFORM);
  self->downtime_limit = o->max_downtime ? o->max_downtime : DEFAULT_DOWNTIME_MS;
  tuning.uri = self->migrate_uri;
  tuning.features = (const char *const *) self->features;
  tuning.max_bandwidth = o->max_bandwidth;
  tuning.switchover_bandwidth = o->switchover_bandwidth;
  tuning.downtime_limit = self->downtime_limit;
  tuning.max_postcopy_bandwidth = o->max_postcopy_bandwidth;
  tuning.multifd_channels = o->multifd_channels > 0 ? (guint) o->multifd_channels : 0;
  tuning.compression = o->compression;
  if (o->timeout > 0)
    self->timeout_id = g_timeout_add_seconds (o->timeout, timeout_cb, self);
  if (self->stream == NULL)
    {
      migration_rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                                     "The source guest is gone"));
      return;
    }
  ferryd_stream_start_async (self->stream, &tuning, migrate_sent_cb, g_object_ref (self));
}

static void
prepare_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info = NULL;
  const char *uri = NULL;

  self->peer_migration =
      ferryd_peer_client_prepare_finish (FERRYD_PEER_CLIENT (source), result, &info, &error);
  if (self->peer_migration == NULL)
    {
      migration_rollback (self, g_steal_pointer (&error));
      return;
    }
  if (check_cancelled (self))
    return;
  g_variant_lookup (info, "migrate-uri", "&s", &uri);
  self->migrate_uri = g_strdup (self->options->migrate_uri ? self->options->migrate_uri : uri);
  if (self->migrate_uri == NULL)
    {
      migration_rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                                     "Destination gave no migration address"));
      return;
    }
  perform (self);
}

static GStrv
choose_features (FerrydMigration *self, const char *const *peer_caps, GError **error)
{
  FerrydMigrateOptions *o = self->options;
  g_autoptr (GStrvBuilder) features = g_strv_builder_new ();
  gboolean peer_has_ack = peer_caps && g_strv_contains (peer_caps, "switchover-ack");

  gboolean postcopy =
      o->postcopy != FERRYD_POSTCOPY_OFF || g_str_equal (o->timeout_action, "postcopy");

  /* The return path costs downtime here (the source waits for the
   * destination's load to migration_finish); only features that need it get it. */
  g_strv_builder_add (features, "events");
  if (postcopy || g_str_equal (o->switchover_ack, "on"))
    g_strv_builder_add (features, "return-path");
  if (postcopy)
    {
      if (peer_caps && !g_strv_contains (peer_caps, "postcopy"))
        {
          g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                               "The destination does not support post-copy");
          return NULL;
        }
      g_strv_builder_add (features, "postcopy-ram");
    }
  if (o->multifd_channels > 0)
    g_strv_builder_add (features, "multifd");
  if (o->auto_converge)
    g_strv_builder_add (features, "auto-converge");
  if (g_str_equal (o->switchover_ack, "on") && !peer_has_ack)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "The destination does not support switchover-ack");
      return NULL;
    }
  /* "auto" uses switchover-ack when the return path is there anyway and
   * both sides have it: it only helps devices that ask for an ack. */
  if (g_str_equal (o->switchover_ack, "on") ||
      (g_str_equal (o->switchover_ack, "auto") && peer_has_ack && postcopy))
    g_strv_builder_add (features, "switchover-ack");
  return g_strv_builder_end (features);
}

static void
hello_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info =
      ferryd_peer_client_hello_finish (FERRYD_PEER_CLIENT (source), result, &error);
  g_autofree const char **caps = NULL;
  const char *uuid = NULL;
  guint32 api = 0;
  g_autofree char *persistent = NULL;
  g_autofree char *live = NULL;
  g_autofree const char **accels = NULL;
  g_autofree char *accel_blocker = NULL;

  if (info == NULL)
    {
      migration_rollback (self, g_steal_pointer (&error));
      return;
    }
  if (check_cancelled (self))
    return;
  g_variant_lookup (info, "api", "u", &api);
  g_variant_lookup (info, "host-uuid", "&s", &uuid);
  g_variant_lookup (info, "capabilities", "^a&s", &caps);
  g_variant_lookup (info, "accelerators", "^a&s", &accels);
  if (api != 1)
    {
      migration_rollback (
          self, g_error_new (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                             "Destination speaks peer protocol %u, this host speaks 1", api));
      return;
    }
  if (g_strcmp0 (uuid, self->local_host_uuid) == 0)
    {
      migration_rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                                                     "The destination is this host"));
      return;
    }
  accel_blocker = ferryd_backend_check_destination (self->backend, self->domain, accels);
  if (accel_blocker)
    {
      migration_rollback (
          self, g_error_new (FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED, "%s", accel_blocker));
      return;
    }
  self->features = choose_features (self, caps, &error);
  if (self->features == NULL)
    {
      migration_rollback (self, g_steal_pointer (&error));
      return;
    }

  migration_set_phase (self, PHASE_PREPARE);
  persistent = ferryd_domain_config_to_data (ferryd_domain_get_config (self->domain));
  /* What runs, as it runs (the accelerator in use, the versioned
   * machine type, say): the persistent description may say less. */
  live = ferryd_domain_config_to_data (self->live_config ? self->live_config
                                                         : ferryd_domain_get_config (self->domain));
  /* Not cancellable: a cancelled Prepare must still be answered so its
   * destination can be aborted. */
  ferryd_peer_client_prepare_async (self->peer, ferryd_domain_get_name (self->domain), persistent,
                                    live, self->options->variant, source_info (self), NULL,
                                    prepare_cb, g_object_ref (self));
}

static void
peer_closed_cb (FerrydPeerClient *peer, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished)
    return;
  g_warning ("%s: lost the link to the destination", self->label);
  /* In pre-copy QEMU's own stream tells the outcome; before Perform
   * nothing has moved yet. */
  if (!self->migrate_sent)
    {
      g_clear_pointer (&self->peer_migration, g_free);
      migration_rollback (self,
                          g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                                               "Lost the connection to the destination ferryd"));
    }
}

static void
peer_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  self->peer = ferryd_peer_client_new_finish (result, &error);
  if (self->peer == NULL)
    {
      migration_rollback (self, g_steal_pointer (&error));
      return;
    }
  g_signal_connect_object (self->peer, "closed", G_CALLBACK (peer_closed_cb), self, 0);
  if (check_cancelled (self))
    return;
  ferryd_peer_client_hello_async (self->peer, source_info (self), self->cancellable, hello_cb,
                                  g_object_ref (self));
}

static void
begin_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;

  self->live_config = ferryd_stream_begin_finish (FERRYD_STREAM (source), result, NULL);
  if (check_cancelled (self))
    return;
  ferryd_peer_client_new_async (self->peer_address, PEER_CALL_TIMEOUT_MS, self->cancellable,
                                peer_connected_cb, g_object_ref (self));
}

static void
on_source_stopped (FerrydStream *stream, gint64 ts, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished || !self->migrate_sent)
    return;
  self->stop_us = ts;
  self->stopped_for_migration = TRUE;
}

static void
on_source_resumed (FerrydStream *stream, gint64 ts, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (!self->finished)
    self->stopped_for_migration = FALSE;
}

static void
on_source_pass (FerrydStream *stream, guint pass, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished)
    return;
  self->pass = pass;
  /* Pass 1 also carries zero pages; compare from pass 2 on. */
  self->pass_sample_pending = self->pass >= 2;
  ferry_dbus_migration_emit_iteration (self->record, self->pass,
                                       ferryd_progress_iteration_statistics (&self->info));
  migration_sample_now (self);
}

void
ferryd_migration_run_outgoing (FerrydMigration *self, const char *peer_address)
{
  self->peer_address = g_strdup (peer_address);
  self->begin_us = g_get_real_time ();
  migration_attach_stream (self, ferryd_backend_open_outgoing (self->backend, self->domain));
  g_signal_connect (self->stream, "status-changed", G_CALLBACK (on_source_status), self);
  g_signal_connect (self->stream, "pass", G_CALLBACK (on_source_pass), self);
  g_signal_connect (self->stream, "stopped", G_CALLBACK (on_source_stopped), self);
  g_signal_connect (self->stream, "resumed", G_CALLBACK (on_source_resumed), self);
  ferryd_domain_set_migration (self->domain, G_OBJECT (self), FALSE);
  migration_set_phase (self, PHASE_BEGIN);
  migration_set_state (self, STATE_SETUP);
  ferryd_stream_begin_async (self->stream, begin_cb, g_object_ref (self));
}

/* Finish (destination) → Confirm (source) */

static void
confirm_success (FerrydMigration *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydStream) stream = self->stream ? g_object_ref (self->stream) : NULL;

  migration_set_phase (self, PHASE_CONFIRM);
  /* The guest now runs on the destination: stop it here, and the domain
   * no longer runs here. */
  migration_drop_stream (self);
  if (stream == NULL)
    stream = ferryd_backend_open_outgoing (self->backend, self->domain);
  ferryd_stream_terminate (stream);
  /* The guest is on the destination either way; it may have crashed there. */
  migration_finish (self, self->crash_error ? STATE_FAILED : STATE_COMPLETED, self->crash_error);
  if (self->crash_error == NULL && self->options->undefine_source &&
      !ferryd_daemon_undefine_domain (self->daemon, self->domain, &error))
    g_warning ("%s: cannot undefine the source domain: %s", self->label, error->message);
}

static void
peer_finish_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info =
      ferryd_peer_client_finish_finish (FERRYD_PEER_CLIENT (source), result, &error);
  guint64 resume = 0;
  const char *dstate = NULL, *dreason = NULL;

  if (info == NULL)
    {
      /* The destination could not resume the guest. In pre-copy the
       * source still holds all of it: resume here. */
      if (self->postcopy_started)
        {
          g_warning ("%s: destination failed to finish after post-copy: %s", self->label,
                     error->message);
          migration_set_state (self, STATE_POSTCOPY_PAUSED);
          return;
        }
      migration_rollback (self, g_steal_pointer (&error));
      return;
    }
  if (g_variant_lookup (info, "resume-time", "t", &resume))
    self->resume_us = (gint64) resume;
  if (g_variant_lookup (info, "state", "&s", &dstate) && g_str_equal (dstate, "crashed") &&
      self->crash_error == NULL)
    {
      g_variant_lookup (info, "state-reason", "&s", &dreason);
      self->crash_error =
          g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                       "The guest crashed on the destination host during the migration (%s); "
                       "it is kept there, paused, for inspection",
                       dreason ? dreason : "no reason given");
    }
  confirm_success (self);
}

/* What the destination learns in Finish: the source's statistics and
 * when the source stopped, so it can tell the real downtime too. */
static GVariant *
finish_statistics (FerrydMigration *self)
{
  g_autoptr (GVariant) stats = g_variant_ref_sink (migration_build_statistics (self));
  GVariantDict dict;

  g_variant_dict_init (&dict, stats);
  g_variant_dict_insert (&dict, "source-stop-time", "t", (guint64) self->stop_us);
  return g_variant_dict_end (&dict);
}

static void
final_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  FerrydProgress progress;

  if (ferryd_stream_query_finish (FERRYD_STREAM (source), result, &progress, NULL, NULL))
    {
      self->info = progress;
      migration_update_progress (self);
    }
  if (self->crash_error)
    {
      /* QEMU completed the stream of a guest that had crashed: it must
       * not resume on the destination. */
      migration_rollback (self, g_error_copy (self->crash_error));
      return;
    }
  self->end_us = g_get_real_time ();
  migration_set_phase (self, PHASE_FINISH);
  ferryd_peer_client_finish_async (self->peer, self->peer_migration, TRUE, finish_statistics (self),
                                   NULL, peer_finish_cb, g_object_ref (self));
}

static void
migration_failed_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autofree char *desc = NULL;
  const char *reason = self->abort_reason;

  ferryd_stream_query_finish (FERRYD_STREAM (source), result, NULL, &desc, NULL);
  if (reason)
    migration_rollback (
        self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED, "Aborted: %s", reason));
  else
    migration_rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                           "QEMU reported the migration failed: %s",
                                           desc ? desc : "no reason given"));
}

static void
on_source_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished)
    return;

  if (status == FERRYD_STREAM_SETUP)
    migration_set_state (self, STATE_SETUP);
  else if (status == FERRYD_STREAM_ACTIVE)
    migration_set_state (self, STATE_ACTIVE);
  else if (status == FERRYD_STREAM_POSTCOPY_ACTIVE)
    {
      gboolean was_paused = self->state == STATE_POSTCOPY_PAUSED;
      migration_set_state (self, STATE_POSTCOPY_ACTIVE);
      if (!migration_note_postcopy_started (self, ts) && was_paused)
        ferry_dbus_migration_set_error_message (self->record, "");
    }
  else if (status == FERRYD_STREAM_POSTCOPY_PAUSED)
    {
      /* Neither side holds the whole guest: both stay paused until
       * Recover. Never roll back here. */
      migration_set_state (self, STATE_POSTCOPY_PAUSED);
      ferry_dbus_migration_set_error_name (self->record, FERRY_ERROR_NAME_PREFIX "MigrationFailed");
      ferry_dbus_migration_set_error_message (
          self->record, "Post-copy link lost: the guest is paused on both hosts, nothing is lost; "
                        "resuming it with Recover is planned, not implemented yet");
    }
  else if (status == FERRYD_STREAM_COMPLETED)
    {
      migration_stop_sampling (self);
      ferryd_stream_query_async (stream, final_query_cb, g_object_ref (self));
    }
  else if ((status == FERRYD_STREAM_FAILED || status == FERRYD_STREAM_CANCELLED) &&
           self->crash_error)
    {
      migration_stop_sampling (self);
      migration_rollback (self, g_error_copy (self->crash_error));
    }
  else if (status == FERRYD_STREAM_FAILED)
    {
      migration_stop_sampling (self);
      if (self->postcopy_started)
        {
          migration_set_state (self, STATE_POSTCOPY_PAUSED);
          return;
        }
      ferryd_stream_query_async (stream, migration_failed_query_cb, g_object_ref (self));
    }
  else if (status == FERRYD_STREAM_CANCELLED)
    {
      migration_stop_sampling (self);
      if (self->abort_reason)
        ferryd_stream_query_async (stream, migration_failed_query_cb, g_object_ref (self));
      else
        {
          self->cancel_requested = TRUE;
          migration_rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                         "Migration cancelled by request"));
        }
    }
}

void
migration_outgoing_crashed (FerrydMigration *self)
{
  /* In post-copy the source's guest is stopped for good; before the
   * stream, the next step sees crash_error (check_cancelled,
   * migrate_sent_cb). */
  if (self->rollback_waiting || self->postcopy_started || !self->migrate_sent || !self->stream)
    return;
  /* The stream ends cancelled (or completed): either way the rollback
   * follows there, without resuming the guest. */
  ferryd_stream_cancel (self->stream);
}

static gboolean
require_active_source (FerrydMigration *self, const char *what, GError **error)
{
  if (self->incoming)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "%s is done on the source host's migration object", what);
      return FALSE;
    }
  if (self->finished || self->stream == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                   ferryd_state_to_string (self->state));
      return FALSE;
    }
  return TRUE;
}

gboolean
ferryd_migration_start_postcopy (FerrydMigration *self, GError **error)
{
  if (!require_active_source (self, "Switching to post-copy", error))
    return FALSE;
  if (self->features == NULL ||
      !g_strv_contains ((const char *const *) self->features, "postcopy-ram"))
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Post-copy was not enabled for this migration (option postcopy)");
      return FALSE;
    }
  if (!self->migrate_sent)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_BUSY,
                           "The migration stream has not started yet");
      return FALSE;
    }
  if (self->postcopy_requested)
    return TRUE;
  self->postcopy_requested = TRUE;
  /* If pre-copy completes first, the outcome is reported as pre-copy. */
  ferryd_stream_start_postcopy (self->stream);
  return TRUE;
}

/* --- controls that QEMU must accept: answered once it has --- */

static void
control_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydMigration *self = g_task_get_source_object (task);
  guint64 downtime_limit = GPOINTER_TO_SIZE (g_task_get_task_data (task));
  GError *error = NULL;

  if (!ferryd_stream_control_finish (FERRYD_STREAM (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (downtime_limit)
    self->downtime_limit = downtime_limit;
  g_task_return_boolean (task, TRUE);
}

/* Runs @control on the source's stream; @refusal, when set, is returned
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
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = refusal;

  g_task_set_source_tag (task, source_tag);
  /* The downtime limit the policy takes once the backend took it. */
  if (control == FERRYD_STREAM_CONTROL_DOWNTIME)
    g_task_set_task_data (task, GSIZE_TO_POINTER ((gsize) value), NULL);
  if (error == NULL)
    require_active_source (self, what, &error);
  if (error)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ferryd_stream_control_async (self->stream, control, value, cancellable, control_done_cb,
                               g_steal_pointer (&task));
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
  GError *refusal = NULL;

  if (!self->incoming && !self->finished && self->state != STATE_POSTCOPY_ACTIVE)
    refusal = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                                   "Only a migration in post-copy can be paused");
  control_async (self, ferryd_migration_pause_async, "Pausing", refusal,
                 FERRYD_STREAM_CONTROL_PAUSE, 0, cancellable, callback, user_data);
}

gboolean
ferryd_migration_control_finish (FerrydMigration *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
ferryd_migration_recover (FerrydMigration *self, const char *uri, GError **error)
{
  if (self->stream == NULL)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Post-copy recovery is not implemented yet");
      return FALSE;
    }
  return ferryd_stream_recover (self->stream, uri, error);
}
