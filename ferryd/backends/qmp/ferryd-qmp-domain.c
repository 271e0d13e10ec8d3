/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-domain.c: a QMP-backend domain and the state it is in
 *
 * The public State is derived, never stored: it comes from the migration
 * the domain takes part in, else from its QEMU process' run state.
 */
#define G_LOG_DOMAIN "ferry-domain"

#include "ferry-compat.h"
#include "ferryd-qmp-domain.h"
#include "ferry-error.h"

/* How long the guest gets to power off before QEMU is told to quit. */
#define SHUTDOWN_GRACE_MS 3000

struct _FerrydDomain
{
  GObject parent_instance;

  FerrydDomainConfig *config;
  char *state_dir;
  char *runtime_dir;
  FerrydQemu *qemu;
  gulong qemu_notify_id;
  GObject *migration;
  gboolean migration_incoming;
  gboolean starting;
  char *state;        /* last notified value */
  char *state_reason; /* ditto */
};

enum
{
  PROP_0,
  PROP_STATE,
  PROP_STATE_REASON,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE (FerrydDomain, ferryd_domain, G_TYPE_OBJECT)

static const char *
compute_state (FerrydDomain *self)
{
  const char *run_state;

  if (self->migration)
    return self->migration_incoming ? "incoming" : "migrating";
  if (self->qemu == NULL || ferryd_qemu_has_exited (self->qemu))
    return "shutoff";
  run_state = ferryd_qemu_get_run_state (self->qemu);
  if (g_str_equal (run_state, "running"))
    return "running";
  if (g_str_equal (run_state, "shutoff"))
    return "shutoff";
  if (g_str_equal (run_state, "crashed"))
    return "crashed";
  return "paused";
}

static const char *
compute_state_reason (FerrydDomain *self)
{
  if (self->migration || self->qemu == NULL)
    return "";
  return ferryd_qemu_get_state_reason (self->qemu);
}

static void
update_state (FerrydDomain *self)
{
  /* The reason first: a client that sees State change reads it. */
  if (g_set_str (&self->state_reason, compute_state_reason (self)))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE_REASON]);
  if (g_set_str (&self->state, compute_state (self)))
    {
      g_info ("domain %s: %s%s%s", self->config->name, self->state,
              self->state_reason[0] ? ": " : "", self->state_reason);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
    }
}

static void
qemu_run_state_cb (GObject *qemu, GParamSpec *pspec, gpointer user_data)
{
  FerrydDomain *self = user_data;

  /* An exited QEMU is dropped so the domain can be started again. */
  if (ferryd_qemu_has_exited (FERRYD_QEMU (qemu)) && self->migration == NULL)
    ferryd_domain_set_qemu (self, NULL);
  else
    update_state (self);
}

void
ferryd_domain_set_qemu (FerrydDomain *self, FerrydQemu *qemu)
{
  if (self->qemu == qemu)
    return;
  if (self->qemu)
    {
      g_clear_signal_handler (&self->qemu_notify_id, self->qemu);
      g_clear_object (&self->qemu);
    }
  if (qemu)
    {
      self->qemu = g_object_ref (qemu);
      self->qemu_notify_id =
          g_signal_connect (qemu, "notify::run-state", G_CALLBACK (qemu_run_state_cb), self);
    }
  update_state (self);
}

FerrydQemu *
ferryd_domain_get_qemu (FerrydDomain *self)
{
  return self->qemu;
}

const char *
ferryd_domain_get_name (FerrydDomain *self)
{
  return self->config->name;
}

const char *
ferryd_domain_get_uuid (FerrydDomain *self)
{
  return self->config->uuid;
}

const FerrydDomainConfig *
ferryd_domain_get_config (FerrydDomain *self)
{
  return self->config;
}

void
ferryd_domain_set_config (FerrydDomain *self, FerrydDomainConfig *config)
{
  g_return_if_fail (g_str_equal (config->name, self->config->name));
  ferryd_domain_config_free (self->config);
  self->config = config;
}

const char *
ferryd_domain_get_state (FerrydDomain *self)
{
  return self->state;
}

const char *
ferryd_domain_get_state_reason (FerrydDomain *self)
{
  return self->state_reason;
}

gboolean
ferryd_domain_is_active (FerrydDomain *self)
{
  return self->starting || self->migration != NULL || !g_str_equal (self->state, "shutoff");
}

const char *
ferryd_domain_get_state_dir (FerrydDomain *self)
{
  return self->state_dir;
}

const char *
ferryd_domain_get_runtime_dir (FerrydDomain *self)
{
  return self->runtime_dir;
}

GObject *
ferryd_domain_get_migration (FerrydDomain *self)
{
  return self->migration;
}

void
ferryd_domain_set_migration (FerrydDomain *self, GObject *migration, gboolean incoming)
{
  self->migration = migration; /* the engine owns it and clears it here */
  self->migration_incoming = incoming;
  if (migration == NULL && self->qemu && ferryd_qemu_has_exited (self->qemu))
    ferryd_domain_set_qemu (self, NULL);
  update_state (self);
}

static void
launch_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydDomain *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydQemu) qemu = ferryd_qemu_launch_finish (result, &error);

  self->starting = FALSE;
  if (qemu == NULL)
    {
      update_state (self);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ferryd_domain_set_qemu (self, qemu);
  g_task_return_boolean (task, TRUE);
}

void
ferryd_domain_start_async (FerrydDomain *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  FerrydQemuLaunch launch = { self->runtime_dir, self->state_dir, FALSE, FALSE };

  if (ferryd_domain_is_active (self))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY, "Domain '%s' is already %s",
                               self->config->name, self->starting ? "starting" : self->state);
      return;
    }
  self->starting = TRUE;
  ferryd_qemu_launch_async (self->config, &launch, cancellable, launch_cb, g_steal_pointer (&task));
}

gboolean
ferryd_domain_start_finish (FerrydDomain *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_qemu_shutdown_finish (FERRYD_QEMU (source), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
ferryd_domain_shutdown_async (FerrydDomain *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  if (self->migration)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY,
                               "Domain '%s' is %s; cancel the migration first", self->config->name,
                               self->state);
      return;
    }
  if (self->qemu == NULL || ferryd_qemu_has_exited (self->qemu))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Domain '%s' is not running",
                               self->config->name);
      return;
    }
  ferryd_qemu_shutdown_async (self->qemu, SHUTDOWN_GRACE_MS, shutdown_cb, g_steal_pointer (&task));
}

gboolean
ferryd_domain_shutdown_finish (FerrydDomain *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

FerrydDomain *
ferryd_domain_new (FerrydDomainConfig *config, const char *state_dir, const char *runtime_dir)
{
  FerrydDomain *self = g_object_new (FERRYD_TYPE_DOMAIN, NULL);

  self->config = config;
  self->state_dir = g_strdup (state_dir);
  self->runtime_dir = g_strdup (runtime_dir);
  return self;
}

static void
ferryd_domain_dispose (GObject *object)
{
  FerrydDomain *self = FERRYD_DOMAIN (object);

  if (self->qemu)
    g_clear_signal_handler (&self->qemu_notify_id, self->qemu);
  g_clear_object (&self->qemu);
  G_OBJECT_CLASS (ferryd_domain_parent_class)->dispose (object);
}

static void
ferryd_domain_finalize (GObject *object)
{
  FerrydDomain *self = FERRYD_DOMAIN (object);

  ferryd_domain_config_free (self->config);
  g_free (self->state_dir);
  g_free (self->runtime_dir);
  g_free (self->state);
  g_free (self->state_reason);
  G_OBJECT_CLASS (ferryd_domain_parent_class)->finalize (object);
}

static void
ferryd_domain_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerrydDomain *self = FERRYD_DOMAIN (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_string (value, self->state);
      break;
    case PROP_STATE_REASON:
      g_value_set_string (value, self->state_reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ferryd_domain_class_init (FerrydDomainClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_domain_dispose;
  object_class->finalize = ferryd_domain_finalize;
  object_class->get_property = ferryd_domain_get_property;

  props[PROP_STATE] =
      g_param_spec_string ("state", NULL, NULL, "shutoff",
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_STATE_REASON] =
      g_param_spec_string ("state-reason", NULL, NULL, "",
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
ferryd_domain_init (FerrydDomain *self)
{
  self->state = g_strdup ("shutoff");
  self->state_reason = g_strdup ("");
}
