/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-backends.c: the one place backends are registered
 *
 * A new backend is a folder under ferryd/backends/ (its meson files and
 * a FerrydBackend implementation) plus one line in this table. The first
 * entry is the default.
 */
#define G_LOG_DOMAIN "ferry-backends"

#include "config.h"
#include "ferryd-backend.h"
#include "ferryd-qmp-backend.h"
#if HAVE_LIBVIRT
#include "ferryd-libvirt-backend.h"
#endif

const FerrydBackendEntry ferryd_backend_table[] = {
  { "qmp", ferryd_qmp_backend_new },
#if HAVE_LIBVIRT
  { "libvirt", ferryd_libvirt_backend_new },
#endif
  { NULL, NULL },
};
