/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-stream.c: a libvirt migration, followed
 *
 * libvirt runs the five phases itself (peer-to-peer: the source
 * libvirtd calls the destination's), inside one blocking
 * virDomainMigrateToURI3 call: it runs in a worker thread for as long
 * as the migration lasts, and its return is the outcome. Meanwhile the
 * engine samples virDomainGetJobStats (each sample in a worker thread),
 * and libvirt's events say when the guest stopped for the switch-over,
 * when post-copy began or failed, each new pass, and the completed
 * job's statistics. Controls are libvirt calls on the running job, each
 * in a worker thread too.
 */
#define G_LOG_DOMAIN "ferry-libvirt"

#include "ferryd-libvirt-stream.h"
#include "ferry-compat.h"
#include "ferry-error.h"
#include "ferryd-libvirt-params.h"
#include "ferryd-libvirt-state.h"

#include <libvirt/virterror.h>
#include <string.h>

struct _FerrydLibvirtStream
{
  GObject parent_instance;

  virConnectPtr conn;
  char *uuid;
  virDomainPtr dom; /* found at Begin */
  gboolean migrating;
  gboolean ended;
  gboolean active_reported;
  gboolean postcopy;
  guint64 last_processed;     /* memory processed at the last sample */
  guint64 postcopy_processed; /* ... when post-copy began */
  FerrydProgress completed;   /* the completed job's statistics */
  gboolean have_completed;
  char *error_message; /* libvirt's, when the migration failed */
  gboolean recovering; /* the call running is a post-copy resume */
  /* Found running after a restart of ferryd: the migration call was the
   * previous ferryd's, so its end is read from libvirt's job instead. */
  gboolean reattached;
  /* what the migration was started with, for Recover */
  char *destination;
  GVariant *options;
};

static void ferryd_libvirt_stream_iface_init (FerrydStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (FerrydLibvirtStream,
                         ferryd_libvirt_stream,
                         G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (FERRYD_TYPE_STREAM,
                                                ferryd_libvirt_stream_iface_init))

/* --- a libvirt call in a worker thread --- */

typedef gboolean (*DomainCall) (virDomainPtr dom, gpointer data, GError **error);

typedef struct
{
  virDomainPtr dom;
  DomainCall call;
  gpointer data;
  GDestroyNotify data_free;
} CallData;

static void
call_data_free (CallData *cd)
{
  if (cd->dom)
    virDomainFree (cd->dom);
  if (cd->data_free)
    cd->data_free (cd->data);
  g_free (cd);
}

static void
call_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CallData *cd = task_data;
  GError *error = NULL;

  if (cd->call (cd->dom, cd->data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
run_call (FerrydLibvirtStream *self,
          DomainCall call,
          gpointer data,
          GDestroyNotify data_free,
          GCancellable *cancellable,
          GAsyncReadyCallback callback,
          gpointer user_data,
          gpointer tag)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  CallData *cd = g_new0 (CallData, 1);

  g_task_set_source_tag (task, tag);
  cd->call = call;
  cd->data = data;
  cd->data_free = data_free;
  g_task_set_task_data (task, cd, (GDestroyNotify) call_data_free);
  if (self->dom == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "The libvirt domain is not reachable");
      return;
    }
  cd->dom = self->dom;
  virDomainRef (cd->dom);
  g_task_run_in_thread (task, call_thread);
}

static void
log_call_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("%s: %s", (const char *) user_data, error->message);
}

/* --- Begin --- */

static void
domain_unref (gpointer dom)
{
  virDomainFree (dom);
}

static void
begin_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  FerrydLibvirtStream *self = source;
  virDomainPtr dom;

  if (self->conn == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "libvirt is not reachable");
      return;
    }
  dom = virDomainLookupByUUIDString (self->conn, self->uuid);
  if (dom == NULL)
    {
      g_task_return_error (task, ferryd_libvirt_error (FERRY_ERROR_NOT_FOUND, "libvirt domain"));
      return;
    }
  if (virDomainIsActive (dom) != 1)
    {
      virDomainFree (dom);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                               "The libvirt domain does not run");
      return;
    }
  g_task_return_pointer (task, dom, domain_unref);
}

static void
stream_begin_async (FerrydStream *stream, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (stream, NULL, callback, user_data);

  g_task_set_source_tag (task, stream_begin_async);
  g_task_run_in_thread (task, begin_thread);
}

static FerrydDomainConfig *
stream_begin_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (stream);
  virDomainPtr dom;

  g_return_val_if_fail (g_task_is_valid (result, stream), NULL);
  dom = g_task_propagate_pointer (G_TASK (result), error);
  if (dom)
    {
      if (self->dom)
        virDomainFree (self->dom);
      self->dom = dom;
    }
  /* libvirt carries the descriptions itself */
  return NULL;
}

/* --- Perform: the migration call --- */

typedef struct
{
  char *destination;
  FerrydLibvirtMigrateParams *params;
  /* results */
  gboolean ok;
  int code;
  char *message;
  FerrydProgress completed;
  gboolean have_completed;
} MigrateData;

static void
migrate_data_free (MigrateData *md)
{
  g_free (md->destination);
  ferryd_libvirt_migrate_params_free (md->params);
  g_free (md->message);
  g_free (md);
}

static void
migrate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CallData *cd = task_data;
  MigrateData *md = cd->data;
  virTypedParameterPtr stats = NULL;
  int n_stats = 0, type = 0;

  if (md->params->downtime_ms > 0 &&
      virDomainMigrateSetMaxDowntime (cd->dom, md->params->downtime_ms, 0) < 0)
    {
      md->code = virGetLastErrorCode ();
      md->message =
          g_strdup_printf ("libvirt refused the downtime limit: %s", virGetLastErrorMessage ());
      g_task_return_boolean (task, TRUE);
      return;
    }
  md->ok = virDomainMigrateToURI3 (cd->dom, md->destination, md->params->params,
                                   md->params->n_params, md->params->flags) == 0;
  if (!md->ok)
    {
      md->code = virGetLastErrorCode ();
      md->message = g_strdup (virGetLastErrorMessage ());
    }
  else if (virDomainGetJobStats (cd->dom, &type, &stats, &n_stats,
                                 VIR_DOMAIN_JOB_STATS_COMPLETED) == 0)
    {
      ferryd_libvirt_job_to_progress (stats, n_stats, type, &md->completed);
      md->have_completed = TRUE;
      virTypedParamsFree (stats, n_stats);
    }
  g_task_return_boolean (task, TRUE);
}

/* The migration call failed because the destination's libvirtd went
 * away (libvirt's error does not always say so in words). */
static gboolean
lost_destination (const MigrateData *md)
{
  static const char *const signs[] = { "socket is closed", "Lost connection to destination",
                                       "End of file while reading data", "Cannot recv data" };

  if (md->code == VIR_ERR_RPC || md->code == VIR_ERR_NO_CONNECT)
    return TRUE;
  for (gsize i = 0; md->message && i < G_N_ELEMENTS (signs); i++)
    if (strstr (md->message, signs[i]))
      return TRUE;
  return FALSE;
}

static void
migrate_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (source);
  CallData *cd = g_task_get_task_data (G_TASK (result));
  MigrateData *md = cd->data;
  FerrydStreamStatus status;

  self->migrating = FALSE;
  self->ended = TRUE;
  if (self->recovering && !md->ok)
    {
      /* Both sides stay paused in post-copy: say what libvirt did. */
      self->recovering = FALSE;
      g_free (self->error_message);
      if (lost_destination (md))
        self->error_message = g_strdup_printf (
            "libvirt could not resume post-copy: the destination's libvirtd went away during "
            "the resume (libvirt 11.3's daemon has been seen to crash there; libvirt: %s)",
            md->message);
      else
        self->error_message =
            g_strdup_printf ("libvirt could not resume post-copy (libvirt: %s)", md->message);
      g_warning ("libvirt post-copy resume of %s failed: %s", self->uuid, self->error_message);
      ferryd_stream_emit_status (FERRYD_STREAM (self), FERRYD_STREAM_POSTCOPY_PAUSED,
                                 g_get_real_time ());
      return;
    }
  self->recovering = FALSE;
  if (md->ok)
    {
      if (md->have_completed && !self->have_completed)
        {
          self->completed = md->completed;
          self->have_completed = TRUE;
        }
      status = FERRYD_STREAM_COMPLETED;
    }
  else if (md->code == VIR_ERR_OPERATION_ABORTED)
    status = FERRYD_STREAM_CANCELLED;
  else
    {
      g_free (self->error_message);
      /* Say which side went away when libvirt's words do not. */
      if (lost_destination (md))
        self->error_message = g_strdup_printf (
            "the connection to the destination's libvirtd was lost (libvirt: %s)", md->message);
      else
        self->error_message = g_strdup_printf ("libvirt: %s", md->message);
      status = FERRYD_STREAM_FAILED;
    }
  g_info ("libvirt migration of %s ended: %s", self->uuid, md->ok ? "completed" : md->message);
  ferryd_stream_emit_status (FERRYD_STREAM (self), status, g_get_real_time ());
}

static void run_migration (FerrydLibvirtStream *self, MigrateData *md);

static void
stream_start_async (FerrydStream *stream,
                    const FerrydStreamTuning *tuning,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (stream);
  g_autoptr (GTask) task = g_task_new (stream, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  MigrateData *md;

  g_task_set_source_tag (task, stream_start_async);
  if (self->dom == NULL || tuning->options == NULL || tuning->destination == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "The libvirt domain is not reachable");
      return;
    }
  md = g_new0 (MigrateData, 1);
  md->destination = g_strdup (tuning->destination);
  md->params = ferryd_libvirt_migrate_params_new (tuning->options, &error);
  if (md->params == NULL)
    {
      migrate_data_free (md);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_free (self->destination);
  self->destination = g_strdup (tuning->destination);
  g_clear_pointer (&self->options, g_variant_unref);
  self->options = g_variant_ref (tuning->options->variant);
  run_migration (self, md);
  ferryd_stream_emit_status (stream, FERRYD_STREAM_SETUP, g_get_real_time ());
  g_task_return_boolean (task, TRUE);
}

/* Run the migration call of @md (taken) in its own worker thread: it
 * lasts as long as the migration, and its end is the stream's status. */
static void
run_migration (FerrydLibvirtStream *self, MigrateData *md)
{
  g_autoptr (GTask) run = NULL;
  CallData *cd;

  cd = g_new0 (CallData, 1);
  cd->dom = self->dom;
  virDomainRef (cd->dom);
  cd->data = md;
  cd->data_free = (GDestroyNotify) migrate_data_free;
  run = g_task_new (self, NULL, migrate_done, NULL);
  g_task_set_source_tag (run, run_migration);
  g_task_set_task_data (run, cd, (GDestroyNotify) call_data_free);
  self->migrating = TRUE;
  self->ended = FALSE;
  g_task_run_in_thread (run, migrate_thread);
}

static gboolean
stream_start_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- progress --- */

typedef struct
{
  FerrydProgress progress;
  gboolean reattached;    /* ask how a job that is over ended */
  FerrydStreamStatus end; /* ... and it ended so (NONE: it runs) */
} QueryData;

/* The migration job of @dom is over (no job runs): how did it end? The
 * completed job says, if libvirt kept one for this migration; else the
 * domain's state: shut off "migrated" is a success. */
static void
read_end (virDomainPtr dom, QueryData *qd)
{
  virTypedParameterPtr stats = NULL;
  int n = 0, type = 0, operation = 0, state = 0, reason = 0;

  if (virDomainGetJobStats (dom, &type, &stats, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0 &&
      virTypedParamsGetInt (stats, n, VIR_DOMAIN_JOB_OPERATION, &operation) == 1 &&
      operation == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT && type != VIR_DOMAIN_JOB_NONE)
    {
      ferryd_libvirt_job_to_progress (stats, n, type, &qd->progress);
      qd->end = qd->progress.status;
    }
  else if (virDomainGetState (dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_SHUTOFF &&
           reason == VIR_DOMAIN_SHUTOFF_MIGRATED)
    qd->end = FERRYD_STREAM_COMPLETED;
  else
    qd->end = FERRYD_STREAM_FAILED;
  if (stats)
    virTypedParamsFree (stats, n);
  if (qd->end != FERRYD_STREAM_COMPLETED && qd->end != FERRYD_STREAM_CANCELLED)
    qd->end = FERRYD_STREAM_FAILED;
}

static gboolean
query_call (virDomainPtr dom, gpointer data, GError **error)
{
  QueryData *qd = data;
  virTypedParameterPtr stats = NULL;
  int n = 0, type = 0;

  if (virDomainGetJobStats (dom, &type, &stats, &n, 0) < 0)
    {
      /* a domain libvirt stopped after the migration has no jobs to ask */
      if (qd->reattached && virDomainIsActive (dom) == 0)
        {
          read_end (dom, qd);
          return TRUE;
        }
      ferryd_libvirt_set_error (error, FERRY_ERROR_FAILED, "libvirt job statistics");
      return FALSE;
    }
  ferryd_libvirt_job_to_progress (stats, n, type, &qd->progress);
  virTypedParamsFree (stats, n);
  if (qd->reattached && type == VIR_DOMAIN_JOB_NONE)
    read_end (dom, qd);
  return TRUE;
}

/* A re-attached migration ended (libvirt's job, its events): as the end
 * of the migration call would say it, from the main loop's next turn. */
typedef struct
{
  FerrydLibvirtStream *self;
  FerrydStreamStatus status;
} EndData;

static gboolean
reattached_end_idle (gpointer user_data)
{
  EndData *ed = user_data;
  FerrydLibvirtStream *self = ed->self;

  if (self->migrating)
    {
      self->migrating = FALSE;
      self->ended = TRUE;
      if (ed->status == FERRYD_STREAM_FAILED && self->error_message == NULL)
        self->error_message =
            g_strdup ("libvirt's migration job ended without completing (it was started before "
                      "ferryd restarted, so libvirt's reason is not known here)");
      g_info ("libvirt migration of %s (re-attached) ended: %u", self->uuid, (guint) ed->status);
      ferryd_stream_emit_status (FERRYD_STREAM (self), ed->status, g_get_real_time ());
    }
  g_object_unref (self);
  g_free (ed);
  return G_SOURCE_REMOVE;
}

static void
reattached_end (FerrydLibvirtStream *self, FerrydStreamStatus status)
{
  EndData *ed;

  if (!self->reattached || !self->migrating)
    return;
  ed = g_new0 (EndData, 1);
  ed->self = g_object_ref (self);
  ed->status = status;
  g_idle_add (reattached_end_idle, ed);
}

static gboolean stream_query_finish (FerrydStream *stream,
                                     GAsyncResult *result,
                                     FerrydProgress *progress,
                                     char **error_message,
                                     GError **error);

static void
stream_query_async (FerrydStream *stream, GAsyncReadyCallback callback, gpointer user_data)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (stream);

  if (self->ended)
    {
      /* the job is over: what it reported at its end */
      g_autoptr (GTask) task = g_task_new (stream, NULL, callback, user_data);
      QueryData *qd = g_new0 (QueryData, 1);

      /* (tagged apart: the stream may end while a sample runs) */
      g_task_set_source_tag (task, stream_query_finish);
      qd->progress = self->completed;
      if (!self->have_completed)
        qd->progress.status = FERRYD_STREAM_FAILED;
      g_task_return_pointer (task, qd, g_free);
      return;
    }
  {
    QueryData *qd = g_new0 (QueryData, 1);

    qd->reattached = self->reattached;
    run_call (self, query_call, qd, g_free, NULL, callback, user_data, stream_query_async);
  }
}

static gboolean
stream_query_finish (FerrydStream *stream,
                     GAsyncResult *result,
                     FerrydProgress *progress,
                     char **error_message,
                     GError **error)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (stream);
  QueryData *qd;

  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  if (error_message)
    *error_message = g_strdup (self->error_message);
  if (g_task_get_source_tag (G_TASK (result)) == stream_query_finish)
    qd = g_task_propagate_pointer (G_TASK (result), error);
  else
    {
      CallData *cd = g_task_get_task_data (G_TASK (result));

      if (!g_task_propagate_boolean (G_TASK (result), error))
        return FALSE;
      qd = g_memdup2 (cd->data, sizeof *qd);
    }
  if (qd == NULL)
    return FALSE;
  if (qd->end != FERRYD_STREAM_NONE && !self->ended)
    {
      if (qd->end == FERRYD_STREAM_COMPLETED && !self->have_completed &&
          qd->progress.status == FERRYD_STREAM_COMPLETED)
        {
          self->completed = qd->progress;
          self->have_completed = TRUE;
        }
      reattached_end (self, qd->end);
    }
  /* The job shows data moving (memory, or first the disks of a storage
   * copy, which libvirt mirrors in its Perform): libvirt reached Perform. */
  if (!self->ended && !self->active_reported && qd->progress.status == FERRYD_STREAM_ACTIVE &&
      (qd->progress.memory_total > 0 || qd->progress.disk_total > 0))
    {
      self->active_reported = TRUE;
      ferryd_stream_emit_status (stream, FERRYD_STREAM_ACTIVE, g_get_real_time ());
    }
  if (!self->ended)
    self->last_processed = qd->progress.memory_processed;
  if (self->postcopy && qd->progress.status == FERRYD_STREAM_ACTIVE)
    qd->progress.status = FERRYD_STREAM_POSTCOPY_ACTIVE;
  /* libvirt does not count post-copy's bytes: what moved after the
   * switch (at least one: post-copy did run) */
  if (self->postcopy && self->ended)
    qd->progress.postcopy_bytes =
        MAX (qd->progress.memory_processed, self->postcopy_processed + 1) -
        self->postcopy_processed;
  if (progress)
    *progress = qd->progress;
  g_free (qd);
  return TRUE;
}

/* --- controls --- */

static gboolean
abort_call (virDomainPtr dom, gpointer data, GError **error)
{
  if (virDomainAbortJobFlags (dom, GPOINTER_TO_UINT (data)) < 0)
    {
      ferryd_libvirt_set_error (error, FERRY_ERROR_FAILED, "libvirt could not abort the job");
      return FALSE;
    }
  return TRUE;
}

static void
stream_cancel (FerrydStream *stream)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (stream);

  if (self->migrating)
    run_call (self, abort_call, GUINT_TO_POINTER (0), NULL, NULL, log_call_cb, (gpointer) "cancel",
              stream_cancel);
}

/* A control that is one libvirt call on the domain. */
typedef struct
{
  int (*call) (virDomainPtr dom);
  const char *failure;
} OneCall;

static gboolean
one_call (virDomainPtr dom, gpointer data, GError **error)
{
  const OneCall *one = data;

  if (one->call (dom) < 0)
    {
      ferryd_libvirt_set_error (error, FERRY_ERROR_FAILED, one->failure);
      return FALSE;
    }
  return TRUE;
}

static int
start_postcopy (virDomainPtr dom)
{
  return virDomainMigrateStartPostCopy (dom, 0);
}

static void
stream_start_postcopy (FerrydStream *stream)
{
  static const OneCall postcopy = { start_postcopy, "libvirt could not switch to post-copy" };

  run_call (FERRYD_LIBVIRT_STREAM (stream), one_call, (gpointer) &postcopy, NULL, NULL, log_call_cb,
            (gpointer) "start post-copy", stream_start_postcopy);
}

static void
stream_stop_guest (FerrydStream *stream)
{
  static const OneCall suspend = { virDomainSuspend, "libvirt could not pause the guest" };

  run_call (FERRYD_LIBVIRT_STREAM (stream), one_call, (gpointer) &suspend, NULL, NULL, log_call_cb,
            (gpointer) "pause the guest", stream_stop_guest);
}

typedef struct
{
  FerrydStreamControl control;
  guint64 value;
  gboolean postcopy;
} ControlData;

static gboolean
control_call (virDomainPtr dom, gpointer data, GError **error)
{
  ControlData *c = data;
  unsigned long long mib = 0;
  int ret = 0;

  switch (c->control)
    {
    case FERRYD_STREAM_CONTROL_DOWNTIME:
      ret = virDomainMigrateSetMaxDowntime (dom, c->value, 0);
      break;
    case FERRYD_STREAM_CONTROL_BANDWIDTH:
      if (!ferryd_libvirt_bandwidth_to_mib ("max-bandwidth", c->value, &mib, error))
        return FALSE;
      /* 0 is "unlimited" to Ferry; libvirt's largest value is */
      if (mib == 0)
        mib = FERRYD_LIBVIRT_MAX_BANDWIDTH_MIB;
      ret = virDomainMigrateSetMaxSpeed (dom, mib,
                                         c->postcopy ? VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY : 0);
      break;
    case FERRYD_STREAM_CONTROL_PAUSE:
      ret = virDomainAbortJobFlags (dom, VIR_DOMAIN_ABORT_JOB_POSTCOPY);
      break;
    }
  if (ret < 0)
    {
      ferryd_libvirt_set_error (error, FERRY_ERROR_FAILED, "libvirt refused");
      return FALSE;
    }
  return TRUE;
}

static void
stream_control_async (FerrydStream *stream,
                      FerrydStreamControl control,
                      guint64 value,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (stream);
  ControlData *c = g_new0 (ControlData, 1);

  c->control = control;
  c->value = value;
  c->postcopy = self->postcopy;
  run_call (self, control_call, c, g_free, cancellable, callback, user_data, stream_control_async);
}

static gboolean
stream_control_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Starts the resume (the call runs as long as the rest of the migration)
 * and returns; the end is the stream's status, as for the start. */
static gboolean
recover_start (FerrydStream *stream, const char *uri, GError **error)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (stream);
  g_autofree char *host = NULL;
  g_autoptr (FerrydMigrateOptions) options = NULL;
  g_autoptr (FerrydLibvirtMigrateParams) params = NULL;
  guint16 port = 0;
  MigrateData *md;

  if (!self->postcopy || self->destination == NULL || self->dom == NULL)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Only a migration paused in post-copy can be recovered");
      return FALSE;
    }
  if (self->migrating)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_BUSY,
                           "libvirt is still busy with the migration");
      return FALSE;
    }
  if (uri && uri[0] && !ferryd_migrate_uri_parse (uri, &host, &port))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid recovery address '%s': expected tcp:HOST:PORT", uri);
      return FALSE;
    }
  /* the same parameters, and the new data address if one was given */
  options = ferryd_migrate_options_parse (self->options, error);
  if (options == NULL)
    return FALSE;
  if (host)
    g_set_str (&options->migrate_uri, uri);
  params = ferryd_libvirt_migrate_params_new (options, error);
  if (params == NULL)
    return FALSE;
  params->downtime_ms = 0;
  md = g_new0 (MigrateData, 1);
  md->destination = g_strdup (self->destination);
  md->params = g_steal_pointer (&params);
  md->params->flags |= VIR_MIGRATE_POSTCOPY | VIR_MIGRATE_POSTCOPY_RESUME;
  self->recovering = TRUE;
  g_clear_pointer (&self->error_message, g_free);
  run_migration (self, md);
  return TRUE;
}

static void
stream_recover_async (FerrydStream *stream,
                      const char *uri,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (stream, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, stream_recover_async);
  if (recover_start (stream, uri, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
stream_recover_finish (FerrydStream *stream, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- the rest of FerrydStream --- */

static gboolean
stream_is_alive (FerrydStream *stream)
{
  return FERRYD_LIBVIRT_STREAM (stream)->dom != NULL;
}

static void
stream_terminate (FerrydStream *stream)
{
  /* libvirt stops the source guest itself when the migration completes */
}

static gboolean
stream_can_resume (FerrydStream *stream)
{
  /* libvirt resumes the source guest itself when the migration fails */
  return FALSE;
}

static gboolean
stream_runs_protocol (FerrydStream *stream)
{
  return TRUE;
}

static void
ferryd_libvirt_stream_iface_init (FerrydStreamInterface *iface)
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
  iface->control_async = stream_control_async;
  iface->control_finish = stream_control_finish;
  iface->recover_async = stream_recover_async;
  iface->recover_finish = stream_recover_finish;
  iface->runs_protocol = stream_runs_protocol;
}

/* --- events --- */

void
ferryd_libvirt_stream_lifecycle (FerrydLibvirtStream *self, int event, int detail)
{
  FerrydStream *stream = FERRYD_STREAM (self);
  gint64 now = g_get_real_time ();

  if (!self->migrating)
    return;
  if (event == VIR_DOMAIN_EVENT_SUSPENDED)
    switch (detail)
      {
      case VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED:
        ferryd_stream_emit_stopped (stream, now);
        break;
      case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY:
        self->postcopy = TRUE;
        self->postcopy_processed = self->last_processed;
        ferryd_stream_emit_stopped (stream, now);
        ferryd_stream_emit_status (stream, FERRYD_STREAM_POSTCOPY_ACTIVE, now);
        break;
      case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED:
        /* libvirt's own words follow when its migration call returns */
        if (self->error_message == NULL)
          self->error_message =
              g_strdup ("libvirt reports that post-copy failed: the source guest is paused");
        ferryd_stream_emit_status (stream, FERRYD_STREAM_POSTCOPY_PAUSED, now);
        break;
      default:
        break;
      }
  else if (event == VIR_DOMAIN_EVENT_RESUMED)
    ferryd_stream_emit_resumed (stream, now);
  else if (event == VIR_DOMAIN_EVENT_STOPPED && detail == VIR_DOMAIN_EVENT_STOPPED_MIGRATED)
    reattached_end (self, FERRYD_STREAM_COMPLETED);
}

void
ferryd_libvirt_stream_iteration (FerrydLibvirtStream *self, int iteration)
{
  if (self->migrating && iteration > 0)
    ferryd_stream_emit_pass (FERRYD_STREAM (self), (guint) iteration);
}

void
ferryd_libvirt_stream_job_completed (FerrydLibvirtStream *self,
                                     virTypedParameterPtr params,
                                     int n_params)
{
  int operation = 0;

  if (virTypedParamsGetInt (params, n_params, VIR_DOMAIN_JOB_OPERATION, &operation) == 1 &&
      operation != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
    return;
  ferryd_libvirt_job_to_progress (params, n_params, VIR_DOMAIN_JOB_COMPLETED, &self->completed);
  self->have_completed = TRUE;
  reattached_end (self, FERRYD_STREAM_COMPLETED);
}

const char *
ferryd_libvirt_stream_get_uuid (FerrydLibvirtStream *self)
{
  return self->uuid;
}

FerrydLibvirtStream *
ferryd_libvirt_stream_new (virConnectPtr conn, const char *uuid)
{
  FerrydLibvirtStream *self = g_object_new (FERRYD_TYPE_LIBVIRT_STREAM, NULL);

  if (conn)
    {
      self->conn = conn;
      virConnectRef (conn);
    }
  self->uuid = g_strdup (uuid);
  return self;
}

FerrydLibvirtStream *
ferryd_libvirt_stream_new_running (virConnectPtr conn, const char *uuid, virDomainPtr dom)
{
  FerrydLibvirtStream *self = ferryd_libvirt_stream_new (conn, uuid);

  self->dom = dom;
  virDomainRef (dom);
  self->reattached = TRUE;
  self->migrating = TRUE;
  /* its data flows already: Perform */
  self->active_reported = TRUE;
  return self;
}

static void
ferryd_libvirt_stream_finalize (GObject *object)
{
  FerrydLibvirtStream *self = FERRYD_LIBVIRT_STREAM (object);

  if (self->dom)
    virDomainFree (self->dom);
  if (self->conn)
    virConnectClose (self->conn);
  g_free (self->uuid);
  g_free (self->error_message);
  g_free (self->destination);
  g_clear_pointer (&self->options, g_variant_unref);
  G_OBJECT_CLASS (ferryd_libvirt_stream_parent_class)->finalize (object);
}

static void
ferryd_libvirt_stream_class_init (FerrydLibvirtStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ferryd_libvirt_stream_finalize;
}

static void
ferryd_libvirt_stream_init (FerrydLibvirtStream *self)
{
}
