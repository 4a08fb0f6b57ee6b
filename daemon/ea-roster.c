/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The user's roster and what is known of every contact's presence, per
 * resource. A contact's status is that of its best resource: the highest
 * priority, then the most reachable show, then the most recent.
 */
#define G_LOG_DOMAIN "ea-roster"

#include "config.h"

#include <string.h>

#include "ea-util.h"
#include "ea-roster.h"

struct _EaRoster {
  GHashTable *contacts; /* address → EaContact */
};

void
ea_presence_clear (EaPresence *p)
{
  g_clear_pointer (&p->show, g_free);
  g_clear_pointer (&p->message, g_free);
  g_clear_pointer (&p->caps_node, g_free);
  g_clear_pointer (&p->caps_ver, g_free);
  memset (p, 0, sizeof *p);
}

static void
resource_free (gpointer data)
{
  EaResource *r = data;

  g_free (r->resource);
  ea_presence_clear (&r->p);
  g_free (r);
}

static void
contact_free (gpointer data)
{
  EaContact *c = data;

  g_free (c->address);
  g_free (c->name);
  g_free (c->subscription);
  g_free (c->last_status);
  g_strfreev (c->groups);
  g_hash_table_unref (c->resources);
  g_free (c);
}

EaRoster *
ea_roster_new (void)
{
  EaRoster *self = g_new0 (EaRoster, 1);

  self->contacts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, contact_free);
  return self;
}

void
ea_roster_free (EaRoster *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->contacts);
  g_free (self);
}

EaContact *
ea_roster_lookup (EaRoster *self, const char *address)
{
  g_autofree char *bare = ea_jid_bare (address);

  if (bare == NULL)
    return NULL;
  return g_hash_table_lookup (self->contacts, bare);
}

static EaContact *
ensure_contact (EaRoster *self, const char *address)
{
  g_autofree char *bare = ea_jid_bare (address);
  EaContact *c = g_hash_table_lookup (self->contacts, bare);

  if (c == NULL)
    {
      c = g_new0 (EaContact, 1);
      c->address = g_steal_pointer (&bare);
      c->resources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, resource_free);
      c->last_status = g_strdup ("offline");
      c->status_since = g_get_real_time ();
      g_hash_table_insert (self->contacts, c->address, c);
    }
  return c;
}

static int
compare_addresses (gconstpointer a, gconstpointer b)
{
  return strcmp (((const EaContact *) a)->address, ((const EaContact *) b)->address);
}

/* The contacts on the roster (not those only seen in presence), by address. */
GList *
ea_roster_get_items (EaRoster *self)
{
  GList *out = NULL;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((EaContact *) value)->on_roster)
      out = g_list_prepend (out, value);
  return g_list_sort (out, compare_addresses);
}

static gboolean
strv_equal (const char * const *a, const char * const *b)
{
  if (a == NULL || b == NULL)
    return (a == NULL || *a == NULL) && (b == NULL || *b == NULL);
  return g_strv_equal (a, b);
}

/* Returns whether the name or the groups changed (what the directory reads). */
gboolean
ea_roster_set_item (EaRoster           *self,
                    const char         *address,
                    const char         *name,
                    const char         *subscription,
                    gboolean            ask,
                    const char * const *groups)
{
  EaContact *c = ensure_contact (self, address);
  gboolean changed = !c->on_roster ||
                     g_strcmp0 (c->name, name) != 0 ||
                     !strv_equal ((const char * const *) c->groups, groups);

  c->on_roster = TRUE;
  g_free (c->name);
  c->name = g_strdup (name);
  g_free (c->subscription);
  c->subscription = g_strdup (subscription ? subscription : "none");
  c->ask = ask;
  g_strfreev (c->groups);
  c->groups = g_strdupv ((char **) groups);
  return changed;
}

gboolean
ea_roster_remove_item (EaRoster *self, const char *address)
{
  EaContact *c = ea_roster_lookup (self, address);

  if (c == NULL || !c->on_roster)
    return FALSE;
  c->on_roster = FALSE;
  g_clear_pointer (&c->groups, g_strfreev);
  g_clear_pointer (&c->name, g_free);
  g_free (c->subscription);
  c->subscription = g_strdup ("none");
  c->ask = FALSE;
  return TRUE;
}

void
ea_roster_clear_items (EaRoster *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaContact *c = value;

      c->on_roster = FALSE;
      g_clear_pointer (&c->groups, g_strfreev);
    }
}

EaResource *
ea_contact_best (EaContact *c)
{
  GHashTableIter iter;
  gpointer value;
  EaResource *best = NULL;

  if (c == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, c->resources);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaResource *r = value;

      if (r->p.priority < 0)
        continue;
      if (best == NULL || r->p.priority > best->p.priority ||
          (r->p.priority == best->p.priority &&
           (ea_status_rank (r->p.show) > ea_status_rank (best->p.show) ||
            (ea_status_rank (r->p.show) == ea_status_rank (best->p.show) &&
             (r->since > best->since ||
              (r->since == best->since && strcmp (r->resource, best->resource) < 0))))))
        best = r;
    }
  return best;
}

const char *
ea_contact_status (EaContact *c)
{
  EaResource *best = ea_contact_best (c);

  return best ? best->p.show : "offline";
}

/* The load an expert's daemon publishes; an expert without a daemon counts
 * as having no sessions. */
guint
ea_contact_sessions (EaContact *c)
{
  GHashTableIter iter;
  gpointer value;
  guint sessions = 0;

  if (c == NULL)
    return 0;
  g_hash_table_iter_init (&iter, c->resources);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaResource *r = value;

      if (r->p.has_load)
        sessions = MAX (sessions, r->p.sessions);
    }
  return sessions;
}

const char *
ea_contact_daemon_resource (EaContact *c)
{
  GHashTableIter iter;
  gpointer value;
  EaResource *found = NULL;

  if (c == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, c->resources);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaResource *r = value;

      if (r->p.has_daemon && (found == NULL || r->since > found->since))
        found = r;
    }
  return found ? found->resource : NULL;
}

static void
note_status (EaContact *c)
{
  const char *now = ea_contact_status (c);

  if (g_strcmp0 (c->last_status, now) != 0)
    {
      g_free (c->last_status);
      c->last_status = g_strdup (now);
      c->status_since = g_get_real_time ();
    }
}

/**
 * ea_roster_set_presence:
 * @presence: (nullable) (transfer full): what the resource now says, or
 *   %NULL when it went unavailable; its contents are taken over
 *
 * Returns whether anything about the contact that others depend on (best
 * status, load, daemon) changed.
 */
gboolean
ea_roster_set_presence (EaRoster *self, const char *full_jid, EaPresence *presence)
{
  EaContact *c;
  const char *resource = ea_jid_resource (full_jid);
  g_autofree char *before_show = NULL;
  guint before_sessions;
  gboolean before_daemon;
  EaResource *r;

  if (resource == NULL)
    resource = "";

  c = presence ? ensure_contact (self, full_jid) : ea_roster_lookup (self, full_jid);
  if (c == NULL)
    return FALSE;

  before_show = g_strdup (ea_contact_status (c));
  before_sessions = ea_contact_sessions (c);
  before_daemon = ea_contact_daemon_resource (c) != NULL;

  if (presence == NULL)
    g_hash_table_remove (c->resources, resource);
  else
    {
      r = g_hash_table_lookup (c->resources, resource);
      if (r == NULL)
        {
          r = g_new0 (EaResource, 1);
          r->resource = g_strdup (resource);
          g_hash_table_insert (c->resources, r->resource, r);
        }
      /* A presence without caps keeps what the resource told before. */
      if (presence->caps_node == NULL && r->p.caps_node != NULL)
        {
          presence->caps_node = g_steal_pointer (&r->p.caps_node);
          presence->caps_ver = g_steal_pointer (&r->p.caps_ver);
          presence->has_daemon = presence->has_daemon || r->p.has_daemon;
        }
      ea_presence_clear (&r->p);
      r->p = *presence;
      memset (presence, 0, sizeof *presence);
      r->since = g_get_real_time ();
    }

  note_status (c);
  return g_strcmp0 (before_show, ea_contact_status (c)) != 0 ||
         before_sessions != ea_contact_sessions (c) ||
         before_daemon != (ea_contact_daemon_resource (c) != NULL);
}

void
ea_roster_clear_presence (EaRoster *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaContact *c = value;

      g_hash_table_remove_all (c->resources);
      note_status (c);
    }
}

/* A disco#info answer for a caps node#ver tells every resource that
 * advertises the same caps whether it runs a daemon. */
void
ea_roster_mark_daemon_caps (EaRoster *self, const char *node, const char *ver, gboolean has_daemon)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaContact *c = value;
      GHashTableIter riter;
      gpointer rvalue;

      g_hash_table_iter_init (&riter, c->resources);
      while (g_hash_table_iter_next (&riter, NULL, &rvalue))
        {
          EaResource *r = rvalue;

          if (g_strcmp0 (r->p.caps_node, node) == 0 && g_strcmp0 (r->p.caps_ver, ver) == 0)
            r->p.has_daemon = has_daemon;
        }
    }
}
