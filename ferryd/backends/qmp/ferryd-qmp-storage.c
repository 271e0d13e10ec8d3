/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-storage.c: a guest's local disks copied with NBD and
 * blockdev-mirror (the measured sequence of research §3.5)
 *
 * Names on both QEMUs derive from the disk's id in the description:
 * its node "disk-ID" (ferryd-qemu.c), the export "ID", the source's
 * NBD client node "ferry-nbd-ID" and its job "ferry-mirror-ID", so
 * cleanup needs no state QEMU does not also have.
 */
#define G_LOG_DOMAIN "ferry-qmp-storage"

#include "ferry-compat.h"
#include "ferryd-qmp-storage.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "ferry-error.h"
#include "ferryd-qmp-batch.h"
#include "ferryd-qmp-tls.h"

typedef struct
{
  char *id;
  char *path;           /* resolved */
  char *format;         /* raw, qcow2 */
  guint64 size;         /* virtual size, bytes */
  char *backing;        /* as the source's header names it, or NULL */
  char *backing_format; /* its format */
  gboolean created;
  gboolean ready;
  gboolean ended;
  guint64 total;
  guint64 processed;
} Disk;

struct _FerrydQmpStorage
{
  GObject parent_instance;

  GPtrArray *disks;     /* of Disk */
  char *images_dir;     /* <state-dir>/images */
  gboolean incremental; /* destination: images over the same backing files */
  FerrydQmp *qmp;
  gulong event_id;
  gboolean exporting;
  gboolean mirroring; /* jobs were asked for and have not all ended */
  gboolean aborted;
  gboolean synchronous; /* write-blocking mirrors: never capped */
  gboolean tls_loaded;  /* this QEMU's TLS credentials were loaded here */
  GTask *mirror_task;   /* until every mirror is ready */
  GTask *complete_task; /* until every mirror has ended */
  /* the copy rate, from the last two samples */
  gint64 sample_us;
  guint64 sample_processed;
  guint64 rate;
};

G_DEFINE_TYPE (FerrydQmpStorage, ferryd_qmp_storage, G_TYPE_OBJECT)

static void
disk_free (Disk *disk)
{
  g_free (disk->id);
  g_free (disk->path);
  g_free (disk->format);
  g_free (disk->backing);
  g_free (disk->backing_format);
  g_free (disk);
}

static Disk *
find_job (FerrydQmpStorage *self, const char *job)
{
  if (job == NULL || !g_str_has_prefix (job, "ferry-mirror-"))
    return NULL;
  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      if (g_str_equal (disk->id, job + strlen ("ferry-mirror-")))
        return disk;
    }
  return NULL;
}

static gboolean
all_disks (FerrydQmpStorage *self, gboolean ended)
{
  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      if (ended ? !disk->ended : !disk->ready)
        return FALSE;
    }
  return TRUE;
}

static void
delete_target (FerrydQmpStorage *self, Disk *disk)
{
  JsonObject *args = json_object_new ();
  g_autofree char *node = g_strconcat ("ferry-nbd-", disk->id, NULL);

  json_object_set_string_member (args, "node-name", node);
  if (self->qmp)
    ferryd_qmp_send (self->qmp, "blockdev-del", args);
  else
    json_object_unref (args);
}

static void
return_pending (GTask **task, GError *error)
{
  g_autoptr (GTask) owned = g_steal_pointer (task);

  if (owned == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error)
    g_task_return_error (owned, error);
  else
    g_task_return_boolean (owned, TRUE);
}

/* A mirror ended: completed (in sync, when asked to), failed (its
 * target went away, say) or cancelled. Its NBD client node goes too. */
static void
job_ended (FerrydQmpStorage *self, Disk *disk, JsonObject *data, gboolean cancelled)
{
  const char *error = json_object_get_string_member_with_default (data, "error", NULL);

  disk->ended = TRUE;
  if (json_object_has_member (data, "len"))
    {
      disk->total = (guint64) json_object_get_int_member (data, "len");
      disk->processed = (guint64) json_object_get_int_member_with_default (data, "offset", 0);
    }
  delete_target (self, disk);
  if (all_disks (self, TRUE))
    self->mirroring = FALSE;
  if (error || cancelled || self->complete_task == NULL)
    {
      GError *why =
          g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED, "The copy of disk '%s' %s%s%s",
                       disk->id, error ? "failed: " : "was cancelled", error ? error : "",
                       self->aborted ? " (migration stopped)" : "");
      if (self->mirror_task)
        return_pending (&self->mirror_task, g_error_copy (why));
      return_pending (&self->complete_task, why);
      return;
    }
  if (all_disks (self, TRUE))
    return_pending (&self->complete_task, NULL);
}

static void
on_event (FerrydQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data)
{
  FerrydQmpStorage *self = user_data;
  Disk *disk = find_job (self, json_object_get_string_member_with_default (data, "device", NULL));

  if (disk == NULL)
    return;
  g_object_ref (self);
  if (g_str_equal (name, "BLOCK_JOB_READY"))
    {
      g_debug ("disk %s in sync", disk->id);
      disk->ready = TRUE;
      disk->total = (guint64) json_object_get_int_member_with_default (data, "len", 0);
      disk->processed = (guint64) json_object_get_int_member_with_default (data, "offset", 0);
      if (self->mirror_task && all_disks (self, FALSE))
        return_pending (&self->mirror_task, NULL);
    }
  else if (g_str_equal (name, "BLOCK_JOB_COMPLETED"))
    job_ended (self, disk, data, FALSE);
  else if (g_str_equal (name, "BLOCK_JOB_CANCELLED"))
    job_ended (self, disk, data, TRUE);
  g_object_unref (self);
}

static void
watch (FerrydQmpStorage *self, FerrydQmp *qmp)
{
  if (self->qmp == qmp)
    return;
  if (self->qmp)
    g_clear_signal_handler (&self->event_id, self->qmp);
  g_set_object (&self->qmp, qmp);
  self->event_id = g_signal_connect (qmp, "event", G_CALLBACK (on_event), self);
}

FerrydQmpStorage *
ferryd_qmp_storage_new (const FerrydDomainConfig *config,
                        const char *state_dir,
                        const char *const *disks)
{
  FerrydQmpStorage *self = g_object_new (FERRYD_TYPE_QMP_STORAGE, NULL);

  self->images_dir = g_build_filename (state_dir, "images", NULL);
  for (guint i = 0; i < config->disks->len; i++)
    {
      FerrydDiskConfig *d = g_ptr_array_index (config->disks, i);
      Disk *disk;

      if (disks && disks[0] && !g_strv_contains (disks, d->id))
        continue;
      disk = g_new0 (Disk, 1);
      disk->id = g_strdup (d->id);
      disk->path = g_path_is_absolute (d->path)
                       ? g_strdup (d->path)
                       : g_build_filename (state_dir, "images", d->path, NULL);
      disk->format = g_strdup (d->format);
      disk->backing = g_strdup (d->backing);
      disk->backing_format = g_strdup (d->backing_format);
      disk->size = d->size;
      disk->total = d->size;
      g_ptr_array_add (self->disks, disk);
    }
  return self;
}

/* --- destination --- */

static void create_next (GTask *task);

static void
created_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpStorage *self = g_task_get_source_object (task);
  Disk *disk = g_ptr_array_index (self->disks, GPOINTER_TO_UINT (g_task_get_task_data (task)));
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;

  if (!g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, NULL, &err, &error))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot create the image of disk '%s': %s", disk->id,
                               error->message);
      return;
    }
  if (!g_subprocess_get_successful (G_SUBPROCESS (source)))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot create the image of disk '%s': %s", disk->id,
                               err ? g_strstrip (err) : "qemu-img failed");
      return;
    }
  disk->created = TRUE;
  g_task_set_task_data (task, GUINT_TO_POINTER (GPOINTER_TO_UINT (g_task_get_task_data (task)) + 1),
                        NULL);
  create_next (g_steal_pointer (&task));
}

/* --- the image's place, in a worker thread --- */

typedef struct
{
  char *id;
  char *path;
  char *backing;    /* incremental: the backing file as named, or NULL */
  char *images_dir; /* where an absolute backing file may be */
} Place;

static void
place_free (Place *place)
{
  g_free (place->id);
  g_free (place->path);
  g_free (place->backing);
  g_free (place->images_dir);
  g_free (place);
}

/* An incremental copy brings only the top image: the destination must
 * already hold the backing file, where the top image's header will look
 * for it (QEMU resolves a relative name against the image's folder).
 * The name comes from the peer, so it may not climb out of that folder,
 * and an absolute one must be among this host's images: the guest reads
 * its backing file, and no peer chooses which of this host's files that
 * is. Missing, it is refused before the guest's memory moves. */
static gboolean
check_backing (Place *place, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (place->path);
  g_autofree char *resolved = NULL;
  g_autofree char *prefix = g_strconcat (place->images_dir, G_DIR_SEPARATOR_S, NULL);

  if (strstr (place->backing, "..") || strchr (place->backing, ',') ||
      (g_path_is_absolute (place->backing) && !g_str_has_prefix (place->backing, prefix)))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "Cannot copy only the top image of disk '%s': its backing file '%s' is outside "
                   "the destination's images folder; use copy-storage=all",
                   place->id, place->backing);
      return FALSE;
    }
  resolved = g_path_is_absolute (place->backing) ? g_strdup (place->backing)
                                                 : g_build_filename (dir, place->backing, NULL);
  if (!g_file_test (resolved, G_FILE_TEST_EXISTS) || g_file_test (resolved, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "Cannot copy only the top image of disk '%s': the destination has no backing "
                   "file '%s' (%s); copy it there first, or use copy-storage=all",
                   place->id, place->backing, resolved);
      return FALSE;
    }
  return TRUE;
}

/* Both wait on the disk; the job has its own copies of the names. */
static void
place_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Place *place = task_data;
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;

  /* Never over a file that exists: it may be the source's own image
   * (both hosts on one machine with an absolute path) or someone's data. */
  if (g_file_test (place->path, G_FILE_TEST_EXISTS))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot copy disk '%s': '%s' exists on the destination", place->id,
                               place->path);
      return;
    }
  dir = g_path_get_dirname (place->path);
  if (place->backing && !check_backing (place, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;

      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot create '%s': %s", dir,
                               g_strerror (saved));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
placed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  FerrydQmpStorage *self = g_task_get_source_object (task);
  guint index = GPOINTER_TO_UINT (g_task_get_task_data (task));
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autofree char *size = NULL;
  g_autoptr (GStrvBuilder) argv = NULL;
  g_auto (GStrv) args = NULL;
  Disk *disk = g_ptr_array_index (self->disks, index);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  size = g_strdup_printf ("%" G_GUINT64_FORMAT, disk->size);
  argv = g_strv_builder_new ();
  g_strv_builder_addv (argv,
                       (const char *[]){ "qemu-img", "create", "-q", "-f", disk->format, NULL });
  /* Incremental: the top image over the same backing file, so what the
   * mirror does not copy (sync=top) reads from there as on the source. */
  if (self->incremental && disk->backing)
    {
      g_strv_builder_add_many (argv, "-b", disk->backing, NULL);
      if (disk->backing_format)
        g_strv_builder_add_many (argv, "-F", disk->backing_format, NULL);
    }
  g_strv_builder_add_many (argv, disk->path, size, NULL);
  args = g_strv_builder_end (argv);
  process = g_subprocess_newv ((const char *const *) args,
                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  if (process == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot create the image of disk '%s': %s", disk->id,
                               error->message);
      g_object_unref (task);
      return;
    }
  g_subprocess_communicate_utf8_async (process, NULL, g_task_get_cancellable (task), created_cb,
                                       task);
}

static void
create_next (GTask *task)
{
  FerrydQmpStorage *self = g_task_get_source_object (task);
  guint index = GPOINTER_TO_UINT (g_task_get_task_data (task));
  g_autoptr (GTask) place_task = NULL;
  Place *place;
  Disk *disk;

  if (index >= self->disks->len)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  disk = g_ptr_array_index (self->disks, index);
  if (disk->size == 0)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                               "The source did not say how large disk '%s' is", disk->id);
      g_object_unref (task);
      return;
    }
  place_task = g_task_new (NULL, g_task_get_cancellable (task), placed_cb, task);
  g_task_set_source_tag (place_task, place_thread);
  place = g_new0 (Place, 1);
  place->id = g_strdup (disk->id);
  place->path = g_strdup (disk->path);
  place->backing = self->incremental ? g_strdup (disk->backing) : NULL;
  place->images_dir = g_strdup (self->images_dir);
  g_task_set_task_data (place_task, place, (GDestroyNotify) place_free);
  g_task_run_in_thread (place_task, place_thread);
}

void
ferryd_qmp_storage_create_images_async (FerrydQmpStorage *self,
                                        gboolean incremental,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_qmp_storage_create_images_async);
  self->incremental = incremental;
  g_task_set_task_data (task, GUINT_TO_POINTER (0), NULL);
  create_next (task);
}

gboolean
ferryd_qmp_storage_create_images_finish (FerrydQmpStorage *self,
                                         GAsyncResult *result,
                                         GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* A free TCP port on @host. QEMU's nbd-server-start does not report
 * the port it bound, so one is picked here (a small race with other
 * programs binding at the same moment, which fails the Prepare). */
static guint16
free_port (const char *host, GError **error)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (host);
  g_autoptr (GSocketAddress) any = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocket) socket = NULL;

  if (inet == NULL)
    inet = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return 0;
  any = g_inet_socket_address_new (inet, 0);
  if (!g_socket_bind (socket, any, FALSE, error))
    return 0;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
exported_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_batch_run_finish (result, &error);

  if (reply == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                             "Cannot serve the disks to the source: %s", error->message);
  else
    g_task_return_pointer (task, g_strdup (g_task_get_task_data (task)), g_free);
}

void
ferryd_qmp_storage_export_async (FerrydQmpStorage *self,
                                 FerrydQmp *qmp,
                                 const char *host,
                                 const char *tls_dir,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  gboolean loopback = g_str_equal (host, "127.0.0.1") || g_str_equal (host, "localhost");
  const char *listen = loopback ? "127.0.0.1" : "0.0.0.0";
  guint16 port = free_port (listen, &error);
  FerrydQmpBatch *batch;
  JsonObject *args, *addr, *data;
  g_autofree char *port_s = NULL;

  g_task_set_source_tag (task, ferryd_qmp_storage_export_async);
  if (port == 0)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "No port to serve the disks on: %s", error->message);
      return;
    }
  watch (self, qmp);
  self->exporting = TRUE;
  g_task_set_task_data (task, g_strdup_printf ("nbd:%s:%u", loopback ? "127.0.0.1" : host, port),
                        g_free);
  port_s = g_strdup_printf ("%u", port);
  batch = ferryd_qmp_batch_new ();
  data = json_object_new ();
  json_object_set_string_member (data, "host", listen);
  json_object_set_string_member (data, "port", port_s);
  addr = json_object_new ();
  json_object_set_string_member (addr, "type", "inet");
  json_object_set_object_member (addr, "data", data);
  args = json_object_new ();
  json_object_set_object_member (args, "addr", addr);
  /* With TLS the server admits only a client that shows a certificate
   * of the CA (verify-peer): no clear-text NBD at all. */
  if (tls_dir)
    {
      json_object_set_string_member (args, "tls-creds",
                                     ferryd_qmp_tls_load (qmp, batch, tls_dir, TRUE));
      self->tls_loaded = TRUE;
    }
  ferryd_qmp_batch_add (batch, "nbd-server-start", args);
  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      g_autofree char *id = g_strconcat ("ferry-export-", disk->id, NULL);
      g_autofree char *node = g_strconcat ("disk-", disk->id, NULL);

      /* Exporting activates the incoming image, so it is writable. */
      args = json_object_new ();
      json_object_set_string_member (args, "type", "nbd");
      json_object_set_string_member (args, "id", id);
      json_object_set_string_member (args, "node-name", node);
      json_object_set_string_member (args, "name", disk->id);
      json_object_set_boolean_member (args, "writable", TRUE);
      ferryd_qmp_batch_add (batch, "block-export-add", args);
    }
  ferryd_qmp_batch_run_async (batch, qmp, cancellable, exported_cb, g_steal_pointer (&task));
}

char *
ferryd_qmp_storage_export_finish (FerrydQmpStorage *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ferryd_qmp_storage_stop_export (FerrydQmpStorage *self)
{
  if (!self->exporting || self->qmp == NULL)
    return;
  self->exporting = FALSE;
  /* Ends the exports with it. */
  ferryd_qmp_send (self->qmp, "nbd-server-stop", NULL);
}

GStrv
ferryd_qmp_storage_list_images (FerrydQmpStorage *self)
{
  g_autoptr (GStrvBuilder) paths = g_strv_builder_new ();

  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      if (disk->created)
        g_strv_builder_add (paths, disk->path);
    }
  return g_strv_builder_end (paths);
}

void
ferryd_qmp_storage_remove_images (FerrydQmpStorage *self)
{
  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);

      if (disk->created && g_unlink (disk->path) < 0 && errno != ENOENT)
        g_warning ("Cannot remove the half-copied image '%s': %s", disk->path, g_strerror (errno));
      disk->created = FALSE;
    }
}

/* --- source --- */

static void
mirror_started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydQmpStorage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_batch_run_finish (result, &error);

  if (reply == NULL && self->mirror_task)
    {
      return_pending (&self->mirror_task,
                      g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                   "Cannot start copying the disks: %s", error->message));
      ferryd_qmp_storage_abort (self);
    }
}

void
ferryd_qmp_storage_mirror_async (FerrydQmpStorage *self,
                                 FerrydQmp *qmp,
                                 const char *uri,
                                 gboolean incremental,
                                 gboolean synchronous_writes,
                                 guint64 max_bandwidth,
                                 const char *tls_dir,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  const char *tls_creds = NULL;
  GTask *task = g_task_new (self, NULL, callback, user_data);
  g_auto (GStrv) parts = g_strsplit (uri, ":", 3);
  FerrydQmpBatch *batch;

  g_task_set_source_tag (task, ferryd_qmp_storage_mirror_async);
  if (g_strv_length (parts) != 3 || !g_str_equal (parts[0], "nbd") || self->mirror_task ||
      self->aborted)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "Cannot copy the disks to '%s'", uri);
      g_object_unref (task);
      return;
    }
  if (self->disks->len == 0)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  watch (self, qmp);
  self->synchronous = synchronous_writes;
  self->mirror_task = task;
  self->mirroring = TRUE;
  batch = ferryd_qmp_batch_new ();
  if (tls_dir)
    {
      tls_creds = ferryd_qmp_tls_load (qmp, batch, tls_dir, FALSE);
      self->tls_loaded = TRUE;
    }
  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      g_autofree char *target = g_strconcat ("ferry-nbd-", disk->id, NULL);
      g_autofree char *job = g_strconcat ("ferry-mirror-", disk->id, NULL);
      g_autofree char *node = g_strconcat ("disk-", disk->id, NULL);
      JsonObject *server = json_object_new ();
      JsonObject *args = json_object_new ();

      json_object_set_string_member (server, "type", "inet");
      json_object_set_string_member (server, "host", parts[1]);
      json_object_set_string_member (server, "port", parts[2]);
      json_object_set_string_member (args, "driver", "nbd");
      json_object_set_string_member (args, "node-name", target);
      json_object_set_string_member (args, "export", disk->id);
      json_object_set_object_member (args, "server", server);
      /* The destination's certificate must name its data host, as for
       * the memory stream (QEMU's default too, said here for clarity). */
      if (tls_creds)
        {
          json_object_set_string_member (args, "tls-creds", tls_creds);
          json_object_set_string_member (args, "tls-hostname", parts[1]);
        }
      ferryd_qmp_batch_add (batch, "blockdev-add", args);

      args = json_object_new ();
      json_object_set_string_member (args, "job-id", job);
      json_object_set_string_member (args, "device", node);
      json_object_set_string_member (args, "target", target);
      json_object_set_string_member (args, "sync", incremental ? "top" : "full");
      /* write-blocking: a guest write completes only once it is on the
       * destination too, so a guest that writes faster than the link
       * still converges (it is slowed down instead). */
      json_object_set_string_member (args, "copy-mode",
                                     synchronous_writes ? "write-blocking" : "background");
      /* A write smaller than the mirror's granularity (by default the
       * image's cluster, 64 KiB for qcow2) is not copied as it happens
       * but marks its whole granule for the background copy, which a
       * busy guest outpaces again: 4 KiB, a file system block, makes
       * the common write synchronous (one bit per 4 KiB: 32 MiB of
       * bitmap per TiB). */
      if (synchronous_writes)
        json_object_set_int_member (args, "granularity", 4096);
      /* QEMU counts the guest's synchronous writes against a mirror's
       * speed limit, and the background copy then starves: with
       * synchronous writes the guest's own pace is the limit. */
      if (max_bandwidth && !synchronous_writes)
        {
          json_object_set_int_member (args, "speed", (gint64) max_bandwidth);
          /* Under a cap QEMU copies a whole buffer (16 MiB by default)
           * and then sleeps off its debt: progress moves in jumps and a
           * dead destination goes unnoticed for as long. 1 MiB keeps
           * both within a fraction of a second at a few MiB/s. */
          json_object_set_int_member (args, "buf-size", 1 << 20);
        }
      ferryd_qmp_batch_add (batch, "blockdev-mirror", args);
    }
  ferryd_qmp_batch_run_async (batch, qmp, NULL, mirror_started_cb, g_object_ref (self));
}

gboolean
ferryd_qmp_storage_mirror_finish (FerrydQmpStorage *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ferryd_qmp_storage_complete_async (FerrydQmpStorage *self,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, ferryd_qmp_storage_complete_async);
  if (self->complete_task || self->qmp == NULL || self->aborted)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "The disk copies cannot be completed");
      g_object_unref (task);
      return;
    }
  if (all_disks (self, TRUE))
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  self->complete_task = task;
  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      g_autofree char *job = g_strconcat ("ferry-mirror-", disk->id, NULL);
      JsonObject *args = json_object_new ();

      /* Cancelling a ready mirror ends it in sync, without pivoting:
       * BLOCK_JOB_COMPLETED, the guest's own disk stays its disk here. */
      json_object_set_string_member (args, "device", job);
      ferryd_qmp_send (self->qmp, "block-job-cancel", args);
    }
}

gboolean
ferryd_qmp_storage_complete_finish (FerrydQmpStorage *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ferryd_qmp_storage_abort (FerrydQmpStorage *self)
{
  g_object_ref (self);
  self->aborted = TRUE;
  return_pending (&self->mirror_task, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                           "The disk copy was stopped"));
  return_pending (&self->complete_task, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                             "The disk copy was stopped"));
  for (guint i = 0; self->qmp && self->mirroring && i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      g_autofree char *job = g_strconcat ("ferry-mirror-", disk->id, NULL);
      JsonObject *args;

      if (disk->ended)
        continue;
      /* force: a ready mirror would otherwise first bring its target in
       * sync. The node goes when the job has (job_ended); one whose job
       * never started goes now. */
      args = json_object_new ();
      json_object_set_string_member (args, "device", job);
      json_object_set_boolean_member (args, "force", TRUE);
      ferryd_qmp_send (self->qmp, "block-job-cancel", args);
      delete_target (self, disk);
    }
  g_object_unref (self);
}

void
ferryd_qmp_storage_set_speed (FerrydQmpStorage *self, guint64 max_bandwidth)
{
  for (guint i = 0; self->qmp && !self->synchronous && ferryd_qmp_storage_is_copying (self) &&
                    i < self->disks->len;
       i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);
      g_autofree char *job = g_strconcat ("ferry-mirror-", disk->id, NULL);
      JsonObject *args;

      if (disk->ended)
        continue;
      args = json_object_new ();
      json_object_set_string_member (args, "device", job);
      json_object_set_int_member (args, "speed", (gint64) max_bandwidth);
      ferryd_qmp_send (self->qmp, "block-job-set-speed", args);
    }
}

gboolean
ferryd_qmp_storage_has_tls (FerrydQmpStorage *self)
{
  return self->tls_loaded;
}

gboolean
ferryd_qmp_storage_is_copying (FerrydQmpStorage *self)
{
  return self->mirroring && !self->aborted;
}

static void
jobs_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQmpStorage *self = g_task_get_source_object (task);
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, NULL);
  guint64 processed = 0;
  gint64 now = g_get_monotonic_time ();

  if (reply && JSON_NODE_HOLDS_ARRAY (reply))
    {
      JsonArray *jobs = json_node_get_array (reply);
      for (guint i = 0; i < json_array_get_length (jobs); i++)
        {
          JsonObject *job = json_array_get_object_element (jobs, i);
          Disk *disk =
              find_job (self, json_object_get_string_member_with_default (job, "device", NULL));

          if (disk == NULL || disk->ended)
            continue;
          disk->total = (guint64) json_object_get_int_member_with_default (job, "len", 0);
          disk->processed = (guint64) json_object_get_int_member_with_default (job, "offset", 0);
        }
    }
  for (guint i = 0; i < self->disks->len; i++)
    processed += ((Disk *) g_ptr_array_index (self->disks, i))->processed;
  if (self->sample_us && now > self->sample_us && processed >= self->sample_processed)
    self->rate =
        (processed - self->sample_processed) * G_USEC_PER_SEC / (guint64) (now - self->sample_us);
  self->sample_us = now;
  self->sample_processed = processed;
  g_task_return_boolean (task, TRUE);
}

void
ferryd_qmp_storage_update_async (FerrydQmpStorage *self,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, ferryd_qmp_storage_update_async);
  if (self->qmp == NULL || !ferryd_qmp_storage_is_copying (self))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  ferryd_qmp_execute_async (self->qmp, "query-block-jobs", NULL, NULL, jobs_cb,
                            g_steal_pointer (&task));
}

void
ferryd_qmp_storage_update_finish (FerrydQmpStorage *self, GAsyncResult *result)
{
  g_task_propagate_boolean (G_TASK (result), NULL);
}

void
ferryd_qmp_storage_fill_progress (FerrydQmpStorage *self, FerrydProgress *p)
{
  p->disk_total = 0;
  p->disk_processed = 0;
  p->disk_in_sync = self->disks->len > 0;
  p->n_disks = 0;
  for (guint i = 0; i < self->disks->len; i++)
    {
      Disk *disk = g_ptr_array_index (self->disks, i);

      p->disk_total += disk->total;
      p->disk_processed += MIN (disk->processed, disk->total);
      /* A mirror stays in sync once ready: from then on it copies each
       * write as it comes (or the guest's writes wait for it). */
      p->disk_in_sync &= disk->ready || disk->ended;
      if (i < FERRYD_PROGRESS_MAX_DISKS)
        {
          g_strlcpy (p->disks[i].id, disk->id, sizeof p->disks[i].id);
          p->disks[i].total = disk->total;
          p->disks[i].processed = MIN (disk->processed, disk->total);
          p->n_disks = i + 1;
        }
    }
  /* Before the memory stream starts, the rate is the disks'. */
  if (!p->has_memory && ferryd_qmp_storage_is_copying (self))
    p->transfer_rate = self->rate;
}

/* --- object --- */

static void
ferryd_qmp_storage_dispose (GObject *object)
{
  FerrydQmpStorage *self = FERRYD_QMP_STORAGE (object);

  if (self->qmp)
    g_clear_signal_handler (&self->event_id, self->qmp);
  g_clear_object (&self->qmp);
  G_OBJECT_CLASS (ferryd_qmp_storage_parent_class)->dispose (object);
}

static void
ferryd_qmp_storage_finalize (GObject *object)
{
  FerrydQmpStorage *self = FERRYD_QMP_STORAGE (object);

  g_ptr_array_unref (self->disks);
  g_free (self->images_dir);
  G_OBJECT_CLASS (ferryd_qmp_storage_parent_class)->finalize (object);
}

static void
ferryd_qmp_storage_class_init (FerrydQmpStorageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_qmp_storage_dispose;
  object_class->finalize = ferryd_qmp_storage_finalize;
}

static void
ferryd_qmp_storage_init (FerrydQmpStorage *self)
{
  self->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) disk_free);
}
