/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-format.h: human-readable sizes, rates, durations and values */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *ferryctl_format_bytes (guint64 bytes);      /* "64.0 MiB" */
char *ferryctl_format_rate (guint64 bytes_per_s); /* "123.4 MiB/s" */
char *ferryctl_format_ms (guint64 ms);            /* "850 ms", "1.2 s", "2 min 03 s" */
char *ferryctl_format_timestamp (guint64 usec);   /* local ISO 8601 with ms */

/* A value of a statistics/report dictionary, in the unit its key implies
 * (DESIGN §2: times in ms, sizes in bytes, rates in bytes/s). */
char *ferryctl_format_stat (const char *key, GVariant *value);

/* Any value: strings unquoted, string arrays comma-separated, the rest in
 * GVariant text format. */
char *ferryctl_format_value (GVariant *value);

G_END_DECLS
