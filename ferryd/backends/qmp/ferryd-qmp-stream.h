/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-stream.h: the QMP backend's half of a migration (FerrydStream) */
#pragma once

#include "ferryd-domain.h"
#include "ferryd-stream.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_QMP_STREAM (ferryd_qmp_stream_get_type ())
G_DECLARE_FINAL_TYPE (FerrydQmpStream, ferryd_qmp_stream, FERRYD, QMP_STREAM, GObject)

/* The source side, over @domain's running QEMU. */
FerrydStream *ferryd_qmp_stream_new_outgoing (FerrydDomain *domain);
/* The destination side: QEMU starts in ferryd_stream_prepare_async(). */
FerrydStream *ferryd_qmp_stream_new_incoming (FerrydDomain *domain);

G_END_DECLS
