/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-paths.c: the object paths of the D-Bus layer */
#define G_LOG_DOMAIN "ferry-bus"

#include "ferryd-paths.h"
#include "ferry-names.h"

/* sd_bus_path_encode: ASCII letters stay, digits too except in the first
 * place (a label may not start with one), every other byte is _xx. */
char *
ferryd_domain_object_path (const char *name)
{
  GString *path = g_string_new (FERRY_DOMAIN_PATH_PREFIX);

  if (*name == '\0')
    g_string_append_c (path, '_');
  for (const guchar *p = (const guchar *) name; *p; p++)
    {
      if (g_ascii_isalpha (*p) || (g_ascii_isdigit (*p) && p != (const guchar *) name))
        g_string_append_c (path, *p);
      else
        g_string_append_printf (path, "_%02x", *p);
    }
  return g_string_free (path, FALSE);
}

char *
ferryd_migration_object_path (guint id)
{
  return g_strdup_printf (FERRY_MIGRATION_PATH_PREFIX "%u", id);
}

gboolean
ferryd_migration_id_from_path (const char *path, guint *out_id)
{
  g_autofree char *canonical = NULL;
  guint64 id;

  if (!g_str_has_prefix (path, FERRY_MIGRATION_PATH_PREFIX) ||
      !g_ascii_string_to_unsigned (path + strlen (FERRY_MIGRATION_PATH_PREFIX), 10, 0, G_MAXUINT,
                                   &id, NULL))
    return FALSE;
  /* One path per migration: no sign, no leading zeros. */
  canonical = ferryd_migration_object_path ((guint) id);
  if (!g_str_equal (canonical, path))
    return FALSE;
  if (out_id)
    *out_id = (guint) id;
  return TRUE;
}
