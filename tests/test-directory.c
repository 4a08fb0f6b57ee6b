/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ea-error.h"
#include "ea-directory.h"

static GKeyFile *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  GKeyFile *kf = NULL;

  g_assert_true (ea_directory_parse (text, strlen (text), "test.conf", &kf, &error));
  g_assert_no_error (error);
  g_assert_nonnull (kf);
  return kf;
}

static char *
parse_error (const char *text)
{
  g_autoptr(GError) error = NULL;
  GKeyFile *kf = NULL;

  g_assert_false (ea_directory_parse (text, strlen (text), "test.conf", &kf, &error));
  g_assert_null (kf);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  return g_strdup (error->message);
}

static EaDirectory *
build (GKeyFile *first, GKeyFile *second)
{
  EaDirectoryBuilder *b = ea_directory_builder_new ();

  if (first)
    ea_directory_builder_add_keyfile (b, first);
  if (second)
    ea_directory_builder_add_keyfile (b, second);
  return ea_directory_builder_end (b);
}

static const char example[] =
  "# the example of the design\n"
  "[Group billing]\n"
  "Name=Billing and refunds\n"
  "Experts=alice@example.org;bob@example.org;\n"
  "Strategy=parallel\n"
  "Address=billing@rooms.example.org\n"
  "OfferTimeout=30\n"
  "Expire=180\n"
  "Fallback=tier2\n"
  "Interruptible=available;chat;\n"
  "\n"
  "[Expert alice@example.org]\n"
  "Name=Alice Smith\n"
  "Skills=refunds:4;chargebacks;\n"
  "Languages=en;de;\n"
  "Level=3\n"
  "MaxSessions=2\n"
  "Priority=1\n"
  "\n"
  "[Agent carol@example.org]\n"
  "Groups=billing;tech;\n";

static void
test_parse_example (void)
{
  g_autoptr(GKeyFile) kf = parse_ok (example);
  g_autoptr(EaDirectory) dir = build (kf, NULL);
  EaDirGroup *g = ea_directory_get_group (dir, "billing");
  EaDirExpert *alice = ea_directory_get_expert (dir, "Alice@Example.org");
  EaDirExpert *bob = ea_directory_get_expert (dir, "bob@example.org");

  g_assert_nonnull (g);
  g_assert_cmpstr (g->name, ==, "Billing and refunds");
  g_assert_cmpuint (g->experts->len, ==, 2);
  g_assert_cmpstr (g->strategy, ==, "parallel");
  g_assert_cmpstr (g->address, ==, "billing@rooms.example.org");
  g_assert_cmpuint (g->offer_timeout, ==, 30);
  g_assert_cmpuint (g->expire, ==, 180);
  g_assert_cmpstr (g->fallback, ==, "tier2");
  g_assert_true (ea_dir_group_interrupts_on (g, "chat"));
  g_assert_false (ea_dir_group_interrupts_on (g, "away"));

  g_assert_nonnull (alice);
  g_assert_cmpstr (alice->name, ==, "Alice Smith");
  g_assert_cmpuint (alice->skills->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (alice->skills, 0), ==, "refunds");
  g_assert_cmpuint (ea_dir_expert_skill_level (alice, "refunds"), ==, 4);
  g_assert_cmpuint (ea_dir_expert_skill_level (alice, "chargebacks"), ==, 3);
  g_assert_cmpstr (alice->languages[1], ==, "de");
  g_assert_cmpuint (alice->max_sessions, ==, 2);
  g_assert_cmpuint (alice->priority, ==, 1);

  /* Named only in a group: an expert with the defaults. */
  g_assert_nonnull (bob);
  g_assert_null (bob->name);
  g_assert_cmpuint (bob->level, ==, EA_DEFAULT_LEVEL);
  g_assert_cmpuint (bob->max_sessions, ==, EA_DEFAULT_MAX_SESSIONS);
  g_assert_cmpuint (bob->priority, ==, EA_DEFAULT_PRIORITY);

  g_assert_true (ea_directory_has_agents (dir));
  g_assert_true (ea_directory_is_listed (dir, "carol@example.org"));
  g_assert_false (ea_directory_is_listed (dir, "mallory@example.org"));
}

static void
test_defaults (void)
{
  g_autoptr(GKeyFile) kf = parse_ok ("[Group tech]\nExperts=dave@example.org;\n");
  g_autoptr(EaDirectory) dir = build (kf, NULL);
  EaDirGroup *g = ea_directory_get_group (dir, "tech");

  g_assert_cmpstr (g->name, ==, "tech");
  g_assert_null (g->strategy);
  g_assert_cmpuint (g->offer_timeout, ==, 0);
  g_assert_cmpuint (g->expire, ==, 0);
  g_assert_true (ea_dir_group_interrupts_on (g, "available"));
  g_assert_true (ea_dir_group_interrupts_on (g, "chat"));
  g_assert_false (ea_dir_group_interrupts_on (g, "dnd"));
  g_assert_false (ea_dir_group_interrupts_on (g, "offline"));
  g_assert_cmpstr (ea_directory_get_roster_prefix (dir), ==, "Experts: ");
}

static void
test_syntax_error_line (void)
{
  g_autofree char *msg = parse_error ("[Group billing]\n"
                                      "Name=Billing\n"
                                      "\n"
                                      "this is not valid\n");

  g_assert_nonnull (strstr (msg, "test.conf:4:"));
  g_assert_nonnull (strstr (msg, "this is not valid"));
}

static void
test_key_before_section (void)
{
  g_autofree char *msg = parse_error ("# comment\nName=x\n[Group a]\n");

  g_assert_nonnull (strstr (msg, "test.conf:2:"));
}

static void
test_invalid_utf8 (void)
{
  g_autofree char *msg = parse_error ("[Group a]\nName=\xff\xfe\n");

  g_assert_nonnull (strstr (msg, "test.conf:2:"));
}

static void
test_semantic_errors (void)
{
  struct {
    const char *text;
    const char *where;
  } cases[] = {
    { "[Group Billing]\n", "test.conf:1:" },
    { "[Group a]\nName=A\nStrategy=broadcast\n", "test.conf:3:" },
    { "[Group a]\nOrder=alphabetical\n", "test.conf:2:" },
    { "[Group a]\nOfferTimeout=soon\n", "test.conf:2:" },
    { "[Group a]\nExpire=0\n", "test.conf:2:" },
    { "[Group a]\n\nExperts=alice@example.org;not an address;\n", "test.conf:3:" },
    { "[Group a]\nInterruptible=available;sleeping;\n", "test.conf:2:" },
    { "[Group a]\nFallback=Tier 2\n", "test.conf:2:" },
    { "[Expert alice]\n", "test.conf:1:" },
    { "[Expert alice@example.org]\nLevel=9\n", "test.conf:2:" },
    { "[Expert alice@example.org]\nSkills=refunds:high;\n", "test.conf:2:" },
    { "[Expert alice@example.org]\nMaxSessions=-1\n", "test.conf:2:" },
    { "[Agent carol@example.org]\nGroups=billing;Tech Support;\n", "test.conf:2:" },
    { "[Group a]\nName=A\\q\\\n", "test.conf:2:" },
    { "[Group a]\n\nDescription=ends in \\\n", "test.conf:3:" },
    /* A backslash before a character of several bytes quotes all of it. */
    { "[Group a]\nName=caf\\\u00e9\n", "test.conf:2: [Group a] Name: “\\\u00e9”" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *msg = parse_error (cases[i].text);

      g_test_message ("%s", msg);
      g_assert_true (g_utf8_validate (msg, -1, NULL));
      g_assert_nonnull (strstr (msg, cases[i].where));
    }
}

static void
test_merge (void)
{
  g_autoptr(GKeyFile) system = parse_ok ("[Group billing]\n"
                                         "Name=Billing\n"
                                         "Experts=alice@example.org;\n"
                                         "OfferTimeout=30\n"
                                         "[Expert alice@example.org]\n"
                                         "Level=2\n"
                                         "Priority=5\n");
  g_autoptr(GKeyFile) user = parse_ok ("[Group billing]\n"
                                       "Experts=bob@example.org;alice@example.org;\n"
                                       "OfferTimeout=10\n"
                                       "[Expert alice@example.org]\n"
                                       "Level=4\n");
  g_autoptr(EaDirectory) dir = build (system, user);
  EaDirGroup *g = ea_directory_get_group (dir, "billing");
  EaDirExpert *alice = ea_directory_get_expert (dir, "alice@example.org");

  /* Members are added, never removed; scalars: the later source wins. */
  g_assert_cmpuint (g->experts->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (g->experts, 0), ==, "alice@example.org");
  g_assert_cmpstr (g_ptr_array_index (g->experts, 1), ==, "bob@example.org");
  g_assert_cmpstr (g->name, ==, "Billing");
  g_assert_cmpuint (g->offer_timeout, ==, 10);
  g_assert_cmpuint (alice->level, ==, 4);
  g_assert_cmpuint (alice->priority, ==, 5);
}

static void
test_roster_group_ids (void)
{
  struct { const char *name, *id; } cases[] = {
    { "Billing", "billing" },
    { "Tier 2 Support", "tier-2-support" },
    { "  Ünïcode   Späß ", "unicode-spass" },
    { "--a--b--", "a-b" },
    { "!!!", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = ea_directory_roster_group_id (cases[i].name);

      g_assert_cmpstr (id, ==, cases[i].id);
    }
}

static void
test_roster_groups (void)
{
  g_autoptr(GKeyFile) kf = parse_ok ("[Group tier-2-support]\n"
                                     "Experts=dave@example.org;\n"
                                     "Strategy=serial\n");
  EaDirectoryBuilder *b = ea_directory_builder_new ();
  const char *erin_groups[] = { "Experts: Tier 2 Support", "Friends", NULL };
  const char *frank_groups[] = { "Experts: Billing", NULL };
  const char *gina_groups[] = { "Coworkers", NULL };
  g_autoptr(EaDirectory) dir = NULL;
  EaDirGroup *tier2, *billing;

  ea_directory_builder_add_keyfile (b, kf);
  ea_directory_builder_add_roster_item (b, "erin@example.org", "Erin", erin_groups);
  ea_directory_builder_add_roster_item (b, "frank@example.org", NULL, frank_groups);
  ea_directory_builder_add_roster_item (b, "gina@example.org", "Gina", gina_groups);
  dir = ea_directory_builder_end (b);

  tier2 = ea_directory_get_group (dir, "tier-2-support");
  g_assert_nonnull (tier2);
  g_assert_cmpuint (tier2->experts->len, ==, 2);
  g_assert_true (ea_dir_group_has_expert (tier2, "erin@example.org"));
  g_assert_cmpstr (tier2->strategy, ==, "serial");
  g_assert_true (tier2->in_keyfile);

  billing = ea_directory_get_group (dir, "billing");
  g_assert_nonnull (billing);
  g_assert_cmpstr (billing->name, ==, "Billing");
  g_assert_false (billing->in_keyfile);
  g_assert_cmpstr (ea_directory_get_expert (dir, "erin@example.org")->name, ==, "Erin");

  g_assert_null (ea_directory_get_group (dir, "friends"));
  g_assert_null (ea_directory_get_group (dir, "coworkers"));
  g_assert_null (ea_directory_get_expert (dir, "gina@example.org"));
  g_assert_cmpuint (ea_directory_get_groups (dir)->len, ==, 2);
}

static void
test_roster_prefix (void)
{
  g_autoptr(GKeyFile) kf = parse_ok ("[Directory]\nRosterPrefix=Help/\n");
  EaDirectoryBuilder *b = ea_directory_builder_new ();
  const char *groups[] = { "Help/Escalations", "Experts: Billing", NULL };
  g_autoptr(EaDirectory) dir = NULL;

  ea_directory_builder_add_keyfile (b, kf);
  ea_directory_builder_add_roster_item (b, "erin@example.org", NULL, groups);
  dir = ea_directory_builder_end (b);

  g_assert_nonnull (ea_directory_get_group (dir, "escalations"));
  g_assert_null (ea_directory_get_group (dir, "billing"));
}

static void
test_escaped_prefix (void)
{
  g_autoptr(GKeyFile) kf = parse_ok ("[Directory]\nRosterPrefix=Experts:\\s\n");
  g_autoptr(EaDirectory) dir = build (kf, NULL);

  g_assert_cmpstr (ea_directory_get_roster_prefix (dir), ==, "Experts: ");
}

static void
test_open_groups (void)
{
  g_autoptr(GKeyFile) kf = parse_ok ("[Group billing]\nExperts=alice@example.org;\n"
                                     "[Group tech]\nExperts=dave@example.org;\n"
                                     "[Agent carol@example.org]\nGroups=billing;\n");
  g_autoptr(EaDirectory) dir = build (kf, NULL);
  g_autoptr(GPtrArray) carol = ea_directory_open_groups (dir, "carol@example.org");
  g_autoptr(GPtrArray) dan = ea_directory_open_groups (dir, "dan@example.org");

  g_assert_cmpuint (carol->len, ==, 1);
  g_assert_cmpstr (((EaDirGroup *) g_ptr_array_index (carol, 0))->id, ==, "billing");
  /* No [Agent] section of one's own: every group. */
  g_assert_cmpuint (dan->len, ==, 2);
  g_assert_false (ea_directory_group_is_open (dir, ea_directory_get_group (dir, "tech"),
                                              "carol@example.org"));
}

static void
test_fingerprint (void)
{
  g_autoptr(GKeyFile) a = parse_ok ("[Group billing]\nExperts=alice@example.org;\n");
  g_autoptr(GKeyFile) b = parse_ok ("[Group billing]\nExperts=alice@example.org;\n"
                                    "# a comment changes nothing\n");
  g_autoptr(GKeyFile) c = parse_ok ("[Group billing]\nExperts=alice@example.org;\n"
                                    "Description=Invoices\n");
  g_autoptr(EaDirectory) da = build (a, NULL);
  g_autoptr(EaDirectory) db = build (b, NULL);
  g_autoptr(EaDirectory) dc = build (c, NULL);
  g_autofree char *fa = ea_directory_fingerprint (da);
  g_autofree char *fb = ea_directory_fingerprint (db);
  g_autofree char *fc = ea_directory_fingerprint (dc);

  g_assert_cmpstr (fa, ==, fb);
  g_assert_cmpstr (fa, !=, fc);

  /* Stable however the hash tables happen to be laid out. */
  {
    g_autoptr(GString) text = g_string_new ("[Group big]\nExperts=");
    g_autoptr(GKeyFile) k1 = NULL;
    g_autoptr(GKeyFile) k2 = NULL;
    g_autoptr(EaDirectory) d1 = NULL;
    g_autoptr(EaDirectory) d2 = NULL;
    g_autofree char *f1 = NULL;
    g_autofree char *f2 = NULL;

    for (int i = 0; i < 40; i++)
      g_string_append_printf (text, "expert%02d@example.org;", i);
    g_string_append (text, "\n");
    k1 = parse_ok (text->str);
    d1 = build (k1, NULL);
    k2 = parse_ok (text->str);
    d2 = build (k2, NULL);
    f1 = ea_directory_fingerprint (d1);
    f2 = ea_directory_fingerprint (d2);
    g_assert_cmpstr (f1, ==, f2);
  }
}

static void
test_unknown_section_is_kept (void)
{
  g_autoptr(GKeyFile) kf = parse_ok ("[Group a]\n[Future thing]\nKey=1\n");

  g_assert_true (g_key_file_has_group (kf, "Future thing"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/directory/parse-example", test_parse_example);
  g_test_add_func ("/directory/defaults", test_defaults);
  g_test_add_func ("/directory/syntax-error-line", test_syntax_error_line);
  g_test_add_func ("/directory/key-before-section", test_key_before_section);
  g_test_add_func ("/directory/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/directory/semantic-errors", test_semantic_errors);
  g_test_add_func ("/directory/merge", test_merge);
  g_test_add_func ("/directory/roster-group-ids", test_roster_group_ids);
  g_test_add_func ("/directory/roster-groups", test_roster_groups);
  g_test_add_func ("/directory/roster-prefix", test_roster_prefix);
  g_test_add_func ("/directory/escaped-prefix", test_escaped_prefix);
  g_test_add_func ("/directory/open-groups", test_open_groups);
  g_test_add_func ("/directory/fingerprint", test_fingerprint);
  g_test_add_func ("/directory/unknown-section", test_unknown_section_is_kept);

  return g_test_run ();
}
