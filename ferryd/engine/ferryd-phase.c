/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-phase.c: the phase and state tables of a migration */
#define G_LOG_DOMAIN "ferry-phase"

#include "ferryd-phase.h"

static const char *const phase_names[] = { "none",   "begin",   "prepare", "perform",
                                           "finish", "confirm", "done" };

static const char *const state_names[] = { "pending",         "setup",           "active",
                                           "postcopy-active", "postcopy-paused", "completed",
                                           "failed",          "cancelled" };

/* The only phase transitions there are. Every failure goes to Confirm. */
static const struct
{
  FerrydPhase from, to;
} phase_transitions[] = {
  { PHASE_NONE, PHASE_BEGIN },      { PHASE_BEGIN, PHASE_PREPARE },
  { PHASE_PREPARE, PHASE_PERFORM }, { PHASE_PERFORM, PHASE_FINISH },
  { PHASE_FINISH, PHASE_CONFIRM },  { PHASE_CONFIRM, PHASE_DONE },
  { PHASE_BEGIN, PHASE_CONFIRM },   { PHASE_PREPARE, PHASE_CONFIRM },
  { PHASE_PERFORM, PHASE_CONFIRM },
};

G_STATIC_ASSERT (G_N_ELEMENTS (phase_names) == PHASE_DONE + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (state_names) == STATE_CANCELLED + 1);

const char *
ferryd_phase_to_string (FerrydPhase phase)
{
  g_return_val_if_fail ((guint) phase < G_N_ELEMENTS (phase_names), "none");
  return phase_names[phase];
}

const char *
ferryd_state_to_string (FerrydState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), "failed");
  return state_names[state];
}

gboolean
ferryd_phase_transition_allowed (FerrydPhase from, FerrydPhase to)
{
  for (gsize i = 0; i < G_N_ELEMENTS (phase_transitions); i++)
    if (phase_transitions[i].from == from && phase_transitions[i].to == to)
      return TRUE;
  return FALSE;
}

gboolean
ferryd_state_is_final (FerrydState state)
{
  return state == STATE_COMPLETED || state == STATE_FAILED || state == STATE_CANCELLED;
}

gboolean
ferryd_state_change_allowed (FerrydState from, FerrydState to)
{
  return from == to || !ferryd_state_is_final (from);
}
