/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-compat.h: helpers from newer GLib than Debian 12's 2.74 */
#pragma once

#include <glib.h>

#if !GLIB_CHECK_VERSION(2, 76, 0)
static inline gboolean
g_set_str (char **str_pointer, const char *new_str)
{
  char *copy;

  if (*str_pointer == new_str || (*str_pointer && new_str && strcmp (*str_pointer, new_str) == 0))
    return FALSE;
  copy = g_strdup (new_str);
  g_free (*str_pointer);
  *str_pointer = copy;
  return TRUE;
}
#endif
