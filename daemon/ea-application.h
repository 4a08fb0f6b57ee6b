/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EA_TYPE_APPLICATION (ea_application_get_type ())
G_DECLARE_FINAL_TYPE (EaApplication, ea_application, EA, APPLICATION, GApplication)

EaApplication *ea_application_new (void);

G_END_DECLS
