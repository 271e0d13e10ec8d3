/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-domain.h: a domain as the engine sees it: its description, state
 * and migration (no D-Bus, no hypervisor; the backend runs it) */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain-config.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_DOMAIN (ferryd_domain_get_type ())
G_DECLARE_FINAL_TYPE (FerrydDomain, ferryd_domain, FERRYD, DOMAIN, GObject)

FerrydDomain *
ferryd_domain_new (FerrydDomainConfig *config, const char *state_dir, const char *runtime_dir);

const char *ferryd_domain_get_name (FerrydDomain *self);
const char *ferryd_domain_get_uuid (FerrydDomain *self);
const FerrydDomainConfig *ferryd_domain_get_config (FerrydDomain *self);
void ferryd_domain_set_config (FerrydDomain *self, FerrydDomainConfig *config);
/* running, paused, shutoff, migrating, incoming, crashed (notify::state) */
const char *ferryd_domain_get_state (FerrydDomain *self);
/* Why the domain is in its state, in words; "" when nothing to say
 * (notify::state-reason) */
const char *ferryd_domain_get_state_reason (FerrydDomain *self);
gboolean ferryd_domain_is_active (FerrydDomain *self);
const char *ferryd_domain_get_state_dir (FerrydDomain *self);
const char *ferryd_domain_get_runtime_dir (FerrydDomain *self);

/* The migration this domain is part of (an opaque object owned by the
 * engine) and its direction; NULL when none. */
GObject *ferryd_domain_get_migration (FerrydDomain *self);
void ferryd_domain_set_migration (FerrydDomain *self, GObject *migration, gboolean incoming);

void ferryd_domain_start_async (FerrydDomain *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean ferryd_domain_start_finish (FerrydDomain *self, GAsyncResult *result, GError **error);

void ferryd_domain_shutdown_async (FerrydDomain *self,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean ferryd_domain_shutdown_finish (FerrydDomain *self, GAsyncResult *result, GError **error);

G_END_DECLS
