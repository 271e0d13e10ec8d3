/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer.c: reach a destination ferryd over D-Bus
 *
 * The peer link is the destination host's own system bus. For local
 * test hosts that is a plain D-Bus address; for remote hosts the bus is
 * tunnelled through ssh to systemd-stdio-bridge, the same route as
 * `busctl --host`. A tls:// destination is ferryd's own listener
 * (ferryd-peer-listener.c): a peer-to-peer D-Bus connection over mutual
 * x509 TLS, each side verifying the other against its configured CA.
 * Nothing is sent before both certificates have been verified, and
 * there is no fallback to clear text.
 */
#define G_LOG_DOMAIN "ferry-peer"

#include "ferryd-peer.h"
#include "ferry-error.h"
#include "ferryd-peer-tls.h"

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

/* tls://host[:port]; an IPv6 address in brackets. */
static gboolean
parse_tls (const char *destination, char **host, guint16 *port)
{
  g_autoptr (GNetworkAddress) address = NULL;
  const char *rest;

  if (!g_str_has_prefix (destination, "tls://"))
    return FALSE;
  rest = destination + strlen ("tls://");
  if (*rest == '\0' || strpbrk (rest, "/@?# ") != NULL)
    return FALSE;
  address = G_NETWORK_ADDRESS (g_network_address_parse (rest, FERRYD_PEER_TLS_DEFAULT_PORT, NULL));
  if (address == NULL || g_network_address_get_port (address) == 0)
    return FALSE;
  if (host)
    *host = g_strdup (g_network_address_get_hostname (address));
  if (port)
    *port = g_network_address_get_port (address);
  return TRUE;
}

gboolean
ferryd_peer_destination_is_tls (const char *destination)
{
  return g_str_has_prefix (destination, "tls://");
}

gboolean
ferryd_peer_destination_is_valid (const char *destination, GError **error)
{
  if (parse_ssh (destination, NULL) || parse_tls (destination, NULL, NULL))
    return TRUE;
  if (g_str_has_prefix (destination, "tls://"))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid destination '%s': expected tls://host[:port]", destination);
      return FALSE;
    }
  if (g_str_has_prefix (destination, "ssh://"))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid destination '%s': expected ssh://[user@]host", destination);
      return FALSE;
    }
  if (g_str_has_prefix (destination, "qemu+") || g_str_has_prefix (destination, "qemu:"))
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

  if (parse_tls (destination, &target, NULL))
    return g_steal_pointer (&target);
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

/* --- tls:// --- */

typedef struct
{
  char *host;
  guint16 port;
  GTlsCertificateFlags refused; /* why the destination's certificate was refused */
  GSocketConnection *tcp;       /* while this host's certificate loads */
} TlsData;

static void
tls_data_free (TlsData *data)
{
  g_free (data->host);
  g_clear_object (&data->tcp);
  g_free (data);
}

static gboolean
accept_certificate_cb (GTlsConnection *connection,
                       GTlsCertificate *certificate,
                       GTlsCertificateFlags errors,
                       gpointer user_data)
{
  TlsData *data = user_data;

  /* The configured CA is the only authority: never accept what it does
   * not vouch for, only remember why for the error. */
  data->refused = errors;
  return errors == 0;
}

static void
tls_dbus_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TlsData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_finish (result, &error);

  /* With TLS 1.3 a listener that refuses this host's certificate says so
   * only after the client's side of the handshake is over: the refusal
   * then shows here, on the first message. */
  if (connection == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                             "The destination %s:%u closed the TLS link before any call (it "
                             "refuses a certificate that is expired or not from its CA): %s",
                             data->host, data->port, error->message);
  else
    g_task_return_pointer (task, connection, g_object_unref);
}

static void
tls_handshake_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TlsData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  GCancellable *cancellable;

  g_signal_handlers_disconnect_by_data (source, data);
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      if (data->refused)
        {
          g_autofree char *why = ferryd_peer_tls_describe_flags (data->refused);
          g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                   "Refusing the destination %s:%u: its TLS certificate %s",
                                   data->host, data->port, why);
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                 "TLS handshake with %s:%u failed (the destination refuses a "
                                 "certificate that is expired or not from its CA): %s",
                                 data->host, data->port, error->message);
      return;
    }
  /* The link is authenticated by the certificates; D-Bus's own
   * authentication has nothing to add on it (ANONYMOUS). */
  cancellable = g_task_get_cancellable (task);
  g_dbus_connection_new (G_IO_STREAM (source), NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                         NULL, cancellable, tls_dbus_ready_cb, g_steal_pointer (&task));
}

static void
tls_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TlsData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) tcp = g_steal_pointer (&data->tcp);
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (GTlsDatabase) database = NULL;
  g_autoptr (GSocketConnectable) identity = NULL;
  g_autoptr (GIOStream) tls = NULL;
  GCancellable *cancellable;

  if (!ferryd_peer_tls_load_finish (result, &certificate, &database, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  identity = g_network_address_new (data->host, data->port);
  tls = g_tls_client_connection_new (G_IO_STREAM (tcp), identity, &error);
  if (tls == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "TLS is not available: %s",
                               error->message);
      return;
    }
  g_tls_connection_set_certificate (G_TLS_CONNECTION (tls), certificate);
  g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_certificate_cb), data);
  cancellable = g_task_get_cancellable (task);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, cancellable,
                                    tls_handshake_cb, g_steal_pointer (&task));
}

static void
tls_tcp_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TlsData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) tcp =
      g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, &error);
  GCancellable *cancellable;

  if (tcp == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                               "Cannot reach the destination ferryd at %s:%u: %s", data->host,
                               data->port, error->message);
      return;
    }
  /* The connect timeout must not outlive the connect: the link sits idle
   * for as long as QEMU streams. A dead destination is noticed through
   * keepalive instead. */
  g_socket_set_timeout (g_socket_connection_get_socket (tcp), 0);
  g_socket_set_keepalive (g_socket_connection_get_socket (tcp), TRUE);
  /* Read afresh for every link (a renewed certificate counts), off the
   * main loop. */
  data->tcp = g_steal_pointer (&tcp);
  cancellable = g_task_get_cancellable (task);
  ferryd_peer_tls_load_async (FERRYD_PEER_TLS_CLIENT, cancellable, tls_loaded_cb,
                              g_steal_pointer (&task));
}

static void
connect_tls (GTask *task, const char *destination)
{
  TlsData *data = g_new0 (TlsData, 1);
  g_autoptr (GSocketClient) client = g_socket_client_new ();

  parse_tls (destination, &data->host, &data->port);
  g_task_set_task_data (task, data, (GDestroyNotify) tls_data_free);
  g_socket_client_set_timeout (client, 30);
  g_socket_client_connect_to_host_async (
      client, destination + strlen ("tls://"), FERRYD_PEER_TLS_DEFAULT_PORT,
      g_task_get_cancellable (task), tls_tcp_ready_cb, g_object_ref (task));
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
  if (ferryd_peer_destination_is_tls (destination))
    {
      connect_tls (task, destination);
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
