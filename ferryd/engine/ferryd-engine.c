/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-engine.c: the migrations of this host and the peer protocol
 *
 * The engine creates Migration objects, numbers them (never reusing a
 * number within a daemon's life) and keeps a bounded history of finished
 * ones so late readers still see how they ended.
 */
#define G_LOG_DOMAIN "ferry-engine"

#include "config.h"
#include "ferryd-engine.h"
#include "ferryd-incoming-migration.h"
#include "ferryd-outgoing-migration.h"
#include "ferryd-backend.h"
#include "ferryd-check.h"
#include "ferry-error.h"
#include "ferryd-peer.h"
#include "ferryd-peer-client.h"
#include "ferryd-peer-tls.h"
#include "ferryd-journal.h"
#include "ferryd-local-storage.h"

#define HISTORY_LENGTH 32
/* How long Check waits for the destination's Hello. */
#define CHECK_HELLO_TIMEOUT_MS 10000

struct _FerrydEngine
{
  GObject parent_instance;

  FerrydDaemon *daemon;
  guint next_id;
  GQueue migrations; /* of FerrydMigration, oldest first */
};

enum
{
  SIGNAL_MIGRATION_ADDED,
  SIGNAL_MIGRATION_FINISHED,
  SIGNAL_MIGRATION_REMOVED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydEngine, ferryd_engine, G_TYPE_OBJECT)

FerrydDaemon *
ferryd_engine_get_daemon (FerrydEngine *self)
{
  return self->daemon;
}

static void
prune_history (FerrydEngine *self)
{
  guint finished = 0;

  for (GList *l = self->migrations.head; l; l = l->next)
    finished += ferryd_migration_is_finished (l->data);
  for (GList *l = self->migrations.head; l && finished > HISTORY_LENGTH;)
    {
      GList *next = l->next;
      FerrydMigration *migration = l->data;

      if (ferryd_migration_is_finished (migration))
        {
          g_autofree char *dir = ferryd_journal_dir (ferryd_daemon_get_state_dir (self->daemon));

          ferryd_journal_remove (dir, ferryd_migration_get_id (migration));
          g_queue_delete_link (&self->migrations, l);
          g_signal_emit (self, signals[SIGNAL_MIGRATION_REMOVED], 0, migration);
          g_object_unref (migration);
          finished--;
        }
      l = next;
    }
}

static void
migration_finished_cb (FerrydMigration *migration, FerrydEngine *self)
{
  g_signal_emit (self, signals[SIGNAL_MIGRATION_FINISHED], 0, migration);
  prune_history (self);
}

static FerrydMigration *
add_migration (FerrydEngine *self,
               FerrydDomain *domain,
               gboolean incoming,
               FerrydMigrateOptions *options,
               const char *source,
               const char *destination,
               guint32 uid)
{
  FerrydMigrationSetup setup = {
    .daemon = self->daemon,
    .domain = domain,
    .id = ++self->next_id,
    .options = options,
    .source = source,
    .destination = destination,
    .uid = uid,
    .local_hostname = ferryd_daemon_get_hostname (self->daemon),
    .local_host_uuid = ferryd_daemon_get_host_uuid (self->daemon),
  };
  FerrydMigration *migration =
      incoming ? ferryd_incoming_migration_new (&setup) : ferryd_outgoing_migration_new (&setup);

  g_queue_push_tail (&self->migrations, migration);
  g_signal_connect (migration, "finished", G_CALLBACK (migration_finished_cb), self);
  g_signal_emit (self, signals[SIGNAL_MIGRATION_ADDED], 0, migration);
  return migration;
}

/* A tls:// destination encrypts the data too; it cannot be asked not
 * to. With TLS, this host's own material must be usable before anything
 * starts (DESIGN §4a): the caller then loads it
 * (ferryd_peer_tls_load_async, off the main loop). */
static gboolean
apply_tls (FerrydMigrateOptions *options, const char *destination, GError **error)
{
  gboolean explicit_tls;

  if (ferryd_peer_destination_is_tls (destination))
    {
      if (g_variant_lookup (options->variant, "tls", "b", &explicit_tls) && !explicit_tls)
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                       "Option 'tls' cannot be false for the TLS destination '%s': its data "
                       "stream is always encrypted",
                       destination);
          return FALSE;
        }
      options->tls = TRUE;
    }
  return TRUE;
}

/* The disks of @domain against the storage options: every disk named
 * in 'disks' exists, and a disk that is not shared (a relative path:
 * each host has its own images directory) is copied, or the guest would
 * find an empty disk, or none, on the destination. */
static gboolean
ferryd_engine_check_disks (FerrydDomain *domain, FerrydMigrateOptions *options, GError **error)
{
  const FerrydDomainConfig *config = ferryd_domain_get_config (domain);

  for (gsize i = 0; options->disks && options->disks[i]; i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < config->disks->len; j++)
        found |= g_str_equal (((FerrydDiskConfig *) g_ptr_array_index (config->disks, j))->id,
                              options->disks[i]);
      if (!found)
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                       "Option 'disks' names '%s', which domain '%s' does not have",
                       options->disks[i], ferryd_domain_get_name (domain));
          return FALSE;
        }
    }
  for (guint j = 0; j < config->disks->len; j++)
    {
      FerrydDiskConfig *disk = g_ptr_array_index (config->disks, j);
      gboolean copied = options->copy_storage != FERRYD_COPY_STORAGE_NONE &&
                        (options->disks == NULL || options->disks[0] == NULL ||
                         g_strv_contains ((const char *const *) options->disks, disk->id));

      if (!g_path_is_absolute (disk->path) && !copied)
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                       "Disk '%s' is local to this host (path '%s' in its images directory) and "
                       "is not copied: use copy-storage=all",
                       disk->id, disk->path);
          return FALSE;
        }
    }
  return TRUE;
}

/* --- Migrate --- */

typedef struct
{
  FerrydDomain *domain;
  char *destination;
  FerrydMigrateOptions *options;
  guint32 uid;
} MigrateData;

static void
migrate_data_free (MigrateData *data)
{
  g_clear_object (&data->domain);
  g_free (data->destination);
  g_clear_pointer (&data->options, ferryd_migrate_options_free);
  g_free (data);
}

/* The checks after the ones that read files: the domain's state is
 * looked at only now, right before the migration is made. */
static void
migrate_start (GTask *task)
{
  FerrydEngine *self = g_task_get_source_object (task);
  MigrateData *data = g_task_get_task_data (task);
  FerrydDomain *domain = data->domain;
  const char *state = ferryd_domain_get_state (domain);
  FerrydMigration *migration;

  if (ferryd_domain_get_migration (domain) != NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY, "Domain '%s' is already %s",
                               ferryd_domain_get_name (domain), state);
      return;
    }
  if (!g_str_equal (state, "running") && !g_str_equal (state, "paused"))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                               "Domain '%s' is %s; only a running or paused domain can migrate",
                               ferryd_domain_get_name (domain), state);
      return;
    }
  migration =
      add_migration (self, domain, FALSE, g_steal_pointer (&data->options),
                     ferryd_daemon_get_hostname (self->daemon), data->destination, data->uid);
  ferryd_outgoing_migration_run (FERRYD_OUTGOING_MIGRATION (migration), data->destination);
  g_task_return_pointer (task, g_object_ref (migration), g_object_unref);
}

/* This host's TLS material is usable (or not needed): the engine's own
 * checks of the options. */
static void
migrate_checked (GTask *task)
{
  MigrateData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!ferryd_engine_check_disks (data->domain, data->options, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!data->options->live)
    {
      g_task_return_new_error (
          task, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
          "Offline migration (live=false) is not supported by this version of ferryd");
      return;
    }
  migrate_start (task);
}

static void
migrate_tls_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_peer_tls_load_finish (result, NULL, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  migrate_checked (task);
}

void
ferryd_engine_migrate_async (FerrydEngine *self,
                             FerrydDomain *domain,
                             const char *destination,
                             FerrydMigrateOptions *options,
                             guint32 uid,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  MigrateData *data = g_new0 (MigrateData, 1);
  FerrydBackend *backend = ferryd_backend_for_domain (domain);
  g_autoptr (GError) error = NULL;

  g_task_set_source_tag (task, ferryd_engine_migrate_async);
  data->domain = g_object_ref (domain);
  data->destination = g_strdup (destination);
  data->options = options;
  data->uid = uid;
  g_task_set_task_data (task, data, (GDestroyNotify) migrate_data_free);
  if (ferryd_backend_has_check_migrate (backend))
    {
      /* the backend runs the protocol: it says what it can do */
      if (!ferryd_backend_check_migrate (backend, domain, destination, options, &error))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        migrate_start (task);
      return;
    }
  if (!ferryd_peer_destination_is_valid (destination, &error) ||
      !apply_tls (options, destination, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (options->tls)
    {
      ferryd_peer_tls_load_async (FERRYD_PEER_TLS_CLIENT, cancellable, migrate_tls_cb,
                                  g_steal_pointer (&task));
      return;
    }
  migrate_checked (task);
}

FerrydMigration *
ferryd_engine_migrate_finish (FerrydEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_engine_migrate_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- Check --- */

typedef struct
{
  GPtrArray *blockers;
  GPtrArray *warnings;
  GStrv features;
  guint64 memory;
  guint64 bandwidth;
  guint64 downtime;
  FerrydPeerClient *peer;
  FerrydDomain *domain;
  gboolean destination_checked;
  gboolean loopback;      /* the destination is on this machine */
  GStrv needs;            /* the features the options need on both hosts */
  gboolean copies;        /* disks are copied into the destination's images */
  guint64 disk_allocated; /* bytes the copied disks' images hold here */
  guint64 disk_size;      /* ... and the size they may grow to */
  guint64 dirty_rate;     /* the guest's, sampled; 0 = not measured */
  guint pending;          /* the peer's answer and the guest's sample */
  char *destination;
  char *no_contact_reason;
  FerrydMigrateOptions *options;
} CheckData;

/* The images of the disks a copy creates on the destination (those in
 * this host's images directory), to stat in a worker thread: what they
 * hold and their size. For qcow2 the file's length stands for its size
 * (a lower bound). */
static GPtrArray *
check_copied_images (FerrydEngine *self,
                     FerrydDomain *domain,
                     FerrydMigrateOptions *options,
                     CheckData *data)
{
  const FerrydDomainConfig *config = ferryd_domain_get_config (domain);
  GPtrArray *images = g_ptr_array_new_with_free_func ((GDestroyNotify) ferryd_local_image_free);

  if (options->copy_storage == FERRYD_COPY_STORAGE_NONE)
    return images;
  for (guint j = 0; j < config->disks->len; j++)
    {
      FerrydDiskConfig *disk = g_ptr_array_index (config->disks, j);
      g_autofree char *path = NULL;

      if (g_path_is_absolute (disk->path) ||
          (options->disks && options->disks[0] &&
           !g_strv_contains ((const char *const *) options->disks, disk->id)))
        continue;
      data->copies = TRUE;
      path =
          g_build_filename (ferryd_daemon_get_state_dir (self->daemon), "images", disk->path, NULL);
      g_ptr_array_add (images, ferryd_local_image_new (path, disk->size));
    }
  return images;
}

static void
check_data_free (CheckData *data)
{
  g_ptr_array_unref (data->blockers);
  g_strfreev (data->needs);
  g_ptr_array_unref (data->warnings);
  g_strfreev (data->features);
  g_clear_object (&data->peer);
  g_clear_object (&data->domain);
  g_free (data->destination);
  g_free (data->no_contact_reason);
  g_clear_pointer (&data->options, ferryd_migrate_options_free);
  g_free (data);
}

static void
check_report (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  GVariantBuilder builder;
  /* Uncapped, the link is what it is: loopback copies about 1 GiB/s
   * here (measured), a network is assumed to be 10 Gbit/s. */
  guint64 bandwidth = data->bandwidth  ? data->bandwidth
                      : data->loopback ? (G_GUINT64_CONSTANT (1) << 30)
                                       : (G_GUINT64_CONSTANT (1250) * 1000 * 1000);
  g_auto (FerrydCheckEstimate) estimate = { 0 };

  ferryd_check_estimate (data->memory, data->disk_allocated, data->dirty_rate, bandwidth,
                         data->downtime, &estimate);
  if (estimate.warning)
    g_ptr_array_add (data->warnings, g_steal_pointer (&estimate.warning));

  g_ptr_array_add (data->blockers, NULL);
  g_ptr_array_add (data->warnings, NULL);
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "ok", g_variant_new_boolean (data->blockers->len == 1));
  g_variant_builder_add (&builder, "{sv}", "blockers",
                         g_variant_new_strv ((const char *const *) data->blockers->pdata, -1));
  g_variant_builder_add (&builder, "{sv}", "warnings",
                         g_variant_new_strv ((const char *const *) data->warnings->pdata, -1));
  g_variant_builder_add (&builder, "{sv}", "features",
                         g_variant_new_strv ((const char *const *) data->features, -1));
  g_variant_builder_add (&builder, "{sv}", "destination-checked",
                         g_variant_new_boolean (data->destination_checked));
  /* 0 = unknown: it would not finish. */
  g_variant_builder_add (&builder, "{sv}", "estimated-time", g_variant_new_uint64 (estimate.time));
  g_variant_builder_add (&builder, "{sv}", "estimated-downtime",
                         g_variant_new_uint64 (estimate.downtime));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_builder_end (&builder)),
                         (GDestroyNotify) g_variant_unref);
}

/* One of the two halves (the destination, the guest) is done: each
 * holds a reference; the report goes when both are. */
static void
check_return (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (--data->pending == 0)
    check_report (task);
  g_object_unref (task);
}

static void
check_sample_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) blocked = NULL;

  if (ferryd_backend_sample_domain_finish (FERRYD_BACKEND (source), result, &blocked,
                                           &data->dirty_rate, &error))
    {
      /* The hypervisor's own reasons, in its words. */
      for (gsize i = 0; blocked[i]; i++)
        g_ptr_array_add (data->blockers,
                         g_strdup_printf ("QEMU refuses to migrate: %s", blocked[i]));
    }
  else
    g_debug ("Check: no sample of the guest: %s", error->message);
  check_return (task);
}

static void
check_hello_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  FerrydEngine *self = g_task_get_source_object (task);
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info =
      ferryd_peer_client_hello_finish (FERRYD_PEER_CLIENT (source), result, &error);
  g_autofree const char **caps = NULL;
  g_autofree const char **accels = NULL;
  g_autofree char *accel_blocker = NULL;
  const char *uuid = NULL, *dstate = NULL;
  guint64 image_free = 0;
  g_autoptr (GStrvBuilder) both = g_strv_builder_new ();
  const char *const *local = ferryd_daemon_get_capabilities (self->daemon);

  if (info == NULL)
    {
      /* "Destination refused the handshake: ..." */
      g_ptr_array_add (data->blockers, g_strdup (error->message));
      check_return (task);
      return;
    }
  data->destination_checked = TRUE;
  g_variant_lookup (info, "capabilities", "^a&s", &caps);
  g_variant_lookup (info, "host-uuid", "&s", &uuid);
  g_variant_lookup (info, "domain-state", "&s", &dstate);
  g_variant_lookup (info, "accelerators", "^a&s", &accels);
  if (data->copies && g_variant_lookup (info, "image-free", "t", &image_free))
    {
      char *space_blocker, *space_warning;

      ferryd_check_space (data->disk_allocated, data->disk_size, image_free, &space_blocker,
                          &space_warning);
      if (space_blocker)
        g_ptr_array_add (data->blockers, space_blocker);
      if (space_warning)
        g_ptr_array_add (data->warnings, space_warning);
    }
  accel_blocker = ferryd_backend_check_destination (ferryd_backend_for_domain (data->domain),
                                                    data->domain, accels);
  if (accel_blocker)
    g_ptr_array_add (data->blockers, g_steal_pointer (&accel_blocker));
  if (g_strcmp0 (uuid, ferryd_daemon_get_host_uuid (self->daemon)) == 0)
    g_ptr_array_add (data->blockers, g_strdup ("The destination is this host"));
  if (dstate && !g_str_equal (dstate, "shutoff") && !g_str_equal (dstate, "undefined"))
    g_ptr_array_add (data->blockers,
                     g_strdup_printf ("A domain named '%s' is already %s on the destination",
                                      ferryd_domain_get_name (data->domain), dstate));
  for (gsize i = 0; local[i]; i++)
    if (caps && g_strv_contains (caps, local[i]))
      g_strv_builder_add (both, local[i]);
  g_strfreev (data->features);
  data->features = g_strv_builder_end (both);
  /* What the options need that a host lacks: Migrate would refuse it
   * (NotSupported) before anything starts. */
  for (gsize i = 0; data->needs && data->needs[i]; i++)
    if (!g_strv_contains ((const char *const *) data->features, data->needs[i]))
      g_ptr_array_add (
          data->blockers,
          g_strdup_printf ("The %s does not support %s",
                           g_strv_contains (local, data->needs[i]) ? "destination" : "source",
                           data->needs[i]));
  check_return (task);
}

static void
check_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  GVariantDict info;

  data->peer = ferryd_peer_client_new_finish (result, &error);
  if (data->peer == NULL)
    {
      g_ptr_array_add (data->blockers, g_strdup (error->message));
      check_return (task);
      return;
    }
  g_variant_dict_init (&info, NULL);
  g_variant_dict_insert (&info, "api", "u", 1);
  g_variant_dict_insert (&info, "domain", "s", ferryd_domain_get_name (data->domain));
  ferryd_peer_client_hello_async (data->peer, g_variant_dict_end (&info),
                                  g_task_get_cancellable (task), check_hello_cb, task);
}

/* The backend's own part of Check (ferryd_backend_check_async). */
static void
check_backend_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) report =
      ferryd_backend_check_finish (FERRYD_BACKEND (source), result, &error);
  g_autofree const char **blockers = NULL;
  g_autofree const char **warnings = NULL;
  g_auto (GStrv) features = NULL;

  if (report == NULL)
    {
      g_ptr_array_add (data->blockers, g_strdup (error->message));
      check_return (task);
      return;
    }
  if (g_variant_lookup (report, "blockers", "^a&s", &blockers))
    for (gsize i = 0; blockers[i]; i++)
      g_ptr_array_add (data->blockers, g_strdup (blockers[i]));
  if (g_variant_lookup (report, "warnings", "^a&s", &warnings))
    for (gsize i = 0; warnings[i]; i++)
      g_ptr_array_add (data->warnings, g_strdup (warnings[i]));
  if (g_variant_lookup (report, "features", "^as", &features))
    {
      g_strfreev (data->features);
      data->features = g_steal_pointer (&features);
    }
  g_variant_lookup (report, "destination-checked", "b", &data->destination_checked);
  g_variant_lookup (report, "memory", "t", &data->memory);
  check_return (task);
}

/* The guest's half of Check, started once the report's own blockers
 * are in: the hypervisor's reasons come after them. */
static void
check_sample (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  const char *state = ferryd_domain_get_state (data->domain);

  if (g_str_equal (state, "running") || g_str_equal (state, "paused"))
    {
      data->pending++;
      ferryd_backend_sample_domain_async (ferryd_backend_for_domain (data->domain), data->domain,
                                          g_task_get_cancellable (task), check_sample_cb,
                                          g_object_ref (task));
    }
}

/* The rest of Check, once this host's TLS material was read (or was not
 * needed): @tls_error says why it is not usable. */
static void
check_continue (GTask *task, const GError *tls_error)
{
  CheckData *data = g_task_get_task_data (task);
  FerrydMigrateOptions *options = data->options;
  const char *destination = data->destination;
  g_autoptr (GError) error = NULL;
  gboolean tls_unusable = FALSE;

  if (tls_error)
    {
      g_ptr_array_add (data->blockers, g_strdup (tls_error->message));
      /* A tls:// link could not be made with this material either. */
      tls_unusable = ferryd_peer_destination_is_tls (destination);
    }
  if (!ferryd_engine_check_disks (data->domain, options, &error))
    {
      g_ptr_array_add (data->blockers, g_strdup (error->message));
      g_clear_error (&error);
    }
  if (!options->live)
    g_ptr_array_add (data->blockers,
                     g_strdup ("Offline migration (live=false) is not supported yet"));
  if (options->max_bandwidth && options->max_bandwidth < (G_GUINT64_CONSTANT (32) << 20) &&
      options->postcopy == FERRYD_POSTCOPY_OFF && !options->auto_converge)
    g_ptr_array_add (data->warnings,
                     g_strdup ("A low bandwidth cap without post-copy or auto-converge may not "
                               "converge for a guest that writes memory quickly"));
  if (!ferryd_peer_destination_is_valid (destination, &error))
    {
      g_ptr_array_add (data->blockers, g_strdup (error->message));
      check_sample (task);
      check_return (task);
      return;
    }
  {
    g_autofree char *host = ferryd_peer_data_host (destination);
    data->loopback = g_strcmp0 (host, "127.0.0.1") == 0 || g_strcmp0 (host, "localhost") == 0;
  }
  check_sample (task);
  if (tls_unusable)
    {
      check_return (task);
      return;
    }
  /* ferryd never dials a host (least of all with root's ssh keys) for a
   * caller who could not migrate there. */
  if (data->no_contact_reason)
    {
      g_ptr_array_add (data->warnings,
                       g_strdup_printf ("The destination was not checked: %s; ferryd contacts "
                                        "the destination only for a caller who may migrate "
                                        "without authenticating",
                                        data->no_contact_reason));
      check_return (task);
      return;
    }
  ferryd_peer_client_new_async (destination, CHECK_HELLO_TIMEOUT_MS, g_task_get_cancellable (task),
                                check_connected_cb, task);
}

static void
check_tls_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr (GError) error = NULL;

  ferryd_peer_tls_load_finish (result, NULL, NULL, &error);
  check_continue (task, error);
}

/* What this host's images hold is known: the checks that need no file. */
static void
check_usage_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  FerrydDomain *domain = data->domain;
  FerrydMigrateOptions *options = data->options;
  const char *state = ferryd_domain_get_state (domain);
  g_autoptr (GError) error = NULL;

  if (!ferryd_local_storage_usage_finish (result, &data->disk_allocated, &data->disk_size, &error))
    g_debug ("Check: the images were not measured: %s", error->message);
  g_clear_error (&error);
  if (!g_str_equal (state, "running") && !g_str_equal (state, "paused"))
    g_ptr_array_add (data->blockers,
                     g_strdup_printf ("Domain '%s' is %s", ferryd_domain_get_name (domain), state));
  if (ferryd_backend_has_check (ferryd_backend_for_domain (domain)))
    {
      if (data->no_contact_reason)
        g_ptr_array_add (data->warnings,
                         g_strdup_printf ("The destination was not checked: %s; ferryd contacts "
                                          "the destination only for a caller who may migrate "
                                          "without authenticating",
                                          data->no_contact_reason));
      check_sample (task);
      ferryd_backend_check_async (ferryd_backend_for_domain (domain), domain, data->destination,
                                  options, data->no_contact_reason == NULL,
                                  g_task_get_cancellable (task), check_backend_cb, task);
      return;
    }
  if (!apply_tls (options, data->destination, &error))
    {
      check_continue (task, error);
      return;
    }
  if (options->tls)
    {
      ferryd_peer_tls_load_async (FERRYD_PEER_TLS_CLIENT, g_task_get_cancellable (task),
                                  check_tls_cb, task);
      return;
    }
  check_continue (task, NULL);
}

void
ferryd_engine_check_async (FerrydEngine *self,
                           FerrydDomain *domain,
                           const char *destination,
                           FerrydMigrateOptions *options,
                           const char *no_contact_reason,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  CheckData *data = g_new0 (CheckData, 1);

  g_task_set_source_tag (task, ferryd_engine_check_async);
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);
  data->blockers = g_ptr_array_new_with_free_func (g_free);
  data->warnings = g_ptr_array_new_with_free_func (g_free);
  data->domain = g_object_ref (domain);
  data->destination = g_strdup (destination);
  data->no_contact_reason = g_strdup (no_contact_reason);
  data->options = options;
  data->memory = (guint64) ferryd_domain_get_config (domain)->memory_mib << 20;
  data->bandwidth = options->max_bandwidth;
  data->downtime = options->max_downtime ? options->max_downtime : 50;
  data->features = g_new0 (char *, 1);
  data->pending = 1;
  {
    g_autoptr (GStrvBuilder) needs = g_strv_builder_new ();

    if (options->postcopy != FERRYD_POSTCOPY_OFF)
      g_strv_builder_add (needs, "postcopy");
    if (g_str_equal (options->switchover_ack, "on"))
      g_strv_builder_add (needs, "switchover-ack");
    if (options->copy_storage != FERRYD_COPY_STORAGE_NONE)
      g_strv_builder_add (needs, "storage-mirror");
    if (options->synchronous_writes)
      g_strv_builder_add (needs, "synchronous-writes");
    if (options->multifd_channels > 0)
      g_strv_builder_add (needs, "multifd");
    data->needs = g_strv_builder_end (needs);
  }
  {
    g_autofree char *combination = ferryd_check_combination_blocker (
        options->multifd_channels > 0, options->postcopy != FERRYD_POSTCOPY_OFF ||
                                           g_strcmp0 (options->timeout_action, "postcopy") == 0);

    if (combination)
      g_ptr_array_add (data->blockers, g_steal_pointer (&combination));
  }
  /* A stat waits on the disk: in a worker thread. */
  ferryd_local_storage_usage_async (check_copied_images (self, domain, options, data), cancellable,
                                    check_usage_cb, task);
}

GVariant *
ferryd_engine_check_finish (FerrydEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

FerrydMigration *
ferryd_engine_lookup_migration (FerrydEngine *self, guint id)
{
  for (GList *l = self->migrations.head; l; l = l->next)
    if (ferryd_migration_get_id (l->data) == id)
      return l->data;
  return NULL;
}

GList *
ferryd_engine_get_migrations (FerrydEngine *self)
{
  return g_list_copy (self->migrations.head);
}

/* --- peer protocol, destination side --- */

/* Hello's "accelerators": the union of what the registered backends
 * offer, each once, in the order the backends list them. */
static GVariant *
accelerators (FerrydEngine *self)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();

  for (const char *const *name = ferryd_daemon_get_backends (self->daemon); *name; name++)
    {
      FerrydBackend *backend = ferryd_backend_get (*name);

      if (backend == NULL)
        continue;
      for (const char *const *a = ferryd_backend_list_accelerators (backend); a && *a; a++)
        if (!g_ptr_array_find_with_equal_func (all, *a, g_str_equal, NULL))
          g_ptr_array_add (all, (gpointer) *a);
    }
  return g_variant_new_strv ((const char *const *) all->pdata, (gssize) all->len);
}

/* The backend that runs an incoming guest: the one the source names
 * (Prepare's "backend"), the default one when it names none (an older
 * source); NULL with NotSupported when this host has no such backend. */
static FerrydBackend *
incoming_backend (FerrydEngine *self, GVariant *source_info, GError **error)
{
  const char *name = NULL;

  if (!g_variant_lookup (source_info, "backend", "&s", &name))
    return ferryd_backend_get_default ();
  if (!g_strv_contains (ferryd_daemon_get_backends (self->daemon), name) ||
      ferryd_backend_get (name) == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "The source runs the guest with the %s backend, which this host does not have",
                   name);
      return NULL;
    }
  return ferryd_backend_get (name);
}

/* Hello's answer, with the free bytes where copied disks' images are
 * created (@have_free) or without. */
static GVariant *
hello_reply (FerrydEngine *self, GVariant *source_info, gboolean have_free, guint64 free_bytes)
{
  GVariantBuilder builder;
  const char *domain_name = NULL;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "version", g_variant_new_string (PACKAGE_VERSION));
  g_variant_builder_add (&builder, "{sv}", "api", g_variant_new_uint32 (1));
  g_variant_builder_add (&builder, "{sv}", "hostname",
                         g_variant_new_string (ferryd_daemon_get_hostname (self->daemon)));
  g_variant_builder_add (&builder, "{sv}", "host-uuid",
                         g_variant_new_string (ferryd_daemon_get_host_uuid (self->daemon)));
  g_variant_builder_add (&builder, "{sv}", "capabilities",
                         g_variant_new_strv (ferryd_daemon_get_capabilities (self->daemon), -1));
  g_variant_builder_add (&builder, "{sv}", "backends",
                         g_variant_new_strv (ferryd_daemon_get_backends (self->daemon), -1));
  g_variant_builder_add (&builder, "{sv}", "accelerators", accelerators (self));
  if (have_free)
    g_variant_builder_add (&builder, "{sv}", "image-free", g_variant_new_uint64 (free_bytes));
  if (g_variant_lookup (source_info, "domain", "&s", &domain_name))
    {
      FerrydDomain *domain = ferryd_daemon_lookup_domain (self->daemon, domain_name);
      g_variant_builder_add (
          &builder, "{sv}", "domain-state",
          g_variant_new_string (domain ? ferryd_domain_get_state (domain) : "undefined"));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static void
hello_free_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydEngine *self = g_task_get_source_object (task);
  guint64 free_bytes = 0;
  gboolean have_free = ferryd_local_storage_free_finish (result, &free_bytes, NULL);

  g_task_return_pointer (task,
                         hello_reply (self, g_task_get_task_data (task), have_free, free_bytes),
                         (GDestroyNotify) g_variant_unref);
}

void
ferryd_engine_hello_async (FerrydEngine *self,
                           GVariant *source_info,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  const char *state_dir = ferryd_daemon_get_state_dir (self->daemon);
  g_autofree char *images = g_build_filename (state_dir, "images", NULL);
  /* The images directory, or the state directory before it exists. */
  const char *const dirs[] = { images, state_dir, NULL };

  g_task_set_source_tag (task, ferryd_engine_hello_async);
  g_task_set_task_data (task, g_variant_ref (source_info), (GDestroyNotify) g_variant_unref);
  ferryd_local_storage_free_async (dirs, cancellable, hello_free_cb, g_steal_pointer (&task));
}

GVariant *
ferryd_engine_hello_finish (FerrydEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_engine_hello_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
prepared_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydMigration *migration = FERRYD_MIGRATION (source);
  g_autoptr (GError) error = NULL;
  GVariant *reply = ferryd_incoming_migration_prepare_finish (FERRYD_INCOMING_MIGRATION (migration),
                                                              result, &error);

  if (reply == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

void
ferryd_engine_prepare_async (FerrydEngine *self,
                             FerrydPeerWatch *source,
                             const char *domain_name,
                             const char *persistent_description,
                             const char *live_description,
                             GVariant *options_variant,
                             GVariant *source_info,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydDomainConfig) live = NULL;
  g_autoptr (FerrydDomainConfig) persistent = NULL;
  FerrydMigrateOptions *options;
  FerrydDomain *domain;
  FerrydMigration *migration;
  FerrydBackend *backend;
  gboolean created;
  const char *source_host = "unknown";

  options = ferryd_migrate_options_parse (options_variant, &error);
  if (options == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  live = ferryd_domain_config_parse (live_description, &error);
  if (live == NULL || !(persistent = ferryd_domain_config_parse (persistent_description, &error)))
    {
      ferryd_migrate_options_free (options);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  backend = incoming_backend (self, source_info, &error);
  /* The source names what runs here, as root: the backend vets it. */
  if (backend == NULL || !ferryd_backend_accept_incoming (backend, live, &error))
    {
      ferryd_migrate_options_free (options);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Arguments that reach root's QEMU unchecked: only where this host's
   * own configuration says a peer may send them. */
  if (!ferryd_daemon_peer_may_send_extra_args (self->daemon) &&
      (live->extra_args[0] || persistent->extra_args[0]))
    {
      ferryd_migrate_options_free (options);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                               "Refusing [QEMU] ExtraArgs from the source: a peer may not add "
                               "arguments to this host's QEMU command line unless this host's "
                               "ferryd.conf allows it ([Peer] AllowExtraArgs=true)");
      return;
    }
  if (!g_str_equal (live->name, domain_name))
    {
      ferryd_migrate_options_free (options);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                               "Domain name '%s' does not match the description ('%s')",
                               domain_name, live->name);
      return;
    }
  domain = ferryd_daemon_lookup_domain (self->daemon, domain_name);
  if (domain && ferryd_domain_is_active (domain))
    {
      ferryd_migrate_options_free (options);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY,
                               "A domain named '%s' is already %s on this host", domain_name,
                               ferryd_domain_get_state (domain));
      return;
    }
  if (domain && ferryd_backend_for_domain (domain) != backend)
    {
      ferryd_migrate_options_free (options);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                               "Domain '%s' is run by the %s backend on this host, the source "
                               "migrates it from the %s backend",
                               domain_name, ferryd_domain_get_backend_name (domain),
                               ferryd_backend_get_name (backend));
      return;
    }
  created = domain == NULL;
  if (domain == NULL)
    {
      /* Known only for the migration until Finish persists it (if asked). */
      domain = ferryd_daemon_adopt_domain (self->daemon, backend,
                                           ferryd_domain_config_copy (persistent), FALSE, &error);
      if (domain == NULL)
        {
          ferryd_migrate_options_free (options);
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }
  g_variant_lookup (source_info, "hostname", "&s", &source_host);
  migration = add_migration (self, domain, TRUE, options, source_host,
                             ferryd_daemon_get_hostname (self->daemon), 0);
  g_task_set_task_data (task, g_object_ref (migration), g_object_unref);
  ferryd_incoming_migration_prepare_async (FERRYD_INCOMING_MIGRATION (migration), source, live,
                                           persistent_description, created, source_info,
                                           prepared_cb, g_steal_pointer (&task));
}

GVariant *
ferryd_engine_prepare_finish (FerrydEngine *self,
                              GAsyncResult *result,
                              FerrydMigration **out_migration,
                              GError **error)
{
  GVariant *reply;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply && out_migration)
    *out_migration = g_object_ref (g_task_get_task_data (G_TASK (result)));
  return reply;
}

/* A peer speaks only of migrations into this host. */
static gboolean
check_incoming (FerrydMigration *migration, GError **error)
{
  if (!FERRYD_IS_INCOMING_MIGRATION (migration))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_FOUND, "Migration %u is not incoming",
                   ferryd_migration_get_id (migration));
      return FALSE;
    }
  return TRUE;
}

static void
finished_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *reply =
      ferryd_incoming_migration_finish_finish (FERRYD_INCOMING_MIGRATION (source), result, &error);

  if (reply == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

void
ferryd_engine_finish_async (FerrydEngine *self,
                            FerrydMigration *migration,
                            gboolean source_completed,
                            GVariant *statistics,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;

  if (!check_incoming (migration, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ferryd_incoming_migration_finish_async (FERRYD_INCOMING_MIGRATION (migration), source_completed,
                                          statistics, finished_cb, g_steal_pointer (&task));
}

GVariant *
ferryd_engine_finish_finish (FerrydEngine *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
ferryd_engine_abort (FerrydEngine *self,
                     FerrydMigration *migration,
                     const char *reason,
                     GError **error)
{
  if (!check_incoming (migration, error))
    return FALSE;
  ferryd_incoming_migration_abort (FERRYD_INCOMING_MIGRATION (migration), reason);
  return TRUE;
}

static void
recover_listening_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  char *uri =
      ferryd_incoming_migration_recover_finish (FERRYD_INCOMING_MIGRATION (source), result, &error);

  if (uri == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, uri, g_free);
}

void
ferryd_engine_recover_async (FerrydEngine *self,
                             FerrydMigration *migration,
                             const char *uri,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;

  g_task_set_source_tag (task, ferryd_engine_recover_async);
  if (!check_incoming (migration, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ferryd_incoming_migration_recover_async (FERRYD_INCOMING_MIGRATION (migration), uri, NULL,
                                           recover_listening_cb, g_steal_pointer (&task));
}

char *
ferryd_engine_recover_finish (FerrydEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ferryd_engine_shutdown (FerrydEngine *self)
{
  for (GList *l = self->migrations.head; l; l = l->next)
    ferryd_migration_shutdown (l->data);
}

/* --- after a restart --- */

static void
settle_restored (FerrydEngine *self)
{
  g_signal_handlers_disconnect_by_func (self->daemon, settle_restored, self);
  for (GList *l = self->migrations.head; l; l = l->next)
    ferryd_migration_settle_after_restart (l->data);
}

static gboolean
settle_restored_idle (gpointer user_data)
{
  settle_restored (user_data);
  return G_SOURCE_REMOVE;
}

/* The domain of a journal entry: the one defined here, or one made from
 * the description the entry keeps (a transient domain for a migration
 * still in flight, a detached one for history). */
static FerrydDomain *
restored_domain (FerrydEngine *self, const FerrydJournalEntry *e)
{
  FerrydDomain *domain = ferryd_daemon_lookup_domain (self->daemon, e->domain_name);
  FerrydBackend *backend = ferryd_backend_get (e->backend ? e->backend : "");
  FerrydDomainConfig *config;

  if (domain)
    return g_object_ref (domain);
  config = e->description ? ferryd_domain_config_parse (e->description, NULL) : NULL;
  if (config == NULL)
    return NULL;
  if (backend == NULL)
    backend = ferryd_backend_get_default ();
  if (e->finished)
    return ferryd_backend_create_domain (backend, config,
                                         ferryd_daemon_get_state_dir (self->daemon),
                                         ferryd_daemon_get_runtime_dir (self->daemon));
  return g_object_ref (ferryd_daemon_domain_for_running (self->daemon, backend, config));
}

/* Every migration a previous ferryd journaled: finished ones as history,
 * the others taken over once the backends found their guests again. */
static void
restore_journal (FerrydEngine *self)
{
  g_autofree char *dir = ferryd_journal_dir (ferryd_daemon_get_state_dir (self->daemon));
  g_autoptr (GPtrArray) entries = ferryd_journal_load (dir);
  gboolean in_flight = FALSE;

  for (guint i = 0; i < entries->len; i++)
    {
      const FerrydJournalEntry *e = g_ptr_array_index (entries, i);
      g_autoptr (FerrydDomain) domain = restored_domain (self, e);
      g_autoptr (GVariant) empty = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
      FerrydMigrateOptions *options;
      FerrydMigration *migration;

      self->next_id = MAX (self->next_id, e->id);
      options = ferryd_migrate_options_parse (e->options ? e->options : empty, NULL);
      if (options == NULL)
        options = ferryd_migrate_options_parse (empty, NULL);
      if (domain == NULL)
        {
          g_warning ("Dropping the journal of migration %u: no description of '%s'", e->id,
                     e->domain_name);
          ferryd_migrate_options_free (options);
          ferryd_journal_remove (dir, e->id);
          continue;
        }
      {
        FerrydMigrationSetup setup = {
          .daemon = self->daemon,
          .domain = domain,
          .id = e->id,
          .options = options,
          .source = e->source ? e->source : "",
          .destination = e->destination ? e->destination : "",
          .uid = e->uid,
          .local_hostname = ferryd_daemon_get_hostname (self->daemon),
          .local_host_uuid = ferryd_daemon_get_host_uuid (self->daemon),
        };

        migration = e->incoming ? ferryd_incoming_migration_new (&setup)
                                : ferryd_outgoing_migration_new (&setup);
      }
      ferryd_migration_restore (migration, e);
      g_queue_push_tail (&self->migrations, migration);
      g_signal_connect (migration, "finished", G_CALLBACK (migration_finished_cb), self);
      in_flight |= !e->finished;
    }
  prune_history (self);
  if (!in_flight)
    return;
  if (ferryd_daemon_is_reattaching (self->daemon))
    g_signal_connect_swapped (self->daemon, "reattached", G_CALLBACK (settle_restored), self);
  else
    g_idle_add_full (G_PRIORITY_DEFAULT, settle_restored_idle, g_object_ref (self), g_object_unref);
}

/* --- migrations the hypervisor runs into this host --- */

/* A backend saw a migration into @domain that its hypervisor runs with
 * its own protocol (no source ferryd): shown like any incoming one. */
static void
backend_incoming_cb (FerrydBackend *backend,
                     FerrydDomain *domain,
                     FerrydStream *stream,
                     const char *source,
                     FerrydEngine *self)
{
  g_autoptr (GVariant) empty = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  FerrydMigrateOptions *options;
  FerrydMigration *migration;

  if (ferryd_domain_get_migration (domain) != NULL)
    {
      g_debug ("%s already has a migration; not following the hypervisor's incoming one",
               ferryd_domain_get_name (domain));
      return;
    }
  /* the options are the source's, which this host does not learn */
  options = ferryd_migrate_options_parse (empty, NULL);
  migration = add_migration (self, domain, TRUE, options, source ? source : "",
                             ferryd_daemon_get_hostname (self->daemon), 0);
  g_info ("migration %u: %s arrives through the %s backend's own migration",
          ferryd_migration_get_id (migration), ferryd_domain_get_name (domain),
          ferryd_backend_get_name (backend));
  ferryd_incoming_migration_follow (FERRYD_INCOMING_MIGRATION (migration), stream);
}

/* A backend found a migration away from here that its hypervisor runs
 * and no migration of this ferryd follows (one a previous ferryd
 * started): shown, and followed to its end, from Perform on. */
static void
backend_outgoing_cb (FerrydBackend *backend,
                     FerrydDomain *domain,
                     FerrydStream *stream,
                     const char *destination,
                     FerrydEngine *self)
{
  g_autoptr (GVariant) empty = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  FerrydMigration *migration;

  if (ferryd_domain_get_migration (domain) != NULL)
    return;
  /* who started it and with which options was the previous ferryd's */
  migration =
      add_migration (self, domain, FALSE, ferryd_migrate_options_parse (empty, NULL),
                     ferryd_daemon_get_hostname (self->daemon), destination ? destination : "", 0);
  g_info ("migration %u: re-attached to the %s backend's running migration of %s",
          ferryd_migration_get_id (migration), ferryd_backend_get_name (backend),
          ferryd_domain_get_name (domain));
  ferryd_outgoing_migration_follow (FERRYD_OUTGOING_MIGRATION (migration), stream);
}

FerrydEngine *
ferryd_engine_new (FerrydDaemon *daemon)
{
  FerrydEngine *self = g_object_new (FERRYD_TYPE_ENGINE, NULL);
  const char *const *names = ferryd_backend_list_names ();

  self->daemon = g_object_ref (daemon);
  restore_journal (self);
  for (gsize i = 0; names[i]; i++)
    {
      g_signal_connect_object (ferryd_backend_get (names[i]), "incoming-migration",
                               G_CALLBACK (backend_incoming_cb), self, 0);
      g_signal_connect_object (ferryd_backend_get (names[i]), "outgoing-migration",
                               G_CALLBACK (backend_outgoing_cb), self, 0);
    }
  return self;
}

static void
ferryd_engine_finalize (GObject *object)
{
  FerrydEngine *self = FERRYD_ENGINE (object);

  for (GList *l = self->migrations.head; l; l = l->next)
    g_signal_handlers_disconnect_by_data (l->data, self);
  g_queue_clear_full (&self->migrations, g_object_unref);
  if (self->daemon)
    g_signal_handlers_disconnect_by_data (self->daemon, self);
  g_clear_object (&self->daemon);
  G_OBJECT_CLASS (ferryd_engine_parent_class)->finalize (object);
}

static void
ferryd_engine_class_init (FerrydEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ferryd_engine_finalize;

  signals[SIGNAL_MIGRATION_ADDED] =
      g_signal_new ("migration-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, FERRYD_TYPE_MIGRATION);
  signals[SIGNAL_MIGRATION_FINISHED] =
      g_signal_new ("migration-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, FERRYD_TYPE_MIGRATION);
  signals[SIGNAL_MIGRATION_REMOVED] =
      g_signal_new ("migration-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, FERRYD_TYPE_MIGRATION);
}

static void
ferryd_engine_init (FerrydEngine *self)
{
  g_queue_init (&self->migrations);
}
