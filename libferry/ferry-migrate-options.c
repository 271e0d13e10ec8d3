/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-migrate-options.c: the options of a migration, built into the
 * a{sv} of Manager.Migrate with one typed setter per option */
#define G_LOG_DOMAIN "libferry-options"

#include "ferry-migrate-options.h"

/**
 * FerryMigrateOptions:
 *
 * The options of a migration (the `a{sv}` options of `Migrate` and
 * `Check`). Options that are not set keep ferryd's defaults.
 *
 * ```python
 * opts = Ferry.MigrateOptions.new()
 * opts.set_postcopy("auto")
 * opts.set_max_bandwidth(100 * 1024 * 1024)
 * ```
 */
struct _FerryMigrateOptions
{
  GObject parent_instance;
  GHashTable *values; /* key -> GVariant */
};

G_DEFINE_FINAL_TYPE (FerryMigrateOptions, ferry_migrate_options, G_TYPE_OBJECT)

static void
ferry_migrate_options_finalize (GObject *object)
{
  FerryMigrateOptions *self = FERRY_MIGRATE_OPTIONS (object);

  g_hash_table_unref (self->values);
  G_OBJECT_CLASS (ferry_migrate_options_parent_class)->finalize (object);
}

static void
ferry_migrate_options_class_init (FerryMigrateOptionsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ferry_migrate_options_finalize;
}

static void
ferry_migrate_options_init (FerryMigrateOptions *self)
{
  self->values =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
}

/**
 * ferry_migrate_options_new:
 *
 * Creates an empty set of options: every option has ferryd's default.
 *
 * Returns: (transfer full): a new #FerryMigrateOptions
 */
FerryMigrateOptions *
ferry_migrate_options_new (void)
{
  return g_object_new (FERRY_TYPE_MIGRATE_OPTIONS, NULL);
}

/**
 * ferry_migrate_options_set_value:
 * @self: a #FerryMigrateOptions
 * @key: the option's name, e.g. `max-bandwidth`
 * @value: the option's value; a floating reference is sunk
 *
 * Sets any option by its D-Bus name and value, e.g. one newer than this
 * library. ferryd refuses unknown names and wrong types with
 * %FERRY_ERROR_INVALID_ARGUMENT.
 */
void
ferry_migrate_options_set_value (FerryMigrateOptions *self, const char *key, GVariant *value)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (key != NULL && *key != '\0');
  g_return_if_fail (value != NULL);

  g_hash_table_replace (self->values, g_strdup (key), g_variant_ref_sink (value));
}

/**
 * ferry_migrate_options_unset:
 * @self: a #FerryMigrateOptions
 * @key: the option's name
 *
 * Removes an option, so it has ferryd's default again.
 */
void
ferry_migrate_options_unset (FerryMigrateOptions *self, const char *key)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (key != NULL);

  g_hash_table_remove (self->values, key);
}

/**
 * ferry_migrate_options_to_variant:
 * @self: a #FerryMigrateOptions
 *
 * The options as the `a{sv}` of `Migrate` and `Check`, keys sorted.
 *
 * Returns: (transfer full): a new, non-floating `a{sv}`
 */
GVariant *
ferry_migrate_options_to_variant (FerryMigrateOptions *self)
{
  GVariantBuilder b;
  g_autoptr (GList) keys = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATE_OPTIONS (self), NULL);

  keys = g_list_sort (g_hash_table_get_keys (self->values), (GCompareFunc) g_strcmp0);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (GList *l = keys; l != NULL; l = l->next)
    g_variant_builder_add (&b, "{sv}", l->data, g_hash_table_lookup (self->values, l->data));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

/**
 * ferry_migrate_options_set_live:
 * @self: a #FerryMigrateOptions
 * @live: %TRUE for a live migration (the default), %FALSE to pause the guest while it moves
 *
 * Sets the `live` option.
 */
void
ferry_migrate_options_set_live (FerryMigrateOptions *self, gboolean live)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "live", g_variant_new_boolean (live));
}

/**
 * ferry_migrate_options_set_postcopy:
 * @self: a #FerryMigrateOptions
 * @postcopy: `off`, `manual` or `auto`
 *
 * Sets the `postcopy` option.
 */
void
ferry_migrate_options_set_postcopy (FerryMigrateOptions *self, const char *postcopy)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (postcopy != NULL);
  ferry_migrate_options_set_value (self, "postcopy", g_variant_new_string (postcopy));
}

/**
 * ferry_migrate_options_set_max_bandwidth:
 * @self: a #FerryMigrateOptions
 * @bytes_per_second: the bandwidth limit of the pre-copy stream, in bytes per second
 *
 * Sets the `max-bandwidth` option.
 */
void
ferry_migrate_options_set_max_bandwidth (FerryMigrateOptions *self, guint64 bytes_per_second)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "max-bandwidth", g_variant_new_uint64 (bytes_per_second));
}

/**
 * ferry_migrate_options_set_max_postcopy_bandwidth:
 * @self: a #FerryMigrateOptions
 * @bytes_per_second: the bandwidth limit in post-copy, in bytes per second
 *
 * Sets the `max-postcopy-bandwidth` option.
 */
void
ferry_migrate_options_set_max_postcopy_bandwidth (FerryMigrateOptions *self,
                                                  guint64 bytes_per_second)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "max-postcopy-bandwidth",
                                   g_variant_new_uint64 (bytes_per_second));
}

/**
 * ferry_migrate_options_set_switchover_bandwidth:
 * @self: a #FerryMigrateOptions
 * @bytes_per_second: the bandwidth assumed at switch-over, in bytes per second
 *
 * Sets the `switchover-bandwidth` option.
 */
void
ferry_migrate_options_set_switchover_bandwidth (FerryMigrateOptions *self, guint64 bytes_per_second)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "switchover-bandwidth",
                                   g_variant_new_uint64 (bytes_per_second));
}

/**
 * ferry_migrate_options_set_max_downtime:
 * @self: a #FerryMigrateOptions
 * @milliseconds: the longest acceptable downtime, in milliseconds
 *
 * Sets the `max-downtime` option.
 */
void
ferry_migrate_options_set_max_downtime (FerryMigrateOptions *self, guint64 milliseconds)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "max-downtime", g_variant_new_uint64 (milliseconds));
}

/**
 * ferry_migrate_options_set_auto_converge:
 * @self: a #FerryMigrateOptions
 * @auto_converge: whether to throttle the guest's vCPUs so the migration converges
 *
 * Sets the `auto-converge` option.
 */
void
ferry_migrate_options_set_auto_converge (FerryMigrateOptions *self, gboolean auto_converge)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "auto-converge", g_variant_new_boolean (auto_converge));
}

/**
 * ferry_migrate_options_set_multifd_channels:
 * @self: a #FerryMigrateOptions
 * @channels: the number of parallel data channels (multifd)
 *
 * Sets the `multifd-channels` option.
 */
void
ferry_migrate_options_set_multifd_channels (FerryMigrateOptions *self, guint channels)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "multifd-channels", g_variant_new_uint32 (channels));
}

/**
 * ferry_migrate_options_set_compression:
 * @self: a #FerryMigrateOptions
 * @compression: the compression of the data stream
 *
 * Sets the `compression` option.
 */
void
ferry_migrate_options_set_compression (FerryMigrateOptions *self, const char *compression)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (compression != NULL);
  ferry_migrate_options_set_value (self, "compression", g_variant_new_string (compression));
}

/**
 * ferry_migrate_options_set_copy_storage:
 * @self: a #FerryMigrateOptions
 * @copy_storage: `none`, `all` or `incremental`
 *
 * Sets the `copy-storage` option.
 */
void
ferry_migrate_options_set_copy_storage (FerryMigrateOptions *self, const char *copy_storage)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (copy_storage != NULL);
  ferry_migrate_options_set_value (self, "copy-storage", g_variant_new_string (copy_storage));
}

/**
 * ferry_migrate_options_set_disks:
 * @self: a #FerryMigrateOptions
 * @disks: (array zero-terminated=1): the names of the disks to copy
 *
 * Sets the `disks` option.
 */
void
ferry_migrate_options_set_disks (FerryMigrateOptions *self, const char *const *disks)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (disks != NULL);
  ferry_migrate_options_set_value (self, "disks", g_variant_new_strv (disks, -1));
}

/**
 * ferry_migrate_options_set_synchronous_writes:
 * @self: a #FerryMigrateOptions
 * @synchronous_writes: whether disk mirroring writes synchronously to the destination
 *
 * Sets the `synchronous-writes` option.
 */
void
ferry_migrate_options_set_synchronous_writes (FerryMigrateOptions *self,
                                              gboolean synchronous_writes)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "synchronous-writes",
                                   g_variant_new_boolean (synchronous_writes));
}

/**
 * ferry_migrate_options_set_switchover_ack:
 * @self: a #FerryMigrateOptions
 * @switchover_ack: `auto`, `on` or `off`
 *
 * Sets the `switchover-ack` option.
 */
void
ferry_migrate_options_set_switchover_ack (FerryMigrateOptions *self, const char *switchover_ack)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (switchover_ack != NULL);
  ferry_migrate_options_set_value (self, "switchover-ack", g_variant_new_string (switchover_ack));
}

/**
 * ferry_migrate_options_set_tls:
 * @self: a #FerryMigrateOptions
 * @tls: whether the data stream is encrypted with TLS
 *
 * Sets the `tls` option.
 */
void
ferry_migrate_options_set_tls (FerryMigrateOptions *self, gboolean tls)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "tls", g_variant_new_boolean (tls));
}

/**
 * ferry_migrate_options_set_persist:
 * @self: a #FerryMigrateOptions
 * @persist: whether the destination persists the domain's description
 *
 * Sets the `persist` option.
 */
void
ferry_migrate_options_set_persist (FerryMigrateOptions *self, gboolean persist)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "persist", g_variant_new_boolean (persist));
}

/**
 * ferry_migrate_options_set_undefine_source:
 * @self: a #FerryMigrateOptions
 * @undefine_source: whether the source forgets the domain after success
 *
 * Sets the `undefine-source` option.
 */
void
ferry_migrate_options_set_undefine_source (FerryMigrateOptions *self, gboolean undefine_source)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "undefine-source",
                                   g_variant_new_boolean (undefine_source));
}

/**
 * ferry_migrate_options_set_timeout:
 * @self: a #FerryMigrateOptions
 * @seconds: the time limit of the migration, in seconds
 *
 * Sets the `timeout` option.
 */
void
ferry_migrate_options_set_timeout (FerryMigrateOptions *self, guint seconds)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  ferry_migrate_options_set_value (self, "timeout", g_variant_new_uint32 (seconds));
}

/**
 * ferry_migrate_options_set_timeout_action:
 * @self: a #FerryMigrateOptions
 * @action: what to do at the time limit: `abort`, `postcopy` or `pause`
 *
 * Sets the `timeout-action` option.
 */
void
ferry_migrate_options_set_timeout_action (FerryMigrateOptions *self, const char *action)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (action != NULL);
  ferry_migrate_options_set_value (self, "timeout-action", g_variant_new_string (action));
}

/**
 * ferry_migrate_options_set_migrate_uri:
 * @self: a #FerryMigrateOptions
 * @uri: the address of the data channel, overriding the default
 *
 * Sets the `migrate-uri` option.
 */
void
ferry_migrate_options_set_migrate_uri (FerryMigrateOptions *self, const char *uri)
{
  g_return_if_fail (FERRY_IS_MIGRATE_OPTIONS (self));
  g_return_if_fail (uri != NULL);
  ferry_migrate_options_set_value (self, "migrate-uri", g_variant_new_string (uri));
}
