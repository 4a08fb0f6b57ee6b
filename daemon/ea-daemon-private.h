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
#include "ea-xmpp.h"

G_BEGIN_DECLS

typedef struct {
  char *status;
  gboolean interruptible;
} EaExpertState;

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

  /* Own presence, as wanted */
  char *status;
  char *status_message;
  char *state_path;
  guint own_sessions;
};

/* ea-daemon.c */
const char  *ea_daemon_get_account            (EaDaemon   *self);
void         ea_daemon_save_state             (EaDaemon   *self);

/* ea-daemon-directory.c */
void         ea_daemon_directory_init         (EaDaemon   *self);
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
void         ea_daemon_subscribe_experts      (EaDaemon   *self);
const char  *ea_daemon_expert_status          (EaDaemon   *self,
                                               const char *address);
gboolean     ea_daemon_is_interruptible       (EaDaemon    *self,
                                               EaDirExpert *expert,
                                               EaDirGroup  *group);
guint        ea_daemon_expert_sessions        (EaDaemon    *self,
                                               const char  *address);

G_END_DECLS
