/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-report.h: the output of list, show and check */
#pragma once

#include <glib.h>

#include <ferry/ferry.h>

G_BEGIN_DECLS

/* @domains: FerryDomains, @migrations: FerryMigrations, in the order to show. */
void ferryctl_report_list (GList *domains, GList *migrations, gboolean json);
void ferryctl_report_show (FerryMigration *migration, gboolean json);
/* Returns the report's "ok". */
gboolean ferryctl_report_check (GVariant *report, gboolean json);
/* Where a new migration is, for migrate --no-wait. */
void ferryctl_report_started (const char *path, gboolean following, gboolean json);

G_END_DECLS
