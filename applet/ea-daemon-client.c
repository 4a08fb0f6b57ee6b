/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The applet's one view of the daemon: a plain proxy for the root object
 * (auto-starting the daemon by D-Bus activation), the generated object
 * manager client for request/, offer/ and session/, and the groups and
 * experts kept up to date from GroupsChanged and ExpertChanged (never
 * polled). Windows and the tray listen to its signals.
 */
#define G_LOG_DOMAIN "ea-client"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-applet-util.h"
#include "ea-daemon-client.h"

typedef struct {
  char *name;
  char *status;
} ExpertInfo;

struct _EaDaemonClient
{
  GObject             parent_instance;

  GDBusConnection    *connection;
  GCancellable       *cancellable;
  EaExpertAssist     *root;
  GDBusObjectManager *manager;
  guint               name_watch;
  gboolean            name_owned;
  char               *start_error;

  GPtrArray          *groups;         /* EaGroupInfo */
  char               *groups_error;
  GHashTable         *experts;        /* address → ExpertInfo */
  guint               refresh_idle;
  gboolean            refreshing;
  gboolean            refresh_again;
};

G_DEFINE_FINAL_TYPE (EaDaemonClient, ea_daemon_client, G_TYPE_OBJECT)

enum {
  READY,
  STATE_CHANGED,
  GROUPS_CHANGED,
  EXPERT_CHANGED,
  OBJECT_ADDED,
  OBJECT_REMOVED,
  OFFER_RECEIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
group_info_free (gpointer data)
{
  EaGroupInfo *info = data;

  g_free (info->id);
  g_free (info->name);
  g_free (info->description);
  g_free (info);
}

static void
expert_info_free (gpointer data)
{
  ExpertInfo *info = data;

  g_free (info->name);
  g_free (info->status);
  g_free (info);
}

static void
ea_daemon_client_dispose (GObject *object)
{
  EaDaemonClient *self = EA_DAEMON_CLIENT (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_idle, g_source_remove);
  if (self->name_watch)
    {
      g_bus_unwatch_name (self->name_watch);
      self->name_watch = 0;
    }
  if (self->root)
    g_signal_handlers_disconnect_by_data (self->root, self);
  if (self->manager)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  g_clear_object (&self->root);
  g_clear_object (&self->manager);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (ea_daemon_client_parent_class)->dispose (object);
}

static void
ea_daemon_client_finalize (GObject *object)
{
  EaDaemonClient *self = EA_DAEMON_CLIENT (object);

  g_clear_pointer (&self->groups, g_ptr_array_unref);
  g_clear_pointer (&self->experts, g_hash_table_unref);
  g_free (self->groups_error);
  g_free (self->start_error);

  G_OBJECT_CLASS (ea_daemon_client_parent_class)->finalize (object);
}

static void
ea_daemon_client_class_init (EaDaemonClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ea_daemon_client_dispose;
  object_class->finalize = ea_daemon_client_finalize;

  signals[READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* ConnectionState, Status, Account or the daemon itself came or went */
  signals[STATE_CHANGED] = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 0);
  signals[GROUPS_CHANGED] = g_signal_new ("groups-changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
  signals[EXPERT_CHANGED] = g_signal_new ("expert-changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING,
                                          G_TYPE_BOOLEAN);
  signals[OBJECT_ADDED] = g_signal_new ("object-added", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 1, G_TYPE_DBUS_OBJECT);
  signals[OBJECT_REMOVED] = g_signal_new ("object-removed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_DBUS_OBJECT);
  signals[OFFER_RECEIVED] = g_signal_new ("offer-received", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
ea_daemon_client_init (EaDaemonClient *self)
{
  self->cancellable = g_cancellable_new ();
  self->groups = g_ptr_array_new_with_free_func (group_info_free);
  self->experts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, expert_info_free);
}

EaDaemonClient *
ea_daemon_client_new (GDBusConnection *connection)
{
  EaDaemonClient *self = g_object_new (EA_TYPE_DAEMON_CLIENT, NULL);

  self->connection = g_object_ref (connection);
  return self;
}

/* Groups and experts */

static void refresh_groups_now (EaDaemonClient *self);

static void
list_experts_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaDaemonClient) self = user_data;
  g_autoptr(GVariant) experts = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *address, *name, *status;

  if (!ea_expert_assist_call_list_experts_finish (EA_EXPERT_ASSIST (source), &experts,
                                                  result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("ListExperts: %s", error->message);
      return;
    }

  g_variant_iter_init (&iter, experts);
  while (g_variant_iter_next (&iter, "(&s&s&s@a{sv})", &address, &name, &status, NULL))
    {
      ExpertInfo *info = g_new0 (ExpertInfo, 1);

      info->name = g_strdup (name);
      info->status = g_strdup (status);
      g_hash_table_replace (self->experts, g_strdup (address), info);
    }
  g_signal_emit (self, signals[GROUPS_CHANGED], 0);
}

static void
list_groups_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaDaemonClient) self = user_data;
  g_autoptr(GVariant) groups = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *id, *name;
  guint32 available, total;
  GVariant *extra;

  self->refreshing = FALSE;
  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  g_clear_pointer (&self->groups_error, g_free);
  if (!ea_expert_assist_call_list_groups_finish (EA_EXPERT_ASSIST (source), &groups,
                                                 result, &error))
    {
      self->groups_error = ea_describe_error (error);
      g_ptr_array_set_size (self->groups, 0);
    }
  else
    {
      g_ptr_array_set_size (self->groups, 0);
      g_variant_iter_init (&iter, groups);
      while (g_variant_iter_next (&iter, "(&s&suu@a{sv})", &id, &name, &available, &total,
                                  &extra))
        {
          EaGroupInfo *info = g_new0 (EaGroupInfo, 1);

          info->id = g_strdup (id);
          info->name = g_strdup (*name ? name : id);
          info->available = available;
          info->total = total;
          info->description = ea_lookup_string (extra, "description");
          g_ptr_array_add (self->groups, info);
          g_variant_unref (extra);
        }
      ea_expert_assist_call_list_experts (self->root, "", self->cancellable,
                                          list_experts_cb, g_object_ref (self));
    }

  g_signal_emit (self, signals[GROUPS_CHANGED], 0);

  if (self->refresh_again)
    {
      self->refresh_again = FALSE;
      refresh_groups_now (self);
    }
}

static void
refresh_groups_now (EaDaemonClient *self)
{
  if (self->root == NULL)
    return;
  if (self->refreshing)
    {
      self->refresh_again = TRUE;
      return;
    }
  self->refreshing = TRUE;
  ea_expert_assist_call_list_groups (self->root, self->cancellable, list_groups_cb,
                                     g_object_ref (self));
}

static gboolean
refresh_idle_cb (gpointer user_data)
{
  EaDaemonClient *self = user_data;

  self->refresh_idle = 0;
  refresh_groups_now (self);
  return G_SOURCE_REMOVE;
}

/* Coalesces bursts of ExpertChanged (a roster arriving) into one call. */
void
ea_daemon_client_refresh_groups (EaDaemonClient *self)
{
  g_return_if_fail (EA_IS_DAEMON_CLIENT (self));

  if (self->refresh_idle == 0)
    self->refresh_idle = g_timeout_add (50, refresh_idle_cb, self);
}

static void
expert_changed_cb (EaExpertAssist *root, const char *address, const char *status,
                   gboolean interruptible, EaDaemonClient *self)
{
  ExpertInfo *info = g_hash_table_lookup (self->experts, address);

  if (info != NULL)
    {
      g_free (info->status);
      info->status = g_strdup (status);
    }
  g_signal_emit (self, signals[EXPERT_CHANGED], 0, address, status, interruptible);
  ea_daemon_client_refresh_groups (self);
}

static void
groups_changed_cb (EaExpertAssist *root, EaDaemonClient *self)
{
  ea_daemon_client_refresh_groups (self);
}

static void
offer_received_cb (EaExpertAssist *root, const char *path, EaDaemonClient *self)
{
  g_signal_emit (self, signals[OFFER_RECEIVED], 0, path);
}

static void
root_notify_cb (GObject *root, GParamSpec *pspec, EaDaemonClient *self)
{
  if (g_str_equal (pspec->name, "connection-state") || g_str_equal (pspec->name, "g-name-owner"))
    ea_daemon_client_refresh_groups (self);
  g_signal_emit (self, signals[STATE_CHANGED], 0);
}

/* Objects */

static void
object_added_cb (GDBusObjectManager *manager, GDBusObject *object, EaDaemonClient *self)
{
  g_signal_emit (self, signals[OBJECT_ADDED], 0, object);
}

static void
object_removed_cb (GDBusObjectManager *manager, GDBusObject *object, EaDaemonClient *self)
{
  g_signal_emit (self, signals[OBJECT_REMOVED], 0, object);
}

static void
manager_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaDaemonClient) self = user_data;
  g_autoptr(GError) error = NULL;
  GDBusObjectManager *manager;

  manager = ea_object_manager_client_new_finish (result, &error);
  if (manager == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Cannot follow the daemon's objects: %s", error->message);
      return;
    }
  self->manager = manager;
  g_signal_connect (manager, "object-added", G_CALLBACK (object_added_cb), self);
  g_signal_connect (manager, "object-removed", G_CALLBACK (object_removed_cb), self);

  g_signal_emit (self, signals[READY], 0);
}

static void start_root (EaDaemonClient *self);

static void
root_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaDaemonClient) self = user_data;
  g_autoptr(GError) error = NULL;
  EaExpertAssist *root;

  root = ea_expert_assist_proxy_new_finish (result, &error);
  if (root == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Activation failed (no .service file, or the daemon exited at
       * once): say so, and try again when someone starts it by hand. */
      g_free (self->start_error);
      self->start_error = ea_describe_error (error);
      g_warning ("Cannot reach the Expert Assist daemon: %s", error->message);
      g_signal_emit (self, signals[STATE_CHANGED], 0);
      return;
    }

  g_clear_pointer (&self->start_error, g_free);
  self->root = root;
  /* Offer.Accept may wait 15 s for the agent's daemon to decide. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (root), 30000);
  g_signal_connect (root, "expert-changed", G_CALLBACK (expert_changed_cb), self);
  g_signal_connect (root, "groups-changed", G_CALLBACK (groups_changed_cb), self);
  g_signal_connect (root, "offer-received", G_CALLBACK (offer_received_cb), self);
  g_signal_connect (root, "notify", G_CALLBACK (root_notify_cb), self);

  refresh_groups_now (self);
  g_signal_emit (self, signals[STATE_CHANGED], 0);

  ea_object_manager_client_new (self->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                EA_BUS_NAME, EA_ROOT_PATH, self->cancellable,
                                manager_ready_cb, g_object_ref (self));
}

static void
start_root (EaDaemonClient *self)
{
  /* No DO_NOT_AUTO_START: creating the proxy starts the daemon by D-Bus
   * activation when nobody owns its name yet. */
  ea_expert_assist_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, EA_BUS_NAME,
                              EA_ROOT_PATH, self->cancellable, root_ready_cb,
                              g_object_ref (self));
}

static void
name_appeared_cb (GDBusConnection *connection, const char *name, const char *owner,
                  gpointer user_data)
{
  EaDaemonClient *self = user_data;

  self->name_owned = TRUE;
  if (self->root == NULL && self->start_error != NULL)
    {
      g_clear_pointer (&self->start_error, g_free);
      start_root (self);
    }
  g_signal_emit (self, signals[STATE_CHANGED], 0);
}

static void
name_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  EaDaemonClient *self = user_data;

  self->name_owned = FALSE;
  g_signal_emit (self, signals[STATE_CHANGED], 0);
}

void
ea_daemon_client_start (EaDaemonClient *self)
{
  g_return_if_fail (EA_IS_DAEMON_CLIENT (self));

  if (self->name_watch != 0)
    return;
  self->name_watch = g_bus_watch_name_on_connection (self->connection, EA_BUS_NAME,
                                                     G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     name_appeared_cb, name_vanished_cb,
                                                     self, NULL);
  start_root (self);
}

/* Getters */

EaExpertAssist *
ea_daemon_client_get_root (EaDaemonClient *self)
{
  g_return_val_if_fail (EA_IS_DAEMON_CLIENT (self), NULL);
  return self->root;
}

GDBusObjectManager *
ea_daemon_client_get_manager (EaDaemonClient *self)
{
  g_return_val_if_fail (EA_IS_DAEMON_CLIENT (self), NULL);
  return self->manager;
}

gboolean
ea_daemon_client_is_running (EaDaemonClient *self)
{
  g_autofree char *owner = NULL;

  if (self->root == NULL)
    return FALSE;
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (self->root));
  return owner != NULL;
}

const char *
ea_daemon_client_get_connection_state (EaDaemonClient *self)
{
  const char *state;

  if (!ea_daemon_client_is_running (self))
    return "";
  state = ea_expert_assist_get_connection_state (self->root);
  return state ? state : "";
}

const char *
ea_daemon_client_get_status (EaDaemonClient *self)
{
  const char *status;

  if (!ea_daemon_client_is_running (self))
    return "offline";
  status = ea_expert_assist_get_status (self->root);
  return status && *status ? status : "offline";
}

const char *
ea_daemon_client_get_account (EaDaemonClient *self)
{
  const char *account;

  if (!ea_daemon_client_is_running (self))
    return "";
  account = ea_expert_assist_get_account (self->root);
  return account ? account : "";
}

/* A sentence for the user when things are not fine, else NULL. */
char *
ea_daemon_client_dup_problem (EaDaemonClient *self)
{
  const char *state, *message;

  if (self->start_error != NULL)
    return g_strdup (self->start_error);
  if (!ea_daemon_client_is_running (self))
    return g_strdup (_("The Expert Assist service is not running."));
  state = ea_daemon_client_get_connection_state (self);
  if (g_str_equal (state, "connected"))
    return NULL;
  message = ea_expert_assist_get_connection_error (self->root);
  if (message != NULL && *message != '\0')
    return g_strdup_printf ("%s: %s", ea_connection_label (state), message);
  return g_strdup (ea_connection_label (state));
}

GPtrArray *
ea_daemon_client_get_groups (EaDaemonClient *self)
{
  g_return_val_if_fail (EA_IS_DAEMON_CLIENT (self), NULL);
  return self->groups;
}

const EaGroupInfo *
ea_daemon_client_find_group (EaDaemonClient *self, const char *id)
{
  for (guint i = 0; i < self->groups->len; i++)
    {
      const EaGroupInfo *info = g_ptr_array_index (self->groups, i);

      if (g_strcmp0 (info->id, id) == 0)
        return info;
    }
  return NULL;
}

const char *
ea_daemon_client_get_groups_error (EaDaemonClient *self)
{
  return self->groups_error;
}

const char *
ea_daemon_client_expert_name (EaDaemonClient *self, const char *address)
{
  ExpertInfo *info = g_hash_table_lookup (self->experts, address);

  return info && info->name && *info->name ? info->name : address;
}

const char *
ea_daemon_client_expert_status (EaDaemonClient *self, const char *address)
{
  ExpertInfo *info = g_hash_table_lookup (self->experts, address);

  return info ? info->status : NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  /* g_ptr_array_sort passes pointers to the elements */
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* Addresses of every known expert, sorted; free with g_ptr_array_unref. */
GPtrArray *
ea_daemon_client_list_experts (EaDaemonClient *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->experts);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (list, g_strdup (key));
  g_ptr_array_sort (list, compare_strings);
  return list;
}

static gpointer
get_interface (EaDaemonClient *self, const char *path, const char *iface)
{
  GDBusInterface *found;

  if (self->manager == NULL || path == NULL || !g_variant_is_object_path (path))
    return NULL;
  found = g_dbus_object_manager_get_interface (self->manager, path, iface);
  return found;
}

EaExpertAssistOffer *
ea_daemon_client_get_offer (EaDaemonClient *self, const char *path)
{
  return get_interface (self, path, "org.example.ExpertAssist.Offer");
}

EaExpertAssistRequest *
ea_daemon_client_get_request (EaDaemonClient *self, const char *path)
{
  return get_interface (self, path, "org.example.ExpertAssist.Request");
}

EaExpertAssistSession *
ea_daemon_client_get_session (EaDaemonClient *self, const char *path)
{
  return get_interface (self, path, "org.example.ExpertAssist.Session");
}

static GList *
list_interfaces (EaDaemonClient *self, const char *iface)
{
  GList *objects, *l, *out = NULL;

  if (self->manager == NULL)
    return NULL;
  objects = g_dbus_object_manager_get_objects (self->manager);
  for (l = objects; l != NULL; l = l->next)
    {
      GDBusInterface *found = g_dbus_object_get_interface (l->data, iface);

      if (found != NULL)
        out = g_list_prepend (out, found);
    }
  g_list_free_full (objects, g_object_unref);
  return g_list_reverse (out);
}

/* Lists of new references; free with g_list_free_full (l, g_object_unref). */
GList *
ea_daemon_client_list_offers (EaDaemonClient *self)
{
  return list_interfaces (self, "org.example.ExpertAssist.Offer");
}

GList *
ea_daemon_client_list_sessions (EaDaemonClient *self)
{
  return list_interfaces (self, "org.example.ExpertAssist.Session");
}
