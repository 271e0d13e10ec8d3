/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-listener.c: the destination's TLS peer listener
 *
 * A root daemon that accepts connections from the network: every link
 * must show a client certificate that chains to this host's CA before
 * anything else happens; a link that does not finish its handshake and
 * D-Bus authentication in time is dropped, and only a few may be in that
 * state at once, so a peer cannot tie up the listener. D-Bus's own
 * authentication runs with ANONYMOUS only: the certificate is the
 * identity, and who may migrate into this host is whoever holds a
 * certificate from its CA.
 */
#define G_LOG_DOMAIN "ferry-peer"

#include "ferryd-peer-listener.h"
#include "ferry-error.h"
#include "ferryd-peer-tls.h"

/* A link has this long for its TLS handshake and D-Bus authentication. */
#define HANDSHAKE_TIMEOUT_S 10
/* Links that may be between accept and an authenticated D-Bus link. */
#define MAX_PENDING 16

struct _FerrydPeerListener
{
  GObject parent_instance;

  GSocketService *service;
  GDBusAuthObserver *observer;
  char *guid;
  guint pending;
};

enum
{
  SIGNAL_PEER_CONNECTED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydPeerListener, ferryd_peer_listener, G_TYPE_OBJECT)

typedef struct
{
  FerrydPeerListener *self;
  GSocketConnection *connection; /* while the certificate loads */
  GIOStream *tls;
  GTlsDatabase *database;
  GCancellable *cancellable;
  guint timeout_id;
  char *remote;
  char *subject;
  GTlsCertificateFlags refused;
} Pending;

static void
pending_free (Pending *pending)
{
  pending->self->pending--;
  g_clear_handle_id (&pending->timeout_id, g_source_remove);
  if (pending->tls)
    g_signal_handlers_disconnect_by_data (pending->tls, pending);
  g_clear_object (&pending->connection);
  g_clear_object (&pending->tls);
  g_clear_object (&pending->database);
  g_clear_object (&pending->cancellable);
  g_object_unref (pending->self);
  g_free (pending->remote);
  g_free (pending->subject);
  g_free (pending);
}

static gboolean
timeout_cb (gpointer user_data)
{
  Pending *pending = user_data;

  pending->timeout_id = 0;
  g_cancellable_cancel (pending->cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
accept_certificate_cb (GTlsConnection *connection,
                       GTlsCertificate *certificate,
                       GTlsCertificateFlags errors,
                       gpointer user_data)
{
  Pending *pending = user_data;
  g_autoptr (GError) error = NULL;
  GTlsCertificateFlags flags;

  /* Only what this host's CA vouches for, as a client: checked here,
   * whatever the TLS backend found, and why it is refused remembered. */
  flags = g_tls_database_verify_chain (pending->database, certificate,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_CLIENT, NULL, NULL,
                                       G_TLS_DATABASE_VERIFY_NONE, pending->cancellable, &error);
  if (error)
    flags |= G_TLS_CERTIFICATE_GENERIC_ERROR;
  pending->refused = errors | flags;
  return pending->refused == 0;
}

static void
dbus_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = g_dbus_connection_new_finish (result, &error);

  if (connection == NULL)
    g_message ("TLS peer %s (%s): D-Bus authentication failed: %s", pending->remote,
               pending->subject, error->message);
  else
    {
      g_info ("TLS peer %s connected: %s", pending->remote, pending->subject);
      g_dbus_connection_set_exit_on_close (connection, FALSE);
      g_signal_emit (pending->self, signals[SIGNAL_PEER_CONNECTED], 0, connection,
                     pending->subject);
    }
  pending_free (pending);
}

static void
handshake_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  FerrydPeerListener *self = pending->self;
  g_autoptr (GError) error = NULL;
  GTlsCertificate *peer;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      if (pending->refused)
        {
          g_autofree char *why = ferryd_peer_tls_describe_flags (pending->refused);
          g_message ("TLS peer %s refused: its certificate %s", pending->remote, why);
        }
      else
        g_message ("TLS peer %s refused: handshake failed: %s", pending->remote, error->message);
      pending_free (pending);
      return;
    }
  peer = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (source));
  if (peer == NULL)
    {
      /* Cannot happen with a required client certificate; never trust
       * a link without one all the same. */
      g_message ("TLS peer %s refused: it showed no certificate", pending->remote);
      pending_free (pending);
      return;
    }
  pending->subject = ferryd_peer_tls_subject (peer);
  g_dbus_connection_new (pending->tls, self->guid,
                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER |
                             G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_ALLOW_ANONYMOUS,
                         self->observer, pending->cancellable, dbus_ready_cb, pending);
}

static char *
describe_remote (GSocketConnection *connection)
{
  g_autoptr (GSocketAddress) address = g_socket_connection_get_remote_address (connection, NULL);

  if (G_IS_INET_SOCKET_ADDRESS (address))
    {
      g_autofree char *ip = g_inet_address_to_string (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
      return g_strdup_printf ("%s:%u", ip,
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
    }
  return g_strdup ("(unknown address)");
}

static void
loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  g_autoptr (GSocketConnection) connection = g_steal_pointer (&pending->connection);
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (GError) error = NULL;
  GIOStream *tls;

  if (!ferryd_peer_tls_load_finish (result, &certificate, &pending->database, &error))
    {
      g_warning ("TLS peer %s dropped: %s", pending->remote, error->message);
      pending_free (pending);
      return;
    }
  /* A source that vanishes without closing is noticed. */
  g_socket_set_keepalive (g_socket_connection_get_socket (connection), TRUE);
  tls = g_tls_server_connection_new (G_IO_STREAM (connection), certificate, &error);
  if (tls == NULL)
    {
      g_warning ("TLS peer %s dropped: %s", pending->remote, error->message);
      pending_free (pending);
      return;
    }
  g_tls_connection_set_database (G_TLS_CONNECTION (tls), pending->database);
  g_object_set (tls, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED, NULL);
  pending->tls = tls;
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_certificate_cb), pending);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    pending->cancellable, handshake_cb, pending);
}

static gboolean
incoming_cb (GSocketService *service,
             GSocketConnection *connection,
             GObject *source_object,
             gpointer user_data)
{
  FerrydPeerListener *self = user_data;
  g_autofree char *remote = describe_remote (connection);
  Pending *pending;

  if (self->pending >= MAX_PENDING)
    {
      g_message ("TLS peer %s dropped: %u links are authenticating already", remote, self->pending);
      return TRUE;
    }
  /* Counted (and timed) from here: a link whose certificate is still
   * loading ties up the listener as much as one in its handshake. */
  pending = g_new0 (Pending, 1);
  pending->self = g_object_ref (self);
  pending->connection = g_object_ref (connection);
  pending->cancellable = g_cancellable_new ();
  pending->remote = g_steal_pointer (&remote);
  self->pending++;
  pending->timeout_id = g_timeout_add_seconds (HANDSHAKE_TIMEOUT_S, timeout_cb, pending);
  /* Read afresh: a renewed certificate counts without a restart. In a
   * worker thread: the main loop serves the bus meanwhile. */
  ferryd_peer_tls_load_async (FERRYD_PEER_TLS_SERVER, pending->cancellable, loaded_cb, pending);
  return TRUE;
}

static gboolean
allow_mechanism_cb (GDBusAuthObserver *observer, const char *mechanism, gpointer user_data)
{
  /* The TLS certificate authenticated the peer already. */
  return g_strcmp0 (mechanism, "ANONYMOUS") == 0;
}

FerrydPeerListener *
ferryd_peer_listener_new (const char *address, GError **error)
{
  g_autoptr (FerrydPeerListener) self = g_object_new (FERRYD_TYPE_PEER_LISTENER, NULL);
  g_autoptr (GSocketConnectable) connectable = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *host;
  guint16 port;

  connectable = g_network_address_parse (address, 0, NULL);
  host = connectable ? g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)) : NULL;
  inet = host ? g_inet_address_new_from_string (host) : NULL;
  port = connectable ? g_network_address_get_port (G_NETWORK_ADDRESS (connectable)) : 0;
  if (inet == NULL || port == 0)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "--tls-listen: expected ADDR:PORT with an IP address, got '%s'", address);
      return NULL;
    }
  /* No listener without a certificate to show and a CA to check with. */
  if (!ferryd_peer_tls_load (FERRYD_PEER_TLS_SERVER, NULL, NULL, error))
    return NULL;
  {
    g_autofree char *dh = g_build_filename (ferryd_peer_tls_get_dir (), "dh-params.pem", NULL);

    /* Without it, every incoming QEMU generates Diffie-Hellman
     * parameters when it loads its TLS credentials: seconds of Prepare. */
    if (!g_file_test (dh, G_FILE_TEST_EXISTS))
      g_message ("%s is missing: each incoming migration over TLS spends seconds making "
                 "Diffie-Hellman parameters (see ferryd(8))",
                 dh);
  }
  socket_address = g_inet_socket_address_new (inet, port);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), socket_address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, NULL,
                                      &local_error))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "--tls-listen: cannot listen on %s: %s",
                   address, local_error->message);
      return NULL;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  g_info ("TLS peer listener on %s (certificates of %s)", address, ferryd_peer_tls_get_dir ());
  return g_steal_pointer (&self);
}

static void
ferryd_peer_listener_dispose (GObject *object)
{
  FerrydPeerListener *self = FERRYD_PEER_LISTENER (object);

  if (self->service)
    {
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
    }
  g_clear_object (&self->service);
  g_clear_object (&self->observer);
  G_OBJECT_CLASS (ferryd_peer_listener_parent_class)->dispose (object);
}

static void
ferryd_peer_listener_finalize (GObject *object)
{
  g_free (FERRYD_PEER_LISTENER (object)->guid);
  G_OBJECT_CLASS (ferryd_peer_listener_parent_class)->finalize (object);
}

static void
ferryd_peer_listener_class_init (FerrydPeerListenerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_peer_listener_dispose;
  object_class->finalize = ferryd_peer_listener_finalize;
  signals[SIGNAL_PEER_CONNECTED] =
      g_signal_new ("peer-connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, G_TYPE_DBUS_CONNECTION, G_TYPE_STRING);
}

static void
ferryd_peer_listener_init (FerrydPeerListener *self)
{
  self->service = g_socket_service_new ();
  self->observer = g_dbus_auth_observer_new ();
  self->guid = g_dbus_generate_guid ();
  g_signal_connect (self->observer, "allow-mechanism", G_CALLBACK (allow_mechanism_cb), NULL);
}
