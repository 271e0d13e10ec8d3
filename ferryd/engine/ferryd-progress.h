/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-progress.h: what a backend reports about a running migration
 * stream, in neutral terms, and the pure math the engine does with it
 * (progress, time left, convergence, statistics) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The state of the migration stream as the backend reports it. */
typedef enum
{
  FERRYD_STREAM_NONE,
  FERRYD_STREAM_SETUP,
  FERRYD_STREAM_ACTIVE,
  FERRYD_STREAM_POSTCOPY_ACTIVE,
  FERRYD_STREAM_POSTCOPY_PAUSED,
  FERRYD_STREAM_COMPLETED,
  FERRYD_STREAM_FAILED,
  FERRYD_STREAM_CANCELLED,
} FerrydStreamStatus;

/* At most this many disks are reported one by one. */
#define FERRYD_PROGRESS_MAX_DISKS 8

/* One copied disk: its name in the description, bytes to copy, copied. */
typedef struct
{
  char id[64];
  guint64 total;
  guint64 processed;
} FerrydDiskProgress;

/* One sample of a running stream. Times in ms, sizes in bytes, rates in
 * bytes/s. Fields a backend does not know stay 0. */
typedef struct
{
  FerrydStreamStatus status;
  gboolean has_memory; /* the memory figures below were reported */
  guint64 total_time;
  guint64 setup_time;
  guint64 downtime;
  /* Source stop to destination resume, when the backend measured it
   * itself (libvirt does, for a completed job); 0 if not. The engine's
   * own measurement across the two hosts takes precedence. */
  guint64 downtime_real;
  guint64 expected_downtime; /* the backend's own estimate */
  guint64 memory_total;
  guint64 memory_processed;
  guint64 memory_remaining;
  guint64 transfer_rate;
  guint64 dirty_rate;
  guint64 pages_transferred;
  guint64 pages_zero;
  guint32 iteration; /* dirty-memory synchronisations so far */
  guint64 postcopy_requests;
  guint64 postcopy_bytes;
  guint cpu_throttle; /* % of CPU time auto-converge takes from the guest */
  /* Storage copy: the sum over the disks and each of them; the figures
   * stay at their last value once the copies have ended. */
  guint64 disk_total;
  guint64 disk_processed;
  gboolean disk_in_sync; /* every copy caught up with the guest once */
  guint n_disks;
  FerrydDiskProgress disks[FERRYD_PROGRESS_MAX_DISKS];
} FerrydProgress;

typedef enum
{
  FERRYD_CONVERGING_UNKNOWN,
  FERRYD_CONVERGING_YES,
  FERRYD_CONVERGING_NO,
} FerrydConverging;

const char *ferryd_converging_to_string (FerrydConverging converging);

/* What the engine knows besides the sample. */
typedef struct
{
  double previous_progress; /* progress never goes backwards */
  gboolean completed;
  gboolean postcopy_started;
  guint64 downtime_limit;      /* ms */
  guint64 pass_remaining;      /* remaining bytes when the current pass began */
  guint64 prev_pass_remaining; /* ... and when the previous one began */
} FerrydEstimateContext;

typedef struct
{
  double progress;           /* 0..1; below 1 until completed */
  guint64 time_remaining;    /* ms, 0 = unknown */
  guint64 expected_downtime; /* ms */
  FerrydConverging converging;
} FerrydEstimate;

/* Progress, time left, expected downtime and convergence of @progress
 * (with memory figures, or disk figures while disks copy before the
 * memory; both count, byte for byte). */
void ferryd_progress_estimate (const FerrydProgress *progress,
                               const FerrydEstimateContext *context,
                               FerrydEstimate *estimate);

/* Wall-clock moments of a migration, µs since the epoch (0 = not yet). */
typedef struct
{
  gint64 stop_us;
  gint64 resume_us;
  gint64 postcopy_us;
  gint64 end_us;
  gboolean postcopy_started;
} FerrydTimes;

/* The Statistics a{sv} of DESIGN §2 (floating). @progress may be NULL
 * when the backend reported nothing. */
GVariant *ferryd_progress_build_statistics (const FerrydProgress *progress,
                                            const FerrydTimes *times);

/* The statistics of the Iteration signal (floating). */
GVariant *ferryd_progress_iteration_statistics (const FerrydProgress *progress);

/* The destination's statistics: the source's (as sent in Finish, with
 * its "source-stop-time"), plus the real downtime measured against
 * @resume_us (floating). */
GVariant *ferryd_progress_incoming_statistics (GVariant *source_statistics, gint64 resume_us);

G_END_DECLS
