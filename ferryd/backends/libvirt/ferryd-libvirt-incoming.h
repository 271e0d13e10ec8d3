/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-incoming.h: the destination's half of a libvirt
 * migration: libvirt brings the domain here on its own (peer-to-peer,
 * the source's libvirtd calls this host's); Ferry follows it from this
 * connection's events */
#pragma once

#include <libvirt/libvirt.h>

#include "ferryd-stream.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_LIBVIRT_INCOMING (ferryd_libvirt_incoming_get_type ())
G_DECLARE_FINAL_TYPE (
    FerrydLibvirtIncoming, ferryd_libvirt_incoming, FERRYD, LIBVIRT_INCOMING, GObject)

/* The incoming migration of domain @uuid on @conn, whose QEMU libvirt
 * just started for it (STARTED/MIGRATED). */
FerrydLibvirtIncoming *ferryd_libvirt_incoming_new (virConnectPtr conn, const char *uuid);
const char *ferryd_libvirt_incoming_get_uuid (FerrydLibvirtIncoming *self);
/* Whether the engine was told about it (ferryd_backend_emit_incoming_migration). */
gboolean ferryd_libvirt_incoming_get_announced (FerrydLibvirtIncoming *self);
void ferryd_libvirt_incoming_set_announced (FerrydLibvirtIncoming *self);
/* Whether it ended (completed, failed): the backend then lets it go. */
gboolean ferryd_libvirt_incoming_has_ended (FerrydLibvirtIncoming *self);

/* What this host's libvirt shows of the domain: the guest waits paused
 * for its memory; life-cycle events; the completed job. */
void ferryd_libvirt_incoming_receiving (FerrydLibvirtIncoming *self);
void ferryd_libvirt_incoming_lifecycle (FerrydLibvirtIncoming *self, int event, int detail);
void ferryd_libvirt_incoming_job_completed (FerrydLibvirtIncoming *self,
                                            virTypedParameterPtr params,
                                            int n_params);
/* The connection to libvirtd is gone: so is what Ferry can follow. */
void ferryd_libvirt_incoming_lost (FerrydLibvirtIncoming *self, const char *why);

G_END_DECLS
