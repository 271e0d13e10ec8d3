/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-progress.h: QEMU's query-migrate and MIGRATION status in the
 * engine's neutral terms */
#pragma once

#include <json-glib/json-glib.h>

#include "ferryd-progress.h"

G_BEGIN_DECLS

/* Fill @progress from a query-migrate answer; FALSE (and @progress
 * untouched) if @reply is not an object. */
gboolean ferryd_qmp_progress_from_reply (JsonNode *reply, FerrydProgress *progress);

/* QEMU's MIGRATION status name → FerrydStreamStatus (NONE if unknown). */
FerrydStreamStatus ferryd_qmp_stream_status (const char *status);

G_END_DECLS
