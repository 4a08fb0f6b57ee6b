/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-applet-application.h"

G_BEGIN_DECLS

#define EA_TYPE_HISTORY_WINDOW (ea_history_window_get_type ())
G_DECLARE_FINAL_TYPE (EaHistoryWindow, ea_history_window, EA, HISTORY_WINDOW,
                      AdwApplicationWindow)

GtkWidget *ea_history_window_new (EaAppletApplication *application);

G_END_DECLS
