/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-applet-application.h"

G_BEGIN_DECLS

#define EA_TYPE_REQUEST_WINDOW (ea_request_window_get_type ())
G_DECLARE_FINAL_TYPE (EaRequestWindow, ea_request_window, EA, REQUEST_WINDOW,
                      AdwApplicationWindow)

GtkWidget *ea_request_window_new          (EaAppletApplication *application);
void       ea_request_window_select_group (EaRequestWindow     *self,
                                           const char          *group);

G_END_DECLS
