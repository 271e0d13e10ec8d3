/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-tls.c: QEMU's TLS credentials for the migration stream
 *
 * Both QEMUs load the same <config-dir>/pki/ as the TLS peer link
 * (QEMU's own file names): the destination listens with server-cert.pem
 * and requires a client certificate from its CA (verify-peer), the
 * source shows client-cert.pem and checks the destination's certificate
 * against the host name of the migration URI. RAM, post-copy and the
 * disks' NBD stream all go through these one credentials object.
 */
#define G_LOG_DOMAIN "ferry-qmp"

#include "ferryd-qmp-tls.h"

#define TLS_CREDS_ID "ferry-migration-tls"

const char *
ferryd_qmp_tls_load (FerrydQmp *qmp, FerrydQmpBatch *batch, const char *tls_dir, gboolean server)
{
  JsonObject *args;

  /* Files may have been renewed since an earlier migration of this QEMU:
   * drop the old object (an error when there is none: ignored) and load
   * them afresh. Commands run in order, so this comes before the add. */
  args = json_object_new ();
  json_object_set_string_member (args, "id", TLS_CREDS_ID);
  ferryd_qmp_send (qmp, "object-del", args);

  args = json_object_new ();
  json_object_set_string_member (args, "qom-type", "tls-creds-x509");
  json_object_set_string_member (args, "id", TLS_CREDS_ID);
  json_object_set_string_member (args, "dir", tls_dir);
  json_object_set_string_member (args, "endpoint", server ? "server" : "client");
  json_object_set_boolean_member (args, "verify-peer", TRUE);
  ferryd_qmp_batch_add (batch, "object-add", args);
  return TLS_CREDS_ID;
}

void
ferryd_qmp_tls_use (JsonObject *params, gboolean tls)
{
  json_object_set_string_member (params, "tls-creds", tls ? TLS_CREDS_ID : "");
}

void
ferryd_qmp_tls_setup (
    FerrydQmp *qmp, FerrydQmpBatch *batch, JsonObject *params, const char *tls_dir, gboolean server)
{
  if (tls_dir)
    ferryd_qmp_tls_load (qmp, batch, tls_dir, server);
  ferryd_qmp_tls_use (params, tls_dir != NULL);
}
