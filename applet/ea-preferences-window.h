/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-applet-application.h"

G_BEGIN_DECLS

#define EA_TYPE_PREFERENCES_WINDOW (ea_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (EaPreferencesWindow, ea_preferences_window, EA, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWidget *ea_preferences_window_new (EaAppletApplication *application);

G_END_DECLS
