/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *ea_translate (const char *language,
                          const char *msgid) G_GNUC_FORMAT (2);

G_END_DECLS
