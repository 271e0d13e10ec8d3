/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-error.c: the conversion of the daemon's errors for D-Bus
 *
 * ferry_error_to_dbus() (common/) knows GLib's and GIO's domains; this
 * adds the daemon's own (QMP), which common/ must not know about.
 */
#include "ferryd-error.h"
#include "ferryd-qmp.h"

/* Returns a new error in FERRY_ERROR (or the D-Bus domain for errors
 * that already are D-Bus errors, e.g. AccessDenied) suitable for
 * g_dbus_method_invocation_return_gerror(). */
GError *
ferryd_error_to_dbus (const GError *error)
{
  if (error->domain == FERRYD_QMP_ERROR)
    return g_error_new (FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU: %s", error->message);

  return ferry_error_to_dbus (error);
}
