/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-tls.h: QEMU's TLS credentials for the migration stream */
#pragma once

#include "ferryd-qmp-batch.h"

G_BEGIN_DECLS

/* Queue on @batch a fresh tls-creds-x509 object from the files in
 * @tls_dir (endpoint server or client), replacing one of an earlier
 * migration of the same QEMU; returns its id, for what else (the NBD
 * server or client of the disks) goes over TLS. */
const char *
ferryd_qmp_tls_load (FerrydQmp *qmp, FerrydQmpBatch *batch, const char *tls_dir, gboolean server);
/* Set "tls-creds" in @params (a migrate-set-parameters' arguments): the
 * object ferryd_qmp_tls_load() queued when @tls, else "" (clear). */
void ferryd_qmp_tls_use (JsonObject *params, gboolean tls);

/* Make this migration's stream TLS (@tls_dir non-NULL) or clear (NULL):
 * queues on @batch a fresh tls-creds-x509 object from the files in
 * @tls_dir (the listening end is the @server), verifying the other end's
 * certificate against ca-cert.pem, and sets "tls-creds" in @params (the
 * arguments of a migrate-set-parameters), "" when clear, so nothing is
 * left of an earlier migration of the same QEMU. */
void ferryd_qmp_tls_setup (FerrydQmp *qmp,
                           FerrydQmpBatch *batch,
                           JsonObject *params,
                           const char *tls_dir,
                           gboolean server);

G_END_DECLS
