/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-client.c: the connection to ferryd, over an object manager client
 * of the generated code: domains and migrations as objects, Migrate and
 * Check */
#define G_LOG_DOMAIN "libferry-client"

#include <string.h>

#include "ferry-dbus.h"
#include "ferry-names.h"
#include "ferry-private.h"

/**
 * FerryClient:
 *
 * The connection to ferryd on one host (one bus). It follows ferryd's
 * objects: domains and migrations appear and disappear with the
 * #FerryClient::domain-added, #FerryClient::domain-removed,
 * #FerryClient::migration-added and #FerryClient::migration-removed
 * signals, and their properties follow the D-Bus objects without polling.
 *
 * Signals and notifications are emitted in the thread-default main
 * context of the thread that created the client.
 *
 * ```python
 * client = Ferry.Client.new_sync(None)  # honours DBUS_SYSTEM_BUS_ADDRESS
 * m = client.migrate_sync("demo", "ssh://host-b", Ferry.MigrateOptions.new(), None)
 * m.connect("notify::progress", lambda m, _: print(m.props.progress))
 * print(m.wait_sync(None))
 * ```
 */
struct _FerryClient
{
  GObject parent_instance;
  GDBusConnection *connection;
  GDBusObjectManager *manager;
  GMainContext *context;
  GHashTable *domains;    /* path -> FerryDomain */
  GHashTable *migrations; /* path -> FerryMigration */
  gboolean interactive;
  gulong added_id;
  gulong removed_id;
};

G_DEFINE_FINAL_TYPE (FerryClient, ferry_client, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONNECTION,
  PROP_OBJECT_MANAGER,
  PROP_INTERACTIVE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_DOMAIN_ADDED,
  SIGNAL_DOMAIN_REMOVED,
  SIGNAL_MIGRATION_ADDED,
  SIGNAL_MIGRATION_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
ferry_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerryClient *self = FERRY_CLIENT (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    case PROP_OBJECT_MANAGER:
      g_value_set_object (value, self->manager);
      break;
    case PROP_INTERACTIVE:
      g_value_set_boolean (value, self->interactive);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ferry_client_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  FerryClient *self = FERRY_CLIENT (object);

  switch (prop_id)
    {
    case PROP_INTERACTIVE:
      ferry_client_set_interactive (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ferry_client_dispose (GObject *object)
{
  FerryClient *self = FERRY_CLIENT (object);

  if (self->manager != NULL)
    {
      g_clear_signal_handler (&self->added_id, self->manager);
      g_clear_signal_handler (&self->removed_id, self->manager);
    }
  g_clear_pointer (&self->domains, g_hash_table_unref);
  g_clear_pointer (&self->migrations, g_hash_table_unref);
  g_clear_object (&self->manager);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (ferry_client_parent_class)->dispose (object);
}

static void
ferry_client_class_init (FerryClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ferry_client_get_property;
  object_class->set_property = ferry_client_set_property;
  object_class->dispose = ferry_client_dispose;

  /* registers the org.ferryvm.Ferry1.Error.* names before any reply */
  (void) ferry_error_quark ();

  /**
   * FerryClient:connection:
   *
   * The D-Bus connection to ferryd's bus.
   */
  props[PROP_CONNECTION] = g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * FerryClient:object-manager:
   *
   * The object manager client that follows ferryd's objects.
   */
  props[PROP_OBJECT_MANAGER] =
      g_param_spec_object ("object-manager", NULL, NULL, G_TYPE_DBUS_OBJECT_MANAGER,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * FerryClient:interactive:
   *
   * Whether calls allow interactive authorization (polkit may ask the
   * user for a password). Off by default.
   */
  props[PROP_INTERACTIVE] =
      g_param_spec_boolean ("interactive", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * FerryClient::domain-added:
   * @self: the #FerryClient
   * @domain: the new #FerryDomain
   *
   * A domain appeared (defined, or arrived by an incoming migration).
   */
  signals[SIGNAL_DOMAIN_ADDED] =
      g_signal_new ("domain-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, FERRY_TYPE_DOMAIN);
  /**
   * FerryClient::domain-removed:
   * @self: the #FerryClient
   * @domain: the #FerryDomain that went away
   *
   * A domain went away (e.g. migrated to another host and undefined).
   */
  signals[SIGNAL_DOMAIN_REMOVED] =
      g_signal_new ("domain-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, FERRY_TYPE_DOMAIN);
  /**
   * FerryClient::migration-added:
   * @self: the #FerryClient
   * @migration: the new #FerryMigration
   *
   * A migration appeared, outgoing or incoming.
   */
  signals[SIGNAL_MIGRATION_ADDED] =
      g_signal_new ("migration-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, FERRY_TYPE_MIGRATION);
  /**
   * FerryClient::migration-removed:
   * @self: the #FerryClient
   * @migration: the #FerryMigration that went away
   *
   * A finished migration left ferryd's bounded history.
   */
  signals[SIGNAL_MIGRATION_REMOVED] =
      g_signal_new ("migration-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, FERRY_TYPE_MIGRATION);
}

static void
ferry_client_init (FerryClient *self)
{
  self->domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->migrations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

GDBusCallFlags
_ferry_client_get_call_flags (FerryClient *client)
{
  if (client != NULL && client->interactive)
    return G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
  return G_DBUS_CALL_FLAGS_NONE;
}

GMainContext *
_ferry_client_get_context (FerryClient *client)
{
  return client->context;
}

/* Wraps a migration proxy, or returns the wrapper of its path. */
static FerryMigration *
add_migration (FerryClient *self, GDBusProxy *proxy, gboolean emit)
{
  const char *path = g_dbus_proxy_get_object_path (proxy);
  FerryMigration *m = g_hash_table_lookup (self->migrations, path);

  if (m != NULL)
    return m;
  m = _ferry_migration_new (self, proxy);
  g_hash_table_insert (self->migrations, g_strdup (path), m);
  if (emit)
    g_signal_emit (self, signals[SIGNAL_MIGRATION_ADDED], 0, m);
  return m;
}

static void
add_object (FerryClient *self, GDBusObject *object, gboolean emit)
{
  const char *path = g_dbus_object_get_object_path (object);
  g_autoptr (GDBusInterface) domain = NULL;
  g_autoptr (GDBusInterface) migration = NULL;

  domain = g_dbus_object_get_interface (object, FERRY_DOMAIN_INTERFACE);
  if (domain != NULL && !g_hash_table_contains (self->domains, path))
    {
      FerryDomain *d = _ferry_domain_new (self, G_DBUS_PROXY (domain));

      g_hash_table_insert (self->domains, g_strdup (path), d);
      if (emit)
        g_signal_emit (self, signals[SIGNAL_DOMAIN_ADDED], 0, d);
    }
  migration = g_dbus_object_get_interface (object, FERRY_MIGRATION_INTERFACE);
  if (migration != NULL)
    add_migration (self, G_DBUS_PROXY (migration), emit);
}

static void
on_object_added (GDBusObjectManager *manager, GDBusObject *object, FerryClient *self)
{
  add_object (self, object, TRUE);
}

static void
on_object_removed (GDBusObjectManager *manager, GDBusObject *object, FerryClient *self)
{
  const char *path = g_dbus_object_get_object_path (object);
  gpointer key, value;

  if (g_hash_table_steal_extended (self->domains, path, &key, &value))
    {
      g_signal_emit (self, signals[SIGNAL_DOMAIN_REMOVED], 0, value);
      g_free (key);
      g_object_unref (value);
    }
  if (g_hash_table_steal_extended (self->migrations, path, &key, &value))
    {
      _ferry_migration_set_gone (value);
      g_signal_emit (self, signals[SIGNAL_MIGRATION_REMOVED], 0, value);
      g_free (key);
      g_object_unref (value);
    }
}

static FerryClient *
client_new (GDBusConnection *connection, GDBusObjectManager *manager)
{
  FerryClient *self = g_object_new (FERRY_TYPE_CLIENT, NULL);
  GList *objects = g_dbus_object_manager_get_objects (manager);

  self->connection = g_object_ref (connection);
  self->manager = g_object_ref (manager);
  self->context = g_main_context_ref_thread_default ();
  for (GList *l = objects; l != NULL; l = l->next)
    add_object (self, l->data, FALSE);
  g_list_free_full (objects, g_object_unref);
  self->added_id = g_signal_connect (manager, "object-added", G_CALLBACK (on_object_added), self);
  self->removed_id =
      g_signal_connect (manager, "object-removed", G_CALLBACK (on_object_removed), self);
  return self;
}

/* A call that D-Bus-activates ferryd when it is not running (the object
 * manager alone would only find no objects) and gives the error to report
 * when it cannot be started. */
static gboolean
ping_sync (GDBusConnection *connection, GCancellable *cancellable, GError **error)
{
  GError *local = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      connection, FERRY_BUS_NAME, FERRY_OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL,
      NULL, G_DBUS_CALL_FLAGS_NONE, -1, cancellable, &local);

  if (reply == NULL)
    _ferry_propagate (error, local);
  return reply != NULL;
}

/**
 * ferry_client_new_for_connection:
 * @connection: a #GDBusConnection to the bus ferryd is on
 * @error: return location for an error
 *
 * Connects to ferryd on @connection (e.g. a private bus), starting it by
 * D-Bus activation if need be, and fetches its objects; blocks until they
 * are there.
 *
 * Returns: (transfer full): a new #FerryClient, or %NULL on error
 */
FerryClient *
ferry_client_new_for_connection (GDBusConnection *connection, GError **error)
{
  g_autoptr (GDBusObjectManager) manager = NULL;
  GError *local = NULL;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  (void) ferry_error_quark ();
  if (!ping_sync (connection, NULL, error))
    return NULL;
  manager = ferry_dbus_object_manager_client_new_sync (
      connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, FERRY_BUS_NAME, FERRY_OBJECT_PATH, NULL,
      &local);
  if (manager == NULL)
    {
      _ferry_propagate (error, local);
      return NULL;
    }
  return client_new (connection, manager);
}

static void
manager_new_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (GDBusObjectManager) manager = NULL;

  manager = ferry_dbus_object_manager_client_new_finish (result, &error);
  if (manager == NULL)
    g_task_return_error (task, _ferry_error_convert (error));
  else
    g_task_return_pointer (task, client_new (g_task_get_task_data (task), manager), g_object_unref);
}

static void
ping_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (reply == NULL)
    {
      g_task_return_error (task, _ferry_error_convert (error));
      g_object_unref (task);
      return;
    }
  ferry_dbus_object_manager_client_new (
      G_DBUS_CONNECTION (source), G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, FERRY_BUS_NAME,
      FERRY_OBJECT_PATH, g_task_get_cancellable (task), manager_new_cb, task);
}

/* Ping (activating ferryd if need be), then the object manager. */
static void
start_new_for_connection (GDBusConnection *connection, GTask *task)
{
  (void) ferry_error_quark ();
  g_task_set_task_data (task, g_object_ref (connection), g_object_unref);
  g_dbus_connection_call (connection, FERRY_BUS_NAME, FERRY_OBJECT_PATH,
                          "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                          -1, g_task_get_cancellable (task), ping_cb, task);
}

/**
 * ferry_client_new_for_connection_async:
 * @connection: a #GDBusConnection to the bus ferryd is on
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is ready
 * @user_data: data for @callback
 *
 * Connects to ferryd on @connection without blocking; see
 * ferry_client_new_for_connection().
 */
void
ferry_client_new_for_connection_async (GDBusConnection *connection,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  GTask *task;

  g_return_if_fail (G_IS_DBUS_CONNECTION (connection));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_client_new_for_connection_async);
  start_new_for_connection (connection, task);
}

/**
 * ferry_client_new_for_connection_finish:
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_client_new_for_connection_async().
 *
 * Returns: (transfer full): a new #FerryClient, or %NULL on error
 */
FerryClient *
ferry_client_new_for_connection_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_client_new_for_connection_async),
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

#define ADDRESS_FLAGS                                                                              \
  (G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION)

/**
 * ferry_client_new_for_address:
 * @address: the D-Bus address of the bus ferryd is on, e.g.
 *   `unix:path=/run/ferry-b/bus`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Connects to the message bus at @address and then to ferryd on it, as
 * ferry_client_new_for_connection() does; blocks until ferryd's objects
 * are there. An error of the connection itself (no such socket, a bad
 * address) is the #GIOError of GIO; errors of ferryd are in %FERRY_ERROR.
 * The new connection does not exit the process when it closes.
 *
 * Returns: (transfer full): a new #FerryClient, or %NULL on error
 */
FerryClient *
ferry_client_new_for_address (const char *address, GCancellable *cancellable, GError **error)
{
  g_autoptr (GDBusConnection) connection = NULL;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  connection =
      g_dbus_connection_new_for_address_sync (address, ADDRESS_FLAGS, NULL, cancellable, error);
  if (connection == NULL)
    return NULL;
  return ferry_client_new_for_connection (connection, error);
}

static void
address_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr (GDBusConnection) connection =
      g_dbus_connection_new_for_address_finish (result, &error);

  if (connection == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  start_new_for_connection (connection, task);
}

/**
 * ferry_client_new_for_address_async:
 * @address: the D-Bus address of the bus ferryd is on
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is ready
 * @user_data: data for @callback
 *
 * Connects to ferryd on the bus at @address without blocking; see
 * ferry_client_new_for_address().
 */
void
ferry_client_new_for_address_async (const char *address,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task;

  g_return_if_fail (address != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_client_new_for_address_async);
  g_dbus_connection_new_for_address (address, ADDRESS_FLAGS, NULL, cancellable,
                                     address_connected_cb, task);
}

/**
 * ferry_client_new_for_address_finish:
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_client_new_for_address_async().
 *
 * Returns: (transfer full): a new #FerryClient, or %NULL on error
 */
FerryClient *
ferry_client_new_for_address_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_client_new_for_address_async),
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ferry_client_new_sync:
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Connects to ferryd on the system bus (or the bus that
 * `DBUS_SYSTEM_BUS_ADDRESS` names) and fetches its objects; blocks until
 * they are there.
 *
 * Returns: (transfer full): a new #FerryClient, or %NULL on error
 */
FerryClient *
ferry_client_new_sync (GCancellable *cancellable, GError **error)
{
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GDBusObjectManager) manager = NULL;
  GError *local = NULL;

  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  (void) ferry_error_quark ();
  connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, error);
  if (connection == NULL || !ping_sync (connection, cancellable, error))
    return NULL;
  manager = ferry_dbus_object_manager_client_new_sync (
      connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, FERRY_BUS_NAME, FERRY_OBJECT_PATH,
      cancellable, &local);
  if (manager == NULL)
    {
      _ferry_propagate (error, local);
      return NULL;
    }
  return client_new (connection, manager);
}

static void
bus_get_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr (GDBusConnection) connection = g_bus_get_finish (result, &error);

  if (connection == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  start_new_for_connection (connection, task);
}

/**
 * ferry_client_new:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is ready
 * @user_data: data for @callback
 *
 * Connects to ferryd on the system bus without blocking; see
 * ferry_client_new_sync().
 */
void
ferry_client_new (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_client_new);
  g_bus_get (G_BUS_TYPE_SYSTEM, cancellable, bus_get_cb, task);
}

/**
 * ferry_client_new_finish:
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_client_new().
 *
 * Returns: (transfer full): a new #FerryClient, or %NULL on error
 */
FerryClient *
ferry_client_new_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_client_new), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ferry_client_get_connection:
 * @self: a #FerryClient
 *
 * Gets the connection.
 *
 * Returns: (transfer none): the client's #GDBusConnection
 */
GDBusConnection *
ferry_client_get_connection (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return self->connection;
}

/**
 * ferry_client_get_object_manager:
 * @self: a #FerryClient
 *
 * Gets the object manager.
 *
 * Returns: (transfer none): the object manager that follows ferryd
 */
GDBusObjectManager *
ferry_client_get_object_manager (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return self->manager;
}

/**
 * ferry_client_get_interactive:
 * @self: a #FerryClient
 *
 * Gets whether calls allow interactive authorization (#FerryClient:interactive).
 *
 * Returns: whether calls allow interactive authorization
 */
gboolean
ferry_client_get_interactive (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), FALSE);
  return self->interactive;
}

/**
 * ferry_client_set_interactive:
 * @self: a #FerryClient
 * @interactive: whether to allow interactive authorization
 *
 * Sets whether every call of this client, its domains and its migrations
 * carries %G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, so polkit
 * may ask the user to authenticate.
 */
void
ferry_client_set_interactive (FerryClient *self, gboolean interactive)
{
  g_return_if_fail (FERRY_IS_CLIENT (self));
  interactive = !!interactive;
  if (self->interactive == interactive)
    return;
  self->interactive = interactive;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_INTERACTIVE]);
}

static GVariant *
manager_property (FerryClient *self, const char *name)
{
  g_autoptr (GDBusInterface) iface = g_dbus_object_manager_get_interface (
      self->manager, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE);

  if (iface == NULL)
    return NULL;
  return g_dbus_proxy_get_cached_property (G_DBUS_PROXY (iface), name);
}

static const char *
manager_string (FerryClient *self, const char *name)
{
  g_autoptr (GDBusInterface) iface = g_dbus_object_manager_get_interface (
      self->manager, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE);

  /* the object manager keeps the proxy, and its cache the string */
  return iface != NULL ? _ferry_proxy_get_string (G_DBUS_PROXY (iface), name) : NULL;
}

/**
 * ferry_client_get_version:
 * @self: a #FerryClient
 *
 * Gets the version of ferryd (the Manager's `Version`).
 *
 * Returns: (nullable): ferryd's version, or %NULL if ferryd is not there
 */
const char *
ferry_client_get_version (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return manager_string (self, "Version");
}

/**
 * ferry_client_get_hostname:
 * @self: a #FerryClient
 *
 * Gets the name of ferryd's host.
 *
 * Returns: (nullable): the name of ferryd's host
 */
const char *
ferry_client_get_hostname (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return manager_string (self, "Hostname");
}

/**
 * ferry_client_get_host_uuid:
 * @self: a #FerryClient
 *
 * Gets the UUID of ferryd's host.
 *
 * Returns: (nullable): the UUID of ferryd's host
 */
const char *
ferry_client_get_host_uuid (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return manager_string (self, "HostUUID");
}

static char **
manager_strv (FerryClient *self, const char *name)
{
  g_autoptr (GVariant) v = manager_property (self, name);

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
    return g_new0 (char *, 1);
  return g_variant_dup_strv (v, NULL);
}

/**
 * ferry_client_dup_backends:
 * @self: a #FerryClient
 *
 * Gets a copy of the backends.
 *
 * Returns: (transfer full) (array zero-terminated=1): the backends that
 *   work on ferryd's host now, e.g. `qmp`
 */
char **
ferry_client_dup_backends (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return manager_strv (self, "Backends");
}

/**
 * ferry_client_dup_capabilities:
 * @self: a #FerryClient
 *
 * Gets a copy of the capabilities.
 *
 * Returns: (transfer full) (array zero-terminated=1): the migration
 *   features ferryd's host supports, e.g. `postcopy`, `multifd`
 */
char **
ferry_client_dup_capabilities (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return manager_strv (self, "Capabilities");
}

static gint
compare_paths (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const char *(*get_path) (gpointer) = user_data;
  return g_strcmp0 (get_path ((gpointer) a), get_path ((gpointer) b));
}

static GList *
sorted_values (GHashTable *table, gpointer get_path)
{
  GList *list = g_hash_table_get_values (table);

  g_list_foreach (list, (GFunc) (void (*) (void)) g_object_ref, NULL)
    ;
  return g_list_sort_with_data (list, compare_paths, get_path);
}

/**
 * ferry_client_get_domains:
 * @self: a #FerryClient
 *
 * Gets all domains of ferryd's host, by object path.
 *
 * Returns: (transfer full) (element-type Ferry.Domain): the domains of
 *   ferryd's host
 */
GList *
ferry_client_get_domains (FerryClient *self)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  return sorted_values (self->domains, ferry_domain_get_object_path);
}

/**
 * ferry_client_lookup_domain:
 * @self: a #FerryClient
 * @name: the domain's name
 *
 * Looks a domain up by its name.
 *
 * Returns: (transfer full) (nullable): the domain called @name, or %NULL
 */
FerryDomain *
ferry_client_lookup_domain (FerryClient *self, const char *name)
{
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_hash_table_iter_init (&iter, self->domains);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (ferry_domain_get_name (value), name) == 0)
      return g_object_ref (value);
  return NULL;
}

static guint64
migration_number (gconstpointer m)
{
  const char *path = ferry_migration_get_object_path ((FerryMigration *) m);
  const char *slash = strrchr (path, '/');

  return g_ascii_strtoull (slash != NULL ? slash + 1 : path, NULL, 10);
}

/* /migration/<n>: by n */
static gint
compare_migrations (gconstpointer a, gconstpointer b)
{
  guint64 na = migration_number (a), nb = migration_number (b);

  return na < nb ? -1 : na > nb ? 1 : 0;
}

/**
 * ferry_client_get_migrations:
 * @self: a #FerryClient
 *
 * Gets the migrations ferryd exports (running ones and its bounded history).
 *
 * Returns: (transfer full) (element-type Ferry.Migration): the running
 *   and recently finished migrations, oldest first
 */
GList *
ferry_client_get_migrations (FerryClient *self)
{
  GList *list;

  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  list = g_hash_table_get_values (self->migrations);
  g_list_foreach (list, (GFunc) (void (*) (void)) g_object_ref, NULL)
    ;
  return g_list_sort (list, compare_migrations);
}

/**
 * ferry_client_lookup_migration:
 * @self: a #FerryClient
 * @object_path: the migration's D-Bus object path
 *
 * Looks a migration up by its object path.
 *
 * Returns: (transfer full) (nullable): the migration at @object_path, or
 *   %NULL
 */
FerryMigration *
ferry_client_lookup_migration (FerryClient *self, const char *object_path)
{
  FerryMigration *m;

  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (object_path != NULL, NULL);
  m = g_hash_table_lookup (self->migrations, object_path);
  return m != NULL ? g_object_ref (m) : NULL;
}

/* ---- Migrate ---- */

static GVariant *
options_variant (FerryMigrateOptions *options)
{
  if (options != NULL)
    return ferry_migrate_options_to_variant (options);
  return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
}

static GVariant *
migrate_params (const char *domain_name, const char *destination, FerryMigrateOptions *options)
{
  g_autoptr (GVariant) opts = options_variant (options);

  return g_variant_new ("(ss@a{sv})", domain_name, destination, opts);
}

static const char *
reply_path (GVariant *reply)
{
  const char *path = NULL;

  if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(o)")))
    g_variant_get (reply, "(&o)", &path);
  return path;
}

/**
 * ferry_client_migrate_sync:
 * @self: a #FerryClient
 * @domain_name: the name of the domain to migrate
 * @destination: where to: `ssh://[user@]host`, `tls://host[:port]`, a
 *   D-Bus address such as `unix:path=/…` or a libvirt URI
 * @options: (nullable): the migration's options, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Starts migrating a domain (needs the `migrate` authorization). Returns
 * at once with the new migration; follow it with its properties and
 * signals, or ferry_migration_wait_sync().
 *
 * Returns: (transfer full): the new #FerryMigration, or %NULL on error
 */
FerryMigration *
ferry_client_migrate_sync (FerryClient *self,
                           const char *domain_name,
                           const char *destination,
                           FerryMigrateOptions *options,
                           GCancellable *cancellable,
                           GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (FerryDBusMigration) proxy = NULL;
  const char *path;
  FerryMigration *m;
  GError *local = NULL;

  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (domain_name != NULL, NULL);
  g_return_val_if_fail (destination != NULL, NULL);
  g_return_val_if_fail (options == NULL || FERRY_IS_MIGRATE_OPTIONS (options), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  reply = _ferry_call_sync (self, self->connection, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE,
                            "Migrate", migrate_params (domain_name, destination, options),
                            cancellable, error);
  path = reply_path (reply);
  if (path == NULL)
    return NULL;
  m = g_hash_table_lookup (self->migrations, path);
  if (m != NULL)
    return g_object_ref (m);
  /* the object manager has not seen the new object yet */
  proxy = ferry_dbus_migration_proxy_new_sync (self->connection, G_DBUS_PROXY_FLAGS_NONE,
                                               FERRY_BUS_NAME, path, cancellable, &local);
  if (proxy == NULL)
    {
      _ferry_propagate (error, local);
      return NULL;
    }
  return g_object_ref (add_migration (self, G_DBUS_PROXY (proxy), TRUE));
}

static void
migration_proxy_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerryClient *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (FerryDBusMigration) proxy = ferry_dbus_migration_proxy_new_finish (result, &error);

  if (proxy == NULL)
    g_task_return_error (task, _ferry_error_convert (error));
  else
    g_task_return_pointer (task, g_object_ref (add_migration (self, G_DBUS_PROXY (proxy), TRUE)),
                           g_object_unref);
}

static void
migrate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerryClient *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (GVariant) reply = g_task_propagate_pointer (G_TASK (result), &error);
  const char *path = reply_path (reply);
  FerryMigration *m;

  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (path == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Unexpected reply to Migrate: %s",
                               g_variant_get_type_string (reply));
      return;
    }
  m = g_hash_table_lookup (self->migrations, path);
  if (m != NULL)
    {
      g_task_return_pointer (task, g_object_ref (m), g_object_unref);
      return;
    }
  ferry_dbus_migration_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, FERRY_BUS_NAME, path,
                                  g_task_get_cancellable (task), migration_proxy_cb,
                                  g_steal_pointer (&task));
}

/**
 * ferry_client_migrate_async:
 * @self: a #FerryClient
 * @domain_name: the name of the domain to migrate
 * @destination: where to (see ferry_client_migrate_sync())
 * @options: (nullable): the migration's options, or %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the new migration
 * @user_data: data for @callback
 *
 * Starts migrating a domain without blocking; see
 * ferry_client_migrate_sync().
 */
void
ferry_client_migrate_async (FerryClient *self,
                            const char *domain_name,
                            const char *destination,
                            FerryMigrateOptions *options,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task, *call;

  g_return_if_fail (FERRY_IS_CLIENT (self));
  g_return_if_fail (domain_name != NULL);
  g_return_if_fail (destination != NULL);
  g_return_if_fail (options == NULL || FERRY_IS_MIGRATE_OPTIONS (options));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_client_migrate_async);
  call = g_task_new (self, cancellable, migrate_cb, task);
  _ferry_call (self, self->connection, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE, "Migrate",
               migrate_params (domain_name, destination, options), call);
}

/**
 * ferry_client_migrate_finish:
 * @self: a #FerryClient
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_client_migrate_async().
 *
 * Returns: (transfer full): the new #FerryMigration, or %NULL on error
 */
FerryMigration *
ferry_client_migrate_finish (FerryClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_client_migrate_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Check ---- */

/**
 * ferry_client_check_sync:
 * @self: a #FerryClient
 * @domain_name: the name of the domain
 * @destination: where it would go (see ferry_client_migrate_sync())
 * @options: (nullable): the options the migration would have
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * A dry run of a migration: can it work, what would block it, which
 * features both sides support, estimates of time and downtime. Changes
 * nothing.
 *
 * Returns: (transfer full): the report (`a{sv}`: `ok` b, `blockers` as,
 *   `warnings` as, `features` as, `estimated-time` t,
 *   `estimated-downtime` t, ...), or %NULL on error
 */
GVariant *
ferry_client_check_sync (FerryClient *self,
                         const char *domain_name,
                         const char *destination,
                         FerryMigrateOptions *options,
                         GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GVariant *report = NULL;

  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (domain_name != NULL, NULL);
  g_return_val_if_fail (destination != NULL, NULL);
  g_return_val_if_fail (options == NULL || FERRY_IS_MIGRATE_OPTIONS (options), NULL);

  reply =
      _ferry_call_sync (self, self->connection, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE, "Check",
                        migrate_params (domain_name, destination, options), cancellable, error);
  if (reply != NULL)
    g_variant_get (reply, "(@a{sv})", &report);
  return report;
}

/**
 * ferry_client_check_async:
 * @self: a #FerryClient
 * @domain_name: the name of the domain
 * @destination: where it would go
 * @options: (nullable): the options the migration would have
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the report
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_client_check_sync().
 */
void
ferry_client_check_async (FerryClient *self,
                          const char *domain_name,
                          const char *destination,
                          FerryMigrateOptions *options,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_CLIENT (self));
  g_return_if_fail (domain_name != NULL);
  g_return_if_fail (destination != NULL);
  g_return_if_fail (options == NULL || FERRY_IS_MIGRATE_OPTIONS (options));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_client_check_async);
  _ferry_call (self, self->connection, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE, "Check",
               migrate_params (domain_name, destination, options), task);
}

/**
 * ferry_client_check_finish:
 * @self: a #FerryClient
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_client_check_async().
 *
 * Returns: (transfer full): the report (`a{sv}`), or %NULL on error
 */
GVariant *
ferry_client_check_finish (FerryClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GVariant *report = NULL;

  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_client_check_async), NULL);
  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply != NULL)
    g_variant_get (reply, "(@a{sv})", &report);
  return report;
}

/* ---- DefineDomain ---- */

static FerryDomain *
domain_for_reply (FerryClient *self, GVariant *reply, GError **error)
{
  const char *path = reply_path (reply);
  g_autoptr (FerryDBusDomain) proxy = NULL;
  FerryDomain *d;
  GError *local = NULL;

  if (path == NULL)
    return NULL;
  d = g_hash_table_lookup (self->domains, path);
  if (d != NULL)
    return g_object_ref (d);
  proxy = ferry_dbus_domain_proxy_new_sync (self->connection, G_DBUS_PROXY_FLAGS_NONE,
                                            FERRY_BUS_NAME, path, NULL, &local);
  if (proxy == NULL)
    {
      _ferry_propagate (error, local);
      return NULL;
    }
  return _ferry_domain_new (self, G_DBUS_PROXY (proxy));
}

/**
 * ferry_client_define_domain_sync:
 * @self: a #FerryClient
 * @description: the domain's description (a key file, see ferry-domain(5))
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Defines a domain of the QMP backend (needs the `manage-domains`
 * authorization).
 *
 * Returns: (transfer full): the new #FerryDomain, or %NULL on error
 */
FerryDomain *
ferry_client_define_domain_sync (FerryClient *self,
                                 const char *description,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (description != NULL, NULL);

  reply = _ferry_call_sync (self, self->connection, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE,
                            "DefineDomain", g_variant_new ("(s)", description), cancellable, error);
  return reply != NULL ? domain_for_reply (self, reply, error) : NULL;
}

static void
domain_proxy_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerryClient *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (FerryDBusDomain) proxy = ferry_dbus_domain_proxy_new_finish (result, &error);

  if (proxy == NULL)
    g_task_return_error (task, _ferry_error_convert (error));
  else
    g_task_return_pointer (task, _ferry_domain_new (self, G_DBUS_PROXY (proxy)), g_object_unref);
}

static void
define_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerryClient *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (GVariant) reply = g_task_propagate_pointer (G_TASK (result), &error);
  const char *path = reply_path (reply);
  FerryDomain *d;

  if (reply == NULL || path == NULL)
    {
      if (error == NULL)
        error = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_FAILED,
                                     "Unexpected reply to DefineDomain");
      g_task_return_error (task, error);
      return;
    }
  d = g_hash_table_lookup (self->domains, path);
  if (d != NULL)
    {
      g_task_return_pointer (task, g_object_ref (d), g_object_unref);
      return;
    }
  ferry_dbus_domain_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, FERRY_BUS_NAME, path,
                               g_task_get_cancellable (task), domain_proxy_cb,
                               g_steal_pointer (&task));
}

/**
 * ferry_client_define_domain_async:
 * @self: a #FerryClient
 * @description: the domain's description
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the new domain
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_client_define_domain_sync().
 */
void
ferry_client_define_domain_async (FerryClient *self,
                                  const char *description,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task, *call;

  g_return_if_fail (FERRY_IS_CLIENT (self));
  g_return_if_fail (description != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_client_define_domain_async);
  call = g_task_new (self, cancellable, define_cb, task);
  _ferry_call (self, self->connection, FERRY_OBJECT_PATH, FERRY_MANAGER_INTERFACE, "DefineDomain",
               g_variant_new ("(s)", description), call);
}

/**
 * ferry_client_define_domain_finish:
 * @self: a #FerryClient
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_client_define_domain_async(). The new domain may also be
 * announced with #FerryClient::domain-added.
 *
 * Returns: (transfer full): the new #FerryDomain, or %NULL on error
 */
FerryDomain *
ferry_client_define_domain_finish (FerryClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (FERRY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_client_define_domain_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
