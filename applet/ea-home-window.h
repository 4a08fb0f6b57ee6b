/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-applet-application.h"

G_BEGIN_DECLS

#define EA_TYPE_HOME_WINDOW (ea_home_window_get_type ())
G_DECLARE_FINAL_TYPE (EaHomeWindow, ea_home_window, EA, HOME_WINDOW, AdwApplicationWindow)

GtkWidget *ea_home_window_new    (EaAppletApplication *application);
void       ea_home_window_update (EaHomeWindow        *self);

G_END_DECLS
