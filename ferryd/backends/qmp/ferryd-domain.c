/* ferry-domain.c: a QMP-backend domain and the state it is in
 *
 * The public State is derived, never stored: it comes from the migration
 * the domain takes part in, else from its QEMU process' run state.
 */
#define G_LOG_DOMAIN "ferry-domain"

#include "ferry-compat.h"
#include "ferryd-domain.h"
#include "ferry-error.h"

/* How long the guest gets to power off before QEMU is told to quit. */
#define SHUTDOWN_GRACE_MS 3000

struct _FerryDomain
{
  GObject parent_instance;

  FerryDomainConfig *config;
  char *state_dir;
  char *runtime_dir;
  FerryQemu *qemu;
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

G_DEFINE_TYPE (FerryDomain, ferry_domain, G_TYPE_OBJECT)

static const char *
compute_state (FerryDomain *self)
{
  const char *run_state;

  if (self->migration)
    return self->migration_incoming ? "incoming" : "migrating";
  if (self->qemu == NULL || ferry_qemu_has_exited (self->qemu))
    return "shutoff";
  run_state = ferry_qemu_get_run_state (self->qemu);
  if (g_str_equal (run_state, "running"))
    return "running";
  if (g_str_equal (run_state, "shutoff"))
    return "shutoff";
  if (g_str_equal (run_state, "crashed"))
    return "crashed";
  return "paused";
}

static const char *
compute_state_reason (FerryDomain *self)
{
  if (self->migration || self->qemu == NULL)
    return "";
  return ferry_qemu_get_state_reason (self->qemu);
}

static void
update_state (FerryDomain *self)
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
  FerryDomain *self = user_data;

  /* An exited QEMU is dropped so the domain can be started again. */
  if (ferry_qemu_has_exited (FERRY_QEMU (qemu)) && self->migration == NULL)
    ferry_domain_set_qemu (self, NULL);
  else
    update_state (self);
}

void
ferry_domain_set_qemu (FerryDomain *self, FerryQemu *qemu)
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

FerryQemu *
ferry_domain_get_qemu (FerryDomain *self)
{
  return self->qemu;
}

/* sd_bus_path_encode: ASCII letters stay, digits too except in the first
 * place (a label may not start with one), every other byte is _xx. */
char *
ferry_domain_object_path (const char *name)
{
  GString *path = g_string_new ("/org/ferryvm/Ferry1/domain/");

  if (*name == '\0')
    g_string_append_c (path, '_');
  for (const guchar *p = (const guchar *) name; *p; p++)
    {
      if (g_ascii_isalpha (*p) || (g_ascii_isdigit (*p) && p != (const guchar *) name))
        g_string_append_c (path, *p);
      else
        g_string_append_printf (path, "_%02x", *p);
    }
  return g_string_free (path, FALSE);
}

const char *
ferry_domain_get_name (FerryDomain *self)
{
  return self->config->name;
}

const char *
ferry_domain_get_uuid (FerryDomain *self)
{
  return self->config->uuid;
}

const FerryDomainConfig *
ferry_domain_get_config (FerryDomain *self)
{
  return self->config;
}

void
ferry_domain_set_config (FerryDomain *self, FerryDomainConfig *config)
{
  g_return_if_fail (g_str_equal (config->name, self->config->name));
  ferry_domain_config_free (self->config);
  self->config = config;
}

const char *
ferry_domain_get_state (FerryDomain *self)
{
  return self->state;
}

const char *
ferry_domain_get_state_reason (FerryDomain *self)
{
  return self->state_reason;
}

gboolean
ferry_domain_is_active (FerryDomain *self)
{
  return self->starting || self->migration != NULL || !g_str_equal (self->state, "shutoff");
}

const char *
ferry_domain_get_state_dir (FerryDomain *self)
{
  return self->state_dir;
}

const char *
ferry_domain_get_runtime_dir (FerryDomain *self)
{
  return self->runtime_dir;
}

GObject *
ferry_domain_get_migration (FerryDomain *self)
{
  return self->migration;
}

void
ferry_domain_set_migration (FerryDomain *self, GObject *migration, gboolean incoming)
{
  self->migration = migration; /* the engine owns it and clears it here */
  self->migration_incoming = incoming;
  if (migration == NULL && self->qemu && ferry_qemu_has_exited (self->qemu))
    ferry_domain_set_qemu (self, NULL);
  update_state (self);
}

static void
launch_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerryDomain *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (FerryQemu) qemu = ferry_qemu_launch_finish (result, &error);

  self->starting = FALSE;
  if (qemu == NULL)
    {
      update_state (self);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ferry_domain_set_qemu (self, qemu);
  g_task_return_boolean (task, TRUE);
}

void
ferry_domain_start_async (FerryDomain *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  FerryQemuLaunch launch = { self->runtime_dir, self->state_dir, FALSE, FALSE };

  if (ferry_domain_is_active (self))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY, "Domain '%s' is already %s",
                               self->config->name, self->starting ? "starting" : self->state);
      return;
    }
  self->starting = TRUE;
  ferry_qemu_launch_async (self->config, &launch, cancellable, launch_cb, g_steal_pointer (&task));
}

gboolean
ferry_domain_start_finish (FerryDomain *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
shutdown_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferry_qemu_shutdown_finish (FERRY_QEMU (source), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
ferry_domain_shutdown_async (FerryDomain *self,
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
  if (self->qemu == NULL || ferry_qemu_has_exited (self->qemu))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED, "Domain '%s' is not running",
                               self->config->name);
      return;
    }
  ferry_qemu_shutdown_async (self->qemu, SHUTDOWN_GRACE_MS, shutdown_cb, g_steal_pointer (&task));
}

gboolean
ferry_domain_shutdown_finish (FerryDomain *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

FerryDomain *
ferry_domain_new (FerryDomainConfig *config, const char *state_dir, const char *runtime_dir)
{
  FerryDomain *self = g_object_new (FERRY_TYPE_DOMAIN, NULL);

  self->config = config;
  self->state_dir = g_strdup (state_dir);
  self->runtime_dir = g_strdup (runtime_dir);
  return self;
}

static void
ferry_domain_dispose (GObject *object)
{
  FerryDomain *self = FERRY_DOMAIN (object);

  if (self->qemu)
    g_clear_signal_handler (&self->qemu_notify_id, self->qemu);
  g_clear_object (&self->qemu);
  G_OBJECT_CLASS (ferry_domain_parent_class)->dispose (object);
}

static void
ferry_domain_finalize (GObject *object)
{
  FerryDomain *self = FERRY_DOMAIN (object);

  ferry_domain_config_free (self->config);
  g_free (self->state_dir);
  g_free (self->runtime_dir);
  g_free (self->state);
  g_free (self->state_reason);
  G_OBJECT_CLASS (ferry_domain_parent_class)->finalize (object);
}

static void
ferry_domain_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerryDomain *self = FERRY_DOMAIN (object);

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
ferry_domain_class_init (FerryDomainClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferry_domain_dispose;
  object_class->finalize = ferry_domain_finalize;
  object_class->get_property = ferry_domain_get_property;

  props[PROP_STATE] =
      g_param_spec_string ("state", NULL, NULL, "shutoff",
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_STATE_REASON] =
      g_param_spec_string ("state-reason", NULL, NULL, "",
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
ferry_domain_init (FerryDomain *self)
{
  self->state = g_strdup ("shutoff");
  self->state_reason = g_strdup ("");
}
