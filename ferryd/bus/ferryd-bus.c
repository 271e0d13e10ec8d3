/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-bus.c: the thin D-Bus layer
 *
 * Each method handler does three things only: authorize (through the
 * central table in ferryd-auth.c), unpack arguments, call the engine or
 * the daemon, and convert errors at the boundary (ferry_error_to_dbus).
 */
#define G_LOG_DOMAIN "ferry-bus"

#include "config.h"
#include "ferryd-bus.h"
#include "ferryd-backend.h"
#include "ferry-dbus.h"
#include "ferry-error.h"
#include "ferryd-incoming-migration.h"
#include "ferryd-paths.h"
#include "ferryd-peer-watch.h"

struct _FerrydBus
{
  GObject parent_instance;

  GDBusConnection *connection;
  FerrydDaemon *daemon;
  FerrydEngine *engine;
  FerrydAuthority *authority;
  GDBusObjectManagerServer *object_manager;
  FerryDBusManager *manager;
  FerryDBusPeer *peer;
  GHashTable *domain_objects; /* FerrydDomain* -> FerryDBusObjectSkeleton */
  GHashTable *tls_peers;      /* GDBusConnection* -> TlsPeer */
};

/* A source authenticated by its TLS certificate, on its own link. */
typedef struct
{
  FerryDBusPeer *skeleton;
  char *subject;
  GHashTable *migrations; /* ids of the migrations it prepared */
} TlsPeer;

static void
tls_peer_free (TlsPeer *peer)
{
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (peer->skeleton));
  g_object_unref (peer->skeleton);
  g_free (peer->subject);
  g_hash_table_unref (peer->migrations);
  g_free (peer);
}

G_DEFINE_TYPE (FerrydBus, ferryd_bus, G_TYPE_OBJECT)

static void
return_error (GDBusMethodInvocation *invocation, const GError *error)
{
  g_autoptr (GError) converted = ferry_error_to_dbus (error);

  g_dbus_method_invocation_return_gerror (invocation, converted);
}

static FerrydDomain *
lookup_domain_or_error (FerrydBus *self, GDBusMethodInvocation *invocation, const char *name)
{
  FerrydDomain *domain = ferryd_daemon_lookup_domain (self->daemon, name);

  if (domain == NULL)
    g_dbus_method_invocation_return_error (invocation, FERRY_ERROR, FERRY_ERROR_NOT_FOUND,
                                           "No domain named '%s'", name);
  return domain;
}

static FerrydDomain *
domain_for_invocation (FerrydBus *self, GDBusMethodInvocation *invocation)
{
  const char *path = g_dbus_method_invocation_get_object_path (invocation);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->domain_objects);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_str_equal (g_dbus_object_get_object_path (G_DBUS_OBJECT (value)), path))
      return key;
  g_dbus_method_invocation_return_error (invocation, FERRY_ERROR, FERRY_ERROR_NOT_FOUND,
                                         "No domain at %s", path);
  return NULL;
}

/* --- Migrate / Check, shared by Manager and Domain --- */

static void
migrate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydMigration) migration =
      ferryd_engine_migrate_finish (FERRYD_ENGINE (source), result, &error);
  g_autofree char *path = NULL;

  if (migration == NULL)
    {
      return_error (invocation, error);
      return;
    }
  path = ferryd_migration_object_path (ferryd_migration_get_id (migration));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", path));
}

static void
do_migrate (FerrydBus *self,
            GDBusMethodInvocation *invocation,
            FerrydDomain *domain,
            const char *destination,
            GVariant *options_variant)
{
  g_autoptr (GError) error = NULL;
  FerrydMigrateOptions *options = ferryd_migrate_options_parse (options_variant, &error);

  if (options == NULL)
    {
      return_error (invocation, error);
      return;
    }
  ferryd_engine_migrate_async (self->engine, domain, destination, options,
                               ferryd_invocation_get_uid (invocation), NULL, migrate_cb,
                               g_object_ref (invocation));
}

static void
check_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *report = ferryd_engine_check_finish (FERRYD_ENGINE (source), result, &error);

  if (report == NULL)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{sv})", report));
}

static void
do_check (FerrydBus *self,
          GDBusMethodInvocation *invocation,
          FerrydDomain *domain,
          const char *destination,
          GVariant *options_variant)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydMigrateOptions) options = ferryd_migrate_options_parse (options_variant, &error);
  const char *why_not = NULL;

  if (options == NULL)
    {
      return_error (invocation, error);
      return;
    }
  if (ferryd_invocation_get_probe (invocation, &why_not))
    why_not = NULL;
  ferryd_engine_check_async (self->engine, domain, destination, g_steal_pointer (&options), why_not,
                             NULL, check_cb, g_object_ref (invocation));
}

/* --- Manager --- */

static void
manager_define_domain (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = object;
  const char *description;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  FerrydDomain *domain;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s)", &description);
  domain = ferryd_daemon_define_domain (self->daemon, description, &error);
  if (domain == NULL)
    {
      return_error (invocation, error);
      return;
    }
  path = ferryd_domain_object_path (ferryd_domain_get_name (domain));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", path));
}

typedef void (*DomainTargetFunc) (FerrydBus *self,
                                  GDBusMethodInvocation *invocation,
                                  FerrydDomain *domain,
                                  const char *destination,
                                  GVariant *options);

/* Migrate and Check take the same arguments on both interfaces, except
 * that the Manager names the domain while a Domain object is it. */
static void
with_domain_target (FerrydBus *self, GDBusMethodInvocation *invocation, DomainTargetFunc func)
{
  GVariant *params = g_dbus_method_invocation_get_parameters (invocation);
  const char *name = NULL, *destination;
  g_autoptr (GVariant) options = NULL;
  FerrydDomain *domain;

  if (g_variant_n_children (params) == 3)
    g_variant_get (params, "(&s&s@a{sv})", &name, &destination, &options);
  else
    g_variant_get (params, "(&s@a{sv})", &destination, &options);
  domain = name ? lookup_domain_or_error (self, invocation, name)
                : domain_for_invocation (self, invocation);
  if (domain)
    func (self, invocation, domain, destination, options);
}

static void
manager_migrate (gpointer object, GDBusMethodInvocation *invocation)
{
  with_domain_target (object, invocation, do_migrate);
}

static void
manager_check (gpointer object, GDBusMethodInvocation *invocation)
{
  with_domain_target (object, invocation, do_check);
}

static void
manager_list_migrations (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = object;
  g_autoptr (GList) migrations = ferryd_engine_get_migrations (self->engine);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("ao"));
  for (GList *l = migrations; l; l = l->next)
    {
      g_autofree char *path = ferryd_migration_object_path (ferryd_migration_get_id (l->data));
      g_variant_builder_add (&builder, "o", path);
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ao)", &builder));
}

#define DISPATCH(handler)                                                                          \
  /* Connected swapped: the invocation is always the second argument. */                           \
  static gboolean on_##handler (gpointer user_data, GDBusMethodInvocation *invocation)             \
  {                                                                                                \
    FerrydBus *self = user_data;                                                                   \
    ferryd_authority_dispatch (self->authority, invocation, handler, self);                        \
    return G_DBUS_METHOD_INVOCATION_HANDLED;                                                       \
  }

DISPATCH (manager_define_domain)
DISPATCH (manager_migrate)
DISPATCH (manager_check)
DISPATCH (manager_list_migrations)

/* --- Domain --- */

static void
start_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_domain_start_finish (FERRYD_DOMAIN (source), result, &error))
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
domain_start (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydDomain *domain = domain_for_invocation (object, invocation);

  if (domain)
    ferryd_domain_start_async (domain, NULL, start_cb, g_object_ref (invocation));
}

static void
shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_domain_shutdown_finish (FERRYD_DOMAIN (source), result, &error))
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
domain_shutdown (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydDomain *domain = domain_for_invocation (object, invocation);

  if (domain)
    ferryd_domain_shutdown_async (domain, NULL, shutdown_cb, g_object_ref (invocation));
}

static void
domain_migrate (gpointer object, GDBusMethodInvocation *invocation)
{
  with_domain_target (object, invocation, do_migrate);
}

static void
domain_check (gpointer object, GDBusMethodInvocation *invocation)
{
  with_domain_target (object, invocation, do_check);
}

DISPATCH (domain_start)
DISPATCH (domain_shutdown)
DISPATCH (domain_migrate)
DISPATCH (domain_check)

/* --- Migration --- */

static FerrydMigration *
migration_for_invocation (FerrydBus *self, GDBusMethodInvocation *invocation)
{
  const char *path = g_dbus_method_invocation_get_object_path (invocation);
  FerrydMigration *migration = NULL;
  guint id;

  if (ferryd_migration_id_from_path (path, &id))
    migration = ferryd_engine_lookup_migration (self->engine, id);
  if (migration == NULL)
    g_dbus_method_invocation_return_error (invocation, FERRY_ERROR, FERRY_ERROR_NOT_FOUND,
                                           "No migration at %s", path);
  return migration;
}

static void
finish_control (GDBusMethodInvocation *invocation, gboolean ok, GError *error)
{
  if (ok)
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    return_error (invocation, error);
}

static void
control_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = ferryd_migration_control_finish (FERRYD_MIGRATION (source), result, &error);

  finish_control (invocation, ok, error);
}

static void
migration_control (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydMigration *migration = migration_for_invocation (object, invocation);
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  GVariant *params = g_dbus_method_invocation_get_parameters (invocation);
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;

  if (migration == NULL)
    return;
  if (g_str_equal (method, "SetMaxDowntime") || g_str_equal (method, "SetMaxBandwidth"))
    {
      guint64 value;
      g_variant_get (params, "(t)", &value);
      if (g_str_equal (method, "SetMaxDowntime"))
        ferryd_migration_set_max_downtime_async (migration, value, NULL, control_cb,
                                                 g_object_ref (invocation));
      else
        ferryd_migration_set_max_bandwidth_async (migration, value, NULL, control_cb,
                                                  g_object_ref (invocation));
      return;
    }
  if (g_str_equal (method, "Pause"))
    {
      ferryd_migration_pause_async (migration, NULL, control_cb, g_object_ref (invocation));
      return;
    }
  if (g_str_equal (method, "Cancel"))
    ok = ferryd_migration_cancel (migration, &error);
  else if (g_str_equal (method, "StartPostCopy"))
    ok = ferryd_migration_start_postcopy (migration, &error);
  else
    g_assert_not_reached ();
  finish_control (invocation, ok, error);
}

static void
migration_recover (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydMigration *migration = migration_for_invocation (object, invocation);
  const char *uri;

  if (migration == NULL)
    return;
  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s)", &uri);
  ferryd_migration_recover_async (migration, uri, NULL, control_cb, g_object_ref (invocation));
}

static void
migration_get_statistics (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydMigration *migration = migration_for_invocation (object, invocation);

  if (migration)
    g_dbus_method_invocation_return_value (
        invocation, g_variant_new ("(@a{sv})", ferryd_migration_get_statistics (migration)));
}

DISPATCH (migration_control)
DISPATCH (migration_recover)
DISPATCH (migration_get_statistics)

/* --- Peer --- */

static void
hello_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = ferryd_engine_hello_finish (FERRYD_ENGINE (source), result, &error);

  if (reply == NULL)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{sv})", reply));
}

static void
peer_hello (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = object;
  g_autoptr (GVariant) info = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(@a{sv})", &info);
  ferryd_engine_hello_async (self->engine, info, NULL, hello_cb, g_object_ref (invocation));
}

static void
prepare_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydMigration) migration = NULL;
  g_autoptr (GVariant) reply =
      ferryd_engine_prepare_finish (FERRYD_ENGINE (source), result, &migration, &error);
  g_autofree char *path = NULL;
  /* Set for a TLS peer's Prepare (the link may have closed since). */
  FerrydBus *self = g_object_get_data (G_OBJECT (invocation), "ferry-bus");
  TlsPeer *tls_peer = NULL;

  if (reply == NULL)
    {
      return_error (invocation, error);
      return;
    }
  if (self)
    tls_peer =
        g_hash_table_lookup (self->tls_peers, g_dbus_method_invocation_get_connection (invocation));
  /* A TLS peer speaks only of the migrations it prepared. */
  if (tls_peer)
    g_hash_table_add (tls_peer->migrations, GUINT_TO_POINTER (ferryd_migration_get_id (migration)));
  path = ferryd_migration_object_path (ferryd_migration_get_id (migration));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o@a{sv})", path, reply));
}

static void
peer_prepare (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = object;
  const char *name, *persistent, *live;
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GVariant) source_info = NULL;
  GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
  TlsPeer *tls_peer = g_hash_table_lookup (self->tls_peers, connection);
  g_autoptr (FerrydPeerWatch) source = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s&s&s@a{sv}@a{sv})",
                 &name, &persistent, &live, &options, &source_info);
  /* The migration follows its source: gone from the bus (or its link
   * closed), it is aborted. */
  if (tls_peer)
    {
      GVariantDict info;
      g_autofree const char **features = NULL;

      /* What came over TLS goes on over TLS: no clear-text data stream
       * for a peer of the TLS link. */
      if (!g_variant_lookup (source_info, "features", "^a&s", &features) ||
          !g_strv_contains (features, "tls"))
        {
          g_dbus_method_invocation_return_error_literal (
              invocation, FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
              "A source on the TLS peer link must encrypt its data stream (feature 'tls')");
          return;
        }
      /* A TLS source is who its certificate says, whatever it claims. */
      g_variant_dict_init (&info, source_info);
      g_variant_dict_insert (&info, "hostname", "s", tls_peer->subject);
      g_clear_pointer (&source_info, g_variant_unref);
      source_info = g_variant_ref_sink (g_variant_dict_end (&info));
      source = ferryd_peer_watch_new_for_link (connection, tls_peer->subject);
      g_object_set_data_full (G_OBJECT (invocation), "ferry-bus", g_object_ref (self),
                              g_object_unref);
    }
  else
    source = ferryd_peer_watch_new (connection, g_dbus_method_invocation_get_sender (invocation));
  ferryd_engine_prepare_async (self->engine, source, name, persistent, live, options, source_info,
                               prepare_cb, g_object_ref (invocation));
}

static void
finish_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *reply = ferryd_engine_finish_finish (FERRYD_ENGINE (source), result, &error);

  if (reply == NULL)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{sv})", reply));
}

/* The incoming migration a peer names by its path, or NULL (the error
 * returned). */
static FerrydMigration *
incoming_for_path (FerrydBus *self, GDBusMethodInvocation *invocation, const char *path)
{
  FerrydMigration *migration = NULL;
  guint id;
  TlsPeer *tls_peer =
      g_hash_table_lookup (self->tls_peers, g_dbus_method_invocation_get_connection (invocation));

  if (ferryd_migration_id_from_path (path, &id))
    migration = ferryd_engine_lookup_migration (self->engine, id);
  /* A peer speaks only of migrations into this host; a TLS peer only of
   * those it prepared itself. */
  if (migration && tls_peer && !g_hash_table_contains (tls_peer->migrations, GUINT_TO_POINTER (id)))
    migration = NULL;
  if (migration == NULL || !FERRYD_IS_INCOMING_MIGRATION (migration))
    {
      g_dbus_method_invocation_return_error (invocation, FERRY_ERROR, FERRY_ERROR_NOT_FOUND,
                                             "No incoming migration at %s", path);
      return NULL;
    }
  return migration;
}

static void
peer_finish (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = object;
  const char *path;
  gboolean completed;
  g_autoptr (GVariant) stats = NULL;
  FerrydMigration *migration;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&ob@a{sv})", &path,
                 &completed, &stats);
  migration = incoming_for_path (self, invocation, path);
  if (migration)
    ferryd_engine_finish_async (self->engine, migration, completed, stats, finish_cb,
                                g_object_ref (invocation));
}

static void
peer_abort (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = object;
  const char *path, *reason;
  g_autoptr (GError) error = NULL;
  FerrydMigration *migration;
  gboolean ok;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&o&s)", &path, &reason);
  migration = incoming_for_path (self, invocation, path);
  if (migration == NULL)
    return;
  /* Two statements: in one call, C leaves open whether 'error' is read
   * before or after the abort fills it. */
  ok = ferryd_engine_abort (self->engine, migration, reason, &error);
  finish_control (invocation, ok, error);
}

static void
peer_recover_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = ferryd_engine_recover_finish (FERRYD_ENGINE (source), result, &error);

  if (uri == NULL)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", uri));
}

static void
peer_recover (gpointer object, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = object;
  const char *path, *uri;
  FerrydMigration *migration;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&o&s)", &path, &uri);
  migration = incoming_for_path (self, invocation, path);
  if (migration)
    ferryd_engine_recover_async (self->engine, migration, uri, peer_recover_cb,
                                 g_object_ref (invocation));
}

DISPATCH (peer_hello)
DISPATCH (peer_prepare)
DISPATCH (peer_finish)
DISPATCH (peer_abort)
DISPATCH (peer_recover)

/* --- TLS peers --- */

/* A call on a TLS peer's link: its certificate, verified against this
 * host's CA before the link existed, is its authorization (polkit's
 * peer action is for callers on the bus, who have a uid and a pid; a
 * TLS peer has neither). Only the Peer interface is exported on such a
 * link, so nothing else can be called there. */
static gboolean
on_tls_peer_call (gpointer user_data, GDBusMethodInvocation *invocation)
{
  FerrydBus *self = user_data;
  const char *method = g_dbus_method_invocation_get_method_name (invocation);

  g_object_set_data (G_OBJECT (invocation), "ferry-caller-uid", GUINT_TO_POINTER (0 + 1));
  if (g_str_equal (method, "Hello"))
    peer_hello (self, invocation);
  else if (g_str_equal (method, "Prepare"))
    peer_prepare (self, invocation);
  else if (g_str_equal (method, "Finish"))
    peer_finish (self, invocation);
  else if (g_str_equal (method, "Abort"))
    peer_abort (self, invocation);
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                           "Method %s is not open to TLS peers", method);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
tls_link_closed_cb (GDBusConnection *connection,
                    gboolean remote_peer_vanished,
                    GError *error,
                    gpointer user_data)
{
  FerrydBus *self = user_data;

  g_signal_handlers_disconnect_by_func (connection, tls_link_closed_cb, self);
  g_hash_table_remove (self->tls_peers, connection);
}

void
ferryd_bus_add_tls_peer (FerrydBus *self, GDBusConnection *connection, const char *subject)
{
  g_autoptr (GError) error = NULL;
  TlsPeer *peer;

  g_return_if_fail (FERRYD_IS_BUS (self));
  g_return_if_fail (G_IS_DBUS_CONNECTION (connection));
  if (g_dbus_connection_is_closed (connection))
    return;
  peer = g_new0 (TlsPeer, 1);
  peer->skeleton = ferry_dbus_peer_skeleton_new ();
  peer->subject = g_strdup (subject);
  peer->migrations = g_hash_table_new (NULL, NULL);
  g_signal_connect_swapped (peer->skeleton, "handle-hello", G_CALLBACK (on_tls_peer_call), self);
  g_signal_connect_swapped (peer->skeleton, "handle-prepare", G_CALLBACK (on_tls_peer_call), self);
  g_signal_connect_swapped (peer->skeleton, "handle-finish", G_CALLBACK (on_tls_peer_call), self);
  g_signal_connect_swapped (peer->skeleton, "handle-abort", G_CALLBACK (on_tls_peer_call), self);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (peer->skeleton), connection,
                                         FERRY_OBJECT_PATH, &error))
    {
      g_warning ("TLS peer %s: cannot export the Peer interface: %s", subject, error->message);
      g_object_unref (peer->skeleton);
      g_free (peer->subject);
      g_hash_table_unref (peer->migrations);
      g_free (peer);
      g_dbus_connection_close (connection, NULL, NULL, NULL);
      return;
    }
  g_hash_table_insert (self->tls_peers, g_object_ref (connection), peer);
  g_signal_connect (connection, "closed", G_CALLBACK (tls_link_closed_cb), self);
}

/* --- object export --- */

/* The exported Domain interface of @domain (a new reference), or NULL. */
static FerryDBusDomain *
domain_interface (FerrydBus *self, FerrydDomain *domain)
{
  FerryDBusObject *object = g_hash_table_lookup (self->domain_objects, domain);

  return object ? ferry_dbus_object_get_domain (object) : NULL;
}

static void
domain_added_cb (FerrydDaemon *daemon, FerrydDomain *domain, FerrydBus *self)
{
  g_autofree char *path = ferryd_domain_object_path (ferryd_domain_get_name (domain));
  g_autoptr (FerryDBusObjectSkeleton) object = ferry_dbus_object_skeleton_new (path);
  g_autoptr (FerryDBusDomain) iface = ferry_dbus_domain_skeleton_new ();

  ferry_dbus_domain_set_name (iface, ferryd_domain_get_name (domain));
  ferry_dbus_domain_set_uuid (iface, ferryd_domain_get_uuid (domain));
  ferry_dbus_domain_set_backend (iface,
                                 ferryd_backend_get_name (ferryd_backend_for_domain (domain)));
  ferry_dbus_domain_set_migration (iface, "/");
  g_object_bind_property (domain, "state-reason", iface, "state-reason", G_BINDING_SYNC_CREATE);
  g_object_bind_property (domain, "state", iface, "state", G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (iface, "handle-start", G_CALLBACK (on_domain_start), self);
  g_signal_connect_swapped (iface, "handle-shutdown", G_CALLBACK (on_domain_shutdown), self);
  g_signal_connect_swapped (iface, "handle-migrate", G_CALLBACK (on_domain_migrate), self);
  g_signal_connect_swapped (iface, "handle-check", G_CALLBACK (on_domain_check), self);
  ferry_dbus_object_skeleton_set_domain (object, iface);
  g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
  g_hash_table_insert (self->domain_objects, domain, g_object_ref (object));
}

static void
domain_removed_cb (FerrydDaemon *daemon, FerrydDomain *domain, FerrydBus *self)
{
  GDBusObject *object = g_hash_table_lookup (self->domain_objects, domain);

  if (object == NULL)
    return;
  g_dbus_object_manager_server_unexport (self->object_manager,
                                         g_dbus_object_get_object_path (object));
  g_hash_table_remove (self->domain_objects, domain);
}

/* --- a migration's record: the engine's properties and signals on D-Bus --- */

static void
show_error (FerrydMigration *migration, GParamSpec *pspec, FerryDBusMigration *record)
{
  g_autoptr (GError) error = NULL;

  g_object_get (migration, "error", &error, NULL);
  if (error)
    {
      g_autoptr (GError) dbus_error = ferry_error_to_dbus (error);
      g_autofree char *name = g_dbus_error_encode_gerror (dbus_error);

      ferry_dbus_migration_set_error_name (record, name);
      ferry_dbus_migration_set_error_message (record, dbus_error->message);
    }
  else
    {
      ferry_dbus_migration_set_error_name (record, "");
      ferry_dbus_migration_set_error_message (record, "");
    }
}

static void
forward_phase_changed (FerrydMigration *migration, const char *phase, FerryDBusMigration *record)
{
  ferry_dbus_migration_emit_phase_changed (record, phase);
}

static void
forward_iteration (FerrydMigration *migration, guint n, GVariant *stats, FerryDBusMigration *record)
{
  ferry_dbus_migration_emit_iteration (record, n, stats);
}

static void
forward_post_copy_started (FerrydMigration *migration, FerryDBusMigration *record)
{
  ferry_dbus_migration_emit_post_copy_started (record);
}

static void
forward_policy_action (FerrydMigration *migration,
                       const char *action,
                       const char *reason,
                       FerryDBusMigration *record)
{
  ferry_dbus_migration_emit_policy_action (record, action, reason);
}

static void
forward_completed (FerrydMigration *migration, GVariant *statistics, FerryDBusMigration *record)
{
  ferry_dbus_migration_emit_completed (record, statistics);
}

static void
forward_failed (FerrydMigration *migration, FerryDBusMigration *record)
{
  ferry_dbus_migration_emit_failed (record, ferry_dbus_migration_get_error_name (record),
                                    ferry_dbus_migration_get_error_message (record));
}

/* A new skeleton showing @migration: every property of the interface is
 * bound to the engine's property of the same name and type, so adding one
 * takes the XML and the engine's property only (HACKING.md). Domain (a
 * path) is set by the caller; ErrorName/ErrorMessage come from "error".
 * Any other property the engine lacks is a programming error. */
static FerryDBusMigration *
migration_record_new (FerrydMigration *migration)
{
  static const char *const not_bound[] = { "domain", "error-name", "error-message", NULL };
  FerryDBusMigration *record = ferry_dbus_migration_skeleton_new ();
  gpointer iface = g_type_default_interface_ref (FERRY_DBUS_TYPE_MIGRATION);
  guint n = 0;
  g_autofree GParamSpec **pspecs = g_object_interface_list_properties (iface, &n);

  for (guint i = 0; i < n; i++)
    {
      const char *name = pspecs[i]->name;
      GParamSpec *source = g_object_class_find_property (G_OBJECT_GET_CLASS (migration), name);

      if (g_strv_contains (not_bound, name))
        continue;
      if (source == NULL || source->value_type != pspecs[i]->value_type)
        g_critical ("The migration has no property \"%s\" of type %s to show on D-Bus", name,
                    g_type_name (pspecs[i]->value_type));
      else
        g_object_bind_property (migration, name, record, name, G_BINDING_SYNC_CREATE);
    }
  g_type_default_interface_unref (iface);
  show_error (migration, NULL, record);
  g_signal_connect_object (migration, "notify::error", G_CALLBACK (show_error), record, 0);
  g_signal_connect_object (migration, "phase-changed", G_CALLBACK (forward_phase_changed), record,
                           0);
  g_signal_connect_object (migration, "iteration", G_CALLBACK (forward_iteration), record, 0);
  g_signal_connect_object (migration, "post-copy-started", G_CALLBACK (forward_post_copy_started),
                           record, 0);
  g_signal_connect_object (migration, "policy-action", G_CALLBACK (forward_policy_action), record,
                           0);
  g_signal_connect_object (migration, "completed", G_CALLBACK (forward_completed), record, 0);
  g_signal_connect_object (migration, "failed", G_CALLBACK (forward_failed), record, 0);
  return record;
}

static void
migration_added_cb (FerrydEngine *engine, FerrydMigration *migration, FerrydBus *self)
{
  g_autofree char *path = ferryd_migration_object_path (ferryd_migration_get_id (migration));
  g_autoptr (FerryDBusObjectSkeleton) object = ferry_dbus_object_skeleton_new (path);
  g_autoptr (FerryDBusMigration) record = migration_record_new (migration);
  FerrydDomain *domain = ferryd_migration_get_domain (migration);
  g_autoptr (FerryDBusDomain) domain_iface = domain_interface (self, domain);
  g_autofree char *domain_path = ferryd_domain_object_path (ferryd_domain_get_name (domain));

  ferry_dbus_migration_set_domain (record, domain_path);

  g_signal_connect_swapped (record, "handle-cancel", G_CALLBACK (on_migration_control), self);
  g_signal_connect_swapped (record, "handle-start-post-copy", G_CALLBACK (on_migration_control),
                            self);
  g_signal_connect_swapped (record, "handle-set-max-downtime", G_CALLBACK (on_migration_control),
                            self);
  g_signal_connect_swapped (record, "handle-set-max-bandwidth", G_CALLBACK (on_migration_control),
                            self);
  g_signal_connect_swapped (record, "handle-pause", G_CALLBACK (on_migration_control), self);
  g_signal_connect_swapped (record, "handle-recover", G_CALLBACK (on_migration_recover), self);
  g_signal_connect_swapped (record, "handle-get-statistics",
                            G_CALLBACK (on_migration_get_statistics), self);
  ferry_dbus_object_skeleton_set_migration (object, record);
  g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
  if (domain_iface && !ferryd_migration_is_finished (migration))
    ferry_dbus_domain_set_migration (domain_iface, path);
}

static void
migration_finished_cb (FerrydEngine *engine, FerrydMigration *migration, FerrydBus *self)
{
  FerrydDomain *domain = ferryd_migration_get_domain (migration);
  g_autoptr (FerryDBusDomain) domain_iface = domain_interface (self, domain);
  g_autofree char *path = ferryd_migration_object_path (ferryd_migration_get_id (migration));

  if (domain_iface && g_strcmp0 (ferry_dbus_domain_get_migration (domain_iface), path) == 0)
    ferry_dbus_domain_set_migration (domain_iface, "/");
}

static void
migration_removed_cb (FerrydEngine *engine, FerrydMigration *migration, FerrydBus *self)
{
  g_autofree char *path = ferryd_migration_object_path (ferryd_migration_get_id (migration));

  g_dbus_object_manager_server_unexport (self->object_manager, path);
}

static void
backends_changed_cb (FerrydDaemon *daemon, FerrydBus *self)
{
  ferry_dbus_manager_set_backends (self->manager, ferryd_daemon_get_backends (daemon));
}

FerrydBus *
ferryd_bus_new (GDBusConnection *connection,
                FerrydDaemon *daemon,
                FerrydEngine *engine,
                FerrydAuthority *authority,
                GError **error)
{
  g_autoptr (FerrydBus) self = g_object_new (FERRYD_TYPE_BUS, NULL);
  g_autoptr (GList) domains = NULL;
  g_autoptr (GList) migrations = NULL;

  self->connection = g_object_ref (connection);
  self->daemon = g_object_ref (daemon);
  self->engine = g_object_ref (engine);
  self->authority = g_object_ref (authority);
  self->object_manager = g_dbus_object_manager_server_new (FERRY_OBJECT_PATH);

  self->manager = ferry_dbus_manager_skeleton_new ();
  ferry_dbus_manager_set_version (self->manager, PACKAGE_VERSION);
  ferry_dbus_manager_set_hostname (self->manager, ferryd_daemon_get_hostname (daemon));
  ferry_dbus_manager_set_host_uuid (self->manager, ferryd_daemon_get_host_uuid (daemon));
  ferry_dbus_manager_set_backends (self->manager, ferryd_daemon_get_backends (daemon));
  ferry_dbus_manager_set_capabilities (self->manager, ferryd_daemon_get_capabilities (daemon));
  g_signal_connect_swapped (self->manager, "handle-define-domain",
                            G_CALLBACK (on_manager_define_domain), self);
  g_signal_connect_swapped (self->manager, "handle-migrate", G_CALLBACK (on_manager_migrate), self);
  g_signal_connect_swapped (self->manager, "handle-check", G_CALLBACK (on_manager_check), self);
  g_signal_connect_swapped (self->manager, "handle-list-migrations",
                            G_CALLBACK (on_manager_list_migrations), self);

  self->peer = ferry_dbus_peer_skeleton_new ();
  g_signal_connect_swapped (self->peer, "handle-hello", G_CALLBACK (on_peer_hello), self);
  g_signal_connect_swapped (self->peer, "handle-prepare", G_CALLBACK (on_peer_prepare), self);
  g_signal_connect_swapped (self->peer, "handle-finish", G_CALLBACK (on_peer_finish), self);
  g_signal_connect_swapped (self->peer, "handle-abort", G_CALLBACK (on_peer_abort), self);
  g_signal_connect_swapped (self->peer, "handle-recover", G_CALLBACK (on_peer_recover), self);

  /* The root object carries the ObjectManager and, beside it, the
   * Manager and Peer interfaces. */
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->manager), connection,
                                         FERRY_OBJECT_PATH, error) ||
      !g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->peer), connection,
                                         FERRY_OBJECT_PATH, error))
    return NULL;

  g_signal_connect (daemon, "domain-added", G_CALLBACK (domain_added_cb), self);
  g_signal_connect (daemon, "domain-removed", G_CALLBACK (domain_removed_cb), self);
  g_signal_connect (daemon, "backends-changed", G_CALLBACK (backends_changed_cb), self);
  g_signal_connect (engine, "migration-added", G_CALLBACK (migration_added_cb), self);
  g_signal_connect (engine, "migration-finished", G_CALLBACK (migration_finished_cb), self);
  g_signal_connect (engine, "migration-removed", G_CALLBACK (migration_removed_cb), self);
  domains = ferryd_daemon_get_domains (daemon);
  for (GList *l = domains; l; l = l->next)
    domain_added_cb (daemon, l->data, self);
  /* Migrations a previous ferryd left in its journal. */
  migrations = ferryd_engine_get_migrations (engine);
  for (GList *l = migrations; l; l = l->next)
    migration_added_cb (engine, l->data, self);
  g_dbus_object_manager_server_set_connection (self->object_manager, connection);
  return g_steal_pointer (&self);
}

static void
ferryd_bus_dispose (GObject *object)
{
  FerrydBus *self = FERRYD_BUS (object);

  if (self->daemon)
    g_signal_handlers_disconnect_by_data (self->daemon, self);
  if (self->engine)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  if (self->manager)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->manager));
  if (self->peer)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->peer));
  g_clear_object (&self->manager);
  g_clear_object (&self->peer);
  g_clear_object (&self->object_manager);
  g_clear_pointer (&self->domain_objects, g_hash_table_unref);
  if (self->tls_peers)
    {
      GHashTableIter iter;
      gpointer connection;

      g_hash_table_iter_init (&iter, self->tls_peers);
      while (g_hash_table_iter_next (&iter, &connection, NULL))
        g_signal_handlers_disconnect_by_func (connection, tls_link_closed_cb, self);
      g_clear_pointer (&self->tls_peers, g_hash_table_unref);
    }
  g_clear_object (&self->authority);
  g_clear_object (&self->engine);
  g_clear_object (&self->daemon);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (ferryd_bus_parent_class)->dispose (object);
}

static void
ferryd_bus_class_init (FerrydBusClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ferryd_bus_dispose;
}

static void
ferryd_bus_init (FerrydBus *self)
{
  self->domain_objects = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->tls_peers =
      g_hash_table_new_full (NULL, NULL, g_object_unref, (GDestroyNotify) tls_peer_free);
}
