/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-private.c: calls with the client's flags, error conversion and
 * cached D-Bus properties as GObject properties */
#define G_LOG_DOMAIN "libferry"

#include "ferry-private.h"
#include "ferry-names.h"

static gboolean
is_authorization_error (const char *name)
{
  return g_strcmp0 (name, "org.freedesktop.DBus.Error.AccessDenied") == 0 ||
         g_strcmp0 (name, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired") == 0 ||
         g_str_has_suffix (name, ".Error.NotAuthorized");
}

GError *
_ferry_error_convert (GError *error)
{
  g_autofree char *name = NULL;
  GError *ret;

  if (error == NULL || error->domain == FERRY_ERROR)
    {
      if (error != NULL && g_dbus_error_is_remote_error (error))
        g_dbus_error_strip_remote_error (error);
      return error;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return error;

  if (g_dbus_error_is_remote_error (error))
    name = g_dbus_error_get_remote_error (error);
  g_dbus_error_strip_remote_error (error);

  if (is_authorization_error (name) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    ret = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_NOT_AUTHORIZED, error->message);
  else if (name == NULL)
    return error; /* a local error (connection closed, timeout, ...) */
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    ret = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_NOT_FOUND, error->message);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS))
    ret = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT, error->message);
  else
    ret = g_error_new (FERRY_ERROR, FERRY_ERROR_FAILED, "%s: %s", name, error->message);
  g_error_free (error);
  return ret;
}

void
_ferry_propagate (GError **dest, GError *src)
{
  g_propagate_error (dest, _ferry_error_convert (src));
}

static void
call_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (reply == NULL)
    g_task_return_error (task, _ferry_error_convert (error));
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

static int
timeout_for (GDBusCallFlags flags)
{
  /* a person may take a while to answer an authentication dialog */
  return (flags & G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) ? G_MAXINT : -1;
}

void
_ferry_call (FerryClient *client,
             GDBusConnection *connection,
             const char *path,
             const char *iface,
             const char *method,
             GVariant *params,
             GTask *task)
{
  GDBusCallFlags flags = _ferry_client_get_call_flags (client);

  g_dbus_connection_call (connection, FERRY_BUS_NAME, path, iface, method, params, NULL, flags,
                          timeout_for (flags), g_task_get_cancellable (task), call_cb, task);
}

GVariant *
_ferry_call_sync (FerryClient *client,
                  GDBusConnection *connection,
                  const char *path,
                  const char *iface,
                  const char *method,
                  GVariant *params,
                  GCancellable *cancellable,
                  GError **error)
{
  GDBusCallFlags flags = _ferry_client_get_call_flags (client);
  GError *local = NULL;
  GVariant *reply =
      g_dbus_connection_call_sync (connection, FERRY_BUS_NAME, path, iface, method, params, NULL,
                                   flags, timeout_for (flags), cancellable, &local);

  if (reply == NULL)
    _ferry_propagate (error, local);
  return reply;
}

void
_ferry_proxy_call (
    FerryClient *client, GDBusProxy *proxy, const char *method, GVariant *params, GTask *task)
{
  _ferry_call (client, g_dbus_proxy_get_connection (proxy), g_dbus_proxy_get_object_path (proxy),
               g_dbus_proxy_get_interface_name (proxy), method, params, task);
}

GVariant *
_ferry_proxy_call_sync (FerryClient *client,
                        GDBusProxy *proxy,
                        const char *method,
                        GVariant *params,
                        GCancellable *cancellable,
                        GError **error)
{
  return _ferry_call_sync (
      client, g_dbus_proxy_get_connection (proxy), g_dbus_proxy_get_object_path (proxy),
      g_dbus_proxy_get_interface_name (proxy), method, params, cancellable, error);
}

gboolean
_ferry_task_finish_void (gpointer source, GAsyncResult *result, gpointer tag, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (G_IS_OBJECT (source), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, source), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  return reply != NULL;
}

const char *
_ferry_proxy_get_string (GDBusProxy *proxy, const char *name)
{
  g_autoptr (GVariant) v = g_dbus_proxy_get_cached_property (proxy, name);

  /* the proxy's cache keeps the variant (and so the string) alive until
   * the property changes, as in gdbus-codegen's getters */
  if (v == NULL || !(g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ||
                     g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH)))
    return NULL;
  return g_variant_get_string (v, NULL);
}

void
_ferry_proxy_get_value (GDBusProxy *proxy, const char *name, GValue *value)
{
  g_autoptr (GVariant) v = g_dbus_proxy_get_cached_property (proxy, name);
  GType type = G_VALUE_TYPE (value);

  if (v == NULL)
    return;
  if (type == G_TYPE_STRING && (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ||
                                g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH)))
    g_value_set_string (value, g_variant_get_string (v, NULL));
  else if (type == G_TYPE_UINT64 && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    g_value_set_uint64 (value, g_variant_get_uint64 (v));
  else if (type == G_TYPE_UINT && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    g_value_set_uint (value, g_variant_get_uint32 (v));
  else if (type == G_TYPE_DOUBLE && g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    g_value_set_double (value, g_variant_get_double (v));
  else if (type == G_TYPE_BOOLEAN && g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
    g_value_set_boolean (value, g_variant_get_boolean (v));
  else if (type == G_TYPE_VARIANT)
    g_value_set_variant (value, v);
  else if (type == G_TYPE_STRV && g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
    g_value_take_boxed (value, g_variant_dup_strv (v, NULL));
}

static void
notify_dbus_name (GObject *self,
                  GParamSpec **pspecs,
                  const FerryPropMap *map,
                  guint n_props,
                  const char *dbus_name)
{
  for (guint i = 1; i < n_props; i++)
    if (map[i].dbus_name != NULL && g_str_equal (map[i].dbus_name, dbus_name))
      g_object_notify_by_pspec (self, pspecs[i]);
}

void
_ferry_forward_notify (GObject *self,
                       GParamSpec **pspecs,
                       const FerryPropMap *map,
                       guint n_props,
                       GVariant *changed,
                       const char *const *invalidated)
{
  GVariantIter iter;
  const char *key;

  g_object_freeze_notify (self);
  if (changed != NULL)
    {
      g_variant_iter_init (&iter, changed);
      while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
        notify_dbus_name (self, pspecs, map, n_props, key);
    }
  for (guint i = 0; invalidated != NULL && invalidated[i] != NULL; i++)
    notify_dbus_name (self, pspecs, map, n_props, invalidated[i]);
  g_object_thaw_notify (self);
}
