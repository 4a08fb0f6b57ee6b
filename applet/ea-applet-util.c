/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Small helpers every window of the applet needs: readable errors, the
 * translated names of the daemon's states, times, a{sv} look-ups.
 */
#define G_LOG_DOMAIN "ea-applet"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-error.h"
#include "ea-applet-util.h"

/* The daemon's messages are already written for people (and translated
 * by the daemon); what is left is to say which kind of problem it is. */
char *
ea_describe_error (const GError *error)
{
  g_autoptr(GError) copy = NULL;
  const char *prefix = NULL;

  if (error == NULL)
    return g_strdup (_("Unknown error"));

  copy = g_error_copy (error);
  if (g_dbus_error_is_remote_error (copy))
    g_dbus_error_strip_remote_error (copy);

  if (copy->domain == EA_ERROR)
    {
      switch ((EaError) copy->code)
        {
        case EA_ERROR_NOT_CONNECTED:
          prefix = _("Not connected to the chat server");
          break;
        case EA_ERROR_TAKEN:
          prefix = _("Another expert was quicker");
          break;
        case EA_ERROR_EXPIRED:
          prefix = _("Too late: the offer has expired");
          break;
        case EA_ERROR_PERMISSION_DENIED:
          prefix = _("Not allowed");
          break;
        case EA_ERROR_NOT_FOUND:
          prefix = _("Not found");
          break;
        case EA_ERROR_INVALID_ARGS:
          prefix = _("Please check your input");
          break;
        case EA_ERROR_FAILED:
        default:
          break;
        }
    }
  else if (g_error_matches (copy, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
           g_error_matches (copy, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
           g_error_matches (copy, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED) ||
           g_error_matches (copy, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED))
    {
      return g_strdup (_("The Expert Assist service is not running and could not be started."));
    }
  else if (g_error_matches (copy, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
           g_error_matches (copy, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      return g_strdup (_("The Expert Assist service did not answer in time."));
    }

  if (prefix == NULL || copy->message == NULL || *copy->message == '\0')
    return g_strdup (prefix ? prefix : copy->message);
  /* Translators: an error kind, then the daemon's own explanation */
  return g_strdup_printf (_("%s: %s"), prefix, copy->message);
}

const char *
ea_status_label (const char *status)
{
  if (g_strcmp0 (status, "available") == 0)
    return _("Available");
  if (g_strcmp0 (status, "chat") == 0)
    return _("Free to chat");
  if (g_strcmp0 (status, "away") == 0)
    return _("Away");
  if (g_strcmp0 (status, "xa") == 0)
    return _("Away for longer");
  if (g_strcmp0 (status, "dnd") == 0)
    return _("Do not disturb");
  if (g_strcmp0 (status, "offline") == 0)
    return _("Offline");
  return status ? status : "";
}

const char *
ea_connection_label (const char *state)
{
  if (g_strcmp0 (state, "connected") == 0)
    return _("Connected");
  if (g_strcmp0 (state, "connecting") == 0)
    return _("Connecting…");
  if (g_strcmp0 (state, "disconnected") == 0)
    return _("Disconnected");
  if (g_strcmp0 (state, "auth-failed") == 0)
    return _("The server refused the password");
  if (g_strcmp0 (state, "error") == 0)
    return _("Connection error");
  return _("Expert Assist service not running");
}

const char *
ea_request_state_label (const char *state)
{
  if (g_strcmp0 (state, "queued") == 0)
    return _("Waiting for a free expert");
  if (g_strcmp0 (state, "offering") == 0)
    return _("Offered to experts");
  if (g_strcmp0 (state, "connected") == 0)
    return _("Connected to an expert");
  if (g_strcmp0 (state, "failed") == 0)
    return _("No expert could be found");
  if (g_strcmp0 (state, "cancelled") == 0)
    return _("Cancelled");
  if (g_strcmp0 (state, "closed") == 0)
    return _("Closed");
  return state ? state : "";
}

const char *
ea_offer_reason_label (const char *reason)
{
  if (g_strcmp0 (reason, "taken") == 0)
    return _("taken by another expert");
  if (g_strcmp0 (reason, "cancelled") == 0)
    return _("cancelled by the agent");
  if (g_strcmp0 (reason, "expired") == 0)
    return _("expired");
  if (g_strcmp0 (reason, "no-experts") == 0)
    return _("no expert is available");
  if (g_strcmp0 (reason, "partial") == 0)
    return _("fewer experts than asked for accepted");
  if (g_strcmp0 (reason, "restarted") == 0)
    return _("the service was restarted");
  return reason ? reason : "";
}

const char *
ea_channel_label (const char *channel)
{
  if (g_strcmp0 (channel, "phone") == 0)
    return _("Phone");
  if (g_strcmp0 (channel, "email") == 0)
    return _("Email");
  if (g_strcmp0 (channel, "im") == 0)
    return _("Instant message");
  if (g_strcmp0 (channel, "webchat") == 0)
    return _("Web chat");
  return channel ? channel : "";
}

const char *
ea_mode_label (const char *mode)
{
  if (g_strcmp0 (mode, "parallel") == 0)
    return _("All at once");
  if (g_strcmp0 (mode, "serial") == 0)
    return _("One at a time");
  if (g_strcmp0 (mode, "progressive") == 0)
    return _("Growing waves");
  if (g_strcmp0 (mode, "room") == 0)
    return _("Group room");
  return _("Group default");
}

char *
ea_format_time (gint64 unix_us)
{
  g_autoptr(GDateTime) dt = NULL;

  if (unix_us <= 0)
    return g_strdup ("");
  dt = g_date_time_new_from_unix_local (unix_us / G_USEC_PER_SEC);
  return dt ? g_date_time_format (dt, "%H:%M") : g_strdup ("");
}

char *
ea_format_date_time (gint64 unix_us)
{
  g_autoptr(GDateTime) dt = NULL;

  if (unix_us <= 0)
    return g_strdup ("");
  dt = g_date_time_new_from_unix_local (unix_us / G_USEC_PER_SEC);
  /* Translators: a date and time, see g_date_time_format() */
  return dt ? g_date_time_format (dt, _("%Y-%m-%d %H:%M")) : g_strdup ("");
}

char *
ea_format_duration (double seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (seconds < 90)
    /* Translators: a duration in seconds */
    return g_strdup_printf (_("%.0f s"), seconds);
  /* Translators: a duration in minutes */
  return g_strdup_printf (_("%.1f min"), seconds / 60.0);
}

char *
ea_lookup_string (GVariant *dict, const char *key)
{
  const char *value = NULL;

  if (dict != NULL && g_variant_lookup (dict, key, "&s", &value))
    return g_strdup (value);
  return NULL;
}

guint
ea_lookup_uint (GVariant *dict, const char *key)
{
  guint32 value = 0;

  if (dict != NULL)
    g_variant_lookup (dict, key, "u", &value);
  return value;
}

double
ea_lookup_double (GVariant *dict, const char *key)
{
  double value = 0.0;

  if (dict != NULL)
    g_variant_lookup (dict, key, "d", &value);
  return value;
}

gint64
ea_lookup_int64 (GVariant *dict, const char *key)
{
  gint64 value = 0;

  if (dict != NULL)
    g_variant_lookup (dict, key, "x", &value);
  return value;
}

char *
ea_join_addresses (const char * const *addresses)
{
  if (addresses == NULL || addresses[0] == NULL)
    return g_strdup ("—");
  return g_strjoinv (", ", (char **) addresses);
}

void
ea_list_box_clear (GtkListBox *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))) != NULL)
    gtk_list_box_remove (box, child);
}
