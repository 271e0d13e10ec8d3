/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-client.h: the typed client of a destination's
 * org.ferryvm.Ferry1.Peer, over the generated proxy
 *
 * Every call returns plain C values and GVariant dictionaries; remote
 * errors come back converted, in FERRY_ERROR: PeerUnreachable when the
 * destination ferryd cannot be reached, PeerRefused when it answered
 * with an error, Cancelled when the call was cancelled.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How long the destination has to confirm an Abort. */
#define FERRYD_PEER_ABORT_TIMEOUT_MS 10000

#define FERRYD_TYPE_PEER_CLIENT (ferryd_peer_client_get_type ())
G_DECLARE_FINAL_TYPE (FerrydPeerClient, ferryd_peer_client, FERRYD, PEER_CLIENT, GObject)

/* Connect to @destination (see ferryd_peer_connect_async()) and make the
 * proxy; calls other than Abort time out after @timeout_ms. The client
 * emits "closed" when the link to the destination closes, and
 * "vanished" when the destination ferryd leaves a bus that stays (its
 * process died, say; a new one may take the name again). */
void ferryd_peer_client_new_async (const char *destination,
                                   int timeout_ms,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
/* The same over an open @connection: a message bus (the destination is
 * FERRY_BUS_NAME there) or a peer-to-peer link to the destination. */
void ferryd_peer_client_new_for_connection_async (GDBusConnection *connection,
                                                  int timeout_ms,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
/* Finishes either of the two. */
FerrydPeerClient *ferryd_peer_client_new_finish (GAsyncResult *result, GError **error);

/* Close the link (the destination sees the source leave). */
void ferryd_peer_client_close (FerrydPeerClient *self);

/* Hello: returns the destination's a{sv} (floating-free, full). */
void ferryd_peer_client_hello_async (FerrydPeerClient *self,
                                     GVariant *source_info,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GVariant *
ferryd_peer_client_hello_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error);

/* Prepare: returns the destination's handle of the new incoming
 * migration (to pass to finish and abort) and its a{sv} in @out_info. */
void ferryd_peer_client_prepare_async (FerrydPeerClient *self,
                                       const char *domain_name,
                                       const char *persistent_description,
                                       const char *live_description,
                                       GVariant *options,
                                       GVariant *source_info,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
char *ferryd_peer_client_prepare_finish (FerrydPeerClient *self,
                                         GAsyncResult *result,
                                         GVariant **out_info,
                                         GError **error);

/* Finish: returns the destination's a{sv}. */
void ferryd_peer_client_finish_async (FerrydPeerClient *self,
                                      const char *migration,
                                      gboolean source_completed,
                                      GVariant *statistics,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
GVariant *
ferryd_peer_client_finish_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error);

/* Abort: times out after FERRYD_PEER_ABORT_TIMEOUT_MS. */
void ferryd_peer_client_abort_async (FerrydPeerClient *self,
                                     const char *migration,
                                     const char *reason,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean
ferryd_peer_client_abort_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error);

/* Recover: the destination listens for a resumed post-copy stream on
 * @uri (empty: an address it picks); returns where the source connects. */
void ferryd_peer_client_recover_async (FerrydPeerClient *self,
                                       const char *migration,
                                       const char *uri,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
char *
ferryd_peer_client_recover_finish (FerrydPeerClient *self, GAsyncResult *result, GError **error);

G_END_DECLS
