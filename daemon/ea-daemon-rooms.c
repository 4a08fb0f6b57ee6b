/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Multi-user chat rooms (XEP-0045): the groups' own rooms, where room mode
 * posts offers and where experts' daemons sit while connected, and the
 * ad-hoc members-only rooms of sessions with several experts. Tracks who
 * is in each room by real address (the rooms are non-anonymous), creates
 * and configures rooms that do not exist, and rejoins after a fresh
 * session.
 */
#define G_LOG_DOMAIN "ea-rooms"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ea-util.h"
#include "ea-daemon-private.h"
#include "ea-daemon-rooms.h"

#define JOIN_TIMEOUT_S 15

typedef struct {
  EaRoomReady callback;
  gpointer user_data;
} Waiter;

struct _EaRoom {
  EaDaemon *daemon;
  char *address;
  char *nick;
  char *group;            /* a group's own room, or NULL */
  char *session;          /* an ad-hoc session room, or NULL */
  EaRoomState state;
  gboolean adhoc;
  gboolean non_anonymous;
  gboolean wanted;
  char *error;
  GHashTable *occupants;  /* nick → real full address ("" when hidden) */
  GArray *waiters;        /* Waiter */
  guint timeout_id;
  guint nick_tries;
};

static void
room_free (gpointer data)
{
  EaRoom *room = data;

  g_clear_handle_id (&room->timeout_id, g_source_remove);
  g_free (room->address);
  g_free (room->nick);
  g_free (room->group);
  g_free (room->session);
  g_free (room->error);
  g_hash_table_unref (room->occupants);
  g_array_unref (room->waiters);
  g_free (room);
}

void
ea_daemon_rooms_init (EaDaemon *self)
{
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, room_free);
}

void
ea_daemon_rooms_dispose (EaDaemon *self)
{
  g_clear_pointer (&self->rooms, g_hash_table_unref);
  g_clear_pointer (&self->conference_service, g_free);
}

EaRoom *
ea_daemon_room_lookup (EaDaemon *self, const char *address)
{
  g_autofree char *bare = ea_jid_bare (address);

  if (bare == NULL || self->rooms == NULL)
    return NULL;
  return g_hash_table_lookup (self->rooms, bare);
}

const char *
ea_room_get_address (EaRoom *room)
{
  return room->address;
}

EaRoomState
ea_room_get_state (EaRoom *room)
{
  return room->state;
}

const char *
ea_room_get_error (EaRoom *room)
{
  return room->error;
}

gboolean
ea_room_is_joined (EaRoom *room)
{
  return room != NULL && room->state == EA_ROOM_JOINED;
}

gboolean
ea_room_non_anonymous (EaRoom *room)
{
  return room != NULL && room->non_anonymous;
}

const char *
ea_room_session (EaRoom *room)
{
  return room ? room->session : NULL;
}

const char *
ea_room_group (EaRoom *room)
{
  return room ? room->group : NULL;
}

const char *
ea_room_nick (EaRoom *room)
{
  return room->nick;
}

/* The real full address behind a nick, or NULL when unknown. */
const char *
ea_room_real_jid (EaRoom *room, const char *nick)
{
  const char *real;

  if (room == NULL || nick == NULL)
    return NULL;
  real = g_hash_table_lookup (room->occupants, nick);
  return real && *real ? real : NULL;
}

/* The bare addresses of everyone in the room but us. */
GPtrArray *
ea_room_occupants (EaRoom *room)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, room->occupants);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *real = value;

      if (g_strcmp0 (key, room->nick) == 0 || real == NULL || *real == '\0')
        continue;
      g_ptr_array_add (out, ea_jid_bare (real));
    }
  return out;
}

/* The full address of @bare in the room, if present. */
const char *
ea_room_find_occupant (EaRoom *room, const char *bare)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, room->occupants);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (value != NULL && *(const char *) value && ea_jid_equal_bare (value, bare) &&
        g_strcmp0 (key, room->nick) != 0)
      return value;
  return NULL;
}

static void
finish_waiters (EaRoom *room)
{
  g_autoptr(GArray) waiters = g_steal_pointer (&room->waiters);

  room->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
  g_clear_handle_id (&room->timeout_id, g_source_remove);
  for (guint i = 0; i < waiters->len; i++)
    {
      Waiter *w = &g_array_index (waiters, Waiter, i);

      w->callback (room->daemon, room, room->state == EA_ROOM_JOINED ? NULL : room->error,
                   w->user_data);
    }
}

static void
room_failed (EaRoom *room, const char *message)
{
  g_message ("Room %s: %s", room->address, message);
  room->state = EA_ROOM_FAILED;
  g_free (room->error);
  room->error = g_strdup (message);
  finish_waiters (room);
}

static gboolean
join_timeout_cb (gpointer data)
{
  EaRoom *room = data;

  room->timeout_id = 0;
  room_failed (room, _("the room did not answer in time"));
  return G_SOURCE_REMOVE;
}

static void
send_join (EaDaemon *self, EaRoom *room)
{
  g_autofree char *to = g_strdup_printf ("%s/%s", room->address, room->nick);
  g_autoptr(xmpp_stanza_t) p = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "presence",
                                              NULL, to, NULL);
  xmpp_stanza_t *x = ea_stanza_add_child (p, "x", EA_NS_MUC);
  xmpp_stanza_t *history = ea_stanza_add_child (x, "history", NULL);

  /* Old offers in the room's history are not offers any more. */
  xmpp_stanza_set_attribute (history, "maxstanzas", "0");
  room->state = EA_ROOM_JOINING;
  g_hash_table_remove_all (room->occupants);
  g_clear_handle_id (&room->timeout_id, g_source_remove);
  room->timeout_id = g_timeout_add_seconds (JOIN_TIMEOUT_S, join_timeout_cb, room);
  ea_xmpp_send (self->xmpp, p);
}

static void
add_field (xmpp_stanza_t *form, const char *var, const char *value)
{
  xmpp_stanza_t *field = ea_stanza_add_child (form, "field", NULL);

  xmpp_stanza_set_attribute (field, "var", var);
  ea_stanza_add_text (field, "value", NULL, value);
}

typedef struct {
  EaDaemon *self;
  char *address;
} RoomRef;

static void
configured_cb (EaXmpp *xmpp, xmpp_stanza_t *reply, gpointer data)
{
  RoomRef *ref = data;
  EaRoom *room = ea_daemon_room_lookup (ref->self, ref->address);

  g_free (ref->address);
  g_free (ref);
  if (room == NULL)
    return;
  if (reply == NULL || !ea_stanza_is_type (reply, "result"))
    {
      room_failed (room, _("the room could not be configured"));
      return;
    }
  room->non_anonymous = TRUE;
  room->state = EA_ROOM_JOINED;
  g_debug ("room %s created and configured", room->address);
  finish_waiters (room);
}

/* A room we just created is locked until configured: non-anonymous
 * always; a group's room persistent and open, a session's room temporary
 * and members-only. */
static void
configure_room (EaDaemon *self, EaRoom *room)
{
  g_autoptr(xmpp_stanza_t) iq = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "iq", "set",
                                               room->address, NULL);
  xmpp_stanza_t *query = ea_stanza_add_child (iq, "query", EA_NS_MUC_OWNER);
  xmpp_stanza_t *form = ea_stanza_add_child (query, "x", EA_NS_DATA);

  xmpp_stanza_set_attribute (form, "type", "submit");
  add_field (form, "FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig");
  add_field (form, "muc#roomconfig_whois", "anyone");
  add_field (form, "muc#roomconfig_persistentroom", room->adhoc ? "0" : "1");
  add_field (form, "muc#roomconfig_membersonly", room->adhoc ? "1" : "0");
  add_field (form, "muc#roomconfig_publicroom", "0");
  add_field (form, "muc#roomconfig_roomname",
             room->group ? room->group : _("Expert Assist session"));
  {
    RoomRef *ref = g_new0 (RoomRef, 1);

    ref->self = self;
    ref->address = g_strdup (room->address);
    ea_xmpp_send_iq (self->xmpp, iq, configured_cb, ref);
  }
}

static gboolean
has_status (xmpp_stanza_t *x, const char *code)
{
  for (xmpp_stanza_t *c = x ? xmpp_stanza_get_children (x) : NULL; c; c = xmpp_stanza_get_next (c))
    if (g_strcmp0 (xmpp_stanza_get_name (c), "status") == 0 &&
        g_strcmp0 (xmpp_stanza_get_attribute (c, "code"), code) == 0)
      return TRUE;
  return FALSE;
}

static void
handle_room_presence (EaDaemon *self, EaRoom *room, xmpp_stanza_t *stanza)
{
  const char *from = xmpp_stanza_get_from (stanza);
  const char *nick = ea_jid_resource (from);
  const char *type = xmpp_stanza_get_type (stanza);
  xmpp_stanza_t *x = ea_stanza_child (stanza, "x", EA_NS_MUC_USER);
  xmpp_stanza_t *item = ea_stanza_child (x, "item", NULL);
  const char *real = item ? xmpp_stanza_get_attribute (item, "jid") : NULL;
  gboolean self_presence = has_status (x, "110") || g_strcmp0 (nick, room->nick) == 0;

  if (g_strcmp0 (type, "error") == 0)
    {
      xmpp_stanza_t *error = ea_stanza_child (stanza, "error", NULL);

      if (room->state != EA_ROOM_JOINING)
        return;
      if (ea_stanza_child (error, "conflict", EA_NS_STANZAS) != NULL && room->nick_tries < 5)
        {
          /* Another desktop of ours is in the room under this nick. */
          g_autofree char *rand_id = ea_id_new ();
          g_autofree char *local = ea_jid_localpart (ea_daemon_get_account (self));

          room->nick_tries++;
          g_free (room->nick);
          room->nick = g_strdup_printf ("%s-%.4s", local ? local : "ea", rand_id);
          send_join (self, room);
          return;
        }
      room_failed (room, ea_stanza_child (error, "registration-required", EA_NS_STANZAS)
                           ? _("the room is members-only and this user is not a member")
                           : _("the server refused to let this user into the room"));
      return;
    }

  if (nick == NULL)
    return;

  if (g_strcmp0 (type, "unavailable") == 0)
    {
      g_hash_table_remove (room->occupants, nick);
      if (self_presence && room->state == EA_ROOM_JOINED)
        {
          /* Kicked, or the room went away. */
          room->state = EA_ROOM_IDLE;
          g_debug ("left room %s", room->address);
        }
      ea_daemon_rooms_changed (self, room);
      return;
    }
  if (type != NULL)
    return;

  g_hash_table_replace (room->occupants, g_strdup (nick),
                        g_strdup (real && ea_jid_is_valid (real) ? real : ""));

  if (self_presence && room->state == EA_ROOM_JOINING)
    {
      g_clear_handle_id (&room->timeout_id, g_source_remove);
      if (has_status (x, "201"))
        {
          g_debug ("room %s is new: configuring", room->address);
          configure_room (self, room);
          return;
        }
      room->non_anonymous = has_status (x, "100");
      room->state = EA_ROOM_JOINED;
      g_debug ("joined room %s%s", room->address,
               room->non_anonymous ? "" : " (semi-anonymous)");
      finish_waiters (room);
    }
  ea_daemon_rooms_changed (self, room);
}

/**
 * ea_daemon_rooms_handle_stanza:
 *
 * Presence from rooms we are in. Returns %TRUE when it was one.
 */
gboolean
ea_daemon_rooms_handle_stanza (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *from = xmpp_stanza_get_from (stanza);
  EaRoom *room;

  if (g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") != 0 || from == NULL)
    return FALSE;
  room = ea_daemon_room_lookup (self, from);
  if (room == NULL)
    return FALSE;
  handle_room_presence (self, room, stanza);
  return TRUE;
}

/**
 * ea_daemon_room_join:
 * @group: the group whose room it is, or %NULL
 * @session: the session whose room it is, or %NULL
 * @ready: (nullable): called once joined (error %NULL) or failed
 *
 * Joins @address (creating and configuring it when it does not exist).
 * Joining a room already joined calls @ready at once.
 */
EaRoom *
ea_daemon_room_join (EaDaemon    *self,
                     const char  *address,
                     const char  *group,
                     const char  *session,
                     EaRoomReady  ready,
                     gpointer     user_data)
{
  EaRoom *room = ea_daemon_room_lookup (self, address);

  if (room == NULL)
    {
      g_autofree char *local = ea_jid_localpart (ea_daemon_get_account (self));

      room = g_new0 (EaRoom, 1);
      room->daemon = self;
      room->address = ea_jid_bare (address);
      room->nick = g_strdup (local ? local : "expert-assist");
      room->group = g_strdup (group);
      room->session = g_strdup (session);
      room->adhoc = session != NULL;
      room->occupants = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      room->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
      g_hash_table_insert (self->rooms, room->address, room);
    }
  room->wanted = TRUE;

  if (ready != NULL)
    {
      Waiter w = { ready, user_data };

      if (room->state == EA_ROOM_JOINED)
        {
          ready (self, room, NULL, user_data);
          return room;
        }
      g_array_append_val (room->waiters, w);
    }

  if (room->state != EA_ROOM_JOINING && room->state != EA_ROOM_JOINED)
    {
      if (!ea_xmpp_is_connected (self->xmpp))
        {
          room->state = EA_ROOM_IDLE;
          g_free (room->error);
          room->error = g_strdup (_("not connected"));
          finish_waiters (room);
          return room;
        }
      send_join (self, room);
    }
  return room;
}

void
ea_daemon_room_leave (EaDaemon *self, const char *address)
{
  EaRoom *room = ea_daemon_room_lookup (self, address);

  if (room == NULL)
    return;
  if (room->state == EA_ROOM_JOINED || room->state == EA_ROOM_JOINING)
    {
      g_autofree char *to = g_strdup_printf ("%s/%s", room->address, room->nick);
      g_autoptr(xmpp_stanza_t) p = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "presence",
                                                  "unavailable", to, NULL);

      ea_xmpp_send (self->xmpp, p);
    }
  room->state = EA_ROOM_IDLE;
  finish_waiters (room);
  g_hash_table_remove (self->rooms, room->address);
}

/* Sends a groupchat message (a text, or a prepared stanza) to the room. */
void
ea_daemon_room_post (EaDaemon *self, EaRoom *room, xmpp_stanza_t *message)
{
  xmpp_stanza_set_to (message, room->address);
  xmpp_stanza_set_type (message, "groupchat");
  ea_xmpp_send (self->xmpp, message);
}

typedef struct {
  EaDaemon *self;
  EaRoomMemberDone done;
  gpointer user_data;
  char *member;
} MemberData;

static void
member_cb (EaXmpp *xmpp, xmpp_stanza_t *reply, gpointer data)
{
  MemberData *md = data;

  if (md->done != NULL)
    md->done (md->self, md->member,
              reply != NULL && ea_stanza_is_type (reply, "result"), md->user_data);
  g_free (md->member);
  g_free (md);
}

/* Makes @member a member of a members-only room (XEP-0045 10.5), then
 * invites it (XEP-0249) so that a plain client sees the room too. */
void
ea_daemon_room_add_member (EaDaemon         *self,
                           EaRoom           *room,
                           const char       *member,
                           EaRoomMemberDone  done,
                           gpointer          user_data)
{
  xmpp_ctx_t *ctx = ea_xmpp_get_ctx (self->xmpp);
  g_autoptr(xmpp_stanza_t) iq = ea_stanza_new (ctx, "iq", "set", room->address, NULL);
  xmpp_stanza_t *query = ea_stanza_add_child (iq, "query", EA_NS_MUC_ADMIN);
  xmpp_stanza_t *item = ea_stanza_add_child (query, "item", NULL);
  MemberData *md = g_new0 (MemberData, 1);
  g_autofree char *bare = ea_jid_bare (member);
  g_autoptr(xmpp_stanza_t) invite = NULL;
  xmpp_stanza_t *x;

  xmpp_stanza_set_attribute (item, "affiliation", "member");
  xmpp_stanza_set_attribute (item, "jid", bare);
  md->self = self;
  md->done = done;
  md->user_data = user_data;
  md->member = g_strdup (bare);
  ea_xmpp_send_iq (self->xmpp, iq, member_cb, md);

  invite = ea_stanza_new (ctx, "message", NULL, bare, NULL);
  x = ea_stanza_add_child (invite, "x", EA_NS_CONFERENCE);
  xmpp_stanza_set_attribute (x, "jid", room->address);
  xmpp_stanza_set_attribute (x, "reason", _("Expert Assist session"));
  ea_stanza_add_no_store (invite);
  ea_xmpp_send (self->xmpp, invite);
}

/* ------------------------------------------------------------------ */
/* The conference service, for ad-hoc rooms                            */
/* ------------------------------------------------------------------ */

typedef struct {
  EaDaemon *self;
  guint pending;
  gboolean found;
} DiscoState;

static void
finish_disco (DiscoState *st)
{
  EaDaemon *self = st->self;

  if (st->pending > 0)
    return;
  if (!st->found)
    g_message ("The server has no multi-user chat service: sessions with several experts "
               "cannot be set up");
  g_free (st);
  ea_daemon_rooms_conference_known (self);
}

static void
item_info_cb (EaXmpp *xmpp, xmpp_stanza_t *reply, gpointer data)
{
  DiscoState *st = data;
  EaDaemon *self = st->self;
  xmpp_stanza_t *query = reply ? ea_stanza_child (reply, "query", EA_NS_DISCO_INFO) : NULL;

  st->pending--;
  for (xmpp_stanza_t *c = query ? xmpp_stanza_get_children (query) : NULL; c;
       c = xmpp_stanza_get_next (c))
    {
      if (g_strcmp0 (xmpp_stanza_get_name (c), "identity") == 0 &&
          g_strcmp0 (xmpp_stanza_get_attribute (c, "category"), "conference") == 0 &&
          g_strcmp0 (xmpp_stanza_get_attribute (c, "type"), "text") == 0 &&
          self->conference_service == NULL && ea_stanza_is_type (reply, "result"))
        {
          self->conference_service = g_strdup (xmpp_stanza_get_from (reply));
          st->found = TRUE;
          g_debug ("conference service: %s", self->conference_service);
        }
    }
  finish_disco (st);
}

static void
items_cb (EaXmpp *xmpp, xmpp_stanza_t *reply, gpointer data)
{
  DiscoState *st = data;
  EaDaemon *self = st->self;
  xmpp_stanza_t *query = reply ? ea_stanza_child (reply, "query", EA_NS_DISCO_ITEMS) : NULL;

  st->pending--;
  for (xmpp_stanza_t *c = query ? xmpp_stanza_get_children (query) : NULL; c;
       c = xmpp_stanza_get_next (c))
    {
      const char *jid = xmpp_stanza_get_attribute (c, "jid");
      g_autoptr(xmpp_stanza_t) iq = NULL;

      if (g_strcmp0 (xmpp_stanza_get_name (c), "item") != 0 || jid == NULL ||
          !ea_jid_is_valid (jid) || xmpp_stanza_get_attribute (c, "node") != NULL)
        continue;
      iq = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "iq", "get", jid, NULL);
      ea_stanza_add_child (iq, "query", EA_NS_DISCO_INFO);
      st->pending++;
      ea_xmpp_send_iq (self->xmpp, iq, item_info_cb, st);
    }
  finish_disco (st);
}

/* disco#items on the server, then disco#info on each item, for the
 * conference/text service. */
void
ea_daemon_rooms_find_conference (EaDaemon *self)
{
  g_autofree char *domain = ea_jid_domain (ea_daemon_get_account (self));
  g_autoptr(xmpp_stanza_t) iq = NULL;
  DiscoState *st;

  if (self->conference_service != NULL || self->conference_asked || domain == NULL)
    return;
  self->conference_asked = TRUE;
  st = g_new0 (DiscoState, 1);
  st->self = self;
  st->pending = 1;
  iq = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "iq", "get", domain, NULL);
  ea_stanza_add_child (iq, "query", EA_NS_DISCO_ITEMS);
  ea_xmpp_send_iq (self->xmpp, iq, items_cb, st);
}

/* ------------------------------------------------------------------ */

/**
 * ea_daemon_rooms_session_started:
 *
 * After a fresh session every room is left (the server dropped us): the
 * wanted ones are joined again. After a resumed stream nothing changed.
 */
void
ea_daemon_rooms_session_started (EaDaemon *self, gboolean resumed)
{
  GHashTableIter iter;
  gpointer value;

  if (resumed)
    return;

  g_clear_pointer (&self->conference_service, g_free);
  self->conference_asked = FALSE;
  ea_daemon_rooms_find_conference (self);

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaRoom *room = value;

      room->state = EA_ROOM_IDLE;
      g_hash_table_remove_all (room->occupants);
      if (room->wanted)
        send_join (self, room);
    }
}

/**
 * ea_daemon_rooms_sync_group_rooms:
 *
 * An expert's daemon sits in the rooms of its groups (as the keyfile
 * names them) while connected, so room-mode offers reach it.
 */
void
ea_daemon_rooms_sync_group_rooms (EaDaemon *self)
{
  g_autoptr(GPtrArray) mine = NULL;
  g_autoptr(GHashTable) want = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) leave = g_ptr_array_new_with_free_func (g_free);

  if (!ea_xmpp_is_connected (self->xmpp))
    return;
  mine = ea_directory_groups_of_expert (self->directory, ea_daemon_get_account (self), TRUE);
  for (guint i = 0; i < mine->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (mine, i);

      if (g->address == NULL)
        continue;
      g_hash_table_add (want, g->address);
      if (ea_daemon_room_lookup (self, g->address) == NULL)
        ea_daemon_room_join (self, g->address, g->id, NULL, NULL, NULL);
    }

  /* Group rooms of groups we are no longer in (agents keep theirs). */
  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaRoom *room = value;

      if (room->group != NULL && !room->adhoc && !g_hash_table_contains (want, room->address) &&
          !ea_daemon_agent_uses_room (self, room->address))
        g_ptr_array_add (leave, g_strdup (room->address));
    }
  for (guint i = 0; i < leave->len; i++)
    ea_daemon_room_leave (self, g_ptr_array_index (leave, i));
}
