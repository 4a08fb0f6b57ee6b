/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ea-protocol.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *
parse (const char *xml)
{
  xmpp_stanza_t *s = xmpp_stanza_new_from_string (ctx, xml);

  g_assert_nonnull (s);
  return s;
}

static void
test_presence_parse (void)
{
  g_autoptr(xmpp_stanza_t) s =
    parse ("<presence from='alice@example.org/d'><show>dnd</show><status>Busy</status>"
           "<priority>5</priority><load xmlns='urn:example:expert-assist:1' sessions='1' max='2'/>"
           "</presence>");
  EaPresence p;

  g_assert_true (ea_presence_parse (s, &p));
  g_assert_cmpstr (p.show, ==, "dnd");
  g_assert_cmpstr (p.message, ==, "Busy");
  g_assert_cmpint (p.priority, ==, 5);
  g_assert_true (p.has_load);
  g_assert_true (p.has_daemon);
  g_assert_cmpuint (p.sessions, ==, 1);
  g_assert_cmpuint (p.max_sessions, ==, 2);
  ea_presence_clear (&p);
}

static void
test_presence_hostile (void)
{
  const char *cases[] = {
    "<presence><show>sleeping</show><priority>999</priority></presence>",
    "<presence><load xmlns='urn:example:expert-assist:1' sessions='-3' max='lots'/></presence>",
    "<presence><c xmlns='http://jabber.org/protocol/caps'/></presence>",
    "<presence><show/><status/><priority/></presence>",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(xmpp_stanza_t) s = parse (cases[i]);
      EaPresence p;

      g_assert_true (ea_presence_parse (s, &p));
      g_assert_cmpstr (p.show, ==, "available");
      g_assert_cmpint (p.priority, ==, 0);
      g_assert_cmpuint (p.sessions, ==, 0);
      g_assert_null (p.caps_node);
      ea_presence_clear (&p);
    }

  {
    g_autoptr(xmpp_stanza_t) s = parse ("<presence type='unavailable'/>");
    EaPresence p;

    g_assert_false (ea_presence_parse (s, &p));
  }
}

static void
test_presence_round_trip (void)
{
  g_autoptr(xmpp_stanza_t) built = ea_presence_build (ctx, "away", "Lunch", TRUE, 1, 3);
  char *text = NULL;
  size_t len;
  g_autoptr(xmpp_stanza_t) back = NULL;
  EaPresence p;

  g_assert_cmpint (xmpp_stanza_to_text (built, &text, &len), ==, XMPP_EOK);
  back = parse (text);
  xmpp_free (ctx, text);
  g_assert_true (ea_presence_parse (back, &p));
  g_assert_cmpstr (p.show, ==, "away");
  g_assert_cmpstr (p.message, ==, "Lunch");
  g_assert_true (p.has_load);
  g_assert_cmpuint (p.sessions, ==, 1);
  g_assert_cmpuint (p.max_sessions, ==, 3);
  /* Our own caps say "daemon" without a disco round trip. */
  g_assert_true (p.has_daemon);
  ea_presence_clear (&p);

  {
    g_autoptr(xmpp_stanza_t) agent = ea_presence_build (ctx, "available", "", FALSE, 0, 0);

    g_assert_null (ea_stanza_child (agent, "show", NULL));
    g_assert_null (ea_stanza_child (agent, "load", EA_NS));
  }
}

static void
test_caps (void)
{
  g_autoptr(xmpp_stanza_t) req =
    parse ("<iq type='get' from='carol@example.org/x' id='q1'>"
           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  g_autoptr(xmpp_stanza_t) res = ea_disco_info_result (ctx, req);
  const char *ver = ea_caps_ver ();

  /* base64 of a SHA-1: 28 characters. */
  g_assert_cmpuint (strlen (ver), ==, 28);
  g_assert_cmpstr (ver, ==, ea_caps_ver ());
  g_assert_cmpstr (xmpp_stanza_get_to (res), ==, "carol@example.org/x");
  g_assert_cmpstr (xmpp_stanza_get_id (res), ==, "q1");
  g_assert_true (ea_disco_info_has_feature (res, EA_NS));
  g_assert_true (ea_disco_info_has_feature (res, EA_NS_RECEIPTS));
  g_assert_true (ea_disco_info_has_feature (res, EA_NS_CHATSTATES));
  g_assert_false (ea_disco_info_has_feature (res, "urn:nothing"));
}

static void
test_iq_error (void)
{
  g_autoptr(xmpp_stanza_t) req = parse ("<iq type='get' from='x@y/z' id='7'><weird xmlns='w'/></iq>");
  g_autoptr(xmpp_stanza_t) err = ea_stanza_iq_error (ctx, req, "cancel", "service-unavailable");
  xmpp_stanza_t *e = ea_stanza_child (err, "error", NULL);

  g_assert_cmpstr (xmpp_stanza_get_type (err), ==, "error");
  g_assert_cmpstr (xmpp_stanza_get_attribute (e, "type"), ==, "cancel");
  g_assert_nonnull (ea_stanza_child (e, "service-unavailable", EA_NS_STANZAS));
}

static void
test_query_checks (void)
{
  struct { const char *text; gboolean ok; } cases[] = {
    { "{'summary': <'Customer cannot log in'>}", TRUE },
    { "{'summary': <'x'>, 'channel': <'phone'>, 'details': <'long\ntext'>}", TRUE },
    { "{'channel': <'phone'>}", FALSE },
    { "{'summary': <''>}", FALSE },
    { "{'summary': <'   '>}", FALSE },
    { "{'summary': <'two\nlines'>}", FALSE },
    { "{'summary': <42>}", FALSE },
    { "{'summary': <'x'>, 'colour': <'red'>}", FALSE },
    /* A repeated key: the checked copy and the used copy could differ. */
    { "{'summary': <''>, 'summary': <'valid'>}", FALSE },
    { "{'summary': <'valid'>, 'summary': <'valid'>}", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) q = g_variant_ref_sink (g_variant_new_parsed (cases[i].text));
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", cases[i].text);
      g_assert_cmpint (ea_query_is_valid (q, &error), ==, cases[i].ok);
      if (!cases[i].ok)
        g_assert_nonnull (error);
    }
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  xmpp_initialize ();
  ctx = xmpp_ctx_new (NULL, NULL);

  g_test_add_func ("/protocol/presence/parse", test_presence_parse);
  g_test_add_func ("/protocol/presence/hostile", test_presence_hostile);
  g_test_add_func ("/protocol/presence/round-trip", test_presence_round_trip);
  g_test_add_func ("/protocol/caps", test_caps);
  g_test_add_func ("/protocol/iq-error", test_iq_error);
  g_test_add_func ("/protocol/query-checks", test_query_checks);

  ret = g_test_run ();
  xmpp_ctx_free (ctx);
  xmpp_shutdown ();
  return ret;
}
