/* ferry-daemon.h: the host: its identity, directories and domains */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain.h"

G_BEGIN_DECLS

#define FERRY_TYPE_DAEMON (ferry_daemon_get_type ())
G_DECLARE_FINAL_TYPE (FerryDaemon, ferry_daemon, FERRY, DAEMON, GObject)

FerryDaemon *ferry_daemon_new (const char *state_dir,
                               const char *runtime_dir,
                               const char *config_dir,
                               GError **error);

const char *ferry_daemon_get_state_dir (FerryDaemon *self);
const char *ferry_daemon_get_runtime_dir (FerryDaemon *self);
const char *ferry_daemon_get_hostname (FerryDaemon *self);
const char *ferry_daemon_get_host_uuid (FerryDaemon *self);
const char *const *ferry_daemon_get_backends (FerryDaemon *self);
const char *const *ferry_daemon_get_capabilities (FerryDaemon *self);
/* ferryd.conf [Peer] AllowExtraArgs: may a migration source's description
 * carry [QEMU] ExtraArgs onto this host's QEMU command line? */
gboolean ferry_daemon_peer_may_send_extra_args (FerryDaemon *self);

/* Domains: "domain-added" (FerryDomain *) is emitted for each new one. */
FerryDomain *ferry_daemon_lookup_domain (FerryDaemon *self, const char *name);
GList *ferry_daemon_get_domains (FerryDaemon *self);
FerryDomain *
ferry_daemon_define_domain (FerryDaemon *self, const char *description, GError **error);
/* Define (or refresh) a domain from a description that already has a
 * UUID, e.g. one received from a migration source. */
FerryDomain *ferry_daemon_adopt_domain (FerryDaemon *self,
                                        FerryDomainConfig *config,
                                        gboolean persist,
                                        GError **error);
/* Save the description of an existing domain, running or not (it takes
 * effect at the next start). Takes @config. */
gboolean ferry_daemon_persist_domain (FerryDaemon *self, FerryDomainConfig *config, GError **error);
gboolean ferry_daemon_undefine_domain (FerryDaemon *self, FerryDomain *domain, GError **error);
gboolean ferry_daemon_is_persistent (FerryDaemon *self, FerryDomain *domain);

G_END_DECLS
