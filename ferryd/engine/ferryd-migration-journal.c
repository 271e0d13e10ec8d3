/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration-journal.c: a migration across a restart of ferryd
 *
 * Each migration keeps a journal entry (ferryd-journal.h), saved at each
 * phase and state change. A ferryd that starts again makes each journaled
 * migration again (the engine, with its side's constructor) and gives it
 * back what was saved: finished ones are history, and each one in flight
 * shows its true state, then is driven to an end by its side once the
 * backend has found its guests again (QEMU outlives ferryd).
 */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-migration-private.h"
#include "ferry-error.h"

void
migration_journal_save (FerrydMigration *self)
{
  FerrydMigrationShared *m = SHARED (self);
  FerrydJournalEntry e = { 0 };
  g_autofree char *dir = ferryd_journal_dir (ferryd_daemon_get_state_dir (m->daemon));
  g_autofree char *description = NULL;
  g_autoptr (GError) error = NULL;
  FerrydMigration *r = self;

  if (m->hypervisor_protocol)
    return;
  description = ferryd_domain_config_to_data (ferryd_domain_get_config (m->domain));

  e.id = m->id;
  e.incoming = g_str_equal (ferryd_migration_get_direction (self), "incoming");
  e.finished = m->finished;
  e.domain_name = (char *) ferryd_domain_get_name (m->domain);
  e.description = description;
  e.source = (char *) migration_get_string (r, MIGRATION_PROP_SOURCE);
  e.destination = (char *) migration_get_string (r, MIGRATION_PROP_DESTINATION);
  e.backend = (char *) migration_get_string (r, MIGRATION_PROP_BACKEND);
  e.options = migration_get_variant (r, MIGRATION_PROP_OPTIONS);
  e.uid = migration_get_uint (r, MIGRATION_PROP_STARTED_BY_UID);
  e.phase = (char *) ferryd_phase_to_string (m->phase);
  e.state = (char *) ferryd_state_to_string (m->state);
  e.mode = (char *) migration_get_string (r, MIGRATION_PROP_MODE);
  e.phase_timestamps = migration_get_variant (r, MIGRATION_PROP_PHASE_TIMESTAMPS);
  e.statistics = migration_get_variant (r, MIGRATION_PROP_STATISTICS);
  e.error_name = m->shown_error
                     ? (char *) ferry_error_to_dbus_name (m->shown_error->domain == FERRY_ERROR
                                                              ? (FerryError) m->shown_error->code
                                                              : FERRY_ERROR_FAILED)
                     : "";
  e.error_message = m->shown_error ? m->shown_error->message : "";
  e.progress = m->progress;
  e.postcopy_started = m->postcopy_started;
  e.features = m->features;
  FERRYD_MIGRATION_GET_CLASS (self)->journal_save (self, &e);
  if (!ferryd_journal_write (dir, &e, &error))
    g_warning ("%s: cannot save the journal: %s", m->label, error->message);
}

static Phase
phase_from_string (const char *s)
{
  for (Phase p = PHASE_NONE; p <= PHASE_DONE; p++)
    if (g_strcmp0 (ferryd_phase_to_string (p), s) == 0)
      return p;
  return PHASE_NONE;
}

static State
state_from_string (const char *s)
{
  for (State st = STATE_PENDING; st <= STATE_CANCELLED; st++)
    if (g_strcmp0 (ferryd_state_to_string (st), s) == 0)
      return st;
  return STATE_FAILED;
}

void
ferryd_migration_restore (FerrydMigration *self, const FerrydJournalEntry *e)
{
  FerrydMigrationShared *m = SHARED (self);

  m->restored = TRUE;
  m->phase = phase_from_string (e->phase);
  m->state = state_from_string (e->state);
  m->finished = e->finished;
  m->postcopy_started = e->postcopy_started;
  m->progress = e->progress;
  g_strfreev (m->features);
  m->features = g_strdupv (e->features);
  migration_set_string (self, MIGRATION_PROP_PHASE, ferryd_phase_to_string (m->phase));
  migration_set_string (self, MIGRATION_PROP_STATE, ferryd_state_to_string (m->state));
  if (e->mode)
    migration_set_string (self, MIGRATION_PROP_MODE, e->mode);
  if (e->phase_timestamps)
    migration_set_variant (self, MIGRATION_PROP_PHASE_TIMESTAMPS, e->phase_timestamps);
  if (e->statistics)
    {
      g_clear_pointer (&m->statistics, g_variant_unref);
      m->statistics = g_variant_ref (e->statistics);
      migration_set_variant (self, MIGRATION_PROP_STATISTICS, e->statistics);
    }
  if (e->error_name && *e->error_name)
    {
      g_autoptr (GError) shown =
          g_error_new_literal (FERRY_ERROR, ferry_error_from_dbus_name (e->error_name),
                               e->error_message ? e->error_message : "");

      migration_show_error (self, shown);
    }
  migration_set_double (self, MIGRATION_PROP_PROGRESS, m->progress);
  FERRYD_MIGRATION_GET_CLASS (self)->journal_restore (self, e);
  if (!m->finished)
    ferryd_domain_set_migration (m->domain, G_OBJECT (self),
                                 g_str_equal (ferryd_migration_get_direction (self), "incoming"));
}

void
ferryd_migration_settle_after_restart (FerrydMigration *self)
{
  if (SHARED (self)->finished)
    return;
  FERRYD_MIGRATION_GET_CLASS (self)->settle_after_restart (self);
}
