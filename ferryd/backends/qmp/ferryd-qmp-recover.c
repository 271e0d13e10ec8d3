/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-recover.c: post-copy recovery over QMP (migrate-recover,
 * migrate resume=true) */
#define G_LOG_DOMAIN "ferry-qmp-recover"

#include "ferryd-qmp-recover.h"
#include "ferry-error.h"

typedef struct
{
  char *uri;         /* as asked, or NULL */
  char *data_host;   /* where the source connects */
  GPtrArray *before; /* "host:port" QEMU listened on before migrate-recover */
} ListenData;

static void
listen_data_free (ListenData *data)
{
  g_free (data->uri);
  g_free (data->data_host);
  g_clear_pointer (&data->before, g_ptr_array_unref);
  g_free (data);
}

/* query-migrate's socket-address list of a destination, as "host:port"
 * strings with the port of each. */
static GPtrArray *
listen_addresses (JsonNode *reply, GArray *ports)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  JsonObject *info;
  JsonArray *list;

  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    return out;
  info = json_node_get_object (reply);
  if (!json_object_has_member (info, "socket-address"))
    return out;
  list = json_object_get_array_member (info, "socket-address");
  for (guint i = 0; list && i < json_array_get_length (list); i++)
    {
      JsonObject *entry = json_array_get_object_element (list, i);
      const char *host = json_object_get_string_member_with_default (entry, "host", "");
      const char *port = json_object_get_string_member_with_default (entry, "port", "0");

      g_ptr_array_add (out, g_strdup_printf ("%s:%s", host, port));
      if (ports)
        {
          gint64 p = g_ascii_strtoll (port, NULL, 10);
          g_array_append_val (ports, p);
        }
    }
  return out;
}

static gboolean
contains (GPtrArray *array, const char *s)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (g_ptr_array_index (array, i), s))
      return TRUE;
  return FALSE;
}

static void
listening_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ListenData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);
  g_autoptr (GArray) ports = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GPtrArray) now = listen_addresses (reply, ports);

  if (reply == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot read where the destination listens: %s", error->message);
      return;
    }
  /* QEMU keeps the addresses of earlier listeners in the list: the new
   * one is the one that was not there before. */
  for (guint i = 0; i < now->len; i++)
    if (!contains (data->before, g_ptr_array_index (now, i)) &&
        g_array_index (ports, gint64, i) > 0)
      {
        g_task_return_pointer (task,
                               g_strdup_printf ("tcp:%s:%" G_GINT64_FORMAT, data->data_host,
                                                g_array_index (ports, gint64, i)),
                               g_free);
        return;
      }
  g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                           "QEMU did not report the port it listens on for the recovery");
}

static void
recover_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ListenData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "The destination QEMU cannot listen for the recovery: %s",
                               error->message);
      return;
    }
  if (data->uri)
    {
      g_task_return_pointer (task, g_strdup (data->uri), g_free);
      return;
    }
  ferryd_qmp_execute_async (FERRYD_QMP (source), "query-migrate", NULL, cancellable, listening_cb,
                            g_steal_pointer (&task));
}

static void
before_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ListenData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);
  JsonObject *args = json_object_new ();
  gboolean loopback =
      g_str_equal (data->data_host, "127.0.0.1") || g_str_equal (data->data_host, "localhost");
  g_autofree char *listen = NULL;

  data->before = listen_addresses (reply, NULL);
  /* Port 0: QEMU picks a free one and reports it in query-migrate. */
  listen = data->uri ? g_strdup (data->uri)
                     : g_strdup_printf ("tcp:%s:0", loopback ? "127.0.0.1" : "0.0.0.0");
  json_object_set_string_member (args, "uri", listen);
  ferryd_qmp_execute_async (FERRYD_QMP (source), "migrate-recover", args, cancellable,
                            recover_sent_cb, g_steal_pointer (&task));
}

void
ferryd_qmp_recover_listen_async (FerrydQmp *qmp,
                                 const char *uri,
                                 const char *data_host,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (qmp, cancellable, callback, user_data);
  ListenData *data = g_new0 (ListenData, 1);

  g_task_set_source_tag (task, ferryd_qmp_recover_listen_async);
  data->uri = uri && *uri ? g_strdup (uri) : NULL;
  data->data_host = g_strdup (data_host ? data_host : "127.0.0.1");
  g_task_set_task_data (task, data, (GDestroyNotify) listen_data_free);
  ferryd_qmp_execute_async (qmp, "query-migrate", NULL, cancellable, before_cb,
                            g_steal_pointer (&task));
}

char *
ferryd_qmp_recover_listen_finish (FerrydQmp *qmp, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, qmp), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferryd_qmp_recover_listen_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                             "The source QEMU cannot resume the stream: %s", error->message);
  else
    g_task_return_boolean (task, TRUE);
}

void
ferryd_qmp_recover_resume_async (FerrydQmp *qmp,
                                 const char *uri,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (qmp, cancellable, callback, user_data);
  JsonObject *args = json_object_new ();

  g_task_set_source_tag (task, ferryd_qmp_recover_resume_async);
  json_object_set_string_member (args, "uri", uri);
  json_object_set_boolean_member (args, "resume", TRUE);
  ferryd_qmp_execute_async (qmp, "migrate", args, cancellable, resumed_cb, g_steal_pointer (&task));
}

gboolean
ferryd_qmp_recover_resume_finish (FerrydQmp *qmp, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, qmp), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferryd_qmp_recover_resume_async), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
