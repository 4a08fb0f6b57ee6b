/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What one resource's presence says. */
typedef struct {
  char *show;           /* available, chat, away, xa, dnd */
  char *message;
  int priority;
  gboolean has_load;
  guint sessions;
  guint max_sessions;
  char *caps_node;
  char *caps_ver;
  gboolean has_daemon;
} EaPresence;

typedef struct {
  char *resource;
  EaPresence p;
  gint64 since;
} EaResource;

typedef struct {
  char *address;
  char *name;
  char *subscription;   /* none, to, from, both */
  gboolean ask;         /* a subscription request of ours is pending */
  GStrv groups;
  gboolean on_roster;
  GHashTable *resources; /* resource → EaResource */
  gint64 status_since;  /* when the best status last changed */
  char *last_status;
} EaContact;

typedef struct _EaRoster EaRoster;

void         ea_presence_clear          (EaPresence *p);

EaRoster    *ea_roster_new              (void);
void         ea_roster_free             (EaRoster   *self);

EaContact   *ea_roster_lookup           (EaRoster   *self,
                                         const char *address);
GList       *ea_roster_get_items        (EaRoster   *self);
gboolean     ea_roster_set_item         (EaRoster   *self,
                                         const char *address,
                                         const char *name,
                                         const char *subscription,
                                         gboolean    ask,
                                         const char * const *groups);
gboolean     ea_roster_remove_item      (EaRoster   *self,
                                         const char *address);
void         ea_roster_clear_items      (EaRoster   *self);
gboolean     ea_roster_set_presence     (EaRoster   *self,
                                         const char *full_jid,
                                         EaPresence *presence);
void         ea_roster_clear_presence   (EaRoster   *self);
void         ea_roster_mark_daemon_caps (EaRoster   *self,
                                         const char *node,
                                         const char *ver,
                                         gboolean    has_daemon);

const char  *ea_contact_status          (EaContact  *contact);
EaResource  *ea_contact_best            (EaContact  *contact);
guint        ea_contact_sessions        (EaContact  *contact);
const char  *ea_contact_daemon_resource (EaContact  *contact);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EaRoster, ea_roster_free)

G_END_DECLS
