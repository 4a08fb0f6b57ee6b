/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ea-directory.h"
#include "ea-roster.h"

G_BEGIN_DECLS

gboolean ea_router_is_interruptible (EaDirGroup  *group,
                                     EaDirExpert *expert,
                                     EaContact   *contact,
                                     const char  *own_address);

G_END_DECLS
