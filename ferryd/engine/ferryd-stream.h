/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-stream.h: the backend's half of one migration
 *
 * A backend (ferryd-backend.h) opens a FerrydStream for each migration;
 * the engine drives the five phases and calls the stream for what the
 * hypervisor does: on the source, start the stream with its tuning,
 * cancel it, switch to post-copy, pause the guest, resume it after a
 * failure; on the destination, prepare to receive (and report the data
 * address), resume the arrived guest, hand it to its domain. What the
 * hypervisor reports comes back through the signals below and
 * ferryd_stream_query_async(), in the neutral terms of ferryd-progress.h.
 */
#pragma once

#include <gio/gio.h>

#include "ferryd-domain.h"
#include "ferryd-options.h"
#include "ferryd-progress.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_STREAM (ferryd_stream_get_type ())
G_DECLARE_INTERFACE (FerrydStream, ferryd_stream, FERRYD, STREAM, GObject)

/* The tuning a source stream starts with. Sizes in bytes, rates in
 * bytes/s, times in ms; 0 = the backend's default where noted. */
typedef struct
{
  const char *uri;              /* where the destination listens */
  const char *const *features;  /* the negotiated features (FerrydMigration) */
  guint64 max_bandwidth;        /* 0 = unlimited */
  guint64 switchover_bandwidth; /* 0 = the backend's estimate */
  guint64 downtime_limit;
  guint64 max_postcopy_bandwidth; /* 0 = unlimited */
  guint multifd_channels;         /* 0 = one stream */
  const char *compression;        /* "none" or a method */
  const char *tls_dir;            /* TLS with the x509 files there; NULL = clear */
  /* Storage copy: where the destination serves its disks (NULL = no
   * copy), which ones (NULL = all), only the top image (incremental),
   * and whether guest writes wait for the destination (synchronous). */
  const char *storage_uri;
  const char *const *disks;
  gboolean incremental;
  gboolean synchronous_writes;
  /* All the options, and where to, for a stream that runs the protocol
   * itself (ferryd_stream_runs_protocol()) */
  const FerrydMigrateOptions *options;
  const char *destination;
} FerrydStreamTuning;

/* What a destination stream prepares for. */
typedef struct
{
  const FerrydDomainConfig *live; /* what runs on the source */
  const char *const *features;
  const char *data_host;  /* where the source will connect */
  const char *listen_uri; /* the operator's address, or NULL */
  guint multifd_channels;
  const char *compression;
  const char *tls_dir; /* TLS with the x509 files there; NULL = clear */
  /* Storage copy: create the disks (NULL = all) here and serve them to
   * the source; nothing is copied when FALSE. */
  gboolean copy_storage;
  gboolean incremental; /* only the top images: over the backing files here */
  const char *const *disks;
} FerrydStreamIncoming;

typedef enum
{
  FERRYD_STREAM_CONTROL_DOWNTIME,  /* value: ms */
  FERRYD_STREAM_CONTROL_BANDWIDTH, /* value: bytes/s, 0 = unlimited */
  FERRYD_STREAM_CONTROL_PAUSE,     /* post-copy: pause the stream */
} FerrydStreamControl;

struct _FerrydStreamInterface
{
  GTypeInterface g_iface;

  /* Both sides */
  gboolean (*is_alive) (FerrydStream *self); /* the guest's process runs */
  void (*terminate) (FerrydStream *self);    /* stop the guest's process now */
  void (*query_async) (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*query_finish) (FerrydStream *self,
                            GAsyncResult *result,
                            FerrydProgress *progress,
                            char **error_message,
                            GError **error);

  /* Source */
  void (*begin_async) (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data);
  FerrydDomainConfig *(*begin_finish) (FerrydStream *self, GAsyncResult *result, GError **error);
  void (*start_async) (FerrydStream *self,
                       const FerrydStreamTuning *tuning,
                       GAsyncReadyCallback callback,
                       gpointer user_data);
  gboolean (*start_finish) (FerrydStream *self, GAsyncResult *result, GError **error);
  void (*cancel) (FerrydStream *self);
  void (*start_postcopy) (FerrydStream *self);
  void (*stop_guest) (FerrydStream *self);
  gboolean (*can_resume) (FerrydStream *self);
  void (*resume_async) (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*resume_finish) (FerrydStream *self, GAsyncResult *result, GError **error);
  void (*control_async) (FerrydStream *self,
                         FerrydStreamControl control,
                         guint64 value,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
  gboolean (*control_finish) (FerrydStream *self, GAsyncResult *result, GError **error);
  /* Post-copy recovery (optional: NULL is NotSupported). On the source:
   * resume the paused stream over @uri, where the destination listens. */
  void (*recover_async) (FerrydStream *self,
                         const char *uri,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
  gboolean (*recover_finish) (FerrydStream *self, GAsyncResult *result, GError **error);

  /* Destination */
  void (*prepare_async) (FerrydStream *self,
                         const FerrydStreamIncoming *incoming,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
  char *(*prepare_finish) (FerrydStream *self, GAsyncResult *result, GError **error);
  /* After a prepare that copies storage: where the source sends it. */
  char *(*get_storage_uri) (FerrydStream *self);
  void (*resume_incoming) (FerrydStream *self);
  void (*adopt) (FerrydStream *self, FerrydDomain *domain);
  /* Post-copy recovery on the destination (optional): listen for the
   * resumed stream on @uri, or on a fresh port of @data_host (where the
   * source connects; NULL: where the first channel was) when @uri is
   * NULL; finishes with the address the source must use. */
  void (*listen_recover_async) (FerrydStream *self,
                                const char *uri,
                                const char *data_host,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
  char *(*listen_recover_finish) (FerrydStream *self, GAsyncResult *result, GError **error);

  /* Optional: TRUE for a source stream whose hypervisor carries the
   * whole protocol to the destination itself (libvirt's peer-to-peer
   * migration): the engine then talks to no destination ferryd, starts
   * the stream right after Begin, and follows Perform, Finish and
   * Confirm from the stream's status. NULL = FALSE. */
  gboolean (*runs_protocol) (FerrydStream *self);
};

/* Signals:
 *   status-changed (FerrydStreamStatus status, gint64 ts_us)
 *   pass (guint pass)                  a new pass over memory began
 *   stopped (gint64 ts_us)             the guest's CPUs stopped
 *   resumed (gint64 ts_us)             ... and ran again
 *   crashed (const char *reason)       the guest crashed; kept, paused
 *   exited ()                          the guest's process is gone
 */

gboolean ferryd_stream_is_alive (FerrydStream *self);
void ferryd_stream_terminate (FerrydStream *self);
void
ferryd_stream_query_async (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean ferryd_stream_query_finish (FerrydStream *self,
                                     GAsyncResult *result,
                                     FerrydProgress *progress,
                                     char **error_message,
                                     GError **error);

void
ferryd_stream_begin_async (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data);
FerrydDomainConfig *
ferryd_stream_begin_finish (FerrydStream *self, GAsyncResult *result, GError **error);
void ferryd_stream_start_async (FerrydStream *self,
                                const FerrydStreamTuning *tuning,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean ferryd_stream_start_finish (FerrydStream *self, GAsyncResult *result, GError **error);
void ferryd_stream_cancel (FerrydStream *self);
void ferryd_stream_start_postcopy (FerrydStream *self);
void ferryd_stream_stop_guest (FerrydStream *self);
gboolean ferryd_stream_can_resume (FerrydStream *self);
void
ferryd_stream_resume_async (FerrydStream *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean ferryd_stream_resume_finish (FerrydStream *self, GAsyncResult *result, GError **error);
void ferryd_stream_control_async (FerrydStream *self,
                                  FerrydStreamControl control,
                                  guint64 value,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean ferryd_stream_control_finish (FerrydStream *self, GAsyncResult *result, GError **error);
void ferryd_stream_recover_async (FerrydStream *self,
                                  const char *uri,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean ferryd_stream_recover_finish (FerrydStream *self, GAsyncResult *result, GError **error);

void ferryd_stream_prepare_async (FerrydStream *self,
                                  const FerrydStreamIncoming *incoming,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
char *ferryd_stream_prepare_finish (FerrydStream *self, GAsyncResult *result, GError **error);
char *ferryd_stream_get_storage_uri (FerrydStream *self);
void ferryd_stream_resume_incoming (FerrydStream *self);
gboolean ferryd_stream_runs_protocol (FerrydStream *self);
void ferryd_stream_adopt (FerrydStream *self, FerrydDomain *domain);
void ferryd_stream_listen_recover_async (FerrydStream *self,
                                         const char *uri,
                                         const char *data_host,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
char *
ferryd_stream_listen_recover_finish (FerrydStream *self, GAsyncResult *result, GError **error);

/* For implementations: emit the signals. */
void ferryd_stream_emit_status (FerrydStream *self, FerrydStreamStatus status, gint64 ts);
void ferryd_stream_emit_pass (FerrydStream *self, guint pass);
void ferryd_stream_emit_stopped (FerrydStream *self, gint64 ts);
void ferryd_stream_emit_resumed (FerrydStream *self, gint64 ts);
void ferryd_stream_emit_crashed (FerrydStream *self, const char *reason);
void ferryd_stream_emit_exited (FerrydStream *self);

G_END_DECLS
