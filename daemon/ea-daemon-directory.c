/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Loading the directory: the keyfiles (read asynchronously, watched with
 * GFileMonitor) and the roster's prefixed groups, merged into one
 * EaDirectory. A keyfile that does not parse is reported with its file
 * and line, and its last good version stays in use.
 */
#define G_LOG_DOMAIN "ea-directory"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-util.h"
#include "ea-daemon-private.h"
#include "ea-daemon-rooms.h"

typedef struct {
  EaDaemon *self;
  char *path;
} LoadData;

void
ea_daemon_directory_init (EaDaemon *self)
{
  self->directory = ea_directory_new_empty ();
  self->directory_fingerprint = ea_directory_fingerprint (self->directory);
  self->directory_paths = g_ptr_array_new_with_free_func (g_free);
  self->keyfiles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_key_file_unref);
  self->monitors = g_ptr_array_new_with_free_func (g_object_unref);
  self->reload_pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
ea_daemon_directory_dispose (EaDaemon *self)
{
  if (self->monitors != NULL)
    for (guint i = 0; i < self->monitors->len; i++)
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->monitors, i), self);
  g_clear_pointer (&self->monitors, g_ptr_array_unref);
  g_clear_pointer (&self->keyfiles, g_hash_table_unref);
  g_clear_pointer (&self->directory_paths, g_ptr_array_unref);
  g_clear_pointer (&self->reload_pending, g_hash_table_unref);
  g_clear_pointer (&self->directory, ea_directory_unref);
  g_clear_pointer (&self->directory_fingerprint, g_free);
}

/**
 * ea_daemon_directory_rebuild:
 *
 * Merges the last good keyfiles and the roster into a new directory. When
 * anything clients can see changed, it replaces the old one and clients
 * are told (GroupsChanged, ExpertChanged), and presence subscriptions and
 * the own presence follow.
 */
void
ea_daemon_directory_rebuild (EaDaemon *self)
{
  EaDirectoryBuilder *b = ea_directory_builder_new ();
  g_autoptr(EaDirectory) dir = NULL;
  g_autoptr(GList) items = NULL;
  g_autofree char *fingerprint = NULL;
  gboolean was_expert, is_expert;

  for (guint i = 0; i < self->directory_paths->len; i++)
    {
      GKeyFile *kf = g_hash_table_lookup (self->keyfiles,
                                          g_ptr_array_index (self->directory_paths, i));

      if (kf != NULL)
        ea_directory_builder_add_keyfile (b, kf);
    }

  items = ea_roster_get_items (self->roster);
  for (GList *l = items; l; l = l->next)
    {
      EaContact *c = l->data;

      ea_directory_builder_add_roster_item (b, c->address, c->name,
                                            (const char * const *) c->groups);
    }

  dir = ea_directory_builder_end (b);
  fingerprint = ea_directory_fingerprint (dir);
  if (g_strcmp0 (fingerprint, self->directory_fingerprint) == 0)
    return;

  was_expert = ea_directory_get_expert (self->directory, ea_daemon_get_account (self)) != NULL;
  g_clear_pointer (&self->directory, ea_directory_unref);
  self->directory = g_steal_pointer (&dir);
  g_free (self->directory_fingerprint);
  self->directory_fingerprint = g_steal_pointer (&fingerprint);
  is_expert = ea_directory_get_expert (self->directory, ea_daemon_get_account (self)) != NULL;

  g_debug ("directory: %u groups", ea_directory_get_groups (self->directory)->len);
  if (self->root != NULL)
    ea_expert_assist_emit_groups_changed (self->root);
  ea_daemon_update_experts (self);
  ea_daemon_subscribe_experts (self);
  if (was_expert != is_expert)
    ea_daemon_send_own_presence (self);
  if (self->roster_loaded)
    ea_daemon_rooms_sync_group_rooms (self);
  g_signal_emit_by_name (self, "directory-changed");
}

static void
load_done (EaDaemon *self, const char *path)
{
  g_hash_table_remove (self->reload_pending, path);
  if (g_hash_table_size (self->reload_pending) == 0)
    ea_daemon_directory_rebuild (self);
}

static void
loaded_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  LoadData *ld = data;
  EaDaemon *self = ld->self;
  g_autofree char *path = ld->path;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  GKeyFile *kf = NULL;

  g_free (ld);

  if (!g_file_load_contents_finish (G_FILE (source), res, &contents, &length, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_object_unref (self);
          return;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          /* Gone (or never there): it no longer adds anything. */
          if (g_hash_table_remove (self->keyfiles, path))
            g_message ("Directory file %s was removed", path);
        }
      else
        g_warning ("Cannot read the directory file %s: %s; keeping what it said before",
                   path, error->message);
      load_done (self, path);
      g_object_unref (self);
      return;
    }

  if (!ea_directory_parse (contents, length, path, &kf, &error))
    {
      g_warning ("Directory file not used: %s%s", error->message,
                 g_hash_table_contains (self->keyfiles, path)
                   ? " (keeping the last good version of this file)" : "");
    }
  else
    {
      g_debug ("directory file %s read", path);
      g_hash_table_replace (self->keyfiles, g_strdup (path), kf);
    }

  load_done (self, path);
  g_object_unref (self);
}

static void
load_path (EaDaemon *self, const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  LoadData *ld = g_new0 (LoadData, 1);

  g_hash_table_add (self->reload_pending, g_strdup (path));
  ld->self = g_object_ref (self);
  ld->path = g_strdup (path);
  g_file_load_contents_async (file, self->cancellable, loaded_cb, ld);
}

static void
changed_cb (GFileMonitor      *monitor,
            GFile             *file,
            GFile             *other,
            GFileMonitorEvent  event,
            gpointer           data)
{
  EaDaemon *self = data;
  const char *path = g_object_get_data (G_OBJECT (monitor), "ea-path");

  switch (event)
    {
    /* Not CREATED: the contents follow, and CHANGES_DONE_HINT with them. */
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
    case G_FILE_MONITOR_EVENT_RENAMED:
      g_debug ("directory file %s changed", path);
      load_path (self, path);
      break;
    default:
      break;
    }
}

static void
watch_source (EaDaemon *self, const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  GFileMonitor *monitor;

  monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (monitor == NULL)
    {
      g_message ("Cannot watch %s for changes: %s", path, error->message);
      return;
    }
  g_object_set_data_full (G_OBJECT (monitor), "ea-path", g_strdup (path), g_free);
  g_signal_connect (monitor, "changed", G_CALLBACK (changed_cb), self);
  g_ptr_array_add (self->monitors, monitor);
}

/* expert-assist/directory.conf in every XDG configuration directory, the
 * system ones from the least important up, the user's last; or the one
 * file of --directory (or the "directory" setting). */
static void
find_sources (EaDaemon *self)
{
  const char * const *dirs;
  guint n;

  if (self->config->directory != NULL)
    {
      g_ptr_array_add (self->directory_paths, g_strdup (self->config->directory));
      return;
    }
  dirs = g_get_system_config_dirs ();
  n = g_strv_length ((char **) dirs);
  for (guint i = n; i > 0; i--)
    g_ptr_array_add (self->directory_paths,
                     g_build_filename (dirs[i - 1], "expert-assist", "directory.conf", NULL));
  g_ptr_array_add (self->directory_paths,
                   g_build_filename (g_get_user_config_dir (), "expert-assist", "directory.conf",
                                     NULL));
}

/**
 * ea_daemon_directory_load_initial:
 *
 * Reads the keyfiles once, before the daemon takes its bus name: the very
 * first call (the one that D-Bus-activated the daemon, say) already sees
 * the groups. Nothing is served yet, so reading here blocks nobody; every
 * later read is asynchronous.
 */
void
ea_daemon_directory_load_initial (EaDaemon *self)
{
  find_sources (self);
  for (guint i = 0; i < self->directory_paths->len; i++)
    {
      const char *path = g_ptr_array_index (self->directory_paths, i);
      g_autofree char *contents = NULL;
      gsize length = 0;
      g_autoptr(GError) error = NULL;
      GKeyFile *kf = NULL;

      if (!g_file_get_contents (path, &contents, &length, &error))
        {
          if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_warning ("Cannot read the directory file %s: %s", path, error->message);
          continue;
        }
      if (!ea_directory_parse (contents, length, path, &kf, &error))
        g_warning ("Directory file not used: %s", error->message);
      else
        g_hash_table_replace (self->keyfiles, g_strdup (path), kf);
    }
  ea_daemon_directory_rebuild (self);
}

/**
 * ea_daemon_directory_start:
 *
 * Watches the keyfiles: each change is read again (asynchronously) and
 * merged.
 */
void
ea_daemon_directory_start (EaDaemon *self)
{
  for (guint i = 0; i < self->directory_paths->len; i++)
    watch_source (self, g_ptr_array_index (self->directory_paths, i));
}
