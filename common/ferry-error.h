/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-error.h: Ferry's error domain, mapped to org.ferryvm.Ferry1.Error.*
 *
 * Installed with libferry as <ferry/ferry-error.h>; the conversion helpers
 * at the end are for Ferry's own programs only (FERRY_COMPILATION). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * FERRY_ERROR:
 *
 * The error domain of Ferry: errors returned by ferryd
 * (`org.ferryvm.Ferry1.Error.*`) and by libferry. See #FerryError.
 */
#define FERRY_ERROR (ferry_error_quark ())

/**
 * FerryError:
 * @FERRY_ERROR_FAILED: a generic failure (`org.ferryvm.Ferry1.Error.Failed`)
 * @FERRY_ERROR_INVALID_ARGUMENT: an argument or option was not valid
 * @FERRY_ERROR_NOT_FOUND: the domain or migration does not exist
 * @FERRY_ERROR_NOT_SUPPORTED: the operation is not supported here
 * @FERRY_ERROR_BUSY: the domain is busy, e.g. already migrating
 * @FERRY_ERROR_PEER_UNREACHABLE: the destination could not be reached
 * @FERRY_ERROR_PEER_REFUSED: the destination refused the migration
 * @FERRY_ERROR_MIGRATION_FAILED: the migration failed
 * @FERRY_ERROR_CANCELLED: the migration was cancelled
 * @FERRY_ERROR_NOT_AUTHORIZED: the caller is not authorized (polkit
 *   refused, `org.freedesktop.DBus.Error.AccessDenied` or a `NotAuthorized`
 *   error)
 *
 * Error codes of the %FERRY_ERROR domain, named as the D-Bus errors of
 * the Ferry API.
 */
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
  FERRY_ERROR_NOT_AUTHORIZED,
} FerryError;

GQuark ferry_error_quark (void);

const char *ferry_error_get_dbus_name (const GError *error);

#ifndef __GI_SCANNER__
#ifdef FERRY_COMPILATION
const char *ferry_error_to_dbus_name (FerryError code);
/* The code of a D-Bus error name of the domain; FERRY_ERROR_FAILED for any
 * other name. */
FerryError ferry_error_from_dbus_name (const char *name);

GError *ferry_error_to_dbus (const GError *error);
#endif
#endif

G_END_DECLS
