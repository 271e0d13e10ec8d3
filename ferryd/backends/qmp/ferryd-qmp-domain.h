/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-domain.h: the QMP backend's domain: a FerrydDomain run by a QEMU */
#pragma once

#include "ferryd-domain.h"
#include "ferryd-qemu.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_QMP_DOMAIN (ferryd_qmp_domain_get_type ())
G_DECLARE_FINAL_TYPE (FerrydQmpDomain, ferryd_qmp_domain, FERRYD, QMP_DOMAIN, FerrydDomain)

/* Takes @config. */
FerrydDomain *ferryd_qmp_domain_new (const char *backend,
                                     FerrydDomainConfig *config,
                                     const char *state_dir,
                                     const char *runtime_dir);
FerrydQemu *ferryd_qmp_domain_get_qemu (FerrydQmpDomain *self);
/* Hand the domain a running QEMU (after an incoming migration) or drop
 * it (after an outgoing one). */
void ferryd_qmp_domain_set_qemu (FerrydQmpDomain *self, FerrydQemu *qemu);

G_END_DECLS
