/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration.h: one migration, as a state machine over the five phases */
#pragma once

#include <gio/gio.h>

#include "ferryd-daemon.h"
#include "ferryd-domain.h"
#include "ferryd-options.h"
#include "ferryd-peer-watch.h"
#include "ferryd-stream.h"
#include "ferryd-journal.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_MIGRATION (ferryd_migration_get_type ())
G_DECLARE_DERIVABLE_TYPE (FerrydMigration, ferryd_migration, FERRYD, MIGRATION, GObject)

/* The base of a migration: what both hosts' objects share. Each side
 * (FerrydOutgoingMigration, FerrydIncomingMigration) answers the calls
 * below that depend on which end of the stream it is. */
struct _FerrydMigrationClass
{
  GObjectClass parent_class;

  /* As the D-Bus Direction property shows it. */
  const char *direction;

  /* Cancel, once the base has checked the migration can still be. */
  gboolean (*cancel) (FerrydMigration *self, GError **error);
  gboolean (*start_postcopy) (FerrydMigration *self, GError **error);
  /* Run @control on the stream; return @task (full) when it is done.
   * @what names the request in errors ("Tuning", "Pausing"). */
  void (*control) (FerrydMigration *self,
                   const char *what,
                   FerrydStreamControl control,
                   guint64 value,
                   GTask *task);
  /* The backend's stream went away before the migration ended. */
  void (*stream_exited) (FerrydMigration *self);
  /* The guest crashed (first time only); @why as the backend says it. */
  void (*crashed) (FerrydMigration *self, const char *why);
  /* The migration ends: stop what this side watches. */
  void (*ending) (FerrydMigration *self);
  /* The final statistics (full, floating or not), or NULL for the base's. */
  GVariant *(*final_statistics) (FerrydMigration *self);
  /* The daemon stops: stop timers and watches, leave guests as they are. */
  void (*shutdown) (FerrydMigration *self);
  /* Post-copy recovery over a new channel at @uri (empty: a fresh one);
   * return @task (full) when it is done. */
  void (*recover) (FerrydMigration *self, const char *uri, GTask *task);
  /* The journal (ferryd-migration-journal.c): add this side's fields to
   * @entry, take them back from it after a restart, and once the
   * backend found its guests again, drive the migration to an end. */
  void (*journal_save) (FerrydMigration *self, FerrydJournalEntry *entry);
  void (*journal_restore) (FerrydMigration *self, const FerrydJournalEntry *entry);
  void (*settle_after_restart) (FerrydMigration *self);
};

/* The number of the migration: unique within the daemon's life. */
guint ferryd_migration_get_id (FerrydMigration *self);
/* The public record is the object's own properties and signals, named
 * as the D-Bus Migration interface's in GObject spelling ("phase",
 * "memory-total", "phase-changed", ...); the D-Bus layer binds them to
 * its skeleton. The "error" property (a GError, FERRY_ERROR, or NULL) is
 * why it failed or is paused; the D-Bus layer shows it as ErrorName and
 * ErrorMessage, and forwards "failed" with them. */
FerrydDomain *ferryd_migration_get_domain (FerrydMigration *self);
gboolean ferryd_migration_is_finished (FerrydMigration *self);
/* Why the migration failed (FERRY_ERROR), once it ended so; else NULL. */
const GError *ferryd_migration_get_error (FerrydMigration *self);
/* "outgoing" or "incoming", as the D-Bus Direction property shows it. */
const char *ferryd_migration_get_direction (FerrydMigration *self);

gboolean ferryd_migration_cancel (FerrydMigration *self, GError **error);
gboolean ferryd_migration_start_postcopy (FerrydMigration *self, GError **error);
/* Controls QEMU must accept: they complete once it has (or refused), and
 * each finishes with ferryd_migration_control_finish(). */
void ferryd_migration_set_max_downtime_async (FerrydMigration *self,
                                              guint64 ms,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
void ferryd_migration_set_max_bandwidth_async (FerrydMigration *self,
                                               guint64 bps,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
void ferryd_migration_pause_async (FerrydMigration *self,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean
ferryd_migration_control_finish (FerrydMigration *self, GAsyncResult *result, GError **error);
/* Post-copy recovery: the destination listens on @uri (NULL or empty:
 * an address it picks), the source resumes there. Finishes with
 * ferryd_migration_control_finish(). */
void ferryd_migration_recover_async (FerrydMigration *self,
                                     const char *uri,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GVariant *ferryd_migration_get_statistics (FerrydMigration *self);

G_END_DECLS

/* --- engine-facing API (ferryd-engine.c) --- */

G_BEGIN_DECLS

typedef struct _FerrydBackend FerrydBackend;

typedef struct
{
  FerrydDaemon *daemon;
  FerrydBackend *backend; /* NULL: the default one */
  FerrydDomain *domain;
  guint id;
  FerrydMigrateOptions *options; /* transfer full */
  const char *source;            /* host names as shown in Source/Destination */
  const char *destination;
  guint32 uid;
  const char *local_hostname;
  const char *local_host_uuid;
} FerrydMigrationSetup;

/* The daemon is stopping: leave guests as they are, fail cleanly. */
void ferryd_migration_shutdown (FerrydMigration *self);

/* After a restart (ferryd-migration-journal.c): a migration made by its
 * side's constructor takes the state a previous ferryd journaled, and is
 * re-exported with it; once the backend found its guests again, it is
 * driven to an end. */
void ferryd_migration_restore (FerrydMigration *self, const FerrydJournalEntry *entry);
void ferryd_migration_settle_after_restart (FerrydMigration *self);

G_END_DECLS
