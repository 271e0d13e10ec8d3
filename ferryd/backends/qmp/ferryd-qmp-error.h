/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-error.h: the QMP backend's errors at its boundary
 *
 * What the backend hands the engine (through FerrydBackend, FerrydStream
 * and FerrydDomain) is in FERRY_ERROR: the QMP client's own domain
 * (FERRYD_QMP_ERROR) never leaves backends/qmp/.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Takes @error; returns it, or (a QMP error) a new FERRY_ERROR_FAILED
 * that names QEMU. NULL stays NULL. */
GError *ferryd_qmp_error_to_ferry (GError *error);
/* g_task_propagate_boolean()/_pointer(), with the error converted. */
gboolean ferryd_qmp_propagate_boolean (GTask *task, GError **error);
gpointer ferryd_qmp_propagate_pointer (GTask *task, GError **error);

G_END_DECLS
