/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ea-dbus-generated.h"

G_BEGIN_DECLS

typedef struct {
  char *id;
  char *name;
  guint available;
  guint total;
  char *description;
} EaGroupInfo;

#define EA_TYPE_DAEMON_CLIENT (ea_daemon_client_get_type ())
G_DECLARE_FINAL_TYPE (EaDaemonClient, ea_daemon_client, EA, DAEMON_CLIENT, GObject)

EaDaemonClient        *ea_daemon_client_new                (GDBusConnection *connection);
void                   ea_daemon_client_start              (EaDaemonClient  *self);
EaExpertAssist        *ea_daemon_client_get_root           (EaDaemonClient  *self);
GDBusObjectManager    *ea_daemon_client_get_manager        (EaDaemonClient  *self);
gboolean               ea_daemon_client_is_running         (EaDaemonClient  *self);
const char            *ea_daemon_client_get_connection_state (EaDaemonClient *self);
const char            *ea_daemon_client_get_status         (EaDaemonClient  *self);
const char            *ea_daemon_client_get_account        (EaDaemonClient  *self);
char                  *ea_daemon_client_dup_problem        (EaDaemonClient  *self);
GPtrArray             *ea_daemon_client_get_groups         (EaDaemonClient  *self);
const EaGroupInfo     *ea_daemon_client_find_group         (EaDaemonClient  *self,
                                                            const char      *id);
const char            *ea_daemon_client_get_groups_error   (EaDaemonClient  *self);
void                   ea_daemon_client_refresh_groups     (EaDaemonClient  *self);
const char            *ea_daemon_client_expert_name        (EaDaemonClient  *self,
                                                            const char      *address);
const char            *ea_daemon_client_expert_status      (EaDaemonClient  *self,
                                                            const char      *address);
GPtrArray             *ea_daemon_client_list_experts       (EaDaemonClient  *self);
EaExpertAssistOffer   *ea_daemon_client_get_offer          (EaDaemonClient  *self,
                                                            const char      *path);
EaExpertAssistRequest *ea_daemon_client_get_request        (EaDaemonClient  *self,
                                                            const char      *path);
EaExpertAssistSession *ea_daemon_client_get_session        (EaDaemonClient  *self,
                                                            const char      *path);
GList                 *ea_daemon_client_list_offers        (EaDaemonClient  *self);
GList                 *ea_daemon_client_list_sessions      (EaDaemonClient  *self);

G_END_DECLS
