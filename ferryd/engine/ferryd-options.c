/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-options.c: parse and validate migration options
 *
 * Unknown keys and wrong types are errors that name the key: a misspelt
 * option silently ignored could make a migration behave in a way the
 * operator explicitly tried to prevent. Integer options accept any D-Bus
 * integer type with a value in range, because gdbus and busctl users
 * cannot always choose the exact width.
 */
#define G_LOG_DOMAIN "ferry-options"

#include "ferryd-options.h"
#include "ferry-error.h"

typedef enum
{
  KIND_BOOL,
  KIND_UINT32,
  KIND_UINT64,
  KIND_STRING,
  KIND_STRV,
  KIND_ENUM, /* a string from choices, stored as its index (an enum) */
} Kind;

typedef struct
{
  const char *key;
  Kind kind;
  gsize offset;
  const char *const *choices; /* for strings and enums; NULL = free-form */
  guint64 min, max;           /* for integers; both 0 = the type's range */
  const char *unit;           /* for integers, in range errors */
} OptionSpec;

static const char *const postcopy_choices[] = { "off", "manual", "auto", NULL };
static const char *const copy_storage_choices[] = { "none", "all", "incremental", NULL };
static const char *const switchover_ack_choices[] = { "auto", "on", "off", NULL };
static const char *const timeout_action_choices[] = { "abort", "postcopy", "pause", NULL };
static const char *const compression_choices[] = { "none", "zlib", "zstd", NULL };

#define OPT(key, kind, field, choices)                                                             \
  {                                                                                                \
    key, kind, G_STRUCT_OFFSET (FerrydMigrateOptions, field), choices, 0, 0, NULL                  \
  }
#define OPT_RANGE(key, kind, field, min, max, unit)                                                \
  {                                                                                                \
    key, kind, G_STRUCT_OFFSET (FerrydMigrateOptions, field), NULL, min, max, unit                 \
  }

static const OptionSpec option_specs[] = {
  OPT ("live", KIND_BOOL, live, NULL),
  OPT ("postcopy", KIND_ENUM, postcopy, postcopy_choices),
  OPT_RANGE ("max-bandwidth", KIND_UINT64, max_bandwidth, 0, FERRYD_MAX_BANDWIDTH, "bytes/s"),
  OPT_RANGE ("max-postcopy-bandwidth",
             KIND_UINT64,
             max_postcopy_bandwidth,
             0,
             FERRYD_MAX_BANDWIDTH,
             "bytes/s"),
  OPT_RANGE ("switchover-bandwidth",
             KIND_UINT64,
             switchover_bandwidth,
             0,
             FERRYD_MAX_BANDWIDTH,
             "bytes/s"),
  OPT_RANGE ("max-downtime", KIND_UINT64, max_downtime, 1, FERRYD_MAX_DOWNTIME_MS, "ms"),
  OPT ("auto-converge", KIND_BOOL, auto_converge, NULL),
  OPT_RANGE ("multifd-channels", KIND_UINT32, multifd_channels, 0, 255, "channels"),
  OPT ("compression", KIND_STRING, compression, compression_choices),
  OPT ("copy-storage", KIND_ENUM, copy_storage, copy_storage_choices),
  OPT ("disks", KIND_STRV, disks, NULL),
  OPT ("synchronous-writes", KIND_BOOL, synchronous_writes, NULL),
  OPT ("switchover-ack", KIND_STRING, switchover_ack, switchover_ack_choices),
  OPT ("tls", KIND_BOOL, tls, NULL),
  OPT ("persist", KIND_BOOL, persist, NULL),
  OPT ("undefine-source", KIND_BOOL, undefine_source, NULL),
  OPT ("timeout", KIND_UINT32, timeout, NULL),
  OPT ("timeout-action", KIND_STRING, timeout_action, timeout_action_choices),
  OPT ("migrate-uri", KIND_STRING, migrate_uri, NULL),
};

static const char *
kind_name (Kind kind)
{
  switch (kind)
    {
    case KIND_BOOL:
      return "a boolean (b)";
    case KIND_UINT32:
      return "an unsigned 32-bit integer (u)";
    case KIND_UINT64:
      return "an unsigned 64-bit integer (t)";
    case KIND_STRING:
      return "a string (s)";
    case KIND_STRV:
      return "an array of strings (as)";
    case KIND_ENUM:
      return "a string (s)";
    }
  g_assert_not_reached ();
}

static gboolean
variant_to_uint (GVariant *value, guint64 *out)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    *out = g_variant_get_uint16 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BYTE))
    *out = g_variant_get_byte (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64) && g_variant_get_int64 (value) >= 0)
    *out = (guint64) g_variant_get_int64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32) && g_variant_get_int32 (value) >= 0)
    *out = (guint64) g_variant_get_int32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT16) && g_variant_get_int16 (value) >= 0)
    *out = (guint64) g_variant_get_int16 (value);
  else
    return FALSE;
  return TRUE;
}

/* The index of @value in @spec's choices, or -1 (with @error set). */
static int
choice_index (const OptionSpec *spec, const char *value, GError **error)
{
  g_autofree char *allowed = NULL;

  for (int i = 0; spec->choices[i]; i++)
    if (g_str_equal (spec->choices[i], value))
      return i;
  allowed = g_strjoinv (", ", (GStrv) spec->choices);
  g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
               "Invalid value '%s' for option '%s': expected one of %s", value, spec->key, allowed);
  return -1;
}

static gboolean
check_range (const OptionSpec *spec, guint64 number, GError **error)
{
  if (spec->min || spec->max)
    {
      if (number >= spec->min && number <= spec->max)
        return TRUE;
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Option '%s' is out of range: %" G_GUINT64_FORMAT
                   " is not from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " %s",
                   spec->key, number, spec->min, spec->max, spec->unit);
      return FALSE;
    }
  if (spec->kind == KIND_UINT32 && number > G_MAXUINT32)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT, "Option '%s' is out of range",
                   spec->key);
      return FALSE;
    }
  return TRUE;
}

static const OptionSpec *
lookup_spec (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (option_specs); i++)
    if (g_str_equal (option_specs[i].key, key))
      return &option_specs[i];
  return NULL;
}

gboolean
ferryd_migrate_option_check_range (const char *key, guint64 value, GError **error)
{
  const OptionSpec *spec = lookup_spec (key);

  g_return_val_if_fail (spec != NULL && (spec->kind == KIND_UINT32 || spec->kind == KIND_UINT64),
                        FALSE);
  return check_range (spec, value, error);
}

static gboolean
parse_one (FerrydMigrateOptions *options, const OptionSpec *spec, GVariant *value, GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P (options, spec->offset);
  guint64 number;
  int index;

  switch (spec->kind)
    {
    case KIND_BOOL:
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
        goto wrong_type;
      *(gboolean *) field = g_variant_get_boolean (value);
      return TRUE;
    case KIND_UINT32:
    case KIND_UINT64:
      if (!variant_to_uint (value, &number))
        goto wrong_type;
      if (!check_range (spec, number, error))
        return FALSE;
      if (spec->kind == KIND_UINT32)
        *(guint32 *) field = (guint32) number;
      else
        *(guint64 *) field = number;
      return TRUE;
    case KIND_STRING:
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        goto wrong_type;
      if (spec->choices && choice_index (spec, g_variant_get_string (value, NULL), error) < 0)
        return FALSE;
      g_free (*(char **) field);
      *(char **) field = g_variant_dup_string (value, NULL);
      return TRUE;
    case KIND_STRV:
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
        goto wrong_type;
      g_strfreev (*(GStrv *) field);
      *(GStrv *) field = g_variant_dup_strv (value, NULL);
      return TRUE;
    case KIND_ENUM:
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        goto wrong_type;
      index = choice_index (spec, g_variant_get_string (value, NULL), error);
      if (index < 0)
        return FALSE;
      *(int *) field = index;
      return TRUE;
    }

wrong_type:
  g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
               "Option '%s' has the wrong type '%s': expected %s", spec->key,
               g_variant_get_type_string (value), kind_name (spec->kind));
  return FALSE;
}

FerrydMigrateOptions *
ferryd_migrate_options_parse (GVariant *variant, GError **error)
{
  g_autoptr (FerrydMigrateOptions) options = g_new0 (FerrydMigrateOptions, 1);
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gboolean ok = TRUE;

  g_return_val_if_fail (g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT), NULL);

  options->live = TRUE;
  options->switchover_ack = g_strdup ("auto");
  options->timeout_action = g_strdup ("abort");
  options->compression = g_strdup ("none");

  g_variant_iter_init (&iter, variant);
  while (ok && g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      const OptionSpec *spec = lookup_spec (key);

      if (spec == NULL)
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT, "Unknown option '%s'",
                       key);
          ok = FALSE;
        }
      else
        ok = parse_one (options, spec, value, error);
      g_variant_unref (value);
    }
  if (!ok)
    return NULL;

  if (options->multifd_channels > 0 && options->postcopy != FERRYD_POSTCOPY_OFF)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                           "Options 'multifd-channels' and 'postcopy' cannot be combined: QEMU "
                           "does not support post-copy with multifd");
      return NULL;
    }
  if (g_strcmp0 (options->compression, "none") != 0 && options->multifd_channels == 0)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Option 'compression' (%s) needs 'multifd-channels': QEMU compresses only "
                   "multifd streams",
                   options->compression);
      return NULL;
    }
  if (options->copy_storage == FERRYD_COPY_STORAGE_NONE)
    {
      const char *needs = options->disks                ? "disks"
                          : options->synchronous_writes ? "synchronous-writes"
                                                        : NULL;
      if (needs)
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                       "Option '%s' needs 'copy-storage' (all or incremental)", needs);
          return NULL;
        }
    }
  if (options->migrate_uri && !ferryd_migrate_uri_parse (options->migrate_uri, NULL, NULL))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value '%s' for option 'migrate-uri': expected tcp:HOST:PORT with a "
                   "port from 1 to 65535",
                   options->migrate_uri);
      return NULL;
    }
  options->variant = g_variant_ref_sink (variant);
  return g_steal_pointer (&options);
}

void
ferryd_migrate_options_free (FerrydMigrateOptions *options)
{
  if (options == NULL)
    return;
  g_free (options->compression);
  g_strfreev (options->disks);
  g_free (options->switchover_ack);
  g_free (options->timeout_action);
  g_free (options->migrate_uri);
  g_clear_pointer (&options->variant, g_variant_unref);
  g_free (options);
}

gboolean
ferryd_migrate_uri_parse (const char *uri, char **host, guint16 *port)
{
  const char *rest, *colon;
  g_autofree char *name = NULL;
  guint64 number;

  if (!g_str_has_prefix (uri, "tcp:"))
    return FALSE;
  rest = uri + strlen ("tcp:");
  colon = strrchr (rest, ':');
  if (colon == NULL || colon == rest ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &number, NULL))
    return FALSE;
  name = g_strndup (rest, colon - rest);
  /* [v6-address] or a name/v4 address without further colons or spaces */
  if (name[0] == '[' ? !g_str_has_suffix (name, "]") || strlen (name) < 3
                     : strpbrk (name, ":[] ,") != NULL)
    return FALSE;
  if (host)
    *host = g_steal_pointer (&name);
  if (port)
    *port = (guint16) number;
  return TRUE;
}

const char *
ferryd_postcopy_mode_to_string (FerrydPostcopyMode mode)
{
  return postcopy_choices[mode];
}

gboolean
ferryd_migrate_options_has (const FerrydMigrateOptions *options, const char *key)
{
  g_autoptr (GVariant) value =
      options->variant ? g_variant_lookup_value (options->variant, key, NULL) : NULL;

  return value != NULL;
}
