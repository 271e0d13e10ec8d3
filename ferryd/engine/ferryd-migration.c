/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration.c: one migration as a state machine
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
#include "ferryd-migration-private.h"
#include "ferryd-error.h"
#include "ferryd-peer.h"
#include "ferryd-qmp-batch.h"

const char *const migration_phase_names[] = { "none",   "begin",   "prepare", "perform",
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

const char *const migration_state_names[] = { "pending",         "setup",           "active",
                                              "postcopy-active", "postcopy-paused", "completed",
                                              "failed",          "cancelled" };

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydMigration, ferryd_migration, G_TYPE_OBJECT)

static void apply_policy (FerrydMigration *self);
static void sample_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static gboolean sample_tick (gpointer user_data);
static void ferryd_migration_dispose (GObject *object);
static void ferryd_migration_finalize (GObject *object);
static void ferryd_migration_class_init (FerrydMigrationClass *klass);
static void ferryd_migration_init (FerrydMigration *self);

/* --- accessors --- */

const char *
ferryd_migration_get_path (FerrydMigration *self)
{
  return self->path;
}

FerryDBusMigration *
ferryd_migration_get_record (FerrydMigration *self)
{
  return self->record;
}

FerrydDomain *
ferryd_migration_get_domain (FerrydMigration *self)
{
  return self->domain;
}

gboolean
ferryd_migration_is_incoming (FerrydMigration *self)
{
  return self->incoming;
}

gboolean
ferryd_migration_is_finished (FerrydMigration *self)
{
  return self->finished;
}

/* --- phases and states --- */

void
migration_set_phase (FerrydMigration *self, Phase phase)
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
      g_critical ("%s: invalid phase transition %s -> %s", self->path,
                  migration_phase_names[self->phase], migration_phase_names[phase]);
      return;
    }
  g_debug ("%s: phase %s", self->path, migration_phase_names[phase]);
  self->phase = phase;
  g_variant_builder_init (&stamps, G_VARIANT_TYPE ("a{st}"));
  g_variant_iter_init (&iter, ferry_dbus_migration_get_phase_timestamps (self->record));
  while (g_variant_iter_next (&iter, "{&st}", &key, &value))
    g_variant_builder_add (&stamps, "{st}", key, value);
  g_variant_builder_add (&stamps, "{st}", migration_phase_names[phase],
                         (guint64) g_get_real_time ());
  ferry_dbus_migration_set_phase_timestamps (self->record, g_variant_builder_end (&stamps));
  ferry_dbus_migration_set_phase (self->record, migration_phase_names[phase]);
  ferry_dbus_migration_emit_phase_changed (self->record, migration_phase_names[phase]);
}

gboolean
migration_state_is_final (State state)
{
  return state == STATE_COMPLETED || state == STATE_FAILED || state == STATE_CANCELLED;
}

void
migration_set_state (FerrydMigration *self, State state)
{
  if (self->state == state)
    return;
  if (migration_state_is_final (self->state))
    {
      g_critical ("%s: state change %s -> %s after the end", self->path,
                  migration_state_names[self->state], migration_state_names[state]);
      return;
    }
  g_debug ("%s: state %s", self->path, migration_state_names[state]);
  self->state = state;
  ferry_dbus_migration_set_state (self->record, migration_state_names[state]);
}

/* --- statistics and progress --- */

JsonObject *
migration_ram_info (FerrydMigration *self)
{
  if (self->info && json_object_has_member (self->info, "ram"))
    return json_object_get_object_member (self->info, "ram");
  return NULL;
}

guint64
migration_get_u64 (JsonObject *object, const char *member)
{
  JsonNode *node;

  if (object == NULL || !(node = json_object_get_member (object, member)) ||
      !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return (guint64) MAX (json_node_get_double (node), 0.0);
  return (guint64) MAX (json_node_get_int (node), 0);
}

guint64
migration_transfer_rate (JsonObject *ram)
{
  JsonNode *node = ram ? json_object_get_member (ram, "mbps") : NULL;

  /* QEMU reports megabits per second. */
  return node ? (guint64) (json_node_get_double (node) * 1e6 / 8) : 0;
}

guint64
migration_dirty_rate (JsonObject *ram)
{
  guint64 page_size = migration_get_u64 (ram, "page-size");

  return migration_get_u64 (ram, "dirty-pages-rate") * (page_size ? page_size : 4096);
}

GVariant *
migration_build_statistics (FerrydMigration *self)
{
  GVariantBuilder builder;
  JsonObject *ram = migration_ram_info (self);
  gboolean postcopy =
      self->postcopy_started && (migration_get_u64 (ram, "postcopy-bytes") > 0 || !ram);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "total-time",
                         g_variant_new_uint64 (migration_get_u64 (self->info, "total-time")));
  g_variant_builder_add (&builder, "{sv}", "setup-time",
                         g_variant_new_uint64 (migration_get_u64 (self->info, "setup-time")));
  g_variant_builder_add (&builder, "{sv}", "downtime",
                         g_variant_new_uint64 (migration_get_u64 (self->info, "downtime")));
  if (self->stop_us && self->resume_us >= self->stop_us)
    g_variant_builder_add (
        &builder, "{sv}", "downtime-real",
        g_variant_new_uint64 ((guint64) (self->resume_us - self->stop_us) / 1000));
  g_variant_builder_add (&builder, "{sv}", "memory-total",
                         g_variant_new_uint64 (migration_get_u64 (ram, "total")));
  g_variant_builder_add (&builder, "{sv}", "memory-transferred",
                         g_variant_new_uint64 (migration_get_u64 (ram, "transferred")));
  g_variant_builder_add (&builder, "{sv}", "memory-remaining",
                         g_variant_new_uint64 (migration_get_u64 (ram, "remaining")));
  g_variant_builder_add (&builder, "{sv}", "pages-transferred",
                         g_variant_new_uint64 (migration_get_u64 (ram, "normal")));
  g_variant_builder_add (&builder, "{sv}", "pages-zero",
                         g_variant_new_uint64 (migration_get_u64 (ram, "duplicate")));
  g_variant_builder_add (
      &builder, "{sv}", "iterations",
      g_variant_new_uint32 ((guint32) migration_get_u64 (ram, "dirty-sync-count")));
  g_variant_builder_add (&builder, "{sv}", "dirty-rate",
                         g_variant_new_uint64 (migration_dirty_rate (ram)));
  g_variant_builder_add (&builder, "{sv}", "transfer-rate",
                         g_variant_new_uint64 (migration_transfer_rate (ram)));
  g_variant_builder_add (&builder, "{sv}", "postcopy-requests",
                         g_variant_new_uint64 (migration_get_u64 (ram, "postcopy-requests")));
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
ferryd_migration_get_statistics (FerrydMigration *self)
{
  if (self->statistics)
    return g_variant_ref (self->statistics);
  return migration_build_statistics (self);
}

void
migration_update_progress (FerrydMigration *self)
{
  JsonObject *ram = migration_ram_info (self);
  guint64 total = migration_get_u64 (ram, "total");
  guint64 remaining = migration_get_u64 (ram, "remaining");
  guint64 transferred = migration_get_u64 (ram, "transferred");
  guint64 rate = migration_transfer_rate (ram);
  guint64 dirty = migration_dirty_rate (ram);
  guint64 expected = migration_get_u64 (self->info, "expected-downtime");
  guint iteration = (guint) migration_get_u64 (ram, "dirty-sync-count");
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
  ferry_dbus_migration_set_time_elapsed (self->record,
                                         migration_get_u64 (self->info, "total-time"));
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

void
migration_policy_action (FerrydMigration *self, const char *action, const char *reason)
{
  g_info ("%s: policy: %s (%s)", self->path, action, reason);
  ferry_dbus_migration_emit_policy_action (self->record, action, reason);
}

static void
apply_policy (FerrydMigration *self)
{
  JsonObject *ram = migration_ram_info (self);
  g_autofree char *reason = NULL;

  if (self->options->postcopy != FERRYD_POSTCOPY_AUTO || self->postcopy_requested ||
      self->state != STATE_ACTIVE || self->pass < 2)
    return;
  if (g_strcmp0 (ferry_dbus_migration_get_converging (self->record), "no") != 0)
    return;
  reason = g_strdup_printf (
      "pre-copy is not converging after %u passes: dirty rate %" G_GUINT64_FORMAT
      " B/s, transfer rate %" G_GUINT64_FORMAT " B/s, expected downtime %" G_GUINT64_FORMAT
      " ms > limit %" G_GUINT64_FORMAT " ms",
      self->pass, migration_dirty_rate (ram), migration_transfer_rate (ram),
      migration_get_u64 (self->info, "expected-downtime"), self->downtime_limit);
  migration_policy_action (self, "start-postcopy", reason);
  ferryd_migration_start_postcopy (self, NULL);
}

/* --- sampling --- */

static void
sample_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydMigration) self = user_data;
  g_autoptr (JsonNode) reply = ferryd_qmp_execute_finish (FERRYD_QMP (source), result, NULL);

  self->sampling = FALSE;
  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply) || self->finished)
    return;
  g_clear_pointer (&self->info, json_object_unref);
  self->info = json_object_ref (json_node_get_object (reply));
  if (self->pass_sample_pending)
    {
      self->pass_sample_pending = FALSE;
      self->prev_pass_remaining = self->pass_remaining;
      self->pass_remaining = migration_get_u64 (migration_ram_info (self), "remaining");
    }
  migration_update_progress (self);
  apply_policy (self);
}

void
migration_sample_now (FerrydMigration *self)
{
  FerrydQmp *qmp = self->qemu ? ferryd_qemu_get_qmp (self->qemu) : NULL;

  if (qmp == NULL || ferryd_qmp_is_closed (qmp) || self->sampling)
    return;
  self->sampling = TRUE;
  ferryd_qmp_execute_async (qmp, "query-migrate", NULL, NULL, sample_cb, g_object_ref (self));
}

static gboolean
sample_tick (gpointer user_data)
{
  migration_sample_now (user_data);
  return G_SOURCE_CONTINUE;
}

void
migration_start_sampling (FerrydMigration *self)
{
  if (self->sample_id == 0 && !self->incoming)
    self->sample_id = g_timeout_add (SAMPLE_INTERVAL_MS, sample_tick, self);
}

void
migration_stop_sampling (FerrydMigration *self)
{
  g_clear_handle_id (&self->sample_id, g_source_remove);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
}

/* --- the end --- */

void
migration_drop_qemu (FerrydMigration *self)
{
  if (self->qemu == NULL)
    return;
  g_clear_signal_handler (&self->event_id, ferryd_qemu_get_qmp (self->qemu));
  g_clear_signal_handler (&self->exited_id, self->qemu);
  g_clear_signal_handler (&self->crashed_id, self->qemu);
  g_clear_object (&self->qemu);
}

void
migration_finish (FerrydMigration *self, State state, const GError *error)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  migration_stop_sampling (self);
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
    self->statistics = g_variant_ref_sink (migration_build_statistics (self));
  ferry_dbus_migration_set_statistics (self->record, self->statistics);
  if (self->postcopy_started)
    ferry_dbus_migration_set_mode (self->record, "postcopy");
  if (error)
    {
      g_autoptr (GError) dbus_error = ferryd_error_to_dbus (error);
      g_autofree char *name = g_dbus_error_encode_gerror (dbus_error);

      ferry_dbus_migration_set_error_name (self->record, name);
      ferry_dbus_migration_set_error_message (self->record, dbus_error->message);
    }
  if (self->phase != PHASE_CONFIRM)
    migration_set_phase (self, PHASE_CONFIRM);
  migration_set_state (self, state);
  migration_set_phase (self, PHASE_DONE);
  migration_drop_qemu (self);
  ferryd_domain_set_migration (self->domain, NULL, FALSE);

  if (state == STATE_COMPLETED)
    ferry_dbus_migration_emit_completed (self->record, self->statistics);
  else
    ferry_dbus_migration_emit_failed (self->record,
                                      ferry_dbus_migration_get_error_name (self->record),
                                      ferry_dbus_migration_get_error_message (self->record));
  g_info ("%s: %s%s%s", self->path, migration_state_names[state], error ? ": " : "",
          error ? error->message : "");
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/* QEMU said post-copy runs: from here on neither host holds the whole
 * guest. Returns FALSE if that was known already. */
gboolean
migration_note_postcopy_started (FerrydMigration *self, gint64 ts)
{
  if (self->postcopy_started)
    return FALSE;
  self->postcopy_started = TRUE;
  self->postcopy_us = ts;
  ferry_dbus_migration_set_mode (self->record, "postcopy");
  ferry_dbus_migration_emit_post_copy_started (self->record);
  return TRUE;
}

JsonObject *
migration_capabilities_args (const char *const *enabled, gboolean source)
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

void
migration_on_qemu_exited (FerrydQemu *qemu, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished)
    return;
  if (self->incoming)
    {
      if (self->state == STATE_POSTCOPY_ACTIVE || self->state == STATE_POSTCOPY_PAUSED)
        g_warning ("%s: destination QEMU died during post-copy: the guest is lost unless the "
                   "source still holds it",
                   self->path);
      migration_drop_qemu (self);
      migration_rollback_incoming (self,
                                   g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                                        "The destination QEMU exited"));
      return;
    }
  if (self->phase == PHASE_FINISH || self->phase == PHASE_CONFIRM)
    return; /* expected: Confirm stops it */
  migration_drop_qemu (self);
  migration_rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                                 "The source QEMU exited during the migration"));
}

/* The guest crashed (a panic, a KVM internal error) while it migrated:
 * the migration ends with an error that names the crash, on this side
 * and the other, and a crashed guest is never resumed. */
static void
qemu_run_state_cb (GObject *qemu, GParamSpec *pspec, gpointer user_data)
{
  FerrydMigration *self = user_data;

  if (self->finished || self->crash_error || !ferryd_qemu_is_crashed (FERRYD_QEMU (qemu)))
    return;
  self->crash_error = g_error_new (
      FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
      "The guest crashed on the %s host during the migration (%s); it is kept there, paused, "
      "for inspection",
      self->incoming ? "destination" : "source", ferryd_qemu_get_state_reason (FERRYD_QEMU (qemu)));
  g_warning ("%s: %s", self->path, self->crash_error->message);
  if (self->incoming)
    migration_incoming_crashed (self);
  else
    migration_outgoing_crashed (self);
}

void
migration_watch_crash (FerrydMigration *self)
{
  self->crashed_id =
      g_signal_connect (self->qemu, "notify::run-state", G_CALLBACK (qemu_run_state_cb), self);
}

/* --- control --- */

gboolean
ferryd_migration_cancel (FerrydMigration *self, GError **error)
{
  if (self->finished)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                   migration_state_names[self->state]);
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
      ferryd_migration_abort_incoming (self, "cancelled on the destination");
      return TRUE;
    }
  if (self->cancel_requested)
    return TRUE;
  self->cancel_requested = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->migrate_sent && self->qemu)
    {
      ferryd_qmp_send (ferryd_qemu_get_qmp (self->qemu), "migrate_cancel", NULL);
      /* In pre-copy the source holds the whole guest: the destination can
       * drop its copy now, while QEMU winds the stream down. */
      migration_send_peer_abort (self, "cancelled");
    }
  return TRUE;
}

void
ferryd_migration_shutdown (FerrydMigration *self)
{
  /* Guests outlive ferryd; only timers and watches stop here. */
  migration_stop_sampling (self);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer_watch_id)
    g_clear_handle_id (&self->peer_watch_id, g_bus_unwatch_name);
}

/* --- object --- */

FerrydMigration *
ferryd_migration_new (const FerrydMigrationSetup *setup)
{
  FerrydMigration *self = g_object_new (FERRYD_TYPE_MIGRATION, NULL);
  g_autofree char *domain_path = NULL;
  const char *name = ferryd_domain_get_name (setup->domain);

  self->daemon = g_object_ref (setup->daemon);
  self->domain = g_object_ref (setup->domain);
  self->incoming = setup->incoming;
  self->options = setup->options;
  self->local_hostname = g_strdup (setup->local_hostname);
  self->local_host_uuid = g_strdup (setup->local_host_uuid);
  self->path = g_strdup_printf (FERRY_MIGRATION_PATH_PREFIX "%u", setup->id);
  self->downtime_limit =
      self->options->max_downtime ? self->options->max_downtime : DEFAULT_DOWNTIME_MS;

  domain_path = ferryd_domain_object_path (name);

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
ferryd_migration_dispose (GObject *object)
{
  FerrydMigration *self = FERRYD_MIGRATION (object);

  migration_stop_sampling (self);
  migration_drop_qemu (self);
  if (self->peer_watch_id)
    g_clear_handle_id (&self->peer_watch_id, g_bus_unwatch_name);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  if (self->peer)
    g_signal_handlers_disconnect_by_data (self->peer, self);
  g_clear_object (&self->peer);
  g_clear_object (&self->peer_connection);
  G_OBJECT_CLASS (ferryd_migration_parent_class)->dispose (object);
}

static void
ferryd_migration_finalize (GObject *object)
{
  FerrydMigration *self = FERRYD_MIGRATION (object);

  g_clear_object (&self->record);
  g_clear_object (&self->domain);
  g_clear_object (&self->daemon);
  g_clear_object (&self->cancellable);
  ferryd_migrate_options_free (self->options);
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
  g_clear_error (&self->crash_error);
  g_free (self->data_host);
  g_free (self->peer_name);
  g_free (self->persistent_description);
  G_OBJECT_CLASS (ferryd_migration_parent_class)->finalize (object);
}

static void
ferryd_migration_class_init (FerrydMigrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_migration_dispose;
  object_class->finalize = ferryd_migration_finalize;

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferryd_migration_init (FerrydMigration *self)
{
  self->cancellable = g_cancellable_new ();
}
