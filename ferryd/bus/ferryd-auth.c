/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-auth.c: the central method → polkit action table and async checks
 *
 * Every privileged method goes through ferryd_authority_dispatch() before
 * its arguments are even looked at, so an unauthorized caller learns
 * nothing from argument errors. The subject is the real caller (its pid
 * and uid as the bus reports them), never ferryd.
 */
#define G_LOG_DOMAIN "ferry-auth"

#include "ferryd-auth.h"

#include <polkit/polkit.h>

typedef struct
{
  const char *interface;
  const char *method;
  const char *action; /* "" = open to everyone */
  /* An action asked about without interaction before the call runs: the
   * answer tells the method what the caller may do besides (for Check:
   * whether it may make ferryd contact the destination). */
  const char *probe;
} AuthRule;

#define IFACE(x) FERRY_INTERFACE_PREFIX x

static const AuthRule auth_rules[] = {
  { IFACE ("Manager"), "DefineDomain", FERRY_ACTION_MANAGE_DOMAINS },
  { IFACE ("Manager"), "Migrate", FERRY_ACTION_MIGRATE },
  { IFACE ("Manager"), "Check", "", FERRY_ACTION_MIGRATE },
  { IFACE ("Manager"), "ListMigrations", "" },
  { IFACE ("Domain"), "Start", FERRY_ACTION_MANAGE_DOMAINS },
  { IFACE ("Domain"), "Shutdown", FERRY_ACTION_MANAGE_DOMAINS },
  { IFACE ("Domain"), "Migrate", FERRY_ACTION_MIGRATE },
  { IFACE ("Domain"), "Check", "", FERRY_ACTION_MIGRATE },
  { IFACE ("Migration"), "Cancel", FERRY_ACTION_CONTROL },
  { IFACE ("Migration"), "StartPostCopy", FERRY_ACTION_CONTROL },
  { IFACE ("Migration"), "SetMaxDowntime", FERRY_ACTION_CONTROL },
  { IFACE ("Migration"), "SetMaxBandwidth", FERRY_ACTION_CONTROL },
  { IFACE ("Migration"), "Pause", FERRY_ACTION_CONTROL },
  { IFACE ("Migration"), "Recover", FERRY_ACTION_CONTROL },
  { IFACE ("Migration"), "GetStatistics", "" },
  { IFACE ("Peer"), "Hello", FERRY_ACTION_PEER },
  { IFACE ("Peer"), "Prepare", FERRY_ACTION_PEER },
  { IFACE ("Peer"), "Finish", FERRY_ACTION_PEER },
  { IFACE ("Peer"), "Abort", FERRY_ACTION_PEER },
  { IFACE ("Peer"), "Recover", FERRY_ACTION_PEER },
};

/* Peer calls come from another ferryd over one long-lived connection, and
 * several of them (Finish among them) sit on the path of a migration's
 * downtime: a caller (a unique bus name, never reused on a bus) allowed
 * the peer action once stays allowed for the life of its connection. */
#define PEER_CACHE_MAX 256

struct _FerrydAuthority
{
  GObject parent_instance;
  GHashTable *peer_cache;  /* unique bus name -> uid + 1 */
  PolkitAuthority *polkit; /* NULL until acquired */
  GError *polkit_error;
  GPtrArray *waiting; /* CheckData waiting for the polkit proxy */
};

G_DEFINE_TYPE (FerrydAuthority, ferryd_authority, G_TYPE_OBJECT)

typedef struct
{
  FerrydAuthority *authority;
  GDBusMethodInvocation *invocation;
  FerrydAuthorizedFunc func;
  gpointer object;
  const char *action;
  const char *probe; /* NULL, or probed without interaction, then allowed */
  guint32 uid;
  guint32 pid;
} CheckData;

static void
check_data_free (CheckData *data)
{
  g_object_unref (data->authority);
  g_object_unref (data->invocation);
  g_object_unref (data->object);
  g_free (data);
}

static const AuthRule *
lookup_rule (const char *interface, const char *method)
{
  for (gsize i = 0; i < G_N_ELEMENTS (auth_rules); i++)
    if (g_str_equal (auth_rules[i].interface, interface) &&
        g_str_equal (auth_rules[i].method, method))
      return &auth_rules[i];
  return NULL;
}

const char *
ferryd_authority_lookup_action (const char *interface, const char *method)
{
  const AuthRule *rule = lookup_rule (interface, method);

  return rule ? rule->action : NULL;
}

gboolean
ferryd_invocation_get_probe (GDBusMethodInvocation *invocation, const char **why_not)
{
  const char *denied = g_object_get_data (G_OBJECT (invocation), "ferry-probe-denied");

  if (why_not)
    *why_not = denied;
  return g_object_get_data (G_OBJECT (invocation), "ferry-probe-allowed") != NULL;
}

guint32
ferryd_invocation_get_uid (GDBusMethodInvocation *invocation)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (invocation), "ferry-caller-uid")) - 1;
}

static void
deny (CheckData *data, const char *message)
{
  g_dbus_method_invocation_return_error (data->invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                         "%s", message);
  check_data_free (data);
}

static void
allow (CheckData *data)
{
  if (g_strcmp0 (data->action, FERRY_ACTION_PEER) == 0)
    {
      if (g_hash_table_size (data->authority->peer_cache) >= PEER_CACHE_MAX)
        g_hash_table_remove_all (data->authority->peer_cache);
      g_hash_table_insert (data->authority->peer_cache,
                           g_strdup (g_dbus_method_invocation_get_sender (data->invocation)),
                           GUINT_TO_POINTER (data->uid + 1));
    }
  g_object_set_data (G_OBJECT (data->invocation), "ferry-caller-uid",
                     GUINT_TO_POINTER (data->uid + 1));
  data->func (data->object, data->invocation);
  check_data_free (data);
}

static void
set_probe_denied (CheckData *data, char *why)
{
  g_debug ("uid %u: probe of %s: %s", data->uid, data->probe, why);
  g_object_set_data_full (G_OBJECT (data->invocation), "ferry-probe-denied", why, g_free);
}

static void
probe_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CheckData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthorizationResult) result =
      polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);

  if (result && polkit_authorization_result_get_is_authorized (result))
    g_object_set_data (G_OBJECT (data->invocation), "ferry-probe-allowed", GINT_TO_POINTER (1));
  else if (result == NULL)
    set_probe_denied (data, g_strdup_printf ("the authorization check for action '%s' failed: %s",
                                             data->probe, error->message));
  else if (polkit_authorization_result_get_is_challenge (result))
    set_probe_denied (
        data, g_strdup_printf ("action '%s' needs authentication for this caller", data->probe));
  else
    set_probe_denied (
        data, g_strdup_printf ("this caller is not authorized for action '%s'", data->probe));
  allow (data);
}

static void
check_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CheckData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthorizationResult) result = NULL;
  g_autofree char *message = NULL;

  result = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);
  if (result == NULL)
    message = g_strdup_printf ("Authorization check for action '%s' failed: %s", data->action,
                               error->message);
  else if (polkit_authorization_result_get_is_authorized (result))
    {
      allow (data);
      return;
    }
  else if (polkit_authorization_result_get_is_challenge (result))
    message = g_strdup_printf ("Authentication is required for action '%s' (no interactive "
                               "authorization was possible)",
                               data->action);
  else
    message = g_strdup_printf ("Not authorized for action '%s'", data->action);
  g_debug ("uid %u: %s", data->uid, message);
  deny (data, message);
}

static void
start_polkit_check (CheckData *data)
{
  FerrydAuthority *self = data->authority;
  g_autoptr (PolkitSubject) subject = NULL;
  PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
  GDBusMessage *message = g_dbus_method_invocation_get_message (data->invocation);
  g_autofree char *text = NULL;

  if (self->polkit == NULL && data->probe)
    {
      set_probe_denied (data, g_strdup_printf ("polkit is unavailable: %s",
                                               self->polkit_error ? self->polkit_error->message
                                                                  : "unknown error"));
      allow (data);
      return;
    }
  if (self->polkit == NULL)
    {
      text =
          g_strdup_printf ("Cannot check authorization for action '%s': %s", data->action,
                           self->polkit_error ? self->polkit_error->message : "polkit unavailable");
      deny (data, text);
      return;
    }
  subject = polkit_unix_process_new_for_owner ((gint) data->pid, 0, (gint) data->uid);
  if (data->probe)
    {
      /* Never interactive: a read must not pop up a password dialog. */
      polkit_authority_check_authorization (self->polkit, subject, data->probe, NULL,
                                            POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE, NULL, probe_cb,
                                            data);
      return;
    }
  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
  polkit_authority_check_authorization (self->polkit, subject, data->action, NULL, flags, NULL,
                                        check_cb, data);
}

static void
credentials_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CheckData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) creds = NULL;
  g_autofree char *message = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  if (reply == NULL)
    {
      message = g_strdup_printf ("Cannot identify the caller for action '%s': %s", data->action,
                                 error->message);
      deny (data, message);
      return;
    }
  g_variant_get (reply, "(@a{sv})", &creds);
  if (!g_variant_lookup (creds, "UnixUserID", "u", &data->uid) ||
      !g_variant_lookup (creds, "ProcessID", "u", &data->pid))
    {
      message = g_strdup_printf ("Cannot identify the caller for action '%s'", data->action);
      deny (data, message);
      return;
    }
  if (data->action[0] == '\0' && data->probe == NULL)
    {
      allow (data);
      return;
    }
  if (data->authority->polkit == NULL && data->authority->polkit_error == NULL)
    {
      g_ptr_array_add (data->authority->waiting, data); /* proxy still coming */
      return;
    }
  start_polkit_check (data);
}

void
ferryd_authority_dispatch (FerrydAuthority *self,
                           GDBusMethodInvocation *invocation,
                           FerrydAuthorizedFunc func,
                           gpointer object)
{
  CheckData *data;
  const AuthRule *rule = lookup_rule (g_dbus_method_invocation_get_interface_name (invocation),
                                      g_dbus_method_invocation_get_method_name (invocation));
  const char *action = rule ? rule->action : NULL;

  if (action == NULL)
    {
      g_dbus_method_invocation_return_error (
          invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
          "Method %s.%s is not in the authorization table",
          g_dbus_method_invocation_get_interface_name (invocation),
          g_dbus_method_invocation_get_method_name (invocation));
      return;
    }

  if (g_strcmp0 (action, FERRY_ACTION_PEER) == 0)
    {
      gpointer cached =
          g_hash_table_lookup (self->peer_cache, g_dbus_method_invocation_get_sender (invocation));
      if (cached)
        {
          g_object_set_data (G_OBJECT (invocation), "ferry-caller-uid", cached);
          func (object, invocation);
          return;
        }
    }

  data = g_new0 (CheckData, 1);
  data->authority = g_object_ref (self);
  data->invocation = g_object_ref (invocation);
  data->func = func;
  data->object = g_object_ref (object);
  data->action = action;
  data->probe = rule->probe;
  g_dbus_connection_call (
      g_dbus_method_invocation_get_connection (invocation), "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionCredentials",
      g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
      G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, credentials_cb, data);
}

static void
polkit_ready_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (FerrydAuthority) self = user_data;
  g_autoptr (GPtrArray) waiting = NULL;

  self->polkit = polkit_authority_get_finish (res, &self->polkit_error);
  if (self->polkit == NULL)
    g_warning ("polkit is unavailable, privileged calls will be refused: %s",
               self->polkit_error->message);
  waiting = g_steal_pointer (&self->waiting);
  self->waiting = g_ptr_array_new ();
  for (guint i = 0; i < waiting->len; i++)
    start_polkit_check (g_ptr_array_index (waiting, i));
}

FerrydAuthority *
ferryd_authority_new (void)
{
  FerrydAuthority *self = g_object_new (FERRYD_TYPE_AUTHORITY, NULL);

  polkit_authority_get_async (NULL, polkit_ready_cb, g_object_ref (self));
  return self;
}

static void
ferryd_authority_finalize (GObject *object)
{
  FerrydAuthority *self = FERRYD_AUTHORITY (object);

  g_clear_object (&self->polkit);
  g_clear_error (&self->polkit_error);
  g_hash_table_unref (self->peer_cache);
  g_ptr_array_unref (self->waiting);
  G_OBJECT_CLASS (ferryd_authority_parent_class)->finalize (object);
}

static void
ferryd_authority_class_init (FerrydAuthorityClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ferryd_authority_finalize;
}

static void
ferryd_authority_init (FerrydAuthority *self)
{
  self->waiting = g_ptr_array_new ();
  self->peer_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}
