/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp.h: an asynchronous QEMU Machine Protocol client
 *
 * Protocol only: greeting, capability negotiation, commands with ids,
 * replies and events interleaved on one socket. No migration policy here.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define FERRYD_QMP_ERROR (ferryd_qmp_error_quark ())

typedef enum
{
  FERRYD_QMP_ERROR_COMMAND,  /* QEMU answered {"error": ...} */
  FERRYD_QMP_ERROR_PROTOCOL, /* malformed or unexpected data */
  FERRYD_QMP_ERROR_CLOSED,   /* the connection is gone */
} FerrydQmpError;

GQuark ferryd_qmp_error_quark (void);

#define FERRYD_TYPE_QMP (ferryd_qmp_get_type ())
G_DECLARE_FINAL_TYPE (FerrydQmp, ferryd_qmp, FERRYD, QMP, GObject)

void ferryd_qmp_connect_async (const char *socket_path,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
FerrydQmp *ferryd_qmp_connect_finish (GAsyncResult *result, GError **error);

void ferryd_qmp_execute_async (FerrydQmp *self,
                               const char *command,
                               JsonObject *arguments,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
JsonNode *ferryd_qmp_execute_finish (FerrydQmp *self, GAsyncResult *result, GError **error);

/* Fire and forget: errors are logged at debug level. */
void ferryd_qmp_send (FerrydQmp *self, const char *command, JsonObject *arguments);

/* The pid of the process at the other end of the socket (0 if unknown). */
GPid ferryd_qmp_get_peer_pid (FerrydQmp *self);

gboolean ferryd_qmp_is_closed (FerrydQmp *self);
void ferryd_qmp_close (FerrydQmp *self);

G_END_DECLS
