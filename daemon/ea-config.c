/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ea-config"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-error.h"
#include "ea-util.h"
#include "ea-config.h"

void
ea_options_clear (EaOptions *o)
{
  g_clear_pointer (&o->account, g_free);
  g_clear_pointer (&o->server, g_free);
  g_clear_pointer (&o->password_file, g_free);
  g_clear_pointer (&o->directory, g_free);
  g_clear_pointer (&o->data_dir, g_free);
  g_clear_pointer (&o->tls, g_free);
}

void
ea_config_free (EaConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->account);
  g_free (c->host);
  g_free (c->password_file);
  g_free (c->directory);
  g_free (c->data_dir);
  g_free (c);
}

static char *
setting_string (GSettings *settings, const char *key)
{
  g_autofree char *value = settings ? g_settings_get_string (settings, key) : NULL;

  if (value == NULL || *value == '\0')
    return NULL;
  return g_steal_pointer (&value);
}

/**
 * ea_config_resolve:
 * @settings: (nullable): the daemon's GSettings, or %NULL for none
 *
 * Every value from the command line if given there, else from GSettings.
 * Fails with InvalidArgs on a value that cannot be used, saying which.
 */
EaConfig *
ea_config_resolve (const EaOptions *o, GSettings *settings, GError **error)
{
  g_autoptr(EaConfig) c = g_new0 (EaConfig, 1);
  g_autofree char *account = NULL;
  g_autofree char *server = NULL;
  g_autofree char *tls = NULL;

  account = o->account ? g_strdup (o->account) : setting_string (settings, "account");
  if (account != NULL)
    {
      if (!ea_jid_is_valid_bare (account))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("“%s” is not an XMPP address like name@example.org"), account);
          return NULL;
        }
      c->account = ea_jid_bare (account);
    }

  server = o->server ? g_strdup (o->server) : setting_string (settings, "server");
  if (!ea_parse_server (server, &c->host, &c->port, error))
    return NULL;
  if (o->server == NULL && settings != NULL && c->port == 0)
    c->port = (guint16) g_settings_get_uint (settings, "port");

  tls = o->tls ? g_strdup (o->tls) : setting_string (settings, "tls");
  if (tls == NULL)
    c->tls = EA_TLS_REQUIRED;
  else if (!ea_tls_policy_from_string (tls, &c->tls))
    {
      g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                   _("“%s” is not a TLS policy: use required, trust-self-signed or none"), tls);
      return NULL;
    }

  c->password_file = g_strdup (o->password_file);
  c->directory = o->directory ? g_strdup (o->directory) : setting_string (settings, "directory");
  c->data_dir = o->data_dir ? g_strdup (o->data_dir)
                            : g_build_filename (g_get_user_data_dir (), "expert-assist", NULL);
  return g_steal_pointer (&c);
}
