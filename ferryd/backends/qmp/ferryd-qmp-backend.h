/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-backend.h: the QMP backend: QEMU processes ferryd runs itself */
#pragma once

#include "ferryd-backend.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_QMP_BACKEND (ferryd_qmp_backend_get_type ())
G_DECLARE_FINAL_TYPE (FerrydQmpBackend, ferryd_qmp_backend, FERRYD, QMP_BACKEND, GObject)

FerrydBackend *ferryd_qmp_backend_new (void);

G_END_DECLS
