/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-watch.h: follow one migration until it ends */
#pragma once

#include <ferry/ferry.h>

#include "ferryctl-progress.h"

G_BEGIN_DECLS

/* Exit status when the user stops watching with Ctrl-C. */
#define FERRYCTL_EXIT_INTERRUPTED 130

/* Follows @migration (one of @client's) until it ends, ferryd or the bus
 * goes away, or the user interrupts; returns the exit status: 0
 * completed, 1 failed, cancelled or lost, FERRYCTL_EXIT_INTERRUPTED when
 * interrupted. */
int ferryctl_watch (FerryClient *client, FerryMigration *migration, FerryctlOutput output);

G_END_DECLS
