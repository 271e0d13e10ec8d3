/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qemu.c: launch, watch and stop a QEMU process
 *
 * The QMP socket is created and bound by ferryd itself (mode 0600) and
 * handed to QEMU as an inherited listening fd, so there is no window in
 * which another user could connect first and no retry loop while QEMU
 * starts. QEMU is ferryd's own child and is reaped through its child
 * watch: init on these hosts reaps orphans late.
 */
#define G_LOG_DOMAIN "ferry-qemu"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-qemu.h"
#include "ferry-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct _FerrydQemu
{
  GObject parent_instance;

  GSubprocess *process;
  GPid pid;
  FerrydQmp *qmp;
  FerrydDomainConfig *config; /* the live description */
  char *run_state;
  char *state_reason;
  char *log_path;
  char *qmp_path;
  char *conf_path;     /* the live description, for re-attaching after a restart */
  char *incoming_path; /* exists while the guest is still arriving here */
  gboolean exited;
  GCancellable *cancellable;
  GPtrArray *exit_waiters; /* GTasks completed when the process exits */
  guint escalate_id;
  int shutdown_step;
};

enum
{
  PROP_0,
  PROP_RUN_STATE,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_EXITED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydQemu, ferryd_qemu, G_TYPE_OBJECT)

static void
set_run_state (FerrydQemu *self, const char *state)
{
  if (g_set_str (&self->run_state, state))
    {
      g_debug ("QEMU %d: %s", (int) self->pid, state);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUN_STATE]);
    }
}

const char *
ferryd_qemu_get_run_state (FerrydQemu *self)
{
  return self->run_state;
}

const char *
ferryd_qemu_get_state_reason (FerrydQemu *self)
{
  return self->state_reason ? self->state_reason : "";
}

gboolean
ferryd_qemu_is_crashed (FerrydQemu *self)
{
  return g_strcmp0 (self->run_state, "crashed") == 0;
}

const FerrydDomainConfig *
ferryd_qemu_get_config (FerrydQemu *self)
{
  return self->config;
}

/* A crash is kept: a crashed guest that QEMU later reports otherwise (a
 * migration that completed while it was stopped: postmigrate) is still
 * the crashed guest. Only its end (shutoff) or a resumed guest clear it. */
static void
set_crashed (FerrydQemu *self, const char *reason)
{
  if (ferryd_qemu_is_crashed (self))
    return;
  g_set_str (&self->state_reason, reason);
  g_warning ("QEMU %d: the guest crashed: %s", (int) self->pid, reason);
  set_run_state (self, "crashed");
}

static void
set_run_state_keeping_crash (FerrydQemu *self, const char *state)
{
  if (ferryd_qemu_is_crashed (self) && !g_str_equal (state, "running") &&
      !g_str_equal (state, "shutoff"))
    return;
  g_clear_pointer (&self->state_reason, g_free);
  set_run_state (self, state);
}

gboolean
ferryd_qemu_kvm_usable (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  gboolean usable;

  if (fd < 0)
    return FALSE;
  /* a KVM device answers with its API version (12 since Linux 2.6.22) */
  usable = ioctl (fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
  close (fd);
  return usable;
}

gboolean
ferryd_qemu_resolve_accel (FerrydAccel wanted, FerrydAccel *resolved, GError **error)
{
  gboolean kvm = ferryd_qemu_kvm_usable ();

  if (wanted == FERRYD_ACCEL_KVM && !kvm)
    {
      g_set_error_literal (
          error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
          "Accel=kvm, but KVM cannot be used on this host (/dev/kvm is missing "
          "or not accessible); Accel=tcg or Accel=auto runs the guest without KVM");
      return FALSE;
    }
  if (wanted == FERRYD_ACCEL_AUTO)
    *resolved = kvm ? FERRYD_ACCEL_KVM : FERRYD_ACCEL_TCG;
  else
    *resolved = wanted;
  return TRUE;
}

char *
ferryd_qemu_accel_blocker (FerrydAccel in_use, const char *const *peer_accels)
{
  const char *name = ferryd_accel_to_string (in_use);

  if (in_use == FERRYD_ACCEL_AUTO || peer_accels == NULL || g_strv_contains (peer_accels, name))
    return NULL;
  return g_strdup_printf ("The guest runs with %s here, and the destination cannot run it with "
                          "%s (it offers: %s)",
                          name, name, peer_accels[0] ? peer_accels[0] : "nothing");
}

const char *
ferryd_qemu_run_state_for_status (const char *status,
                                  FerrydAccel accel,
                                  const char *log_tail,
                                  char **reason)
{
  static const char *const kept[] = { "running", "inmigrate", "postmigrate", NULL };

  *reason = NULL;
  if (g_str_equal (status, "guest-panicked"))
    {
      *reason = g_strdup ("guest panicked");
      return "crashed";
    }
  if (g_str_equal (status, "internal-error"))
    {
      /* QEMU stops a vCPU that KVM cannot run (often a nested KVM that
       * cannot emulate an instruction); TCG runs such a guest. */
      const char *what = log_tail && strstr (log_tail, "emulation failure") ? "emulation failure"
                                                                            : "see QEMU's log";
      if (accel == FERRYD_ACCEL_TCG)
        *reason = g_strdup_printf ("QEMU internal error: %s", what);
      else
        *reason =
            g_strdup_printf ("KVM internal error: %s; Accel=tcg runs this guest without KVM", what);
      return "crashed";
    }
  for (gsize i = 0; kept[i]; i++)
    if (g_str_equal (status, kept[i]))
      return kept[i];
  return "paused";
}

gboolean
ferryd_qemu_has_exited (FerrydQemu *self)
{
  return self->exited;
}

GPid
ferryd_qemu_get_pid (FerrydQemu *self)
{
  return self->pid;
}

FerrydQmp *
ferryd_qemu_get_qmp (FerrydQemu *self)
{
  return self->qmp;
}

char *
ferryd_qemu_resolve_disk_path (const char *state_dir, const char *path)
{
  if (g_path_is_absolute (path))
    return g_strdup (path);
  return g_build_filename (state_dir, "images", path, NULL);
}

static void
builder_take (GStrvBuilder *builder, char *value)
{
  g_strv_builder_add (builder, value);
  g_free (value);
}

GStrv
ferryd_qemu_build_argv (const FerrydDomainConfig *config,
                        const FerrydQemuLaunch *launch,
                        int qmp_fd)
{
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_autofree char *console = g_build_filename (launch->state_dir, "console", config->name, NULL);
  g_autofree char *console_log = g_strconcat (console, ".log", NULL);

  g_return_val_if_fail (config->accel != FERRYD_ACCEL_AUTO, NULL);
  g_strv_builder_add_many (argv, config->qemu_binary, "-name", config->name, "-uuid", config->uuid,
                           NULL);
  builder_take (argv, g_strdup ("-machine"));
  builder_take (argv, g_strdup (config->machine));
  g_strv_builder_add_many (argv, "-accel", ferryd_accel_to_string (config->accel), "-cpu",
                           config->cpu_model, NULL);
  g_strv_builder_add (argv, "-m");
  builder_take (argv, g_strdup_printf ("%u", config->memory_mib));
  g_strv_builder_add (argv, "-smp");
  builder_take (argv, g_strdup_printf ("%u", config->cpus));
  g_strv_builder_add_many (argv, "-display", "none", "-nodefaults", "-no-user-config", NULL);
  g_strv_builder_add (argv, "-chardev");
  builder_take (argv, g_strdup_printf ("socket,id=qmp,fd=%d,server=on,wait=off", qmp_fd));
  g_strv_builder_add_many (argv, "-mon", "chardev=qmp,mode=control", NULL);
  /* The console log is appended to, so a migrated guest's console
   * continues in the same file on each host. */
  g_strv_builder_add (argv, "-chardev");
  builder_take (argv, g_strdup_printf ("file,id=console,path=%s,append=on", console_log));
  g_strv_builder_add_many (argv, "-serial", "chardev:console", NULL);
  /* A guest panic is seen (GUEST_PANICKED) and the QEMU stays, paused,
   * for inspection instead of quitting. */
  g_strv_builder_add_many (argv, "-device",
                           g_str_has_suffix (config->qemu_binary, "x86_64") ||
                                   g_str_has_suffix (config->qemu_binary, "i386")
                               ? "pvpanic"
                               : "pvpanic-pci",
                           "-action", "panic=pause", NULL);
  if (config->kernel)
    g_strv_builder_add_many (argv, "-kernel", config->kernel, NULL);
  if (config->append)
    g_strv_builder_add_many (argv, "-append", config->append, NULL);
  for (guint i = 0; i < config->disks->len; i++)
    {
      FerrydDiskConfig *disk = g_ptr_array_index (config->disks, i);
      g_autofree char *path = ferryd_qemu_resolve_disk_path (launch->state_dir, disk->path);

      g_strv_builder_add (argv, "-blockdev");
      builder_take (argv,
                    g_strdup_printf ("driver=file,filename=%s,node-name=file-%s", path, disk->id));
      g_strv_builder_add (argv, "-blockdev");
      builder_take (argv, g_strdup_printf ("driver=%s,file=file-%s,node-name=disk-%s", disk->format,
                                           disk->id, disk->id));
      g_strv_builder_add (argv, "-device");
      /* ide: the pc machine's legacy controller, which the test guest
       * drives with port I/O (no virtio driver in it). */
      if (g_strcmp0 (disk->bus, "ide") == 0)
        builder_take (
            argv, g_strdup_printf ("ide-hd,drive=disk-%s,id=%s,bus=ide.%u", disk->id, disk->id, i));
      else
        builder_take (argv,
                      g_strdup_printf ("virtio-blk-pci,drive=disk-%s,id=%s", disk->id, disk->id));
    }
  if (launch->incoming)
    g_strv_builder_add_many (argv, "-incoming", "defer", NULL);
  if (launch->paused)
    g_strv_builder_add (argv, "-S");
  g_strv_builder_addv (argv, (const char **) config->extra_args);
  return g_strv_builder_end (argv);
}

/* --- exit handling --- */

/* The process is gone: tell everyone once and remove its runtime files
 * (so a restarted ferryd does not try to re-attach to it). */
static void
mark_exited (FerrydQemu *self)
{
  g_autoptr (GPtrArray) waiters = NULL;

  if (self->exited)
    return;
  g_object_ref (self);
  self->exited = TRUE;
  g_clear_handle_id (&self->escalate_id, g_source_remove);
  if (self->qmp)
    ferryd_qmp_close (self->qmp);
  if (self->qmp_path)
    (void) g_unlink (self->qmp_path);
  if (self->conf_path)
    (void) g_unlink (self->conf_path);
  if (self->incoming_path)
    (void) g_unlink (self->incoming_path);
  set_run_state (self, "shutoff");
  waiters = g_steal_pointer (&self->exit_waiters);
  self->exit_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    g_task_return_boolean (g_ptr_array_index (waiters, i), TRUE);
  g_signal_emit (self, signals[SIGNAL_EXITED], 0);
  g_object_unref (self);
}

static void
process_exited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydQemu) self = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  if (g_subprocess_get_if_signaled (G_SUBPROCESS (source)))
    g_debug ("QEMU %d killed by signal %d", (int) self->pid,
             g_subprocess_get_term_sig (G_SUBPROCESS (source)));
  else
    g_debug ("QEMU %d exited with status %d", (int) self->pid,
             g_subprocess_get_exit_status (G_SUBPROCESS (source)));
  mark_exited (self);
}

/* A re-attached QEMU is not our child: its QMP socket closing is how we
 * learn it exited. */
/* A QEMU asked to quit closes its QMP socket first, and may then hang on
 * its way out (a source after post-copy, say). Not our child, it is
 * followed by its pid alone: killed if still there a moment later. */
static gboolean
kill_if_alive_cb (gpointer user_data)
{
  GPid pid = GPOINTER_TO_INT (user_data);
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *end;

  if (g_file_get_contents (path, &stat, NULL, NULL) && (end = strrchr (stat, ')')) &&
      end[1] == ' ' && end[2] != 'Z' && end[2] != 'X')
    {
      g_debug ("QEMU %d did not quit; killing it", (int) pid);
      kill (pid, SIGKILL);
    }
  return G_SOURCE_REMOVE;
}

static void
attached_qmp_closed_cb (FerrydQmp *qmp, gpointer user_data)
{
  FerrydQemu *self = user_data;

  if (self->process == NULL)
    {
      g_debug ("re-attached QEMU %d went away", (int) self->pid);
      if (self->shutdown_step > 0 && self->pid > 0)
        g_timeout_add_seconds (2, kill_if_alive_cb, GINT_TO_POINTER (self->pid));
      mark_exited (self);
    }
}

static char *read_log_tail (const char *path, gsize max);

/* Takes the query-status answer: the run state and, for a crash, why. */
static void
apply_status (FerrydQemu *self, JsonNode *reply)
{
  const char *status = "running";
  const char *state;
  g_autofree char *reason = NULL;
  g_autofree char *tail = NULL;

  if (reply && JSON_NODE_HOLDS_OBJECT (reply))
    status = json_object_get_string_member_with_default (json_node_get_object (reply), "status",
                                                         "running");
  if (g_str_equal (status, "internal-error"))
    tail = read_log_tail (self->log_path, 16384); /* the reason precedes a register dump */
  state = ferryd_qemu_run_state_for_status (
      status, self->config ? self->config->accel : FERRYD_ACCEL_AUTO, tail, &reason);
  if (reason)
    set_crashed (self, reason);
  else
    set_run_state_keeping_crash (self, state);
}

static void
stopped_status_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydQemu) self = user_data;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, NULL);

  if (reply && !self->exited)
    apply_status (self, reply);
}

static void
qmp_event_cb (FerrydQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data)
{
  FerrydQemu *self = user_data;

  /* STOP does not say why: a pause, a migration's switch-over, or a
   * vCPU that KVM could not run (internal-error). QEMU's run status does. */
  if (g_str_equal (name, "STOP"))
    ferryd_qmp_execute_async (qmp, "query-status", NULL, NULL, stopped_status_cb,
                              g_object_ref (self));
  else if (g_str_equal (name, "RESUME"))
    set_run_state_keeping_crash (self, "running");
  else if (g_str_equal (name, "GUEST_PANICKED"))
    set_crashed (self, "guest panicked");
}

/* --- launch --- */

typedef struct
{
  FerrydQemu *qemu;
  GCancellable *cancellable;
  char *failure;
} LaunchData;

static void
launch_data_free (LaunchData *data)
{
  g_clear_object (&data->qemu);
  g_clear_object (&data->cancellable);
  g_free (data->failure);
  g_free (data);
}

static char *
read_log_tail (const char *path, gsize max)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  const char *tail;

  if (path == NULL || !g_file_get_contents (path, &contents, &length, NULL) || length == 0)
    return g_strdup ("no output");
  tail = length > max ? contents + length - max : contents;
  return g_strstrip (g_strdup (tail));
}

static void
launch_fail_reaped_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  g_autofree char *tail = read_log_tail (data->qemu->log_path, 400);

  g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU failed to start (%s): %s",
                           data->failure, tail);
}

/* Takes @task. Nothing half-started stays behind: the caller is answered
 * once the process is killed and reaped (through its child watch). */
static void
launch_fail (GTask *task, LaunchData *data, const char *what)
{
  GTask *reaped = g_task_new (data->qemu, NULL, launch_fail_reaped_cb, task);

  data->failure = g_strdup (what);
  if (data->qemu->exited)
    {
      g_task_return_boolean (reaped, TRUE);
      g_object_unref (reaped);
      return;
    }
  g_ptr_array_add (data->qemu->exit_waiters, reaped);
  g_subprocess_force_exit (data->qemu->process);
}

static void
query_status_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    {
      launch_fail (g_steal_pointer (&task), data, error->message);
      return;
    }
  apply_status (data->qemu, reply);
  g_task_return_pointer (task, g_object_ref (data->qemu), g_object_unref);
}

static void
qmp_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  FerrydQmp *qmp = ferryd_qmp_connect_finish (result, &error);

  if (qmp == NULL)
    {
      launch_fail (g_steal_pointer (&task), data, error->message);
      return;
    }
  data->qemu->qmp = qmp;
  g_signal_connect_object (qmp, "event", G_CALLBACK (qmp_event_cb), data->qemu, 0);
  ferryd_qmp_execute_async (qmp, "query-status", NULL, NULL, query_status_cb,
                            g_steal_pointer (&task));
}

static int
create_qmp_listener (const char *path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof (addr.sun_path))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "QMP socket path too long: %s", path);
      return -1;
    }
  strcpy (addr.sun_path, path);
  (void) g_unlink (path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0 || chmod (path, 0600) < 0 ||
      listen (fd, 8) < 0)
    {
      int saved = errno;
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot create QMP socket %s: %s", path,
                   g_strerror (saved));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

static void
child_setup (gpointer user_data)
{
  /* Own session: a terminal's Ctrl-C to ferryd must not kill the guests. */
  setsid ();
  umask (027);
}

void
ferryd_qemu_launch_async (const FerrydDomainConfig *config,
                          const FerrydQemuLaunch *launch,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *qemu_dir = g_build_filename (launch->runtime_dir, "qemu", NULL);
  g_autofree char *console_dir = g_build_filename (launch->state_dir, "console", NULL);
  g_autofree char *qmp_path = NULL;
  g_auto (GStrv) argv = NULL;
  g_autofree char *cmdline = NULL;
  g_autoptr (FerrydDomainConfig) live = ferryd_domain_config_copy (config);
  LaunchData *data = g_new0 (LaunchData, 1);
  int fd;
  const int child_fd = 3;

  g_task_set_source_tag (task, ferryd_qemu_launch_async);
  g_task_set_task_data (task, data, (GDestroyNotify) launch_data_free);
  data->cancellable = cancellable ? g_object_ref (cancellable) : NULL;

  if (!ferryd_qemu_resolve_accel (config->accel, &live->accel, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_mkdir_with_parents (qemu_dir, 0700) < 0 || g_mkdir_with_parents (console_dir, 0750) < 0)
    {
      int saved = errno;
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot create runtime directories: %s", g_strerror (saved));
      return;
    }
  qmp_path = g_strdup_printf ("%s/%s.qmp", qemu_dir, config->name);
  fd = create_qmp_listener (qmp_path, &error);
  if (fd < 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data->qemu = g_object_new (FERRYD_TYPE_QEMU, NULL);
  data->qemu->config = g_steal_pointer (&live);
  config = data->qemu->config;
  data->qemu->log_path = g_strdup_printf ("%s/%s.log", qemu_dir, config->name);
  data->qemu->qmp_path = g_strdup (qmp_path);
  data->qemu->conf_path = g_strdup_printf ("%s/%s.conf", qemu_dir, config->name);
  data->qemu->incoming_path = g_strdup_printf ("%s/%s.incoming", qemu_dir, config->name);
  if (launch->incoming && !g_file_set_contents (data->qemu->incoming_path, "", 0, &error))
    {
      close (fd);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  {
    g_autofree char *text = ferryd_domain_config_to_data (config);
    if (!g_file_set_contents_full (data->qemu->conf_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                   0600, &error))
      {
        close (fd);
        g_task_return_error (task, g_steal_pointer (&error));
        return;
      }
  }
  argv = ferryd_qemu_build_argv (config, launch, child_fd);
  cmdline = g_strjoinv (" ", argv);
  g_info ("domain %s: starting QEMU with the %s accelerator", config->name,
          ferryd_accel_to_string (config->accel));
  g_debug ("starting %s", cmdline);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, data->qemu->log_path);
  g_subprocess_launcher_take_fd (launcher, fd, child_fd);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  data->qemu->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv, &error);
  if (data->qemu->process == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot run %s: %s", argv[0],
                               error->message);
      return;
    }
  data->qemu->pid =
      (GPid) g_ascii_strtoll (g_subprocess_get_identifier (data->qemu->process), NULL, 10);
  g_subprocess_wait_async (data->qemu->process, NULL, process_exited_cb, g_object_ref (data->qemu));
  ferryd_qmp_connect_async (qmp_path, cancellable, qmp_connected_cb, g_steal_pointer (&task));
}

FerrydQemu *
ferryd_qemu_launch_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- re-attaching after a daemon restart --- */

/* A guest that was still arriving when the previous ferryd went: its
 * source has rolled back (it resumes when it cannot finish), so this
 * half copy must go, unless post-copy began: then it holds part of the
 * only guest and stays, paused. */
static void
attach_incoming_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQemu *self = g_task_get_task_data (task);
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, NULL);
  const char *status = NULL;

  if (reply && JSON_NODE_HOLDS_OBJECT (reply))
    status =
        json_object_get_string_member_with_default (json_node_get_object (reply), "status", NULL);
  /* In post-copy, or completed after it (the guest was resumed here at
   * the switch-over and runs): this is the only copy of the guest. A
   * pre-copy stream that completed while the guest is still paused (-S)
   * is not: the source resumes its own when Finish cannot reach us. */
  if (status && (g_str_has_prefix (status, "postcopy") ||
                 (g_str_equal (status, "completed") && g_str_equal (self->run_state, "running"))))
    {
      g_task_return_pointer (task, g_object_ref (self), g_object_unref);
      return;
    }
  /* Not our child and about to be forgotten: signal it directly (QEMU
   * exits cleanly on SIGTERM) rather than through QMP. */
  if (self->pid > 0)
    kill (self->pid, SIGTERM);
  ferryd_qemu_remove_incoming_images (self->incoming_path);
  g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                           "dropped a half-arrived incoming guest (migration %s)",
                           status ? status : "unknown");
}

static void
attach_status_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQemu *self = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);

  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  apply_status (self, reply);
  if (g_file_test (self->incoming_path, G_FILE_TEST_EXISTS))
    {
      ferryd_qmp_execute_async (self->qmp, "query-migrate", NULL, NULL, attach_incoming_cb,
                                g_steal_pointer (&task));
      return;
    }
  g_task_return_pointer (task, g_object_ref (self), g_object_unref);
}

static void
attach_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydQemu *self = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  self->qmp = ferryd_qmp_connect_finish (result, &error);
  if (self->qmp == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  self->pid = ferryd_qmp_get_peer_pid (self->qmp);
  g_signal_connect_object (self->qmp, "event", G_CALLBACK (qmp_event_cb), self, 0);
  g_signal_connect_object (self->qmp, "closed", G_CALLBACK (attached_qmp_closed_cb), self, 0);
  ferryd_qmp_execute_async (self->qmp, "query-status", NULL, NULL, attach_status_cb,
                            g_steal_pointer (&task));
}

void
ferryd_qemu_attach_async (const char *runtime_dir,
                          const FerrydDomainConfig *live,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  FerrydQemu *self = g_object_new (FERRYD_TYPE_QEMU, NULL);
  const char *name = live->name;

  self->qmp_path = g_strdup_printf ("%s/qemu/%s.qmp", runtime_dir, name);
  self->conf_path = g_strdup_printf ("%s/qemu/%s.conf", runtime_dir, name);
  self->log_path = g_strdup_printf ("%s/qemu/%s.log", runtime_dir, name);
  self->config = ferryd_domain_config_copy (live);
  self->incoming_path = g_strdup_printf ("%s/qemu/%s.incoming", runtime_dir, name);
  g_task_set_task_data (task, self, g_object_unref);
  ferryd_qmp_connect_async (self->qmp_path, NULL, attach_connected_cb, task);
}

FerrydQemu *
ferryd_qemu_attach_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ferryd_qemu_set_arrived (FerrydQemu *self)
{
  if (self->incoming_path)
    (void) g_unlink (self->incoming_path);
}

void
ferryd_qemu_note_incoming_images (FerrydQemu *self, const char *const *paths)
{
  g_autofree char *joined = g_strjoinv ("\n", (char **) paths);
  g_autoptr (GError) error = NULL;

  if (self->incoming_path && !g_file_set_contents (self->incoming_path, joined, -1, &error))
    g_warning ("Cannot note the incoming images: %s", error->message);
}

void
ferryd_qemu_remove_incoming_images (const char *incoming_path)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) paths = NULL;

  if (!g_file_get_contents (incoming_path, &contents, NULL, NULL))
    return;
  paths = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; paths[i]; i++)
    if (g_path_is_absolute (paths[i]) && g_unlink (paths[i]) == 0)
      g_info ("removed the half-copied image %s", paths[i]);
}

/* --- resuming after a failed migration --- */

#define RESUME_ATTEMPTS 50
#define RESUME_RETRY_MS 100

static void resume_try (GTask *task);

static gboolean
resume_retry_cb (gpointer user_data)
{
  resume_try (user_data);
  return G_SOURCE_REMOVE;
}

static void
resume_cont_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  FerrydQemu *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, &error);
  guint attempts = GPOINTER_TO_UINT (g_task_get_task_data (task)) + 1;

  if (reply)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  /* QEMU refuses while it still winds the migration down: try again. */
  if (self->exited || attempts >= RESUME_ATTEMPTS)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "%s", error->message);
      g_object_unref (task);
      return;
    }
  g_debug ("QEMU %d not resumable yet: %s", (int) self->pid, error->message);
  g_task_set_task_data (task, GUINT_TO_POINTER (attempts), NULL);
  g_timeout_add (RESUME_RETRY_MS, resume_retry_cb, task);
}

static void
resume_try (GTask *task)
{
  FerrydQemu *self = g_task_get_source_object (task);

  if (self->exited || self->qmp == NULL || ferryd_qmp_is_closed (self->qmp))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU is gone");
      g_object_unref (task);
      return;
    }
  ferryd_qmp_execute_async (self->qmp, "cont", NULL, NULL, resume_cont_cb, task);
}

void
ferryd_qemu_resume_async (FerrydQemu *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_task_data (task, GUINT_TO_POINTER (0), NULL);
  resume_try (task);
}

gboolean
ferryd_qemu_resume_finish (FerrydQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- stopping --- */

static gboolean
escalate_cb (gpointer user_data)
{
  FerrydQemu *self = user_data;

  self->shutdown_step++;
  if (self->shutdown_step == 1 && self->qmp && !ferryd_qmp_is_closed (self->qmp))
    {
      g_debug ("guest did not power off; quitting QEMU %d", (int) self->pid);
      ferryd_qmp_send (self->qmp, "quit", NULL);
      return G_SOURCE_CONTINUE;
    }
  g_debug ("killing QEMU %d", (int) self->pid);
  if (self->process)
    g_subprocess_force_exit (self->process);
  else if (self->pid > 0)
    kill (self->pid, SIGKILL);
  self->escalate_id = 0;
  return G_SOURCE_REMOVE;
}

void
ferryd_qemu_shutdown_async (FerrydQemu *self,
                            guint grace_ms,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  if (self->exited)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (self->exit_waiters, task);
  if (self->escalate_id == 0 && ferryd_qemu_is_crashed (self))
    {
      /* A crashed guest cannot power down: quit QEMU, kill it if need be. */
      self->shutdown_step = 1;
      if (self->qmp && !ferryd_qmp_is_closed (self->qmp))
        ferryd_qmp_send (self->qmp, "quit", NULL);
      self->escalate_id = g_timeout_add (grace_ms, escalate_cb, self);
    }
  else if (self->escalate_id == 0)
    {
      self->shutdown_step = 0;
      if (self->qmp && !ferryd_qmp_is_closed (self->qmp))
        ferryd_qmp_send (self->qmp, "system_powerdown", NULL);
      self->escalate_id = g_timeout_add (grace_ms, escalate_cb, self);
    }
}

gboolean
ferryd_qemu_shutdown_finish (FerrydQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ferryd_qemu_terminate (FerrydQemu *self)
{
  if (self->exited)
    return;
  g_clear_handle_id (&self->escalate_id, g_source_remove);
  self->shutdown_step = 1;
  if (self->qmp && !ferryd_qmp_is_closed (self->qmp))
    ferryd_qmp_send (self->qmp, "quit", NULL);
  /* SIGKILL if quit is not honoured promptly. */
  self->escalate_id = g_timeout_add (2000, escalate_cb, self);
}

static void
ferryd_qemu_dispose (GObject *object)
{
  FerrydQemu *self = FERRYD_QEMU (object);
  gboolean stopping = self->shutdown_step > 0 || self->escalate_id != 0;

  g_clear_handle_id (&self->escalate_id, g_source_remove);
  /* Unless we asked it to stop, our own closing of the socket is not the
   * guest going away: for a re-attached QEMU the "closed" handler would
   * take it for an exit and remove its runtime files, and the next ferryd
   * would lose the guest. A QEMU told to quit keeps that handling (it is
   * killed if it hangs on its way out). */
  if (self->qmp)
    {
      if (!stopping)
        g_signal_handlers_disconnect_by_data (self->qmp, self);
      ferryd_qmp_close (self->qmp);
    }
  g_clear_object (&self->qmp);
  G_OBJECT_CLASS (ferryd_qemu_parent_class)->dispose (object);
}

static void
ferryd_qemu_finalize (GObject *object)
{
  FerrydQemu *self = FERRYD_QEMU (object);

  g_clear_object (&self->process);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->exit_waiters, g_ptr_array_unref);
  ferryd_domain_config_free (self->config);
  g_free (self->run_state);
  g_free (self->state_reason);
  g_free (self->log_path);
  g_free (self->qmp_path);
  g_free (self->conf_path);
  g_free (self->incoming_path);
  G_OBJECT_CLASS (ferryd_qemu_parent_class)->finalize (object);
}

static void
ferryd_qemu_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerrydQemu *self = FERRYD_QEMU (object);

  switch (prop_id)
    {
    case PROP_RUN_STATE:
      g_value_set_string (value, self->run_state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ferryd_qemu_class_init (FerrydQemuClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_qemu_dispose;
  object_class->finalize = ferryd_qemu_finalize;
  object_class->get_property = ferryd_qemu_get_property;

  props[PROP_RUN_STATE] =
      g_param_spec_string ("run-state", NULL, NULL, "shutoff",
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_EXITED] = g_signal_new ("exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferryd_qemu_init (FerrydQemu *self)
{
  self->run_state = g_strdup ("starting");
  self->exit_waiters = g_ptr_array_new_with_free_func (g_object_unref);
}
