/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the backend registry and the FerrydStream interface's
 * defaults and signals */
#define G_LOG_DOMAIN "test-backend"

#include "ferry-error.h"
#include "ferryd-backend.h"
#include "ferryd-stream.h"

static void
test_backend_registry (void)
{
  FerrydBackend *qmp = ferryd_backend_get ("qmp");
  const char *const *names = ferryd_backend_list_names ();

  g_assert_nonnull (qmp);
  g_assert_true (FERRYD_IS_BACKEND (qmp));
  g_assert_cmpstr (ferryd_backend_get_name (qmp), ==, "qmp");
  /* One instance per backend. */
  g_assert_true (ferryd_backend_get ("qmp") == qmp);
  g_assert_true (ferryd_backend_get_default () == qmp);
  g_assert_true (g_strv_contains (names, "qmp"));
  g_assert_cmpstr (names[0], ==, "qmp");
  g_assert_null (ferryd_backend_get ("no-such-backend"));
  g_assert_null (ferryd_backend_get (""));
  /* The accelerators are a non-empty list; TCG always works. */
  g_assert_true (g_strv_contains (ferryd_backend_list_accelerators (qmp), "tcg"));
}

static void
test_backend_accept_incoming (void)
{
  FerrydBackend *qmp = ferryd_backend_get ("qmp");
  const char *base = "[Domain]\nName=demo\nMemory=64\nCPUs=1\nKernel=/boot/guest.elf\n"
                     "[QEMU]\nBinary=";
  static const char *const refused[] = { "/usr/bin/qemu-system-x86_64", "bash",
                                         "qemu-system-x86_64/../../bin/sh", "qemu-img" };
  g_autofree char *good = g_strconcat (base, "qemu-system-x86_64\n", NULL);
  g_autoptr (FerrydDomainConfig) config = ferryd_domain_config_parse (good, NULL);
  g_autoptr (GError) error = NULL;
  guint tested = 0;

  g_assert_nonnull (config);
  g_assert_true (ferryd_backend_accept_incoming (qmp, config, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *text = g_strconcat (base, refused[i], "\n", NULL);
      g_autoptr (FerrydDomainConfig) bad = ferryd_domain_config_parse (text, NULL);

      if (bad == NULL)
        continue; /* the description itself is refused: fine too */
      g_assert_false (ferryd_backend_accept_incoming (qmp, bad, &error));
      g_assert_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      tested++;
    }
  g_assert_cmpuint (tested, >=, 3);
}

/* A stream that implements nothing optional. */
#define TEST_TYPE_STREAM (test_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestStream, test_stream, TEST, STREAM, GObject)

struct _TestStream
{
  GObject parent_instance;
};

static void test_stream_iface_init (FerrydStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (TestStream,
                         test_stream,
                         G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (FERRYD_TYPE_STREAM, test_stream_iface_init))

static void
test_stream_class_init (TestStreamClass *klass)
{
}

static void
test_stream_init (TestStream *self)
{
}

static void
test_stream_iface_init (FerrydStreamInterface *iface)
{
}

typedef struct
{
  guint status;
  gint64 ts;
  guint pass;
  char *reason;
  guint exited;
} Seen;

static void
on_status (FerrydStream *stream, guint status, gint64 ts, Seen *seen)
{
  seen->status = status;
  seen->ts = ts;
}

static void
on_pass (FerrydStream *stream, guint pass, Seen *seen)
{
  seen->pass = pass;
}

static void
on_stopped (FerrydStream *stream, gint64 ts, Seen *seen)
{
  seen->ts = -ts;
}

static void
on_crashed (FerrydStream *stream, const char *reason, Seen *seen)
{
  g_free (seen->reason);
  seen->reason = g_strdup (reason);
}

static void
on_exited (FerrydStream *stream, Seen *seen)
{
  seen->exited++;
}

static void
got_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_stream_signals (void)
{
  g_autoptr (TestStream) stream = g_object_new (TEST_TYPE_STREAM, NULL);
  FerrydStream *s = FERRYD_STREAM (stream);
  g_autoptr (GError) error = NULL;
  Seen seen = { 0 };

  GAsyncResult *result = NULL;
  g_autofree char *uri = NULL;

  /* Recovery is optional: NotSupported unless a backend has it. */
  ferryd_stream_recover_async (s, "tcp:host:1", NULL, got_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ferryd_stream_recover_finish (s, result, &error));
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_clear_object (&result);
  ferryd_stream_listen_recover_async (s, NULL, NULL, NULL, got_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  uri = ferryd_stream_listen_recover_finish (s, result, &error);
  g_assert_null (uri);
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED);
  g_clear_object (&result);

  g_signal_connect (s, "status-changed", G_CALLBACK (on_status), &seen);
  g_signal_connect (s, "pass", G_CALLBACK (on_pass), &seen);
  g_signal_connect (s, "stopped", G_CALLBACK (on_stopped), &seen);
  g_signal_connect (s, "crashed", G_CALLBACK (on_crashed), &seen);
  g_signal_connect (s, "exited", G_CALLBACK (on_exited), &seen);

  ferryd_stream_emit_status (s, FERRYD_STREAM_POSTCOPY_ACTIVE, G_GINT64_CONSTANT (1) << 40);
  g_assert_cmpuint (seen.status, ==, FERRYD_STREAM_POSTCOPY_ACTIVE);
  g_assert_cmpint (seen.ts, ==, G_GINT64_CONSTANT (1) << 40);
  ferryd_stream_emit_pass (s, 7);
  g_assert_cmpuint (seen.pass, ==, 7);
  ferryd_stream_emit_stopped (s, 42);
  g_assert_cmpint (seen.ts, ==, -42);
  ferryd_stream_emit_crashed (s, "guest panic");
  g_assert_cmpstr (seen.reason, ==, "guest panic");
  ferryd_stream_emit_exited (s);
  ferryd_stream_emit_resumed (s, 1); /* nobody listens: fine */
  g_assert_cmpuint (seen.exited, ==, 1);
  g_free (seen.reason);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/backend/registry", test_backend_registry);
  g_test_add_func ("/backend/accept-incoming", test_backend_accept_incoming);
  g_test_add_func ("/backend/stream-signals", test_stream_signals);
  return g_test_run ();
}
