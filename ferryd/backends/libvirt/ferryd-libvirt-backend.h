/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-backend.h: the libvirt backend: the domains of the
 * libvirt connection named by --libvirt-uri */
#pragma once

#include "ferryd-backend.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_LIBVIRT_BACKEND (ferryd_libvirt_backend_get_type ())
G_DECLARE_FINAL_TYPE (
    FerrydLibvirtBackend, ferryd_libvirt_backend, FERRYD, LIBVIRT_BACKEND, GObject)

FerrydBackend *ferryd_libvirt_backend_new (void);

G_END_DECLS
