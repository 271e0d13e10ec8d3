/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-watch.c: follow one migration until it ends
 *
 * Driven only by the migration's PropertiesChanged and signals, no
 * polling. The proxy subscribes to signals before it reads the
 * properties, so a migration that ended before we looked is seen in its
 * final State, and one that ends later by its signals; either way the end
 * is handled once. Ctrl-C stops watching and never cancels.
 */
#define G_LOG_DOMAIN "ferryctl-watch"

#include "ferryctl-watch.h"

#include <glib-unix.h>
#include <signal.h>

#include "ferryctl-client.h"

typedef struct
{
  FerryDBusMigration *migration;
  FerryctlProgress *progress;
  GMainLoop *loop;
  int exit_status;
  gboolean done;
} Watch;

static gboolean
state_is_final (const char *state)
{
  return g_strcmp0 (state, "completed") == 0 || g_strcmp0 (state, "failed") == 0 ||
         g_strcmp0 (state, "cancelled") == 0;
}

static void
end (Watch *w,
     const char *state,
     GVariant *statistics,
     const char *error_name,
     const char *error_message)
{
  if (w->done)
    return;
  w->done = TRUE;
  ferryctl_progress_phase (w->progress, "done");
  ferryctl_progress_state (w->progress, state);
  ferryctl_progress_result (w->progress, state, ferry_dbus_migration_get_mode (w->migration),
                            statistics, error_name, error_message);
  w->exit_status = g_strcmp0 (state, "completed") == 0 ? 0 : 1;
  g_main_loop_quit (w->loop);
}

/* The end as the properties tell it. */
static void
end_from_properties (Watch *w)
{
  end (w, ferry_dbus_migration_get_state (w->migration),
       ferry_dbus_migration_get_statistics (w->migration),
       ferry_dbus_migration_get_error_name (w->migration),
       ferry_dbus_migration_get_error_message (w->migration));
}

static void
on_properties_changed (GDBusProxy *proxy,
                       GVariant *changed,
                       const char *const *invalidated,
                       gpointer user_data)
{
  Watch *w = user_data;
  const char *state = ferry_dbus_migration_get_state (w->migration);

  if (w->done)
    return;
  ferryctl_progress_phase (w->progress, ferry_dbus_migration_get_phase (w->migration));
  if (state_is_final (state))
    {
      end_from_properties (w);
      return;
    }
  ferryctl_progress_state (w->progress, state);
  ferryctl_progress_update (w->progress, w->migration);
}

static void
on_signal (GDBusProxy *proxy,
           const char *sender,
           const char *signal_name,
           GVariant *parameters,
           gpointer user_data)
{
  Watch *w = user_data;

  if (w->done)
    return;
  if (g_str_equal (signal_name, "PhaseChanged"))
    {
      const char *phase;
      g_variant_get (parameters, "(&s)", &phase);
      ferryctl_progress_phase (w->progress, phase);
    }
  else if (g_str_equal (signal_name, "Iteration"))
    {
      guint n;
      g_autoptr (GVariant) stats = NULL;
      g_variant_get (parameters, "(u@a{sv})", &n, &stats);
      ferryctl_progress_iteration (w->progress, n, stats);
    }
  else if (g_str_equal (signal_name, "PostCopyStarted"))
    ferryctl_progress_postcopy_started (w->progress);
  else if (g_str_equal (signal_name, "PolicyAction"))
    {
      const char *action, *reason;
      g_variant_get (parameters, "(&s&s)", &action, &reason);
      ferryctl_progress_policy_action (w->progress, action, reason);
    }
  else if (g_str_equal (signal_name, "Completed"))
    {
      g_autoptr (GVariant) stats = NULL;
      g_variant_get (parameters, "(@a{sv})", &stats);
      end (w, "completed", stats, NULL, NULL);
    }
  else if (g_str_equal (signal_name, "Failed"))
    {
      const char *name, *message;
      const char *state;
      g_autoptr (GVariant) stats = NULL;

      g_variant_get (parameters, "(&s&s)", &name, &message);
      /* The State and Statistics properties may still be on their way. */
      state = g_str_equal (name, FERRYCTL_ERROR_CANCELLED) ? "cancelled" : "failed";
      stats = ferryctl_client_get_statistics (w->migration, NULL);
      end (w, state, stats ? stats : ferry_dbus_migration_get_statistics (w->migration), name,
           message);
    }
}

static void
on_name_owner (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Watch *w = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  if (owner != NULL || w->done)
    return;
  w->done = TRUE;
  ferryctl_progress_error (w->progress, NULL,
                           "ferryd went away; the migration's outcome is unknown");
  w->exit_status = 1;
  g_main_loop_quit (w->loop);
}

static void
on_closed (GDBusConnection *connection,
           gboolean remote_peer_vanished,
           GError *error,
           gpointer user_data)
{
  Watch *w = user_data;

  if (w->done)
    return;
  w->done = TRUE;
  ferryctl_progress_error (w->progress, NULL, "lost the connection to the bus");
  w->exit_status = 1;
  g_main_loop_quit (w->loop);
}

static gboolean
on_interrupt (gpointer user_data)
{
  Watch *w = user_data;

  if (!w->done)
    {
      w->done = TRUE;
      ferryctl_progress_interrupted (w->progress, ferry_dbus_migration_get_state (w->migration));
      w->exit_status = FERRYCTL_EXIT_INTERRUPTED;
      g_main_loop_quit (w->loop);
    }
  return G_SOURCE_CONTINUE;
}

/* The phases passed before we looked, in time order, from PhaseTimestamps. */
static void
show_past_phases (Watch *w)
{
  GVariant *stamps = ferry_dbus_migration_get_phase_timestamps (w->migration);
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (stamps == NULL)
    return;
  for (;;)
    {
      GVariantIter iter;
      const char *phase, *best = NULL;
      guint64 t, best_t = G_MAXUINT64;

      g_variant_iter_init (&iter, stamps);
      while (g_variant_iter_next (&iter, "{&st}", &phase, &t))
        {
          gboolean done = FALSE;
          for (guint i = 0; i < names->len; i++)
            done |= g_str_equal (names->pdata[i], phase);
          if (!done && t < best_t)
            {
              best = phase;
              best_t = t;
            }
        }
      if (best == NULL)
        break;
      g_ptr_array_add (names, g_strdup (best));
      ferryctl_progress_phase (w->progress, best);
    }
}

int
ferryctl_watch (FerryDBusMigration *migration, FerryctlOutput output)
{
  g_autoptr (FerryctlProgress) progress = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  GDBusConnection *connection = g_dbus_proxy_get_connection (G_DBUS_PROXY (migration));
  Watch w = { 0 };
  gulong handlers[3];
  gulong closed_handler;
  guint sigint, sigterm;

  progress =
      ferryctl_progress_new (output, g_dbus_proxy_get_object_path (G_DBUS_PROXY (migration)));
  w.migration = migration;
  w.progress = progress;
  w.loop = loop;

  handlers[0] =
      g_signal_connect (migration, "g-properties-changed", G_CALLBACK (on_properties_changed), &w);
  handlers[1] = g_signal_connect (migration, "g-signal", G_CALLBACK (on_signal), &w);
  handlers[2] =
      g_signal_connect (migration, "notify::g-name-owner", G_CALLBACK (on_name_owner), &w);
  closed_handler = g_signal_connect (connection, "closed", G_CALLBACK (on_closed), &w);
  sigint = g_unix_signal_add (SIGINT, on_interrupt, &w);
  sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &w);

  /* Where it is now; it may even have ended already. */
  show_past_phases (&w);
  ferryctl_progress_phase (progress, ferry_dbus_migration_get_phase (migration));
  if (state_is_final (ferry_dbus_migration_get_state (migration)))
    end_from_properties (&w);
  else
    {
      ferryctl_progress_state (progress, ferry_dbus_migration_get_state (migration));
      ferryctl_progress_update (progress, migration);
      g_main_loop_run (loop);
    }

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handler_disconnect (connection, closed_handler);
  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
    g_signal_handler_disconnect (migration, handlers[i]);
  return w.exit_status;
}
