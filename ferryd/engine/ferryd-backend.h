/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-backend.h: what a hypervisor backend implements
 *
 * A backend runs domains (start, shut down) and opens the streams of
 * their migrations (ferryd-stream.h). Backends are registered in one
 * table, ferryd/ferryd-backends.c; a new one is a folder under
 * ferryd/backends/ plus one line there.
 */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain.h"
#include "ferryd-options.h"
#include "ferryd-stream.h"

G_BEGIN_DECLS

/* The daemon (ferryd-daemon.h) uses backends: named here only, so that
 * the two do not include each other. */
typedef struct _FerrydDaemon FerrydDaemon;

#define FERRYD_TYPE_BACKEND (ferryd_backend_get_type ())
G_DECLARE_INTERFACE (FerrydBackend, ferryd_backend, FERRYD, BACKEND, GObject)

struct _FerrydBackendInterface
{
  GTypeInterface g_iface;

  const char *(*get_name) (FerrydBackend *self);
  /* A new domain of this backend (a subclass of FerrydDomain), described
   * by @config (taken), not running. */
  FerrydDomain *(*create_domain) (FerrydBackend *self,
                                  FerrydDomainConfig *config,
                                  const char *state_dir,
                                  const char *runtime_dir);
  /* At start-up: find the guests a previous ferryd ran that still run,
   * and hand each to its domain (ferryd_daemon_domain_for_running). */
  void (*reattach) (FerrydBackend *self, FerrydDaemon *daemon);
  /* Whether this host accepts an incoming guest described as @live
   * (what the source sent, so untrusted). */
  gboolean (*accept_incoming) (FerrydBackend *self, const FerrydDomainConfig *live, GError **error);
  /* The accelerators guests can use on this host (Hello's "accelerators"). */
  const char *const *(*list_accelerators) (FerrydBackend *self);
  /* The migration capabilities (Manager.Capabilities' names) this host's
   * hypervisor answers it has; asked once at start-up. */
  void (*probe_capabilities_async) (FerrydBackend *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
  GStrv (*probe_capabilities_finish) (FerrydBackend *self, GAsyncResult *result, GError **error);
  /* For Check: why the hypervisor would refuse to migrate running
   * @domain (its own words; empty when nothing blocks) and how fast the
   * guest dirties its memory, bytes/s (0 = not measured), from a sample
   * of about half a second. Optional: without it, nothing blocks and the
   * rate is 0 (unknown). */
  void (*sample_domain_async) (FerrydBackend *self,
                               FerrydDomain *domain,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
  gboolean (*sample_domain_finish) (FerrydBackend *self,
                                    GAsyncResult *result,
                                    GStrv *blocked_reasons,
                                    guint64 *dirty_rate,
                                    GError **error);
  /* Why a destination offering @peer_accelerators cannot run @domain as
   * it runs here; NULL when it can. */
  char *(*check_destination) (FerrydBackend *self,
                              FerrydDomain *domain,
                              const char *const *peer_accelerators);
  /* The stream of a migration of running @domain away from here. */
  FerrydStream *(*open_outgoing) (FerrydBackend *self, FerrydDomain *domain);
  /* The stream of a migration into @domain, not started yet. */
  FerrydStream *(*open_incoming) (FerrydBackend *self, FerrydDomain *domain);
  /* Optional: whether the backend works right now (e.g. its daemon is
   * reachable); NULL = always. Changes are announced with the
   * "availability-changed" signal. */
  gboolean (*is_available) (FerrydBackend *self);
  /* Optional: whether @domain can migrate to @destination with
   * @options, before anything starts (else InvalidArgument,
   * NotSupported, ...). NULL = Ferry's peer protocol decides (a D-Bus or
   * ssh:// destination, the options the QMP backend supports). */
  gboolean (*check_migrate) (FerrydBackend *self,
                             FerrydDomain *domain,
                             const char *destination,
                             const FerrydMigrateOptions *options,
                             GError **error);
  /* Optional: Check's part for a backend that runs the protocol itself:
   * an a{sv} with "blockers" as, "warnings" as, "features" as (supported
   * on both sides), "destination-checked" b and "memory" t (bytes); the
   * destination is contacted only when @may_contact. NULL = Ferry's
   * peer protocol checks. */
  void (*check_async) (FerrydBackend *self,
                       FerrydDomain *domain,
                       const char *destination,
                       const FerrydMigrateOptions *options,
                       gboolean may_contact,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data);
  GVariant *(*check_finish) (FerrydBackend *self, GAsyncResult *result, GError **error);
};

const char *ferryd_backend_get_name (FerrydBackend *self);
FerrydDomain *ferryd_backend_create_domain (FerrydBackend *self,
                                            FerrydDomainConfig *config,
                                            const char *state_dir,
                                            const char *runtime_dir);
void ferryd_backend_reattach (FerrydBackend *self, FerrydDaemon *daemon);
gboolean ferryd_backend_accept_incoming (FerrydBackend *self,
                                         const FerrydDomainConfig *live,
                                         GError **error);
const char *const *ferryd_backend_list_accelerators (FerrydBackend *self);
void ferryd_backend_probe_capabilities_async (FerrydBackend *self,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
GStrv ferryd_backend_probe_capabilities_finish (FerrydBackend *self,
                                                GAsyncResult *result,
                                                GError **error);
void ferryd_backend_sample_domain_async (FerrydBackend *self,
                                         FerrydDomain *domain,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean ferryd_backend_sample_domain_finish (FerrydBackend *self,
                                              GAsyncResult *result,
                                              GStrv *blocked_reasons,
                                              guint64 *dirty_rate,
                                              GError **error);
char *ferryd_backend_check_destination (FerrydBackend *self,
                                        FerrydDomain *domain,
                                        const char *const *peer_accelerators);
FerrydStream *ferryd_backend_open_outgoing (FerrydBackend *self, FerrydDomain *domain);
FerrydStream *ferryd_backend_open_incoming (FerrydBackend *self, FerrydDomain *domain);

gboolean ferryd_backend_is_available (FerrydBackend *self);
gboolean ferryd_backend_has_check_migrate (FerrydBackend *self);
gboolean ferryd_backend_has_check (FerrydBackend *self);
void ferryd_backend_check_async (FerrydBackend *self,
                                 FerrydDomain *domain,
                                 const char *destination,
                                 const FerrydMigrateOptions *options,
                                 gboolean may_contact,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
GVariant *ferryd_backend_check_finish (FerrydBackend *self, GAsyncResult *result, GError **error);
gboolean ferryd_backend_check_migrate (FerrydBackend *self,
                                       FerrydDomain *domain,
                                       const char *destination,
                                       const FerrydMigrateOptions *options,
                                       GError **error);
void ferryd_backend_emit_availability_changed (FerrydBackend *self);
/* A migration into @domain (published here) began that the hypervisor
 * runs with its own protocol, no ferryd on the source involved (libvirt's
 * peer-to-peer migration seen from its destination): the engine shows it
 * as an incoming Migration that follows @stream (its status, "resumed",
 * query), and ends it from there. @source: the source host as far as the
 * hypervisor tells (NULL or "": unknown). Signal "incoming-migration". */
void ferryd_backend_emit_incoming_migration (FerrydBackend *self,
                                             FerrydDomain *domain,
                                             FerrydStream *stream,
                                             const char *source);
/* A migration of @domain away from here that the hypervisor runs by
 * itself was found under way, not started by this ferryd (one that ran
 * before a restart: libvirt's peer-to-peer migration goes on without
 * it): the engine shows it as an outgoing Migration in Perform that
 * follows @stream (already started: its status, events, query; Cancel
 * and the controls go to it) to its end. @destination: as far as the
 * hypervisor tells (NULL or "": unknown). Signal "outgoing-migration". */
void ferryd_backend_emit_outgoing_migration (FerrydBackend *self,
                                             FerrydDomain *domain,
                                             FerrydStream *stream,
                                             const char *destination);

/* Settings from the command line that a backend reads when it starts
 * (e.g. "libvirt-uri"); set before the daemon is created. */
void ferryd_backend_set_setting (const char *key, const char *value);
const char *ferryd_backend_get_setting (const char *key);

/* The registered backends (ferryd/ferryd-backends.c). */
typedef FerrydBackend *(*FerrydBackendNewFunc) (void);
typedef struct
{
  const char *name;
  FerrydBackendNewFunc create;
} FerrydBackendEntry;

/* NULL-name-terminated */
extern const FerrydBackendEntry ferryd_backend_table[];
/* The backend called @name (created once, kept), or NULL. */
FerrydBackend *ferryd_backend_get (const char *name);
/* The default backend (the table's first). */
FerrydBackend *ferryd_backend_get_default (void);
/* The backend that runs @domain: the one that created it. */
FerrydBackend *ferryd_backend_for_domain (FerrydDomain *domain);
/* The names of the registered backends, NULL-terminated (static). */
const char *const *ferryd_backend_list_names (void);

G_END_DECLS
