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

  return g_test_run ();
}
