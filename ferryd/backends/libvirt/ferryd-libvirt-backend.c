/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-backend.c: FerrydBackend over a libvirt connection
 *
 * libvirt's events run on ferryd's main loop (libvirt-glib's
 * gvir_event_register()); every call that talks to libvirtd runs in a
 * worker thread, since any of them can block for as long as libvirtd
 * takes. The domains are libvirt's: Ferry publishes them (Backend
 * "libvirt") and follows them from life-cycle events, re-reading a
 * domain's state after each event rather than inferring it from the
 * event, so that a missed or reordered event cannot leave a stale state.
 * When the connection closes, the domains go and the backend retries
 * every second until libvirtd answers again.
 */
#define G_LOG_DOMAIN "ferry-libvirt"

#include "ferryd-libvirt-backend.h"
#include "ferry-compat.h"
#include "ferry-error.h"
#include "ferryd-daemon.h"
#include "ferryd-libvirt-check.h"
#include "ferryd-libvirt-domain.h"
#include "ferryd-libvirt-incoming.h"
#include "ferryd-libvirt-params.h"
#include "ferryd-libvirt-state.h"
#include "ferryd-libvirt-stream.h"

#include <libvirt-glib/libvirt-glib.h>
#include <libvirt/virterror.h>

#define DEFAULT_URI "qemu:///system"
#define RETRY_INTERVAL_MS 1000

struct _FerrydLibvirtBackend
{
  GObject parent_instance;

  char *uri;
  FerrydDaemon *daemon; /* weak */
  virConnectPtr conn;   /* NULL while libvirt is not reachable */
  guint generation;     /* bumped at each (dis)connection: late answers are dropped */
  gboolean connecting;
  gboolean said_down; /* the outage is logged once */
  guint retry_id;
  int lifecycle_id;
  int iteration_id;
  int job_completed_id;
  GHashTable *streams;  /* uuid -> FerrydLibvirtStream (weak): migrations from here */
  GHashTable *incoming; /* uuid -> FerrydLibvirtIncoming: migrations libvirt brings here */
  GHashTable *domains;  /* uuid -> FerrydDomain (published or hidden by a clash) */
  GHashTable *refresh;  /* uuid -> latest refresh sequence number */
  guint refresh_seq;
};

static void ferryd_libvirt_backend_iface_init (FerrydBackendInterface *iface);

G_DEFINE_TYPE_WITH_CODE (FerrydLibvirtBackend,
                         ferryd_libvirt_backend,
                         G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (FERRYD_TYPE_BACKEND,
                                                ferryd_libvirt_backend_iface_init))

/* What a worker thread read about one domain. */
typedef struct
{
  char *name;
  char *uuid;
  int state;
  int reason;
  gboolean gone;          /* libvirt does not know it (any more) */
  virDomainPtr migrating; /* its migration away from here runs (read at connection) */
} DomainInfo;

static void
domain_info_free (DomainInfo *info)
{
  if (info->migrating)
    virDomainFree (info->migrating);
  g_free (info->name);
  g_free (info->uuid);
  g_free (info);
}

static DomainInfo *
domain_info_read (virDomainPtr dom)
{
  DomainInfo *info = g_new0 (DomainInfo, 1);
  char uuid[VIR_UUID_STRING_BUFLEN];

  info->name = g_strdup (virDomainGetName (dom));
  if (virDomainGetUUIDString (dom, uuid) == 0)
    info->uuid = g_strdup (uuid);
  if (virDomainGetState (dom, &info->state, &info->reason, 0) < 0)
    info->gone = TRUE;
  return info;
}

/* --- domains --- */

/* A migration libvirt brings here, once its domain is published: the
 * engine shows it (and follows @incoming); the guest waits paused for its
 * memory from the start. */
static void
follow_incoming (FerrydLibvirtBackend *self, FerrydDomain *domain, DomainInfo *info)
{
  FerrydLibvirtIncoming *incoming = g_hash_table_lookup (self->incoming, info->uuid);

  if (incoming == NULL || self->daemon == NULL ||
      ferryd_daemon_lookup_domain (self->daemon, info->name) != domain)
    return;
  if (!ferryd_libvirt_incoming_get_announced (incoming))
    {
      ferryd_libvirt_incoming_set_announced (incoming);
      /* libvirt does not say where from */
      ferryd_backend_emit_incoming_migration (FERRYD_BACKEND (self), domain,
                                              FERRYD_STREAM (incoming), NULL);
    }
  if (info->state == VIR_DOMAIN_PAUSED && info->reason == VIR_DOMAIN_PAUSED_MIGRATION)
    ferryd_libvirt_incoming_receiving (incoming);
}

static void
apply_info (FerrydLibvirtBackend *self, DomainInfo *info)
{
  FerrydDomain *domain = g_hash_table_lookup (self->domains, info->uuid);
  const char *why;
  const char *state;

  if (info->gone)
    {
      if (domain)
        {
          g_info ("libvirt domain %s is gone", ferryd_domain_get_name (domain));
          if (self->daemon)
            ferryd_daemon_remove_backend_domain (self->daemon, domain);
          g_hash_table_remove (self->domains, info->uuid);
        }
      return;
    }
  state = ferryd_libvirt_state_name (info->state, info->reason, &why);
  /* A guest that appears paused for a migration, and stays so, is one
   * libvirt is bringing here. */
  if (info->state == VIR_DOMAIN_PAUSED && info->reason == VIR_DOMAIN_PAUSED_MIGRATION &&
      (domain == NULL || g_str_equal (ferryd_domain_get_state (domain), "incoming")))
    {
      state = "incoming";
      why = "";
    }
  if (domain == NULL)
    {
      FerrydDomainConfig *config = g_new0 (FerrydDomainConfig, 1);
      g_autoptr (GError) error = NULL;

      config->name = g_strdup (info->name);
      config->uuid = g_strdup (info->uuid);
      domain = ferryd_libvirt_domain_new (config, self->conn);
      ferryd_domain_set_run_state (domain, state, why);
      g_hash_table_insert (self->domains, g_strdup (info->uuid), domain);
      /* A name both backends know: the QMP domain keeps it, and the
       * libvirt one is not published (said in the log, once). */
      if (self->daemon && !ferryd_daemon_add_backend_domain (self->daemon, domain, &error))
        g_warning ("libvirt domain %s (%s) is not shown: %s", info->name, info->uuid,
                   error->message);
      follow_incoming (self, domain, info);
      return;
    }
  ferryd_domain_set_run_state (domain, state, why);
  follow_incoming (self, domain, info);
}

static void
incoming_status_cb (FerrydStream *stream, guint status, gint64 ts, gpointer user_data)
{
  FerrydLibvirtBackend *self = user_data;
  FerrydLibvirtIncoming *incoming = FERRYD_LIBVIRT_INCOMING (stream);

  /* (the stream holds itself while it says so) */
  if (ferryd_libvirt_incoming_has_ended (incoming))
    g_hash_table_remove (self->incoming, ferryd_libvirt_incoming_get_uuid (incoming));
}

/* libvirt started @dom's QEMU here to receive it (STARTED/MIGRATED):
 * followed from now on, shown once its domain is published. */
static void
incoming_started (FerrydLibvirtBackend *self, const char *uuid)
{
  FerrydLibvirtIncoming *incoming;

  if (g_hash_table_contains (self->incoming, uuid))
    return;
  incoming = ferryd_libvirt_incoming_new (self->conn, uuid);
  g_signal_connect_object (incoming, "status-changed", G_CALLBACK (incoming_status_cb), self, 0);
  g_hash_table_insert (self->incoming, g_strdup (uuid), incoming);
}

/* The connection went: what libvirt was bringing here can no longer be
 * followed. */
static void
drop_incoming (FerrydLibvirtBackend *self, const char *why)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->incoming);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, g_object_ref (value));
  for (guint i = 0; i < all->len; i++)
    ferryd_libvirt_incoming_lost (all->pdata[i], why);
  g_hash_table_remove_all (self->incoming);
}

static void
drop_domains (FerrydLibvirtBackend *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->domains);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      if (self->daemon)
        ferryd_daemon_remove_backend_domain (self->daemon, value);
      g_hash_table_iter_remove (&iter);
    }
  g_hash_table_remove_all (self->refresh);
}

typedef struct
{
  virDomainPtr dom;
  guint seq;
  guint generation;
} RefreshData;

static void
refresh_data_free (RefreshData *data)
{
  virDomainFree (data->dom);
  g_free (data);
}

static void
refresh_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RefreshData *data = task_data;

  g_task_return_pointer (task, domain_info_read (data->dom), (GDestroyNotify) domain_info_free);
}

static void
refresh_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FerrydLibvirtBackend *self = FERRYD_LIBVIRT_BACKEND (source);
  RefreshData *data = g_task_get_task_data (G_TASK (result));
  DomainInfo *info = g_task_propagate_pointer (G_TASK (result), NULL);

  /* Only the latest refresh of a domain counts, and none from an older
   * connection. */
  if (info && info->uuid && data->generation == self->generation &&
      GPOINTER_TO_UINT (g_hash_table_lookup (self->refresh, info->uuid)) == data->seq)
    {
      g_hash_table_remove (self->refresh, info->uuid);
      apply_info (self, info);
    }
  if (info)
    domain_info_free (info);
}

static int
lifecycle_cb (virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
  FerrydLibvirtBackend *self = opaque;
  g_autoptr (GTask) task = NULL;
  RefreshData *data;
  char uuid[VIR_UUID_STRING_BUFLEN];

  FerrydLibvirtStream *stream;

  FerrydLibvirtIncoming *incoming;

  if (conn != self->conn || virDomainGetUUIDString (dom, uuid) < 0)
    return 0;
  g_debug ("libvirt event %d/%d for %s", event, detail, virDomainGetName (dom));
  stream = g_hash_table_lookup (self->streams, uuid);
  if (stream)
    ferryd_libvirt_stream_lifecycle (stream, event, detail);
  /* only a migration into this host starts a domain "migrated" */
  if (event == VIR_DOMAIN_EVENT_STARTED && detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED)
    incoming_started (self, uuid);
  else if ((incoming = g_hash_table_lookup (self->incoming, uuid)))
    ferryd_libvirt_incoming_lifecycle (incoming, event, detail);
  data = g_new0 (RefreshData, 1);
  data->dom = dom;
  virDomainRef (dom);
  data->seq = ++self->refresh_seq;
  data->generation = self->generation;
  g_hash_table_insert (self->refresh, g_strdup (uuid), GUINT_TO_POINTER (data->seq));
  task = g_task_new (self, NULL, refresh_done, NULL);
  g_task_set_source_tag (task, lifecycle_cb);
  g_task_set_task_data (task, data, (GDestroyNotify) refresh_data_free);
  g_task_run_in_thread (task, refresh_thread);
  return 0;
}

static void
iteration_cb (virConnectPtr conn, virDomainPtr dom, int iteration, void *opaque)
{
  FerrydLibvirtBackend *self = opaque;
  char uuid[VIR_UUID_STRING_BUFLEN];
  FerrydLibvirtStream *stream;

  if (conn == self->conn && virDomainGetUUIDString (dom, uuid) == 0 &&
      (stream = g_hash_table_lookup (self->streams, uuid)))
    ferryd_libvirt_stream_iteration (stream, iteration);
}

static void
job_completed_cb (
    virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params, int n_params, void *opaque)
{
  FerrydLibvirtBackend *self = opaque;
  char uuid[VIR_UUID_STRING_BUFLEN];
  FerrydLibvirtStream *stream;
  FerrydLibvirtIncoming *incoming;

  if (conn != self->conn || virDomainGetUUIDString (dom, uuid) < 0)
    return;
  if ((stream = g_hash_table_lookup (self->streams, uuid)))
    ferryd_libvirt_stream_job_completed (stream, params, n_params);
  if ((incoming = g_hash_table_lookup (self->incoming, uuid)))
    ferryd_libvirt_incoming_job_completed (incoming, params, n_params);
}

/* --- the connection --- */

static void schedule_retry (FerrydLibvirtBackend *self);
static void close_cb (virConnectPtr conn, int reason, void *opaque);
static void start_connect (FerrydLibvirtBackend *self);
static void follow_running_migration (FerrydLibvirtBackend *self, DomainInfo *info);

typedef struct
{
  virConnectPtr conn;
  GPtrArray *infos; /* of DomainInfo */
  int lifecycle_id;
  int iteration_id;
  int job_completed_id;
} ConnectResult;

static void
connect_result_free (ConnectResult *result)
{
  if (result->conn)
    virConnectClose (result->conn);
  g_clear_pointer (&result->infos, g_ptr_array_unref);
  g_free (result);
}

static void
close_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  virConnectPtr conn = task_data;

  virConnectClose (conn);
  g_task_return_boolean (task, TRUE);
}

/* Close @conn off the main loop (the goodbye to libvirtd is a call). */
static void
close_conn_async (FerrydLibvirtBackend *self, virConnectPtr conn)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, NULL, NULL);

  g_task_set_source_tag (task, close_conn_async);
  g_task_set_task_data (task, conn, NULL);
  g_task_run_in_thread (task, close_thread);
}

static void
disconnected (FerrydLibvirtBackend *self, const char *why)
{
  virConnectPtr conn = self->conn;

  if (conn == NULL)
    return;
  g_message ("libvirt connection %s closed (%s): its domains are gone until it comes back",
             self->uri, why);
  self->conn = NULL;
  self->generation++;
  self->said_down = TRUE;
  virConnectUnregisterCloseCallback (conn, close_cb);
  /* The callbacks go with the connection; unregistering them would be a
   * call to a libvirtd that is not there. */
  close_conn_async (self, conn);
  drop_incoming (self, why);
  drop_domains (self);
  ferryd_backend_emit_availability_changed (FERRYD_BACKEND (self));
  schedule_retry (self);
}

static const char *
close_reason_name (int reason)
{
  switch (reason)
    {
    case VIR_CONNECT_CLOSE_REASON_ERROR:
      return "error";
    case VIR_CONNECT_CLOSE_REASON_EOF:
      return "libvirtd went away";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
      return "libvirtd stopped answering";
    default:
      return "closed";
    }
}

typedef struct
{
  FerrydLibvirtBackend *self;
  virConnectPtr conn;
  int reason;
} CloseData;

static gboolean
closed_idle (gpointer user_data)
{
  CloseData *data = user_data;

  if (data->conn == data->self->conn)
    disconnected (data->self, close_reason_name (data->reason));
  g_free (data);
  return G_SOURCE_REMOVE;
}

static void
close_cb (virConnectPtr conn, int reason, void *opaque)
{
  CloseData *data = g_new0 (CloseData, 1);

  /* libvirt calls this holding the connection's lock: the connection
   * is let go from the main loop's next turn. */
  data->self = opaque;
  data->conn = conn;
  data->reason = reason;
  g_idle_add (closed_idle, data);
}

/* Whether libvirt migrates @dom away from here (a migration a previous
 * ferryd started goes on without it). In a worker thread. */
static gboolean
migrating_out (virDomainPtr dom, const DomainInfo *info)
{
  virTypedParameterPtr stats = NULL;
  int n = 0, type = VIR_DOMAIN_JOB_NONE, operation = 0;
  gboolean yes;

  if (info->gone || (info->state != VIR_DOMAIN_RUNNING && info->state != VIR_DOMAIN_PAUSED))
    return FALSE;
  if (virDomainGetJobStats (dom, &type, &stats, &n, 0) < 0)
    return FALSE;
  yes = type != VIR_DOMAIN_JOB_NONE &&
        virTypedParamsGetInt (stats, n, VIR_DOMAIN_JOB_OPERATION, &operation) == 1 &&
        operation == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
  virTypedParamsFree (stats, n);
  return yes;
}

static void
connect_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  FerrydLibvirtBackend *self = source;
  const char *uri = task_data;
  ConnectResult *result = g_new0 (ConnectResult, 1);
  virDomainPtr *doms = NULL;
  int n;

  result->conn = virConnectOpen (uri);
  if (result->conn == NULL)
    {
      g_task_return_error (task,
                           ferryd_libvirt_error (FERRY_ERROR_PEER_UNREACHABLE, "cannot connect"));
      connect_result_free (result);
      return;
    }
  /* Find a libvirtd that stops answering without closing the socket. */
  virConnectSetKeepAlive (result->conn, 2, 3);
  result->lifecycle_id =
      virConnectDomainEventRegisterAny (result->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                        VIR_DOMAIN_EVENT_CALLBACK (lifecycle_cb), self, NULL);
  result->iteration_id =
      virConnectDomainEventRegisterAny (result->conn, NULL, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                                        VIR_DOMAIN_EVENT_CALLBACK (iteration_cb), self, NULL);
  result->job_completed_id =
      virConnectDomainEventRegisterAny (result->conn, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                        VIR_DOMAIN_EVENT_CALLBACK (job_completed_cb), self, NULL);
  n = virConnectListAllDomains (result->conn, &doms, 0);
  if (result->lifecycle_id < 0 || result->iteration_id < 0 || result->job_completed_id < 0 || n < 0)
    {
      g_task_return_error (task, ferryd_libvirt_error (FERRY_ERROR_FAILED, "cannot list domains"));
      connect_result_free (result);
      return;
    }
  result->infos = g_ptr_array_new_with_free_func ((GDestroyNotify) domain_info_free);
  for (int i = 0; i < n; i++)
    {
      DomainInfo *info = domain_info_read (doms[i]);

      if (migrating_out (doms[i], info))
        {
          info->migrating = doms[i];
          virDomainRef (doms[i]);
        }
      g_ptr_array_add (result->infos, info);
      virDomainFree (doms[i]);
    }
  free (doms);
  g_task_return_pointer (task, result, (GDestroyNotify) connect_result_free);
}

static void
connect_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  FerrydLibvirtBackend *self = FERRYD_LIBVIRT_BACKEND (source);
  g_autoptr (GError) error = NULL;
  ConnectResult *result = g_task_propagate_pointer (G_TASK (res), &error);

  self->connecting = FALSE;
  if (result == NULL)
    {
      if (!self->said_down)
        g_message ("libvirt backend (%s): %s; running without it, retrying in the background",
                   self->uri, error->message);
      self->said_down = TRUE;
      schedule_retry (self);
      return;
    }
  if (self->daemon == NULL) /* the daemon went meanwhile */
    {
      connect_result_free (result);
      return;
    }
  self->conn = g_steal_pointer (&result->conn);
  self->lifecycle_id = result->lifecycle_id;
  self->iteration_id = result->iteration_id;
  self->job_completed_id = result->job_completed_id;
  self->generation++;
  virConnectRegisterCloseCallback (self->conn, close_cb, self, NULL);
  g_message ("libvirt backend: connected to %s", self->uri);
  self->said_down = FALSE;
  for (guint i = 0; i < result->infos->len; i++)
    {
      DomainInfo *info = result->infos->pdata[i];
      if (info->uuid)
        apply_info (self, info);
    }
  for (guint i = 0; i < result->infos->len; i++)
    {
      DomainInfo *info = result->infos->pdata[i];
      if (info->uuid && info->migrating)
        follow_running_migration (self, info);
    }
  connect_result_free (result);
  ferryd_backend_emit_availability_changed (FERRYD_BACKEND (self));
}

static void stream_gone (gpointer data, GObject *where_the_object_was);

/* libvirt migrates @info's domain away from here, and nothing of this
 * ferryd follows it (a previous ferryd started it): the engine shows it
 * from here on. */
static void
follow_running_migration (FerrydLibvirtBackend *self, DomainInfo *info)
{
  FerrydDomain *domain = g_hash_table_lookup (self->domains, info->uuid);
  g_autoptr (FerrydLibvirtStream) stream = NULL;

  if (domain == NULL || self->daemon == NULL ||
      ferryd_daemon_lookup_domain (self->daemon, info->name) != domain ||
      ferryd_domain_get_migration (domain) != NULL ||
      g_hash_table_contains (self->streams, info->uuid))
    return;
  g_message ("libvirt migrates %s away from here (started before this ferryd): following it",
             info->name);
  stream = ferryd_libvirt_stream_new_running (self->conn, info->uuid, info->migrating);
  g_hash_table_insert (self->streams, g_strdup (info->uuid), stream);
  g_object_weak_ref (G_OBJECT (stream), stream_gone, self);
  /* libvirt's job does not say where to */
  ferryd_backend_emit_outgoing_migration (FERRYD_BACKEND (self), domain, FERRYD_STREAM (stream),
                                          NULL);
}

static void
start_connect (FerrydLibvirtBackend *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->connecting || self->conn || self->daemon == NULL)
    return;
  self->connecting = TRUE;
  task = g_task_new (self, NULL, connect_done, NULL);
  g_task_set_source_tag (task, start_connect);
  g_task_set_task_data (task, g_strdup (self->uri), g_free);
  g_task_run_in_thread (task, connect_thread);
}

static gboolean
retry_cb (gpointer user_data)
{
  FerrydLibvirtBackend *self = user_data;

  self->retry_id = 0;
  start_connect (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (FerrydLibvirtBackend *self)
{
  if (self->retry_id == 0 && self->daemon)
    self->retry_id = g_timeout_add (RETRY_INTERVAL_MS, retry_cb, self);
}

/* --- FerrydBackend --- */

static const char *
backend_get_name (FerrydBackend *backend)
{
  return "libvirt";
}

static gboolean
backend_is_available (FerrydBackend *backend)
{
  return FERRYD_LIBVIRT_BACKEND (backend)->conn != NULL;
}

static void
daemon_gone (gpointer data, GObject *where_the_object_was)
{
  FerrydLibvirtBackend *self = data;

  self->daemon = NULL;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_hash_table_remove_all (self->incoming);
  g_hash_table_remove_all (self->domains);
  if (self->conn)
    {
      /* ferryd is exiting: its main loop no longer runs */
      virConnectUnregisterCloseCallback (self->conn, close_cb);
      virConnectDomainEventDeregisterAny (self->conn, self->lifecycle_id);
      virConnectDomainEventDeregisterAny (self->conn, self->iteration_id);
      virConnectDomainEventDeregisterAny (self->conn, self->job_completed_id);
      virConnectClose (self->conn);
      self->conn = NULL;
    }
}

static void
backend_reattach (FerrydBackend *backend, FerrydDaemon *daemon)
{
  FerrydLibvirtBackend *self = FERRYD_LIBVIRT_BACKEND (backend);
  const char *uri = ferryd_backend_get_setting ("libvirt-uri");

  if (g_strcmp0 (uri, "none") == 0 || self->daemon)
    return;
  g_set_str (&self->uri, uri ? uri : DEFAULT_URI);
  self->daemon = daemon;
  g_object_weak_ref (G_OBJECT (daemon), daemon_gone, self);
  start_connect (self);
}

typedef struct
{
  virConnectPtr conn;
  char *uuid;
  char *name;
} DomainOp;

static FerrydDomain *
backend_create_domain (FerrydBackend *backend,
                       FerrydDomainConfig *config,
                       const char *state_dir,
                       const char *runtime_dir)
{
  return ferryd_libvirt_domain_new (config, FERRYD_LIBVIRT_BACKEND (backend)->conn);
}

static gboolean
backend_accept_incoming (FerrydBackend *backend, const FerrydDomainConfig *live, GError **error)
{
  /* libvirt's own protocol carries libvirt domains; Ferry's peer
   * protocol brings QMP ones only. */
  g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                       "libvirt domains arrive through libvirt, not through Ferry's peer protocol");
  return FALSE;
}

static const char *const *
backend_list_accelerators (FerrydBackend *backend)
{
  static const char *const none[] = { NULL };
  return none;
}

static char *
backend_check_destination (FerrydBackend *backend,
                           FerrydDomain *domain,
                           const char *const *peer_accelerators)
{
  return NULL;
}

static void
stream_gone (gpointer data, GObject *where_the_object_was)
{
  FerrydLibvirtBackend *self = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == (gpointer) where_the_object_was)
      g_hash_table_iter_remove (&iter);
}

static FerrydStream *
backend_open_outgoing (FerrydBackend *backend, FerrydDomain *domain)
{
  FerrydLibvirtBackend *self = FERRYD_LIBVIRT_BACKEND (backend);
  FerrydLibvirtStream *stream =
      ferryd_libvirt_stream_new (self->conn, ferryd_domain_get_uuid (domain));
  FerrydLibvirtStream *old = g_hash_table_lookup (self->streams, ferryd_domain_get_uuid (domain));

  if (old)
    g_object_weak_unref (G_OBJECT (old), stream_gone, self);
  g_hash_table_insert (self->streams, g_strdup (ferryd_domain_get_uuid (domain)), stream);
  g_object_weak_ref (G_OBJECT (stream), stream_gone, self);
  return FERRYD_STREAM (stream);
}

static FerrydStream *
backend_open_incoming (FerrydBackend *backend, FerrydDomain *domain)
{
  /* never called: accept_incoming refuses */
  g_return_val_if_reached (NULL);
}

static gboolean
backend_check_migrate (FerrydBackend *backend,
                       FerrydDomain *domain,
                       const char *destination,
                       const FerrydMigrateOptions *options,
                       GError **error)
{
  FerrydLibvirtBackend *self = FERRYD_LIBVIRT_BACKEND (backend);
  g_autoptr (FerrydLibvirtMigrateParams) params = NULL;

  /* A libvirt domain goes where libvirt takes it: a libvirt URI. */
  if (!g_str_has_prefix (destination, "qemu") || strstr (destination, "://") == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Domain '%s' is a libvirt domain: its destination is a libvirt URI "
                   "(qemu+ssh://host/system, qemu+tls://..., ...), not '%s'",
                   ferryd_domain_get_name (domain), destination);
      return FALSE;
    }
  params = ferryd_libvirt_migrate_params_new (options, error);
  if (params == NULL)
    return FALSE;
  if (self->conn == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "libvirt (%s) is not reachable",
                   self->uri);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  DomainOp op;
  char *destination;
  gboolean may_contact;
  char *options_blocker;
} CheckOp;

static void
check_op_free (CheckOp *c)
{
  if (c->op.conn)
    virConnectClose (c->op.conn);
  g_free (c->op.uuid);
  g_free (c->op.name);
  g_free (c->destination);
  g_free (c->options_blocker);
  g_free (c);
}

static void
check_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CheckOp *c = task_data;
  GVariant *report = g_variant_ref_sink (ferryd_libvirt_check_run (
      c->op.conn, c->op.uuid, c->op.name, c->destination, c->may_contact));

  if (c->options_blocker)
    {
      GVariantDict dict;
      g_autofree const char **blockers = NULL;
      g_autoptr (GStrvBuilder) all = g_strv_builder_new ();
      g_auto (GStrv) list = NULL;

      g_variant_dict_init (&dict, report);
      g_variant_lookup (report, "blockers", "^a&s", &blockers);
      g_strv_builder_addv (all, blockers);
      g_strv_builder_add (all, c->options_blocker);
      list = g_strv_builder_end (all);
      g_variant_dict_insert_value (&dict, "blockers",
                                   g_variant_new_strv ((const char *const *) list, -1));
      g_variant_unref (report);
      report = g_variant_ref_sink (g_variant_dict_end (&dict));
    }
  g_task_return_pointer (task, report, (GDestroyNotify) g_variant_unref);
}

static void
backend_check_async (FerrydBackend *backend,
                     FerrydDomain *domain,
                     const char *destination,
                     const FerrydMigrateOptions *options,
                     gboolean may_contact,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  FerrydLibvirtBackend *self = FERRYD_LIBVIRT_BACKEND (backend);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  CheckOp *c = g_new0 (CheckOp, 1);

  g_task_set_source_tag (task, backend_check_async);
  c->op.uuid = g_strdup (ferryd_domain_get_uuid (domain));
  c->op.name = g_strdup (ferryd_domain_get_name (domain));
  if (self->conn)
    {
      c->op.conn = self->conn;
      virConnectRef (c->op.conn);
    }
  c->destination = g_strdup (destination);
  /* what Migrate would refuse is a blocker; the destination is only
   * dialled when it is a libvirt URI */
  if (!backend_check_migrate (backend, domain, destination, options, &error))
    {
      c->options_blocker = g_strdup (error->message);
      c->may_contact = may_contact && g_str_has_prefix (destination, "qemu") &&
                       strstr (destination, "://") != NULL;
    }
  else
    c->may_contact = may_contact;
  g_task_set_task_data (task, c, (GDestroyNotify) check_op_free);
  g_task_run_in_thread (task, check_thread);
}

static GVariant *
backend_check_finish (FerrydBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
ferryd_libvirt_backend_iface_init (FerrydBackendInterface *iface)
{
  iface->get_name = backend_get_name;
  iface->create_domain = backend_create_domain;
  iface->reattach = backend_reattach;
  iface->accept_incoming = backend_accept_incoming;
  iface->list_accelerators = backend_list_accelerators;
  iface->check_destination = backend_check_destination;
  iface->open_outgoing = backend_open_outgoing;
  iface->open_incoming = backend_open_incoming;
  iface->is_available = backend_is_available;
  iface->check_migrate = backend_check_migrate;
  iface->check_async = backend_check_async;
  iface->check_finish = backend_check_finish;
}

static void
ferryd_libvirt_backend_finalize (GObject *object)
{
  FerrydLibvirtBackend *self = FERRYD_LIBVIRT_BACKEND (object);

  if (self->daemon)
    {
      g_object_weak_unref (G_OBJECT (self->daemon), daemon_gone, self);
      daemon_gone (self, NULL);
    }
  g_hash_table_unref (self->incoming);
  g_hash_table_unref (self->domains);
  g_hash_table_unref (self->refresh);
  g_free (self->uri);
  G_OBJECT_CLASS (ferryd_libvirt_backend_parent_class)->finalize (object);
}

static void
ferryd_libvirt_backend_class_init (FerrydLibvirtBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ferryd_libvirt_backend_finalize;
}

static void
ferryd_libvirt_backend_init (FerrydLibvirtBackend *self)
{
  self->domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->refresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->incoming = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

/* libvirt-glib's event loop logs every watch and timeout it touches at
 * debug level, without a log domain: with --verbose that drowns
 * ferryd's own log. (ferryd's own messages all have a domain.) */
static void
drop_debug (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
}

FerrydBackend *
ferryd_libvirt_backend_new (void)
{
  /* libvirt's events are dispatched by ferryd's main loop; registered
   * once, before the first connection. */
  gvir_event_register ();
  g_log_set_handler (NULL, G_LOG_LEVEL_DEBUG, drop_debug, NULL);
  return g_object_new (FERRYD_TYPE_LIBVIRT_BACKEND, NULL);
}
