/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-stream.c: a migration as QEMU runs it
 *
 * Translates between the engine's FerrydStream and QMP: migrate,
 * migrate-incoming, migrate_cancel, query-migrate and the rest out;
 * the MIGRATION, MIGRATION_PASS, STOP and RESUME events, QEMU's exit and
 * its crashes back as the stream's signals.
 */
#define G_LOG_DOMAIN "ferry-qmp-stream"

#include "ferry-compat.h"
#include "ferryd-qmp-stream.h"
#include "ferry-error.h"
#include "ferryd-qmp-error.h"
#include "ferryd-qemu.h"
#include "ferryd-qmp-domain.h"
#include "ferryd-qmp-batch.h"
#include "ferryd-qmp-progress.h"
#include "ferryd-qmp-tls.h"
#include "ferryd-qmp-recover.h"
#include "ferryd-qmp-storage.h"

/* QEMU's rate limit when the operator sets none: effectively unlimited. */
#define UNLIMITED_BANDWIDTH (G_GUINT64_CONSTANT (1) << 40)
/* When uncapped, QEMU estimates the link from raw socket writes and
 * switches over far too early (research pitfall 1); a realistic figure
 * for the switch-over keeps downtime near the limit. */
#define DEFAULT_SWITCHOVER_BANDWIDTH (G_GUINT64_CONSTANT (300) << 20)

struct _FerrydQmpStream
{
  GObject parent_instance;

  FerrydDomain *domain;
  gboolean incoming;
  FerrydQemu *qemu;
  gboolean terminated;           /* no QEMU may run for this stream any more */
  char *data_host;               /* destination: where the source connects */
  char *listen_uri;              /* destination: the operator's address */
  FerrydQmpStorage *storage;     /* the disks copied, when they are */
  GTask *start_task;             /* source: while disks copy before the memory */
  FerrydQmpBatch *pending_batch; /* ... and what starts the memory after them */
  JsonObject *pending_params;    /* ... its migrate-set-parameters, still retunable */
  char *storage_uri;             /* destination: where the disks are served */
  gboolean migrate_sent;         /* source: QEMU was told to migrate */
};

static void switch_over_disks (FerrydQmpStream *self);

static void ferryd_qmp_stream_iface_init (FerrydStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (FerrydQmpStream,
                         ferryd_qmp_stream,
                         G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (FERRYD_TYPE_STREAM, ferryd_qmp_stream_iface_init))

/* --- QEMU's events → the stream's signals --- */

static void
on_event (FerrydQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data)
{
  /* The engine may drop the stream from its handlers. */
  g_autoptr (FerrydStream) stream = g_object_ref (user_data);

  if (g_str_equal (name, "STOP"))
    ferryd_stream_emit_stopped (stream, ts);
  else if (g_str_equal (name, "RESUME"))
    ferryd_stream_emit_resumed (stream, ts);
  else if (g_str_equal (name, "MIGRATION_PASS"))
    ferryd_stream_emit_pass (stream,
                             (guint) json_object_get_int_member_with_default (data, "pass", 0));
  else if (g_str_equal (name, "MIGRATION"))
    {
      const char *status = json_object_get_string_member_with_default (data, "status", "");

      FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
      FerrydStreamStatus mapped = ferryd_qmp_stream_status (status);

      g_debug ("%s QEMU migration %s", self->incoming ? "destination" : "source", status);
      /* The guest is stopped, its memory almost all sent: the disks
       * switch over now, then the memory does. */
      if (g_str_equal (status, "pre-switchover") && !self->incoming)
        switch_over_disks (self);
      if ((mapped == FERRYD_STREAM_FAILED || mapped == FERRYD_STREAM_CANCELLED) && self->storage &&
          !self->incoming)
        ferryd_qmp_storage_abort (self->storage);
      ferryd_stream_emit_status (stream, mapped, ts);
    }
}

static void
on_exited (FerrydQemu *qemu, gpointer user_data)
{
  g_autoptr (FerrydStream) stream = g_object_ref (user_data);

  ferryd_stream_emit_exited (stream);
}

static void
on_run_state (GObject *qemu, GParamSpec *pspec, gpointer user_data)
{
  g_autoptr (FerrydStream) stream = g_object_ref (user_data);

  if (ferryd_qemu_is_crashed (FERRYD_QEMU (qemu)))
    ferryd_stream_emit_crashed (stream, ferryd_qemu_get_state_reason (FERRYD_QEMU (qemu)));
}

static void
attach_qemu (FerrydQmpStream *self, FerrydQemu *qemu)
{
  self->qemu = qemu;
  g_signal_connect_object (ferryd_qemu_get_qmp (qemu), "event", G_CALLBACK (on_event), self, 0);
  g_signal_connect_object (qemu, "exited", G_CALLBACK (on_exited), self, 0);
  g_signal_connect_object (qemu, "notify::run-state", G_CALLBACK (on_run_state), self, 0);
}

static void
detach_qemu (FerrydQmpStream *self)
{
  if (self->qemu == NULL)
    return;
  g_signal_handlers_disconnect_by_data (ferryd_qemu_get_qmp (self->qemu), self);
  g_signal_handlers_disconnect_by_data (self->qemu, self);
  g_clear_object (&self->qemu);
}

static FerrydQmp *
get_qmp (FerrydQmpStream *self)
{
  return self->qemu ? ferryd_qemu_get_qmp (self->qemu) : NULL;
}

static void
send_command (FerrydQmpStream *self, const char *command)
{
  if (self->qemu)
    ferryd_qmp_send (ferryd_qemu_get_qmp (self->qemu), command, NULL);
}

/* QMP's migrate-set-capabilities: every capability Ferry knows, on when
 * it is a negotiated feature. */
static JsonObject *
capabilities_args (const char *const *enabled, gboolean source)
{
  static const char *const known[] = { "events",           "return-path", "postcopy-ram",
                                       "postcopy-preempt", "multifd",     "auto-converge",
                                       "switchover-ack",   NULL };
  JsonObject *args = json_object_new ();
  JsonArray *list = json_array_new ();

  for (gsize i = 0; known[i]; i++)
    {
      JsonObject *entry;
      if (!source && g_str_equal (known[i], "auto-converge"))
        continue;
      entry = json_object_new ();
      json_object_set_string_member (entry, "capability", known[i]);
      json_object_set_boolean_member (entry, "state",
                                      enabled && g_strv_contains (enabled, known[i]));
      json_array_add_object_element (list, entry);
    }
  /* Disks are copied: the memory stream waits, guest stopped, until the
   * mirrors have ended in sync (research §3.5). */
  if (source)
    {
      JsonObject *entry = json_object_new ();
      json_object_set_string_member (entry, "capability", "pause-before-switchover");
      json_object_set_boolean_member (entry, "state",
                                      enabled && g_strv_contains (enabled, "storage-mirror"));
      json_array_add_object_element (list, entry);
    }
  json_object_set_array_member (args, "capabilities", list);
  return args;
}

/* --- both sides --- */

static gboolean
stream_is_alive (FerrydStream *stream)
{
  FerrydQmp *qmp = get_qmp (FERRYD_QMP_STREAM (stream));

  return qmp && !ferryd_qmp_is_closed (qmp);
}

static void
stream_terminate (FerrydStream *stream)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (FerrydQemu) qemu = self->qemu ? g_object_ref (self->qemu) : NULL;

  self->terminated = TRUE;
  detach_qemu (self);
  if (qemu)
    ferryd_qemu_terminate (qemu);
  /* A destination that did not get the guest keeps none of its disks. */
  if (self->incoming && self->storage)
    ferryd_qmp_storage_remove_images (self->storage);
  /* After an outgoing migration the guest runs elsewhere. */
  if (!self->incoming)
    ferryd_qmp_domain_set_qemu (FERRYD_QMP_DOMAIN (self->domain), NULL);
}

typedef struct
{
  FerrydProgress progress;
  char *error_message;
} QueryData;

static void
query_data_free (QueryData *data)
{
  g_free (data->error_message);
  g_free (data);
}

static void
disks_queried_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpStream *self = g_task_get_source_object (task);
  QueryData *data = g_task_get_task_data (task);

  ferryd_qmp_storage_update_finish (FERRYD_QMP_STORAGE (source), result);
  ferryd_qmp_storage_fill_progress (self->storage, &data->progress);
  g_task_return_pointer (task, g_steal_pointer (&data->error_message), g_free);
}

/* The disks' figures join the memory's. */
static void
query_disks (GTask *task)
{
  FerrydQmpStream *self = g_task_get_source_object (task);

  if (self->storage == NULL || self->incoming)
    {
      g_task_return_pointer (
          task, g_strdup (((QueryData *) g_task_get_task_data (task))->error_message), g_free);
      g_object_unref (task);
      return;
    }
  ferryd_qmp_storage_update_async (self->storage, disks_queried_cb, task);
}

static void
query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);
  QueryData *data = g_new0 (QueryData, 1);

  if (!ferryd_qmp_progress_from_reply (reply, &data->progress))
    {
      query_data_free (data);
      if (error)
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                                 "QEMU answered query-migrate with no object");
      return;
    }
  data->error_message = g_strdup (json_object_get_string_member_with_default (
      json_node_get_object (reply), "error-desc", NULL));
  g_task_set_task_data (task, data, (GDestroyNotify) query_data_free);
  query_disks (g_steal_pointer (&task));
}

static void
stream_query_async (FerrydStream *stream, GAsyncReadyCallback callback, gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, stream_query_async);
  if (get_qmp (self) == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU is gone");
      return;
    }
  ferryd_qmp_execute_async (get_qmp (self), "query-migrate", NULL, NULL, query_cb,
                            g_steal_pointer (&task));
}

static gboolean
stream_query_finish (FerrydStream *stream,
                     GAsyncResult *result,
                     FerrydProgress *progress,
                     char **error_message,
                     GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *message = ferryd_qmp_propagate_pointer (G_TASK (result), &local);
  QueryData *data = g_task_get_task_data (G_TASK (result));

  if (local)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (progress)
    *progress = data->progress;
  if (error_message)
    *error_message = g_steal_pointer (&message);
  return TRUE;
}

/* --- source --- */

static const FerrydDomainConfig *
live_config (FerrydQmpStream *self)
{
  return self->qemu && ferryd_qemu_get_config (self->qemu)
             ? ferryd_qemu_get_config (self->qemu)
             : ferryd_domain_get_config (self->domain);
}

/* The live description says how large each disk is, so a destination
 * that copies it can create its image. */
static void
nodes_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydDomainConfig *live = g_task_get_task_data (task);
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, NULL);
  JsonArray *nodes = reply && JSON_NODE_HOLDS_ARRAY (reply) ? json_node_get_array (reply) : NULL;

  for (guint i = 0; nodes && i < json_array_get_length (nodes); i++)
    {
      JsonObject *node = json_array_get_object_element (nodes, i);
      const char *name = json_object_get_string_member_with_default (node, "node-name", "");
      JsonObject *image = json_object_has_member (node, "image")
                              ? json_object_get_object_member (node, "image")
                              : NULL;

      for (guint j = 0; image && j < live->disks->len; j++)
        {
          FerrydDiskConfig *disk = g_ptr_array_index (live->disks, j);
          g_autofree char *expected = g_strconcat ("disk-", disk->id, NULL);

          if (!g_str_equal (name, expected))
            continue;
          disk->size = (guint64) json_object_get_int_member_with_default (image, "virtual-size", 0);
          /* The name as the header has it (relative to the image's own
           * folder, or absolute): a destination finds its own copy of
           * the backing file the way QEMU will. */
          g_set_str (&disk->backing,
                     json_object_get_string_member_with_default (image, "backing-filename", NULL));
          g_set_str (
              &disk->backing_format,
              json_object_has_member (image, "backing-image")
                  ? json_object_get_string_member_with_default (
                        json_object_get_object_member (image, "backing-image"), "format", NULL)
                  : json_object_get_string_member_with_default (image, "backing-filename-format",
                                                                NULL));
        }
    }
  g_task_return_pointer (task, ferryd_domain_config_copy (live),
                         (GDestroyNotify) ferryd_domain_config_free);
}

static void
machines_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpStream *self = g_task_get_source_object (task);
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, NULL);
  const char *configured = ferryd_domain_get_config (self->domain)->machine;
  FerrydDomainConfig *live = ferryd_domain_config_copy (live_config (self));

  /* Both sides must run the same versioned machine type; an alias such
   * as "q35" is resolved on the source (research pitfall 6). */
  if (reply && JSON_NODE_HOLDS_ARRAY (reply))
    {
      JsonArray *machines = json_node_get_array (reply);
      for (guint i = 0; i < json_array_get_length (machines); i++)
        {
          JsonObject *m = json_array_get_object_element (machines, i);
          if (g_strcmp0 (json_object_get_string_member_with_default (m, "alias", NULL),
                         configured) == 0)
            g_set_str (&live->machine, json_object_get_string_member (m, "name"));
        }
    }
  g_task_set_task_data (task, live, (GDestroyNotify) ferryd_domain_config_free);
  if (live->disks->len == 0 || get_qmp (self) == NULL)
    {
      g_task_return_pointer (task, ferryd_domain_config_copy (live),
                             (GDestroyNotify) ferryd_domain_config_free);
      return;
    }
  ferryd_qmp_execute_async (get_qmp (self), "query-named-block-nodes", NULL, NULL, nodes_cb,
                            g_steal_pointer (&task));
}

static void
stream_begin_async (FerrydStream *stream, GAsyncReadyCallback callback, gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, stream_begin_async);
  if (get_qmp (self) == NULL)
    {
      g_task_return_pointer (task, ferryd_domain_config_copy (live_config (self)),
                             (GDestroyNotify) ferryd_domain_config_free);
      return;
    }
  ferryd_qmp_execute_async (get_qmp (self), "query-machines", NULL, NULL, machines_cb,
                            g_steal_pointer (&task));
}

static FerrydDomainConfig *
stream_begin_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  return ferryd_qmp_propagate_pointer (G_TASK (result), error);
}

static void
migrate_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_batch_run_finish (result, &error);

  if (reply == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/* What starts the memory stream: capabilities, parameters, migrate.
 * @tls_loaded: the disks' copy already loaded the TLS credentials. */
static FerrydQmpBatch *
migrate_batch (FerrydQmpStream *self, const FerrydStreamTuning *t, gboolean tls_loaded)
{
  FerrydQmpBatch *batch;
  JsonObject *params;
  JsonObject *migrate;
  guint64 switchover = t->switchover_bandwidth;

  if (switchover == 0 && t->max_bandwidth == 0)
    switchover = DEFAULT_SWITCHOVER_BANDWIDTH;
  params = json_object_new ();
  json_object_set_int_member (params, "max-bandwidth",
                              (gint64) (t->max_bandwidth ? t->max_bandwidth : UNLIMITED_BANDWIDTH));
  json_object_set_int_member (params, "avail-switchover-bandwidth", (gint64) switchover);
  json_object_set_int_member (params, "downtime-limit", (gint64) t->downtime_limit);
  json_object_set_int_member (params, "max-postcopy-bandwidth", (gint64) t->max_postcopy_bandwidth);
  if (t->multifd_channels > 0)
    json_object_set_int_member (params, "multifd-channels", t->multifd_channels);
  if (g_strcmp0 (t->compression, "none") != 0 && t->multifd_channels > 0)
    json_object_set_string_member (params, "multifd-compression", t->compression);

  batch = ferryd_qmp_batch_new ();
  ferryd_qmp_batch_add (batch, "migrate-set-capabilities", capabilities_args (t->features, TRUE));
  /* Not loaded again under the NBD client that uses them. */
  if (tls_loaded)
    ferryd_qmp_tls_use (params, TRUE);
  else
    ferryd_qmp_tls_setup (get_qmp (self), batch, params, t->tls_dir, FALSE);
  /* Kept: SetMaxBandwidth or SetMaxDowntime while the disks copy must
   * not be undone when the memory starts after them. */
  g_clear_pointer (&self->pending_params, json_object_unref);
  self->pending_params = json_object_ref (params);
  ferryd_qmp_batch_add (batch, "migrate-set-parameters", params);
  migrate = json_object_new ();
  json_object_set_string_member (migrate, "uri", t->uri);
  ferryd_qmp_batch_add (batch, "migrate", migrate);
  return batch;
}

static void
disks_in_sync_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FerrydQmpStream *self = user_data;
  g_autoptr (GTask) task = g_steal_pointer (&self->start_task);
  g_autoptr (GError) error = NULL;
  FerrydQmpBatch *batch;

  if (!ferryd_qmp_storage_mirror_finish (FERRYD_QMP_STORAGE (source), result, &error))
    {
      g_clear_pointer (&self->pending_batch, ferryd_qmp_batch_free);
      g_clear_pointer (&self->pending_params, json_object_unref);
      /* The others stop too, and what was made on the source goes. */
      ferryd_qmp_storage_abort (FERRYD_QMP_STORAGE (source));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (get_qmp (self) == NULL)
    {
      g_clear_pointer (&self->pending_batch, ferryd_qmp_batch_free);
      g_clear_pointer (&self->pending_params, json_object_unref);
      ferryd_qmp_storage_abort (FERRYD_QMP_STORAGE (source));
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU is gone");
      return;
    }
  g_debug ("every disk in sync: the memory follows");
  self->migrate_sent = TRUE;
  g_clear_pointer (&self->pending_params, json_object_unref);
  batch = g_steal_pointer (&self->pending_batch);
  ferryd_qmp_batch_run_async (batch, get_qmp (self), NULL, migrate_sent_cb, g_object_ref (task));
}

static void
stream_start_async (FerrydStream *stream,
                    const FerrydStreamTuning *t,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, stream_start_async);
  if (get_qmp (self) == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU is gone");
      return;
    }
  if (t->storage_uri == NULL)
    {
      self->migrate_sent = TRUE;
      ferryd_qmp_batch_run_async (migrate_batch (self, t, FALSE), get_qmp (self), NULL,
                                  migrate_sent_cb, g_steal_pointer (&task));
      g_clear_pointer (&self->pending_params, json_object_unref);
      return;
    }
  /* Disks first: the memory follows once every mirror is in sync, so
   * the memory's passes do not compete with the bulk of the disk copy. */
  g_clear_object (&self->storage);
  self->storage = ferryd_qmp_storage_new (live_config (self),
                                          ferryd_domain_get_state_dir (self->domain), t->disks);
  self->start_task = g_steal_pointer (&task);
  /* The disks go over TLS when the memory does: never a clear NBD link
   * beside an encrypted memory stream. (The mirror's task returns from
   * an idle at the earliest, after the batch below is built.) */
  ferryd_qmp_storage_mirror_async (self->storage, get_qmp (self), t->storage_uri, t->incremental,
                                   t->synchronous_writes, t->max_bandwidth, t->tls_dir,
                                   disks_in_sync_cb, self);
  self->pending_batch = migrate_batch (self, t, ferryd_qmp_storage_has_tls (self->storage));
}

static gboolean
stream_start_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  return ferryd_qmp_propagate_boolean (G_TASK (result), error);
}

static void
stream_cancel (FerrydStream *stream)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);

  /* Mirrors stop at once: the source holds the whole guest. */
  if (self->storage)
    ferryd_qmp_storage_abort (self->storage);
  if (self->migrate_sent)
    send_command (self, "migrate_cancel");
}

static void
disks_switched_over_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydQmpStream) self = user_data;
  g_autoptr (GError) error = NULL;
  JsonObject *args;

  if (get_qmp (self) == NULL)
    return;
  if (!ferryd_qmp_storage_complete_finish (FERRYD_QMP_STORAGE (source), result, &error))
    {
      g_warning ("The disks could not switch over: %s", error->message);
      send_command (self, "migrate_cancel");
      return;
    }
  args = json_object_new ();
  json_object_set_string_member (args, "state", "pre-switchover");
  ferryd_qmp_send (get_qmp (self), "migrate-continue", args);
}

static void
switch_over_disks (FerrydQmpStream *self)
{
  if (self->storage == NULL)
    {
      /* Not ours (pause-before-switchover is set only with disks). */
      JsonObject *args = json_object_new ();
      json_object_set_string_member (args, "state", "pre-switchover");
      ferryd_qmp_send (get_qmp (self), "migrate-continue", args);
      return;
    }
  ferryd_qmp_storage_complete_async (self->storage, disks_switched_over_cb, g_object_ref (self));
}

static void
stream_start_postcopy (FerrydStream *stream)
{
  send_command (FERRYD_QMP_STREAM (stream), "migrate-start-postcopy");
}

static void
stream_stop_guest (FerrydStream *stream)
{
  send_command (FERRYD_QMP_STREAM (stream), "stop");
}

static gboolean
stream_can_resume (FerrydStream *stream)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);

  return self->qemu && !ferryd_qemu_has_exited (self->qemu) && !ferryd_qemu_is_crashed (self->qemu);
}

static void
resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_qemu_resume_finish (FERRYD_QEMU (source), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
stream_resume_async (FerrydStream *stream, GAsyncReadyCallback callback, gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, stream_resume_async);
  if (self->qemu == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU is gone");
      return;
    }
  ferryd_qemu_resume_async (self->qemu, resumed_cb, g_steal_pointer (&task));
}

static gboolean
stream_resume_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  return ferryd_qmp_propagate_boolean (G_TASK (result), error);
}

static void
control_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU refused %s: %s",
                             (const char *) g_task_get_task_data (task), error->message);
  else
    g_task_return_boolean (task, TRUE);
}

static void
stream_control_async (FerrydStream *stream,
                      FerrydStreamControl control,
                      guint64 value,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  const char *command = "migrate-set-parameters";
  JsonObject *args = NULL;

  g_task_set_source_tag (task, stream_control_async);
  switch (control)
    {
    case FERRYD_STREAM_CONTROL_DOWNTIME:
      args = json_object_new ();
      json_object_set_int_member (args, "downtime-limit", (gint64) value);
      if (self->pending_params)
        json_object_set_int_member (self->pending_params, "downtime-limit", (gint64) value);
      break;
    case FERRYD_STREAM_CONTROL_BANDWIDTH:
      /* The link is shared: disks still copying get the new cap too. */
      if (self->storage && !self->incoming)
        ferryd_qmp_storage_set_speed (self->storage, value);
      args = json_object_new ();
      json_object_set_int_member (args, "max-bandwidth",
                                  (gint64) (value ? value : UNLIMITED_BANDWIDTH));
      /* The memory, not started yet, starts with it too. */
      if (self->pending_params)
        json_object_set_int_member (self->pending_params, "max-bandwidth",
                                    (gint64) (value ? value : UNLIMITED_BANDWIDTH));
      break;
    case FERRYD_STREAM_CONTROL_PAUSE:
    default:
      command = "migrate-pause";
      break;
    }
  g_task_set_task_data (task, g_strdup (command), g_free);
  if (get_qmp (self) == NULL)
    {
      if (args)
        json_object_unref (args);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU is gone");
      return;
    }
  ferryd_qmp_execute_async (get_qmp (self), command, args, cancellable, control_done_cb,
                            g_steal_pointer (&task));
}

static gboolean
stream_control_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  return ferryd_qmp_propagate_boolean (G_TASK (result), error);
}

/* --- post-copy recovery (ferryd-qmp-recover.c) --- */

static void
recover_resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!ferryd_qmp_recover_resume_finish (FERRYD_QMP (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
stream_recover_async (FerrydStream *stream,
                      const char *uri,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, stream_recover_async);
  if (get_qmp (self) == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "The source QEMU is gone");
      return;
    }
  ferryd_qmp_recover_resume_async (get_qmp (self), uri, cancellable, recover_resumed_cb,
                                   g_steal_pointer (&task));
}

static gboolean
stream_recover_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
recover_listening_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  char *uri = ferryd_qmp_recover_listen_finish (FERRYD_QMP (source), result, &error);

  if (uri == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, uri, g_free);
}

static void
stream_listen_recover_async (FerrydStream *stream,
                             const char *uri,
                             const char *data_host,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, stream_listen_recover_async);
  if (get_qmp (self) == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "The destination QEMU is gone");
      return;
    }
  ferryd_qmp_recover_listen_async (get_qmp (self), uri, data_host ? data_host : self->data_host,
                                   cancellable, recover_listening_cb, g_steal_pointer (&task));
}

static char *
stream_listen_recover_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- destination --- */

static void
incoming_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpStream *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_batch_run_finish (result, &error);
  JsonArray *addresses;
  gint64 port = 0;

  if (reply == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot prepare the incoming migration: %s", error->message);
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
      return;
    }
  if (self->listen_uri)
    g_task_return_pointer (task, g_strdup (self->listen_uri), g_free);
  else
    g_task_return_pointer (
        task, g_strdup_printf ("tcp:%s:%" G_GINT64_FORMAT, self->data_host, port), g_free);
}

typedef struct
{
  char **features;
  guint multifd_channels;
  char *compression;
  char *tls_dir;
  FerrydDomainConfig *live;
  FerrydQemuLaunch launch;
} PrepareData;

static void
prepare_data_free (PrepareData *data)
{
  g_strfreev (data->features);
  g_free (data->compression);
  g_free (data->tls_dir);
  g_clear_pointer (&data->live, ferryd_domain_config_free);
  g_free (data);
}

static void start_incoming (GTask *task);
static void disks_exported_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
incoming_launched_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpStream *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  FerrydQemu *qemu = ferryd_qemu_launch_finish (result, &error);

  if (qemu == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->terminated)
    {
      ferryd_qemu_terminate (qemu);
      g_object_unref (qemu);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_CANCELLED, "Migration aborted");
      return;
    }
  attach_qemu (self, qemu);
  if (self->storage)
    {
      g_auto (GStrv) images = ferryd_qmp_storage_list_images (self->storage);
      PrepareData *data = g_task_get_task_data (task);

      ferryd_qemu_note_incoming_images (qemu, (const char *const *) images);
      /* Disks are served before the memory stream is awaited (§3.5),
       * over TLS when the memory stream is. */
      ferryd_qmp_storage_export_async (self->storage, get_qmp (self), self->data_host,
                                       data->tls_dir, NULL, disks_exported_cb,
                                       g_steal_pointer (&task));
      return;
    }
  start_incoming (g_steal_pointer (&task));
}

static void
disks_exported_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpStream *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;

  g_free (self->storage_uri);
  self->storage_uri =
      ferryd_qmp_storage_export_finish (FERRYD_QMP_STORAGE (source), result, &error);
  if (self->storage_uri == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  start_incoming (g_steal_pointer (&task));
}

/* Capabilities, parameters, then listen for the memory stream. */
static void
start_incoming (GTask *task)
{
  FerrydQmpStream *self = g_task_get_source_object (task);
  PrepareData *data = g_task_get_task_data (task);
  FerrydQmpBatch *batch;
  JsonObject *incoming;
  g_autofree char *listen = NULL;
  gboolean loopback =
      g_str_equal (self->data_host, "127.0.0.1") || g_str_equal (self->data_host, "localhost");

  if (get_qmp (self) == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU is gone");
      g_object_unref (task);
      return;
    }
  batch = ferryd_qmp_batch_new ();
  ferryd_qmp_batch_add (batch, "migrate-set-capabilities",
                        capabilities_args ((const char *const *) data->features, FALSE));
  {
    JsonObject *params = json_object_new ();

    if (data->multifd_channels > 0)
      {
        json_object_set_int_member (params, "multifd-channels", data->multifd_channels);
        /* Both ends of a compressed multifd stream must know it. */
        if (g_strcmp0 (data->compression, "none") != 0)
          json_object_set_string_member (params, "multifd-compression", data->compression);
      }
    /* Not loaded again under the NBD server that uses them. */
    if (self->storage && ferryd_qmp_storage_has_tls (self->storage))
      ferryd_qmp_tls_use (params, TRUE);
    else
      ferryd_qmp_tls_setup (get_qmp (self), batch, params, data->tls_dir, TRUE);
    ferryd_qmp_batch_add (batch, "migrate-set-parameters", params);
  }
  /* The source's migrate-uri is where it will connect: listen exactly
   * there (QEMU's refusal to bind fails Prepare). Otherwise port 0: QEMU
   * picks a free port and reports it in query-migrate. */
  if (self->listen_uri)
    listen = g_strdup (self->listen_uri);
  else
    listen = g_strdup_printf ("tcp:%s:0", loopback ? "127.0.0.1" : "0.0.0.0");
  incoming = json_object_new ();
  json_object_set_string_member (incoming, "uri", listen);
  json_object_set_boolean_member (incoming, "exit-on-error", FALSE);
  ferryd_qmp_batch_add (batch, "migrate-incoming", incoming);
  ferryd_qmp_batch_add (batch, "query-migrate", NULL);
  ferryd_qmp_batch_run_async (batch, get_qmp (self), NULL, incoming_ready_cb, task);
}

static void
images_created_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  FerrydQmpStream *self = g_task_get_source_object (task);
  PrepareData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!ferryd_qmp_storage_create_images_finish (FERRYD_QMP_STORAGE (source), result, &error))
    {
      ferryd_qmp_storage_remove_images (self->storage);
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  if (self->terminated)
    {
      ferryd_qmp_storage_remove_images (self->storage);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_CANCELLED, "Migration aborted");
      g_object_unref (task);
      return;
    }
  ferryd_qemu_launch_async (data->live, &data->launch, NULL, incoming_launched_cb, task);
}

static void
stream_prepare_async (FerrydStream *stream,
                      const FerrydStreamIncoming *incoming,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  GTask *task = g_task_new (self, NULL, callback, user_data);
  PrepareData *data = g_new0 (PrepareData, 1);
  /* Started paused (-S): the guest resumes here only in Finish, once the
   * source has confirmed, or when post-copy has begun (then the source
   * can never resume it). So it never runs on both hosts. */
  FerrydQemuLaunch launch = { ferryd_domain_get_runtime_dir (self->domain),
                              ferryd_domain_get_state_dir (self->domain), TRUE, TRUE };

  g_task_set_source_tag (task, stream_prepare_async);
  data->features = g_strdupv ((char **) incoming->features);
  data->multifd_channels = incoming->multifd_channels;
  data->compression = g_strdup (incoming->compression);
  data->tls_dir = g_strdup (incoming->tls_dir);
  g_task_set_task_data (task, data, (GDestroyNotify) prepare_data_free);
  g_set_str (&self->data_host, incoming->data_host);
  g_set_str (&self->listen_uri, incoming->listen_uri);
  if (!incoming->copy_storage)
    {
      ferryd_qemu_launch_async (incoming->live, &launch, NULL, incoming_launched_cb, task);
      return;
    }
  /* The images exist before QEMU opens them. */
  data->live = ferryd_domain_config_copy (incoming->live);
  data->launch = launch;
  self->storage = ferryd_qmp_storage_new (incoming->live, launch.state_dir, incoming->disks);
  ferryd_qmp_storage_create_images_async (self->storage, incoming->incremental, NULL,
                                          images_created_cb, task);
}

static char *
stream_prepare_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  return ferryd_qmp_propagate_pointer (G_TASK (result), error);
}

static char *
stream_get_storage_uri (FerrydStream *stream)
{
  return g_strdup (FERRYD_QMP_STREAM (stream)->storage_uri);
}

static void
stream_resume_incoming (FerrydStream *stream)
{
  send_command (FERRYD_QMP_STREAM (stream), "cont");
}

static void
stream_adopt (FerrydStream *stream, FerrydDomain *domain)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (stream);
  g_autoptr (FerrydQemu) qemu = self->qemu ? g_object_ref (self->qemu) : NULL;

  /* The guest runs here now: the domain owns its QEMU, and its disks,
   * which are no longer served. */
  if (self->storage)
    ferryd_qmp_storage_stop_export (self->storage);
  g_clear_object (&self->storage);
  detach_qemu (self);
  if (qemu == NULL)
    return;
  ferryd_qemu_set_arrived (qemu);
  ferryd_qmp_domain_set_qemu (FERRYD_QMP_DOMAIN (domain), qemu);
}

/* --- object --- */

FerrydStream *
ferryd_qmp_stream_new_outgoing (FerrydDomain *domain)
{
  FerrydQmpStream *self = g_object_new (FERRYD_TYPE_QMP_STREAM, NULL);

  self->domain = g_object_ref (domain);
  if (ferryd_qmp_domain_get_qemu (FERRYD_QMP_DOMAIN (domain)))
    attach_qemu (self, g_object_ref (ferryd_qmp_domain_get_qemu (FERRYD_QMP_DOMAIN (domain))));
  return FERRYD_STREAM (self);
}

FerrydStream *
ferryd_qmp_stream_new_incoming (FerrydDomain *domain)
{
  FerrydQmpStream *self = g_object_new (FERRYD_TYPE_QMP_STREAM, NULL);

  self->domain = g_object_ref (domain);
  self->incoming = TRUE;
  return FERRYD_STREAM (self);
}

static void
ferryd_qmp_stream_dispose (GObject *object)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (object);

  detach_qemu (self);
  G_OBJECT_CLASS (ferryd_qmp_stream_parent_class)->dispose (object);
}

static void
ferryd_qmp_stream_finalize (GObject *object)
{
  FerrydQmpStream *self = FERRYD_QMP_STREAM (object);

  g_clear_object (&self->domain);
  g_free (self->data_host);
  g_free (self->listen_uri);
  g_clear_pointer (&self->pending_batch, ferryd_qmp_batch_free);
  g_clear_object (&self->storage);
  g_free (self->storage_uri);
  G_OBJECT_CLASS (ferryd_qmp_stream_parent_class)->finalize (object);
}

static void
ferryd_qmp_stream_class_init (FerrydQmpStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_qmp_stream_dispose;
  object_class->finalize = ferryd_qmp_stream_finalize;
}

static void
ferryd_qmp_stream_init (FerrydQmpStream *self)
{
}

static void
ferryd_qmp_stream_iface_init (FerrydStreamInterface *iface)
{
  iface->is_alive = stream_is_alive;
  iface->terminate = stream_terminate;
  iface->query_async = stream_query_async;
  iface->query_finish = stream_query_finish;
  iface->begin_async = stream_begin_async;
  iface->begin_finish = stream_begin_finish;
  iface->start_async = stream_start_async;
  iface->start_finish = stream_start_finish;
  iface->cancel = stream_cancel;
  iface->start_postcopy = stream_start_postcopy;
  iface->stop_guest = stream_stop_guest;
  iface->can_resume = stream_can_resume;
  iface->resume_async = stream_resume_async;
  iface->resume_finish = stream_resume_finish;
  iface->control_async = stream_control_async;
  iface->control_finish = stream_control_finish;
  iface->recover_async = stream_recover_async;
  iface->recover_finish = stream_recover_finish;
  iface->prepare_async = stream_prepare_async;
  iface->prepare_finish = stream_prepare_finish;
  iface->get_storage_uri = stream_get_storage_uri;
  iface->resume_incoming = stream_resume_incoming;
  iface->adopt = stream_adopt;
  iface->listen_recover_async = stream_listen_recover_async;
  iface->listen_recover_finish = stream_listen_recover_finish;
}
