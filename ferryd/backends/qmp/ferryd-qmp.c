/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp.c: asynchronous QMP client on GIO sockets with json-glib
 *
 * Signals:
 *   "event" (const char *name, JsonObject *data, gint64 timestamp_us)
 *   "closed" ()
 */
#define G_LOG_DOMAIN "ferry-qmp"

#include "ferryd-qmp.h"

#include <gio/gunixsocketaddress.h>

G_DEFINE_QUARK (ferry - qmp - error - quark, ferryd_qmp_error)

struct _FerrydQmp
{
  GObject parent_instance;

  GSocketConnection *connection;
  GDataInputStream *input;
  GOutputStream *output;
  GCancellable *cancellable; /* cancelled on close */

  GQueue write_queue; /* of GBytes */
  gboolean writing;

  guint64 next_id;
  GHashTable *pending; /* id string -> GTask */

  GTask *handshake; /* connect task until qmp_capabilities answered */
  gboolean closed;
};

G_DEFINE_TYPE (FerrydQmp, ferryd_qmp, G_TYPE_OBJECT)

enum
{
  SIGNAL_EVENT,
  SIGNAL_CLOSED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void read_next_line (FerrydQmp *self);
static void flush_writes (FerrydQmp *self);

static void
fail_all_pending (FerrydQmp *self, const GError *error)
{
  g_autoptr (GList) tasks = g_hash_table_get_values (self->pending);

  /* Keep the tasks alive past the table, which owns them and their keys. */
  for (GList *l = tasks; l; l = l->next)
    g_object_ref (l->data);
  g_hash_table_remove_all (self->pending);
  for (GList *l = tasks; l; l = l->next)
    {
      g_autoptr (GTask) task = l->data;
      g_task_return_error (task, g_error_copy (error));
    }
  if (self->handshake)
    {
      g_autoptr (GTask) task = g_steal_pointer (&self->handshake);
      g_task_return_error (task, g_error_copy (error));
    }
}

static void
close_with_error (FerrydQmp *self, const GError *error)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  g_debug ("QMP connection closed: %s", error->message);

  g_object_ref (self);
  g_cancellable_cancel (self->cancellable);
  fail_all_pending (self, error);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  if (self->connection)
    g_io_stream_close_async (G_IO_STREAM (self->connection), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
  g_object_unref (self);
}

void
ferryd_qmp_close (FerrydQmp *self)
{
  g_autoptr (GError) error =
      g_error_new_literal (FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_CLOSED, "QMP connection closed");

  g_return_if_fail (FERRYD_IS_QMP (self));
  close_with_error (self, error);
}

GPid
ferryd_qmp_get_peer_pid (FerrydQmp *self)
{
  g_autoptr (GCredentials) credentials = NULL;

  if (self->connection == NULL)
    return 0;
  credentials = g_socket_get_credentials (g_socket_connection_get_socket (self->connection), NULL);
  return credentials ? (GPid) g_credentials_get_unix_pid (credentials, NULL) : 0;
}

gboolean
ferryd_qmp_is_closed (FerrydQmp *self)
{
  return self->closed;
}

static void
write_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydQmp) self = user_data;
  g_autoptr (GError) error = NULL;

  self->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      g_autoptr (GError) closed = g_error_new (FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_CLOSED,
                                               "QMP write failed: %s", error->message);
      close_with_error (self, closed);
      return;
    }
  g_bytes_unref (g_queue_pop_head (&self->write_queue));
  flush_writes (self);
}

static void
flush_writes (FerrydQmp *self)
{
  GBytes *bytes;
  gsize size;
  gconstpointer data;

  if (self->writing || self->closed || g_queue_is_empty (&self->write_queue))
    return;
  bytes = g_queue_peek_head (&self->write_queue);
  data = g_bytes_get_data (bytes, &size);
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, data, size, G_PRIORITY_DEFAULT, self->cancellable,
                                   write_cb, g_object_ref (self));
}

static void
queue_message (FerrydQmp *self, const char *command, JsonObject *arguments, const char *id)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "execute");
  json_builder_add_string_value (builder, command);
  if (arguments)
    {
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (node, arguments);
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, node);
    }
  if (id)
    {
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  g_debug ("-> %s", text);
  g_queue_push_tail (&self->write_queue,
                     g_bytes_new_take (g_strconcat (text, "\n", NULL), strlen (text) + 1));
  flush_writes (self);
}

static GError *
error_from_reply (JsonObject *reply)
{
  JsonObject *err = json_object_get_object_member (reply, "error");
  const char *klass = json_object_get_string_member_with_default (err, "class", "GenericError");
  const char *desc = json_object_get_string_member_with_default (err, "desc", "unknown error");

  return g_error_new (FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_COMMAND, "%s (%s)", desc, klass);
}

static void
handle_event (FerrydQmp *self, JsonObject *message)
{
  const char *name = json_object_get_string_member_with_default (message, "event", "");
  JsonObject *data = NULL;
  gint64 timestamp_us = 0;
  g_autoptr (JsonObject) empty = json_object_new ();

  if (json_object_has_member (message, "data") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (message, "data")))
    data = json_object_get_object_member (message, "data");
  if (json_object_has_member (message, "timestamp"))
    {
      JsonObject *ts = json_object_get_object_member (message, "timestamp");
      timestamp_us = json_object_get_int_member_with_default (ts, "seconds", 0) * G_USEC_PER_SEC +
                     json_object_get_int_member_with_default (ts, "microseconds", 0);
    }
  g_signal_emit (self, signals[SIGNAL_EVENT], g_quark_from_string (name), name, data ? data : empty,
                 timestamp_us);
}

static void
handle_message (FerrydQmp *self, JsonObject *message)
{
  const char *id;
  g_autofree char *key = NULL;
  g_autoptr (GTask) task = NULL;

  if (json_object_has_member (message, "event"))
    {
      handle_event (self, message);
      return;
    }
  if (json_object_has_member (message, "QMP"))
    {
      /* The greeting: negotiate, then the handshake task completes on the
       * answer to qmp_capabilities. */
      queue_message (self, "qmp_capabilities", NULL, "handshake");
      return;
    }

  id = json_object_get_string_member_with_default (message, "id", NULL);
  if (g_strcmp0 (id, "handshake") == 0 && self->handshake)
    {
      task = g_steal_pointer (&self->handshake);
      if (json_object_has_member (message, "error"))
        g_task_return_error (task, error_from_reply (message));
      else
        g_task_return_pointer (task, g_object_ref (self), g_object_unref);
      return;
    }
  if (id == NULL ||
      !g_hash_table_steal_extended (self->pending, id, (gpointer *) &key, (gpointer *) &task))
    {
      g_debug ("ignoring QMP reply with unknown id %s", id ? id : "(none)");
      return;
    }
  if (json_object_has_member (message, "error"))
    g_task_return_error (task, error_from_reply (message));
  else if (json_object_has_member (message, "return"))
    g_task_return_pointer (task, json_node_copy (json_object_get_member (message, "return")),
                           (GDestroyNotify) json_node_unref);
  else
    g_task_return_new_error (task, FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_PROTOCOL,
                             "QMP reply without return or error");
}

static void
read_line_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydQmp) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;
  gsize length;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, &length,
                                                    &error);
  if (line == NULL)
    {
      g_autoptr (GError) closed =
          g_error_new (FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_CLOSED, "QMP connection lost: %s",
                       error ? error->message : "end of stream");
      close_with_error (self, closed);
      return;
    }
  g_strchomp (line);
  g_debug ("<- %.300s%s", line, length > 300 ? "…" : "");
  if (line[0] != '\0')
    {
      parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, line, -1, &error) ||
          !JSON_NODE_HOLDS_OBJECT ((root = json_parser_get_root (parser))))
        {
          g_autoptr (GError) bad =
              g_error_new (FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_PROTOCOL, "malformed QMP message: %s",
                           error ? error->message : line);
          close_with_error (self, bad);
          return;
        }
      handle_message (self, json_node_get_object (root));
    }
  if (!self->closed)
    read_next_line (self);
}

static void
read_next_line (FerrydQmp *self)
{
  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, self->cancellable,
                                       read_line_cb, g_object_ref (self));
}

static void
connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection;
  FerrydQmp *self;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  self = g_object_new (FERRYD_TYPE_QMP, NULL);
  self->connection = connection;
  self->input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (self->input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  self->output = g_object_ref (g_io_stream_get_output_stream (G_IO_STREAM (connection)));
  self->handshake = g_steal_pointer (&task);
  read_next_line (self);
  g_object_unref (self); /* the pending read and the handshake task keep it alive */
}

void
ferryd_qmp_connect_async (const char *socket_path,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (socket_path);
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_qmp_connect_async);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), cancellable, connected_cb,
                                 task);
}

FerrydQmp *
ferryd_qmp_connect_finish (GAsyncResult *result, GError **error)
{
  FerrydQmp *self = g_task_propagate_pointer (G_TASK (result), error);

  /* The handshake task held the only reference besides the read loop. */
  return self;
}

void
ferryd_qmp_execute_async (FerrydQmp *self,
                          const char *command,
                          JsonObject *arguments,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *id = NULL;

  g_task_set_source_tag (task, ferryd_qmp_execute_async);
  g_task_set_task_data (task, g_strdup (command), g_free);
  if (self->closed)
    {
      g_task_return_new_error (task, FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_CLOSED,
                               "QMP connection is closed (command %s)", command);
      return;
    }
  id = g_strdup_printf ("%" G_GUINT64_FORMAT, ++self->next_id);
  g_hash_table_insert (self->pending, g_strdup (id), g_steal_pointer (&task));
  queue_message (self, command, arguments, id);
}

JsonNode *
ferryd_qmp_execute_finish (FerrydQmp *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
send_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *command = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    g_debug ("%s: %s", command, error->message);
}

void
ferryd_qmp_send (FerrydQmp *self, const char *command, JsonObject *arguments)
{
  ferryd_qmp_execute_async (self, command, arguments, NULL, send_cb, g_strdup (command));
}

static void
ferryd_qmp_finalize (GObject *object)
{
  FerrydQmp *self = FERRYD_QMP (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  g_hash_table_unref (self->pending);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (ferryd_qmp_parent_class)->finalize (object);
}

static void
ferryd_qmp_class_init (FerrydQmpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ferryd_qmp_finalize;

  signals[SIGNAL_EVENT] = g_signal_new (
      "event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL,
      NULL, G_TYPE_NONE, 3, G_TYPE_STRING, JSON_TYPE_OBJECT, G_TYPE_INT64);
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferryd_qmp_init (FerrydQmp *self)
{
  self->cancellable = g_cancellable_new ();
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_queue_init (&self->write_queue);
}
