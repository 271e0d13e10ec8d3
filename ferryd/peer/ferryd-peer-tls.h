/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-tls.h: this host's x509 material for the TLS peer link
 *
 * <config-dir>/pki/ holds QEMU's tls-creds-x509 file names (DESIGN §4a):
 * ca-cert.pem, server-cert.pem + server-key.pem (what a listener shows),
 * client-cert.pem + client-key.pem (what a source shows). The same
 * directory serves both QEMUs' data stream.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The port of a tls:// destination that names none. */
#define FERRYD_PEER_TLS_DEFAULT_PORT 16515

typedef enum
{
  FERRYD_PEER_TLS_CLIENT, /* client-cert.pem, client-key.pem */
  FERRYD_PEER_TLS_SERVER, /* server-cert.pem, server-key.pem */
} FerrydPeerTlsRole;

/* The pki directory of this ferryd (<config-dir>/pki), set once at
 * start-up before any peer link is made. */
void ferryd_peer_tls_set_dir (const char *pki_dir);
const char *ferryd_peer_tls_get_dir (void);

/* Load this host's certificate (with its key) for @role and a database
 * of ca-cert.pem. Fails, in FERRY_ERROR, with a message that names the
 * file and the problem: missing, unreadable, expired, not yet valid, or
 * not signed by this host's own CA. It reads files: only for start-up,
 * before the main loop serves anyone; requests use the async form. */
gboolean ferryd_peer_tls_load (FerrydPeerTlsRole role,
                               GTlsCertificate **out_certificate,
                               GTlsDatabase **out_database,
                               GError **error);

/* ferryd_peer_tls_load() in a worker thread, so the main loop never
 * waits on the disk: the same results and the same errors (and
 * G_IO_ERROR_CANCELLED once @cancellable is cancelled). */
void ferryd_peer_tls_load_async (FerrydPeerTlsRole role,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean ferryd_peer_tls_load_finish (GAsyncResult *result,
                                      GTlsCertificate **out_certificate,
                                      GTlsDatabase **out_database,
                                      GError **error);

/* Words for certificate verification errors ("is signed by an unknown
 * CA, has expired"): why a peer's certificate was refused. */
char *ferryd_peer_tls_describe_flags (GTlsCertificateFlags flags);

/* The subject of @certificate ("CN=host-b,O=Ferry"). */
char *ferryd_peer_tls_subject (GTlsCertificate *certificate);

G_END_DECLS
