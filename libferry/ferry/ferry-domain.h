/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-domain.h: a domain (virtual machine) known to ferryd */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FERRY_TYPE_DOMAIN (ferry_domain_get_type ())
G_DECLARE_FINAL_TYPE (FerryDomain, ferry_domain, FERRY, DOMAIN, GObject)

const char *ferry_domain_get_object_path (FerryDomain *self);
const char *ferry_domain_get_name (FerryDomain *self);
const char *ferry_domain_get_uuid (FerryDomain *self);
const char *ferry_domain_get_backend (FerryDomain *self);
const char *ferry_domain_get_state (FerryDomain *self);
const char *ferry_domain_get_state_reason (FerryDomain *self);
const char *ferry_domain_get_migration_path (FerryDomain *self);

gboolean ferry_domain_start_sync (FerryDomain *self, GCancellable *cancellable, GError **error);
void ferry_domain_start_async (FerryDomain *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean ferry_domain_start_finish (FerryDomain *self, GAsyncResult *result, GError **error);

gboolean ferry_domain_shutdown_sync (FerryDomain *self, GCancellable *cancellable, GError **error);
void ferry_domain_shutdown_async (FerryDomain *self,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean ferry_domain_shutdown_finish (FerryDomain *self, GAsyncResult *result, GError **error);

G_END_DECLS
