/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The applet: owns org.example.ExpertAssist.Applet on the session bus
 * (while it does, the daemon leaves offers to it and sends no offer
 * notification), the daemon client, the tray icon, and one window of each
 * kind (chat windows and offer pop-ups: one per session or offer).
 */
#define G_LOG_DOMAIN "ea-applet"

#include "config.h"

#include <signal.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "ea-applet-application.h"
#include "ea-applet-util.h"
#include "ea-chat-window.h"
#include "ea-history-window.h"
#include "ea-home-window.h"
#include "ea-offer-popup.h"
#include "ea-preferences-window.h"
#include "ea-request-window.h"
#include "ea-stats-window.h"
#include "ea-test-hook.h"

struct _EaAppletApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  EaDaemonClient *client;
  EaTray         *tray;
  EaTestHook     *test_hook;
  gboolean        background;
  gboolean        held;

  GHashTable     *popups;        /* offer path → EaOfferPopup */
  GHashTable     *chats;         /* session path or "transcript:ID" → window */
  GHashTable     *offers;        /* offer path → EaExpertAssistOffer we follow */
  GtkWindow      *request_window;
  GtkWindow      *home_window;
  GtkWindow      *history_window;
  GtkWindow      *stats_window;
  GtkWindow      *preferences_window;
};

G_DEFINE_FINAL_TYPE (EaAppletApplication, ea_applet_application, ADW_TYPE_APPLICATION)

static void update_offers (EaAppletApplication *self);

/* Single windows, forgotten when they are destroyed */

static void
forget_window (GtkWindow **slot)
{
  *slot = NULL;
}

static GtkWindow *
keep_window (GtkWindow **slot, GtkWindow *window)
{
  *slot = window;
  g_signal_connect_swapped (window, "destroy", G_CALLBACK (forget_window), slot);
  return window;
}

static void
chat_destroyed_cb (GtkWidget *window, EaAppletApplication *self)
{
  const char *key = g_object_get_data (G_OBJECT (window), "ea-chat-key");

  if (key != NULL && g_hash_table_lookup (self->chats, key) == window)
    g_hash_table_remove (self->chats, key);
}

static GtkWindow *
remember_chat (EaAppletApplication *self, const char *key, GtkWindow *window)
{
  g_object_set_data_full (G_OBJECT (window), "ea-chat-key", g_strdup (key), g_free);
  g_hash_table_replace (self->chats, g_strdup (key), window);
  g_signal_connect (window, "destroy", G_CALLBACK (chat_destroyed_cb), self);
  return window;
}

GtkWindow *
ea_applet_application_open_chat (EaAppletApplication *self, const char *session_path)
{
  g_autoptr(EaExpertAssistSession) session = NULL;
  GtkWindow *window;

  window = g_hash_table_lookup (self->chats, session_path);
  if (window == NULL)
    {
      session = ea_daemon_client_get_session (self->client, session_path);
      if (session == NULL)
        {
          g_warning ("No session at %s", session_path);
          return NULL;
        }
      window = GTK_WINDOW (ea_chat_window_new (self, session));
      remember_chat (self, session_path, window);
      ea_tray_queue_update (self->tray);
    }
  gtk_window_present (window);
  return window;
}

GtkWindow *
ea_applet_application_open_transcript (EaAppletApplication *self, const char *session_id)
{
  g_autofree char *key = g_strconcat ("transcript:", session_id, NULL);
  GtkWindow *window = g_hash_table_lookup (self->chats, key);

  if (window == NULL)
    window = remember_chat (self, key,
                            GTK_WINDOW (ea_chat_window_new_transcript (self, session_id)));
  gtk_window_present (window);
  return window;
}

static GtkWindow *
open_request_window (EaAppletApplication *self, const char *group)
{
  if (self->request_window == NULL)
    keep_window (&self->request_window, GTK_WINDOW (ea_request_window_new (self)));
  if (group != NULL && *group != '\0')
    ea_request_window_select_group (EA_REQUEST_WINDOW (self->request_window), group);
  gtk_window_present (self->request_window);
  return self->request_window;
}

GtkWindow *
ea_applet_application_show_tray_menu (EaAppletApplication *self)
{
  if (self->home_window == NULL)
    keep_window (&self->home_window, GTK_WINDOW (ea_home_window_new (self)));
  gtk_window_present (self->home_window);
  return self->home_window;
}

/* Offers */

static void
popup_destroyed_cb (GtkWidget *popup, EaAppletApplication *self)
{
  const char *path = g_object_get_data (G_OBJECT (popup), "ea-offer-path");

  if (path != NULL && g_hash_table_lookup (self->popups, path) == popup)
    g_hash_table_remove (self->popups, path);
}

static void
notify_offer (EaAppletApplication *self, EaExpertAssistOffer *offer)
{
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (offer));
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = g_strconcat ("offer-", ea_expert_assist_offer_get_id (offer), NULL);
  const char *from = ea_expert_assist_offer_get_from_name (offer);

  if (from == NULL || *from == '\0')
    from = ea_expert_assist_offer_get_from (offer);
  /* Translators: who asks for help */
  title = g_strdup_printf (_("%s asks for help"), from);
  notification = g_notification_new (title);
  g_notification_set_body (notification, ea_expert_assist_offer_get_summary (offer));
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_add_button_with_target (notification, _("Accept"), "app.accept-offer",
                                         "s", path);
  g_notification_add_button_with_target (notification, _("Decline"), "app.decline-offer",
                                         "s", path);
  g_notification_set_default_action_and_target (notification, "app.show-offer", "s", path);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static void
show_offer (EaAppletApplication *self, EaExpertAssistOffer *offer, gboolean present)
{
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (offer));
  GtkWindow *popup;

  if (g_strcmp0 (ea_expert_assist_offer_get_state (offer), "pending") != 0)
    return;

  popup = g_hash_table_lookup (self->popups, path);
  if (popup == NULL)
    {
      if (!g_settings_get_boolean (self->settings, "offer-popups") && !present)
        {
          notify_offer (self, offer);
          return;
        }
      popup = GTK_WINDOW (ea_offer_popup_new (self, offer));
      g_object_set_data_full (G_OBJECT (popup), "ea-offer-path", g_strdup (path), g_free);
      g_hash_table_replace (self->popups, g_strdup (path), popup);
      g_signal_connect (popup, "destroy", G_CALLBACK (popup_destroyed_cb), self);
    }
  else
    {
      ea_offer_popup_refresh (EA_OFFER_POPUP (popup));
    }
  gtk_window_present (popup);
}

static void
offer_state_cb (EaExpertAssistOffer *offer, GParamSpec *pspec, EaAppletApplication *self)
{
  if (g_strcmp0 (ea_expert_assist_offer_get_state (offer), "pending") != 0)
    {
      g_autofree char *id = g_strconcat ("offer-", ea_expert_assist_offer_get_id (offer), NULL);

      g_application_withdraw_notification (G_APPLICATION (self), id);
    }
  update_offers (self);
}

static void
follow_offer (EaAppletApplication *self, EaExpertAssistOffer *offer)
{
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (offer));

  if (g_hash_table_contains (self->offers, path))
    return;
  g_hash_table_insert (self->offers, g_strdup (path), g_object_ref (offer));
  g_signal_connect (offer, "notify::state", G_CALLBACK (offer_state_cb), self);
}

static void
update_offers (EaAppletApplication *self)
{
  GHashTableIter iter;
  gpointer value;
  guint pending = 0;

  g_hash_table_iter_init (&iter, self->offers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (ea_expert_assist_offer_get_state (value), "pending") == 0)
      pending++;
  if (self->tray)
    ea_tray_set_offers_waiting (self->tray, pending);
}

static void
offer_received_cb (EaDaemonClient *client, const char *path, EaAppletApplication *self)
{
  g_autoptr(EaExpertAssistOffer) offer = ea_daemon_client_get_offer (client, path);

  if (offer == NULL)
    return; /* object-added follows and shows it */
  follow_offer (self, offer);
  show_offer (self, offer, FALSE);
  update_offers (self);
}

static void
object_added_cb (EaDaemonClient *client, GDBusObject *object, EaAppletApplication *self)
{
  g_autoptr(GDBusInterface) offer = NULL;
  g_autoptr(GDBusInterface) session = NULL;

  offer = g_dbus_object_get_interface (object, "org.example.ExpertAssist.Offer");
  if (offer != NULL)
    {
      follow_offer (self, EA_EXPERT_ASSIST_OFFER (offer));
      show_offer (self, EA_EXPERT_ASSIST_OFFER (offer), FALSE);
      update_offers (self);
    }

  session = g_dbus_object_get_interface (object, "org.example.ExpertAssist.Session");
  if (session != NULL &&
      g_strcmp0 (ea_expert_assist_session_get_state (EA_EXPERT_ASSIST_SESSION (session)),
                 "open") == 0 &&
      g_settings_get_boolean (self->settings, "open-chat-on-connect"))
    ea_applet_application_open_chat (self, g_dbus_object_get_object_path (object));
}

static void
object_removed_cb (EaDaemonClient *client, GDBusObject *object, EaAppletApplication *self)
{
  const char *path = g_dbus_object_get_object_path (object);
  EaExpertAssistOffer *offer = g_hash_table_lookup (self->offers, path);

  if (offer != NULL)
    {
      g_signal_handlers_disconnect_by_data (offer, self);
      g_hash_table_remove (self->offers, path);
      update_offers (self);
    }
}

static void
client_ready_cb (EaDaemonClient *client, EaAppletApplication *self)
{
  GList *offers = ea_daemon_client_list_offers (client);

  /* Offers that arrived before the applet started. */
  for (GList *l = offers; l != NULL; l = l->next)
    {
      follow_offer (self, l->data);
      show_offer (self, l->data, FALSE);
    }
  g_list_free_full (offers, g_object_unref);
  update_offers (self);
  ea_tray_queue_update (self->tray);
}

/* Actions */

static void
ask_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  open_request_window (user_data, parameter ? g_variant_get_string (parameter, NULL) : NULL);
}

static void
home_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  ea_applet_application_show_tray_menu (user_data);
}

static void
history_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;

  if (self->history_window == NULL)
    keep_window (&self->history_window, GTK_WINDOW (ea_history_window_new (self)));
  gtk_window_present (self->history_window);
}

static void
statistics_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;

  if (self->stats_window == NULL)
    keep_window (&self->stats_window, GTK_WINDOW (ea_stats_window_new (self)));
  gtk_window_present (self->stats_window);
}

static void
preferences_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;

  if (self->preferences_window == NULL)
    keep_window (&self->preferences_window, GTK_WINDOW (ea_preferences_window_new (self)));
  gtk_window_present (self->preferences_window);
}

static void
set_status_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!ea_expert_assist_call_set_status_finish (EA_EXPERT_ASSIST (source), result, &error))
    {
      g_autofree char *text = ea_describe_error (error);

      g_warning ("SetStatus: %s", text);
    }
}

static void
set_status_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;
  EaExpertAssist *root = ea_daemon_client_get_root (self->client);
  const char *message = "";

  if (root == NULL)
    return;
  if (g_strcmp0 (ea_expert_assist_get_status (root), g_variant_get_string (parameter, NULL)) == 0)
    message = ea_expert_assist_get_status_message (root);
  ea_expert_assist_call_set_status (root, g_variant_get_string (parameter, NULL),
                                    message ? message : "", NULL, set_status_cb, NULL);
}

static void
show_offers_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->offers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    show_offer (self, value, TRUE);
}

static void
show_offer_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;
  EaExpertAssistOffer *offer = g_hash_table_lookup (self->offers,
                                                    g_variant_get_string (parameter, NULL));

  if (offer != NULL)
    show_offer (self, offer, TRUE);
}

static void
accept_offer_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;
  EaExpertAssistOffer *offer = g_hash_table_lookup (self->offers,
                                                    g_variant_get_string (parameter, NULL));
  GtkWindow *popup;

  if (offer == NULL)
    return;
  show_offer (self, offer, TRUE);
  popup = g_hash_table_lookup (self->popups, g_variant_get_string (parameter, NULL));
  if (popup != NULL)
    ea_offer_popup_accept (EA_OFFER_POPUP (popup));
}

static void
decline_offer_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!ea_expert_assist_offer_call_decline_finish (EA_EXPERT_ASSIST_OFFER (source), result,
                                                   &error))
    g_warning ("Decline: %s", error->message);
}

static void
decline_offer_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;
  EaExpertAssistOffer *offer = g_hash_table_lookup (self->offers,
                                                    g_variant_get_string (parameter, NULL));

  if (offer != NULL)
    ea_expert_assist_offer_call_decline (offer, "busy", NULL, decline_offer_cb, NULL);
}

static void
open_chat_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  ea_applet_application_open_chat (user_data, g_variant_get_string (parameter, NULL));
}

static void
about_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  static const char *developers[] = { "The Expert Assist developers", NULL };

  adw_show_about_window (parent,
                         "application-name", _("Expert Assist"),
                         "application-icon", EA_APPLET_ID,
                         "version", PACKAGE_VERSION,
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "comments", _("Get an expert onto a chat within seconds"),
                         /* Translators: put your names here */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  EaAppletApplication *self = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));

  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);
  g_application_quit (G_APPLICATION (self));
}

static const GActionEntry app_actions[] = {
  { "ask", ask_action, "s", NULL, NULL, { 0 } },
  { "home", home_action, NULL, NULL, NULL, { 0 } },
  { "history", history_action, NULL, NULL, NULL, { 0 } },
  { "statistics", statistics_action, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_action, NULL, NULL, NULL, { 0 } },
  { "set-status", set_status_action, "s", NULL, NULL, { 0 } },
  { "show-offers", show_offers_action, NULL, NULL, NULL, { 0 } },
  { "show-offer", show_offer_action, "s", NULL, NULL, { 0 } },
  { "accept-offer", accept_offer_action, "s", NULL, NULL, { 0 } },
  { "decline-offer", decline_offer_action, "s", NULL, NULL, { 0 } },
  { "open-chat", open_chat_action, "s", NULL, NULL, { 0 } },
  { "about", about_action, NULL, NULL, NULL, { 0 } },
  { "quit", quit_action, NULL, NULL, NULL, { 0 } },
};

static gboolean
quit_signal_cb (gpointer user_data)
{
  quit_action (NULL, NULL, user_data);
  return G_SOURCE_CONTINUE;
}

/* Style */

static void
color_scheme_changed_cb (GSettings *settings, const char *key, gpointer user_data)
{
  g_autofree char *scheme = g_settings_get_string (settings, "color-scheme");
  AdwColorScheme value = ADW_COLOR_SCHEME_DEFAULT;

  if (g_str_equal (scheme, "light"))
    value = ADW_COLOR_SCHEME_FORCE_LIGHT;
  else if (g_str_equal (scheme, "dark"))
    value = ADW_COLOR_SCHEME_FORCE_DARK;
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), value);
}

/* GApplication */

static void
tray_published_cb (EaTray *tray, EaAppletApplication *self)
{
  if (self->home_window != NULL)
    ea_home_window_update (EA_HOME_WINDOW (self->home_window));
}

static void
ea_applet_application_startup (GApplication *application)
{
  EaAppletApplication *self = EA_APPLET_APPLICATION (application);
  static const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (ea_applet_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_window_set_default_icon_name (EA_APPLET_ID);

  self->settings = g_settings_new (EA_APPLET_ID);
  g_signal_connect (self->settings, "changed::color-scheme",
                    G_CALLBACK (color_scheme_changed_cb), NULL);
  color_scheme_changed_cb (self->settings, "color-scheme", NULL);

  self->client = ea_daemon_client_new (g_application_get_dbus_connection (application));
  g_signal_connect (self->client, "ready", G_CALLBACK (client_ready_cb), self);
  g_signal_connect (self->client, "object-added", G_CALLBACK (object_added_cb), self);
  g_signal_connect (self->client, "object-removed", G_CALLBACK (object_removed_cb), self);
  g_signal_connect (self->client, "offer-received", G_CALLBACK (offer_received_cb), self);

  self->tray = ea_tray_new (application, self->client);
  g_signal_connect (self->tray, "published-changed", G_CALLBACK (tray_published_cb), self);

  /* The applet outlives its windows: offers must still pop up, with or
   * without a tray icon. Quit is in the menu. */
  g_application_hold (application);
  self->held = TRUE;

  g_unix_signal_add (SIGTERM, quit_signal_cb, self);
  g_unix_signal_add (SIGINT, quit_signal_cb, self);

  ea_daemon_client_start (self->client);
}

static void
ea_applet_application_activate (GApplication *application)
{
  EaAppletApplication *self = EA_APPLET_APPLICATION (application);

  if (self->background)
    {
      /* Started at login: the tray icon is all there is to show. */
      self->background = FALSE;
      return;
    }
  if (ea_tray_is_published (self->tray))
    open_request_window (self, NULL);
  else
    ea_applet_application_show_tray_menu (self);
}

static gint
ea_applet_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  EaAppletApplication *self = EA_APPLET_APPLICATION (application);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("expert-assist-applet %s\n", PACKAGE_VERSION);
      return 0;
    }
  self->background = g_variant_dict_contains (options, "background");
  return -1;
}

static gboolean
ea_applet_application_dbus_register (GApplication *application, GDBusConnection *connection,
                                     const char *object_path, GError **error)
{
  EaAppletApplication *self = EA_APPLET_APPLICATION (application);

  if (!G_APPLICATION_CLASS (ea_applet_application_parent_class)->dbus_register (application,
                                                                               connection,
                                                                               object_path,
                                                                               error))
    return FALSE;

  /* A remote control for the integration tests only. */
  if (g_strcmp0 (g_getenv ("EA_APPLET_TEST"), "1") == 0)
    {
      self->test_hook = ea_test_hook_new (self);
      if (!ea_test_hook_export (self->test_hook, connection, error))
        return FALSE;
    }
  return TRUE;
}

static void
ea_applet_application_dbus_unregister (GApplication *application, GDBusConnection *connection,
                                       const char *object_path)
{
  EaAppletApplication *self = EA_APPLET_APPLICATION (application);

  if (self->test_hook != NULL)
    ea_test_hook_unexport (self->test_hook);
  G_APPLICATION_CLASS (ea_applet_application_parent_class)->dbus_unregister (application,
                                                                            connection,
                                                                            object_path);
}

static void
ea_applet_application_shutdown (GApplication *application)
{
  EaAppletApplication *self = EA_APPLET_APPLICATION (application);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->offers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_signal_handlers_disconnect_by_data (value, self);
  g_hash_table_remove_all (self->offers);
  g_clear_object (&self->tray);
  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  if (self->held)
    {
      self->held = FALSE;
      g_application_release (application);
    }

  G_APPLICATION_CLASS (ea_applet_application_parent_class)->shutdown (application);
}

static void
ea_applet_application_finalize (GObject *object)
{
  EaAppletApplication *self = EA_APPLET_APPLICATION (object);

  g_clear_object (&self->test_hook);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->popups, g_hash_table_unref);
  g_clear_pointer (&self->chats, g_hash_table_unref);
  g_clear_pointer (&self->offers, g_hash_table_unref);

  G_OBJECT_CLASS (ea_applet_application_parent_class)->finalize (object);
}

static void
ea_applet_application_class_init (EaAppletApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = ea_applet_application_finalize;
  app_class->startup = ea_applet_application_startup;
  app_class->activate = ea_applet_application_activate;
  app_class->shutdown = ea_applet_application_shutdown;
  app_class->handle_local_options = ea_applet_application_handle_local_options;
  app_class->dbus_register = ea_applet_application_dbus_register;
  app_class->dbus_unregister = ea_applet_application_dbus_unregister;
}

static void
ea_applet_application_init (EaAppletApplication *self)
{
  static const GOptionEntry options[] = {
    { "background", 'b', 0, G_OPTION_ARG_NONE, NULL,
      N_("Start in the tray without opening a window"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Show the version and exit"), NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };

  self->popups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->chats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->offers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

EaAppletApplication *
ea_applet_application_new (void)
{
  return g_object_new (EA_TYPE_APPLET_APPLICATION,
                       "application-id", EA_APPLET_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

EaDaemonClient *
ea_applet_application_get_client (EaAppletApplication *self)
{
  return self->client;
}

EaTray *
ea_applet_application_get_tray (EaAppletApplication *self)
{
  return self->tray;
}

GSettings *
ea_applet_application_get_settings (EaAppletApplication *self)
{
  return self->settings;
}
