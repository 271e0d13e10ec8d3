/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-watch.c: a destination follows its source ferryd */
#define G_LOG_DOMAIN "ferry-peer"

#include "ferryd-peer-watch.h"

struct _FerrydPeerWatch
{
  GObject parent_instance;

  char *name;
  guint watch_id;
  GDBusConnection *link; /* a peer-to-peer link, watched for its close */
};

enum
{
  SIGNAL_VANISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (FerrydPeerWatch, ferryd_peer_watch, G_TYPE_OBJECT)

static void
vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_VANISHED], 0);
}

FerrydPeerWatch *
ferryd_peer_watch_new (GDBusConnection *connection, const char *name)
{
  FerrydPeerWatch *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  self = g_object_new (FERRYD_TYPE_PEER_WATCH, NULL);
  self->name = g_strdup (name);
  self->watch_id = g_bus_watch_name_on_connection (connection, name, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   NULL, vanished_cb, self, NULL);
  return self;
}

static void
link_closed_cb (GDBusConnection *connection,
                gboolean remote_peer_vanished,
                GError *error,
                gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_VANISHED], 0);
}

FerrydPeerWatch *
ferryd_peer_watch_new_for_link (GDBusConnection *connection, const char *name)
{
  FerrydPeerWatch *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  self = g_object_new (FERRYD_TYPE_PEER_WATCH, NULL);
  self->name = g_strdup (name);
  self->link = g_object_ref (connection);
  g_signal_connect (connection, "closed", G_CALLBACK (link_closed_cb), self);
  return self;
}

const char *
ferryd_peer_watch_get_name (FerrydPeerWatch *self)
{
  g_return_val_if_fail (FERRYD_IS_PEER_WATCH (self), NULL);
  return self->name;
}

void
ferryd_peer_watch_stop (FerrydPeerWatch *self)
{
  g_return_if_fail (FERRYD_IS_PEER_WATCH (self));
  if (self->watch_id)
    g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  if (self->link)
    {
      g_signal_handlers_disconnect_by_data (self->link, self);
      g_clear_object (&self->link);
    }
}

static void
ferryd_peer_watch_dispose (GObject *object)
{
  ferryd_peer_watch_stop (FERRYD_PEER_WATCH (object));
  G_OBJECT_CLASS (ferryd_peer_watch_parent_class)->dispose (object);
}

static void
ferryd_peer_watch_finalize (GObject *object)
{
  g_free (FERRYD_PEER_WATCH (object)->name);
  G_OBJECT_CLASS (ferryd_peer_watch_parent_class)->finalize (object);
}

static void
ferryd_peer_watch_class_init (FerrydPeerWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ferryd_peer_watch_dispose;
  object_class->finalize = ferryd_peer_watch_finalize;
  signals[SIGNAL_VANISHED] = g_signal_new ("vanished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ferryd_peer_watch_init (FerrydPeerWatch *self)
{
}
