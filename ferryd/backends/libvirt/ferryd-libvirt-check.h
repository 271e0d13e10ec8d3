/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-check.h: Check for a libvirt domain (blocking: run it in
 * a worker thread) */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/* The backend's part of Check's report (ferryd-backend.h check_async):
 * @conn reachable (NULL: it is not), the domain @uuid there and running,
 * and, when @may_contact, the destination libvirt at @destination: it
 * answers, is another host, has no running domain of that name, and the
 * features both libvirts support. Floating. */
GVariant *ferryd_libvirt_check_run (virConnectPtr conn,
                                    const char *uuid,
                                    const char *name,
                                    const char *destination,
                                    gboolean may_contact);

G_END_DECLS
