/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libdbusmenu-glib/menuitem.h>

#include "ea-daemon-client.h"

G_BEGIN_DECLS

#define EA_TRAY_ITEM_PATH "/StatusNotifierItem"
#define EA_TRAY_MENU_PATH "/MenuBar"

#define EA_TYPE_TRAY (ea_tray_get_type ())
G_DECLARE_FINAL_TYPE (EaTray, ea_tray, EA, TRAY, GObject)

EaTray           *ea_tray_new              (GApplication   *application,
                                            EaDaemonClient *client);
gboolean          ea_tray_is_published     (EaTray         *self);
DbusmenuMenuitem *ea_tray_get_menu         (EaTray         *self);
const char       *ea_tray_get_icon_name    (EaTray         *self);
void              ea_tray_set_offers_waiting (EaTray       *self,
                                            guint           n_offers);
void              ea_tray_queue_update     (EaTray         *self);
void              ea_tray_activate_item    (EaTray         *self,
                                            DbusmenuMenuitem *item);

G_END_DECLS
