/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tray icon: an org.kde.StatusNotifierItem exported over GDBus at
 * /StatusNotifierItem on the application's own connection, registered with
 * org.kde.StatusNotifierWatcher whenever a watcher is on the bus, and its
 * com.canonical.dbusmenu menu at /MenuBar served by libdbusmenu-glib
 * (GLib only). GTK 4 has no tray API and libayatana-appindicator is GTK 3
 * only, so nothing else would show the icon in KDE, XFCE, or GNOME with
 * the AppIndicator extension.
 *
 * The menu items carry a GAction name and target, so activating an item
 * from a tray host, from the home window (no tray host) and from the test
 * hook all take the same path.
 */
#define G_LOG_DOMAIN "ea-tray"

#include "config.h"

#include <glib/gi18n.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <libdbusmenu-glib/client.h>
#include <libdbusmenu-glib/server.h>

#include "ea-applet-util.h"
#include "ea-tray.h"

#define WATCHER_NAME "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH "/StatusNotifierWatcher"
#define WATCHER_IFACE "org.kde.StatusNotifierWatcher"
#define ITEM_IFACE "org.kde.StatusNotifierItem"
#define ICON_PREFIX "org.example.ExpertAssist.Applet-"
#define ICON_RESOURCE "/org/example/ExpertAssist/Applet/icons/scalable/status/"

static const char item_xml[] =
  "<node>"
  " <interface name='org.kde.StatusNotifierItem'>"
  "  <property name='Category' type='s' access='read'/>"
  "  <property name='Id' type='s' access='read'/>"
  "  <property name='Title' type='s' access='read'/>"
  "  <property name='Status' type='s' access='read'/>"
  "  <property name='WindowId' type='i' access='read'/>"
  "  <property name='IconThemePath' type='s' access='read'/>"
  "  <property name='IconName' type='s' access='read'/>"
  "  <property name='IconPixmap' type='a(iiay)' access='read'/>"
  "  <property name='OverlayIconName' type='s' access='read'/>"
  "  <property name='OverlayIconPixmap' type='a(iiay)' access='read'/>"
  "  <property name='AttentionIconName' type='s' access='read'/>"
  "  <property name='AttentionIconPixmap' type='a(iiay)' access='read'/>"
  "  <property name='AttentionMovieName' type='s' access='read'/>"
  "  <property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
  "  <property name='ItemIsMenu' type='b' access='read'/>"
  "  <property name='Menu' type='o' access='read'/>"
  "  <method name='ContextMenu'><arg name='x' type='i' direction='in'/>"
  "   <arg name='y' type='i' direction='in'/></method>"
  "  <method name='Activate'><arg name='x' type='i' direction='in'/>"
  "   <arg name='y' type='i' direction='in'/></method>"
  "  <method name='SecondaryActivate'><arg name='x' type='i' direction='in'/>"
  "   <arg name='y' type='i' direction='in'/></method>"
  "  <method name='Scroll'><arg name='delta' type='i' direction='in'/>"
  "   <arg name='orientation' type='s' direction='in'/></method>"
  "  <signal name='NewTitle'/>"
  "  <signal name='NewIcon'/>"
  "  <signal name='NewAttentionIcon'/>"
  "  <signal name='NewOverlayIcon'/>"
  "  <signal name='NewToolTip'/>"
  "  <signal name='NewStatus'><arg name='status' type='s'/></signal>"
  "  <signal name='NewIconThemePath'><arg name='icon_theme_path' type='s'/></signal>"
  "  <signal name='NewMenu'/>"
  " </interface>"
  "</node>";

struct _EaTray
{
  GObject           parent_instance;

  GApplication     *application;     /* not owned */
  EaDaemonClient   *client;
  GDBusConnection  *connection;
  GDBusNodeInfo    *node_info;
  guint             registration_id;
  guint             watcher_watch;
  DbusmenuServer   *menu_server;
  DbusmenuMenuitem *menu;
  guint             update_idle;
  gboolean          published;
  guint             register_attempts;
  guint             register_retry;
  gboolean          watcher_present;
  guint             n_offers;
  char             *icon_name;
  char             *tooltip;
  GVariant         *pixmaps;         /* a(iiay) of icon_name */
  GVariant         *attention_pixmaps;
  GCancellable     *cancellable;
};

G_DEFINE_FINAL_TYPE (EaTray, ea_tray, G_TYPE_OBJECT)

enum {
  PUBLISHED_CHANGED,
  MENU_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
ea_tray_dispose (GObject *object)
{
  EaTray *self = EA_TRAY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->update_idle, g_source_remove);
  g_clear_handle_id (&self->register_retry, g_source_remove);
  if (self->watcher_watch)
    {
      g_bus_unwatch_name (self->watcher_watch);
      self->watcher_watch = 0;
    }
  if (self->registration_id && self->connection)
    {
      g_dbus_connection_unregister_object (self->connection, self->registration_id);
      self->registration_id = 0;
    }
  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);
  if (self->published && self->application)
    {
      self->published = FALSE;
      g_application_release (self->application);
    }
  g_clear_object (&self->menu_server);
  g_clear_object (&self->menu);
  g_clear_object (&self->client);
  g_clear_object (&self->connection);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->node_info, g_dbus_node_info_unref);

  G_OBJECT_CLASS (ea_tray_parent_class)->dispose (object);
}

static void
ea_tray_finalize (GObject *object)
{
  EaTray *self = EA_TRAY (object);

  g_free (self->icon_name);
  g_free (self->tooltip);
  g_clear_pointer (&self->pixmaps, g_variant_unref);
  g_clear_pointer (&self->attention_pixmaps, g_variant_unref);

  G_OBJECT_CLASS (ea_tray_parent_class)->finalize (object);
}

static void
ea_tray_class_init (EaTrayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ea_tray_dispose;
  object_class->finalize = ea_tray_finalize;

  signals[PUBLISHED_CHANGED] = g_signal_new ("published-changed", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 0);
  signals[MENU_CHANGED] = g_signal_new ("menu-changed", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 0);
}

static void
ea_tray_init (EaTray *self)
{
  self->cancellable = g_cancellable_new ();
}

/* Icons */

/* An a(iiay) of ARGB32 in network byte order, as the spec wants, for hosts
 * that cannot find our icon in their theme. */
static GVariant *
render_pixmaps (const char *icon_name)
{
  static const int sizes[] = { 16, 22, 32, 48 };
  GVariantBuilder builder;
  g_autofree char *path = g_strconcat (ICON_RESOURCE, icon_name, ".svg", NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(iiay)"));
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GdkPixbuf) pixbuf = NULL;
      g_autoptr(GError) error = NULL;
      guchar *argb;
      const guchar *pixels;
      int width, height, stride, channels;

      pixbuf = gdk_pixbuf_new_from_resource_at_scale (path, sizes[i], sizes[i], TRUE, &error);
      if (pixbuf == NULL)
        {
          g_debug ("No pixmap for %s: %s", icon_name, error->message);
          break;
        }
      width = gdk_pixbuf_get_width (pixbuf);
      height = gdk_pixbuf_get_height (pixbuf);
      stride = gdk_pixbuf_get_rowstride (pixbuf);
      channels = gdk_pixbuf_get_n_channels (pixbuf);
      pixels = gdk_pixbuf_read_pixels (pixbuf);
      argb = g_malloc ((gsize) width * height * 4);
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
          {
            const guchar *p = pixels + y * stride + x * channels;
            guchar *q = argb + ((gsize) y * width + x) * 4;

            q[0] = channels == 4 ? p[3] : 0xff;
            q[1] = p[0];
            q[2] = p[1];
            q[3] = p[2];
          }
      g_variant_builder_add (&builder, "(ii@ay)", width, height,
                             g_variant_new_from_data (G_VARIANT_TYPE ("ay"), argb,
                                                      (gsize) width * height * 4, TRUE,
                                                      g_free, argb));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static char *
icon_theme_path (void)
{
  g_autofree char *datadir = g_path_get_dirname (PKGDATADIR);

  return g_build_filename (datadir, "icons", NULL);
}

/* The StatusNotifierItem object */

static GVariant *
item_get_property (GDBusConnection *connection, const char *sender, const char *path,
                   const char *iface, const char *name, GError **error, gpointer user_data)
{
  EaTray *self = user_data;

  if (g_str_equal (name, "Category"))
    return g_variant_new_string ("Communications");
  if (g_str_equal (name, "Id"))
    return g_variant_new_string (EA_APPLET_ID);
  if (g_str_equal (name, "Title"))
    return g_variant_new_string (_("Expert Assist"));
  if (g_str_equal (name, "Status"))
    return g_variant_new_string (self->n_offers > 0 ? "NeedsAttention" : "Active");
  if (g_str_equal (name, "WindowId"))
    return g_variant_new_int32 (0);
  if (g_str_equal (name, "IconThemePath"))
    {
      g_autofree char *theme_path = icon_theme_path ();
      return g_variant_new_string (theme_path);
    }
  if (g_str_equal (name, "IconName"))
    return g_variant_new_string (self->icon_name);
  if (g_str_equal (name, "IconPixmap"))
    return g_variant_ref (self->pixmaps);
  if (g_str_equal (name, "OverlayIconName") || g_str_equal (name, "AttentionMovieName"))
    return g_variant_new_string ("");
  if (g_str_equal (name, "OverlayIconPixmap"))
    return g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0);
  if (g_str_equal (name, "AttentionIconName"))
    return g_variant_new_string (ICON_PREFIX "offer");
  if (g_str_equal (name, "AttentionIconPixmap"))
    return g_variant_ref (self->attention_pixmaps);
  if (g_str_equal (name, "ToolTip"))
    return g_variant_new ("(s@a(iiay)ss)", self->icon_name,
                          g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0),
                          _("Expert Assist"), self->tooltip ? self->tooltip : "");
  if (g_str_equal (name, "ItemIsMenu"))
    return g_variant_new_boolean (FALSE);
  if (g_str_equal (name, "Menu"))
    return g_variant_new_object_path (EA_TRAY_MENU_PATH);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s", name);
  return NULL;
}

static void
item_method_call (GDBusConnection *connection, const char *sender, const char *path,
                  const char *iface, const char *method, GVariant *parameters,
                  GDBusMethodInvocation *invocation, gpointer user_data)
{
  EaTray *self = user_data;

  if (g_str_equal (method, "Activate"))
    {
      /* A left click: what an agent does most, ask for help. */
      g_action_group_activate_action (G_ACTION_GROUP (self->application), "ask",
                                      g_variant_new_string (""));
    }
  else if (g_str_equal (method, "SecondaryActivate") || g_str_equal (method, "ContextMenu"))
    {
      /* Hosts that cannot draw a dbusmenu ask us for a menu: the home
       * window shows the same items. A middle click shows the offers. */
      g_action_group_activate_action (G_ACTION_GROUP (self->application),
                                      self->n_offers > 0 && g_str_equal (method, "SecondaryActivate")
                                      ? "show-offers" : "home", NULL);
    }
  /* Scroll: nothing to scroll through. */
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable item_vtable = {
  item_method_call,
  item_get_property,
  NULL,
  { 0 }
};

static void
emit_item_signal (EaTray *self, const char *name, GVariant *parameters)
{
  g_autoptr(GError) error = NULL;

  if (self->registration_id == 0)
    {
      if (parameters)
        g_variant_unref (g_variant_ref_sink (parameters));
      return;
    }
  if (!g_dbus_connection_emit_signal (self->connection, NULL, EA_TRAY_ITEM_PATH, ITEM_IFACE,
                                      name, parameters, &error))
    g_debug ("Cannot emit %s: %s", name, error->message);
}

/* Registration with the watcher */

static void
set_published (EaTray *self, gboolean published)
{
  if (self->published == published)
    return;
  self->published = published;
  /* Hold the application while an icon stands for it in the tray. */
  if (published)
    g_application_hold (self->application);
  else
    g_application_release (self->application);
  g_message ("Tray icon %s", published ? "registered with the StatusNotifierWatcher"
                                       : "not shown: no StatusNotifierWatcher");
  g_signal_emit (self, signals[PUBLISHED_CHANGED], 0);
}

static gboolean register_retry_cb (gpointer user_data);

static void
register_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaTray) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* A watcher that has just taken its name may not have exported its
       * object yet: try again a few times before giving up. */
      if (self->register_attempts < 10 && self->watcher_present)
        {
          g_debug ("Registering the tray icon failed, trying again: %s", error->message);
          g_clear_handle_id (&self->register_retry, g_source_remove);
          self->register_retry = g_timeout_add (300, register_retry_cb, self);
          return;
        }
      g_warning ("The StatusNotifierWatcher refused the tray icon: %s", error->message);
      set_published (self, FALSE);
      return;
    }
  set_published (self, TRUE);
}

static void
register_item (EaTray *self)
{
  self->register_attempts++;
  /* The unique name: the watcher then looks at /StatusNotifierItem. */
  g_dbus_connection_call (self->connection, WATCHER_NAME, WATCHER_PATH, WATCHER_IFACE,
                          "RegisterStatusNotifierItem",
                          g_variant_new ("(s)", g_dbus_connection_get_unique_name (self->connection)),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, self->cancellable,
                          register_cb, g_object_ref (self));
}

static gboolean
register_retry_cb (gpointer user_data)
{
  EaTray *self = user_data;

  self->register_retry = 0;
  register_item (self);
  return G_SOURCE_REMOVE;
}

static void
watcher_appeared_cb (GDBusConnection *connection, const char *name, const char *owner,
                     gpointer user_data)
{
  EaTray *self = user_data;

  self->watcher_present = TRUE;
  self->register_attempts = 0;
  register_item (self);
}

static void
watcher_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  EaTray *self = user_data;

  self->watcher_present = FALSE;
  g_clear_handle_id (&self->register_retry, g_source_remove);
  set_published (self, FALSE);
}

/* The menu */

static void
item_activated_cb (DbusmenuMenuitem *item, guint timestamp, EaTray *self)
{
  ea_tray_activate_item (self, item);
}

void
ea_tray_activate_item (EaTray *self, DbusmenuMenuitem *item)
{
  const char *action = g_object_get_data (G_OBJECT (item), "ea-action");
  GVariant *target = g_object_get_data (G_OBJECT (item), "ea-target");

  if (action == NULL)
    return;
  g_debug ("menu: %s", action);
  g_action_group_activate_action (G_ACTION_GROUP (self->application), action, target);
}

/* dbusmenu labels use "_" for mnemonics. */
static char *
escape_label (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text ? text : "", "_", -1);

  return g_strjoinv ("__", parts);
}

/* The menu is described as a list of specs, then reconciled with the
 * items already exported: when the same items are wanted (by key), only
 * their properties change, so item ids stay valid for a host that has the
 * menu open; otherwise the items are made anew. */
typedef struct {
  char     *key;
  char     *label;
  char     *action;
  GVariant *target;
  char     *icon;
  int       toggle;        /* -2: not a toggle */
  gboolean  separator;
} MenuSpec;

static void
menu_spec_free (gpointer data)
{
  MenuSpec *spec = data;

  g_free (spec->key);
  g_free (spec->label);
  g_free (spec->action);
  g_free (spec->icon);
  if (spec->target)
    g_variant_unref (spec->target);
  g_free (spec);
}

static MenuSpec *
add_spec (GPtrArray *specs, const char *key, const char *label, const char *action,
          GVariant *target)
{
  MenuSpec *spec = g_new0 (MenuSpec, 1);

  spec->key = g_strdup (key);
  spec->label = g_strdup (label);
  spec->action = g_strdup (action);
  spec->target = target ? g_variant_ref_sink (target) : NULL;
  spec->toggle = -2;
  g_ptr_array_add (specs, spec);
  return spec;
}

static void
add_separator_spec (GPtrArray *specs, const char *key)
{
  MenuSpec *spec = add_spec (specs, key, NULL, NULL, NULL);

  spec->separator = TRUE;
}

static void
apply_spec (EaTray *self, DbusmenuMenuitem *item, const MenuSpec *spec)
{
  g_autofree char *escaped = NULL;

  if (spec->separator)
    {
      dbusmenu_menuitem_property_set (item, DBUSMENU_MENUITEM_PROP_TYPE,
                                      DBUSMENU_CLIENT_TYPES_SEPARATOR);
      return;
    }
  escaped = escape_label (spec->label);
  dbusmenu_menuitem_property_set (item, DBUSMENU_MENUITEM_PROP_LABEL, escaped);
  dbusmenu_menuitem_property_set_bool (item, DBUSMENU_MENUITEM_PROP_ENABLED,
                                       spec->action != NULL);
  if (spec->icon != NULL)
    dbusmenu_menuitem_property_set (item, DBUSMENU_MENUITEM_PROP_ICON_NAME, spec->icon);
  if (spec->toggle != -2)
    {
      dbusmenu_menuitem_property_set (item, DBUSMENU_MENUITEM_PROP_TOGGLE_TYPE,
                                      DBUSMENU_MENUITEM_TOGGLE_RADIO);
      dbusmenu_menuitem_property_set_int (item, DBUSMENU_MENUITEM_PROP_TOGGLE_STATE,
                                          spec->toggle);
    }
  if (spec->action != NULL)
    g_object_set_data_full (G_OBJECT (item), "ea-action", g_strdup (spec->action), g_free);
  else
    g_object_set_data (G_OBJECT (item), "ea-action", NULL);
  if (spec->target != NULL)
    g_object_set_data_full (G_OBJECT (item), "ea-target", g_variant_ref (spec->target),
                            (GDestroyNotify) g_variant_unref);
  else
    g_object_set_data (G_OBJECT (item), "ea-target", NULL);
}

static gboolean
same_keys (DbusmenuMenuitem *root, GPtrArray *specs)
{
  GList *children = dbusmenu_menuitem_get_children (root);
  guint i = 0;

  for (GList *l = children; l != NULL; l = l->next, i++)
    {
      const char *key = g_object_get_data (l->data, "ea-key");

      if (i >= specs->len || g_strcmp0 (key, ((MenuSpec *) g_ptr_array_index (specs, i))->key) != 0)
        return FALSE;
    }
  return i == specs->len;
}

static void
reconcile_menu (EaTray *self, GPtrArray *specs)
{
  if (self->menu != NULL && same_keys (self->menu, specs))
    {
      guint i = 0;

      for (GList *l = dbusmenu_menuitem_get_children (self->menu); l != NULL; l = l->next, i++)
        apply_spec (self, l->data, g_ptr_array_index (specs, i));
      return;
    }

  if (self->menu == NULL)
    {
      self->menu = dbusmenu_menuitem_new ();
      dbusmenu_menuitem_set_root (self->menu, TRUE);
      dbusmenu_server_set_root (self->menu_server, self->menu);
    }
  else
    {
      GList *old = dbusmenu_menuitem_take_children (self->menu);

      g_list_free_full (old, g_object_unref);
    }
  for (guint i = 0; i < specs->len; i++)
    {
      const MenuSpec *spec = g_ptr_array_index (specs, i);
      DbusmenuMenuitem *item = dbusmenu_menuitem_new ();

      g_object_set_data_full (G_OBJECT (item), "ea-key", g_strdup (spec->key), g_free);
      apply_spec (self, item, spec);
      if (!spec->separator)
        g_signal_connect (item, DBUSMENU_MENUITEM_SIGNAL_ITEM_ACTIVATED,
                          G_CALLBACK (item_activated_cb), self);
      dbusmenu_menuitem_child_append (self->menu, item);
      g_object_unref (item);
    }
}

static const char *
session_peer_label (EaTray *self, EaExpertAssistSession *session)
{
  const char *const *participants = ea_expert_assist_session_get_participants (session);
  const char *account = ea_daemon_client_get_account (self->client);

  for (guint i = 0; participants && participants[i]; i++)
    if (g_strcmp0 (participants[i], account) != 0)
      return ea_daemon_client_expert_name (self->client, participants[i]);
  return ea_expert_assist_session_get_id (session);
}

static void
build_menu (EaTray *self)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func (menu_spec_free);
  static const char *const statuses[] = { "available", "away", "dnd", "offline" };
  GPtrArray *groups = ea_daemon_client_get_groups (self->client);
  const char *status = ea_daemon_client_get_status (self->client);
  g_autofree char *problem = ea_daemon_client_dup_problem (self->client);
  g_autofree char *header = NULL;
  const char *account = ea_daemon_client_get_account (self->client);
  GList *sessions, *l;
  gboolean any_session = FALSE;

  if (problem != NULL)
    header = g_strdup (problem);
  else if (*account)
    /* Translators: own address — own status */
    header = g_strdup_printf (_("%s — %s"), account, ea_status_label (status));
  else
    header = g_strdup (ea_status_label (status));
  add_spec (specs, "header", header, NULL, NULL);
  add_separator_spec (specs, "sep-top");

  add_spec (specs, "ask", _("Ask for Help…"), "ask", g_variant_new_string (""));
  if (self->n_offers > 0)
    {
      g_autofree char *label = g_strdup_printf (ngettext ("%u Offer Waiting…",
                                                          "%u Offers Waiting…",
                                                          self->n_offers),
                                                self->n_offers);
      add_spec (specs, "offers", label, "show-offers", NULL);
    }

  add_separator_spec (specs, "sep-groups");
  if (groups->len == 0)
    {
      const char *error = ea_daemon_client_get_groups_error (self->client);

      add_spec (specs, "no-groups", error ? error : _("No expert groups"), NULL, NULL);
    }
  for (guint i = 0; i < groups->len; i++)
    {
      const EaGroupInfo *group = g_ptr_array_index (groups, i);
      g_autofree char *key = g_strconcat ("group:", group->id, NULL);
      /* Translators: a group's name, then how many of its experts can
       * take a request now out of all of them */
      g_autofree char *label = g_strdup_printf (_("%s: %u of %u available"), group->name,
                                                group->available, group->total);
      MenuSpec *spec = add_spec (specs, key, label, "ask", g_variant_new_string (group->id));

      spec->icon = g_strdup (group->available > 0 ? "user-available-symbolic"
                                                  : "user-offline-symbolic");
    }

  sessions = ea_daemon_client_list_sessions (self->client);
  for (l = sessions; l != NULL; l = l->next)
    {
      EaExpertAssistSession *session = l->data;
      const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (session));
      g_autofree char *key = g_strconcat ("session:", path, NULL);
      g_autofree char *label = NULL;

      if (g_strcmp0 (ea_expert_assist_session_get_state (session), "open") != 0)
        continue;
      if (!any_session)
        add_separator_spec (specs, "sep-sessions");
      any_session = TRUE;
      /* Translators: a menu item opening the chat with this person */
      label = g_strdup_printf (_("Chat with %s"), session_peer_label (self, session));
      add_spec (specs, key, label, "open-chat", g_variant_new_string (path));
    }
  g_list_free_full (sessions, g_object_unref);

  add_separator_spec (specs, "sep-status");
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autofree char *key = g_strconcat ("status:", statuses[i], NULL);
      MenuSpec *spec = add_spec (specs, key, ea_status_label (statuses[i]), "set-status",
                                 g_variant_new_string (statuses[i]));

      spec->toggle = g_str_equal (status, statuses[i]) ? DBUSMENU_MENUITEM_TOGGLE_STATE_CHECKED
                                                       : DBUSMENU_MENUITEM_TOGGLE_STATE_UNCHECKED;
    }

  add_separator_spec (specs, "sep-windows");
  add_spec (specs, "history", _("History…"), "history", NULL);
  add_spec (specs, "statistics", _("Statistics…"), "statistics", NULL);
  add_spec (specs, "preferences", _("Preferences…"), "preferences", NULL);
  add_separator_spec (specs, "sep-quit");
  add_spec (specs, "quit", _("Quit"), "quit", NULL);

  reconcile_menu (self, specs);
}

static void
update_icon (EaTray *self)
{
  const char *state = ea_daemon_client_get_connection_state (self->client);
  const char *status = ea_daemon_client_get_status (self->client);
  g_autofree char *problem = ea_daemon_client_dup_problem (self->client);
  g_autofree char *icon = NULL;
  g_autofree char *tooltip = NULL;
  const char *which;
  guint available = 0;
  GPtrArray *groups = ea_daemon_client_get_groups (self->client);
  gboolean icon_changed;

  if (self->n_offers > 0)
    which = "offer";
  else if (!g_str_equal (state, "connected"))
    which = "offline";
  else if (g_str_equal (status, "dnd"))
    which = "busy";
  else if (g_str_equal (status, "away") || g_str_equal (status, "xa"))
    which = "away";
  else
    which = "available";
  icon = g_strconcat (ICON_PREFIX, which, NULL);

  for (guint i = 0; i < groups->len; i++)
    available += ((EaGroupInfo *) g_ptr_array_index (groups, i))->available;
  if (problem != NULL)
    tooltip = g_strdup (problem);
  else if (self->n_offers > 0)
    tooltip = g_strdup_printf (ngettext ("%s — %u offer waiting", "%s — %u offers waiting",
                                         self->n_offers),
                               ea_status_label (status), self->n_offers);
  else
    tooltip = g_strdup_printf (ngettext ("%s — %u expert available",
                                         "%s — %u experts available", available),
                               ea_status_label (status), available);

  icon_changed = g_strcmp0 (icon, self->icon_name) != 0;
  if (icon_changed)
    {
      g_free (self->icon_name);
      self->icon_name = g_steal_pointer (&icon);
      g_clear_pointer (&self->pixmaps, g_variant_unref);
      self->pixmaps = render_pixmaps (self->icon_name);
      emit_item_signal (self, "NewIcon", NULL);
      emit_item_signal (self, "NewStatus",
                        g_variant_new ("(s)", self->n_offers > 0 ? "NeedsAttention" : "Active"));
    }
  if (g_strcmp0 (tooltip, self->tooltip) != 0)
    {
      g_free (self->tooltip);
      self->tooltip = g_steal_pointer (&tooltip);
      emit_item_signal (self, "NewToolTip", NULL);
    }
}

static gboolean
update_idle_cb (gpointer user_data)
{
  EaTray *self = user_data;

  self->update_idle = 0;
  update_icon (self);
  build_menu (self);
  g_signal_emit (self, signals[MENU_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

void
ea_tray_queue_update (EaTray *self)
{
  g_return_if_fail (EA_IS_TRAY (self));

  if (self->update_idle == 0)
    self->update_idle = g_idle_add (update_idle_cb, self);
}

static void
client_changed_cb (EaTray *self)
{
  ea_tray_queue_update (self);
}

EaTray *
ea_tray_new (GApplication *application, EaDaemonClient *client)
{
  EaTray *self = g_object_new (EA_TYPE_TRAY, NULL);
  g_autoptr(GError) error = NULL;

  self->application = application;
  self->client = g_object_ref (client);
  self->connection = g_object_ref (g_application_get_dbus_connection (application));
  self->icon_name = g_strdup (ICON_PREFIX "offline");
  self->pixmaps = render_pixmaps (self->icon_name);
  self->attention_pixmaps = render_pixmaps (ICON_PREFIX "offer");

  self->node_info = g_dbus_node_info_new_for_xml (item_xml, &error);
  g_assert_no_error (error);
  self->registration_id =
    g_dbus_connection_register_object (self->connection, EA_TRAY_ITEM_PATH,
                                       self->node_info->interfaces[0], &item_vtable,
                                       self, NULL, &error);
  if (self->registration_id == 0)
    g_warning ("Cannot export the tray icon: %s", error->message);

  self->menu_server = dbusmenu_server_new (EA_TRAY_MENU_PATH);
  g_signal_connect_swapped (client, "state-changed", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "groups-changed", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "object-added", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "object-removed", G_CALLBACK (client_changed_cb), self);
  build_menu (self);
  update_icon (self);

  self->watcher_watch = g_bus_watch_name_on_connection (self->connection, WATCHER_NAME,
                                                        G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                        watcher_appeared_cb,
                                                        watcher_vanished_cb, self, NULL);
  return self;
}

gboolean
ea_tray_is_published (EaTray *self)
{
  g_return_val_if_fail (EA_IS_TRAY (self), FALSE);
  return self->published;
}

DbusmenuMenuitem *
ea_tray_get_menu (EaTray *self)
{
  g_return_val_if_fail (EA_IS_TRAY (self), NULL);
  return self->menu;
}

const char *
ea_tray_get_icon_name (EaTray *self)
{
  g_return_val_if_fail (EA_IS_TRAY (self), NULL);
  return self->icon_name;
}

void
ea_tray_set_offers_waiting (EaTray *self, guint n_offers)
{
  g_return_if_fail (EA_IS_TRAY (self));

  if (self->n_offers == n_offers)
    return;
  self->n_offers = n_offers;
  ea_tray_queue_update (self);
}
