/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-domain.h: the QMP backend's side of a domain: its QEMU */
#pragma once

#include "ferryd-domain.h"
#include "ferryd-qemu.h"

G_BEGIN_DECLS

FerrydQemu *ferryd_domain_get_qemu (FerrydDomain *self);
/* Hand the domain a running QEMU (after an incoming migration) or drop
 * it (after an outgoing one). */
void ferryd_domain_set_qemu (FerrydDomain *self, FerrydQemu *qemu);

G_END_DECLS
