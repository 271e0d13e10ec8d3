/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-backend.c: the FerrydBackend interface and the lookup in the
 * registration table */
#define G_LOG_DOMAIN "ferry-backend"

#include "ferryd-backend.h"

G_DEFINE_INTERFACE (FerrydBackend, ferryd_backend, G_TYPE_OBJECT)

static void
ferryd_backend_default_init (FerrydBackendInterface *iface)
{
  /* ferryd_backend_is_available() changed */
  g_signal_new ("availability-changed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL,
                NULL, NULL, G_TYPE_NONE, 0);
  /* a migration into a domain here that the hypervisor runs began
   * (ferryd_backend_emit_incoming_migration) */
  g_signal_new ("incoming-migration", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL,
                NULL, NULL, G_TYPE_NONE, 3, FERRYD_TYPE_DOMAIN, FERRYD_TYPE_STREAM, G_TYPE_STRING);
  /* a migration away from here that the hypervisor runs was found
   * running (ferryd_backend_emit_outgoing_migration) */
  g_signal_new ("outgoing-migration", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL,
                NULL, NULL, G_TYPE_NONE, 3, FERRYD_TYPE_DOMAIN, FERRYD_TYPE_STREAM, G_TYPE_STRING);
}

const char *
ferryd_backend_get_name (FerrydBackend *self)
{
  return FERRYD_BACKEND_GET_IFACE (self)->get_name (self);
}

FerrydDomain *
ferryd_backend_create_domain (FerrydBackend *self,
                              FerrydDomainConfig *config,
                              const char *state_dir,
                              const char *runtime_dir)
{
  return FERRYD_BACKEND_GET_IFACE (self)->create_domain (self, config, state_dir, runtime_dir);
}

void
ferryd_backend_reattach (FerrydBackend *self, FerrydDaemon *daemon)
{
  if (FERRYD_BACKEND_GET_IFACE (self)->reattach)
    FERRYD_BACKEND_GET_IFACE (self)->reattach (self, daemon);
}

gboolean
ferryd_backend_accept_incoming (FerrydBackend *self, const FerrydDomainConfig *live, GError **error)
{
  if (FERRYD_BACKEND_GET_IFACE (self)->accept_incoming == NULL)
    return TRUE;
  return FERRYD_BACKEND_GET_IFACE (self)->accept_incoming (self, live, error);
}

const char *const *
ferryd_backend_list_accelerators (FerrydBackend *self)
{
  return FERRYD_BACKEND_GET_IFACE (self)->list_accelerators (self);
}

void
ferryd_backend_probe_capabilities_async (FerrydBackend *self,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  FERRYD_BACKEND_GET_IFACE (self)->probe_capabilities_async (self, cancellable, callback,
                                                             user_data);
}

GStrv
ferryd_backend_probe_capabilities_finish (FerrydBackend *self, GAsyncResult *result, GError **error)
{
  return FERRYD_BACKEND_GET_IFACE (self)->probe_capabilities_finish (self, result, error);
}

void
ferryd_backend_sample_domain_async (FerrydBackend *self,
                                    FerrydDomain *domain,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  FerrydBackendInterface *iface = FERRYD_BACKEND_GET_IFACE (self);

  /* Optional: a backend that cannot sample (libvirt) reports nothing,
   * and Check's estimate says "unknown" rather than guess. */
  if (iface->sample_domain_async == NULL)
    {
      g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, ferryd_backend_sample_domain_async);
      g_task_return_boolean (task, TRUE);
      return;
    }
  iface->sample_domain_async (self, domain, cancellable, callback, user_data);
}

gboolean
ferryd_backend_sample_domain_finish (FerrydBackend *self,
                                     GAsyncResult *result,
                                     GStrv *blocked_reasons,
                                     guint64 *dirty_rate,
                                     GError **error)
{
  if (g_task_is_valid (result, self) &&
      g_task_get_source_tag (G_TASK (result)) == ferryd_backend_sample_domain_async)
    {
      *blocked_reasons = g_new0 (char *, 1);
      *dirty_rate = 0;
      return g_task_propagate_boolean (G_TASK (result), error);
    }
  return FERRYD_BACKEND_GET_IFACE (self)->sample_domain_finish (self, result, blocked_reasons,
                                                                dirty_rate, error);
}

char *
ferryd_backend_check_destination (FerrydBackend *self,
                                  FerrydDomain *domain,
                                  const char *const *peer_accelerators)
{
  return FERRYD_BACKEND_GET_IFACE (self)->check_destination (self, domain, peer_accelerators);
}

FerrydStream *
ferryd_backend_open_outgoing (FerrydBackend *self, FerrydDomain *domain)
{
  return FERRYD_BACKEND_GET_IFACE (self)->open_outgoing (self, domain);
}

FerrydStream *
ferryd_backend_open_incoming (FerrydBackend *self, FerrydDomain *domain)
{
  return FERRYD_BACKEND_GET_IFACE (self)->open_incoming (self, domain);
}

static GHashTable *instances; /* name -> FerrydBackend, created on first use */

FerrydBackend *
ferryd_backend_get (const char *name)
{
  FerrydBackend *backend;

  if (instances == NULL)
    instances = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  backend = g_hash_table_lookup (instances, name);
  if (backend)
    return backend;
  for (gsize i = 0; ferryd_backend_table[i].name; i++)
    if (g_str_equal (ferryd_backend_table[i].name, name))
      {
        backend = ferryd_backend_table[i].create ();
        g_hash_table_insert (instances, (gpointer) ferryd_backend_table[i].name, backend);
        return backend;
      }
  return NULL;
}

FerrydBackend *
ferryd_backend_get_default (void)
{
  return ferryd_backend_get (ferryd_backend_table[0].name);
}

FerrydBackend *
ferryd_backend_for_domain (FerrydDomain *domain)
{
  FerrydBackend *backend = ferryd_backend_get (ferryd_domain_get_backend_name (domain));

  g_return_val_if_fail (backend != NULL, ferryd_backend_get_default ());
  return backend;
}

gboolean
ferryd_backend_is_available (FerrydBackend *self)
{
  FerrydBackendInterface *iface = FERRYD_BACKEND_GET_IFACE (self);

  return iface->is_available ? iface->is_available (self) : TRUE;
}

gboolean
ferryd_backend_has_check_migrate (FerrydBackend *self)
{
  return FERRYD_BACKEND_GET_IFACE (self)->check_migrate != NULL;
}

gboolean
ferryd_backend_check_migrate (FerrydBackend *self,
                              FerrydDomain *domain,
                              const char *destination,
                              const FerrydMigrateOptions *options,
                              GError **error)
{
  return FERRYD_BACKEND_GET_IFACE (self)->check_migrate (self, domain, destination, options, error);
}

gboolean
ferryd_backend_has_check (FerrydBackend *self)
{
  return FERRYD_BACKEND_GET_IFACE (self)->check_async != NULL;
}

void
ferryd_backend_check_async (FerrydBackend *self,
                            FerrydDomain *domain,
                            const char *destination,
                            const FerrydMigrateOptions *options,
                            gboolean may_contact,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  FERRYD_BACKEND_GET_IFACE (self)->check_async (self, domain, destination, options, may_contact,
                                                cancellable, callback, user_data);
}

GVariant *
ferryd_backend_check_finish (FerrydBackend *self, GAsyncResult *result, GError **error)
{
  return FERRYD_BACKEND_GET_IFACE (self)->check_finish (self, result, error);
}

void
ferryd_backend_emit_availability_changed (FerrydBackend *self)
{
  g_signal_emit_by_name (self, "availability-changed");
}

void
ferryd_backend_emit_incoming_migration (FerrydBackend *self,
                                        FerrydDomain *domain,
                                        FerrydStream *stream,
                                        const char *source)
{
  g_signal_emit_by_name (self, "incoming-migration", domain, stream, source ? source : "");
}

void
ferryd_backend_emit_outgoing_migration (FerrydBackend *self,
                                        FerrydDomain *domain,
                                        FerrydStream *stream,
                                        const char *destination)
{
  g_signal_emit_by_name (self, "outgoing-migration", domain, stream,
                         destination ? destination : "");
}

static GHashTable *settings; /* key -> value, set by main() */

void
ferryd_backend_set_setting (const char *key, const char *value)
{
  if (settings == NULL)
    settings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (settings, g_strdup (key), g_strdup (value));
}

const char *
ferryd_backend_get_setting (const char *key)
{
  return settings ? g_hash_table_lookup (settings, key) : NULL;
}

const char *const *
ferryd_backend_list_names (void)
{
  static const char **names;

  if (names == NULL)
    {
      gsize n = 0;

      while (ferryd_backend_table[n].name)
        n++;
      names = g_new0 (const char *, n + 1);
      for (gsize i = 0; i < n; i++)
        names[i] = ferryd_backend_table[i].name;
    }
  return names;
}
