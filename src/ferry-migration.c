/* ferry-migration.c: one migration as a state machine
 *
 * Phases follow libvirt's version 3 protocol (Begin, Prepare, Perform,
 * Finish, Confirm) on both hosts; every failure goes through Confirm,
 * which rolls back so the guest runs on exactly one host. Phase and state
 * changes go through set_phase()/set_state(), which check them against
 * the transition tables below.
 *
 * Progress comes from QMP events (MIGRATION, MIGRATION_PASS, STOP,
 * RESUME) plus query-migrate sampled every 250 ms, only while QEMU is
 * migrating: an idle daemon runs no timers.
 */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferry-migration.h"
#include "ferry-error.h"
#include "ferry-peer.h"
#include "ferry-qmp-batch.h"

#define PEER_BUS_NAME "org.ferryvm.Ferry1"
#define PEER_INTERFACE "org.ferryvm.Ferry1.Peer"
#define PEER_PATH "/org/ferryvm/Ferry1"
#define PEER_CALL_TIMEOUT_MS 60000
#define SAMPLE_INTERVAL_MS 250
/* QEMU's rate limit when the operator sets none: effectively unlimited. */
#define UNLIMITED_BANDWIDTH (G_GUINT64_CONSTANT (1) << 40)
/* When uncapped, QEMU estimates the link from raw socket writes and
 * switches over far too early (research pitfall 1); a realistic figure
 * for the switch-over keeps downtime near the limit. */
#define DEFAULT_SWITCHOVER_BANDWIDTH (G_GUINT64_CONSTANT (300) << 20)
/* Lower than QEMU's 300 ms: with an uncapped link an extra pass is cheap,
 * and the switch-over threshold is switchover bandwidth x this limit. */
#define DEFAULT_DOWNTIME_MS 50
/* How long Finish waits for the destination guest to resume. */
#define FINISH_TIMEOUT_S 60
/* How long a destination whose stream failed waits for the source's word. */
#define SOURCE_VERDICT_TIMEOUT_S 5

typedef enum
{
  PHASE_NONE,
  PHASE_BEGIN,
  PHASE_PREPARE,
  PHASE_PERFORM,
  PHASE_FINISH,
  PHASE_CONFIRM,
  PHASE_DONE,
} Phase;

static const char *const phase_names[] = { "none",   "begin",   "prepare", "perform",
                                           "finish", "confirm", "done" };

/* The only phase transitions there are. Every failure goes to Confirm. */
static const struct
{
  Phase from, to;
} phase_transitions[] = {
  { PHASE_NONE, PHASE_BEGIN },      { PHASE_BEGIN, PHASE_PREPARE },
  { PHASE_PREPARE, PHASE_PERFORM }, { PHASE_PERFORM, PHASE_FINISH },
  { PHASE_FINISH, PHASE_CONFIRM },  { PHASE_CONFIRM, PHASE_DONE },
  { PHASE_BEGIN, PHASE_CONFIRM },   { PHASE_PREPARE, PHASE_CONFIRM },
  { PHASE_PERFORM, PHASE_CONFIRM },
};

typedef enum
{
  STATE_PENDING,
  STATE_SETUP,
  STATE_ACTIVE,
  STATE_POSTCOPY_ACTIVE,
  STATE_POSTCOPY_PAUSED,
  STATE_COMPLETED,
  STATE_FAILED,
  STATE_CANCELLED,
} State;

static const char *const state_names[] = { "pending",         "setup",           "active",
                                           "postcopy-active", "postcopy-paused", "completed",
                                           "failed",          "cancelled" };

struct _FerryMigration
{
  GObject parent_instance;

  FerryDaemon *daemon;
  FerryDomain *domain;
  gboolean incoming;
  char *path;
  FerryDBusMigration *record;
  FerryMigrateOptions *options;
  char *local_hostname;
  char *local_host_uuid;
  Phase phase;
  State state;
  GCancellable *cancellable;
  gboolean cancel_requested;
  gboolean finished;

  FerryQemu *qemu;
  gulong event_id;
  gulong exited_id;
  guint sample_id;
  guint timeout_id;
  gboolean sampling;
  JsonObject *info; /* last query-migrate answer */
  gint64 begin_us;
  gint64 stop_us;
  gint64 resume_us;
  gint64 postcopy_us;
  gint64 end_us;
  gboolean migrate_sent;
  gboolean postcopy_requested;
  gboolean postcopy_started;
  gboolean stopped_for_migration;
  guint64 downtime_limit;
  double progress;
  guint64 pass_remaining;      /* remaining bytes when the current pass began */
  guint64 prev_pass_remaining; /* ... and when the previous one began */
  gboolean pass_sample_pending;
  guint pass;
  GVariant *statistics;

  /* source side */
  char *peer_address;
  GDBusConnection *peer;
  char *peer_migration;
  GStrv features;
  char *migrate_uri;
  char *resolved_machine; /* the versioned machine type behind an alias */
  char *abort_reason;     /* set when the policy aborts (timeout) */
  GError *rollback_error; /* kept while the destination confirms an abort */
  State rollback_state;
  gboolean rollback_waiting; /* rolled back, waiting for the abort's answer */
  gboolean abort_sent;
  gboolean abort_done;

  /* destination side */
  char *peer_name;
  char *data_host; /* where the destination listens for the data stream */
  GDBusConnection *peer_connection;
  guint peer_watch_id;
  gboolean created_domain;
  gboolean incoming_completed;
  gboolean resume_sent;
  char *persistent_description;
  GTask *finish_task;
  GVariant *source_statistics; /* as the source sent them in Finish */
  guint finish_timeout_id;
};

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerryMigration, ferry_migration, G_TYPE_OBJECT)

static void rollback (FerryMigration *self, GError *error);
static void confirm_success (FerryMigration *self);
static void incoming_try_finish (FerryMigration *self);
static void rollback_incoming (FerryMigration *self, GError *error);

/* --- accessors --- */

const char *
ferry_migration_get_path (FerryMigration *self)
{
  return self->path;
}

FerryDBusMigration *
ferry_migration_get_record (FerryMigration *self)
{
  return self->record;
}

FerryDomain *
ferry_migration_get_domain (FerryMigration *self)
{
  return self->domain;
}

gboolean
ferry_migration_is_finished (FerryMigration *self)
{
  return self->finished;
}

/* --- phases and states --- */

static void
set_phase (FerryMigration *self, Phase phase)
{
  GVariantBuilder stamps;
  GVariantIter iter;
  const char *key;
  guint64 value;
  gboolean allowed = FALSE;

  if (self->phase == phase)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (phase_transitions); i++)
    if (phase_transitions[i].from == self->phase && phase_transitions[i].to == phase)
      allowed = TRUE;
  if (!allowed)
    {
      g_critical ("%s: invalid phase transition %s -> %s", self->path, phase_names[self->phase],
                  phase_names[phase]);
      return;
    }
  g_debug ("%s: phase %s", self->path, phase_names[phase]);
  self->phase = phase;
  g_variant_builder_init (&stamps, G_VARIANT_TYPE ("a{st}"));
  g_variant_iter_init (&iter, ferry_dbus_migration_get_phase_timestamps (self->record));
  while (g_variant_iter_next (&iter, "{&st}", &key, &value))
    g_variant_builder_add (&stamps, "{st}", key, value);
  g_variant_builder_add (&stamps, "{st}", phase_names[phase], (guint64) g_get_real_time ());
  ferry_dbus_migration_set_phase_timestamps (self->record, g_variant_builder_end (&stamps));
  ferry_dbus_migration_set_phase (self->record, phase_names[phase]);
  ferry_dbus_migration_emit_phase_changed (self->record, phase_names[phase]);
}

static gboolean
state_is_final (State state)
{
  return state == STATE_COMPLETED || state == STATE_FAILED || state == STATE_CANCELLED;
}

static void
set_state (FerryMigration *self, State state)
{
  if (self->state == state)
    return;
  if (state_is_final (self->state))
    {
      g_critical ("%s: state change %s -> %s after the end", self->path, state_names[self->state],
                  state_names[state]);
      return;
    }
  g_debug ("%s: state %s", self->path, state_names[state]);
  self->state = state;
  ferry_dbus_migration_set_state (self->record, state_names[state]);
}

/* --- statistics and progress --- */

static JsonObject *
ram_info (FerryMigration *self)
{
  if (self->info && json_object_has_member (self->info, "ram"))
    return json_object_get_object_member (self->info, "ram");
  return NULL;
}

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

static guint64
transfer_rate (JsonObject *ram)
{
  JsonNode *node = ram ? json_object_get_member (ram, "mbps") : NULL;

  /* QEMU reports megabits per second. */
  return node ? (guint64) (json_node_get_double (node) * 1e6 / 8) : 0;
}

static guint64
dirty_rate (JsonObject *ram)
{
  guint64 page_size = get_u64 (ram, "page-size");

  return get_u64 (ram, "dirty-pages-rate") * (page_size ? page_size : 4096);
}

static GVariant *
build_statistics (FerryMigration *self)
{
  GVariantBuilder builder;
  JsonObject *ram = ram_info (self);
  gboolean postcopy = self->postcopy_started && (get_u64 (ram, "postcopy-bytes") > 0 || !ram);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "total-time",
                         g_variant_new_uint64 (get_u64 (self->info, "total-time")));
  g_variant_builder_add (&builder, "{sv}", "setup-time",
                         g_variant_new_uint64 (get_u64 (self->info, "setup-time")));
  g_variant_builder_add (&builder, "{sv}", "downtime",
                         g_variant_new_uint64 (get_u64 (self->info, "downtime")));
  if (self->stop_us && self->resume_us >= self->stop_us)
    g_variant_builder_add (
        &builder, "{sv}", "downtime-real",
        g_variant_new_uint64 ((guint64) (self->resume_us - self->stop_us) / 1000));
  g_variant_builder_add (&builder, "{sv}", "memory-total",
                         g_variant_new_uint64 (get_u64 (ram, "total")));
  g_variant_builder_add (&builder, "{sv}", "memory-transferred",
                         g_variant_new_uint64 (get_u64 (ram, "transferred")));
  g_variant_builder_add (&builder, "{sv}", "memory-remaining",
                         g_variant_new_uint64 (get_u64 (ram, "remaining")));
  g_variant_builder_add (&builder, "{sv}", "pages-transferred",
                         g_variant_new_uint64 (get_u64 (ram, "normal")));
  g_variant_builder_add (&builder, "{sv}", "pages-zero",
                         g_variant_new_uint64 (get_u64 (ram, "duplicate")));
  g_variant_builder_add (&builder, "{sv}", "iterations",
                         g_variant_new_uint32 ((guint32) get_u64 (ram, "dirty-sync-count")));
  g_variant_builder_add (&builder, "{sv}", "dirty-rate", g_variant_new_uint64 (dirty_rate (ram)));
  g_variant_builder_add (&builder, "{sv}", "transfer-rate",
                         g_variant_new_uint64 (transfer_rate (ram)));
  g_variant_builder_add (&builder, "{sv}", "postcopy-requests",
                         g_variant_new_uint64 (get_u64 (ram, "postcopy-requests")));
  g_variant_builder_add (
      &builder, "{sv}", "postcopy-time",
      g_variant_new_uint64 (self->postcopy_us && self->end_us > self->postcopy_us
                                ? (guint64) (self->end_us - self->postcopy_us) / 1000
                                : 0));
  g_variant_builder_add (&builder, "{sv}", "disk-total", g_variant_new_uint64 (0));
  g_variant_builder_add (&builder, "{sv}", "disk-transferred", g_variant_new_uint64 (0));
  g_variant_builder_add (&builder, "{sv}", "mode",
                         g_variant_new_string (postcopy ? "postcopy" : "precopy"));
  return g_variant_builder_end (&builder);
}

GVariant *
ferry_migration_get_statistics (FerryMigration *self)
{
  if (self->statistics)
    return g_variant_ref (self->statistics);
  return build_statistics (self);
}

static void
update_progress (FerryMigration *self)
{
  JsonObject *ram = ram_info (self);
  guint64 total = get_u64 (ram, "total");
  guint64 remaining = get_u64 (ram, "remaining");
  guint64 transferred = get_u64 (ram, "transferred");
  guint64 rate = transfer_rate (ram);
  guint64 dirty = dirty_rate (ram);
  guint64 expected = get_u64 (self->info, "expected-downtime");
  guint iteration = (guint) get_u64 (ram, "dirty-sync-count");
  const char *converging = "unknown";
  guint64 time_remaining = 0;
  double progress;

  if (ram == NULL)
    return;
  /* Progress of the whole job: the share of memory already sent at least
   * once, then of what is left to send; never goes backwards. */
  progress = total ? (double) (total - MIN (remaining, total)) / (double) total : 0.0;
  progress = CLAMP (progress, 0.0, self->state == STATE_COMPLETED ? 1.0 : 0.99);
  if (progress > self->progress)
    self->progress = progress;

  /* QEMU's own expected-downtime lags (it repeats the limit until a pass
   * completes); what is left over the measured rate is more honest. */
  if (rate > 0)
    expected = remaining * 1000 / rate;
  if (self->postcopy_started)
    converging = "yes";
  else if (iteration >= 2)
    {
      if (dirty >= rate)
        converging = "no";
      else if (expected <= self->downtime_limit)
        converging = "yes";
      /* What is left at the start of each pass: if it does not shrink
       * clearly, the guest dirties as fast as the link copies. */
      else if (self->prev_pass_remaining > 0)
        converging = self->pass_remaining < self->prev_pass_remaining * 9 / 10 ? "yes" : "no";
    }
  /* An honest estimate: what is left over the net rate at which it
   * shrinks; unknown (0) when it does not shrink. */
  if (rate > dirty && remaining > 0)
    time_remaining = remaining * 1000 / (rate - dirty);

  ferry_dbus_migration_set_progress (self->record, self->progress);
  ferry_dbus_migration_set_time_elapsed (self->record, get_u64 (self->info, "total-time"));
  ferry_dbus_migration_set_time_remaining (self->record, time_remaining);
  ferry_dbus_migration_set_memory_total (self->record, total);
  ferry_dbus_migration_set_memory_processed (self->record, transferred);
  ferry_dbus_migration_set_memory_remaining (self->record, remaining);
  ferry_dbus_migration_set_transfer_rate (self->record, rate);
  ferry_dbus_migration_set_dirty_rate (self->record, dirty);
  ferry_dbus_migration_set_iteration (self->record, iteration);
  ferry_dbus_migration_set_expected_downtime (self->record, expected);
  ferry_dbus_migration_set_converging (self->record, converging);
}

/* --- convergence policy --- */

static void
policy_action (FerryMigration *self, const char *action, const char *reason)
{
  g_info ("%s: policy: %s (%s)", self->path, action, reason);
  ferry_dbus_migration_emit_policy_action (self->record, action, reason);
}

static void
apply_policy (FerryMigration *self)
{
  JsonObject *ram = ram_info (self);
  g_autofree char *reason = NULL;

  if (self->options->postcopy != FERRY_POSTCOPY_AUTO || self->postcopy_requested ||
      self->state != STATE_ACTIVE || self->pass < 2)
    return;
  if (g_strcmp0 (ferry_dbus_migration_get_converging (self->record), "no") != 0)
    return;
  reason = g_strdup_printf (
      "pre-copy is not converging after %u passes: dirty rate %" G_GUINT64_FORMAT
      " B/s, transfer rate %" G_GUINT64_FORMAT " B/s, expected downtime %" G_GUINT64_FORMAT
      " ms > limit %" G_GUINT64_FORMAT " ms",
      self->pass, dirty_rate (ram), transfer_rate (ram), get_u64 (self->info, "expected-downtime"),
      self->downtime_limit);
  policy_action (self, "start-postcopy", reason);
  ferry_migration_start_postcopy (self, NULL);
}

/* --- sampling --- */

static void
sample_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (JsonNode) reply = ferry_qmp_execute_finish (FERRY_QMP (source), result, NULL);

  self->sampling = FALSE;
  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply) || self->finished)
    return;
  g_clear_pointer (&self->info, json_object_unref);
  self->info = json_object_ref (json_node_get_object (reply));
  if (self->pass_sample_pending)
    {
      self->pass_sample_pending = FALSE;
      self->prev_pass_remaining = self->pass_remaining;
      self->pass_remaining = get_u64 (ram_info (self), "remaining");
    }
  update_progress (self);
  apply_policy (self);
}

static void
sample_now (FerryMigration *self)
{
  FerryQmp *qmp = self->qemu ? ferry_qemu_get_qmp (self->qemu) : NULL;

  if (qmp == NULL || ferry_qmp_is_closed (qmp) || self->sampling)
    return;
  self->sampling = TRUE;
  ferry_qmp_execute_async (qmp, "query-migrate", NULL, NULL, sample_cb, g_object_ref (self));
}

static gboolean
sample_tick (gpointer user_data)
{
  sample_now (user_data);
  return G_SOURCE_CONTINUE;
}

static void
start_sampling (FerryMigration *self)
{
  if (self->sample_id == 0 && !self->incoming)
    self->sample_id = g_timeout_add (SAMPLE_INTERVAL_MS, sample_tick, self);
}

static void
stop_sampling (FerryMigration *self)
{
  g_clear_handle_id (&self->sample_id, g_source_remove);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
}

/* --- the end --- */

static void
drop_qemu (FerryMigration *self)
{
  if (self->qemu == NULL)
    return;
  g_clear_signal_handler (&self->event_id, ferry_qemu_get_qmp (self->qemu));
  g_clear_signal_handler (&self->exited_id, self->qemu);
  g_clear_object (&self->qemu);
}

static void
finish (FerryMigration *self, State state, const GError *error)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  stop_sampling (self);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer_watch_id)
    g_clear_handle_id (&self->peer_watch_id, g_bus_unwatch_name);
  if (self->end_us == 0)
    self->end_us = g_get_real_time ();
  if (self->peer)
    {
      /* The destination sees us leave; the link is not needed any more. */
      g_signal_handlers_disconnect_by_data (self->peer, self);
      g_dbus_connection_close (self->peer, NULL, NULL, NULL);
    }
  if (state == STATE_COMPLETED)
    {
      self->progress = 1.0;
      ferry_dbus_migration_set_progress (self->record, 1.0);
      ferry_dbus_migration_set_time_remaining (self->record, 0);
    }
  g_clear_pointer (&self->statistics, g_variant_unref);
  if (self->incoming && self->source_statistics)
    {
      GVariantDict dict;
      guint64 stop_us = 0;

      g_variant_dict_init (&dict, self->source_statistics);
      if (g_variant_dict_lookup (&dict, "source-stop-time", "t", &stop_us) && stop_us > 0 &&
          self->resume_us >= (gint64) stop_us)
        g_variant_dict_insert (&dict, "downtime-real", "t",
                               (guint64) (self->resume_us - (gint64) stop_us) / 1000);
      g_variant_dict_remove (&dict, "source-stop-time");
      self->statistics = g_variant_ref_sink (g_variant_dict_end (&dict));
    }
  else
    self->statistics = g_variant_ref_sink (build_statistics (self));
  ferry_dbus_migration_set_statistics (self->record, self->statistics);
  if (self->postcopy_started)
    ferry_dbus_migration_set_mode (self->record, "postcopy");
  if (error)
    {
      g_autoptr (GError) dbus_error = ferry_error_to_dbus (error);
      g_autofree char *name = g_dbus_error_encode_gerror (dbus_error);

      ferry_dbus_migration_set_error_name (self->record, name);
      ferry_dbus_migration_set_error_message (self->record, dbus_error->message);
    }
  if (self->phase != PHASE_CONFIRM)
    set_phase (self, PHASE_CONFIRM);
  set_state (self, state);
  set_phase (self, PHASE_DONE);
  drop_qemu (self);
  ferry_domain_set_migration (self->domain, NULL, FALSE);

  if (state == STATE_COMPLETED)
    ferry_dbus_migration_emit_completed (self->record, self->statistics);
  else
    ferry_dbus_migration_emit_failed (self->record,
                                      ferry_dbus_migration_get_error_name (self->record),
                                      ferry_dbus_migration_get_error_message (self->record));
  g_info ("%s: %s%s%s", self->path, state_names[state], error ? ": " : "",
          error ? error->message : "");
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/* QEMU said post-copy runs: from here on neither host holds the whole
 * guest. Returns FALSE if that was known already. */
static gboolean
note_postcopy_started (FerryMigration *self, gint64 ts)
{
  if (self->postcopy_started)
    return FALSE;
  self->postcopy_started = TRUE;
  self->postcopy_us = ts;
  ferry_dbus_migration_set_mode (self->record, "postcopy");
  ferry_dbus_migration_emit_post_copy_started (self->record);
  return TRUE;
}

/* --- source side --- */

static GVariant *
source_info (FerryMigration *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "version", g_variant_new_string (PACKAGE_VERSION));
  g_variant_builder_add (&builder, "{sv}", "api", g_variant_new_uint32 (1));
  g_variant_builder_add (&builder, "{sv}", "hostname", g_variant_new_string (self->local_hostname));
  g_variant_builder_add (&builder, "{sv}", "host-uuid",
                         g_variant_new_string (self->local_host_uuid));
  g_variant_builder_add (&builder, "{sv}", "domain",
                         g_variant_new_string (ferry_domain_get_name (self->domain)));
  if (self->features)
    g_variant_builder_add (&builder, "{sv}", "features",
                           g_variant_new_strv ((const char *const *) self->features, -1));
  g_variant_builder_add (&builder, "{sv}", "begin-time",
                         g_variant_new_uint64 ((guint64) self->begin_us));
  {
    g_autofree char *host = ferry_peer_data_host (self->peer_address);
    g_variant_builder_add (&builder, "{sv}", "data-host", g_variant_new_string (host));
  }
  return g_variant_builder_end (&builder);
}

/* Roll back from any phase: abort the destination, make sure the guest
 * runs on the source, record the error. Takes @error. */
static void send_peer_abort (FerryMigration *self, const char *reason);

static void
rollback (FerryMigration *self, GError *error)
{
  g_autoptr (GError) owned = error;
  State final = self->cancel_requested ? STATE_CANCELLED : STATE_FAILED;

  if (self->finished)
    return;
  g_debug ("%s: rolling back: %s", self->path, error->message);
  stop_sampling (self);
  if (self->phase != PHASE_CONFIRM)
    set_phase (self, PHASE_CONFIRM);
  if (self->cancel_requested && !g_error_matches (error, FERRY_ERROR, FERRY_ERROR_CANCELLED))
    {
      g_clear_error (&owned);
      owned = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                   "Migration cancelled by request");
    }

  /* The guest must keep running where it was. */
  if (!self->incoming && self->qemu && !ferry_qemu_has_exited (self->qemu) &&
      self->stopped_for_migration)
    ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "cont", NULL);

  if (!self->incoming && self->peer && self->peer_migration && !self->abort_done)
    {
      /* Wait for the destination to be clean before reporting the end,
       * so "nothing left on B" holds as soon as the state is final. */
      self->rollback_error = g_steal_pointer (&owned);
      self->rollback_state = final;
      self->rollback_waiting = TRUE;
      send_peer_abort (self, final == STATE_CANCELLED ? "cancelled" : "failed");
      return;
    }
  finish (self, final, owned);
}

static void
peer_abort_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (reply == NULL)
    g_warning ("%s: destination did not confirm the abort: %s", self->path, error->message);
  self->abort_done = TRUE;
  if (self->rollback_waiting)
    finish (self, self->rollback_state, self->rollback_error);
}

/* Tell the destination to drop its half-started guest (once). */
static void
send_peer_abort (FerryMigration *self, const char *reason)
{
  if (self->abort_sent || self->peer == NULL || self->peer_migration == NULL)
    return;
  self->abort_sent = TRUE;
  g_dbus_connection_call (self->peer, PEER_BUS_NAME, PEER_PATH, PEER_INTERFACE, "Abort",
                          g_variant_new ("(os)", self->peer_migration, reason), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, peer_abort_cb, g_object_ref (self));
}

static gboolean
check_cancelled (FerryMigration *self)
{
  if (!self->cancel_requested)
    return FALSE;
  rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                       "Migration cancelled by request"));
  return TRUE;
}

static GError *
peer_error (const GError *error, const char *what)
{
  g_autoptr (GError) converted = ferry_error_to_dbus (error);
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                "Migration cancelled by request");
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) || name == NULL ||
      g_str_equal (name, "org.freedesktop.DBus.Error.AccessDenied") ||
      g_str_has_prefix (name, "org.ferryvm.Ferry1.Error."))
    {
      gboolean unreachable = name == NULL ||
                             g_str_equal (name, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                             g_str_equal (name, "org.freedesktop.DBus.Error.NoReply");
      g_autoptr (GError) stripped = g_error_copy (error);
      g_dbus_error_strip_remote_error (stripped);
      return g_error_new (FERRY_ERROR,
                          unreachable ? FERRY_ERROR_PEER_UNREACHABLE : FERRY_ERROR_PEER_REFUSED,
                          "Destination %s: %s", what, stripped->message);
    }
  return g_error_new (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED, "Destination %s: %s", what,
                      converted->message);
}

static void
on_source_event (FerryQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data);

static void migration_failed_query_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
migrate_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferry_qmp_batch_run_finish (result, &error);

  if (reply == NULL)
    {
      if (!self->finished)
        rollback (self,
                  g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "Cannot start the migration on the source: %s", error->message));
      return;
    }
  self->migrate_sent = TRUE;
  if (self->cancel_requested)
    ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "migrate_cancel", NULL);
  start_sampling (self);
}

static JsonObject *
capabilities_args (const char *const *enabled, gboolean source)
{
  static const char *const known[] = { "events",           "return-path", "postcopy-ram",
                                       "postcopy-preempt", "multifd",     "auto-converge",
                                       "switchover-ack",   NULL };
  JsonObject *args = json_object_new ();
  JsonArray *list = json_array_new ();

  for (gsize i = 0; known[i]; i++)
    {
      JsonObject *entry;
      if (!source && g_str_equal (known[i], "auto-converge"))
        continue;
      entry = json_object_new ();
      json_object_set_string_member (entry, "capability", known[i]);
      json_object_set_boolean_member (entry, "state",
                                      enabled && g_strv_contains (enabled, known[i]));
      json_array_add_object_element (list, entry);
    }
  json_object_set_array_member (args, "capabilities", list);
  return args;
}

static gboolean
timeout_cb (gpointer user_data)
{
  FerryMigration *self = user_data;
  g_autofree char *reason =
      g_strdup_printf ("migration did not complete within %u s", self->options->timeout);

  self->timeout_id = 0;
  if (self->finished || self->state != STATE_ACTIVE)
    return G_SOURCE_REMOVE;
  if (g_str_equal (self->options->timeout_action, "postcopy"))
    {
      policy_action (self, "start-postcopy", reason);
      ferry_migration_start_postcopy (self, NULL);
    }
  else if (g_str_equal (self->options->timeout_action, "pause"))
    {
      /* A paused guest dirties nothing: pre-copy then converges. */
      policy_action (self, "pause-guest", reason);
      self->stopped_for_migration = TRUE;
      ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "stop", NULL);
    }
  else
    {
      policy_action (self, "abort", reason);
      self->cancel_requested = FALSE;
      self->abort_reason = g_strdup (reason);
      ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "migrate_cancel", NULL);
    }
  return G_SOURCE_REMOVE;
}

static void
perform (FerryMigration *self)
{
  FerryMigrateOptions *o = self->options;
  FerryQmpBatch *batch = ferry_qmp_batch_new ();
  JsonObject *params = json_object_new ();
  JsonObject *migrate = json_object_new ();
  guint64 bandwidth = o->max_bandwidth ? o->max_bandwidth : UNLIMITED_BANDWIDTH;
  guint64 switchover = o->switchover_bandwidth;

  set_phase (self, PHASE_PERFORM);
  if (switchover == 0 && o->max_bandwidth == 0)
    switchover = DEFAULT_SWITCHOVER_BANDWIDTH;
  self->downtime_limit = o->max_downtime ? o->max_downtime : DEFAULT_DOWNTIME_MS;

  json_object_set_int_member (params, "max-bandwidth", (gint64) bandwidth);
  json_object_set_int_member (params, "avail-switchover-bandwidth", (gint64) switchover);
  json_object_set_int_member (params, "downtime-limit", (gint64) self->downtime_limit);
  json_object_set_int_member (params, "max-postcopy-bandwidth", (gint64) o->max_postcopy_bandwidth);
  if (o->multifd_channels > 0)
    json_object_set_int_member (params, "multifd-channels", o->multifd_channels);
  if (g_strcmp0 (o->compression, "none") != 0 && o->multifd_channels > 0)
    json_object_set_string_member (params, "multifd-compression", o->compression);

  ferry_qmp_batch_add (batch, "migrate-set-capabilities",
                       capabilities_args ((const char *const *) self->features, TRUE));
  ferry_qmp_batch_add (batch, "migrate-set-parameters", params);
  json_object_set_string_member (migrate, "uri", self->migrate_uri);
  ferry_qmp_batch_add (batch, "migrate", migrate);
  if (o->timeout > 0)
    self->timeout_id = g_timeout_add_seconds (o->timeout, timeout_cb, self);
  ferry_qmp_batch_run_async (batch, ferry_qemu_get_qmp (self->qemu), NULL, migrate_sent_cb,
                             g_object_ref (self));
}

static void
prepare_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  g_autoptr (GVariant) info = NULL;
  const char *uri = NULL;

  if (reply == NULL)
    {
      rollback (self, peer_error (error, "refused to prepare"));
      return;
    }
  g_variant_get (reply, "(o@a{sv})", &self->peer_migration, &info);
  if (check_cancelled (self))
    return;
  g_variant_lookup (info, "migrate-uri", "&s", &uri);
  self->migrate_uri = g_strdup (self->options->migrate_uri ? self->options->migrate_uri : uri);
  if (self->migrate_uri == NULL)
    {
      rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                           "Destination gave no migration address"));
      return;
    }
  perform (self);
}

static GStrv
choose_features (FerryMigration *self, const char *const *peer_caps, GError **error)
{
  FerryMigrateOptions *o = self->options;
  g_autoptr (GStrvBuilder) features = g_strv_builder_new ();
  gboolean peer_has_ack = peer_caps && g_strv_contains (peer_caps, "switchover-ack");

  gboolean postcopy =
      o->postcopy != FERRY_POSTCOPY_OFF || g_str_equal (o->timeout_action, "postcopy");

  /* The return path costs downtime here (the source waits for the
   * destination's load to finish); only features that need it get it. */
  g_strv_builder_add (features, "events");
  if (postcopy || g_str_equal (o->switchover_ack, "on"))
    g_strv_builder_add (features, "return-path");
  if (postcopy)
    {
      if (peer_caps && !g_strv_contains (peer_caps, "postcopy"))
        {
          g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                               "The destination does not support post-copy");
          return NULL;
        }
      g_strv_builder_add (features, "postcopy-ram");
    }
  if (o->multifd_channels > 0)
    g_strv_builder_add (features, "multifd");
  if (o->auto_converge)
    g_strv_builder_add (features, "auto-converge");
  if (g_str_equal (o->switchover_ack, "on") && !peer_has_ack)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "The destination does not support switchover-ack");
      return NULL;
    }
  /* "auto" uses switchover-ack when the return path is there anyway and
   * both sides have it: it only helps devices that ask for an ack. */
  if (g_str_equal (o->switchover_ack, "on") ||
      (g_str_equal (o->switchover_ack, "auto") && peer_has_ack && postcopy))
    g_strv_builder_add (features, "switchover-ack");
  return g_strv_builder_end (features);
}

static void
hello_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  g_autoptr (GVariant) info = NULL;
  g_autofree const char **caps = NULL;
  const char *uuid = NULL;
  guint32 api = 0;
  g_autofree char *persistent = NULL;
  g_autofree char *live = NULL;
  g_autoptr (FerryDomainConfig) live_config = NULL;

  if (reply == NULL)
    {
      rollback (self, peer_error (error, "refused the handshake"));
      return;
    }
  if (check_cancelled (self))
    return;
  g_variant_get (reply, "(@a{sv})", &info);
  g_variant_lookup (info, "api", "u", &api);
  g_variant_lookup (info, "host-uuid", "&s", &uuid);
  g_variant_lookup (info, "capabilities", "^a&s", &caps);
  if (api != 1)
    {
      rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                   "Destination speaks peer protocol %u, this host speaks 1", api));
      return;
    }
  if (g_strcmp0 (uuid, self->local_host_uuid) == 0)
    {
      rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                                           "The destination is this host"));
      return;
    }
  self->features = choose_features (self, caps, &error);
  if (self->features == NULL)
    {
      rollback (self, g_steal_pointer (&error));
      return;
    }

  set_phase (self, PHASE_PREPARE);
  persistent = ferry_domain_config_to_data (ferry_domain_get_config (self->domain));
  live_config = ferry_domain_config_copy (ferry_domain_get_config (self->domain));
  if (self->resolved_machine)
    g_set_str (&live_config->machine, self->resolved_machine);
  live = ferry_domain_config_to_data (live_config);
  g_dbus_connection_call (self->peer, PEER_BUS_NAME, PEER_PATH, PEER_INTERFACE, "Prepare",
                          g_variant_new ("(sss@a{sv}@a{sv})", ferry_domain_get_name (self->domain),
                                         persistent, live, self->options->variant,
                                         source_info (self)),
                          G_VARIANT_TYPE ("(oa{sv})"), G_DBUS_CALL_FLAGS_NONE,
                          /* Not cancellable: a cancelled Prepare must still
                           * be answered so its destination can be aborted. */
                          PEER_CALL_TIMEOUT_MS, NULL, prepare_cb, g_object_ref (self));
}

static void
peer_closed_cb (GDBusConnection *connection,
                gboolean remote_peer_vanished,
                GError *error,
                gpointer user_data)
{
  FerryMigration *self = user_data;

  if (self->finished)
    return;
  g_warning ("%s: lost the link to the destination", self->path);
  /* In pre-copy QEMU's own stream tells the outcome; before Perform
   * nothing has moved yet. */
  if (!self->migrate_sent)
    {
      g_clear_pointer (&self->peer_migration, g_free);
      rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                                           "Lost the connection to the destination ferryd"));
    }
}

static void
peer_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  self->peer = ferry_peer_connect_finish (result, &error);
  if (self->peer == NULL)
    {
      rollback (self, g_steal_pointer (&error));
      return;
    }
  g_dbus_connection_set_exit_on_close (self->peer, FALSE);
  g_signal_connect_object (self->peer, "closed", G_CALLBACK (peer_closed_cb), self, 0);
  if (check_cancelled (self))
    return;
  g_dbus_connection_call (self->peer, PEER_BUS_NAME, PEER_PATH, PEER_INTERFACE, "Hello",
                          g_variant_new ("(@a{sv})", source_info (self)),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, PEER_CALL_TIMEOUT_MS,
                          self->cancellable, hello_cb, g_object_ref (self));
}

static void
machines_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (JsonNode) reply = ferry_qmp_execute_finish (FERRY_QMP (source), result, NULL);
  const char *configured = ferry_domain_get_config (self->domain)->machine;

  /* Both sides must run the same versioned machine type; an alias such
   * as "q35" is resolved on the source (research pitfall 6). */
  if (reply && JSON_NODE_HOLDS_ARRAY (reply))
    {
      JsonArray *machines = json_node_get_array (reply);
      for (guint i = 0; i < json_array_get_length (machines); i++)
        {
          JsonObject *m = json_array_get_object_element (machines, i);
          if (g_strcmp0 (json_object_get_string_member_with_default (m, "alias", NULL),
                         configured) == 0)
            g_set_str (&self->resolved_machine, json_object_get_string_member (m, "name"));
        }
    }
  if (check_cancelled (self))
    return;
  ferry_peer_connect_async (self->peer_address, self->cancellable, peer_connected_cb,
                            g_object_ref (self));
}

static void
on_qemu_exited (FerryQemu *qemu, gpointer user_data)
{
  FerryMigration *self = user_data;

  if (self->finished)
    return;
  if (self->incoming)
    {
      if (self->state == STATE_POSTCOPY_ACTIVE || self->state == STATE_POSTCOPY_PAUSED)
        g_warning ("%s: destination QEMU died during post-copy: the guest is lost unless the "
                   "source still holds it",
                   self->path);
      drop_qemu (self);
      rollback_incoming (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                                    "The destination QEMU exited"));
      return;
    }
  if (self->phase == PHASE_FINISH || self->phase == PHASE_CONFIRM)
    return; /* expected: Confirm stops it */
  drop_qemu (self);
  rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                       "The source QEMU exited during the migration"));
}

void
ferry_migration_run_outgoing (FerryMigration *self, const char *peer_address)
{
  self->peer_address = g_strdup (peer_address);
  self->begin_us = g_get_real_time ();
  self->qemu = g_object_ref (ferry_domain_get_qemu (self->domain));
  self->event_id = g_signal_connect (ferry_qemu_get_qmp (self->qemu), "event",
                                     G_CALLBACK (on_source_event), self);
  self->exited_id = g_signal_connect (self->qemu, "exited", G_CALLBACK (on_qemu_exited), self);
  ferry_domain_set_migration (self->domain, G_OBJECT (self), FALSE);
  set_phase (self, PHASE_BEGIN);
  set_state (self, STATE_SETUP);
  ferry_qmp_execute_async (ferry_qemu_get_qmp (self->qemu), "query-machines", NULL, NULL,
                           machines_cb, g_object_ref (self));
}

/* Finish (destination) → Confirm (source) */

static void
confirm_success (FerryMigration *self)
{
  g_autoptr (GError) error = NULL;
  FerryQemu *qemu = self->qemu ? g_object_ref (self->qemu) : NULL;

  set_phase (self, PHASE_CONFIRM);
  /* The guest now runs on the destination: stop the source QEMU. */
  if (qemu)
    {
      drop_qemu (self);
      ferry_qemu_terminate (qemu);
      g_object_unref (qemu);
    }
  ferry_domain_set_qemu (self->domain, NULL);
  finish (self, STATE_COMPLETED, NULL);
  if (self->options->undefine_source &&
      !ferry_daemon_undefine_domain (self->daemon, self->domain, &error))
    g_warning ("%s: cannot undefine the source domain: %s", self->path, error->message);
}

static void
peer_finish_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  g_autoptr (GVariant) info = NULL;
  guint64 resume = 0;

  if (reply == NULL)
    {
      /* The destination could not resume the guest. In pre-copy the
       * source still holds all of it: resume here. */
      if (self->postcopy_started)
        {
          g_warning ("%s: destination failed to finish after post-copy: %s", self->path,
                     error->message);
          set_state (self, STATE_POSTCOPY_PAUSED);
          return;
        }
      rollback (self, peer_error (error, "could not finish"));
      return;
    }
  g_variant_get (reply, "(@a{sv})", &info);
  if (g_variant_lookup (info, "resume-time", "t", &resume))
    self->resume_us = (gint64) resume;
  confirm_success (self);
}

/* What the destination learns in Finish: the source's statistics and
 * when the source stopped, so it can tell the real downtime too. */
static GVariant *
finish_statistics (FerryMigration *self)
{
  g_autoptr (GVariant) stats = g_variant_ref_sink (build_statistics (self));
  GVariantDict dict;

  g_variant_dict_init (&dict, stats);
  g_variant_dict_insert (&dict, "source-stop-time", "t", (guint64) self->stop_us);
  return g_variant_dict_end (&dict);
}

static void
final_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (JsonNode) reply = ferry_qmp_execute_finish (FERRY_QMP (source), result, NULL);

  if (reply && JSON_NODE_HOLDS_OBJECT (reply))
    {
      g_clear_pointer (&self->info, json_object_unref);
      self->info = json_object_ref (json_node_get_object (reply));
      update_progress (self);
    }
  self->end_us = g_get_real_time ();
  set_phase (self, PHASE_FINISH);
  g_dbus_connection_call (
      self->peer, PEER_BUS_NAME, PEER_PATH, PEER_INTERFACE, "Finish",
      g_variant_new ("(ob@a{sv})", self->peer_migration, TRUE, finish_statistics (self)),
      G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, PEER_CALL_TIMEOUT_MS, NULL,
      peer_finish_cb, g_object_ref (self));
}

static void
migration_failed_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerryMigration) self = user_data;
  g_autoptr (JsonNode) reply = ferry_qmp_execute_finish (FERRY_QMP (source), result, NULL);
  const char *desc = NULL;
  const char *reason = self->abort_reason;

  if (reply && JSON_NODE_HOLDS_OBJECT (reply))
    desc = json_object_get_string_member_with_default (json_node_get_object (reply), "error-desc",
                                                       NULL);
  if (reason)
    rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED, "Aborted: %s", reason));
  else
    rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                 "QEMU reported the migration failed: %s",
                                 desc ? desc : "no reason given"));
}

static void
on_source_event (FerryQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data)
{
  FerryMigration *self = user_data;
  const char *status;

  if (self->finished)
    return;
  if (g_str_equal (name, "STOP"))
    {
      if (self->migrate_sent)
        {
          self->stop_us = ts;
          self->stopped_for_migration = TRUE;
        }
      return;
    }
  if (g_str_equal (name, "RESUME"))
    {
      self->stopped_for_migration = FALSE;
      return;
    }
  if (g_str_equal (name, "MIGRATION_PASS"))
    {
      GVariantDict stats;
      JsonObject *ram = ram_info (self);

      self->pass = (guint) json_object_get_int_member_with_default (data, "pass", 0);
      /* Pass 1 also carries zero pages; compare from pass 2 on. */
      self->pass_sample_pending = self->pass >= 2;
      g_variant_dict_init (&stats, NULL);
      g_variant_dict_insert (&stats, "memory-remaining", "t", get_u64 (ram, "remaining"));
      g_variant_dict_insert (&stats, "memory-transferred", "t", get_u64 (ram, "transferred"));
      g_variant_dict_insert (&stats, "transfer-rate", "t", transfer_rate (ram));
      g_variant_dict_insert (&stats, "dirty-rate", "t", dirty_rate (ram));
      g_variant_dict_insert (&stats, "expected-downtime", "t",
                             get_u64 (self->info, "expected-downtime"));
      ferry_dbus_migration_emit_iteration (self->record, self->pass, g_variant_dict_end (&stats));
      sample_now (self);
      return;
    }
  if (!g_str_equal (name, "MIGRATION"))
    return;

  status = json_object_get_string_member_with_default (data, "status", "");
  g_debug ("%s: source QEMU migration %s", self->path, status);
  if (g_str_equal (status, "setup"))
    set_state (self, STATE_SETUP);
  else if (g_str_equal (status, "active"))
    set_state (self, STATE_ACTIVE);
  else if (g_str_equal (status, "postcopy-active"))
    {
      gboolean was_paused = self->state == STATE_POSTCOPY_PAUSED;
      set_state (self, STATE_POSTCOPY_ACTIVE);
      if (!note_postcopy_started (self, ts) && was_paused)
        ferry_dbus_migration_set_error_message (self->record, "");
    }
  else if (g_str_equal (status, "postcopy-paused"))
    {
      /* Neither side holds the whole guest: both stay paused until
       * Recover. Never roll back here. */
      set_state (self, STATE_POSTCOPY_PAUSED);
      ferry_dbus_migration_set_error_name (self->record,
                                           "org.ferryvm.Ferry1.Error.MigrationFailed");
      ferry_dbus_migration_set_error_message (
          self->record, "Post-copy link lost: the guest is paused on both hosts; use Recover");
    }
  else if (g_str_equal (status, "completed"))
    {
      stop_sampling (self);
      ferry_qmp_execute_async (qmp, "query-migrate", NULL, NULL, final_query_cb,
                               g_object_ref (self));
    }
  else if (g_str_equal (status, "failed"))
    {
      stop_sampling (self);
      if (self->postcopy_started)
        {
          set_state (self, STATE_POSTCOPY_PAUSED);
          return;
        }
      ferry_qmp_execute_async (qmp, "query-migrate", NULL, NULL, migration_failed_query_cb,
                               g_object_ref (self));
    }
  else if (g_str_equal (status, "cancelled"))
    {
      stop_sampling (self);
      if (self->abort_reason)
        ferry_qmp_execute_async (qmp, "query-migrate", NULL, NULL, migration_failed_query_cb,
                                 g_object_ref (self));
      else
        {
          self->cancel_requested = TRUE;
          rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                               "Migration cancelled by request"));
        }
    }
}

/* --- control --- */

gboolean
ferry_migration_cancel (FerryMigration *self, GError **error)
{
  if (self->finished)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                   state_names[self->state]);
      return FALSE;
    }
  if (self->postcopy_started)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Post-copy has started: neither host holds the whole guest, so the "
                           "migration can no longer be cancelled");
      return FALSE;
    }
  if (self->incoming)
    {
      ferry_migration_abort_incoming (self, "cancelled on the destination");
      return TRUE;
    }
  if (self->cancel_requested)
    return TRUE;
  self->cancel_requested = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->migrate_sent && self->qemu)
    {
      ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "migrate_cancel", NULL);
      /* In pre-copy the source holds the whole guest: the destination can
       * drop its copy now, while QEMU winds the stream down. */
      send_peer_abort (self, "cancelled");
    }
  return TRUE;
}

static gboolean
require_active_source (FerryMigration *self, const char *what, GError **error)
{
  if (self->incoming)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "%s is done on the source host's migration object", what);
      return FALSE;
    }
  if (self->finished || self->qemu == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                   state_names[self->state]);
      return FALSE;
    }
  return TRUE;
}

gboolean
ferry_migration_start_postcopy (FerryMigration *self, GError **error)
{
  if (!require_active_source (self, "Switching to post-copy", error))
    return FALSE;
  if (self->features == NULL ||
      !g_strv_contains ((const char *const *) self->features, "postcopy-ram"))
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Post-copy was not enabled for this migration (option postcopy)");
      return FALSE;
    }
  if (!self->migrate_sent)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_BUSY,
                           "The migration stream has not started yet");
      return FALSE;
    }
  if (self->postcopy_requested)
    return TRUE;
  self->postcopy_requested = TRUE;
  /* If pre-copy completes first, the outcome is reported as pre-copy. */
  ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "migrate-start-postcopy", NULL);
  return TRUE;
}

static gboolean
set_parameter (FerryMigration *self, const char *name, guint64 value, GError **error)
{
  JsonObject *args;

  if (!require_active_source (self, "Tuning", error))
    return FALSE;
  args = json_object_new ();
  json_object_set_int_member (args, name, (gint64) value);
  ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "migrate-set-parameters", args);
  json_object_unref (args);
  return TRUE;
}

gboolean
ferry_migration_set_max_downtime (FerryMigration *self, guint64 ms, GError **error)
{
  if (ms == 0 || ms > 2000000)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                           "Maximum downtime must be between 1 and 2000000 ms");
      return FALSE;
    }
  if (!set_parameter (self, "downtime-limit", ms, error))
    return FALSE;
  self->downtime_limit = ms;
  return TRUE;
}

gboolean
ferry_migration_set_max_bandwidth (FerryMigration *self, guint64 bps, GError **error)
{
  if (bps > (guint64) G_MAXINT64)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                           "Bandwidth out of range");
      return FALSE;
    }
  return set_parameter (self, "max-bandwidth", bps ? bps : UNLIMITED_BANDWIDTH, error);
}

gboolean
ferry_migration_pause (FerryMigration *self, GError **error)
{
  if (!require_active_source (self, "Pausing", error))
    return FALSE;
  if (self->state != STATE_POSTCOPY_ACTIVE)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           "Only a migration in post-copy can be paused");
      return FALSE;
    }
  ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "migrate-pause", NULL);
  return TRUE;
}

gboolean
ferry_migration_recover (FerryMigration *self, const char *uri, GError **error)
{
  g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                       "Post-copy recovery is not implemented yet");
  return FALSE;
}

/* --- destination side --- */

static gboolean
stream_failed_timeout_cb (gpointer user_data)
{
  FerryMigration *self = user_data;

  self->finish_timeout_id = 0;
  ferry_migration_abort_incoming (self, "the incoming migration stream failed");
  return G_SOURCE_REMOVE;
}

static void
on_dest_event (FerryQmp *qmp, const char *name, JsonObject *data, gint64 ts, gpointer user_data)
{
  FerryMigration *self = user_data;
  const char *status;

  if (self->finished)
    return;
  if (g_str_equal (name, "RESUME"))
    {
      self->resume_us = ts;
      incoming_try_finish (self);
      return;
    }
  if (!g_str_equal (name, "MIGRATION"))
    return;
  status = json_object_get_string_member_with_default (data, "status", "");
  g_debug ("%s: destination QEMU migration %s", self->path, status);
  if (g_str_equal (status, "active"))
    {
      if (self->phase == PHASE_PREPARE)
        set_phase (self, PHASE_PERFORM);
      set_state (self, STATE_ACTIVE);
    }
  else if (g_str_equal (status, "postcopy-active"))
    {
      if (self->phase == PHASE_PREPARE)
        set_phase (self, PHASE_PERFORM);
      set_state (self, STATE_POSTCOPY_ACTIVE);
      note_postcopy_started (self, ts);
      /* The source has stopped for good: the guest can only run here. */
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          ferry_qmp_send (qmp, "cont", NULL);
        }
    }
  else if (g_str_equal (status, "postcopy-paused"))
    set_state (self, STATE_POSTCOPY_PAUSED);
  else if (g_str_equal (status, "completed"))
    {
      self->incoming_completed = TRUE;
      incoming_try_finish (self);
    }
  else if (g_str_equal (status, "failed"))
    {
      if (self->postcopy_started)
        {
          set_state (self, STATE_POSTCOPY_PAUSED);
          return;
        }
      /* The source knows why (a cancel looks like a failure from here):
       * wait briefly for its Abort or Finish before deciding alone. */
      if (self->finish_task == NULL && self->finish_timeout_id == 0)
        self->finish_timeout_id =
            g_timeout_add_seconds (SOURCE_VERDICT_TIMEOUT_S, stream_failed_timeout_cb, self);
    }
}

static void
incoming_try_finish (FerryMigration *self)
{
  g_autoptr (GTask) task = NULL;
  GVariantDict result;
  FerryQemu *qemu;

  if (!self->incoming_completed || self->finish_task == NULL)
    return;
  if (self->resume_us == 0)
    {
      if (!self->resume_sent)
        {
          self->resume_sent = TRUE;
          ferry_qmp_send (ferry_qemu_get_qmp (self->qemu), "cont", NULL);
        }
      return; /* RESUME brings us back here */
    }
  task = g_steal_pointer (&self->finish_task);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);

  /* The guest runs here now: the domain owns its QEMU. */
  qemu = g_object_ref (self->qemu);
  ferry_qemu_set_arrived (qemu);
  drop_qemu (self);
  ferry_domain_set_migration (self->domain, NULL, FALSE);
  ferry_domain_set_qemu (self->domain, qemu);
  g_object_unref (qemu);
  if (self->options->persist && self->persistent_description)
    {
      g_autoptr (GError) error = NULL;
      FerryDomainConfig *config = ferry_domain_config_parse (self->persistent_description, &error);

      if (config == NULL || !ferry_daemon_persist_domain (self->daemon, config, &error))
        g_warning ("%s: cannot persist the domain: %s", self->path, error->message);
    }
  set_phase (self, PHASE_CONFIRM);
  finish (self, STATE_COMPLETED, NULL);

  g_variant_dict_init (&result, NULL);
  g_variant_dict_insert (&result, "resume-time", "t", (guint64) self->resume_us);
  g_variant_dict_insert (&result, "state", "s", "running");
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&result)),
                         (GDestroyNotify) g_variant_unref);
}

static void
incoming_cleanup (FerryMigration *self)
{
  FerryQemu *qemu = self->qemu;

  if (qemu)
    {
      g_object_ref (qemu);
      drop_qemu (self);
      ferry_qemu_terminate (qemu);
      g_object_unref (qemu);
    }
}

static void
remove_created_domain (FerryMigration *self)
{
  g_autoptr (GError) error = NULL;

  ferry_domain_set_migration (self->domain, NULL, FALSE);
  if (self->created_domain && !ferry_daemon_is_persistent (self->daemon, self->domain))
    if (!ferry_daemon_undefine_domain (self->daemon, self->domain, &error))
      g_debug ("%s: %s", self->path, error->message);
}

void
ferry_migration_abort_incoming (FerryMigration *self, const char *reason)
{
  g_autoptr (GError) error = NULL;
  gboolean cancelled = g_strcmp0 (reason, "cancelled") == 0;

  if (self->finished)
    return;
  incoming_cleanup (self);
  error =
      g_error_new (FERRY_ERROR, cancelled ? FERRY_ERROR_CANCELLED : FERRY_ERROR_MIGRATION_FAILED,
                   "Incoming migration aborted: %s", reason);
  if (self->finish_task)
    {
      g_autoptr (GTask) task = g_steal_pointer (&self->finish_task);
      g_task_return_error (task, g_error_copy (error));
    }
  finish (self, cancelled ? STATE_CANCELLED : STATE_FAILED, error);
  remove_created_domain (self);
}

static void
rollback_incoming (FerryMigration *self, GError *error)
{
  g_autoptr (GError) owned = error;

  incoming_cleanup (self);
  finish (self, STATE_FAILED, owned);
  remove_created_domain (self);
}

static void
peer_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  FerryMigration *self = user_data;

  if (self->finished || self->finish_task)
    return;
  if (self->postcopy_started)
    {
      /* Part of the guest is here, part there: keep it, paused. */
      set_state (self, STATE_POSTCOPY_PAUSED);
      return;
    }
  g_warning ("%s: the source ferryd went away", self->path);
  ferry_migration_abort_incoming (self, "the source ferryd disconnected");
}

static gboolean
finish_timeout_cb (gpointer user_data)
{
  FerryMigration *self = user_data;

  self->finish_timeout_id = 0;
  ferry_migration_abort_incoming (self, "the guest did not resume in time");
  return G_SOURCE_REMOVE;
}

void
ferry_migration_finish_incoming_async (FerryMigration *self,
                                       gboolean source_completed,
                                       GVariant *statistics,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  if (self->finished || self->finish_task)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "Incoming migration is %s", state_names[self->state]);
      return;
    }
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  g_clear_pointer (&self->source_statistics, g_variant_unref);
  self->source_statistics = g_variant_ref (statistics);
  if (self->phase == PHASE_PREPARE)
    set_phase (self, PHASE_PERFORM);
  set_phase (self, PHASE_FINISH);
  if (!source_completed)
    {
      self->finish_task = g_steal_pointer (&task);
      ferry_migration_abort_incoming (self, "the source reported failure");
      return;
    }
  self->finish_task = g_steal_pointer (&task);
  self->finish_timeout_id = g_timeout_add_seconds (FINISH_TIMEOUT_S, finish_timeout_cb, self);
  incoming_try_finish (self);
}

GVariant *
ferry_migration_finish_incoming_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
incoming_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerryMigration *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = ferry_qmp_batch_run_finish (result, &error);
  JsonArray *addresses;
  const char *data_host = self->data_host;
  gint64 port = 0;
  g_autofree char *uri = NULL;
  GVariantDict dict;

  if (reply == NULL)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Cannot prepare the incoming migration: %s", error->message);
      rollback_incoming (self, g_error_new (FERRY_ERROR, FERRY_ERROR_FAILED, "%s", error->message));
      return;
    }
  if (JSON_NODE_HOLDS_OBJECT (reply) &&
      json_object_has_member (json_node_get_object (reply), "socket-address"))
    {
      addresses = json_object_get_array_member (json_node_get_object (reply), "socket-address");
      if (json_array_get_length (addresses) > 0)
        port = g_ascii_strtoll (json_object_get_string_member_with_default (
                                    json_array_get_object_element (addresses, 0), "port", "0"),
                                NULL, 10);
    }
  if (port <= 0)
    {
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "QEMU did not report its incoming port");
      rollback_incoming (self,
                         g_error_new_literal (FERRY_ERROR, FERRY_ERROR_FAILED, "no incoming port"));
      return;
    }
  uri = g_strdup_printf ("tcp:%s:%" G_GINT64_FORMAT, data_host, port);
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "migrate-uri", "s", uri);
  g_variant_dict_insert_value (&dict, "capabilities",
                               g_variant_new_strv ((const char *const *) self->features, -1));
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&dict)),
                         (GDestroyNotify) g_variant_unref);
}

static void
incoming_launched_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerryMigration *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  FerryQmpBatch *batch;
  JsonObject *params = json_object_new ();
  JsonObject *incoming = json_object_new ();
  const char *data_host = self->data_host;
  g_autofree char *listen = NULL;
  gboolean loopback = g_str_equal (data_host, "127.0.0.1") || g_str_equal (data_host, "localhost");

  self->qemu = ferry_qemu_launch_finish (result, &error);
  if (self->qemu == NULL || self->finished)
    {
      json_object_unref (params);
      json_object_unref (incoming);
      if (self->qemu)
        incoming_cleanup (self);
      g_task_return_error (task, error ? g_steal_pointer (&error)
                                       : g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                                              "Migration aborted"));
      if (!self->finished)
        rollback_incoming (
            self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_FAILED, "QEMU failed to start"));
      return;
    }
  self->event_id =
      g_signal_connect (ferry_qemu_get_qmp (self->qemu), "event", G_CALLBACK (on_dest_event), self);
  self->exited_id = g_signal_connect (self->qemu, "exited", G_CALLBACK (on_qemu_exited), self);

  batch = ferry_qmp_batch_new ();
  ferry_qmp_batch_add (batch, "migrate-set-capabilities",
                       capabilities_args ((const char *const *) self->features, FALSE));
  if (self->options->multifd_channels > 0)
    {
      json_object_set_int_member (params, "multifd-channels", self->options->multifd_channels);
      ferry_qmp_batch_add (batch, "migrate-set-parameters", params);
    }
  else
    json_object_unref (params);
  /* Port 0: QEMU picks a free port and reports it in query-migrate. */
  listen = g_strdup_printf ("tcp:%s:0", loopback ? "127.0.0.1" : "0.0.0.0");
  json_object_set_string_member (incoming, "uri", listen);
  json_object_set_boolean_member (incoming, "exit-on-error", FALSE);
  ferry_qmp_batch_add (batch, "migrate-incoming", incoming);
  ferry_qmp_batch_add (batch, "query-migrate", NULL);
  ferry_qmp_batch_run_async (batch, ferry_qemu_get_qmp (self->qemu), NULL, incoming_ready_cb,
                             g_steal_pointer (&task));
}

void
ferry_migration_prepare_incoming_async (FerryMigration *self,
                                        GDBusConnection *connection,
                                        const char *peer_name,
                                        const FerryDomainConfig *live,
                                        const char *persistent_description,
                                        gboolean created_domain,
                                        GVariant *info,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  /* Started paused (-S): the guest resumes here only in Finish, once the
   * source has confirmed, or when post-copy has begun (then the source
   * can never resume it). So it never runs on both hosts. */
  FerryQemuLaunch launch = { ferry_domain_get_runtime_dir (self->domain),
                             ferry_domain_get_state_dir (self->domain), TRUE, TRUE };
  g_autofree const char **features = NULL;
  const char *data_host = "127.0.0.1";

  g_variant_lookup (info, "features", "^a&s", &features);
  g_variant_lookup (info, "data-host", "&s", &data_host);
  /* Begin ran on the source; the incoming object starts there too. */
  set_phase (self, PHASE_BEGIN);
  self->features = g_strdupv ((GStrv) (features ? features : (const char *[]){ "events", NULL }));
  self->data_host = g_strdup (data_host);
  self->created_domain = created_domain;
  self->persistent_description = g_strdup (persistent_description);
  self->peer_name = g_strdup (peer_name);
  self->peer_connection = g_object_ref (connection);
  self->peer_watch_id = g_bus_watch_name_on_connection (
      connection, peer_name, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, peer_vanished_cb, self, NULL);
  ferry_domain_set_migration (self->domain, G_OBJECT (self), TRUE);
  set_phase (self, PHASE_PREPARE);
  set_state (self, STATE_SETUP);
  ferry_qemu_launch_async (live, &launch, NULL, incoming_launched_cb, task);
}

GVariant *
ferry_migration_prepare_incoming_finish (FerryMigration *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ferry_migration_shutdown (FerryMigration *self)
{
  /* Guests outlive ferryd; only timers and watches stop here. */
  stop_sampling (self);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer_watch_id)
    g_clear_handle_id (&self->peer_watch_id, g_bus_unwatch_name);
}

/* --- object --- */

FerryMigration *
ferry_migration_new (const FerryMigrationSetup *setup)
{
  FerryMigration *self = g_object_new (FERRY_TYPE_MIGRATION, NULL);
  g_autofree char *domain_path = NULL;
  GString *escaped = g_string_new (NULL);
  const char *name = ferry_domain_get_name (setup->domain);

  self->daemon = g_object_ref (setup->daemon);
  self->domain = g_object_ref (setup->domain);
  self->incoming = setup->incoming;
  self->options = setup->options;
  self->local_hostname = g_strdup (setup->local_hostname);
  self->local_host_uuid = g_strdup (setup->local_host_uuid);
  self->path = g_strdup_printf ("/org/ferryvm/Ferry1/migration/%u", setup->id);
  self->downtime_limit =
      self->options->max_downtime ? self->options->max_downtime : DEFAULT_DOWNTIME_MS;

  for (const guchar *p = (const guchar *) name; *p; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (escaped, *p);
    else
      g_string_append_printf (escaped, "_%02x", *p);
  domain_path = g_strconcat ("/org/ferryvm/Ferry1/domain/", escaped->str, NULL);
  g_string_free (escaped, TRUE);

  self->record = ferry_dbus_migration_skeleton_new ();
  ferry_dbus_migration_set_domain (self->record, domain_path);
  ferry_dbus_migration_set_domain_name (self->record, name);
  ferry_dbus_migration_set_source (self->record, setup->source);
  ferry_dbus_migration_set_destination (self->record, setup->destination);
  ferry_dbus_migration_set_direction (self->record, setup->incoming ? "incoming" : "outgoing");
  ferry_dbus_migration_set_backend (self->record, "qmp");
  ferry_dbus_migration_set_options (self->record, self->options->variant);
  ferry_dbus_migration_set_started_by_uid (self->record, setup->uid);
  ferry_dbus_migration_set_phase (self->record, "begin");
  ferry_dbus_migration_set_state (self->record, "pending");
  ferry_dbus_migration_set_mode (self->record, "precopy");
  ferry_dbus_migration_set_phase_timestamps (
      self->record, g_variant_new_array (G_VARIANT_TYPE ("{st}"), NULL, 0));
  ferry_dbus_migration_set_converging (self->record, "unknown");
  ferry_dbus_migration_set_statistics (self->record,
                                       g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  ferry_dbus_migration_set_error_name (self->record, "");
  ferry_dbus_migration_set_error_message (self->record, "");
  return self;
}

static void
ferry_migration_dispose (GObject *object)
{
  FerryMigration *self = FERRY_MIGRATION (object);

  stop_sampling (self);
  drop_qemu (self);
  if (self->peer_watch_id)
    g_clear_handle_id (&self->peer_watch_id, g_bus_unwatch_name);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer)
    g_signal_handlers_disconnect_by_data (self->peer, self);
  g_clear_object (&self->peer);
  g_clear_object (&self->peer_connection);
  G_OBJECT_CLASS (ferry_migration_parent_class)->dispose (object);
}

static void
ferry_migration_finalize (GObject *object)
{
  FerryMigration *self = FERRY_MIGRATION (object);

  g_clear_object (&self->record);
  g_clear_object (&self->domain);
  g_clear_object (&self->daemon);
  g_clear_object (&self->cancellable);
  ferry_migrate_options_free (self->options);
  g_clear_pointer (&self->info, json_object_unref);
  g_clear_pointer (&self->statistics, g_variant_unref);
  g_clear_pointer (&self->source_statistics, g_variant_unref);
  g_strfreev (self->features);
  g_free (self->path);
  g_free (self->local_hostname);
  g_free (self->local_host_uuid);
  g_free (self->peer_address);
  g_free (self->peer_migration);
  g_free (self->migrate_uri);
  g_free (self->resolved_machine);
  g_free (self->abort_reason);
  g_clear_error (&self->rollback_error);
  g_free (self->data_host);
  g_free (self->peer_name);
  g_free (self->persistent_description);
  G_OBJECT_CLASS (ferry_migration_parent_class)->finalize (object);
}

static void
ferry_migration_class_init (FerryMigrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferry_migration_dispose;
  object_class->finalize = ferry_migration_finalize;

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferry_migration_init (FerryMigration *self)
{
  self->cancellable = g_cancellable_new ();
}
