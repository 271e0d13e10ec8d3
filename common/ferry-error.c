/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-error.c: the error domain and the conversion of foreign errors
 *
 * Every error that leaves ferryd over D-Bus goes through
 * ferry_error_to_dbus(); a backend converts its own domains to
 * FERRY_ERROR before its errors leave it, so callers only ever see
 * org.ferryvm.Ferry1.Error.* (or the bus' own AccessDenied for
 * authorization).
 */
#define G_LOG_DOMAIN "ferry-error"

#include "ferry-error.h"
#include "ferry-names.h"

static const GDBusErrorEntry ferry_error_entries[] = {
  { FERRY_ERROR_FAILED, FERRY_ERROR_NAME_PREFIX "Failed" },
  { FERRY_ERROR_INVALID_ARGUMENT, FERRY_ERROR_NAME_PREFIX "InvalidArgument" },
  { FERRY_ERROR_NOT_FOUND, FERRY_ERROR_NAME_PREFIX "NotFound" },
  { FERRY_ERROR_NOT_SUPPORTED, FERRY_ERROR_NAME_PREFIX "NotSupported" },
  { FERRY_ERROR_BUSY, FERRY_ERROR_NAME_PREFIX "Busy" },
  { FERRY_ERROR_PEER_UNREACHABLE, FERRY_ERROR_NAME_PREFIX "PeerUnreachable" },
  { FERRY_ERROR_PEER_REFUSED, FERRY_ERROR_NAME_PREFIX "PeerRefused" },
  { FERRY_ERROR_MIGRATION_FAILED, FERRY_ERROR_NAME_PREFIX "MigrationFailed" },
  { FERRY_ERROR_CANCELLED, FERRY_ERROR_NAME_PREFIX "Cancelled" },
  { FERRY_ERROR_NOT_AUTHORIZED, FERRY_ERROR_NAME_PREFIX "NotAuthorized" },
};

/**
 * ferry_error_quark:
 *
 * The quark of the %FERRY_ERROR domain. Its codes are registered with
 * GDBus, so `org.ferryvm.Ferry1.Error.*` replies become #FerryError codes.
 *
 * Returns: the error domain quark
 */
GQuark
ferry_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("ferry-error-quark", &quark, ferry_error_entries,
                                      G_N_ELEMENTS (ferry_error_entries));
  return (GQuark) quark;
}

/**
 * ferry_error_get_dbus_name:
 * @error: a #GError
 *
 * The D-Bus error name of an error in the %FERRY_ERROR domain, e.g.
 * `org.ferryvm.Ferry1.Error.NotFound` for %FERRY_ERROR_NOT_FOUND (and
 * `org.ferryvm.Ferry1.Error.NotAuthorized` for every authorization
 * failure), for programs that show or log the names of the D-Bus API.
 *
 * Returns: (nullable): the D-Bus error name, or %NULL for an error of
 *   another domain
 */
const char *
ferry_error_get_dbus_name (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != FERRY_ERROR)
    return NULL;
  return ferry_error_to_dbus_name ((FerryError) error->code);
}

const char *
ferry_error_to_dbus_name (FerryError code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (ferry_error_entries); i++)
    if (ferry_error_entries[i].error_code == (gint) code)
      return ferry_error_entries[i].dbus_error_name;
  return FERRY_ERROR_NAME_PREFIX "Failed";
}

FerryError
ferry_error_from_dbus_name (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (ferry_error_entries); i++)
    if (g_strcmp0 (ferry_error_entries[i].dbus_error_name, name) == 0)
      return (FerryError) ferry_error_entries[i].error_code;
  return FERRY_ERROR_FAILED;
}

static FerryError
code_for_io_error (gint code)
{
  switch (code)
    {
    case G_IO_ERROR_NOT_FOUND:
      return FERRY_ERROR_NOT_FOUND;
    case G_IO_ERROR_INVALID_ARGUMENT:
    case G_IO_ERROR_INVALID_DATA:
      return FERRY_ERROR_INVALID_ARGUMENT;
    case G_IO_ERROR_NOT_SUPPORTED:
      return FERRY_ERROR_NOT_SUPPORTED;
    case G_IO_ERROR_BUSY:
    case G_IO_ERROR_EXISTS:
      return FERRY_ERROR_BUSY;
    case G_IO_ERROR_CANCELLED:
      return FERRY_ERROR_CANCELLED;
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_HOST_NOT_FOUND:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
      return FERRY_ERROR_PEER_UNREACHABLE;
    default:
      return FERRY_ERROR_FAILED;
    }
}

/* Returns a new error in FERRY_ERROR (or the D-Bus domain for errors
 * that already are D-Bus errors, e.g. AccessDenied) suitable for
 * g_dbus_method_invocation_return_gerror(). */
GError *
ferry_error_to_dbus (const GError *error)
{
  if (error->domain == FERRY_ERROR || error->domain == G_DBUS_ERROR)
    return g_error_copy (error);

  if (g_dbus_error_is_remote_error (error))
    {
      /* An error relayed from a peer ferryd keeps its name. */
      g_autofree char *name = g_dbus_error_get_remote_error (error);
      g_autoptr (GError) copy = g_error_copy (error);

      g_dbus_error_strip_remote_error (copy);
      if (g_str_has_prefix (name, FERRY_ERROR_NAME_PREFIX))
        return g_dbus_error_new_for_dbus_error (name, copy->message);
      return g_error_new (FERRY_ERROR, FERRY_ERROR_FAILED, "%s: %s", name, copy->message);
    }

  if (error->domain == G_IO_ERROR)
    return g_error_new_literal (FERRY_ERROR, code_for_io_error (error->code), error->message);

  if (error->domain == G_KEY_FILE_ERROR)
    return g_error_new_literal (FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT, error->message);

  return g_error_new_literal (FERRY_ERROR, FERRY_ERROR_FAILED, error->message);
}
