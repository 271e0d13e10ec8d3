/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-qmp-progress.c: query-migrate → FerrydProgress */
#define G_LOG_DOMAIN "ferry-qmp-progress"

#include "ferryd-qmp-progress.h"

static guint64
get_u64 (JsonObject *object, const char *member)
{
  JsonNode *node;

  if (object == NULL || !(node = json_object_get_member (object, member)) ||
      !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return (guint64) MAX (json_node_get_double (node), 0.0);
  return (guint64) MAX (json_node_get_int (node), 0);
}

FerrydStreamStatus
ferryd_qmp_stream_status (const char *status)
{
  static const struct
  {
    const char *name;
    FerrydStreamStatus status;
  } map[] = {
    { "setup", FERRYD_STREAM_SETUP },
    { "active", FERRYD_STREAM_ACTIVE },
    { "postcopy-active", FERRYD_STREAM_POSTCOPY_ACTIVE },
    { "postcopy-paused", FERRYD_STREAM_POSTCOPY_PAUSED },
    { "completed", FERRYD_STREAM_COMPLETED },
    { "failed", FERRYD_STREAM_FAILED },
    { "cancelled", FERRYD_STREAM_CANCELLED },
  };

  for (gsize i = 0; status && i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (map[i].name, status))
      return map[i].status;
  return FERRYD_STREAM_NONE;
}

gboolean
ferryd_qmp_progress_from_reply (JsonNode *reply, FerrydProgress *p)
{
  JsonObject *info;
  JsonObject *ram = NULL;

  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    return FALSE;
  info = json_node_get_object (reply);
  if (json_object_has_member (info, "ram"))
    ram = json_object_get_object_member (info, "ram");
  *p = (FerrydProgress){ 0 };
  p->status =
      ferryd_qmp_stream_status (json_object_get_string_member_with_default (info, "status", NULL));
  p->total_time = get_u64 (info, "total-time");
  p->setup_time = get_u64 (info, "setup-time");
  p->downtime = get_u64 (info, "downtime");
  p->expected_downtime = get_u64 (info, "expected-downtime");
  p->cpu_throttle = (guint) MIN (get_u64 (info, "cpu-throttle-percentage"), 100);
  if (ram)
    {
      JsonNode *mbps = json_object_get_member (ram, "mbps");
      guint64 page_size = get_u64 (ram, "page-size");

      p->has_memory = TRUE;
      p->memory_total = get_u64 (ram, "total");
      p->memory_processed = get_u64 (ram, "transferred");
      p->memory_remaining = get_u64 (ram, "remaining");
      /* QEMU reports megabits per second. */
      p->transfer_rate = mbps ? (guint64) (json_node_get_double (mbps) * 1e6 / 8) : 0;
      p->dirty_rate = get_u64 (ram, "dirty-pages-rate") * (page_size ? page_size : 4096);
      p->pages_transferred = get_u64 (ram, "normal");
      p->pages_zero = get_u64 (ram, "duplicate");
      p->iteration = (guint32) get_u64 (ram, "dirty-sync-count");
      p->postcopy_requests = get_u64 (ram, "postcopy-requests");
      p->postcopy_bytes = get_u64 (ram, "postcopy-bytes");
    }
  return TRUE;
}
