/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-recover.h: post-copy recovery over QMP
 *
 * When the data link of a post-copy migration breaks, both QEMUs stop in
 * postcopy-paused: the destination waits for pages only the source has.
 * Recovery opens a new channel: migrate-recover on the destination (it
 * listens), then migrate with resume=true on the source (it connects).
 */
#pragma once

#include "ferryd-qmp.h"

G_BEGIN_DECLS

/* Destination: listen for the resumed stream on @uri, or on a fresh port
 * of @data_host when @uri is NULL. Finishes with the address the source
 * must connect to. */
void ferryd_qmp_recover_listen_async (FerrydQmp *qmp,
                                      const char *uri,
                                      const char *data_host,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
char *ferryd_qmp_recover_listen_finish (FerrydQmp *qmp, GAsyncResult *result, GError **error);

/* Source: resume the paused stream over @uri. */
void ferryd_qmp_recover_resume_async (FerrydQmp *qmp,
                                      const char *uri,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean ferryd_qmp_recover_resume_finish (FerrydQmp *qmp, GAsyncResult *result, GError **error);

G_END_DECLS
