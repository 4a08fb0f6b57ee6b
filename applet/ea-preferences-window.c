/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Preferences: the account (SetAccount: the daemon saves it and puts the
 * password in the keyring), the daemon's defaults and notification keys
 * (its GSettings schema, bound directly), the applet's own keys, and the
 * autostart entry (a file in ~/.config/autostart, not a setting).
 */
#define G_LOG_DOMAIN "ea-preferences"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ea-applet-util.h"
#include "ea-preferences-window.h"

static const char *const modes[] = { "parallel", "serial", "progressive", "room" };

struct _EaPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  EaAppletApplication  *application;
  EaDaemonClient       *client;
  GSettings            *daemon_settings;
  GCancellable         *cancellable;

  AdwEntryRow          *address_row;
  AdwEntryRow          *server_row;
  AdwPasswordEntryRow  *password_row;
  AdwActionRow         *connection_row;
  GtkButton            *save_account_button;
  AdwComboRow          *default_mode_row;
  GtkSpinButton        *offer_timeout_spin;
  GtkSpinButton        *expire_spin;
  GtkSwitch            *offer_popups_switch;
  GtkSwitch            *notify_offers_switch;
  GtkSwitch            *notify_sound_switch;
  GtkSwitch            *open_chat_switch;
  GtkSwitch            *autostart_switch;
  AdwComboRow          *style_row;
};

G_DEFINE_FINAL_TYPE (EaPreferencesWindow, ea_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* Enumerated string keys ↔ combo rows */

static gboolean
string_to_index (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *const *choices = user_data;
  const char *s = g_variant_get_string (variant, NULL);

  for (guint i = 0; choices[i]; i++)
    if (g_str_equal (choices[i], s))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
index_to_string (const GValue *value, const GVariantType *type, gpointer user_data)
{
  const char *const *choices = user_data;
  guint index = g_value_get_uint (value);

  for (guint i = 0; choices[i]; i++)
    if (i == index)
      return g_variant_new_string (choices[i]);
  return NULL;
}

/* Autostart */

static char *
autostart_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", EA_APPLET_ID ".desktop", NULL);
}

static gboolean
autostart_enabled (void)
{
  g_autofree char *path = autostart_path ();
  g_autoptr(GKeyFile) file = g_key_file_new ();

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  return !g_key_file_get_boolean (file, G_KEY_FILE_DESKTOP_GROUP, "Hidden", NULL);
}

static void
autostart_cb (EaPreferencesWindow *self)
{
  g_autofree char *path = autostart_path ();
  g_autoptr(GError) error = NULL;
  gboolean wanted = gtk_switch_get_active (self->autostart_switch);

  if (wanted == autostart_enabled ())
    return;
  if (wanted)
    {
      g_autoptr(GBytes) bytes = g_resources_lookup_data ("/org/example/ExpertAssist/Applet/autostart.desktop",
                                                         G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      g_autofree char *dir = g_path_get_dirname (path);

      if (bytes == NULL || g_mkdir_with_parents (dir, 0700) != 0 ||
          !g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                &error))
        {
          g_autofree char *text = g_strdup_printf (_("Cannot write %s: %s"), path,
                                                   error ? error->message : g_strerror (errno));
          adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
        }
    }
  else if (g_unlink (path) != 0 && errno != ENOENT)
    {
      g_autofree char *text = g_strdup_printf (_("Cannot remove %s: %s"), path,
                                               g_strerror (errno));
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
    }
}

/* Account */

static void
update_connection (EaPreferencesWindow *self)
{
  g_autofree char *problem = ea_daemon_client_dup_problem (self->client);
  const char *account = ea_daemon_client_get_account (self->client);
  g_autofree char *text = NULL;

  if (problem != NULL)
    text = g_strdup (problem);
  else
    /* Translators: connected as this address */
    text = g_strdup_printf (_("Connected as %s"), account);
  adw_action_row_set_subtitle (self->connection_row, text);
}

static void
set_account_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaPreferencesWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  const char *text;
  g_autofree char *message = NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->save_account_button), TRUE);
  if (!ea_expert_assist_call_set_account_finish (EA_EXPERT_ASSIST (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      message = ea_describe_error (error);
      text = message;
    }
  else
    {
      gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
      text = _("Saved; connecting…");
    }
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
}

static void
save_account_cb (EaPreferencesWindow *self)
{
  EaExpertAssist *root = ea_daemon_client_get_root (self->client);
  g_autofree char *address = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->address_row))));
  g_autofree char *server = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->server_row))));

  if (root == NULL)
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("The Expert Assist service is not running.")));
      return;
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->save_account_button), FALSE);
  ea_expert_assist_call_set_account (root, address, server,
                                     gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                                     self->cancellable, set_account_cb, g_object_ref (self));
}

static void
fill_account (EaPreferencesWindow *self)
{
  const char *account = ea_daemon_client_get_account (self->client);
  g_autofree char *saved = g_settings_get_string (self->daemon_settings, "account");
  g_autofree char *server = g_settings_get_string (self->daemon_settings, "server");
  guint port = g_settings_get_uint (self->daemon_settings, "port");

  gtk_editable_set_text (GTK_EDITABLE (self->address_row), *account ? account : saved);
  if (*server != '\0' && port != 0)
    {
      g_autofree char *text = g_strdup_printf ("%s:%u", server, port);
      gtk_editable_set_text (GTK_EDITABLE (self->server_row), text);
    }
  else
    {
      gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
    }
}

/* GObject */

static void
ea_preferences_window_dispose (GObject *object)
{
  EaPreferencesWindow *self = EA_PREFERENCES_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), EA_TYPE_PREFERENCES_WINDOW);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  g_clear_object (&self->daemon_settings);

  G_OBJECT_CLASS (ea_preferences_window_parent_class)->dispose (object);
}

static void
ea_preferences_window_class_init (EaPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ea_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/ExpertAssist/Applet/ea-preferences-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, EaPreferencesWindow, name)
  CHILD (address_row);
  CHILD (server_row);
  CHILD (password_row);
  CHILD (connection_row);
  CHILD (save_account_button);
  CHILD (default_mode_row);
  CHILD (offer_timeout_spin);
  CHILD (expire_spin);
  CHILD (offer_popups_switch);
  CHILD (notify_offers_switch);
  CHILD (notify_sound_switch);
  CHILD (open_chat_switch);
  CHILD (autostart_switch);
  CHILD (style_row);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, save_account_cb);
  gtk_widget_class_bind_template_callback (widget_class, autostart_cb);
}

static void
ea_preferences_window_init (EaPreferencesWindow *self)
{
  g_autoptr(GtkStringList) mode_list = gtk_string_list_new (NULL);
  const char *style_labels[] = { _("Follow the desktop"), _("Light"), _("Dark"), NULL };
  g_autoptr(GtkStringList) style_list = gtk_string_list_new (style_labels);

  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    gtk_string_list_append (mode_list, ea_mode_label (modes[i]));
  adw_combo_row_set_model (self->default_mode_row, G_LIST_MODEL (mode_list));
  adw_combo_row_set_model (self->style_row, G_LIST_MODEL (style_list));
  gtk_switch_set_active (self->autostart_switch, autostart_enabled ());
}

GtkWidget *
ea_preferences_window_new (EaAppletApplication *application)
{
  EaPreferencesWindow *self = g_object_new (EA_TYPE_PREFERENCES_WINDOW, "application",
                                            application, NULL);
  GSettings *settings = ea_applet_application_get_settings (application);
  static const char *const mode_choices[] = { "parallel", "serial", "progressive", "room", NULL };
  static const char *const scheme_choices[] = { "default", "light", "dark", NULL };

  self->application = application;
  self->client = g_object_ref (ea_applet_application_get_client (application));
  self->daemon_settings = g_settings_new (EA_APP_ID);

  g_settings_bind_with_mapping (self->daemon_settings, "default-mode", self->default_mode_row,
                                "selected", G_SETTINGS_BIND_DEFAULT, string_to_index,
                                index_to_string, (gpointer) mode_choices, NULL);
  g_settings_bind (self->daemon_settings, "default-offer-timeout", self->offer_timeout_spin,
                   "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->daemon_settings, "default-expire", self->expire_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->daemon_settings, "notify-offers", self->notify_offers_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->daemon_settings, "notify-sound", self->notify_sound_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "offer-popups", self->offer_popups_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "open-chat-on-connect", self->open_chat_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "color-scheme", self->style_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, string_to_index, index_to_string,
                                (gpointer) scheme_choices, NULL);

  g_signal_connect_swapped (self->client, "state-changed", G_CALLBACK (update_connection), self);
  fill_account (self);
  update_connection (self);
  return GTK_WIDGET (self);
}
