/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-params.c: Ferry's options → virDomainMigrateToURI3
 *
 * Every option maps to one libvirt flag or typed parameter. libvirt's
 * units differ from Ferry's (bandwidths in MiB/s, not bytes/s): a value
 * that has no exact libvirt equivalent is refused here, before the
 * migration starts, since silently rounding or wrapping a limit the
 * operator set could make the migration use a link it was told not to.
 */
#define G_LOG_DOMAIN "ferry-libvirt"

#include "ferryd-libvirt-params.h"

#include <string.h>
#include "ferry-error.h"

#define MIB G_GUINT64_CONSTANT (1048576)

gboolean
ferryd_libvirt_bandwidth_to_mib (const char *what,
                                 guint64 bps,
                                 unsigned long long *mib,
                                 GError **error)
{
  if (bps % MIB != 0)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Option '%s' (%" G_GUINT64_FORMAT " bytes/s) cannot be given to libvirt, "
                   "which takes bandwidths in whole MiB/s: use a multiple of 1048576 (e.g. "
                   "%" G_GUINT64_FORMAT ")",
                   what, bps, (bps / MIB + 1) * MIB);
      return FALSE;
    }
  if (bps / MIB > FERRYD_LIBVIRT_MAX_BANDWIDTH_MIB)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Option '%s' (%" G_GUINT64_FORMAT " bytes/s) is over libvirt's limit of "
                   "%" G_GUINT64_FORMAT " MiB/s",
                   what, bps, FERRYD_LIBVIRT_MAX_BANDWIDTH_MIB);
      return FALSE;
    }
  *mib = bps / MIB;
  return TRUE;
}

static gboolean
add_bandwidth (FerrydLibvirtMigrateParams *p,
               const char *option,
               const char *param,
               guint64 bps,
               GError **error)
{
  unsigned long long mib;

  if (bps == 0)
    return TRUE;
  if (!ferryd_libvirt_bandwidth_to_mib (option, bps, &mib, error))
    return FALSE;
  virTypedParamsAddULLong (&p->params, &p->n_params, &p->max_params, param, mib);
  return TRUE;
}

FerrydLibvirtMigrateParams *
ferryd_libvirt_migrate_params_new (const FerrydMigrateOptions *options, GError **error)
{
  g_autoptr (FerrydLibvirtMigrateParams) p = g_new0 (FerrydLibvirtMigrateParams, 1);

  /* libvirt's error state (which virTypedParams* reset) needs it; once */
  if (virInitialize () < 0)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_FAILED, "libvirt cannot initialize");
      return NULL;
    }
  /* Peer-to-peer: the source libvirtd talks to the destination's, so the
   * migration survives ferryd and needs no second connection here. */
  p->flags = VIR_MIGRATE_PEER2PEER;
  if (options->live)
    p->flags |= VIR_MIGRATE_LIVE;

  if (!add_bandwidth (p, "max-bandwidth", VIR_MIGRATE_PARAM_BANDWIDTH, options->max_bandwidth,
                      error) ||
      !add_bandwidth (p, "max-postcopy-bandwidth", VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY,
                      options->max_postcopy_bandwidth, error) ||
      !add_bandwidth (p, "switchover-bandwidth", VIR_MIGRATE_PARAM_BANDWIDTH_AVAIL_SWITCHOVER,
                      options->switchover_bandwidth, error))
    return NULL;

  switch (options->postcopy)
    {
    case FERRYD_POSTCOPY_OFF:
      /* timeout-action=postcopy switches at the timeout
       * (virDomainMigrateStartPostCopy), which libvirt allows only to a
       * migration that started with post-copy enabled; as for QMP
       * domains, asking for that action enables it. */
      if (g_strcmp0 (options->timeout_action, "postcopy") == 0)
        p->flags |= VIR_MIGRATE_POSTCOPY;
      break;
    case FERRYD_POSTCOPY_MANUAL:
    case FERRYD_POSTCOPY_AUTO:
      /* allowed; with auto, Ferry's convergence policy switches
       * (virDomainMigrateStartPostCopy), as for QMP domains */
      p->flags |= VIR_MIGRATE_POSTCOPY;
      break;
    }

  if (options->auto_converge)
    p->flags |= VIR_MIGRATE_AUTO_CONVERGE;
  if (options->multifd_channels > 0)
    {
      p->flags |= VIR_MIGRATE_PARALLEL;
      virTypedParamsAddInt (&p->params, &p->n_params, &p->max_params,
                            VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                            (int) options->multifd_channels);
    }
  if (options->compression && g_strcmp0 (options->compression, "none") != 0)
    {
      p->flags |= VIR_MIGRATE_COMPRESSED;
      virTypedParamsAddString (&p->params, &p->n_params, &p->max_params,
                               VIR_MIGRATE_PARAM_COMPRESSION, options->compression);
    }

  switch (options->copy_storage)
    {
    case FERRYD_COPY_STORAGE_NONE:
      break;
    case FERRYD_COPY_STORAGE_ALL:
      p->flags |= VIR_MIGRATE_NON_SHARED_DISK;
      break;
    case FERRYD_COPY_STORAGE_INCREMENTAL:
      p->flags |= VIR_MIGRATE_NON_SHARED_INC;
      break;
    }
  if (options->disks && options->disks[0])
    {
      if (options->copy_storage == FERRYD_COPY_STORAGE_NONE)
        {
          g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                               "Option 'disks' needs 'copy-storage' all or incremental");
          return NULL;
        }
      for (guint i = 0; options->disks[i]; i++)
        virTypedParamsAddString (&p->params, &p->n_params, &p->max_params,
                                 VIR_MIGRATE_PARAM_MIGRATE_DISKS, options->disks[i]);
    }
  if (options->synchronous_writes)
    p->flags |= VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES;

  /* libvirt turns switchover-ack on by itself when both QEMUs have it;
   * it offers no way to force it either way. */
  if (options->switchover_ack && g_strcmp0 (options->switchover_ack, "auto") != 0)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Option 'switchover-ack' (%s): libvirt negotiates switchover-ack itself; "
                   "only 'auto' can be used with a libvirt destination",
                   options->switchover_ack);
      return NULL;
    }

  if (options->tls)
    p->flags |= VIR_MIGRATE_TLS;
  if (options->persist)
    p->flags |= VIR_MIGRATE_PERSIST_DEST;
  if (options->undefine_source)
    p->flags |= VIR_MIGRATE_UNDEFINE_SOURCE;

  if (options->migrate_uri)
    {
      g_autofree char *host = NULL;
      g_autofree char *uri = NULL;
      guint16 port;

      if (!ferryd_migrate_uri_parse (options->migrate_uri, &host, &port))
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                       "Option 'migrate-uri' (%s) is not of the form tcp:HOST:PORT",
                       options->migrate_uri);
          return NULL;
        }
      /* libvirt wants a URI: tcp://HOST:PORT (an IPv6 HOST keeps its brackets) */
      uri = g_strdup_printf ("tcp://%s:%u", host, port);
      virTypedParamsAddString (&p->params, &p->n_params, &p->max_params, VIR_MIGRATE_PARAM_URI,
                               uri);
    }

  p->downtime_ms = options->max_downtime;
  return g_steal_pointer (&p);
}

void
ferryd_libvirt_migrate_params_free (FerrydLibvirtMigrateParams *params)
{
  if (!params)
    return;
  virTypedParamsFree (params->params, params->n_params);
  g_free (params);
}
