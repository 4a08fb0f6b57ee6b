/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gio/gio.h>

#include "ea-error.h"

static const GDBusErrorEntry ea_error_entries[] = {
  { EA_ERROR_NOT_FOUND, "org.example.ExpertAssist.Error.NotFound" },
  { EA_ERROR_INVALID_ARGS, "org.example.ExpertAssist.Error.InvalidArgs" },
  { EA_ERROR_NOT_CONNECTED, "org.example.ExpertAssist.Error.NotConnected" },
  { EA_ERROR_TAKEN, "org.example.ExpertAssist.Error.Taken" },
  { EA_ERROR_EXPIRED, "org.example.ExpertAssist.Error.Expired" },
  { EA_ERROR_PERMISSION_DENIED, "org.example.ExpertAssist.Error.PermissionDenied" },
  { EA_ERROR_FAILED, "org.example.ExpertAssist.Error.Failed" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (ea_error_entries) == EA_N_ERRORS);

/* Registered inside the quark getter, so that any code which can raise or
 * test for an EA_ERROR has the D-Bus names mapped first. */
GQuark
ea_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("ea-error-quark",
                                      &quark,
                                      ea_error_entries,
                                      G_N_ELEMENTS (ea_error_entries));
  return (GQuark) quark;
}

const char *
ea_error_dbus_name (EaError code)
{
  if ((guint) code >= G_N_ELEMENTS (ea_error_entries))
    return NULL;
  return ea_error_entries[code].dbus_error_name;
}
