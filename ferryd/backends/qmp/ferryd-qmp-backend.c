/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-backend.c: FerrydBackend over QEMU processes and QMP */
#define G_LOG_DOMAIN "ferry-qmp-backend"

#include "ferryd-qmp-backend.h"
#include "ferryd-qmp-probe.h"
#include "ferryd-qmp-sample.h"
#include "ferry-error.h"
#include "ferryd-qmp-error.h"
#include "ferryd-daemon.h"

#include <glib/gstdio.h>
#include "ferryd-qemu.h"
#include "ferryd-qmp-domain.h"
#include "ferryd-qmp-stream.h"

struct _FerrydQmpBackend
{
  GObject parent_instance;
};

static void ferryd_qmp_backend_iface_init (FerrydBackendInterface *iface);

G_DEFINE_TYPE_WITH_CODE (FerrydQmpBackend,
                         ferryd_qmp_backend,
                         G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (FERRYD_TYPE_BACKEND, ferryd_qmp_backend_iface_init))

static const char *
backend_get_name (FerrydBackend *backend)
{
  return "qmp";
}

static FerrydDomain *
backend_create_domain (FerrydBackend *backend,
                       FerrydDomainConfig *config,
                       const char *state_dir,
                       const char *runtime_dir)
{
  return ferryd_qmp_domain_new (backend_get_name (backend), config, state_dir, runtime_dir);
}

typedef struct
{
  FerrydDaemon *daemon;
  FerrydBackend *backend;
  FerrydDomainConfig *config;
} AttachData;

static void
attached_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AttachData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydQemu) qemu = ferryd_qemu_attach_finish (result, &error);
  FerrydDomain *domain;

  if (qemu == NULL)
    {
      /* That QEMU is gone: its files are stale. */
      const char *runtime_dir = ferryd_daemon_get_runtime_dir (data->daemon);
      g_autofree char *dir = g_build_filename (runtime_dir, "qemu", NULL);
      g_autofree char *conf = g_strdup_printf ("%s/%s.conf", dir, data->config->name);
      g_autofree char *qmp = g_strdup_printf ("%s/%s.qmp", dir, data->config->name);
      g_autofree char *incoming = g_strdup_printf ("%s/%s.incoming", dir, data->config->name);

      g_debug ("not re-attaching %s: %s", data->config->name, error->message);
      (void) g_unlink (conf);
      (void) g_unlink (qmp);
      ferryd_qemu_remove_incoming_images (incoming);
      (void) g_unlink (incoming);
      ferryd_domain_config_free (data->config);
    }
  else
    {
      domain = ferryd_daemon_domain_for_running (data->daemon, data->backend,
                                                 g_steal_pointer (&data->config));
      ferryd_qmp_domain_set_qemu (FERRYD_QMP_DOMAIN (domain), qemu);
      g_info ("re-attached to QEMU %d of domain %s", (int) ferryd_qemu_get_pid (qemu),
              ferryd_domain_get_name (domain));
    }
  ferryd_daemon_reattach_release (data->daemon);
  g_object_unref (data->daemon);
  g_object_unref (data->backend);
  g_free (data);
}

/* QEMUs outlive ferryd: find the ones a previous instance started. */
static void
backend_reattach (FerrydBackend *backend, FerrydDaemon *daemon)
{
  const char *runtime_dir = ferryd_daemon_get_runtime_dir (daemon);
  g_autofree char *dir_path = g_build_filename (runtime_dir, "qemu", NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *file;

  while (dir && (file = g_dir_read_name (dir)))
    {
      g_autofree char *path = NULL;
      g_autofree char *text = NULL;
      FerrydDomainConfig *config;
      AttachData *data;

      if (!g_str_has_suffix (file, ".conf"))
        continue;
      path = g_build_filename (dir_path, file, NULL);
      if (!g_file_get_contents (path, &text, NULL, NULL) ||
          !(config = ferryd_domain_config_parse (text, NULL)))
        continue;
      data = g_new0 (AttachData, 1);
      data->daemon = g_object_ref (daemon);
      data->backend = g_object_ref (backend);
      data->config = config;
      ferryd_daemon_reattach_hold (daemon);
      ferryd_qemu_attach_async (runtime_dir, config, attached_cb, data);
    }
}

static gboolean
backend_accept_incoming (FerrydBackend *backend, const FerrydDomainConfig *live, GError **error)
{
  /* The source names the QEMU binary to run here, as root: accept only a
   * QEMU system emulator found on this host's PATH, never a path. */
  if (!g_str_has_prefix (live->qemu_binary, "qemu-system-") || strchr (live->qemu_binary, '/'))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Refusing QEMU binary '%s' from the source: only qemu-system-* "
                   "from this host's PATH",
                   live->qemu_binary);
      return FALSE;
    }
  return TRUE;
}

static const char *const *
backend_list_accelerators (FerrydBackend *backend)
{
  static const char *const with_kvm[] = { "kvm", "tcg", NULL };
  static const char *const tcg_only[] = { "tcg", NULL };

  return ferryd_qemu_kvm_usable () ? with_kvm : tcg_only;
}

/* The default binary of a domain description (QEMU Binary=) answers for
 * the host. */
static void
probe_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GStrv capabilities = ferryd_qmp_probe_finish (result, &error);

  if (capabilities == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, capabilities, (GDestroyNotify) g_strfreev);
}

static void
backend_probe_capabilities_async (FerrydBackend *backend,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task = g_task_new (backend, cancellable, callback, user_data);

  g_task_set_source_tag (task, backend_probe_capabilities_async);
  ferryd_qmp_probe_async ("qemu-system-x86_64", cancellable, probe_cb, task);
}

static GStrv
backend_probe_capabilities_finish (FerrydBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  GStrv blocked;
  guint64 dirty_rate;
} DomainSample;

static void
domain_sample_free (DomainSample *sample)
{
  g_strfreev (sample->blocked);
  g_free (sample);
}

static void
sample_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  DomainSample *sample = g_new0 (DomainSample, 1);

  if (!ferryd_qmp_sample_finish (result, &sample->blocked, &sample->dirty_rate, &error))
    {
      domain_sample_free (sample);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, sample, (GDestroyNotify) domain_sample_free);
}

static void
backend_sample_domain_async (FerrydBackend *backend,
                             FerrydDomain *domain,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);
  FerrydQemu *qemu = ferryd_qmp_domain_get_qemu (FERRYD_QMP_DOMAIN (domain));

  g_task_set_source_tag (task, backend_sample_domain_async);
  if (qemu == NULL || ferryd_qemu_get_qmp (qemu) == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Domain '%s' has no QEMU",
                               ferryd_domain_get_name (domain));
      return;
    }
  ferryd_qmp_sample_async (ferryd_qemu_get_qmp (qemu), cancellable, sample_cb,
                           g_steal_pointer (&task));
}

static gboolean
backend_sample_domain_finish (FerrydBackend *backend,
                              GAsyncResult *result,
                              GStrv *blocked_reasons,
                              guint64 *dirty_rate,
                              GError **error)
{
  DomainSample *sample;

  g_return_val_if_fail (g_task_is_valid (result, backend), FALSE);
  sample = g_task_propagate_pointer (G_TASK (result), error);
  if (sample == NULL)
    return FALSE;
  *blocked_reasons = g_steal_pointer (&sample->blocked);
  *dirty_rate = sample->dirty_rate;
  domain_sample_free (sample);
  return TRUE;
}

static char *
backend_check_destination (FerrydBackend *backend,
                           FerrydDomain *domain,
                           const char *const *peer_accelerators)
{
  FerrydQemu *qemu = ferryd_qmp_domain_get_qemu (FERRYD_QMP_DOMAIN (domain));
  /* The accelerator in use; the description's when the guest is off. */
  FerrydAccel accel = qemu && ferryd_qemu_get_config (qemu)
                          ? ferryd_qemu_get_config (qemu)->accel
                          : ferryd_domain_get_config (domain)->accel;

  return ferryd_qemu_accel_blocker (accel, peer_accelerators);
}

static FerrydStream *
backend_open_outgoing (FerrydBackend *backend, FerrydDomain *domain)
{
  return ferryd_qmp_stream_new_outgoing (domain);
}

static FerrydStream *
backend_open_incoming (FerrydBackend *backend, FerrydDomain *domain)
{
  return ferryd_qmp_stream_new_incoming (domain);
}

FerrydBackend *
ferryd_qmp_backend_new (void)
{
  return g_object_new (FERRYD_TYPE_QMP_BACKEND, NULL);
}

static void
ferryd_qmp_backend_class_init (FerrydQmpBackendClass *klass)
{
}

static void
ferryd_qmp_backend_init (FerrydQmpBackend *self)
{
}

static void
ferryd_qmp_backend_iface_init (FerrydBackendInterface *iface)
{
  iface->get_name = backend_get_name;
  iface->create_domain = backend_create_domain;
  iface->reattach = backend_reattach;
  iface->accept_incoming = backend_accept_incoming;
  iface->list_accelerators = backend_list_accelerators;
  iface->probe_capabilities_async = backend_probe_capabilities_async;
  iface->probe_capabilities_finish = backend_probe_capabilities_finish;
  iface->sample_domain_async = backend_sample_domain_async;
  iface->sample_domain_finish = backend_sample_domain_finish;
  iface->check_destination = backend_check_destination;
  iface->open_outgoing = backend_open_outgoing;
  iface->open_incoming = backend_open_incoming;
}
