/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-local-storage.c: stat and statvfs of this host's images, in a
 * worker thread
 *
 * Each job gets copies of everything it reads (paths, sizes) and
 * touches no object of the daemon, so a job still running when ferryd
 * shuts down holds nothing that is freed under it.
 */
#define G_LOG_DOMAIN "ferry-engine"

#include "ferryd-local-storage.h"
#include "ferry-error.h"

#include <glib/gstdio.h>
#include <sys/statvfs.h>

FerrydLocalImage *
ferryd_local_image_new (const char *path, guint64 size)
{
  FerrydLocalImage *image = g_new0 (FerrydLocalImage, 1);

  image->path = g_strdup (path);
  image->size = size;
  return image;
}

void
ferryd_local_image_free (FerrydLocalImage *image)
{
  g_free (image->path);
  g_free (image);
}

/* --- what the images hold --- */

typedef struct
{
  guint64 allocated;
  guint64 size;
} Usage;

static void
usage_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GPtrArray *images = task_data;
  Usage *usage = g_new0 (Usage, 1);

  for (guint i = 0; i < images->len; i++)
    {
      FerrydLocalImage *image = g_ptr_array_index (images, i);
      GStatBuf st;

      if (g_stat (image->path, &st) != 0)
        continue;
      usage->allocated += (guint64) st.st_blocks * 512;
      usage->size += MAX ((guint64) st.st_size, image->size);
    }
  g_task_return_pointer (task, usage, g_free);
}

void
ferryd_local_storage_usage_async (GPtrArray *images,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_local_storage_usage_async);
  g_task_set_task_data (task, images, (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, usage_thread);
}

gboolean
ferryd_local_storage_usage_finish (GAsyncResult *result,
                                   guint64 *out_allocated,
                                   guint64 *out_size,
                                   GError **error)
{
  g_autofree Usage *usage = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_local_storage_usage_async,
                        FALSE);
  usage = g_task_propagate_pointer (G_TASK (result), error);
  if (usage == NULL)
    return FALSE;
  *out_allocated = usage->allocated;
  *out_size = usage->size;
  return TRUE;
}

/* --- free space --- */

static void
free_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  char **dirs = task_data;
  struct statvfs st;

  for (gsize i = 0; dirs[i]; i++)
    if (statvfs (dirs[i], &st) == 0)
      {
        guint64 *free_bytes = g_new (guint64, 1);

        *free_bytes = (guint64) st.f_bavail * st.f_frsize;
        g_task_return_pointer (task, free_bytes, g_free);
        return;
      }
  g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "No file system answers for %s",
                           dirs[0] ? dirs[0] : "(none)");
}

void
ferryd_local_storage_free_async (const char *const *dirs,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_local_storage_free_async);
  g_task_set_task_data (task, g_strdupv ((char **) dirs), (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, free_thread);
}

gboolean
ferryd_local_storage_free_finish (GAsyncResult *result, guint64 *out_free, GError **error)
{
  g_autofree guint64 *free_bytes = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_local_storage_free_async,
                        FALSE);
  free_bytes = g_task_propagate_pointer (G_TASK (result), error);
  if (free_bytes == NULL)
    return FALSE;
  *out_free = *free_bytes;
  return TRUE;
}
