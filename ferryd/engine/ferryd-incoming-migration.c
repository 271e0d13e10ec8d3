/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-incoming-migration.c: the destination side of a migration: Prepare and Finish */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-incoming-migration.h"
#include "ferryd-migration-private.h"
#include "ferry-error.h"
#include "ferryd-peer.h"
#include "ferryd-peer-tls.h"

static gboolean stream_failed_timeout_cb (gpointer user_data);
static void on_dest_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data);
static void on_dest_resumed (FerrydStream *stream, gint64 ts, gpointer user_data);
static void incoming_try_finish (FerrydIncomingMigration *self);
static void incoming_cleanup (FerrydIncomingMigration *self);
static void remove_created_domain (FerrydIncomingMigration *self);
static void peer_vanished_cb (FerrydPeerWatch *watch, gpointer user_data);
static gboolean finish_timeout_cb (gpointer user_data);
static void prepared_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void hosted_end (FerrydIncomingMigration *self, FerrydStreamStatus status);

struct _FerrydIncomingMigration
{
  FerrydMigration parent_instance;

  char *data_host;             /* where the destination listens for the data stream */
  FerrydPeerWatch *peer_watch; /* follows the source ferryd */
  gboolean created_domain;
  gboolean incoming_completed;
  gboolean resume_sent;
  char *persistent_description;
  GTask *finish_task;
  GVariant *source_statistics; /* as the source sent them in Finish */
  guint finish_timeout_id;
  gboolean source_gone;             /* the source ferryd left in post-copy */
  FerrydStreamStatus hosted_status; /* how the hypervisor's own migration ended */
};

static void rollback_incoming (FerrydIncomingMigration *self, GError *error);
static void finish_alone (FerrydIncomingMigration *self);
static gboolean finish_alone_timeout_cb (gpointer user_data);

/* --- destination side --- */

static gboolean
stream_failed_timeout_cb (gpointer user_data)
{
  FerrydIncomingMigration *self = user_data;

  self->finish_timeout_id = 0;
  ferryd_incoming_migration_abort (self, "the incoming migration stream failed");
  return G_SOURCE_REMOVE;
}

static void
on_dest_resumed (FerrydStream *stream, gint64 ts, gpointer user_data)
{
  FerrydIncomingMigration *self = user_data;

  if (SHARED (self)->finished)
    return;
  SHARED (self)->resume_us = ts;
  incoming_try_finish (self);
}

static void
on_dest_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data)
{
  FerrydIncomingMigration *self = user_data;

  if (SHARED (self)->finished)
    return;
  if (SHARED (self)->hypervisor_protocol &&
      (status == FERRYD_STREAM_COMPLETED || status == FERRYD_STREAM_FAILED ||
       status == FERRYD_STREAM_CANCELLED))
    {
      /* no source ferryd will say how it ended: the hypervisor did */
      hosted_end (self, status);
      return;
    }
  if (status == FERRYD_STREAM_ACTIVE)
    {
      if (SHARED (self)->phase == PHASE_PREPARE)
        migration_set_phase (FERRYD_MIGRATION (self), PHASE_PERFORM);
      migration_set_state (FERRYD_MIGRATION (self), STATE_ACTIVE);
    }
  else if (status == FERRYD_STREAM_POSTCOPY_ACTIVE)
    {
      if (SHARED (self)->phase == PHASE_PREPARE)
        migration_set_phase (FERRYD_MIGRATION (self), PHASE_PERFORM);
      migration_note_postcopy_resumed (FERRYD_MIGRATION (self));
      migration_note_postcopy_started (FERRYD_MIGRATION (self), ts);
      /* The source has stopped for good: the guest can only run here. */
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          ferryd_stream_resume_incoming (stream);
        }
    }
  else if (status == FERRYD_STREAM_POSTCOPY_PAUSED)
    migration_note_postcopy_paused (FERRYD_MIGRATION (self));
  else if (status == FERRYD_STREAM_COMPLETED)
    {
      self->incoming_completed = TRUE;
      /* A ferryd restarted here, or one whose source left, may never
       * hear the source's Finish: the guest runs here, so the migration
       * ends here; otherwise Finish has a while to come. */
      if (self->finish_task == NULL && SHARED (self)->postcopy_started)
        {
          if (SHARED (self)->restored || self->source_gone)
            {
              finish_alone (self);
              return;
            }
          if (self->finish_timeout_id == 0)
            self->finish_timeout_id =
                g_timeout_add_seconds (POSTCOPY_FINISH_WAIT_S, finish_alone_timeout_cb, self);
        }
      incoming_try_finish (self);
    }
  else if (status == FERRYD_STREAM_FAILED)
    {
      if (SHARED (self)->postcopy_started)
        {
          migration_note_postcopy_paused (FERRYD_MIGRATION (self));
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
incoming_try_finish (FerrydIncomingMigration *self)
{
  g_autoptr (GTask) task = NULL;
  GVariantDict result;
  g_autoptr (FerrydStream) stream = NULL;

  if (!self->incoming_completed || self->finish_task == NULL)
    return;
  if (SHARED (self)->resume_us == 0 && !SHARED (self)->crash_error)
    {
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          if (SHARED (self)->stream)
            ferryd_stream_resume_incoming (SHARED (self)->stream);
        }
      return; /* RESUME brings us back here */
    }
  task = g_steal_pointer (&self->finish_task);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);

  /* The guest runs here now: the domain owns it. */
  stream = g_object_ref (SHARED (self)->stream);
  migration_drop_stream (FERRYD_MIGRATION (self));
  ferryd_domain_set_migration (SHARED (self)->domain, NULL, FALSE);
  ferryd_stream_adopt (stream, SHARED (self)->domain);
  if (SHARED (self)->options->persist && self->persistent_description)
    {
      g_autoptr (GError) error = NULL;
      FerrydDomainConfig *config =
          ferryd_domain_config_parse (self->persistent_description, &error);

      if (config == NULL || !ferryd_daemon_persist_domain (SHARED (self)->daemon, config, &error))
        g_warning ("%s: cannot persist the domain: %s", SHARED (self)->label, error->message);
    }
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_CONFIRM);
  /* A guest that crashed here in post-copy is the only copy there is:
   * the domain keeps it (crashed, paused); the migration failed. */
  migration_finish (FERRYD_MIGRATION (self),
                    SHARED (self)->crash_error ? STATE_FAILED : STATE_COMPLETED,
                    SHARED (self)->crash_error);

  g_variant_dict_init (&result, NULL);
  g_variant_dict_insert (&result, "resume-time", "t", (guint64) SHARED (self)->resume_us);
  g_variant_dict_insert (&result, "state", "s", SHARED (self)->crash_error ? "crashed" : "running");
  if (SHARED (self)->crash_error)
    g_variant_dict_insert (&result, "state-reason", "s",
                           ferryd_domain_get_state_reason (SHARED (self)->domain));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&result)),
                         (GDestroyNotify) g_variant_unref);
}

static void
incoming_cleanup (FerrydIncomingMigration *self)
{
  g_autoptr (FerrydStream) stream =
      SHARED (self)->stream ? g_object_ref (SHARED (self)->stream) : NULL;

  if (stream)
    {
      migration_drop_stream (FERRYD_MIGRATION (self));
      ferryd_stream_terminate (stream);
    }
}

static void
remove_created_domain (FerrydIncomingMigration *self)
{
  g_autoptr (GError) error = NULL;

  ferryd_domain_set_migration (SHARED (self)->domain, NULL, FALSE);
  if (self->created_domain &&
      !ferryd_daemon_is_persistent (SHARED (self)->daemon, SHARED (self)->domain))
    if (!ferryd_daemon_undefine_domain (SHARED (self)->daemon, SHARED (self)->domain, &error))
      g_debug ("%s: %s", SHARED (self)->label, error->message);
}

void
ferryd_incoming_migration_abort (FerrydIncomingMigration *self, const char *reason)
{
  g_autoptr (GError) error = NULL;
  gboolean cancelled = g_strcmp0 (reason, "cancelled") == 0;

  if (SHARED (self)->finished)
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
  migration_finish (FERRYD_MIGRATION (self), cancelled ? STATE_CANCELLED : STATE_FAILED, error);
  remove_created_domain (self);
}

static void
rollback_incoming (FerrydIncomingMigration *self, GError *error)
{
  g_autoptr (GError) owned = error;

  incoming_cleanup (self);
  migration_finish (FERRYD_MIGRATION (self), STATE_FAILED, owned);
  remove_created_domain (self);
}

static void
peer_vanished_cb (FerrydPeerWatch *watch, gpointer user_data)
{
  FerrydIncomingMigration *self = user_data;

  if (SHARED (self)->finished || self->finish_task)
    return;
  if (SHARED (self)->postcopy_started)
    {
      /* Part of the guest is here, part there: keep it. The QEMUs go on
       * without their ferryds; their stream says when it pauses. */
      g_warning ("%s: the source ferryd went away during post-copy", SHARED (self)->label);
      self->source_gone = TRUE;
      if (self->incoming_completed)
        finish_alone (self);
      return;
    }
  g_warning ("%s: the source ferryd went away", SHARED (self)->label);
  ferryd_incoming_migration_abort (self, "the source ferryd disconnected");
}

static gboolean
finish_timeout_cb (gpointer user_data)
{
  FerrydIncomingMigration *self = user_data;

  self->finish_timeout_id = 0;
  ferryd_incoming_migration_abort (self, "the guest did not resume in time");
  return G_SOURCE_REMOVE;
}

void
ferryd_incoming_migration_finish_async (FerrydIncomingMigration *self,
                                        gboolean source_completed,
                                        GVariant *statistics,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, ferryd_incoming_migration_finish_async);

  if (SHARED (self)->finished || self->finish_task)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "Incoming migration is %s",
                               ferryd_state_to_string (SHARED (self)->state));
      return;
    }
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  g_clear_pointer (&self->source_statistics, g_variant_unref);
  self->source_statistics = g_variant_ref (statistics);
  if (SHARED (self)->phase == PHASE_PREPARE)
    migration_set_phase (FERRYD_MIGRATION (self), PHASE_PERFORM);
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_FINISH);
  if (!source_completed)
    {
      self->finish_task = g_steal_pointer (&task);
      ferryd_incoming_migration_abort (self, "the source reported failure");
      return;
    }
  self->finish_task = g_steal_pointer (&task);
  self->finish_timeout_id = g_timeout_add_seconds (FINISH_TIMEOUT_S, finish_timeout_cb, self);
  incoming_try_finish (self);
}

GVariant *
ferryd_incoming_migration_finish_finish (FerrydIncomingMigration *self,
                                         GAsyncResult *result,
                                         GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
prepared_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydIncomingMigration *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = ferryd_stream_prepare_finish (FERRYD_STREAM (source), result, &error);
  GVariantDict dict;

  if (uri == NULL || SHARED (self)->finished)
    {
      /* An aborted migration leaves no guest behind. */
      if (SHARED (self)->finished)
        ferryd_stream_terminate (FERRYD_STREAM (source));
      g_task_return_error (task, error ? g_error_copy (error)
                                       : g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                              "Migration aborted"));
      if (!SHARED (self)->finished)
        rollback_incoming (self, g_steal_pointer (&error));
      return;
    }
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "migrate-uri", "s", uri);
  {
    g_autofree char *storage = ferryd_stream_get_storage_uri (FERRYD_STREAM (source));
    if (storage)
      g_variant_dict_insert (&dict, "storage-uri", "s", storage);
  }
  g_variant_dict_insert_value (
      &dict, "capabilities",
      g_variant_new_strv ((const char *const *) SHARED (self)->features, -1));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&dict)),
                         (GDestroyNotify) g_variant_unref);
}

static void
follow_stream (FerrydIncomingMigration *self)
{
  g_signal_connect (SHARED (self)->stream, "status-changed", G_CALLBACK (on_dest_status), self);
  g_signal_connect (SHARED (self)->stream, "resumed", G_CALLBACK (on_dest_resumed), self);
}

void
ferryd_incoming_migration_prepare_async (FerrydIncomingMigration *self,
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
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_BEGIN);
  SHARED (self)->features =
      g_strdupv ((GStrv) (features ? features : (const char *[]){ "events", NULL }));
  self->data_host = g_strdup (data_host);
  self->created_domain = created_domain;
  self->persistent_description = g_strdup (persistent_description);
  self->peer_watch = g_object_ref (source);
  g_signal_connect_object (source, "vanished", G_CALLBACK (peer_vanished_cb), self, 0);
  ferryd_domain_set_migration (SHARED (self)->domain, G_OBJECT (self), TRUE);
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_PREPARE);
  migration_set_state (FERRYD_MIGRATION (self), STATE_SETUP);
  g_task_set_source_tag (task, ferryd_incoming_migration_prepare_async);
  migration_attach_stream (
      FERRYD_MIGRATION (self),
      ferryd_backend_open_incoming (SHARED (self)->backend, SHARED (self)->domain));
  follow_stream (self);
  incoming.live = live;
  incoming.features = (const char *const *) SHARED (self)->features;
  incoming.data_host = self->data_host;
  incoming.listen_uri = SHARED (self)->options->migrate_uri;
  incoming.multifd_channels = SHARED (self)->options->multifd_channels > 0
                                  ? (guint) SHARED (self)->options->multifd_channels
                                  : 0;
  incoming.compression = SHARED (self)->options->compression;
  if (g_strv_contains (incoming.features, "tls"))
    incoming.tls_dir = ferryd_peer_tls_get_dir ();
  incoming.copy_storage = SHARED (self)->options->copy_storage != FERRYD_COPY_STORAGE_NONE;
  incoming.incremental = SHARED (self)->options->copy_storage == FERRYD_COPY_STORAGE_INCREMENTAL;
  incoming.disks = SHARED (self)->options->disks && SHARED (self)->options->disks[0]
                       ? (const char *const *) SHARED (self)->options->disks
                       : NULL;
  ferryd_stream_prepare_async (SHARED (self)->stream, &incoming, prepared_cb, task);
}

GVariant *
ferryd_incoming_migration_prepare_finish (FerrydIncomingMigration *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- a migration the hypervisor runs (ferryd_incoming_migration_follow) --- */

static void
hosted_completed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydIncomingMigration) self = user_data;
  FerrydProgress progress;

  if (SHARED (self)->finished)
    return;
  /* the completed job's figures, where the hypervisor gives them here */
  if (ferryd_stream_query_finish (FERRYD_STREAM (source), result, &progress, NULL, NULL))
    {
      SHARED (self)->info = progress;
      migration_update_progress (FERRYD_MIGRATION (self));
    }
  finish_alone (self);
}

static void
hosted_failed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydIncomingMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;
  FerrydStreamStatus status = self->hosted_status;

  ferryd_stream_query_finish (FERRYD_STREAM (source), result, NULL, &why, NULL);
  if (SHARED (self)->finished)
    return;
  error = g_error_new (FERRY_ERROR,
                       status == FERRYD_STREAM_CANCELLED ? FERRY_ERROR_CANCELLED
                                                         : FERRY_ERROR_MIGRATION_FAILED,
                       "The incoming migration ended without the guest running here: %s",
                       why ? why : "no reason given");
  migration_drop_stream (FERRYD_MIGRATION (self));
  migration_finish (FERRYD_MIGRATION (self),
                    status == FERRYD_STREAM_CANCELLED ? STATE_CANCELLED : STATE_FAILED, error);
}

/* The hypervisor's migration ended: in @status, with its statistics or
 * its reason asked from the stream first. The guest, or what is left of
 * it, is the hypervisor's (and the backend's domain's) to keep or drop. */
static void
hosted_end (FerrydIncomingMigration *self, FerrydStreamStatus status)
{
  FerrydStream *stream = SHARED (self)->stream;

  migration_stop_sampling (FERRYD_MIGRATION (self));
  if (status == FERRYD_STREAM_COMPLETED)
    {
      self->incoming_completed = TRUE;
      ferryd_stream_query_async (stream, hosted_completed_cb, g_object_ref (self));
      return;
    }
  self->hosted_status = status;
  ferryd_stream_query_async (stream, hosted_failed_cb, g_object_ref (self));
}

void
ferryd_incoming_migration_follow (FerrydIncomingMigration *self, FerrydStream *stream)
{
  /* set first: nothing of it is journaled (the hypervisor keeps its
   * state), and the hypervisor resumes the guest itself */
  SHARED (self)->hypervisor_protocol = TRUE;
  self->resume_sent = TRUE;
  /* Begin ran on the source, as for Ferry's own protocol. */
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_BEGIN);
  ferryd_domain_set_migration (SHARED (self)->domain, G_OBJECT (self), TRUE);
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_PREPARE);
  migration_set_state (FERRYD_MIGRATION (self), STATE_SETUP);
  migration_attach_stream (FERRYD_MIGRATION (self), g_object_ref (stream));
  follow_stream (self);
  migration_start_sampling (FERRYD_MIGRATION (self));
}

/* --- what the base asks of the destination side --- */

static void
incoming_crashed (FerrydMigration *migration, const char *why)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (migration);

  migration_set_crash_error (migration, "destination", why);
  /* Before post-copy the guest does not run here (and the source holds
   * all of it): drop this copy. In post-copy it is the only one: keep
   * it; the end comes with the stream's (incoming_try_finish). */
  if (!SHARED (self)->postcopy_started)
    ferryd_incoming_migration_abort (self, SHARED (self)->crash_error->message);
}

static void
incoming_stream_exited (FerrydMigration *migration)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (migration);
  g_autoptr (FerrydStream) gone =
      SHARED (self)->stream ? g_object_ref (SHARED (self)->stream) : NULL;

  if (SHARED (self)->state == STATE_POSTCOPY_ACTIVE ||
      SHARED (self)->state == STATE_POSTCOPY_PAUSED)
    g_warning ("%s: destination QEMU died during post-copy: the guest is lost unless the "
               "source still holds it",
               SHARED (self)->label);
  migration_drop_stream (migration);
  /* What the stream made here (copied disks) goes with the guest. */
  if (gone)
    ferryd_stream_terminate (gone);
  rollback_incoming (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                                "The destination QEMU exited"));
}

static gboolean
incoming_cancel (FerrydMigration *migration, GError **error)
{
  if (SHARED (migration)->hypervisor_protocol)
    {
      /* The hypervisor's source side runs it and keeps the guest: only
       * there can it be stopped without losing anything. */
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "This migration is run by the %s backend's hypervisor from the source host: "
                   "cancel it there (Cancel on the source host's migration object)",
                   ferryd_backend_get_name (SHARED (migration)->backend));
      return FALSE;
    }
  ferryd_incoming_migration_abort (FERRYD_INCOMING_MIGRATION (migration),
                                   "cancelled on the destination");
  return TRUE;
}

static gboolean
incoming_start_postcopy (FerrydMigration *migration, GError **error)
{
  g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                       "Switching to post-copy is done on the source host's migration object");
  return FALSE;
}

static void
incoming_control (FerrydMigration *migration,
                  const char *what,
                  FerrydStreamControl control,
                  guint64 value,
                  GTask *task)
{
  g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "%s is done on the source host's migration object", what);
  g_object_unref (task);
}

static void
stop_watching (FerrydIncomingMigration *self)
{
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer_watch)
    ferryd_peer_watch_stop (self->peer_watch);
}

static void
incoming_ending (FerrydMigration *migration)
{
  stop_watching (FERRYD_INCOMING_MIGRATION (migration));
}

/* The source's statistics, with the resume time as this host saw it. */
static GVariant *
incoming_final_statistics (FerrydMigration *migration)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (migration);

  if (self->source_statistics == NULL)
    return NULL;
  return ferryd_progress_incoming_statistics (self->source_statistics, SHARED (self)->resume_us);
}

static void
incoming_shutdown (FerrydMigration *migration)
{
  stop_watching (FERRYD_INCOMING_MIGRATION (migration));
}

/* --- post-copy: finishing alone, recovery, a restart of this ferryd --- */

/* A post-copy stream that completed without the source's Finish: the
 * guest runs here, and only here. */
static void
finish_alone (FerrydIncomingMigration *self)
{
  g_autoptr (FerrydStream) stream =
      SHARED (self)->stream ? g_object_ref (SHARED (self)->stream) : NULL;

  if (SHARED (self)->finished)
    return;
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  migration_drop_stream (FERRYD_MIGRATION (self));
  ferryd_domain_set_migration (SHARED (self)->domain, NULL, FALSE);
  if (stream)
    ferryd_stream_adopt (stream, SHARED (self)->domain);
  if (SHARED (self)->options->persist && self->persistent_description)
    {
      g_autoptr (GError) error = NULL;
      FerrydDomainConfig *config =
          ferryd_domain_config_parse (self->persistent_description, &error);

      if (config == NULL || !ferryd_daemon_persist_domain (SHARED (self)->daemon, config, &error))
        g_warning ("%s: cannot persist the domain: %s", SHARED (self)->label, error->message);
    }
  if (SHARED (self)->phase == PHASE_PREPARE)
    migration_set_phase (FERRYD_MIGRATION (self), PHASE_PERFORM);
  if (SHARED (self)->phase == PHASE_PERFORM)
    migration_set_phase (FERRYD_MIGRATION (self), PHASE_FINISH);
  if (SHARED (self)->resume_us == 0)
    SHARED (self)->resume_us = g_get_real_time ();
  migration_finish (FERRYD_MIGRATION (self),
                    SHARED (self)->crash_error ? STATE_FAILED : STATE_COMPLETED,
                    SHARED (self)->crash_error);
}

static gboolean
finish_alone_timeout_cb (gpointer user_data)
{
  FerrydIncomingMigration *self = user_data;

  self->finish_timeout_id = 0;
  if (!SHARED (self)->finished && self->finish_task == NULL)
    {
      g_warning ("%s: post-copy completed but the source did not finish; finishing here",
                 SHARED (self)->label);
      finish_alone (self);
    }
  return G_SOURCE_REMOVE;
}

static void
listening_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  char *uri = ferryd_stream_listen_recover_finish (FERRYD_STREAM (source), result, &error);

  if (uri == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, uri, g_free);
}

void
ferryd_incoming_migration_recover_async (FerrydIncomingMigration *self,
                                         const char *uri,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_incoming_migration_recover_async);
  /* The source saw the pause; this side may learn it a moment later, so
   * the backend judges the state (QEMU refuses unless post-copy is
   * paused). */
  if (SHARED (self)->finished || !SHARED (self)->postcopy_started)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                             "Only a paused post-copy migration can be recovered (it is %s)",
                             ferryd_state_to_string (SHARED (self)->state));
  else if (SHARED (self)->stream == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                             "The destination QEMU is gone");
  else
    ferryd_stream_listen_recover_async (SHARED (self)->stream, uri && *uri ? uri : NULL,
                                        self->data_host, cancellable, listening_cb,
                                        g_steal_pointer (&task));
}

char *
ferryd_incoming_migration_recover_finish (FerrydIncomingMigration *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
incoming_recover (FerrydMigration *migration, const char *uri, GTask *task)
{
  g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Recover is done on the source host's migration object");
  g_object_unref (task);
}

static void
incoming_journal_save (FerrydMigration *migration, FerrydJournalEntry *e)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (migration);

  e->data_host = self->data_host;
  e->persistent_description = self->persistent_description;
  e->created_domain = self->created_domain;
}

static void
incoming_journal_restore (FerrydMigration *migration, const FerrydJournalEntry *e)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (migration);

  self->data_host = g_strdup (e->data_host);
  self->persistent_description = g_strdup (e->persistent_description);
  self->created_domain = e->created_domain;
  /* The guest runs here since post-copy began (or is still paused -S
   * before it): never resume it from here. */
  self->resume_sent = TRUE;
}

static void
restart_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydIncomingMigration) self = user_data;
  FerrydProgress progress = { 0 };

  if (!ferryd_stream_query_finish (FERRYD_STREAM (source), result, &progress, NULL, NULL) ||
      SHARED (self)->finished)
    return;
  g_info ("%s: taken over after a restart (%s, QEMU stream %u)", SHARED (self)->label,
          ferryd_state_to_string (SHARED (self)->state), (guint) progress.status);
  if (progress.status == FERRYD_STREAM_COMPLETED)
    finish_alone (self);
  else if (progress.status == FERRYD_STREAM_POSTCOPY_ACTIVE ||
           progress.status == FERRYD_STREAM_POSTCOPY_PAUSED || SHARED (self)->postcopy_started)
    {
      if (SHARED (self)->resume_us == 0)
        SHARED (self)->resume_us = g_get_real_time ();
      if (progress.status != FERRYD_STREAM_NONE)
        ferryd_stream_emit_status (SHARED (self)->stream, progress.status, g_get_real_time ());
    }
  else
    ferryd_incoming_migration_abort (self, "ferryd restarted before the guest arrived here");
}

static void
incoming_settle_after_restart (FerrydMigration *migration)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (migration);
  /* The guest's QEMU, if still there, was found again as the domain's. */
  FerrydStream *stream =
      ferryd_backend_open_outgoing (SHARED (self)->backend, SHARED (self)->domain);

  if (!ferryd_stream_is_alive (stream))
    {
      g_autoptr (GError) error = g_error_new_literal (
          FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
          SHARED (self)->postcopy_started
              ? "ferryd restarted during post-copy and the destination QEMU is gone"
              : "ferryd restarted before the guest arrived here: it stays on the source");

      g_object_unref (stream);
      migration_finish (migration, STATE_FAILED, error);
      /* A domain known here only for this migration goes with it. */
      if (!ferryd_domain_is_active (SHARED (self)->domain))
        {
          self->created_domain = TRUE;
          remove_created_domain (self);
        }
      return;
    }
  if (SHARED (self)->postcopy_started)
    SHARED (self)->resume_us = g_get_real_time ();
  migration_attach_stream (migration, stream);
  follow_stream (self);
  ferryd_stream_query_async (SHARED (self)->stream, restart_query_cb, g_object_ref (self));
}

/* --- object --- */

G_DEFINE_FINAL_TYPE (FerrydIncomingMigration, ferryd_incoming_migration, FERRYD_TYPE_MIGRATION)

FerrydMigration *
ferryd_incoming_migration_new (const FerrydMigrationSetup *setup)
{
  FerrydMigration *self = g_object_new (FERRYD_TYPE_INCOMING_MIGRATION, NULL);

  migration_construct (self, setup);
  return self;
}

static void
ferryd_incoming_migration_dispose (GObject *object)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (object);

  stop_watching (self);
  g_clear_object (&self->peer_watch);
  G_OBJECT_CLASS (ferryd_incoming_migration_parent_class)->dispose (object);
}

static void
ferryd_incoming_migration_finalize (GObject *object)
{
  FerrydIncomingMigration *self = FERRYD_INCOMING_MIGRATION (object);

  g_clear_pointer (&self->source_statistics, g_variant_unref);
  g_free (self->data_host);
  g_free (self->persistent_description);
  G_OBJECT_CLASS (ferryd_incoming_migration_parent_class)->finalize (object);
}

static void
ferryd_incoming_migration_class_init (FerrydIncomingMigrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  FerrydMigrationClass *migration_class = FERRYD_MIGRATION_CLASS (klass);

  object_class->dispose = ferryd_incoming_migration_dispose;
  object_class->finalize = ferryd_incoming_migration_finalize;
  migration_class->direction = "incoming";
  migration_class->cancel = incoming_cancel;
  migration_class->start_postcopy = incoming_start_postcopy;
  migration_class->control = incoming_control;
  migration_class->stream_exited = incoming_stream_exited;
  migration_class->crashed = incoming_crashed;
  migration_class->ending = incoming_ending;
  migration_class->final_statistics = incoming_final_statistics;
  migration_class->shutdown = incoming_shutdown;
  migration_class->recover = incoming_recover;
  migration_class->journal_save = incoming_journal_save;
  migration_class->journal_restore = incoming_journal_restore;
  migration_class->settle_after_restart = incoming_settle_after_restart;
}

static void
ferryd_incoming_migration_init (FerrydIncomingMigration *self)
{
}
