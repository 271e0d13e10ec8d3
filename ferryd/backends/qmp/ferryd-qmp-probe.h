/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-probe.h: what this host's QEMU can do for a migration, asked
 * once of a QEMU that runs no guest */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The Ferry capabilities (DESIGN §2) that QEMU's own answers allow:
 * @qemu_capabilities from query-migrate-capabilities, @commands from
 * query-commands; @userfaultfd: this host lets QEMU use userfaultfd. */
GStrv ferryd_qmp_probe_map (const char *const *qemu_capabilities,
                            const char *const *commands,
                            gboolean userfaultfd);

/* The same from the lines a QEMU run with -qmp stdio printed for the
 * probe's commands (ferryd_qmp_probe_input); NULL with @error when they
 * lack an answer. */
GStrv ferryd_qmp_probe_parse (const char *output, gboolean userfaultfd, GError **error);

/* What the probe writes to QEMU's standard input. */
const char *ferryd_qmp_probe_input (void);

/* Whether QEMU on this host could use userfaultfd (post-copy). */
gboolean ferryd_qmp_probe_userfaultfd (void);

/* Runs @binary with -machine none and asks it; asynchronous, at most
 * a few seconds. */
void ferryd_qmp_probe_async (const char *binary,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
GStrv ferryd_qmp_probe_finish (GAsyncResult *result, GError **error);

G_END_DECLS
