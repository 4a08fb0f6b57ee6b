/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-applet-application.h"

G_BEGIN_DECLS

#define EA_TYPE_STATS_WINDOW (ea_stats_window_get_type ())
G_DECLARE_FINAL_TYPE (EaStatsWindow, ea_stats_window, EA, STATS_WINDOW, AdwApplicationWindow)

GtkWidget *ea_stats_window_new (EaAppletApplication *application);

G_END_DECLS
