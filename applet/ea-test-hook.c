/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * org.example.ExpertAssist.Applet.Test: a remote control for the
 * integration tests, exported only when EA_APPLET_TEST=1. Widgets are
 * found by their widget name or their id in the .ui file, and pressed with
 * gtk_widget_activate(), so a test goes through the same signal handlers
 * as a click. Screenshot renders a window with its own GskRenderer.
 */
#define G_LOG_DOMAIN "ea-test-hook"

#include "config.h"

#include <adwaita.h>

#include "ea-applet-application.h"
#include "ea-test-hook.h"

static const char hook_xml[] =
  "<node>"
  " <interface name='org.example.ExpertAssist.Applet.Test'>"
  "  <method name='ListWindows'>"
  "   <arg name='windows' type='a(sssb)' direction='out'/>"
  "  </method>"
  "  <method name='Activate'>"
  "   <arg name='window' type='s' direction='in'/>"
  "   <arg name='widget' type='s' direction='in'/>"
  "  </method>"
  "  <method name='SetText'>"
  "   <arg name='window' type='s' direction='in'/>"
  "   <arg name='widget' type='s' direction='in'/>"
  "   <arg name='text' type='s' direction='in'/>"
  "  </method>"
  "  <method name='GetText'>"
  "   <arg name='window' type='s' direction='in'/>"
  "   <arg name='widget' type='s' direction='in'/>"
  "   <arg name='text' type='s' direction='out'/>"
  "  </method>"
  "  <method name='SetSelected'>"
  "   <arg name='window' type='s' direction='in'/>"
  "   <arg name='widget' type='s' direction='in'/>"
  "   <arg name='position' type='u' direction='in'/>"
  "  </method>"
  "  <method name='GetTexts'>"
  "   <arg name='window' type='s' direction='in'/>"
  "   <arg name='texts' type='as' direction='out'/>"
  "  </method>"
  "  <method name='GetSensitive'>"
  "   <arg name='window' type='s' direction='in'/>"
  "   <arg name='widget' type='s' direction='in'/>"
  "   <arg name='sensitive' type='b' direction='out'/>"
  "  </method>"
  "  <method name='Screenshot'>"
  "   <arg name='window' type='s' direction='in'/>"
  "   <arg name='path' type='s' direction='in'/>"
  "   <arg name='width' type='i' direction='out'/>"
  "   <arg name='height' type='i' direction='out'/>"
  "  </method>"
  "  <method name='ShowTrayMenu'>"
  "   <arg name='window' type='s' direction='out'/>"
  "  </method>"
  "  <method name='CloseWindow'>"
  "   <arg name='window' type='s' direction='in'/>"
  "  </method>"
  "  <method name='GetTray'>"
  "   <arg name='published' type='b' direction='out'/>"
  "   <arg name='icon' type='s' direction='out'/>"
  "  </method>"
  " </interface>"
  "</node>";

struct _EaTestHook
{
  GObject              parent_instance;

  EaAppletApplication *application;   /* not owned: it owns us */
  GDBusConnection     *connection;
  GDBusNodeInfo       *info;
  guint                registration_id;
};

G_DEFINE_FINAL_TYPE (EaTestHook, ea_test_hook, G_TYPE_OBJECT)

static void
ea_test_hook_finalize (GObject *object)
{
  EaTestHook *self = EA_TEST_HOOK (object);

  ea_test_hook_unexport (self);
  g_clear_pointer (&self->info, g_dbus_node_info_unref);

  G_OBJECT_CLASS (ea_test_hook_parent_class)->finalize (object);
}

static void
ea_test_hook_class_init (EaTestHookClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ea_test_hook_finalize;
}

static void
ea_test_hook_init (EaTestHook *self)
{
}

EaTestHook *
ea_test_hook_new (EaAppletApplication *application)
{
  EaTestHook *self = g_object_new (EA_TYPE_TEST_HOOK, NULL);

  self->application = application;
  return self;
}

/* Finding things */

static GtkWindow *
find_window (EaTestHook *self, const char *name, GError **error)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self->application));

  for (GList *l = windows; l != NULL; l = l->next)
    {
      const char *title = gtk_window_get_title (l->data);

      if (g_strcmp0 (gtk_widget_get_name (l->data), name) == 0 || g_strcmp0 (title, name) == 0)
        return l->data;
    }
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FILE_NOT_FOUND, "No window %s", name);
  return NULL;
}

static const char *
widget_id (GtkWidget *widget)
{
  return gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget));
}

static GtkWidget *
find_in (GtkWidget *widget, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0 ||
      g_strcmp0 (widget_id (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_in (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_widget (EaTestHook *self, const char *window_name, const char *name, GError **error)
{
  GtkWindow *window = find_window (self, window_name, error);
  GtkWidget *widget;

  if (window == NULL)
    return NULL;
  widget = find_in (GTK_WIDGET (window), name);
  if (widget == NULL)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FILE_NOT_FOUND, "No widget %s in %s",
                 name, window_name);
  return widget;
}

static char *
widget_text (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget))
    return g_strdup (gtk_label_get_text (GTK_LABEL (widget)));
  if (GTK_IS_EDITABLE (widget))
    return g_strdup (gtk_editable_get_text (GTK_EDITABLE (widget)));
  if (GTK_IS_TEXT_VIEW (widget))
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget));
      GtkTextIter start, end;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    }
  if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)))
    return g_strdup (gtk_button_get_label (GTK_BUTTON (widget)));
  if (ADW_IS_PREFERENCES_ROW (widget))
    return g_strdup (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)));
  if (GTK_IS_WINDOW (widget))
    return g_strdup (gtk_window_get_title (GTK_WINDOW (widget)));
  return NULL;
}

static void
collect_texts (GtkWidget *widget, GPtrArray *texts)
{
  if (!gtk_widget_get_visible (widget) || !gtk_widget_get_child_visible (widget))
    return;
  if (GTK_IS_LABEL (widget) || GTK_IS_TEXT_VIEW (widget) || GTK_IS_EDITABLE (widget))
    {
      char *text = widget_text (widget);

      if (text != NULL && *text != '\0')
        g_ptr_array_add (texts, text);
      else
        g_free (text);
      if (GTK_IS_EDITABLE (widget))
        return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_texts (child, texts);
}

/* Methods */

static gboolean
screenshot (GtkWindow *window, const char *path, int *out_width, int *out_height,
            GError **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (GTK_WIDGET (window));
  int height = gtk_widget_get_height (GTK_WIDGET (window));

  if (!gtk_widget_get_mapped (GTK_WIDGET (window)) || width <= 0 || height <= 0)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "The window is not shown yet");
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "Nothing drawn");
      return FALSE;
    }
  renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "Cannot write %s", path);
      return FALSE;
    }
  *out_width = width;
  *out_height = height;
  return TRUE;
}

static gboolean
set_selected (GtkWidget *widget, guint position, GError **error)
{
  if (GTK_IS_DROP_DOWN (widget))
    gtk_drop_down_set_selected (GTK_DROP_DOWN (widget), position);
  else if (ADW_IS_COMBO_ROW (widget))
    adw_combo_row_set_selected (ADW_COMBO_ROW (widget), position);
  else if (GTK_IS_LIST_BOX (widget))
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (widget), position);

      if (row == NULL)
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "No row %u", position);
          return FALSE;
        }
      gtk_list_box_select_row (GTK_LIST_BOX (widget), row);
      gtk_widget_activate (GTK_WIDGET (row));
    }
  else
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Cannot select in a %s",
                   G_OBJECT_TYPE_NAME (widget));
      return FALSE;
    }
  return TRUE;
}

static gboolean
activate_widget (GtkWidget *widget, GError **error)
{
  if (!gtk_widget_is_sensitive (widget))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "%s is insensitive",
                   widget_id (widget) ? widget_id (widget) : gtk_widget_get_name (widget));
      return FALSE;
    }
  if (GTK_IS_SWITCH (widget))
    {
      /* Its activate signal animates the change, and an unmapped switch
       * (another preferences page) never finishes the animation. */
      gtk_switch_set_active (GTK_SWITCH (widget), !gtk_switch_get_active (GTK_SWITCH (widget)));
      return TRUE;
    }
  if (GTK_IS_LIST_BOX_ROW (widget) || GTK_IS_BUTTON (widget) ||
      GTK_IS_ENTRY (widget) || GTK_IS_CHECK_BUTTON (widget))
    {
      if (gtk_widget_activate (widget))
        return TRUE;
    }
  if (GTK_IS_LIST_BOX_ROW (widget))
    {
      /* Not activatable rows are ignored by gtk_widget_activate */
      GtkWidget *box = gtk_widget_get_parent (widget);

      g_signal_emit_by_name (box, "row-activated", widget);
      return TRUE;
    }
  if (gtk_widget_activate (widget))
    return TRUE;
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_NOT_SUPPORTED, "A %s cannot be activated",
               G_OBJECT_TYPE_NAME (widget));
  return FALSE;
}

static void
hook_method_call (GDBusConnection *connection, const char *sender, const char *path,
                  const char *iface, const char *method, GVariant *parameters,
                  GDBusMethodInvocation *invocation, gpointer user_data)
{
  EaTestHook *self = user_data;
  g_autoptr(GError) error = NULL;
  const char *window_name = NULL, *name = NULL, *text = NULL;

  if (g_str_equal (method, "ListWindows"))
    {
      GVariantBuilder builder;
      GList *windows = gtk_application_get_windows (GTK_APPLICATION (self->application));

      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssb)"));
      for (GList *l = windows; l != NULL; l = l->next)
        {
          const char *title = gtk_window_get_title (l->data);

          g_variant_builder_add (&builder, "(sssb)", gtk_widget_get_name (l->data),
                                 title ? title : "", G_OBJECT_TYPE_NAME (l->data),
                                 gtk_widget_get_mapped (l->data));
        }
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(sssb))", &builder));
      return;
    }
  if (g_str_equal (method, "ShowTrayMenu"))
    {
      GtkWindow *window = ea_applet_application_show_tray_menu (self->application);

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(s)",
                                                            gtk_widget_get_name (GTK_WIDGET (window))));
      return;
    }
  if (g_str_equal (method, "GetTray"))
    {
      EaTray *tray = ea_applet_application_get_tray (self->application);

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(bs)", ea_tray_is_published (tray),
                                                            ea_tray_get_icon_name (tray)));
      return;
    }
  if (g_str_equal (method, "GetTexts") || g_str_equal (method, "CloseWindow"))
    {
      GtkWindow *window;

      g_variant_get (parameters, "(&s)", &window_name);
      window = find_window (self, window_name, &error);
      if (window == NULL)
        {
          g_dbus_method_invocation_return_gerror (invocation, error);
          return;
        }
      if (g_str_equal (method, "CloseWindow"))
        {
          gtk_window_close (window);
          g_dbus_method_invocation_return_value (invocation, NULL);
        }
      else
        {
          g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);

          collect_texts (GTK_WIDGET (window), texts);
          g_ptr_array_add (texts, NULL);
          g_dbus_method_invocation_return_value (invocation,
                                                 g_variant_new ("(^as)", texts->pdata));
        }
      return;
    }
  if (g_str_equal (method, "Screenshot"))
    {
      GtkWindow *window;
      int width = 0, height = 0;

      g_variant_get (parameters, "(&s&s)", &window_name, &text);
      window = find_window (self, window_name, &error);
      if (window == NULL || !screenshot (window, text, &width, &height, &error))
        g_dbus_method_invocation_return_gerror (invocation, error);
      else
        g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ii)", width, height));
      return;
    }

  /* The rest address one widget. */
  if (g_str_equal (method, "SetText"))
    g_variant_get (parameters, "(&s&s&s)", &window_name, &name, &text);
  else if (g_str_equal (method, "SetSelected"))
    g_variant_get (parameters, "(&s&su)", &window_name, &name, NULL);
  else
    g_variant_get (parameters, "(&s&s)", &window_name, &name);

  {
    GtkWidget *widget = find_widget (self, window_name, name, &error);

    if (widget == NULL)
      {
        g_dbus_method_invocation_return_gerror (invocation, error);
        return;
      }
    if (g_str_equal (method, "Activate"))
      {
        if (!activate_widget (widget, &error))
          {
            g_dbus_method_invocation_return_gerror (invocation, error);
            return;
          }
        g_dbus_method_invocation_return_value (invocation, NULL);
      }
    else if (g_str_equal (method, "SetText"))
      {
        if (GTK_IS_EDITABLE (widget))
          gtk_editable_set_text (GTK_EDITABLE (widget), text);
        else if (GTK_IS_TEXT_VIEW (widget))
          gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget)), text, -1);
        else
          {
            g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                                   G_DBUS_ERROR_INVALID_ARGS,
                                                   "%s takes no text", name);
            return;
          }
        g_dbus_method_invocation_return_value (invocation, NULL);
      }
    else if (g_str_equal (method, "GetText"))
      {
        g_autofree char *value = widget_text (widget);

        g_dbus_method_invocation_return_value (invocation,
                                               g_variant_new ("(s)", value ? value : ""));
      }
    else if (g_str_equal (method, "GetSensitive"))
      {
        g_dbus_method_invocation_return_value (invocation,
                                               g_variant_new ("(b)",
                                                              gtk_widget_is_sensitive (widget)));
      }
    else if (g_str_equal (method, "SetSelected"))
      {
        guint32 position;

        g_variant_get (parameters, "(&s&su)", NULL, NULL, &position);
        if (!set_selected (widget, position, &error))
          g_dbus_method_invocation_return_gerror (invocation, error);
        else
          g_dbus_method_invocation_return_value (invocation, NULL);
      }
    else
      {
        g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                               G_DBUS_ERROR_UNKNOWN_METHOD, "No method %s",
                                               method);
      }
  }
}

static const GDBusInterfaceVTable hook_vtable = {
  hook_method_call,
  NULL,
  NULL,
  { 0 }
};

gboolean
ea_test_hook_export (EaTestHook *self, GDBusConnection *connection, GError **error)
{
  self->info = g_dbus_node_info_new_for_xml (hook_xml, error);
  if (self->info == NULL)
    return FALSE;
  self->connection = g_object_ref (connection);
  self->registration_id = g_dbus_connection_register_object (connection, EA_TEST_HOOK_PATH,
                                                             self->info->interfaces[0],
                                                             &hook_vtable, self, NULL, error);
  if (self->registration_id == 0)
    return FALSE;
  g_message ("Test interface exported at %s", EA_TEST_HOOK_PATH);
  return TRUE;
}

void
ea_test_hook_unexport (EaTestHook *self)
{
  if (self->registration_id != 0 && self->connection != NULL)
    g_dbus_connection_unregister_object (self->connection, self->registration_id);
  self->registration_id = 0;
  g_clear_object (&self->connection);
}
