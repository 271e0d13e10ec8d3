/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-bus.h: the D-Bus layer: exports the host, its domains and
 * migrations, authorizes each call and hands it to the engine */
#pragma once

#include <gio/gio.h>

#include "ferry-names.h"

#include "ferryd-auth.h"
#include "ferryd-daemon.h"
#include "ferryd-engine.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_BUS (ferryd_bus_get_type ())
G_DECLARE_FINAL_TYPE (FerrydBus, ferryd_bus, FERRYD, BUS, GObject)

FerrydBus *ferryd_bus_new (GDBusConnection *connection,
                           FerrydDaemon *daemon,
                           FerrydEngine *engine,
                           FerrydAuthority *authority,
                           GError **error);

/* Serve the Peer interface, and nothing else, on @connection: a link
 * from ferryd's TLS peer listener, whose peer's certificate has subject
 * @subject. Ends when the link closes. */
void ferryd_bus_add_tls_peer (FerrydBus *self, GDBusConnection *connection, const char *subject);

G_END_DECLS
