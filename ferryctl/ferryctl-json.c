/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-json.c: GVariant to JSON
 *
 * ferryctl links only GLib/GIO, and every value it prints already is a
 * GVariant (properties, reports, statistics), so a small writer does.
 */
#define G_LOG_DOMAIN "ferryctl-json"

#include "ferryctl-json.h"

#include <math.h>
#include <stdio.h>

static void
append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

static void
append_double (GString *out, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (d))
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_dtostr (buf, sizeof buf, d));
}

static gboolean
is_string_keyed_dict (GVariant *value)
{
  const GVariantType *type = g_variant_get_type (value);

  return g_variant_type_is_array (type) &&
         g_variant_type_is_dict_entry (g_variant_type_element (type)) &&
         g_variant_type_is_basic (g_variant_type_key (g_variant_type_element (type)));
}

void
ferryctl_json_append (GString *out, GVariant *value)
{
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
      return;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "%u", g_variant_get_byte (value));
      return;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "%d", g_variant_get_int16 (value));
      return;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "%u", g_variant_get_uint16 (value));
      return;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "%d", g_variant_get_int32 (value));
      return;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "%u", g_variant_get_uint32 (value));
      return;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
      return;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
      return;
    case G_VARIANT_CLASS_HANDLE:
      g_string_append_printf (out, "%d", g_variant_get_handle (value));
      return;
    case G_VARIANT_CLASS_DOUBLE:
      append_double (out, g_variant_get_double (value));
      return;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      append_string (out, g_variant_get_string (value, NULL));
      return;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr (GVariant) inner = g_variant_get_variant (value);
        ferryctl_json_append (out, inner);
        return;
      }
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr (GVariant) inner = g_variant_get_maybe (value);
        if (inner == NULL)
          g_string_append (out, "null");
        else
          ferryctl_json_append (out, inner);
        return;
      }
    case G_VARIANT_CLASS_ARRAY:
      if (is_string_keyed_dict (value))
        {
          GVariantIter iter;
          GVariant *entry;
          gboolean first = TRUE;

          g_string_append_c (out, '{');
          g_variant_iter_init (&iter, value);
          while ((entry = g_variant_iter_next_value (&iter)) != NULL)
            {
              g_autoptr (GVariant) key = g_variant_get_child_value (entry, 0);
              g_autoptr (GVariant) val = g_variant_get_child_value (entry, 1);

              if (!first)
                g_string_append_c (out, ',');
              first = FALSE;
              if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING) ||
                  g_variant_is_of_type (key, G_VARIANT_TYPE_OBJECT_PATH))
                append_string (out, g_variant_get_string (key, NULL));
              else
                {
                  g_autofree char *text = g_variant_print (key, FALSE);
                  append_string (out, text);
                }
              g_string_append_c (out, ':');
              ferryctl_json_append (out, val);
              g_variant_unref (entry);
            }
          g_string_append_c (out, '}');
          return;
        }
      G_GNUC_FALLTHROUGH;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
      {
        gsize n = g_variant_n_children (value);

        g_string_append_c (out, '[');
        for (gsize i = 0; i < n; i++)
          {
            g_autoptr (GVariant) child = g_variant_get_child_value (value, i);

            if (i > 0)
              g_string_append_c (out, ',');
            ferryctl_json_append (out, child);
          }
        g_string_append_c (out, ']');
        return;
      }
    }
  g_string_append (out, "null");
}

void
ferryctl_json_print (GVariant *value)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (value);
  g_autoptr (GString) out = g_string_new (NULL);

  ferryctl_json_append (out, owned);
  g_string_append_c (out, '\n');
  fputs (out->str, stdout);
  fflush (stdout);
}
