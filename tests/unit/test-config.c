/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: domain descriptions and migration options */
#define G_LOG_DOMAIN "test-config"

#include "ferryd-domain-config.h"
#include "ferryd-domain.h"
#include "ferry-error.h"
#include "ferryd-options.h"
#include "ferryd-paths.h"
#include "ferryd-qemu.h"

static void
test_config_valid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydDomainConfig) config = ferryd_domain_config_parse (
      "[Domain]\nName=demo\nMemory=256          # MiB\nCPUs=2\nMachine=q35\n"
      "Kernel=/boot/guest.elf\nAppend=dirty-mib=64 rate=20000\n"
      "[Disk vda]\nPath=demo.qcow2\nFormat=qcow2\n[QEMU]\nBinary=qemu-system-x86_64\n"
      "ExtraArgs=-device 'virtio-rng-pci'\n",
      &error);
  g_autofree char *data = NULL;
  g_autoptr (FerrydDomainConfig) again = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (config->name, ==, "demo");
  g_assert_cmpuint (config->memory_mib, ==, 256);
  g_assert_cmpuint (config->cpus, ==, 2);
  g_assert_cmpstr (config->append, ==, "dirty-mib=64 rate=20000");
  g_assert_cmpuint (config->disks->len, ==, 1);
  g_assert_cmpstr (((FerrydDiskConfig *) config->disks->pdata[0])->format, ==, "qcow2");
  g_assert_cmpstrv (config->extra_args, ((const char *[]){ "-device", "virtio-rng-pci", NULL }));
  g_assert_true (g_uuid_string_is_valid (config->uuid));

  /* The serialised form parses back to the same thing, UUID included. */
  data = ferryd_domain_config_to_data (config);
  again = ferryd_domain_config_parse (data, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->uuid, ==, config->uuid);
  g_assert_cmpstrv (again->extra_args, config->extra_args);
}

static void
test_config_invalid (void)
{
  const struct
  {
    const char *text;
    const char *mentions;
  } cases[] = {
    { "not a keyfile", "Malformed" },
    { "[Domain]\nMemory=64\n", "'Name'" },
    { "[Domain]\nName=x\n", "'Memory'" },
    { "[Domain]\nName=x\nMemory=abc\n", "'Memory'" },
    { "[Domain]\nName=x\nMemory=0\n", "'Memory'" },
    { "[Domain]\nName=x\nMemory=64\nCPUs=-1\n", "'CPUs'" },
    { "[Domain]\nName=a/b\nMemory=64\n", "'Name'" },
    { "[Domain]\nName=x\nMemory=64\nColour=red\n", "'Colour'" },
    { "[Domain]\nName=x\nMemory=64\n[Network]\n", "[Network]" },
    { "[Domain]\nName=x\nMemory=64\n[Disk d]\nFormat=raw\n", "'Path'" },
    { "[Domain]\nName=x\nMemory=64\n[Disk d]\nPath=../etc/shadow\n", "'Path'" },
    { "[Domain]\nName=x\nMemory=64\nKernel=relative.elf\n", "'Kernel'" },
    { "[Domain]\nName=x\nMemory=64\nMachine=q35,accel=kvm\n", "'Machine'" },
    { "[Domain]\nName=x\nMemory=64\nAccel=hvf\n", "'Accel'" },
    { "[Domain]\nName=x\nMemory=64\n[Disk d]\nPath=d.img\nBus=scsi\n", "'Bus'" },
    { "[Domain]\nName=x\nMemory=64\n[Disk d]\nPath=d.img\nSize=-1\n", "'Size'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (FerrydDomainConfig) config = ferryd_domain_config_parse (cases[i].text, &error);

      g_assert_null (config);
      g_assert_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].mentions) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": '%s' does not mention %s", i, error->message,
                 cases[i].mentions);
    }
}

static FerrydMigrateOptions *
parse_options (const char *text, GError **error)
{
  return ferryd_migrate_options_parse (g_variant_new_parsed (text), error);
}

static void
test_options (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydMigrateOptions) defaults = parse_options ("@a{sv} {}", &error);
  g_autoptr (FerrydMigrateOptions) options = NULL;

  g_assert_no_error (error);
  g_assert_true (defaults->live);
  g_assert_cmpint (defaults->postcopy, ==, FERRYD_POSTCOPY_OFF);
  g_assert_cmpuint (defaults->max_bandwidth, ==, 0);

  /* Integer options take any non-negative integer type. */
  options = parse_options ("{'max-bandwidth': <uint64 1048576>, 'max-downtime': <100>, "
                           "'postcopy': <'auto'>, 'multifd-channels': <uint32 0>, "
                           "'persist': <true>, 'copy-storage': <'all'>, 'disks': <['vda']>}",
                           &error);
  g_assert_no_error (error);
  g_assert_cmpuint (options->max_bandwidth, ==, 1048576);
  g_assert_cmpuint (options->max_downtime, ==, 100);
  g_assert_cmpint (options->postcopy, ==, FERRYD_POSTCOPY_AUTO);
  g_assert_true (options->persist);
  g_assert_cmpstrv (options->disks, ((const char *[]){ "vda", NULL }));
}

static void
test_options_invalid (void)
{
  const struct
  {
    const char *text;
    const char *mentions;
  } cases[] = {
    { "{'no-such': <true>}", "'no-such'" },
    { "{'max-bandwidth': <'fast'>}", "'max-bandwidth'" },
    { "{'max-bandwidth': <-1>}", "'max-bandwidth'" },
    { "{'live': <1>}", "'live'" },
    { "{'postcopy': <'sometimes'>}", "'postcopy'" },
    { "{'multifd-channels': <uint64 5000000000>}", "'multifd-channels'" },
    { "{'multifd-channels': <uint32 2>, 'postcopy': <'manual'>}", "multifd" },
    { "{'migrate-uri': <'rdma:1.2.3.4:5'>}", "'migrate-uri'" },
    { "{'disks': <'vda'>}", "'disks'" },
    /* no silent wrap-around: QEMU's JSON takes an int64 */
    { "{'max-bandwidth': <uint64 9223372036854775808>}", "'max-bandwidth'" },
    { "{'max-bandwidth': <uint64 18446744073709551615>}", "'max-bandwidth'" },
    { "{'max-postcopy-bandwidth': <uint64 9223372036854775808>}", "'max-postcopy-bandwidth'" },
    { "{'switchover-bandwidth': <uint64 9223372036854775808>}", "'switchover-bandwidth'" },
    { "{'max-downtime': <uint64 0>}", "'max-downtime'" },
    { "{'max-downtime': <uint64 2000001>}", "'max-downtime'" },
    { "{'multifd-channels': <uint32 256>}", "'multifd-channels'" },
    /* options that only mean something together with another one */
    { "{'disks': <['vda']>}", "'copy-storage'" },
    { "{'synchronous-writes': <true>}", "'copy-storage'" },
    { "{'compression': <'zstd'>}", "'multifd-channels'" },
    { "{'migrate-uri': <'tcp:127.0.0.1'>}", "'migrate-uri'" },
    { "{'migrate-uri': <'tcp:127.0.0.1:0'>}", "'migrate-uri'" },
    { "{'migrate-uri': <'tcp:127.0.0.1:65536'>}", "'migrate-uri'" },
    { "{'migrate-uri': <'tcp::4444'>}", "'migrate-uri'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (FerrydMigrateOptions) options = parse_options (cases[i].text, &error);

      g_assert_null (options);
      g_assert_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].mentions) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": '%s' does not mention %s", i, error->message,
                 cases[i].mentions);
    }
}

static void
test_options_limits (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydMigrateOptions) options =
      parse_options ("{'max-bandwidth': <uint64 9223372036854775807>, 'max-downtime': "
                     "<uint64 2000000>, 'multifd-channels': <uint32 255>, 'compression': <'zstd'>, "
                     "'migrate-uri': <'tcp:[::1]:4444'>}",
                     &error);
  g_autofree char *host = NULL;
  guint16 port = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (options->max_bandwidth, ==, G_MAXINT64);
  g_assert_cmpuint (options->max_downtime, ==, 2000000);
  g_assert_true (ferryd_migrate_uri_parse (options->migrate_uri, &host, &port));
  g_assert_cmpstr (host, ==, "[::1]");
  g_assert_cmpuint (port, ==, 4444);
}

static void
test_accel (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydDomainConfig) config =
      ferryd_domain_config_parse ("[Domain]\nName=x\nMemory=64\n", &error);
  g_autoptr (FerrydDomainConfig) tcg = NULL;
  g_autofree char *data = NULL;
  FerrydAccel resolved = FERRYD_ACCEL_AUTO;

  g_assert_no_error (error);
  g_assert_cmpint (config->accel, ==, FERRYD_ACCEL_AUTO);
  config->accel = FERRYD_ACCEL_TCG;
  data = ferryd_domain_config_to_data (config);
  tcg = ferryd_domain_config_parse (data, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tcg->accel, ==, FERRYD_ACCEL_TCG);

  /* auto picks what the host has; tcg is always there. */
  g_assert_true (ferryd_qemu_resolve_accel (FERRYD_ACCEL_AUTO, &resolved, &error));
  g_assert_cmpint (resolved, ==, ferryd_qemu_kvm_usable () ? FERRYD_ACCEL_KVM : FERRYD_ACCEL_TCG);
  g_assert_true (ferryd_qemu_resolve_accel (FERRYD_ACCEL_TCG, &resolved, &error));
  g_assert_cmpint (resolved, ==, FERRYD_ACCEL_TCG);
  if (!ferryd_qemu_kvm_usable ())
    {
      g_assert_false (ferryd_qemu_resolve_accel (FERRYD_ACCEL_KVM, &resolved, &error));
      g_assert_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED);
    }
}

static void
test_accel_blocker (void)
{
  const char *const both[] = { "kvm", "tcg", NULL };
  const char *const tcg_only[] = { "tcg", NULL };
  g_autofree char *blocker = ferryd_qemu_accel_blocker (FERRYD_ACCEL_KVM, tcg_only);

  g_assert_nonnull (blocker);
  g_assert_nonnull (strstr (blocker, "kvm"));
  g_assert_null (ferryd_qemu_accel_blocker (FERRYD_ACCEL_KVM, both));
  g_assert_null (ferryd_qemu_accel_blocker (FERRYD_ACCEL_TCG, tcg_only));
  /* unknown on either side: nothing to compare */
  g_assert_null (ferryd_qemu_accel_blocker (FERRYD_ACCEL_AUTO, tcg_only));
  g_assert_null (ferryd_qemu_accel_blocker (FERRYD_ACCEL_KVM, NULL));
}

/* Bus, Size and Backing: the disk's controller, and the virtual size
 * and backing file a live description carries to a destination that
 * copies the disk. */
static void
test_disk_keys (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydDomainConfig) config =
      ferryd_domain_config_parse ("[Domain]\nName=x\nMemory=64\nMachine=pc\nAccel=tcg\n"
                                  "[Disk a]\nPath=a.qcow2\nFormat=qcow2\nBus=ide\nSize=33554432\n"
                                  "Backing=base.qcow2\nBackingFormat=qcow2\n"
                                  "[Disk b]\nPath=/srv/b.img\n",
                                  &error);
  g_autoptr (FerrydDomainConfig) again = NULL;
  FerrydQemuLaunch launch = { "/run/x", "/var/x", FALSE, FALSE };
  g_auto (GStrv) argv = NULL;
  g_autofree char *line = NULL;
  g_autofree char *data = NULL;
  FerrydDiskConfig *a, *b;

  g_assert_no_error (error);
  a = config->disks->pdata[0];
  b = config->disks->pdata[1];
  g_assert_cmpstr (a->bus, ==, "ide");
  g_assert_cmpuint (a->size, ==, 32 << 20);
  g_assert_cmpstr (b->bus, ==, "virtio");
  g_assert_cmpuint (b->size, ==, 0);
  g_assert_cmpstr (a->backing, ==, "base.qcow2");
  g_assert_cmpstr (a->backing_format, ==, "qcow2");
  g_assert_null (b->backing);
  data = ferryd_domain_config_to_data (config);
  again = ferryd_domain_config_parse (data, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((FerrydDiskConfig *) again->disks->pdata[0])->bus, ==, "ide");
  g_assert_cmpuint (((FerrydDiskConfig *) again->disks->pdata[0])->size, ==, 32 << 20);
  g_assert_cmpstr (((FerrydDiskConfig *) again->disks->pdata[0])->backing, ==, "base.qcow2");
  g_assert_cmpstr (((FerrydDiskConfig *) again->disks->pdata[0])->backing_format, ==, "qcow2");
  g_assert_null (((FerrydDiskConfig *) again->disks->pdata[1])->backing);
  argv = ferryd_qemu_build_argv (config, &launch, 3);
  line = g_strjoinv (" ", argv);
  g_assert_nonnull (strstr (line, "driver=file,filename=/var/x/images/a.qcow2,node-name=file-a"));
  g_assert_nonnull (strstr (line, " -device ide-hd,drive=disk-a,id=a,bus=ide.0 "));
  g_assert_nonnull (strstr (line, "driver=file,filename=/srv/b.img,node-name=file-b"));
  g_assert_nonnull (strstr (line, " -device virtio-blk-pci,drive=disk-b,id=b"));
}

static void
test_argv (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydDomainConfig) config =
      ferryd_domain_config_parse ("[Domain]\nName=x\nMemory=64\nAccel=tcg\n", &error);
  FerrydQemuLaunch launch = { "/run/x", "/var/x", FALSE, FALSE };
  g_auto (GStrv) argv = NULL;
  g_autofree char *line = NULL;

  g_assert_no_error (error);
  argv = ferryd_qemu_build_argv (config, &launch, 3);
  line = g_strjoinv (" ", argv);
  /* the accelerator asked for, whatever the host has; every guest can
   * tell it panicked, and its QEMU stays for inspection */
  g_assert_nonnull (strstr (line, " -accel tcg "));
  g_assert_nonnull (strstr (line, " -device pvpanic -action panic=pause"));
}

static void
test_crash_states (void)
{
  const struct
  {
    const char *status;
    FerrydAccel accel;
    const char *log;
    const char *state;
    const char *reason;
  } cases[] = {
    { "running", FERRYD_ACCEL_KVM, NULL, "running", NULL },
    { "paused", FERRYD_ACCEL_TCG, NULL, "paused", NULL },
    { "finish-migrate", FERRYD_ACCEL_TCG, NULL, "paused", NULL },
    { "inmigrate", FERRYD_ACCEL_TCG, NULL, "inmigrate", NULL },
    { "postmigrate", FERRYD_ACCEL_TCG, NULL, "postmigrate", NULL },
    { "guest-panicked", FERRYD_ACCEL_TCG, NULL, "crashed", "guest panicked" },
    { "internal-error", FERRYD_ACCEL_KVM, "KVM internal error. Suberror: 1\nemulation failure\n",
      "crashed", "KVM internal error: emulation failure; Accel=tcg runs this guest without KVM" },
    { "internal-error", FERRYD_ACCEL_KVM, "", "crashed",
      "KVM internal error: see QEMU's log; Accel=tcg runs this guest without KVM" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *reason = NULL;
      const char *state =
          ferryd_qemu_run_state_for_status (cases[i].status, cases[i].accel, cases[i].log, &reason);
      g_assert_cmpstr (state, ==, cases[i].state);
      g_assert_cmpstr (reason, ==, cases[i].reason);
    }
}

static void
test_object_paths (void)
{
  const struct
  {
    const char *name, *path;
  } cases[] = {
    { "demo", "/org/ferryvm/Ferry1/domain/demo" },
    { "1vm", "/org/ferryvm/Ferry1/domain/_31vm" },
    { "vm1", "/org/ferryvm/Ferry1/domain/vm1" },
    { "a-b.c_d", "/org/ferryvm/Ferry1/domain/a_2db_2ec_5fd" },
    { "", "/org/ferryvm/Ferry1/domain/_" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = ferryd_domain_object_path (cases[i].name);
      g_assert_cmpstr (path, ==, cases[i].path);
      g_assert_true (g_variant_is_object_path (path));
    }
}

static void
test_migration_paths (void)
{
  const char *const not_migrations[] = {
    "/org/ferryvm/Ferry1/migration/",   "/org/ferryvm/Ferry1/migration/07",
    "/org/ferryvm/Ferry1/migration/+7", "/org/ferryvm/Ferry1/migration/7/x",
    "/org/ferryvm/Ferry1/domain/7",     "/org/ferryvm/Ferry1/migration/99999999999",
  };
  g_autofree char *path = ferryd_migration_object_path (7);
  guint id = 0;

  g_assert_cmpstr (path, ==, "/org/ferryvm/Ferry1/migration/7");
  g_assert_true (ferryd_migration_id_from_path (path, &id));
  g_assert_cmpuint (id, ==, 7);
  for (gsize i = 0; i < G_N_ELEMENTS (not_migrations); i++)
    g_assert_false (ferryd_migration_id_from_path (not_migrations[i], NULL));
}

static void
test_error_names (void)
{
  g_autoptr (GError) error = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED, "no");
  g_autofree char *name = g_dbus_error_encode_gerror (error);
  g_autoptr (GError) io = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "x");
  g_autoptr (GError) converted = ferry_error_to_dbus (io);

  g_assert_cmpstr (name, ==, "org.ferryvm.Ferry1.Error.PeerRefused");
  g_assert_error (converted, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/valid", test_config_valid);
  g_test_add_func ("/config/invalid", test_config_invalid);
  g_test_add_func ("/options/valid", test_options);
  g_test_add_func ("/options/invalid", test_options_invalid);
  g_test_add_func ("/options/limits", test_options_limits);
  g_test_add_func ("/config/accel", test_accel);
  g_test_add_func ("/qemu/argv", test_argv);
  g_test_add_func ("/config/disk-keys", test_disk_keys);
  g_test_add_func ("/qemu/accel-blocker", test_accel_blocker);
  g_test_add_func ("/qemu/crash-states", test_crash_states);
  g_test_add_func ("/domain/object-paths", test_object_paths);
  g_test_add_func ("/migration/object-paths", test_migration_paths);
  g_test_add_func ("/error/names", test_error_names);
  return g_test_run ();
}
