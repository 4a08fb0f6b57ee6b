/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The router: who may be interrupted, who is a candidate for a request, in
 * which order. Pure functions of the directory and what is known of
 * presence, with no XMPP and no D-Bus, so every rule is unit-tested.
 */
#define G_LOG_DOMAIN "ea-router"

#include "config.h"

#include <string.h>

#include "ea-util.h"
#include "ea-router.h"

struct _EaRouterMemory {
  GHashTable *last_assigned;  /* address → gint64 (boxed) */
  GHashTable *cursor;         /* group key → address offered first last time */
  GRand *rand;
};

void
ea_preferences_clear (EaPreferences *prefs)
{
  g_clear_pointer (&prefs->expert, g_free);
  g_clear_pointer (&prefs->skills, g_strfreev);
  g_clear_pointer (&prefs->language, g_free);
  prefs->level = 0;
}

/**
 * ea_router_is_interruptible:
 * @contact: (nullable): what the roster knows of the expert
 * @own_address: the user's own address, never a candidate
 *
 * An expert may be interrupted in @group when its presence is one the
 * group allows and it has fewer sessions than its maximum.
 */
gboolean
ea_router_is_interruptible (EaDirGroup  *group,
                            EaDirExpert *expert,
                            EaContact   *contact,
                            const char  *own_address)
{
  if (expert == NULL)
    return FALSE;
  if (own_address != NULL && ea_jid_equal_bare (expert->address, own_address))
    return FALSE;
  if (!ea_dir_group_interrupts_on (group, ea_contact_status (contact)))
    return FALSE;
  return ea_contact_sessions (contact) < expert->max_sessions;
}

static gboolean
has_skill (EaDirExpert *e, const char *skill)
{
  for (guint i = 0; i < e->skills->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (e->skills, i), skill) == 0)
      return TRUE;
  return FALSE;
}

static guint
skill_level_ci (EaDirExpert *e, const char *skill)
{
  for (guint i = 0; i < e->skills->len; i++)
    {
      const char *s = g_ptr_array_index (e->skills, i);

      if (g_ascii_strcasecmp (s, skill) == 0)
        return ea_dir_expert_skill_level (e, s);
    }
  return e->level;
}

/**
 * ea_router_matches:
 *
 * The preferences an agent gave: the named expert, every requested skill,
 * the language, and a level of at least the one asked, checked against the
 * level of each requested skill when the directory gives one, else against
 * the expert's Level.
 */
gboolean
ea_router_matches (EaDirExpert *e, const EaPreferences *prefs)
{
  if (prefs == NULL)
    return TRUE;
  if (prefs->expert != NULL && !ea_jid_equal_bare (prefs->expert, e->address))
    return FALSE;
  for (guint i = 0; prefs->skills && prefs->skills[i]; i++)
    if (!has_skill (e, prefs->skills[i]))
      return FALSE;
  if (prefs->language != NULL && *prefs->language != '\0')
    {
      gboolean found = FALSE;

      for (guint i = 0; e->languages && e->languages[i] && !found; i++)
        found = g_ascii_strcasecmp (e->languages[i], prefs->language) == 0;
      if (!found)
        return FALSE;
    }
  if (prefs->level > 0)
    {
      if (prefs->skills != NULL && prefs->skills[0] != NULL)
        {
          for (guint i = 0; prefs->skills[i]; i++)
            if (skill_level_ci (e, prefs->skills[i]) < prefs->level)
              return FALSE;
        }
      else if (e->level < prefs->level)
        return FALSE;
    }
  return TRUE;
}

static EaCandidate *
find_candidate (GPtrArray *list, const char *address)
{
  for (guint i = 0; i < list->len; i++)
    {
      EaCandidate *c = g_ptr_array_index (list, i);

      if (g_str_equal (c->expert->address, address))
        return c;
    }
  return NULL;
}

/**
 * ea_router_candidates:
 * @groups: the groups asked (one, or every group open to the agent)
 * @interruptible_only: leave out those who may not be interrupted now
 *
 * Returns: (transfer container): #EaCandidate, each expert once (through
 * the first group in which it may be interrupted), in directory order.
 */
GPtrArray *
ea_router_candidates (EaDirectory         *directory,
                      GPtrArray           *groups,
                      const EaPreferences *prefs,
                      EaRoster            *roster,
                      const char          *own_address,
                      gboolean             interruptible_only)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < groups->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (groups, i);

      for (guint j = 0; j < g->experts->len; j++)
        {
          const char *address = g_ptr_array_index (g->experts, j);
          EaDirExpert *e = ea_directory_get_expert (directory, address);
          EaContact *contact;
          EaCandidate *c;
          gboolean interruptible;

          if (e == NULL || ea_jid_equal_bare (address, own_address))
            continue;
          if (!ea_router_matches (e, prefs))
            continue;
          contact = ea_roster_lookup (roster, address);
          interruptible = ea_router_is_interruptible (g, e, contact, own_address);
          if (interruptible_only && !interruptible)
            continue;

          c = find_candidate (out, e->address);
          if (c != NULL)
            {
              if (!c->interruptible && interruptible)
                {
                  c->group = g;
                  c->interruptible = TRUE;
                }
              continue;
            }
          c = g_new0 (EaCandidate, 1);
          c->expert = e;
          c->group = g;
          c->interruptible = interruptible;
          c->sessions = ea_contact_sessions (contact);
          g_ptr_array_add (out, c);
        }
    }
  return out;
}

/* How many experts could ever take the request, present or not: the bound
 * for "experts N". */
guint
ea_router_count_possible (EaDirectory         *directory,
                          GPtrArray           *groups,
                          const EaPreferences *prefs,
                          const char          *own_address)
{
  g_autoptr(EaRoster) empty = ea_roster_new ();
  g_autoptr(GPtrArray) all = ea_router_candidates (directory, groups, prefs, empty,
                                                   own_address, FALSE);

  return all->len;
}

/* ------------------------------------------------------------------ */
/* Ordering                                                            */
/* ------------------------------------------------------------------ */

static int
by_address (const EaCandidate *a, const EaCandidate *b)
{
  return strcmp (a->expert->address, b->expert->address);
}

static int
by_priority (gconstpointer pa, gconstpointer pb)
{
  const EaCandidate *a = *(EaCandidate **) pa, *b = *(EaCandidate **) pb;

  if (a->expert->priority != b->expert->priority)
    return a->expert->priority < b->expert->priority ? -1 : 1;
  return by_address (a, b);
}

static int
by_sessions (gconstpointer pa, gconstpointer pb)
{
  const EaCandidate *a = *(EaCandidate **) pa, *b = *(EaCandidate **) pb;

  if (a->sessions != b->sessions)
    return a->sessions < b->sessions ? -1 : 1;
  return by_address (a, b);
}

static int
by_address_only (gconstpointer pa, gconstpointer pb)
{
  return by_address (*(EaCandidate **) pa, *(EaCandidate **) pb);
}

static gint64
last_assigned (EaRouterMemory *m, const char *address)
{
  gint64 *t = m ? g_hash_table_lookup (m->last_assigned, address) : NULL;

  return t ? *t : 0;
}

static int
by_idle (gconstpointer pa, gconstpointer pb, gpointer data)
{
  const EaCandidate *a = *(EaCandidate **) pa, *b = *(EaCandidate **) pb;
  gint64 ta = last_assigned (data, a->expert->address);
  gint64 tb = last_assigned (data, b->expert->address);

  if (ta != tb)
    return ta < tb ? -1 : 1;
  return by_address (a, b);
}

/**
 * ea_router_order:
 * @order: priority | longest-idle | fewest-sessions | round-robin | random
 * @group_key: whose round-robin turn this is (the group id, or "" for a
 *   request by preferences)
 *
 * Sorts @candidates for offering. Ties go by address. longest-idle and
 * round-robin are as this daemon has seen them (its own assignments).
 */
void
ea_router_order (GPtrArray      *candidates,
                 const char     *order,
                 EaRouterMemory *memory,
                 const char     *group_key)
{
  if (order == NULL || g_str_equal (order, "priority"))
    g_ptr_array_sort (candidates, by_priority);
  else if (g_str_equal (order, "fewest-sessions"))
    g_ptr_array_sort (candidates, by_sessions);
  else if (g_str_equal (order, "longest-idle"))
    g_ptr_array_sort_with_data (candidates, by_idle, memory);
  else if (g_str_equal (order, "round-robin"))
    {
      const char *cursor = memory ? g_hash_table_lookup (memory->cursor, group_key) : NULL;
      guint start = 0;
      g_autoptr(GPtrArray) rotated = NULL;

      g_ptr_array_sort (candidates, by_address_only);
      if (cursor != NULL)
        {
          /* Start with the first one after the last one who went first. */
          while (start < candidates->len &&
                 strcmp (((EaCandidate *) g_ptr_array_index (candidates, start))->expert->address,
                         cursor) <= 0)
            start++;
          if (start == candidates->len)
            start = 0;
        }
      rotated = g_ptr_array_new ();
      for (guint i = 0; i < candidates->len; i++)
        g_ptr_array_add (rotated, g_ptr_array_index (candidates, (start + i) % candidates->len));
      for (guint i = 0; i < candidates->len; i++)
        candidates->pdata[i] = g_ptr_array_index (rotated, i);
    }
  else if (g_str_equal (order, "random"))
    {
      GRand *rand = memory ? memory->rand : NULL;

      g_ptr_array_sort (candidates, by_address_only);
      for (guint i = candidates->len; i > 1; i--)
        {
          guint j = (guint) (rand ? g_rand_int_range (rand, 0, (gint32) i)
                                  : g_random_int_range (0, (gint32) i));
          gpointer tmp = candidates->pdata[i - 1];

          candidates->pdata[i - 1] = candidates->pdata[j];
          candidates->pdata[j] = tmp;
        }
    }
  else
    g_ptr_array_sort (candidates, by_priority);
}

EaRouterMemory *
ea_router_memory_new (guint32 seed)
{
  EaRouterMemory *m = g_new0 (EaRouterMemory, 1);

  m->last_assigned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->cursor = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->rand = seed ? g_rand_new_with_seed (seed) : g_rand_new ();
  return m;
}

void
ea_router_memory_free (EaRouterMemory *m)
{
  if (m == NULL)
    return;
  g_hash_table_unref (m->last_assigned);
  g_hash_table_unref (m->cursor);
  g_rand_free (m->rand);
  g_free (m);
}

void
ea_router_memory_assigned (EaRouterMemory *m, const char *address, gint64 when)
{
  gint64 *t = g_new (gint64, 1);

  *t = when;
  g_hash_table_replace (m->last_assigned, g_strdup (address), t);
}

void
ea_router_memory_offered (EaRouterMemory *m, const char *group_key, const char *address)
{
  g_hash_table_replace (m->cursor, g_strdup (group_key), g_strdup (address));
}
