/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-client.h: the connection to ferryd */
#pragma once

#include <gio/gio.h>

#include "ferry-domain.h"
#include "ferry-migrate-options.h"
#include "ferry-migration.h"

G_BEGIN_DECLS

#define FERRY_TYPE_CLIENT (ferry_client_get_type ())
G_DECLARE_FINAL_TYPE (FerryClient, ferry_client, FERRY, CLIENT, GObject)

FerryClient *ferry_client_new_sync (GCancellable *cancellable, GError **error);
void ferry_client_new (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
FerryClient *ferry_client_new_finish (GAsyncResult *result, GError **error);
FerryClient *ferry_client_new_for_connection (GDBusConnection *connection, GError **error);
void ferry_client_new_for_connection_async (GDBusConnection *connection,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
FerryClient *ferry_client_new_for_connection_finish (GAsyncResult *result, GError **error);
FerryClient *
ferry_client_new_for_address (const char *address, GCancellable *cancellable, GError **error);
void ferry_client_new_for_address_async (const char *address,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
FerryClient *ferry_client_new_for_address_finish (GAsyncResult *result, GError **error);

GDBusConnection *ferry_client_get_connection (FerryClient *self);
GDBusObjectManager *ferry_client_get_object_manager (FerryClient *self);
gboolean ferry_client_get_interactive (FerryClient *self);
void ferry_client_set_interactive (FerryClient *self, gboolean interactive);

const char *ferry_client_get_version (FerryClient *self);
const char *ferry_client_get_hostname (FerryClient *self);
const char *ferry_client_get_host_uuid (FerryClient *self);
char **ferry_client_dup_backends (FerryClient *self);
char **ferry_client_dup_capabilities (FerryClient *self);

GList *ferry_client_get_domains (FerryClient *self);
FerryDomain *ferry_client_lookup_domain (FerryClient *self, const char *name);
GList *ferry_client_get_migrations (FerryClient *self);
FerryMigration *ferry_client_lookup_migration (FerryClient *self, const char *object_path);

FerryMigration *ferry_client_migrate_sync (FerryClient *self,
                                           const char *domain_name,
                                           const char *destination,
                                           FerryMigrateOptions *options,
                                           GCancellable *cancellable,
                                           GError **error);
void ferry_client_migrate_async (FerryClient *self,
                                 const char *domain_name,
                                 const char *destination,
                                 FerryMigrateOptions *options,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
FerryMigration *
ferry_client_migrate_finish (FerryClient *self, GAsyncResult *result, GError **error);

GVariant *ferry_client_check_sync (FerryClient *self,
                                   const char *domain_name,
                                   const char *destination,
                                   FerryMigrateOptions *options,
                                   GCancellable *cancellable,
                                   GError **error);
void ferry_client_check_async (FerryClient *self,
                               const char *domain_name,
                               const char *destination,
                               FerryMigrateOptions *options,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
GVariant *ferry_client_check_finish (FerryClient *self, GAsyncResult *result, GError **error);

FerryDomain *ferry_client_define_domain_sync (FerryClient *self,
                                              const char *description,
                                              GCancellable *cancellable,
                                              GError **error);
void ferry_client_define_domain_async (FerryClient *self,
                                       const char *description,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
FerryDomain *
ferry_client_define_domain_finish (FerryClient *self, GAsyncResult *result, GError **error);

G_END_DECLS
