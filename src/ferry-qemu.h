/* ferry-qemu.h: one supervised QEMU process and its QMP connection */
#pragma once

#include <gio/gio.h>

#include "ferry-domain-config.h"
#include "ferry-qmp.h"

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

GStrv
ferry_qemu_build_argv (const FerryDomainConfig *config, const FerryQemuLaunch *launch, int qmp_fd);
char *ferry_qemu_resolve_disk_path (const char *state_dir, const char *path);

FerryQmp *ferry_qemu_get_qmp (FerryQemu *self);
/* QEMU's run state as Ferry reports it: running, paused, inmigrate,
 * postmigrate, shutoff. Changes emit notify::run-state. */
const char *ferry_qemu_get_run_state (FerryQemu *self);
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
