/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-storage.h: copying a guest's local disks with QEMU's NBD
 * server and block mirror
 *
 * On the destination: create each copied disk's image (same format and
 * virtual size) and serve it over NBD. On the source: mirror each disk
 * to that export, wait until every mirror is in sync, and, when the
 * memory stream pauses before the switch-over, end the mirrors so disks
 * and memory switch over together. Whatever it made (images, exports,
 * jobs, NBD client nodes) it removes again when the migration fails.
 */
#pragma once

#include "ferryd-domain-config.h"
#include "ferryd-progress.h"
#include "ferryd-qmp.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_QMP_STORAGE (ferryd_qmp_storage_get_type ())
G_DECLARE_FINAL_TYPE (FerrydQmpStorage, ferryd_qmp_storage, FERRYD, QMP_STORAGE, GObject)

/* The disks of @config that are copied: those named in @disks, or all
 * when @disks is NULL or empty. Relative paths resolve against
 * @state_dir/images. */
FerrydQmpStorage *ferryd_qmp_storage_new (const FerrydDomainConfig *config,
                                          const char *state_dir,
                                          const char *const *disks);

/* --- destination --- */

/* Create the images (refusing to overwrite a file that exists); with
 * @incremental, each over the backing file the source's names, which
 * must exist here (NotSupported otherwise). */
void ferryd_qmp_storage_create_images_async (FerrydQmpStorage *self,
                                             gboolean incremental,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
gboolean ferryd_qmp_storage_create_images_finish (FerrydQmpStorage *self,
                                                  GAsyncResult *result,
                                                  GError **error);
/* Serve the disks of the QEMU behind @qmp on @host, over TLS with the
 * credentials in @tls_dir unless NULL; returns the address the source
 * connects to ("nbd:HOST:PORT"). */
void ferryd_qmp_storage_export_async (FerrydQmpStorage *self,
                                      FerrydQmp *qmp,
                                      const char *host,
                                      const char *tls_dir,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
char *
ferryd_qmp_storage_export_finish (FerrydQmpStorage *self, GAsyncResult *result, GError **error);
/* The guest runs here now: stop serving its disks. */
void ferryd_qmp_storage_stop_export (FerrydQmpStorage *self);
/* The images made here (NULL-terminated, full). */
GStrv ferryd_qmp_storage_list_images (FerrydQmpStorage *self);
/* The migration failed: remove the images made here. */
void ferryd_qmp_storage_remove_images (FerrydQmpStorage *self);

/* --- source --- */

/* Mirror every disk to the export at @uri, within @max_bandwidth
 * (bytes/s, 0 = unlimited) unless writes are synchronous (QEMU would
 * count the guest's writes against it), over TLS with the credentials
 * in @tls_dir unless NULL (the export's certificate must name @uri's
 * host); done when all are in sync. */
void ferryd_qmp_storage_mirror_async (FerrydQmpStorage *self,
                                      FerrydQmp *qmp,
                                      const char *uri,
                                      gboolean incremental,
                                      gboolean synchronous_writes,
                                      guint64 max_bandwidth,
                                      const char *tls_dir,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean
ferryd_qmp_storage_mirror_finish (FerrydQmpStorage *self, GAsyncResult *result, GError **error);
/* The guest is stopped before the switch-over: end the mirrors, the
 * destination's images now in sync. */
void ferryd_qmp_storage_complete_async (FerrydQmpStorage *self,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
gboolean
ferryd_qmp_storage_complete_finish (FerrydQmpStorage *self, GAsyncResult *result, GError **error);
/* Stop everything on the source (a pending mirror fails as cancelled). */
void ferryd_qmp_storage_abort (FerrydQmpStorage *self);
/* A new cap on the link (SetMaxBandwidth): the mirrors' too, as at
 * their start (not with synchronous writes). */
void ferryd_qmp_storage_set_speed (FerrydQmpStorage *self, guint64 max_bandwidth);
/* Whether this loaded the QEMU's TLS credentials (ferryd_qmp_tls_load()),
 * for the memory stream to use rather than load again. */
gboolean ferryd_qmp_storage_has_tls (FerrydQmpStorage *self);
/* Whether mirrors run now (so their figures are worth asking for). */
gboolean ferryd_qmp_storage_is_copying (FerrydQmpStorage *self);
/* Ask QEMU for the mirrors' figures. */
void ferryd_qmp_storage_update_async (FerrydQmpStorage *self,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
void ferryd_qmp_storage_update_finish (FerrydQmpStorage *self, GAsyncResult *result);
/* Add the disk figures (the last known) to @progress. */
void ferryd_qmp_storage_fill_progress (FerrydQmpStorage *self, FerrydProgress *progress);

G_END_DECLS
