/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Roster, presence and subscriptions: who the user's experts are, which of
 * them may be interrupted now, and the user's own presence (with its load,
 * for experts). Also answers the small iq queries every XMPP client must
 * (disco#info, ping) and refuses the rest politely.
 */
#define G_LOG_DOMAIN "ea-presence"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ea-util.h"
#include "ea-daemon-private.h"
#include "ea-daemon-rooms.h"
#include "ea-router.h"

static void
expert_state_free (gpointer data)
{
  EaExpertState *s = data;

  g_free (s->status);
  g_free (s);
}

void
ea_daemon_presence_init (EaDaemon *self)
{
  self->roster = ea_roster_new ();
  self->expert_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, expert_state_free);
  self->subscribe_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->caps_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->experts_dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->expert_groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_ptr_array_unref);
}

void
ea_daemon_presence_dispose (EaDaemon *self)
{
  g_clear_pointer (&self->roster, ea_roster_free);
  g_clear_pointer (&self->expert_states, g_hash_table_unref);
  g_clear_pointer (&self->subscribe_sent, g_hash_table_unref);
  g_clear_pointer (&self->caps_cache, g_hash_table_unref);
  g_clear_handle_id (&self->experts_idle, g_source_remove);
  g_clear_pointer (&self->experts_dirty, g_hash_table_unref);
  g_clear_pointer (&self->expert_groups, g_hash_table_unref);
}

const char *
ea_daemon_expert_status (EaDaemon *self, const char *address)
{
  return ea_contact_status (ea_roster_lookup (self->roster, address));
}

guint
ea_daemon_expert_sessions (EaDaemon *self, const char *address)
{
  return ea_contact_sessions (ea_roster_lookup (self->roster, address));
}

/* Interruptible in @group: a presence the group allows, fewer sessions than
 * the expert's maximum, and never the user's own address. */
gboolean
ea_daemon_is_interruptible (EaDaemon *self, EaDirExpert *expert, EaDirGroup *group)
{
  if (expert == NULL)
    return FALSE;
  return ea_router_is_interruptible (group, expert,
                                     ea_roster_lookup (self->roster, expert->address),
                                     ea_daemon_get_account (self));
}

#define EXPERTS_PER_PASS 200

/* Which open groups each expert is in: rebuilt when the directory changes,
 * so a presence costs the expert's own groups, not a scan of everyone. */
static void
rebuild_expert_groups (EaDaemon *self)
{
  g_autoptr(GPtrArray) open = ea_directory_open_groups (self->directory,
                                                        ea_daemon_get_account (self));

  g_hash_table_remove_all (self->expert_groups);
  for (guint i = 0; i < open->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (open, i);

      for (guint j = 0; j < g->experts->len; j++)
        {
          const char *address = g_ptr_array_index (g->experts, j);
          GPtrArray *groups = g_hash_table_lookup (self->expert_groups, address);

          if (groups == NULL)
            {
              groups = g_ptr_array_new ();
              g_hash_table_insert (self->expert_groups, g_strdup (address), groups);
            }
          g_ptr_array_add (groups, g);
        }
    }
}

static void
update_one (EaDaemon *self, const char *address)
{
  GPtrArray *groups = g_hash_table_lookup (self->expert_groups, address);
  EaDirExpert *e;
  EaExpertState *state;
  const char *status;
  gboolean interruptible = FALSE;

  if (groups == NULL)
    {
      /* Left every open group: forgotten quietly. */
      g_hash_table_remove (self->expert_states, address);
      return;
    }
  e = ea_directory_get_expert (self->directory, address);
  status = ea_daemon_expert_status (self, address);
  for (guint i = 0; i < groups->len && !interruptible; i++)
    interruptible = ea_daemon_is_interruptible (self, e, g_ptr_array_index (groups, i));

  state = g_hash_table_lookup (self->expert_states, address);
  if (state != NULL && g_strcmp0 (state->status, status) == 0 &&
      state->interruptible == interruptible)
    return;
  if (state == NULL)
    {
      state = g_new0 (EaExpertState, 1);
      g_hash_table_insert (self->expert_states, g_strdup (address), state);
    }
  g_free (state->status);
  state->status = g_strdup (status);
  state->interruptible = interruptible;

  {
    g_autofree char *who = ea_jid_short (address);

    g_debug ("expert %s: %s%s", who, status, interruptible ? ", interruptible" : "");
  }
  if (self->root != NULL)
    ea_expert_assist_emit_expert_changed (self->root, address, status, interruptible);
  /* Someone may now take a queued request. */
  ea_daemon_agent_kick (self);
}

/* Once per burst of presence, and at most EXPERTS_PER_PASS experts per
 * main-loop iteration: a storm of presence never stalls D-Bus. */
static gboolean
experts_idle_cb (gpointer data)
{
  EaDaemon *self = data;
  GHashTableIter iter;
  gpointer key;
  guint done = 0;

  g_hash_table_iter_init (&iter, self->experts_dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      update_one (self, key);
      g_hash_table_iter_remove (&iter);
      if (++done >= EXPERTS_PER_PASS)
        return G_SOURCE_CONTINUE;
    }
  self->experts_idle = 0;
  return G_SOURCE_REMOVE;
}

static void
schedule_experts (EaDaemon *self)
{
  if (self->experts_idle == 0)
    self->experts_idle = g_idle_add (experts_idle_cb, self);
}

/**
 * ea_daemon_expert_moved:
 *
 * What is known of @address (presence, load, daemon) changed: its
 * ExpertChanged is decided once the current burst is handled.
 */
void
ea_daemon_expert_moved (EaDaemon *self, const char *address)
{
  if (!g_hash_table_contains (self->expert_groups, address) &&
      !g_hash_table_contains (self->expert_states, address))
    return;
  g_hash_table_add (self->experts_dirty, g_strdup (address));
  schedule_experts (self);
}

/**
 * ea_daemon_update_experts:
 *
 * The directory (or the whole of presence) changed: every expert of the
 * groups open to the user is compared with what clients were last told,
 * and ExpertChanged emitted for each one that moved.
 */
void
ea_daemon_update_experts (EaDaemon *self)
{
  GHashTableIter iter;
  gpointer key;

  rebuild_expert_groups (self);
  g_hash_table_iter_init (&iter, self->expert_groups);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (self->experts_dirty, g_strdup (key));
  g_hash_table_iter_init (&iter, self->expert_states);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (self->experts_dirty, g_strdup (key));
  schedule_experts (self);
}

void
ea_daemon_send_own_presence (EaDaemon *self)
{
  g_autoptr(xmpp_stanza_t) p = NULL;
  EaDirExpert *me;

  if (!ea_xmpp_is_connected (self->xmpp) || !self->roster_loaded)
    return;
  if (g_strcmp0 (self->status, "offline") == 0)
    return;

  me = ea_directory_get_expert (self->directory, ea_daemon_get_account (self));
  p = ea_presence_build (ea_xmpp_get_ctx (self->xmpp), self->status, self->status_message,
                         me != NULL, self->own_sessions,
                         me ? me->max_sessions : 0);
  ea_xmpp_send (self->xmpp, p);
}

static void
send_presence_type (EaDaemon *self, const char *to, const char *type)
{
  g_autoptr(xmpp_stanza_t) p = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "presence",
                                              type, to, NULL);

  ea_xmpp_send (self->xmpp, p);
}

/* Whom this daemon lets see the user's presence without asking the user:
 * anyone the directory lists as agent or expert; with no [Agent] section
 * anywhere, anyone of the user's own domain. */
static gboolean
may_approve (EaDaemon *self, const char *address)
{
  g_autofree char *mine = ea_jid_domain (ea_daemon_get_account (self));
  g_autofree char *theirs = ea_jid_domain (address);

  if (ea_directory_is_listed (self->directory, address))
    return TRUE;
  if (!ea_directory_has_agents (self->directory) && g_strcmp0 (mine, theirs) == 0)
    return TRUE;
  return FALSE;
}

/**
 * ea_daemon_subscribe_experts:
 *
 * Asks for the presence of every expert of the groups open to the user
 * that the roster does not already give (shared roster groups do).
 */
void
ea_daemon_subscribe_experts (EaDaemon *self)
{
  g_autoptr(GPtrArray) open = NULL;

  if (!ea_xmpp_is_connected (self->xmpp) || !self->roster_loaded)
    return;

  open = ea_directory_open_groups (self->directory, ea_daemon_get_account (self));
  for (guint i = 0; i < open->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (open, i);

      for (guint j = 0; j < g->experts->len; j++)
        {
          const char *address = g_ptr_array_index (g->experts, j);
          EaContact *c = ea_roster_lookup (self->roster, address);

          if (ea_jid_equal_bare (address, ea_daemon_get_account (self)))
            continue;
          if (c != NULL && c->on_roster &&
              (g_strcmp0 (c->subscription, "to") == 0 ||
               g_strcmp0 (c->subscription, "both") == 0 || c->ask))
            continue;
          if (!g_hash_table_add (self->subscribe_sent, g_strdup (address)))
            continue;
          {
            g_autofree char *who = ea_jid_short (address);

            g_debug ("asking for the presence of %s", who);
          }
          send_presence_type (self, address, "subscribe");
        }
    }
}

/* ------------------------------------------------------------------ */
/* Roster                                                              */
/* ------------------------------------------------------------------ */

static gboolean
apply_roster_item (EaDaemon *self, xmpp_stanza_t *item)
{
  const char *jid = xmpp_stanza_get_attribute (item, "jid");
  const char *name = xmpp_stanza_get_attribute (item, "name");
  const char *subscription = xmpp_stanza_get_attribute (item, "subscription");
  const char *ask = xmpp_stanza_get_attribute (item, "ask");
  g_autoptr(GStrvBuilder) groups = g_strv_builder_new ();
  g_auto(GStrv) list = NULL;

  if (jid == NULL || !ea_jid_is_valid_bare (jid))
    return FALSE;
  if (g_strcmp0 (subscription, "remove") == 0)
    return ea_roster_remove_item (self->roster, jid);

  for (xmpp_stanza_t *c = xmpp_stanza_get_children (item); c; c = xmpp_stanza_get_next (c))
    {
      if (g_strcmp0 (xmpp_stanza_get_name (c), "group") == 0)
        {
          char *text = xmpp_stanza_get_text (c);

          if (text != NULL && g_utf8_validate (text, -1, NULL) && *text != '\0')
            g_strv_builder_add (groups, text);
          if (text != NULL)
            xmpp_free (xmpp_stanza_get_context (c), text);
        }
    }
  list = g_strv_builder_end (groups);
  return ea_roster_set_item (self->roster, jid,
                             name && g_utf8_validate (name, -1, NULL) ? name : NULL,
                             subscription, g_strcmp0 (ask, "subscribe") == 0,
                             (const char * const *) list);
}

static void
roster_result_cb (EaXmpp *xmpp, xmpp_stanza_t *reply, gpointer data)
{
  EaDaemon *self = data;
  xmpp_stanza_t *query;

  if (reply == NULL)
    return;
  if (!ea_stanza_is_type (reply, "result"))
    {
      g_message ("The server refused to send the roster");
      return;
    }

  ea_roster_clear_items (self->roster);
  query = ea_stanza_child (reply, "query", EA_NS_ROSTER);
  for (xmpp_stanza_t *c = query ? xmpp_stanza_get_children (query) : NULL; c;
       c = xmpp_stanza_get_next (c))
    if (g_strcmp0 (xmpp_stanza_get_name (c), "item") == 0)
      apply_roster_item (self, c);

  self->roster_loaded = TRUE;
  g_debug ("roster loaded");
  ea_daemon_directory_rebuild (self);
  /* After the roster: the server then probes our contacts' presence. */
  ea_daemon_send_own_presence (self);
  ea_daemon_subscribe_experts (self);
  ea_daemon_rooms_sync_group_rooms (self);
}

static void
request_roster (EaDaemon *self)
{
  g_autoptr(xmpp_stanza_t) iq = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "iq", "get",
                                               NULL, NULL);

  ea_stanza_add_child (iq, "query", EA_NS_ROSTER);
  ea_xmpp_send_iq (self->xmpp, iq, roster_result_cb, self);
}

static void
handle_roster_push (EaDaemon *self, xmpp_stanza_t *iq)
{
  const char *from = xmpp_stanza_get_from (iq);
  xmpp_stanza_t *query = ea_stanza_child (iq, "query", EA_NS_ROSTER);
  g_autoptr(xmpp_stanza_t) result = NULL;
  gboolean changed = FALSE;

  /* RFC 6121: a push comes from the server (no from) or our own bare address. */
  if (from != NULL && !(ea_jid_equal_bare (from, ea_daemon_get_account (self)) &&
                        ea_jid_resource (from) == NULL))
    {
      g_autofree char *who = ea_jid_short (from);

      g_message ("Ignoring a roster push from %s", who);
      return;
    }

  for (xmpp_stanza_t *c = xmpp_stanza_get_children (query); c; c = xmpp_stanza_get_next (c))
    if (g_strcmp0 (xmpp_stanza_get_name (c), "item") == 0)
      changed |= apply_roster_item (self, c);

  result = ea_stanza_iq_result (ea_xmpp_get_ctx (self->xmpp), iq);
  ea_xmpp_send (self->xmpp, result);

  if (changed)
    ea_daemon_directory_rebuild (self);
  ea_daemon_subscribe_experts (self);
}

/* ------------------------------------------------------------------ */
/* Presence                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
  EaDaemon *self;
  char *key;
} CapsQuery;

/* Iq callbacks always run, with NULL when the connection went first, and
 * the daemon drops its connection before anything else: self is valid. */
static void
caps_info_cb (EaXmpp *xmpp, xmpp_stanza_t *reply, gpointer data)
{
  CapsQuery *q = data;
  EaDaemon *self = q->self;
  g_autofree char *key = q->key;
  char *hash;
  gboolean daemon;

  g_free (q);
  if (reply == NULL || !ea_stanza_is_type (reply, "result"))
    {
      g_hash_table_remove (self->caps_cache, key);
      return;
    }

  daemon = ea_disco_info_has_feature (reply, EA_NS);
  g_hash_table_replace (self->caps_cache, g_strdup (key), GINT_TO_POINTER (daemon ? 1 : 2));
  hash = strchr (key, '#');
  if (hash != NULL)
    {
      *hash = '\0';
      ea_roster_mark_daemon_caps (self->roster, key, hash + 1, daemon);
      ea_daemon_update_experts (self);
    }
}

/* XEP-0115: learn once per caps version whether it is one of ours. */
static void
learn_caps (EaDaemon *self, const char *full_jid, EaPresence *p)
{
  g_autofree char *key = NULL;
  gpointer known;
  g_autoptr(xmpp_stanza_t) iq = NULL;
  xmpp_stanza_t *query;

  if (p->caps_node == NULL || p->caps_ver == NULL || p->has_daemon)
    return;
  key = g_strdup_printf ("%s#%s", p->caps_node, p->caps_ver);
  known = g_hash_table_lookup (self->caps_cache, key);
  if (known != NULL)
    {
      p->has_daemon = GPOINTER_TO_INT (known) == 1;
      return;
    }

  g_hash_table_insert (self->caps_cache, g_strdup (key), GINT_TO_POINTER (3));
  iq = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "iq", "get", full_jid, NULL);
  query = ea_stanza_add_child (iq, "query", EA_NS_DISCO_INFO);
  xmpp_stanza_set_attribute (query, "node", key);
  {
    CapsQuery *q = g_new0 (CapsQuery, 1);

    q->self = self;
    q->key = g_steal_pointer (&key);
    ea_xmpp_send_iq (self->xmpp, iq, caps_info_cb, q);
  }
}

static void
handle_presence (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *from = xmpp_stanza_get_from (stanza);
  const char *type = xmpp_stanza_get_type (stanza);
  g_autofree char *bare = NULL;

  if (from == NULL || !ea_jid_is_valid (from) || strchr (from, '@') == NULL)
    return;
  bare = ea_jid_bare (from);

  if (type == NULL || g_str_equal (type, "unavailable") || g_str_equal (type, "error"))
    {
      EaPresence p;
      gboolean changed;

      /* Presence from a room is the rooms' business, not the roster's. */
      if (ea_stanza_child (stanza, "x", EA_NS_MUC_USER) != NULL)
        return;
      if (ea_jid_equal_bare (bare, ea_daemon_get_account (self)))
        return;

      if (type == NULL && ea_presence_parse (stanza, &p))
        {
          EaContact *c = ea_roster_lookup (self->roster, bare);
          const char *resource = ea_jid_resource (from);
          gboolean new_resource = c == NULL || resource == NULL ||
                                  !g_hash_table_contains (c->resources, resource);

          learn_caps (self, from, &p);
          changed = ea_roster_set_presence (self->roster, from, &p);
          ea_presence_clear (&p);
          if (new_resource)
            ea_daemon_resend_kept_to (self, bare);
        }
      else if (g_strcmp0 (type, "error") == 0 && ea_jid_resource (from) == NULL)
        {
          /* An error for the bare address: nothing of it is reachable. */
          EaContact *c = ea_roster_lookup (self->roster, bare);

          changed = c != NULL && g_hash_table_size (c->resources) > 0;
          if (changed)
            {
              g_hash_table_remove_all (c->resources);
              ea_roster_set_presence (self->roster, from, NULL);
            }
        }
      else
        changed = ea_roster_set_presence (self->roster, from, NULL);

      if (changed)
        ea_daemon_expert_moved (self, bare);
      return;
    }

  if (g_str_equal (type, "subscribe"))
    {
      g_autofree char *who = ea_jid_short (bare);

      if (may_approve (self, bare))
        {
          g_debug ("approving %s's subscription", who);
          send_presence_type (self, bare, "subscribed");
        }
      else
        g_message ("Leaving %s's subscription request to the user: not in the directory", who);
      return;
    }

  /* subscribed, unsubscribe, unsubscribed, probe: the server keeps the
   * roster; its pushes tell us the outcome. */
}

/* ------------------------------------------------------------------ */
/* Iq                                                                  */
/* ------------------------------------------------------------------ */

static void
handle_iq (EaDaemon *self, xmpp_stanza_t *iq)
{
  const char *type = xmpp_stanza_get_type (iq);
  xmpp_ctx_t *ctx = ea_xmpp_get_ctx (self->xmpp);
  g_autoptr(xmpp_stanza_t) reply = NULL;

  if (g_strcmp0 (type, "get") != 0 && g_strcmp0 (type, "set") != 0)
    return;

  if (g_strcmp0 (type, "set") == 0 && ea_stanza_child (iq, "query", EA_NS_ROSTER) != NULL)
    {
      handle_roster_push (self, iq);
      return;
    }

  if (g_strcmp0 (type, "get") == 0 && ea_stanza_child (iq, "ping", EA_NS_PING) != NULL)
    reply = ea_stanza_iq_result (ctx, iq);
  else if (g_strcmp0 (type, "get") == 0 && ea_stanza_child (iq, "query", EA_NS_DISCO_INFO) != NULL)
    reply = ea_disco_info_result (ctx, iq);
  else
    reply = ea_stanza_iq_error (ctx, iq, "cancel", "service-unavailable");

  if (xmpp_stanza_get_from (iq) == NULL)
    xmpp_stanza_del_attribute (reply, "to");
  ea_xmpp_send (self->xmpp, reply);
}

/**
 * ea_daemon_presence_handle_stanza:
 *
 * Returns %TRUE when the stanza was about roster, presence or a basic iq
 * (and so is done with).
 */
gboolean
ea_daemon_presence_handle_stanza (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *name = xmpp_stanza_get_name (stanza);

  if (g_strcmp0 (name, "presence") == 0)
    {
      handle_presence (self, stanza);
      return TRUE;
    }
  if (g_strcmp0 (name, "iq") == 0)
    {
      handle_iq (self, stanza);
      return TRUE;
    }
  return FALSE;
}

/**
 * ea_daemon_presence_session_started:
 * @resumed: the previous stream was resumed: roster and presence are as
 *   they were, nothing to relearn
 */
void
ea_daemon_presence_session_started (EaDaemon *self, gboolean resumed)
{
  if (resumed && self->roster_loaded)
    {
      /* The own presence may have changed while the link was down. */
      ea_daemon_send_own_presence (self);
      return;
    }

  /* A fresh session: what we knew before the loss is dropped. */
  self->roster_loaded = FALSE;
  ea_roster_clear_presence (self->roster);
  g_hash_table_remove_all (self->subscribe_sent);
  g_hash_table_remove_all (self->caps_cache);
  ea_daemon_update_experts (self);
  request_roster (self);
}
