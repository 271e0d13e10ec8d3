/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-domain.h: a domain as the engine sees it: its description, state
 * and migration (no D-Bus, no hypervisor; the backend runs it)
 *
 * FerrydDomain is the base every backend derives its domains from; a
 * backend creates them (ferryd_backend_create_domain()). */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain-config.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_DOMAIN (ferryd_domain_get_type ())
G_DECLARE_DERIVABLE_TYPE (FerrydDomain, ferryd_domain, FERRYD, DOMAIN, GObject)

struct _FerrydDomainClass
{
  GObjectClass parent_class;

  /* Run the guest (the base has checked the domain is not active). */
  void (*start_async) (FerrydDomain *self,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data);
  gboolean (*start_finish) (FerrydDomain *self, GAsyncResult *result, GError **error);
  /* Power the guest off (the base has checked it does not migrate). */
  void (*shutdown_async) (FerrydDomain *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
  gboolean (*shutdown_finish) (FerrydDomain *self, GAsyncResult *result, GError **error);
  /* Let a paused guest run again (the base has checked it is paused and
   * no migration holds it). Optional: without it Start refuses. */
  void (*resume_async) (FerrydDomain *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data);
  gboolean (*resume_finish) (FerrydDomain *self, GAsyncResult *result, GError **error);
};

/* For backends: fill a new domain of theirs (once). Takes @config. */
void ferryd_domain_construct (FerrydDomain *self,
                              const char *backend,
                              FerrydDomainConfig *config,
                              const char *state_dir,
                              const char *runtime_dir);
/* For backends: what the hypervisor says of the guest: running, paused,
 * shutoff or crashed, and why in words ("" when nothing to say). The
 * public state is this, unless a migration is under way. */
void ferryd_domain_set_run_state (FerrydDomain *self, const char *run_state, const char *reason);

/* The name of the backend that runs the domain (ferryd/ferryd-backends.c). */
const char *ferryd_domain_get_backend_name (FerrydDomain *self);

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
