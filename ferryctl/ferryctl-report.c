/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-report.c: the output of list, show and check, as aligned text
 * or as one JSON document */
#define G_LOG_DOMAIN "ferryctl-report"

#include "ferryctl-report.h"

#include <stdio.h>

#include "ferryctl-client.h"
#include "ferryctl-format.h"
#include "ferryctl-json.h"

/* --- tables --- */

typedef GPtrArray Table; /* of GStrv rows, the first one the heading */

static void
table_print (Table *table)
{
  guint columns = g_strv_length (table->pdata[0]);
  g_autofree int *width = g_new0 (int, columns);

  for (guint r = 0; r < table->len; r++)
    for (guint c = 0; c < columns; c++)
      width[c] = MAX (width[c], (int) g_utf8_strlen (((char **) table->pdata[r])[c], -1));
  for (guint r = 0; r < table->len; r++)
    {
      char **row = table->pdata[r];
      g_autoptr (GString) line = g_string_new (NULL);

      for (guint c = 0; c < columns; c++)
        {
          g_string_append (line, row[c]);
          if (c + 1 < columns)
            for (int pad = (int) g_utf8_strlen (row[c], -1); pad < width[c] + 2; pad++)
              g_string_append_c (line, ' ');
        }
      puts (line->str);
    }
}

static char *
migration_ref (const char *path)
{
  if (path == NULL || g_str_equal (path, "/"))
    return g_strdup ("-");
  if (ferryctl_migration_id_from_path (path) > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, ferryctl_migration_id_from_path (path));
  return g_strdup (path);
}

static const char *
or_dash (const char *s)
{
  return s != NULL && *s != '\0' ? s : "-";
}

/* --- list --- */

static GVariant *
domain_json (FerryDomain *domain)
{
  GVariantBuilder b;
  const char *migration = ferry_domain_get_migration_path (domain);
  guint64 id = ferryctl_migration_id_from_path (migration);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "path",
                         g_variant_new_object_path (ferry_domain_get_object_path (domain)));
  g_variant_builder_add (&b, "{sv}", "name",
                         g_variant_new_string (or_dash (ferry_domain_get_name (domain))));
  g_variant_builder_add (&b, "{sv}", "uuid",
                         g_variant_new_string (ferry_domain_get_uuid (domain) ?: ""));
  g_variant_builder_add (&b, "{sv}", "state",
                         g_variant_new_string (ferry_domain_get_state (domain) ?: ""));
  g_variant_builder_add (&b, "{sv}", "backend",
                         g_variant_new_string (ferry_domain_get_backend (domain) ?: ""));
  g_variant_builder_add (
      &b, "{sv}", "migration",
      id > 0 ? g_variant_new_maybe (G_VARIANT_TYPE_UINT64, g_variant_new_uint64 (id))
             : g_variant_new_maybe (G_VARIANT_TYPE_UINT64, NULL));
  return g_variant_builder_end (&b);
}

static GVariant *
migration_json_summary (FerryMigration *m)
{
  GVariantBuilder b;
  const char *path = ferry_migration_get_object_path (m);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id",
                         g_variant_new_uint64 (ferryctl_migration_id_from_path (path)));
  g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
#define S(key, getter)                                                                             \
  g_variant_builder_add (&b, "{sv}", key, g_variant_new_string (getter (m) ?: ""))
  S ("domain", ferry_migration_get_domain_name);
  S ("direction", ferry_migration_get_direction);
  S ("source", ferry_migration_get_source);
  S ("destination", ferry_migration_get_destination);
  S ("phase", ferry_migration_get_phase);
  S ("state", ferry_migration_get_state);
  S ("mode", ferry_migration_get_mode);
#undef S
  g_variant_builder_add (&b, "{sv}", "progress",
                         g_variant_new_double (ferry_migration_get_progress (m)));
  return g_variant_builder_end (&b);
}

void
ferryctl_report_list (GList *domains, GList *migrations, gboolean json)
{
  if (json)
    {
      GVariantBuilder doms, migs, all;

      g_variant_builder_init (&doms, G_VARIANT_TYPE ("aa{sv}"));
      for (GList *l = domains; l; l = l->next)
        g_variant_builder_add_value (&doms, domain_json (l->data));
      g_variant_builder_init (&migs, G_VARIANT_TYPE ("aa{sv}"));
      for (GList *l = migrations; l; l = l->next)
        g_variant_builder_add_value (&migs, migration_json_summary (l->data));
      g_variant_builder_init (&all, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&all, "{sv}", "domains", g_variant_builder_end (&doms));
      g_variant_builder_add (&all, "{sv}", "migrations", g_variant_builder_end (&migs));
      ferryctl_json_print (g_variant_builder_end (&all));
      return;
    }

  if (domains == NULL)
    puts ("No domains.");
  else
    {
      g_autoptr (GPtrArray) table = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

      g_ptr_array_add (table, g_strsplit ("DOMAIN STATE BACKEND MIGRATION", " ", -1));
      for (GList *l = domains; l; l = l->next)
        {
          char **row = g_new0 (char *, 5);

          row[0] = g_strdup (or_dash (ferry_domain_get_name (l->data)));
          row[1] = g_strdup (or_dash (ferry_domain_get_state (l->data)));
          row[2] = g_strdup (or_dash (ferry_domain_get_backend (l->data)));
          row[3] = migration_ref (ferry_domain_get_migration_path (l->data));
          g_ptr_array_add (table, row);
        }
      table_print (table);
    }
  puts ("");
  if (migrations == NULL)
    puts ("No migrations.");
  else
    {
      g_autoptr (GPtrArray) table = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

      g_ptr_array_add (table,
                       g_strsplit ("ID DOMAIN DIRECTION PHASE STATE PROGRESS PEER", " ", -1));
      for (GList *l = migrations; l; l = l->next)
        {
          FerryMigration *m = l->data;
          gboolean incoming = g_strcmp0 (ferry_migration_get_direction (m), "incoming") == 0;
          char **row = g_new0 (char *, 8);

          row[0] = migration_ref (ferry_migration_get_object_path (m));
          row[1] = g_strdup (or_dash (ferry_migration_get_domain_name (m)));
          row[2] = g_strdup (or_dash (ferry_migration_get_direction (m)));
          row[3] = g_strdup (or_dash (ferry_migration_get_phase (m)));
          row[4] = g_strdup (or_dash (ferry_migration_get_state (m)));
          row[5] = g_strdup_printf ("%.0f%%", ferry_migration_get_progress (m) * 100.0);
          row[6] = g_strdup (or_dash (incoming ? ferry_migration_get_source (m)
                                               : ferry_migration_get_destination (m)));
          g_ptr_array_add (table, row);
        }
      table_print (table);
    }
}

/* --- show --- */

typedef enum
{
  UNIT_NONE,
  UNIT_BYTES,
  UNIT_RATE,
  UNIT_MS,
  UNIT_PERCENT,
  UNIT_DICT,
  UNIT_TIMESTAMPS,
} Unit;

static Unit
property_unit (const char *name)
{
  static const char *const bytes[] = { "MemoryTotal", "MemoryProcessed", "MemoryRemaining",
                                       "DiskTotal",   "DiskProcessed",   "DiskRemaining",
                                       NULL };
  static const char *const rates[] = { "TransferRate", "DirtyRate", NULL };
  static const char *const ms[] = { "TimeElapsed", "TimeRemaining", "ExpectedDowntime", NULL };

  if (g_strv_contains (bytes, name))
    return UNIT_BYTES;
  if (g_strv_contains (rates, name))
    return UNIT_RATE;
  if (g_strv_contains (ms, name))
    return UNIT_MS;
  if (g_str_equal (name, "Progress"))
    return UNIT_PERCENT;
  if (g_str_equal (name, "Options") || g_str_equal (name, "Statistics") ||
      g_str_equal (name, "Convergence"))
    return UNIT_DICT;
  if (g_str_equal (name, "PhaseTimestamps"))
    return UNIT_TIMESTAMPS;
  return UNIT_NONE;
}

static void
print_dict (GVariant *dict)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;
  int width = 0;

  if (g_variant_n_children (dict) == 0)
    {
      puts ("-");
      return;
    }
  putchar ('\n');
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    width = MAX (width, (int) strlen (key));
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autofree char *text = ferryctl_format_stat (key, value);

      printf ("  %-*s  %s\n", width, key, text);
      g_variant_unref (value);
    }
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static void
print_timestamps (GVariant *stamps)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *phase;
  guint64 t;

  if (g_variant_n_children (stamps) == 0)
    {
      puts ("-");
      return;
    }
  putchar ('\n');
  g_variant_iter_init (&iter, stamps);
  while (g_variant_iter_next (&iter, "{&st}", &phase, &t))
    {
      g_autofree char *when = ferryctl_format_timestamp (t);
      /* a sortable prefix, cut off when printing */
      g_ptr_array_add (lines,
                       g_strdup_printf ("%020" G_GUINT64_FORMAT "  %-8s  %s", t, phase, when));
    }
  g_ptr_array_sort (lines, compare_strings);
  for (guint i = 0; i < lines->len; i++)
    printf ("  %s\n", (char *) lines->pdata[i] + 22);
}

/* The D-Bus properties of org.ferryvm.Ferry1.Migration in the order of
 * the interface, each with the FerryMigration property that follows it
 * and its D-Bus type, so show prints what it always printed. */
static const struct
{
  const char *name;
  const char *property;
  const char *type;
} migration_properties[] = {
  { "Domain", "domain-path", "o" },
  { "DomainName", "domain-name", "s" },
  { "Source", "source", "s" },
  { "Destination", "destination", "s" },
  { "Direction", "direction", "s" },
  { "Backend", "backend", "s" },
  { "Options", "options", "a{sv}" },
  { "StartedByUID", "started-by-uid", "u" },
  { "Phase", "phase", "s" },
  { "State", "state", "s" },
  { "Mode", "mode", "s" },
  { "PhaseTimestamps", "phase-timestamps", "a{st}" },
  { "Progress", "progress", "d" },
  { "TimeElapsed", "time-elapsed", "t" },
  { "TimeRemaining", "time-remaining", "t" },
  { "MemoryTotal", "memory-total", "t" },
  { "MemoryProcessed", "memory-processed", "t" },
  { "MemoryRemaining", "memory-remaining", "t" },
  { "DiskTotal", "disk-total", "t" },
  { "DiskProcessed", "disk-processed", "t" },
  { "DiskRemaining", "disk-remaining", "t" },
  { "TransferRate", "transfer-rate", "t" },
  { "DirtyRate", "dirty-rate", "t" },
  { "Iteration", "iteration", "u" },
  { "ExpectedDowntime", "expected-downtime", "t" },
  { "Converging", "converging", "s" },
  { "Convergence", "convergence", "a{sv}" },
  { "Statistics", "statistics", "a{sv}" },
  { "ErrorName", "error-name", "s" },
  { "ErrorMessage", "error-message", "s" },
};

/* The value of migration_properties[i] as D-Bus has it (a new reference),
 * or NULL when ferryd did not give it. */
static GVariant *
migration_property (FerryMigration *migration, guint i)
{
  const char *property = migration_properties[i].property;
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (migration), property);
  g_auto (GValue) value = G_VALUE_INIT;
  GVariant *v = NULL;

  if (pspec == NULL)
    return NULL;
  g_value_init (&value, pspec->value_type);
  g_object_get_property (G_OBJECT (migration), property, &value);
  switch (migration_properties[i].type[0])
    {
    case 's':
    case 'o':
      {
        const char *s = g_value_get_string (&value);

        if (s == NULL)
          return NULL;
        if (migration_properties[i].type[0] == 'o' && g_variant_is_object_path (s))
          v = g_variant_new_object_path (s);
        else
          v = g_variant_new_string (s);
        break;
      }
    case 'u':
      v = g_variant_new_uint32 (g_value_get_uint (&value));
      break;
    case 't':
      v = g_variant_new_uint64 (g_value_get_uint64 (&value));
      break;
    case 'd':
      v = g_variant_new_double (g_value_get_double (&value));
      break;
    default:
      return g_value_dup_variant (&value);
    }
  return g_variant_ref_sink (v);
}

void
ferryctl_report_show (FerryMigration *migration, gboolean json)
{
  const char *path = ferry_migration_get_object_path (migration);

  if (json)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "id",
                             g_variant_new_uint64 (ferryctl_migration_id_from_path (path)));
      g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
      for (guint i = 0; i < G_N_ELEMENTS (migration_properties); i++)
        {
          g_autoptr (GVariant) v = migration_property (migration, i);
          if (v != NULL)
            g_variant_builder_add (&b, "{sv}", migration_properties[i].name, v);
        }
      ferryctl_json_print (g_variant_builder_end (&b));
      return;
    }

  printf ("%-17s %s\n", "Path", path);
  for (guint i = 0; i < G_N_ELEMENTS (migration_properties); i++)
    {
      const char *name = migration_properties[i].name;
      g_autoptr (GVariant) v = migration_property (migration, i);
      g_autofree char *text = NULL;

      if (v == NULL)
        continue;
      if ((property_unit (name) == UNIT_DICT || property_unit (name) == UNIT_TIMESTAMPS) &&
          g_variant_n_children (v) > 0)
        printf ("%s", name);
      else
        printf ("%-17s ", name);
      switch (property_unit (name))
        {
        case UNIT_BYTES:
          {
            g_autofree char *h = ferryctl_format_bytes (g_variant_get_uint64 (v));
            text = g_strdup_printf ("%s (%" G_GUINT64_FORMAT ")", h, g_variant_get_uint64 (v));
            break;
          }
        case UNIT_RATE:
          text = ferryctl_format_rate (g_variant_get_uint64 (v));
          break;
        case UNIT_MS:
          text = ferryctl_format_ms (g_variant_get_uint64 (v));
          break;
        case UNIT_PERCENT:
          text = g_strdup_printf ("%.1f%%", g_variant_get_double (v) * 100.0);
          break;
        case UNIT_DICT:
          print_dict (v);
          continue;
        case UNIT_TIMESTAMPS:
          print_timestamps (v);
          continue;
        case UNIT_NONE:
          text = ferryctl_format_value (v);
          break;
        }
      puts (text != NULL && *text ? text : "-");
    }
}

/* --- check --- */

static void
print_list (GVariant *report, const char *key, const char *heading)
{
  g_autofree const char **items = NULL;

  if (!g_variant_lookup (report, key, "^a&s", &items))
    return;
  if (items[0] == NULL)
    {
      printf ("%s: none\n", heading);
      return;
    }
  printf ("%s:\n", heading);
  for (guint i = 0; items[i]; i++)
    printf ("  - %s\n", items[i]);
}

gboolean
ferryctl_report_check (GVariant *report, gboolean json)
{
  static const char *const known[] = { "ok",       "blockers",       "warnings",
                                       "features", "estimated-time", "estimated-downtime",
                                       NULL };
  gboolean ok = FALSE;
  g_autofree const char **features = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_lookup (report, "ok", "b", &ok);
  if (json)
    {
      ferryctl_json_print (g_variant_ref (report));
      return ok;
    }

  printf ("ok: %s\n", ok ? "yes" : "no");
  print_list (report, "blockers", "blockers");
  print_list (report, "warnings", "warnings");
  if (g_variant_lookup (report, "features", "^a&s", &features))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **) features);
      printf ("features: %s\n", *joined ? joined : "none");
    }
  for (guint i = 4; known[i]; i++)
    {
      g_autoptr (GVariant) v = g_variant_lookup_value (report, known[i], NULL);
      if (v != NULL)
        {
          g_autofree char *text = ferryctl_format_stat (known[i], v);
          printf ("%s: %s\n", known[i], text);
        }
    }
  /* Keys added later: shown as they are. */
  g_variant_iter_init (&iter, report);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (!g_strv_contains (known, key))
        {
          g_autofree char *text = ferryctl_format_stat (key, value);
          printf ("%s: %s\n", key, text);
        }
      g_variant_unref (value);
    }
  return ok;
}

void
ferryctl_report_started (const char *path, gboolean following, gboolean json)
{
  guint64 id = ferryctl_migration_id_from_path (path);

  if (json)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "event", g_variant_new_string ("started"));
      g_variant_builder_add (&b, "{sv}", "migration", g_variant_new_uint64 (id));
      g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
      ferryctl_json_print (g_variant_builder_end (&b));
    }
  else if (following)
    printf ("migration %" G_GUINT64_FORMAT " started: %s\n", id, path);
  else
    printf ("migration %" G_GUINT64_FORMAT " started: %s\n"
            "Follow it with: ferryctl watch %" G_GUINT64_FORMAT "\n",
            id, path, id);
  fflush (stdout);
}
