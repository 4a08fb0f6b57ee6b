/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one-shot subcommands of expert-assist: status, login, groups,
 * experts, offers, accept, decline, transcript, search, similar, stats and
 * report. Each is one or two D-Bus calls; "ask" and "chat", which follow
 * the daemon, have their own files.
 */
#define G_LOG_DOMAIN "ea-cli"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "ea-error.h"
#include "ea-cli-private.h"
#include "ea-cli-report.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void
print_table (EaCliTable *table)
{
  g_autofree char *text = ea_cli_table_to_string (table, "");

  g_print ("%s", text);
}

static char *
join_strv (const char * const *strv, const char *separator)
{
  if (strv == NULL)
    return g_strdup ("");
  return g_strjoinv (separator, (char **) strv);
}

/* The members of EXTRA (a{sv}) that are not already in BUILDER's keys. */
static void
add_extra (GVariantBuilder *builder, GVariant *extra, const char * const *taken)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, extra);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (!g_strv_contains (taken, key))
        g_variant_builder_add (builder, "{sv}", key, value);
      g_variant_unref (value);
    }
}

/* ------------------------------------------------------------------ */
/* status                                                              */
/* ------------------------------------------------------------------ */

int
ea_cli_status (EaCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  const char *state, *error_text, *status, *message, *account;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("[STATUS [MESSAGE]]"),
                             _("Shows the account, the connection to the XMPP server and your "
                               "presence.\nWith STATUS (available, chat, away, xa, dnd or "
                               "offline), sets your presence first."),
                             _("Without STATUS, the exit status is 0 when the daemon is "
                               "connected and 3 when it is not."),
                             &argc, &argv, &code))
    return code;
  if (argc > 3)
    return ea_cli_usage (cli, _("Too many arguments"));
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;

  if (argc >= 2)
    {
      g_autoptr(GError) error = NULL;

      if (!ea_expert_assist_call_set_status_sync (cli->root, argv[1], argc == 3 ? argv[2] : "",
                                                  NULL, &error))
        return ea_cli_fail (cli, error);
      /* Show what the daemon says now, not what the cache held. */
      g_clear_object (&cli->root);
      if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
        return code;
    }

  state = ea_expert_assist_get_connection_state (cli->root);
  error_text = ea_expert_assist_get_connection_error (cli->root);
  status = ea_expert_assist_get_status (cli->root);
  message = ea_expert_assist_get_status_message (cli->root);
  account = ea_expert_assist_get_account (cli->root);
  state = state != NULL ? state : "";
  error_text = error_text != NULL ? error_text : "";
  status = status != NULL ? status : "";
  message = message != NULL ? message : "";
  account = account != NULL ? account : "";

  if (json)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "account", g_variant_new_string (account));
      g_variant_builder_add (&b, "{sv}", "connection-state", g_variant_new_string (state));
      g_variant_builder_add (&b, "{sv}", "connection-error", g_variant_new_string (error_text));
      g_variant_builder_add (&b, "{sv}", "status", g_variant_new_string (status));
      g_variant_builder_add (&b, "{sv}", "status-message", g_variant_new_string (message));
      ea_cli_print_json (g_variant_builder_end (&b));
    }
  else
    {
      g_autoptr(EaCliTable) table = ea_cli_table_new (2);

      ea_cli_table_add (table, _("Account:"), *account != '\0' ? account : _("(none)"), NULL);
      ea_cli_table_add (table, _("Connection:"), state, NULL);
      if (*error_text != '\0')
        ea_cli_table_add (table, _("Error:"), error_text, NULL);
      ea_cli_table_add (table, _("Status:"), status, NULL);
      if (*message != '\0')
        ea_cli_table_add (table, _("Message:"), message, NULL);
      print_table (table);
    }

  if (argc >= 2)
    return EA_CLI_EXIT_OK;
  return strcmp (state, "connected") == 0 ? EA_CLI_EXIT_OK : EA_CLI_EXIT_NOT_CONNECTED;
}

/* ------------------------------------------------------------------ */
/* login                                                               */
/* ------------------------------------------------------------------ */

static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void
restore_echo (void)
{
  if (echo_off)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
      echo_off = 0;
    }
}

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void
restore_echo_and_die (int signum)
{
  restore_echo ();
  signal (signum, SIG_DFL);
  raise (signum);
}

/* One line: from the terminal with echo off, else from whatever stdin is
 * (a pipe from a script). The line end is not part of the password. */
static char *
read_password (const char *account, GError **error)
{
  gboolean tty = isatty (STDIN_FILENO);
  char *line = NULL;
  size_t size = 0;
  ssize_t len;
  char *password;

  if (tty)
    {
      struct termios quiet;

      if (tcgetattr (STDIN_FILENO, &saved_termios) != 0)
        {
          int err = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                       _("Cannot switch off the terminal's echo: %s"), g_strerror (err));
          return NULL;
        }
      quiet = saved_termios;
      quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
      quiet.c_lflag |= ICANON;
      signal (SIGINT, restore_echo_and_die);
      signal (SIGTERM, restore_echo_and_die);
      signal (SIGHUP, restore_echo_and_die);
      /* Echo off before the prompt, so nothing typed early shows. */
      echo_off = 1;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
      g_printerr (_("Password for %s: "), account);
      fflush (stderr);
    }

  len = getline (&line, &size, stdin);

  if (tty)
    {
      restore_echo ();
      signal (SIGINT, SIG_DFL);
      signal (SIGTERM, SIG_DFL);
      signal (SIGHUP, SIG_DFL);
      g_printerr ("\n");
    }

  if (len < 0)
    {
      free (line);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           tty ? _("No password given.")
                               : _("No password on standard input: give it as one line."));
      return NULL;
    }
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  password = g_strdup (line);
  explicit_bzero (line, size);
  free (line);
  return password;
}

static void
free_password (char *password)
{
  if (password != NULL)
    explicit_bzero (password, strlen (password));
  g_free (password);
}

int
ea_cli_login (EaCli *cli, int argc, char **argv)
{
  g_autofree char *server = NULL;
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server,
      N_("Where to connect (default: the address's domain, by DNS SRV)"), N_("HOST[:PORT]") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  char *password;
  gboolean ok;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("[ACCOUNT]"),
                             _("Saves your XMPP account and its password, which goes to the "
                               "keyring only,\nand makes the daemon connect with them. "
                               "ACCOUNT defaults to the account the daemon has."),
                             _("The password is read from the terminal with echo off; when "
                               "standard input is not a terminal, one line is read from it, "
                               "so scripts can pipe it in:\n"
                               "  printf '%s\\n' \"$PASSWORD\" | expert-assist login "
                               "carol@example.org"),
                             &argc, &argv, &code))
    return code;
  if (argc > 2)
    return ea_cli_usage (cli, _("Too many arguments"));
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;

  if (argc == 2)
    account = g_strdup (argv[1]);
  else
    account = g_strdup (ea_expert_assist_get_account (cli->root));
  if (account == NULL || *account == '\0')
    return ea_cli_usage (cli, _("No account given and the daemon has none"));

  password = read_password (account, &error);
  if (password == NULL)
    return ea_cli_fail_code (cli, EA_CLI_EXIT_USAGE, "%s", error->message);
  if (*password == '\0')
    {
      free_password (password);
      return ea_cli_fail_code (cli, EA_CLI_EXIT_USAGE, _("The password is empty."));
    }

  ok = ea_expert_assist_call_set_account_sync (cli->root, account,
                                               server != NULL ? server : "",
                                               password, NULL, &error);
  free_password (password);
  if (!ok)
    return ea_cli_fail (cli, error);
  g_print (_("Saved the account %s; the daemon is connecting with it.\n"), account);
  return EA_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* groups                                                              */
/* ------------------------------------------------------------------ */

int
ea_cli_groups (EaCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  static const char *const fixed[] = { "id", "name", "interruptible", "total", NULL };
  g_autoptr(GVariant) groups = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EaCliTable) table = ea_cli_table_new (3);
  GVariantBuilder out;
  GVariantIter iter;
  const char *id, *name;
  guint interruptible, total;
  GVariant *extra;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, "",
                             _("Lists the expert groups you may ask, with how many of their "
                               "experts can be\ninterrupted now."), NULL, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return ea_cli_usage (cli, _("Too many arguments"));
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;
  if (!ea_expert_assist_call_list_groups_sync (cli->root, &groups, NULL, &error))
    return ea_cli_fail (cli, error);

  g_variant_builder_init (&out, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_iter_init (&iter, groups);
  while (g_variant_iter_next (&iter, "(&s&suu@a{sv})", &id, &name, &interruptible, &total,
                              &extra))
    {
      if (json)
        {
          GVariantBuilder row;

          g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&row, "{sv}", "id", g_variant_new_string (id));
          g_variant_builder_add (&row, "{sv}", "name", g_variant_new_string (name));
          g_variant_builder_add (&row, "{sv}", "interruptible",
                                 g_variant_new_uint32 (interruptible));
          g_variant_builder_add (&row, "{sv}", "total", g_variant_new_uint32 (total));
          add_extra (&row, extra, fixed);
          g_variant_builder_add_value (&out, g_variant_builder_end (&row));
        }
      else
        {
          g_autofree char *counts = g_strdup_printf (_("%u of %u available"),
                                                     interruptible, total);

          ea_cli_table_add (table, id, name, counts, NULL);
        }
      g_variant_unref (extra);
    }

  if (json)
    ea_cli_print_json (g_variant_builder_end (&out));
  else
    {
      g_variant_builder_clear (&out);
      print_table (table);
    }
  return EA_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* experts                                                             */
/* ------------------------------------------------------------------ */

static char *
skills_text (GVariant *extra)
{
  g_autofree const char **skills = NULL;
  g_autoptr(GVariant) levels = NULL;
  GString *out = g_string_new (NULL);

  if (!g_variant_lookup (extra, "skills", "^a&s", &skills) || skills == NULL)
    return g_string_free (out, FALSE);
  levels = g_variant_lookup_value (extra, "skill-levels", G_VARIANT_TYPE ("a{su}"));
  for (guint i = 0; skills[i] != NULL; i++)
    {
      guint level;

      if (i > 0)
        g_string_append (out, ", ");
      g_string_append (out, skills[i]);
      if (levels != NULL && g_variant_lookup (levels, skills[i], "u", &level))
        g_string_append_printf (out, ":%u", level);
    }
  return g_string_free (out, FALSE);
}

int
ea_cli_experts (EaCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  static const char *const fixed[] = { "address", "name", "status", NULL };
  g_autoptr(GVariant) experts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EaCliTable) table = ea_cli_table_new (5);
  const char *mark = g_get_charset (NULL) ? "✔" : "*";
  GVariantBuilder out;
  GVariantIter iter;
  const char *address, *name, *status;
  GVariant *extra;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("[GROUP]"),
                             _("Lists the experts of GROUP (of every group you may ask when "
                               "none is given):\naddress, name, presence, a mark when they can "
                               "be interrupted now, and skills."),
                             NULL, &argc, &argv, &code))
    return code;
  if (argc > 2)
    return ea_cli_usage (cli, _("Too many arguments"));
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;
  if (!ea_expert_assist_call_list_experts_sync (cli->root, argc == 2 ? argv[1] : "", &experts,
                                                NULL, &error))
    return ea_cli_fail (cli, error);

  g_variant_builder_init (&out, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_iter_init (&iter, experts);
  while (g_variant_iter_next (&iter, "(&s&s&s@a{sv})", &address, &name, &status, &extra))
    {
      if (json)
        {
          GVariantBuilder row;

          g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&row, "{sv}", "address", g_variant_new_string (address));
          g_variant_builder_add (&row, "{sv}", "name", g_variant_new_string (name));
          g_variant_builder_add (&row, "{sv}", "status", g_variant_new_string (status));
          add_extra (&row, extra, fixed);
          g_variant_builder_add_value (&out, g_variant_builder_end (&row));
        }
      else
        {
          gboolean interruptible = FALSE;
          g_autofree char *skills = skills_text (extra);

          g_variant_lookup (extra, "interruptible", "b", &interruptible);
          ea_cli_table_add (table, address, name, status, interruptible ? mark : "",
                            skills, NULL);
        }
      g_variant_unref (extra);
    }

  if (json)
    ea_cli_print_json (g_variant_builder_end (&out));
  else
    {
      g_variant_builder_clear (&out);
      print_table (table);
    }
  return EA_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* offers, accept, decline                                             */
/* ------------------------------------------------------------------ */

static GVariant *
offer_to_variant (EaExpertAssistOffer *offer, const char *path)
{
  GVariantBuilder b;
  GVariant *query = ea_expert_assist_offer_get_query (offer);
  const char *const *masked = ea_expert_assist_offer_get_masked (offer);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
#define ADD_STRING(key, value) \
  g_variant_builder_add (&b, "{sv}", key, g_variant_new_string ((value) != NULL ? (value) : ""))
  ADD_STRING ("id", ea_expert_assist_offer_get_id (offer));
  g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
  ADD_STRING ("from", ea_expert_assist_offer_get_from (offer));
  ADD_STRING ("from-name", ea_expert_assist_offer_get_from_name (offer));
  ADD_STRING ("group", ea_expert_assist_offer_get_group (offer));
  ADD_STRING ("summary", ea_expert_assist_offer_get_summary (offer));
  ADD_STRING ("state", ea_expert_assist_offer_get_state (offer));
  ADD_STRING ("reason", ea_expert_assist_offer_get_reason (offer));
  ADD_STRING ("taken-by", ea_expert_assist_offer_get_taken_by (offer));
#undef ADD_STRING
  g_variant_builder_add (&b, "{sv}", "expires",
                         g_variant_new_int64 (ea_expert_assist_offer_get_expires (offer)));
  g_variant_builder_add (&b, "{sv}", "query",
                         query != NULL ? query : g_variant_new ("a{sv}", NULL));
  g_variant_builder_add (&b, "{sv}", "masked",
                         g_variant_new_strv (masked, masked != NULL ? -1 : 0));
  return g_variant_builder_end (&b);
}

static int
compare_expires (gconstpointer a, gconstpointer b)
{
  gint64 ea = ea_expert_assist_offer_get_expires (ea_object_peek_expert_assist_offer (
                                                    *(EaObject * const *) a));
  gint64 eb = ea_expert_assist_offer_get_expires (ea_object_peek_expert_assist_offer (
                                                    *(EaObject * const *) b));

  return ea < eb ? -1 : ea > eb ? 1 : 0;
}

int
ea_cli_offers (EaCli *cli, int argc, char **argv)
{
  gboolean json = FALSE, all = FALSE;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all,
      N_("Also list offers that are no longer pending"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GPtrArray) offers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(EaCliTable) table = ea_cli_table_new (6);
  GVariantBuilder out;
  GList *objects;
  gint64 now = g_get_real_time ();
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, "",
                             _("Lists the requests offered to you that you can still accept, "
                               "soonest to expire first:\nid, who asks, group, time left, "
                               "summary. “accept ID” and “decline ID” take the id or its "
                               "first characters."),
                             NULL, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return ea_cli_usage (cli, _("Too many arguments"));
  if ((code = ea_cli_connect_manager (cli)) != EA_CLI_EXIT_OK)
    return code;

  objects = g_dbus_object_manager_get_objects (cli->manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      EaExpertAssistOffer *offer = ea_object_peek_expert_assist_offer (l->data);

      if (offer == NULL)
        continue;
      if (!all && g_strcmp0 (ea_expert_assist_offer_get_state (offer), "pending") != 0)
        continue;
      g_ptr_array_add (offers, g_object_ref (l->data));
    }
  g_list_free_full (objects, g_object_unref);
  g_ptr_array_sort (offers, compare_expires);

  g_variant_builder_init (&out, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < offers->len; i++)
    {
      EaObject *object = g_ptr_array_index (offers, i);
      EaExpertAssistOffer *offer = ea_object_peek_expert_assist_offer (object);
      const char *path = g_dbus_object_get_object_path (G_DBUS_OBJECT (object));

      if (json)
        g_variant_builder_add_value (&out, offer_to_variant (offer, path));
      else
        {
          const char *from = ea_expert_assist_offer_get_from (offer);
          const char *from_name = ea_expert_assist_offer_get_from_name (offer);
          gint64 left = (ea_expert_assist_offer_get_expires (offer) - now) / G_USEC_PER_SEC;
          g_autofree char *who = NULL;
          g_autofree char *left_text = NULL;

          if (from_name != NULL && *from_name != '\0' && g_strcmp0 (from_name, from) != 0)
            who = g_strdup_printf ("%s <%s>", from_name, from);
          else
            who = g_strdup (from);
          if (g_strcmp0 (ea_expert_assist_offer_get_state (offer), "pending") != 0)
            left_text = g_strdup (ea_expert_assist_offer_get_state (offer));
          else if (left > 0)
            left_text = g_strdup_printf (_("%d s left"), (int) left);
          else
            left_text = g_strdup (_("expiring"));
          ea_cli_table_add (table, ea_expert_assist_offer_get_id (offer), who,
                            ea_expert_assist_offer_get_group (offer), left_text,
                            ea_expert_assist_offer_get_summary (offer), NULL);
        }
    }

  if (json)
    ea_cli_print_json (g_variant_builder_end (&out));
  else
    {
      g_variant_builder_clear (&out);
      if (offers->len == 0)
        g_printerr (_("No offers.\n"));
      print_table (table);
    }
  return EA_CLI_EXIT_OK;
}

int
ea_cli_accept (EaCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(EaObject) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *session = NULL;
  EaExpertAssistOffer *offer;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("ID"),
                             _("Takes the offered request ID (the id from “offers”, or its "
                               "first characters)\nand prints the session to chat in. Waits "
                               "until the asking daemon has decided, at most 15 s."),
                             _("Exit status 10 means another expert took it first; 7 that "
                               "the offer expired or was cancelled."),
                             &argc, &argv, &code))
    return code;
  if (argc != 2)
    return ea_cli_usage (cli, argc < 2 ? _("No offer given") : _("Too many arguments"));
  if ((code = ea_cli_connect_manager (cli)) != EA_CLI_EXIT_OK)
    return code;
  object = ea_cli_find_object (cli, "offer", argv[1], &code);
  if (object == NULL)
    return code;
  offer = ea_object_peek_expert_assist_offer (object);
  /* Accept waits for the agent's daemon (at most 15 s): leave room. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (offer), 30000);
  if (!ea_expert_assist_offer_call_accept_sync (offer, &session, NULL, &error))
    return ea_cli_fail (cli, error);

  if (json)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "offer",
                             g_variant_new_string (ea_expert_assist_offer_get_id (offer)));
      g_variant_builder_add (&b, "{sv}", "session",
                             g_variant_new_string (ea_cli_path_id (session)));
      g_variant_builder_add (&b, "{sv}", "session-path", g_variant_new_object_path (session));
      ea_cli_print_json (g_variant_builder_end (&b));
    }
  else
    g_print (_("Accepted. Session %s: chat with “%s chat %s”.\n"),
             ea_cli_path_id (session), EA_CLI_PROGRAM, ea_cli_path_id (session));
  return EA_CLI_EXIT_OK;
}

int
ea_cli_decline (EaCli *cli, int argc, char **argv)
{
  g_autoptr(EaObject) object = NULL;
  g_autoptr(GError) error = NULL;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, NULL, _("ID [REASON]"),
                             _("Declines the offered request ID, telling the agent REASON "
                               "(e.g. “busy”)."),
                             NULL, &argc, &argv, &code))
    return code;
  if (argc < 2 || argc > 3)
    return ea_cli_usage (cli, argc < 2 ? _("No offer given") : _("Too many arguments"));
  if ((code = ea_cli_connect_manager (cli)) != EA_CLI_EXIT_OK)
    return code;
  object = ea_cli_find_object (cli, "offer", argv[1], &code);
  if (object == NULL)
    return code;
  if (!ea_expert_assist_offer_call_decline_sync (ea_object_peek_expert_assist_offer (object),
                                                 argc == 3 ? argv[2] : "", NULL, &error))
    return ea_cli_fail (cli, error);
  g_print (_("Declined.\n"));
  return EA_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* transcript                                                          */
/* ------------------------------------------------------------------ */

static void
print_messages (GVariant *messages)
{
  GVariantIter iter;
  const char *id, *sender, *text;
  gint64 time;

  g_variant_iter_init (&iter, messages);
  while (g_variant_iter_next (&iter, "(&sx&s&s)", &id, &time, &sender, &text))
    {
      g_autofree char *when = ea_cli_format_time (time, NULL, "%Y-%m-%d %H:%M:%S");
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

      g_print ("[%s] %s: %s\n", when, sender, lines[0]);
      for (guint i = 1; lines[i] != NULL; i++)
        g_print ("    %s\n", lines[i]);
    }
}

int
ea_cli_transcript (EaCli *cli, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("SESSION"),
                             _("Prints a past session from the log (GetTranscript): who, "
                               "when, and every message."),
                             NULL, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return ea_cli_usage (cli, argc < 2 ? _("No session given") : _("Too many arguments"));
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;
  if (!ea_expert_assist_call_get_transcript_sync (cli->root, argv[1], &info, &messages,
                                                  NULL, &error))
    return ea_cli_fail (cli, error);

  if (json)
    {
      GVariantBuilder b, list;
      GVariantIter iter;
      const char *id, *sender, *text;
      gint64 time;

      g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
      g_variant_iter_init (&iter, messages);
      while (g_variant_iter_next (&iter, "(&sx&s&s)", &id, &time, &sender, &text))
        {
          GVariantBuilder m;

          g_variant_builder_init (&m, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&m, "{sv}", "id", g_variant_new_string (id));
          g_variant_builder_add (&m, "{sv}", "time", g_variant_new_int64 (time));
          g_variant_builder_add (&m, "{sv}", "sender", g_variant_new_string (sender));
          g_variant_builder_add (&m, "{sv}", "text", g_variant_new_string (text));
          g_variant_builder_add_value (&list, g_variant_builder_end (&m));
        }
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "info", info);
      g_variant_builder_add (&b, "{sv}", "messages", g_variant_builder_end (&list));
      ea_cli_print_json (g_variant_builder_end (&b));
    }
  else
    {
      g_autofree const char **peers = NULL;
      const char *summary = "", *group = "";
      gint64 started = 0;
      g_autofree char *when = NULL;
      g_autofree char *who = NULL;

      g_variant_lookup (info, "summary", "&s", &summary);
      g_variant_lookup (info, "group", "&s", &group);
      g_variant_lookup (info, "started", "x", &started);
      g_variant_lookup (info, "peers", "^a&s", &peers);
      when = ea_cli_format_time (started, NULL, "%Y-%m-%d %H:%M");
      who = join_strv (peers, ", ");
      g_print (_("%s, %s, with %s: %s\n"), when, group, who, summary);
      print_messages (messages);
    }
  return EA_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* search, similar                                                     */
/* ------------------------------------------------------------------ */

int
ea_cli_search (EaCli *cli, int argc, char **argv)
{
  g_autofree char *since_text = NULL, *until_text = NULL, *group = NULL, *peer = NULL;
  int limit = -1;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "since", 0, 0, G_OPTION_ARG_STRING, &since_text,
      N_("Only from this time on (YYYY-MM-DD, ISO 8601, or 24h, 7d... back from now)"),
      N_("TIME") },
    { "until", 0, 0, G_OPTION_ARG_STRING, &until_text, N_("Only before this time"),
      N_("TIME") },
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group, N_("Only this group"), N_("GROUP") },
    { "peer", 'p', 0, G_OPTION_ARG_STRING, &peer, N_("Only chats with this address"),
      N_("ADDRESS") },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_("At most N hits"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GVariant) hits = NULL;
  g_autoptr(GError) error = NULL;
  GVariantDict filter;
  gint64 since = 0, until = 0;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("TEXT"),
                             _("Searches the log of chats and request summaries. TEXT is "
                               "full-text query syntax (FTS5):\nwords, \"a phrase\", "
                               "prefix*, OR, NOT."),
                             NULL, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return ea_cli_usage (cli, argc < 2 ? _("No search text given") : _("Too many arguments"));
  if (!ea_cli_parse_time_option (cli, "--since", since_text, &since, &code) ||
      !ea_cli_parse_time_option (cli, "--until", until_text, &until, &code))
    return code;
  if (limit < -1)
    return ea_cli_usage (cli, _("--limit must be a positive number"));
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;

  g_variant_dict_init (&filter, NULL);
  if (since_text != NULL)
    g_variant_dict_insert (&filter, "since", "x", since);
  if (until_text != NULL)
    g_variant_dict_insert (&filter, "until", "x", until);
  if (group != NULL)
    g_variant_dict_insert (&filter, "group", "s", group);
  if (peer != NULL)
    g_variant_dict_insert (&filter, "peer", "s", peer);
  if (limit >= 0)
    g_variant_dict_insert (&filter, "limit", "u", (guint32) limit);
  if (!ea_expert_assist_call_search_log_sync (cli->root, argv[1], g_variant_dict_end (&filter),
                                              &hits, NULL, &error))
    return ea_cli_fail (cli, error);

  if (json)
    ea_cli_print_json (hits);
  else
    {
      g_autoptr(EaCliTable) table = ea_cli_table_new (5);
      GVariantIter iter;
      GVariant *hit;

      g_variant_iter_init (&iter, hits);
      while ((hit = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *session = "", *request = "", *sender = "", *hit_group = "";
          const char *snippet = "";
          gint64 time = 0;
          g_autofree char *when = NULL;
          g_autofree char *text = NULL;
          g_autofree char *where = NULL;

          g_variant_lookup (hit, "session", "&s", &session);
          g_variant_lookup (hit, "request", "&s", &request);
          g_variant_lookup (hit, "sender", "&s", &sender);
          g_variant_lookup (hit, "group", "&s", &hit_group);
          g_variant_lookup (hit, "snippet", "&s", &snippet);
          g_variant_lookup (hit, "time", "x", &time);
          when = ea_cli_format_time (time, NULL, "%Y-%m-%d %H:%M");
          text = ea_cli_snippet_to_text (snippet);
          if (*session != '\0')
            where = g_strdup_printf (_("session %s"), session);
          else
            where = g_strdup_printf (_("request %s"), request);
          ea_cli_table_add (table, when, sender, hit_group, text, where, NULL);
          g_variant_unref (hit);
        }
      if (ea_cli_table_n_rows (table) == 0)
        g_printerr (_("Nothing found.\n"));
      print_table (table);
    }
  return EA_CLI_EXIT_OK;
}

int
ea_cli_similar (EaCli *cli, int argc, char **argv)
{
  int limit = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_("At most N requests"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GVariant) rows = NULL;
  g_autoptr(GError) error = NULL;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("SUMMARY"),
                             _("Shows past requests like SUMMARY and what the experts "
                               "answered, best match first."),
                             NULL, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return ea_cli_usage (cli, argc < 2 ? _("No summary given") : _("Too many arguments"));
  if (limit < 0)
    return ea_cli_usage (cli, _("--limit must be a positive number"));
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;
  if (!ea_expert_assist_call_find_similar_sync (cli->root, argv[1], (guint) limit, &rows,
                                                NULL, &error))
    return ea_cli_fail (cli, error);

  if (json)
    ea_cli_print_json (rows);
  else
    {
      GVariantIter iter;
      GVariant *row;
      gboolean any = FALSE;

      g_variant_iter_init (&iter, rows);
      while ((row = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *summary = "", *group = "", *expert = "";
          g_autofree const char **answer = NULL;
          gint64 time = 0;
          g_autofree char *when = NULL;

          g_variant_lookup (row, "summary", "&s", &summary);
          g_variant_lookup (row, "group", "&s", &group);
          g_variant_lookup (row, "expert", "&s", &expert);
          g_variant_lookup (row, "time", "x", &time);
          g_variant_lookup (row, "answer", "^a&s", &answer);
          when = ea_cli_format_time (time, NULL, "%Y-%m-%d %H:%M");
          g_print ("%s  %s  %s  %s\n", when, group, expert, summary);
          for (guint i = 0; answer != NULL && answer[i] != NULL; i++)
            {
              g_autofree char *line = ea_cli_one_line (answer[i]);

              g_print ("    %s\n", line);
            }
          any = TRUE;
          g_variant_unref (row);
        }
      if (!any)
        g_printerr (_("Nothing similar found.\n"));
    }
  return EA_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* stats, report                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
  char *since_text;
  char *until_text;
  char *group;
  char *expert;
  char *role;
  int target;
  gint64 since;
  gint64 until;
} StatsOptions;

static void
stats_options_clear (StatsOptions *o)
{
  g_free (o->since_text);
  g_free (o->until_text);
  g_free (o->group);
  g_free (o->expert);
  g_free (o->role);
}

#define STATS_ENTRIES(o) \
  { "since", 0, 0, G_OPTION_ARG_STRING, &(o).since_text, \
    N_("From this time on (YYYY-MM-DD, ISO 8601, or 24h, 7d... back from now)"), \
    N_("TIME") }, \
  { "until", 0, 0, G_OPTION_ARG_STRING, &(o).until_text, N_("Before this time"), N_("TIME") }, \
  { "group", 'g', 0, G_OPTION_ARG_STRING, &(o).group, N_("Only this group"), N_("GROUP") }, \
  { "expert", 'e', 0, G_OPTION_ARG_STRING, &(o).expert, N_("Only this expert"), \
    N_("ADDRESS") }, \
  { "role", 'r', 0, G_OPTION_ARG_STRING, &(o).role, \
    N_("Your requests as agent (default) or the offers you got as expert"), \
    N_("agent|expert") }, \
  { "target", 't', 0, G_OPTION_ARG_INT, &(o).target, \
    N_("The service-level target in seconds (default 20)"), N_("SECONDS") }

/* Checks the options and asks GetStatistics; returns NULL with *code set
 * on failure. */
static GVariant *
get_statistics (EaCli *cli, StatsOptions *o, int *code)
{
  g_autoptr(GError) error = NULL;
  GVariant *stats = NULL;
  GVariantDict filter;

  if (!ea_cli_parse_time_option (cli, "--since", o->since_text, &o->since, code) ||
      !ea_cli_parse_time_option (cli, "--until", o->until_text, &o->until, code))
    return NULL;
  if (o->role != NULL && strcmp (o->role, "agent") != 0 && strcmp (o->role, "expert") != 0)
    {
      *code = ea_cli_usage (cli, _("--role is “agent” or “expert”, not “%s”"), o->role);
      return NULL;
    }
  if (o->target < -1)
    {
      *code = ea_cli_usage (cli, _("--target must be a positive number of seconds"));
      return NULL;
    }
  if ((*code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return NULL;

  g_variant_dict_init (&filter, NULL);
  if (o->since_text != NULL)
    g_variant_dict_insert (&filter, "since", "x", o->since);
  if (o->until_text != NULL)
    g_variant_dict_insert (&filter, "until", "x", o->until);
  if (o->group != NULL)
    g_variant_dict_insert (&filter, "group", "s", o->group);
  if (o->expert != NULL)
    g_variant_dict_insert (&filter, "expert", "s", o->expert);
  if (o->role != NULL)
    g_variant_dict_insert (&filter, "role", "s", o->role);
  if (o->target >= 0)
    g_variant_dict_insert (&filter, "service-level-target", "u", (guint32) o->target);
  if (!ea_expert_assist_call_get_statistics_sync (cli->root, g_variant_dict_end (&filter),
                                                  &stats, NULL, &error))
    {
      *code = ea_cli_fail (cli, error);
      return NULL;
    }
  return stats;
}

static void
report_info_init (EaCliReportInfo *info, StatsOptions *o)
{
  info->since = o->since_text != NULL ? o->since : 0;
  info->until = o->until_text != NULL ? o->until : 0;
  info->generated = g_get_real_time ();
  info->group = o->group;
  info->expert = o->expert;
  info->role = o->role != NULL ? o->role : "agent";
  info->tz = NULL;
}

int
ea_cli_stats (EaCli *cli, int argc, char **argv)
{
  StatsOptions o = { .target = -1 };
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    STATS_ENTRIES (o),
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print GetStatistics' result as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GVariant) stats = NULL;
  EaCliReportInfo info;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, "",
                             _("Shows the statistics of the log: requests and how they ended, "
                               "time to answer\n(average, median, 90th percentile), service "
                               "level, queue wait, handle time,\noffers and their outcomes; "
                               "then per group and per expert."),
                             NULL, &argc, &argv, &code))
    {
      stats_options_clear (&o);
      return code;
    }
  if (argc > 1)
    {
      stats_options_clear (&o);
      return ea_cli_usage (cli, _("Too many arguments"));
    }
  stats = get_statistics (cli, &o, &code);
  if (stats == NULL)
    {
      stats_options_clear (&o);
      return code;
    }
  if (json)
    ea_cli_print_json (stats);
  else
    {
      g_autofree char *text = NULL;

      report_info_init (&info, &o);
      text = ea_cli_stats_text (stats, &info);
      g_print ("%s", text);
    }
  stats_options_clear (&o);
  return EA_CLI_EXIT_OK;
}

int
ea_cli_report (EaCli *cli, int argc, char **argv)
{
  StatsOptions o = { .target = -1 };
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      N_("html or csv (default: from the file name)"), N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("The file to write; - for standard output"), N_("FILE") },
    STATS_ENTRIES (o),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  EaCliReportInfo info;
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, "",
                             _("Writes the statistics as one self-contained HTML file (figures, "
                               "charts of the\nanswers per hour and of the time to answer, "
                               "tables per group and per expert)\nor as CSV."),
                             _("The CSV file (RFC 4180) has one header and a “section” column: "
                               "one “total” row,\n“hour” rows (start, requests, answered, "
                               "offers), “time-to-answer” rows (upto in\nseconds, empty above "
                               "the last bound; count), “group” rows (id) and “expert”\nrows "
                               "(address) with the figures of GetStatistics."),
                             &argc, &argv, &code))
    goto out;
  if (argc > 1)
    {
      code = ea_cli_usage (cli, _("Too many arguments"));
      goto out;
    }
  if (output == NULL)
    {
      code = ea_cli_usage (cli, _("No --output file given"));
      goto out;
    }
  if (format == NULL)
    {
      if (g_str_has_suffix (output, ".csv"))
        format = g_strdup ("csv");
      else if (g_str_has_suffix (output, ".html") || g_str_has_suffix (output, ".htm"))
        format = g_strdup ("html");
      else
        {
          code = ea_cli_usage (cli, _("No --format given (html or csv)"));
          goto out;
        }
    }
  if (strcmp (format, "html") != 0 && strcmp (format, "csv") != 0)
    {
      code = ea_cli_usage (cli, _("--format is “html” or “csv”, not “%s”"), format);
      goto out;
    }

  stats = get_statistics (cli, &o, &code);
  if (stats == NULL)
    goto out;
  report_info_init (&info, &o);
  if (strcmp (format, "html") == 0)
    text = ea_cli_report_html (stats, &info);
  else
    text = ea_cli_report_csv (stats, &info);

  if (strcmp (output, "-") == 0)
    ea_cli_print_raw (text);
  else if (!g_file_set_contents (output, text, -1, &error))
    {
      code = ea_cli_fail (cli, error);
      goto out;
    }
  code = EA_CLI_EXIT_OK;

out:
  stats_options_clear (&o);
  return code;
}
