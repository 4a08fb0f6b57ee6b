/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * EaError:
 * @EA_ERROR_NOT_FOUND: no such group, expert, request, offer or session
 * @EA_ERROR_INVALID_ARGS: an argument has a wrong value
 * @EA_ERROR_NOT_CONNECTED: the call needs the XMPP server and there is none
 * @EA_ERROR_TAKEN: another expert took the request first
 * @EA_ERROR_EXPIRED: the offer or request ran out
 * @EA_ERROR_PERMISSION_DENIED: this user may not do that
 * @EA_ERROR_FAILED: anything else, the message says what
 *
 * The errors of the D-Bus API. Each crosses the bus as
 * org.example.ExpertAssist.Error.<Name>, and a client linking this code gets
 * the same #GError back.
 */
typedef enum {
  EA_ERROR_NOT_FOUND,
  EA_ERROR_INVALID_ARGS,
  EA_ERROR_NOT_CONNECTED,
  EA_ERROR_TAKEN,
  EA_ERROR_EXPIRED,
  EA_ERROR_PERMISSION_DENIED,
  EA_ERROR_FAILED,
} EaError;

#define EA_N_ERRORS (EA_ERROR_FAILED + 1)

#define EA_ERROR (ea_error_quark ())
GQuark ea_error_quark (void);

const char *ea_error_dbus_name (EaError code);

G_END_DECLS
