/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-watch.c: follow one migration until it ends
 *
 * Driven only by the FerryMigration's notify:: and signals, no polling.
 * libferry's client follows ferryd's objects with their signals
 * subscribed before it read their properties, so a migration that ended
 * before we looked is seen in its final State, and one that ends later by
 * its signals; either way the end is handled once. Ctrl-C stops watching
 * and never cancels.
 */
#define G_LOG_DOMAIN "ferryctl-watch"

#include "ferryctl-watch.h"

#include <glib-unix.h>
#include <signal.h>

#include "ferryctl-client.h"

typedef struct
{
  FerryMigration *migration;
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
  ferryctl_progress_result (w->progress, state, ferry_migration_get_mode (w->migration), statistics,
                            error_name, error_message);
  w->exit_status = g_strcmp0 (state, "completed") == 0 ? 0 : 1;
  g_main_loop_quit (w->loop);
}

/* The end as the properties tell it. */
static void
end_from_properties (Watch *w)
{
  g_autoptr (GVariant) statistics = ferry_migration_dup_statistics (w->migration);

  end (w, ferry_migration_get_state (w->migration), statistics,
       ferry_migration_get_error_name (w->migration),
       ferry_migration_get_error_message (w->migration));
}

/* Any property changed: all of a change arrive together, and the first
 * notification sees them all (progress lines are rate-limited). */
static void
on_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Watch *w = user_data;
  const char *state = ferry_migration_get_state (w->migration);

  if (w->done)
    return;
  ferryctl_progress_phase (w->progress, ferry_migration_get_phase (w->migration));
  if (state_is_final (state))
    {
      end_from_properties (w);
      return;
    }
  ferryctl_progress_state (w->progress, state);
  ferryctl_progress_update (w->progress, w->migration);
  {
    g_autoptr (GVariant) convergence = ferry_migration_dup_convergence (w->migration);
    ferryctl_progress_convergence (w->progress, convergence);
  }
}

static void
on_phase_changed (FerryMigration *migration, const char *phase, gpointer user_data)
{
  Watch *w = user_data;

  if (!w->done)
    ferryctl_progress_phase (w->progress, phase);
}

static void
on_iteration (FerryMigration *migration, guint n, GVariant *stats, gpointer user_data)
{
  Watch *w = user_data;

  if (!w->done)
    ferryctl_progress_iteration (w->progress, n, stats);
}

static void
on_post_copy_started (FerryMigration *migration, gpointer user_data)
{
  Watch *w = user_data;

  if (!w->done)
    ferryctl_progress_postcopy_started (w->progress);
}

static void
on_policy_action (FerryMigration *migration,
                  const char *action,
                  const char *reason,
                  gpointer user_data)
{
  Watch *w = user_data;

  if (!w->done)
    ferryctl_progress_policy_action (w->progress, action, reason);
}

static void
on_completed (FerryMigration *migration, GVariant *statistics, gpointer user_data)
{
  Watch *w = user_data;

  end (w, "completed", statistics, NULL, NULL);
}

static void
on_failed (FerryMigration *migration,
           const char *error_name,
           const char *error_message,
           gpointer user_data)
{
  Watch *w = user_data;
  g_autoptr (GVariant) stats = NULL;
  const char *state;

  if (w->done)
    return;
  /* The State and Statistics properties may still be on their way. */
  state = g_strcmp0 (error_name, FERRYCTL_ERROR_CANCELLED) == 0 ? "cancelled" : "failed";
  stats = ferry_migration_get_statistics_sync (w->migration, NULL, NULL);
  if (stats == NULL)
    stats = ferry_migration_dup_statistics (w->migration);
  end (w, state, stats, error_name, error_message);
}

/* The migration left the client while it ran: ferryd lost its bus name
 * (it stopped or crashed), and the client dropped all of its objects. */
static void
on_migration_removed (FerryClient *client, FerryMigration *migration, gpointer user_data)
{
  Watch *w = user_data;

  if (migration != w->migration || w->done)
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
      ferryctl_progress_interrupted (w->progress, ferry_migration_get_state (w->migration));
      w->exit_status = FERRYCTL_EXIT_INTERRUPTED;
      g_main_loop_quit (w->loop);
    }
  return G_SOURCE_CONTINUE;
}

/* The phases passed before we looked, in time order, from PhaseTimestamps. */
static void
show_past_phases (Watch *w)
{
  g_autoptr (GVariant) stamps = ferry_migration_dup_phase_timestamps (w->migration);
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
ferryctl_watch (FerryClient *client, FerryMigration *migration, FerryctlOutput output)
{
  static const struct
  {
    const char *signal;
    GCallback callback;
  } migration_signals[] = {
    { "notify", G_CALLBACK (on_notify) },
    { "phase-changed", G_CALLBACK (on_phase_changed) },
    { "iteration", G_CALLBACK (on_iteration) },
    { "post-copy-started", G_CALLBACK (on_post_copy_started) },
    { "policy-action", G_CALLBACK (on_policy_action) },
    { "completed", G_CALLBACK (on_completed) },
    { "failed", G_CALLBACK (on_failed) },
  };
  g_autoptr (FerryctlProgress) progress = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  GDBusConnection *connection = ferry_client_get_connection (client);
  Watch w = { 0 };
  gulong handlers[G_N_ELEMENTS (migration_signals)];
  gulong removed_handler, closed_handler;
  guint sigint, sigterm;

  progress = ferryctl_progress_new (output, ferry_migration_get_object_path (migration));
  w.migration = migration;
  w.progress = progress;
  w.loop = loop;

  for (guint i = 0; i < G_N_ELEMENTS (migration_signals); i++)
    handlers[i] = g_signal_connect (migration, migration_signals[i].signal,
                                    migration_signals[i].callback, &w);
  removed_handler =
      g_signal_connect (client, "migration-removed", G_CALLBACK (on_migration_removed), &w);
  closed_handler = g_signal_connect (connection, "closed", G_CALLBACK (on_closed), &w);
  sigint = g_unix_signal_add (SIGINT, on_interrupt, &w);
  sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &w);

  /* Where it is now; it may even have ended already. */
  show_past_phases (&w);
  ferryctl_progress_phase (progress, ferry_migration_get_phase (migration));
  if (state_is_final (ferry_migration_get_state (migration)))
    end_from_properties (&w);
  else
    {
      ferryctl_progress_state (progress, ferry_migration_get_state (migration));
      ferryctl_progress_update (progress, migration);
      g_main_loop_run (loop);
    }

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handler_disconnect (connection, closed_handler);
  g_signal_handler_disconnect (client, removed_handler);
  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
    g_signal_handler_disconnect (migration, handlers[i]);
  return w.exit_status;
}
