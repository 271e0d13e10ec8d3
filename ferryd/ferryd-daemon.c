/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-daemon.c: host identity, directories and the domain registry
 *
 * Domain descriptions are persisted as <state-dir>/domains/<name>.conf,
 * written atomically (g_file_set_contents renames a temporary file into
 * place), so a crash never leaves a half-written description.
 */
#define G_LOG_DOMAIN "ferry-daemon"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-daemon.h"
#include "ferryd-backend.h"
#include "ferry-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

struct _FerrydDaemon
{
  GObject parent_instance;

  char *state_dir;
  char *runtime_dir;
  char *config_dir;
  char *hostname;
  char *host_uuid;
  gboolean peer_extra_args; /* ferryd.conf [Peer] AllowExtraArgs */
  GStrv capabilities;       /* what this host offers (ferryd_daemon_get_capabilities) */
  GStrv disabled;           /* ferryd.conf [Migration] DisabledFeatures */
  GStrv probed;             /* what the default backend's probe found; NULL = not probed */
  GHashTable *domains;      /* name -> FerrydDomain */
  GHashTable *persistent;   /* names with a description on disk */
  guint reattaching;        /* backends still looking for their guests */
  const char **available_backends;
};

enum
{
  SIGNAL_DOMAIN_ADDED,
  SIGNAL_DOMAIN_REMOVED,
  SIGNAL_REATTACHED,
  SIGNAL_BACKENDS_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydDaemon, ferryd_daemon, G_TYPE_OBJECT)

/* What the engine drives today; a host offers those its hypervisor
 * answers it has (ferryd_daemon_probe_capabilities_async). Preempt joins
 * when the engine does it. */
static const char *const known_capabilities[] = {
  "postcopy", "postcopy-recover", "switchover-ack",     "multifd", "auto-converge",
  "tls",      "storage-mirror",   "synchronous-writes", NULL,
};

const char *
ferryd_daemon_get_state_dir (FerrydDaemon *self)
{
  return self->state_dir;
}

const char *
ferryd_daemon_get_runtime_dir (FerrydDaemon *self)
{
  return self->runtime_dir;
}

const char *
ferryd_daemon_get_hostname (FerrydDaemon *self)
{
  return self->hostname;
}

const char *
ferryd_daemon_get_host_uuid (FerrydDaemon *self)
{
  return self->host_uuid;
}

const char *const *
ferryd_daemon_get_backends (FerrydDaemon *self)
{
  const char *const *names = ferryd_backend_list_names ();
  g_autoptr (GPtrArray) available = g_ptr_array_new ();

  for (gsize i = 0; names[i]; i++)
    if (ferryd_backend_is_available (ferryd_backend_get (names[i])))
      g_ptr_array_add (available, (gpointer) names[i]);
  g_ptr_array_add (available, NULL);
  g_free (self->available_backends);
  self->available_backends = (const char **) g_ptr_array_steal (available, NULL);
  return self->available_backends;
}

static void
backend_availability_cb (FerrydBackend *backend, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_BACKENDS_CHANGED], 0);
}

FerrydDomain *
ferryd_daemon_add_backend_domain (FerrydDaemon *self, FerrydDomain *domain, GError **error)
{
  const char *name = ferryd_domain_get_name (domain);
  FerrydDomain *existing = g_hash_table_lookup (self->domains, name);

  if (existing)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_BUSY, "A %s domain called '%s' exists already",
                   ferryd_backend_get_name (ferryd_backend_for_domain (existing)), name);
      return NULL;
    }
  g_hash_table_insert (self->domains, g_strdup (name), g_object_ref (domain));
  g_signal_emit (self, signals[SIGNAL_DOMAIN_ADDED], 0, domain);
  return domain;
}

void
ferryd_daemon_remove_backend_domain (FerrydDaemon *self, FerrydDomain *domain)
{
  g_autofree char *name = g_strdup (ferryd_domain_get_name (domain));

  if (g_hash_table_lookup (self->domains, name) != domain)
    return;
  g_object_ref (domain);
  g_hash_table_remove (self->domains, name);
  g_signal_emit (self, signals[SIGNAL_DOMAIN_REMOVED], 0, domain);
  g_object_unref (domain);
}

const char *const *
ferryd_daemon_get_capabilities (FerrydDaemon *self)
{
  return (const char *const *) self->capabilities;
}

/* What this host offers: what Ferry drives and the backend's probe
 * found (QEMU's answers, userfaultfd for post-copy), less what
 * ferryd.conf turns off ([Migration] DisabledFeatures). Before the probe
 * (unit tests that never run it) nothing is taken off for the host. */
static void
set_capabilities (FerrydDaemon *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  const char *const *disabled = (const char *const *) self->disabled;
  const char *const *probed = (const char *const *) self->probed;

  for (gsize i = 0; known_capabilities[i]; i++)
    {
      if (disabled && g_strv_contains (disabled, known_capabilities[i]))
        continue;
      if (probed && !g_strv_contains (probed, known_capabilities[i]))
        continue;
      g_strv_builder_add (builder, known_capabilities[i]);
    }
  g_strfreev (self->capabilities);
  self->capabilities = g_strv_builder_end (builder);
}

gboolean
ferryd_daemon_peer_may_send_extra_args (FerrydDaemon *self)
{
  return self->peer_extra_args;
}

/* <config-dir>/ferryd.conf: optional; a value that cannot be read is an
 * error (ferryd does not start with a setting it does not understand),
 * an unknown key a warning (a newer file on an older ferryd). */
static gboolean
load_config (FerrydDaemon *self, GError **error)
{
  static const char *const peer_keys[] = { "AllowExtraArgs", NULL };
  static const char *const migration_keys[] = { "DisabledFeatures", NULL };
  g_auto (GStrv) disabled = NULL;
  g_autofree char *path = g_build_filename (self->config_dir, "ferryd.conf", NULL);
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) groups = NULL;

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot read %s: %s", path,
                   local_error->message);
      return FALSE;
    }
  groups = g_key_file_get_groups (keyfile, NULL);
  for (gsize i = 0; groups[i]; i++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (keyfile, groups[i], NULL, NULL);
      const char *const *known = g_str_equal (groups[i], "Peer")        ? peer_keys
                                 : g_str_equal (groups[i], "Migration") ? migration_keys
                                                                        : NULL;

      for (gsize k = 0; keys && keys[k]; k++)
        if (!known || !g_strv_contains (known, keys[k]))
          g_warning ("%s: ignoring unknown key '%s' in [%s]", path, keys[k], groups[i]);
    }
  if (g_key_file_has_key (keyfile, "Peer", "AllowExtraArgs", NULL))
    {
      self->peer_extra_args =
          g_key_file_get_boolean (keyfile, "Peer", "AllowExtraArgs", &local_error);
      if (local_error)
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED,
                       "%s: invalid value for AllowExtraArgs in [Peer]: %s", path,
                       local_error->message);
          return FALSE;
        }
    }
  if (self->peer_extra_args)
    g_info ("%s: peers may send [QEMU] ExtraArgs", path);
  disabled = g_key_file_get_string_list (keyfile, "Migration", "DisabledFeatures", NULL, NULL);
  for (gsize i = 0; disabled && disabled[i]; i++)
    {
      g_strstrip (disabled[i]);
      if (!g_strv_contains (known_capabilities, disabled[i]))
        g_warning ("%s: [Migration] DisabledFeatures: unknown feature '%s'", path, disabled[i]);
    }
  g_strfreev (self->disabled);
  self->disabled = g_steal_pointer (&disabled);
  set_capabilities (self);
  return TRUE;
}

FerrydDomain *
ferryd_daemon_lookup_domain (FerrydDaemon *self, const char *name)
{
  return g_hash_table_lookup (self->domains, name);
}

GList *
ferryd_daemon_get_domains (FerrydDaemon *self)
{
  return g_hash_table_get_values (self->domains);
}

gboolean
ferryd_daemon_is_persistent (FerrydDaemon *self, FerrydDomain *domain)
{
  return g_hash_table_contains (self->persistent, ferryd_domain_get_name (domain));
}

static char *
domain_path (FerrydDaemon *self, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".conf", NULL);
  return g_build_filename (self->state_dir, "domains", file, NULL);
}

static gboolean
persist (FerrydDaemon *self, const FerrydDomainConfig *config, GError **error)
{
  g_autofree char *path = domain_path (self, config->name);
  g_autofree char *data = ferryd_domain_config_to_data (config);
  g_autoptr (GError) local_error = NULL;

  if (!g_file_set_contents_full (path, data, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0640,
                                 &local_error))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot save domain '%s': %s",
                   config->name, local_error->message);
      return FALSE;
    }
  g_hash_table_add (self->persistent, g_strdup (config->name));
  return TRUE;
}

static FerrydDomain *
add_or_update (FerrydDaemon *self, FerrydBackend *backend, FerrydDomainConfig *config)
{
  FerrydDomain *domain = g_hash_table_lookup (self->domains, config->name);

  if (domain)
    {
      ferryd_domain_set_config (domain, config);
      return domain;
    }
  domain = ferryd_backend_create_domain (backend, config, self->state_dir, self->runtime_dir);
  g_hash_table_insert (self->domains, g_strdup (ferryd_domain_get_name (domain)), domain);
  g_signal_emit (self, signals[SIGNAL_DOMAIN_ADDED], 0, domain);
  return domain;
}

FerrydDomain *
ferryd_daemon_adopt_domain (FerrydDaemon *self,
                            FerrydBackend *backend,
                            FerrydDomainConfig *config,
                            gboolean persist_it,
                            GError **error)
{
  g_autoptr (FerrydDomainConfig) owned = config;
  FerrydDomain *existing = g_hash_table_lookup (self->domains, config->name);

  /* A name is one domain's: another backend's domain is never shadowed. */
  if (existing && ferryd_backend_for_domain (existing) != backend)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Domain '%s' is a %s domain; a %s domain cannot take its name", config->name,
                   ferryd_domain_get_backend_name (existing), ferryd_backend_get_name (backend));
      return NULL;
    }
  if (existing && ferryd_domain_is_active (existing))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_BUSY, "Domain '%s' is %s", config->name,
                   ferryd_domain_get_state (existing));
      return NULL;
    }
  if (persist_it && !persist (self, config, error))
    return NULL;
  return add_or_update (self, backend, g_steal_pointer (&owned));
}

FerrydDomain *
ferryd_daemon_define_domain (FerrydDaemon *self, const char *description, GError **error)
{
  FerrydDomainConfig *config = ferryd_domain_config_parse (description, error);
  FerrydDomain *existing;

  if (config == NULL)
    return NULL;
  /* Redefining keeps the domain's identity. */
  existing = g_hash_table_lookup (self->domains, config->name);
  if (existing && !g_str_equal (ferryd_domain_get_uuid (existing), config->uuid))
    g_set_str (&config->uuid, ferryd_domain_get_uuid (existing));
  return ferryd_daemon_adopt_domain (self, ferryd_backend_get_default (), config, TRUE, error);
}

gboolean
ferryd_daemon_persist_domain (FerrydDaemon *self, FerrydDomainConfig *config, GError **error)
{
  g_autoptr (FerrydDomainConfig) owned = config;

  if (!persist (self, config, error))
    return FALSE;
  add_or_update (self, ferryd_backend_get_default (), g_steal_pointer (&owned));
  return TRUE;
}

gboolean
ferryd_daemon_undefine_domain (FerrydDaemon *self, FerrydDomain *domain, GError **error)
{
  g_autofree char *path = domain_path (self, ferryd_domain_get_name (domain));
  g_autofree char *name = g_strdup (ferryd_domain_get_name (domain));

  if (ferryd_domain_is_active (domain))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_BUSY, "Domain '%s' is %s", name,
                   ferryd_domain_get_state (domain));
      return FALSE;
    }
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot remove %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  g_hash_table_remove (self->persistent, name);
  g_object_ref (domain);
  g_hash_table_remove (self->domains, name);
  g_signal_emit (self, signals[SIGNAL_DOMAIN_REMOVED], 0, domain);
  g_object_unref (domain);
  return TRUE;
}

static void
load_domains (FerrydDaemon *self)
{
  g_autofree char *dir_path = g_build_filename (self->state_dir, "domains", NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *file;

  if (dir == NULL)
    return;
  while ((file = g_dir_read_name (dir)))
    {
      g_autofree char *path = NULL;
      g_autofree char *data = NULL;
      g_autoptr (GError) error = NULL;
      FerrydDomainConfig *config;

      if (!g_str_has_suffix (file, ".conf"))
        continue;
      path = g_build_filename (dir_path, file, NULL);
      if (!g_file_get_contents (path, &data, NULL, &error) ||
          !(config = ferryd_domain_config_parse (data, &error)))
        {
          g_warning ("Ignoring %s: %s", path, error->message);
          continue;
        }
      g_hash_table_add (self->persistent, g_strdup (config->name));
      add_or_update (self, ferryd_backend_get_default (), config);
    }
}

void
ferryd_daemon_reattach_hold (FerrydDaemon *self)
{
  self->reattaching++;
}

void
ferryd_daemon_reattach_release (FerrydDaemon *self)
{
  g_return_if_fail (self->reattaching > 0);
  if (--self->reattaching == 0)
    g_signal_emit (self, signals[SIGNAL_REATTACHED], 0);
}

gboolean
ferryd_daemon_is_reattaching (FerrydDaemon *self)
{
  return self->reattaching > 0;
}

FerrydDomain *
ferryd_daemon_domain_for_running (FerrydDaemon *self,
                                  FerrydBackend *backend,
                                  FerrydDomainConfig *config)
{
  FerrydDomain *domain = g_hash_table_lookup (self->domains, config->name);

  if (domain == NULL)
    return add_or_update (self, backend, config); /* transient */
  ferryd_domain_config_free (config);
  return domain;
}

static char *
load_host_uuid (FerrydDaemon *self, GError **error)
{
  g_autofree char *path = g_build_filename (self->state_dir, "host-uuid", NULL);
  g_autofree char *data = NULL;
  g_autofree char *uuid = NULL;

  if (g_file_get_contents (path, &data, NULL, NULL) && g_uuid_string_is_valid (g_strstrip (data)))
    return g_steal_pointer (&data);
  uuid = g_uuid_string_random ();
  if (!g_file_set_contents_full (path, uuid, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return NULL;
  return g_steal_pointer (&uuid);
}

FerrydDaemon *
ferryd_daemon_new (const char *state_dir,
                   const char *runtime_dir,
                   const char *config_dir,
                   GError **error)
{
  g_autoptr (FerrydDaemon) self = g_object_new (FERRYD_TYPE_DAEMON, NULL);
  const char *subdirs[] = { "domains", "console", "images" };

  self->state_dir = g_canonicalize_filename (state_dir, NULL);
  self->runtime_dir = g_canonicalize_filename (runtime_dir, NULL);
  self->config_dir = g_canonicalize_filename (config_dir, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_build_filename (self->state_dir, subdirs[i], NULL);
      if (g_mkdir_with_parents (dir, 0750) < 0)
        {
          int saved = errno;
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot create %s: %s", dir,
                       g_strerror (saved));
          return NULL;
        }
    }
  if (g_mkdir_with_parents (self->runtime_dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Cannot create %s: %s",
                   self->runtime_dir, g_strerror (saved));
      return NULL;
    }
  if (!load_config (self, error))
    return NULL;
  self->host_uuid = load_host_uuid (self, error);
  if (self->host_uuid == NULL)
    return NULL;
  self->hostname = g_strdup (g_get_host_name ());
  load_domains (self);
  /* Guests outlive ferryd: each backend finds the ones it ran. */
  for (const char *const *name = ferryd_backend_list_names (); *name; name++)
    {
      FerrydBackend *backend = ferryd_backend_get (*name);

      g_signal_connect_object (backend, "availability-changed",
                               G_CALLBACK (backend_availability_cb), self, 0);
      ferryd_backend_reattach (backend, self);
    }
  return g_steal_pointer (&self);
}

static void
ferryd_daemon_finalize (GObject *object)
{
  FerrydDaemon *self = FERRYD_DAEMON (object);

  g_hash_table_unref (self->domains);
  g_hash_table_unref (self->persistent);
  g_free (self->state_dir);
  g_free (self->runtime_dir);
  g_free (self->config_dir);
  g_strfreev (self->capabilities);
  g_strfreev (self->disabled);
  g_strfreev (self->probed);
  g_free (self->hostname);
  g_free (self->host_uuid);
  g_free (self->available_backends);
  G_OBJECT_CLASS (ferryd_daemon_parent_class)->finalize (object);
}

static void
ferryd_daemon_class_init (FerrydDaemonClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ferryd_daemon_finalize;

  signals[SIGNAL_DOMAIN_ADDED] =
      g_signal_new ("domain-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, FERRYD_TYPE_DOMAIN);
  signals[SIGNAL_DOMAIN_REMOVED] =
      g_signal_new ("domain-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, FERRYD_TYPE_DOMAIN);
  signals[SIGNAL_REATTACHED] =
      g_signal_new ("reattached", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 0);
  /* ferryd_daemon_get_backends() changed */
  signals[SIGNAL_BACKENDS_CHANGED] =
      g_signal_new ("backends-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
}

static void
ferryd_daemon_init (FerrydDaemon *self)
{
  self->domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->persistent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  set_capabilities (self);
}

static void
probe_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydDaemon *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  GStrv probed = ferryd_backend_probe_capabilities_finish (FERRYD_BACKEND (source), result, &error);

  if (probed == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_boolean (task, FALSE);
      return;
    }
  if (probed == NULL)
    {
      /* A host whose hypervisor does not answer offers nothing it
       * would have to promise a peer. */
      g_warning ("%s; this host offers no migration capabilities", error->message);
      probed = g_new0 (char *, 1);
    }
  g_strfreev (self->probed);
  self->probed = probed;
  set_capabilities (self);
  {
    g_autofree char *list = g_strjoinv (" ", self->capabilities);
    g_info ("capabilities: %s", list);
  }
  g_task_return_boolean (task, TRUE);
}

void
ferryd_daemon_probe_capabilities_async (FerrydDaemon *self,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, ferryd_daemon_probe_capabilities_async);
  ferryd_backend_probe_capabilities_async (ferryd_backend_get_default (), cancellable, probe_cb,
                                           task);
}

void
ferryd_daemon_probe_capabilities_finish (FerrydDaemon *self, GAsyncResult *result)
{
  g_return_if_fail (g_task_is_valid (result, self));
  g_task_propagate_boolean (G_TASK (result), NULL);
}
