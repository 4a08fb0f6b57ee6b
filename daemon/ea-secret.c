/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where the password comes from: the keyring (libsecret, asynchronous
 * only) or, for headless use and tests, a file that only its owner can
 * read. Passwords are wiped from memory when freed and never logged.
 */
#define G_LOG_DOMAIN "ea-secret"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "ea-error.h"
#include "ea-secret.h"

static const SecretSchema *
account_schema (void)
{
  static const SecretSchema schema = {
    "org.example.ExpertAssist.Account", SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

void
ea_secret_free (char *password)
{
  if (password != NULL)
    explicit_bzero (password, strlen (password));
  g_free (password);
}

static void
lookup_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;
  char *password = secret_password_lookup_finish (res, &error);

  if (error != NULL)
    g_task_return_new_error (task, EA_ERROR, EA_ERROR_FAILED,
                             _("The keyring cannot be read (%s). Start a keyring, or run "
                               "expert-assistd with --password-file."),
                             error->message);
  else if (password == NULL)
    g_task_return_new_error (task, EA_ERROR, EA_ERROR_NOT_FOUND,
                             _("No password is stored for %s. Set it with SetAccount or "
                               "“expert-assist login”."),
                             (const char *) g_task_get_task_data (task));
  else
    {
      char *copy = g_strdup (password);

      secret_password_free (password);
      g_task_return_pointer (task, copy, (GDestroyNotify) ea_secret_free);
    }
}

void
ea_secret_lookup (const char          *account,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_task_data (task, g_strdup (account), g_free);
  secret_password_lookup (account_schema (), cancellable, lookup_cb, task,
                          "account", account, NULL);
}

char *
ea_secret_lookup_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
store_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (res, &error))
    g_task_return_new_error (task, EA_ERROR, EA_ERROR_FAILED,
                             _("The password could not be saved in the keyring (%s). "
                               "Is a keyring running and unlocked?"),
                             error->message);
  else
    g_task_return_boolean (task, TRUE);
}

void
ea_secret_store (const char          *account,
                 const char          *password,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *label = g_strdup_printf (_("Expert Assist password for %s"), account);

  secret_password_store (account_schema (), SECRET_COLLECTION_DEFAULT, label, password,
                         cancellable, store_cb, task, "account", account, NULL);
}

gboolean
ea_secret_store_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */

static void
file_loaded_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;
  char *end;

  if (!g_file_load_contents_finish (G_FILE (source), res, &contents, &length, NULL, &error))
    {
      g_task_return_new_error (task, EA_ERROR, EA_ERROR_FAILED,
                               _("The password file cannot be read: %s"), error->message);
      return;
    }

  /* The first line is the password; a trailing newline is not part of it. */
  end = memchr (contents, '\n', length);
  if (end != NULL)
    *end = '\0';
  if (strlen (contents) > 0 && contents[strlen (contents) - 1] == '\r')
    contents[strlen (contents) - 1] = '\0';

  if (*contents == '\0' || !g_utf8_validate (contents, -1, NULL))
    {
      explicit_bzero (contents, length);
      g_free (contents);
      g_task_return_new_error (task, EA_ERROR, EA_ERROR_FAILED,
                               _("The password file %s is empty or not UTF-8 text."),
                               g_file_peek_path (G_FILE (source)));
      return;
    }
  g_task_return_pointer (task, contents, (GDestroyNotify) ea_secret_free);
}

static void
file_info_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = g_file_query_info_finish (G_FILE (source), res, &error);
  guint32 mode, uid;

  if (info == NULL)
    {
      g_task_return_new_error (task, EA_ERROR, EA_ERROR_FAILED,
                               _("The password file cannot be read: %s"), error->message);
      return;
    }

  mode = g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_UNIX_MODE);
  uid = g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_UNIX_UID);
  if (uid != getuid () || (mode & 077) != 0)
    {
      g_task_return_new_error (task, EA_ERROR, EA_ERROR_PERMISSION_DENIED,
                               _("The password file %s must be private: owned by you and "
                                 "readable by nobody else (chmod 600 %s)."),
                               g_file_peek_path (G_FILE (source)),
                               g_file_peek_path (G_FILE (source)));
      return;
    }

  {
    GCancellable *cancellable = g_task_get_cancellable (task);

    g_file_load_contents_async (G_FILE (source), cancellable, file_loaded_cb,
                                g_steal_pointer (&task));
  }
}

/* Refuses a file that others could read, before reading a byte of it. */
void
ea_password_file_read (const char          *path,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_file_query_info_async (file, G_FILE_ATTRIBUTE_UNIX_MODE "," G_FILE_ATTRIBUTE_UNIX_UID,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, cancellable,
                           file_info_cb, task);
}

char *
ea_password_file_read_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
