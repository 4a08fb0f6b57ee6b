/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Exit codes, JSON and CSV writers, date parsing and aligned tables for
 * the command-line client.
 */
#define G_LOG_DOMAIN "ea-cli"

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "ea-error.h"
#include "ea-cli-util.h"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

int
ea_cli_exit_code_for_error (const GError *error)
{
  if (error == NULL)
    return EA_CLI_EXIT_OK;

  if (error->domain == EA_ERROR)
    {
      switch ((EaError) error->code)
        {
        case EA_ERROR_NOT_FOUND:
          return EA_CLI_EXIT_NOT_FOUND;
        case EA_ERROR_INVALID_ARGS:
          return EA_CLI_EXIT_INVALID_ARGS;
        case EA_ERROR_NOT_CONNECTED:
          return EA_CLI_EXIT_NOT_CONNECTED;
        case EA_ERROR_TAKEN:
          return EA_CLI_EXIT_TAKEN;
        case EA_ERROR_EXPIRED:
        case EA_ERROR_FAILED:
          return EA_CLI_EXIT_FAILED;
        case EA_ERROR_PERMISSION_DENIED:
          return EA_CLI_EXIT_PERMISSION_DENIED;
        default:
          return EA_CLI_EXIT_OTHER;
        }
    }

  if (error->domain == G_DBUS_ERROR)
    {
      switch ((GDBusError) error->code)
        {
        /* Nobody owns the name and activation did not help. */
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_DISCONNECTED:
        case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
        case G_DBUS_ERROR_SPAWN_FORK_FAILED:
        case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
        case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
        case G_DBUS_ERROR_SPAWN_FAILED:
        case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
        case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
        case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
        case G_DBUS_ERROR_SPAWN_FILE_INVALID:
        case G_DBUS_ERROR_SPAWN_NO_MEMORY:
          return EA_CLI_EXIT_NO_DAEMON;
        case G_DBUS_ERROR_INVALID_ARGS:
          return EA_CLI_EXIT_INVALID_ARGS;
        case G_DBUS_ERROR_UNKNOWN_METHOD:
        case G_DBUS_ERROR_UNKNOWN_OBJECT:
        case G_DBUS_ERROR_UNKNOWN_INTERFACE:
        case G_DBUS_ERROR_UNKNOWN_PROPERTY:
          /* The object went away between listing and calling. */
          return EA_CLI_EXIT_NOT_FOUND;
        case G_DBUS_ERROR_ACCESS_DENIED:
        case G_DBUS_ERROR_AUTH_FAILED:
          return EA_CLI_EXIT_PERMISSION_DENIED;
        default:
          return EA_CLI_EXIT_OTHER;
        }
    }

  return EA_CLI_EXIT_OTHER;
}

/* The message a person reads: without the "GDBus.Error:org...: " prefix,
 * on one line. */
char *
ea_cli_error_message (const GError *error)
{
  g_autoptr(GError) copy = NULL;

  if (error == NULL)
    return g_strdup ("");
  copy = g_error_copy (error);
  if (g_dbus_error_is_remote_error (copy))
    g_dbus_error_strip_remote_error (copy);
  return ea_cli_one_line (copy->message);
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

/* The shortest of %.15g, %.16g, %.17g that reads back as the same
 * double, in the C locale whatever LC_NUMERIC says. */
static char *
format_double (double value, gboolean force_fraction)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  GString *out;

  for (int precision = 15; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, value);
      if (g_ascii_strtod (buf, NULL) == value)
        break;
    }
  out = g_string_new (buf);
  if (force_fraction && strpbrk (buf, ".eE") == NULL)
    g_string_append (out, ".0");
  return g_string_free (out, FALSE);
}

char *
ea_cli_format_number (double value)
{
  if (!isfinite (value))
    return g_strdup ("");
  return format_double (value, FALSE);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

void
ea_cli_json_string (GString *out, const char *text)
{
  g_autofree char *valid = NULL;
  const guchar *p;

  if (text == NULL)
    text = "";
  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (p = (const guchar *) text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\b':
          g_string_append (out, "\\b");
          break;
        case '\f':
          g_string_append (out, "\\f");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (out, "\\u%04x", *p);
          /* U+2028 and U+2029 are valid JSON but end a line in
           * JavaScript; escaped, the output is safe to embed too. */
          else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            {
              g_string_append_printf (out, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
              p += 2;
            }
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

void
ea_cli_json_double (GString *out, double value)
{
  g_autofree char *text = NULL;

  /* JSON has no NaN or infinity. */
  if (!isfinite (value))
    {
      g_string_append (out, "null");
      return;
    }
  text = format_double (value, TRUE);
  g_string_append (out, text);
}

static void
json_key (GString *out, GVariant *key)
{
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING) ||
      g_variant_is_of_type (key, G_VARIANT_TYPE_OBJECT_PATH) ||
      g_variant_is_of_type (key, G_VARIANT_TYPE_SIGNATURE))
    ea_cli_json_string (out, g_variant_get_string (key, NULL));
  else
    {
      /* JSON keys are strings: a number key becomes its text. */
      g_autoptr(GString) text = g_string_new (NULL);

      ea_cli_json_variant (text, key);
      ea_cli_json_string (out, text->str);
    }
}

void
ea_cli_json_variant (GString *out, GVariant *value)
{
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
      break;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "%u", (guint) g_variant_get_byte (value));
      break;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "%d", (int) g_variant_get_int16 (value));
      break;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "%u", (guint) g_variant_get_uint16 (value));
      break;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "%" G_GINT32_FORMAT, g_variant_get_int32 (value));
      break;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "%" G_GUINT32_FORMAT, g_variant_get_uint32 (value));
      break;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
      break;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
      break;
    case G_VARIANT_CLASS_HANDLE:
      g_string_append_printf (out, "%" G_GINT32_FORMAT, g_variant_get_handle (value));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      ea_cli_json_double (out, g_variant_get_double (value));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      ea_cli_json_string (out, g_variant_get_string (value, NULL));
      break;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (value);

        ea_cli_json_variant (out, inner);
      }
      break;
    case G_VARIANT_CLASS_MAYBE:
      if (g_variant_n_children (value) == 0)
        g_string_append (out, "null");
      else
        {
          g_autoptr(GVariant) inner = g_variant_get_child_value (value, 0);

          ea_cli_json_variant (out, inner);
        }
      break;
    case G_VARIANT_CLASS_ARRAY:
      {
        const GVariantType *element = g_variant_type_element (g_variant_get_type (value));
        gboolean dict = g_variant_type_is_dict_entry (element);
        gsize n = g_variant_n_children (value);

        g_string_append_c (out, dict ? '{' : '[');
        for (gsize i = 0; i < n; i++)
          {
            g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

            if (i > 0)
              g_string_append_c (out, ',');
            if (dict)
              {
                g_autoptr(GVariant) key = g_variant_get_child_value (child, 0);
                g_autoptr(GVariant) val = g_variant_get_child_value (child, 1);

                json_key (out, key);
                g_string_append_c (out, ':');
                ea_cli_json_variant (out, val);
              }
            else
              ea_cli_json_variant (out, child);
          }
        g_string_append_c (out, dict ? '}' : ']');
      }
      break;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
      {
        gsize n = g_variant_n_children (value);

        g_string_append_c (out, '[');
        for (gsize i = 0; i < n; i++)
          {
            g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

            if (i > 0)
              g_string_append_c (out, ',');
            ea_cli_json_variant (out, child);
          }
        g_string_append_c (out, ']');
      }
      break;
    default:
      g_string_append (out, "null");
      break;
    }
}

char *
ea_cli_json_from_variant (GVariant *value)
{
  GString *out = g_string_new (NULL);

  ea_cli_json_variant (out, value);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

void
ea_cli_csv_field (GString *out, const char *text)
{
  if (text == NULL)
    return;
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

void
ea_cli_csv_row (GString *out, const char * const *fields, gsize n_fields)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      ea_cli_csv_field (out, fields[i]);
    }
  g_string_append (out, "\r\n");
}

/* ------------------------------------------------------------------ */
/* Times                                                               */
/* ------------------------------------------------------------------ */

static gint64
date_time_to_us (GDateTime *dt)
{
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
}

static GDateTime *
midnight (gint64 now_us, GTimeZone *tz, int days_back)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, tz);
  g_autoptr(GDateTime) day = g_date_time_new (tz, g_date_time_get_year (local),
                                              g_date_time_get_month (local),
                                              g_date_time_get_day_of_month (local), 0, 0, 0);

  return g_date_time_add_days (day, -days_back);
}

/* TEXT as a point in time: "now", "today", "yesterday", a span back from
 * now ("90s", "30m", "24h", "7d", "2w"), a date "YYYY-MM-DD" (midnight in
 * TZ), or an ISO 8601 date and time (in TZ unless it names its own). TZ
 * NULL means local time. */
gboolean
ea_cli_parse_time (const char *text,
                   gint64      now_us,
                   GTimeZone  *tz,
                   gint64     *out_us,
                   GError    **error)
{
  g_autoptr(GTimeZone) local = NULL;
  g_autofree char *trimmed = NULL;
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GRegex) span = NULL;
  g_autoptr(GRegex) date = NULL;
  g_autoptr(GMatchInfo) match = NULL;

  if (tz == NULL)
    tz = local = g_time_zone_new_local ();
  trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (g_ascii_strcasecmp (trimmed, "now") == 0)
    {
      *out_us = now_us;
      return TRUE;
    }
  if (g_ascii_strcasecmp (trimmed, "today") == 0 ||
      g_ascii_strcasecmp (trimmed, "yesterday") == 0)
    {
      dt = midnight (now_us, tz, g_ascii_strcasecmp (trimmed, "today") == 0 ? 0 : 1);
      *out_us = date_time_to_us (dt);
      return TRUE;
    }

  span = g_regex_new ("^-?([0-9]{1,9}) ?(s|sec|m|min|h|d|w)$", G_REGEX_CASELESS, 0, NULL);
  if (g_regex_match (span, trimmed, 0, &match))
    {
      g_autofree char *number = g_match_info_fetch (match, 1);
      g_autofree char *unit_text = g_match_info_fetch (match, 2);
      g_autofree char *unit = g_ascii_strdown (unit_text, -1);
      gint64 seconds = g_ascii_strtoll (number, NULL, 10);

      switch (unit[0])
        {
        case 'm':
          seconds *= 60;
          break;
        case 'h':
          seconds *= 3600;
          break;
        case 'd':
          seconds *= 86400;
          break;
        case 'w':
          seconds *= 7 * 86400;
          break;
        default:
          break;
        }
      *out_us = now_us - seconds * G_USEC_PER_SEC;
      return TRUE;
    }
  g_clear_pointer (&match, g_match_info_unref);

  date = g_regex_new ("^([0-9]{4})-([0-9]{2})-([0-9]{2})$", 0, 0, NULL);
  if (g_regex_match (date, trimmed, 0, &match))
    {
      g_autofree char *y = g_match_info_fetch (match, 1);
      g_autofree char *m = g_match_info_fetch (match, 2);
      g_autofree char *d = g_match_info_fetch (match, 3);

      dt = g_date_time_new (tz, (int) g_ascii_strtoll (y, NULL, 10),
                            (int) g_ascii_strtoll (m, NULL, 10),
                            (int) g_ascii_strtoll (d, NULL, 10), 0, 0, 0);
    }
  else
    {
      /* GLib wants seconds; "2026-11-24 10:30" is common enough to take. */
      g_autoptr(GRegex) no_seconds =
        g_regex_new ("^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2})(Z|[+-].*)?$",
                     0, 0, NULL);
      g_autofree char *full = g_regex_replace (no_seconds, trimmed, -1, 0,
                                               "\\1T\\2:00\\3", 0, NULL);

      dt = g_date_time_new_from_iso8601 (full != NULL ? full : trimmed, tz);
    }

  if (dt == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("“%s” is not a time: give YYYY-MM-DD, an ISO 8601 date and time "
                     "such as 2026-11-24T10:30:00, or a span back from now such as "
                     "24h or 7d"), trimmed);
      return FALSE;
    }
  *out_us = date_time_to_us (dt);
  return TRUE;
}

char *
ea_cli_format_time (gint64 unix_us, GTimeZone *tz, const char *format)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GTimeZone) local = NULL;

  if (utc == NULL)
    return g_strdup ("?");
  if (tz == NULL)
    tz = local = g_time_zone_new_local ();
  dt = g_date_time_to_timezone (utc, tz);
  return g_date_time_format (dt, format);
}

char *
ea_cli_format_iso8601 (gint64 unix_us)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);

  if (utc == NULL)
    return g_strdup ("");
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

/* A duration for people: "8.2 s", "5 min 12 s", "2 h 05 min". */
char *
ea_cli_format_seconds (double seconds)
{
  gint64 whole;

  if (!isfinite (seconds) || seconds < 0)
    return g_strdup ("–");
  if (seconds < 60)
    return g_strdup_printf (_("%.1f s"), seconds);
  whole = (gint64) (seconds + 0.5);
  if (whole < 3600)
    return g_strdup_printf (_("%d min %02d s"), (int) (whole / 60), (int) (whole % 60));
  return g_strdup_printf (_("%d h %02d min"), (int) (whole / 3600), (int) ((whole % 3600) / 60));
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

/* SearchLog snippets are GMarkup with the matches in <b>: plain text for
 * a terminal. */
char *
ea_cli_snippet_to_text (const char *markup)
{
  GString *out = g_string_new (NULL);
  const char *p = markup != NULL ? markup : "";

  while (*p != '\0')
    {
      if (*p == '<')
        {
          const char *end = strchr (p, '>');

          if (end == NULL)
            break;
          p = end + 1;
        }
      else if (*p == '&')
        {
          const char *end = strchr (p, ';');
          g_autofree char *entity = NULL;

          if (end == NULL || end - p > 10)
            {
              g_string_append_c (out, *p++);
              continue;
            }
          entity = g_strndup (p + 1, (gsize) (end - p - 1));
          if (strcmp (entity, "lt") == 0)
            g_string_append_c (out, '<');
          else if (strcmp (entity, "gt") == 0)
            g_string_append_c (out, '>');
          else if (strcmp (entity, "amp") == 0)
            g_string_append_c (out, '&');
          else if (strcmp (entity, "quot") == 0)
            g_string_append_c (out, '"');
          else if (strcmp (entity, "apos") == 0)
            g_string_append_c (out, '\'');
          else if (entity[0] == '#')
            {
              gunichar c;

              if (entity[1] == 'x' || entity[1] == 'X')
                c = (gunichar) g_ascii_strtoull (entity + 2, NULL, 16);
              else
                c = (gunichar) g_ascii_strtoull (entity + 1, NULL, 10);
              if (g_unichar_validate (c) && c != 0)
                g_string_append_unichar (out, c);
            }
          else
            g_string_append_len (out, p, end - p + 1);
          p = end + 1;
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

/* Line breaks and tabs as spaces, so one value stays on one line. */
char *
ea_cli_one_line (const char *text)
{
  char *copy = g_strdup (text != NULL ? text : "");

  for (char *p = copy; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  return g_strstrip (copy);
}

/* Columns a terminal gives TEXT: wide characters count two, combining
 * ones none. */
gsize
ea_cli_display_width (const char *text)
{
  gsize width = 0;

  if (text == NULL || !g_utf8_validate (text, -1, NULL))
    return text != NULL ? strlen (text) : 0;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

struct _EaCliTable {
  guint n_columns;
  char **header;
  GPtrArray *rows;   /* of char ** (n_columns strings) */
  gboolean *right;
};

EaCliTable *
ea_cli_table_new (guint n_columns)
{
  EaCliTable *table = g_new0 (EaCliTable, 1);

  g_return_val_if_fail (n_columns > 0, NULL);
  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  table->right = g_new0 (gboolean, n_columns);
  return table;
}

void
ea_cli_table_free (EaCliTable *table)
{
  if (table == NULL)
    return;
  g_strfreev (table->header);
  g_ptr_array_unref (table->rows);
  g_free (table->right);
  g_free (table);
}

static char **
collect_cells (EaCliTable *table, const char *first, va_list args)
{
  char **cells = g_new0 (char *, table->n_columns + 1);
  const char *cell = first;

  for (guint i = 0; i < table->n_columns; i++)
    {
      cells[i] = ea_cli_one_line (cell);
      if (cell != NULL)
        cell = va_arg (args, const char *);
    }
  return cells;
}

void
ea_cli_table_set_header (EaCliTable *table, const char *first, ...)
{
  va_list args;

  va_start (args, first);
  g_strfreev (table->header);
  table->header = collect_cells (table, first, args);
  va_end (args);
}

void
ea_cli_table_align_right (EaCliTable *table, guint column)
{
  g_return_if_fail (column < table->n_columns);
  table->right[column] = TRUE;
}

void
ea_cli_table_add (EaCliTable *table, const char *first, ...)
{
  va_list args;

  va_start (args, first);
  g_ptr_array_add (table->rows, collect_cells (table, first, args));
  va_end (args);
}

/* Takes CELLS (n_columns strings, NULL-terminated, freed here). */
void
ea_cli_table_add_take (EaCliTable *table, char **cells)
{
  char **row = g_new0 (char *, table->n_columns + 1);
  guint n = cells != NULL ? g_strv_length (cells) : 0;

  for (guint i = 0; i < table->n_columns; i++)
    row[i] = ea_cli_one_line (i < n ? cells[i] : "");
  g_strfreev (cells);
  g_ptr_array_add (table->rows, row);
}

guint
ea_cli_table_n_rows (EaCliTable *table)
{
  return table->rows->len;
}

static void
append_row (GString *out, EaCliTable *table, char **cells, const gsize *widths,
            const char *indent)
{
  GString *line = g_string_new (indent);

  for (guint i = 0; i < table->n_columns; i++)
    {
      gsize width = ea_cli_display_width (cells[i]);
      gsize pad = widths[i] > width ? widths[i] - width : 0;

      if (i > 0)
        g_string_append (line, "  ");
      if (table->right[i])
        {
          for (gsize k = 0; k < pad; k++)
            g_string_append_c (line, ' ');
          g_string_append (line, cells[i]);
        }
      else
        {
          g_string_append (line, cells[i]);
          for (gsize k = 0; k < pad; k++)
            g_string_append_c (line, ' ');
        }
    }
  /* No trailing blanks: padded last columns and empty cells leave some. */
  while (line->len > 0 && line->str[line->len - 1] == ' ')
    g_string_truncate (line, line->len - 1);
  g_string_append (out, line->str);
  g_string_append_c (out, '\n');
  g_string_free (line, TRUE);
}

char *
ea_cli_table_to_string (EaCliTable *table, const char *indent)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);
  GString *out = g_string_new (NULL);

  if (indent == NULL)
    indent = "";
  for (guint r = 0; r <= table->rows->len; r++)
    {
      char **cells = r < table->rows->len ? g_ptr_array_index (table->rows, r) : table->header;

      if (cells == NULL)
        continue;
      for (guint i = 0; i < table->n_columns; i++)
        widths[i] = MAX (widths[i], ea_cli_display_width (cells[i]));
    }
  if (table->header != NULL)
    append_row (out, table, table->header, widths, indent);
  for (guint r = 0; r < table->rows->len; r++)
    append_row (out, table, g_ptr_array_index (table->rows, r), widths, indent);
  return g_string_free (out, FALSE);
}
