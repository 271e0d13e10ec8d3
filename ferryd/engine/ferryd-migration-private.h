/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration-private.h: what the base migration shares with its sides
 *
 * ferryd-migration.c is the base (phases, progress, the end);
 * ferryd-outgoing-migration.c and ferryd-incoming-migration.c are the two
 * sides. The fields below are what both sides use; each side keeps its
 * own in its instance struct.
 */
#pragma once

#include "ferry-names.h"
#include "ferryd-backend.h"
#include "ferryd-migration.h"
#include "ferryd-peer-client.h"
#include "ferryd-phase.h"
#include "ferryd-policy.h"
#include "ferryd-progress.h"

#define PEER_CALL_TIMEOUT_MS 60000
#define SAMPLE_INTERVAL_MS 250
/* Lower than QEMU's 300 ms: with an uncapped link an extra pass is cheap,
 * and the switch-over threshold is switchover bandwidth x this limit. */
#define DEFAULT_DOWNTIME_MS 50
/* How long Finish waits for the destination guest to resume. */
#define FINISH_TIMEOUT_S 60
/* How long a destination whose stream failed waits for the source's word. */
#define SOURCE_VERDICT_TIMEOUT_S 5
/* How long a destination whose post-copy stream completed waits for the
 * source's Finish before it finishes alone (the guest runs there). */
#define POSTCOPY_FINISH_WAIT_S 10

typedef FerrydPhase Phase;
typedef FerrydState State;

typedef struct
{
  FerrydDaemon *daemon;
  FerrydDomain *domain;
  guint id;
  char *label;         /* "migration <id>", for the log */
  GValue *record;      /* the public properties, by MigrationProp */
  GError *shown_error; /* the "error" property: why it failed or is paused */
  FerrydMigrateOptions *options;
  char *local_hostname;
  char *local_host_uuid;
  Phase phase;
  State state;
  GCancellable *cancellable;
  gboolean finished;
  /* The hypervisor carries the protocol (ferryd_stream_runs_protocol):
   * it also keeps the migration's state across a restart of ferryd, so
   * there is nothing to journal. */
  gboolean hypervisor_protocol;

  FerrydBackend *backend;
  FerrydStream *stream; /* the backend's half; NULL once the guest is not ours */
  GError *crash_error;  /* the guest crashed during the migration */
  GError *error;        /* why it failed, once it ended so */
  GStrv features;       /* the features both hosts agreed on */
  guint sample_id;
  guint timeout_id; /* the policy's overall timeout */
  gboolean sampling;
  FerrydProgress info;     /* the last sample of the stream */
  guint64 disk_copy_rate;  /* bytes/s the disk mirrors copied over the last window */
  guint64 disk_write_rate; /* bytes/s their work grew by (guest writes to copy again) */
  gint64 disk_window_us;   /* when the window began (monotonic), 0 = none yet */
  guint64 disk_window_total;
  guint64 disk_window_processed;
  gint64 stop_us;
  gint64 resume_us;
  gint64 postcopy_us;
  gint64 end_us;
  gboolean postcopy_requested;
  gboolean postcopy_started;
  guint64 downtime_limit;
  double progress;
  guint64 pass_remaining;      /* remaining bytes when the current pass began */
  guint64 prev_pass_remaining; /* ... and when the previous one began */
  gboolean pass_sample_pending;
  guint pass;
  GVariant *statistics;
  FerrydPolicyRules rules; /* what the convergence policy may do; zero where it does not steer */
  guint policy_step_pass;  /* pass of the policy's last step, 0 = none */
  guint reported_throttle; /* the throttle the last "throttle" PolicyAction named */
  FerrydVerdict published_verdict; /* the verdict Convergence shows */
  gboolean restored;               /* taken over from a previous ferryd's journal */
} FerrydMigrationShared;

/* The public record: the GObject properties the D-Bus layer binds to the
 * Migration interface's of the same name (see HACKING.md). */
typedef enum
{
  MIGRATION_PROP_0,
  MIGRATION_PROP_DOMAIN_NAME,
  MIGRATION_PROP_SOURCE,
  MIGRATION_PROP_DESTINATION,
  MIGRATION_PROP_DIRECTION,
  MIGRATION_PROP_BACKEND,
  MIGRATION_PROP_OPTIONS,
  MIGRATION_PROP_STARTED_BY_UID,
  MIGRATION_PROP_PHASE,
  MIGRATION_PROP_STATE,
  MIGRATION_PROP_MODE,
  MIGRATION_PROP_PHASE_TIMESTAMPS,
  MIGRATION_PROP_PROGRESS,
  MIGRATION_PROP_TIME_ELAPSED,
  MIGRATION_PROP_TIME_REMAINING,
  MIGRATION_PROP_MEMORY_TOTAL,
  MIGRATION_PROP_MEMORY_PROCESSED,
  MIGRATION_PROP_MEMORY_REMAINING,
  MIGRATION_PROP_DISK_TOTAL,
  MIGRATION_PROP_DISK_PROCESSED,
  MIGRATION_PROP_DISK_REMAINING,
  MIGRATION_PROP_TRANSFER_RATE,
  MIGRATION_PROP_DIRTY_RATE,
  MIGRATION_PROP_ITERATION,
  MIGRATION_PROP_EXPECTED_DOWNTIME,
  MIGRATION_PROP_CONVERGING,
  MIGRATION_PROP_CONVERGENCE,
  MIGRATION_PROP_STATISTICS,
  MIGRATION_PROP_ERROR,
  MIGRATION_N_PROPS
} MigrationProp;

/* The fields both sides share; SHARED() takes either side's pointer. */
FerrydMigrationShared *migration_shared (FerrydMigration *self);
#define SHARED(m) migration_shared (FERRYD_MIGRATION (m))

/* Fills the base from @setup; each side's constructor calls it once. */
void migration_construct (FerrydMigration *self, const FerrydMigrationSetup *setup);
/* Set a public property; notifies only when the value changes. */
void migration_set_string (FerrydMigration *self, MigrationProp prop, const char *value);
void migration_set_uint (FerrydMigration *self, MigrationProp prop, guint value);
void migration_set_uint64 (FerrydMigration *self, MigrationProp prop, guint64 value);
void migration_set_double (FerrydMigration *self, MigrationProp prop, double value);
/* @value: floating or not; NULL is not allowed. */
void migration_set_variant (FerrydMigration *self, MigrationProp prop, GVariant *value);
const char *migration_get_string (FerrydMigration *self, MigrationProp prop);
GVariant *migration_get_variant (FerrydMigration *self, MigrationProp prop);
guint migration_get_uint (FerrydMigration *self, MigrationProp prop);
/* Show @error (copied; NULL: none) as the "error" property. */
void migration_show_error (FerrydMigration *self, const GError *error);
/* Emit the public signals (same names as the D-Bus ones). */
void migration_emit_iteration (FerrydMigration *self, guint n, GVariant *stats);

void migration_set_phase (FerrydMigration *self, Phase phase);
void migration_set_state (FerrydMigration *self, State state);
GVariant *migration_build_statistics (FerrydMigration *self);
void migration_update_progress (FerrydMigration *self);
void migration_policy_action (FerrydMigration *self, const char *action, const char *reason);
void migration_start_sampling (FerrydMigration *self);
void migration_stop_sampling (FerrydMigration *self);
void migration_sample_now (FerrydMigration *self);
void migration_drop_stream (FerrydMigration *self);
void migration_finish (FerrydMigration *self, State state, const GError *error);
gboolean migration_note_postcopy_started (FerrydMigration *self, gint64 ts);
/* Take @stream (full) as the stream and follow its exit and crashes
 * (through the class' stream_exited and crashed); each side connects its
 * other signals itself. */
void migration_attach_stream (FerrydMigration *self, FerrydStream *stream);
/* Record that the guest crashed on @host ("source", "destination"). */
void migration_set_crash_error (FerrydMigration *self, const char *host, const char *why);
/* Post-copy paused (both QEMUs wait; the error names Recover) and running
 * again (the error cleared). */
void migration_note_postcopy_paused (FerrydMigration *self);
void migration_note_postcopy_resumed (FerrydMigration *self);
/* Save the journal entry of the migration (ferryd-migration-journal.c). */
void migration_journal_save (FerrydMigration *self);
