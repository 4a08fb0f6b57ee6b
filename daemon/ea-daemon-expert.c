/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The expert's side: offers that agents make to this user. Each is an
 * Offer object (and a desktop notification with Accept and Decline when no
 * applet runs). Accept() sends <accept/> and waits for the agent's daemon,
 * the only arbiter, to answer with <assigned/> (a session) or <withdraw/>
 * (someone was first, or it ended). While the user is dnd or at the
 * maximum of sessions, offers are declined automatically.
 */
#define G_LOG_DOMAIN "ea-expert"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ea-error.h"
#include "ea-util.h"
#include "ea-daemon-private.h"
#include "ea-daemon-rooms.h"

#define ACCEPT_WAIT_S 15
#define FLOOD_WINDOW_US (60 * G_USEC_PER_SEC)
#define FLOOD_MAX 20

struct _EaOffer {
  EaDaemon *daemon;
  char *id;
  char *path;
  EaObjectSkeleton *object;
  EaExpertAssistOffer *iface;

  char *agent;          /* bare */
  char *agent_full;     /* where answers go */
  char *agent_name;
  char *group;
  char *summary;
  GVariant *query;
  GStrv masked;
  char *room;           /* offered in this group room, or NULL */

  char *state;
  char *reason;
  char *taken_by;
  gint64 received;
  gint64 expires;       /* wall clock, arrival + timeout */
  guint expire_id;

  GPtrArray *accepting; /* GDBusMethodInvocation waiting for the answer */
  guint accept_id;
  char *session_id;
  gboolean notified;
};

static void offer_save (EaOffer *o);
static void offer_save_then (EaOffer *o, EaStoreDone done, gpointer user_data);

static void
offer_free (gpointer data)
{
  EaOffer *o = data;

  g_clear_handle_id (&o->expire_id, g_source_remove);
  g_clear_handle_id (&o->accept_id, g_source_remove);
  g_free (o->id);
  g_free (o->path);
  g_clear_object (&o->object);
  g_clear_object (&o->iface);
  g_free (o->agent);
  g_free (o->agent_full);
  g_free (o->agent_name);
  g_free (o->group);
  g_free (o->summary);
  g_clear_pointer (&o->query, g_variant_unref);
  g_strfreev (o->masked);
  g_free (o->room);
  g_free (o->state);
  g_free (o->reason);
  g_free (o->taken_by);
  g_ptr_array_unref (o->accepting);
  g_free (o->session_id);
  g_free (o);
}

static void
unref_invocation (gpointer data)
{
  if (data != NULL)
    g_object_unref (data);
}

static gboolean
is_pending (EaOffer *o)
{
  return g_str_equal (o->state, "pending");
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

static char *
notification_id (EaOffer *o)
{
  return g_strdup_printf ("offer-%s", o->id);
}

static void
withdraw_notification (EaOffer *o)
{
  EaDaemon *self = o->daemon;
  g_autofree char *id = notification_id (o);

  if (!o->notified || self->app == NULL)
    return;
  g_application_withdraw_notification (self->app, id);
  o->notified = FALSE;
}

static char *
context_text (EaOffer *o)
{
  GString *s = g_string_new (NULL);
  const char *fields[] = { "channel", "customer", "reference", NULL };
  const char *labels[] = { N_("Channel"), N_("Customer"), N_("Reference") };

  for (guint i = 0; fields[i]; i++)
    {
      const char *v = NULL;

      if (g_variant_lookup (o->query, fields[i], "&s", &v) && *v)
        g_string_append_printf (s, "%s%s: %s", s->len ? " · " : "", _(labels[i]), v);
      else if (o->masked && g_strv_contains ((const char * const *) o->masked, fields[i]))
        g_string_append_printf (s, "%s%s: %s", s->len ? " · " : "", _(labels[i]),
                                _("(shown on accept)"));
    }
  return g_string_free (s, FALSE);
}

/* A desktop notification with Accept and Decline that work with no applet
 * running; when the applet runs it shows the offer itself. */
static void
notify (EaOffer *o)
{
  EaDaemon *self = o->daemon;
  g_autoptr(GNotification) n = NULL;
  g_autofree char *title = NULL;
  g_autofree char *context = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = notification_id (o);

  if (self->app == NULL || self->applet_present)
    return;
  if (self->settings != NULL && !g_settings_get_boolean (self->settings, "notify-offers"))
    return;

  title = g_strdup_printf (_("%s asks %s for help"), o->agent_name ? o->agent_name : o->agent,
                           o->group);
  context = context_text (o);
  body = *context ? g_strdup_printf ("%s\n%s", o->summary, context) : g_strdup (o->summary);
  n = g_notification_new (title);
  g_notification_set_body (n, body);
  g_notification_set_priority (n, G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_set_category (n, "im.received");
  g_notification_add_button_with_target (n, _("Accept"), "app.accept-offer", "s", o->id);
  g_notification_add_button_with_target (n, _("Decline"), "app.decline-offer", "s", o->id);
  g_notification_set_default_action_and_target (n, "app.show-offer", "s", o->id);
  g_application_send_notification (self->app, id, n);
  o->notified = TRUE;
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

static void
fail_accepting (EaOffer *o, GError *error, const char *session_path)
{
  g_autoptr(GPtrArray) waiting = g_steal_pointer (&o->accepting);

  o->accepting = g_ptr_array_new_with_free_func (unref_invocation);
  g_clear_handle_id (&o->accept_id, g_source_remove);
  for (guint i = 0; i < waiting->len; i++)
    {
      GDBusMethodInvocation *inv = g_ptr_array_index (waiting, i);

      if (inv == NULL)
        continue;
      if (error != NULL)
        g_dbus_method_invocation_return_gerror (g_object_ref (inv), error);
      else
        ea_expert_assist_offer_complete_accept (o->iface, g_object_ref (inv), session_path);
    }
}

static void
set_state (EaOffer *o, const char *state, const char *reason)
{
  gboolean changed = !g_str_equal (o->state, state);

  g_free (o->state);
  o->state = g_strdup (state);
  g_free (o->reason);
  o->reason = g_strdup (reason ? reason : "");
  ea_expert_assist_offer_set_state (o->iface, state);
  ea_expert_assist_offer_set_reason (o->iface, o->reason);
  if (changed)
    g_debug ("offer %.8s: %s%s%s", o->id, state, reason && *reason ? ", " : "",
             reason ? reason : "");
  if (!is_pending (o))
    {
      g_clear_handle_id (&o->expire_id, g_source_remove);
      withdraw_notification (o);
      if (changed)
        ea_daemon_note_final (o->daemon, "offer", o->id);
    }
  offer_save (o);
}

static void
offer_save_then (EaOffer *o, EaStoreDone done, gpointer user_data)
{
  EaStore *store = o->daemon->store;
  EaStoreRequest req = { 0 };
  EaStoreOffer row = { 0 };
  const char *winners[] = { ea_daemon_get_account (o->daemon), NULL };

  if (store == NULL)
    {
      if (done != NULL)
        done (NULL, user_data);
      return;
    }
  req.id = o->id;
  req.role = "expert";
  req.agent = o->agent;
  req.group = o->group;
  req.summary = o->summary;
  req.query = o->query;
  req.state = o->state;
  req.reason = o->reason;
  req.session = o->session_id;
  req.accepted = g_str_equal (o->state, "accepted") ? winners : NULL;
  req.created = o->received;
  req.updated = g_get_real_time ();
  req.answered = g_str_equal (o->state, "accepted") ? req.updated : 0;
  ea_store_put_request (store, &req, NULL, NULL);

  row.request = o->id;
  row.expert = ea_daemon_get_account (o->daemon);
  row.role = "expert";
  row.agent = o->agent;
  row.group = o->group;
  row.state = o->state;
  row.reason = o->reason;
  row.offered = o->received;
  row.expires = o->expires;
  row.ended = is_pending (o) ? 0 : g_get_real_time ();
  row.rounds = 1;
  ea_store_put_offer (store, &row, done, user_data);
}

static void
offer_save (EaOffer *o)
{
  offer_save_then (o, NULL, NULL);
}

static void
send_to_agent (EaOffer *o, EaControlKind kind, const char *reason, const char *key)
{
  EaDaemon *self = o->daemon;
  EaControl c = { 0 };
  g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
  g_autoptr(xmpp_stanza_t) m = NULL;

  c.kind = kind;
  c.id = o->id;
  c.reason = (char *) reason;
  m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &c,
                        o->agent_full ? o->agent_full : o->agent, "normal", stanza_id);
  ea_daemon_send_kept (self, m, key);
}

static gboolean
expire_cb (gpointer data)
{
  EaOffer *o = data;

  o->expire_id = 0;
  if (is_pending (o) && o->accepting->len == 0)
    set_state (o, "expired", "expired");
  return G_SOURCE_REMOVE;
}

static void
arm_expiry (EaOffer *o)
{
  gint64 left = o->expires - g_get_real_time ();

  g_clear_handle_id (&o->expire_id, g_source_remove);
  o->expire_id = g_timeout_add ((guint) CLAMP ((left + 999) / 1000, 0, G_MAXINT), expire_cb, o);
}

/* ------------------------------------------------------------------ */
/* D-Bus                                                               */
/* ------------------------------------------------------------------ */

static GError *
not_pending_error (EaOffer *o)
{
  if (g_str_equal (o->state, "withdrawn") && g_str_equal (o->reason, "taken"))
    {
      if (o->taken_by != NULL && *o->taken_by)
        return g_error_new (EA_ERROR, EA_ERROR_TAKEN, _("%s took this request first."),
                            o->taken_by);
      return g_error_new_literal (EA_ERROR, EA_ERROR_TAKEN,
                                  _("Another expert took this request first."));
    }
  if (g_str_equal (o->state, "withdrawn") && g_str_equal (o->reason, "cancelled"))
    return g_error_new_literal (EA_ERROR, EA_ERROR_FAILED,
                                _("The request was cancelled by the agent."));
  if (g_str_equal (o->state, "expired") || g_str_equal (o->state, "withdrawn"))
    return g_error_new_literal (EA_ERROR, EA_ERROR_EXPIRED, _("This offer has expired."));
  return g_error_new (EA_ERROR, EA_ERROR_FAILED, _("This offer is %s, not pending."), o->state);
}

static gboolean
accept_timeout_cb (gpointer data)
{
  EaOffer *o = data;
  g_autoptr(GError) error = g_error_new_literal (EA_ERROR, EA_ERROR_EXPIRED,
                                                 _("The agent’s desktop did not answer before the "
                                                   "offer ran out."));
  g_autofree char *key = g_strdup_printf ("accept:%s", o->id);

  o->accept_id = 0;
  ea_daemon_forget_kept (o->daemon, key);
  send_to_agent (o, EA_CONTROL_DECLINE, "timeout", NULL);
  fail_accepting (o, error, NULL);
  set_state (o, "expired", "timeout");
  return G_SOURCE_REMOVE;
}

/* Takes the offer: tells the agent's daemon and waits for its decision,
 * at most until the offer expires or 15 s. @invocation may be NULL (the
 * notification's button). */
static void
accept_offer (EaOffer *o, GDBusMethodInvocation *invocation)
{
  EaDaemon *self = o->daemon;
  g_autofree char *key = NULL;
  gint64 wait_us;

  if (g_str_equal (o->state, "accepted") && o->session_id != NULL)
    {
      EaSession *session = ea_daemon_session_lookup (self, o->session_id);

      if (invocation != NULL && session != NULL)
        ea_expert_assist_offer_complete_accept (o->iface, invocation,
                                                ea_session_get_path (session));
      else if (invocation != NULL)
        g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_FAILED,
                                                       _("The session of this offer is over."));
      return;
    }
  if (!is_pending (o))
    {
      g_autoptr(GError) error = not_pending_error (o);

      if (invocation != NULL)
        g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  if (!ea_xmpp_is_connected (self->xmpp))
    {
      if (invocation != NULL)
        g_dbus_method_invocation_return_error_literal (
          invocation, EA_ERROR, EA_ERROR_NOT_CONNECTED,
          _("Not connected to the XMPP server: the agent cannot be told."));
      return;
    }

  g_ptr_array_add (o->accepting, invocation ? g_object_ref (invocation) : NULL);
  if (o->accept_id != 0)
    return;

  key = g_strdup_printf ("accept:%s", o->id);
  send_to_agent (o, EA_CONTROL_ACCEPT, NULL, key);
  withdraw_notification (o);
  wait_us = MIN (o->expires - g_get_real_time (), ACCEPT_WAIT_S * G_USEC_PER_SEC);
  o->accept_id = g_timeout_add ((guint) CLAMP ((wait_us + 999) / 1000, 0, G_MAXINT),
                                accept_timeout_cb, o);
  g_debug ("offer %.8s: accepting", o->id);
}

static gboolean
handle_accept (EaExpertAssistOffer *iface, GDBusMethodInvocation *invocation, gpointer data)
{
  accept_offer (data, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
decline_offer (EaOffer *o, const char *reason, GError **error)
{
  if (!is_pending (o) || o->accepting->len > 0)
    {
      if (o->accepting->len > 0)
        g_set_error_literal (error, EA_ERROR, EA_ERROR_FAILED,
                             _("This offer is being accepted: it cannot be declined now."));
      else
        g_propagate_error (error, not_pending_error (o));
      return FALSE;
    }
  if (!ea_xmpp_is_connected (o->daemon->xmpp))
    {
      g_set_error_literal (error, EA_ERROR, EA_ERROR_NOT_CONNECTED,
                           _("Not connected to the XMPP server: the agent cannot be told."));
      return FALSE;
    }
  send_to_agent (o, EA_CONTROL_DECLINE, reason, NULL);
  set_state (o, "declined", reason);
  return TRUE;
}

static gboolean
handle_decline (EaExpertAssistOffer *iface, GDBusMethodInvocation *invocation,
                const char *reason, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *clean = NULL;

  if (strlen (reason) > 256 || !ea_text_is_one_line (reason))
    {
      g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_INVALID_ARGS,
                                                     _("The reason must be one line of at most "
                                                       "256 bytes."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  clean = g_strstrip (g_strdup (reason));
  if (!decline_offer (data, *clean ? clean : "declined", &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    ea_expert_assist_offer_complete_decline (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
ea_daemon_expert_accept_action (EaDaemon *self, const char *offer_id)
{
  EaOffer *o = g_hash_table_lookup (self->offers, offer_id);

  if (o != NULL)
    accept_offer (o, NULL);
}

void
ea_daemon_expert_decline_action (EaDaemon *self, const char *offer_id)
{
  EaOffer *o = g_hash_table_lookup (self->offers, offer_id);

  if (o != NULL)
    decline_offer (o, "declined", NULL);
}

static void
export_offer (EaDaemon *self, EaOffer *o)
{
  o->path = g_strdup_printf (EA_DBUS_PATH "/offer/%s", o->id);
  o->object = ea_object_skeleton_new (o->path);
  o->iface = ea_expert_assist_offer_skeleton_new ();
  ea_expert_assist_offer_set_id (o->iface, o->id);
  g_signal_connect (o->iface, "handle-accept", G_CALLBACK (handle_accept), o);
  g_signal_connect (o->iface, "handle-decline", G_CALLBACK (handle_decline), o);
  ea_object_skeleton_set_expert_assist_offer (o->object, o->iface);
}

static void
sync_properties (EaOffer *o)
{
  ea_expert_assist_offer_set_from (o->iface, o->agent);
  ea_expert_assist_offer_set_from_name (o->iface, o->agent_name ? o->agent_name : o->agent);
  ea_expert_assist_offer_set_group (o->iface, o->group);
  ea_expert_assist_offer_set_summary (o->iface, o->summary);
  ea_expert_assist_offer_set_query (o->iface, o->query);
  ea_expert_assist_offer_set_state (o->iface, o->state);
  ea_expert_assist_offer_set_reason (o->iface, o->reason);
  ea_expert_assist_offer_set_expires (o->iface, o->expires);
  ea_expert_assist_offer_set_masked (o->iface, (const char * const *) o->masked);
  ea_expert_assist_offer_set_taken_by (o->iface, o->taken_by ? o->taken_by : "");
}

/* ------------------------------------------------------------------ */
/* Stanzas                                                             */
/* ------------------------------------------------------------------ */

static gboolean
may_take_offers_from (EaDaemon *self, const char *agent)
{
  g_autofree char *mine = ea_jid_domain (ea_daemon_get_account (self));
  g_autofree char *theirs = ea_jid_domain (agent);

  if (ea_directory_is_listed (self->directory, agent))
    return TRUE;
  return !ea_directory_has_agents (self->directory) && g_strcmp0 (mine, theirs) == 0;
}

/* No agent may bury the desktop in offers. */
static gboolean
flooding (EaDaemon *self, const char *agent)
{
  GQueue *times = g_hash_table_lookup (self->offer_rate, agent);
  gint64 now = g_get_monotonic_time ();

  if (times == NULL)
    {
      times = g_queue_new ();
      g_hash_table_insert (self->offer_rate, g_strdup (agent), times);
    }
  while (!g_queue_is_empty (times) &&
         now - *(gint64 *) g_queue_peek_head (times) > FLOOD_WINDOW_US)
    g_free (g_queue_pop_head (times));
  if (g_queue_get_length (times) >= FLOOD_MAX)
    return TRUE;
  {
    gint64 *t = g_new (gint64, 1);

    *t = now;
    g_queue_push_tail (times, t);
  }
  return FALSE;
}

static void
decline_automatically (EaDaemon *self, EaOfferInfo *info, const char *to, const char *reason)
{
  EaControl c = { 0 };
  g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
  g_autoptr(xmpp_stanza_t) m = NULL;
  EaStoreOffer row = { 0 };

  c.kind = EA_CONTROL_DECLINE;
  c.id = info->id;
  c.reason = (char *) reason;
  m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &c, to, "normal", stanza_id);
  ea_daemon_send_kept (self, m, NULL);
  g_debug ("offer %.8s declined automatically: %s", info->id, reason);

  if (self->store != NULL)
    {
      row.request = info->id;
      row.expert = ea_daemon_get_account (self);
      row.role = "expert";
      row.agent = info->agent;
      row.group = info->group;
      row.state = "declined";
      row.reason = reason;
      row.offered = row.ended = g_get_real_time ();
      row.rounds = 1;
      ea_store_put_offer (self->store, &row, NULL, NULL);
    }
}

typedef struct {
  EaDaemon *daemon;
  char *id;
  gint64 received;
} Announce;

static void
announce_cb (GError *error, gpointer data)
{
  Announce *a = data;
  EaOffer *o = g_hash_table_lookup (a->daemon->offers, a->id);

  if (error != NULL)
    g_warning ("Showing offer %.8s without logging it: %s", a->id, error->message);
  if (o != NULL && is_pending (o) && o->received == a->received)
    {
      if (a->daemon->root != NULL)
        ea_expert_assist_emit_offer_received (a->daemon->root, o->path);
      notify (o);
    }
  g_free (a->id);
  g_free (a);
}

static void
handle_offer (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *from = xmpp_stanza_get_from (stanza);
  const char *type = xmpp_stanza_get_type (stanza);
  g_autoptr(GError) error = NULL;
  g_autofree char *who = ea_jid_short (from);
  g_autofree char *agent_full = NULL;
  g_autofree char *room = NULL;
  EaOfferInfo info;
  EaOffer *o;
  EaDirExpert *me;
  gint64 now = g_get_real_time ();

  if (!ea_offer_parse (stanza, &info, &error))
    {
      g_message ("Ignoring an invalid offer from %s: %s", who,
                 error ? error->message : "unreadable");
      return;
    }

  if (g_strcmp0 (type, "groupchat") == 0)
    {
      EaRoom *r = ea_daemon_room_lookup (self, from);
      const char *real = r ? ea_room_real_jid (r, ea_jid_resource (from)) : NULL;

      /* In a non-anonymous room the sender's real address is known: it
       * must be the agent the offer names. */
      if (r == NULL || real == NULL || info.agent == NULL || !ea_jid_equal_bare (real, info.agent))
        {
          if (!(r != NULL && ea_room_nick (r) != NULL &&
                g_strcmp0 (ea_jid_resource (from), ea_room_nick (r)) == 0))
            g_message ("Ignoring a room offer whose sender cannot be told from %s", who);
          goto out;
        }
      agent_full = g_strdup (real);
      room = ea_jid_bare (from);
    }
  else
    {
      g_autofree char *bare = ea_jid_bare (from);

      if (info.agent != NULL && !ea_jid_equal_bare (info.agent, bare))
        {
          g_message ("Ignoring an offer from %s in the name of someone else", who);
          goto out;
        }
      g_free (info.agent);
      info.agent = g_steal_pointer (&bare);
      agent_full = g_strdup (from);
    }

  if (ea_jid_equal_bare (info.agent, ea_daemon_get_account (self)))
    goto out;
  if (!may_take_offers_from (self, info.agent))
    {
      g_message ("Ignoring an offer from %s: not an agent of the directory", who);
      goto out;
    }
  if (info.expires != 0 && info.expires < now)
    {
      g_debug ("ignoring a stale offer %.8s (offline storage?)", info.id);
      goto out;
    }
  if (ea_daemon_seen_before (self, stanza))
    goto out;

  o = g_hash_table_lookup (self->offers, info.id);
  if (o != NULL && !ea_jid_equal_bare (o->agent, info.agent))
    {
      g_message ("Ignoring an offer from %s reusing another agent's request id", who);
      goto out;
    }
  if (o != NULL && (g_str_equal (o->state, "accepted") || o->accepting->len > 0))
    goto out;
  if (o != NULL && g_str_equal (o->state, "declined"))
    goto out;
  if (o == NULL && flooding (self, info.agent))
    {
      g_message ("Too many offers from %s in a minute: ignoring this one", who);
      goto out;
    }

  /* Busy or full: say so at once, the agent moves on. */
  me = ea_directory_get_expert (self->directory, ea_daemon_get_account (self));
  if (g_strcmp0 (self->status, "dnd") == 0)
    {
      decline_automatically (self, &info, agent_full, "dnd");
      goto out;
    }
  if (ea_daemon_open_expert_sessions (self) >= (me ? me->max_sessions : EA_DEFAULT_MAX_SESSIONS))
    {
      decline_automatically (self, &info, agent_full, "max-sessions");
      goto out;
    }

  if (o == NULL)
    {
      o = g_new0 (EaOffer, 1);
      o->daemon = self;
      o->id = g_strdup (info.id);
      o->accepting = g_ptr_array_new_with_free_func (unref_invocation);
      o->state = g_strdup ("pending");
      o->reason = g_strdup ("");
      export_offer (self, o);
      g_hash_table_insert (self->offers, o->id, o);
    }
  else
    {
      /* The same request again (a new round, or after a reconnect): the
       * same object, pending again with a new expiry. */
      g_free (o->state);
      o->state = g_strdup ("pending");
      g_free (o->reason);
      o->reason = g_strdup ("");
      g_clear_pointer (&o->taken_by, g_free);
    }

  g_free (o->agent);
  o->agent = g_strdup (info.agent);
  g_free (o->agent_full);
  o->agent_full = g_steal_pointer (&agent_full);
  g_free (o->agent_name);
  o->agent_name = g_strdup (info.agent_name);
  g_free (o->group);
  o->group = g_strdup (info.group);
  g_free (o->summary);
  o->summary = g_strdup (info.summary);
  g_clear_pointer (&o->query, g_variant_unref);
  o->query = g_variant_ref (info.query);
  g_strfreev (o->masked);
  o->masked = g_strdupv (info.masked);
  g_free (o->room);
  o->room = g_steal_pointer (&room);
  o->received = now;
  /* Clocks may differ: the offer lasts the seconds it had left when sent. */
  o->expires = now + (gint64) (info.timeout ? info.timeout : 30) * G_USEC_PER_SEC;
  sync_properties (o);
  arm_expiry (o);

  if (g_dbus_object_manager_server_is_exported (self->manager, G_DBUS_OBJECT_SKELETON (o->object)))
    ;
  else
    ea_daemon_export_object (self, o->object);

  g_debug ("offer %.8s from %s: %s", o->id, who, o->summary);
  /* Shown once the log has it: a crash the next moment still restores it. */
  {
    Announce *a = g_new0 (Announce, 1);

    a->daemon = self;
    a->id = g_strdup (o->id);
    a->received = o->received;
    offer_save_then (o, announce_cb, a);
  }

out:
  ea_offer_info_clear (&info);
}

static void
handle_assigned (EaDaemon *self, EaOffer *o, EaControl *c, const char *from)
{
  g_autofree char *key = g_strdup_printf ("accept:%s", o->id);
  const char *participants[] = { o->agent, ea_daemon_get_account (self), NULL };
  EaSession *session;
  GVariantBuilder b;
  GVariantIter iter;
  const char *k;
  GVariant *v;

  /* An assignment only ever answers our accept: for a pending offer it
   * stands even when nobody waits for it any more (the daemon was
   * restarted after accepting). After we gave up, it is refused. */
  if (!g_str_equal (o->state, "pending"))
    {
      if (g_str_equal (o->state, "accepted") && g_strcmp0 (o->session_id, c->session) == 0)
        return;
      /* We gave up waiting: the agent must not think we are there. */
      {
        EaControl close = { 0 };
        g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
        g_autoptr(xmpp_stanza_t) m = NULL;

        close.kind = EA_CONTROL_CLOSE;
        close.session = c->session;
        m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &close, from, "normal", stanza_id);
        ea_daemon_send_kept (self, m, NULL);
        g_debug ("offer %.8s: late assignment answered with close", o->id);
      }
      return;
    }

  ea_daemon_forget_kept (self, key);

  /* The masked fields arrive with the assignment. */
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, o->query);
  while (g_variant_iter_loop (&iter, "{&sv}", &k, &v))
    g_variant_builder_add (&b, "{sv}", k, v);
  if (c->query != NULL)
    {
      g_variant_iter_init (&iter, c->query);
      while (g_variant_iter_loop (&iter, "{&sv}", &k, &v))
        if (!g_variant_lookup (o->query, k, "&s", NULL))
          g_variant_builder_add (&b, "{sv}", k, v);
    }
  g_clear_pointer (&o->query, g_variant_unref);
  o->query = g_variant_ref_sink (g_variant_builder_end (&b));
  ea_expert_assist_offer_set_query (o->iface, o->query);

  g_free (o->session_id);
  o->session_id = g_strdup (c->session);
  session = ea_daemon_session_open (self, c->session, o->id, "expert", o->group, o->summary,
                                    participants, from, c->room);
  set_state (o, "accepted", "");
  fail_accepting (o, NULL, ea_session_get_path (session));
}

static void
handle_withdraw (EaDaemon *self, EaOffer *o, EaControl *c)
{
  g_autofree char *key = g_strdup_printf ("accept:%s", o->id);
  const char *reason = c->reason ? c->reason : "cancelled";

  if (g_str_equal (o->state, "accepted") || g_str_equal (o->state, "declined"))
    return;
  /* Ran out on both desktops: it stays "expired", whichever clock was first. */
  if (g_str_equal (reason, "expired") && g_str_equal (o->state, "expired"))
    return;
  ea_daemon_forget_kept (self, key);
  g_free (o->taken_by);
  o->taken_by = g_strdup (c->by ? c->by : "");
  ea_expert_assist_offer_set_taken_by (o->iface, o->taken_by);
  set_state (o, g_str_equal (reason, "expired") ? "expired" : "withdrawn", reason);
  if (o->accepting->len > 0)
    {
      g_autoptr(GError) error = not_pending_error (o);

      fail_accepting (o, error, NULL);
    }
}

/**
 * ea_daemon_expert_handle_stanza:
 *
 * Offers (direct or in a group's room), assignments and withdrawals.
 * Returns %TRUE when the stanza was one of them.
 */
gboolean
ea_daemon_expert_handle_stanza (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *from = xmpp_stanza_get_from (stanza);
  EaControl c;
  g_autoptr(GError) error = NULL;
  EaOffer *o;

  if (g_strcmp0 (xmpp_stanza_get_name (stanza), "message") != 0 || from == NULL ||
      ea_stanza_is_type (stanza, "error"))
    return FALSE;

  if (ea_stanza_child (stanza, "offer", EA_NS) != NULL)
    {
      handle_offer (self, stanza);
      return TRUE;
    }

  if (!ea_control_parse (stanza, &c, &error))
    return FALSE;
  if (c.kind != EA_CONTROL_ASSIGNED && c.kind != EA_CONTROL_WITHDRAW)
    {
      ea_control_clear (&c);
      return FALSE;
    }

  o = g_hash_table_lookup (self->offers, c.id);
  if (o == NULL)
    ;
  else if (ea_stanza_is_type (stanza, "groupchat"))
    {
      /* The end of a room offer: only from the agent, in that room. */
      EaRoom *room = ea_daemon_room_lookup (self, from);
      const char *real = room ? ea_room_real_jid (room, ea_jid_resource (from)) : NULL;

      /* While we accept, the agent's direct answer decides: the room's
       * notice may name us as the taker. */
      if (c.kind == EA_CONTROL_WITHDRAW && real != NULL && ea_jid_equal_bare (real, o->agent) &&
          o->accepting->len == 0 && !ea_jid_equal_bare (c.by, ea_daemon_get_account (self)))
        handle_withdraw (self, o, &c);
    }
  else if (!ea_jid_equal_bare (from, o->agent))
    {
      g_autofree char *who = ea_jid_short (from);

      g_message ("Ignoring %s for offer %.8s from %s, who did not make it",
                 ea_control_kind_name (c.kind), o->id, who);
    }
  else if (ea_daemon_seen_before (self, stanza))
    ;
  else if (c.kind == EA_CONTROL_ASSIGNED)
    handle_assigned (self, o, &c, from);
  else
    handle_withdraw (self, o, &c);

  ea_control_clear (&c);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static void
applet_appeared (GDBusConnection *connection, const char *name, const char *owner, gpointer data)
{
  EaDaemon *self = data;
  GHashTableIter iter;
  gpointer value;

  self->applet_present = TRUE;
  /* The applet shows the offers now; ours would be a duplicate. */
  g_hash_table_iter_init (&iter, self->offers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    withdraw_notification (value);
}

static void
applet_vanished (GDBusConnection *connection, const char *name, gpointer data)
{
  EaDaemon *self = data;

  self->applet_present = FALSE;
}

void
ea_daemon_expert_export (EaDaemon *self)
{
  self->applet_watch = g_bus_watch_name_on_connection (self->connection, EA_APPLET_ID,
                                                       G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                       applet_appeared, applet_vanished,
                                                       self, NULL);
}

void
ea_daemon_expert_session_started (EaDaemon *self, gboolean resumed)
{
  /* Offers stay pending across a reconnect; a repeated offer merges. */
}

/**
 * ea_daemon_expert_restore:
 * @rows: "offers" of ea_store_load_unfinished()
 *
 * Pending offers that have not expired come back after a restart.
 */
void
ea_daemon_expert_restore (EaDaemon *self, GVariant *rows)
{
  GVariantIter iter;
  GVariant *row;
  gint64 now = g_get_real_time ();

  if (rows == NULL)
    return;
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = row;
      const char *id = NULL, *agent = NULL, *group = NULL, *summary = NULL;
      gint64 expires = 0;
      EaOffer *o;

      if (!g_variant_lookup (row, "request", "&s", &id) || !ea_id_is_valid (id) ||
          !g_variant_lookup (row, "agent", "&s", &agent) ||
          !g_variant_lookup (row, "expires", "x", &expires) || expires <= now ||
          g_hash_table_contains (self->offers, id))
        continue;
      g_variant_lookup (row, "group", "&s", &group);
      g_variant_lookup (row, "summary", "&s", &summary);

      o = g_new0 (EaOffer, 1);
      o->daemon = self;
      o->id = g_strdup (id);
      o->accepting = g_ptr_array_new_with_free_func (unref_invocation);
      o->state = g_strdup ("pending");
      o->reason = g_strdup ("");
      o->agent = g_strdup (agent);
      o->group = g_strdup (group ? group : "");
      o->summary = g_strdup (summary ? summary : "");
      o->query = g_variant_lookup_value (row, "query", G_VARIANT_TYPE_VARDICT);
      if (o->query == NULL)
        o->query = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
      o->masked = g_new0 (char *, 1);
      g_variant_lookup (row, "offered", "x", &o->received);
      o->expires = expires;
      export_offer (self, o);
      g_hash_table_insert (self->offers, o->id, o);
      sync_properties (o);
      arm_expiry (o);
      ea_daemon_export_object (self, o->object);
      g_debug ("offer %.8s restored", o->id);
    }
}

static void
free_times (gpointer data)
{
  g_queue_free_full (data, g_free);
}

void
ea_daemon_expert_init (EaDaemon *self)
{
  self->offers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, offer_free);
  self->offer_rate = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_times);
}

void
ea_daemon_expert_dispose (EaDaemon *self)
{
  if (self->applet_watch != 0)
    g_bus_unwatch_name (self->applet_watch);
  self->applet_watch = 0;
  g_clear_pointer (&self->offers, g_hash_table_unref);
  g_clear_pointer (&self->offer_rate, g_hash_table_unref);
}

gboolean
ea_daemon_expert_forget (EaDaemon *self, const char *id)
{
  EaOffer *o = g_hash_table_lookup (self->offers, id);

  if (o == NULL || is_pending (o) || o->accepting->len > 0)
    return FALSE;
  ea_daemon_unexport_object (self, o->path);
  g_hash_table_remove (self->offers, id);
  return TRUE;
}
