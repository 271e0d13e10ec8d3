/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-domain.c: a domain of ferryd (org.ferryvm.Ferry1.Domain) */
#define G_LOG_DOMAIN "libferry-domain"

#include "ferry-private.h"

/**
 * FerryDomain:
 *
 * A domain (virtual machine) known to ferryd. Its properties follow the
 * D-Bus object: each change emits `notify`. Get domains from
 * ferry_client_get_domains() or ferry_client_lookup_domain().
 */
struct _FerryDomain
{
  GObject parent_instance;
  FerryClient *client; /* weak */
  GDBusProxy *proxy;
  gulong changed_id;
};

G_DEFINE_FINAL_TYPE (FerryDomain, ferry_domain, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_OBJECT_PATH,
  PROP_NAME,
  PROP_UUID,
  PROP_BACKEND,
  PROP_STATE,
  PROP_STATE_REASON,
  PROP_MIGRATION_PATH,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static const FerryPropMap prop_map[N_PROPS] = {
  [PROP_OBJECT_PATH] = { "object-path", NULL },
  [PROP_NAME] = { "name", "Name" },
  [PROP_UUID] = { "uuid", "UUID" },
  [PROP_BACKEND] = { "backend", "Backend" },
  [PROP_STATE] = { "state", "State" },
  [PROP_STATE_REASON] = { "state-reason", "StateReason" },
  [PROP_MIGRATION_PATH] = { "migration-path", "Migration" },
};

static void
ferry_domain_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerryDomain *self = FERRY_DOMAIN (object);

  if (prop_id == PROP_OBJECT_PATH)
    g_value_set_string (value, g_dbus_proxy_get_object_path (self->proxy));
  else if (prop_id > PROP_0 && prop_id < N_PROPS)
    _ferry_proxy_get_value (self->proxy, prop_map[prop_id].dbus_name, value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
ferry_domain_dispose (GObject *object)
{
  FerryDomain *self = FERRY_DOMAIN (object);

  g_clear_signal_handler (&self->changed_id, self->proxy);
  g_clear_object (&self->proxy);
  g_clear_weak_pointer (&self->client);
  G_OBJECT_CLASS (ferry_domain_parent_class)->dispose (object);
}

static void
ferry_domain_class_init (FerryDomainClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->get_property = ferry_domain_get_property;
  object_class->dispose = ferry_domain_dispose;

  /**
   * FerryDomain:object-path:
   *
   * The D-Bus object path of the domain.
   */
  props[PROP_OBJECT_PATH] = g_param_spec_string ("object-path", NULL, NULL, NULL, flags);
  /**
   * FerryDomain:name:
   *
   * The domain's name.
   */
  props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  /**
   * FerryDomain:uuid:
   *
   * The domain's UUID.
   */
  props[PROP_UUID] = g_param_spec_string ("uuid", NULL, NULL, NULL, flags);
  /**
   * FerryDomain:backend:
   *
   * The backend that runs the domain, e.g. `qmp` or `libvirt`.
   */
  props[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, flags);
  /**
   * FerryDomain:state:
   *
   * `running`, `paused`, `shutoff`, `migrating`, `incoming` or `crashed`
   * (treat unknown values generically).
   */
  props[PROP_STATE] = g_param_spec_string ("state", NULL, NULL, NULL, flags);
  /**
   * FerryDomain:state-reason:
   *
   * Why the domain is in its state, in words; empty when there is nothing
   * to say.
   */
  props[PROP_STATE_REASON] = g_param_spec_string ("state-reason", NULL, NULL, NULL, flags);
  /**
   * FerryDomain:migration-path:
   *
   * The object path of the domain's current migration, or `/`. See
   * ferry_client_lookup_migration().
   */
  props[PROP_MIGRATION_PATH] = g_param_spec_string ("migration-path", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
ferry_domain_init (FerryDomain *self)
{
}

static void
on_properties_changed (GDBusProxy *proxy,
                       GVariant *changed,
                       const char *const *invalidated,
                       FerryDomain *self)
{
  _ferry_forward_notify (G_OBJECT (self), props, prop_map, N_PROPS, changed, invalidated);
}

FerryDomain *
_ferry_domain_new (FerryClient *client, GDBusProxy *proxy)
{
  FerryDomain *self = g_object_new (FERRY_TYPE_DOMAIN, NULL);

  g_set_weak_pointer (&self->client, client);
  self->proxy = g_object_ref (proxy);
  self->changed_id =
      g_signal_connect (proxy, "g-properties-changed", G_CALLBACK (on_properties_changed), self);
  return self;
}

/**
 * ferry_domain_get_object_path:
 * @self: a #FerryDomain
 *
 * Gets the D-Bus object path of the domain.
 *
 * Returns: the D-Bus object path of the domain
 */
const char *
ferry_domain_get_object_path (FerryDomain *self)
{
  g_return_val_if_fail (FERRY_IS_DOMAIN (self), NULL);
  return g_dbus_proxy_get_object_path (self->proxy);
}

#define STRING_GETTER(fn, dbus)                                                                    \
  const char *ferry_domain_get_##fn (FerryDomain *self)                                            \
  {                                                                                                \
    g_return_val_if_fail (FERRY_IS_DOMAIN (self), NULL);                                           \
    return _ferry_proxy_get_string (self->proxy, dbus);                                            \
  }

/**
 * ferry_domain_get_name:
 * @self: a #FerryDomain
 *
 * Gets the name.
 *
 * Returns: (nullable): the #FerryDomain:name
 */
STRING_GETTER (name, "Name")
/**
 * ferry_domain_get_uuid:
 * @self: a #FerryDomain
 *
 * Gets the uuid.
 *
 * Returns: (nullable): the #FerryDomain:uuid
 */
STRING_GETTER (uuid, "UUID")
/**
 * ferry_domain_get_backend:
 * @self: a #FerryDomain
 *
 * Gets the backend.
 *
 * Returns: (nullable): the #FerryDomain:backend
 */
STRING_GETTER (backend, "Backend")
/**
 * ferry_domain_get_state:
 * @self: a #FerryDomain
 *
 * Gets the state.
 *
 * Returns: (nullable): the #FerryDomain:state
 */
STRING_GETTER (state, "State")
/**
 * ferry_domain_get_state_reason:
 * @self: a #FerryDomain
 *
 * Gets the state reason.
 *
 * Returns: (nullable): the #FerryDomain:state-reason
 */
STRING_GETTER (state_reason, "StateReason")
/**
 * ferry_domain_get_migration_path:
 * @self: a #FerryDomain
 *
 * Gets the migration path.
 *
 * Returns: (nullable): the #FerryDomain:migration-path
 */
STRING_GETTER (migration_path, "Migration")

static void
call_void (FerryDomain *self,
           const char *method,
           gpointer tag,
           GCancellable *cancellable,
           GAsyncReadyCallback callback,
           gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  _ferry_proxy_call (self->client, self->proxy, method, NULL, task);
}

static gboolean
call_void_sync (FerryDomain *self, const char *method, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply =
      _ferry_proxy_call_sync (self->client, self->proxy, method, NULL, cancellable, error);
  return reply != NULL;
}

/**
 * ferry_domain_start_sync:
 * @self: a #FerryDomain
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Starts the domain (needs the `manage-domains` authorization).
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_domain_start_sync (FerryDomain *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (FERRY_IS_DOMAIN (self), FALSE);
  return call_void_sync (self, "Start", cancellable, error);
}

/**
 * ferry_domain_start_async:
 * @self: a #FerryDomain
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Starts the domain; see ferry_domain_start_sync().
 */
void
ferry_domain_start_async (FerryDomain *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (FERRY_IS_DOMAIN (self));
  call_void (self, "Start", ferry_domain_start_async, cancellable, callback, user_data);
}

/**
 * ferry_domain_start_finish:
 * @self: a #FerryDomain
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_domain_start_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_domain_start_finish (FerryDomain *self, GAsyncResult *result, GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_domain_start_async, error);
}

/**
 * ferry_domain_shutdown_sync:
 * @self: a #FerryDomain
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Shuts the domain down (ACPI power-down, then QEMU is stopped).
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_domain_shutdown_sync (FerryDomain *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (FERRY_IS_DOMAIN (self), FALSE);
  return call_void_sync (self, "Shutdown", cancellable, error);
}

/**
 * ferry_domain_shutdown_async:
 * @self: a #FerryDomain
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Shuts the domain down; see ferry_domain_shutdown_sync().
 */
void
ferry_domain_shutdown_async (FerryDomain *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_return_if_fail (FERRY_IS_DOMAIN (self));
  call_void (self, "Shutdown", ferry_domain_shutdown_async, cancellable, callback, user_data);
}

/**
 * ferry_domain_shutdown_finish:
 * @self: a #FerryDomain
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_domain_shutdown_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_domain_shutdown_finish (FerryDomain *self, GAsyncResult *result, GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_domain_shutdown_async, error);
}
