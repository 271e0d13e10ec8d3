/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer.h: the link from a source ferryd to a destination ferryd */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Connect to the destination's bus: a D-Bus address ("unix:path=..."),
 * "ssh://[user@]host" (through ssh and systemd-stdio-bridge), or to its
 * TLS peer listener, "tls://host[:port]" (a peer-to-peer connection). */
void ferryd_peer_connect_async (const char *destination,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
GDBusConnection *ferryd_peer_connect_finish (GAsyncResult *result, GError **error);

gboolean ferryd_peer_destination_is_valid (const char *destination, GError **error);
/* A tls://host[:port] destination: mutual TLS, and TLS for the data too. */
gboolean ferryd_peer_destination_is_tls (const char *destination);

/* The host name the destination should listen on and the source connect
 * to for the migration data stream. */
char *ferryd_peer_data_host (const char *destination);

G_END_DECLS
