/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The agent's side: RequestHelp, the Request objects, and the arbiter.
 *
 * The agent's daemon alone decides who wins its requests. Everything runs
 * on the main thread, one stanza at a time, so two accepts that arrive "at
 * the same moment" are simply handled one after the other: the first (or
 * the first N) win, every later one is answered with withdraw "taken".
 *
 * A request moves: queued (nobody can take it now) ⇄ offering → connected
 * → closed, or ends failed / cancelled. Offers go out by mode (parallel,
 * serial, progressive, room); one timer per request wakes it for the next
 * deadline (an offer running out, the next wave, the request's expiry).
 */
#define G_LOG_DOMAIN "ea-agent"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ea-error.h"
#include "ea-translate.h"
#include "ea-util.h"
#include "ea-daemon-private.h"
#include "ea-daemon-rooms.h"

#define MAX_OFFER_TIMEOUT 86400
#define MAX_EXPIRE (7 * 86400)
#define ROOM_WAIT_S 10

typedef enum {
  SENT_PENDING,
  SENT_ACCEPTED,
  SENT_DECLINED,
  SENT_EXPIRED,
  SENT_WITHDRAWN,
} SentState;

static const char * const sent_state_names[] = {
  "pending", "accepted", "declined", "expired", "withdrawn"
};

/* One expert's offer of one request. */
typedef struct {
  char *address;
  char *full;           /* where its answer came from */
  SentState state;
  char *reason;
  gint64 offered;       /* wall clock, first sent */
  gint64 deadline;      /* monotonic; 0 for "until the request ends" */
  gint64 ended;         /* wall clock */
  gint64 expired_at;    /* monotonic, for the order of second turns */
  guint rounds;
  gboolean via_room;
  gboolean plain;       /* answered with a reply code */
  gboolean assigned;
} Sent;

struct _EaRequest {
  EaDaemon *daemon;
  char *id;
  char *code;
  char *path;
  EaObjectSkeleton *object;
  EaExpertAssistRequest *iface;

  char *group;
  char *group_name;
  char *summary;
  GVariant *query;
  GVariant *options;
  char *mode;
  char *order;
  guint want;
  guint offer_to;
  guint offer_timeout;
  guint expire;
  EaPreferences prefs;
  gboolean queue_ok;
  GStrv similar_shown;
  char *room;           /* room mode: the group's room */

  char *state;
  char *reason;
  gint64 created;
  gint64 updated;
  gint64 answered;
  gint64 queued_since;
  gint64 queue_wait;
  gboolean ever_queued;
  gint64 expire_at;     /* monotonic */
  gboolean fallback_used;

  GHashTable *sent;     /* address → Sent */
  GPtrArray *offered;   /* addresses, in the order offered */
  GPtrArray *accepted;
  GPtrArray *declined;
  GPtrArray *expired;
  guint waves;
  gint64 next_wave_at;  /* monotonic, progressive */
  gint64 room_deadline; /* monotonic, room mode */
  guint timer_id;
  guint64 seq;

  char *session_id;
  char *adhoc_room;
  gboolean adhoc_ready;
  GPtrArray *assign_waiting; /* winners waiting for the ad-hoc room */
  gboolean in_queue;
  gboolean announced;   /* RequestChanged told the state at least once */
};

static void route (EaRequest *r);
static void request_save (EaRequest *r);
static void request_save_then (EaRequest *r, EaStoreDone done, gpointer user_data);

/* ------------------------------------------------------------------ */
/* Small things                                                        */
/* ------------------------------------------------------------------ */

static void
sent_free (gpointer data)
{
  Sent *s = data;

  g_free (s->address);
  g_free (s->full);
  g_free (s->reason);
  g_free (s);
}

static void
request_free (gpointer data)
{
  EaRequest *r = data;

  g_clear_handle_id (&r->timer_id, g_source_remove);
  g_free (r->id);
  g_free (r->code);
  g_free (r->path);
  g_clear_object (&r->object);
  g_clear_object (&r->iface);
  g_free (r->group);
  g_free (r->group_name);
  g_free (r->summary);
  g_clear_pointer (&r->query, g_variant_unref);
  g_clear_pointer (&r->options, g_variant_unref);
  g_free (r->mode);
  g_free (r->order);
  ea_preferences_clear (&r->prefs);
  g_strfreev (r->similar_shown);
  g_free (r->room);
  g_free (r->state);
  g_free (r->reason);
  g_hash_table_unref (r->sent);
  g_ptr_array_unref (r->offered);
  g_ptr_array_unref (r->accepted);
  g_ptr_array_unref (r->declined);
  g_ptr_array_unref (r->expired);
  g_free (r->session_id);
  g_free (r->adhoc_room);
  g_ptr_array_unref (r->assign_waiting);
  g_free (r);
}

static gboolean
is_final (EaRequest *r)
{
  return g_str_equal (r->state, "failed") || g_str_equal (r->state, "cancelled") ||
         g_str_equal (r->state, "closed");
}

static gboolean
is_full (EaRequest *r)
{
  return r->accepted->len >= r->want;
}

static gboolean
is_open (EaRequest *r)
{
  return !is_final (r) && !is_full (r) && !(g_str_equal (r->state, "connected") &&
                                            g_strcmp0 (r->reason, "partial") == 0);
}

static void
add_unique (GPtrArray *array, const char *value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (g_ptr_array_index (array, i), value))
      return;
  g_ptr_array_add (array, g_strdup (value));
}

static void
remove_value (GPtrArray *array, const char *value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (g_ptr_array_index (array, i), value))
      {
        g_ptr_array_remove_index (array, i);
        return;
      }
}

static const char * const *
strv_of (GPtrArray *array)
{
  g_ptr_array_add (array, NULL);
  g_ptr_array_set_size (array, array->len - 1);
  return (const char * const *) array->pdata;
}

static guint
count_pending (EaRequest *r)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, r->sent);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Sent *) value)->state == SENT_PENDING)
      n++;
  return n;
}

/* Whether @address holds a pending offer of another of our requests: a
 * queued request waits behind the one that was first. */
static gboolean
busy_elsewhere (EaDaemon *self, EaRequest *r, const char *address)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaRequest *other = value;
      Sent *s;

      if (other == r || is_final (other))
        continue;
      s = g_hash_table_lookup (other->sent, address);
      if (s != NULL && s->state == SENT_PENDING)
        return TRUE;
    }
  return FALSE;
}

static char *
own_display_name (EaDaemon *self)
{
  EaDirExpert *me = ea_directory_get_expert (self->directory, ea_daemon_get_account (self));

  if (me != NULL && me->name != NULL)
    return g_strdup (me->name);
  return ea_jid_localpart (ea_daemon_get_account (self));
}

/* ------------------------------------------------------------------ */
/* D-Bus properties and the log                                        */
/* ------------------------------------------------------------------ */

static void
sync_lists (EaRequest *r)
{
  ea_expert_assist_request_set_offered (r->iface, strv_of (r->offered));
  ea_expert_assist_request_set_accepted (r->iface, strv_of (r->accepted));
  ea_expert_assist_request_set_declined (r->iface, strv_of (r->declined));
  ea_expert_assist_request_set_expired (r->iface, strv_of (r->expired));
}

static void
touch (EaRequest *r)
{
  r->updated = g_get_real_time ();
  ea_expert_assist_request_set_updated (r->iface, r->updated);
  sync_lists (r);
  request_save (r);
}

static void
set_state (EaRequest *r, const char *state, const char *reason)
{
  /* The object is exported as "queued" before anything is decided; the
   * first decision is announced even when it is to queue. */
  gboolean changed = !g_str_equal (r->state, state) || !r->announced;

  if (reason != NULL && g_strcmp0 (r->reason, reason) != 0)
    {
      g_free (r->reason);
      r->reason = g_strdup (reason);
      ea_expert_assist_request_set_reason (r->iface, reason);
    }
  if (changed)
    {
      g_debug ("request %.8s: %s → %s%s%s", r->id, r->state, state,
               r->reason && *r->reason ? ", " : "", r->reason ? r->reason : "");
      g_free (r->state);
      r->state = g_strdup (state);
      ea_expert_assist_request_set_state (r->iface, state);
    }
  touch (r);
  r->announced = TRUE;
  if (changed && r->daemon->root != NULL)
    ea_expert_assist_emit_request_changed (r->daemon->root, r->path, state);
  if (changed && is_final (r))
    ea_daemon_note_final (r->daemon, "request", r->id);
}

static void
request_save_then (EaRequest *r, EaStoreDone done, gpointer user_data)
{
  EaStoreRequest row = { 0 };

  if (r->daemon->store == NULL)
    {
      if (done != NULL)
        done (NULL, user_data);
      return;
    }
  row.id = r->id;
  row.role = "agent";
  row.agent = ea_daemon_get_account (r->daemon);
  row.group = r->group;
  row.summary = r->summary;
  row.query = r->query;
  row.options = r->options;
  row.state = r->state;
  row.reason = r->reason;
  row.session = r->session_id;
  row.accepted = strv_of (r->accepted);
  row.created = r->created;
  row.updated = r->updated;
  row.answered = r->answered;
  row.queued = r->in_queue ? r->queued_since : 0;
  row.queue_wait = r->queue_wait + (r->in_queue ? g_get_real_time () - r->queued_since : 0);
  row.ever_queued = r->ever_queued;
  row.similar_shown = (const char * const *) r->similar_shown;
  ea_store_put_request (r->daemon->store, &row, done, user_data);
}

static void
request_save (EaRequest *r)
{
  request_save_then (r, NULL, NULL);
}

static void
offer_save_then (EaRequest *r, Sent *s, EaStoreDone done, gpointer user_data)
{
  EaStoreOffer row = { 0 };

  if (r->daemon->store == NULL)
    {
      if (done != NULL)
        done (NULL, user_data);
      return;
    }
  row.request = r->id;
  row.expert = s->address;
  row.role = "agent";
  row.agent = ea_daemon_get_account (r->daemon);
  row.group = r->group;
  row.state = sent_state_names[s->state];
  row.reason = s->reason;
  row.offered = s->offered;
  row.expires = s->deadline ? s->offered + (gint64) r->offer_timeout * G_USEC_PER_SEC : 0;
  row.ended = s->ended;
  row.rounds = s->rounds;
  ea_store_put_offer (r->daemon->store, &row, done, user_data);
}

static void
offer_save (EaRequest *r, Sent *s)
{
  offer_save_then (r, s, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* The queue                                                           */
/* ------------------------------------------------------------------ */

static void
update_positions (EaDaemon *self)
{
  GHashTable *per_group = g_hash_table_new (g_str_hash, g_str_equal);

  for (GList *l = self->queue->head; l; l = l->next)
    {
      EaRequest *r = l->data;
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (per_group, r->group)) + 1;

      g_hash_table_insert (per_group, r->group, GUINT_TO_POINTER (n));
      if (ea_expert_assist_request_get_queue_position (r->iface) != n)
        ea_expert_assist_request_set_queue_position (r->iface, n);
    }
  g_hash_table_unref (per_group);
}

static void
enter_queue (EaRequest *r)
{
  EaDaemon *self = r->daemon;

  if (!r->in_queue)
    {
      r->in_queue = TRUE;
      r->ever_queued = TRUE;
      r->queued_since = g_get_real_time ();
      g_queue_push_tail (self->queue, r);
    }
  set_state (r, "queued", NULL);
  update_positions (self);
}

static void
leave_queue (EaRequest *r)
{
  if (!r->in_queue)
    return;
  r->in_queue = FALSE;
  r->queue_wait += g_get_real_time () - r->queued_since;
  g_queue_remove (r->daemon->queue, r);
  ea_expert_assist_request_set_queue_position (r->iface, 0);
  update_positions (r->daemon);
}

static gboolean
kick_cb (gpointer data)
{
  EaDaemon *self = data;
  g_autoptr(GPtrArray) waiting = g_ptr_array_new ();

  self->kick_id = 0;
  /* First come, first served: the oldest queued request routes first and
   * takes whom it finds; the next sees those as busy. */
  for (GList *l = self->queue->head; l; l = l->next)
    g_ptr_array_add (waiting, l->data);
  for (guint i = 0; i < waiting->len; i++)
    {
      EaRequest *r = g_ptr_array_index (waiting, i);

      if (g_hash_table_lookup (self->requests, r->id) == r && r->in_queue)
        route (r);
    }
  return G_SOURCE_REMOVE;
}

/**
 * ea_daemon_agent_kick:
 *
 * Something moved (presence, capacity, the directory, a request ended):
 * the queued requests look again, once the current burst is handled.
 */
void
ea_daemon_agent_kick (EaDaemon *self)
{
  if (self->kick_id != 0 || self->queue == NULL || g_queue_is_empty (self->queue))
    return;
  self->kick_id = g_idle_add (kick_cb, self);
}

/* ------------------------------------------------------------------ */
/* Sending offers and answers                                          */
/* ------------------------------------------------------------------ */

static GVariant *
unmasked_query (EaRequest *r, GStrv masked, gboolean only_masked)
{
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, r->query);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gboolean is_masked = masked && g_strv_contains ((const char * const *) masked, key);

      if (g_str_equal (key, "summary"))
        continue;
      if (is_masked == only_masked)
        g_variant_builder_add (&b, "{sv}", key, value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

/* The masked fields this request actually has. */
static GStrv
present_masked (EaRequest *r)
{
  g_auto(GStrv) masked = ea_daemon_masked_fields (r->daemon);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; masked && masked[i]; i++)
    {
      const char *v = NULL;

      if (!g_str_equal (masked[i], "summary") &&
          g_variant_lookup (r->query, masked[i], "&s", &v) && *v)
        g_strv_builder_add (b, masked[i]);
    }
  return g_strv_builder_end (b);
}

static gint64
request_seconds_left (EaRequest *r)
{
  gint64 left = (r->expire_at - g_get_monotonic_time () + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;

  return MAX (left, 1);
}

static xmpp_stanza_t *
build_offer (EaRequest *r, const char *to, const char *type, guint timeout, const char *language)
{
  EaDaemon *self = r->daemon;
  EaOfferInfo info = { 0 };
  g_autofree char *body = NULL;
  g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
  g_auto(GStrv) masked = present_masked (r);
  g_autoptr(GVariant) query = unmasked_query (r, masked, FALSE);
  xmpp_stanza_t *stanza;

  info.id = r->id;
  info.group = r->group[0] ? r->group : (char *) "";
  info.summary = r->summary;
  info.agent = (char *) ea_daemon_get_account (self);
  info.agent_name = own_display_name (self);
  info.expires = g_get_real_time () + (gint64) timeout * G_USEC_PER_SEC;
  info.timeout = timeout;
  info.experts = r->want;
  info.query = query;
  info.masked = masked;

  body = ea_offer_body (&info, r->group_name, language);
  stanza = ea_offer_build (ea_xmpp_get_ctx (self->xmpp), &info, to, type, body, stanza_id);
  g_free (info.agent_name);
  return stanza;
}

static const char *
expert_language (EaDaemon *self, const char *address)
{
  EaDirExpert *e = ea_directory_get_expert (self->directory, address);

  return e && e->languages && e->languages[0] ? e->languages[0] : NULL;
}

static void
send_offer_to (EaRequest *r, Sent *s)
{
  EaDaemon *self = r->daemon;
  /* Whole seconds, rounded up: the expert never gives up before us. */
  guint timeout = s->deadline
                    ? (guint) MAX ((s->deadline - g_get_monotonic_time () + G_USEC_PER_SEC - 1) /
                                   G_USEC_PER_SEC, 1)
                    : (guint) request_seconds_left (r);
  g_autoptr(xmpp_stanza_t) m = build_offer (r, s->address, "normal", timeout,
                                            expert_language (self, s->address));

  ea_xmpp_send (self->xmpp, m);
}

static void
send_control (EaRequest *r, const char *to, EaControlKind kind, const char *reason,
              const char *by, gboolean keep)
{
  EaDaemon *self = r->daemon;
  EaControl c = { 0 };
  g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
  g_autoptr(xmpp_stanza_t) m = NULL;

  c.kind = kind;
  c.id = r->id;
  c.reason = (char *) reason;
  c.by = (char *) by;
  m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &c, to, "normal", stanza_id);
  if (keep)
    ea_daemon_send_kept (self, m, NULL);
  else
    ea_xmpp_send (self->xmpp, m);
}

static void
withdraw (EaRequest *r, Sent *s, const char *reason, const char *by)
{
  if (s->state != SENT_PENDING)
    return;
  s->state = SENT_WITHDRAWN;
  g_free (s->reason);
  s->reason = g_strdup (reason);
  s->ended = g_get_real_time ();
  if (!s->via_room && !s->plain)
    send_control (r, s->address, EA_CONTROL_WITHDRAW, reason, by, TRUE);
  else if (!s->via_room)
    {
      /* Someone with an ordinary client reads a sentence, not an element. */
      EaDaemon *self = r->daemon;
      g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
      g_autoptr(xmpp_stanza_t) m = NULL;
      g_autofree char *text = NULL;
      EaControl c = { 0 };

      c.kind = EA_CONTROL_WITHDRAW;
      c.id = r->id;
      c.reason = (char *) reason;
      c.by = (char *) by;
      m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &c, s->full ? s->full : s->address,
                            "normal", stanza_id);
      text = g_strdup_printf (ea_translate (expert_language (self, s->address),
                                            N_("The request “%s” is no longer open (%s).")),
                              r->summary, reason);
      ea_stanza_add_text (m, "body", NULL, text);
      ea_daemon_send_kept (self, m, NULL);
    }
  offer_save (r, s);
}

static void
withdraw_room (EaRequest *r, const char *reason, const char *by)
{
  EaDaemon *self = r->daemon;
  EaRoom *room = r->room ? ea_daemon_room_lookup (self, r->room) : NULL;
  EaControl c = { 0 };
  g_autofree char *stanza_id = NULL;
  g_autoptr(xmpp_stanza_t) m = NULL;
  g_autofree char *text = NULL;
  g_autofree char *code = g_strndup (r->id, EA_REPLY_CODE_LEN);

  if (room == NULL || !ea_room_is_joined (room) || r->room_deadline == 0)
    return;
  r->room_deadline = 0;
  stanza_id = ea_xmpp_new_id (self->xmpp);
  c.kind = EA_CONTROL_WITHDRAW;
  c.id = r->id;
  c.reason = (char *) reason;
  c.by = (char *) by;
  m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &c, ea_room_get_address (room),
                        "groupchat", stanza_id);
  if (g_str_equal (reason, "taken") && by != NULL)
    text = g_strdup_printf (_("Request %s (“%s”) was taken by %s."), code, r->summary, by);
  else
    text = g_strdup_printf (_("Request %s (“%s”) is no longer open (%s)."), code, r->summary,
                            reason);
  ea_stanza_add_text (m, "body", NULL, text);
  ea_daemon_room_post (self, room, m);
}

static void
withdraw_all (EaRequest *r, const char *reason, const char *by)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, r->sent);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    withdraw (r, value, reason, by);
  withdraw_room (r, reason, by);
}

/* ------------------------------------------------------------------ */
/* Choosing and offering                                               */
/* ------------------------------------------------------------------ */

static GPtrArray *
request_groups (EaRequest *r)
{
  EaDaemon *self = r->daemon;

  if (r->group[0] == '\0')
    return ea_directory_open_groups (self->directory, ea_daemon_get_account (self));
  else
    {
      GPtrArray *one = g_ptr_array_new ();
      EaDirGroup *g = ea_directory_get_group (self->directory, r->group);

      if (g != NULL)
        g_ptr_array_add (one, g);
      return one;
    }
}

static int
by_expiry (gconstpointer a, gconstpointer b, gpointer data)
{
  EaRequest *r = data;
  Sent *sa = g_hash_table_lookup (r->sent, ((EaCandidate *) *(gpointer *) a)->expert->address);
  Sent *sb = g_hash_table_lookup (r->sent, ((EaCandidate *) *(gpointer *) b)->expert->address);

  return sa->expired_at < sb->expired_at ? -1 : sa->expired_at > sb->expired_at;
}

/* Up to @max (0: all) candidates for the next offers, in the group's
 * order: never those who declined or hold this request's offer now;
 * those who let it expire only after everyone else had a turn. */
static GPtrArray *
pick (EaRequest *r, guint max)
{
  EaDaemon *self = r->daemon;
  g_autoptr(GPtrArray) groups = request_groups (r);
  g_autoptr(GPtrArray) all = ea_router_candidates (self->directory, groups, &r->prefs,
                                                   self->roster, ea_daemon_get_account (self),
                                                   TRUE);
  g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
  g_autoptr(GPtrArray) again = g_ptr_array_new ();
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  ea_router_order (all, r->order, self->router_memory, r->group);
  for (guint i = 0; i < all->len; i++)
    {
      EaCandidate *c = g_ptr_array_index (all, i);
      Sent *s = g_hash_table_lookup (r->sent, c->expert->address);

      if (s != NULL && (s->state == SENT_DECLINED || s->state == SENT_PENDING ||
                        s->state == SENT_ACCEPTED))
        continue;
      if (busy_elsewhere (self, r, c->expert->address))
        continue;
      g_ptr_array_add (s != NULL ? again : fresh, c);
    }
  g_ptr_array_sort_with_data (again, by_expiry, r);

  for (guint i = 0; i < fresh->len && (max == 0 || out->len < max); i++)
    g_ptr_array_add (out, g_strdup (((EaCandidate *) g_ptr_array_index (fresh, i))->expert->address));
  for (guint i = 0; i < again->len && (max == 0 || out->len < max); i++)
    g_ptr_array_add (out, g_strdup (((EaCandidate *) g_ptr_array_index (again, i))->expert->address));

  if (out->len > 0 && g_strcmp0 (r->order, "round-robin") == 0)
    ea_router_memory_offered (self->router_memory, r->group, g_ptr_array_index (out, 0));
  return out;
}

static Sent *
sent_for (EaRequest *r, const char *address)
{
  Sent *s = g_hash_table_lookup (r->sent, address);

  if (s == NULL)
    {
      s = g_new0 (Sent, 1);
      s->address = g_strdup (address);
      s->offered = g_get_real_time ();
      g_hash_table_insert (r->sent, s->address, s);
    }
  return s;
}

typedef struct {
  EaDaemon *daemon;
  char *request;
  GPtrArray *addresses;
  GArray *rounds;
} OfferWrite;

/* An offer leaves only once the log has it: a SIGKILL the next moment
 * still leaves a restarted daemon knowing whom it owes a withdrawal. One
 * barrier per round, so a fan-out to fifty is one commit and one burst. */
static void
offers_written_cb (GError *error, gpointer data)
{
  OfferWrite *w = data;
  EaRequest *r = g_hash_table_lookup (w->daemon->requests, w->request);

  if (error != NULL)
    g_warning ("Offering request %.8s without logging it: %s", w->request, error->message);
  for (guint i = 0; r != NULL && i < w->addresses->len; i++)
    {
      Sent *s = g_hash_table_lookup (r->sent, g_ptr_array_index (w->addresses, i));

      if (s != NULL && s->state == SENT_PENDING && s->rounds == g_array_index (w->rounds, guint, i))
        send_offer_to (r, s);
    }
  g_free (w->request);
  g_ptr_array_unref (w->addresses);
  g_array_unref (w->rounds);
  g_free (w);
}

static void
offer_to (EaRequest *r, GPtrArray *addresses, gint64 deadline)
{
  OfferWrite *w = g_new0 (OfferWrite, 1);

  w->daemon = r->daemon;
  w->request = g_strdup (r->id);
  w->addresses = g_ptr_array_new_with_free_func (g_free);
  w->rounds = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < addresses->len; i++)
    {
      const char *address = g_ptr_array_index (addresses, i);
      Sent *s = sent_for (r, address);

      s->state = SENT_PENDING;
      s->deadline = deadline;
      s->rounds++;
      g_clear_pointer (&s->reason, g_free);
      s->ended = 0;
      add_unique (r->offered, address);
      offer_save (r, s);
      g_ptr_array_add (w->addresses, g_strdup (address));
      g_array_append_val (w->rounds, s->rounds);
    }
  if (r->daemon->store != NULL)
    ea_store_flush_then (r->daemon->store, offers_written_cb, w);
  else
    offers_written_cb (NULL, w);
  {
    g_autofree char *who = ea_jid_short (g_ptr_array_index (addresses, 0));

    g_debug ("request %.8s: offered to %u (%s first)", r->id, addresses->len, who);
  }
}

typedef struct {
  EaDaemon *daemon;
  char *request;
  gint64 deadline;
} RoomPost;

static void
room_post_cb (GError *error, gpointer data)
{
  RoomPost *p = data;
  EaRequest *r = g_hash_table_lookup (p->daemon->requests, p->request);
  EaRoom *room = r && r->room ? ea_daemon_room_lookup (p->daemon, r->room) : NULL;

  if (r != NULL && room != NULL && r->room_deadline == p->deadline && is_open (r) &&
      ea_room_is_joined (room))
    {
      g_autoptr(xmpp_stanza_t) m = build_offer (r, NULL, "groupchat", r->offer_timeout, NULL);

      ea_daemon_room_post (p->daemon, room, m);
    }
  g_free (p->request);
  g_free (p);
}

/* Room mode: one post in the group's room; every expert of the group who
 * is in the room counts as offered. */
static gboolean
offer_in_room (EaRequest *r)
{
  EaDaemon *self = r->daemon;
  EaRoom *room = ea_daemon_room_lookup (self, r->room);
  EaDirGroup *g = ea_directory_get_group (self->directory, r->group);
  g_autoptr(GPtrArray) present = NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) r->offer_timeout * G_USEC_PER_SEC;
  guint counted = 0;

  if (room == NULL || !ea_room_is_joined (room) || g == NULL)
    return FALSE;

  present = ea_room_occupants (room);
  for (guint i = 0; i < present->len; i++)
    {
      const char *address = g_ptr_array_index (present, i);
      Sent *s;

      if (!ea_dir_group_has_expert (g, address) ||
          ea_jid_equal_bare (address, ea_daemon_get_account (self)))
        continue;
      s = g_hash_table_lookup (r->sent, address);
      if (s != NULL && (s->state == SENT_DECLINED || s->state == SENT_ACCEPTED))
        continue;
      s = sent_for (r, address);
      s->state = SENT_PENDING;
      s->via_room = TRUE;
      s->deadline = deadline;
      s->rounds++;
      s->full = g_strdup (ea_room_find_occupant (room, address));
      add_unique (r->offered, address);
      offer_save (r, s);
      counted++;
    }
  if (counted == 0)
    return FALSE;

  r->room_deadline = deadline;
  {
    /* Posted once the log has the offers (writes commit in order). */
    RoomPost *p = g_new0 (RoomPost, 1);
    p->daemon = self;
    p->request = g_strdup (r->id);
    p->deadline = deadline;
    if (self->store != NULL)
      ea_store_flush_then (self->store, room_post_cb, p);
    else
      room_post_cb (NULL, p);
  }
  g_debug ("request %.8s: posting in %s (%u experts present)", r->id, r->room, counted);
  return TRUE;
}

/* Nobody more can be asked now. */
static void
nobody (EaRequest *r)
{
  if (g_str_equal (r->state, "connected") || count_pending (r) > 0)
    return;
  if (r->queue_ok)
    enter_queue (r);
  else
    {
      withdraw_all (r, "expired", NULL);
      set_state (r, "failed", "no-experts");
    }
}

static gboolean timer_cb (gpointer data);

static void
schedule (EaRequest *r)
{
  gint64 next = G_MAXINT64;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;
  guint ms;

  g_clear_handle_id (&r->timer_id, g_source_remove);
  if (is_final (r))
    return;

  if (!(g_str_equal (r->state, "connected") && g_strcmp0 (r->reason, "partial") == 0))
    next = r->expire_at;
  g_hash_table_iter_init (&iter, r->sent);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Sent *s = value;

      if (s->state == SENT_PENDING && s->deadline != 0)
        next = MIN (next, s->deadline);
    }
  if (r->next_wave_at != 0 && !is_full (r))
    next = MIN (next, r->next_wave_at);
  if (r->room_deadline != 0)
    next = MIN (next, r->room_deadline);
  if (next == G_MAXINT64)
    return;

  ms = next <= now ? 0 : (guint) MIN ((next - now + 999) / 1000, G_MAXUINT);
  r->timer_id = g_timeout_add (ms, timer_cb, r);
}

/**
 * route:
 *
 * The one step function: given what has happened, offer to whom should
 * be offered now, or queue, or fail. Called when a request starts, when an
 * offer ends, at each deadline, and when the queue is kicked.
 */
static void
route (EaRequest *r)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GPtrArray) next = NULL;
  guint pending;

  if (!is_open (r))
    {
      schedule (r);
      return;
    }

  pending = count_pending (r);

  if (g_str_equal (r->mode, "room"))
    {
      if (r->room_deadline == 0)
        {
          if (offer_in_room (r))
            {
              leave_queue (r);
              if (!g_str_equal (r->state, "connected"))
                set_state (r, "offering", NULL);
            }
          else
            nobody (r);
        }
    }
  else if (g_str_equal (r->mode, "serial"))
    {
      if (pending == 0)
        {
          next = pick (r, 1);
          if (next->len > 0)
            offer_to (r, next, now + (gint64) r->offer_timeout * G_USEC_PER_SEC);
        }
    }
  else if (g_str_equal (r->mode, "progressive"))
    {
      if (r->waves == 0 || now >= r->next_wave_at || pending == 0)
        {
          guint size = 1u << MIN (r->waves, 16u);

          next = pick (r, size);
          if (next->len > 0)
            {
              /* Earlier offers stay open: no deadline of their own. */
              offer_to (r, next, 0);
              r->waves++;
            }
          r->next_wave_at = now + (gint64) r->offer_timeout * G_USEC_PER_SEC;
        }
    }
  else /* parallel, with offer-to K or to all */
    {
      if (pending == 0)
        {
          next = pick (r, r->offer_to);
          if (next->len > 0)
            offer_to (r, next, now + (gint64) r->offer_timeout * G_USEC_PER_SEC);
        }
    }

  if (!g_str_equal (r->mode, "room"))
    {
      if (next != NULL && next->len > 0)
        {
          leave_queue (r);
          if (!g_str_equal (r->state, "connected"))
            set_state (r, "offering", NULL);
          else
            touch (r);
        }
      else if (count_pending (r) == 0)
        nobody (r);
    }

  schedule (r);
}

/* ------------------------------------------------------------------ */
/* Ends                                                                */
/* ------------------------------------------------------------------ */

static void
finish (EaRequest *r, const char *state, const char *reason)
{
  leave_queue (r);
  r->next_wave_at = 0;
  set_state (r, state, reason);
  schedule (r);
  ea_daemon_agent_kick (r->daemon);
}

static void
expire_request (EaRequest *r)
{
  EaDaemon *self = r->daemon;
  EaDirGroup *g = r->group[0] ? ea_directory_get_group (self->directory, r->group) : NULL;
  EaDirGroup *fallback = g && g->fallback ? ea_directory_get_group (self->directory, g->fallback)
                                          : NULL;

  if (g_str_equal (r->state, "connected"))
    {
      /* Fewer than asked accepted in time: the session goes on with them. */
      withdraw_all (r, "expired", NULL);
      r->next_wave_at = 0;
      set_state (r, "connected", "partial");
      schedule (r);
      return;
    }

  if (fallback != NULL && !r->fallback_used && !g_str_equal (r->mode, "room") &&
      ea_directory_group_is_open (self->directory, fallback, ea_daemon_get_account (self)))
    {
      guint expire = fallback->expire ? fallback->expire
                                      : ea_daemon_setting_uint (self, "default-expire", 180);

      g_debug ("request %.8s: expired in %s, trying %s", r->id, r->group, fallback->id);
      withdraw_all (r, "expired", NULL);
      r->fallback_used = TRUE;
      leave_queue (r);
      g_free (r->group);
      r->group = g_strdup (fallback->id);
      g_free (r->group_name);
      r->group_name = g_strdup (fallback->name);
      if (fallback->order != NULL)
        {
          g_free (r->order);
          r->order = g_strdup (fallback->order);
        }
      r->expire = expire;
      r->expire_at = g_get_monotonic_time () + (gint64) expire * G_USEC_PER_SEC;
      r->waves = 0;
      r->next_wave_at = 0;
      ea_expert_assist_request_set_group (r->iface, r->group);
      touch (r);
      route (r);
      return;
    }

  withdraw_all (r, "expired", NULL);
  finish (r, "failed", "expired");
}

static void
expire_offer (EaRequest *r, Sent *s)
{
  s->state = SENT_EXPIRED;
  s->ended = g_get_real_time ();
  s->expired_at = g_get_monotonic_time ();
  g_free (s->reason);
  s->reason = g_strdup ("timeout");
  add_unique (r->expired, s->address);
  /* Take the offer back from the expert's desktop. */
  if (!s->via_room)
    send_control (r, s->address, EA_CONTROL_WITHDRAW, "expired", NULL, TRUE);
  offer_save (r, s);
}

static gboolean
timer_cb (gpointer data)
{
  EaRequest *r = data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;

  r->timer_id = 0;

  if (now >= r->expire_at && !is_final (r) &&
      !(g_str_equal (r->state, "connected") && g_strcmp0 (r->reason, "partial") == 0))
    {
      expire_request (r);
      return G_SOURCE_REMOVE;
    }

  g_hash_table_iter_init (&iter, r->sent);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Sent *s = value;

      if (s->state == SENT_PENDING && s->deadline != 0 && now >= s->deadline)
        expire_offer (r, s);
    }
  if (r->room_deadline != 0 && now >= r->room_deadline)
    {
      /* The room's round ran out: those who said nothing expired. */
      g_hash_table_iter_init (&iter, r->sent);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Sent *s = value;

          if (s->state == SENT_PENDING && s->via_room)
            expire_offer (r, s);
        }
      withdraw_room (r, "expired", NULL);
    }
  touch (r);
  route (r);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------ */
/* Winning                                                             */
/* ------------------------------------------------------------------ */

static void
send_assigned (EaRequest *r, Sent *s)
{
  EaDaemon *self = r->daemon;
  EaControl c = { 0 };
  g_autofree char *stanza_id = ea_xmpp_new_id (self->xmpp);
  g_auto(GStrv) masked = present_masked (r);
  g_autoptr(GVariant) hidden = unmasked_query (r, masked, TRUE);
  g_autoptr(xmpp_stanza_t) m = NULL;

  c.kind = EA_CONTROL_ASSIGNED;
  c.id = r->id;
  c.session = r->session_id;
  c.room = r->adhoc_room;
  c.query = hidden;
  m = ea_control_build (ea_xmpp_get_ctx (self->xmpp), &c, s->address, "normal", stanza_id);
  ea_daemon_send_kept (self, m, NULL);
  s->assigned = TRUE;
}

/* A winner with an ordinary client: the masked fields and a word of
 * welcome in the first chat line. */
static void
greet_plain_winner (EaRequest *r, Sent *s)
{
  EaDaemon *self = r->daemon;
  EaSession *session = ea_daemon_session_lookup (self, r->session_id);
  const char *language = expert_language (self, s->address);
  g_autoptr(GString) text = g_string_new (NULL);
  g_auto(GStrv) masked = present_masked (r);

  if (session == NULL)
    return;
  g_string_append_printf (text, ea_translate (language, N_("You took “%s”.")), r->summary);
  for (guint i = 0; masked[i]; i++)
    {
      const char *v = NULL;

      if (g_variant_lookup (r->query, masked[i], "&s", &v))
        g_string_append_printf (text, " %s: %s.", masked[i], v);
    }
  s->assigned = TRUE;
  ea_daemon_session_send_text (self, session, text->str);
}

static void
assign_when_ready (EaRequest *r, Sent *s)
{
  if (s->plain)
    greet_plain_winner (r, s);
  else
    send_assigned (r, s);
}

static void
member_added_cb (EaDaemon *self, const char *member, gboolean ok, gpointer data)
{
  g_autofree char *id = data;
  EaRequest *r = g_hash_table_lookup (self->requests, id);
  EaSession *session;
  Sent *s;

  if (r == NULL)
    return;
  s = g_hash_table_lookup (r->sent, member);
  if (s == NULL)
    return;
  if (!ok)
    g_message ("The room %s refused to make %s a member", r->adhoc_room, member);
  session = ea_daemon_session_lookup (self, r->session_id);
  if (session != NULL)
    ea_daemon_session_add_participant (self, session, member, s->full);
  assign_when_ready (r, s);
}

static void
adhoc_ready_cb (EaDaemon *self, EaRoom *room, const char *error, gpointer data)
{
  g_autofree char *id = data;
  EaRequest *r = g_hash_table_lookup (self->requests, id);
  g_autoptr(GPtrArray) waiting = NULL;

  if (r == NULL)
    return;
  if (error != NULL)
    {
      g_warning ("Cannot set up the room %s for request %.8s: %s", r->adhoc_room, r->id, error);
      return;
    }
  r->adhoc_ready = TRUE;
  waiting = g_steal_pointer (&r->assign_waiting);
  r->assign_waiting = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < waiting->len; i++)
    ea_daemon_room_add_member (self, room, g_ptr_array_index (waiting, i), member_added_cb,
                               g_strdup (r->id));
}

static void
start_adhoc_room (EaRequest *r)
{
  EaDaemon *self = r->daemon;

  if (r->adhoc_room != NULL)
    return;
  if (self->conference_service == NULL)
    {
      /* Asked when the session started; we are told when it is known. */
      ea_daemon_rooms_find_conference (self);
      return;
    }
  r->adhoc_room = g_strdup_printf ("ea-%s@%s", r->session_id, self->conference_service);
  ea_daemon_room_join (self, r->adhoc_room, NULL, r->session_id, adhoc_ready_cb,
                       g_strdup (r->id));
}

void
ea_daemon_rooms_conference_known (EaDaemon *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaRequest *r = value;

      if (r->want > 1 && r->session_id != NULL && r->adhoc_room == NULL && !is_final (r))
        start_adhoc_room (r);
    }
}

static void
win (EaRequest *r, Sent *s, const char *from)
{
  EaDaemon *self = r->daemon;
  gboolean first = r->accepted->len == 0;
  g_autofree char *who = ea_jid_short (s->address);

  s->state = SENT_ACCEPTED;
  s->ended = g_get_real_time ();
  g_free (s->full);
  s->full = g_strdup (from);
  add_unique (r->accepted, s->address);
  remove_value (r->expired, s->address);
  ea_router_memory_assigned (self->router_memory, s->address, g_get_real_time ());
  offer_save (r, s);
  g_debug ("request %.8s: %s won (%u of %u)", r->id, who, r->accepted->len, r->want);

  if (first)
    {
      g_autofree char *session_path = NULL;
      const char *participants[] = { ea_daemon_get_account (self), s->address, NULL };
      EaSession *session;

      r->answered = s->ended;
      r->session_id = ea_id_new ();
      leave_queue (r);
      if (r->want == 1)
        session = ea_daemon_session_open (self, r->session_id, r->id, "agent", r->group,
                                          r->summary, participants, from, NULL);
      else
        {
          const char *just_me[] = { ea_daemon_get_account (self), NULL };

          session = ea_daemon_session_open (self, r->session_id, r->id, "agent", r->group,
                                            r->summary, just_me, NULL, NULL);
        }
      ea_expert_assist_request_set_session (r->iface, ea_session_get_path (session));
    }

  /* The winner hears first, then the others. */
  if (r->want == 1)
    assign_when_ready (r, s);
  else
    {
      g_ptr_array_add (r->assign_waiting, g_strdup (s->address));
      if (r->adhoc_room == NULL)
        start_adhoc_room (r);
      else if (r->adhoc_ready)
        adhoc_ready_cb (self, ea_daemon_room_lookup (self, r->adhoc_room), NULL, g_strdup (r->id));
    }
  if (is_full (r))
    withdraw_all (r, "taken", s->address);

  if (first)
    set_state (r, "connected", is_full (r) ? "" : NULL);
  else
    touch (r);
  if (is_full (r))
    {
      r->next_wave_at = 0;
      if (g_strcmp0 (r->reason, "partial") == 0)
        set_state (r, "connected", "");
    }
  schedule (r);
  ea_daemon_agent_kick (self);
}

/* The true reason a request is no longer open, for a late accept. */
static const char *
closed_reason (EaRequest *r)
{
  if (g_str_equal (r->state, "cancelled"))
    return "cancelled";
  if (r->accepted->len > 0)
    return "taken";
  return "expired";
}

static void
handle_accept (EaDaemon *self, EaRequest *r, const char *from, gboolean plain)
{
  g_autofree char *bare = ea_jid_bare (from);
  g_autofree char *who = ea_jid_short (bare);
  Sent *s = g_hash_table_lookup (r->sent, bare);

  if (s == NULL)
    {
      g_message ("Ignoring an accept for request %.8s from %s, who was not offered it",
                 r->id, who);
      return;
    }

  if (s->state == SENT_ACCEPTED)
    {
      /* Sent again after a reconnect: the answer is the same. */
      if (!plain && s->assigned)
        send_assigned (r, s);
      return;
    }

  if (!is_open (r) || s->state != SENT_PENDING)
    {
      const char *reason = s->state == SENT_PENDING || s->state == SENT_WITHDRAWN
                             ? closed_reason (r) : "expired";

      g_debug ("request %.8s: late accept from %s: %s", r->id, who, reason);
      if (s->state == SENT_PENDING)
        withdraw (r, s, reason, r->accepted->len ? g_ptr_array_index (r->accepted, 0) : NULL);
      else if (!plain)
        send_control (r, from, EA_CONTROL_WITHDRAW, reason,
                      r->accepted->len ? g_ptr_array_index (r->accepted, 0) : NULL, FALSE);
      return;
    }

  s->plain = plain;
  win (r, s, from);
}

static void
handle_decline (EaDaemon *self, EaRequest *r, const char *from, const char *reason)
{
  g_autofree char *bare = ea_jid_bare (from);
  g_autofree char *who = ea_jid_short (bare);
  Sent *s = g_hash_table_lookup (r->sent, bare);
  gboolean automatic;

  if (s == NULL)
    {
      g_message ("Ignoring a decline for request %.8s from %s, who was not offered it",
                 r->id, who);
      return;
    }
  if (s->state != SENT_PENDING)
    return;

  /* Declines by the machine (timeout, dnd, full) count as expiries: the
   * expert may be asked again later. */
  automatic = reason != NULL && (g_str_equal (reason, "timeout") || g_str_equal (reason, "dnd") ||
                                 g_str_equal (reason, "max-sessions"));
  s->state = automatic ? SENT_EXPIRED : SENT_DECLINED;
  s->ended = g_get_real_time ();
  s->expired_at = g_get_monotonic_time ();
  g_free (s->reason);
  s->reason = g_strdup (reason ? reason : "");
  add_unique (automatic ? r->expired : r->declined, bare);
  offer_save (r, s);
  g_debug ("request %.8s: %s %s (%s)", r->id, who, automatic ? "could not take it" : "declined",
           reason ? reason : "");
  touch (r);
  route (r);
}

/* ------------------------------------------------------------------ */
/* Stanzas                                                             */
/* ------------------------------------------------------------------ */

static EaRequest *
request_by_code (EaDaemon *self, const char *code)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaRequest *r = value;

      if (!is_final (r) && g_str_equal (r->code, code))
        return r;
    }
  return NULL;
}

/* "ok CODE" / "no CODE reason" from someone with an ordinary client, in a
 * chat or in the group's room. */
static gboolean
handle_reply_code (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *type = xmpp_stanza_get_type (stanza);
  const char *from = xmpp_stanza_get_from (stanza);
  g_autofree char *body = ea_message_body (stanza);
  g_autofree char *code = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *real = NULL;
  gboolean accept;
  EaRequest *r;
  Sent *s;

  if (body == NULL || from == NULL || !ea_reply_parse (body, &accept, &code, &reason))
    return FALSE;
  r = request_by_code (self, code);
  if (r == NULL)
    return FALSE;

  if (g_strcmp0 (type, "groupchat") == 0)
    {
      EaRoom *room = ea_daemon_room_lookup (self, from);
      const char *full;

      if (room == NULL || r->room == NULL || !ea_jid_equal_bare (r->room, from))
        return FALSE;
      full = ea_room_real_jid (room, ea_jid_resource (from));
      if (full == NULL)
        return FALSE;
      real = g_strdup (full);
    }
  else
    real = g_strdup (from);

  {
    g_autofree char *bare = ea_jid_bare (real);

    s = g_hash_table_lookup (r->sent, bare);
    if (s == NULL)
      return FALSE;
  }

  if (accept)
    handle_accept (self, r, real, TRUE);
  else
    handle_decline (self, r, real, reason ? reason : "declined");
  return TRUE;
}

/**
 * ea_daemon_agent_handle_stanza:
 *
 * Accepts and declines for this user's requests, as elements or as reply
 * codes. Returns %TRUE when the stanza was one.
 */
gboolean
ea_daemon_agent_handle_stanza (EaDaemon *self, xmpp_stanza_t *stanza)
{
  EaControl c;
  g_autoptr(GError) error = NULL;
  const char *from = xmpp_stanza_get_from (stanza);
  EaRequest *r;

  if (g_strcmp0 (xmpp_stanza_get_name (stanza), "message") != 0 || from == NULL)
    return FALSE;
  if (ea_stanza_is_type (stanza, "error"))
    return FALSE;

  if (!ea_control_parse (stanza, &c, &error))
    {
      if (error != NULL)
        {
          g_autofree char *who = ea_jid_short (from);

          g_message ("Ignoring a malformed control stanza from %s: %s", who, error->message);
          return TRUE;
        }
      return handle_reply_code (self, stanza);
    }

  if (c.kind != EA_CONTROL_ACCEPT && c.kind != EA_CONTROL_DECLINE)
    {
      ea_control_clear (&c);
      return FALSE;
    }

  r = g_hash_table_lookup (self->requests, c.id);
  if (r == NULL)
    {
      g_autofree char *who = ea_jid_short (from);

      g_message ("Ignoring %s for a request this desktop never made, from %s",
                 ea_control_kind_name (c.kind), who);
    }
  else if (ea_daemon_seen_before (self, stanza))
    ;
  else if (c.kind == EA_CONTROL_ACCEPT)
    handle_accept (self, r, from, FALSE);
  else
    handle_decline (self, r, from, c.reason);
  ea_control_clear (&c);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* D-Bus: RequestHelp and Cancel                                       */
/* ------------------------------------------------------------------ */

static gboolean
handle_cancel (EaExpertAssistRequest *iface, GDBusMethodInvocation *invocation, gpointer data)
{
  EaRequest *r = data;

  if (is_final (r))
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_FAILED,
                                             _("The request is already %s: there is nothing "
                                               "to cancel."), r->state);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (g_str_equal (r->state, "connected"))
    {
      if (is_full (r) || g_strcmp0 (r->reason, "partial") == 0)
        {
          g_dbus_method_invocation_return_error_literal (
            invocation, EA_ERROR, EA_ERROR_FAILED,
            _("The request is connected: close its session to end it."));
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
      /* Still looking for more experts: stop looking, keep the session. */
      withdraw_all (r, "cancelled", NULL);
      r->next_wave_at = 0;
      set_state (r, "connected", "partial");
      schedule (r);
      ea_expert_assist_request_complete_cancel (iface, invocation);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  withdraw_all (r, "cancelled", NULL);
  finish (r, "cancelled", "cancelled");
  ea_expert_assist_request_complete_cancel (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
  const char *key;
  const GVariantType *type;
} OptionKey;

static gboolean
check_options (GVariant *options, GError **error)
{
  static const OptionKey keys[] = {
    { "mode", G_VARIANT_TYPE_STRING },
    { "experts", G_VARIANT_TYPE_UINT32 },
    { "offer-to", G_VARIANT_TYPE_UINT32 },
    { "offer-timeout", G_VARIANT_TYPE_UINT32 },
    { "expire", G_VARIANT_TYPE_UINT32 },
    { "expert", G_VARIANT_TYPE_STRING },
    { "skills", G_VARIANT_TYPE_STRING_ARRAY },
    { "language", G_VARIANT_TYPE_STRING },
    { "level", G_VARIANT_TYPE_UINT32 },
    { "queue", G_VARIANT_TYPE_BOOLEAN },
    { "similar-shown", G_VARIANT_TYPE_STRING_ARRAY },
  };
  GVariantIter iter;
  const char *key;
  GVariant *value;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gboolean known = FALSE;

      if (!g_hash_table_add (seen, (gpointer) key))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The option “%s” is given twice."), key);
          g_variant_unref (value);
          return FALSE;
        }

      for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
        {
          if (!g_str_equal (key, keys[i].key))
            continue;
          known = TRUE;
          if (!g_variant_is_of_type (value, keys[i].type))
            {
              g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                           _("The option “%s” must be of type %s, not %s."), key,
                           g_variant_type_peek_string (keys[i].type),
                           g_variant_get_type_string (value));
              g_variant_unref (value);
              return FALSE;
            }
        }
      if (!known)
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("Unknown option “%s”: use mode, experts, offer-to, offer-timeout, "
                         "expire, expert, skills, language, level, queue or similar-shown."),
                       key);
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
lookup_uint (GVariant *options, const char *key, guint *out)
{
  return g_variant_lookup (options, key, "u", out);
}

typedef struct {
  EaDaemon *self;
  GDBusMethodInvocation *invocation;
  EaRequest *r;
} Pending;

static EaRequest *
request_new (EaDaemon *self)
{
  EaRequest *r = g_new0 (EaRequest, 1);
  static guint64 seq;

  r->daemon = self;
  r->sent = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, sent_free);
  r->offered = g_ptr_array_new_with_free_func (g_free);
  r->accepted = g_ptr_array_new_with_free_func (g_free);
  r->declined = g_ptr_array_new_with_free_func (g_free);
  r->expired = g_ptr_array_new_with_free_func (g_free);
  r->assign_waiting = g_ptr_array_new_with_free_func (g_free);
  r->state = g_strdup ("queued");
  r->reason = g_strdup ("");
  r->seq = ++seq;
  return r;
}

/* A reply code unique among this desktop's open requests. */
static void
draw_id (EaDaemon *self, EaRequest *r)
{
  do
    {
      g_free (r->id);
      r->id = ea_id_new ();
      g_free (r->code);
      r->code = g_strndup (r->id, EA_REPLY_CODE_LEN);
    }
  while (request_by_code (self, r->code) != NULL || g_hash_table_contains (self->requests, r->id));
}

static GVariant *
effective_options (EaRequest *r, GVariant *given)
{
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "mode", g_variant_new_string (r->mode));
  g_variant_builder_add (&b, "{sv}", "experts", g_variant_new_uint32 (r->want));
  g_variant_builder_add (&b, "{sv}", "offer-to", g_variant_new_uint32 (r->offer_to));
  g_variant_builder_add (&b, "{sv}", "offer-timeout", g_variant_new_uint32 (r->offer_timeout));
  g_variant_builder_add (&b, "{sv}", "expire", g_variant_new_uint32 (r->expire));
  g_variant_builder_add (&b, "{sv}", "queue", g_variant_new_boolean (r->queue_ok));
  g_variant_iter_init (&iter, given);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    if (g_str_equal (key, "expert") || g_str_equal (key, "skills") ||
        g_str_equal (key, "language") || g_str_equal (key, "level") ||
        g_str_equal (key, "similar-shown"))
      g_variant_builder_add (&b, "{sv}", key, value);
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
export_request (EaDaemon *self, EaRequest *r)
{
  r->path = g_strdup_printf (EA_DBUS_PATH "/request/%s", r->id);
  r->object = ea_object_skeleton_new (r->path);
  r->iface = ea_expert_assist_request_skeleton_new ();
  ea_expert_assist_request_set_id (r->iface, r->id);
  ea_expert_assist_request_set_group (r->iface, r->group);
  ea_expert_assist_request_set_summary (r->iface, r->summary);
  ea_expert_assist_request_set_query (r->iface, r->query);
  ea_expert_assist_request_set_options (r->iface, r->options ? r->options
                                        : g_variant_new ("a{sv}", NULL));
  ea_expert_assist_request_set_state (r->iface, r->state);
  ea_expert_assist_request_set_reason (r->iface, r->reason);
  ea_expert_assist_request_set_queue_position (r->iface, 0);
  ea_expert_assist_request_set_session (r->iface, "/");
  ea_expert_assist_request_set_created (r->iface, r->created);
  ea_expert_assist_request_set_updated (r->iface, r->updated);
  sync_lists (r);
  g_signal_connect (r->iface, "handle-cancel", G_CALLBACK (handle_cancel), r);
  ea_object_skeleton_set_expert_assist_request (r->object, r->iface);
  ea_daemon_export_object (self, r->object);
}

typedef struct {
  EaDaemon *daemon;
  char *id;
  GDBusMethodInvocation *invocation;
} Created;

/* The reply goes once the log has the request: a path a caller holds is
 * never lost, even to a SIGKILL the next moment. The first change comes
 * after the reply, so the caller sees them all. */
static void
created_cb (GError *error, gpointer data)
{
  Created *c = data;
  EaRequest *r = g_hash_table_lookup (c->daemon->requests, c->id);

  if (error != NULL)
    g_warning ("Request %.8s is not in the log: %s", c->id, error->message);
  if (r != NULL)
    {
      ea_expert_assist_complete_request_help (c->daemon->root, c->invocation, r->path);
      route (r);
    }
  else
    g_dbus_method_invocation_return_error_literal (c->invocation, EA_ERROR, EA_ERROR_FAILED,
                                                   _("The request ended before it began."));
  g_free (c->id);
  g_free (c);
}

static void
create_request (EaDaemon *self, GDBusMethodInvocation *invocation, EaRequest *r)
{
  Created *c = g_new0 (Created, 1);

  g_hash_table_insert (self->requests, r->id, r);
  export_request (self, r);
  c->daemon = self;
  c->id = g_strdup (r->id);
  c->invocation = invocation;
  request_save_then (r, created_cb, c);
}

static void
room_ready_cb (EaDaemon *self, EaRoom *room, const char *error, gpointer data)
{
  Pending *p = data;
  EaRequest *r = p->r;
  GDBusMethodInvocation *invocation = p->invocation;

  g_free (p);
  if (error != NULL || !ea_room_is_joined (room))
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_FAILED,
                                             _("Room mode needs the group’s room %s, which "
                                               "cannot be used: %s."),
                                             r->room, error ? error : _("not joined"));
      request_free (r);
    }
  else if (!ea_room_non_anonymous (room))
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_FAILED,
                                             _("The group’s room %s is not non-anonymous: "
                                               "experts’ answers could not be told apart. "
                                               "Make it non-anonymous (whois: anyone)."),
                                             r->room);
      request_free (r);
    }
  else
    create_request (self, invocation, r);
  g_object_unref (invocation);
}

/**
 * ea_daemon_agent_request_help:
 *
 * Validates everything (named errors), creates and exports the Request
 * object before replying, then starts routing after the reply.
 */
gboolean
ea_daemon_agent_request_help (EaDaemon              *self,
                              GDBusMethodInvocation *invocation,
                              const char            *group,
                              GVariant              *query,
                              GVariant              *options)
{
  g_autoptr(GError) error = NULL;
  EaRequest *r = NULL;
  EaDirGroup *g = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  const char *summary = NULL;
  const char *mode = NULL;
  const char *expert = NULL;
  guint possible;
  gboolean has_prefs;
  g_autofree char *default_mode = NULL;

  if (!ea_xmpp_is_connected (self->xmpp))
    {
      g_set_error_literal (&error, EA_ERROR, EA_ERROR_NOT_CONNECTED,
                           _("Not connected to the XMPP server: nobody can be asked now. "
                             "Try again when ConnectionState is “connected”."));
      goto fail;
    }
  if (!ea_query_is_valid (query, &error) || !check_options (options, &error))
    goto fail;

  r = request_new (self);
  g_variant_lookup (query, "summary", "&s", &summary);
  r->summary = g_strstrip (g_strdup (summary));
  r->query = g_variant_ref (query);

  g_variant_lookup (options, "expert", "&s", &expert);
  g_variant_lookup (options, "skills", "^as", &r->prefs.skills);
  g_variant_lookup (options, "language", "s", &r->prefs.language);
  lookup_uint (options, "level", &r->prefs.level);
  if (r->prefs.language != NULL && *r->prefs.language == '\0')
    g_clear_pointer (&r->prefs.language, g_free);
  if (r->prefs.skills != NULL && r->prefs.skills[0] == NULL)
    g_clear_pointer (&r->prefs.skills, g_strfreev);
  if (r->prefs.level > 5)
    {
      g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                   _("The option “level” is %u; levels go from 1 to 5."), r->prefs.level);
      goto fail;
    }
  has_prefs = (expert && *expert) || r->prefs.skills || r->prefs.language || r->prefs.level;

  if (*group == '\0')
    {
      if (!has_prefs)
        {
          g_set_error_literal (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                               _("Give a group, or preferences (expert, skills, language, "
                                 "level) to ask across every group."));
          goto fail;
        }
      r->group = g_strdup ("");
      r->group_name = g_strdup (_("any group"));
    }
  else
    {
      g = ea_directory_get_group (self->directory, group);
      if (g == NULL)
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_NOT_FOUND,
                       _("There is no expert group “%s”. ListGroups shows the groups."), group);
          goto fail;
        }
      if (!ea_directory_group_is_open (self->directory, g, ea_daemon_get_account (self)))
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_PERMISSION_DENIED,
                       _("The directory does not let you ask the group “%s”."), group);
          goto fail;
        }
      r->group = g_strdup (g->id);
      r->group_name = g_strdup (g->name);
    }

  if (expert != NULL && *expert != '\0')
    {
      EaDirExpert *e;
      g_autoptr(GPtrArray) theirs = NULL;
      gboolean open = FALSE;

      if (!ea_jid_is_valid_bare (expert))
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The option “expert” must be an address like name@example.org, "
                         "not “%s”."), expert);
          goto fail;
        }
      if (ea_jid_equal_bare (expert, ea_daemon_get_account (self)))
        {
          g_set_error_literal (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                               _("You cannot ask yourself for help."));
          goto fail;
        }
      e = ea_directory_get_expert (self->directory, expert);
      if (e == NULL)
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_NOT_FOUND,
                       _("%s is not an expert in the directory."), expert);
          goto fail;
        }
      theirs = ea_directory_groups_of_expert (self->directory, e->address, FALSE);
      for (guint i = 0; i < theirs->len && !open; i++)
        open = ea_directory_group_is_open (self->directory, g_ptr_array_index (theirs, i),
                                           ea_daemon_get_account (self));
      if (!open)
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_PERMISSION_DENIED,
                       _("%s is in no group you may ask."), expert);
          goto fail;
        }
      if (g != NULL && !ea_dir_group_has_expert (g, e->address))
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("%s is not in the group “%s”: ask with group \"\" to reach them "
                         "wherever they are."), expert, g->id);
          goto fail;
        }
      r->prefs.expert = g_strdup (e->address);
    }

  /* Options: the request's, else the group's, else the settings. */
  default_mode = ea_daemon_setting_string (self, "default-mode", "parallel");
  if (g_variant_lookup (options, "mode", "&s", &mode))
    {
      if (!g_strv_contains (ea_modes, mode))
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("Unknown mode “%s”: use parallel, serial, progressive or room."), mode);
          goto fail;
        }
      r->mode = g_strdup (mode);
    }
  else
    r->mode = g_strdup (g && g->strategy ? g->strategy : default_mode);
  r->order = g_strdup (g && g->order ? g->order : "priority");

  r->want = 1;
  r->offer_timeout = g && g->offer_timeout ? g->offer_timeout
                                           : ea_daemon_setting_uint (self, "default-offer-timeout", 30);
  r->expire = g && g->expire ? g->expire : ea_daemon_setting_uint (self, "default-expire", 180);
  r->queue_ok = TRUE;
  lookup_uint (options, "experts", &r->want);
  lookup_uint (options, "offer-to", &r->offer_to);
  lookup_uint (options, "offer-timeout", &r->offer_timeout);
  lookup_uint (options, "expire", &r->expire);
  g_variant_lookup (options, "queue", "b", &r->queue_ok);
  g_variant_lookup (options, "similar-shown", "^as", &r->similar_shown);

  if (r->offer_timeout == 0 || r->offer_timeout > MAX_OFFER_TIMEOUT)
    {
      g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                   _("The option “offer-timeout” must be from 1 to %d seconds."), MAX_OFFER_TIMEOUT);
      goto fail;
    }
  if (r->expire == 0 || r->expire > MAX_EXPIRE)
    {
      g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                   _("The option “expire” must be from 1 to %d seconds."), MAX_EXPIRE);
      goto fail;
    }

  groups = request_groups (r);
  possible = ea_router_count_possible (self->directory, groups, &r->prefs,
                                       ea_daemon_get_account (self));
  if (r->want == 0 || r->want > possible)
    {
      if (r->want == 0)
        g_set_error_literal (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                             _("The option “experts” must be at least 1."));
      else if (possible == 0)
        g_set_error_literal (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                             _("No expert in the directory matches this request: check the "
                               "group and the preferences."));
      else
        g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                     ngettext ("The option “experts” is %u, but only %u expert could ever "
                               "take this request.",
                               "The option “experts” is %u, but only %u experts could ever "
                               "take this request.", possible),
                     r->want, possible);
      goto fail;
    }

  draw_id (self, r);
  r->created = r->updated = g_get_real_time ();
  r->expire_at = g_get_monotonic_time () + (gint64) r->expire * G_USEC_PER_SEC;
  r->options = effective_options (r, options);

  if (g_str_equal (r->mode, "room"))
    {
      Pending *p;

      if (g == NULL || g->address == NULL)
        {
          g_set_error (&error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("Room mode needs a group with a room (Address= in the directory); "
                         "“%s” has none."), group);
          goto fail;
        }
      r->room = g_strdup (g->address);
      p = g_new0 (Pending, 1);
      p->self = self;
      p->invocation = g_object_ref (invocation);
      p->r = r;
      ea_daemon_room_join (self, g->address, g->id, NULL, room_ready_cb, p);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  create_request (self, invocation, r);
  return G_DBUS_METHOD_INVOCATION_HANDLED;

fail:
  if (r != NULL)
    request_free (r);
  g_dbus_method_invocation_return_gerror (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

gboolean
ea_daemon_agent_uses_room (EaDaemon *self, const char *address)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaRequest *r = value;

      if (!is_final (r) && r->room != NULL && ea_jid_equal_bare (r->room, address))
        return TRUE;
    }
  return FALSE;
}

void
ea_daemon_rooms_changed (EaDaemon *self, EaRoom *room)
{
  /* Someone came into a group's room: queued room-mode requests look. */
  if (ea_room_group (room) != NULL)
    ea_daemon_agent_kick (self);
  ea_daemon_chat_room_changed (self, room);
}

/**
 * ea_daemon_agent_session_closed:
 *
 * The session of @request_id ended (either side closed it).
 */
void
ea_daemon_agent_session_closed (EaDaemon *self, const char *request_id)
{
  EaRequest *r = g_hash_table_lookup (self->requests, request_id);

  if (r == NULL || is_final (r))
    return;
  withdraw_all (r, "taken", r->accepted->len ? g_ptr_array_index (r->accepted, 0) : NULL);
  finish (r, "closed", NULL);
}

/**
 * ea_daemon_agent_session_started:
 *
 * After a fresh session (not a resumed stream) the offers still open go
 * out again, same request ids; the withdrawals we owe are in the outbox.
 */
void
ea_daemon_agent_session_started (EaDaemon *self, gboolean resumed)
{
  GHashTableIter iter;
  gpointer value;

  if (resumed)
    return;
  g_hash_table_iter_init (&iter, self->requests);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaRequest *r = value;
      GHashTableIter si;
      gpointer sv;

      if (is_final (r))
        continue;
      g_hash_table_iter_init (&si, r->sent);
      while (g_hash_table_iter_next (&si, NULL, &sv))
        {
          Sent *s = sv;

          if (s->state == SENT_PENDING && !s->via_room)
            send_offer_to (r, s);
        }
      /* A room post is made again once the room is joined again. */
      if (r->room_deadline != 0)
        r->room_deadline = 0;
      if (r->want > 1 && r->session_id != NULL && r->adhoc_room == NULL)
        start_adhoc_room (r);
    }
  ea_daemon_agent_kick (self);
}

/**
 * ea_daemon_agent_restore:
 * @rows: "requests" of ea_store_load_unfinished()
 *
 * A request that was open when the daemon stopped cannot go on (its
 * offers' clocks and answers are lost): it is shown as failed, reason
 * "restarted", and every expert that still holds one of its offers is
 * told it was withdrawn.
 */
void
ea_daemon_agent_restore (EaDaemon *self, GVariant *rows)
{
  GVariantIter iter;
  GVariant *row;

  if (rows == NULL)
    return;
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = row;
      EaRequest *r = request_new (self);
      const char *id = NULL;
      const char *s = NULL;
      g_autoptr(GVariant) offered = NULL;

      if (!g_variant_lookup (row, "id", "&s", &id) || !ea_id_is_valid (id) ||
          g_hash_table_contains (self->requests, id))
        {
          request_free (r);
          continue;
        }
      r->id = g_strdup (id);
      r->code = g_strndup (id, EA_REPLY_CODE_LEN);
      r->group = g_variant_lookup (row, "group", "&s", &s) ? g_strdup (s) : g_strdup ("");
      r->group_name = g_strdup (r->group);
      r->summary = g_variant_lookup (row, "summary", "&s", &s) ? g_strdup (s) : g_strdup ("");
      r->query = g_variant_lookup_value (row, "query", G_VARIANT_TYPE_VARDICT);
      if (r->query == NULL)
        r->query = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
      r->options = g_variant_lookup_value (row, "options", G_VARIANT_TYPE_VARDICT);
      r->mode = g_strdup ("parallel");
      r->order = g_strdup ("priority");
      r->want = 1;
      g_variant_lookup (row, "created", "x", &r->created);
      g_variant_lookup (row, "answered", "x", &r->answered);
      g_variant_lookup (row, "queue_wait", "x", &r->queue_wait);
      g_variant_lookup (row, "ever_queued", "b", &r->ever_queued);
      r->updated = g_get_real_time ();

      /* Whoever may still hold an offer of it is told. */
      offered = g_variant_lookup_value (row, "pending-offers", G_VARIANT_TYPE_STRING_ARRAY);
      if (offered != NULL)
        {
          g_autofree const char **who = g_variant_get_strv (offered, NULL);

          for (guint i = 0; who[i]; i++)
            {
              Sent *sent = sent_for (r, who[i]);

              sent->state = SENT_PENDING;
              add_unique (r->offered, who[i]);
            }
        }

      g_hash_table_insert (self->requests, r->id, r);
      export_request (self, r);
      withdraw_all (r, "cancelled", NULL);
      set_state (r, "failed", "restarted");
      g_debug ("request %.8s was open when the daemon stopped: failed, restarted", r->id);
    }
}

void
ea_daemon_agent_init (EaDaemon *self)
{
  self->requests = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, request_free);
  self->queue = g_queue_new ();
  self->router_memory = ea_router_memory_new (0);
}

void
ea_daemon_agent_dispose (EaDaemon *self)
{
  g_clear_handle_id (&self->kick_id, g_source_remove);
  g_clear_pointer (&self->queue, g_queue_free);
  g_clear_pointer (&self->requests, g_hash_table_unref);
  g_clear_pointer (&self->router_memory, ea_router_memory_free);
}

gboolean
ea_daemon_agent_forget (EaDaemon *self, const char *id)
{
  EaRequest *r = g_hash_table_lookup (self->requests, id);

  if (r == NULL || !is_final (r))
    return FALSE;
  ea_daemon_unexport_object (self, r->path);
  g_hash_table_remove (self->requests, id);
  return TRUE;
}
