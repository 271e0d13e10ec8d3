/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-auth.h: per-caller authorization of D-Bus methods through polkit */
#pragma once

#include <gio/gio.h>

#include "ferry-names.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_AUTHORITY (ferryd_authority_get_type ())
G_DECLARE_FINAL_TYPE (FerrydAuthority, ferryd_authority, FERRYD, AUTHORITY, GObject)

FerrydAuthority *ferryd_authority_new (void);

/* The action guarding interface.method, "" for an open (read-only) method,
 * NULL for a method absent from the table (always denied). */
const char *ferryd_authority_lookup_action (const char *interface, const char *method);

typedef void (*FerrydAuthorizedFunc) (gpointer object, GDBusMethodInvocation *invocation);

/* Authorize the invocation's caller for its method, then call @func with
 * @object, or answer the invocation with AccessDenied. Never blocks. The
 * caller's uid is attached to the invocation (ferryd_invocation_get_uid). */
void ferryd_authority_dispatch (FerrydAuthority *self,
                                GDBusMethodInvocation *invocation,
                                FerrydAuthorizedFunc func,
                                gpointer object);

guint32 ferryd_invocation_get_uid (GDBusMethodInvocation *invocation);
/* For a method whose table entry probes an action: whether the caller is
 * allowed it without interaction; if not, *why_not says why. */
gboolean ferryd_invocation_get_probe (GDBusMethodInvocation *invocation, const char **why_not);

G_END_DECLS
