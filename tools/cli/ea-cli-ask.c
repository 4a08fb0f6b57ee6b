/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * expert-assist ask: RequestHelp, and with --wait the request followed to
 * its end through its properties: state changes, who it was offered to,
 * who declined or let it expire, the queue position, then the session.
 * The exit status tells the outcome (0 connected, 7 failed, 8 expired,
 * 9 cancelled); Ctrl-C cancels the request.
 */
#define G_LOG_DOMAIN "ea-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gi18n-lib.h>

#include "ea-cli-private.h"

typedef struct {
  EaCli *cli;
  EaExpertAssistRequest *request;
  gboolean json;
  char *state;
  char *group;
  guint queue_position;
  char **offered;
  char **accepted;
  char **declined;
  char **expired;
  guint session_timeout_id;
  guint sigint_id;
  gboolean cancelling;
  gboolean finished;
} Ask;

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static void
progress (Ask *ask, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
progress (Ask *ask, const char *format, ...)
{
  g_autofree char *text = NULL;
  g_autofree char *when = ea_cli_format_time (g_get_real_time (), NULL, "%H:%M:%S");
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("%s  %s\n", when, text);
  fflush (stdout);
}

/* One JSON line: {"event": EVENT, "time": now, KEY: VALUE...}; takes the
 * floating VALUES of the a{sv} builder B. */
static void
event_json (const char *event, GVariantBuilder *b)
{
  GVariantBuilder line;
  g_autoptr(GVariant) rest = g_variant_ref_sink (g_variant_builder_end (b));
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&line, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&line, "{sv}", "event", g_variant_new_string (event));
  g_variant_builder_add (&line, "{sv}", "time", g_variant_new_int64 (g_get_real_time ()));
  g_variant_iter_init (&iter, rest);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&line, "{sv}", key, value);
      g_variant_unref (value);
    }
  ea_cli_print_json (g_variant_builder_end (&line));
}

static const char *const *
strv_or_empty (const char *const *strv)
{
  static const char *const empty[] = { NULL };

  return strv != NULL ? strv : empty;
}

/* ------------------------------------------------------------------ */
/* Following the request                                               */
/* ------------------------------------------------------------------ */

/* Remembers NOW in *KNOWN; returns the addresses that are new, joined
 * for people (NULL when none). With --json the event is printed here. */
static char *
report_new (Ask *ask, const char *event, char ***known, const char *const *now)
{
  g_autoptr(GPtrArray) added = g_ptr_array_new ();
  char *who = NULL;

  now = strv_or_empty (now);
  for (guint i = 0; now[i] != NULL; i++)
    if (*known == NULL || !g_strv_contains ((const char *const *) *known, now[i]))
      g_ptr_array_add (added, (gpointer) now[i]);
  if (added->len > 0)
    {
      g_ptr_array_add (added, NULL);
      if (ask->json)
        {
          GVariantBuilder b;

          g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&b, "{sv}", "experts",
                                 g_variant_new_strv ((const char *const *) added->pdata, -1));
          event_json (event, &b);
        }
      else
        who = g_strjoinv (", ", (char **) added->pdata);
    }
  g_strfreev (*known);
  *known = g_strdupv ((char **) now);
  return who;
}

static void
report_state (Ask *ask, const char *state)
{
  const char *reason = ea_expert_assist_request_get_reason (ask->request);
  guint position = ea_expert_assist_request_get_queue_position (ask->request);

  reason = reason != NULL ? reason : "";
  if (ask->json)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "state", g_variant_new_string (state));
      g_variant_builder_add (&b, "{sv}", "reason", g_variant_new_string (reason));
      g_variant_builder_add (&b, "{sv}", "queue-position", g_variant_new_uint32 (position));
      event_json ("state", &b);
    }
  else if (strcmp (state, "queued") == 0 && position > 0)
    progress (ask, _("queued: nobody can take it now (position %u in the queue)"), position);
  else if (strcmp (state, "queued") == 0)
    progress (ask, _("queued: nobody can take it now"));
  else if (strcmp (state, "offering") == 0)
    progress (ask, _("offering"));
  else if (*reason != '\0')
    progress (ask, "%s (%s)", state, reason);
  else
    progress (ask, "%s", state);
}

static int
outcome_code (const char *state, const char *reason, const char *session)
{
  if (g_strcmp0 (state, "connected") == 0)
    return EA_CLI_EXIT_OK;
  if (g_strcmp0 (state, "cancelled") == 0)
    return EA_CLI_EXIT_CANCELLED;
  if (g_strcmp0 (state, "closed") == 0)
    return session != NULL && strcmp (session, "/") != 0 ? EA_CLI_EXIT_OK : EA_CLI_EXIT_FAILED;
  if (g_strcmp0 (reason, "expired") == 0)
    return EA_CLI_EXIT_EXPIRED;
  return EA_CLI_EXIT_FAILED;
}

static const char *
outcome_name (int code)
{
  switch (code)
    {
    case EA_CLI_EXIT_OK:
      return "connected";
    case EA_CLI_EXIT_EXPIRED:
      return "expired";
    case EA_CLI_EXIT_CANCELLED:
      return "cancelled";
    default:
      return "failed";
    }
}

static void
finish (Ask *ask)
{
  EaExpertAssistRequest *r = ask->request;
  const char *state = ea_expert_assist_request_get_state (r);
  const char *reason = ea_expert_assist_request_get_reason (r);
  const char *session = ea_expert_assist_request_get_session (r);
  g_auto(GStrv) participants = NULL;
  int code = outcome_code (state, reason, session);

  if (ask->finished)
    return;
  ask->finished = TRUE;
  g_clear_handle_id (&ask->session_timeout_id, g_source_remove);
  reason = reason != NULL ? reason : "";

  if (session != NULL && strcmp (session, "/") != 0)
    {
      g_autoptr(EaExpertAssistSession) s = NULL;

      s = ea_expert_assist_session_proxy_new_sync (ask->cli->bus, G_DBUS_PROXY_FLAGS_NONE,
                                                   EA_CLI_BUS_NAME, session, NULL, NULL);
      if (s != NULL)
        participants = ea_expert_assist_session_dup_participants (s);
    }

  if (ask->json)
    {
      GVariantBuilder b;
      const char *none[] = { NULL };

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
#define ADD(key, value) g_variant_builder_add (&b, "{sv}", key, value)
      ADD ("request", g_variant_new_string (ea_expert_assist_request_get_id (r)));
      ADD ("path", g_variant_new_object_path (g_dbus_proxy_get_object_path (G_DBUS_PROXY (r))));
      ADD ("group", g_variant_new_string (ask->group != NULL ? ask->group : ""));
      ADD ("state", g_variant_new_string (state != NULL ? state : ""));
      ADD ("reason", g_variant_new_string (reason));
      ADD ("outcome", g_variant_new_string (outcome_name (code)));
      ADD ("session", g_variant_new_string (session != NULL && strcmp (session, "/") != 0
                                            ? ea_cli_path_id (session) : ""));
      ADD ("session-path", g_variant_new_object_path (session != NULL ? session : "/"));
      ADD ("participants", g_variant_new_strv (participants != NULL
                                               ? (const char *const *) participants : none, -1));
      ADD ("offered", g_variant_new_strv (strv_or_empty (ea_expert_assist_request_get_offered (r)), -1));
      ADD ("accepted", g_variant_new_strv (strv_or_empty (ea_expert_assist_request_get_accepted (r)), -1));
      ADD ("declined", g_variant_new_strv (strv_or_empty (ea_expert_assist_request_get_declined (r)), -1));
      ADD ("expired", g_variant_new_strv (strv_or_empty (ea_expert_assist_request_get_expired (r)), -1));
      ADD ("created", g_variant_new_int64 (ea_expert_assist_request_get_created (r)));
      ADD ("updated", g_variant_new_int64 (ea_expert_assist_request_get_updated (r)));
      ADD ("exit-status", g_variant_new_int32 (code));
#undef ADD
      event_json ("result", &b);
    }
  else if (code == EA_CLI_EXIT_OK)
    {
      g_autofree char *who = g_strjoinv (", ", (char **) strv_or_empty (
                                           ea_expert_assist_request_get_accepted (r)));
      const char *id = ea_cli_path_id (session);

      if (*who == '\0' && participants != NULL)
        {
          /* Accepted not known (yet): the others in the session. */
          const char *own = ea_expert_assist_get_account (ask->cli->root);
          g_autoptr(GPtrArray) others = g_ptr_array_new ();

          for (guint i = 0; participants[i] != NULL; i++)
            if (g_strcmp0 (participants[i], own) != 0)
              g_ptr_array_add (others, participants[i]);
          g_ptr_array_add (others, NULL);
          g_free (who);
          who = g_strjoinv (", ", (char **) others->pdata);
        }

      if (session == NULL || strcmp (session, "/") == 0)
        g_print (_("Connected with %s.\n"), who);
      else
        {
          g_autofree char *everyone = participants != NULL ? g_strjoinv (", ", participants)
                                                           : g_strdup (who);

          g_print (_("Connected with %s.\nSession %s (%s)\nChat with: %s chat %s\n"),
                   who, id, everyone, EA_CLI_PROGRAM, id);
        }
      if (g_strcmp0 (reason, "partial") == 0)
        g_print (_("Fewer experts than asked for accepted before the request expired.\n"));
    }
  else if (code == EA_CLI_EXIT_EXPIRED)
    g_printerr ("%s: %s\n", EA_CLI_PROGRAM, _("Nobody answered in time: the request expired."));
  else if (code == EA_CLI_EXIT_CANCELLED)
    g_printerr ("%s: %s\n", EA_CLI_PROGRAM, _("The request was cancelled."));
  else if (g_strcmp0 (reason, "no-experts") == 0)
    g_printerr ("%s: %s\n", EA_CLI_PROGRAM,
                _("The request failed: no expert can take it (no-experts)."));
  else if (g_strcmp0 (reason, "restarted") == 0)
    g_printerr ("%s: %s\n", EA_CLI_PROGRAM,
                _("The request failed: the daemon restarted (restarted)."));
  else
    g_printerr (_("%s: The request failed (%s).\n"), EA_CLI_PROGRAM,
                *reason != '\0' ? reason : state);
  fflush (stdout);
  ea_cli_quit (ask->cli, code);
}

static gboolean
session_timeout_cb (gpointer data)
{
  Ask *ask = data;

  ask->session_timeout_id = 0;
  finish (ask);
  return G_SOURCE_REMOVE;
}

static void
check (Ask *ask)
{
  EaExpertAssistRequest *r = ask->request;
  const char *state = ea_expert_assist_request_get_state (r);
  const char *group = ea_expert_assist_request_get_group (r);
  const char *session = ea_expert_assist_request_get_session (r);
  guint position = ea_expert_assist_request_get_queue_position (r);
  g_autofree char *who = NULL;

  if (ask->finished)
    return;
  state = state != NULL ? state : "";

  if (group != NULL && ask->group != NULL && strcmp (group, ask->group) != 0)
    {
      if (ask->json)
        {
          GVariantBuilder b;

          g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&b, "{sv}", "group", g_variant_new_string (group));
          event_json ("group", &b);
        }
      else
        progress (ask, _("moved to the fallback group %s"), group);
    }
  if (group != NULL)
    {
      g_free (ask->group);
      ask->group = g_strdup (group);
    }

  if ((who = report_new (ask, "offered", &ask->offered,
                         ea_expert_assist_request_get_offered (r))) != NULL)
    progress (ask, _("offered to %s"), who);
  g_clear_pointer (&who, g_free);
  if ((who = report_new (ask, "declined", &ask->declined,
                         ea_expert_assist_request_get_declined (r))) != NULL)
    progress (ask, _("declined by %s"), who);
  g_clear_pointer (&who, g_free);
  if ((who = report_new (ask, "expired", &ask->expired,
                         ea_expert_assist_request_get_expired (r))) != NULL)
    progress (ask, _("no answer from %s"), who);
  g_clear_pointer (&who, g_free);
  if ((who = report_new (ask, "accepted", &ask->accepted,
                         ea_expert_assist_request_get_accepted (r))) != NULL)
    progress (ask, _("accepted by %s"), who);

  if (g_strcmp0 (ask->state, state) != 0)
    {
      g_free (ask->state);
      ask->state = g_strdup (state);
      ask->queue_position = position;
      report_state (ask, state);
    }
  else if (strcmp (state, "queued") == 0 && position != ask->queue_position)
    {
      ask->queue_position = position;
      if (ask->json)
        {
          GVariantBuilder b;

          g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&b, "{sv}", "queue-position", g_variant_new_uint32 (position));
          event_json ("queue-position", &b);
        }
      else
        progress (ask, _("position %u in the queue"), position);
    }

  if (strcmp (state, "connected") == 0)
    {
      const char *const *accepted = ea_expert_assist_request_get_accepted (r);

      /* Session and Accepted may come in a later PropertiesChanged than
       * State: wait a little for them. */
      if (session != NULL && strcmp (session, "/") != 0 &&
          accepted != NULL && accepted[0] != NULL)
        finish (ask);
      else if (ask->session_timeout_id == 0)
        ask->session_timeout_id = g_timeout_add_seconds (3, session_timeout_cb, ask);
    }
  else if (strcmp (state, "failed") == 0 || strcmp (state, "cancelled") == 0 ||
           strcmp (state, "closed") == 0)
    finish (ask);
}

static void
properties_changed_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
  check (data);
}

static void
cancelled_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;

  /* A request that just ended cannot be cancelled; its state says how it
   * ended, so there is nothing to report here. */
  if (!ea_expert_assist_request_call_cancel_finish (EA_EXPERT_ASSIST_REQUEST (source), result,
                                                    &error))
    g_debug ("Cancel: %s", error->message);
}

static gboolean
sigint_cb (gpointer data)
{
  Ask *ask = data;

  if (ask->cancelling)
    {
      ea_cli_quit (ask->cli, EA_CLI_EXIT_CANCELLED);
      return G_SOURCE_CONTINUE;
    }
  ask->cancelling = TRUE;
  g_printerr (_("Cancelling the request (Ctrl-C again to leave at once)…\n"));
  ea_expert_assist_request_call_cancel (ask->request, NULL, cancelled_cb, ask);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

static gboolean
check_count (EaCli *cli, const char *option, int value, int *code)
{
  if (value < -1)
    {
      *code = ea_cli_usage (cli, _("%s must be a positive number"), option);
      return FALSE;
    }
  return TRUE;
}

int
ea_cli_ask (EaCli *cli, int argc, char **argv)
{
  g_autofree char *mode = NULL, *expert = NULL, *language = NULL, *channel = NULL;
  g_autofree char *customer = NULL, *reference = NULL, *details = NULL;
  g_auto(GStrv) skills = NULL;
  int experts = -1, offer_to = -1, level = -1, offer_timeout = -1, expire = -1;
  gboolean no_queue = FALSE, wait = FALSE, json = FALSE;
  const GOptionEntry entries[] = {
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
      N_("How to offer it: parallel, serial, progressive or room (default: the group's)"),
      N_("MODE") },
    { "experts", 'n', 0, G_OPTION_ARG_INT, &experts,
      N_("How many experts must accept (default 1)"), N_("N") },
    { "offer-to", 'k', 0, G_OPTION_ARG_INT, &offer_to,
      N_("Offer to the first K candidates at once (0: all)"), N_("K") },
    { "expert", 'e', 0, G_OPTION_ARG_STRING, &expert, N_("Ask this expert"), N_("ADDRESS") },
    { "skill", 's', 0, G_OPTION_ARG_STRING_ARRAY, &skills,
      N_("A skill the expert must have (repeatable)"), N_("SKILL") },
    { "language", 'l', 0, G_OPTION_ARG_STRING, &language,
      N_("A language the expert must speak"), N_("LANGUAGE") },
    { "level", 0, 0, G_OPTION_ARG_INT, &level, N_("At least this level (1 to 5)"), N_("N") },
    { "channel", 'c', 0, G_OPTION_ARG_STRING, &channel,
      N_("Where the customer is: email, phone, im or webchat"), N_("CHANNEL") },
    { "customer", 0, 0, G_OPTION_ARG_STRING, &customer, N_("Who the customer is"),
      N_("CUSTOMER") },
    { "reference", 'r', 0, G_OPTION_ARG_STRING, &reference,
      N_("A ticket or case reference"), N_("REFERENCE") },
    { "details", 'd', 0, G_OPTION_ARG_STRING, &details,
      N_("More about the question (up to 4 KiB)"), N_("TEXT") },
    { "offer-timeout", 0, 0, G_OPTION_ARG_INT, &offer_timeout,
      N_("Seconds each offer stays open"), N_("SECONDS") },
    { "expire", 0, 0, G_OPTION_ARG_INT, &expire,
      N_("Seconds the request may wait in all, queue included"), N_("SECONDS") },
    { "no-queue", 0, 0, G_OPTION_ARG_NONE, &no_queue,
      N_("Fail at once when nobody can be interrupted, instead of queueing"), NULL },
    { "wait", 'w', 0, G_OPTION_ARG_NONE, &wait,
      N_("Follow the request until it is connected, fails, expires or is cancelled"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print JSON (with --wait: one object per line, the last one the result)"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const char *group, *summary;
  GVariantDict query, options;
  Ask ask = { 0 };
  int code = EA_CLI_EXIT_OK;

  if (!ea_cli_parse_options (cli, entries, _("[GROUP] SUMMARY"),
                             _("Asks the experts of GROUP for help with SUMMARY (one line). "
                               "Without GROUP,\nasks by preferences (--skill, --language, "
                               "--level, --expert) across every\ngroup you may ask. Prints the "
                               "request id; with --wait, follows the request:\nstate changes, "
                               "who it was offered to, declines, queue position, then the\n"
                               "session to chat in. Ctrl-C cancels the request."),
                             _("With --wait the exit status is the outcome: 0 connected, "
                               "7 failed,\n8 expired, 9 cancelled."),
                             &argc, &argv, &code))
    return code;
  if (argc == 2)
    {
      group = "";
      summary = argv[1];
    }
  else if (argc == 3)
    {
      group = argv[1];
      summary = argv[2];
    }
  else
    return ea_cli_usage (cli, argc < 2 ? _("No summary given") : _("Too many arguments"));
  if (!check_count (cli, "--experts", experts, &code) ||
      !check_count (cli, "--offer-to", offer_to, &code) ||
      !check_count (cli, "--level", level, &code) ||
      !check_count (cli, "--offer-timeout", offer_timeout, &code) ||
      !check_count (cli, "--expire", expire, &code))
    return code;
  if ((code = ea_cli_connect (cli)) != EA_CLI_EXIT_OK)
    return code;

  g_variant_dict_init (&query, NULL);
  g_variant_dict_insert (&query, "summary", "s", summary);
  if (channel != NULL)
    g_variant_dict_insert (&query, "channel", "s", channel);
  if (customer != NULL)
    g_variant_dict_insert (&query, "customer", "s", customer);
  if (reference != NULL)
    g_variant_dict_insert (&query, "reference", "s", reference);
  if (details != NULL)
    g_variant_dict_insert (&query, "details", "s", details);

  g_variant_dict_init (&options, NULL);
  if (mode != NULL)
    g_variant_dict_insert (&options, "mode", "s", mode);
  if (experts >= 0)
    g_variant_dict_insert (&options, "experts", "u", (guint32) experts);
  if (offer_to >= 0)
    g_variant_dict_insert (&options, "offer-to", "u", (guint32) offer_to);
  if (offer_timeout >= 0)
    g_variant_dict_insert (&options, "offer-timeout", "u", (guint32) offer_timeout);
  if (expire >= 0)
    g_variant_dict_insert (&options, "expire", "u", (guint32) expire);
  if (expert != NULL)
    g_variant_dict_insert (&options, "expert", "s", expert);
  if (skills != NULL)
    g_variant_dict_insert_value (&options, "skills",
                                 g_variant_new_strv ((const char *const *) skills, -1));
  if (language != NULL)
    g_variant_dict_insert (&options, "language", "s", language);
  if (level >= 0)
    g_variant_dict_insert (&options, "level", "u", (guint32) level);
  if (no_queue)
    g_variant_dict_insert (&options, "queue", "b", FALSE);

  if (!ea_expert_assist_call_request_help_sync (cli->root, group,
                                                g_variant_dict_end (&query),
                                                g_variant_dict_end (&options),
                                                &path, NULL, &error))
    return ea_cli_fail (cli, error);

  if (!wait)
    {
      if (json)
        {
          GVariantBuilder b;

          g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&b, "{sv}", "request",
                                 g_variant_new_string (ea_cli_path_id (path)));
          g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path (path));
          ea_cli_print_json (g_variant_builder_end (&b));
        }
      else
        g_print ("%s\n", ea_cli_path_id (path));
      return EA_CLI_EXIT_OK;
    }

  ask.cli = cli;
  ask.json = json;
  ask.request = ea_expert_assist_request_proxy_new_sync (cli->bus, G_DBUS_PROXY_FLAGS_NONE,
                                                         EA_CLI_BUS_NAME, path, NULL, &error);
  if (ask.request == NULL)
    return ea_cli_fail (cli, error);

  cli->loop = g_main_loop_new (NULL, FALSE);
  ea_cli_watch_daemon (cli);
  /* After the generated class handler, which drops its cached copies of
   * the strv properties; before it they would still be the old lists. */
  g_signal_connect_after (ask.request, "g-properties-changed",
                          G_CALLBACK (properties_changed_cb), &ask);
  ask.sigint_id = g_unix_signal_add (SIGINT, sigint_cb, &ask);

  if (!json)
    {
      const char *asked = ea_expert_assist_request_get_group (ask.request);

      if (asked != NULL && *asked != '\0')
        progress (&ask, _("request %s to %s"), ea_cli_path_id (path), asked);
      else
        progress (&ask, _("request %s"), ea_cli_path_id (path));
    }
  ask.group = g_strdup (ea_expert_assist_request_get_group (ask.request));
  check (&ask);
  if (!ask.finished)
    g_main_loop_run (cli->loop);
  code = cli->exit_code;

  g_clear_handle_id (&ask.sigint_id, g_source_remove);
  g_clear_handle_id (&ask.session_timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (ask.request, &ask);
  g_clear_object (&ask.request);
  g_free (ask.state);
  g_free (ask.group);
  g_strfreev (ask.offered);
  g_strfreev (ask.accepted);
  g_strfreev (ask.declined);
  g_strfreev (ask.expired);
  return code;
}
