/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the subcommands of expert-assist share: the connection to the
 * daemon, option parsing with GOptionContext, error reporting with exit
 * codes, output helpers.
 */
#pragma once

#include <gio/gio.h>

#include "ea-dbus-generated.h"
#include "ea-cli-util.h"

G_BEGIN_DECLS

#define EA_CLI_BUS_NAME "org.example.ExpertAssist"
#define EA_CLI_ROOT_PATH "/org/example/ExpertAssist"
#define EA_CLI_PROGRAM "expert-assist"

typedef struct {
  GDBusConnection *bus;
  EaExpertAssist *root;
  GDBusObjectManager *manager;
  const char *command;
  GMainLoop *loop;       /* for the commands that follow the daemon */
  int exit_code;         /* what the loop ended with */
} EaCli;

typedef int (*EaCliCommandFunc) (EaCli  *cli,
                                 int     argc,
                                 char  **argv);

typedef struct {
  const char *name;
  const char *parameters;
  const char *summary;
  EaCliCommandFunc run;
} EaCliCommand;

/* ea-cli.c */
gboolean    ea_cli_parse_options     (EaCli              *cli,
                                      const GOptionEntry *entries,
                                      const char         *parameters,
                                      const char         *summary,
                                      const char         *description,
                                      int                *argc,
                                      char             ***argv,
                                      int                *exit_code);
int         ea_cli_usage             (EaCli      *cli,
                                      const char *format,
                                      ...) G_GNUC_PRINTF (2, 3);
int         ea_cli_fail              (EaCli        *cli,
                                      const GError *error);
int         ea_cli_fail_code         (EaCli      *cli,
                                      int         code,
                                      const char *format,
                                      ...) G_GNUC_PRINTF (3, 4);
int         ea_cli_connect           (EaCli *cli);
int         ea_cli_connect_manager   (EaCli *cli);
void        ea_cli_print_raw         (const char *text);
void        ea_cli_print_json        (GVariant *value);
gboolean    ea_cli_parse_time_option (EaCli       *cli,
                                      const char  *option,
                                      const char  *text,
                                      gint64      *out_us,
                                      int         *exit_code);
EaObject   *ea_cli_find_object       (EaCli      *cli,
                                      const char *kind,
                                      const char *id,
                                      int        *exit_code);
const char *ea_cli_path_id           (const char *path);
void        ea_cli_watch_daemon      (EaCli      *cli);
void        ea_cli_quit              (EaCli      *cli,
                                      int         exit_code);
const char *ea_cli_exit_codes_help   (void);

extern const EaCliCommand ea_cli_commands[];

/* The subcommands */
int ea_cli_status     (EaCli *cli, int argc, char **argv);
int ea_cli_login      (EaCli *cli, int argc, char **argv);
int ea_cli_groups     (EaCli *cli, int argc, char **argv);
int ea_cli_experts    (EaCli *cli, int argc, char **argv);
int ea_cli_ask        (EaCli *cli, int argc, char **argv);
int ea_cli_offers     (EaCli *cli, int argc, char **argv);
int ea_cli_accept     (EaCli *cli, int argc, char **argv);
int ea_cli_decline    (EaCli *cli, int argc, char **argv);
int ea_cli_chat       (EaCli *cli, int argc, char **argv);
int ea_cli_transcript (EaCli *cli, int argc, char **argv);
int ea_cli_search     (EaCli *cli, int argc, char **argv);
int ea_cli_similar    (EaCli *cli, int argc, char **argv);
int ea_cli_stats      (EaCli *cli, int argc, char **argv);
int ea_cli_report     (EaCli *cli, int argc, char **argv);

G_END_DECLS
