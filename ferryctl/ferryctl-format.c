/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-format.c: human-readable sizes, rates, durations and values */
#define G_LOG_DOMAIN "ferryctl-format"

#include "ferryctl-format.h"

char *
ferryctl_format_bytes (guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = (double) bytes;
  guint i = 0;

  if (bytes < 1024)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " B", bytes);
  v /= 1024;
  while (v >= 1024 && i + 1 < G_N_ELEMENTS (units))
    {
      v /= 1024;
      i++;
    }
  return g_strdup_printf ("%.1f %s", v, units[i]);
}

char *
ferryctl_format_rate (guint64 bytes_per_s)
{
  g_autofree char *bytes = ferryctl_format_bytes (bytes_per_s);

  return g_strconcat (bytes, "/s", NULL);
}

char *
ferryctl_format_ms (guint64 ms)
{
  if (ms < 1000)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " ms", ms);
  if (ms < 60 * 1000)
    return g_strdup_printf ("%.1f s", (double) ms / 1000.0);
  if (ms < 3600 * 1000)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " min %02" G_GUINT64_FORMAT " s", ms / 60000,
                            (ms / 1000) % 60);
  return g_strdup_printf ("%" G_GUINT64_FORMAT " h %02" G_GUINT64_FORMAT " min", ms / 3600000,
                          (ms / 60000) % 60);
}

char *
ferryctl_format_timestamp (guint64 usec)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (0);
  g_autoptr (GDateTime) t = NULL;
  g_autoptr (GDateTime) local = NULL;
  g_autofree char *base = NULL;

  if (utc == NULL)
    return g_strdup ("?");
  t = g_date_time_add (utc, (GTimeSpan) usec);
  if (t == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (t);
  base = g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
  return g_strdup_printf ("%s.%03d", base, (int) ((usec / 1000) % 1000));
}

static gboolean
get_unsigned (GVariant *value, guint64 *out)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64) && g_variant_get_int64 (value) >= 0)
    *out = (guint64) g_variant_get_int64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32) && g_variant_get_int32 (value) >= 0)
    *out = (guint64) g_variant_get_int32 (value);
  else
    return FALSE;
  return TRUE;
}

char *
ferryctl_format_stat (const char *key, GVariant *value)
{
  guint64 n;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);
      return ferryctl_format_stat (key, inner);
    }
  if (!get_unsigned (value, &n))
    return ferryctl_format_value (value);

  if (g_str_has_suffix (key, "-rate") || g_str_has_suffix (key, "bandwidth"))
    return ferryctl_format_rate (n);
  if (g_str_has_suffix (key, "-time") || g_str_has_prefix (key, "downtime") ||
      g_str_has_suffix (key, "-downtime") || g_str_equal (key, "timeout"))
    {
      if (g_str_equal (key, "timeout"))
        return g_strdup_printf ("%" G_GUINT64_FORMAT " s", n);
      return ferryctl_format_ms (n);
    }
  if ((g_str_has_prefix (key, "memory-") || g_str_has_prefix (key, "disk-") ||
       g_str_has_suffix (key, "-bytes")))
    {
      if (n < 1024)
        return ferryctl_format_bytes (n);

      {
        g_autofree char *human = ferryctl_format_bytes (n);
        return g_strdup_printf ("%s (%" G_GUINT64_FORMAT ")", human, n);
      }
    }
  return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
}

char *
ferryctl_format_value (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);
      return ferryctl_format_value (inner);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ||
      g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "yes" : "no");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **strv = g_variant_get_strv (value, NULL);

      if (strv[0] == NULL)
        return g_strdup ("-");
      return g_strjoinv (", ", (char **) strv);
    }
  return g_variant_print (value, FALSE);
}
