/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-probe.c: the capabilities a host offers come from what its QEMU
 * answers: the mapping, and the probe of a QEMU that lacks features and
 * of the installed one */
#define G_LOG_DOMAIN "test-probe"

#include <glib/gstdio.h>

#include "ferryd-qmp-probe.h"

static const char *const all_caps[] = { "auto-converge", "postcopy-ram",   "return-path",
                                        "multifd",       "switchover-ack", NULL };
static const char *const all_commands[] = {
  "migrate-set-parameters", "object-add",       "migrate-pause",
  "migrate-recover",        "blockdev-mirror",  "nbd-server-add",
  "nbd-server-start",       "block-job-change", NULL
};

static void
test_map (void)
{
  g_auto (GStrv) all = ferryd_qmp_probe_map (all_caps, all_commands, TRUE);
  g_auto (GStrv) no_uffd = ferryd_qmp_probe_map (all_caps, all_commands, FALSE);
  const char *const few_caps[] = { "auto-converge", "return-path", NULL };
  const char *const few_commands[] = { "migrate-set-parameters", "object-add", NULL };
  g_auto (GStrv) few = ferryd_qmp_probe_map (few_caps, few_commands, TRUE);
  const char *const expected_all[] = { "postcopy",       "postcopy-recover",   "switchover-ack",
                                       "multifd",        "auto-converge",      "tls",
                                       "storage-mirror", "synchronous-writes", NULL };
  const char *const expected_few[] = { "auto-converge", "tls", NULL };

  g_assert_true (g_strv_equal ((const char *const *) all, expected_all));
  /* Post-copy needs userfaultfd as well as QEMU's capability. */
  g_assert_false (g_strv_contains ((const char *const *) no_uffd, "postcopy"));
  g_assert_false (g_strv_contains ((const char *const *) no_uffd, "postcopy-recover"));
  g_assert_true (g_strv_contains ((const char *const *) no_uffd, "multifd"));
  g_assert_true (g_strv_equal ((const char *const *) few, expected_few));
}

static void
test_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) caps = NULL;
  const char *output = "{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\n"
                       "{\"return\": {}}\n"
                       "{\"return\": [{\"state\": false, \"capability\": \"multifd\"}]}\n"
                       "{\"timestamp\": {}, \"event\": \"X\", \"data\": {}}\n"
                       "{\"return\": [{\"name\": \"migrate\"}, {\"name\": \"blockdev-mirror\"}]}\n"
                       "{\"return\": {}}\n";
  const char *const expected[] = { "multifd", NULL };

  caps = ferryd_qmp_probe_parse (output, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_equal ((const char *const *) caps, expected));
  /* No answer at all: an error, not an empty list that looks true. */
  g_assert_null (ferryd_qmp_probe_parse ("", TRUE, &error));
  g_assert_nonnull (error);
}

static void
probe_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GStrv *out = user_data;
  g_autoptr (GError) error = NULL;

  *out = ferryd_qmp_probe_finish (result, &error);
  g_assert_no_error (error);
}

static GStrv
probe (const char *binary)
{
  GStrv caps = NULL;

  ferryd_qmp_probe_async (binary, NULL, probe_cb, &caps);
  while (caps == NULL)
    g_main_context_iteration (NULL, TRUE);
  return caps;
}

/* A QEMU built without multifd, switch-over acknowledgement and the
 * block mirror: the probe offers none of them. */
static void
test_probe_lacking (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ferry-probe-XXXXXX", NULL);
  g_autofree char *fake = g_build_filename (dir, "qemu-fake", NULL);
  const char *script =
      "#!/bin/sh\n"
      "cat >/dev/null\n"
      "echo '{\"QMP\": {\"version\": {}, \"capabilities\": []}}'\n"
      "echo '{\"return\": {}}'\n"
      "echo '{\"return\": [{\"state\": false, \"capability\": \"auto-converge\"}, "
      "{\"state\": false, \"capability\": \"return-path\"}]}'\n"
      "echo '{\"return\": [{\"name\": \"migrate-set-parameters\"}, {\"name\": \"object-add\"}]}'\n"
      "echo '{\"return\": {}}'\n";
  g_auto (GStrv) caps = NULL;
  const char *const expected[] = { "auto-converge", "tls", NULL };

  g_assert_true (g_file_set_contents (fake, script, -1, NULL));
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);
  caps = probe (fake);
  g_assert_true (g_strv_equal ((const char *const *) caps, expected));
  g_unlink (fake);
  g_rmdir (dir);
}

/* The installed QEMU (10.0 here): what it answers, nothing more. */
static void
test_probe_installed (void)
{
  g_auto (GStrv) caps = probe ("qemu-system-x86_64");
  g_autofree char *output = NULL;
  g_auto (GStrv) direct = NULL;
  const char *argv[] = { "/bin/sh", "-c",
                         "printf '%s' \"$0\" | qemu-system-x86_64 -machine none -nodefaults -S "
                         "-display none -qmp stdio",
                         ferryd_qmp_probe_input (), NULL };

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &output,
                               NULL, NULL, NULL));
  direct = ferryd_qmp_probe_parse (output, ferryd_qmp_probe_userfaultfd (), NULL);
  g_assert_nonnull (direct);
  g_assert_true (g_strv_equal ((const char *const *) caps, (const char *const *) direct));
  g_assert_true (g_strv_contains ((const char *const *) caps, "multifd"));
  g_assert_true (g_strv_contains ((const char *const *) caps, "storage-mirror"));
  g_assert_cmpint (g_strv_contains ((const char *const *) caps, "postcopy"), ==,
                   ferryd_qmp_probe_userfaultfd ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/probe/map", test_map);
  g_test_add_func ("/probe/parse", test_parse);
  g_test_add_func ("/probe/lacking", test_probe_lacking);
  g_test_add_func ("/probe/installed", test_probe_installed);
  return g_test_run ();
}
