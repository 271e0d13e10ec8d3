/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-state.h: what libvirt reports (domain states, job
 * statistics, errors) in Ferry's terms */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "ferryd-progress.h"

G_BEGIN_DECLS

/* DESIGN §2's State for virDomainGetState()'s @state and @reason, and in
 * @why the reason in words ("" when nothing to say). */
const char *ferryd_libvirt_state_name (int state, int reason, const char **why);

/* A job's statistics (virDomainGetJobStats) as a FerrydProgress. */
void ferryd_libvirt_job_to_progress (const virTypedParameter *params,
                                     int n_params,
                                     int job_type,
                                     FerrydProgress *progress);

/* The last libvirt error of this thread as a GError in FERRY_ERROR with
 * @code, libvirt's message kept after @what. */
GError *ferryd_libvirt_error (int code, const char *what);
void ferryd_libvirt_set_error (GError **error, int code, const char *what);

G_END_DECLS
