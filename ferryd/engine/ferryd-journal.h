/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-journal.h: what a migration leaves on disk
 *
 * One small key file per migration in <state-dir>/migrations/, replaced
 * atomically at each phase and state change, so that a ferryd killed in
 * any phase finds, when it starts again, what each migration was doing
 * (and a finished one how it ended: the history survives a restart).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _FerrydJournalEntry FerrydJournalEntry;
struct _FerrydJournalEntry
{
  guint id;
  gboolean incoming;
  gboolean finished;
  char *domain_name;
  char *description; /* the domain's description (GKeyFile text) */
  char *source;
  char *destination;
  char *backend;
  GVariant *options; /* a{sv} */
  guint32 uid;
  char *phase;
  char *state;
  char *mode;
  GVariant *phase_timestamps; /* a{st} */
  GVariant *statistics;       /* a{sv} */
  char *error_name;
  char *error_message;
  double progress;
  gboolean migrate_sent;
  gboolean postcopy_started;
  char *peer_address;   /* source: how it reaches the destination */
  char *peer_migration; /* source: the destination's handle */
  char **features;
  char *data_host;              /* destination: where the source connects */
  char *persistent_description; /* destination: to persist on success */
  gboolean created_domain;      /* destination: defined for this migration */
};

void ferryd_journal_entry_free (FerrydJournalEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerrydJournalEntry, ferryd_journal_entry_free)

/* <state-dir>/migrations */
char *ferryd_journal_dir (const char *state_dir);
gboolean ferryd_journal_write (const char *dir, const FerrydJournalEntry *entry, GError **error);
void ferryd_journal_remove (const char *dir, guint id);
/* Every entry of @dir, oldest (lowest id) first; unreadable files are
 * skipped (and said so in the log). */
GPtrArray *ferryd_journal_load (const char *dir);

G_END_DECLS
