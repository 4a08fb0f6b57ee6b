/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ea-daemon-private.h"

G_BEGIN_DECLS

typedef enum {
  EA_ROOM_IDLE,
  EA_ROOM_JOINING,
  EA_ROOM_JOINED,
  EA_ROOM_FAILED,
} EaRoomState;

typedef void (*EaRoomReady)      (EaDaemon   *self,
                                  EaRoom     *room,
                                  const char *error,
                                  gpointer    user_data);
typedef void (*EaRoomMemberDone) (EaDaemon   *self,
                                  const char *member,
                                  gboolean    ok,
                                  gpointer    user_data);

void         ea_daemon_rooms_init             (EaDaemon    *self);
void         ea_daemon_rooms_dispose          (EaDaemon    *self);
gboolean     ea_daemon_rooms_handle_stanza    (EaDaemon      *self,
                                               xmpp_stanza_t *stanza);
void         ea_daemon_rooms_session_started  (EaDaemon    *self,
                                               gboolean     resumed);
void         ea_daemon_rooms_sync_group_rooms (EaDaemon    *self);
void         ea_daemon_rooms_find_conference  (EaDaemon    *self);

EaRoom      *ea_daemon_room_join              (EaDaemon    *self,
                                               const char  *address,
                                               const char  *group,
                                               const char  *session,
                                               EaRoomReady  ready,
                                               gpointer     user_data);
void         ea_daemon_room_leave             (EaDaemon    *self,
                                               const char  *address);
void         ea_daemon_room_post              (EaDaemon      *self,
                                               EaRoom        *room,
                                               xmpp_stanza_t *message);
void         ea_daemon_room_add_member        (EaDaemon         *self,
                                               EaRoom           *room,
                                               const char       *member,
                                               EaRoomMemberDone  done,
                                               gpointer          user_data);

EaRoom      *ea_daemon_room_lookup            (EaDaemon    *self,
                                               const char  *address);
const char  *ea_room_real_jid                 (EaRoom      *room,
                                               const char  *nick);
gboolean     ea_room_is_joined                (EaRoom      *room);
const char  *ea_room_session                  (EaRoom      *room);
const char  *ea_room_get_address              (EaRoom      *room);
EaRoomState  ea_room_get_state                (EaRoom      *room);
const char  *ea_room_get_error                (EaRoom      *room);
const char  *ea_room_group                    (EaRoom      *room);
gboolean     ea_room_non_anonymous            (EaRoom      *room);
const char  *ea_room_nick                     (EaRoom      *room);
GPtrArray   *ea_room_occupants                (EaRoom      *room);
const char  *ea_room_find_occupant            (EaRoom      *room,
                                               const char  *bare);

/* Hooks the rooms call (in ea-daemon-agent.c and ea-daemon-chat.c). */
void         ea_daemon_rooms_changed          (EaDaemon    *self,
                                               EaRoom      *room);
void         ea_daemon_rooms_conference_known (EaDaemon    *self);
gboolean     ea_daemon_agent_uses_room        (EaDaemon    *self,
                                               const char  *address);

G_END_DECLS
