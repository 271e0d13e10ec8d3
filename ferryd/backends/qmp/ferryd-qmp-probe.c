/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-probe.c: the capabilities this host offers, from what its
 * QEMU answers rather than from what Ferry could drive: a QEMU built
 * without a feature, or a host without userfaultfd, must not be offered
 * to a peer that then fails mid-migration. */
#define G_LOG_DOMAIN "ferry-qmp-probe"

#include "ferryd-qmp-probe.h"

#include <json-glib/json-glib.h>
#include <unistd.h>

#include "ferry-error.h"

/* A QEMU that starts no guest answers in well under a second; one that
 * hangs must not hold ferryd's start-up. */
#define PROBE_TIMEOUT_S 20

const char *
ferryd_qmp_probe_input (void)
{
  return "{\"execute\": \"qmp_capabilities\"}\n"
         "{\"execute\": \"query-migrate-capabilities\"}\n"
         "{\"execute\": \"query-commands\"}\n"
         "{\"execute\": \"quit\"}\n";
}

gboolean
ferryd_qmp_probe_userfaultfd (void)
{
  /* QEMU opens /dev/userfaultfd, or the syscall as root. */
  return access ("/dev/userfaultfd", R_OK | W_OK) == 0 || geteuid () == 0;
}

static gboolean
has (const char *const *list, const char *name)
{
  return list && g_strv_contains (list, name);
}

GStrv
ferryd_qmp_probe_map (const char *const *caps, const char *const *commands, gboolean userfaultfd)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  gboolean postcopy = has (caps, "postcopy-ram") && userfaultfd;
  gboolean mirror = has (commands, "blockdev-mirror") && has (commands, "nbd-server-start") &&
                    has (commands, "nbd-server-add");

  if (postcopy)
    g_strv_builder_add (builder, "postcopy");
  /* Recovery pauses a broken post-copy and resumes it on a new stream. */
  if (postcopy && has (commands, "migrate-pause") && has (commands, "migrate-recover"))
    g_strv_builder_add (builder, "postcopy-recover");
  if (has (caps, "switchover-ack") && has (caps, "return-path"))
    g_strv_builder_add (builder, "switchover-ack");
  if (has (caps, "multifd"))
    g_strv_builder_add (builder, "multifd");
  if (has (caps, "auto-converge"))
    g_strv_builder_add (builder, "auto-converge");
  /* TLS needs credentials objects; QEMU's migration takes them by
   * parameter, which every QEMU that answers these commands has. */
  if (has (commands, "migrate-set-parameters") && has (commands, "object-add"))
    g_strv_builder_add (builder, "tls");
  if (mirror)
    g_strv_builder_add (builder, "storage-mirror");
  /* Synchronous writes are the mirror's write-blocking mode, switched
   * on a running job. */
  if (mirror && has (commands, "block-job-change"))
    g_strv_builder_add (builder, "synchronous-writes");
  return g_strv_builder_end (builder);
}

/* The names under @key of each element of the array @node. */
static GStrv
names_of (JsonNode *node, const char *key)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *name;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      name = json_object_get_string_member_with_default (json_node_get_object (element), key, NULL);
      if (name)
        g_strv_builder_add (builder, name);
    }
  return g_strv_builder_end (builder);
}

GStrv
ferryd_qmp_probe_parse (const char *output, gboolean userfaultfd, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (output ? output : "", "\n", -1);
  g_auto (GStrv) caps = NULL;
  g_auto (GStrv) commands = NULL;
  guint answer = 0;

  /* The answers come in the order of the commands, between events. */
  for (gsize i = 0; lines[i]; i++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *object;
      JsonNode *ret;

      if (lines[i][0] == '\0' || !json_parser_load_from_data (parser, lines[i], -1, NULL) ||
          json_parser_get_root (parser) == NULL ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      object = json_node_get_object (json_parser_get_root (parser));
      if (json_object_has_member (object, "error"))
        answer++;
      ret = json_object_get_member (object, "return");
      if (ret == NULL)
        continue;
      if (answer == 1)
        caps = names_of (ret, "capability");
      else if (answer == 2)
        commands = names_of (ret, "name");
      answer++;
    }
  if (caps == NULL || commands == NULL)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_FAILED,
                           "QEMU did not answer query-migrate-capabilities and query-commands");
      return NULL;
    }
  return ferryd_qmp_probe_map ((const char *const *) caps, (const char *const *) commands,
                               userfaultfd);
}

typedef struct
{
  GSubprocess *process;
  GCancellable *cancellable; /* the caller's and the timeout's */
  gulong cancelled_id;
  GCancellable *caller;
  guint timeout_id;
} Probe;

static void
probe_free (Probe *probe)
{
  g_clear_handle_id (&probe->timeout_id, g_source_remove);
  if (probe->caller)
    g_cancellable_disconnect (probe->caller, probe->cancelled_id);
  g_clear_object (&probe->caller);
  g_clear_object (&probe->process);
  g_clear_object (&probe->cancellable);
  g_free (probe);
}

static gboolean
probe_timeout_cb (gpointer user_data)
{
  Probe *probe = user_data;

  probe->timeout_id = 0;
  g_cancellable_cancel (probe->cancellable);
  return G_SOURCE_REMOVE;
}

static void
caller_cancelled_cb (GCancellable *caller, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
communicate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Probe *probe = g_task_get_task_data (task);
  g_autofree char *output = NULL;
  g_autoptr (GError) error = NULL;
  GStrv capabilities;

  if (!g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &output, NULL, &error))
    {
      /* A QEMU that hangs is ended here; GSubprocess reaps it. */
      g_subprocess_force_exit (probe->process);
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "probing QEMU's migration capabilities: %s", error->message);
      return;
    }
  capabilities = ferryd_qmp_probe_parse (output, ferryd_qmp_probe_userfaultfd (), &error);
  if (capabilities == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, capabilities, (GDestroyNotify) g_strfreev);
}

void
ferryd_qmp_probe_async (const char *binary,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  Probe *probe = g_new0 (Probe, 1);

  g_task_set_source_tag (task, ferryd_qmp_probe_async);
  g_task_set_task_data (task, probe, (GDestroyNotify) probe_free);
  probe->process =
      g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                        &error, binary, "-machine", "none", "-nodefaults", "-S", "-display", "none",
                        "-qmp", "stdio", NULL);
  if (probe->process == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "probing QEMU's migration capabilities: %s", error->message);
      return;
    }
  probe->cancellable = g_cancellable_new ();
  if (cancellable)
    {
      probe->caller = g_object_ref (cancellable);
      probe->cancelled_id =
          g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                 g_object_ref (probe->cancellable), g_object_unref);
    }
  probe->timeout_id = g_timeout_add_seconds (PROBE_TIMEOUT_S, probe_timeout_cb, probe);
  g_subprocess_communicate_utf8_async (probe->process, ferryd_qmp_probe_input (),
                                       probe->cancellable, communicate_cb, g_steal_pointer (&task));
}

GStrv
ferryd_qmp_probe_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferryd_qmp_probe_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
