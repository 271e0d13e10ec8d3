/* ferry-bus.h: the D-Bus layer: exports the host, its domains and
 * migrations, authorizes each call and hands it to the engine */
#pragma once

#include <gio/gio.h>

#include "ferryd-auth.h"
#include "ferryd-daemon.h"
#include "ferryd-engine.h"

G_BEGIN_DECLS

#define FERRY_OBJECT_PATH "/org/ferryvm/Ferry1"

#define FERRY_TYPE_BUS (ferry_bus_get_type ())
G_DECLARE_FINAL_TYPE (FerryBus, ferry_bus, FERRY, BUS, GObject)

FerryBus *ferry_bus_new (GDBusConnection *connection,
                         FerryDaemon *daemon,
                         FerryEngine *engine,
                         FerryAuthority *authority,
                         GError **error);

G_END_DECLS
