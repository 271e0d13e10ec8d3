/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qemu.h: one supervised QEMU process and its QMP connection */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain-config.h"
#include "ferryd-qmp.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_QEMU (ferryd_qemu_get_type ())
G_DECLARE_FINAL_TYPE (FerrydQemu, ferryd_qemu, FERRYD, QEMU, GObject)

typedef struct
{
  const char *runtime_dir; /* QMP socket and QEMU's own log go here */
  const char *state_dir;   /* console/ and images/ */
  gboolean incoming;       /* start with -incoming defer */
  gboolean paused;         /* -S: the guest runs only when told to */
} FerrydQemuLaunch;

void ferryd_qemu_launch_async (const FerrydDomainConfig *config,
                               const FerrydQemuLaunch *launch,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
FerrydQemu *ferryd_qemu_launch_finish (GAsyncResult *result, GError **error);

/* Re-attach to a QEMU a previous ferryd started: its QMP socket is in
 * <runtime-dir>/qemu/, @live is the live description read from there. */
void ferryd_qemu_attach_async (const char *runtime_dir,
                               const FerrydDomainConfig *live,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
FerrydQemu *ferryd_qemu_attach_finish (GAsyncResult *result, GError **error);

/* Whether this host can run guests with KVM (/dev/kvm opens read-write). */
gboolean ferryd_qemu_kvm_usable (void);
/* The accelerator a guest asking for @wanted runs with here: AUTO becomes
 * KVM or TCG; KVM where KVM cannot be used is NOT_SUPPORTED. */
gboolean ferryd_qemu_resolve_accel (FerrydAccel wanted, FerrydAccel *resolved, GError **error);

/* Why a destination that offers @peer_accels (from its Hello) cannot run
 * a guest that runs here with @in_use; NULL when it can (or when either
 * is unknown: AUTO, or no list from an older peer). */
char *ferryd_qemu_accel_blocker (FerrydAccel in_use, const char *const *peer_accels);

/* QEMU's run status (query-status) as Ferry's run state: running, paused,
 * inmigrate, postmigrate or crashed; for crashed, *reason says why in
 * words (from the status and the tail of QEMU's own log). */
const char *ferryd_qemu_run_state_for_status (const char *status,
                                              FerrydAccel accel,
                                              const char *log_tail,
                                              char **reason);

/* @config's accel must be resolved (not AUTO). */
GStrv ferryd_qemu_build_argv (const FerrydDomainConfig *config,
                              const FerrydQemuLaunch *launch,
                              int qmp_fd);
char *ferryd_qemu_resolve_disk_path (const char *state_dir, const char *path);

FerrydQmp *ferryd_qemu_get_qmp (FerrydQemu *self);
/* The live description this QEMU runs (accelerator resolved). */
const FerrydDomainConfig *ferryd_qemu_get_config (FerrydQemu *self);
/* QEMU's run state as Ferry reports it: running, paused, inmigrate,
 * postmigrate, crashed, shutoff. Changes emit notify::run-state.
 * crashed (a guest panic, a KVM internal error) is kept until the
 * process exits: the QEMU stays, paused, for inspection. */
const char *ferryd_qemu_get_run_state (FerrydQemu *self);
/* Why the run state is what it is, in words ("" when nothing to say). */
const char *ferryd_qemu_get_state_reason (FerrydQemu *self);
gboolean ferryd_qemu_is_crashed (FerrydQemu *self);
gboolean ferryd_qemu_has_exited (FerrydQemu *self);
GPid ferryd_qemu_get_pid (FerrydQemu *self);

/* Ask the guest to power down, then quit, then kill; completes on exit. */
void ferryd_qemu_shutdown_async (FerrydQemu *self,
                                 guint grace_ms,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean ferryd_qemu_shutdown_finish (FerrydQemu *self, GAsyncResult *result, GError **error);

/* Resume the guest (after a failed outgoing migration), retrying while
 * QEMU is still winding the migration down. */
void ferryd_qemu_resume_async (FerrydQemu *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean ferryd_qemu_resume_finish (FerrydQemu *self, GAsyncResult *result, GError **error);

/* The incoming guest has fully arrived: a restarted ferryd keeps it. */
void ferryd_qemu_set_arrived (FerrydQemu *self);
/* The images made for an incoming guest (its copied disks): a restarted
 * ferryd that drops the half-arrived guest removes them too. */
void ferryd_qemu_note_incoming_images (FerrydQemu *self, const char *const *paths);
/* Remove the images noted in the incoming marker at @incoming_path. */
void ferryd_qemu_remove_incoming_images (const char *incoming_path);

/* Stop the process now (quit over QMP, SIGKILL as a fallback). */
void ferryd_qemu_terminate (FerrydQemu *self);

G_END_DECLS
