/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: FerrydPeerClient against a Peer skeleton over a
 * peer-to-peer connection: typed results and converted errors */
#define G_LOG_DOMAIN "test-peer"

#include <sys/socket.h>

#include "ferry-dbus.h"
#include "ferry-error.h"
#include "ferry-names.h"
#include "ferryd-peer-client.h"
#include "ferryd-peer-tls.h"
#include "ferryd-peer.h"

typedef struct
{
  GDBusConnection *server;
  GDBusConnection *client;
  FerryDBusPeer *skeleton;
  FerrydPeerClient *peer;
  GAsyncResult *result;
  char *last_abort_reason;
} Fixture;

static void
store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_result (Fixture *fx)
{
  GAsyncResult *result;

  while (fx->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  result = fx->result;
  fx->result = NULL;
  return result;
}

static gboolean
handle_hello (FerryDBusPeer *peer, GDBusMethodInvocation *invocation, GVariant *info, Fixture *fx)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "api", "u", 1);
  g_variant_dict_insert (&dict, "host-uuid", "s", "uuid-b");
  ferry_dbus_peer_complete_hello (peer, invocation, g_variant_dict_end (&dict));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_prepare (FerryDBusPeer *peer,
                GDBusMethodInvocation *invocation,
                const char *name,
                const char *persistent,
                const char *live,
                GVariant *options,
                GVariant *source_info,
                Fixture *fx)
{
  GVariantDict dict;

  if (g_str_equal (name, "busy"))
    {
      g_dbus_method_invocation_return_error (invocation, FERRY_ERROR, FERRY_ERROR_BUSY,
                                             "A domain named 'busy' is already running");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "migrate-uri", "s", "tcp:127.0.0.1:4444");
  ferry_dbus_peer_complete_prepare (peer, invocation, FERRY_MIGRATION_PATH_PREFIX "3",
                                    g_variant_dict_end (&dict));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_finish (FerryDBusPeer *peer,
               GDBusMethodInvocation *invocation,
               const char *migration,
               gboolean completed,
               GVariant *statistics,
               Fixture *fx)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "state", "s", completed ? "running" : "shutoff");
  g_variant_dict_insert (&dict, "migration", "s", migration);
  ferry_dbus_peer_complete_finish (peer, invocation, g_variant_dict_end (&dict));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_abort (FerryDBusPeer *peer,
              GDBusMethodInvocation *invocation,
              const char *migration,
              const char *reason,
              Fixture *fx)
{
  if (!g_str_equal (migration, FERRY_MIGRATION_PATH_PREFIX "3"))
    {
      /* A plain D-Bus error, as from an older or foreign peer. */
      g_dbus_method_invocation_return_dbus_error (invocation, "org.example.Error.Strange",
                                                  "no such thing");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_free (fx->last_abort_reason);
  fx->last_abort_reason = g_strdup (reason);
  ferry_dbus_peer_complete_abort (peer, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
connection_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusConnection **out = user_data;
  g_autoptr (GError) error = NULL;

  *out = g_dbus_connection_new_finish (result, &error);
  g_assert_no_error (error);
}

static GIOStream *
stream_for_fd (int fd)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new_from_fd (fd, &error);

  g_assert_no_error (error);
  return G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  int fds[2];
  g_autofree char *guid = g_dbus_generate_guid ();
  g_autoptr (GIOStream) server_stream = NULL;
  g_autoptr (GIOStream) client_stream = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  server_stream = stream_for_fd (fds[0]);
  client_stream = stream_for_fd (fds[1]);
  g_dbus_connection_new (server_stream, guid,
                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER |
                             G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_ALLOW_ANONYMOUS,
                         NULL, NULL, connection_ready_cb, &fx->server);
  g_dbus_connection_new (client_stream, NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL,
                         NULL, connection_ready_cb, &fx->client);
  while (fx->server == NULL || fx->client == NULL)
    g_main_context_iteration (NULL, TRUE);

  fx->skeleton = ferry_dbus_peer_skeleton_new ();
  g_signal_connect (fx->skeleton, "handle-hello", G_CALLBACK (handle_hello), fx);
  g_signal_connect (fx->skeleton, "handle-prepare", G_CALLBACK (handle_prepare), fx);
  g_signal_connect (fx->skeleton, "handle-finish", G_CALLBACK (handle_finish), fx);
  g_signal_connect (fx->skeleton, "handle-abort", G_CALLBACK (handle_abort), fx);
  g_assert_true (g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (fx->skeleton),
                                                   fx->server, FERRY_OBJECT_PATH, &error));
  g_assert_no_error (error);

  ferryd_peer_client_new_for_connection_async (fx->client, 5000, NULL, store_result_cb,
                                               &fx->result);
  {
    g_autoptr (GAsyncResult) result = wait_result (fx);
    fx->peer = ferryd_peer_client_new_finish (result, &error);
  }
  g_assert_no_error (error);
  g_assert_true (FERRYD_IS_PEER_CLIENT (fx->peer));
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_clear_object (&fx->peer);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (fx->skeleton));
  g_clear_object (&fx->skeleton);
  g_dbus_connection_close_sync (fx->client, NULL, NULL);
  g_clear_object (&fx->client);
  g_clear_object (&fx->server);
  g_free (fx->last_abort_reason);
}

static GVariant *
empty_dict (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
}

static void
test_calls (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) hello = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GVariant) finished = NULL;
  g_autofree char *migration = NULL;
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GAsyncResult) r3 = NULL;
  g_autoptr (GAsyncResult) r4 = NULL;
  const char *s = NULL;
  guint32 api = 0;

  ferryd_peer_client_hello_async (fx->peer, empty_dict (), NULL, store_result_cb, &fx->result);
  r1 = wait_result (fx);
  hello = ferryd_peer_client_hello_finish (fx->peer, r1, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (hello, G_VARIANT_TYPE_VARDICT));
  g_assert_true (g_variant_lookup (hello, "api", "u", &api));
  g_assert_cmpuint (api, ==, 1);

  ferryd_peer_client_prepare_async (fx->peer, "vm", "p", "l", empty_dict (), empty_dict (), NULL,
                                    store_result_cb, &fx->result);
  r2 = wait_result (fx);
  migration = ferryd_peer_client_prepare_finish (fx->peer, r2, &info, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (migration, ==, "/org/ferryvm/Ferry1/migration/3");
  g_assert_true (g_variant_lookup (info, "migrate-uri", "&s", &s));
  g_assert_cmpstr (s, ==, "tcp:127.0.0.1:4444");

  ferryd_peer_client_finish_async (fx->peer, migration, TRUE, empty_dict (), NULL, store_result_cb,
                                   &fx->result);
  r3 = wait_result (fx);
  finished = ferryd_peer_client_finish_finish (fx->peer, r3, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (finished, "state", "&s", &s));
  g_assert_cmpstr (s, ==, "running");

  ferryd_peer_client_abort_async (fx->peer, migration, "cancelled", NULL, store_result_cb,
                                  &fx->result);
  r4 = wait_result (fx);
  g_assert_true (ferryd_peer_client_abort_finish (fx->peer, r4, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fx->last_abort_reason, ==, "cancelled");
}

static void
test_errors (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GAsyncResult) r3 = NULL;
  g_autoptr (GAsyncResult) r4 = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *migration = NULL;
  g_autoptr (GVariant) info = NULL;

  /* The destination's own error: PeerRefused, its message kept, no
   * "GDBus.Error" prefix. */
  ferryd_peer_client_prepare_async (fx->peer, "busy", "p", "l", empty_dict (), empty_dict (), NULL,
                                    store_result_cb, &fx->result);
  r1 = wait_result (fx);
  migration = ferryd_peer_client_prepare_finish (fx->peer, r1, &info, &error);
  g_assert_null (migration);
  g_assert_null (info);
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_PEER_REFUSED);
  g_assert_cmpstr (error->message, ==,
                   "Destination refused to prepare: A domain named 'busy' is already running");
  g_clear_error (&error);

  /* A foreign D-Bus error: PeerRefused too. */
  ferryd_peer_client_abort_async (fx->peer, "/nowhere", "failed", NULL, store_result_cb,
                                  &fx->result);
  r2 = wait_result (fx);
  g_assert_false (ferryd_peer_client_abort_finish (fx->peer, r2, &error));
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_PEER_REFUSED);
  g_assert_true (g_str_has_prefix (error->message, "Destination did not confirm the abort: "));
  g_clear_error (&error);

  /* Cancelled by the caller. */
  g_cancellable_cancel (cancellable);
  ferryd_peer_client_hello_async (fx->peer, empty_dict (), cancellable, store_result_cb,
                                  &fx->result);
  r3 = wait_result (fx);
  g_assert_null (ferryd_peer_client_hello_finish (fx->peer, r3, &error));
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_CANCELLED);
  g_clear_error (&error);

  /* The link is gone: PeerUnreachable. */
  g_dbus_connection_close_sync (fx->server, NULL, NULL);
  while (!g_dbus_connection_is_closed (fx->client))
    g_main_context_iteration (NULL, TRUE);
  ferryd_peer_client_hello_async (fx->peer, empty_dict (), NULL, store_result_cb, &fx->result);
  r4 = wait_result (fx);
  g_assert_null (ferryd_peer_client_hello_finish (fx->peer, r4, &error));
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE);
}

static void
closed_cb (FerrydPeerClient *peer, gboolean *closed)
{
  *closed = TRUE;
}

static void
test_closed (Fixture *fx, gconstpointer data)
{
  gboolean closed = FALSE;

  g_signal_connect (fx->peer, "closed", G_CALLBACK (closed_cb), &closed);
  g_dbus_connection_close_sync (fx->server, NULL, NULL);
  while (!closed)
    g_main_context_iteration (NULL, TRUE);
}

/* tls://host[:port]: accepted forms, refused ones, and the host the data
 * stream goes to. */
static void
test_tls_destinations (void)
{
  static const char *const good[][2] = {
    { "tls://host-b", "host-b" },
    { "tls://host-b:16600", "host-b" },
    { "tls://127.0.0.1:4000", "127.0.0.1" },
    { "tls://[::1]:4000", "::1" },
  };
  static const char *const bad[] = {
    "tls://", "tls://host/x", "tls://root@host", "tls://host:0", "tls://host:99999", "tls://a b",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *host = NULL;

      g_assert_true (ferryd_peer_destination_is_valid (good[i][0], &error));
      g_assert_no_error (error);
      g_assert_true (ferryd_peer_destination_is_tls (good[i][0]));
      host = ferryd_peer_data_host (good[i][0]);
      g_assert_cmpstr (host, ==, good[i][1]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (ferryd_peer_destination_is_valid (bad[i], &error));
      g_assert_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT);
    }
  g_assert_false (ferryd_peer_destination_is_tls ("unix:path=/x"));
}

/* Why a certificate was refused, in words a person can act on. */
static void
test_tls_reasons (void)
{
  g_autofree char *ca = ferryd_peer_tls_describe_flags (G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_autofree char *two =
      ferryd_peer_tls_describe_flags (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_BAD_IDENTITY);

  g_assert_nonnull (strstr (ca, "not signed by this host's CA"));
  g_assert_nonnull (strstr (two, "has expired"));
  g_assert_nonnull (strstr (two, "does not match the host name"));
}

/* Missing material is named, file by file. */
static void
test_tls_missing (void)
{
  g_autoptr (GError) error = NULL;

  ferryd_peer_tls_set_dir ("/nonexistent/pki");
  g_assert_false (ferryd_peer_tls_load (FERRYD_PEER_TLS_CLIENT, NULL, NULL, &error));
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "/nonexistent/pki/ca-cert.pem is missing"));
}

/* The worker-thread form fails with the very same error, and answers a
 * cancelled call with CANCELLED. */
static void
test_tls_missing_async (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GTlsCertificate) certificate = NULL;

  ferryd_peer_tls_set_dir ("/nonexistent/pki");
  ferryd_peer_tls_load_async (FERRYD_PEER_TLS_SERVER, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ferryd_peer_tls_load_finish (result, &certificate, NULL, &error));
  g_assert_null (certificate);
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "TLS: /nonexistent/pki/ca-cert.pem is missing");
  g_clear_error (&error);
  g_clear_object (&result);

  g_cancellable_cancel (cancellable);
  ferryd_peer_tls_load_async (FERRYD_PEER_TLS_CLIENT, cancellable, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ferryd_peer_tls_load_finish (result, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/peer/tls-destinations", test_tls_destinations);
  g_test_add_func ("/peer/tls-missing-async", test_tls_missing_async);
  g_test_add_func ("/peer/tls-reasons", test_tls_reasons);
  g_test_add_func ("/peer/tls-missing", test_tls_missing);
  g_test_add ("/peer-client/calls", Fixture, NULL, fixture_setup, test_calls, fixture_teardown);
  g_test_add ("/peer-client/errors", Fixture, NULL, fixture_setup, test_errors, fixture_teardown);
  g_test_add ("/peer-client/closed", Fixture, NULL, fixture_setup, test_closed, fixture_teardown);
  return g_test_run ();
}
