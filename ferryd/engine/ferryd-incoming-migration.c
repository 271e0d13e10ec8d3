/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration-dest.c: the destination side of a migration: Prepare and Finish */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-migration-private.h"
#include "ferry-error.h"
#include "ferryd-peer.h"

static gboolean stream_failed_timeout_cb (gpointer user_data);
static void on_dest_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data);
static void on_dest_resumed (FerrydStream *stream, gint64 ts, gpointer user_data);
static void incoming_try_finish (FerrydMigration *self);
static void incoming_cleanup (FerrydMigration *self);
static void remove_created_domain (FerrydMigration *self);
static void peer_vanished_cb (FerrydPeerWatch *watch, gpointer user_data);
static gboolean finish_timeout_cb (gpointer user_data);
static void prepared_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* --- destination side --- */

static gboolean
stream_failed_timeout_cb (gpointer user_data)
{
  FerrydMigration *self = user_data;

  self->finish_timeout_id = 0;
  ferryd_migration_abort_incoming (self, "the incoming migration stream failed");
  return G_SOURCE_REMOVE;
}

static void
on_dest_resumed (FerrydStream *stream, gint64 ts, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished)
    return;
  self->resume_us = ts;
  incoming_try_finish (self);
}

static void
on_dest_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished)
    return;
  if (status == FERRYD_STREAM_ACTIVE)
    {
      if (self->phase == PHASE_PREPARE)
        migration_set_phase (self, PHASE_PERFORM);
      migration_set_state (self, STATE_ACTIVE);
    }
  else if (status == FERRYD_STREAM_POSTCOPY_ACTIVE)
    {
      if (self->phase == PHASE_PREPARE)
        migration_set_phase (self, PHASE_PERFORM);
      migration_set_state (self, STATE_POSTCOPY_ACTIVE);
      migration_note_postcopy_started (self, ts);
      /* The source has stopped for good: the guest can only run here. */
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          ferryd_stream_resume_incoming (stream);
        }
    }
  else if (status == FERRYD_STREAM_POSTCOPY_PAUSED)
    migration_set_state (self, STATE_POSTCOPY_PAUSED);
  else if (status == FERRYD_STREAM_COMPLETED)
    {
      self->incoming_completed = TRUE;
      incoming_try_finish (self);
    }
  else if (status == FERRYD_STREAM_FAILED)
    {
      if (self->postcopy_started)
        {
          migration_set_state (self, STATE_POSTCOPY_PAUSED);
          return;
        }
      /* The source knows why (a cancel looks like a failure from here):
       * wait briefly for its Abort or Finish before deciding alone. */
      if (self->finish_task == NULL && self->finish_timeout_id == 0)
        self->finish_timeout_id =
            g_timeout_add_seconds (SOURCE_VERDICT_TIMEOUT_S, stream_failed_timeout_cb, self);
    }
}

static void
incoming_try_finish (FerrydMigration *self)
{
  g_autoptr (GTask) task = NULL;
  GVariantDict result;
  g_autoptr (FerrydStream) stream = NULL;

  if (!self->incoming_completed || self->finish_task == NULL)
    return;
  if (self->resume_us == 0 && !self->crash_error)
    {
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          if (self->stream)
            ferryd_stream_resume_incoming (self->stream);
        }
      return; /* RESUME brings us back here */
    }
  task = g_steal_pointer (&self->finish_task);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);

  /* The guest runs here now: the domain owns it. */
  stream = g_object_ref (self->stream);
  migration_drop_stream (self);
  ferryd_domain_set_migration (self->domain, NULL, FALSE);
  ferryd_stream_adopt (stream, self->domain);
  if (self->options->persist && self->persistent_description)
    {
      g_autoptr (GError) error = NULL;
      FerrydDomainConfig *config =
          ferryd_domain_config_parse (self->persistent_description, &error);

      if (config == NULL || !ferryd_daemon_persist_domain (self->daemon, config, &error))
        g_warning ("%s: cannot persist the domain: %s", self->label, error->message);
    }
  migration_set_phase (self, PHASE_CONFIRM);
  /* A guest that crashed here in post-copy is the only copy there is:
   * the domain keeps it (crashed, paused); the migration failed. */
  migration_finish (self, self->crash_error ? STATE_FAILED : STATE_COMPLETED, self->crash_error);

  g_variant_dict_init (&result, NULL);
  g_variant_dict_insert (&result, "resume-time", "t", (guint64) self->resume_us);
  g_variant_dict_insert (&result, "state", "s", self->crash_error ? "crashed" : "running");
  if (self->crash_error)
    g_variant_dict_insert (&result, "state-reason", "s",
                           ferryd_domain_get_state_reason (self->domain));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&result)),
                         (GDestroyNotify) g_variant_unref);
}

static void
incoming_cleanup (FerrydMigration *self)
{
  g_autoptr (FerrydStream) stream = self->stream ? g_object_ref (self->stream) : NULL;

  if (stream)
    {
      migration_drop_stream (self);
      ferryd_stream_terminate (stream);
    }
}

static void
remove_created_domain (FerrydMigration *self)
{
  g_autoptr (GError) error = NULL;

  ferryd_domain_set_migration (self->domain, NULL, FALSE);
  if (self->created_domain && !ferryd_daemon_is_persistent (self->daemon, self->domain))
    if (!ferryd_daemon_undefine_domain (self->daemon, self->domain, &error))
      g_debug ("%s: %s", self->label, error->message);
}

void
ferryd_migration_abort_incoming (FerrydMigration *self, const char *reason)
{
  g_autoptr (GError) error = NULL;
  gboolean cancelled = g_strcmp0 (reason, "cancelled") == 0;

  if (self->finished)
    return;
  incoming_cleanup (self);
  error =
      g_error_new (FERRY_ERROR, cancelled ? FERRY_ERROR_CANCELLED : FERRY_ERROR_MIGRATION_FAILED,
                   "Incoming migration aborted: %s", reason);
  if (self->finish_task)
    {
      g_autoptr (GTask) task = g_steal_pointer (&self->finish_task);
      g_task_return_error (task, g_error_copy (error));
    }
  migration_finish (self, cancelled ? STATE_CANCELLED : STATE_FAILED, error);
  remove_created_domain (self);
}

void
migration_incoming_crashed (FerrydMigration *self)
{
  /* Before post-copy the guest does not run here (and the source holds
   * all of it): drop this copy. In post-copy it is the only one: keep
   * it; the end comes with the stream's (incoming_try_finish). */
  if (!self->postcopy_started)
    ferryd_migration_abort_incoming (self, self->crash_error->message);
}

void
migration_rollback_incoming (FerrydMigration *self, GError *error)
{
  g_autoptr (GError) owned = error;

  incoming_cleanup (self);
  migration_finish (self, STATE_FAILED, owned);
  remove_created_domain (self);
}

static void
peer_vanished_cb (FerrydPeerWatch *watch, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished || self->finish_task)
    return;
  if (self->postcopy_started)
    {
      /* Part of the guest is here, part there: keep it, paused. */
      migration_set_state (self, STATE_POSTCOPY_PAUSED);
      return;
    }
  g_warning ("%s: the source ferryd went away", self->label);
  ferryd_migration_abort_incoming (self, "the source ferryd disconnected");
}

static gboolean
finish_timeout_cb (gpointer user_data)
{
  FerrydMigration *self = user_data;

  self->finish_timeout_id = 0;
  ferryd_migration_abort_incoming (self, "the guest did not resume in time");
  return G_SOURCE_REMOVE;
}

void
ferryd_migration_finish_incoming_async (FerrydMigration *self,
                                        gboolean source_completed,
                                        GVariant *statistics,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  if (self->finished || self->finish_task)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "Incoming migration is %s", ferryd_state_to_string (self->state));
      return;
    }
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  g_clear_pointer (&self->source_statistics, g_variant_unref);
  self->source_statistics = g_variant_ref (statistics);
  if (self->phase == PHASE_PREPARE)
    migration_set_phase (self, PHASE_PERFORM);
  migration_set_phase (self, PHASE_FINISH);
  if (!source_completed)
    {
      self->finish_task = g_steal_pointer (&task);
      ferryd_migration_abort_incoming (self, "the source reported failure");
      return;
    }
  self->finish_task = g_steal_pointer (&task);
  self->finish_timeout_id = g_timeout_add_seconds (FINISH_TIMEOUT_S, finish_timeout_cb, self);
  incoming_try_finish (self);
}

GVariant *
ferryd_migration_finish_incoming_finish (FerrydMigration *self,
                                         GAsyncResult *result,
                                         GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
prepared_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydMigration *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = ferryd_stream_prepare_finish (FERRYD_STREAM (source), result, &error);
  GVariantDict dict;

  if (uri == NULL || self->finished)
    {
      /* An aborted migration leaves no guest behind. */
      if (self->finished)
        ferryd_stream_terminate (FERRYD_STREAM (source));
      g_task_return_error (task, error ? g_error_copy (error)
                                       : g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                              "Migration aborted"));
      if (!self->finished)
        migration_rollback_incoming (self, g_steal_pointer (&error));
      return;
    }
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "migrate-uri", "s", uri);
  g_variant_dict_insert_value (&dict, "capabilities",
                               g_variant_new_strv ((const char *const *) self->features, -1));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&dict)),
                         (GDestroyNotify) g_variant_unref);
}

void
ferryd_migration_prepare_incoming_async (FerrydMigration *self,
                                         FerrydPeerWatch *source,
                                         const FerrydDomainConfig *live,
                                         const char *persistent_description,
                                         gboolean created_domain,
                                         GVariant *info,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  FerrydStreamIncoming incoming = { 0 };
  g_autofree const char **features = NULL;
  const char *data_host = "127.0.0.1";

  g_variant_lookup (info, "features", "^a&s", &features);
  g_variant_lookup (info, "data-host", "&s", &data_host);
  /* Begin ran on the source; the incoming object starts there too. */
  migration_set_phase (self, PHASE_BEGIN);
  self->features = g_strdupv ((GStrv) (features ? features : (const char *[]){ "events", NULL }));
  self->data_host = g_strdup (data_host);
  self->created_domain = created_domain;
  self->persistent_description = g_strdup (persistent_description);
  self->peer_watch = g_object_ref (source);
  g_signal_connect_object (source, "vanished", G_CALLBACK (peer_vanished_cb), self, 0);
  ferryd_domain_set_migration (self->domain, G_OBJECT (self), TRUE);
  migration_set_phase (self, PHASE_PREPARE);
  migration_set_state (self, STATE_SETUP);
  g_task_set_source_tag (task, ferryd_migration_prepare_incoming_async);
  migration_attach_stream (self, ferryd_backend_open_incoming (self->backend, self->domain));
  g_signal_connect (self->stream, "status-changed", G_CALLBACK (on_dest_status), self);
  g_signal_connect (self->stream, "resumed", G_CALLBACK (on_dest_resumed), self);
  incoming.live = live;
  incoming.features = (const char *const *) self->features;
  incoming.data_host = self->data_host;
  incoming.listen_uri = self->options->migrate_uri;
  incoming.multifd_channels =
      self->options->multifd_channels > 0 ? (guint) self->options->multifd_channels : 0;
  incoming.compression = self->options->compression;
  ferryd_stream_prepare_async (self->stream, &incoming, prepared_cb, task);
}

GVariant *
ferryd_migration_prepare_incoming_finish (FerrydMigration *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
