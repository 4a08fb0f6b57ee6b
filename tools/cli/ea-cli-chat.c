/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * expert-assist chat SESSION: a line-based chat. Each line read from
 * standard input is sent (one at a time, so they arrive in order); the
 * messages of the others are printed as they arrive with their time and
 * sender. Ends on end of input (the session stays open), on "/close"
 * (which closes it), or when the session is closed.
 */
#define G_LOG_DOMAIN "ea-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gi18n-lib.h>

#include "ea-cli-private.h"

typedef struct {
  EaCli *cli;
  EaExpertAssistSession *session;
  GDataInputStream *input;
  GCancellable *cancellable;
  GHashTable *printed;   /* message ids already shown */
  GHashTable *sent;      /* ids of the messages sent from here */
  char *own;             /* this user's address */
  guint sending;         /* Send calls in flight */
  gboolean closing;
} Chat;

static void read_next (Chat *chat);

static void
print_message (Chat *chat, const char *id, gint64 time, const char *sender, const char *text)
{
  g_autofree char *when = NULL;
  g_auto(GStrv) lines = NULL;

  if (id != NULL && *id != '\0')
    {
      if (g_hash_table_contains (chat->printed, id))
        return;
      g_hash_table_add (chat->printed, g_strdup (id));
    }
  when = ea_cli_format_time (time != 0 ? time : g_get_real_time (), NULL, "%H:%M:%S");
  lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  g_print ("[%s] %s: %s\n", when, sender, lines[0] != NULL ? lines[0] : "");
  for (guint i = 1; lines[i] != NULL; i++)
    g_print ("    %s\n", lines[i]);
  fflush (stdout);
}

static void
message_received_cb (EaExpertAssistSession *session, const char *id, gint64 time,
                     const char *sender, const char *text, gpointer data)
{
  Chat *chat = data;

  /* What we typed is on the screen already. A message from our own
   * address while a Send is in flight is that Send's (its id comes with
   * the reply, which may arrive after this signal). */
  if (g_hash_table_contains (chat->sent, id))
    return;
  if (chat->own != NULL && g_ascii_strcasecmp (sender, chat->own) == 0 && chat->sending > 0)
    {
      g_hash_table_add (chat->sent, g_strdup (id));
      return;
    }
  print_message (chat, id, time, sender, text);
}

static void
state_cb (GObject *object, GParamSpec *pspec, gpointer data)
{
  Chat *chat = data;

  if (g_strcmp0 (ea_expert_assist_session_get_state (chat->session), "closed") == 0)
    {
      if (!chat->closing)
        g_printerr (_("The session was closed.\n"));
      ea_cli_quit (chat->cli, EA_CLI_EXIT_OK);
    }
}

static void
closed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Chat *chat = data;
  g_autoptr(GError) error = NULL;

  if (!ea_expert_assist_session_call_close_finish (EA_EXPERT_ASSIST_SESSION (source), result,
                                                   &error))
    {
      ea_cli_quit (chat->cli, ea_cli_fail (chat->cli, error));
      return;
    }
  g_printerr (_("You closed the session.\n"));
  ea_cli_quit (chat->cli, EA_CLI_EXIT_OK);
}

static void
sent_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Chat *chat = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  chat->sending--;
  if (!ea_expert_assist_session_call_send_finish (EA_EXPERT_ASSIST_SESSION (source), &id,
                                                  result, &error))
    {
      int code = ea_cli_fail (chat->cli, error);

      /* Not connected: the line is lost, but the chat goes on (the
       * daemon reconnects by itself). Anything else ends it. */
      if (code != EA_CLI_EXIT_NOT_CONNECTED)
        {
          ea_cli_quit (chat->cli, code);
          return;
        }
    }
  else
    g_hash_table_add (chat->sent, g_steal_pointer (&id));
  read_next (chat);
}

static void
line_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Chat *chat = data;
  g_autoptr(GError) error = NULL;
  gsize length = 0;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, &length, &error);

  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Not UTF-8, or unreadable: say so and stop reading. */
      ea_cli_quit (chat->cli, ea_cli_fail_code (chat->cli, EA_CLI_EXIT_USAGE,
                                                _("Cannot read standard input: %s"),
                                                error->message));
      return;
    }
  if (line == NULL)
    {
      /* End of input: leave, the session stays open. */
      ea_cli_quit (chat->cli, EA_CLI_EXIT_OK);
      return;
    }
  if (length > 0 && line[length - 1] == '\r')
    line[--length] = '\0';

  if (strcmp (line, "/close") == 0)
    {
      chat->closing = TRUE;
      ea_expert_assist_session_call_close (chat->session, NULL, closed_cb, chat);
      return;
    }
  if (strcmp (line, "/quit") == 0)
    {
      ea_cli_quit (chat->cli, EA_CLI_EXIT_OK);
      return;
    }
  if (*line == '\0')
    {
      read_next (chat);
      return;
    }

  chat->sending++;
  /* "//text" sends "/text". */
  ea_expert_assist_session_call_send (chat->session,
                                      g_str_has_prefix (line, "//") ? line + 1 : line,
                                      NULL, sent_cb, chat);
}

static void
read_next (Chat *chat)
{
  g_data_input_stream_read_line_async (chat->input, G_PRIORITY_DEFAULT, chat->cancellable,
                                       line_cb, chat);
}

int
ea_cli_chat (EaCli *cli, int argc, char **argv)
{
  int history = 20;
  const GOptionEntry entries[] = {
    { "history", 'H', 0, G_OPTION_ARG_INT, &history,
      N_("Print the last N messages first (default 20)"), N_("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(EaObject) object = NULL;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  g_autofree char *who = NULL;
  Chat chat = { 0 };
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("SESSION"),
                             _("Chats in SESSION (its id, or the first characters of it). Each "
                               "line of standard\ninput is sent; messages from the others are "
                               "printed as they arrive, with\ntime and sender. “/close” closes "
                               "the session, “/quit” or end of input\nleaves it open; “//text” "
                               "sends “/text”. Ends when the session is closed."),
                             NULL, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return ea_cli_usage (cli, argc < 2 ? _("No session given") : _("Too many arguments"));
  if (history < 0)
    return ea_cli_usage (cli, _("--history must be a positive number"));
  if ((code = ea_cli_connect_manager (cli)) != EA_CLI_EXIT_OK)
    return code;
  object = ea_cli_find_object (cli, "session", argv[1], &code);
  if (object == NULL)
    return code;

  chat.cli = cli;
  chat.session = ea_object_get_expert_assist_session (object);
  chat.printed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  chat.sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  chat.own = g_strdup (ea_expert_assist_get_account (cli->root));
  chat.cancellable = g_cancellable_new ();
  cli->loop = g_main_loop_new (NULL, FALSE);
  cli->exit_code = EA_CLI_EXIT_OK;

  /* Subscribed before the history is fetched, so nothing falls between
   * the two; the ids keep a message from being printed twice. */
  g_signal_connect (chat.session, "message-received", G_CALLBACK (message_received_cb), &chat);
  g_signal_connect (chat.session, "notify::state", G_CALLBACK (state_cb), &chat);
  ea_cli_watch_daemon (cli);

  {
    const char *const *participants = ea_expert_assist_session_get_participants (chat.session);
    g_autoptr(GPtrArray) others = g_ptr_array_new ();

    for (guint i = 0; participants != NULL && participants[i] != NULL; i++)
      if (chat.own == NULL || g_ascii_strcasecmp (participants[i], chat.own) != 0)
        g_ptr_array_add (others, (gpointer) participants[i]);
    g_ptr_array_add (others, NULL);
    who = g_strjoinv (", ", (char **) others->pdata);
  }
  if (isatty (STDIN_FILENO))
    g_printerr (_("Chat with %s (session %s). Type a line to send it; /close ends the session, "
                  "Ctrl-D leaves it open.\n"),
                *who != '\0' ? who : _("nobody yet"),
                ea_expert_assist_session_get_id (chat.session));

  if (history > 0)
    {
      g_autoptr(GError) error = NULL;

      if (!ea_expert_assist_session_call_get_messages_sync (chat.session, (guint) history,
                                                            &messages, NULL, &error))
        {
          code = ea_cli_fail (cli, error);
          goto out;
        }
      else
        {
          GVariantIter iter;
          const char *id, *sender, *text;
          gint64 time;

          g_variant_iter_init (&iter, messages);
          while (g_variant_iter_next (&iter, "(&sx&s&s)", &id, &time, &sender, &text))
            print_message (&chat, id, time, sender, text);
        }
    }

  if (g_strcmp0 (ea_expert_assist_session_get_state (chat.session), "closed") == 0)
    {
      g_printerr (_("The session is closed.\n"));
      code = EA_CLI_EXIT_OK;
      goto out;
    }

  stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  chat.input = g_data_input_stream_new (stdin_stream);
  read_next (&chat);
  g_main_loop_run (cli->loop);
  code = cli->exit_code;

out:
  g_cancellable_cancel (chat.cancellable);
  g_signal_handlers_disconnect_by_data (chat.session, &chat);
  /* Let a cancelled read finish before its data goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&chat.input);
  g_clear_object (&chat.cancellable);
  g_clear_object (&chat.session);
  g_hash_table_unref (chat.printed);
  g_hash_table_unref (chat.sent);
  g_free (chat.own);
  return code;
}
