/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-domain.c: a domain and the state it is in, whatever runs it
 *
 * The public State is derived, never stored: it comes from the migration
 * the domain takes part in, else from what the backend last said of the
 * guest (ferryd_domain_set_run_state()).
 */
#define G_LOG_DOMAIN "ferry-domain"

#include "ferry-compat.h"
#include "ferryd-domain.h"
#include "ferry-error.h"

typedef struct
{
  char *backend;
  FerrydDomainConfig *config;
  char *state_dir;
  char *runtime_dir;
  GObject *migration;
  gboolean migration_incoming;
  gboolean starting;
  char *run_state;    /* as the backend says it */
  char *run_reason;   /* ditto */
  char *state;        /* last notified value */
  char *state_reason; /* ditto */
} FerrydDomainPrivate;

enum
{
  PROP_0,
  PROP_STATE,
  PROP_STATE_REASON,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (FerrydDomain, ferryd_domain, G_TYPE_OBJECT)

#define PRIV(self) ((FerrydDomainPrivate *) ferryd_domain_get_instance_private (self))

static const char *
compute_state (FerrydDomain *self)
{
  FerrydDomainPrivate *priv = PRIV (self);

  if (priv->migration)
    return priv->migration_incoming ? "incoming" : "migrating";
  return priv->run_state;
}

static const char *
compute_state_reason (FerrydDomain *self)
{
  FerrydDomainPrivate *priv = PRIV (self);

  if (priv->migration)
    return "";
  return priv->run_reason;
}

static void
update_state (FerrydDomain *self)
{
  FerrydDomainPrivate *priv = PRIV (self);

  /* The reason first: a client that sees State change reads it. */
  if (g_set_str (&priv->state_reason, compute_state_reason (self)))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE_REASON]);
  if (g_set_str (&priv->state, compute_state (self)))
    {
      g_info ("domain %s: %s%s%s", priv->config->name, priv->state,
              priv->state_reason[0] ? ": " : "", priv->state_reason);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
    }
}

void
ferryd_domain_set_run_state (FerrydDomain *self, const char *run_state, const char *reason)
{
  FerrydDomainPrivate *priv = PRIV (self);

  g_set_str (&priv->run_state, run_state);
  g_set_str (&priv->run_reason, reason ? reason : "");
  update_state (self);
}

const char *
ferryd_domain_get_backend_name (FerrydDomain *self)
{
  return PRIV (self)->backend;
}

const char *
ferryd_domain_get_name (FerrydDomain *self)
{
  return PRIV (self)->config->name;
}

const char *
ferryd_domain_get_uuid (FerrydDomain *self)
{
  return PRIV (self)->config->uuid;
}

const FerrydDomainConfig *
ferryd_domain_get_config (FerrydDomain *self)
{
  return PRIV (self)->config;
}

void
ferryd_domain_set_config (FerrydDomain *self, FerrydDomainConfig *config)
{
  FerrydDomainPrivate *priv = PRIV (self);

  g_return_if_fail (g_str_equal (config->name, priv->config->name));
  ferryd_domain_config_free (priv->config);
  priv->config = config;
}

const char *
ferryd_domain_get_state (FerrydDomain *self)
{
  return PRIV (self)->state;
}

const char *
ferryd_domain_get_state_reason (FerrydDomain *self)
{
  return PRIV (self)->state_reason;
}

gboolean
ferryd_domain_is_active (FerrydDomain *self)
{
  FerrydDomainPrivate *priv = PRIV (self);

  return priv->starting || priv->migration != NULL || !g_str_equal (priv->state, "shutoff");
}

const char *
ferryd_domain_get_state_dir (FerrydDomain *self)
{
  return PRIV (self)->state_dir;
}

const char *
ferryd_domain_get_runtime_dir (FerrydDomain *self)
{
  return PRIV (self)->runtime_dir;
}

GObject *
ferryd_domain_get_migration (FerrydDomain *self)
{
  return PRIV (self)->migration;
}

void
ferryd_domain_set_migration (FerrydDomain *self, GObject *migration, gboolean incoming)
{
  FerrydDomainPrivate *priv = PRIV (self);

  priv->migration = migration;
  priv->migration_incoming = incoming;
  update_state (self);
}

/* The task data of a Start says whether it resumes a paused guest. */
#define START_RESUMES GINT_TO_POINTER (1)

static void
started_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydDomain *self = FERRYD_DOMAIN (source);
  FerrydDomainClass *klass = FERRYD_DOMAIN_GET_CLASS (self);
  GError *error = NULL;
  gboolean ok = g_task_get_task_data (task) == START_RESUMES
                    ? klass->resume_finish (self, result, &error)
                    : klass->start_finish (self, result, &error);

  PRIV (self)->starting = FALSE;
  update_state (self);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
ferryd_domain_start_async (FerrydDomain *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  FerrydDomainPrivate *priv = PRIV (self);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_domain_start_async);
  /* A paused guest that no migration holds (one a failed hand-over left
   * paused because the destination might have taken over, or one paused
   * from outside): Start lets it run again. Whether the destination has
   * a copy is the caller's judgement; ferryd could not tell. */
  if (!priv->starting && priv->migration == NULL && g_str_equal (priv->state, "paused") &&
      FERRYD_DOMAIN_GET_CLASS (self)->resume_async != NULL)
    {
      priv->starting = TRUE;
      g_task_set_task_data (task, START_RESUMES, NULL);
      FERRYD_DOMAIN_GET_CLASS (self)->resume_async (self, cancellable, started_cb,
                                                    g_steal_pointer (&task));
      return;
    }
  if (ferryd_domain_is_active (self))
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY, "Domain '%s' is already %s",
                               priv->config->name, priv->starting ? "starting" : priv->state);
      return;
    }
  priv->starting = TRUE;
  FERRYD_DOMAIN_GET_CLASS (self)->start_async (self, cancellable, started_cb,
                                               g_steal_pointer (&task));
}

gboolean
ferryd_domain_start_finish (FerrydDomain *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
shut_down_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydDomain *self = FERRYD_DOMAIN (source);
  GError *error = NULL;

  if (FERRYD_DOMAIN_GET_CLASS (self)->shutdown_finish (self, result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
ferryd_domain_shutdown_async (FerrydDomain *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  FerrydDomainPrivate *priv = PRIV (self);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_domain_shutdown_async);
  if (priv->migration)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY,
                               "Domain '%s' is %s; cancel the migration first", priv->config->name,
                               priv->state);
      return;
    }
  FERRYD_DOMAIN_GET_CLASS (self)->shutdown_async (self, cancellable, shut_down_cb,
                                                  g_steal_pointer (&task));
}

gboolean
ferryd_domain_shutdown_finish (FerrydDomain *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ferryd_domain_construct (FerrydDomain *self,
                         const char *backend,
                         FerrydDomainConfig *config,
                         const char *state_dir,
                         const char *runtime_dir)
{
  FerrydDomainPrivate *priv = PRIV (self);

  priv->backend = g_strdup (backend);
  priv->config = config;
  priv->state_dir = g_strdup (state_dir);
  priv->runtime_dir = g_strdup (runtime_dir);
}

static void
ferryd_domain_finalize (GObject *object)
{
  FerrydDomainPrivate *priv = PRIV (FERRYD_DOMAIN (object));

  g_clear_pointer (&priv->config, ferryd_domain_config_free);
  g_free (priv->backend);
  g_free (priv->state_dir);
  g_free (priv->runtime_dir);
  g_free (priv->run_state);
  g_free (priv->run_reason);
  g_free (priv->state);
  g_free (priv->state_reason);
  G_OBJECT_CLASS (ferryd_domain_parent_class)->finalize (object);
}

static void
ferryd_domain_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerrydDomainPrivate *priv = PRIV (FERRYD_DOMAIN (object));

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_string (value, priv->state);
      break;
    case PROP_STATE_REASON:
      g_value_set_string (value, priv->state_reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ferryd_domain_class_init (FerrydDomainClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

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
  FerrydDomainPrivate *priv = PRIV (self);

  priv->run_state = g_strdup ("shutoff");
  priv->run_reason = g_strdup ("");
  priv->state = g_strdup ("shutoff");
  priv->state_reason = g_strdup ("");
}
