/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-params.h: Ferry's migration options as libvirt's typed
 * parameters and flags for virDomainMigrateToURI3 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "ferryd-options.h"

G_BEGIN_DECLS

/* libvirt takes bandwidths in MiB/s and hands them to QEMU in bytes/s as
 * an int64: the largest value it accepts (QEMU_DOMAIN_MIG_BANDWIDTH_MAX). */
#define FERRYD_LIBVIRT_MAX_BANDWIDTH_MIB ((guint64) G_MAXINT64 / (1024 * 1024))

typedef struct
{
  virTypedParameterPtr params;
  int n_params;
  int max_params;
  unsigned int flags;
  guint64 downtime_ms; /* 0: libvirt's default; set with virDomainMigrateSetMaxDowntime */
} FerrydLibvirtMigrateParams;

/* The parameters for @options, or NULL with InvalidArgument when libvirt
 * cannot express an option exactly (a bandwidth that is not a whole
 * number of MiB/s or over libvirt's limit, a migrate-uri not of the
 * tcp:HOST:PORT form, a switchover-ack libvirt does not let a caller
 * choose): refused before anything starts, never rounded or wrapped. */
FerrydLibvirtMigrateParams *ferryd_libvirt_migrate_params_new (const FerrydMigrateOptions *options,
                                                               GError **error);
void ferryd_libvirt_migrate_params_free (FerrydLibvirtMigrateParams *params);

/* @bps (bytes/s) in MiB/s, or FALSE with InvalidArgument naming @what. */
gboolean ferryd_libvirt_bandwidth_to_mib (const char *what,
                                          guint64 bps,
                                          unsigned long long *mib,
                                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerrydLibvirtMigrateParams, ferryd_libvirt_migrate_params_free)

G_END_DECLS
