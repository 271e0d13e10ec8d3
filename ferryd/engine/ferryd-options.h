/* ferry-options.h: the migration options a{sv} of the D-Bus API, validated */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest rate QEMU takes in its JSON (an int64), in bytes/s, and its
 * longest downtime limit, in ms. Larger values are refused, never wrapped. */
#define FERRY_MAX_BANDWIDTH ((guint64) G_MAXINT64)
#define FERRY_MAX_DOWNTIME_MS G_GUINT64_CONSTANT (2000000)

typedef enum
{
  FERRY_POSTCOPY_OFF,
  FERRY_POSTCOPY_MANUAL,
  FERRY_POSTCOPY_AUTO,
} FerryPostcopyMode;

typedef enum
{
  FERRY_COPY_STORAGE_NONE,
  FERRY_COPY_STORAGE_ALL,
  FERRY_COPY_STORAGE_INCREMENTAL,
} FerryCopyStorage;

typedef struct
{
  gboolean live;
  FerryPostcopyMode postcopy;
  guint64 max_bandwidth;          /* bytes/s, 0 = unlimited */
  guint64 max_postcopy_bandwidth; /* bytes/s, 0 = unlimited */
  guint64 switchover_bandwidth;   /* bytes/s, 0 = Ferry's default */
  guint64 max_downtime;           /* ms, 0 = Ferry's default */
  gboolean auto_converge;
  guint32 multifd_channels; /* 0 = off */
  char *compression;
  FerryCopyStorage copy_storage;
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
} FerryMigrateOptions;

FerryMigrateOptions *ferry_migrate_options_parse (GVariant *options, GError **error);
void ferry_migrate_options_free (FerryMigrateOptions *options);
const char *ferry_postcopy_mode_to_string (FerryPostcopyMode mode);
/* tcp:HOST:PORT (HOST a name, an IPv4 address or [an IPv6 address]) */
gboolean ferry_migrate_uri_parse (const char *uri, char **host, guint16 *port);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerryMigrateOptions, ferry_migrate_options_free)

G_END_DECLS
