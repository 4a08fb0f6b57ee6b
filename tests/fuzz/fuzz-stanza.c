/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The wire protocol's readers (daemon/ea-protocol.c) on any stanza:
 * ea_offer_parse, ea_control_parse, ea_presence_parse, ea_message_body,
 * ea_message_thread, ea_reply_parse on the body and
 * ea_disco_info_has_feature. Whatever they accept must be what DESIGN.md
 * section 9 allows (valid ids, UTF-8, one-line summaries within their
 * limits) and must survive being built again and read back unchanged.
 *
 * Input: the XML text of one stanza.
 */
#include "fuzz-common.h"

#include "ea-protocol.h"
#include "ea-roster.h"
#include "ea-util.h"

static xmpp_stanza_t *
reparse (xmpp_stanza_t *built)
{
  char *text = NULL;
  size_t len = 0;
  xmpp_stanza_t *back;

  FUZZ_CHECK (xmpp_stanza_to_text (built, &text, &len) == XMPP_EOK, "cannot serialise");
  back = xmpp_stanza_new_from_string (fuzz_ctx (), text);
  FUZZ_CHECK (back != NULL, "a stanza we built does not parse: %s", text);
  xmpp_free (fuzz_ctx (), text);
  return back;
}

/* The query without empty values: the builder leaves those out. */
static GVariant *
non_empty (GVariant *query)
{
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, query);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    if (*g_variant_get_string (value, NULL) != '\0')
      g_variant_builder_add (&b, "{sv}", key, value);
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
check_offer (xmpp_stanza_t *stanza)
{
  EaOfferInfo info, back_info;
  g_autoptr(GError) error = NULL;
  g_autoptr(xmpp_stanza_t) built = NULL;
  g_autoptr(xmpp_stanza_t) back = NULL;
  g_autoptr(GVariant) q1 = NULL;
  g_autoptr(GVariant) q2 = NULL;
  g_autofree char *body = NULL;

  if (!ea_offer_parse (stanza, &info, &error))
    {
      FUZZ_CHECK (info.id == NULL && info.summary == NULL && info.query == NULL,
                  "a refused offer left fields behind");
      return;
    }

  FUZZ_CHECK (ea_id_is_valid (info.id), "offer id %s", info.id);
  fuzz_check_text ("group", info.group, 64, FALSE);
  fuzz_check_text ("summary", info.summary, 0, TRUE);
  FUZZ_CHECK (*info.summary != '\0' && g_utf8_strlen (info.summary, -1) <= EA_MAX_SUMMARY_CHARS,
              "summary of %ld characters", g_utf8_strlen (info.summary, -1));
  FUZZ_CHECK (info.agent == NULL || ea_jid_is_valid_bare (info.agent), "agent %s", info.agent);
  fuzz_check_text ("agent name", info.agent_name, 256, TRUE);
  FUZZ_CHECK (info.experts >= 1 && info.experts <= 1000, "experts %u", info.experts);
  FUZZ_CHECK (info.timeout <= 86400, "timeout %u", info.timeout);
  fuzz_check_vardict ("offer query", info.query);
  FUZZ_CHECK (info.masked != NULL, "masked is NULL");
  for (guint i = 0; info.masked[i]; i++)
    {
      static const char * const known[] = { "channel", "customer", "reference", "details", NULL };

      FUZZ_CHECK (g_strv_contains (known, info.masked[i]), "masked %s", info.masked[i]);
    }

  /* The plain-text fallback for people with an ordinary client. */
  body = ea_offer_body (&info, info.group, "de");
  fuzz_check_text ("offer body", body, 0, FALSE);
  g_clear_pointer (&body, g_free);
  body = ea_offer_body (&info, NULL, NULL);
  fuzz_check_text ("offer body", body, 0, FALSE);

  /* Built again (what an agent's daemon sends) and read back. */
  if (info.agent == NULL)
    info.agent = g_strdup ("agent@example.org");
  built = ea_offer_build (fuzz_ctx (), &info, "expert@example.org", "normal", body, "s1");
  back = reparse (built);
  FUZZ_CHECK (ea_offer_parse (back, &back_info, NULL), "our own offer does not parse");
  FUZZ_CHECK (g_str_equal (info.id, back_info.id), "id changed");
  FUZZ_CHECK (g_str_equal (info.group, back_info.group), "group changed");
  FUZZ_CHECK (g_str_equal (info.summary, back_info.summary), "summary changed: [%s] → [%s]",
              info.summary, back_info.summary);
  FUZZ_CHECK (g_strcmp0 (info.agent, back_info.agent) == 0, "agent changed");
  FUZZ_CHECK (g_strcmp0 (info.agent_name, back_info.agent_name) == 0, "agent name changed");
  FUZZ_CHECK (info.experts == back_info.experts, "experts changed");
  FUZZ_CHECK (info.timeout == back_info.timeout, "timeout changed");
  q1 = non_empty (info.query);
  q2 = non_empty (back_info.query);
  FUZZ_CHECK (g_variant_equal (q1, q2), "query changed: %s → %s",
              g_variant_print (q1, FALSE), g_variant_print (q2, FALSE));
  ea_offer_info_clear (&back_info);
  ea_offer_info_clear (&info);
}

static void
check_control (xmpp_stanza_t *stanza)
{
  EaControl c, back_c;
  g_autoptr(GError) error = NULL;
  g_autoptr(xmpp_stanza_t) built = NULL;
  g_autoptr(xmpp_stanza_t) back = NULL;

  if (!ea_control_parse (stanza, &c, &error))
    {
      FUZZ_CHECK (c.id == NULL && c.session == NULL && c.query == NULL,
                  "a refused control element left fields behind");
      return;
    }

  FUZZ_CHECK (c.kind >= EA_CONTROL_ACCEPT && c.kind <= EA_CONTROL_CLOSE, "kind %d", c.kind);
  FUZZ_CHECK (ea_control_kind_name (c.kind) != NULL, "kind without a name");
  if (c.kind != EA_CONTROL_CLOSE)
    FUZZ_CHECK (ea_id_is_valid (c.id), "control id %s", c.id);
  if (c.kind == EA_CONTROL_CLOSE || c.kind == EA_CONTROL_ASSIGNED)
    FUZZ_CHECK (ea_id_is_valid (c.session), "session id %s", c.session);
  fuzz_check_text ("reason", c.reason, 256, TRUE);
  FUZZ_CHECK (c.by == NULL || ea_jid_is_valid_bare (c.by), "by %s", c.by);
  FUZZ_CHECK (c.room == NULL || ea_jid_is_valid_bare (c.room), "room %s", c.room);
  fuzz_check_vardict ("assigned query", c.query);
  FUZZ_CHECK ((c.query != NULL) == (c.kind == EA_CONTROL_ASSIGNED), "query on %s",
              ea_control_kind_name (c.kind));

  built = ea_control_build (fuzz_ctx (), &c, "peer@example.org/r", "normal", "s2");
  back = reparse (built);
  FUZZ_CHECK (ea_control_parse (back, &back_c, NULL), "our own %s does not parse",
              ea_control_kind_name (c.kind));
  FUZZ_CHECK (back_c.kind == c.kind, "kind changed");
  FUZZ_CHECK (g_strcmp0 (back_c.id, c.id) == 0, "id changed");
  FUZZ_CHECK (g_strcmp0 (back_c.session, c.session) == 0, "session changed");
  FUZZ_CHECK (g_strcmp0 (back_c.reason, c.reason) == 0, "reason changed: [%s] → [%s]",
              c.reason, back_c.reason);
  FUZZ_CHECK (g_strcmp0 (back_c.by, c.by) == 0, "by changed");
  FUZZ_CHECK (g_strcmp0 (back_c.room, c.room) == 0, "room changed");
  if (c.query != NULL && g_variant_n_children (c.query) > 0)
    {
      g_autoptr(GVariant) q1 = non_empty (c.query);
      g_autoptr(GVariant) q2 = non_empty (back_c.query);

      FUZZ_CHECK (g_variant_equal (q1, q2), "assigned query changed: %s → %s",
                  g_variant_print (q1, FALSE), g_variant_print (q2, FALSE));
    }
  ea_control_clear (&back_c);
  ea_control_clear (&c);
}

static void
check_presence (xmpp_stanza_t *stanza)
{
  static const char * const shows[] = { "available", "chat", "away", "xa", "dnd", NULL };
  EaPresence p, back_p;
  g_autoptr(xmpp_stanza_t) built = NULL;
  g_autoptr(xmpp_stanza_t) back = NULL;

  if (!ea_presence_parse (stanza, &p))
    return;
  FUZZ_CHECK (p.show != NULL && g_strv_contains (shows, p.show), "show %s", p.show);
  fuzz_check_text ("status", p.message, 0, FALSE);
  fuzz_check_text ("caps node", p.caps_node, 1023, FALSE);
  fuzz_check_text ("caps ver", p.caps_ver, 255, FALSE);
  FUZZ_CHECK (p.priority >= -128 && p.priority <= 127, "priority %d", p.priority);
  FUZZ_CHECK (p.sessions <= 100000 && p.max_sessions <= 100000, "load %u/%u", p.sessions,
              p.max_sessions);

  built = ea_presence_build (fuzz_ctx (), p.show, p.message, p.has_load, p.sessions,
                             p.max_sessions);
  back = reparse (built);
  FUZZ_CHECK (ea_presence_parse (back, &back_p), "our own presence does not parse");
  FUZZ_CHECK (g_str_equal (back_p.show, p.show), "show changed");
  /* An empty status is left out when built. */
  FUZZ_CHECK (g_strcmp0 (back_p.message, p.message) == 0 ||
              (back_p.message == NULL && p.message != NULL && *p.message == '\0'),
              "status changed: [%s] → [%s]", p.message, back_p.message);
  FUZZ_CHECK (back_p.has_daemon, "our own presence is not a daemon's");
  if (p.has_load)
    FUZZ_CHECK (back_p.sessions == p.sessions && back_p.max_sessions == p.max_sessions,
                "load changed");
  ea_presence_clear (&back_p);
  ea_presence_clear (&p);
}

static void
check_message (xmpp_stanza_t *stanza)
{
  g_autofree char *body = ea_message_body (stanza);
  g_autofree char *thread = ea_message_thread (stanza);
  g_autofree char *code = NULL;
  g_autofree char *reason = NULL;
  gboolean accept = FALSE;

  if (body != NULL && ea_reply_parse (body, &accept, &code, &reason))
    {
      FUZZ_CHECK (code != NULL && strlen (code) == EA_REPLY_CODE_LEN, "code %s", code);
      fuzz_check_text ("reply reason", reason, 256, TRUE);
      FUZZ_CHECK (!accept || reason == NULL, "an accept with a reason");
    }
  (void) thread;
  (void) ea_disco_info_has_feature (stanza, EA_NS);
  (void) ea_stanza_is_type (stanza, "error");
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_glib_fatal ();
  fuzz_ctx ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;
  xmpp_stanza_t *stanza;

  if (size > 256 * 1024)
    return 0;
  text = fuzz_cstring (data, size);
  stanza = xmpp_stanza_new_from_string (fuzz_ctx (), text);
  if (stanza == NULL)
    return 0;

  check_offer (stanza);
  check_control (stanza);
  check_presence (stanza);
  check_message (stanza);
  xmpp_stanza_release (stanza);
  return 0;
}
