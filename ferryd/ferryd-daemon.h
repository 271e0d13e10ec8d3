/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-daemon.h: the host: its identity, directories and domains */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain.h"

/* Named only: ferryd-backend.h names the daemon the same way. */
typedef struct _FerrydBackend FerrydBackend;

G_BEGIN_DECLS

#define FERRYD_TYPE_DAEMON (ferryd_daemon_get_type ())
G_DECLARE_FINAL_TYPE (FerrydDaemon, ferryd_daemon, FERRYD, DAEMON, GObject)

FerrydDaemon *ferryd_daemon_new (const char *state_dir,
                                 const char *runtime_dir,
                                 const char *config_dir,
                                 GError **error);

const char *ferryd_daemon_get_state_dir (FerrydDaemon *self);
const char *ferryd_daemon_get_runtime_dir (FerrydDaemon *self);
const char *ferryd_daemon_get_hostname (FerrydDaemon *self);
const char *ferryd_daemon_get_host_uuid (FerrydDaemon *self);
/* The backends that work right now ("backends-changed" when that changes). */
const char *const *ferryd_daemon_get_backends (FerrydDaemon *self);
const char *const *ferryd_daemon_get_capabilities (FerrydDaemon *self);
/* Asks the default backend what this host's hypervisor can do and keeps
 * it (never fails: a host that does not answer offers nothing). Once, at
 * start-up, before the bus name is taken. */
void ferryd_daemon_probe_capabilities_async (FerrydDaemon *self,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
void ferryd_daemon_probe_capabilities_finish (FerrydDaemon *self, GAsyncResult *result);
/* ferryd.conf [Peer] AllowExtraArgs: may a migration source's description
 * carry [QEMU] ExtraArgs onto this host's QEMU command line? */
gboolean ferryd_daemon_peer_may_send_extra_args (FerrydDaemon *self);

/* Domains: "domain-added" (FerrydDomain *) is emitted for each new one. */
FerrydDomain *ferryd_daemon_lookup_domain (FerrydDaemon *self, const char *name);
GList *ferryd_daemon_get_domains (FerrydDaemon *self);
FerrydDomain *
ferryd_daemon_define_domain (FerrydDaemon *self, const char *description, GError **error);
/* Define (or refresh) a domain from a description that already has a
 * UUID, e.g. one received from a migration source; a new one is run by
 * @backend. */
FerrydDomain *ferryd_daemon_adopt_domain (FerrydDaemon *self,
                                          FerrydBackend *backend,
                                          FerrydDomainConfig *config,
                                          gboolean persist,
                                          GError **error);
/* Save the description of an existing domain, running or not (it takes
 * effect at the next start). Takes @config. */
gboolean
ferryd_daemon_persist_domain (FerrydDaemon *self, FerrydDomainConfig *config, GError **error);
gboolean ferryd_daemon_undefine_domain (FerrydDaemon *self, FerrydDomain *domain, GError **error);
gboolean ferryd_daemon_is_persistent (FerrydDaemon *self, FerrydDomain *domain);
/* A domain another backend runs and owns (not persisted by Ferry):
 * published, or BUSY when the name is taken (the existing domain keeps
 * it, and the caller says so). Returns @domain (not a new reference). */
FerrydDomain *
ferryd_daemon_add_backend_domain (FerrydDaemon *self, FerrydDomain *domain, GError **error);
void ferryd_daemon_remove_backend_domain (FerrydDaemon *self, FerrydDomain *domain);
/* A guest a previous ferryd started still runs (@backend found
 * it): its domain, a transient one of @backend from
 * @config when none is defined. Takes @config. */
FerrydDomain *ferryd_daemon_domain_for_running (FerrydDaemon *self,
                                                FerrydBackend *backend,
                                                FerrydDomainConfig *config);
/* A backend looks for the guests of a previous ferryd in the background:
 * each search holds the daemon until it is released; the last release
 * emits "reattached" (the engine then settles the migrations it finds in
 * its journal). */
void ferryd_daemon_reattach_hold (FerrydDaemon *self);
void ferryd_daemon_reattach_release (FerrydDaemon *self);
gboolean ferryd_daemon_is_reattaching (FerrydDaemon *self);

G_END_DECLS
