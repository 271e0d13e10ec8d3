/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-migration.c: a migration of ferryd (org.ferryvm.Ferry1.Migration):
 * its D-Bus properties as GObject properties, its D-Bus signals as GObject
 * signals, its methods, and waiting for its end */
#define G_LOG_DOMAIN "libferry-migration"

#include "ferry-private.h"

/**
 * FerryMigration:
 *
 * A migration, outgoing or incoming, running or finished. Its properties
 * follow the D-Bus object (ferryd coalesces progress to a few updates a
 * second): connect to `notify::progress` for a live progress readout, and
 * ferry_migration_wait_sync() or ferry_migration_wait_async() for its end.
 * Get migrations from ferry_client_migrate_sync(),
 * ferry_client_get_migrations() or ferry_client_lookup_migration().
 */
struct _FerryMigration
{
  GObject parent_instance;
  FerryClient *client; /* weak */
  GDBusProxy *proxy;
  gulong changed_id;
  gulong signal_id;
  GPtrArray *waits; /* the GTasks of pending waits */
  gboolean gone;    /* the object left the bus */
};

G_DEFINE_FINAL_TYPE (FerryMigration, ferry_migration, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_OBJECT_PATH,
  PROP_DOMAIN_PATH,
  PROP_DOMAIN_NAME,
  PROP_SOURCE,
  PROP_DESTINATION,
  PROP_DIRECTION,
  PROP_BACKEND,
  PROP_OPTIONS,
  PROP_STARTED_BY_UID,
  PROP_PHASE,
  PROP_STATE,
  PROP_MODE,
  PROP_PHASE_TIMESTAMPS,
  PROP_PROGRESS,
  PROP_TIME_ELAPSED,
  PROP_TIME_REMAINING,
  PROP_MEMORY_TOTAL,
  PROP_MEMORY_PROCESSED,
  PROP_MEMORY_REMAINING,
  PROP_DISK_TOTAL,
  PROP_DISK_PROCESSED,
  PROP_DISK_REMAINING,
  PROP_TRANSFER_RATE,
  PROP_DIRTY_RATE,
  PROP_ITERATION,
  PROP_EXPECTED_DOWNTIME,
  PROP_CONVERGING,
  PROP_CONVERGENCE,
  PROP_STATISTICS,
  PROP_ERROR_NAME,
  PROP_ERROR_MESSAGE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static const FerryPropMap prop_map[N_PROPS] = {
  [PROP_OBJECT_PATH] = { "object-path", NULL },
  [PROP_DOMAIN_PATH] = { "domain-path", "Domain" },
  [PROP_DOMAIN_NAME] = { "domain-name", "DomainName" },
  [PROP_SOURCE] = { "source", "Source" },
  [PROP_DESTINATION] = { "destination", "Destination" },
  [PROP_DIRECTION] = { "direction", "Direction" },
  [PROP_BACKEND] = { "backend", "Backend" },
  [PROP_OPTIONS] = { "options", "Options" },
  [PROP_STARTED_BY_UID] = { "started-by-uid", "StartedByUID" },
  [PROP_PHASE] = { "phase", "Phase" },
  [PROP_STATE] = { "state", "State" },
  [PROP_MODE] = { "mode", "Mode" },
  [PROP_PHASE_TIMESTAMPS] = { "phase-timestamps", "PhaseTimestamps" },
  [PROP_PROGRESS] = { "progress", "Progress" },
  [PROP_TIME_ELAPSED] = { "time-elapsed", "TimeElapsed" },
  [PROP_TIME_REMAINING] = { "time-remaining", "TimeRemaining" },
  [PROP_MEMORY_TOTAL] = { "memory-total", "MemoryTotal" },
  [PROP_MEMORY_PROCESSED] = { "memory-processed", "MemoryProcessed" },
  [PROP_MEMORY_REMAINING] = { "memory-remaining", "MemoryRemaining" },
  [PROP_DISK_TOTAL] = { "disk-total", "DiskTotal" },
  [PROP_DISK_PROCESSED] = { "disk-processed", "DiskProcessed" },
  [PROP_DISK_REMAINING] = { "disk-remaining", "DiskRemaining" },
  [PROP_TRANSFER_RATE] = { "transfer-rate", "TransferRate" },
  [PROP_DIRTY_RATE] = { "dirty-rate", "DirtyRate" },
  [PROP_ITERATION] = { "iteration", "Iteration" },
  [PROP_EXPECTED_DOWNTIME] = { "expected-downtime", "ExpectedDowntime" },
  [PROP_CONVERGING] = { "converging", "Converging" },
  [PROP_CONVERGENCE] = { "convergence", "Convergence" },
  [PROP_STATISTICS] = { "statistics", "Statistics" },
  [PROP_ERROR_NAME] = { "error-name", "ErrorName" },
  [PROP_ERROR_MESSAGE] = { "error-message", "ErrorMessage" },
};

enum
{
  SIGNAL_PHASE_CHANGED,
  SIGNAL_ITERATION,
  SIGNAL_POST_COPY_STARTED,
  SIGNAL_POLICY_ACTION,
  SIGNAL_COMPLETED,
  SIGNAL_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean wait_check (GTask *task);

static void
ferry_migration_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FerryMigration *self = FERRY_MIGRATION (object);

  if (prop_id == PROP_OBJECT_PATH)
    g_value_set_string (value, g_dbus_proxy_get_object_path (self->proxy));
  else if (prop_id > PROP_0 && prop_id < N_PROPS)
    _ferry_proxy_get_value (self->proxy, prop_map[prop_id].dbus_name, value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
ferry_migration_dispose (GObject *object)
{
  FerryMigration *self = FERRY_MIGRATION (object);

  g_clear_signal_handler (&self->changed_id, self->proxy);
  g_clear_signal_handler (&self->signal_id, self->proxy);
  g_clear_object (&self->proxy);
  g_clear_weak_pointer (&self->client);
  g_clear_pointer (&self->waits, g_ptr_array_unref);
  G_OBJECT_CLASS (ferry_migration_parent_class)->dispose (object);
}

static void
ferry_migration_class_init (FerryMigrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->get_property = ferry_migration_get_property;
  object_class->dispose = ferry_migration_dispose;

  /**
   * FerryMigration:object-path:
   *
   * The D-Bus object path of the migration.
   */
  props[PROP_OBJECT_PATH] = g_param_spec_string ("object-path", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:domain-path:
   *
   * The object path of the migrating domain (on the host that runs this migration).
   */
  props[PROP_DOMAIN_PATH] = g_param_spec_string ("domain-path", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:domain-name:
   *
   * The name of the migrating domain.
   */
  props[PROP_DOMAIN_NAME] = g_param_spec_string ("domain-name", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:source:
   *
   * Where the migration comes from (for incoming migrations: the peer).
   */
  props[PROP_SOURCE] = g_param_spec_string ("source", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:destination:
   *
   * The destination address given to Migrate.
   */
  props[PROP_DESTINATION] = g_param_spec_string ("destination", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:direction:
   *
   * `outgoing` or `incoming`.
   */
  props[PROP_DIRECTION] = g_param_spec_string ("direction", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:backend:
   *
   * The backend that runs the migration, e.g. `qmp`.
   */
  props[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:options:
   *
   * The options the migration was started with.
   */
  props[PROP_OPTIONS] =
      g_param_spec_variant ("options", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, flags);
  /**
   * FerryMigration:started-by-uid:
   *
   * The uid of the caller that started the migration.
   */
  props[PROP_STARTED_BY_UID] =
      g_param_spec_uint ("started-by-uid", NULL, NULL, 0, G_MAXUINT, 0, flags);
  /**
   * FerryMigration:phase:
   *
   * The protocol phase: `begin`, `prepare`, `perform`, `finish`, `confirm`, `done`.
   */
  props[PROP_PHASE] = g_param_spec_string ("phase", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:state:
   *
   * `pending`, `setup`, `active`, `postcopy-active`, `postcopy-paused`, `completed`, `failed` or
   * `cancelled` (treat unknown values generically).
   */
  props[PROP_STATE] = g_param_spec_string ("state", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:mode:
   *
   * `precopy` or `postcopy`.
   */
  props[PROP_MODE] = g_param_spec_string ("mode", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:phase-timestamps:
   *
   * When each phase began, in µs since the epoch (`a{st}`).
   */
  props[PROP_PHASE_TIMESTAMPS] =
      g_param_spec_variant ("phase-timestamps", NULL, NULL, G_VARIANT_TYPE ("a{st}"), NULL, flags);
  /**
   * FerryMigration:progress:
   *
   * The progress from 0 to 1; it never goes backwards.
   */
  props[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0, flags);
  /**
   * FerryMigration:time-elapsed:
   *
   * The time since the migration started, in ms.
   */
  props[PROP_TIME_ELAPSED] =
      g_param_spec_uint64 ("time-elapsed", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:time-remaining:
   *
   * The estimated time left, in ms; 0 when unknown.
   */
  props[PROP_TIME_REMAINING] =
      g_param_spec_uint64 ("time-remaining", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:memory-total:
   *
   * The guest memory to transfer, in bytes.
   */
  props[PROP_MEMORY_TOTAL] =
      g_param_spec_uint64 ("memory-total", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:memory-processed:
   *
   * The guest memory processed so far, in bytes.
   */
  props[PROP_MEMORY_PROCESSED] =
      g_param_spec_uint64 ("memory-processed", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:memory-remaining:
   *
   * The guest memory left to transfer, in bytes.
   */
  props[PROP_MEMORY_REMAINING] =
      g_param_spec_uint64 ("memory-remaining", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:disk-total:
   *
   * The disk data to copy, in bytes.
   */
  props[PROP_DISK_TOTAL] = g_param_spec_uint64 ("disk-total", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:disk-processed:
   *
   * The disk data copied so far, in bytes.
   */
  props[PROP_DISK_PROCESSED] =
      g_param_spec_uint64 ("disk-processed", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:disk-remaining:
   *
   * The disk data left to copy, in bytes.
   */
  props[PROP_DISK_REMAINING] =
      g_param_spec_uint64 ("disk-remaining", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:transfer-rate:
   *
   * The current transfer rate, in bytes per second.
   */
  props[PROP_TRANSFER_RATE] =
      g_param_spec_uint64 ("transfer-rate", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:dirty-rate:
   *
   * The rate at which the guest dirties memory, in bytes per second.
   */
  props[PROP_DIRTY_RATE] = g_param_spec_uint64 ("dirty-rate", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:iteration:
   *
   * The pre-copy iteration (pass over memory).
   */
  props[PROP_ITERATION] = g_param_spec_uint ("iteration", NULL, NULL, 0, G_MAXUINT, 0, flags);
  /**
   * FerryMigration:expected-downtime:
   *
   * The downtime expected at switch-over, in ms.
   */
  props[PROP_EXPECTED_DOWNTIME] =
      g_param_spec_uint64 ("expected-downtime", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  /**
   * FerryMigration:converging:
   *
   * Whether the migration converges: `yes`, `no` or `unknown`.
   */
  props[PROP_CONVERGING] = g_param_spec_string ("converging", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:convergence:
   *
   * Why the migration is or is not getting there (`a{sv}`, DESIGN §2):
   * `verdict` (`converging`, `stalled`, `diverging` or `unknown`),
   * `reason` (e.g. `dirty-rate-over-link`, `downtime-limit`),
   * `description` (the figures behind it, in words), `suggestion` (what a
   * person can do), and the figures `dirty-rate`, `transfer-rate` (bytes/s),
   * `remaining` (bytes), `passes`, `expected-downtime`, `downtime-limit`
   * (ms) and `throttle` (%). Notified as it changes, with the progress
   * counters.
   */
  props[PROP_CONVERGENCE] =
      g_param_spec_variant ("convergence", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, flags);
  /**
   * FerryMigration:statistics:
   *
   * The final statistics of the migration (`a{sv}`, DESIGN §2); empty while it runs.
   */
  props[PROP_STATISTICS] =
      g_param_spec_variant ("statistics", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL, flags);
  /**
   * FerryMigration:error-name:
   *
   * The D-Bus name of the error a failed migration ended with, or empty.
   */
  props[PROP_ERROR_NAME] = g_param_spec_string ("error-name", NULL, NULL, NULL, flags);
  /**
   * FerryMigration:error-message:
   *
   * The message of the error a failed migration ended with, or empty.
   */
  props[PROP_ERROR_MESSAGE] = g_param_spec_string ("error-message", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * FerryMigration::phase-changed:
   * @self: the #FerryMigration
   * @phase: the new phase
   *
   * The migration entered a phase of the protocol (see
   * #FerryMigration:phase).
   */
  signals[SIGNAL_PHASE_CHANGED] =
      g_signal_new ("phase-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * FerryMigration::iteration:
   * @self: the #FerryMigration
   * @n: the number of the iteration that began
   * @stats: the figures at its start (`a{sv}`)
   *
   * A pre-copy iteration (pass over the guest's memory) began.
   */
  signals[SIGNAL_ITERATION] =
      g_signal_new ("iteration", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_VARIANT);
  /**
   * FerryMigration::post-copy-started:
   * @self: the #FerryMigration
   *
   * The migration switched to post-copy.
   */
  signals[SIGNAL_POST_COPY_STARTED] =
      g_signal_new ("post-copy-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 0);
  /**
   * FerryMigration::policy-action:
   * @self: the #FerryMigration
   * @action: what the convergence policy did
   * @reason: why, in words
   *
   * ferryd's convergence policy acted on the migration.
   */
  signals[SIGNAL_POLICY_ACTION] =
      g_signal_new ("policy-action", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * FerryMigration::completed:
   * @self: the #FerryMigration
   * @statistics: the final statistics (`a{sv}`)
   *
   * The migration completed.
   */
  signals[SIGNAL_COMPLETED] =
      g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, G_TYPE_VARIANT);
  /**
   * FerryMigration::failed:
   * @self: the #FerryMigration
   * @error_name: the D-Bus name of the error
   * @message: the error message
   *
   * The migration failed or was cancelled.
   */
  signals[SIGNAL_FAILED] =
      g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
ferry_migration_init (FerryMigration *self)
{
  self->waits = g_ptr_array_new ();
}

static void
on_properties_changed (GDBusProxy *proxy,
                       GVariant *changed,
                       const char *const *invalidated,
                       FerryMigration *self)
{
  _ferry_forward_notify (G_OBJECT (self), props, prop_map, N_PROPS, changed, invalidated);
}

static void
on_signal (
    GDBusProxy *proxy, const char *sender, const char *name, GVariant *params, FerryMigration *self)
{
  const char *s1, *s2;
  guint32 n;
  g_autoptr (GVariant) v = NULL;

  if (g_str_equal (name, "PhaseChanged") && g_variant_is_of_type (params, G_VARIANT_TYPE ("(s)")))
    {
      g_variant_get (params, "(&s)", &s1);
      g_signal_emit (self, signals[SIGNAL_PHASE_CHANGED], 0, s1);
    }
  else if (g_str_equal (name, "Iteration") &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(ua{sv})")))
    {
      g_variant_get (params, "(u@a{sv})", &n, &v);
      g_signal_emit (self, signals[SIGNAL_ITERATION], 0, n, v);
    }
  else if (g_str_equal (name, "PostCopyStarted"))
    g_signal_emit (self, signals[SIGNAL_POST_COPY_STARTED], 0);
  else if (g_str_equal (name, "PolicyAction") &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(ss)")))
    {
      g_variant_get (params, "(&s&s)", &s1, &s2);
      g_signal_emit (self, signals[SIGNAL_POLICY_ACTION], 0, s1, s2);
    }
  else if (g_str_equal (name, "Completed") &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(a{sv})")))
    {
      g_variant_get (params, "(@a{sv})", &v);
      g_signal_emit (self, signals[SIGNAL_COMPLETED], 0, v);
    }
  else if (g_str_equal (name, "Failed") && g_variant_is_of_type (params, G_VARIANT_TYPE ("(ss)")))
    {
      g_variant_get (params, "(&s&s)", &s1, &s2);
      g_signal_emit (self, signals[SIGNAL_FAILED], 0, s1, s2);
    }
}

FerryMigration *
_ferry_migration_new (FerryClient *client, GDBusProxy *proxy)
{
  FerryMigration *self = g_object_new (FERRY_TYPE_MIGRATION, NULL);

  g_set_weak_pointer (&self->client, client);
  self->proxy = g_object_ref (proxy);
  self->changed_id =
      g_signal_connect (proxy, "g-properties-changed", G_CALLBACK (on_properties_changed), self);
  self->signal_id = g_signal_connect (proxy, "g-signal", G_CALLBACK (on_signal), self);
  return self;
}

/* The object left the bus (ferryd stopped, or dropped it from its
 * history): pending waits end. */
void
_ferry_migration_set_gone (FerryMigration *self)
{
  g_autoptr (GPtrArray) waits = NULL;

  self->gone = TRUE;
  waits = g_ptr_array_copy (self->waits, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
  g_ptr_array_set_free_func (waits, g_object_unref);
  for (guint i = 0; i < waits->len; i++)
    wait_check (waits->pdata[i]);
}

GDBusProxy *
_ferry_migration_get_proxy (FerryMigration *self)
{
  return self->proxy;
}

/**
 * ferry_migration_get_object_path:
 * @self: a #FerryMigration
 *
 * Gets the D-Bus object path of the migration.
 *
 * Returns: the D-Bus object path of the migration
 */
const char *
ferry_migration_get_object_path (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return g_dbus_proxy_get_object_path (self->proxy);
}

static gboolean
state_is_final (const char *state)
{
  return g_strcmp0 (state, "completed") == 0 || g_strcmp0 (state, "failed") == 0 ||
         g_strcmp0 (state, "cancelled") == 0;
}

/**
 * ferry_migration_is_finished:
 * @self: a #FerryMigration
 *
 * Whether the migration has ended: its #FerryMigration:state is
 * `completed`, `failed` or `cancelled`.
 *
 * Returns: %TRUE once the migration has ended
 */
gboolean
ferry_migration_is_finished (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), FALSE);
  return state_is_final (_ferry_proxy_get_string (self->proxy, "State"));
}

/**
 * ferry_migration_get_domain_path:
 * @self: a #FerryMigration
 *
 * Gets the domain path.
 *
 * Returns: (nullable): the #FerryMigration:domain-path
 */
const char *
ferry_migration_get_domain_path (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Domain");
}

/**
 * ferry_migration_get_domain_name:
 * @self: a #FerryMigration
 *
 * Gets the domain name.
 *
 * Returns: (nullable): the #FerryMigration:domain-name
 */
const char *
ferry_migration_get_domain_name (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "DomainName");
}

/**
 * ferry_migration_get_source:
 * @self: a #FerryMigration
 *
 * Gets the source.
 *
 * Returns: (nullable): the #FerryMigration:source
 */
const char *
ferry_migration_get_source (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Source");
}

/**
 * ferry_migration_get_destination:
 * @self: a #FerryMigration
 *
 * Gets the destination.
 *
 * Returns: (nullable): the #FerryMigration:destination
 */
const char *
ferry_migration_get_destination (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Destination");
}

/**
 * ferry_migration_get_direction:
 * @self: a #FerryMigration
 *
 * Gets the direction.
 *
 * Returns: (nullable): the #FerryMigration:direction
 */
const char *
ferry_migration_get_direction (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Direction");
}

/**
 * ferry_migration_get_backend:
 * @self: a #FerryMigration
 *
 * Gets the backend.
 *
 * Returns: (nullable): the #FerryMigration:backend
 */
const char *
ferry_migration_get_backend (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Backend");
}

/**
 * ferry_migration_dup_options:
 * @self: a #FerryMigration
 *
 * Gets a copy of the options.
 *
 * Returns: (transfer full) (nullable): the #FerryMigration:options (`a{sv}`)
 */
GVariant *
ferry_migration_dup_options (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return g_dbus_proxy_get_cached_property (self->proxy, "Options");
}

/**
 * ferry_migration_get_started_by_uid:
 * @self: a #FerryMigration
 *
 * Gets the started by uid.
 *
 * Returns: the #FerryMigration:started-by-uid
 */
guint
ferry_migration_get_started_by_uid (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "StartedByUID");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_phase:
 * @self: a #FerryMigration
 *
 * Gets the phase.
 *
 * Returns: (nullable): the #FerryMigration:phase
 */
const char *
ferry_migration_get_phase (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Phase");
}

/**
 * ferry_migration_get_state:
 * @self: a #FerryMigration
 *
 * Gets the state.
 *
 * Returns: (nullable): the #FerryMigration:state
 */
const char *
ferry_migration_get_state (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "State");
}

/**
 * ferry_migration_get_mode:
 * @self: a #FerryMigration
 *
 * Gets the mode.
 *
 * Returns: (nullable): the #FerryMigration:mode
 */
const char *
ferry_migration_get_mode (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Mode");
}

/**
 * ferry_migration_dup_phase_timestamps:
 * @self: a #FerryMigration
 *
 * Gets a copy of the phase timestamps.
 *
 * Returns: (transfer full) (nullable): the #FerryMigration:phase-timestamps (`a{st}`)
 */
GVariant *
ferry_migration_dup_phase_timestamps (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return g_dbus_proxy_get_cached_property (self->proxy, "PhaseTimestamps");
}

/**
 * ferry_migration_get_progress:
 * @self: a #FerryMigration
 *
 * Gets the progress.
 *
 * Returns: the #FerryMigration:progress
 */
double
ferry_migration_get_progress (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0.0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "Progress");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double (v)
                                                                      : 0.0;
}

/**
 * ferry_migration_get_time_elapsed:
 * @self: a #FerryMigration
 *
 * Gets the time elapsed.
 *
 * Returns: the #FerryMigration:time-elapsed
 */
guint64
ferry_migration_get_time_elapsed (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "TimeElapsed");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_time_remaining:
 * @self: a #FerryMigration
 *
 * Gets the time remaining.
 *
 * Returns: the #FerryMigration:time-remaining
 */
guint64
ferry_migration_get_time_remaining (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "TimeRemaining");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_memory_total:
 * @self: a #FerryMigration
 *
 * Gets the memory total.
 *
 * Returns: the #FerryMigration:memory-total
 */
guint64
ferry_migration_get_memory_total (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "MemoryTotal");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_memory_processed:
 * @self: a #FerryMigration
 *
 * Gets the memory processed.
 *
 * Returns: the #FerryMigration:memory-processed
 */
guint64
ferry_migration_get_memory_processed (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "MemoryProcessed");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_memory_remaining:
 * @self: a #FerryMigration
 *
 * Gets the memory remaining.
 *
 * Returns: the #FerryMigration:memory-remaining
 */
guint64
ferry_migration_get_memory_remaining (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "MemoryRemaining");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_disk_total:
 * @self: a #FerryMigration
 *
 * Gets the disk total.
 *
 * Returns: the #FerryMigration:disk-total
 */
guint64
ferry_migration_get_disk_total (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "DiskTotal");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_disk_processed:
 * @self: a #FerryMigration
 *
 * Gets the disk processed.
 *
 * Returns: the #FerryMigration:disk-processed
 */
guint64
ferry_migration_get_disk_processed (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "DiskProcessed");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_disk_remaining:
 * @self: a #FerryMigration
 *
 * Gets the disk remaining.
 *
 * Returns: the #FerryMigration:disk-remaining
 */
guint64
ferry_migration_get_disk_remaining (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "DiskRemaining");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_transfer_rate:
 * @self: a #FerryMigration
 *
 * Gets the transfer rate.
 *
 * Returns: the #FerryMigration:transfer-rate
 */
guint64
ferry_migration_get_transfer_rate (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "TransferRate");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_dirty_rate:
 * @self: a #FerryMigration
 *
 * Gets the dirty rate.
 *
 * Returns: the #FerryMigration:dirty-rate
 */
guint64
ferry_migration_get_dirty_rate (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "DirtyRate");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_iteration:
 * @self: a #FerryMigration
 *
 * Gets the iteration.
 *
 * Returns: the #FerryMigration:iteration
 */
guint
ferry_migration_get_iteration (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "Iteration");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_expected_downtime:
 * @self: a #FerryMigration
 *
 * Gets the expected downtime.
 *
 * Returns: the #FerryMigration:expected-downtime
 */
guint64
ferry_migration_get_expected_downtime (FerryMigration *self)
{
  g_autoptr (GVariant) v = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), 0);
  v = g_dbus_proxy_get_cached_property (self->proxy, "ExpectedDowntime");
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64 (v)
                                                                      : 0;
}

/**
 * ferry_migration_get_converging:
 * @self: a #FerryMigration
 *
 * Gets the converging.
 *
 * Returns: (nullable): the #FerryMigration:converging
 */
const char *
ferry_migration_get_converging (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "Converging");
}

/**
 * ferry_migration_dup_convergence:
 * @self: a #FerryMigration
 *
 * Gets a copy of the verdict on convergence: why the migration is or is
 * not getting there, with the figures behind it and a suggestion.
 *
 * Returns: (transfer full) (nullable): the #FerryMigration:convergence (`a{sv}`)
 */
GVariant *
ferry_migration_dup_convergence (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return g_dbus_proxy_get_cached_property (self->proxy, "Convergence");
}

/**
 * ferry_migration_dup_statistics:
 * @self: a #FerryMigration
 *
 * Gets a copy of the statistics.
 *
 * Returns: (transfer full) (nullable): the #FerryMigration:statistics (`a{sv}`)
 */
GVariant *
ferry_migration_dup_statistics (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return g_dbus_proxy_get_cached_property (self->proxy, "Statistics");
}

/**
 * ferry_migration_get_error_name:
 * @self: a #FerryMigration
 *
 * Gets the error name.
 *
 * Returns: (nullable): the #FerryMigration:error-name
 */
const char *
ferry_migration_get_error_name (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "ErrorName");
}

/**
 * ferry_migration_get_error_message:
 * @self: a #FerryMigration
 *
 * Gets the error message.
 *
 * Returns: (nullable): the #FerryMigration:error-message
 */
const char *
ferry_migration_get_error_message (FerryMigration *self)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  return _ferry_proxy_get_string (self->proxy, "ErrorMessage");
}

/**
 * ferry_migration_cancel_sync:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Cancels the migration; the guest keeps running on the source (needs the `control` authorization).
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_cancel_sync (FerryMigration *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), FALSE);
  reply = _ferry_proxy_call_sync (self->client, self->proxy, "Cancel", NULL, cancellable, error);
  return reply != NULL;
}

/**
 * ferry_migration_cancel_async:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_migration_cancel_sync().
 */
void
ferry_migration_cancel_async (FerryMigration *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_cancel_async);
  _ferry_proxy_call (self->client, self->proxy, "Cancel", NULL, task);
}

/**
 * ferry_migration_cancel_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_cancel_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_cancel_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_migration_cancel_async, error);
}

/**
 * ferry_migration_start_postcopy_sync:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Switches a running migration to post-copy.
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_start_postcopy_sync (FerryMigration *self,
                                     GCancellable *cancellable,
                                     GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), FALSE);
  reply =
      _ferry_proxy_call_sync (self->client, self->proxy, "StartPostCopy", NULL, cancellable, error);
  return reply != NULL;
}

/**
 * ferry_migration_start_postcopy_async:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_migration_start_postcopy_sync().
 */
void
ferry_migration_start_postcopy_async (FerryMigration *self,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_start_postcopy_async);
  _ferry_proxy_call (self->client, self->proxy, "StartPostCopy", NULL, task);
}

/**
 * ferry_migration_start_postcopy_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_start_postcopy_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_start_postcopy_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_migration_start_postcopy_async, error);
}

/**
 * ferry_migration_set_max_downtime_sync:
 * @self: a #FerryMigration
 * @milliseconds: the longest acceptable downtime, in ms
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Changes the downtime limit of a running migration.
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_set_max_downtime_sync (FerryMigration *self,
                                       guint64 milliseconds,
                                       GCancellable *cancellable,
                                       GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), FALSE);
  reply = _ferry_proxy_call_sync (self->client, self->proxy, "SetMaxDowntime",
                                  g_variant_new ("(t)", milliseconds), cancellable, error);
  return reply != NULL;
}

/**
 * ferry_migration_set_max_downtime_async:
 * @self: a #FerryMigration
 * @milliseconds: the longest acceptable downtime, in ms
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_migration_set_max_downtime_sync().
 */
void
ferry_migration_set_max_downtime_async (FerryMigration *self,
                                        guint64 milliseconds,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_set_max_downtime_async);
  _ferry_proxy_call (self->client, self->proxy, "SetMaxDowntime",
                     g_variant_new ("(t)", milliseconds), task);
}

/**
 * ferry_migration_set_max_downtime_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_set_max_downtime_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_set_max_downtime_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_migration_set_max_downtime_async, error);
}

/**
 * ferry_migration_set_max_bandwidth_sync:
 * @self: a #FerryMigration
 * @bytes_per_second: the bandwidth limit, in bytes per second
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Changes the bandwidth limit of a running migration.
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_set_max_bandwidth_sync (FerryMigration *self,
                                        guint64 bytes_per_second,
                                        GCancellable *cancellable,
                                        GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), FALSE);
  reply = _ferry_proxy_call_sync (self->client, self->proxy, "SetMaxBandwidth",
                                  g_variant_new ("(t)", bytes_per_second), cancellable, error);
  return reply != NULL;
}

/**
 * ferry_migration_set_max_bandwidth_async:
 * @self: a #FerryMigration
 * @bytes_per_second: the bandwidth limit, in bytes per second
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_migration_set_max_bandwidth_sync().
 */
void
ferry_migration_set_max_bandwidth_async (FerryMigration *self,
                                         guint64 bytes_per_second,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_set_max_bandwidth_async);
  _ferry_proxy_call (self->client, self->proxy, "SetMaxBandwidth",
                     g_variant_new ("(t)", bytes_per_second), task);
}

/**
 * ferry_migration_set_max_bandwidth_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_set_max_bandwidth_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_set_max_bandwidth_finish (FerryMigration *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_migration_set_max_bandwidth_async, error);
}

/**
 * ferry_migration_pause_sync:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Pauses a post-copy migration (`postcopy-paused`); ferry_migration_recover_sync() resumes it.
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_pause_sync (FerryMigration *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), FALSE);
  reply = _ferry_proxy_call_sync (self->client, self->proxy, "Pause", NULL, cancellable, error);
  return reply != NULL;
}

/**
 * ferry_migration_pause_async:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_migration_pause_sync().
 */
void
ferry_migration_pause_async (FerryMigration *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_pause_async);
  _ferry_proxy_call (self->client, self->proxy, "Pause", NULL, task);
}

/**
 * ferry_migration_pause_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_pause_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_pause_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_migration_pause_async, error);
}

/**
 * ferry_migration_recover_sync:
 * @self: a #FerryMigration
 * @uri: the new address of the data channel, or an empty string for the previous one
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Resumes a paused post-copy migration.
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_recover_sync (FerryMigration *self,
                              const char *uri,
                              GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);
  reply = _ferry_proxy_call_sync (self->client, self->proxy, "Recover", g_variant_new ("(s)", uri),
                                  cancellable, error);
  return reply != NULL;
}

/**
 * ferry_migration_recover_async:
 * @self: a #FerryMigration
 * @uri: the new address of the data channel, or an empty string for the previous one
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_migration_recover_sync().
 */
void
ferry_migration_recover_async (FerryMigration *self,
                               const char *uri,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  g_return_if_fail (uri != NULL);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_recover_async);
  _ferry_proxy_call (self->client, self->proxy, "Recover", g_variant_new ("(s)", uri), task);
}

/**
 * ferry_migration_recover_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_recover_async().
 *
 * Returns: %TRUE on success
 */
gboolean
ferry_migration_recover_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  return _ferry_task_finish_void (self, result, ferry_migration_recover_async, error);
}

/**
 * ferry_migration_get_statistics_sync:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Asks ferryd for the migration's statistics: the figures so far while
 * it runs, the final ones once it ended (DESIGN §2 Statistics).
 *
 * Returns: (transfer full): the statistics (`a{sv}`), or %NULL on error
 */
GVariant *
ferry_migration_get_statistics_sync (FerryMigration *self,
                                     GCancellable *cancellable,
                                     GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GVariant *stats = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  reply =
      _ferry_proxy_call_sync (self->client, self->proxy, "GetStatistics", NULL, cancellable, error);
  if (reply != NULL)
    g_variant_get (reply, "(@a{sv})", &stats);
  return stats;
}

/**
 * ferry_migration_get_statistics_async:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of ferry_migration_get_statistics_sync().
 */
void
ferry_migration_get_statistics_async (FerryMigration *self,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  GTask *task;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_get_statistics_async);
  _ferry_proxy_call (self->client, self->proxy, "GetStatistics", NULL, task);
}

/**
 * ferry_migration_get_statistics_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_get_statistics_async().
 *
 * Returns: (transfer full): the statistics (`a{sv}`), or %NULL on error
 */
GVariant *
ferry_migration_get_statistics_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GVariant *stats = NULL;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_migration_get_statistics_async),
                        NULL);
  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply != NULL)
    g_variant_get (reply, "(@a{sv})", &stats);
  return stats;
}

/* ---- waiting for the end ---- */

typedef struct
{
  GTask *task;          /* the wait's task, not owned */
  FerryMigration *self; /* owned */
  GCancellable *cancellable;
  gulong changed_id;
  gulong cancelled_id;
  gboolean done;
} WaitData;

static void
wait_data_free (WaitData *data)
{
  g_clear_signal_handler (&data->changed_id, data->self->proxy);
  if (data->self->waits != NULL)
    g_ptr_array_remove (data->self->waits, data->task);
  if (data->cancelled_id != 0)
    g_cancellable_disconnect (data->cancellable, data->cancelled_id);
  g_clear_object (&data->cancellable);
  g_clear_object (&data->self);
  g_free (data);
}

static GError *
error_of_migration (FerryMigration *self, const char *state)
{
  const char *name = _ferry_proxy_get_string (self->proxy, "ErrorName");
  const char *message = _ferry_proxy_get_string (self->proxy, "ErrorMessage");

  if (message == NULL || *message == '\0')
    message =
        g_str_equal (state, "cancelled") ? "The migration was cancelled" : "The migration failed";
  if (name != NULL && *name != '\0')
    return _ferry_error_convert (g_dbus_error_new_for_dbus_error (name, message));
  return g_error_new_literal (FERRY_ERROR,
                              g_str_equal (state, "cancelled") ? FERRY_ERROR_CANCELLED
                                                               : FERRY_ERROR_MIGRATION_FAILED,
                              message);
}

static void
wait_stats_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GVariant *stats =
      ferry_migration_get_statistics_finish (FERRY_MIGRATION (source), result, &error);

  if (stats == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, stats, (GDestroyNotify) g_variant_unref);
}

/* Ends the wait when the migration has ended; takes the task then. */
static gboolean
wait_check (GTask *task)
{
  WaitData *data = g_task_get_task_data (task);
  FerryMigration *self = data->self;
  const char *state;
  g_autoptr (GVariant) stats = NULL;

  if (data->done)
    return TRUE;
  if (g_cancellable_is_cancelled (data->cancellable))
    {
      data->done = TRUE;
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
      return TRUE;
    }
  state = _ferry_proxy_get_string (self->proxy, "State");
  if (!state_is_final (state) && self->gone)
    {
      data->done = TRUE;
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Migration %s went away before it ended (ferryd stopped?)",
                               g_dbus_proxy_get_object_path (self->proxy));
      g_object_unref (task);
      return TRUE;
    }
  if (!state_is_final (state))
    return FALSE;

  data->done = TRUE;
  if (!g_str_equal (state, "completed"))
    {
      g_task_return_error (task, error_of_migration (self, state));
      g_object_unref (task);
      return TRUE;
    }
  stats = g_dbus_proxy_get_cached_property (self->proxy, "Statistics");
  if (stats != NULL && g_variant_is_of_type (stats, G_VARIANT_TYPE_VARDICT) &&
      g_variant_n_children (stats) > 0)
    {
      g_task_return_pointer (task, g_steal_pointer (&stats), (GDestroyNotify) g_variant_unref);
      g_object_unref (task);
      return TRUE;
    }
  /* completed, but the statistics have not arrived with the state */
  ferry_migration_get_statistics_async (self, NULL, wait_stats_cb, task);
  return TRUE;
}

static void
on_wait_changed (GDBusProxy *proxy, GVariant *changed, const char *const *invalidated, GTask *task)
{
  wait_check (task);
}

static gboolean
on_wait_cancelled_idle (gpointer user_data)
{
  wait_check (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_wait_cancelled (GCancellable *cancellable, GTask *task)
{
  /* may run in any thread: end the wait in the task's context */
  g_main_context_invoke_full (g_task_get_context (task), G_PRIORITY_DEFAULT, on_wait_cancelled_idle,
                              g_object_ref (task), g_object_unref);
}

/**
 * ferry_migration_wait_async:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable to stop waiting (the
 *   migration goes on; see ferry_migration_cancel_async() to cancel it)
 * @callback: (scope async): called when the migration has ended
 * @user_data: data for @callback
 *
 * Waits for the migration to end without blocking: on success the result
 * is its final statistics; if it failed or was cancelled, its error.
 */
void
ferry_migration_wait_async (FerryMigration *self,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task;
  WaitData *data;

  g_return_if_fail (FERRY_IS_MIGRATION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ferry_migration_wait_async);
  data = g_new0 (WaitData, 1);
  data->task = task;
  data->self = g_object_ref (self);
  data->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, data, (GDestroyNotify) wait_data_free);
  if (wait_check (task))
    return;
  data->changed_id =
      g_signal_connect (self->proxy, "g-properties-changed", G_CALLBACK (on_wait_changed), task);
  g_ptr_array_add (self->waits, task);
  if (cancellable != NULL)
    data->cancelled_id =
        g_cancellable_connect (cancellable, G_CALLBACK (on_wait_cancelled), task, NULL);
}

/**
 * ferry_migration_wait_finish:
 * @self: a #FerryMigration
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Finishes ferry_migration_wait_async(). A failed or cancelled migration
 * gives its error in the %FERRY_ERROR domain (e.g.
 * %FERRY_ERROR_MIGRATION_FAILED, %FERRY_ERROR_CANCELLED).
 *
 * Returns: (transfer full): the final statistics (`a{sv}`), or %NULL on
 *   error
 */
GVariant *
ferry_migration_wait_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ferry_migration_wait_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
wait_sync_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/**
 * ferry_migration_wait_sync:
 * @self: a #FerryMigration
 * @cancellable: (nullable): a #GCancellable to stop waiting
 * @error: return location for an error
 *
 * Waits until the migration has ended. While it waits it runs the main
 * context the #FerryClient was created in, so `notify` and the other
 * signals are emitted meanwhile (e.g. a live progress readout); call it
 * from the thread that created the client.
 *
 * Returns: (transfer full): the final statistics (`a{sv}`), or %NULL with
 *   the migration's error if it failed or was cancelled
 */
GVariant *
ferry_migration_wait_sync (FerryMigration *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  GMainContext *context;

  g_return_val_if_fail (FERRY_IS_MIGRATION (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);

  context = self->client != NULL ? _ferry_client_get_context (self->client) : NULL;
  if (context == NULL)
    context = g_main_context_get_thread_default ();
  if (context == NULL)
    context = g_main_context_default ();
  g_main_context_push_thread_default (context);
  ferry_migration_wait_async (self, cancellable, wait_sync_cb, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return ferry_migration_wait_finish (self, result, error);
}
