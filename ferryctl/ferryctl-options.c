/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-options.c: migration options on the command line ->
 * FerryMigrateOptions
 *
 * One table lists each option: its flag, its key in the Options a{sv}
 * and the type the contract fixes for it (t for bandwidths and
 * downtime, u for counts and the timeout, b, s, as). Values are checked
 * here, so a typo is a usage error (exit 2) before anything is called.
 */
#define G_LOG_DOMAIN "ferryctl-options"

#include "ferryctl-options.h"

#include <errno.h>
#include <string.h>

typedef enum
{
  KIND_BOOL,     /* b; --flag or --flag=yes|no */
  KIND_NOT_BOOL, /* b, inverted: --offline sets live=false */
  KIND_U32,      /* u */
  KIND_U64,      /* t */
  KIND_BYTES,    /* t, with K/M/G suffixes */
  KIND_STRING,   /* s */
  KIND_STRV,     /* as, repeatable */
} Kind;

typedef struct
{
  const char *flag;
  const char *key;
  Kind kind;
  const char *const *choices;
  const char *arg_description;
  const char *description;
} Spec;

static const char *const postcopy_choices[] = { "off", "manual", "auto", NULL };
static const char *const copy_storage_choices[] = { "none", "all", "incremental", NULL };
static const char *const switchover_ack_choices[] = { "auto", "on", "off", NULL };
static const char *const timeout_action_choices[] = { "abort", "postcopy", "pause", NULL };
static const char *const compression_choices[] = { "none", "zlib", "zstd", NULL };

static const Spec specs[] = {
  { "postcopy", "postcopy", KIND_STRING, postcopy_choices, "off|manual|auto",
    "Allow post-copy (manual: switch with 'ferryctl postcopy')" },
  { "max-bandwidth", "max-bandwidth", KIND_BYTES, NULL, "BYTES/s", "Bandwidth limit" },
  { "max-postcopy-bandwidth", "max-postcopy-bandwidth", KIND_BYTES, NULL, "BYTES/s",
    "Bandwidth limit in post-copy" },
  { "switchover-bandwidth", "switchover-bandwidth", KIND_BYTES, NULL, "BYTES/s",
    "Bandwidth assumed for the switch-over" },
  { "max-downtime", "max-downtime", KIND_U64, NULL, "MS", "Largest acceptable downtime" },
  { "auto-converge", "auto-converge", KIND_BOOL, NULL, NULL,
    "Throttle the vCPUs when pre-copy does not converge" },
  { "multifd-channels", "multifd-channels", KIND_U32, NULL, "N", "Parallel data channels" },
  { "compression", "compression", KIND_STRING, compression_choices, "none|zlib|zstd",
    "Compress the multifd stream" },
  { "copy-storage", "copy-storage", KIND_STRING, copy_storage_choices, "none|all|incremental",
    "Copy the disks (non-shared storage)" },
  { "disk", "disks", KIND_STRV, NULL, "NAME", "Copy only this disk (repeatable)" },
  { "synchronous-writes", "synchronous-writes", KIND_BOOL, NULL, NULL,
    "Mirror disk writes synchronously" },
  { "switchover-ack", "switchover-ack", KIND_STRING, switchover_ack_choices, "auto|on|off",
    "Wait for the destination's switch-over acknowledgement" },
  { "tls", "tls", KIND_BOOL, NULL, NULL, "Encrypt the data channel" },
  { "persist", "persist", KIND_BOOL, NULL, NULL, "Define the domain on the destination" },
  { "undefine-source", "undefine-source", KIND_BOOL, NULL, NULL,
    "Undefine the domain on the source when done" },
  { "offline", "live", KIND_NOT_BOOL, NULL, NULL, "Migrate with the guest paused" },
  { "timeout", "timeout", KIND_U32, NULL, "S", "Act after S seconds (see --timeout-action)" },
  { "timeout-action", "timeout-action", KIND_STRING, timeout_action_choices, "abort|postcopy|pause",
    "What to do at the timeout" },
  { "migrate-uri", "migrate-uri", KIND_STRING, NULL, "URI", "Data channel address override" },
};

struct _FerryctlMigrateOptions
{
  GHashTable *values; /* key -> GVariant */
  GHashTable *lists;  /* key -> GPtrArray of strings, for KIND_STRV */
  GOptionEntry *entries;
};

FerryctlMigrateOptions *
ferryctl_migrate_options_new (void)
{
  FerryctlMigrateOptions *options = g_new0 (FerryctlMigrateOptions, 1);

  options->values =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_variant_unref);
  options->lists =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
  return options;
}

void
ferryctl_migrate_options_free (FerryctlMigrateOptions *options)
{
  if (options == NULL)
    return;
  g_hash_table_unref (options->values);
  g_hash_table_unref (options->lists);
  g_free (options->entries);
  g_free (options);
}

gboolean
ferryctl_parse_bytes (const char *text, guint64 *out, GError **error)
{
  static const struct
  {
    const char *suffix;
    guint shift;
  } suffixes[] = {
    { "", 0 },     { "b", 0 },   { "k", 10 },   { "kb", 10 },  { "kib", 10 },
    { "m", 20 },   { "mb", 20 }, { "mib", 20 }, { "g", 30 },   { "gb", 30 },
    { "gib", 30 }, { "t", 40 },  { "tb", 40 },  { "tib", 40 },
  };
  g_autofree char *lower = g_ascii_strdown (text, -1);
  char *end = NULL;
  guint64 n;

  if (g_str_has_suffix (lower, "/s"))
    lower[strlen (lower) - 2] = '\0';
  if (!g_ascii_isdigit (lower[0]))
    goto bad;
  errno = 0;
  n = g_ascii_strtoull (lower, &end, 10);
  if (errno != 0)
    goto bad;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_equal (g_strstrip (end), suffixes[i].suffix))
      {
        if (suffixes[i].shift > 0 && n > (G_MAXUINT64 >> suffixes[i].shift))
          goto bad;
        *out = n << suffixes[i].shift;
        return TRUE;
      }
bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "'%s' is not a byte count (e.g. 1000000, 512K, 100M, 1G)", text);
  return FALSE;
}

static gboolean
parse_bool (const char *text, gboolean *out)
{
  static const char *const yes[] = { "yes", "true", "on", "1", NULL };
  static const char *const no[] = { "no", "false", "off", "0", NULL };

  if (text == NULL || g_strv_contains (yes, text))
    *out = TRUE;
  else if (g_strv_contains (no, text))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

static void
set_value (FerryctlMigrateOptions *options, const char *key, GVariant *value)
{
  g_hash_table_insert (options->values, (gpointer) key, g_variant_ref_sink (value));
}

static gboolean
parse_option (const char *option_name, const char *value, gpointer data, GError **error)
{
  FerryctlMigrateOptions *options = data;
  const char *flag = option_name + (g_str_has_prefix (option_name, "--") ? 2 : 0);
  const Spec *spec = NULL;
  guint64 n;
  gboolean b;

  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    if (g_str_equal (specs[i].flag, flag))
      spec = &specs[i];
  g_return_val_if_fail (spec != NULL, FALSE);

  switch (spec->kind)
    {
    case KIND_BOOL:
    case KIND_NOT_BOOL:
      if (!parse_bool (value, &b))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--%s takes yes or no, not '%s'", flag, value);
          return FALSE;
        }
      set_value (options, spec->key, g_variant_new_boolean (spec->kind == KIND_BOOL ? b : !b));
      return TRUE;
    case KIND_U32:
    case KIND_U64:
      if (!g_ascii_string_to_unsigned (
              value, 10, 0, spec->kind == KIND_U32 ? G_MAXUINT32 : G_MAXUINT64, &n, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--%s takes a whole number, not '%s'", flag, value);
          return FALSE;
        }
      set_value (options, spec->key,
                 spec->kind == KIND_U32 ? g_variant_new_uint32 ((guint32) n)
                                        : g_variant_new_uint64 (n));
      return TRUE;
    case KIND_BYTES:
      if (!ferryctl_parse_bytes (value, &n, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--%s takes bytes per second (e.g. 100000000, 512K, 100M, 1G), not '%s'",
                       flag, value);
          return FALSE;
        }
      set_value (options, spec->key, g_variant_new_uint64 (n));
      return TRUE;
    case KIND_STRING:
      if (spec->choices != NULL && !g_strv_contains (spec->choices, value))
        {
          g_autofree char *choices = g_strjoinv (", ", (char **) spec->choices);
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--%s takes one of %s, not '%s'", flag, choices, value);
          return FALSE;
        }
      set_value (options, spec->key, g_variant_new_string (value));
      return TRUE;
    case KIND_STRV:
      {
        GPtrArray *list = g_hash_table_lookup (options->lists, spec->key);

        if (list == NULL)
          {
            list = g_ptr_array_new_with_free_func (g_free);
            g_hash_table_insert (options->lists, (gpointer) spec->key, list);
          }
        g_ptr_array_add (list, g_strdup (value));
        return TRUE;
      }
    }
  return FALSE;
}

GOptionGroup *
ferryctl_migrate_options_get_group (FerryctlMigrateOptions *options, const GOptionEntry *leading)
{
  GOptionGroup *group = g_option_group_new ("migration", "Migration options (migrate, check):",
                                            "Show the migration options", options, NULL);

  if (leading != NULL)
    g_option_group_add_entries (group, leading);
  g_free (options->entries);
  options->entries = g_new0 (GOptionEntry, G_N_ELEMENTS (specs) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      GOptionEntry *e = &options->entries[i];

      e->long_name = specs[i].flag;
      e->arg = G_OPTION_ARG_CALLBACK;
      e->arg_data = (gpointer) parse_option;
      e->description = specs[i].description;
      e->arg_description = specs[i].arg_description;
      if (specs[i].kind == KIND_BOOL)
        e->flags = G_OPTION_FLAG_OPTIONAL_ARG;
      else if (specs[i].kind == KIND_NOT_BOOL)
        e->flags = G_OPTION_FLAG_NO_ARG;
    }
  g_option_group_add_entries (group, options->entries);
  return group;
}

gboolean
ferryctl_migrate_options_any (FerryctlMigrateOptions *options)
{
  return g_hash_table_size (options->values) > 0 || g_hash_table_size (options->lists) > 0;
}

FerryMigrateOptions *
ferryctl_migrate_options_to_ferry (FerryctlMigrateOptions *options)
{
  FerryMigrateOptions *ferry = ferry_migrate_options_new ();
  GHashTableIter iter;
  gpointer key, value;

  /* the values carry the contract's types already */
  g_hash_table_iter_init (&iter, options->values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    ferry_migrate_options_set_value (ferry, key, value);
  g_hash_table_iter_init (&iter, options->lists);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *list = value;

      ferry_migrate_options_set_value (
          ferry, key, g_variant_new_strv ((const char *const *) list->pdata, (gssize) list->len));
    }
  return ferry;
}
