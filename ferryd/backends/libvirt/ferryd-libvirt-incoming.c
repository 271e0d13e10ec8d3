/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-incoming.c: a libvirt migration into this host, followed
 *
 * libvirt's peer-to-peer migration runs from the source: its libvirtd
 * calls this host's, which starts the domain's QEMU paused for incoming
 * memory (STARTED/MIGRATED), and resumes it at the end (RESUMED/MIGRATED,
 * or RESUMED/POSTCOPY at a switch to post-copy) before the job completes
 * (JOB_COMPLETED, operation MIGRATION_IN). When the migration fails or is
 * cancelled on the source, libvirt stops the domain here instead. No
 * ferryd on the source is involved: this stream is all the engine hears.
 * Nothing here steers the migration; job statistics are read in a worker
 * thread, where libvirt gives them on the destination.
 */
#define G_LOG_DOMAIN "ferry-libvirt"

#include "ferryd-libvirt-incoming.h"
#include "ferry-compat.h"
#include "ferry-error.h"
#include "ferryd-libvirt-state.h"

#include <libvirt/virterror.h>

/* How long a resumed guest's job may take to report its completion
 * before the migration is taken as completed anyway (the guest runs
 * here; the statistics may then be missing). */
#define COMPLETED_WAIT_MS 3000

struct _FerrydLibvirtIncoming
{
  GObject parent_instance;

  virConnectPtr conn;
  char *uuid;
  gboolean announced;
  gboolean ended;
  FerrydStreamStatus end_status;
  gboolean receiving;
  gboolean resumed;
  gboolean postcopy;
  gboolean querying;
  gboolean no_stats;        /* libvirt gives no job statistics here */
  FerrydProgress last;      /* the last sample */
  FerrydProgress completed; /* the completed job's statistics */
  gboolean have_completed;
  char *error_message;
  guint completed_wait_id;
};

static void ferryd_libvirt_incoming_iface_init (FerrydStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (FerrydLibvirtIncoming,
                         ferryd_libvirt_incoming,
                         G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (FERRYD_TYPE_STREAM,
                                                ferryd_libvirt_incoming_iface_init))

/* --- the end --- */

static void
end_with (FerrydLibvirtIncoming *self, FerrydStreamStatus status)
{
  g_autoptr (FerrydLibvirtIncoming) hold = g_object_ref (self);

  if (self->ended)
    return;
  self->ended = TRUE;
  self->end_status = status;
  g_clear_handle_id (&self->completed_wait_id, g_source_remove);
  g_info ("libvirt incoming migration of %s ended: %s", self->uuid,
          status == FERRYD_STREAM_COMPLETED ? "completed" : self->error_message);
  ferryd_stream_emit_status (FERRYD_STREAM (self), status, g_get_real_time ());
}

static gboolean
completed_wait_cb (gpointer user_data)
{
  FerrydLibvirtIncoming *self = user_data;

  self->completed_wait_id = 0;
  g_info ("libvirt incoming migration of %s: the guest runs here, the job's completion was not "
          "reported",
          self->uuid);
  end_with (self, FERRYD_STREAM_COMPLETED);
  return G_SOURCE_REMOVE;
}

/* The guest runs here: completed once libvirt's job says so too (its
 * statistics come with it), or after a while without. */
static void
maybe_completed (FerrydLibvirtIncoming *self)
{
  if (self->ended || !(self->resumed || self->postcopy))
    return;
  if (self->have_completed)
    end_with (self, FERRYD_STREAM_COMPLETED);
  else if (self->resumed && self->completed_wait_id == 0)
    self->completed_wait_id = g_timeout_add (COMPLETED_WAIT_MS, completed_wait_cb, self);
}

static gboolean
completed_idle (gpointer user_data)
{
  maybe_completed (user_data);
  return G_SOURCE_REMOVE;
}

/* The guest runs here: ask libvirt for the completed job now rather than
 * at the next sample. */
static void
stream_query_async (FerrydStream *stream, GAsyncReadyCallback callback, gpointer user_data);
static gboolean stream_query_finish (FerrydStream *stream,
                                     GAsyncResult *result,
                                     FerrydProgress *progress,
                                     char **error_message,
                                     GError **error);

static void
completed_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  stream_query_finish (FERRYD_STREAM (source), result, NULL, NULL, NULL);
}

static void
failed (FerrydLibvirtIncoming *self, char *message)
{
  if (self->ended)
    {
      g_free (message);
      return;
    }
  g_free (self->error_message);
  self->error_message = message;
  end_with (self, FERRYD_STREAM_FAILED);
}

/* --- what libvirt shows --- */

void
ferryd_libvirt_incoming_receiving (FerrydLibvirtIncoming *self)
{
  if (self->ended || self->receiving || self->resumed || self->postcopy)
    return;
  self->receiving = TRUE;
  ferryd_stream_emit_status (FERRYD_STREAM (self), FERRYD_STREAM_ACTIVE, g_get_real_time ());
}

static const char *
stopped_detail (int event, int detail)
{
  if (event == VIR_DOMAIN_EVENT_UNDEFINED)
    return "undefined";
  switch (detail)
    {
    case VIR_DOMAIN_EVENT_STOPPED_FAILED:
      return "failed";
    case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
      return "destroyed";
    case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
      return "crashed";
    case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
      return "shut down";
    default:
      return "stopped";
    }
}

void
ferryd_libvirt_incoming_lifecycle (FerrydLibvirtIncoming *self, int event, int detail)
{
  FerrydStream *stream = FERRYD_STREAM (self);
  gint64 now = g_get_real_time ();

  if (self->ended)
    return;
  switch (event)
    {
    case VIR_DOMAIN_EVENT_RESUMED:
      if (detail == VIR_DOMAIN_EVENT_RESUMED_POSTCOPY)
        {
          /* the guest runs here from now on; its memory still comes */
          if (!self->postcopy)
            {
              self->postcopy = TRUE;
              ferryd_stream_emit_resumed (stream, now);
            }
          ferryd_stream_emit_status (stream, FERRYD_STREAM_POSTCOPY_ACTIVE, now);
          maybe_completed (self);
          break;
        }
      if (!self->resumed && !self->postcopy)
        ferryd_stream_emit_resumed (stream, now);
      self->resumed = TRUE;
      maybe_completed (self);
      stream_query_async (stream, completed_query_cb, NULL);
      break;
    case VIR_DOMAIN_EVENT_SUSPENDED:
      if (detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED)
        {
          g_free (self->error_message);
          self->error_message = g_strdup (
              "libvirt reports that post-copy failed: the guest is paused here; Recover on the "
              "source host's migration resumes it");
          ferryd_stream_emit_status (stream, FERRYD_STREAM_POSTCOPY_PAUSED, now);
        }
      break;
    case VIR_DOMAIN_EVENT_STOPPED:
    case VIR_DOMAIN_EVENT_UNDEFINED:
      if (self->postcopy)
        failed (self, g_strdup_printf ("libvirt stopped the domain here during post-copy (%s): "
                                       "the guest is lost unless the source still holds it",
                                       stopped_detail (event, detail)));
      else
        failed (self,
                g_strdup_printf ("libvirt stopped the incoming domain here (%s) before it ran: the "
                                 "migration failed or was cancelled on the source, which keeps "
                                 "the guest",
                                 stopped_detail (event, detail)));
      break;
    default:
      break;
    }
}

void
ferryd_libvirt_incoming_job_completed (FerrydLibvirtIncoming *self,
                                       virTypedParameterPtr params,
                                       int n_params)
{
  int operation = 0;

  if (self->ended ||
      (virTypedParamsGetInt (params, n_params, VIR_DOMAIN_JOB_OPERATION, &operation) == 1 &&
       operation != VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN))
    return;
  ferryd_libvirt_job_to_progress (params, n_params, VIR_DOMAIN_JOB_COMPLETED, &self->completed);
  self->have_completed = TRUE;
  /* (a job that completes has resumed the guest here) */
  self->resumed = TRUE;
  maybe_completed (self);
}

void
ferryd_libvirt_incoming_lost (FerrydLibvirtIncoming *self, const char *why)
{
  failed (self, g_strdup_printf ("the connection to this host's libvirtd was lost (%s)", why));
}

/* --- job statistics, where libvirt gives them here --- */

typedef struct
{
  virConnectPtr conn;
  char *uuid;
  gboolean completed; /* ask for the completed job's */
  FerrydProgress progress;
  int operation;
  gboolean refused; /* libvirt has no statistics for this job here */
} QueryData;

static void
query_data_free (QueryData *qd)
{
  if (qd->conn)
    virConnectClose (qd->conn);
  g_free (qd->uuid);
  g_free (qd);
}

static void
query_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  QueryData *qd = task_data;
  virDomainPtr dom = virDomainLookupByUUIDString (qd->conn, qd->uuid);
  virTypedParameterPtr stats = NULL;
  int n = 0, type = 0;

  if (dom == NULL)
    {
      g_task_return_error (task, ferryd_libvirt_error (FERRY_ERROR_NOT_FOUND, "libvirt domain"));
      return;
    }
  if (virDomainGetJobStats (dom, &type, &stats, &n,
                            qd->completed ? VIR_DOMAIN_JOB_STATS_COMPLETED : 0) < 0)
    {
      int code = virGetLastErrorCode ();

      qd->refused = code == VIR_ERR_OPERATION_UNSUPPORTED || code == VIR_ERR_OPERATION_INVALID ||
                    code == VIR_ERR_NO_SUPPORT;
      g_task_return_error (task,
                           ferryd_libvirt_error (FERRY_ERROR_FAILED, "libvirt job statistics"));
      virDomainFree (dom);
      return;
    }
  ferryd_libvirt_job_to_progress (stats, n, type, &qd->progress);
  virTypedParamsGetInt (stats, n, VIR_DOMAIN_JOB_OPERATION, &qd->operation);
  virTypedParamsFree (stats, n);
  virDomainFree (dom);
  g_task_return_boolean (task, TRUE);
}

static void
stream_query_async (FerrydStream *stream, GAsyncReadyCallback callback, gpointer user_data)
{
  FerrydLibvirtIncoming *self = FERRYD_LIBVIRT_INCOMING (stream);
  g_autoptr (GTask) task = g_task_new (stream, NULL, callback, user_data);
  QueryData *qd = g_new0 (QueryData, 1);

  g_task_set_source_tag (task, stream_query_async);
  g_task_set_task_data (task, qd, (GDestroyNotify) query_data_free);
  /* Once the guest runs here, libvirt's completed job (the statistics
   * the source sent with its end) says the migration is over. */
  qd->completed = self->resumed || self->postcopy;
  /* what is known already: the end, or a libvirt without statistics here */
  if (self->ended || (self->no_stats && !qd->completed) || self->conn == NULL || self->querying)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  self->querying = TRUE;
  qd->conn = self->conn;
  virConnectRef (qd->conn);
  qd->uuid = g_strdup (self->uuid);
  g_task_run_in_thread (task, query_thread);
}

static gboolean
stream_query_finish (FerrydStream *stream,
                     GAsyncResult *result,
                     FerrydProgress *progress,
                     char **error_message,
                     GError **error)
{
  FerrydLibvirtIncoming *self = FERRYD_LIBVIRT_INCOMING (stream);
  QueryData *qd;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  qd = g_task_get_task_data (G_TASK (result));
  if (error_message)
    *error_message = g_strdup (self->error_message);
  if (qd->conn) /* a sample that ran */
    {
      self->querying = FALSE;
      if (!g_task_propagate_boolean (G_TASK (result), &local))
        {
          if (qd->refused && !self->no_stats)
            {
              g_debug ("libvirt gives no job statistics on the destination: %s", local->message);
              self->no_stats = TRUE;
            }
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (qd->completed)
        {
          if (!self->ended && !self->have_completed &&
              qd->progress.status == FERRYD_STREAM_COMPLETED &&
              qd->operation == VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN)
            {
              self->completed = qd->progress;
              self->have_completed = TRUE;
              /* (said from the main loop, not inside the caller's answer) */
              g_idle_add_full (G_PRIORITY_DEFAULT, completed_idle, g_object_ref (self),
                               g_object_unref);
            }
        }
      else if (!self->ended)
        {
          self->last = qd->progress;
          /* memory moving: the guest is being received */
          if (qd->progress.status == FERRYD_STREAM_ACTIVE && qd->progress.memory_total > 0)
            ferryd_libvirt_incoming_receiving (self);
        }
    }
  else
    g_task_propagate_boolean (G_TASK (result), NULL);
  if (progress)
    {
      if (self->ended && self->have_completed)
        *progress = self->completed;
      else
        {
          *progress = self->last;
          if (self->ended)
            progress->status = self->end_status;
          else if (self->postcopy)
            progress->status = FERRYD_STREAM_POSTCOPY_ACTIVE;
          else
            progress->status = self->receiving ? FERRYD_STREAM_ACTIVE : FERRYD_STREAM_SETUP;
        }
    }
  return TRUE;
}

/* --- the rest of FerrydStream: libvirt does it all --- */

static gboolean
stream_is_alive (FerrydStream *stream)
{
  return !FERRYD_LIBVIRT_INCOMING (stream)->ended;
}

static void
stream_nothing (FerrydStream *stream)
{
  /* libvirt starts, resumes and stops the incoming guest itself */
}

static void
stream_adopt (FerrydStream *stream, FerrydDomain *domain)
{
  /* the backend's domain follows the guest from libvirt's events */
}

static gboolean
stream_runs_protocol (FerrydStream *stream)
{
  return TRUE;
}

static void
ferryd_libvirt_incoming_iface_init (FerrydStreamInterface *iface)
{
  iface->is_alive = stream_is_alive;
  iface->terminate = stream_nothing;
  iface->query_async = stream_query_async;
  iface->query_finish = stream_query_finish;
  iface->cancel = stream_nothing;
  iface->resume_incoming = stream_nothing;
  iface->adopt = stream_adopt;
  iface->runs_protocol = stream_runs_protocol;
}

/* --- object --- */

gboolean
ferryd_libvirt_incoming_get_announced (FerrydLibvirtIncoming *self)
{
  return self->announced;
}

void
ferryd_libvirt_incoming_set_announced (FerrydLibvirtIncoming *self)
{
  self->announced = TRUE;
}

const char *
ferryd_libvirt_incoming_get_uuid (FerrydLibvirtIncoming *self)
{
  return self->uuid;
}

gboolean
ferryd_libvirt_incoming_has_ended (FerrydLibvirtIncoming *self)
{
  return self->ended;
}

FerrydLibvirtIncoming *
ferryd_libvirt_incoming_new (virConnectPtr conn, const char *uuid)
{
  FerrydLibvirtIncoming *self = g_object_new (FERRYD_TYPE_LIBVIRT_INCOMING, NULL);

  if (conn)
    {
      self->conn = conn;
      virConnectRef (conn);
    }
  self->uuid = g_strdup (uuid);
  return self;
}

static void
ferryd_libvirt_incoming_finalize (GObject *object)
{
  FerrydLibvirtIncoming *self = FERRYD_LIBVIRT_INCOMING (object);

  g_clear_handle_id (&self->completed_wait_id, g_source_remove);
  if (self->conn)
    virConnectClose (self->conn);
  g_free (self->uuid);
  g_free (self->error_message);
  G_OBJECT_CLASS (ferryd_libvirt_incoming_parent_class)->finalize (object);
}

static void
ferryd_libvirt_incoming_class_init (FerrydLibvirtIncomingClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ferryd_libvirt_incoming_finalize;
}

static void
ferryd_libvirt_incoming_init (FerrydLibvirtIncoming *self)
{
}
