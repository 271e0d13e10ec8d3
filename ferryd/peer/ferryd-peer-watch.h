/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-watch.h: a destination follows its source ferryd
 *
 * The D-Bus layer makes one for the caller of Prepare; the engine learns
 * from its "vanished" signal that the source left the bus, without
 * knowing D-Bus itself.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FERRYD_TYPE_PEER_WATCH (ferryd_peer_watch_get_type ())
G_DECLARE_FINAL_TYPE (FerrydPeerWatch, ferryd_peer_watch, FERRYD, PEER_WATCH, GObject)

/* Follow @name (a unique name) on the bus @connection: "vanished" is
 * emitted when it is not, or no longer, on the bus. */
FerrydPeerWatch *ferryd_peer_watch_new (GDBusConnection *connection, const char *name);
/* The same for a peer-to-peer link (a TLS peer): vanished when it
 * closes; @name says who is at its other end. */
FerrydPeerWatch *ferryd_peer_watch_new_for_link (GDBusConnection *connection, const char *name);
const char *ferryd_peer_watch_get_name (FerrydPeerWatch *self);
/* Stop following: no "vanished" after this. */
void ferryd_peer_watch_stop (FerrydPeerWatch *self);

G_END_DECLS
