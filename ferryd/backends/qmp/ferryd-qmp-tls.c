/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-tls.c: QEMU's TLS credentials for the migration stream
 *
 * Both QEMUs load the same <config-dir>/pki/ as the TLS peer link
 * (QEMU's own file names): the destination listens with server-cert.pem
 * and requires a client certificate from its CA (verify-peer), the
 * source shows client-cert.pem and checks the destination's certificate
 * against the host name of the migration URI. RAM, post-copy and (once
 * storage is copied) NBD all go through these credentials.
 */
#define G_LOG_DOMAIN "ferry-qmp"

#include "ferryd-qmp-tls.h"

#define TLS_CREDS_ID "ferry-migration-tls"

void
ferryd_qmp_tls_setup (
    FerrydQmp *qmp, FerrydQmpBatch *batch, JsonObject *params, const char *tls_dir, gboolean server)
{
  JsonObject *args;

  if (tls_dir == NULL)
    {
      json_object_set_string_member (params, "tls-creds", "");
      return;
    }
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
  json_object_set_string_member (params, "tls-creds", TLS_CREDS_ID);
}
