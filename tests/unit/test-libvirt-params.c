/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ferry's migration options as virDomainMigrateToURI3's parameters:
 * every option maps exactly, and what libvirt cannot express is refused */
#include "ferry-error.h"
#include "ferryd-libvirt-params.h"
#include "ferryd-libvirt-state.h"

static FerrydMigrateOptions *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) v = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);
  FerrydMigrateOptions *options;

  g_assert_no_error (error);
  options = ferryd_migrate_options_parse (v, &error);
  g_assert_no_error (error);
  return options;
}

static void
test_defaults (void)
{
  g_autoptr (FerrydMigrateOptions) options = parse ("@a{sv} {}");
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydLibvirtMigrateParams) p = ferryd_libvirt_migrate_params_new (options, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (p->flags, ==, VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_LIVE);
  g_assert_cmpint (p->n_params, ==, 0);
}

static void
test_all (void)
{
  g_autoptr (FerrydMigrateOptions) options =
      parse ("{'max-bandwidth': <uint64 104857600>, 'max-postcopy-bandwidth': <uint64 1048576>,"
             " 'auto-converge': <true>, 'multifd-channels': <uint32 4>,"
             " 'compression': <'zstd'>, 'copy-storage': <'all'>, 'disks': <['vda']>,"
             " 'synchronous-writes': <true>, 'tls': <true>, 'persist': <true>,"
             " 'undefine-source': <true>, 'migrate-uri': <'tcp:127.0.0.1:49170'>,"
             " 'max-downtime': <uint64 80>}");
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydLibvirtMigrateParams) p = ferryd_libvirt_migrate_params_new (options, &error);
  unsigned long long ull = 0;
  const char *s = NULL;
  int i = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (p->flags, ==,
                    VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_LIVE | VIR_MIGRATE_AUTO_CONVERGE |
                        VIR_MIGRATE_PARALLEL | VIR_MIGRATE_COMPRESSED |
                        VIR_MIGRATE_NON_SHARED_DISK | VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES |
                        VIR_MIGRATE_TLS | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE);
  g_assert_cmpint (
      virTypedParamsGetULLong (p->params, p->n_params, VIR_MIGRATE_PARAM_BANDWIDTH, &ull), ==, 1);
  g_assert_cmpuint (ull, ==, 100);
  g_assert_cmpint (
      virTypedParamsGetULLong (p->params, p->n_params, VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY, &ull),
      ==, 1);
  g_assert_cmpuint (ull, ==, 1);
  g_assert_cmpint (
      virTypedParamsGetInt (p->params, p->n_params, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, &i), ==,
      1);
  g_assert_cmpint (i, ==, 4);
  g_assert_cmpint (
      virTypedParamsGetString (p->params, p->n_params, VIR_MIGRATE_PARAM_COMPRESSION, &s), ==, 1);
  g_assert_cmpstr (s, ==, "zstd");
  g_assert_cmpint (
      virTypedParamsGetString (p->params, p->n_params, VIR_MIGRATE_PARAM_MIGRATE_DISKS, &s), ==, 1);
  g_assert_cmpstr (s, ==, "vda");
  g_assert_cmpint (virTypedParamsGetString (p->params, p->n_params, VIR_MIGRATE_PARAM_URI, &s), ==,
                   1);
  g_assert_cmpstr (s, ==, "tcp://127.0.0.1:49170");
  g_assert_cmpuint (p->downtime_ms, ==, 80);
}

static void
assert_refused (const char *text, const char *contains)
{
  g_autoptr (FerrydMigrateOptions) options = parse (text);
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydLibvirtMigrateParams) p = ferryd_libvirt_migrate_params_new (options, &error);

  g_assert_null (p);
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, contains));
}

static void
test_refused (void)
{
  /* 2^44 + 5 bytes/s: not a whole number of MiB/s, never rounded */
  assert_refused ("{'max-bandwidth': <uint64 17592186044421>}", "whole MiB/s");
  assert_refused ("{'max-postcopy-bandwidth': <uint64 1000>}", "max-postcopy-bandwidth");
  assert_refused ("{'switchover-ack': <'on'>}", "switchover-ack");
}

static void
test_timeout_postcopy (void)
{
  g_autoptr (FerrydMigrateOptions) options =
      parse ("{'timeout': <uint32 2>, 'timeout-action': <'postcopy'>}");
  g_autoptr (FerrydMigrateOptions) abort_options =
      parse ("{'timeout': <uint32 2>, 'timeout-action': <'abort'>}");
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydLibvirtMigrateParams) p = ferryd_libvirt_migrate_params_new (options, &error);
  g_autoptr (FerrydLibvirtMigrateParams) q = NULL;

  /* libvirt switches to post-copy only if the migration started with it */
  g_assert_no_error (error);
  g_assert_cmpuint (p->flags, ==, VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_LIVE | VIR_MIGRATE_POSTCOPY);
  q = ferryd_libvirt_migrate_params_new (abort_options, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (q->flags, ==, VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_LIVE);
}

static void
test_job_disks (void)
{
  virTypedParameterPtr params = NULL;
  int n = 0, max = 0;
  FerrydProgress progress;

  /* what libvirt reports of a job with a storage copy (its NBD mirrors) */
  virTypedParamsAddULLong (&params, &n, &max, VIR_DOMAIN_JOB_MEMORY_TOTAL, 33554432);
  virTypedParamsAddULLong (&params, &n, &max, VIR_DOMAIN_JOB_DISK_TOTAL, 16777216);
  virTypedParamsAddULLong (&params, &n, &max, VIR_DOMAIN_JOB_DISK_PROCESSED, 4194304);
  virTypedParamsAddULLong (&params, &n, &max, VIR_DOMAIN_JOB_DISK_REMAINING, 12582912);
  ferryd_libvirt_job_to_progress (params, n, VIR_DOMAIN_JOB_UNBOUNDED, &progress);
  g_assert_cmpint (progress.status, ==, FERRYD_STREAM_ACTIVE);
  g_assert_cmpuint (progress.memory_total, ==, 33554432);
  g_assert_cmpuint (progress.disk_total, ==, 16777216);
  g_assert_cmpuint (progress.disk_processed, ==, 4194304);
  virTypedParamsFree (params, n);
}

static void
test_largest (void)
{
  g_autoptr (GError) error = NULL;
  unsigned long long mib = 0;

  g_assert_true (ferryd_libvirt_bandwidth_to_mib (
      "max-bandwidth", FERRYD_LIBVIRT_MAX_BANDWIDTH_MIB * 1048576, &mib, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mib, ==, FERRYD_LIBVIRT_MAX_BANDWIDTH_MIB);
  /* 2^44 bytes/s is exactly 2^24 MiB/s */
  g_assert_true (
      ferryd_libvirt_bandwidth_to_mib ("max-bandwidth", G_GUINT64_CONSTANT (1) << 44, &mib, NULL));
  g_assert_cmpuint (mib, ==, 1 << 24);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/libvirt-params/defaults", test_defaults);
  g_test_add_func ("/libvirt-params/all", test_all);
  g_test_add_func ("/libvirt-params/refused", test_refused);
  g_test_add_func ("/libvirt-params/largest", test_largest);
  g_test_add_func ("/libvirt-params/timeout-postcopy", test_timeout_postcopy);
  g_test_add_func ("/libvirt-params/job-disks", test_job_disks);
  return g_test_run ();
}
