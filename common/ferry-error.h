/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-error.h: Ferry's error domain, mapped to org.ferryvm.Ferry1.Error.* */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FERRY_ERROR (ferry_error_quark ())

typedef enum
{
  FERRY_ERROR_FAILED,
  FERRY_ERROR_INVALID_ARGUMENT,
  FERRY_ERROR_NOT_FOUND,
  FERRY_ERROR_NOT_SUPPORTED,
  FERRY_ERROR_BUSY,
  FERRY_ERROR_PEER_UNREACHABLE,
  FERRY_ERROR_PEER_REFUSED,
  FERRY_ERROR_MIGRATION_FAILED,
  FERRY_ERROR_CANCELLED,
} FerryError;

GQuark ferry_error_quark (void);

const char *ferry_error_to_dbus_name (FerryError code);

GError *ferry_error_to_dbus (const GError *error);

G_END_DECLS
