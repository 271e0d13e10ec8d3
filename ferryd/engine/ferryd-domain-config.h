/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-domain-config.h: the keyfile description of a QMP-backend domain */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *id;     /* from the group name "[Disk <id>]" */
  char *path;   /* as written; relative paths resolve against <state-dir>/images */
  char *format; /* raw or qcow2 */
  char *bus;    /* virtio (default) or ide (the test guest's ATA driver) */
  /* Bytes; only in a live description: what the destination creates
   * when storage is copied. 0 = not known. */
  guint64 size;
  /* Only in a live description too: the backing file its qcow2 header
   * names (as written there) and that file's format, so a destination
   * that copies only the top image (copy-storage=incremental) makes its
   * image over the same backing file. NULL = none. */
  char *backing;
  char *backing_format;
} FerrydDiskConfig;

/* The accelerator a guest runs with. AUTO resolves to KVM or TCG when
 * the guest starts; a running guest's live description always names the
 * one in use, so its destination runs it the same way. */
typedef enum
{
  FERRYD_ACCEL_AUTO,
  FERRYD_ACCEL_KVM,
  FERRYD_ACCEL_TCG,
} FerrydAccel;

typedef struct
{
  char *name;
  char *uuid;
  guint memory_mib;
  guint cpus;
  char *machine;
  char *cpu_model;
  FerrydAccel accel;
  char *kernel;
  char *append;
  GPtrArray *disks; /* of FerrydDiskConfig */
  char *qemu_binary;
  GStrv extra_args;
} FerrydDomainConfig;

FerrydDomainConfig *ferryd_domain_config_parse (const char *description, GError **error);
char *ferryd_domain_config_to_data (const FerrydDomainConfig *config);
FerrydDomainConfig *ferryd_domain_config_copy (const FerrydDomainConfig *config);
void ferryd_domain_config_free (FerrydDomainConfig *config);
gboolean ferryd_domain_name_is_valid (const char *name);
const char *ferryd_accel_to_string (FerrydAccel accel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerrydDomainConfig, ferryd_domain_config_free)

G_END_DECLS
