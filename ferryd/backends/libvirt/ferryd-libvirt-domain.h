/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-domain.h: the libvirt backend's domain: a FerrydDomain
 * that libvirt runs */
#pragma once

#include <libvirt/libvirt.h>

#include "ferryd-domain.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_LIBVIRT_DOMAIN (ferryd_libvirt_domain_get_type ())
G_DECLARE_FINAL_TYPE (
    FerrydLibvirtDomain, ferryd_libvirt_domain, FERRYD, LIBVIRT_DOMAIN, FerrydDomain)

/* The domain of @config (taken: its name and UUID) on @conn (NULL: not
 * reachable; Start and Shutdown then fail). */
FerrydDomain *ferryd_libvirt_domain_new (FerrydDomainConfig *config, virConnectPtr conn);

G_END_DECLS
