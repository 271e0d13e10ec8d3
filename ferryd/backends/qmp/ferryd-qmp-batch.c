/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-batch.c: sequential QMP command lists
 *
 * Migration set-up is a fixed sequence (capabilities, parameters, then
 * migrate); running it as one asynchronous batch keeps the engine free
 * of callback ladders.
 */
#define G_LOG_DOMAIN "ferry-qmp"

#include "ferryd-qmp-batch.h"

typedef struct
{
  char *command;
  JsonObject *arguments;
} Step;

struct _FerrydQmpBatch
{
  GArray *steps;
  guint next;
  FerrydQmp *qmp;
};

static void
step_clear (Step *step)
{
  g_free (step->command);
  g_clear_pointer (&step->arguments, json_object_unref);
}

void
ferryd_qmp_batch_free (FerrydQmpBatch *batch)
{
  g_array_unref (batch->steps);
  g_clear_object (&batch->qmp);
  g_free (batch);
}

FerrydQmpBatch *
ferryd_qmp_batch_new (void)
{
  FerrydQmpBatch *batch = g_new0 (FerrydQmpBatch, 1);

  batch->steps = g_array_new (FALSE, TRUE, sizeof (Step));
  g_array_set_clear_func (batch->steps, (GDestroyNotify) step_clear);
  return batch;
}

void
ferryd_qmp_batch_add (FerrydQmpBatch *batch, const char *command, JsonObject *arguments)
{
  Step step = { g_strdup (command), arguments };

  g_array_append_val (batch->steps, step);
}

static void run_next (GTask *task);

static void
step_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpBatch *batch = g_task_get_task_data (task);
  Step *step = &g_array_index (batch->steps, Step, batch->next - 1);
  g_autoptr (GError) error = NULL;
  JsonNode *reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    {
      g_task_return_new_error (task, error->domain, error->code, "%s: %s", step->command,
                               error->message);
      return;
    }
  if (batch->next == batch->steps->len)
    {
      g_task_return_pointer (task, reply, (GDestroyNotify) json_node_unref);
      return;
    }
  json_node_unref (reply);
  run_next (g_steal_pointer (&task));
}

static void
run_next (GTask *task)
{
  FerrydQmpBatch *batch = g_task_get_task_data (task);
  Step *step = &g_array_index (batch->steps, Step, batch->next++);

  ferryd_qmp_execute_async (batch->qmp, step->command, step->arguments,
                            g_task_get_cancellable (task), step_cb, task);
}

void
ferryd_qmp_batch_run_async (FerrydQmpBatch *batch,
                            FerrydQmp *qmp,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  batch->qmp = g_object_ref (qmp);
  g_task_set_task_data (task, batch, (GDestroyNotify) ferryd_qmp_batch_free);
  if (batch->steps->len == 0)
    {
      g_task_return_pointer (task, json_node_new (JSON_NODE_NULL),
                             (GDestroyNotify) json_node_unref);
      g_object_unref (task);
      return;
    }
  run_next (task);
}

JsonNode *
ferryd_qmp_batch_run_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
