/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * expert-assistd as a GApplication service: it owns the bus name, exports
 * the daemon's objects before the name is taken, quits on SIGTERM, SIGINT
 * and SIGHUP, and with --replace takes the name over from a running one
 * (which then exits cleanly).
 */
#define G_LOG_DOMAIN "ea-application"

#include "config.h"

#include <stdio.h>
#include <glib/gi18n.h>
#include <glib-unix.h>

#include "ea-daemon.h"
#include "ea-application.h"

struct _EaApplication {
  GApplication parent_instance;

  EaOptions options;
  EaDaemon *daemon;
  guint signal_ids[3];
};

G_DEFINE_FINAL_TYPE (EaApplication, ea_application, G_TYPE_APPLICATION)

static gboolean
quit_on_signal (gpointer data)
{
  g_debug ("quitting on a signal");
  g_application_quit (G_APPLICATION (data));
  return G_SOURCE_CONTINUE;
}

static void
accept_offer_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  EaApplication *self = data;

  if (self->daemon != NULL)
    ea_daemon_accept_offer (self->daemon, g_variant_get_string (param, NULL));
}

static void
decline_offer_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  EaApplication *self = data;

  if (self->daemon != NULL)
    ea_daemon_decline_offer (self->daemon, g_variant_get_string (param, NULL));
}

static void
show_offer_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  /* The notification itself is the daemon's only view: nothing to open. */
}

static int
ea_application_handle_local_options (GApplication *app, GVariantDict *dict)
{
  EaApplication *self = EA_APPLICATION (app);

  if (self->options.version)
    {
      g_print ("expert-assistd %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (self->options.verbose)
    g_log_set_debug_enabled (TRUE);
  if (self->options.replace)
    g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_REPLACE);

  return -1;
}

static gboolean
ea_application_dbus_register (GApplication    *app,
                              GDBusConnection *connection,
                              const char      *object_path,
                              GError         **error)
{
  EaApplication *self = EA_APPLICATION (app);

  if (!G_APPLICATION_CLASS (ea_application_parent_class)->dbus_register (app, connection,
                                                                         object_path, error))
    return FALSE;

  self->daemon = ea_daemon_new (&self->options, error);
  if (self->daemon == NULL)
    return FALSE;
  return ea_daemon_export (self->daemon, connection, error);
}

static void
ea_application_dbus_unregister (GApplication    *app,
                                GDBusConnection *connection,
                                const char      *object_path)
{
  EaApplication *self = EA_APPLICATION (app);

  if (self->daemon != NULL)
    ea_daemon_unexport (self->daemon);

  G_APPLICATION_CLASS (ea_application_parent_class)->dbus_unregister (app, connection,
                                                                      object_path);
}

static void
ea_application_startup (GApplication *app)
{
  EaApplication *self = EA_APPLICATION (app);

  G_APPLICATION_CLASS (ea_application_parent_class)->startup (app);

  /* A service with no windows: it runs until told to stop. */
  g_application_hold (app);

  /* The buttons of offer notifications. */
  {
    const GActionEntry actions[] = {
      { "accept-offer", accept_offer_activated, "s", NULL, NULL, { 0 } },
      { "decline-offer", decline_offer_activated, "s", NULL, NULL, { 0 } },
      { "show-offer", show_offer_activated, "s", NULL, NULL, { 0 } },
    };

    g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), self);
  }
  ea_daemon_set_application (self->daemon, app);

  self->signal_ids[0] = g_unix_signal_add (SIGTERM, quit_on_signal, app);
  self->signal_ids[1] = g_unix_signal_add (SIGINT, quit_on_signal, app);
  self->signal_ids[2] = g_unix_signal_add (SIGHUP, quit_on_signal, app);

  g_debug ("expert-assistd %s started", PACKAGE_VERSION);
  ea_daemon_start (self->daemon);
}

static void
ea_application_shutdown (GApplication *app)
{
  EaApplication *self = EA_APPLICATION (app);

  for (guint i = 0; i < G_N_ELEMENTS (self->signal_ids); i++)
    g_clear_handle_id (&self->signal_ids[i], g_source_remove);
  if (self->daemon != NULL)
    ea_daemon_shutdown (self->daemon);

  G_APPLICATION_CLASS (ea_application_parent_class)->shutdown (app);
}

static void
ea_application_activate (GApplication *app)
{
  /* Activation over D-Bus (the .service file) needs nothing more. */
}

static void
ea_application_finalize (GObject *object)
{
  EaApplication *self = EA_APPLICATION (object);

  g_clear_object (&self->daemon);
  ea_options_clear (&self->options);

  G_OBJECT_CLASS (ea_application_parent_class)->finalize (object);
}

static void
ea_application_class_init (EaApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = ea_application_finalize;
  app_class->handle_local_options = ea_application_handle_local_options;
  app_class->dbus_register = ea_application_dbus_register;
  app_class->dbus_unregister = ea_application_dbus_unregister;
  app_class->startup = ea_application_startup;
  app_class->shutdown = ea_application_shutdown;
  app_class->activate = ea_application_activate;
}

static void
ea_application_init (EaApplication *self)
{
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &self->options.account,
      N_("The XMPP address to log in with (default: the “account” setting)"), N_("JID") },
    { "server", 0, 0, G_OPTION_ARG_STRING, &self->options.server,
      N_("The server to connect to (default: the address’s domain, by SRV)"), N_("HOST[:PORT]") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &self->options.password_file,
      N_("Read the password from FILE, which must be private (default: the keyring)"),
      N_("FILE") },
    { "directory", 0, 0, G_OPTION_ARG_FILENAME, &self->options.directory,
      N_("Read the expert directory from FILE instead of the XDG directories"), N_("FILE") },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &self->options.data_dir,
      N_("Keep the log in DIR (default: $XDG_DATA_HOME/expert-assist)"), N_("DIR") },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &self->options.tls,
      N_("TLS policy: required, trust-self-signed or none (loopback only)"), N_("POLICY") },
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &self->options.replace,
      N_("Replace a running expert-assistd"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &self->options.verbose,
      N_("Log debug messages"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &self->options.version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Expert Assist daemon: gets an expert onto an "
                                              "IM chat with an agent who needs help."));
}

EaApplication *
ea_application_new (void)
{
  return g_object_new (EA_TYPE_APPLICATION,
                       "application-id", EA_APP_ID,
                       "flags", G_APPLICATION_IS_SERVICE | G_APPLICATION_ALLOW_REPLACEMENT,
                       NULL);
}
