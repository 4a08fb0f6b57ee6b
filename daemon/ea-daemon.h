/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ea-config.h"

G_BEGIN_DECLS

#define EA_TYPE_DAEMON (ea_daemon_get_type ())
G_DECLARE_FINAL_TYPE (EaDaemon, ea_daemon, EA, DAEMON, GObject)

EaDaemon *ea_daemon_new        (const EaOptions  *options,
                                GError          **error);
gboolean  ea_daemon_export     (EaDaemon         *self,
                                GDBusConnection  *connection,
                                GError          **error);
void      ea_daemon_unexport   (EaDaemon         *self);
void      ea_daemon_start      (EaDaemon         *self);
void      ea_daemon_shutdown   (EaDaemon         *self);
void      ea_daemon_set_application (EaDaemon     *self,
                                     GApplication *app);
void      ea_daemon_accept_offer    (EaDaemon     *self,
                                     const char   *offer_id);
void      ea_daemon_decline_offer   (EaDaemon     *self,
                                     const char   *offer_id);

G_END_DECLS
