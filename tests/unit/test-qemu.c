/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test: the QMP client and the QEMU supervisor against a real QEMU
 * running the project's test guest */
#define G_LOG_DOMAIN "test-qemu"

#include "ferryd-qemu.h"
#include "ferry-error.h"
#include "ferryd-qmp-error.h"
#include "ferryd-qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* QEMU runs in its own session (the launcher calls setsid), so it does
 * not die with this test: a failed assertion (SIGABRT), g_error or a
 * fatal critical (SIGTRAP), meson's timeout (SIGTERM) or ^C would leave
 * it running.  Kill and reap it then, and at exit.  Its pid is known
 * once the launch has finished; before that, it is this process' child
 * all the same.  Async-signal-safe: open, read, close, kill, waitpid. */
static volatile sig_atomic_t qemu_pid;

static void
kill_and_reap (pid_t pid)
{
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static void
reap_qemu (void)
{
  char path[64] = "/proc/self/task/";
  char buf[512];
  size_t len = strlen (path);
  pid_t pid = qemu_pid, tid = getpid ();
  char digits[16];
  int n = 0, fd;
  ssize_t got;

  if (pid > 0)
    kill_and_reap (pid);
  qemu_pid = 0;
  /* Children of the main thread (where GSubprocess forks): a QEMU whose
   * launch never finished. */
  do
    digits[n++] = (char) ('0' + tid % 10);
  while ((tid /= 10) > 0);
  while (n > 0)
    path[len++] = digits[--n];
  memcpy (path + len, "/children", sizeof "/children");
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  got = read (fd, buf, sizeof buf - 1);
  close (fd);
  pid = 0;
  for (ssize_t i = 0; i < got; i++)
    {
      if (buf[i] >= '0' && buf[i] <= '9')
        pid = pid * 10 + (buf[i] - '0');
      else if (pid > 0)
        {
          kill_and_reap (pid);
          pid = 0;
        }
    }
}

static void
fatal_signal_cb (int sig)
{
  int saved = errno;

  reap_qemu ();
  /* SA_RESETHAND restored the default action: die of sig once this
   * returns (a returning SIGTRAP handler would let g_error go on). */
  raise (sig);
  errno = saved;
}

static void
reap_qemu_on_exit (void)
{
  const int sigs[] = { SIGABRT, SIGTRAP, SIGTERM, SIGINT, SIGHUP };
  struct sigaction sa = { .sa_handler = fatal_signal_cb, .sa_flags = SA_RESETHAND };

  for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
    sigaction (sigs[i], &sa, NULL);
  atexit (reap_qemu);
}

typedef struct
{
  GMainLoop *loop;
  FerrydQemu *qemu;
  GError *error;
  JsonNode *reply;
  gboolean done;
  GPtrArray *events;
} Fixture;

static void
launched_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->qemu = ferryd_qemu_launch_finish (result, &f->error);
  g_main_loop_quit (f->loop);
}

static void
executed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &f->error);
  f->done = TRUE;
}

static void
event_cb (FerrydQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_cmpint (ts, >, 0);
  g_ptr_array_add (f->events, g_strdup (name));
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("timed out");
  return G_SOURCE_REMOVE;
}

static JsonNode *
execute (Fixture *f, const char *command)
{
  g_clear_pointer (&f->reply, json_node_unref);
  f->done = FALSE;
  ferryd_qmp_execute_async (ferryd_qemu_get_qmp (f->qemu), command, NULL, NULL, executed_cb, f);
  while (!f->done)
    g_main_context_iteration (NULL, TRUE);
  return f->reply;
}

static void
test_guest_under_qmp (void)
{
  const char *guest = g_getenv ("FERRY_TEST_GUEST");
  g_autofree char *tmp = g_dir_make_tmp ("ferry-test-qemu-XXXXXX", NULL);
  g_autofree char *description = NULL;
  g_autofree char *console = NULL;
  g_autofree char *text = NULL;
  g_autofree char *qmp_path = NULL;
  g_autoptr (FerrydDomainConfig) config = NULL;
  FerrydQemuLaunch launch = { tmp, tmp, FALSE, FALSE };
  Fixture f = { 0 };
  struct stat st;
  guint timeout;

  g_assert_nonnull (guest);
  description = g_strdup_printf ("[Domain]\nName=unit\nMemory=32\nAccel=tcg\nKernel=%s\n"
                                 "Append=wss=8 rate=4 hb=100 chk=2\n",
                                 guest);
  config = ferryd_domain_config_parse (description, &f.error);
  g_assert_no_error (f.error);

  f.loop = g_main_loop_new (NULL, FALSE);
  f.events = g_ptr_array_new_with_free_func (g_free);
  timeout = g_timeout_add_seconds (30, timeout_cb, NULL);
  ferryd_qemu_launch_async (config, &launch, NULL, launched_cb, &f);
  g_main_loop_run (f.loop);
  g_assert_no_error (f.error);
  qemu_pid = ferryd_qemu_get_pid (f.qemu);
  g_assert_cmpint (qemu_pid, >, 0);
  g_assert_cmpstr (ferryd_qemu_get_run_state (f.qemu), ==, "running");

  /* The QMP socket is private. */
  qmp_path = g_build_filename (tmp, "qemu", "unit.qmp", NULL);
  g_assert_cmpint (g_stat (qmp_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* Replies and events interleave on one socket. */
  g_signal_connect (ferryd_qemu_get_qmp (f.qemu), "event", G_CALLBACK (event_cb), &f);
  g_assert_nonnull (execute (&f, "stop"));
  while (f.events->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (f.events->pdata[0], ==, "STOP");
  /* STOP does not say why; the run state follows QEMU's own status. */
  while (g_str_equal (ferryd_qemu_get_run_state (f.qemu), "running"))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (ferryd_qemu_get_run_state (f.qemu), ==, "paused");
  g_assert_cmpstr (ferryd_qemu_get_state_reason (f.qemu), ==, "");
  g_assert_nonnull (execute (&f, "cont"));
  while (f.events->len < 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (f.events->pdata[1], ==, "RESUME");
  g_assert_cmpstr (ferryd_qemu_get_run_state (f.qemu), ==, "running");

  /* A QEMU error comes back as a GError, and the connection survives. */
  g_assert_null (execute (&f, "no-such-command"));
  g_assert_error (f.error, FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_COMMAND);
  g_clear_error (&f.error);
  g_assert_nonnull (execute (&f, "query-status"));

  /* The guest runs and its console reaches the log: heartbeats, no errors. */
  console = g_build_filename (tmp, "console", "unit.log", NULL);
  for (int i = 0; i < 100; i++)
    {
      g_clear_pointer (&text, g_free);
      if (g_file_get_contents (console, &text, NULL, NULL) && strstr (text, "HB 3 "))
        break;
      g_usleep (100 * 1000);
    }
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, "HB 3 "));
  g_assert_null (strstr (text, "err=1"));

  /* Terminate: the process is reaped and its runtime files are gone. */
  ferryd_qemu_terminate (f.qemu);
  while (!ferryd_qemu_has_exited (f.qemu))
    g_main_context_iteration (NULL, TRUE);
  qemu_pid = 0; /* reaped: the pid may be another process' soon */
  g_assert_cmpstr (ferryd_qemu_get_run_state (f.qemu), ==, "shutoff");
  g_assert_false (g_file_test (qmp_path, G_FILE_TEST_EXISTS));

  g_source_remove (timeout);
  g_clear_pointer (&f.reply, json_node_unref);
  g_clear_object (&f.qemu);
  g_ptr_array_unref (f.events);
  g_main_loop_unref (f.loop);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", tmp);
  g_assert_cmpint (system (rm), ==, 0);
}

/* What the QMP backend hands the engine is in FERRY_ERROR: a QMP error
 * becomes Failed and keeps QEMU's words; others pass unchanged. */
static void
test_error_boundary (void)
{
  g_autoptr (GError) qmp = ferryd_qmp_error_to_ferry (
      g_error_new_literal (FERRYD_QMP_ERROR, FERRYD_QMP_ERROR_COMMAND, "no such device"));
  g_autoptr (GError) ferry =
      ferryd_qmp_error_to_ferry (g_error_new_literal (FERRY_ERROR, FERRY_ERROR_BUSY, "busy"));

  g_assert_error (qmp, FERRY_ERROR, FERRY_ERROR_FAILED);
  g_assert_cmpstr (qmp->message, ==, "QEMU: no such device");
  g_assert_error (ferry, FERRY_ERROR, FERRY_ERROR_BUSY);
  g_assert_null (ferryd_qmp_error_to_ferry (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  reap_qemu_on_exit ();
  g_test_add_func ("/qemu/guest-under-qmp", test_guest_under_qmp);
  g_test_add_func ("/qemu/error-boundary", test_error_boundary);
  return g_test_run ();
}
