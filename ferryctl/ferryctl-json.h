/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-json.h: GVariant to JSON for ferryctl --json */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Dictionaries with string keys become objects, other containers arrays,
 * variants are unwrapped, 64-bit integers stay exact numbers. */
void ferryctl_json_append (GString *out, GVariant *value);

/* Print @value (floating references are sunk) as one line of JSON. */
void ferryctl_json_print (GVariant *value);

G_END_DECLS
