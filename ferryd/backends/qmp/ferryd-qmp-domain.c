/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-domain.c: a QMP-backend domain: its QEMU and what it says of the guest
 *
 * The state a client sees is the base's (engine/ferryd-domain.c); this
 * tells it the run state of the domain's QEMU process whenever it changes.
 */
#define G_LOG_DOMAIN "ferry-domain"

#include "ferry-compat.h"
#include "ferryd-qmp-domain.h"
#include "ferry-error.h"
#include "ferryd-qmp-error.h"

/* How long the guest gets to power off before QEMU is told to quit. */
#define SHUTDOWN_GRACE_MS 3000

struct _FerrydQmpDomain
{
  FerrydDomain parent_instance;

  FerrydQemu *qemu;
  gulong qemu_notify_id;
};

G_DEFINE_FINAL_TYPE (FerrydQmpDomain, ferryd_qmp_domain, FERRYD_TYPE_DOMAIN)

static const char *
qemu_state (FerrydQmpDomain *self)
{
  const char *run_state;

  if (self->qemu == NULL || ferryd_qemu_has_exited (self->qemu))
    return "shutoff";
  run_state = ferryd_qemu_get_run_state (self->qemu);
  if (g_str_equal (run_state, "running"))
    return "running";
  if (g_str_equal (run_state, "shutoff"))
    return "shutoff";
  if (g_str_equal (run_state, "crashed"))
    return "crashed";
  return "paused";
}

static void
update_state (FerrydQmpDomain *self)
{
  ferryd_domain_set_run_state (FERRYD_DOMAIN (self), qemu_state (self),
                               self->qemu ? ferryd_qemu_get_state_reason (self->qemu) : "");
}

static void
qemu_run_state_cb (GObject *qemu, GParamSpec *pspec, gpointer user_data)
{
  FerrydQmpDomain *self = user_data;

  /* An exited QEMU is dropped so the domain can be started again. */
  if (ferryd_qemu_has_exited (FERRYD_QEMU (qemu)) &&
      ferryd_domain_get_migration (FERRYD_DOMAIN (self)) == NULL)
    ferryd_qmp_domain_set_qemu (self, NULL);
  else
    update_state (self);
}

void
ferryd_qmp_domain_set_qemu (FerrydQmpDomain *self, FerrydQemu *qemu)
{
  if (self->qemu == qemu)
    return;
  if (self->qemu)
    {
      g_clear_signal_handler (&self->qemu_notify_id, self->qemu);
      g_clear_object (&self->qemu);
    }
  if (qemu)
    {
      self->qemu = g_object_ref (qemu);
      self->qemu_notify_id =
          g_signal_connect (qemu, "notify::run-state", G_CALLBACK (qemu_run_state_cb), self);
    }
  update_state (self);
}

FerrydQemu *
ferryd_qmp_domain_get_qemu (FerrydQmpDomain *self)
{
  return self->qemu;
}

static void
launch_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpDomain *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydQemu) qemu = ferryd_qemu_launch_finish (result, &error);

  if (qemu == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ferryd_qmp_domain_set_qemu (self, qemu);
  g_task_return_boolean (task, TRUE);
}

static void
qmp_domain_start_async (FerrydDomain *domain,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (domain, cancellable, callback, user_data);
  FerrydQemuLaunch launch = { ferryd_domain_get_runtime_dir (domain),
                              ferryd_domain_get_state_dir (domain), FALSE, FALSE };

  g_task_set_source_tag (task, qmp_domain_start_async);
  ferryd_qemu_launch_async (ferryd_domain_get_config (domain), &launch, cancellable, launch_cb,
                            g_steal_pointer (&task));
}

static gboolean
qmp_domain_start_finish (FerrydDomain *domain, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, domain), FALSE);
  return ferryd_qmp_propagate_boolean (G_TASK (result), error);
}

static void
resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (ferryd_qemu_resume_finish (FERRYD_QEMU (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
qmp_domain_resume_async (FerrydDomain *domain,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  FerrydQmpDomain *self = FERRYD_QMP_DOMAIN (domain);
  g_autoptr (GTask) task = g_task_new (domain, cancellable, callback, user_data);

  g_task_set_source_tag (task, qmp_domain_resume_async);
  if (self->qemu == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Domain '%s' has no QEMU",
                               ferryd_domain_get_name (domain));
      return;
    }
  ferryd_qemu_resume_async (self->qemu, resumed_cb, g_steal_pointer (&task));
}

static gboolean
qmp_domain_resume_finish (FerrydDomain *domain, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, domain), FALSE);
  return ferryd_qmp_propagate_boolean (G_TASK (result), error);
}

static void
shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_qemu_shutdown_finish (FERRYD_QEMU (source), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
qmp_domain_shutdown_async (FerrydDomain *domain,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  FerrydQmpDomain *self = FERRYD_QMP_DOMAIN (domain);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, qmp_domain_shutdown_async);
  if (self->qemu == NULL || ferryd_qemu_has_exited (self->qemu))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Domain '%s' is not running",
                               ferryd_domain_get_name (domain));
      return;
    }
  ferryd_qemu_shutdown_async (self->qemu, SHUTDOWN_GRACE_MS, shutdown_cb, g_steal_pointer (&task));
}

static gboolean
qmp_domain_shutdown_finish (FerrydDomain *domain, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, domain), FALSE);
  return ferryd_qmp_propagate_boolean (G_TASK (result), error);
}

FerrydDomain *
ferryd_qmp_domain_new (const char *backend,
                       FerrydDomainConfig *config,
                       const char *state_dir,
                       const char *runtime_dir)
{
  FerrydDomain *self = g_object_new (FERRYD_TYPE_QMP_DOMAIN, NULL);

  ferryd_domain_construct (self, backend, config, state_dir, runtime_dir);
  return self;
}

static void
ferryd_qmp_domain_dispose (GObject *object)
{
  FerrydQmpDomain *self = FERRYD_QMP_DOMAIN (object);

  if (self->qemu)
    g_clear_signal_handler (&self->qemu_notify_id, self->qemu);
  g_clear_object (&self->qemu);
  G_OBJECT_CLASS (ferryd_qmp_domain_parent_class)->dispose (object);
}

static void
ferryd_qmp_domain_class_init (FerrydQmpDomainClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  FerrydDomainClass *domain_class = FERRYD_DOMAIN_CLASS (klass);

  object_class->dispose = ferryd_qmp_domain_dispose;
  domain_class->start_async = qmp_domain_start_async;
  domain_class->start_finish = qmp_domain_start_finish;
  domain_class->shutdown_async = qmp_domain_shutdown_async;
  domain_class->shutdown_finish = qmp_domain_shutdown_finish;
  domain_class->resume_async = qmp_domain_resume_async;
  domain_class->resume_finish = qmp_domain_resume_finish;
}

static void
ferryd_qmp_domain_init (FerrydQmpDomain *self)
{
}
