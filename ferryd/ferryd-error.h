/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-error.h: the conversion of the daemon's errors for D-Bus */
#pragma once

#include "ferry-error.h"

G_BEGIN_DECLS

GError *ferryd_error_to_dbus (const GError *error);

G_END_DECLS
