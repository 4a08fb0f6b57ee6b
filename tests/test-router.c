/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ea-directory.h"
#include "ea-roster.h"
#include "ea-router.h"

typedef struct {
  EaDirectory *dir;
  EaRoster *roster;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  static const char text[] =
    "[Group billing]\nExperts=alice@example.org;bob@example.org;carol@example.org;\n"
    "[Group night]\nExperts=alice@example.org;\nInterruptible=available;away;\n"
    "[Expert alice@example.org]\nMaxSessions=2\n";
  g_autoptr(GKeyFile) kf = NULL;
  EaDirectoryBuilder *b;

  g_assert_true (ea_directory_parse (text, strlen (text), "t", &kf, NULL));
  b = ea_directory_builder_new ();
  ea_directory_builder_add_keyfile (b, kf);
  f->dir = ea_directory_builder_end (b);
  f->roster = ea_roster_new ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  ea_directory_unref (f->dir);
  ea_roster_free (f->roster);
}

static void
set_presence (Fixture *f, const char *full, const char *show, int priority,
              gboolean load, guint sessions)
{
  EaPresence p = { 0 };

  p.show = g_strdup (show);
  p.priority = priority;
  p.has_load = load;
  p.sessions = sessions;
  ea_roster_set_presence (f->roster, full, &p);
  ea_presence_clear (&p);
}

static gboolean
interruptible (Fixture *f, const char *group, const char *who)
{
  return ea_router_is_interruptible (ea_directory_get_group (f->dir, group),
                                     ea_directory_get_expert (f->dir, who),
                                     ea_roster_lookup (f->roster, who),
                                     "carol@example.org");
}

static void
test_offline_is_not_interruptible (Fixture *f, gconstpointer data)
{
  g_assert_false (interruptible (f, "billing", "alice@example.org"));
}

static void
test_presence_list (Fixture *f, gconstpointer data)
{
  set_presence (f, "alice@example.org/a", "available", 0, FALSE, 0);
  g_assert_true (interruptible (f, "billing", "alice@example.org"));
  set_presence (f, "alice@example.org/a", "chat", 0, FALSE, 0);
  g_assert_true (interruptible (f, "billing", "alice@example.org"));
  set_presence (f, "alice@example.org/a", "away", 0, FALSE, 0);
  g_assert_false (interruptible (f, "billing", "alice@example.org"));
  /* The night group lets away experts be interrupted. */
  g_assert_true (interruptible (f, "night", "alice@example.org"));
  set_presence (f, "alice@example.org/a", "dnd", 0, FALSE, 0);
  g_assert_false (interruptible (f, "billing", "alice@example.org"));
  g_assert_false (interruptible (f, "night", "alice@example.org"));
  ea_roster_set_presence (f->roster, "alice@example.org/a", NULL);
  g_assert_false (interruptible (f, "night", "alice@example.org"));
}

static void
test_capacity (Fixture *f, gconstpointer data)
{
  /* MaxSessions=2 for alice, the default 1 for bob. */
  set_presence (f, "alice@example.org/d", "available", 0, TRUE, 1);
  g_assert_true (interruptible (f, "billing", "alice@example.org"));
  set_presence (f, "alice@example.org/d", "available", 0, TRUE, 2);
  g_assert_false (interruptible (f, "billing", "alice@example.org"));

  set_presence (f, "bob@example.org/d", "available", 0, TRUE, 0);
  g_assert_true (interruptible (f, "billing", "bob@example.org"));
  set_presence (f, "bob@example.org/d", "available", 0, TRUE, 1);
  g_assert_false (interruptible (f, "billing", "bob@example.org"));
  /* An expert without a daemon (no load) counts as having no sessions. */
  set_presence (f, "bob@example.org/d", "available", 0, FALSE, 0);
  g_assert_true (interruptible (f, "billing", "bob@example.org"));
}

static void
test_best_resource (Fixture *f, gconstpointer data)
{
  set_presence (f, "alice@example.org/phone", "dnd", 5, FALSE, 0);
  set_presence (f, "alice@example.org/desk", "available", 1, FALSE, 0);
  /* Highest priority wins: dnd. */
  g_assert_cmpstr (ea_contact_status (ea_roster_lookup (f->roster, "alice@example.org")), ==, "dnd");
  g_assert_false (interruptible (f, "billing", "alice@example.org"));
  set_presence (f, "alice@example.org/phone", "dnd", 1, FALSE, 0);
  /* Same priority: the more reachable show wins. */
  g_assert_cmpstr (ea_contact_status (ea_roster_lookup (f->roster, "alice@example.org")), ==,
                   "available");
  /* A negative priority never counts. */
  set_presence (f, "alice@example.org/desk", "available", -1, FALSE, 0);
  g_assert_cmpstr (ea_contact_status (ea_roster_lookup (f->roster, "alice@example.org")), ==, "dnd");
}

static void
test_self_never (Fixture *f, gconstpointer data)
{
  set_presence (f, "carol@example.org/x", "available", 0, FALSE, 0);
  g_assert_false (interruptible (f, "billing", "carol@example.org"));
}

/* ------------------------------------------------------------------ */

static const char team[] =
  "[Group billing]\n"
  "Experts=dave@example.org;alice@example.org;bob@example.org;erin@example.org;\n"
  "[Group tech]\nExperts=frank@example.org;alice@example.org;\n"
  "[Expert alice@example.org]\nSkills=refunds:4;chargebacks:2;\nLanguages=en;de;\n"
  "Level=3\nPriority=20\nMaxSessions=2\n"
  "[Expert bob@example.org]\nSkills=refunds;\nLanguages=en;\nLevel=2\nPriority=10\n"
  "[Expert dave@example.org]\nSkills=refunds;chargebacks;\nLanguages=fr;\nLevel=5\n"
  "[Expert erin@example.org]\nLanguages=de;\nLevel=1\nPriority=10\n"
  "[Expert frank@example.org]\nSkills=networks;\nLevel=4\nPriority=1\n";

static void
team_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GKeyFile) kf = NULL;
  EaDirectoryBuilder *b;

  g_assert_true (ea_directory_parse (team, strlen (team), "t", &kf, NULL));
  b = ea_directory_builder_new ();
  ea_directory_builder_add_keyfile (b, kf);
  f->dir = ea_directory_builder_end (b);
  f->roster = ea_roster_new ();
  set_presence (f, "alice@example.org/d", "available", 0, TRUE, 0);
  set_presence (f, "bob@example.org/d", "available", 0, TRUE, 0);
  set_presence (f, "dave@example.org/d", "chat", 0, TRUE, 0);
  set_presence (f, "erin@example.org/d", "available", 0, FALSE, 0);
  set_presence (f, "frank@example.org/d", "available", 0, TRUE, 0);
}

static GPtrArray *
groups_of (Fixture *f, const char *id)
{
  GPtrArray *groups = g_ptr_array_new ();

  if (id == NULL)
    {
      GPtrArray *all = ea_directory_get_groups (f->dir);

      for (guint i = 0; i < all->len; i++)
        g_ptr_array_add (groups, g_ptr_array_index (all, i));
    }
  else
    g_ptr_array_add (groups, ea_directory_get_group (f->dir, id));
  return groups;
}

/* The candidates' local parts joined by spaces, in order. */
static char *
names (GPtrArray *candidates)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < candidates->len; i++)
    {
      EaCandidate *c = g_ptr_array_index (candidates, i);
      const char *at = strchr (c->expert->address, '@');

      if (s->len)
        g_string_append_c (s, ' ');
      g_string_append_len (s, c->expert->address, at - c->expert->address);
    }
  return g_string_free (s, FALSE);
}

static char *
route (Fixture *f, const char *group, EaPreferences *prefs, const char *order,
       EaRouterMemory *memory)
{
  g_autoptr(GPtrArray) groups = groups_of (f, group);
  g_autoptr(GPtrArray) c = ea_router_candidates (f->dir, groups, prefs, f->roster,
                                                 "carol@example.org", TRUE);

  ea_router_order (c, order, memory, group ? group : "");
  return names (c);
}

static void
test_order_priority (Fixture *f, gconstpointer data)
{
  g_autofree char *got = route (f, "billing", NULL, "priority", NULL);

  /* Priority 10 (bob, erin: ties by address), 20 (alice), 100 (dave). */
  g_assert_cmpstr (got, ==, "bob erin alice dave");
}

static void
test_order_fewest_sessions (Fixture *f, gconstpointer data)
{
  g_autofree char *got = NULL;

  set_presence (f, "bob@example.org/d", "available", 0, TRUE, 0);
  set_presence (f, "alice@example.org/d", "available", 0, TRUE, 1);
  got = route (f, "billing", NULL, "fewest-sessions", NULL);
  /* bob, dave and erin have none (ties by address), alice one. */
  g_assert_cmpstr (got, ==, "bob dave erin alice");
}

static void
test_order_longest_idle (Fixture *f, gconstpointer data)
{
  g_autoptr(EaRouterMemory) m = ea_router_memory_new (1);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  /* Never given anything: all equally idle, by address. */
  first = route (f, "billing", NULL, "longest-idle", m);
  g_assert_cmpstr (first, ==, "alice bob dave erin");

  ea_router_memory_assigned (m, "alice@example.org", 1000);
  ea_router_memory_assigned (m, "dave@example.org", 500);
  second = route (f, "billing", NULL, "longest-idle", m);
  g_assert_cmpstr (second, ==, "bob erin dave alice");
}

static void
test_order_round_robin (Fixture *f, gconstpointer data)
{
  g_autoptr(EaRouterMemory) m = ea_router_memory_new (1);
  const char *expected[] = {
    "alice bob dave erin",
    "bob dave erin alice",
    "dave erin alice bob",
    "erin alice bob dave",
    "alice bob dave erin",
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *got = route (f, "billing", NULL, "round-robin", m);
      g_autofree char *first = g_strdup (got);

      g_assert_cmpstr (got, ==, expected[i]);
      *strchr (first, ' ') = '\0';
      {
        g_autofree char *addr = g_strdup_printf ("%s@example.org", first);

        ea_router_memory_offered (m, "billing", addr);
      }
    }

  /* The turn is per group. */
  {
    g_autofree char *tech = route (f, "tech", NULL, "round-robin", m);

    g_assert_cmpstr (tech, ==, "alice frank");
  }

  /* Someone leaving does not break the rotation. */
  ea_router_memory_offered (m, "billing", "bob@example.org");
  set_presence (f, "dave@example.org/d", "dnd", 0, TRUE, 0);
  {
    g_autofree char *got = route (f, "billing", NULL, "round-robin", m);

    g_assert_cmpstr (got, ==, "erin alice bob");
  }
}

static void
test_order_random (Fixture *f, gconstpointer data)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(EaRouterMemory) m1 = ea_router_memory_new (42);
  g_autoptr(EaRouterMemory) m2 = ea_router_memory_new (42);

  /* The same seed gives the same order: reproducible. */
  {
    g_autofree char *a = route (f, "billing", NULL, "random", m1);
    g_autofree char *b = route (f, "billing", NULL, "random", m2);

    g_assert_cmpstr (a, ==, b);
  }
  /* Every candidate is there, and many orders come up. */
  for (int i = 0; i < 200; i++)
    {
      char *got = route (f, "billing", NULL, "random", m1);
      g_auto(GStrv) parts = g_strsplit (got, " ", -1);

      g_assert_cmpuint (g_strv_length (parts), ==, 4);
      g_assert_true (g_strv_contains ((const char * const *) parts, "alice"));
      g_assert_true (g_strv_contains ((const char * const *) parts, "erin"));
      g_hash_table_add (seen, got);
    }
  g_assert_cmpuint (g_hash_table_size (seen), >, 12);
}

static void
test_filter_presence (Fixture *f, gconstpointer data)
{
  g_autofree char *got = NULL;

  set_presence (f, "bob@example.org/d", "away", 0, TRUE, 0);
  set_presence (f, "alice@example.org/d", "available", 0, TRUE, 2);
  ea_roster_set_presence (f->roster, "erin@example.org/d", NULL);
  got = route (f, "billing", NULL, "priority", NULL);
  /* bob away, alice full (2 of 2), erin offline. */
  g_assert_cmpstr (got, ==, "dave");
}

static void
test_filter_preferences (Fixture *f, gconstpointer data)
{
  struct {
    const char *group;
    const char *expert;
    const char *skills;
    const char *language;
    guint level;
    const char *expected;
  } cases[] = {
    { "billing", NULL, "refunds", NULL, 0, "bob alice dave" },
    { "billing", NULL, "refunds;chargebacks", NULL, 0, "alice dave" },
    { "billing", NULL, "Refunds", NULL, 0, "bob alice dave" },
    { "billing", NULL, NULL, "de", 0, "erin alice" },
    { "billing", NULL, NULL, NULL, 3, "alice dave" },
    /* alice's refunds are level 4, her chargebacks 2. */
    { "billing", NULL, "refunds", NULL, 4, "alice dave" },
    { "billing", NULL, "chargebacks", NULL, 3, "dave" },
    { "billing", "bob@example.org", NULL, NULL, 0, "bob" },
    { "billing", "Frank@Example.org", NULL, NULL, 0, "" },
    /* Without a group: every group's experts, each once. */
    { NULL, NULL, NULL, NULL, 4, "frank dave" },
    { NULL, NULL, NULL, "en", 0, "bob alice" },
    { NULL, NULL, "networks", NULL, 0, "frank" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      EaPreferences prefs = { 0 };
      g_autofree char *got = NULL;

      prefs.expert = g_strdup (cases[i].expert);
      prefs.skills = cases[i].skills ? g_strsplit (cases[i].skills, ";", -1) : NULL;
      prefs.language = g_strdup (cases[i].language);
      prefs.level = cases[i].level;
      got = route (f, cases[i].group, &prefs, "priority", NULL);
      g_test_message ("case %u: %s", i, got);
      g_assert_cmpstr (got, ==, cases[i].expected);
      ea_preferences_clear (&prefs);
    }
}

static void
test_count_possible (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) billing = groups_of (f, "billing");
  g_autoptr(GPtrArray) all = groups_of (f, NULL);
  EaPreferences de = { 0 };

  /* Present or not. */
  set_presence (f, "bob@example.org/d", "dnd", 0, TRUE, 0);
  g_assert_cmpuint (ea_router_count_possible (f->dir, billing, NULL, "carol@example.org"), ==, 4);
  g_assert_cmpuint (ea_router_count_possible (f->dir, all, NULL, "carol@example.org"), ==, 5);
  /* Never the user's own address. */
  g_assert_cmpuint (ea_router_count_possible (f->dir, billing, NULL, "alice@example.org"), ==, 3);
  de.language = g_strdup ("de");
  g_assert_cmpuint (ea_router_count_possible (f->dir, all, &de, "carol@example.org"), ==, 2);
  ea_preferences_clear (&de);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/router/interruptible/offline", test_offline_is_not_interruptible);
  ADD ("/router/interruptible/presence-list", test_presence_list);
  ADD ("/router/interruptible/capacity", test_capacity);
  ADD ("/router/interruptible/best-resource", test_best_resource);
  ADD ("/router/interruptible/self-never", test_self_never);
#undef ADD
#define TEAM(path, func) \
  g_test_add (path, Fixture, NULL, team_setup, func, fixture_teardown)
  TEAM ("/router/order/priority", test_order_priority);
  TEAM ("/router/order/fewest-sessions", test_order_fewest_sessions);
  TEAM ("/router/order/longest-idle", test_order_longest_idle);
  TEAM ("/router/order/round-robin", test_order_round_robin);
  TEAM ("/router/order/random", test_order_random);
  TEAM ("/router/filter/presence", test_filter_presence);
  TEAM ("/router/filter/preferences", test_filter_preferences);
  TEAM ("/router/count-possible", test_count_possible);
#undef TEAM

  return g_test_run ();
}
