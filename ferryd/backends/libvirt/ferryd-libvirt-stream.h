/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-stream.h: the source's half of a libvirt migration:
 * libvirt's peer-to-peer virDomainMigrateToURI3 carries the protocol,
 * Ferry follows it through job statistics and events */
#pragma once

#include <libvirt/libvirt.h>

#include "ferryd-stream.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_LIBVIRT_STREAM (ferryd_libvirt_stream_get_type ())
G_DECLARE_FINAL_TYPE (FerrydLibvirtStream, ferryd_libvirt_stream, FERRYD, LIBVIRT_STREAM, GObject)

/* A stream for @domain (@uuid) on @conn (NULL: libvirt is not reachable;
 * the stream then fails at Begin). */
FerrydLibvirtStream *ferryd_libvirt_stream_new (virConnectPtr conn, const char *uuid);
/* The stream of a migration of @dom that libvirt runs already, started
 * by a ferryd before this one (its end is read from libvirt's job). */
FerrydLibvirtStream *
ferryd_libvirt_stream_new_running (virConnectPtr conn, const char *uuid, virDomainPtr dom);
const char *ferryd_libvirt_stream_get_uuid (FerrydLibvirtStream *self);

/* libvirt's events for the stream's domain (the backend dispatches). */
void ferryd_libvirt_stream_lifecycle (FerrydLibvirtStream *self, int event, int detail);
void ferryd_libvirt_stream_iteration (FerrydLibvirtStream *self, int iteration);
void ferryd_libvirt_stream_job_completed (FerrydLibvirtStream *self,
                                          virTypedParameterPtr params,
                                          int n_params);

G_END_DECLS
