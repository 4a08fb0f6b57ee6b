/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tray menu as a window: what the launcher opens when no tray host is
 * running (it says so), and what the tests photograph, since nothing else
 * draws a dbusmenu here. Its rows are the tray's own menu items, and
 * activating one takes the same path as a click in the tray.
 */
#define G_LOG_DOMAIN "ea-applet"

#include "config.h"

#include <glib/gi18n.h>
#include <libdbusmenu-glib/client.h>

#include "ea-home-window.h"

struct _EaHomeWindow
{
  AdwApplicationWindow  parent_instance;

  EaAppletApplication  *application;
  EaTray               *tray;

  AdwWindowTitle       *window_title;
  GtkImage             *state_icon;
  GtkLabel             *no_tray_label;
  GtkListBox           *menu_list;
};

G_DEFINE_FINAL_TYPE (EaHomeWindow, ea_home_window, ADW_TYPE_APPLICATION_WINDOW)

static void
row_activated_cb (EaHomeWindow *self, GtkListBoxRow *row)
{
  DbusmenuMenuitem *item = g_object_get_data (G_OBJECT (row), "ea-item");

  if (item != NULL)
    dbusmenu_menuitem_handle_event (item, DBUSMENU_MENUITEM_EVENT_ACTIVATED, NULL, 0);
}

static GtkWidget *
make_row (DbusmenuMenuitem *item, guint index)
{
  const char *type = dbusmenu_menuitem_property_get (item, DBUSMENU_MENUITEM_PROP_TYPE);
  const char *label = dbusmenu_menuitem_property_get (item, DBUSMENU_MENUITEM_PROP_LABEL);
  const char *toggle = dbusmenu_menuitem_property_get (item, DBUSMENU_MENUITEM_PROP_TOGGLE_TYPE);
  const char *icon = dbusmenu_menuitem_property_get (item, DBUSMENU_MENUITEM_PROP_ICON_NAME);
  gboolean enabled = dbusmenu_menuitem_property_get_bool (item, DBUSMENU_MENUITEM_PROP_ENABLED);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box, *text;
  g_autofree char *name = g_strdup_printf ("menu-item-%u", index);
  g_auto(GStrv) parts = NULL;
  g_autofree char *plain = NULL;

  gtk_widget_set_name (row, name);
  if (g_strcmp0 (type, DBUSMENU_CLIENT_TYPES_SEPARATOR) == 0)
    {
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row),
                                  gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_widget_add_css_class (row, "ea-menu-separator");
      return row;
    }

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  if (toggle != NULL)
    {
      gboolean on = dbusmenu_menuitem_property_get_int (item, DBUSMENU_MENUITEM_PROP_TOGGLE_STATE)
                    == DBUSMENU_MENUITEM_TOGGLE_STATE_CHECKED;
      GtkWidget *mark = gtk_image_new_from_icon_name (on ? "object-select-symbolic" : NULL);

      gtk_widget_set_size_request (mark, 16, 16);
      gtk_box_append (GTK_BOX (box), mark);
    }
  else if (icon != NULL)
    {
      gtk_box_append (GTK_BOX (box), gtk_image_new_from_icon_name (icon));
    }
  /* Undo the dbusmenu mnemonic escaping. */
  parts = g_strsplit (label ? label : "", "__", -1);
  plain = g_strjoinv ("_", parts);
  text = gtk_label_new (plain);
  gtk_label_set_xalign (GTK_LABEL (text), 0);
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (box), text);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), enabled);
  if (!enabled)
    gtk_widget_add_css_class (text, "dim-label");
  g_object_set_data_full (G_OBJECT (row), "ea-item", g_object_ref (item), g_object_unref);
  return row;
}

void
ea_home_window_update (EaHomeWindow *self)
{
  DbusmenuMenuitem *menu = ea_tray_get_menu (self->tray);
  EaDaemonClient *client = ea_applet_application_get_client (self->application);
  const char *account = ea_daemon_client_get_account (client);
  GtkWidget *child;
  guint index = 0;

  gtk_widget_set_visible (GTK_WIDGET (self->no_tray_label), !ea_tray_is_published (self->tray));
  gtk_image_set_from_icon_name (self->state_icon, ea_tray_get_icon_name (self->tray));
  adw_window_title_set_subtitle (self->window_title, account);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->menu_list))) != NULL)
    gtk_list_box_remove (self->menu_list, child);
  if (menu == NULL)
    return;
  for (GList *l = dbusmenu_menuitem_get_children (menu); l != NULL; l = l->next)
    gtk_list_box_append (self->menu_list, make_row (l->data, index++));
}

static void
ea_home_window_dispose (GObject *object)
{
  EaHomeWindow *self = EA_HOME_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), EA_TYPE_HOME_WINDOW);
  if (self->tray)
    g_signal_handlers_disconnect_by_data (self->tray, self);
  g_clear_object (&self->tray);

  G_OBJECT_CLASS (ea_home_window_parent_class)->dispose (object);
}

static void
ea_home_window_class_init (EaHomeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ea_home_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/ExpertAssist/Applet/ea-home-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EaHomeWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, EaHomeWindow, state_icon);
  gtk_widget_class_bind_template_child (widget_class, EaHomeWindow, no_tray_label);
  gtk_widget_class_bind_template_child (widget_class, EaHomeWindow, menu_list);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ea_home_window_init (EaHomeWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ea_home_window_new (EaAppletApplication *application)
{
  EaHomeWindow *self = g_object_new (EA_TYPE_HOME_WINDOW, "application", application, NULL);

  self->application = application;
  self->tray = g_object_ref (ea_applet_application_get_tray (application));
  g_signal_connect_swapped (self->tray, "menu-changed", G_CALLBACK (ea_home_window_update),
                            self);
  g_signal_connect_swapped (self->tray, "published-changed",
                            G_CALLBACK (ea_home_window_update), self);
  ea_home_window_update (self);
  return GTK_WIDGET (self);
}
