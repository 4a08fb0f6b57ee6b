/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _EaAppletApplication EaAppletApplication;

#define EA_TEST_HOOK_PATH "/org/example/ExpertAssist/Applet/Test"

#define EA_TYPE_TEST_HOOK (ea_test_hook_get_type ())
G_DECLARE_FINAL_TYPE (EaTestHook, ea_test_hook, EA, TEST_HOOK, GObject)

EaTestHook *ea_test_hook_new      (EaAppletApplication *application);
gboolean    ea_test_hook_export   (EaTestHook          *self,
                                   GDBusConnection     *connection,
                                   GError             **error);
void        ea_test_hook_unexport (EaTestHook          *self);

G_END_DECLS
