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

G_END_DECLS
