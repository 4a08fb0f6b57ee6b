/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The daemon's state, shared by the files that make up EaDaemon
 * (ea-daemon.c: D-Bus and the connection; ea-daemon-directory.c: loading
 * the directory; ea-daemon-presence.c: roster, presence, subscriptions).
 */
#pragma once

#include "ea-dbus-generated.h"
#include "ea-daemon.h"
#include "ea-directory.h"
#include "ea-protocol.h"
#include "ea-roster.h"
#include "ea-router.h"
#include "ea-store.h"
#include "ea-xmpp.h"

G_BEGIN_DECLS

typedef struct {
  char *status;
  gboolean interruptible;
} EaExpertState;

typedef struct _EaRequest EaRequest;
typedef struct _EaOffer EaOffer;
typedef struct _EaSession EaSession;
typedef struct _EaRoom EaRoom;

struct _EaDaemon {
  GObject parent_instance;

  EaOptions options;
  EaConfig *config;
  GSettings *settings;
  GCancellable *cancellable;

  GDBusConnection *connection;
  EaExpertAssist *root;
  GDBusObjectManagerServer *manager;

  EaXmpp *xmpp;
  gboolean credentials_pending;

  /* The directory */
  GPtrArray *directory_paths;   /* keyfiles, least important first */
  GHashTable *keyfiles;         /* path → last good GKeyFile */
  GPtrArray *monitors;          /* GFileMonitor */
  GHashTable *reload_pending;   /* paths being read */
  EaDirectory *directory;
  char *directory_fingerprint;

  /* Presence */
  EaRoster *roster;
  gboolean roster_loaded;
  GHashTable *expert_states;    /* address → EaExpertState */
  GHashTable *subscribe_sent;   /* addresses asked this session */
  GHashTable *caps_cache;       /* "node#ver" → GINT: 1 daemon, 2 not, 3 asking */
  GHashTable *expert_groups;    /* address → open groups it is in (EaDirGroup) */
  GHashTable *experts_dirty;    /* addresses to compare again */
  guint experts_idle;

  /* Own presence, as wanted */
  char *status;
  char *status_message;
  char *state_path;
  guint own_sessions;

  /* The log */
  EaStore *store;
  gboolean restored;

  /* Agent side: this user's requests (ea-daemon-agent.c) */
  GHashTable *requests;         /* id → EaRequest */
  GQueue *queue;                /* EaRequest waiting, first come first */
  EaRouterMemory *router_memory;
  guint kick_id;
  GHashTable *rooms;            /* room address → EaRoom (group rooms and ad-hoc) */
  char *conference_service;     /* found by disco#items, or NULL */
  gboolean conference_asked;

  /* Expert side: offers to this user (ea-daemon-expert.c) */
  GHashTable *offers;           /* id → EaOffer */
  GHashTable *offer_rate;       /* agent → GQueue of arrival times (flood control) */
  gboolean applet_present;
  guint applet_watch;

  /* Both: chats (ea-daemon-chat.c) */
  GHashTable *sessions;         /* id → EaSession */
  gboolean log_full_warned;

  /* Stanzas kept until answered, sent again on a fresh session */
  GQueue *outbox;
  GHashTable *seen_stanzas;     /* "sender stanza-id" → time, to drop duplicates */

  GQueue *finals[3];            /* ids of final requests, offers, sessions */

  GApplication *app;            /* for notifications; may be NULL */
};

/* ea-daemon.c */
const char  *ea_daemon_get_account            (EaDaemon   *self);
void         ea_daemon_save_state             (EaDaemon   *self);
guint        ea_daemon_setting_uint           (EaDaemon   *self,
                                               const char *key,
                                               guint       fallback);
char        *ea_daemon_setting_string         (EaDaemon   *self,
                                               const char *key,
                                               const char *fallback);
GStrv        ea_daemon_masked_fields          (EaDaemon   *self);
void         ea_daemon_export_object          (EaDaemon          *self,
                                               EaObjectSkeleton  *object);
void         ea_daemon_unexport_object        (EaDaemon          *self,
                                               const char        *path);
void         ea_daemon_note_final             (EaDaemon   *self,
                                               const char *kind,
                                               const char *id);

/* Reliable sending: kept until answered (or for a while), sent again on
 * every fresh session. @key: what answers it removes it (may be NULL). */
void         ea_daemon_send_kept              (EaDaemon      *self,
                                               xmpp_stanza_t *stanza,
                                               const char    *key);
void         ea_daemon_forget_kept            (EaDaemon   *self,
                                               const char *key);
gboolean     ea_daemon_seen_before            (EaDaemon      *self,
                                               xmpp_stanza_t *stanza);
void         ea_daemon_forget_seen            (EaDaemon   *self,
                                               const char *from,
                                               const char *id);
void         ea_daemon_resend_kept_to         (EaDaemon   *self,
                                               const char *bare);
void         ea_daemon_redirect_kept          (EaDaemon   *self,
                                               const char *old_to,
                                               const char *new_to);

/* ea-daemon-agent.c */
void         ea_daemon_agent_init             (EaDaemon   *self);
void         ea_daemon_agent_dispose          (EaDaemon   *self);
gboolean     ea_daemon_agent_handle_stanza    (EaDaemon      *self,
                                               xmpp_stanza_t *stanza);
void         ea_daemon_agent_session_started  (EaDaemon   *self,
                                               gboolean    resumed);
void         ea_daemon_agent_kick             (EaDaemon   *self);
void         ea_daemon_agent_session_closed   (EaDaemon   *self,
                                               const char *request_id);
void         ea_daemon_agent_restore          (EaDaemon   *self,
                                               GVariant   *rows);
gboolean     ea_daemon_agent_request_help     (EaDaemon              *self,
                                               GDBusMethodInvocation *invocation,
                                               const char            *group,
                                               GVariant              *query,
                                               GVariant              *options);
gboolean     ea_daemon_agent_forget           (EaDaemon   *self,
                                               const char *id);

/* ea-daemon-expert.c */
void         ea_daemon_expert_init            (EaDaemon   *self);
void         ea_daemon_expert_dispose         (EaDaemon   *self);
void         ea_daemon_expert_export          (EaDaemon   *self);
gboolean     ea_daemon_expert_handle_stanza   (EaDaemon      *self,
                                               xmpp_stanza_t *stanza);
void         ea_daemon_expert_session_started (EaDaemon   *self,
                                               gboolean    resumed);
void         ea_daemon_expert_restore         (EaDaemon   *self,
                                               GVariant   *rows);
void         ea_daemon_expert_accept_action   (EaDaemon   *self,
                                               const char *offer_id);
void         ea_daemon_expert_decline_action  (EaDaemon   *self,
                                               const char *offer_id);
gboolean     ea_daemon_expert_forget          (EaDaemon   *self,
                                               const char *id);

/* ea-daemon-chat.c */
void         ea_daemon_chat_init              (EaDaemon   *self);
void         ea_daemon_chat_dispose           (EaDaemon   *self);
gboolean     ea_daemon_chat_handle_stanza     (EaDaemon      *self,
                                               xmpp_stanza_t *stanza);
void         ea_daemon_chat_session_started   (EaDaemon   *self,
                                               gboolean    resumed);
EaSession   *ea_daemon_session_open           (EaDaemon           *self,
                                               const char         *id,
                                               const char         *request_id,
                                               const char         *role,
                                               const char         *group,
                                               const char         *summary,
                                               const char * const *participants,
                                               const char         *peer_full,
                                               const char         *room);
void         ea_daemon_session_add_participant (EaDaemon   *self,
                                                EaSession  *session,
                                                const char *address,
                                                const char *full_jid);
EaSession   *ea_daemon_session_lookup         (EaDaemon   *self,
                                               const char *id);
const char  *ea_session_get_path              (EaSession  *session);
const char  *ea_session_get_id                (EaSession  *session);
gboolean     ea_session_is_open               (EaSession  *session);
void         ea_daemon_session_close          (EaDaemon   *self,
                                               EaSession  *session,
                                               gboolean    tell_peers);
void         ea_daemon_session_send_text      (EaDaemon   *self,
                                               EaSession  *session,
                                               const char *text);
void         ea_daemon_chat_restore           (EaDaemon   *self,
                                               GVariant   *rows);
guint        ea_daemon_open_expert_sessions   (EaDaemon   *self);
gboolean     ea_daemon_chat_forget            (EaDaemon   *self,
                                               const char *id);
void         ea_daemon_chat_room_changed      (EaDaemon   *self,
                                               EaRoom     *room);

/* ea-daemon-directory.c */
void         ea_daemon_directory_init         (EaDaemon   *self);
void         ea_daemon_directory_load_initial (EaDaemon   *self);
void         ea_daemon_directory_start        (EaDaemon   *self);
void         ea_daemon_directory_rebuild      (EaDaemon   *self);
void         ea_daemon_directory_dispose      (EaDaemon   *self);

/* ea-daemon-presence.c */
void         ea_daemon_presence_init          (EaDaemon   *self);
void         ea_daemon_presence_dispose       (EaDaemon   *self);
void         ea_daemon_presence_session_started (EaDaemon *self,
                                                 gboolean  resumed);
gboolean     ea_daemon_presence_handle_stanza (EaDaemon      *self,
                                               xmpp_stanza_t *stanza);
void         ea_daemon_send_own_presence      (EaDaemon   *self);
void         ea_daemon_update_experts         (EaDaemon   *self);
void         ea_daemon_expert_moved           (EaDaemon   *self,
                                               const char *address);
void         ea_daemon_subscribe_experts      (EaDaemon   *self);
const char  *ea_daemon_expert_status          (EaDaemon   *self,
                                               const char *address);
gboolean     ea_daemon_is_interruptible       (EaDaemon    *self,
                                               EaDirExpert *expert,
                                               EaDirGroup  *group);
guint        ea_daemon_expert_sessions        (EaDaemon    *self,
                                               const char  *address);

G_END_DECLS
