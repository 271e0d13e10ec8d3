/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-private.h: what libferry's classes share and do not export */
#pragma once

#include "ferry-client.h"
#include "ferry-domain.h"
#include "ferry-error.h"
#include "ferry-migration.h"

G_BEGIN_DECLS

/* A GObject property backed by a cached D-Bus property. */
typedef struct
{
  const char *name;      /* GObject property */
  const char *dbus_name; /* D-Bus property */
} FerryPropMap;

GDBusCallFlags _ferry_client_get_call_flags (FerryClient *client);
GMainContext *_ferry_client_get_context (FerryClient *client);

FerryDomain *_ferry_domain_new (FerryClient *client, GDBusProxy *proxy);
FerryMigration *_ferry_migration_new (FerryClient *client, GDBusProxy *proxy);
GDBusProxy *_ferry_migration_get_proxy (FerryMigration *self);
void _ferry_migration_set_gone (FerryMigration *self);

/* Remote errors into FERRY_ERROR; takes error, returns the converted one. */
GError *_ferry_error_convert (GError *error);
void _ferry_propagate (GError **dest, GError *src);

/* D-Bus calls with the client's flags (client may be NULL); replies are
 * the (tuple), errors in FERRY_ERROR. */
void _ferry_call (FerryClient *client,
                  GDBusConnection *connection,
                  const char *path,
                  const char *iface,
                  const char *method,
                  GVariant *params,
                  GTask *task);
GVariant *_ferry_call_sync (FerryClient *client,
                            GDBusConnection *connection,
                            const char *path,
                            const char *iface,
                            const char *method,
                            GVariant *params,
                            GCancellable *cancellable,
                            GError **error);
void _ferry_proxy_call (
    FerryClient *client, GDBusProxy *proxy, const char *method, GVariant *params, GTask *task);
GVariant *_ferry_proxy_call_sync (FerryClient *client,
                                  GDBusProxy *proxy,
                                  const char *method,
                                  GVariant *params,
                                  GCancellable *cancellable,
                                  GError **error);
gboolean
_ferry_task_finish_void (gpointer source, GAsyncResult *result, gpointer tag, GError **error);

const char *_ferry_proxy_get_string (GDBusProxy *proxy, const char *name);
void _ferry_proxy_get_value (GDBusProxy *proxy, const char *name, GValue *value);
void _ferry_forward_notify (GObject *self,
                            GParamSpec **pspecs,
                            const FerryPropMap *map,
                            guint n_props,
                            GVariant *changed,
                            const char *const *invalidated);

G_END_DECLS
