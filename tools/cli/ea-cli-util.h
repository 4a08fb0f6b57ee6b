/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pure parts of the command-line client: exit codes, JSON and CSV
 * writers, date parsing, aligned tables. No D-Bus here, so the unit tests
 * cover all of it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * EaCliExit:
 *
 * The exit statuses of expert-assist. Each daemon error has its own, so a
 * script can tell "nobody to ask" from "you may not ask".
 */
typedef enum {
  EA_CLI_EXIT_OK = 0,
  EA_CLI_EXIT_USAGE = 1,          /* also: any other error */
  EA_CLI_EXIT_NO_DAEMON = 2,
  EA_CLI_EXIT_NOT_CONNECTED = 3,
  EA_CLI_EXIT_NOT_FOUND = 4,
  EA_CLI_EXIT_PERMISSION_DENIED = 5,
  EA_CLI_EXIT_INVALID_ARGS = 6,
  EA_CLI_EXIT_FAILED = 7,
  EA_CLI_EXIT_EXPIRED = 8,        /* ask --wait only */
  EA_CLI_EXIT_CANCELLED = 9,      /* ask --wait only */
  EA_CLI_EXIT_TAKEN = 10,
} EaCliExit;

#define EA_CLI_EXIT_OTHER EA_CLI_EXIT_USAGE

int         ea_cli_exit_code_for_error  (const GError *error);
char       *ea_cli_error_message        (const GError *error);

/* JSON (RFC 8259), written by hand: json-glib is not a dependency. */
void        ea_cli_json_string          (GString    *out,
                                         const char *text);
void        ea_cli_json_double          (GString    *out,
                                         double      value);
void        ea_cli_json_variant         (GString    *out,
                                         GVariant   *value);
char       *ea_cli_json_from_variant    (GVariant   *value);

/* CSV (RFC 4180): quoted only when needed, rows end in CRLF. */
void        ea_cli_csv_field            (GString    *out,
                                         const char *text);
void        ea_cli_csv_row              (GString           *out,
                                         const char * const *fields,
                                         gsize              n_fields);

/* Numbers for machines: locale-independent, shortest round trip. */
char       *ea_cli_format_number        (double      value);

/* Times */
gboolean    ea_cli_parse_time           (const char *text,
                                         gint64      now_us,
                                         GTimeZone  *tz,
                                         gint64     *out_us,
                                         GError    **error);
char       *ea_cli_format_time          (gint64      unix_us,
                                         GTimeZone  *tz,
                                         const char *format);
char       *ea_cli_format_iso8601       (gint64      unix_us);
char       *ea_cli_format_seconds       (double      seconds);

/* Text */
char       *ea_cli_snippet_to_text      (const char *markup);
char       *ea_cli_one_line             (const char *text);
gsize       ea_cli_display_width        (const char *text);

/* Aligned columns for people */
typedef struct _EaCliTable EaCliTable;

EaCliTable *ea_cli_table_new            (guint       n_columns);
void        ea_cli_table_free           (EaCliTable *table);
void        ea_cli_table_set_header     (EaCliTable *table,
                                         const char *first,
                                         ...) G_GNUC_NULL_TERMINATED;
void        ea_cli_table_align_right    (EaCliTable *table,
                                         guint       column);
void        ea_cli_table_add            (EaCliTable *table,
                                         const char *first,
                                         ...) G_GNUC_NULL_TERMINATED;
void        ea_cli_table_add_take       (EaCliTable *table,
                                         char      **cells);
guint       ea_cli_table_n_rows         (EaCliTable *table);
char       *ea_cli_table_to_string      (EaCliTable *table,
                                         const char *indent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EaCliTable, ea_cli_table_free)

G_END_DECLS
