/* ferry-qemu.h: one supervised QEMU process and its QMP connection */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain-config.h"
#include "ferryd-qmp.h"

G_BEGIN_DECLS

#define FERRY_TYPE_QEMU (ferry_qemu_get_type ())
G_DECLARE_FINAL_TYPE (FerryQemu, ferry_qemu, FERRY, QEMU, GObject)

typedef struct
{
  const char *runtime_dir; /* QMP socket and QEMU's own log go here */
  const char *state_dir;   /* console/ and images/ */
  gboolean incoming;       /* start with -incoming defer */
  gboolean paused;         /* -S: the guest runs only when told to */
} FerryQemuLaunch;

void ferry_qemu_launch_async (const FerryDomainConfig *config,
                              const FerryQemuLaunch *launch,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
FerryQemu *ferry_qemu_launch_finish (GAsyncResult *result, GError **error);

/* Re-attach to a QEMU a previous ferryd started (its QMP socket and live
 * description are in <runtime-dir>/qemu/). */
void ferry_qemu_attach_async (const char *runtime_dir,
                              const char *name,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
FerryQemu *ferry_qemu_attach_finish (GAsyncResult *result, GError **error);

/* Whether this host can run guests with KVM (/dev/kvm opens read-write). */
gboolean ferry_qemu_kvm_usable (void);
/* The accelerator a guest asking for @wanted runs with here: AUTO becomes
 * KVM or TCG; KVM where KVM cannot be used is NOT_SUPPORTED. */
gboolean ferry_qemu_resolve_accel (FerryAccel wanted, FerryAccel *resolved, GError **error);

/* Why a destination that offers @peer_accels (from its Hello) cannot run
 * a guest that runs here with @in_use; NULL when it can (or when either
 * is unknown: AUTO, or no list from an older peer). */
char *ferry_qemu_accel_blocker (FerryAccel in_use, const char *const *peer_accels);

/* QEMU's run status (query-status) as Ferry's run state: running, paused,
 * inmigrate, postmigrate or crashed; for crashed, *reason says why in
 * words (from the status and the tail of QEMU's own log). */
const char *ferry_qemu_run_state_for_status (const char *status,
                                             FerryAccel accel,
                                             const char *log_tail,
                                             char **reason);

/* @config's accel must be resolved (not AUTO). */
GStrv
ferry_qemu_build_argv (const FerryDomainConfig *config, const FerryQemuLaunch *launch, int qmp_fd);
char *ferry_qemu_resolve_disk_path (const char *state_dir, const char *path);

FerryQmp *ferry_qemu_get_qmp (FerryQemu *self);
/* The live description this QEMU runs (accelerator resolved). */
const FerryDomainConfig *ferry_qemu_get_config (FerryQemu *self);
/* QEMU's run state as Ferry reports it: running, paused, inmigrate,
 * postmigrate, crashed, shutoff. Changes emit notify::run-state.
 * crashed (a guest panic, a KVM internal error) is kept until the
 * process exits: the QEMU stays, paused, for inspection. */
const char *ferry_qemu_get_run_state (FerryQemu *self);
/* Why the run state is what it is, in words ("" when nothing to say). */
const char *ferry_qemu_get_state_reason (FerryQemu *self);
gboolean ferry_qemu_is_crashed (FerryQemu *self);
gboolean ferry_qemu_has_exited (FerryQemu *self);
GPid ferry_qemu_get_pid (FerryQemu *self);

/* Ask the guest to power down, then quit, then kill; completes on exit. */
void ferry_qemu_shutdown_async (FerryQemu *self,
                                guint grace_ms,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean ferry_qemu_shutdown_finish (FerryQemu *self, GAsyncResult *result, GError **error);

/* Resume the guest (after a failed outgoing migration), retrying while
 * QEMU is still winding the migration down. */
void ferry_qemu_resume_async (FerryQemu *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean ferry_qemu_resume_finish (FerryQemu *self, GAsyncResult *result, GError **error);

/* The incoming guest has fully arrived: a restarted ferryd keeps it. */
void ferry_qemu_set_arrived (FerryQemu *self);

/* Stop the process now (quit over QMP, SIGKILL as a fallback). */
void ferry_qemu_terminate (FerryQemu *self);

G_END_DECLS
