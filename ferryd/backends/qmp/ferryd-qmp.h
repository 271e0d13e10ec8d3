/* ferry-qmp.h: an asynchronous QEMU Machine Protocol client
 *
 * Protocol only: greeting, capability negotiation, commands with ids,
 * replies and events interleaved on one socket. No migration policy here.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define FERRY_QMP_ERROR (ferry_qmp_error_quark ())

typedef enum
{
  FERRY_QMP_ERROR_COMMAND,  /* QEMU answered {"error": ...} */
  FERRY_QMP_ERROR_PROTOCOL, /* malformed or unexpected data */
  FERRY_QMP_ERROR_CLOSED,   /* the connection is gone */
} FerryQmpError;

GQuark ferry_qmp_error_quark (void);

#define FERRY_TYPE_QMP (ferry_qmp_get_type ())
G_DECLARE_FINAL_TYPE (FerryQmp, ferry_qmp, FERRY, QMP, GObject)

void ferry_qmp_connect_async (const char *socket_path,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
FerryQmp *ferry_qmp_connect_finish (GAsyncResult *result, GError **error);

void ferry_qmp_execute_async (FerryQmp *self,
                              const char *command,
                              JsonObject *arguments,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
JsonNode *ferry_qmp_execute_finish (FerryQmp *self, GAsyncResult *result, GError **error);

/* Fire and forget: errors are logged at debug level. */
void ferry_qmp_send (FerryQmp *self, const char *command, JsonObject *arguments);

/* The pid of the process at the other end of the socket (0 if unknown). */
GPid ferry_qmp_get_peer_pid (FerryQmp *self);

gboolean ferry_qmp_is_closed (FerryQmp *self);
void ferry_qmp_close (FerryQmp *self);

G_END_DECLS
