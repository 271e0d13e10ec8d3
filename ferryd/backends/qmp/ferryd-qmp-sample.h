/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-sample.h: what Check asks a running guest's QEMU before a
 * migration: why QEMU would refuse it (blocked-reasons) and how fast the
 * guest dirties its memory (a short calc-dirty-rate sample) */
#pragma once

#include "ferryd-qmp.h"

G_BEGIN_DECLS

/* How long the dirty-rate sample takes, ms. */
#define FERRYD_QMP_SAMPLE_MS 500

/* The names of QEMU's migration blockers in a query-migrate reply
 * (empty when none). */
GStrv ferryd_qmp_sample_blocked_reasons (JsonNode *reply);

/* Bytes/s of a query-dirty-rate reply that has measured (QEMU reports
 * MiB/s); FALSE while it measures or when it failed. */
gboolean ferryd_qmp_sample_dirty_rate (JsonNode *reply, guint64 *rate, gboolean *measuring);

void ferryd_qmp_sample_async (FerrydQmp *qmp,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
/* @dirty_rate: 0 = not measured. Never fails for a QEMU that answers:
 * what it could not tell stays empty. */
gboolean ferryd_qmp_sample_finish (GAsyncResult *result,
                                   GStrv *blocked_reasons,
                                   guint64 *dirty_rate,
                                   GError **error);

G_END_DECLS
