/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ea-error.h"
#include "ea-util.h"
#include "ea-config.h"

static void
test_options_win (void)
{
  EaOptions o = { 0 };
  g_autoptr(EaConfig) c = NULL;
  g_autoptr(GError) error = NULL;

  o.account = g_strdup ("Carol@Example.org");
  o.server = g_strdup ("127.0.0.1:5999");
  o.tls = g_strdup ("trust-self-signed");
  o.password_file = g_strdup ("/tmp/pw");
  o.data_dir = g_strdup ("/tmp/data");
  c = ea_config_resolve (&o, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->account, ==, "carol@example.org");
  g_assert_cmpstr (c->host, ==, "127.0.0.1");
  g_assert_cmpuint (c->port, ==, 5999);
  g_assert_cmpint (c->tls, ==, EA_TLS_TRUST_SELF_SIGNED);
  g_assert_cmpstr (c->password_file, ==, "/tmp/pw");
  g_assert_cmpstr (c->data_dir, ==, "/tmp/data");
  g_assert_null (c->directory);
  ea_options_clear (&o);
}

static void
test_defaults (void)
{
  EaOptions o = { 0 };
  g_autoptr(EaConfig) c = ea_config_resolve (&o, NULL, NULL);

  g_assert_nonnull (c);
  g_assert_null (c->account);
  g_assert_null (c->host);
  g_assert_cmpuint (c->port, ==, 0);
  /* TLS is required unless said otherwise. */
  g_assert_cmpint (c->tls, ==, EA_TLS_REQUIRED);
  g_assert_true (g_str_has_suffix (c->data_dir, "expert-assist"));
}

static void
test_bad_values (void)
{
  struct { const char *account, *server, *tls; } cases[] = {
    { "not an address", NULL, NULL },
    { "carol@example.org/desk", NULL, NULL },
    { "carol@example.org", "host:99999", NULL },
    { "carol@example.org", "host:", NULL },
    { "carol@example.org", "bad host", NULL },
    { "carol@example.org", NULL, "maybe" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      EaOptions o = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(EaConfig) c = NULL;

      o.account = g_strdup (cases[i].account);
      o.server = g_strdup (cases[i].server);
      o.tls = g_strdup (cases[i].tls);
      c = ea_config_resolve (&o, NULL, &error);
      g_assert_null (c);
      g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
      ea_options_clear (&o);
    }
}

static void
test_parse_server (void)
{
  struct { const char *text, *host; guint port; } ok[] = {
    { "", NULL, 0 },
    { "example.org", "example.org", 0 },
    { "example.org:5223", "example.org", 5223 },
    { "[::1]:5222", "::1", 5222 },
    { "::1", "::1", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autofree char *host = NULL;
      guint16 port = 1;

      g_assert_true (ea_parse_server (ok[i].text, &host, &port, NULL));
      g_assert_cmpstr (host, ==, ok[i].host);
      g_assert_cmpuint (port, ==, ok[i].port);
    }
}

static void
test_loopback (void)
{
  g_assert_true (ea_host_is_loopback ("localhost"));
  g_assert_true (ea_host_is_loopback ("127.0.0.1"));
  g_assert_true (ea_host_is_loopback ("127.3.4.5"));
  g_assert_true (ea_host_is_loopback ("::1"));
  g_assert_false (ea_host_is_loopback ("example.org"));
  g_assert_false (ea_host_is_loopback ("10.0.0.1"));
  g_assert_false (ea_host_is_loopback (NULL));
}

static void
test_jids (void)
{
  g_autofree char *bare = ea_jid_bare ("Alice@Example.ORG/Desk");
  g_autofree char *domain = ea_jid_domain ("alice@example.org/x");
  g_autofree char *local = ea_jid_localpart ("alice@example.org");

  g_assert_cmpstr (bare, ==, "alice@example.org");
  g_assert_cmpstr (domain, ==, "example.org");
  g_assert_cmpstr (local, ==, "alice");
  g_assert_cmpstr (ea_jid_resource ("a@b/c/d"), ==, "c/d");
  g_assert_true (ea_jid_is_valid_bare ("alice@example.org"));
  g_assert_false (ea_jid_is_valid_bare ("alice@example.org/r"));
  g_assert_false (ea_jid_is_valid_bare ("alice"));
  g_assert_false (ea_jid_is_valid_bare ("al ice@example.org"));
  g_assert_false (ea_jid_is_valid_bare ("@example.org"));
  g_assert_false (ea_jid_is_valid_bare ("alice@"));
  g_assert_false (ea_jid_is_valid_bare ("a<b@example.org"));
  g_assert_true (ea_jid_is_valid ("conference.example.org"));
  g_assert_true (ea_jid_equal_bare ("ALICE@example.org/x", "alice@EXAMPLE.org"));
}

static void
test_ids (void)
{
  g_autofree char *a = ea_id_new ();
  g_autofree char *b = ea_id_new ();

  g_assert_true (ea_id_is_valid (a));
  g_assert_cmpstr (a, !=, b);
  g_assert_false (ea_id_is_valid ("7f3a"));
  g_assert_false (ea_id_is_valid ("0123456789ABCDEF0123456789abcdef"));
  g_assert_false (ea_id_is_valid ("0123456789abcdef0123456789abcdef0"));
  g_assert_false (ea_id_is_valid (NULL));
}

static void
test_statuses (void)
{
  g_assert_true (ea_status_is_valid ("available"));
  g_assert_true (ea_status_is_valid ("offline"));
  g_assert_false (ea_status_is_valid ("sleepy"));
  g_assert_false (ea_status_is_valid (""));
  g_assert_cmpint (ea_status_rank ("chat"), >, ea_status_rank ("available"));
  g_assert_cmpint (ea_status_rank ("available"), >, ea_status_rank ("dnd"));
}

static void
test_times (void)
{
  gint64 t = 0;
  g_autofree char *text = ea_time_to_iso8601 (1764000660LL * G_USEC_PER_SEC);

  g_assert_cmpstr (text, ==, "2025-11-24T16:11:00Z");
  g_assert_true (ea_time_from_iso8601 (text, &t));
  g_assert_cmpint (t, ==, 1764000660LL * G_USEC_PER_SEC);
  g_assert_false (ea_time_from_iso8601 ("yesterday", &t));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/config/options-win", test_options_win);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/bad-values", test_bad_values);
  g_test_add_func ("/config/parse-server", test_parse_server);
  g_test_add_func ("/config/loopback", test_loopback);
  g_test_add_func ("/util/jids", test_jids);
  g_test_add_func ("/util/ids", test_ids);
  g_test_add_func ("/util/statuses", test_statuses);
  g_test_add_func ("/util/times", test_times);

  return g_test_run ();
}
