/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * expert-assist: the command-line client of expert-assistd, for people and
 * scripts. Everything goes over the session bus (DBUS_SESSION_BUS_ADDRESS);
 * the daemon is started by D-Bus activation when it is not running. Each
 * subcommand has its own GOptionContext, so "expert-assist ask --help"
 * works as people expect; errors are one line on stderr and the exit
 * status says what went wrong (see ea_cli_exit_codes_help()).
 */
#define G_LOG_DOMAIN "ea-cli"

#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "ea-error.h"
#include "ea-cli-private.h"

const EaCliCommand ea_cli_commands[] = {
  { "status", N_("[STATUS [MESSAGE]]"),
    N_("Show the connection and presence, or set the presence"), ea_cli_status },
  { "login", N_("[ACCOUNT]"),
    N_("Save the XMPP account and its password (to the keyring)"), ea_cli_login },
  { "groups", "", N_("List the expert groups you may ask"), ea_cli_groups },
  { "experts", N_("[GROUP]"), N_("List the experts of a group and who is free"), ea_cli_experts },
  { "ask", N_("[GROUP] SUMMARY"), N_("Ask for help; with --wait, follow the request"),
    ea_cli_ask },
  { "offers", "", N_("List the requests offered to you"), ea_cli_offers },
  { "accept", N_("ID"), N_("Take an offered request"), ea_cli_accept },
  { "decline", N_("ID [REASON]"), N_("Decline an offered request"), ea_cli_decline },
  { "chat", N_("SESSION"), N_("Chat in a session: lines from stdin are sent"), ea_cli_chat },
  { "transcript", N_("SESSION"), N_("Print a past session from the log"), ea_cli_transcript },
  { "search", N_("TEXT"), N_("Search the log of chats and requests"), ea_cli_search },
  { "similar", N_("SUMMARY"), N_("Find past requests like this one"), ea_cli_similar },
  { "stats", "", N_("Show the statistics"), ea_cli_stats },
  { "report", "", N_("Write the statistics as an HTML or CSV report"), ea_cli_report },
  { NULL, NULL, NULL, NULL },
};

const char *
ea_cli_exit_codes_help (void)
{
  return _("Exit status:\n"
           "  0   success (ask --wait: connected to an expert)\n"
           "  1   usage error (bad option or argument), or any other error\n"
           "  2   the daemon is not running and could not be started, or left\n"
           "  3   the daemon is not connected to the XMPP server (NotConnected)\n"
           "  4   no such group, expert, request, offer or session (NotFound)\n"
           "  5   permission denied (PermissionDenied)\n"
           "  6   the daemon refused an argument (InvalidArgs)\n"
           "  7   the daemon could not do it (Failed, Expired); ask --wait: the\n"
           "      request failed\n"
           "  8   ask --wait: the request expired unanswered\n"
           "  9   ask --wait: the request was cancelled\n"
           "  10  accept: another expert took the request first (Taken)");
}

/* ------------------------------------------------------------------ */
/* Errors and output                                                   */
/* ------------------------------------------------------------------ */

static void
print_error_line (const char *message)
{
  g_autofree char *line = ea_cli_one_line (message);

  g_printerr ("%s: %s\n", EA_CLI_PROGRAM, line);
}

int
ea_cli_usage (EaCli *cli, const char *format, ...)
{
  g_autofree char *message = NULL;
  g_autofree char *hint = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (cli != NULL && cli->command != NULL)
    hint = g_strdup_printf (_("see “%s %s --help”"), EA_CLI_PROGRAM, cli->command);
  else
    hint = g_strdup_printf (_("see “%s --help”"), EA_CLI_PROGRAM);
  {
    g_autofree char *line = g_strdup_printf ("%s (%s)", message, hint);

    print_error_line (line);
  }
  return EA_CLI_EXIT_USAGE;
}

int
ea_cli_fail (EaCli *cli, const GError *error)
{
  g_autofree char *message = ea_cli_error_message (error);

  print_error_line (message);
  return ea_cli_exit_code_for_error (error);
}

int
ea_cli_fail_code (EaCli *cli, int code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  print_error_line (message);
  return code;
}

/* Machine output is UTF-8 whatever the locale: no charset conversion as
 * g_print() would do. */
void
ea_cli_print_raw (const char *text)
{
  fputs (text, stdout);
  fflush (stdout);
}

/* Takes a floating VALUE. */
void
ea_cli_print_json (GVariant *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);
  g_autofree char *json = ea_cli_json_from_variant (owned);

  ea_cli_print_raw (json);
  ea_cli_print_raw ("\n");
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

gboolean
ea_cli_parse_options (EaCli              *cli,
                      const GOptionEntry *entries,
                      const char         *parameters,
                      const char         *summary,
                      const char         *description,
                      int                *argc,
                      char             ***argv,
                      int                *exit_code)
{
  static const GOptionEntry none[] = { G_OPTION_ENTRY_NULL };
  g_autofree char *prgname = g_strdup_printf ("%s %s", EA_CLI_PROGRAM, cli->command);
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);
  g_autofree char *full = NULL;
  g_autoptr(GError) error = NULL;

  if (description != NULL && *description != '\0')
    full = g_strconcat (description, "\n\n", ea_cli_exit_codes_help (), NULL);
  else
    full = g_strdup (ea_cli_exit_codes_help ());

  /* "Usage: expert-assist ask [OPTION…] GROUP SUMMARY" */
  g_set_prgname (prgname);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, full);
  g_option_context_add_main_entries (context, entries != NULL ? entries : none, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *exit_code = ea_cli_usage (cli, "%s", error->message);
      return FALSE;
    }
  g_set_prgname (EA_CLI_PROGRAM);
  return TRUE;
}

gboolean
ea_cli_parse_time_option (EaCli      *cli,
                          const char *option,
                          const char *text,
                          gint64     *out_us,
                          int        *exit_code)
{
  g_autoptr(GError) error = NULL;

  *out_us = 0;
  if (text == NULL)
    return TRUE;
  if (!ea_cli_parse_time (text, g_get_real_time (), NULL, out_us, &error))
    {
      *exit_code = ea_cli_usage (cli, "%s: %s", option, error->message);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The daemon                                                          */
/* ------------------------------------------------------------------ */

/* The root proxy. Its construction asks the bus to activate the daemon
 * when nobody owns the name; when that fails (not activatable, or the
 * activated daemon died), the name has no owner and we say so (exit 2). */
int
ea_cli_connect (EaCli *cli)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = NULL;

  /* Registers the org.example.ExpertAssist.Error.* names, so the
   * daemon's errors arrive as EA_ERROR codes. */
  (void) ea_error_quark ();

  if (cli->bus == NULL)
    cli->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (cli->bus == NULL)
    {
      g_autofree char *message = ea_cli_error_message (error);

      return ea_cli_fail_code (cli, EA_CLI_EXIT_NO_DAEMON,
                               _("The daemon is not running: there is no session bus (%s)."),
                               message);
    }
  /* A bus that goes away ends us through our own code, with our exit
   * status, not through GDBus raising SIGTERM. */
  g_dbus_connection_set_exit_on_close (cli->bus, FALSE);

  cli->root = ea_expert_assist_proxy_new_sync (cli->bus, G_DBUS_PROXY_FLAGS_NONE,
                                               EA_CLI_BUS_NAME, EA_CLI_ROOT_PATH,
                                               NULL, &error);
  if (cli->root == NULL)
    {
      g_autofree char *message = ea_cli_error_message (error);

      return ea_cli_fail_code (cli, EA_CLI_EXIT_NO_DAEMON,
                               _("The daemon is not running and could not be started: %s"),
                               message);
    }
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (cli->root));
  if (owner == NULL)
    return ea_cli_fail_code (cli, EA_CLI_EXIT_NO_DAEMON,
                             _("The daemon is not running: nothing owns %s on the session "
                               "bus and it cannot be started. Start expert-assistd."),
                             EA_CLI_BUS_NAME);
  return EA_CLI_EXIT_OK;
}

int
ea_cli_connect_manager (EaCli *cli)
{
  g_autoptr(GError) error = NULL;
  int code = ea_cli_connect (cli);

  if (code != EA_CLI_EXIT_OK)
    return code;
  cli->manager = ea_object_manager_client_new_sync (cli->bus,
                                                    G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                    EA_CLI_BUS_NAME, EA_CLI_ROOT_PATH,
                                                    NULL, &error);
  if (cli->manager == NULL)
    return ea_cli_fail (cli, error);
  return EA_CLI_EXIT_OK;
}

const char *
ea_cli_path_id (const char *path)
{
  const char *slash = path != NULL ? strrchr (path, '/') : NULL;

  return slash != NULL ? slash + 1 : "";
}

/* The request/, offer/ or session/ object whose id is ID or starts with
 * it (the 4-character reply code of an offer works too). */
EaObject *
ea_cli_find_object (EaCli *cli, const char *kind, const char *id, int *exit_code)
{
  g_autofree char *prefix = g_strdup_printf ("%s/%s/", EA_CLI_ROOT_PATH, kind);
  g_autofree char *wanted = g_ascii_strdown (id, -1);
  GList *objects = g_dbus_object_manager_get_objects (cli->manager);
  EaObject *found = NULL;
  guint matches = 0;

  for (GList *l = objects; l != NULL; l = l->next)
    {
      const char *path = g_dbus_object_get_object_path (l->data);
      const char *object_id;

      if (!g_str_has_prefix (path, prefix))
        continue;
      object_id = path + strlen (prefix);
      if (strcmp (object_id, wanted) == 0)
        {
          g_clear_object (&found);
          found = g_object_ref (l->data);
          matches = 1;
          break;
        }
      if (*wanted != '\0' && g_str_has_prefix (object_id, wanted))
        {
          matches++;
          if (found == NULL)
            found = g_object_ref (l->data);
        }
    }
  g_list_free_full (objects, g_object_unref);

  if (matches == 0)
    {
      const char *what = strcmp (kind, "offer") == 0 ? _("offer")
                         : strcmp (kind, "session") == 0 ? _("session") : _("request");

      *exit_code = ea_cli_fail_code (cli, EA_CLI_EXIT_NOT_FOUND,
                                     _("There is no %s “%s”."), what, id);
      return NULL;
    }
  if (matches > 1)
    {
      g_clear_object (&found);
      *exit_code = ea_cli_fail_code (cli, EA_CLI_EXIT_INVALID_ARGS,
                                     _("“%s” matches %u of them: give more of the id."),
                                     id, matches);
      return NULL;
    }
  return found;
}

void
ea_cli_quit (EaCli *cli, int exit_code)
{
  cli->exit_code = exit_code;
  if (cli->loop != NULL)
    g_main_loop_quit (cli->loop);
}

static void
name_owner_cb (GObject *proxy, GParamSpec *pspec, gpointer data)
{
  EaCli *cli = data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  if (owner == NULL)
    ea_cli_quit (cli, ea_cli_fail_code (cli, EA_CLI_EXIT_NO_DAEMON,
                                        _("The daemon left the session bus.")));
}

static void
bus_closed_cb (GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
               gpointer data)
{
  EaCli *cli = data;

  ea_cli_quit (cli, ea_cli_fail_code (cli, EA_CLI_EXIT_NO_DAEMON,
                                      _("The session bus went away.")));
}

/* For commands that run a main loop: end it (exit 2) when the daemon or
 * the bus goes away. */
void
ea_cli_watch_daemon (EaCli *cli)
{
  g_signal_connect (cli->root, "notify::g-name-owner", G_CALLBACK (name_owner_cb), cli);
  g_signal_connect (cli->bus, "closed", G_CALLBACK (bus_closed_cb), cli);
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

static char *
commands_summary (void)
{
  g_autoptr(EaCliTable) table = ea_cli_table_new (2);
  g_autofree char *text = NULL;

  for (const EaCliCommand *c = ea_cli_commands; c->name != NULL; c++)
    {
      g_autofree char *usage = g_strdup_printf ("%s %s", c->name,
                                                *c->parameters != '\0' ? _(c->parameters) : "");

      ea_cli_table_add (table, usage, _(c->summary), NULL);
    }
  text = ea_cli_table_to_string (table, "  ");
  g_strchomp (text);
  return g_strdup_printf (_("Asks colleagues for help over the organisation's XMPP server,\n"
                            "through the Expert Assist daemon on the session bus.\n\n"
                            "Commands:\n%s\n\n"
                            "“%s COMMAND --help” describes each command."),
                          text, EA_CLI_PROGRAM);
}

static void
clear_cli (EaCli *cli)
{
  g_clear_object (&cli->manager);
  g_clear_object (&cli->root);
  g_clear_object (&cli->bus);
  g_clear_pointer (&cli->loop, g_main_loop_unref);
}

int
main (int argc, char *argv[])
{
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = NULL;
  const EaCliCommand *command = NULL;
  EaCli cli = { 0 };
  int code;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname (EA_CLI_PROGRAM);

  summary = commands_summary ();
  context = g_option_context_new (_("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, ea_cli_exit_codes_help ());
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Stop at the command: what follows is the command's to parse. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return ea_cli_usage (NULL, "%s", error->message);

  if (version)
    {
      g_print ("%s %s\n", EA_CLI_PROGRAM, PACKAGE_VERSION);
      return EA_CLI_EXIT_OK;
    }
  if (argc < 2)
    return ea_cli_usage (NULL, _("No command given"));

  /* "expert-assist help ask" is "expert-assist ask --help". */
  if (strcmp (argv[1], "help") == 0)
    {
      if (argc < 3)
        {
          g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

          g_print ("%s", help);
          return EA_CLI_EXIT_OK;
        }
      argv[1] = argv[2];
      argv[2] = (char *) "--help";
      argc = 3;
    }

  for (const EaCliCommand *c = ea_cli_commands; c->name != NULL; c++)
    if (strcmp (c->name, argv[1]) == 0)
      command = c;
  if (command == NULL)
    return ea_cli_usage (NULL, _("Unknown command “%s”"), argv[1]);

  cli.command = command->name;
  code = command->run (&cli, argc - 1, argv + 1);
  clear_cli (&cli);
  return code;
}
