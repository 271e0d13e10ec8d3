/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-progress.h: how a followed migration is shown: a redrawn
 * progress bar on a terminal, plain lines otherwise, or JSON events */
#pragma once

#include <glib.h>

#include <ferry/ferry.h>

G_BEGIN_DECLS

typedef enum
{
  FERRYCTL_OUTPUT_TTY,
  FERRYCTL_OUTPUT_PLAIN,
  FERRYCTL_OUTPUT_JSON,
} FerryctlOutput;

typedef struct _FerryctlProgress FerryctlProgress;

FerryctlProgress *ferryctl_progress_new (FerryctlOutput output, const char *path);
void ferryctl_progress_free (FerryctlProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerryctlProgress, ferryctl_progress_free)

/* Phases only move forward: a phase at or before the last one shown is
 * ignored (signals queued before the properties were read arrive late). */
void ferryctl_progress_phase (FerryctlProgress *progress, const char *phase);
void ferryctl_progress_state (FerryctlProgress *progress, const char *state);
/* The counters changed; at most one plain/JSON line a second. */
void ferryctl_progress_update (FerryctlProgress *progress, FerryMigration *migration);
void ferryctl_progress_iteration (FerryctlProgress *progress, guint n, GVariant *stats);
void ferryctl_progress_postcopy_started (FerryctlProgress *progress);
/* The migration's Convergence a{sv}: a line when its verdict or reason changes. */
void ferryctl_progress_convergence (FerryctlProgress *progress, GVariant *convergence);
void ferryctl_progress_policy_action (FerryctlProgress *progress,
                                      const char *action,
                                      const char *reason);
/* The end: a summary from @statistics, or the error. */
void ferryctl_progress_result (FerryctlProgress *progress,
                               const char *state,
                               const char *mode,
                               GVariant *statistics,
                               const char *error_name,
                               const char *error_message);
/* The user stopped watching; the migration goes on. */
void ferryctl_progress_interrupted (FerryctlProgress *progress, const char *state);
/* A local problem while following (the daemon went away, ...). */
void ferryctl_progress_error (FerryctlProgress *progress,
                              const char *error_name,
                              const char *error_message);

G_END_DECLS
