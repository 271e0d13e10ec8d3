/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-local-storage.h: what the engine asks of this host's own disks
 * for Check and Hello (what images hold, how much room is left), asked
 * in a worker thread: a stat waits on the disk, the main loop must not. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One image a copy would create on the destination. */
typedef struct
{
  char *path;
  guint64 size; /* the size the description gives it, bytes */
} FerrydLocalImage;

/* The sum over @images (of FerrydLocalImage, taken) of the bytes each
 * file holds and of the size each may grow to (the larger of the file's
 * length and its described size). An image that cannot be stat'ed
 * counts nothing. Never fails (except on cancellation). */
void ferryd_local_storage_usage_async (GPtrArray *images,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean ferryd_local_storage_usage_finish (GAsyncResult *result,
                                            guint64 *out_allocated,
                                            guint64 *out_size,
                                            GError **error);

/* The free bytes (for an unprivileged writer: f_bavail) in the first
 * of @dirs (NULL-terminated, copied) whose file system answers; FALSE
 * when none does. */
void ferryd_local_storage_free_async (const char *const *dirs,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean ferryd_local_storage_free_finish (GAsyncResult *result, guint64 *out_free, GError **error);

FerrydLocalImage *ferryd_local_image_new (const char *path, guint64 size);
void ferryd_local_image_free (FerrydLocalImage *image);

G_END_DECLS
