/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-listener.h: the destination's TLS peer listener
 * (--tls-listen ADDR:PORT)
 *
 * Accepts TCP connections, requires mutual x509 TLS against
 * <config-dir>/pki/ca-cert.pem and hands each authenticated link on as a
 * peer-to-peer GDBusConnection with the subject of the peer's
 * certificate ("peer-connected"). Nothing reaches D-Bus before both
 * certificates have been verified.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FERRYD_TYPE_PEER_LISTENER (ferryd_peer_listener_get_type ())
G_DECLARE_FINAL_TYPE (FerrydPeerListener, ferryd_peer_listener, FERRYD, PEER_LISTENER, GObject)

/* Listen on @address ("ADDR:PORT", "[V6ADDR]:PORT"). Fails when the
 * address is invalid or taken, or when this host's server certificate,
 * key or CA cannot be used (there is no listener without them).
 *
 * Signal: peer-connected (GDBusConnection *connection, const char *subject) */
FerrydPeerListener *ferryd_peer_listener_new (const char *address, GError **error);

G_END_DECLS
