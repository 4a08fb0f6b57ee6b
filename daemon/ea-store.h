/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The log: every request, offer, session and message of this desktop, in
 * SQLite ($data_dir/expert-assist.db, WAL, schema versioned with
 * PRAGMA user_version), owned by a worker thread of its own. Every call
 * returns at once; writes are applied in the order they were made, and a
 * write's callback runs (on the caller's thread-default main context) only
 * once its transaction is committed, so a caller that acknowledges after
 * the callback never acknowledges something a SIGKILL could lose.
 *
 * Calls may come from any thread; each callback and each read's
 * GAsyncReadyCallback runs on the thread-default main context of the
 * thread that made the call. The structs are copied before a call
 * returns; their GVariants are not consumed, except a floating one, which
 * is sunk and released as GLib functions do. A write's callback still
 * runs when the EaStore is finalized first (finalizing writes what is
 * queued, then closes the database).
 *
 * All times are unix microseconds; 0 means "not yet".
 */

#define EA_TYPE_STORE (ea_store_get_type ())
G_DECLARE_FINAL_TYPE (EaStore, ea_store, EA, STORE, GObject)

/* A request as one desktop saw it. role "agent": the agent's own request;
 * role "expert": a request offered to this user (one row per request id). */
typedef struct {
  const char *id;
  const char *role;          /* "agent" or "expert" */
  const char *agent;         /* bare address of the agent */
  const char *group;
  const char *summary;
  GVariant *query;           /* a{sv}; masked fields already left out */
  GVariant *options;         /* a{sv}; NULL for role "expert" */
  const char *state;         /* agent: queued offering connected failed cancelled closed;
                              * expert: pending accepted declined withdrawn expired */
  const char *reason;
  const char *session;       /* Session.Id once connected, or NULL */
  const char * const *accepted; /* the winners' addresses */
  gint64 created;
  gint64 updated;
  gint64 answered;           /* first assigned, 0 if never */
  gint64 queued;             /* when it last entered the queue, 0 if never queued */
  gint64 queue_wait;         /* total microseconds spent queued so far */
  gboolean ever_queued;
  const char * const *similar_shown;
} EaStoreRequest;

/* One offer of one request to one expert. The agent's daemon records the
 * offers it sent (role "agent"), the expert's daemon the one it received
 * (role "expert"). Keyed by (request, expert, role). */
typedef struct {
  const char *request;
  const char *expert;
  const char *role;
  const char *agent;
  const char *group;
  const char *state;         /* pending accepted declined withdrawn expired */
  const char *reason;        /* decline / withdraw reason */
  gint64 offered;            /* first sent / received */
  gint64 expires;
  gint64 ended;              /* when it stopped being pending, 0 while pending */
  guint rounds;              /* how many times it was (re)sent */
} EaStoreOffer;

typedef struct {
  const char *id;
  const char *request;
  const char *role;          /* "agent" or "expert" */
  const char *group;
  const char *summary;
  const char * const *participants;
  const char *room;          /* the MUC room for several experts, or NULL */
  const char *state;         /* open, closed */
  gint64 started;
  gint64 ended;
} EaStoreSession;

typedef struct {
  const char *session;
  const char *id;            /* the XMPP stanza id */
  gint64 time;
  const char *sender;        /* bare address */
  const char *text;
  gboolean outgoing;
} EaStoreMessage;

/* Called when a write is committed (error NULL) or failed (EA_ERROR_FAILED,
 * with SQLite's reason; the store keeps the error, do not free it). */
typedef void (*EaStoreDone) (GError *error, gpointer user_data);

EaStore   *ea_store_new                (const char *data_dir);
/* Runs the queue dry: returns once everything queued before it is
 * committed. The callbacks are then posted, not yet run. For shutdown and
 * tests; blocks the calling thread. */
void       ea_store_flush              (EaStore    *self);
const char *ea_store_get_path          (EaStore    *self);

void       ea_store_put_request        (EaStore              *self,
                                        const EaStoreRequest *request,
                                        EaStoreDone           done,
                                        gpointer              user_data);
void       ea_store_flush_then         (EaStore              *self,
                                        EaStoreDone           done,
                                        gpointer              user_data);
void       ea_store_put_offer          (EaStore              *self,
                                        const EaStoreOffer   *offer,
                                        EaStoreDone           done,
                                        gpointer              user_data);
void       ea_store_put_session        (EaStore              *self,
                                        const EaStoreSession *session,
                                        EaStoreDone           done,
                                        gpointer              user_data);
/* A message already stored (same session and id) is left as it is, and
 * the callback still runs: receivers drop duplicates this way. */
void       ea_store_put_message        (EaStore              *self,
                                        const EaStoreMessage *message,
                                        EaStoreDone           done,
                                        gpointer              user_data);
void       ea_store_set_delivered      (EaStore    *self,
                                        const char *session,
                                        const char *id,
                                        gint64      time);

/* Reads: a GTask-style pair each; results are GVariants in exactly the
 * D-Bus shapes of DESIGN.md. A read sees every write called before it.
 * Errors: EA_ERROR_INVALID_ARGS for a bad search text or filter (naming
 * the key), EA_ERROR_NOT_FOUND for an unknown transcript, EA_ERROR_FAILED
 * when the database cannot be read. */
void       ea_store_get_messages       (EaStore             *self,
                                        const char          *session,
                                        guint                limit,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GVariant  *ea_store_get_messages_finish (EaStore      *self,
                                         GAsyncResult *result,
                                         GError      **error);   /* a(sxss) */

void       ea_store_search             (EaStore             *self,
                                        const char          *text,
                                        GVariant            *filter,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GVariant  *ea_store_search_finish      (EaStore      *self,
                                        GAsyncResult *result,
                                        GError      **error);    /* aa{sv} */
/* The chat hits are the best ranked among the 500 most recent matches
 * that pass the filter (twice the limit if that is more; all of them when
 * there are fewer): ranking every match of a common word in a large log
 * would take a quarter of a second. */

void       ea_store_find_similar       (EaStore             *self,
                                        const char          *summary,
                                        guint                limit,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GVariant  *ea_store_find_similar_finish (EaStore      *self,
                                         GAsyncResult *result,
                                         GError      **error);   /* aa{sv} */

void       ea_store_statistics         (EaStore             *self,
                                        GVariant            *filter,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GVariant  *ea_store_statistics_finish  (EaStore      *self,
                                        GAsyncResult *result,
                                        GError      **error);    /* a{sv} */

void       ea_store_get_transcript     (EaStore             *self,
                                        const char          *session,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GVariant  *ea_store_get_transcript_finish (EaStore      *self,
                                           GAsyncResult *result,
                                           GError      **error); /* (a{sv}a(sxss)) */

/* What was not final when the daemon last stopped: requests (role agent)
 * not in a final state, offers (role expert) still pending, sessions still
 * open. Result: a{sv} with "requests" aa{sv}, "offers" aa{sv},
 * "sessions" aa{sv}, each row with the fields of the structs above;
 * request rows also have "pending-offers" (as, the experts holding one of
 * its offers), offer rows "summary" (s) and "query" (a{sv}). */
void       ea_store_load_unfinished    (EaStore             *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GVariant  *ea_store_load_unfinished_finish (EaStore      *self,
                                            GAsyncResult *result,
                                            GError      **error);

/* Deletes what is older than @days (0: nothing), index included. */
void       ea_store_purge              (EaStore    *self,
                                        guint       days,
                                        EaStoreDone done,
                                        gpointer    user_data);

G_END_DECLS
