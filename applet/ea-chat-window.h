/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-applet-application.h"

G_BEGIN_DECLS

#define EA_TYPE_CHAT_WINDOW (ea_chat_window_get_type ())
G_DECLARE_FINAL_TYPE (EaChatWindow, ea_chat_window, EA, CHAT_WINDOW, AdwApplicationWindow)

GtkWidget *ea_chat_window_new            (EaAppletApplication   *application,
                                          EaExpertAssistSession *session);
GtkWidget *ea_chat_window_new_transcript (EaAppletApplication   *application,
                                          const char            *session_id);

G_END_DECLS
