/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the migration journal (ferryd-journal.h): what is written
 * comes back, entries are replaced whole, bad files are skipped */
#define G_LOG_DOMAIN "test-journal"

#include <glib/gstdio.h>

#include "ferryd-journal.h"

static FerrydJournalEntry *
make_entry (guint id, const char *state)
{
  FerrydJournalEntry *e = g_new0 (FerrydJournalEntry, 1);
  GVariantBuilder stamps;

  g_variant_builder_init (&stamps, G_VARIANT_TYPE ("a{st}"));
  g_variant_builder_add (&stamps, "{st}", "begin", (guint64) 1000);
  g_variant_builder_add (&stamps, "{st}", "perform", (guint64) 2000);
  e->id = id;
  e->incoming = id % 2 == 0;
  e->domain_name = g_strdup ("demo");
  e->description = g_strdup ("[Domain]\nName=demo\nAppend=wss=8 rate=0\n");
  e->source = g_strdup ("a");
  e->destination = g_strdup ("unix:path=/run/b");
  e->backend = g_strdup ("qmp");
  e->options = g_variant_ref_sink (g_variant_new_parsed ("{'postcopy': <'manual'>}"));
  e->uid = 1000;
  e->phase = g_strdup ("perform");
  e->state = g_strdup (state);
  e->mode = g_strdup ("postcopy");
  e->phase_timestamps = g_variant_ref_sink (g_variant_builder_end (&stamps));
  e->statistics = g_variant_ref_sink (g_variant_new_parsed ("{'downtime': <@t 12>}"));
  e->error_name = g_strdup ("");
  e->error_message = g_strdup ("a message\nover two lines");
  e->progress = 0.5;
  e->migrate_sent = TRUE;
  e->postcopy_started = TRUE;
  e->peer_address = g_strdup ("unix:path=/run/b");
  e->peer_migration = g_strdup ("/org/ferryvm/Ferry1/migration/7");
  e->features = g_strsplit ("events return-path postcopy-ram", " ", -1);
  e->persistent_description = g_strdup ("[Domain]\nName=demo\n");
  e->created_domain = TRUE;
  return e;
}

static void
test_journal_round_trip (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("ferry-journal-XXXXXX", NULL);
  g_autofree char *dir = ferryd_journal_dir (tmp);
  g_autoptr (FerrydJournalEntry) a = make_entry (3, "postcopy-active");
  g_autoptr (FerrydJournalEntry) b = make_entry (12, "active");
  g_autoptr (FerrydJournalEntry) a2 = make_entry (3, "postcopy-paused");
  g_autoptr (GPtrArray) loaded = NULL;
  g_autofree char *bad = NULL;
  FerrydJournalEntry *e;
  guint64 t = 0;

  g_assert_true (ferryd_journal_write (dir, b, NULL));
  g_assert_true (ferryd_journal_write (dir, a, NULL));
  /* a later write replaces the entry whole */
  g_assert_true (ferryd_journal_write (dir, a2, NULL));
  /* a file that is not an entry is skipped, with a warning */
  bad = g_build_filename (dir, "5.journal", NULL);
  g_assert_true (g_file_set_contents (bad, "t", -1, NULL));
  g_test_expect_message ("ferry-journal", G_LOG_LEVEL_WARNING, "*5.journal*");
  loaded = ferryd_journal_load (dir);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (loaded->len, ==, 2);
  e = g_ptr_array_index (loaded, 0); /* oldest first */
  g_assert_cmpuint (e->id, ==, 3);
  g_assert_cmpstr (e->state, ==, "postcopy-paused");
  g_assert_false (e->incoming);
  g_assert_cmpstr (e->description, ==, a->description);
  g_assert_cmpstr (e->error_message, ==, "a message\nover two lines");
  g_assert_true (g_variant_equal (e->options, a->options));
  g_assert_true (g_variant_lookup (e->phase_timestamps, "perform", "t", &t));
  g_assert_cmpuint (t, ==, 2000);
  g_assert_true (g_variant_equal (e->statistics, a->statistics));
  g_assert_cmpfloat (e->progress, ==, 0.5);
  g_assert_true (e->migrate_sent);
  g_assert_true (e->postcopy_started);
  g_assert_cmpstr (e->peer_migration, ==, "/org/ferryvm/Ferry1/migration/7");
  g_assert_cmpstrv (e->features, a->features);
  g_assert_cmpstr (e->persistent_description, ==, a->persistent_description);
  g_assert_true (e->created_domain);
  g_assert_cmpuint (((FerrydJournalEntry *) g_ptr_array_index (loaded, 1))->id, ==, 12);
  g_assert_true (((FerrydJournalEntry *) g_ptr_array_index (loaded, 1))->incoming);

  ferryd_journal_remove (dir, 3);
  ferryd_journal_remove (dir, 12);
  (void) g_unlink (bad);
  g_clear_pointer (&loaded, g_ptr_array_unref);
  loaded = ferryd_journal_load (dir);
  g_assert_cmpuint (loaded->len, ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_assert_cmpint (g_rmdir (tmp), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/journal/round-trip", test_journal_round_trip);
  return g_test_run ();
}
