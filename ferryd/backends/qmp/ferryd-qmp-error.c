/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-error.c: the QMP backend's errors at its boundary
 *
 * The engine and the D-Bus layer know FERRY_ERROR (and GLib's domains,
 * which common/ converts); a QMP error becomes Failed, its message kept
 * after "QEMU: " so the operator sees what QEMU said.
 */
#define G_LOG_DOMAIN "ferry-qmp"

#include "ferryd-qmp-error.h"
#include "ferry-error.h"
#include "ferryd-qmp.h"

GError *
ferryd_qmp_error_to_ferry (GError *error)
{
  GError *converted;

  if (error == NULL || error->domain != FERRYD_QMP_ERROR)
    return error;
  converted = g_error_new (FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU: %s", error->message);
  g_error_free (error);
  return converted;
}

gboolean
ferryd_qmp_propagate_boolean (GTask *task, GError **error)
{
  GError *local = NULL;
  gboolean ok = g_task_propagate_boolean (task, &local);

  if (local)
    g_propagate_error (error, ferryd_qmp_error_to_ferry (local));
  return ok;
}

gpointer
ferryd_qmp_propagate_pointer (GTask *task, GError **error)
{
  GError *local = NULL;
  gpointer result = g_task_propagate_pointer (task, &local);

  if (local)
    g_propagate_error (error, ferryd_qmp_error_to_ferry (local));
  return result;
}
