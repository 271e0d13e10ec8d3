/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-stream.c: the FerrydStream interface: dispatch and signals */
#define G_LOG_DOMAIN "ferry-stream"

#include "ferryd-stream.h"
#include "ferry-error.h"

G_DEFINE_INTERFACE (FerrydStream, ferryd_stream, G_TYPE_OBJECT)

enum
{
  SIGNAL_STATUS_CHANGED,
  SIGNAL_PASS,
  SIGNAL_STOPPED,
  SIGNAL_RESUMED,
  SIGNAL_CRASHED,
  SIGNAL_EXITED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
ferryd_stream_default_init (FerrydStreamInterface *iface)
{
  signals[SIGNAL_STATUS_CHANGED] =
      g_signal_new ("status-changed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_INT64);
  signals[SIGNAL_PASS] = g_signal_new ("pass", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIGNAL_STOPPED] =
      g_signal_new ("stopped", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_RESUMED] =
      g_signal_new ("resumed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_CRASHED] =
      g_signal_new ("crashed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_EXITED] = g_signal_new ("exited", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

#define IFACE(self) FERRYD_STREAM_GET_IFACE (self)

gboolean
ferryd_stream_runs_protocol (FerrydStream *self)
{
  return IFACE (self)->runs_protocol ? IFACE (self)->runs_protocol (self) : FALSE;
}

gboolean
ferryd_stream_is_alive (FerrydStream *self)
{
  return IFACE (self)->is_alive (self);
}

void
ferryd_stream_terminate (FerrydStream *self)
{
  IFACE (self)->terminate (self);
}

void
ferryd_stream_query_async (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data)
{
  IFACE (self)->query_async (self, callback, user_data);
}

gboolean
ferryd_stream_query_finish (FerrydStream *self,
                            GAsyncResult *result,
                            FerrydProgress *progress,
                            char **error_message,
                            GError **error)
{
  return IFACE (self)->query_finish (self, result, progress, error_message, error);
}

void
ferryd_stream_begin_async (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data)
{
  IFACE (self)->begin_async (self, callback, user_data);
}

FerrydDomainConfig *
ferryd_stream_begin_finish (FerrydStream *self, GAsyncResult *result, GError **error)
{
  return IFACE (self)->begin_finish (self, result, error);
}

void
ferryd_stream_start_async (FerrydStream *self,
                           const FerrydStreamTuning *tuning,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  IFACE (self)->start_async (self, tuning, callback, user_data);
}

gboolean
ferryd_stream_start_finish (FerrydStream *self, GAsyncResult *result, GError **error)
{
  return IFACE (self)->start_finish (self, result, error);
}

void
ferryd_stream_cancel (FerrydStream *self)
{
  IFACE (self)->cancel (self);
}

void
ferryd_stream_start_postcopy (FerrydStream *self)
{
  IFACE (self)->start_postcopy (self);
}

void
ferryd_stream_stop_guest (FerrydStream *self)
{
  IFACE (self)->stop_guest (self);
}

gboolean
ferryd_stream_can_resume (FerrydStream *self)
{
  return IFACE (self)->can_resume (self);
}

void
ferryd_stream_resume_async (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data)
{
  IFACE (self)->resume_async (self, callback, user_data);
}

gboolean
ferryd_stream_resume_finish (FerrydStream *self, GAsyncResult *result, GError **error)
{
  return IFACE (self)->resume_finish (self, result, error);
}

void
ferryd_stream_control_async (FerrydStream *self,
                             FerrydStreamControl control,
                             guint64 value,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  IFACE (self)->control_async (self, control, value, cancellable, callback, user_data);
}

gboolean
ferryd_stream_control_finish (FerrydStream *self, GAsyncResult *result, GError **error)
{
  return IFACE (self)->control_finish (self, result, error);
}

/* A backend without post-copy recovery answers NotSupported. */
static void
recover_unsupported (FerrydStream *self,
                     gpointer source_tag,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "This backend cannot recover a paused post-copy migration");
}

void
ferryd_stream_recover_async (FerrydStream *self,
                             const char *uri,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  if (IFACE (self)->recover_async == NULL)
    recover_unsupported (self, ferryd_stream_recover_async, callback, user_data);
  else
    IFACE (self)->recover_async (self, uri, cancellable, callback, user_data);
}

gboolean
ferryd_stream_recover_finish (FerrydStream *self, GAsyncResult *result, GError **error)
{
  if (g_async_result_is_tagged (result, ferryd_stream_recover_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return IFACE (self)->recover_finish (self, result, error);
}

void
ferryd_stream_listen_recover_async (FerrydStream *self,
                                    const char *uri,
                                    const char *data_host,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  if (IFACE (self)->listen_recover_async == NULL)
    recover_unsupported (self, ferryd_stream_listen_recover_async, callback, user_data);
  else
    IFACE (self)->listen_recover_async (self, uri, data_host, cancellable, callback, user_data);
}

char *
ferryd_stream_listen_recover_finish (FerrydStream *self, GAsyncResult *result, GError **error)
{
  if (g_async_result_is_tagged (result, ferryd_stream_listen_recover_async))
    return g_task_propagate_pointer (G_TASK (result), error);
  return IFACE (self)->listen_recover_finish (self, result, error);
}

void
ferryd_stream_prepare_async (FerrydStream *self,
                             const FerrydStreamIncoming *incoming,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  IFACE (self)->prepare_async (self, incoming, callback, user_data);
}

char *
ferryd_stream_prepare_finish (FerrydStream *self, GAsyncResult *result, GError **error)
{
  return IFACE (self)->prepare_finish (self, result, error);
}

char *
ferryd_stream_get_storage_uri (FerrydStream *self)
{
  if (IFACE (self)->get_storage_uri == NULL)
    return NULL;
  return IFACE (self)->get_storage_uri (self);
}

void
ferryd_stream_resume_incoming (FerrydStream *self)
{
  IFACE (self)->resume_incoming (self);
}

void
ferryd_stream_adopt (FerrydStream *self, FerrydDomain *domain)
{
  IFACE (self)->adopt (self, domain);
}

void
ferryd_stream_emit_status (FerrydStream *self, FerrydStreamStatus status, gint64 ts)
{
  g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0, (guint) status, ts);
}

void
ferryd_stream_emit_pass (FerrydStream *self, guint pass)
{
  g_signal_emit (self, signals[SIGNAL_PASS], 0, pass);
}

void
ferryd_stream_emit_stopped (FerrydStream *self, gint64 ts)
{
  g_signal_emit (self, signals[SIGNAL_STOPPED], 0, ts);
}

void
ferryd_stream_emit_resumed (FerrydStream *self, gint64 ts)
{
  g_signal_emit (self, signals[SIGNAL_RESUMED], 0, ts);
}

void
ferryd_stream_emit_crashed (FerrydStream *self, const char *reason)
{
  g_signal_emit (self, signals[SIGNAL_CRASHED], 0, reason);
}

void
ferryd_stream_emit_exited (FerrydStream *self)
{
  g_signal_emit (self, signals[SIGNAL_EXITED], 0);
}
