/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-domain.c: a libvirt domain, started and shut down
 * through libvirt (each call in a worker thread: libvirtd may take its
 * time); its state is set by the backend from libvirt's events */
#define G_LOG_DOMAIN "ferry-libvirt"

#include "ferryd-libvirt-domain.h"
#include "ferry-error.h"
#include "ferryd-libvirt-state.h"

/* How long the guest gets to power off before libvirt destroys it. */
#define SHUTDOWN_GRACE_MS 3000

struct _FerrydLibvirtDomain
{
  FerrydDomain parent_instance;

  virConnectPtr conn; /* a reference, or NULL */
};

G_DEFINE_FINAL_TYPE (FerrydLibvirtDomain, ferryd_libvirt_domain, FERRYD_TYPE_DOMAIN)

typedef struct
{
  virConnectPtr conn;
  char *uuid;
  char *name;
  /* for a one-call operation (call_thread) */
  int (*call) (virDomainPtr dom);
  const char *failure;
} DomainOp;

static void
domain_op_free (DomainOp *op)
{
  if (op->conn)
    virConnectClose (op->conn); /* a reference: no call to libvirtd */
  g_free (op->uuid);
  g_free (op->name);
  g_free (op);
}

/* @func runs in a worker thread with the DomainOp as task data; @call
 * and @failure are for call_thread. */
static void
run_op (FerrydLibvirtDomain *self,
        GTaskThreadFunc func,
        int (*call) (virDomainPtr dom),
        const char *failure,
        GCancellable *cancellable,
        GAsyncReadyCallback callback,
        gpointer user_data,
        gpointer tag)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  DomainOp *op = g_new0 (DomainOp, 1);

  g_task_set_source_tag (task, tag);
  op->call = call;
  op->failure = failure;
  op->uuid = g_strdup (ferryd_domain_get_uuid (FERRYD_DOMAIN (self)));
  op->name = g_strdup (ferryd_domain_get_name (FERRYD_DOMAIN (self)));
  if (self->conn)
    {
      op->conn = self->conn;
      virConnectRef (op->conn);
    }
  g_task_set_task_data (task, op, (GDestroyNotify) domain_op_free);
  g_task_run_in_thread (task, func);
}

static virDomainPtr
domain_op_lookup (DomainOp *op, GError **error)
{
  virDomainPtr dom;

  if (op->conn == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED,
                   "libvirt is not reachable: domain '%s' cannot be reached", op->name);
      return NULL;
    }
  dom = virDomainLookupByUUIDString (op->conn, op->uuid);
  if (dom == NULL)
    ferryd_libvirt_set_error (error, FERRY_ERROR_NOT_FOUND, op->name);
  return dom;
}

/* One libvirt call on the domain: virDomainCreate, virDomainResume. */
static void
call_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DomainOp *op = task_data;
  GError *error = NULL;
  virDomainPtr dom = domain_op_lookup (op, &error);

  if (dom && op->call (dom) < 0)
    ferryd_libvirt_set_error (&error, FERRY_ERROR_FAILED, op->failure);
  if (dom)
    virDomainFree (dom);
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
domain_start_async (FerrydDomain *domain,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  run_op (FERRYD_LIBVIRT_DOMAIN (domain), call_thread, virDomainCreate,
          "libvirt could not start the domain", cancellable, callback, user_data,
          domain_start_async);
}

static void
domain_resume_async (FerrydDomain *domain,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  run_op (FERRYD_LIBVIRT_DOMAIN (domain), call_thread, virDomainResume,
          "libvirt could not resume the domain", cancellable, callback, user_data,
          domain_resume_async);
}

static gboolean
domain_op_finish (FerrydDomain *domain, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, domain), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
shutdown_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DomainOp *op = task_data;
  GError *error = NULL;
  virDomainPtr dom = domain_op_lookup (op, &error);
  gint64 deadline = g_get_monotonic_time () + SHUTDOWN_GRACE_MS * G_TIME_SPAN_MILLISECOND;
  int state = VIR_DOMAIN_NOSTATE;

  if (dom == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* ACPI first; a guest that ignores it is destroyed after the grace
   * period. This thread may wait: it is not the main loop. */
  if (virDomainShutdownFlags (dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) == 0)
    while (g_get_monotonic_time () < deadline)
      {
        if (virDomainGetState (dom, &state, NULL, 0) < 0 || state == VIR_DOMAIN_SHUTOFF)
          break;
        g_usleep (100 * G_TIME_SPAN_MILLISECOND);
      }
  if (state != VIR_DOMAIN_SHUTOFF && virDomainIsActive (dom) == 1 && virDomainDestroy (dom) < 0)
    ferryd_libvirt_set_error (&error, FERRY_ERROR_FAILED, "libvirt could not stop the domain");
  virDomainFree (dom);
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
domain_shutdown_async (FerrydDomain *domain,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  run_op (FERRYD_LIBVIRT_DOMAIN (domain), shutdown_thread, NULL, NULL, cancellable, callback,
          user_data, domain_shutdown_async);
}

FerrydDomain *
ferryd_libvirt_domain_new (FerrydDomainConfig *config, virConnectPtr conn)
{
  FerrydLibvirtDomain *self = g_object_new (FERRYD_TYPE_LIBVIRT_DOMAIN, NULL);

  /* libvirt keeps the domain's files: no state or runtime directory */
  ferryd_domain_construct (FERRYD_DOMAIN (self), "libvirt", config, NULL, NULL);
  if (conn)
    {
      self->conn = conn;
      virConnectRef (conn);
    }
  return FERRYD_DOMAIN (self);
}

static void
ferryd_libvirt_domain_finalize (GObject *object)
{
  FerrydLibvirtDomain *self = FERRYD_LIBVIRT_DOMAIN (object);

  if (self->conn)
    virConnectClose (self->conn);
  G_OBJECT_CLASS (ferryd_libvirt_domain_parent_class)->finalize (object);
}

static void
ferryd_libvirt_domain_class_init (FerrydLibvirtDomainClass *klass)
{
  FerrydDomainClass *domain_class = FERRYD_DOMAIN_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ferryd_libvirt_domain_finalize;
  domain_class->start_async = domain_start_async;
  domain_class->start_finish = domain_op_finish;
  domain_class->shutdown_async = domain_shutdown_async;
  domain_class->shutdown_finish = domain_op_finish;
  domain_class->resume_async = domain_resume_async;
  domain_class->resume_finish = domain_op_finish;
}

static void
ferryd_libvirt_domain_init (FerrydLibvirtDomain *self)
{
}
