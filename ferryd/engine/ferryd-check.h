/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-check.h: the judgements of Check's report (DESIGN §2): what
 * cannot combine, whether the destination has room for the disks, and
 * how long the migration and its pause will take. Pure functions over
 * neutral figures: no objects, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Why options that each exist cannot be combined on QEMU 10.0, or NULL. */
char *ferryd_check_combination_blocker (gboolean multifd, gboolean postcopy);

/* The destination's room for the images of the copied disks: @allocated
 * is what the source's images hold (the copy writes as much), @virtual_size
 * what they may grow to, @free the destination's free bytes. A blocker
 * when the data does not fit, a warning when the disks could not grow to
 * their size there; NULL for either when none. */
void ferryd_check_space (
    guint64 allocated, guint64 virtual_size, guint64 free, char **blocker, char **warning);

/* What Check estimates for pre-copy: @memory and @disk bytes over a link
 * of @bandwidth B/s while the guest dirties @dirty_rate B/s (0 = not
 * measured: an idle guest), switching over once what is left fits
 * @downtime_limit ms. Times in ms, 0 = unknown (it would not finish).
 * @warning says why when it would not. */
typedef struct
{
  guint64 time;
  guint64 downtime;
  char *warning;
} FerrydCheckEstimate;

void ferryd_check_estimate_clear (FerrydCheckEstimate *estimate);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FerrydCheckEstimate, ferryd_check_estimate_clear)

/* What a destination QEMU takes to start, in ms: the allowance Check
 * adds to every estimate (measured here for idle migrations). */
#define FERRYD_CHECK_STARTUP_MS G_GUINT64_CONSTANT (80)

void ferryd_check_estimate (guint64 memory,
                            guint64 disk,
                            guint64 dirty_rate,
                            guint64 bandwidth,
                            guint64 downtime_limit,
                            FerrydCheckEstimate *estimate);

G_END_DECLS
