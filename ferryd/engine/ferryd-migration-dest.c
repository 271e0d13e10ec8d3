/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration-dest.c: the destination side of a migration: Prepare and Finish */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-migration-private.h"
#include "ferry-error.h"
#include "ferryd-peer.h"
#include "ferryd-qmp-batch.h"

static gboolean stream_failed_timeout_cb (gpointer user_data);
static void
on_dest_event (FerrydQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data);
static void incoming_try_finish (FerrydMigration *self);
static void incoming_cleanup (FerrydMigration *self);
static void remove_created_domain (FerrydMigration *self);
static void peer_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data);
static gboolean finish_timeout_cb (gpointer user_data);
static void incoming_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void incoming_launched_cb (GObject *source, GAsyncResult *result, gpointer user_data);

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
on_dest_event (FerrydQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data)
{
  FerrydMigration *self = user_data;
  const char *status;

  if (self->finished)
    return;
  if (g_str_equal (name, "RESUME"))
    {
      self->resume_us = ts;
      incoming_try_finish (self);
      return;
    }
  if (!g_str_equal (name, "MIGRATION"))
    return;
  status = json_object_get_string_member_with_default (data, "status", "");
  g_debug ("%s: destination QEMU migration %s", self->path, status);
  if (g_str_equal (status, "active"))
    {
      if (self->phase == PHASE_PREPARE)
        migration_set_phase (self, PHASE_PERFORM);
      migration_set_state (self, STATE_ACTIVE);
    }
  else if (g_str_equal (status, "postcopy-active"))
    {
      if (self->phase == PHASE_PREPARE)
        migration_set_phase (self, PHASE_PERFORM);
      migration_set_state (self, STATE_POSTCOPY_ACTIVE);
      migration_note_postcopy_started (self, ts);
      /* The source has stopped for good: the guest can only run here. */
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          ferryd_qmp_send (qmp, "cont", NULL);
        }
    }
  else if (g_str_equal (status, "postcopy-paused"))
    migration_set_state (self, STATE_POSTCOPY_PAUSED);
  else if (g_str_equal (status, "completed"))
    {
      self->incoming_completed = TRUE;
      incoming_try_finish (self);
    }
  else if (g_str_equal (status, "failed"))
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
  FerrydQemu *qemu;

  if (!self->incoming_completed || self->finish_task == NULL)
    return;
  if (self->resume_us == 0 && !self->crash_error)
    {
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          ferryd_qmp_send (ferryd_qemu_get_qmp (self->qemu), "cont", NULL);
        }
      return; /* RESUME brings us back here */
    }
  task = g_steal_pointer (&self->finish_task);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);

  /* The guest runs here now: the domain owns its QEMU. */
  qemu = g_object_ref (self->qemu);
  ferryd_qemu_set_arrived (qemu);
  migration_drop_qemu (self);
  ferryd_domain_set_migration (self->domain, NULL, FALSE);
  ferryd_domain_set_qemu (self->domain, qemu);
  g_object_unref (qemu);
  if (self->options->persist && self->persistent_description)
    {
      g_autoptr (GError) error = NULL;
      FerrydDomainConfig *config =
          ferryd_domain_config_parse (self->persistent_description, &error);

      if (config == NULL || !ferryd_daemon_persist_domain (self->daemon, config, &error))
        g_warning ("%s: cannot persist the domain: %s", self->path, error->message);
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
  FerrydQemu *qemu = self->qemu;

  if (qemu)
    {
      g_object_ref (qemu);
      migration_drop_qemu (self);
      ferryd_qemu_terminate (qemu);
      g_object_unref (qemu);
    }
}

static void
remove_created_domain (FerrydMigration *self)
{
  g_autoptr (GError) error = NULL;

  ferryd_domain_set_migration (self->domain, NULL, FALSE);
  if (self->created_domain && !ferryd_daemon_is_persistent (self->daemon, self->domain))
    if (!ferryd_daemon_undefine_domain (self->daemon, self->domain, &error))
      g_debug ("%s: %s", self->path, error->message);
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
peer_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
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
  g_warning ("%s: the source ferryd went away", self->path);
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
                               "Incoming migration is %s", migration_state_names[self->state]);
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
incoming_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydMigration *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_batch_run_finish (result, &error);
  JsonArray *addresses;
  const char *data_host = self->data_host;
  gint64 port = 0;
  g_autofree char *uri = NULL;
  GVariantDict dict;

  if (reply == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot prepare the incoming migration: %s", error->message);
      migration_rollback_incoming (
          self, g_error_new (FERRY_ERROR, FERRY_ERROR_FAILED, "%s", error->message));
      return;
    }
  if (JSON_NODE_HOLDS_OBJECT (reply) &&
      json_object_has_member (json_node_get_object (reply), "socket-address"))
    {
      addresses = json_object_get_array_member (json_node_get_object (reply), "socket-address");
      if (json_array_get_length (addresses) > 0)
        port = g_ascii_strtoll (json_object_get_string_member_with_default (
                                    json_array_get_object_element (addresses, 0), "port", "0"),
                                NULL, 10);
    }
  if (port <= 0)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "QEMU did not report its incoming port");
      migration_rollback_incoming (
          self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_FAILED, "no incoming port"));
      return;
    }
  if (self->options->migrate_uri)
    uri = g_strdup (self->options->migrate_uri);
  else
    uri = g_strdup_printf ("tcp:%s:%" G_GINT64_FORMAT, data_host, port);
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "migrate-uri", "s", uri);
  g_variant_dict_insert_value (&dict, "capabilities",
                               g_variant_new_strv ((const char *const *) self->features, -1));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&dict)),
                         (GDestroyNotify) g_variant_unref);
}

static void
incoming_launched_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydMigration *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  FerrydQmpBatch *batch;
  JsonObject *params = json_object_new ();
  JsonObject *incoming = json_object_new ();
  const char *data_host = self->data_host;
  g_autofree char *listen = NULL;
  gboolean loopback = g_str_equal (data_host, "127.0.0.1") || g_str_equal (data_host, "localhost");

  self->qemu = ferryd_qemu_launch_finish (result, &error);
  if (self->qemu == NULL || self->finished)
    {
      json_object_unref (params);
      json_object_unref (incoming);
      if (self->qemu)
        incoming_cleanup (self);
      g_task_return_error (task, error ? g_steal_pointer (&error)
                                       : g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                              "Migration aborted"));
      if (!self->finished)
        migration_rollback_incoming (
            self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU failed to start"));
      return;
    }
  self->event_id = g_signal_connect (ferryd_qemu_get_qmp (self->qemu), "event",
                                     G_CALLBACK (on_dest_event), self);
  self->exited_id =
      g_signal_connect (self->qemu, "exited", G_CALLBACK (migration_on_qemu_exited), self);
  migration_watch_crash (self);

  batch = ferryd_qmp_batch_new ();
  ferryd_qmp_batch_add (batch, "migrate-set-capabilities",
                        migration_capabilities_args ((const char *const *) self->features, FALSE));
  if (self->options->multifd_channels > 0)
    {
      json_object_set_int_member (params, "multifd-channels", self->options->multifd_channels);
      /* Both ends of a compressed multifd stream must know it. */
      if (g_strcmp0 (self->options->compression, "none") != 0)
        json_object_set_string_member (params, "multifd-compression", self->options->compression);
      ferryd_qmp_batch_add (batch, "migrate-set-parameters", params);
    }
  else
    json_object_unref (params);
  /* The source's migrate-uri is where it will connect: listen exactly
   * there (QEMU's refusal to bind fails Prepare). Otherwise port 0: QEMU
   * picks a free port and reports it in query-migrate. */
  if (self->options->migrate_uri)
    listen = g_strdup (self->options->migrate_uri);
  else
    listen = g_strdup_printf ("tcp:%s:0", loopback ? "127.0.0.1" : "0.0.0.0");
  json_object_set_string_member (incoming, "uri", listen);
  json_object_set_boolean_member (incoming, "exit-on-error", FALSE);
  ferryd_qmp_batch_add (batch, "migrate-incoming", incoming);
  ferryd_qmp_batch_add (batch, "query-migrate", NULL);
  ferryd_qmp_batch_run_async (batch, ferryd_qemu_get_qmp (self->qemu), NULL, incoming_ready_cb,
                              g_steal_pointer (&task));
}

void
ferryd_migration_prepare_incoming_async (FerrydMigration *self,
                                         GDBusConnection *connection,
                                         const char *peer_name,
                                         const FerrydDomainConfig *live,
                                         const char *persistent_description,
                                         gboolean created_domain,
                                         GVariant *info,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  /* Started paused (-S): the guest resumes here only in Finish, once the
   * source has confirmed, or when post-copy has begun (then the source
   * can never resume it). So it never runs on both hosts. */
  FerrydQemuLaunch launch = { ferryd_domain_get_runtime_dir (self->domain),
                              ferryd_domain_get_state_dir (self->domain), TRUE, TRUE };
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
  self->peer_name = g_strdup (peer_name);
  self->peer_connection = g_object_ref (connection);
  self->peer_watch_id = g_bus_watch_name_on_connection (
      connection, peer_name, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, peer_vanished_cb, self, NULL);
  ferryd_domain_set_migration (self->domain, G_OBJECT (self), TRUE);
  migration_set_phase (self, PHASE_PREPARE);
  migration_set_state (self, STATE_SETUP);
  ferryd_qemu_launch_async (live, &launch, NULL, incoming_launched_cb, task);
}

GVariant *
ferryd_migration_prepare_incoming_finish (FerrydMigration *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
