/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-sample.c: query-migrate's blocked-reasons and a dirty-rate
 * sample of a running guest, for Check
 *
 * The sample is half a second (calc-time-unit millisecond, QEMU >= 8.2):
 * long enough for a guest that writes steadily, short enough that Check
 * stays an interactive call. */
#define G_LOG_DOMAIN "ferry-qmp-sample"

#include "ferryd-qmp-sample.h"

/* How often query-dirty-rate is asked again while QEMU still measures. */
#define POLL_MS 100
#define MAX_POLLS 20

GStrv
ferryd_qmp_sample_blocked_reasons (JsonNode *reply)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonObject *info = reply && JSON_NODE_HOLDS_OBJECT (reply) ? json_node_get_object (reply) : NULL;
  JsonNode *node = info ? json_object_get_member (info, "blocked-reasons") : NULL;

  if (node && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_VALUE (element) &&
              json_node_get_value_type (element) == G_TYPE_STRING)
            g_strv_builder_add (builder, json_node_get_string (element));
        }
    }
  return g_strv_builder_end (builder);
}

gboolean
ferryd_qmp_sample_dirty_rate (JsonNode *reply, guint64 *rate, gboolean *measuring)
{
  JsonObject *info = reply && JSON_NODE_HOLDS_OBJECT (reply) ? json_node_get_object (reply) : NULL;
  const char *status =
      info ? json_object_get_string_member_with_default (info, "status", NULL) : NULL;

  *rate = 0;
  *measuring = g_strcmp0 (status, "measuring") == 0;
  if (g_strcmp0 (status, "measured") != 0 || !json_object_has_member (info, "dirty-rate"))
    return FALSE;
  *rate = (guint64) MAX (json_object_get_int_member (info, "dirty-rate"), 0) << 20;
  return TRUE;
}

typedef struct
{
  FerrydQmp *qmp;
  GStrv blocked;
  guint64 dirty_rate;
  guint polls;
  guint timeout_id;
} Sample;

static void
sample_free (Sample *sample)
{
  g_clear_handle_id (&sample->timeout_id, g_source_remove);
  g_clear_object (&sample->qmp);
  g_strfreev (sample->blocked);
  g_free (sample);
}

static void sample_done (GTask *task);

static gboolean poll_cb (gpointer user_data);

static void
dirty_rate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Sample *sample = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);
  gboolean measuring = FALSE;

  if (reply && !ferryd_qmp_sample_dirty_rate (reply, &sample->dirty_rate, &measuring) &&
      measuring && ++sample->polls < MAX_POLLS)
    {
      sample->timeout_id = g_timeout_add (POLL_MS, poll_cb, task);
      return;
    }
  if (reply == NULL)
    g_debug ("query-dirty-rate: %s", error->message);
  sample_done (task);
}

static gboolean
poll_cb (gpointer user_data)
{
  GTask *task = user_data;
  Sample *sample = g_task_get_task_data (task);

  sample->timeout_id = 0;
  ferryd_qmp_execute_async (sample->qmp, "query-dirty-rate", NULL, g_task_get_cancellable (task),
                            dirty_rate_cb, task);
  return G_SOURCE_REMOVE;
}

static void
calc_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Sample *sample = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    {
      /* Another measurement runs, or this QEMU cannot: not measured. */
      g_debug ("calc-dirty-rate: %s", error->message);
      sample_done (task);
      return;
    }
  sample->timeout_id = g_timeout_add (FERRYD_QMP_SAMPLE_MS + POLL_MS, poll_cb, task);
}

static void
migrate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Sample *sample = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);
  JsonObject *args;

  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  sample->blocked = ferryd_qmp_sample_blocked_reasons (reply);
  args = json_object_new ();
  json_object_set_int_member (args, "calc-time", FERRYD_QMP_SAMPLE_MS);
  json_object_set_string_member (args, "calc-time-unit", "millisecond");
  ferryd_qmp_execute_async (sample->qmp, "calc-dirty-rate", args, g_task_get_cancellable (task),
                            calc_cb, task);
  json_object_unref (args);
}

static void
sample_done (GTask *task)
{
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
ferryd_qmp_sample_async (FerrydQmp *qmp,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Sample *sample = g_new0 (Sample, 1);

  g_task_set_source_tag (task, ferryd_qmp_sample_async);
  sample->qmp = g_object_ref (qmp);
  g_task_set_task_data (task, sample, (GDestroyNotify) sample_free);
  ferryd_qmp_execute_async (qmp, "query-migrate", NULL, cancellable, migrate_cb, task);
}

gboolean
ferryd_qmp_sample_finish (GAsyncResult *result,
                          GStrv *blocked_reasons,
                          guint64 *dirty_rate,
                          GError **error)
{
  Sample *sample;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferryd_qmp_sample_async), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  sample = g_task_get_task_data (G_TASK (result));
  *blocked_reasons = g_steal_pointer (&sample->blocked);
  *dirty_rate = sample->dirty_rate;
  return TRUE;
}
