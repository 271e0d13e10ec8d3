/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-phase.h: the phases and states of a migration and the transitions
 * between them (pure tables, no objects) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  PHASE_NONE,
  PHASE_BEGIN,
  PHASE_PREPARE,
  PHASE_PERFORM,
  PHASE_FINISH,
  PHASE_CONFIRM,
  PHASE_DONE,
} FerrydPhase;

typedef enum
{
  STATE_PENDING,
  STATE_SETUP,
  STATE_ACTIVE,
  STATE_POSTCOPY_ACTIVE,
  STATE_POSTCOPY_PAUSED,
  STATE_COMPLETED,
  STATE_FAILED,
  STATE_CANCELLED,
} FerrydState;

/* The names the D-Bus Phase and State properties carry. */
const char *ferryd_phase_to_string (FerrydPhase phase);
const char *ferryd_state_to_string (FerrydState state);

/* Whether a migration may go from @from to @to (a different phase): the
 * five phases in order, and from any of Begin, Prepare, Perform to
 * Confirm (every failure goes through Confirm). */
gboolean ferryd_phase_transition_allowed (FerrydPhase from, FerrydPhase to);

gboolean ferryd_state_is_final (FerrydState state);
/* Whether the state may change from @from to @to: never after a final one. */
gboolean ferryd_state_change_allowed (FerrydState from, FerrydState to);

G_END_DECLS
