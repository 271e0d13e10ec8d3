/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-options.h: the migration options a{sv} of the D-Bus API, validated */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest rate QEMU takes in its JSON (an int64), in bytes/s, and its
 * longest downtime limit, in ms. Larger values are refused, never wrapped. */
#define FERRYD_MAX_BANDWIDTH ((guint64) G_MAXINT64)
#define FERRYD_MAX_DOWNTIME_MS G_GUINT64_CONSTANT (2000000)

typedef enum
{
  FERRYD_POSTCOPY_OFF,
  FERRYD_POSTCOPY_MANUAL,
  FERRYD_POSTCOPY_AUTO,
} FerrydPostcopyMode;

typedef enum
{
  FERRYD_COPY_STORAGE_NONE,
  FERRYD_COPY_STORAGE_ALL,
  FERRYD_COPY_STORAGE_INCREMENTAL,
} FerrydCopyStorage;

typedef struct
{
  gboolean live;
  FerrydPostcopyMode postcopy;
  guint64 max_bandwidth;          /* bytes/s, 0 = unlimited */
  guint64 max_postcopy_bandwidth; /* bytes/s, 0 = unlimited */
  guint64 switchover_bandwidth;   /* bytes/s, 0 = Ferry's default */
  guint64 max_downtime;           /* ms, 0 = Ferry's default */
  gboolean auto_converge;
  guint32 multifd_channels; /* 0 = off */
  char *compression;
  FerrydCopyStorage copy_storage;
  GStrv disks;
  gboolean synchronous_writes;
  char *switchover_ack; /* auto, on, off */
  gboolean tls;
  gboolean persist;
  gboolean undefine_source;
  guint32 timeout;      /* s, 0 = none */
  char *timeout_action; /* abort, postcopy, pause */
  char *migrate_uri;

  GVariant *variant; /* the validated a{sv}, as given */
} FerrydMigrateOptions;

FerrydMigrateOptions *ferryd_migrate_options_parse (GVariant *options, GError **error);
void ferryd_migrate_options_free (FerrydMigrateOptions *options);
const char *ferryd_postcopy_mode_to_string (FerrydPostcopyMode mode);
/* tcp:HOST:PORT (HOST a name, an IPv4 address or [an IPv6 address]) */
gboolean ferryd_migrate_uri_parse (const char *uri, char **host, guint16 *port);
/* The range check an integer option (e.g. "max-bandwidth") gets when it
 * is parsed, for the same value set on a running migration. */
/* Whether the caller gave @key (defaults and given values look alike). */
gboolean ferryd_migrate_options_has (const FerrydMigrateOptions *options, const char *key);
gboolean ferryd_migrate_option_check_range (const char *key, guint64 value, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerrydMigrateOptions, ferryd_migrate_options_free)

G_END_DECLS
