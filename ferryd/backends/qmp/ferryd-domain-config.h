/* ferry-domain-config.h: the keyfile description of a QMP-backend domain */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *id;     /* from the group name "[Disk <id>]" */
  char *path;   /* as written; relative paths resolve against <state-dir>/images */
  char *format; /* raw or qcow2 */
} FerryDiskConfig;

/* The accelerator a guest runs with. AUTO resolves to KVM or TCG when
 * the guest starts; a running guest's live description always names the
 * one in use, so its destination runs it the same way. */
typedef enum
{
  FERRY_ACCEL_AUTO,
  FERRY_ACCEL_KVM,
  FERRY_ACCEL_TCG,
} FerryAccel;

typedef struct
{
  char *name;
  char *uuid;
  guint memory_mib;
  guint cpus;
  char *machine;
  char *cpu_model;
  FerryAccel accel;
  char *kernel;
  char *append;
  GPtrArray *disks; /* of FerryDiskConfig */
  char *qemu_binary;
  GStrv extra_args;
} FerryDomainConfig;

FerryDomainConfig *ferry_domain_config_parse (const char *description, GError **error);
char *ferry_domain_config_to_data (const FerryDomainConfig *config);
FerryDomainConfig *ferry_domain_config_copy (const FerryDomainConfig *config);
void ferry_domain_config_free (FerryDomainConfig *config);
gboolean ferry_domain_name_is_valid (const char *name);
const char *ferry_accel_to_string (FerryAccel accel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerryDomainConfig, ferry_domain_config_free)

G_END_DECLS
