/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-state.c: libvirt's states, job statistics and errors in
 * Ferry's terms (pure functions over libvirt's values) */
#define G_LOG_DOMAIN "ferry-libvirt"

#include "ferryd-libvirt-state.h"
#include "ferry-error.h"

#include <libvirt/virterror.h>

const char *
ferryd_libvirt_state_name (int state, int reason, const char **why)
{
  const char *unused;

  if (why == NULL)
    why = &unused;
  *why = "";
  switch (state)
    {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
      if (reason == VIR_DOMAIN_RUNNING_POSTCOPY)
        *why = "running in post-copy";
      return "running";
    case VIR_DOMAIN_SHUTDOWN:
      *why = "shutting down";
      return "running";
    case VIR_DOMAIN_PAUSED:
      switch (reason)
        {
        case VIR_DOMAIN_PAUSED_MIGRATION:
          *why = "paused for migration";
          return "paused";
        case VIR_DOMAIN_PAUSED_POSTCOPY:
          *why = "paused in post-copy";
          return "paused";
        case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
          *why = "post-copy failed: neither host holds the whole guest";
          return "paused";
        case VIR_DOMAIN_PAUSED_IOERROR:
          *why = "I/O error";
          return "paused";
        case VIR_DOMAIN_PAUSED_CRASHED:
          *why = "guest panicked";
          return "crashed";
        case VIR_DOMAIN_PAUSED_STARTING_UP:
          *why = "starting up";
          return "paused";
        default:
          return "paused";
        }
    case VIR_DOMAIN_PMSUSPENDED:
      *why = "suspended by the guest";
      return "paused";
    case VIR_DOMAIN_CRASHED:
      *why = "guest panicked";
      return "crashed";
    case VIR_DOMAIN_SHUTOFF:
      if (reason == VIR_DOMAIN_SHUTOFF_CRASHED)
        *why = "crashed";
      else if (reason == VIR_DOMAIN_SHUTOFF_FAILED)
        *why = "failed to start";
      return "shutoff";
    default:
      return "shutoff";
    }
}

static guint64
get_ull (const virTypedParameter *params, int n, const char *name)
{
  unsigned long long value = 0;

  virTypedParamsGetULLong ((virTypedParameterPtr) params, n, name, &value);
  return value;
}

void
ferryd_libvirt_job_to_progress (const virTypedParameter *params,
                                int n,
                                int job_type,
                                FerrydProgress *progress)
{
  unsigned long long page_size;

  memset (progress, 0, sizeof *progress);
  switch (job_type)
    {
    case VIR_DOMAIN_JOB_NONE:
      progress->status = FERRYD_STREAM_NONE;
      break;
    case VIR_DOMAIN_JOB_BOUNDED:
    case VIR_DOMAIN_JOB_UNBOUNDED:
      progress->status = FERRYD_STREAM_ACTIVE;
      break;
    case VIR_DOMAIN_JOB_COMPLETED:
      progress->status = FERRYD_STREAM_COMPLETED;
      break;
    case VIR_DOMAIN_JOB_FAILED:
      progress->status = FERRYD_STREAM_FAILED;
      break;
    case VIR_DOMAIN_JOB_CANCELLED:
      progress->status = FERRYD_STREAM_CANCELLED;
      break;
    default:
      progress->status = FERRYD_STREAM_ACTIVE;
    }
  if (params == NULL)
    return;
  progress->memory_total = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_TOTAL);
  progress->has_memory = progress->memory_total > 0;
  progress->total_time = get_ull (params, n, VIR_DOMAIN_JOB_TIME_ELAPSED);
  progress->setup_time = get_ull (params, n, VIR_DOMAIN_JOB_SETUP_TIME);
  progress->downtime = get_ull (params, n, VIR_DOMAIN_JOB_DOWNTIME);
  if (job_type == VIR_DOMAIN_JOB_COMPLETED)
    {
      /* For a completed job libvirt's "downtime" is what it measured from
       * the source's pause to the destination's resume (corrected for the
       * hosts' clock difference): Ferry's downtime-real. "downtime_net"
       * leaves out the hand-over between the hosts, which comes closest to
       * QEMU's own figure, Ferry's downtime. */
      guint64 net = get_ull (params, n, VIR_DOMAIN_JOB_DOWNTIME_NET);

      progress->downtime_real = progress->downtime;
      if (net > 0)
        progress->downtime = net;
    }
  progress->memory_processed = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
  progress->memory_remaining = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_REMAINING);
  progress->transfer_rate = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_BPS);
  page_size = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE);
  /* libvirt reports the dirty rate in pages/s */
  progress->dirty_rate =
      get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE) * (page_size ? page_size : 4096);
  progress->pages_transferred = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_NORMAL);
  progress->pages_zero = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_CONSTANT);
  progress->iteration = (guint32) get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
  progress->postcopy_requests = get_ull (params, n, VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS);
  /* With a storage copy libvirt adds its NBD mirrors' figures to the
   * disk ones (all disks together: it gives none per disk). */
  progress->disk_total = get_ull (params, n, VIR_DOMAIN_JOB_DISK_TOTAL);
  progress->disk_processed = get_ull (params, n, VIR_DOMAIN_JOB_DISK_PROCESSED);
}

GError *
ferryd_libvirt_error (int code, const char *what)
{
  const char *message = virGetLastErrorMessage ();

  return g_error_new (FERRY_ERROR, code, "%s: %s", what, message ? message : "unknown error");
}

void
ferryd_libvirt_set_error (GError **error, int code, const char *what)
{
  g_propagate_error (error, ferryd_libvirt_error (code, what));
}
