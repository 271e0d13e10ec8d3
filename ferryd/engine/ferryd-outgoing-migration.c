/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-outgoing-migration.c: the source side of a migration: Begin, Perform, Confirm,
 * and the controls of a running source */
#define G_LOG_DOMAIN "ferry-migration"

#include "config.h"
#include "ferry-compat.h"
#include "ferryd-outgoing-migration.h"
#include "ferryd-migration-private.h"
#include "ferry-error.h"
#include "ferryd-peer.h"
#include "ferryd-peer-tls.h"

static GVariant *source_info (FerrydOutgoingMigration *self);
static void rollback (FerrydOutgoingMigration *self, GError *error);
static void send_peer_abort (FerrydOutgoingMigration *self, const char *reason);
static void rollback_step_done (FerrydOutgoingMigration *self);
static void source_resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void peer_abort_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static gboolean check_cancelled (FerrydOutgoingMigration *self);
static void migrate_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static gboolean timeout_cb (gpointer user_data);
static void perform (FerrydOutgoingMigration *self);
static void prepare_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static GStrv
choose_features (FerrydOutgoingMigration *self, const char *const *peer_caps, GError **error);
static void hello_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void peer_closed_cb (FerrydPeerClient *peer, gpointer user_data);
static void peer_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void begin_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void confirm_success (FerrydOutgoingMigration *self);
static void peer_finish_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static GVariant *finish_statistics (FerrydOutgoingMigration *self);
static void final_query_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void migration_failed_query_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void on_source_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data);

struct _FerrydOutgoingMigration
{
  FerrydMigration parent_instance;

  char *peer_address;
  FerrydPeerClient *peer;
  char *peer_migration;
  char *migrate_uri;
  char *storage_uri;               /* where the destination serves its disks, when copied */
  FerrydDomainConfig *live_config; /* what runs, as Begin found it (machine type resolved) */
  char *abort_reason;              /* set when the policy aborts (timeout) */
  GError *rollback_error;          /* kept while the destination confirms an abort */
  State rollback_state;
  gboolean rollback_waiting; /* rolled back, waiting for the abort's answer */
  guint rollback_pending;    /* resume and abort still under way */
  gboolean abort_sent;
  gboolean abort_done;
  gboolean migrate_sent;
  gboolean cancel_requested;
  gboolean stopped_for_migration;
  gint64 begin_us;
  gboolean recovering;  /* a Recover is under way */
  gboolean finish_sent; /* Finish went out: the destination may resume the guest */
  gboolean hold_paused; /* the destination may run the guest: never resume it here */
  gboolean timeout_due; /* the timeout passed before the stream was active */
};

/* --- source side --- */

static GVariant *
source_info (FerrydOutgoingMigration *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "version", g_variant_new_string (PACKAGE_VERSION));
  g_variant_builder_add (&builder, "{sv}", "api", g_variant_new_uint32 (1));
  g_variant_builder_add (&builder, "{sv}", "hostname",
                         g_variant_new_string (SHARED (self)->local_hostname));
  g_variant_builder_add (&builder, "{sv}", "host-uuid",
                         g_variant_new_string (SHARED (self)->local_host_uuid));
  g_variant_builder_add (&builder, "{sv}", "domain",
                         g_variant_new_string (ferryd_domain_get_name (SHARED (self)->domain)));
  /* The destination runs the guest with the backend of the same name. */
  g_variant_builder_add (&builder, "{sv}", "backend",
                         g_variant_new_string (ferryd_backend_get_name (SHARED (self)->backend)));
  if (SHARED (self)->features)
    g_variant_builder_add (&builder, "{sv}", "features",
                           g_variant_new_strv ((const char *const *) SHARED (self)->features, -1));
  g_variant_builder_add (&builder, "{sv}", "begin-time",
                         g_variant_new_uint64 ((guint64) self->begin_us));
  {
    g_autofree char *host = ferryd_peer_data_host (self->peer_address);
    g_variant_builder_add (&builder, "{sv}", "data-host", g_variant_new_string (host));
  }
  return g_variant_builder_end (&builder);
}

/* Roll back from any phase: abort the destination, make sure the guest
 * runs on the source, record the error. Takes @error. */

static void
rollback (FerrydOutgoingMigration *self, GError *error)
{
  g_autoptr (GError) owned = error;
  State final = self->cancel_requested ? STATE_CANCELLED : STATE_FAILED;

  if (SHARED (self)->finished || self->rollback_waiting)
    return;
  g_debug ("%s: rolling back: %s", SHARED (self)->label, error->message);
  migration_stop_sampling (FERRYD_MIGRATION (self));
  if (SHARED (self)->phase != PHASE_CONFIRM)
    migration_set_phase (FERRYD_MIGRATION (self), PHASE_CONFIRM);
  if (self->cancel_requested && !g_error_matches (error, FERRY_ERROR, FERRY_ERROR_CANCELLED))
    {
      g_clear_error (&owned);
      owned = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                   "Migration cancelled by request");
    }

  /* Confirm ends when the guest runs where it was and the destination
   * is clean, so a final state means "on exactly one host". */
  self->rollback_error = g_steal_pointer (&owned);
  self->rollback_state = final;
  self->rollback_waiting = TRUE;
  self->rollback_pending = 1; /* released below */
  /* A stream still starting (copying disks, say) stops and removes
   * what it made on the source. */
  if (SHARED (self)->stream && !self->migrate_sent)
    ferryd_stream_cancel (SHARED (self)->stream);
  if (SHARED (self)->stream && ferryd_stream_can_resume (SHARED (self)->stream) &&
      self->stopped_for_migration && !self->hold_paused)
    {
      self->rollback_pending++;
      ferryd_stream_resume_async (SHARED (self)->stream, source_resumed_cb, g_object_ref (self));
    }
  if (self->peer && self->peer_migration && !self->abort_done)
    {
      self->rollback_pending++;
      send_peer_abort (self, final == STATE_CANCELLED ? "cancelled" : "failed");
    }
  rollback_step_done (self);
}

/* One part of the rollback is over; the last one ends the migration. */
static void
rollback_step_done (FerrydOutgoingMigration *self)
{
  if (--self->rollback_pending == 0)
    migration_finish (FERRYD_MIGRATION (self), self->rollback_state, self->rollback_error);
}

/* Pre-copy, the whole guest reached the destination and Finish may have
 * told its ferryd to resume it there; then it went silent (died, or did
 * not answer in time). Whether the guest runs there is not known here,
 * and resuming the source could run it twice: it stays paused here, no
 * Abort is sent (the destination may hold the only running copy), and
 * the error says so. Takes @cause. */
static void
hold_paused (FerrydOutgoingMigration *self, GError *cause)
{
  g_autoptr (GError) owned = cause;

  if (SHARED (self)->finished || self->rollback_waiting)
    return;
  g_warning ("%s: the destination went silent after Finish (%s); the guest is kept paused on "
             "the source",
             SHARED (self)->label, cause->message);
  self->hold_paused = TRUE;
  g_clear_pointer (&self->peer_migration, g_free);
  rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                               "The destination ferryd went silent after it was told to resume "
                               "the guest (%s): the guest may run there, so it is kept paused on "
                               "the source. Check the destination; shut the guest down on the "
                               "host where it must not run",
                               cause->message));
}

/* Finish was sent before post-copy and no answer came: see hold_paused(). */
static gboolean
finish_outcome_unknown (FerrydOutgoingMigration *self)
{
  return self->finish_sent && !SHARED (self)->postcopy_started;
}

static void
source_resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_stream_resume_finish (FERRYD_STREAM (source), result, &error))
    g_warning ("%s: the guest could not be resumed on the source: %s", SHARED (self)->label,
               error->message);
  rollback_step_done (self);
}

static void
peer_abort_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_peer_client_abort_finish (FERRYD_PEER_CLIENT (source), result, &error))
    g_warning ("%s: %s", SHARED (self)->label, error->message);
  self->abort_done = TRUE;
  if (self->rollback_waiting)
    rollback_step_done (self);
}

/* Tell the destination to drop its half-started guest (once). */
static void
send_peer_abort (FerrydOutgoingMigration *self, const char *reason)
{
  if (self->abort_sent || self->peer == NULL || self->peer_migration == NULL)
    return;
  self->abort_sent = TRUE;
  ferryd_peer_client_abort_async (self->peer, self->peer_migration, reason, NULL, peer_abort_cb,
                                  g_object_ref (self));
}

/* Between the steps of Begin and Prepare: stop here if the migration
 * was cancelled or its guest crashed meanwhile. */
static gboolean
check_cancelled (FerrydOutgoingMigration *self)
{
  if (SHARED (self)->crash_error)
    {
      rollback (self, g_error_copy (SHARED (self)->crash_error));
      return TRUE;
    }
  if (!self->cancel_requested)
    return FALSE;
  rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                       "Migration cancelled by request"));
  return TRUE;
}

static void
migrate_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ferryd_stream_start_finish (FERRYD_STREAM (source), result, &error))
    {
      if (SHARED (self)->finished)
        return;
      if (self->abort_reason)
        rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED, "Aborted: %s",
                                     self->abort_reason));
      else
        rollback (self,
                  g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                               "Cannot start the migration on the source: %s", error->message));
      return;
    }
  self->migrate_sent = TRUE;
  migration_journal_save (FERRYD_MIGRATION (self));
  if ((self->cancel_requested || SHARED (self)->crash_error) && SHARED (self)->stream)
    ferryd_stream_cancel (SHARED (self)->stream);
  migration_start_sampling (FERRYD_MIGRATION (self));
}

static void
timeout_act (FerrydOutgoingMigration *self)
{
  GVariant *convergence =
      migration_get_variant (FERRYD_MIGRATION (self), MIGRATION_PROP_CONVERGENCE);
  const char *why = NULL;
  g_autofree char *reason = NULL;
  /* Disks copy before the memory: a guest that writes to them faster
   * than the link copies keeps them from ever being in sync. */
  gboolean disks_copying = self->storage_uri && !self->migrate_sent;

  /* The figures of the last verdict say why it did not. */
  if (convergence)
    g_variant_lookup (convergence, "description", "&s", &why);
  if (disks_copying)
    why = "the disks never came in sync (disk-writes-over-link: the guest writes to its disks "
          "faster than the link copies them; synchronous-writes=true makes its writes wait for "
          "the destination)";
  reason =
      g_strdup_printf ("migration did not complete within %u s%s%s",
                       SHARED (self)->options->timeout, why && *why ? ": " : "", why ? why : "");
  if (SHARED (self)->finished || (SHARED (self)->state != STATE_ACTIVE && !disks_copying))
    return;
  if (g_str_equal (SHARED (self)->options->timeout_action, "postcopy") && !disks_copying)
    {
      migration_policy_action (FERRYD_MIGRATION (self), "start-postcopy", reason);
      ferryd_migration_start_postcopy (FERRYD_MIGRATION (self), NULL);
    }
  else if (g_str_equal (SHARED (self)->options->timeout_action, "pause"))
    {
      /* A paused guest dirties nothing: pre-copy then converges. */
      migration_policy_action (FERRYD_MIGRATION (self), "pause-guest", reason);
      self->stopped_for_migration = TRUE;
      if (SHARED (self)->stream)
        ferryd_stream_stop_guest (SHARED (self)->stream);
    }
  else
    {
      migration_policy_action (FERRYD_MIGRATION (self), "abort", reason);
      self->cancel_requested = FALSE;
      self->abort_reason = g_strdup (reason);
      if (SHARED (self)->stream)
        ferryd_stream_cancel (SHARED (self)->stream);
    }
}

static gboolean
timeout_cb (gpointer user_data)
{
  FerrydOutgoingMigration *self = user_data;

  SHARED (self)->timeout_id = 0;
  /* A hypervisor that runs the protocol itself (libvirt) may still be
   * preparing the destination: the migration is not over, so the action
   * comes once it sends (on_source_status), not never. */
  if (!SHARED (self)->finished && SHARED (self)->state == STATE_SETUP && self->storage_uri == NULL)
    self->timeout_due = TRUE;
  else
    timeout_act (self);
  return G_SOURCE_REMOVE;
}

static void
perform (FerrydOutgoingMigration *self)
{
  FerrydMigrateOptions *o = SHARED (self)->options;
  FerrydStreamTuning tuning = { 0 };

  if (SHARED (self)->stream == NULL)
    {
      rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                           "The source guest is gone"));
      return;
    }
  /* A stream that runs the protocol itself reports Perform when its
   * hypervisor gets there (on_source_status). */
  if (!ferryd_stream_runs_protocol (SHARED (self)->stream))
    migration_set_phase (FERRYD_MIGRATION (self), PHASE_PERFORM);
  SHARED (self)->downtime_limit = o->max_downtime ? o->max_downtime : DEFAULT_DOWNTIME_MS;
  tuning.uri = self->migrate_uri;
  tuning.features = (const char *const *) SHARED (self)->features;
  tuning.max_bandwidth = o->max_bandwidth;
  tuning.switchover_bandwidth = o->switchover_bandwidth;
  tuning.downtime_limit = SHARED (self)->downtime_limit;
  tuning.max_postcopy_bandwidth = o->max_postcopy_bandwidth;
  tuning.multifd_channels = o->multifd_channels > 0 ? (guint) o->multifd_channels : 0;
  tuning.compression = o->compression;
  if (g_strv_contains (tuning.features, "tls"))
    tuning.tls_dir = ferryd_peer_tls_get_dir ();
  tuning.storage_uri = self->storage_uri;
  tuning.disks = o->disks && o->disks[0] ? (const char *const *) o->disks : NULL;
  tuning.incremental = o->copy_storage == FERRYD_COPY_STORAGE_INCREMENTAL;
  tuning.synchronous_writes = o->synchronous_writes;
  tuning.options = o;
  tuning.destination = self->peer_address;
  if (o->timeout > 0)
    SHARED (self)->timeout_id = g_timeout_add_seconds (o->timeout, timeout_cb, self);
  /* Disks copy before the memory: their progress is sampled already. */
  if (self->storage_uri)
    migration_start_sampling (FERRYD_MIGRATION (self));
  ferryd_stream_start_async (SHARED (self)->stream, &tuning, migrate_sent_cb, g_object_ref (self));
}

static void
prepare_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info = NULL;
  const char *uri = NULL;

  self->peer_migration =
      ferryd_peer_client_prepare_finish (FERRYD_PEER_CLIENT (source), result, &info, &error);
  if (self->peer_migration == NULL)
    {
      rollback (self, g_steal_pointer (&error));
      return;
    }
  if (check_cancelled (self))
    return;
  g_variant_lookup (info, "migrate-uri", "&s", &uri);
  g_variant_lookup (info, "storage-uri", "s", &self->storage_uri);
  if (SHARED (self)->options->copy_storage != FERRYD_COPY_STORAGE_NONE && self->storage_uri == NULL)
    {
      rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                           "Destination gave no storage address"));
      return;
    }
  self->migrate_uri =
      g_strdup (SHARED (self)->options->migrate_uri ? SHARED (self)->options->migrate_uri : uri);
  if (self->migrate_uri == NULL)
    {
      rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                           "Destination gave no migration address"));
      return;
    }
  perform (self);
}

/* What the convergence policy is asked for and may use: the caller's
 * options and what both hosts can do. */
static FerrydPolicyRequest
policy_request (FerrydOutgoingMigration *self, const char *const *peer_caps)
{
  FerrydMigrateOptions *o = SHARED (self)->options;
  const char *const *local_caps = ferryd_daemon_get_capabilities (SHARED (self)->daemon);
  FerrydPolicyRequest r = { 0 };

  r.postcopy_given = ferryd_migrate_options_has (o, "postcopy");
  r.postcopy = ferryd_postcopy_mode_to_string (o->postcopy);
  r.auto_converge_given = ferryd_migrate_options_has (o, "auto-converge");
  r.auto_converge = o->auto_converge;
  r.max_downtime_given = o->max_downtime > 0;
  r.max_downtime = o->max_downtime;
  r.multifd = o->multifd_channels > 0;
  r.timeout_postcopy = g_str_equal (o->timeout_action, "postcopy");
  r.local_postcopy = local_caps && g_strv_contains (local_caps, "postcopy");
  /* A destination that lists no capabilities predates them: trust it. */
  r.peer_postcopy = peer_caps == NULL || g_strv_contains (peer_caps, "postcopy");
  return r;
}

static GStrv
choose_features (FerrydOutgoingMigration *self, const char *const *peer_caps, GError **error)
{
  FerrydMigrateOptions *o = SHARED (self)->options;
  g_autoptr (GStrvBuilder) features = g_strv_builder_new ();
  const char *const *local_caps = ferryd_daemon_get_capabilities (SHARED (self)->daemon);
  gboolean local_has_ack = g_strv_contains (local_caps, "switchover-ack");
  gboolean peer_has_ack = peer_caps && g_strv_contains (peer_caps, "switchover-ack");
  FerrydPolicyRequest request = policy_request (self, peer_caps);
  gboolean postcopy;
  /* auto: when both hosts have it (it needs the return path) */
  gboolean ack = g_str_equal (o->switchover_ack, "on") ||
                 (g_str_equal (o->switchover_ack, "auto") && local_has_ack && peer_has_ack);

  if (!ferryd_policy_plan (&request, &SHARED (self)->rules, error))
    return NULL;
  postcopy = SHARED (self)->rules.postcopy_ram;

  /* The return path costs downtime here (the source waits for the
   * destination's load to migration_finish); only features that need it get it. */
  g_strv_builder_add (features, "events");
  if (postcopy || ack)
    g_strv_builder_add (features, "return-path");
  if (postcopy)
    g_strv_builder_add (features, "postcopy-ram");
  if (o->multifd_channels > 0)
    g_strv_builder_add (features, "multifd");
  if (o->tls)
    {
      /* Never a clear-text stream when TLS was asked for. */
      if (peer_caps && !g_strv_contains (peer_caps, "tls"))
        {
          g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                               "The destination does not support TLS");
          return NULL;
        }
      g_strv_builder_add (features, "tls");
    }
  if (SHARED (self)->rules.auto_converge)
    g_strv_builder_add (features, "auto-converge");
  if (o->copy_storage != FERRYD_COPY_STORAGE_NONE)
    {
      /* With "tls" the disks' NBD link is TLS too (the backend's). */
      if (!g_strv_contains (local_caps, "storage-mirror") ||
          (peer_caps && !g_strv_contains (peer_caps, "storage-mirror")))
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                       "The %s does not support copying storage",
                       g_strv_contains (local_caps, "storage-mirror") ? "destination" : "source");
          return NULL;
        }
      g_strv_builder_add (features, "storage-mirror");
      if (o->synchronous_writes)
        g_strv_builder_add (features, "synchronous-writes");
    }
  if (g_str_equal (o->switchover_ack, "on") && !(peer_has_ack && local_has_ack))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                   "switchover-ack=on, but the %s does not support switchover-ack",
                   local_has_ack ? "destination" : "source");
      return NULL;
    }
  if (ack)
    g_strv_builder_add (features, "switchover-ack");
  return g_strv_builder_end (features);
}

static void
hello_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info =
      ferryd_peer_client_hello_finish (FERRYD_PEER_CLIENT (source), result, &error);
  g_autofree const char **caps = NULL;
  const char *uuid = NULL;
  guint32 api = 0;
  g_autofree char *persistent = NULL;
  g_autofree char *live = NULL;
  g_autofree const char **accels = NULL;
  g_autofree char *accel_blocker = NULL;

  if (info == NULL)
    {
      rollback (self, g_steal_pointer (&error));
      return;
    }
  if (check_cancelled (self))
    return;
  g_variant_lookup (info, "api", "u", &api);
  g_variant_lookup (info, "host-uuid", "&s", &uuid);
  g_variant_lookup (info, "capabilities", "^a&s", &caps);
  g_variant_lookup (info, "accelerators", "^a&s", &accels);
  if (api != 1)
    {
      rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_PEER_REFUSED,
                                   "Destination speaks peer protocol %u, this host speaks 1", api));
      return;
    }
  if (g_strcmp0 (uuid, SHARED (self)->local_host_uuid) == 0)
    {
      rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                                           "The destination is this host"));
      return;
    }
  accel_blocker =
      ferryd_backend_check_destination (SHARED (self)->backend, SHARED (self)->domain, accels);
  if (accel_blocker)
    {
      rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED, "%s", accel_blocker));
      return;
    }
  SHARED (self)->features = choose_features (self, caps, &error);
  if (SHARED (self)->features == NULL)
    {
      rollback (self, g_steal_pointer (&error));
      return;
    }

  migration_set_phase (FERRYD_MIGRATION (self), PHASE_PREPARE);
  persistent = ferryd_domain_config_to_data (ferryd_domain_get_config (SHARED (self)->domain));
  /* What runs, as it runs (the accelerator in use, the versioned
   * machine type, say): the persistent description may say less. */
  live = ferryd_domain_config_to_data (
      self->live_config ? self->live_config : ferryd_domain_get_config (SHARED (self)->domain));
  /* Not cancellable: a cancelled Prepare must still be answered so its
   * destination can be aborted. */
  ferryd_peer_client_prepare_async (self->peer, ferryd_domain_get_name (SHARED (self)->domain),
                                    persistent, live, SHARED (self)->options->variant,
                                    source_info (self), NULL, prepare_cb, g_object_ref (self));
}

/* The destination ferryd is gone (its link closed or its name vanished):
 * decide at once, not when it comes back. */
static void
peer_closed_cb (FerrydPeerClient *peer, gpointer user_data)
{
  FerrydOutgoingMigration *self = user_data;

  if (SHARED (self)->finished || self->rollback_waiting)
    return;
  g_warning ("%s: lost the link to the destination", SHARED (self)->label);
  /* In post-copy the two QEMUs go on without us: the stream's end
   * decides. */
  if (SHARED (self)->postcopy_started)
    return;
  if (finish_outcome_unknown (self))
    {
      hold_paused (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                                              "lost the link to it"));
      return;
    }
  /* Before post-copy the source holds the whole guest: keep it here. No
   * Abort can reach the destination; a new ferryd there drops the half
   * guest its QEMU holds. */
  g_clear_pointer (&self->peer_migration, g_free);
  if (self->migrate_sent && SHARED (self)->stream)
    ferryd_stream_cancel (SHARED (self)->stream);
  rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                                       "Lost the connection to the destination ferryd; the guest "
                                       "stays on the source"));
}

static void
set_peer (FerrydOutgoingMigration *self, FerrydPeerClient *peer)
{
  g_set_object (&self->peer, peer);
  g_signal_connect_object (self->peer, "closed", G_CALLBACK (peer_closed_cb), self, 0);
  g_signal_connect_object (self->peer, "vanished", G_CALLBACK (peer_closed_cb), self, 0);
}

static void
peer_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  g_autoptr (FerrydPeerClient) peer = ferryd_peer_client_new_finish (result, &error);

  if (peer == NULL)
    {
      rollback (self, g_steal_pointer (&error));
      return;
    }
  set_peer (self, peer);
  if (check_cancelled (self))
    return;
  ferryd_peer_client_hello_async (self->peer, source_info (self), SHARED (self)->cancellable,
                                  hello_cb, g_object_ref (self));
}

/* The hypervisor carries the protocol (libvirt's peer-to-peer migration):
 * Prepare is its call to the destination, and the rest follows from the
 * stream's status. */
static void
begin_self_contained (FerrydOutgoingMigration *self)
{
  FerrydMigrateOptions *o = SHARED (self)->options;
  g_autoptr (GStrvBuilder) features = g_strv_builder_new ();

  /* timeout-action=postcopy needs post-copy enabled from the start */
  if (o->postcopy != FERRYD_POSTCOPY_OFF || g_str_equal (o->timeout_action, "postcopy"))
    g_strv_builder_add (features, "postcopy-ram");
  if (o->multifd_channels > 0)
    g_strv_builder_add (features, "multifd");
  if (o->auto_converge)
    g_strv_builder_add (features, "auto-converge");
  /* what the hypervisor was asked for; a refusal fails the migration */
  if (o->tls)
    g_strv_builder_add (features, "tls");
  if (o->copy_storage != FERRYD_COPY_STORAGE_NONE)
    {
      g_strv_builder_add (features, "storage-mirror");
      if (o->synchronous_writes)
        g_strv_builder_add (features, "synchronous-writes");
    }
  g_strfreev (SHARED (self)->features);
  SHARED (self)->features = g_strv_builder_end (features);
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_PREPARE);
  perform (self);
}

static void
begin_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;

  self->live_config = ferryd_stream_begin_finish (FERRYD_STREAM (source), result, &error);
  if (check_cancelled (self))
    return;
  if (SHARED (self)->stream && ferryd_stream_runs_protocol (SHARED (self)->stream))
    {
      if (error)
        rollback (self, g_steal_pointer (&error));
      else
        begin_self_contained (self);
      return;
    }
  ferryd_peer_client_new_async (self->peer_address, PEER_CALL_TIMEOUT_MS,
                                SHARED (self)->cancellable, peer_connected_cb, g_object_ref (self));
}

static void
on_source_stopped (FerrydStream *stream, gint64 ts, gpointer user_data)
{
  FerrydOutgoingMigration *self = user_data;

  if (SHARED (self)->finished || !self->migrate_sent)
    return;
  SHARED (self)->stop_us = ts;
  self->stopped_for_migration = TRUE;
}

static void
on_source_resumed (FerrydStream *stream, gint64 ts, gpointer user_data)
{
  FerrydOutgoingMigration *self = user_data;

  if (!SHARED (self)->finished)
    self->stopped_for_migration = FALSE;
}

static void
on_source_pass (FerrydStream *stream, guint pass, gpointer user_data)
{
  FerrydOutgoingMigration *self = user_data;

  if (SHARED (self)->finished)
    return;
  SHARED (self)->pass = pass;
  /* Pass 1 also carries zero pages; compare from pass 2 on. */
  SHARED (self)->pass_sample_pending = SHARED (self)->pass >= 2;
  migration_emit_iteration (FERRYD_MIGRATION (self), SHARED (self)->pass,
                            ferryd_progress_iteration_statistics (&SHARED (self)->info));
  migration_sample_now (FERRYD_MIGRATION (self));
}

static void
follow_stream (FerrydOutgoingMigration *self)
{
  g_signal_connect (SHARED (self)->stream, "status-changed", G_CALLBACK (on_source_status), self);
  g_signal_connect (SHARED (self)->stream, "pass", G_CALLBACK (on_source_pass), self);
  g_signal_connect (SHARED (self)->stream, "stopped", G_CALLBACK (on_source_stopped), self);
  g_signal_connect (SHARED (self)->stream, "resumed", G_CALLBACK (on_source_resumed), self);
}

void
ferryd_outgoing_migration_run (FerrydOutgoingMigration *self, const char *peer_address)
{
  self->peer_address = g_strdup (peer_address);
  self->begin_us = g_get_real_time ();
  migration_attach_stream (
      FERRYD_MIGRATION (self),
      ferryd_backend_open_outgoing (SHARED (self)->backend, SHARED (self)->domain));
  SHARED (self)->hypervisor_protocol = ferryd_stream_runs_protocol (SHARED (self)->stream);
  follow_stream (self);
  ferryd_domain_set_migration (SHARED (self)->domain, G_OBJECT (self), FALSE);
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_BEGIN);
  migration_set_state (FERRYD_MIGRATION (self), STATE_SETUP);
  ferryd_stream_begin_async (SHARED (self)->stream, begin_cb, g_object_ref (self));
}

void
ferryd_outgoing_migration_follow (FerrydOutgoingMigration *self, FerrydStream *stream)
{
  /* set first: nothing of it is journaled (the hypervisor keeps its
   * state); its stream runs already */
  SHARED (self)->hypervisor_protocol = TRUE;
  self->begin_us = g_get_real_time ();
  self->migrate_sent = TRUE;
  migration_attach_stream (FERRYD_MIGRATION (self), g_object_ref (stream));
  follow_stream (self);
  ferryd_domain_set_migration (SHARED (self)->domain, G_OBJECT (self), FALSE);
  /* Begin and Prepare were the previous ferryd's: passed on the way */
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_BEGIN);
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_PREPARE);
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_PERFORM);
  migration_set_state (FERRYD_MIGRATION (self), STATE_ACTIVE);
  migration_start_sampling (FERRYD_MIGRATION (self));
}

/* Finish (destination) → Confirm (source) */

static void
confirm_success (FerrydOutgoingMigration *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydStream) stream =
      SHARED (self)->stream ? g_object_ref (SHARED (self)->stream) : NULL;

  migration_set_phase (FERRYD_MIGRATION (self), PHASE_CONFIRM);
  /* The guest now runs on the destination: stop it here, and the domain
   * no longer runs here. */
  migration_drop_stream (FERRYD_MIGRATION (self));
  if (stream == NULL)
    stream = ferryd_backend_open_outgoing (SHARED (self)->backend, SHARED (self)->domain);
  ferryd_stream_terminate (stream);
  /* The guest is on the destination either way; it may have crashed there. */
  migration_finish (FERRYD_MIGRATION (self),
                    SHARED (self)->crash_error ? STATE_FAILED : STATE_COMPLETED,
                    SHARED (self)->crash_error);
  /* (a hypervisor that runs the protocol undefines the source itself) */
  if (SHARED (self)->crash_error == NULL && SHARED (self)->options->undefine_source &&
      !ferryd_stream_runs_protocol (stream) &&
      !ferryd_daemon_undefine_domain (SHARED (self)->daemon, SHARED (self)->domain, &error))
    g_warning ("%s: cannot undefine the source domain: %s", SHARED (self)->label, error->message);
}

static void
peer_finish_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info =
      ferryd_peer_client_finish_finish (FERRYD_PEER_CLIENT (source), result, &error);
  guint64 resume = 0;
  const char *dstate = NULL, *dreason = NULL;

  if (info == NULL)
    {
      /* The destination could not resume the guest. In pre-copy the
       * source still holds all of it: resume here. */
      if (SHARED (self)->postcopy_started)
        {
          /* The stream completed: every page is on the destination and
           * the guest runs there since the switch-over. Only its ferryd
           * did not answer; it finishes there on its own. */
          g_warning ("%s: the destination did not confirm the end of post-copy (%s); the stream "
                     "completed, so the guest lives there",
                     SHARED (self)->label, error->message);
          confirm_success (self);
          return;
        }
      /* No answer at all (not a refusal): the destination may have
       * resumed the guest before it went. */
      if (g_error_matches (error, FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE))
        {
          hold_paused (self, g_steal_pointer (&error));
          return;
        }
      rollback (self, g_steal_pointer (&error));
      return;
    }
  if (g_variant_lookup (info, "resume-time", "t", &resume))
    SHARED (self)->resume_us = (gint64) resume;
  if (g_variant_lookup (info, "state", "&s", &dstate) && g_str_equal (dstate, "crashed") &&
      SHARED (self)->crash_error == NULL)
    {
      g_variant_lookup (info, "state-reason", "&s", &dreason);
      SHARED (self)->crash_error =
          g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                       "The guest crashed on the destination host during the migration (%s); "
                       "it is kept there, paused, for inspection",
                       dreason ? dreason : "no reason given");
    }
  confirm_success (self);
}

/* What the destination learns in Finish: the source's statistics and
 * when the source stopped, so it can tell the real downtime too. */
static GVariant *
finish_statistics (FerrydOutgoingMigration *self)
{
  g_autoptr (GVariant) stats =
      g_variant_ref_sink (migration_build_statistics (FERRYD_MIGRATION (self)));
  GVariantDict dict;

  g_variant_dict_init (&dict, stats);
  g_variant_dict_insert (&dict, "source-stop-time", "t", (guint64) SHARED (self)->stop_us);
  return g_variant_dict_end (&dict);
}

static void
final_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  FerrydProgress progress;

  if (ferryd_stream_query_finish (FERRYD_STREAM (source), result, &progress, NULL, NULL))
    {
      SHARED (self)->info = progress;
      migration_update_progress (FERRYD_MIGRATION (self));
    }
  /* Rolled back meanwhile (the destination went before Finish): the
   * guest is resumed here and nothing is sent. */
  if (SHARED (self)->finished || self->rollback_waiting)
    return;
  if (SHARED (self)->crash_error)
    {
      /* QEMU completed the stream of a guest that had crashed: it must
       * not resume on the destination. */
      rollback (self, g_error_copy (SHARED (self)->crash_error));
      return;
    }
  SHARED (self)->end_us = g_get_real_time ();
  migration_set_phase (FERRYD_MIGRATION (self), PHASE_FINISH);
  if (SHARED (self)->stream && ferryd_stream_runs_protocol (SHARED (self)->stream))
    {
      /* the hypervisor finished and confirmed */
      confirm_success (self);
      return;
    }
  if (self->peer == NULL || self->peer_migration == NULL)
    {
      /* A ferryd restarted here that cannot reach the destination: after
       * post-copy the guest lives there; before, it is still whole here. */
      if (SHARED (self)->postcopy_started)
        confirm_success (self);
      else
        rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                                             "Cannot reach the destination ferryd to finish the "
                                             "migration"));
      return;
    }
  self->finish_sent = TRUE;
  ferryd_peer_client_finish_async (self->peer, self->peer_migration, TRUE, finish_statistics (self),
                                   NULL, peer_finish_cb, g_object_ref (self));
}

static void
migration_failed_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autofree char *desc = NULL;
  const char *reason = self->abort_reason;

  ferryd_stream_query_finish (FERRYD_STREAM (source), result, NULL, &desc, NULL);
  if (reason)
    rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED, "Aborted: %s", reason));
  else if (ferryd_stream_runs_protocol (FERRYD_STREAM (source)))
    rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                 "The migration failed: %s", desc ? desc : "no reason given"));
  else
    rollback (self, g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                 "QEMU reported the migration failed: %s",
                                 desc ? desc : "no reason given"));
}

/* A stream that runs the protocol itself says why post-copy stopped. */
static void
postcopy_paused_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autofree char *desc = NULL;
  g_autoptr (GError) paused = NULL;

  ferryd_stream_query_finish (FERRYD_STREAM (source), result, NULL, &desc, NULL);
  if (SHARED (self)->finished || SHARED (self)->state != STATE_POSTCOPY_PAUSED)
    return;
  paused = g_error_new (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                        "Post-copy stopped: the guest is paused on both hosts, nothing is "
                        "lost (%s)",
                        desc ? desc : "no reason given");
  migration_show_error (FERRYD_MIGRATION (self), paused);
}

static void
on_source_status (FerrydStream *stream, guint status, gint64 ts, gpointer user_data)
{
  FerrydOutgoingMigration *self = user_data;

  if (SHARED (self)->finished)
    return;

  if (status == FERRYD_STREAM_SETUP)
    migration_set_state (FERRYD_MIGRATION (self), STATE_SETUP);
  else if (status == FERRYD_STREAM_ACTIVE)
    {
      migration_set_state (FERRYD_MIGRATION (self), STATE_ACTIVE);
      if (SHARED (self)->phase == PHASE_PREPARE)
        migration_set_phase (FERRYD_MIGRATION (self), PHASE_PERFORM);
      if (self->timeout_due)
        {
          self->timeout_due = FALSE;
          timeout_act (self);
        }
    }
  else if (status == FERRYD_STREAM_POSTCOPY_ACTIVE)
    {
      migration_note_postcopy_resumed (FERRYD_MIGRATION (self));
      migration_note_postcopy_started (FERRYD_MIGRATION (self), ts);
      migration_start_sampling (FERRYD_MIGRATION (self));
    }
  else if (status == FERRYD_STREAM_POSTCOPY_PAUSED)
    {
      /* Neither side holds the whole guest: both stay paused until
       * Recover. Never roll back here. */
      migration_note_postcopy_paused (FERRYD_MIGRATION (self));
      if (ferryd_stream_runs_protocol (stream))
        ferryd_stream_query_async (stream, postcopy_paused_query_cb, g_object_ref (self));
    }
  else if (status == FERRYD_STREAM_COMPLETED)
    {
      migration_stop_sampling (FERRYD_MIGRATION (self));
      ferryd_stream_query_async (stream, final_query_cb, g_object_ref (self));
    }
  else if ((status == FERRYD_STREAM_FAILED || status == FERRYD_STREAM_CANCELLED) &&
           SHARED (self)->crash_error)
    {
      migration_stop_sampling (FERRYD_MIGRATION (self));
      rollback (self, g_error_copy (SHARED (self)->crash_error));
    }
  else if (status == FERRYD_STREAM_FAILED)
    {
      migration_stop_sampling (FERRYD_MIGRATION (self));
      if (SHARED (self)->postcopy_started)
        {
          migration_note_postcopy_paused (FERRYD_MIGRATION (self));
          if (ferryd_stream_runs_protocol (stream))
            ferryd_stream_query_async (stream, postcopy_paused_query_cb, g_object_ref (self));
          return;
        }
      ferryd_stream_query_async (stream, migration_failed_query_cb, g_object_ref (self));
    }
  else if (status == FERRYD_STREAM_CANCELLED)
    {
      migration_stop_sampling (FERRYD_MIGRATION (self));
      if (self->abort_reason)
        ferryd_stream_query_async (stream, migration_failed_query_cb, g_object_ref (self));
      else
        {
          self->cancel_requested = TRUE;
          rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_CANCELLED,
                                               "Migration cancelled by request"));
        }
    }
}

/* --- post-copy recovery: the destination listens, the source resumes --- */

static void
stream_resumed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydOutgoingMigration *self = g_task_get_source_object (task);
  GError *error = NULL;

  self->recovering = FALSE;
  if (!ferryd_stream_recover_finish (FERRYD_STREAM (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
peer_listening_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydOutgoingMigration *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  g_autofree char *uri =
      ferryd_peer_client_recover_finish (FERRYD_PEER_CLIENT (source), result, &error);

  if (uri == NULL)
    {
      self->recovering = FALSE;
      g_task_return_error (task, error);
      return;
    }
  if (SHARED (self)->finished || SHARED (self)->stream == NULL)
    {
      self->recovering = FALSE;
      g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_FAILED,
                               "Migration ended during the recovery (%s)",
                               ferryd_state_to_string (SHARED (self)->state));
      return;
    }
  g_info ("%s: recovering over %s", SHARED (self)->label, uri);
  ferryd_stream_recover_async (SHARED (self)->stream, uri, cancellable, stream_resumed_cb,
                               g_steal_pointer (&task));
}

static void
outgoing_recover (FerrydMigration *migration, const char *uri, GTask *task_in)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);
  g_autoptr (GTask) task = task_in;

  if (SHARED (self)->state != STATE_POSTCOPY_PAUSED)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                             "Only a paused post-copy migration can be recovered (it is %s)",
                             ferryd_state_to_string (SHARED (self)->state));
  else if (self->recovering)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_BUSY,
                             "A recovery of this migration is under way");
  else if (SHARED (self)->stream && ferryd_stream_runs_protocol (SHARED (self)->stream))
    {
      /* the hypervisor resumes with its own destination */
      self->recovering = TRUE;
      ferryd_stream_recover_async (SHARED (self)->stream, uri, g_task_get_cancellable (task),
                                   stream_resumed_cb, g_object_ref (task));
    }
  else if (SHARED (self)->stream == NULL || self->peer == NULL || self->peer_migration == NULL)
    g_task_return_new_error (task, FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                             "The link to the destination ferryd is gone");
  else
    {
      self->recovering = TRUE;
      ferryd_peer_client_recover_async (self->peer, self->peer_migration, uri,
                                        g_task_get_cancellable (task), peer_listening_cb,
                                        g_object_ref (task));
    }
}

/* --- the journal, and a restart of this ferryd --- */

static void
outgoing_journal_save (FerrydMigration *migration, FerrydJournalEntry *e)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);

  e->migrate_sent = self->migrate_sent;
  e->peer_address = self->peer_address;
  e->peer_migration = self->peer_migration;
}

static void
outgoing_journal_restore (FerrydMigration *migration, const FerrydJournalEntry *e)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);

  self->migrate_sent = e->migrate_sent;
  self->peer_address = g_strdup (e->peer_address);
  self->peer_migration = g_strdup (e->peer_migration);
}

static gboolean
status_is_postcopy (FerrydStreamStatus status)
{
  return status == FERRYD_STREAM_POSTCOPY_ACTIVE || status == FERRYD_STREAM_POSTCOPY_PAUSED;
}

/* Before post-copy the source still holds the whole guest: the stream is
 * cancelled and the guest resumed here (resuming a running one does
 * nothing); the destination drops its half copy. */
static void
rollback_after_restart (FerrydOutgoingMigration *self)
{
  if (SHARED (self)->stream && self->migrate_sent)
    ferryd_stream_cancel (SHARED (self)->stream);
  self->stopped_for_migration = TRUE;
  rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                       "ferryd restarted during the migration, before post-copy: "
                                       "rolled back, the guest runs on the source"));
}

static void
restart_peer_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (FerrydPeerClient) peer =
      source || result ? ferryd_peer_client_new_finish (result, &error) : NULL;
  FerrydStreamStatus status = SHARED (self)->info.status;

  if (SHARED (self)->finished)
    return;
  if (peer)
    set_peer (self, peer);
  else if (error)
    g_warning ("%s: %s", SHARED (self)->label, error->message);
  if (SHARED (self)->stream == NULL)
    return;
  if (SHARED (self)->postcopy_started || status_is_postcopy (status))
    {
      /* Replay what QEMU says now through the usual path: follow, pause,
       * or Finish and Confirm a stream that completed. */
      if (status != FERRYD_STREAM_NONE)
        ferryd_stream_emit_status (SHARED (self)->stream, status, g_get_real_time ());
      return;
    }
  /* Restarted after Finish went out: the destination may have resumed
   * the guest already. */
  if (SHARED (self)->phase == PHASE_FINISH && status == FERRYD_STREAM_COMPLETED)
    {
      hold_paused (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_PEER_UNREACHABLE,
                                              "this ferryd restarted while it waited for the "
                                              "answer to Finish"));
      return;
    }
  rollback_after_restart (self);
}

static void
restart_query_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (FerrydOutgoingMigration) self = user_data;
  FerrydProgress progress = { 0 };

  if (ferryd_stream_query_finish (FERRYD_STREAM (source), result, &progress, NULL, NULL))
    SHARED (self)->info = progress;
  if (SHARED (self)->finished)
    return;
  if (status_is_postcopy (progress.status))
    SHARED (self)->postcopy_started = TRUE;
  g_info ("%s: taken over after a restart (%s, QEMU stream %u)", SHARED (self)->label,
          ferryd_state_to_string (SHARED (self)->state), (guint) progress.status);
  if (self->peer_address == NULL)
    {
      restart_peer_cb (NULL, NULL, g_object_ref (self));
      return;
    }
  ferryd_peer_client_new_async (self->peer_address, PEER_CALL_TIMEOUT_MS,
                                SHARED (self)->cancellable, restart_peer_cb, g_object_ref (self));
}

static void
outgoing_settle_after_restart (FerrydMigration *migration)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);
  FerrydStream *stream =
      ferryd_backend_open_outgoing (SHARED (self)->backend, SHARED (self)->domain);

  if (!ferryd_stream_is_alive (stream))
    {
      g_autoptr (GError) error = NULL;

      g_object_unref (stream);
      /* Confirm stops the source QEMU only once the destination runs the
       * guest. */
      if (SHARED (self)->phase == PHASE_CONFIRM && SHARED (self)->postcopy_started)
        {
          migration_finish (migration, STATE_COMPLETED, NULL);
          return;
        }
      error = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                   "ferryd restarted during the migration and the source QEMU is "
                                   "gone");
      migration_finish (migration, STATE_FAILED, error);
      return;
    }
  migration_attach_stream (migration, stream);
  follow_stream (self);
  ferryd_stream_query_async (SHARED (self)->stream, restart_query_cb, g_object_ref (self));
}

/* --- what the base asks of the source side --- */

static void
outgoing_crashed (FerrydMigration *migration, const char *why)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);

  migration_set_crash_error (migration, "source", why);
  /* In post-copy the source's guest is stopped for good; before the
   * stream, the next step sees crash_error (check_cancelled,
   * migrate_sent_cb). */
  if (self->rollback_waiting || SHARED (self)->postcopy_started || !self->migrate_sent ||
      !SHARED (self)->stream)
    return;
  /* The stream ends cancelled (or completed): either way the rollback
   * follows there, without resuming the guest. */
  ferryd_stream_cancel (SHARED (self)->stream);
}

static void
outgoing_stream_exited (FerrydMigration *migration)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);

  if (SHARED (self)->phase == PHASE_FINISH || SHARED (self)->phase == PHASE_CONFIRM)
    return; /* expected: Confirm stops it */
  migration_drop_stream (migration);
  rollback (self, g_error_new_literal (FERRY_ERROR, FERRY_ERROR_MIGRATION_FAILED,
                                       "The source QEMU exited during the migration"));
}

static gboolean
outgoing_cancel (FerrydMigration *migration, GError **error)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);

  if (self->cancel_requested)
    return TRUE;
  self->cancel_requested = TRUE;
  g_cancellable_cancel (SHARED (self)->cancellable);
  /* A stream still starting (copying disks) stops at once. */
  if (!self->migrate_sent && SHARED (self)->stream && SHARED (self)->phase == PHASE_PERFORM)
    ferryd_stream_cancel (SHARED (self)->stream);
  if (self->migrate_sent && SHARED (self)->stream)
    {
      ferryd_stream_cancel (SHARED (self)->stream);
      /* In pre-copy the source holds the whole guest: the destination can
       * drop its copy now, while QEMU winds the stream down. */
      send_peer_abort (self, "cancelled");
    }
  return TRUE;
}

static gboolean
require_active_source (FerrydOutgoingMigration *self, GError **error)
{
  if (SHARED (self)->finished || SHARED (self)->stream == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "Migration already ended (%s)",
                   ferryd_state_to_string (SHARED (self)->state));
      return FALSE;
    }
  return TRUE;
}

static gboolean
outgoing_start_postcopy (FerrydMigration *migration, GError **error)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);

  if (!require_active_source (self, error))
    return FALSE;
  if (SHARED (self)->features == NULL ||
      !g_strv_contains ((const char *const *) SHARED (self)->features, "postcopy-ram"))
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
  if (SHARED (self)->postcopy_requested)
    return TRUE;
  SHARED (self)->postcopy_requested = TRUE;
  /* If pre-copy completes first, the outcome is reported as pre-copy. */
  ferryd_stream_start_postcopy (SHARED (self)->stream);
  return TRUE;
}

static void
control_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FerrydMigration *self = g_task_get_source_object (task);
  guint64 downtime_limit = GPOINTER_TO_SIZE (g_task_get_task_data (task));
  GError *error = NULL;

  if (!ferryd_stream_control_finish (FERRYD_STREAM (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (downtime_limit)
    SHARED (self)->downtime_limit = downtime_limit;
  g_task_return_boolean (task, TRUE);
}

static void
outgoing_control (FerrydMigration *migration,
                  const char *what,
                  FerrydStreamControl control,
                  guint64 value,
                  GTask *task)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);
  GError *error = NULL;

  if (control == FERRYD_STREAM_CONTROL_PAUSE && !SHARED (self)->finished &&
      SHARED (self)->state != STATE_POSTCOPY_ACTIVE)
    error = g_error_new_literal (FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                                 "Only a migration in post-copy can be paused");
  else
    require_active_source (self, &error);
  if (error)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  ferryd_stream_control_async (SHARED (self)->stream, control, value, g_task_get_cancellable (task),
                               control_done_cb, task);
}

static void
outgoing_ending (FerrydMigration *migration)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (migration);

  if (self->peer)
    {
      /* The destination sees us leave; the link is not needed any more. */
      g_signal_handlers_disconnect_by_data (self->peer, self);
      ferryd_peer_client_close (self->peer);
    }
}

static GVariant *
outgoing_final_statistics (FerrydMigration *migration)
{
  return NULL;
}

static void
outgoing_shutdown (FerrydMigration *migration)
{
}

/* --- object --- */

G_DEFINE_FINAL_TYPE (FerrydOutgoingMigration, ferryd_outgoing_migration, FERRYD_TYPE_MIGRATION)

FerrydMigration *
ferryd_outgoing_migration_new (const FerrydMigrationSetup *setup)
{
  FerrydMigration *self = g_object_new (FERRYD_TYPE_OUTGOING_MIGRATION, NULL);

  migration_construct (self, setup);
  return self;
}

static void
ferryd_outgoing_migration_dispose (GObject *object)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (object);

  if (self->peer)
    g_signal_handlers_disconnect_by_data (self->peer, self);
  g_clear_object (&self->peer);
  G_OBJECT_CLASS (ferryd_outgoing_migration_parent_class)->dispose (object);
}

static void
ferryd_outgoing_migration_finalize (GObject *object)
{
  FerrydOutgoingMigration *self = FERRYD_OUTGOING_MIGRATION (object);

  g_free (self->peer_address);
  g_free (self->peer_migration);
  g_free (self->migrate_uri);
  g_free (self->storage_uri);
  g_clear_pointer (&self->live_config, ferryd_domain_config_free);
  g_free (self->abort_reason);
  g_clear_error (&self->rollback_error);
  G_OBJECT_CLASS (ferryd_outgoing_migration_parent_class)->finalize (object);
}

static void
ferryd_outgoing_migration_class_init (FerrydOutgoingMigrationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  FerrydMigrationClass *migration_class = FERRYD_MIGRATION_CLASS (klass);

  object_class->dispose = ferryd_outgoing_migration_dispose;
  object_class->finalize = ferryd_outgoing_migration_finalize;
  migration_class->direction = "outgoing";
  migration_class->cancel = outgoing_cancel;
  migration_class->start_postcopy = outgoing_start_postcopy;
  migration_class->control = outgoing_control;
  migration_class->stream_exited = outgoing_stream_exited;
  migration_class->crashed = outgoing_crashed;
  migration_class->ending = outgoing_ending;
  migration_class->final_statistics = outgoing_final_statistics;
  migration_class->shutdown = outgoing_shutdown;
  migration_class->recover = outgoing_recover;
  migration_class->journal_save = outgoing_journal_save;
  migration_class->journal_restore = outgoing_journal_restore;
  migration_class->settle_after_restart = outgoing_settle_after_restart;
}

static void
ferryd_outgoing_migration_init (FerrydOutgoingMigration *self)
{
}
