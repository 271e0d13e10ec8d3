/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: ferryd, the Ferry live-migration service */
#define G_LOG_DOMAIN "ferryd"

#include "config.h"
#include "ferryd-auth.h"
#include "ferryd-backend.h"
#include "ferryd-bus.h"
#include "ferryd-daemon.h"
#include "ferryd-engine.h"
#include "ferryd-peer-listener.h"
#include "ferryd-peer-tls.h"
#include "ferry-error.h"
#include "ferry-names.h"

#include <glib-unix.h>
#include <locale.h>

typedef struct
{
  GMainLoop *loop;
  FerrydDaemon *daemon;
  FerrydEngine *engine;
  FerrydAuthority *authority;
  FerrydBus *bus;
  FerrydPeerListener *listener;
  int exit_code;
  const char *address;  /* --address, or NULL for ... */
  gboolean use_session; /* ... the session or system bus */
  GDBusConnection *connection;
  guint owner_id;
  GCancellable *probe_cancellable;
  gboolean probing;
} Context;

static gboolean
on_signal (gpointer user_data)
{
  Context *ctx = user_data;

  g_info ("Received termination signal, shutting down");
  g_main_loop_quit (ctx->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_bus_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Context *ctx = user_data;
  g_autoptr (GError) error = NULL;

  ctx->bus = ferryd_bus_new (connection, ctx->daemon, ctx->engine, ctx->authority, &error);
  if (ctx->bus == NULL)
    {
      g_printerr ("ferryd: cannot export objects: %s\n", error->message);
      ctx->exit_code = 1;
      g_main_loop_quit (ctx->loop);
    }
}

static void
on_tls_peer (FerrydPeerListener *listener,
             GDBusConnection *connection,
             const char *subject,
             gpointer user_data)
{
  Context *ctx = user_data;

  if (ctx->bus)
    ferryd_bus_add_tls_peer (ctx->bus, connection, subject);
  else
    g_dbus_connection_close (connection, NULL, NULL, NULL);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_info ("Acquired the name %s", name);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Context *ctx = user_data;

  g_printerr ("ferryd: %s %s\n",
              connection ? "lost or could not acquire the name" : "cannot connect to the bus for",
              name);
  ctx->exit_code = 1;
  g_main_loop_quit (ctx->loop);
}

/* The bus name is taken once the capabilities are known, so no client
 * ever sees a list that changes under it. */
static void
take_bus_name (Context *ctx)
{
  g_autoptr (GError) error = NULL;

  if (ctx->address)
    {
      ctx->connection = g_dbus_connection_new_for_address_sync (
          ctx->address,
          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
          NULL, NULL, &error);
      if (ctx->connection == NULL)
        {
          g_printerr ("ferryd: cannot connect to %s: %s\n", ctx->address, error->message);
          ctx->exit_code = 1;
          g_main_loop_quit (ctx->loop);
          return;
        }
      ctx->owner_id = g_bus_own_name_on_connection (
          ctx->connection, FERRY_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, ctx, NULL);
      on_bus_acquired (ctx->connection, FERRY_BUS_NAME, ctx);
    }
  else
    ctx->owner_id = g_bus_own_name (ctx->use_session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                                    FERRY_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE, on_bus_acquired,
                                    on_name_acquired, on_name_lost, ctx, NULL);
}

static void
probe_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Context *ctx = user_data;

  ferryd_daemon_probe_capabilities_finish (FERRYD_DAEMON (source), result);
  ctx->probing = FALSE;
  if (!g_cancellable_is_cancelled (ctx->probe_cancellable))
    take_bus_name (ctx);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) option_context = NULL;
  g_autoptr (GError) error = NULL;
  gboolean use_system = FALSE, use_session = FALSE, verbose = FALSE;
  g_autofree char *address = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *runtime_dir = NULL;
  g_autofree char *config_dir = NULL;
  g_autofree char *libvirt_uri = NULL;
  g_autofree char *tls_listen = NULL;
  Context ctx = { 0 };
  const GOptionEntry entries[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &use_system, "Use the system bus (default)", NULL },
    { "session", 0, 0, G_OPTION_ARG_NONE, &use_session, "Use the session bus", NULL },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "Use the bus at ADDR", "ADDR" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &runtime_dir, "Runtime directory", "DIR" },
    { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir, "Configuration directory", "DIR" },
    { "libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &libvirt_uri,
      "libvirt connection of the libvirt backend (default qemu:///system; 'none' = off)", "URI" },
    { "tls-listen", 0, 0, G_OPTION_ARG_STRING, &tls_listen,
      "Accept TLS peers (mutual x509, <config-dir>/pki) on ADDR:PORT", "ADDR:PORT" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  option_context = g_option_context_new ("- Ferry live-migration service");
  g_option_context_add_main_entries (option_context, entries, NULL);
  if (!g_option_context_parse (option_context, &argc, &argv, &error))
    {
      g_printerr ("ferryd: %s\n", error->message);
      return 2;
    }
  if ((use_system + use_session + (address != NULL)) > 1)
    {
      g_printerr ("ferryd: --system, --session and --address are mutually exclusive\n");
      return 2;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);
  /* DESIGN §5: without libvirt, ferryd runs with the QMP backend alone
   * and says so once (the libvirt backend, when built, says so itself
   * while it retries). */
  if (libvirt_uri)
    ferryd_backend_set_setting ("libvirt-uri", libvirt_uri);
#if !HAVE_LIBVIRT
  if (g_strcmp0 (libvirt_uri, "none") != 0)
    g_message ("libvirt backend (%s): not built into this ferryd; running with the QMP backend "
               "alone",
               libvirt_uri ? libvirt_uri : "qemu:///system");
#endif

  /* Register the error domain before any error can cross the bus. */
  (void) FERRY_ERROR;

  {
    g_autofree char *pki_dir =
        g_canonicalize_filename ("pki", config_dir ? config_dir : FERRY_CONFIG_DIR);
    ferryd_peer_tls_set_dir (pki_dir);
  }
  /* Before the bus name and before the backends start (the libvirt one
   * connects in a thread): a listener that cannot work (no certificate,
   * port taken) stops ferryd instead of leaving a host that looks ready. */
  if (tls_listen)
    {
      ctx.listener = ferryd_peer_listener_new (tls_listen, &error);
      if (ctx.listener == NULL)
        {
          g_printerr ("ferryd: %s\n", error->message);
          return 1;
        }
      g_signal_connect (ctx.listener, "peer-connected", G_CALLBACK (on_tls_peer), &ctx);
    }
  ctx.daemon = ferryd_daemon_new (state_dir ? state_dir : FERRY_STATE_DIR,
                                  runtime_dir ? runtime_dir : FERRY_RUNTIME_DIR,
                                  config_dir ? config_dir : FERRY_CONFIG_DIR, &error);
  if (ctx.daemon == NULL)
    {
      g_printerr ("ferryd: %s\n", error->message);
      g_clear_object (&ctx.listener);
      return 1;
    }
  ctx.engine = ferryd_engine_new (ctx.daemon);
  ctx.authority = ferryd_authority_new ();
  ctx.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, &ctx);
  g_unix_signal_add (SIGINT, on_signal, &ctx);

  ctx.address = address;
  ctx.use_session = use_session;
  ctx.probe_cancellable = g_cancellable_new ();
  ctx.probing = TRUE;
  ferryd_daemon_probe_capabilities_async (ctx.daemon, ctx.probe_cancellable, probe_cb, &ctx);

  if (ctx.exit_code == 0)
    g_main_loop_run (ctx.loop);

  /* A signal during the probe: the probe's QEMU ends before ferryd. */
  g_cancellable_cancel (ctx.probe_cancellable);
  while (ctx.probing)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&ctx.probe_cancellable);
  if (ctx.owner_id)
    g_bus_unown_name (ctx.owner_id);
  g_clear_object (&ctx.connection);
  g_clear_object (&ctx.listener);
  ferryd_engine_shutdown (ctx.engine);
  g_clear_object (&ctx.bus);
  g_clear_object (&ctx.authority);
  g_clear_object (&ctx.engine);
  g_clear_object (&ctx.daemon);
  g_main_loop_unref (ctx.loop);
  return ctx.exit_code;
}
