/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sessions: the chat between an agent and its expert(s), on both desktops
 * under the same id. One expert: ordinary type='chat' messages with the
 * session id as <thread>, XEP-0085 chat states and XEP-0184 receipts.
 * Several: an ad-hoc members-only room. A message is written to the log
 * before it is acknowledged (Send's reply, the receipt), so a SIGKILL
 * never loses what was acknowledged.
 */
#define G_LOG_DOMAIN "ea-chat"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ea-error.h"
#include "ea-util.h"
#include "ea-daemon-private.h"
#include "ea-daemon-rooms.h"

struct _EaSession {
  EaDaemon *daemon;
  char *id;
  char *path;
  char *request;
  char *role;
  char *group;
  char *summary;
  GPtrArray *participants;  /* bare addresses, ours included */
  GHashTable *peer_full;    /* bare → full address answers go to */
  char *room;
  char *state;
  gint64 started;
  gint64 ended;
  gint64 last_active;
  GHashTable *typing;       /* bare → TRUE while composing */
  gboolean typing_sent;
  EaObjectSkeleton *object;
  EaExpertAssistSession *iface;
};

static void
session_free (gpointer data)
{
  EaSession *s = data;

  g_free (s->id);
  g_free (s->path);
  g_free (s->request);
  g_free (s->role);
  g_free (s->group);
  g_free (s->summary);
  g_ptr_array_unref (s->participants);
  g_hash_table_unref (s->peer_full);
  g_free (s->room);
  g_free (s->state);
  g_hash_table_unref (s->typing);
  g_clear_object (&s->object);
  g_clear_object (&s->iface);
  g_free (s);
}

const char *
ea_session_get_path (EaSession *s)
{
  return s->path;
}

const char *
ea_session_get_id (EaSession *s)
{
  return s->id;
}

gboolean
ea_session_is_open (EaSession *s)
{
  return g_str_equal (s->state, "open");
}

EaSession *
ea_daemon_session_lookup (EaDaemon *self, const char *id)
{
  if (id == NULL || self->sessions == NULL)
    return NULL;
  return g_hash_table_lookup (self->sessions, id);
}

static gboolean
is_participant (EaSession *s, const char *address)
{
  for (guint i = 0; i < s->participants->len; i++)
    if (ea_jid_equal_bare (g_ptr_array_index (s->participants, i), address))
      return TRUE;
  return FALSE;
}

static const char * const *
participants_strv (EaSession *s)
{
  g_ptr_array_add (s->participants, NULL);
  g_ptr_array_set_size (s->participants, s->participants->len - 1);
  return (const char * const *) s->participants->pdata;
}

guint
ea_daemon_open_expert_sessions (EaDaemon *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  if (self->sessions == NULL)
    return 0;
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaSession *s = value;

      if (ea_session_is_open (s) && g_str_equal (s->role, "expert"))
        n++;
    }
  return n;
}

/* The expert's load is in its presence: agents' daemons read it. */
static void
load_changed (EaDaemon *self)
{
  guint n = ea_daemon_open_expert_sessions (self);

  if (n == self->own_sessions)
    return;
  self->own_sessions = n;
  ea_daemon_send_own_presence (self);
}

static void
session_save (EaSession *s)
{
  EaStoreSession row = { 0 };

  if (s->daemon->store == NULL)
    return;
  row.id = s->id;
  row.request = s->request;
  row.role = s->role;
  row.group = s->group;
  row.summary = s->summary;
  row.participants = participants_strv (s);
  row.room = s->room;
  row.state = s->state;
  row.started = s->started;
  row.ended = s->ended;
  ea_store_put_session (s->daemon->store, &row, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

static const char *
own (EaSession *s)
{
  return ea_daemon_get_account (s->daemon);
}

/* The addresses a one-to-one session's stanzas go to: the agent's daemon
 * writes to its experts' bare addresses (the server finds their daemon,
 * restarted or not), the expert's daemon to the full address the agent's
 * daemon last wrote from. */
static GPtrArray *
targets (EaSession *s)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  gboolean agent = g_str_equal (s->role, "agent");

  for (guint i = 0; i < s->participants->len; i++)
    {
      const char *who = g_ptr_array_index (s->participants, i);
      const char *full = agent ? NULL : g_hash_table_lookup (s->peer_full, who);

      if (ea_jid_equal_bare (who, own (s)))
        continue;
      g_ptr_array_add (out, g_strdup (full ? full : who));
    }
  return out;
}

static void
send_chat_state (EaSession *s, const char *state)
{
  EaDaemon *self = s->daemon;
  g_autoptr(GPtrArray) to = NULL;

  if (!ea_xmpp_is_connected (self->xmpp))
    return;
  if (s->room != NULL)
    {
      EaRoom *room = ea_daemon_room_lookup (self, s->room);
      g_autoptr(xmpp_stanza_t) m = NULL;

      if (!ea_room_is_joined (room))
        return;
      m = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "message", "groupchat", s->room, NULL);
      ea_stanza_add_child (m, state, EA_NS_CHATSTATES);
      ea_stanza_add_child (m, "no-store", EA_NS_HINTS);
      ea_xmpp_send (self->xmpp, m);
      return;
    }
  to = targets (s);
  for (guint i = 0; i < to->len; i++)
    {
      g_autoptr(xmpp_stanza_t) m = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "message",
                                                  "chat", g_ptr_array_index (to, i), NULL);

      ea_stanza_add_child (m, state, EA_NS_CHATSTATES);
      ea_stanza_add_text (m, "thread", NULL, s->id);
      ea_stanza_add_child (m, "no-store", EA_NS_HINTS);
      ea_xmpp_send (self->xmpp, m);
    }
}

static void
transmit (EaSession *s, const char *id, const char *text)
{
  EaDaemon *self = s->daemon;
  xmpp_ctx_t *ctx = ea_xmpp_get_ctx (self->xmpp);

  if (s->room != NULL)
    {
      EaRoom *room = ea_daemon_room_lookup (self, s->room);
      g_autoptr(xmpp_stanza_t) m = ea_stanza_new (ctx, "message", "groupchat", s->room, id);
      g_autofree char *key = g_strdup_printf ("msg:%s", id);

      ea_stanza_add_text (m, "body", NULL, text);
      ea_stanza_add_child (m, "active", EA_NS_CHATSTATES);
      if (ea_room_is_joined (room))
        ea_daemon_send_kept (self, m, key);
      return;
    }

  {
    g_autoptr(GPtrArray) to = targets (s);

    for (guint i = 0; i < to->len; i++)
      {
        g_autoptr(xmpp_stanza_t) m = ea_stanza_new (ctx, "message", "chat",
                                                    g_ptr_array_index (to, i), id);
        g_autofree char *key = g_strdup_printf ("msg:%s", id);

        ea_stanza_add_text (m, "body", NULL, text);
        ea_stanza_add_text (m, "thread", NULL, s->id);
        ea_stanza_add_child (m, "active", EA_NS_CHATSTATES);
        ea_stanza_add_child (m, "request", EA_NS_RECEIPTS);
        ea_daemon_send_kept (self, m, key);
      }
  }
}

typedef struct {
  EaSession *session;
  EaDaemon *daemon;
  char *session_id;
  char *id;
  char *text;
  GDBusMethodInvocation *invocation;
} SendData;

static void
send_data_free (SendData *d)
{
  g_free (d->session_id);
  g_free (d->id);
  g_free (d->text);
  g_clear_object (&d->invocation);
  g_free (d);
}

static void
stored_outgoing_cb (GError *error, gpointer data)
{
  SendData *d = data;
  EaSession *s = ea_daemon_session_lookup (d->daemon, d->session_id);

  if (error != NULL)
    {
      if (d->invocation != NULL)
        g_dbus_method_invocation_return_error (g_steal_pointer (&d->invocation), EA_ERROR,
                                               EA_ERROR_FAILED,
                                               _("The message could not be saved, so it was not "
                                                 "sent: %s"), error->message);
      send_data_free (d);
      return;
    }
  /* Written: now it may leave, and Send may answer. */
  if (s != NULL)
    transmit (s, d->id, d->text);
  if (d->invocation != NULL && s != NULL)
    ea_expert_assist_session_complete_send (s->iface, g_steal_pointer (&d->invocation), d->id);
  else if (d->invocation != NULL)
    g_dbus_method_invocation_return_error_literal (g_steal_pointer (&d->invocation), EA_ERROR,
                                                   EA_ERROR_FAILED, _("The session is gone."));
  send_data_free (d);
}

static void
send_text (EaSession *s, const char *text, GDBusMethodInvocation *invocation)
{
  EaDaemon *self = s->daemon;
  SendData *d = g_new0 (SendData, 1);
  EaStoreMessage m = { 0 };

  d->daemon = self;
  d->session_id = g_strdup (s->id);
  d->id = ea_id_new ();
  d->text = g_strdup (text);
  d->invocation = invocation ? g_object_ref (invocation) : NULL;
  s->last_active = g_get_monotonic_time ();
  s->typing_sent = FALSE;

  m.session = s->id;
  m.id = d->id;
  m.time = g_get_real_time ();
  m.sender = own (s);
  m.text = text;
  m.outgoing = TRUE;
  if (self->store != NULL)
    ea_store_put_message (self->store, &m, stored_outgoing_cb, d);
  else
    stored_outgoing_cb (NULL, d);
}

void
ea_daemon_session_send_text (EaDaemon *self, EaSession *s, const char *text)
{
  send_text (s, text, NULL);
}

/* ------------------------------------------------------------------ */
/* D-Bus                                                               */
/* ------------------------------------------------------------------ */

static gboolean
handle_send (EaExpertAssistSession *iface, GDBusMethodInvocation *invocation,
             const char *text, gpointer data)
{
  EaSession *s = data;

  if (!ea_session_is_open (s))
    {
      g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_FAILED,
                                                     _("The session is closed: nothing can be "
                                                       "sent in it any more."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (*text == '\0' || strlen (text) > EA_MAX_MESSAGE_BYTES)
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_INVALID_ARGS,
                                             _("A message must have 1 to %d bytes."),
                                             EA_MAX_MESSAGE_BYTES);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!ea_xmpp_is_connected (s->daemon->xmpp))
    {
      g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_NOT_CONNECTED,
                                                     _("Not connected to the XMPP server: the "
                                                       "message cannot be sent now."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  send_text (s, text, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
messages_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GDBusMethodInvocation *invocation = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) messages = ea_store_get_messages_finish (EA_STORE (source), res, &error);

  if (messages == NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new_tuple (&messages, 1));
}

static gboolean
handle_get_messages (EaExpertAssistSession *iface, GDBusMethodInvocation *invocation,
                     guint limit, gpointer data)
{
  EaSession *s = data;

  if (s->daemon->store == NULL)
    {
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(sxss))", NULL));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  ea_store_get_messages (s->daemon->store, s->id, limit, NULL, messages_cb,
                         g_object_ref (invocation));
  g_object_unref (invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_typing (EaExpertAssistSession *iface, GDBusMethodInvocation *invocation,
                   gboolean typing, gpointer data)
{
  EaSession *s = data;

  if (!ea_session_is_open (s))
    {
      g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_FAILED,
                                                     _("The session is closed."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (typing != s->typing_sent)
    {
      s->typing_sent = typing;
      send_chat_state (s, typing ? "composing" : "paused");
    }
  ea_expert_assist_session_complete_set_typing (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_close (EaExpertAssistSession *iface, GDBusMethodInvocation *invocation, gpointer data)
{
  EaSession *s = data;

  if (!ea_session_is_open (s))
    {
      g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_FAILED,
                                                     _("The session is already closed."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  ea_daemon_session_close (s->daemon, s, TRUE);
  ea_expert_assist_session_complete_close (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
export_session (EaDaemon *self, EaSession *s)
{
  s->path = g_strdup_printf (EA_DBUS_PATH "/session/%s", s->id);
  s->object = ea_object_skeleton_new (s->path);
  s->iface = ea_expert_assist_session_skeleton_new ();
  ea_expert_assist_session_set_id (s->iface, s->id);
  ea_expert_assist_session_set_request (s->iface, s->request);
  ea_expert_assist_session_set_role (s->iface, s->role);
  ea_expert_assist_session_set_participants (s->iface, participants_strv (s));
  ea_expert_assist_session_set_state (s->iface, s->state);
  ea_expert_assist_session_set_started (s->iface, s->started);
  ea_expert_assist_session_set_ended (s->iface, s->ended);
  g_signal_connect (s->iface, "handle-send", G_CALLBACK (handle_send), s);
  g_signal_connect (s->iface, "handle-get-messages", G_CALLBACK (handle_get_messages), s);
  g_signal_connect (s->iface, "handle-set-typing", G_CALLBACK (handle_set_typing), s);
  g_signal_connect (s->iface, "handle-close", G_CALLBACK (handle_close), s);
  ea_object_skeleton_set_expert_assist_session (s->object, s->iface);
  ea_daemon_export_object (self, s->object);
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                 */
/* ------------------------------------------------------------------ */

static EaSession *
session_new (EaDaemon *self, const char *id, const char *request_id, const char *role,
             const char *group, const char *summary)
{
  EaSession *s = g_new0 (EaSession, 1);

  s->daemon = self;
  s->id = g_strdup (id);
  s->request = g_strdup (request_id);
  s->role = g_strdup (role);
  s->group = g_strdup (group ? group : "");
  s->summary = g_strdup (summary ? summary : "");
  s->participants = g_ptr_array_new_with_free_func (g_free);
  s->peer_full = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->typing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->state = g_strdup ("open");
  s->started = g_get_real_time ();
  s->last_active = g_get_monotonic_time ();
  return s;
}

void
ea_daemon_session_add_participant (EaDaemon   *self,
                                   EaSession  *s,
                                   const char *address,
                                   const char *full_jid)
{
  g_autofree char *bare = ea_jid_bare (address);

  if (!is_participant (s, bare))
    {
      g_ptr_array_add (s->participants, g_strdup (bare));
      if (s->iface != NULL)
        ea_expert_assist_session_set_participants (s->iface, participants_strv (s));
      session_save (s);
    }
  if (full_jid != NULL && !ea_jid_equal_bare (bare, ea_daemon_get_account (self)))
    g_hash_table_replace (s->peer_full, g_strdup (bare), g_strdup (full_jid));
}

static void
session_room_ready_cb (EaDaemon *self, EaRoom *room, const char *error, gpointer data)
{
  g_autofree char *id = data;
  EaSession *s = ea_daemon_session_lookup (self, id);

  if (s == NULL || error == NULL)
    return;
  g_warning ("Cannot join the room %s of session %.8s: %s", s->room, s->id, error);
}

/**
 * ea_daemon_session_open:
 * @participants: bare addresses, the user's own included
 * @peer_full: (nullable): the full address of the one other party of a
 *   one-to-one session, when known
 * @room: (nullable): the room of a session with several experts
 *
 * Opens and exports a session, or returns the one with this id.
 */
EaSession *
ea_daemon_session_open (EaDaemon           *self,
                        const char         *id,
                        const char         *request_id,
                        const char         *role,
                        const char         *group,
                        const char         *summary,
                        const char * const *participants,
                        const char         *peer_full,
                        const char         *room)
{
  EaSession *s = ea_daemon_session_lookup (self, id);

  if (s != NULL)
    return s;

  s = session_new (self, id, request_id, role, group, summary);
  for (guint i = 0; participants && participants[i]; i++)
    {
      const char *full = NULL;

      if (peer_full != NULL && ea_jid_equal_bare (peer_full, participants[i]))
        full = peer_full;
      ea_daemon_session_add_participant (self, s, participants[i], full);
    }
  s->room = room ? ea_jid_bare (room) : NULL;
  g_hash_table_insert (self->sessions, s->id, s);
  export_session (self, s);
  session_save (s);
  g_debug ("session %.8s open (%s, %u participants%s)", s->id, role, s->participants->len,
           s->room ? ", in a room" : "");

  if (s->room != NULL && g_str_equal (role, "expert"))
    ea_daemon_room_join (self, s->room, NULL, s->id, session_room_ready_cb, g_strdup (s->id));
  load_changed (self);
  return s;
}

static void
send_close (EaSession *s, const char *to)
{
  EaDaemon *self = s->daemon;
  EaControl c = { 0 };
  g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
  g_autoptr(xmpp_stanza_t) m = NULL;

  c.kind = EA_CONTROL_CLOSE;
  c.session = s->id;
  m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &c, to, "normal", stanza_id);
  ea_daemon_send_kept (self, m, NULL);
}

/**
 * ea_daemon_session_close:
 * @tell_peers: the user closed it (tell the others), or a peer did
 */
void
ea_daemon_session_close (EaDaemon *self, EaSession *s, gboolean tell_peers)
{
  if (!ea_session_is_open (s))
    return;

  if (tell_peers)
    {
      g_autoptr(GPtrArray) to = targets (s);

      for (guint i = 0; i < to->len; i++)
        send_close (s, g_ptr_array_index (to, i));
    }
  if (s->room != NULL)
    ea_daemon_room_leave (self, s->room);

  g_free (s->state);
  s->state = g_strdup ("closed");
  s->ended = g_get_real_time ();
  ea_expert_assist_session_set_state (s->iface, s->state);
  ea_expert_assist_session_set_ended (s->iface, s->ended);
  session_save (s);
  g_debug ("session %.8s closed", s->id);

  if (g_str_equal (s->role, "agent"))
    ea_daemon_agent_session_closed (self, s->request);
  load_changed (self);
  ea_daemon_note_final (self, "session", s->id);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */
/* ------------------------------------------------------------------ */

/* A message without a thread goes to the most recently active open
 * session with that peer. */
static EaSession *
session_for_peer (EaDaemon *self, const char *bare)
{
  GHashTableIter iter;
  gpointer value;
  EaSession *best = NULL;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaSession *s = value;

      if (!ea_session_is_open (s) || s->room != NULL || !is_participant (s, bare))
        continue;
      if (best == NULL || s->last_active > best->last_active)
        best = s;
    }
  return best;
}

typedef struct {
  EaDaemon *daemon;
  char *session_id;
  char *id;
  gint64 time;
  char *sender;
  char *from;           /* the full address it came from */
  char *text;
  char *receipt_to;     /* who asked for a receipt */
} Incoming;

static void
incoming_free (Incoming *in)
{
  g_free (in->session_id);
  g_free (in->id);
  g_free (in->sender);
  g_free (in->from);
  g_free (in->text);
  g_free (in->receipt_to);
  g_free (in);
}

static void
send_receipt (EaDaemon *self, const char *to, const char *id)
{
  g_autoptr(xmpp_stanza_t) m = NULL;
  xmpp_stanza_t *received;
  g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);

  m = ea_stanza_new (ea_xmpp_get_ctx (self->xmpp), "message", NULL, to, stanza_id);
  received = ea_stanza_add_child (m, "received", EA_NS_RECEIPTS);
  xmpp_stanza_set_attribute (received, "id", id);
  ea_stanza_add_child (m, "no-store", EA_NS_HINTS);
  ea_xmpp_send (self->xmpp, m);
}

static void
stored_incoming_cb (GError *error, gpointer data)
{
  Incoming *in = data;
  EaDaemon *self = in->daemon;
  if (error != NULL)
    {
      /* Not acknowledged: the sender's daemon sends it again, and then it
       * must not look like a repeat. */
      if (!self->log_full_warned)
        g_warning ("Messages of session %.8s cannot be saved (%s); their senders will send "
                   "them again", in->session_id, error->message);
      self->log_full_warned = TRUE;
      if (in->from != NULL)
        ea_daemon_forget_seen (self, in->from, in->id);
      incoming_free (in);
      return;
    }
  self->log_full_warned = FALSE;
  /* Shown and acknowledged once it is in the log: what the user saw is
   * never missing from it after a crash. */
  {
    EaSession *s = ea_daemon_session_lookup (self, in->session_id);

    if (s != NULL && s->iface != NULL)
      ea_expert_assist_session_emit_message_received (s->iface, in->id, in->time, in->sender,
                                                      in->text);
  }
  if (in->receipt_to != NULL)
    send_receipt (self, in->receipt_to, in->id);
  incoming_free (in);
}

static void
set_typing (EaSession *s, const char *who, gboolean typing)
{
  gboolean was = g_hash_table_contains (s->typing, who);

  if (was == typing)
    return;
  if (typing)
    g_hash_table_add (s->typing, g_strdup (who));
  else
    g_hash_table_remove (s->typing, who);
  ea_expert_assist_session_emit_participant_typing (s->iface, who, typing);
}

static void
handle_chat_state (EaSession *s, xmpp_stanza_t *stanza, const char *who)
{
  if (ea_stanza_child (stanza, "composing", EA_NS_CHATSTATES) != NULL)
    set_typing (s, who, TRUE);
  else if (ea_stanza_child (stanza, "paused", EA_NS_CHATSTATES) != NULL ||
           ea_stanza_child (stanza, "active", EA_NS_CHATSTATES) != NULL ||
           ea_stanza_child (stanza, "inactive", EA_NS_CHATSTATES) != NULL ||
           ea_stanza_child (stanza, "gone", EA_NS_CHATSTATES) != NULL)
    set_typing (s, who, FALSE);
}

static void
receive_text (EaSession *s, xmpp_stanza_t *stanza, const char *sender, const char *body,
              const char *receipt_to)
{
  EaDaemon *self = s->daemon;
  Incoming *in = g_new0 (Incoming, 1);
  EaStoreMessage m = { 0 };
  const char *id = xmpp_stanza_get_id (stanza);
  xmpp_stanza_t *delay = ea_stanza_child (stanza, "delay", EA_NS_DELAY);
  gint64 stamp = 0;

  /* The id is the sender's stanza id, the same on every desktop; without
   * one, make one (such a message cannot be told apart if repeated). */
  in->daemon = self;
  in->session_id = g_strdup (s->id);
  in->id = id && *id && strlen (id) <= 128 ? g_strdup (id) : ea_id_new ();
  in->time = g_get_real_time ();
  if (delay != NULL &&
      ea_time_from_iso8601 (xmpp_stanza_get_attribute (delay, "stamp"), &stamp))
    in->time = stamp;
  in->sender = ea_jid_bare (sender);
  in->from = g_strdup (xmpp_stanza_get_from (stanza));
  in->text = g_strdup (body);
  in->receipt_to = receipt_to ? g_strdup (receipt_to) : NULL;
  s->last_active = g_get_monotonic_time ();

  m.session = s->id;
  m.id = in->id;
  m.time = in->time;
  m.sender = in->sender;
  m.text = body;
  m.outgoing = FALSE;
  if (self->store != NULL)
    ea_store_put_message (self->store, &m, stored_incoming_cb, in);
  else
    stored_incoming_cb (NULL, in);
}

static gboolean
handle_receipt (EaDaemon *self, xmpp_stanza_t *stanza, const char *from)
{
  xmpp_stanza_t *received = ea_stanza_child (stanza, "received", EA_NS_RECEIPTS);
  const char *id = received ? xmpp_stanza_get_attribute (received, "id") : NULL;
  g_autofree char *key = NULL;
  GHashTableIter iter;
  gpointer value;

  if (received == NULL)
    return FALSE;
  if (id == NULL)
    return TRUE;
  key = g_strdup_printf ("msg:%s", id);
  ea_daemon_forget_kept (self, key);

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaSession *s = value;

      if (!is_participant (s, from) || s->room != NULL)
        continue;
      if (self->store != NULL)
        ea_store_set_delivered (self->store, s->id, id, g_get_real_time ());
      ea_expert_assist_session_emit_message_delivered (s->iface, id, g_get_real_time ());
      break;
    }
  return TRUE;
}

static gboolean
handle_groupchat (EaDaemon *self, xmpp_stanza_t *stanza, const char *from)
{
  EaRoom *room = ea_daemon_room_lookup (self, from);
  const char *session_id = ea_room_session (room);
  EaSession *s = ea_daemon_session_lookup (self, session_id);
  const char *nick = ea_jid_resource (from);
  const char *real;
  g_autofree char *body = NULL;

  if (s == NULL || nick == NULL)
    return room != NULL && session_id != NULL;

  body = ea_message_body (stanza);
  if (g_strcmp0 (nick, ea_room_nick (room)) == 0)
    {
      /* Our own message, reflected: the room has it. */
      const char *id = xmpp_stanza_get_id (stanza);

      if (body != NULL && id != NULL)
        {
          g_autofree char *key = g_strdup_printf ("msg:%s", id);

          ea_daemon_forget_kept (self, key);
          if (self->store != NULL)
            ea_store_set_delivered (self->store, s->id, id, g_get_real_time ());
          ea_expert_assist_session_emit_message_delivered (s->iface, id, g_get_real_time ());
        }
      return TRUE;
    }

  real = ea_room_real_jid (room, nick);
  if (real == NULL || !is_participant (s, real))
    return TRUE;
  if (!ea_session_is_open (s))
    return TRUE;
  {
    g_autofree char *who = ea_jid_bare (real);

    handle_chat_state (s, stanza, who);
  }
  if (body != NULL && *body && strlen (body) <= EA_MAX_MESSAGE_BYTES &&
      !ea_daemon_seen_before (self, stanza))
    receive_text (s, stanza, real, body, NULL);
  return TRUE;
}

static gboolean
handle_close_control (EaDaemon *self, xmpp_stanza_t *stanza, const char *from)
{
  EaControl c;
  g_autoptr(GError) error = NULL;
  EaSession *s;

  if (!ea_control_parse (stanza, &c, &error))
    return FALSE;
  if (c.kind != EA_CONTROL_CLOSE)
    {
      ea_control_clear (&c);
      return FALSE;
    }
  s = ea_daemon_session_lookup (self, c.session);
  if (s == NULL || !is_participant (s, from) || ea_jid_equal_bare (from, own (s)))
    {
      g_autofree char *who = ea_jid_short (from);

      g_message ("Ignoring a close for a session %s is not in", who);
    }
  else if (ea_session_is_open (s))
    {
      if (g_str_equal (s->role, "agent") && s->participants->len > 2)
        {
          /* One of several experts left; the others stay. */
          g_autofree char *bare = ea_jid_bare (from);

          for (guint i = 0; i < s->participants->len; i++)
            if (g_str_equal (g_ptr_array_index (s->participants, i), bare))
              g_ptr_array_remove_index (s->participants, i);
          ea_expert_assist_session_set_participants (s->iface, participants_strv (s));
          session_save (s);
        }
      else
        ea_daemon_session_close (self, s, FALSE);
    }
  ea_control_clear (&c);
  return TRUE;
}

/**
 * ea_daemon_chat_handle_stanza:
 *
 * Chat messages, chat states, receipts and session closes. Returns %TRUE
 * when the stanza was for a session (or a receipt).
 */
gboolean
ea_daemon_chat_handle_stanza (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *from = xmpp_stanza_get_from (stanza);
  const char *type = xmpp_stanza_get_type (stanza);
  g_autofree char *body = NULL;
  g_autofree char *thread = NULL;
  g_autofree char *bare = NULL;
  EaSession *s = NULL;
  const char *receipt_to = NULL;

  if (g_strcmp0 (xmpp_stanza_get_name (stanza), "message") != 0 || from == NULL ||
      g_strcmp0 (type, "error") == 0)
    return FALSE;

  if (handle_receipt (self, stanza, from))
    return TRUE;
  if (handle_close_control (self, stanza, from))
    return TRUE;
  if (g_strcmp0 (type, "groupchat") == 0)
    return handle_groupchat (self, stanza, from);
  if (type != NULL && g_strcmp0 (type, "chat") != 0 && g_strcmp0 (type, "normal") != 0)
    return FALSE;

  bare = ea_jid_bare (from);
  thread = ea_message_thread (stanza);
  if (thread != NULL && ea_id_is_valid (thread))
    s = ea_daemon_session_lookup (self, thread);
  if (s == NULL)
    s = session_for_peer (self, bare);
  if (s == NULL || !is_participant (s, bare) || ea_jid_equal_bare (bare, own (s)))
    return FALSE;
  if (!ea_session_is_open (s))
    return TRUE;

  /* Replies go where the peer wrote from last (a restarted daemon), and
   * so does whatever we still keep for it. */
  {
    const char *before = g_hash_table_lookup (s->peer_full, bare);

    if (before != NULL && g_strcmp0 (before, from) != 0)
      ea_daemon_redirect_kept (self, before, from);
    g_hash_table_replace (s->peer_full, g_strdup (bare), g_strdup (from));
  }

  handle_chat_state (s, stanza, bare);
  body = ea_message_body (stanza);
  if (body == NULL || *body == '\0')
    return TRUE;
  if (strlen (body) > EA_MAX_MESSAGE_BYTES)
    {
      g_autofree char *who = ea_jid_short (from);

      g_message ("Dropping a message of %zu bytes from %s", strlen (body), who);
      return TRUE;
    }
  if (ea_stanza_child (stanza, "request", EA_NS_RECEIPTS) != NULL && xmpp_stanza_get_id (stanza))
    receipt_to = from;
  set_typing (s, bare, FALSE);
  if (ea_daemon_seen_before (self, stanza))
    {
      /* Sent again after a reconnect: we have it; say so again. */
      if (receipt_to != NULL)
        send_receipt (self, receipt_to, xmpp_stanza_get_id (stanza));
      return TRUE;
    }
  receive_text (s, stanza, bare, body, receipt_to);
  return TRUE;
}

/* Someone came into or left a session's room: they are its participants. */
void
ea_daemon_chat_room_changed (EaDaemon *self, EaRoom *room)
{
  EaSession *s = ea_daemon_session_lookup (self, ea_room_session (room));
  g_autoptr(GPtrArray) present = NULL;

  if (s == NULL || !ea_session_is_open (s))
    return;
  present = ea_room_occupants (room);
  for (guint i = 0; i < present->len; i++)
    ea_daemon_session_add_participant (self, s, g_ptr_array_index (present, i), NULL);
}

/**
 * ea_daemon_chat_session_started:
 *
 * Unacknowledged messages are in the outbox and rooms rejoin by
 * themselves. After a fresh session (a restart, say) our address has a
 * new resource: a chat state in every open one-to-one session tells the
 * peers where we are now.
 */
void
ea_daemon_chat_session_started (EaDaemon *self, gboolean resumed)
{
  GHashTableIter iter;
  gpointer value;

  if (resumed)
    return;
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaSession *s = value;

      if (ea_session_is_open (s) && s->room == NULL)
        send_chat_state (s, "active");
    }
}

/**
 * ea_daemon_chat_restore:
 * @rows: "sessions" of ea_store_load_unfinished()
 *
 * Sessions that were open when the daemon stopped are open again.
 */
void
ea_daemon_chat_restore (EaDaemon *self, GVariant *rows)
{
  GVariantIter iter;
  GVariant *row;

  if (rows == NULL)
    return;
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = row;
      const char *id = NULL, *request = NULL, *role = NULL, *group = NULL, *summary = NULL;
      const char *room = NULL;
      g_autofree const char **participants = NULL;
      EaSession *s;

      if (!g_variant_lookup (row, "id", "&s", &id) || !ea_id_is_valid (id) ||
          !g_variant_lookup (row, "role", "&s", &role) ||
          ea_daemon_session_lookup (self, id) != NULL)
        continue;
      g_variant_lookup (row, "request", "&s", &request);
      g_variant_lookup (row, "group", "&s", &group);
      g_variant_lookup (row, "summary", "&s", &summary);
      g_variant_lookup (row, "room", "&s", &room);
      g_variant_lookup (row, "participants", "^a&s", &participants);

      s = session_new (self, id, request ? request : "", role, group, summary);
      for (guint i = 0; participants && participants[i]; i++)
        if (ea_jid_is_valid_bare (participants[i]))
          g_ptr_array_add (s->participants, ea_jid_bare (participants[i]));
      s->room = room && *room ? ea_jid_bare (room) : NULL;
      g_variant_lookup (row, "started", "x", &s->started);
      g_hash_table_insert (self->sessions, s->id, s);
      export_session (self, s);
      if (s->room != NULL)
        ea_daemon_room_join (self, s->room, NULL, s->id, session_room_ready_cb, g_strdup (s->id));
      g_debug ("session %.8s restored", s->id);
    }
  load_changed (self);
}

void
ea_daemon_chat_init (EaDaemon *self)
{
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, session_free);
}

void
ea_daemon_chat_dispose (EaDaemon *self)
{
  g_clear_pointer (&self->sessions, g_hash_table_unref);
}

gboolean
ea_daemon_chat_forget (EaDaemon *self, const char *id)
{
  EaSession *s = ea_daemon_session_lookup (self, id);

  if (s == NULL || ea_session_is_open (s))
    return FALSE;
  ea_daemon_unexport_object (self, s->path);
  g_hash_table_remove (self->sessions, id);
  return TRUE;
}
