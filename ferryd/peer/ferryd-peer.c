/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer.c: reach a destination ferryd over D-Bus
 *
 * The peer link is the destination host's own system bus. For local
 * test hosts that is a plain D-Bus address; for remote hosts the bus is
 * tunnelled through ssh to systemd-stdio-bridge, the same route as
 * `busctl --host`. Any GIOStream works here, so a TLS stream can be
 * slotted in later without touching the engine.
 */
#define G_LOG_DOMAIN "ferry-peer"

#include "ferryd-peer.h"
#include "ferry-error.h"

#define CONNECT_FLAGS                                                                              \
  (G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION)

static gboolean
parse_ssh (const char *destination, char **target)
{
  const char *rest;

  if (!g_str_has_prefix (destination, "ssh://"))
    return FALSE;
  rest = destination + strlen ("ssh://");
  if (*rest == '\0' || strpbrk (rest, "/ ;'\"") != NULL || rest[0] == '-')
    return FALSE;
  if (target)
    *target = g_strdup (rest);
  return TRUE;
}

gboolean
ferryd_peer_destination_is_valid (const char *destination, GError **error)
{
  if (parse_ssh (destination, NULL))
    return TRUE;
  if (g_str_has_prefix (destination, "ssh://"))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid destination '%s': expected ssh://[user@]host", destination);
      return FALSE;
    }
  if (g_str_has_prefix (destination, "tls://") || g_str_has_prefix (destination, "qemu+") ||
      g_str_has_prefix (destination, "qemu:"))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "Destination '%s': this transport is not supported by this version of ferryd",
                   destination);
      return FALSE;
    }
  if (!g_dbus_is_supported_address (destination, NULL))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid destination '%s': expected a D-Bus address or ssh://[user@]host",
                   destination);
      return FALSE;
    }
  return TRUE;
}

char *
ferryd_peer_data_host (const char *destination)
{
  g_autofree char *target = NULL;
  const char *at;

  if (!parse_ssh (destination, &target))
    return g_strdup ("127.0.0.1");
  at = strrchr (target, '@');
  return g_strdup (at ? at + 1 : target);
}

static void
connection_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_finish (result, &error);

  if (connection == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                             "Cannot reach the destination ferryd: %s", error->message);
  else
    g_task_return_pointer (task, connection, g_object_unref);
}

static void
address_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_for_address_finish (result, &error);

  if (connection == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                             "Cannot reach the destination ferryd at %s: %s",
                             (const char *) g_task_get_task_data (task), error->message);
  else
    g_task_return_pointer (task, connection, g_object_unref);
}

void
ferryd_peer_connect_async (const char *destination,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autofree char *target = NULL;

  g_task_set_task_data (task, g_strdup (destination), g_free);
  if (!ferryd_peer_destination_is_valid (destination, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (parse_ssh (destination, &target))
    {
      g_autoptr (GSubprocess) ssh = g_subprocess_new (
          G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "ssh", "-xT",
          "-o", "BatchMode=yes", "--", target, "systemd-stdio-bridge", NULL);
      g_autoptr (GIOStream) stream = NULL;

      if (ssh == NULL)
        {
          g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                                   "Cannot run ssh: %s", error->message);
          return;
        }
      stream = g_simple_io_stream_new (g_subprocess_get_stdout_pipe (ssh),
                                       g_subprocess_get_stdin_pipe (ssh));
      /* ssh lives as long as the stream; reap it when it exits. */
      g_object_set_data_full (G_OBJECT (stream), "ferry-ssh", g_object_ref (ssh), g_object_unref);
      g_subprocess_wait_async (ssh, NULL, NULL, NULL);
      g_dbus_connection_new (stream, NULL, CONNECT_FLAGS, NULL, cancellable, connection_ready_cb,
                             g_steal_pointer (&task));
      return;
    }
  g_dbus_connection_new_for_address (destination, CONNECT_FLAGS, NULL, cancellable,
                                     address_ready_cb, g_steal_pointer (&task));
}

GDBusConnection *
ferryd_peer_connect_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
