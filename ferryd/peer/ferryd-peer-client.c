/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-client.c: the typed client of a destination's Peer interface
 *
 * A thin layer over the generated FerryDBusPeer proxy: the link comes
 * from ferryd_peer_connect_async() (a bus, or a peer-to-peer connection
 * with no bus name), the calls are typed, and remote errors are
 * converted here, at the boundary, so the engine sees FERRY_ERROR only.
 */
#define G_LOG_DOMAIN "ferry-peer"

#include "ferryd-peer-client.h"
#include "ferry-dbus.h"
#include "ferry-error.h"
#include "ferry-names.h"
#include "ferryd-peer.h"

struct _FerrydPeerClient
{
  GObject parent_instance;

  GDBusConnection *connection;
  FerryDBusPeer *proxy;
  int timeout_ms;
  guint watch_id;
  gboolean owner_seen; /* the destination's name had an owner */
};

enum
{
  SIGNAL_CLOSED,
  SIGNAL_VANISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydPeerClient, ferryd_peer_client, G_TYPE_OBJECT)

/* The error of a failed call, in FERRY_ERROR. @what says what the
 * destination did ("refused to prepare"). */
static GError *
peer_error (const GError *error, const char *what)
{
  g_autoptr (GError) converted = ferry_error_to_dbus (error);
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                "Migration cancelled by request");
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) || name == NULL ||
      g_str_equal (name, "org.freedesktop.DBus.Error.AccessDenied") ||
      g_str_has_prefix (name, FERRY_ERROR_NAME_PREFIX))
    {
      gboolean unreachable = name == NULL ||
                             g_str_equal (name, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                             g_str_equal (name, "org.freedesktop.DBus.Error.NoReply");
      g_autoptr (GError) stripped = g_error_copy (error);
      g_dbus_error_strip_remote_error (stripped);
      return g_error_new (FERRY_ERROR,
                          unreachable ? FERRY_ERROR_PEER_UNREACHABLE : FERRY_ERROR_PEER_REFUSED,
                          "Destination %s: %s", what, stripped->message);
    }
  return g_error_new (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED, "Destination %s: %s", what,
                      converted->message);
}

/* A task of @self for one call; the call's own cancellation is
 * converted like its other errors. */
static GTask *
call_task (FerrydPeerClient *self,
           gpointer source_tag,
           GCancellable *cancellable,
           GAsyncReadyCallback callback,
           gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

/* --- construction --- */

static void
closed_cb (GDBusConnection *connection,
           gboolean remote_peer_vanished,
           GError *error,
           gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_CLOSED], 0);
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char *name,
                  const char *owner,
                  gpointer user_data)
{
  FERRYD_PEER_CLIENT (user_data)->owner_seen = TRUE;
}

/* The destination ferryd left its bus (killed, say) while the bus stays:
 * the connection does not close, so its name tells. */
static void
name_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  FerrydPeerClient *self = user_data;

  if (!self->owner_seen)
    return; /* not started yet: the first call may activate it */
  self->owner_seen = FALSE;
  g_signal_emit (self, signals[SIGNAL_VANISHED], 0);
}

static void
proxy_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydPeerClient *self = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  self->proxy = ferry_dbus_peer_proxy_new_finish (result, &error);
  if (self->proxy == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                               "Cannot reach the destination ferryd: %s", error->message);
      return;
    }
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (self->proxy), self->timeout_ms);
  g_signal_connect_object (self->connection, "closed", G_CALLBACK (closed_cb), self, 0);
  if (g_dbus_connection_get_unique_name (self->connection))
    self->watch_id = g_bus_watch_name_on_connection (
        self->connection, FERRY_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE, name_appeared_cb,
        name_vanished_cb, self, NULL);
  g_task_return_pointer (task, g_object_ref (self), g_object_unref);
}

static void
make_proxy (GTask *task)
{
  FerrydPeerClient *self = g_task_get_task_data (task);

  g_dbus_connection_set_exit_on_close (self->connection, FALSE);
  /* A bus routes by name; a peer-to-peer link has the destination alone
   * at its other end. Neither properties nor signals are used, and the
   * call (not the construction) starts the destination if it is
   * activatable, as a plain call to the bus name would. */
  ferry_dbus_peer_proxy_new (
      self->connection,
      G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
          G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION,
      g_dbus_connection_get_unique_name (self->connection) ? FERRY_BUS_NAME : NULL,
      FERRY_OBJECT_PATH, g_task_get_cancellable (task), proxy_ready_cb, g_object_ref (task));
}

static void
connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydPeerClient *self = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  self->connection = ferryd_peer_connect_finish (result, &error);
  if (self->connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  make_proxy (task);
}

void
ferryd_peer_client_new_async (const char *destination,
                              int timeout_ms,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  FerrydPeerClient *self;

  g_return_if_fail (destination != NULL);
  task = g_task_new (NULL, cancellable, callback, user_data);
  self = g_object_new (FERRYD_TYPE_PEER_CLIENT, NULL);
  g_task_set_source_tag (task, ferryd_peer_client_new_async);
  g_task_set_task_data (task, self, g_object_unref);
  self->timeout_ms = timeout_ms;
  ferryd_peer_connect_async (destination, cancellable, connected_cb, g_object_ref (task));
}

void
ferryd_peer_client_new_for_connection_async (GDBusConnection *connection,
                                             int timeout_ms,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  FerrydPeerClient *self;

  g_return_if_fail (G_IS_DBUS_CONNECTION (connection));
  task = g_task_new (NULL, cancellable, callback, user_data);
  self = g_object_new (FERRYD_TYPE_PEER_CLIENT, NULL);
  /* One tag for both constructors: one _finish. */
  g_task_set_source_tag (task, ferryd_peer_client_new_async);
  g_task_set_task_data (task, self, g_object_unref);
  self->timeout_ms = timeout_ms;
  self->connection = g_object_ref (connection);
  make_proxy (task);
}

FerrydPeerClient *
ferryd_peer_client_new_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_peer_client_new_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ferryd_peer_client_close (FerrydPeerClient *self)
{
  g_return_if_fail (FERRYD_IS_PEER_CLIENT (self));
  if (self->watch_id)
    g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  g_dbus_connection_close (self->connection, NULL, NULL, NULL);
}

/* --- Hello --- */

static void
hello_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *info = NULL;

  if (!ferry_dbus_peer_call_hello_finish (FERRY_DBUS_PEER (source), &info, result, &error))
    g_task_return_error (task, peer_error (error, "refused the handshake"));
  else
    g_task_return_pointer (task, info, (GDestroyNotify) g_variant_unref);
}

void
ferryd_peer_client_hello_async (FerrydPeerClient *self,
                                GVariant *source_info,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRYD_IS_PEER_CLIENT (self));
  task = call_task (self, ferryd_peer_client_hello_async, cancellable, callback, user_data);
  ferry_dbus_peer_call_hello (self->proxy, source_info, cancellable, hello_cb, task);
}

GVariant *
ferryd_peer_client_hello_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_peer_client_hello_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- Prepare --- */

typedef struct
{
  char *migration;
  GVariant *info;
} PrepareReply;

static void
prepare_reply_free (PrepareReply *reply)
{
  g_free (reply->migration);
  g_clear_pointer (&reply->info, g_variant_unref);
  g_free (reply);
}

static void
prepare_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  PrepareReply *reply = g_new0 (PrepareReply, 1);

  if (!ferry_dbus_peer_call_prepare_finish (FERRY_DBUS_PEER (source), &reply->migration,
                                            &reply->info, result, &error))
    {
      prepare_reply_free (reply);
      g_task_return_error (task, peer_error (error, "refused to prepare"));
    }
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) prepare_reply_free);
}

void
ferryd_peer_client_prepare_async (FerrydPeerClient *self,
                                  const char *domain_name,
                                  const char *persistent_description,
                                  const char *live_description,
                                  GVariant *options,
                                  GVariant *source_info,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRYD_IS_PEER_CLIENT (self));
  task = call_task (self, ferryd_peer_client_prepare_async, cancellable, callback, user_data);
  ferry_dbus_peer_call_prepare (self->proxy, domain_name, persistent_description, live_description,
                                options, source_info, cancellable, prepare_cb, task);
}

char *
ferryd_peer_client_prepare_finish (FerrydPeerClient *self,
                                   GAsyncResult *result,
                                   GVariant **out_info,
                                   GError **error)
{
  PrepareReply *reply;
  char *migration;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_peer_client_prepare_async,
                        NULL);
  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply == NULL)
    return NULL;
  migration = g_steal_pointer (&reply->migration);
  if (out_info)
    *out_info = g_steal_pointer (&reply->info);
  prepare_reply_free (reply);
  return migration;
}

/* --- Finish --- */

static void
finish_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *info = NULL;

  if (!ferry_dbus_peer_call_finish_finish (FERRY_DBUS_PEER (source), &info, result, &error))
    g_task_return_error (task, peer_error (error, "could not finish"));
  else
    g_task_return_pointer (task, info, (GDestroyNotify) g_variant_unref);
}

void
ferryd_peer_client_finish_async (FerrydPeerClient *self,
                                 const char *migration,
                                 gboolean source_completed,
                                 GVariant *statistics,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRYD_IS_PEER_CLIENT (self));
  g_return_if_fail (migration != NULL);
  task = call_task (self, ferryd_peer_client_finish_async, cancellable, callback, user_data);
  ferry_dbus_peer_call_finish (self->proxy, migration, source_completed, statistics, cancellable,
                               finish_cb, task);
}

GVariant *
ferryd_peer_client_finish_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_peer_client_finish_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- Abort --- */

static void
abort_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferry_dbus_peer_call_abort_finish (FERRY_DBUS_PEER (source), result, &error))
    g_task_return_error (task, peer_error (error, "did not confirm the abort"));
  else
    g_task_return_boolean (task, TRUE);
}

void
ferryd_peer_client_abort_async (FerrydPeerClient *self,
                                const char *migration,
                                const char *reason,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRYD_IS_PEER_CLIENT (self));
  g_return_if_fail (migration != NULL);
  task = call_task (self, ferryd_peer_client_abort_async, cancellable, callback, user_data);
  /* The proxy takes its default timeout when the call is sent. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (self->proxy), FERRYD_PEER_ABORT_TIMEOUT_MS);
  ferry_dbus_peer_call_abort (self->proxy, migration, reason, cancellable, abort_cb, task);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (self->proxy), self->timeout_ms);
}

gboolean
ferryd_peer_client_abort_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_peer_client_abort_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Recover --- */

static void
recover_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  char *uri = NULL;

  if (!ferry_dbus_peer_call_recover_finish (FERRY_DBUS_PEER (source), &uri, result, &error))
    g_task_return_error (task, peer_error (error, "cannot recover"));
  else
    g_task_return_pointer (task, uri, g_free);
}

void
ferryd_peer_client_recover_async (FerrydPeerClient *self,
                                  const char *migration,
                                  const char *uri,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRYD_IS_PEER_CLIENT (self));
  g_return_if_fail (migration != NULL);
  task = call_task (self, ferryd_peer_client_recover_async, cancellable, callback, user_data);
  ferry_dbus_peer_call_recover (self->proxy, migration, uri ? uri : "", cancellable, recover_cb,
                                task);
}

char *
ferryd_peer_client_recover_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_peer_client_recover_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- object --- */

static void
ferryd_peer_client_dispose (GObject *object)
{
  FerrydPeerClient *self = FERRYD_PEER_CLIENT (object);

  if (self->watch_id)
    g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  if (self->connection)
    g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->proxy);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (ferryd_peer_client_parent_class)->dispose (object);
}

static void
ferryd_peer_client_class_init (FerrydPeerClientClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ferryd_peer_client_dispose;

  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_VANISHED] = g_signal_new ("vanished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferryd_peer_client_init (FerrydPeerClient *self)
{
  self->timeout_ms = -1;
}
