/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-batch.h: run several QMP commands in order, stop at the first error */
#pragma once

#include "ferryd-qmp.h"

G_BEGIN_DECLS

typedef struct _FerrydQmpBatch FerrydQmpBatch;

FerrydQmpBatch *ferryd_qmp_batch_new (void);
/* Takes ownership of @arguments (may be NULL). */
void ferryd_qmp_batch_add (FerrydQmpBatch *batch, const char *command, JsonObject *arguments);
/* A batch that is not run after all. */
void ferryd_qmp_batch_free (FerrydQmpBatch *batch);
/* Consumes the batch; the result is the reply of the last command. */
void ferryd_qmp_batch_run_async (FerrydQmpBatch *batch,
                                 FerrydQmp *qmp,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
JsonNode *ferryd_qmp_batch_run_finish (GAsyncResult *result, GError **error);

G_END_DECLS
