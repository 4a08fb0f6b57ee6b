/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-daemon-client.h"
#include "ea-tray.h"

G_BEGIN_DECLS

#define EA_TYPE_APPLET_APPLICATION (ea_applet_application_get_type ())
G_DECLARE_FINAL_TYPE (EaAppletApplication, ea_applet_application, EA, APPLET_APPLICATION,
                      AdwApplication)

EaAppletApplication *ea_applet_application_new          (void);
EaDaemonClient      *ea_applet_application_get_client   (EaAppletApplication *self);
EaTray              *ea_applet_application_get_tray     (EaAppletApplication *self);
GSettings           *ea_applet_application_get_settings (EaAppletApplication *self);
GtkWindow           *ea_applet_application_open_chat    (EaAppletApplication *self,
                                                         const char          *session_path);
GtkWindow           *ea_applet_application_open_transcript (EaAppletApplication *self,
                                                            const char          *session_id);
GtkWindow           *ea_applet_application_show_tray_menu (EaAppletApplication *self);

G_END_DECLS
