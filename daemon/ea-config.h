/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ea-xmpp.h"

G_BEGIN_DECLS

/* The command line of expert-assistd, as given. NULL/-1: not given. */
typedef struct {
  char *account;
  char *server;
  char *password_file;
  char *directory;
  char *data_dir;
  char *tls;
  gboolean replace;
  gboolean verbose;
  gboolean version;
} EaOptions;

/* What the daemon runs with: options first, then GSettings. */
typedef struct {
  char *account;        /* bare, or NULL when none is configured */
  char *host;           /* NULL: the account's domain, by SRV */
  guint16 port;
  EaTlsPolicy tls;
  char *password_file;  /* NULL: the keyring */
  char *directory;      /* NULL: the XDG search */
  char *data_dir;
} EaConfig;

void      ea_options_clear    (EaOptions   *options);
void      ea_config_free      (EaConfig    *config);
EaConfig *ea_config_resolve   (const EaOptions *options,
                               GSettings   *settings,
                               GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EaConfig, ea_config_free)

G_END_DECLS
