/* ferry-domain.h: a domain of the QMP backend (engine side, no D-Bus) */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain-config.h"
#include "ferryd-qemu.h"

G_BEGIN_DECLS

#define FERRY_TYPE_DOMAIN (ferry_domain_get_type ())
G_DECLARE_FINAL_TYPE (FerryDomain, ferry_domain, FERRY, DOMAIN, GObject)

FerryDomain *
ferry_domain_new (FerryDomainConfig *config, const char *state_dir, const char *runtime_dir);

/* The D-Bus object path of the domain called @name (the Domain object,
 * and the Migration records that point at it). */
char *ferry_domain_object_path (const char *name);

const char *ferry_domain_get_name (FerryDomain *self);
const char *ferry_domain_get_uuid (FerryDomain *self);
const FerryDomainConfig *ferry_domain_get_config (FerryDomain *self);
void ferry_domain_set_config (FerryDomain *self, FerryDomainConfig *config);
/* running, paused, shutoff, migrating, incoming, crashed (notify::state) */
const char *ferry_domain_get_state (FerryDomain *self);
/* Why the domain is in its state, in words; "" when nothing to say
 * (notify::state-reason) */
const char *ferry_domain_get_state_reason (FerryDomain *self);
gboolean ferry_domain_is_active (FerryDomain *self);
FerryQemu *ferry_domain_get_qemu (FerryDomain *self);
const char *ferry_domain_get_state_dir (FerryDomain *self);
const char *ferry_domain_get_runtime_dir (FerryDomain *self);

/* The migration this domain is part of (an opaque object owned by the
 * engine) and its direction; NULL when none. */
GObject *ferry_domain_get_migration (FerryDomain *self);
void ferry_domain_set_migration (FerryDomain *self, GObject *migration, gboolean incoming);

/* Hand the domain a running QEMU (after an incoming migration) or drop
 * it (after an outgoing one). */
void ferry_domain_set_qemu (FerryDomain *self, FerryQemu *qemu);

void ferry_domain_start_async (FerryDomain *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean ferry_domain_start_finish (FerryDomain *self, GAsyncResult *result, GError **error);

void ferry_domain_shutdown_async (FerryDomain *self,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean ferry_domain_shutdown_finish (FerryDomain *self, GAsyncResult *result, GError **error);

G_END_DECLS
