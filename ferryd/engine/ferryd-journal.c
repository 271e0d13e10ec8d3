/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-journal.c: the migration journal: key files, written atomically */
#define G_LOG_DOMAIN "ferry-journal"

#include <errno.h>
#include <glib/gstdio.h>

#include "ferryd-journal.h"
#include "ferry-error.h"

#define GROUP "Migration"

void
ferryd_journal_entry_free (FerrydJournalEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->domain_name);
  g_free (e->description);
  g_free (e->source);
  g_free (e->destination);
  g_free (e->backend);
  g_clear_pointer (&e->options, g_variant_unref);
  g_free (e->phase);
  g_free (e->state);
  g_free (e->mode);
  g_clear_pointer (&e->phase_timestamps, g_variant_unref);
  g_clear_pointer (&e->statistics, g_variant_unref);
  g_free (e->error_name);
  g_free (e->error_message);
  g_free (e->peer_address);
  g_free (e->peer_migration);
  g_strfreev (e->features);
  g_free (e->data_host);
  g_free (e->persistent_description);
  g_free (e);
}

char *
ferryd_journal_dir (const char *state_dir)
{
  return g_build_filename (state_dir, "migrations", NULL);
}

static char *
entry_path (const char *dir, guint id)
{
  g_autofree char *name = g_strdup_printf ("%u.journal", id);

  return g_build_filename (dir, name, NULL);
}

static void
set_string (GKeyFile *file, const char *key, const char *value)
{
  if (value)
    g_key_file_set_string (file, GROUP, key, value);
}

static void
set_variant (GKeyFile *file, const char *key, GVariant *value)
{
  g_autofree char *text = NULL;

  if (value == NULL)
    return;
  text = g_variant_print (value, TRUE);
  g_key_file_set_string (file, GROUP, key, text);
}

gboolean
ferryd_journal_write (const char *dir, const FerrydJournalEntry *e, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *path = entry_path (dir, e->id);
  g_autofree char *data = NULL;
  g_autofree char *tmp = NULL;
  gsize length;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot create %s: %s", dir,
                   g_strerror (saved));
      return FALSE;
    }
  g_key_file_set_uint64 (file, GROUP, "Id", e->id);
  g_key_file_set_boolean (file, GROUP, "Incoming", e->incoming);
  g_key_file_set_boolean (file, GROUP, "Finished", e->finished);
  set_string (file, "Domain", e->domain_name);
  set_string (file, "Description", e->description);
  set_string (file, "Source", e->source);
  set_string (file, "Destination", e->destination);
  set_string (file, "Backend", e->backend);
  set_variant (file, "Options", e->options);
  g_key_file_set_uint64 (file, GROUP, "UID", e->uid);
  set_string (file, "Phase", e->phase);
  set_string (file, "State", e->state);
  set_string (file, "Mode", e->mode);
  set_variant (file, "PhaseTimestamps", e->phase_timestamps);
  set_variant (file, "Statistics", e->statistics);
  set_string (file, "ErrorName", e->error_name);
  set_string (file, "ErrorMessage", e->error_message);
  g_key_file_set_double (file, GROUP, "Progress", e->progress);
  g_key_file_set_boolean (file, GROUP, "MigrateSent", e->migrate_sent);
  g_key_file_set_boolean (file, GROUP, "PostcopyStarted", e->postcopy_started);
  set_string (file, "PeerAddress", e->peer_address);
  set_string (file, "PeerMigration", e->peer_migration);
  if (e->features)
    g_key_file_set_string_list (file, GROUP, "Features", (const char *const *) e->features,
                                g_strv_length (e->features));
  set_string (file, "DataHost", e->data_host);
  set_string (file, "PersistentDescription", e->persistent_description);
  g_key_file_set_boolean (file, GROUP, "CreatedDomain", e->created_domain);
  data = g_key_file_to_data (file, &length, NULL);
  /* Written to a temporary file and renamed over the old one: a ferryd
   * killed at any moment leaves the old entry or the new one. No fsync:
   * it would stall the main loop, and a lost entry after a power cut
   * only costs the history (the guests did not survive it either). */
  tmp = g_strconcat (path, ".new", NULL);
  if (!g_file_set_contents_full (tmp, data, (gssize) length, G_FILE_SET_CONTENTS_NONE, 0600, error))
    return FALSE;
  if (g_rename (tmp, path) < 0)
    {
      int saved = errno;
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot replace %s: %s", path,
                   g_strerror (saved));
      (void) g_unlink (tmp);
      return FALSE;
    }
  return TRUE;
}

void
ferryd_journal_remove (const char *dir, guint id)
{
  g_autofree char *path = entry_path (dir, id);

  (void) g_unlink (path);
}

static GVariant *
get_variant (GKeyFile *file, const char *key, const char *type)
{
  g_autofree char *text = g_key_file_get_string (file, GROUP, key, NULL);
  GVariant *value;

  if (text == NULL)
    return NULL;
  value = g_variant_parse (G_VARIANT_TYPE (type), text, NULL, NULL, NULL);
  return value ? g_variant_ref_sink (value) : NULL;
}

static FerrydJournalEntry *
parse_entry (const char *path, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (FerrydJournalEntry) e = g_new0 (FerrydJournalEntry, 1);

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, error))
    return NULL;
  e->id = (guint) g_key_file_get_uint64 (file, GROUP, "Id", NULL);
  e->domain_name = g_key_file_get_string (file, GROUP, "Domain", NULL);
  e->phase = g_key_file_get_string (file, GROUP, "Phase", NULL);
  e->state = g_key_file_get_string (file, GROUP, "State", NULL);
  if (e->id == 0 || e->domain_name == NULL || e->phase == NULL || e->state == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "%s: incomplete entry", path);
      return NULL;
    }
  e->incoming = g_key_file_get_boolean (file, GROUP, "Incoming", NULL);
  e->finished = g_key_file_get_boolean (file, GROUP, "Finished", NULL);
  e->description = g_key_file_get_string (file, GROUP, "Description", NULL);
  e->source = g_key_file_get_string (file, GROUP, "Source", NULL);
  e->destination = g_key_file_get_string (file, GROUP, "Destination", NULL);
  e->backend = g_key_file_get_string (file, GROUP, "Backend", NULL);
  e->options = get_variant (file, "Options", "a{sv}");
  e->uid = (guint32) g_key_file_get_uint64 (file, GROUP, "UID", NULL);
  e->mode = g_key_file_get_string (file, GROUP, "Mode", NULL);
  e->phase_timestamps = get_variant (file, "PhaseTimestamps", "a{st}");
  e->statistics = get_variant (file, "Statistics", "a{sv}");
  e->error_name = g_key_file_get_string (file, GROUP, "ErrorName", NULL);
  e->error_message = g_key_file_get_string (file, GROUP, "ErrorMessage", NULL);
  e->progress = g_key_file_get_double (file, GROUP, "Progress", NULL);
  e->migrate_sent = g_key_file_get_boolean (file, GROUP, "MigrateSent", NULL);
  e->postcopy_started = g_key_file_get_boolean (file, GROUP, "PostcopyStarted", NULL);
  e->peer_address = g_key_file_get_string (file, GROUP, "PeerAddress", NULL);
  e->peer_migration = g_key_file_get_string (file, GROUP, "PeerMigration", NULL);
  e->features = g_key_file_get_string_list (file, GROUP, "Features", NULL, NULL);
  e->data_host = g_key_file_get_string (file, GROUP, "DataHost", NULL);
  e->persistent_description = g_key_file_get_string (file, GROUP, "PersistentDescription", NULL);
  e->created_domain = g_key_file_get_boolean (file, GROUP, "CreatedDomain", NULL);
  return g_steal_pointer (&e);
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  const FerrydJournalEntry *ea = *(FerrydJournalEntry *const *) a;
  const FerrydJournalEntry *eb = *(FerrydJournalEntry *const *) b;

  return ea->id < eb->id ? -1 : ea->id > eb->id;
}

GPtrArray *
ferryd_journal_load (const char *dir)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ferryd_journal_entry_free);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = NULL;
      g_autoptr (GError) error = NULL;
      FerrydJournalEntry *e;

      if (!g_str_has_suffix (name, ".journal"))
        continue;
      path = g_build_filename (dir, name, NULL);
      e = parse_entry (path, &error);
      if (e == NULL)
        {
          g_warning ("Ignoring migration journal %s: %s", path, error->message);
          continue;
        }
      g_ptr_array_add (entries, e);
    }
  g_ptr_array_sort (entries, compare_ids);
  return entries;
}
