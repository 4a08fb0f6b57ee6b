/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The daemon of one desktop: the root D-Bus interface, the account and its
 * connection, and the user's wanted presence. Directory and presence live
 * in ea-daemon-directory.c and ea-daemon-presence.c.
 */
#define G_LOG_DOMAIN "ea-daemon"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ea-error.h"
#include "ea-secret.h"
#include "ea-util.h"
#include "ea-daemon-private.h"
#include "ea-daemon-rooms.h"

/* How long a kept stanza is sent again after each fresh session when no
 * answer removes it. */
#define KEPT_TTL_US (5 * 60 * G_USEC_PER_SEC)
#define SEEN_TTL_US (10 * 60 * G_USEC_PER_SEC)
#define MAX_FINAL_OBJECTS 50

#define MAX_STATUS_MESSAGE 1024

enum {
  SIGNAL_DIRECTORY_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (EaDaemon, ea_daemon, G_TYPE_OBJECT)

const char *
ea_daemon_get_account (EaDaemon *self)
{
  return self->config->account ? self->config->account : "";
}

guint
ea_daemon_setting_uint (EaDaemon *self, const char *key, guint fallback)
{
  return self->settings ? g_settings_get_uint (self->settings, key) : fallback;
}

char *
ea_daemon_setting_string (EaDaemon *self, const char *key, const char *fallback)
{
  return self->settings ? g_settings_get_string (self->settings, key) : g_strdup (fallback);
}

GStrv
ea_daemon_masked_fields (EaDaemon *self)
{
  static const char * const fallback[] = { "customer", NULL };

  if (self->settings != NULL)
    return g_settings_get_strv (self->settings, "masked-fields");
  return g_strdupv ((char **) fallback);
}

void
ea_daemon_export_object (EaDaemon *self, EaObjectSkeleton *object)
{
  if (self->manager != NULL)
    g_dbus_object_manager_server_export (self->manager, G_DBUS_OBJECT_SKELETON (object));
}

void
ea_daemon_unexport_object (EaDaemon *self, const char *path)
{
  if (self->manager != NULL)
    g_dbus_object_manager_server_unexport (self->manager, path);
}

static int
kind_index (const char *kind)
{
  if (g_str_equal (kind, "request"))
    return 0;
  if (g_str_equal (kind, "offer"))
    return 1;
  return 2;
}

/**
 * ea_daemon_note_final:
 *
 * Final objects stay exported until more than 50 of a kind exist; then
 * the oldest goes. No timer: this runs when one more becomes final.
 */
void
ea_daemon_note_final (EaDaemon *self, const char *kind, const char *id)
{
  GQueue *q = self->finals[kind_index (kind)];

  if (g_queue_find_custom (q, id, (GCompareFunc) (void (*) (void)) g_strcmp0) == NULL)
    g_queue_push_tail (q, g_strdup (id));

  while (g_queue_get_length (q) > MAX_FINAL_OBJECTS)
    {
      g_autofree char *oldest = g_queue_pop_head (q);

      switch (kind_index (kind))
        {
        case 0:
          ea_daemon_agent_forget (self, oldest);
          break;
        case 1:
          ea_daemon_expert_forget (self, oldest);
          break;
        default:
          ea_daemon_chat_forget (self, oldest);
          break;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Stanzas kept until answered                                         */
/* ------------------------------------------------------------------ */

typedef struct {
  char *key;
  xmpp_stanza_t *stanza;
  gint64 since;
} Kept;

static void
kept_free (gpointer data)
{
  Kept *k = data;

  g_free (k->key);
  xmpp_stanza_release (k->stanza);
  g_free (k);
}

/**
 * ea_daemon_send_kept:
 *
 * libstrophe drops its stream-management queue when a resume fails, so
 * the daemon keeps what must arrive: sent now if connected, sent again
 * (same stanza id: receivers drop duplicates) on every fresh session
 * until ea_daemon_forget_kept() with @key, or for five minutes.
 */
void
ea_daemon_send_kept (EaDaemon *self, xmpp_stanza_t *stanza, const char *key)
{
  Kept *k = g_new0 (Kept, 1);

  if (xmpp_stanza_get_id (stanza) == NULL)
    {
      g_autofree char *id = ea_xmpp_new_id (self->xmpp);

      xmpp_stanza_set_id (stanza, id);
    }
  k->key = g_strdup (key);
  k->stanza = xmpp_stanza_clone (stanza);
  k->since = g_get_monotonic_time ();
  g_queue_push_tail (self->outbox, k);
  ea_xmpp_send (self->xmpp, stanza);
}

void
ea_daemon_forget_kept (EaDaemon *self, const char *key)
{
  GList *l = self->outbox->head;

  while (l != NULL)
    {
      GList *next = l->next;
      Kept *k = l->data;

      if (g_strcmp0 (k->key, key) == 0)
        {
          kept_free (k);
          g_queue_delete_link (self->outbox, l);
        }
      l = next;
    }
}

static void
resend_kept (EaDaemon *self)
{
  gint64 now = g_get_monotonic_time ();
  GList *l = self->outbox->head;
  guint sent = 0;

  while (l != NULL)
    {
      GList *next = l->next;
      Kept *k = l->data;

      if (now - k->since > KEPT_TTL_US)
        {
          kept_free (k);
          g_queue_delete_link (self->outbox, l);
        }
      else
        {
          ea_xmpp_send (self->xmpp, k->stanza);
          sent++;
        }
      l = next;
    }
  if (sent > 0)
    g_debug ("sent %u kept stanzas again", sent);
}

/* A stanza whose handling failed (it could not be logged) may come again
 * and must then count as new. */
void
ea_daemon_forget_seen (EaDaemon *self, const char *from, const char *id)
{
  g_autofree char *bare = ea_jid_bare (from);
  g_autofree char *key = g_strdup_printf ("%s %s", bare, id);

  g_hash_table_remove (self->seen_stanzas, key);
}

/**
 * ea_daemon_redirect_kept:
 *
 * A peer now writes from @new_to (a restarted daemon): what we keep for
 * @old_to goes there, now and on later resends.
 */
void
ea_daemon_redirect_kept (EaDaemon *self, const char *old_to, const char *new_to)
{
  for (GList *l = self->outbox->head; l; l = l->next)
    {
      Kept *k = l->data;

      if (g_strcmp0 (xmpp_stanza_get_to (k->stanza), old_to) != 0)
        continue;
      xmpp_stanza_set_to (k->stanza, new_to);
      ea_xmpp_send (self->xmpp, k->stanza);
    }
}

/**
 * ea_daemon_resend_kept_to:
 *
 * A new resource of @bare appeared (its daemon restarted, say): what we
 * keep for that address goes out again, duplicates being dropped there.
 */
void
ea_daemon_resend_kept_to (EaDaemon *self, const char *bare)
{
  guint sent = 0;

  for (GList *l = self->outbox->head; l; l = l->next)
    {
      Kept *k = l->data;

      if (!ea_jid_equal_bare (xmpp_stanza_get_to (k->stanza), bare))
        continue;
      ea_xmpp_send (self->xmpp, k->stanza);
      sent++;
    }
  if (sent > 0)
    {
      g_autofree char *who = ea_jid_short (bare);

      g_debug ("sent %u kept stanzas again to %s, who is back", sent, who);
    }
}

/**
 * ea_daemon_seen_before:
 *
 * Whether a stanza with this sender and id was handled already (a repeat
 * after a reconnect). Stanzas without an id are never repeats.
 */
gboolean
ea_daemon_seen_before (EaDaemon *self, xmpp_stanza_t *stanza)
{
  const char *id = xmpp_stanza_get_id (stanza);
  const char *from = xmpp_stanza_get_from (stanza);
  g_autofree char *bare = NULL;
  char *key;
  gint64 now = g_get_monotonic_time ();
  gint64 *t;

  if (id == NULL || from == NULL)
    return FALSE;
  bare = ea_jid_bare (from);
  key = g_strdup_printf ("%s %s", bare, id);
  if (g_hash_table_contains (self->seen_stanzas, key))
    {
      g_free (key);
      return TRUE;
    }

  if (g_hash_table_size (self->seen_stanzas) > 4096)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->seen_stanzas);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (now - *(gint64 *) value > SEEN_TTL_US)
          g_hash_table_iter_remove (&iter);
    }
  t = g_new (gint64, 1);
  *t = now;
  g_hash_table_insert (self->seen_stanzas, key, t);
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Wanted presence, kept across restarts                               */
/* ------------------------------------------------------------------ */

static void
load_state (EaDaemon *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *status = NULL;

  self->status = g_strdup ("available");
  self->status_message = g_strdup ("");

  /* Small and local, read once before the main loop serves anything. */
  if (!g_key_file_load_from_file (kf, self->state_path, G_KEY_FILE_NONE, NULL))
    return;
  status = g_key_file_get_string (kf, "Presence", "Status", NULL);
  if (ea_status_is_valid (status))
    {
      g_free (self->status);
      self->status = g_steal_pointer (&status);
    }
  g_free (self->status_message);
  self->status_message = g_key_file_get_string (kf, "Presence", "Message", NULL);
  if (self->status_message == NULL || !g_utf8_validate (self->status_message, -1, NULL))
    {
      g_free (self->status_message);
      self->status_message = g_strdup ("");
    }
}

static void
state_saved_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), res, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Cannot save the presence to %s: %s",
               g_file_peek_path (G_FILE (source)), error->message);
}

void
ea_daemon_save_state (EaDaemon *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GFile) file = g_file_new_for_path (self->state_path);
  g_autoptr(GBytes) bytes = NULL;
  gsize len;
  char *text;

  g_key_file_set_string (kf, "Presence", "Status", self->status);
  g_key_file_set_string (kf, "Presence", "Message", self->status_message);
  text = g_key_file_to_data (kf, &len, NULL);
  bytes = g_bytes_new_take (text, len);
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE,
                                       G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                       self->cancellable, state_saved_cb, NULL);
}

/* ------------------------------------------------------------------ */
/* Retention                                                           */
/* ------------------------------------------------------------------ */

static void
purged_cb (GError *error, gpointer data)
{
  if (error != NULL)
    g_warning ("Cannot delete old entries from the log: %s", error->message);
}

/* At start-up and whenever the setting changes; never on a timer. */
static void
purge_old (EaDaemon *self)
{
  guint days = ea_daemon_setting_uint (self, "retention-days", 0);

  if (self->store == NULL || days == 0)
    return;
  g_debug ("keeping %u days of log", days);
  ea_store_purge (self->store, days, purged_cb, NULL);
}

static void
retention_changed_cb (GSettings *settings, const char *key, gpointer data)
{
  purge_old (EA_DAEMON (data));
}

/* ------------------------------------------------------------------ */
/* The connection                                                      */
/* ------------------------------------------------------------------ */

static void
sync_connection_properties (EaDaemon *self)
{
  if (self->root == NULL)
    return;
  ea_expert_assist_set_connection_state (self->root, ea_xmpp_get_state_name (self->xmpp));
  ea_expert_assist_set_connection_error (self->root, ea_xmpp_get_error (self->xmpp));
  ea_expert_assist_set_account (self->root, ea_daemon_get_account (self));
}

static void
xmpp_state_cb (GObject *object, GParamSpec *pspec, gpointer data)
{
  sync_connection_properties (EA_DAEMON (data));
}

static void
session_started_cb (EaXmpp *xmpp, gboolean resumed, gpointer data)
{
  EaDaemon *self = EA_DAEMON (data);

  ea_daemon_presence_session_started (self, resumed);
  ea_daemon_rooms_session_started (self, resumed);
  ea_daemon_agent_session_started (self, resumed);
  ea_daemon_expert_session_started (self, resumed);
  ea_daemon_chat_session_started (self, resumed);
  if (!resumed)
    resend_kept (self);
}

static void
stanza_cb (EaXmpp *xmpp, gpointer stanza, gpointer data)
{
  EaDaemon *self = data;

  if (ea_daemon_rooms_handle_stanza (self, stanza) ||
      ea_daemon_presence_handle_stanza (self, stanza) ||
      ea_daemon_expert_handle_stanza (self, stanza) ||
      ea_daemon_agent_handle_stanza (self, stanza) ||
      ea_daemon_chat_handle_stanza (self, stanza))
    return;
}

static void
got_password (EaDaemon *self, const char *password)
{
  ea_xmpp_configure (self->xmpp, self->config->account, password,
                     self->config->host, self->config->port, self->config->tls);
  if (g_strcmp0 (self->status, "offline") != 0)
    ea_xmpp_start (self->xmpp);
}

static void
password_done (EaDaemon *self, char *password, GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->credentials_pending = FALSE;

  if (password == NULL)
    {
      g_warning ("%s", error->message);
      ea_xmpp_set_error (self->xmpp, EA_XMPP_ERROR, error->message);
      return;
    }
  got_password (self, password);
  ea_secret_free (password);
}

static void
password_file_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(EaDaemon) self = data;
  g_autoptr(GError) error = NULL;
  char *password = ea_password_file_read_finish (res, &error);

  password_done (self, password, error);
}

static void
keyring_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(EaDaemon) self = data;
  g_autoptr(GError) error = NULL;
  char *password = ea_secret_lookup_finish (res, &error);

  password_done (self, password, error);
}

/* Checks the account, then fetches the password (file or keyring) and
 * connects. Problems that retrying cannot fix become ConnectionState
 * "error" with a message saying what to do. */
static void
connect_account (EaDaemon *self)
{
  if (self->config->account == NULL)
    {
      ea_xmpp_set_error (self->xmpp, EA_XMPP_ERROR,
                         _("No account is configured. Set one with SetAccount, "
                           "“expert-assist login” or --account."));
      return;
    }

  if (self->config->tls == EA_TLS_NONE)
    {
      g_autofree char *domain = ea_jid_domain (self->config->account);
      const char *host = self->config->host ? self->config->host : domain;

      if (!ea_host_is_loopback (host))
        {
          g_autofree char *msg =
            g_strdup_printf (_("Refusing to send the password in the clear to %s: "
                               "--tls=none is only for a server on this machine."), host);

          ea_xmpp_set_error (self->xmpp, EA_XMPP_ERROR, msg);
          return;
        }
    }

  if (self->credentials_pending)
    return;
  self->credentials_pending = TRUE;
  if (self->config->password_file != NULL)
    ea_password_file_read (self->config->password_file, self->cancellable, password_file_cb,
                           g_object_ref (self));
  else
    ea_secret_lookup (self->config->account, self->cancellable, keyring_cb,
                      g_object_ref (self));
}

/* ------------------------------------------------------------------ */
/* D-Bus: groups and experts                                           */
/* ------------------------------------------------------------------ */

static const char *
group_strategy (EaDaemon *self, EaDirGroup *g, char **tmp)
{
  if (g->strategy != NULL)
    return g->strategy;
  *tmp = self->settings ? g_settings_get_string (self->settings, "default-mode")
                        : g_strdup ("parallel");
  return *tmp;
}

static guint
group_offer_timeout (EaDaemon *self, EaDirGroup *g)
{
  if (g->offer_timeout != 0)
    return g->offer_timeout;
  return self->settings ? g_settings_get_uint (self->settings, "default-offer-timeout") : 30;
}

static guint
group_expire (EaDaemon *self, EaDirGroup *g)
{
  if (g->expire != 0)
    return g->expire;
  return self->settings ? g_settings_get_uint (self->settings, "default-expire") : 180;
}

static gboolean
lookup_open_group (EaDaemon      *self,
                   const char    *id,
                   EaDirGroup   **out,
                   GError       **error)
{
  EaDirGroup *g = ea_directory_get_group (self->directory, id);

  if (g == NULL)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_NOT_FOUND,
                   _("There is no expert group “%s”. ListGroups shows the groups."), id);
      return FALSE;
    }
  if (!ea_directory_group_is_open (self->directory, g, ea_daemon_get_account (self)))
    {
      g_set_error (error, EA_ERROR, EA_ERROR_PERMISSION_DENIED,
                   _("The directory does not let you ask the group “%s”. Ask your "
                     "administrator to add it to your [Agent] section."), id);
      return FALSE;
    }
  *out = g;
  return TRUE;
}

static gboolean
handle_list_groups (EaExpertAssist        *root,
                    GDBusMethodInvocation *invocation,
                    gpointer               data)
{
  EaDaemon *self = data;
  g_autoptr(GPtrArray) open = ea_directory_open_groups (self->directory,
                                                        ea_daemon_get_account (self));
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ssuua{sv})"));
  for (guint i = 0; i < open->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (open, i);
      g_autofree char *tmp = NULL;
      GVariantBuilder extra;
      guint interruptible = 0;

      for (guint j = 0; j < g->experts->len; j++)
        {
          EaDirExpert *e = ea_directory_get_expert (self->directory,
                                                    g_ptr_array_index (g->experts, j));

          if (ea_daemon_is_interruptible (self, e, g))
            interruptible++;
        }

      g_variant_builder_init (&extra, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&extra, "{sv}", "description",
                             g_variant_new_string (g->description ? g->description : ""));
      g_variant_builder_add (&extra, "{sv}", "address",
                             g_variant_new_string (g->address ? g->address : ""));
      g_variant_builder_add (&extra, "{sv}", "strategy",
                             g_variant_new_string (group_strategy (self, g, &tmp)));
      g_variant_builder_add (&extra, "{sv}", "order",
                             g_variant_new_string (g->order ? g->order : "priority"));
      g_variant_builder_add (&extra, "{sv}", "offer-timeout",
                             g_variant_new_uint32 (group_offer_timeout (self, g)));
      g_variant_builder_add (&extra, "{sv}", "expire",
                             g_variant_new_uint32 (group_expire (self, g)));
      g_variant_builder_add (&extra, "{sv}", "fallback",
                             g_variant_new_string (g->fallback ? g->fallback : ""));
      g_variant_builder_add (&b, "(ssuu@a{sv})", g->id, g->name, interruptible,
                             g->experts->len, g_variant_builder_end (&extra));
    }

  ea_expert_assist_complete_list_groups (root, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static char *
expert_display_name (EaDaemon *self, EaDirExpert *e)
{
  EaContact *c;

  if (e->name != NULL)
    return g_strdup (e->name);
  c = ea_roster_lookup (self->roster, e->address);
  if (c != NULL && c->name != NULL && *c->name != '\0')
    return g_strdup (c->name);
  return ea_jid_localpart (e->address);
}

static GVariant *
strv_variant (GPtrArray *array)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; array && i < array->len; i++)
    g_variant_builder_add (&b, "s", (const char *) g_ptr_array_index (array, i));
  return g_variant_builder_end (&b);
}

static void
add_expert_entry (EaDaemon *self, GVariantBuilder *b, EaDirExpert *e, GPtrArray *groups)
{
  g_autofree char *name = expert_display_name (self, e);
  GVariantBuilder extra, levels;
  gboolean interruptible = FALSE;

  for (guint i = 0; i < groups->len && !interruptible; i++)
    {
      EaDirGroup *g = g_ptr_array_index (groups, i);

      interruptible = ea_dir_group_has_expert (g, e->address) &&
                      ea_daemon_is_interruptible (self, e, g);
    }

  g_variant_builder_init (&levels, G_VARIANT_TYPE ("a{su}"));
  for (guint i = 0; i < e->skills->len; i++)
    {
      const char *skill = g_ptr_array_index (e->skills, i);

      g_variant_builder_add (&levels, "{su}", skill, ea_dir_expert_skill_level (e, skill));
    }

  g_variant_builder_init (&extra, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&extra, "{sv}", "interruptible", g_variant_new_boolean (interruptible));
  g_variant_builder_add (&extra, "{sv}", "skills", strv_variant (e->skills));
  g_variant_builder_add (&extra, "{sv}", "skill-levels", g_variant_builder_end (&levels));
  g_variant_builder_add (&extra, "{sv}", "languages",
                         g_variant_new_strv ((const char * const *) e->languages,
                                             e->languages ? -1 : 0));
  g_variant_builder_add (&extra, "{sv}", "level", g_variant_new_uint32 (e->level));
  g_variant_builder_add (&extra, "{sv}", "sessions",
                         g_variant_new_uint32 (ea_daemon_expert_sessions (self, e->address)));
  g_variant_builder_add (&extra, "{sv}", "max-sessions", g_variant_new_uint32 (e->max_sessions));
  g_variant_builder_add (&extra, "{sv}", "priority", g_variant_new_uint32 (e->priority));
  g_variant_builder_add (b, "(sss@a{sv})", e->address, name,
                         ea_daemon_expert_status (self, e->address),
                         g_variant_builder_end (&extra));
}

static gboolean
handle_list_experts (EaExpertAssist        *root,
                     GDBusMethodInvocation *invocation,
                     const char            *group,
                     gpointer               data)
{
  EaDaemon *self = data;
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  GVariantBuilder b;

  if (*group == '\0')
    groups = ea_directory_open_groups (self->directory, ea_daemon_get_account (self));
  else
    {
      EaDirGroup *g;

      if (!lookup_open_group (self, group, &g, &error))
        {
          g_dbus_method_invocation_return_gerror (invocation, error);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
      groups = g_ptr_array_new ();
      g_ptr_array_add (groups, g);
    }

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sssa{sv})"));
  for (guint i = 0; i < groups->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (groups, i);

      for (guint j = 0; j < g->experts->len; j++)
        {
          const char *address = g_ptr_array_index (g->experts, j);
          EaDirExpert *e = ea_directory_get_expert (self->directory, address);

          if (e != NULL && g_hash_table_add (seen, (gpointer) address))
            add_expert_entry (self, &b, e, groups);
        }
    }

  ea_expert_assist_complete_list_experts (root, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static int
compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static int
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (*(gpointer *) a), y = GPOINTER_TO_UINT (*(gpointer *) b);

  return x < y ? -1 : x > y;
}

static GPtrArray *
set_keys (GHashTable *set)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  return keys;
}

static GVariant *
sorted_set (GHashTable *set)
{
  g_autoptr(GPtrArray) list = set_keys (set);

  g_ptr_array_sort (list, compare_str);
  return strv_variant (list);
}

static gboolean
handle_get_preference_options (EaExpertAssist        *root,
                               GDBusMethodInvocation *invocation,
                               gpointer               data)
{
  EaDaemon *self = data;
  g_autoptr(GPtrArray) open = ea_directory_open_groups (self->directory,
                                                        ea_daemon_get_account (self));
  g_autoptr(GHashTable) skills = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) languages = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) levels = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) level_list = NULL;
  GVariantBuilder b, lb;

  for (guint i = 0; i < open->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (open, i);

      for (guint j = 0; j < g->experts->len; j++)
        {
          EaDirExpert *e = ea_directory_get_expert (self->directory,
                                                    g_ptr_array_index (g->experts, j));

          if (e == NULL)
            continue;
          g_hash_table_add (levels, GUINT_TO_POINTER (e->level));
          for (guint k = 0; k < e->skills->len; k++)
            {
              const char *skill = g_ptr_array_index (e->skills, k);

              g_hash_table_add (skills, (gpointer) skill);
              g_hash_table_add (levels, GUINT_TO_POINTER (ea_dir_expert_skill_level (e, skill)));
            }
          for (guint k = 0; e->languages && e->languages[k]; k++)
            g_hash_table_add (languages, e->languages[k]);
        }
    }

  level_list = set_keys (levels);
  g_ptr_array_sort (level_list, compare_uint);
  g_variant_builder_init (&lb, G_VARIANT_TYPE ("au"));
  for (guint i = 0; i < level_list->len; i++)
    g_variant_builder_add (&lb, "u", GPOINTER_TO_UINT (g_ptr_array_index (level_list, i)));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "skills", sorted_set (skills));
  g_variant_builder_add (&b, "{sv}", "languages", sorted_set (languages));
  g_variant_builder_add (&b, "{sv}", "levels", g_variant_builder_end (&lb));
  g_variant_builder_add (&b, "{sv}", "modes", g_variant_new_strv (ea_modes, -1));
  g_variant_builder_add (&b, "{sv}", "orders", g_variant_new_strv (ea_orders, -1));

  ea_expert_assist_complete_get_preference_options (root, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ------------------------------------------------------------------ */
/* D-Bus: own presence and account                                     */
/* ------------------------------------------------------------------ */

static gboolean
handle_set_status (EaExpertAssist        *root,
                   GDBusMethodInvocation *invocation,
                   const char            *status,
                   const char            *message,
                   gpointer               data)
{
  EaDaemon *self = data;
  gboolean was_offline;

  if (!ea_status_is_valid (status))
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_INVALID_ARGS,
                                             _("“%s” is not a status: use available, chat, "
                                               "away, xa, dnd or offline."), status);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (strlen (message) > MAX_STATUS_MESSAGE)
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_INVALID_ARGS,
                                             _("The status message is longer than %d bytes."),
                                             MAX_STATUS_MESSAGE);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  was_offline = g_strcmp0 (self->status, "offline") == 0;
  g_free (self->status);
  self->status = g_strdup (status);
  g_free (self->status_message);
  self->status_message = g_strdup (message);
  ea_expert_assist_set_status (root, status);
  ea_expert_assist_set_status_message (root, message);
  ea_daemon_save_state (self);

  if (g_str_equal (status, "offline"))
    ea_xmpp_stop (self->xmpp);
  else if (ea_xmpp_is_connected (self->xmpp))
    ea_daemon_send_own_presence (self);
  else if (was_offline)
    {
      if (ea_xmpp_get_jid (self->xmpp) != NULL)
        ea_xmpp_start (self->xmpp);
      else
        connect_account (self);
    }

  ea_expert_assist_complete_set_status (root, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
  EaDaemon *self;
  GDBusMethodInvocation *invocation;
  char *account;
  char *server;
  char *host;
  guint16 port;
  char *password;
} SetAccountData;

static void
set_account_data_free (SetAccountData *d)
{
  g_object_unref (d->self);
  g_object_unref (d->invocation);
  g_free (d->account);
  g_free (d->server);
  g_free (d->host);
  ea_secret_free (d->password);
  g_free (d);
}

static void
stored_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SetAccountData *d = data;
  EaDaemon *self = d->self;
  g_autoptr(GError) error = NULL;

  if (!ea_secret_store_finish (res, &error))
    {
      g_dbus_method_invocation_return_gerror (d->invocation, error);
      set_account_data_free (d);
      return;
    }

  if (self->settings != NULL)
    {
      g_settings_set_string (self->settings, "account", d->account);
      g_settings_set_string (self->settings, "server", d->host ? d->host : "");
      g_settings_set_uint (self->settings, "port", d->port);
    }

  g_free (self->config->account);
  self->config->account = g_strdup (d->account);
  g_free (self->config->host);
  self->config->host = g_strdup (d->host);
  self->config->port = d->port;
  /* From now on the keyring is where the password comes from. */
  g_clear_pointer (&self->config->password_file, g_free);

  got_password (self, d->password);
  sync_connection_properties (self);
  ea_daemon_directory_rebuild (self);

  ea_expert_assist_complete_set_account (self->root, d->invocation);
  set_account_data_free (d);
}

static gboolean
handle_set_account (EaExpertAssist        *root,
                    GDBusMethodInvocation *invocation,
                    const char            *address,
                    const char            *server,
                    const char            *password,
                    gpointer               data)
{
  EaDaemon *self = data;
  g_autoptr(GError) error = NULL;
  SetAccountData *d;
  g_autofree char *host = NULL;
  guint16 port = 0;

  if (!ea_jid_is_valid_bare (address))
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_INVALID_ARGS,
                                             _("“%s” is not an XMPP address like "
                                               "name@example.org."), address);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!ea_parse_server (server, &host, &port, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (*password == '\0')
    {
      g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_INVALID_ARGS,
                                                     _("The password is empty."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  d = g_new0 (SetAccountData, 1);
  d->self = g_object_ref (self);
  d->invocation = g_object_ref (invocation);
  d->account = ea_jid_bare (address);
  d->host = g_steal_pointer (&host);
  d->port = port;
  d->password = g_strdup (password);
  ea_secret_store (d->account, d->password, self->cancellable, stored_cb, d);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ------------------------------------------------------------------ */
/* D-Bus: what the routing and the record will answer                  */
/* ------------------------------------------------------------------ */

static gboolean
handle_request_help (EaExpertAssist        *root,
                     GDBusMethodInvocation *invocation,
                     const char            *group,
                     GVariant              *query,
                     GVariant              *options,
                     gpointer               data)
{
  return ea_daemon_agent_request_help (EA_DAEMON (data), invocation, group, query, options);
}

/* The record's reads: each a store query, answered when it is done. */
static void
store_reply_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GDBusMethodInvocation *invocation = data;
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  g_autoptr(GError) error = NULL;
  GVariant *result;

  if (g_str_equal (method, "SearchLog"))
    result = ea_store_search_finish (EA_STORE (source), res, &error);
  else if (g_str_equal (method, "FindSimilar"))
    result = ea_store_find_similar_finish (EA_STORE (source), res, &error);
  else if (g_str_equal (method, "GetStatistics"))
    result = ea_store_statistics_finish (EA_STORE (source), res, &error);
  else
    result = ea_store_get_transcript_finish (EA_STORE (source), res, &error);

  if (result == NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else if (g_variant_is_of_type (result, G_VARIANT_TYPE_TUPLE))
    g_dbus_method_invocation_return_value (invocation, result);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new_tuple (&result, 1));
}

static gboolean
no_store (EaDaemon *self, GDBusMethodInvocation *invocation)
{
  if (self->store != NULL)
    return FALSE;
  g_dbus_method_invocation_return_error_literal (invocation, EA_ERROR, EA_ERROR_FAILED,
                                                 _("The log is not available."));
  return TRUE;
}

static gboolean
handle_search_log (EaExpertAssist *root, GDBusMethodInvocation *invocation,
                   const char *text, GVariant *filter, gpointer data)
{
  EaDaemon *self = data;

  if (!no_store (self, invocation))
    ea_store_search (self->store, text, filter, NULL, store_reply_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_find_similar (EaExpertAssist *root, GDBusMethodInvocation *invocation,
                     const char *summary, guint limit, gpointer data)
{
  EaDaemon *self = data;

  if (!no_store (self, invocation))
    ea_store_find_similar (self->store, summary, limit, NULL, store_reply_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_statistics (EaExpertAssist *root, GDBusMethodInvocation *invocation,
                       GVariant *filter, gpointer data)
{
  EaDaemon *self = data;

  if (!no_store (self, invocation))
    ea_store_statistics (self->store, filter, NULL, store_reply_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_transcript (EaExpertAssist *root, GDBusMethodInvocation *invocation,
                       const char *session, gpointer data)
{
  EaDaemon *self = data;

  if (!ea_id_is_valid (session))
    {
      g_dbus_method_invocation_return_error (invocation, EA_ERROR, EA_ERROR_NOT_FOUND,
                                             _("There is no session “%s” in the log."), session);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!no_store (self, invocation))
    ea_store_get_transcript (self->store, session, NULL, store_reply_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

EaDaemon *
ea_daemon_new (const EaOptions *options, GError **error)
{
  g_autoptr(EaDaemon) self = g_object_new (EA_TYPE_DAEMON, NULL);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, EA_APP_ID, TRUE);
  if (schema != NULL)
    self->settings = g_settings_new (EA_APP_ID);
  else
    g_message ("The GSettings schema %s is not installed; using built-in defaults", EA_APP_ID);

  self->options.account = g_strdup (options->account);
  self->options.server = g_strdup (options->server);
  self->options.password_file = g_strdup (options->password_file);
  self->options.directory = g_strdup (options->directory);
  self->options.data_dir = g_strdup (options->data_dir);
  self->options.tls = g_strdup (options->tls);

  self->config = ea_config_resolve (&self->options, self->settings, error);
  if (self->config == NULL)
    return NULL;

  if (g_mkdir_with_parents (self->config->data_dir, 0700) != 0)
    {
      int err = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   _("Cannot create the data directory %s: %s"),
                   self->config->data_dir, g_strerror (err));
      return NULL;
    }
  self->state_path = g_build_filename (self->config->data_dir, "state.ini", NULL);
  load_state (self);
  self->store = ea_store_new (self->config->data_dir);
  purge_old (self);
  if (self->settings != NULL)
    g_signal_connect (self->settings, "changed::retention-days",
                      G_CALLBACK (retention_changed_cb), self);

  return g_steal_pointer (&self);
}

/* Exports the root interface and the object manager before the bus name is
 * requested, so nobody sees the name without the objects. */
gboolean
ea_daemon_export (EaDaemon *self, GDBusConnection *connection, GError **error)
{
  self->connection = g_object_ref (connection);
  ea_daemon_directory_load_initial (self);

  self->root = ea_expert_assist_skeleton_new ();
  ea_expert_assist_set_status (self->root, self->status);
  ea_expert_assist_set_status_message (self->root, self->status_message);
  sync_connection_properties (self);

  g_signal_connect (self->root, "handle-list-groups", G_CALLBACK (handle_list_groups), self);
  g_signal_connect (self->root, "handle-list-experts", G_CALLBACK (handle_list_experts), self);
  g_signal_connect (self->root, "handle-get-preference-options",
                    G_CALLBACK (handle_get_preference_options), self);
  g_signal_connect (self->root, "handle-request-help", G_CALLBACK (handle_request_help), self);
  g_signal_connect (self->root, "handle-set-status", G_CALLBACK (handle_set_status), self);
  g_signal_connect (self->root, "handle-search-log", G_CALLBACK (handle_search_log), self);
  g_signal_connect (self->root, "handle-find-similar", G_CALLBACK (handle_find_similar), self);
  g_signal_connect (self->root, "handle-get-statistics", G_CALLBACK (handle_get_statistics), self);
  g_signal_connect (self->root, "handle-get-transcript", G_CALLBACK (handle_get_transcript), self);
  g_signal_connect (self->root, "handle-set-account", G_CALLBACK (handle_set_account), self);

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->root), connection,
                                         EA_DBUS_PATH, error))
    return FALSE;

  self->manager = g_dbus_object_manager_server_new (EA_DBUS_PATH);
  g_dbus_object_manager_server_set_connection (self->manager, connection);
  ea_daemon_expert_export (self);
  return TRUE;
}

void
ea_daemon_unexport (EaDaemon *self)
{
  if (self->manager != NULL)
    g_dbus_object_manager_server_set_connection (self->manager, NULL);
  if (self->root != NULL &&
      g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->root)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->root));
}

static void
unfinished_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(EaDaemon) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) rows = ea_store_load_unfinished_finish (EA_STORE (source), res, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (rows == NULL)
    g_warning ("Cannot read what was open when the daemon last stopped: %s", error->message);
  else
    {
      g_autoptr(GVariant) requests = g_variant_lookup_value (rows, "requests", NULL);
      g_autoptr(GVariant) offers = g_variant_lookup_value (rows, "offers", NULL);
      g_autoptr(GVariant) sessions = g_variant_lookup_value (rows, "sessions", NULL);

      ea_daemon_chat_restore (self, sessions);
      ea_daemon_agent_restore (self, requests);
      ea_daemon_expert_restore (self, offers);
    }
  self->restored = TRUE;
  connect_account (self);
}

void
ea_daemon_start (EaDaemon *self)
{
  ea_daemon_directory_start (self);
  /* What was open when the daemon last stopped comes back first. */
  if (self->store != NULL)
    ea_store_load_unfinished (self->store, self->cancellable, unfinished_cb, g_object_ref (self));
  else
    connect_account (self);
}

void
ea_daemon_set_application (EaDaemon *self, GApplication *app)
{
  self->app = app;
}

void
ea_daemon_accept_offer (EaDaemon *self, const char *offer_id)
{
  ea_daemon_expert_accept_action (self, offer_id);
}

void
ea_daemon_decline_offer (EaDaemon *self, const char *offer_id)
{
  ea_daemon_expert_decline_action (self, offer_id);
}

void
ea_daemon_shutdown (EaDaemon *self)
{
  g_cancellable_cancel (self->cancellable);
  if (self->xmpp != NULL)
    ea_xmpp_stop (self->xmpp);
}

static void
ea_daemon_dispose (GObject *object)
{
  EaDaemon *self = EA_DAEMON (object);

  g_cancellable_cancel (self->cancellable);
  /* The connection first: its pending iq callbacks still see a whole daemon. */
  if (self->xmpp != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->xmpp, self);
      g_clear_object (&self->xmpp);
    }
  if (self->outbox != NULL)
    {
      g_queue_free_full (self->outbox, kept_free);
      self->outbox = NULL;
    }
  ea_daemon_chat_dispose (self);
  ea_daemon_agent_dispose (self);
  ea_daemon_expert_dispose (self);
  ea_daemon_rooms_dispose (self);
  ea_daemon_unexport (self);
  g_clear_object (&self->manager);
  g_clear_object (&self->root);
  g_clear_object (&self->connection);
  ea_daemon_directory_dispose (self);
  ea_daemon_presence_dispose (self);
  g_clear_object (&self->store);
  g_clear_pointer (&self->seen_stanzas, g_hash_table_unref);
  for (guint i = 0; i < G_N_ELEMENTS (self->finals); i++)
    if (self->finals[i] != NULL)
      {
        g_queue_free_full (self->finals[i], g_free);
        self->finals[i] = NULL;
      }
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (ea_daemon_parent_class)->dispose (object);
}

static void
ea_daemon_finalize (GObject *object)
{
  EaDaemon *self = EA_DAEMON (object);

  ea_options_clear (&self->options);
  ea_config_free (self->config);
  g_free (self->status);
  g_free (self->status_message);
  g_free (self->state_path);

  G_OBJECT_CLASS (ea_daemon_parent_class)->finalize (object);
}

static void
ea_daemon_class_init (EaDaemonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ea_daemon_dispose;
  object_class->finalize = ea_daemon_finalize;

  /**
   * EaDaemon::directory-changed:
   *
   * The merged directory was replaced by one that differs.
   */
  signals[SIGNAL_DIRECTORY_CHANGED] =
    g_signal_new ("directory-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ea_daemon_init (EaDaemon *self)
{
  self->cancellable = g_cancellable_new ();
  self->xmpp = ea_xmpp_new ();
  ea_daemon_directory_init (self);
  ea_daemon_presence_init (self);
  ea_daemon_rooms_init (self);
  ea_daemon_agent_init (self);
  ea_daemon_expert_init (self);
  ea_daemon_chat_init (self);
  self->outbox = g_queue_new ();
  self->seen_stanzas = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->finals); i++)
    self->finals[i] = g_queue_new ();

  g_signal_connect (self->xmpp, "notify::state", G_CALLBACK (xmpp_state_cb), self);
  g_signal_connect (self->xmpp, "notify::error", G_CALLBACK (xmpp_state_cb), self);
  g_signal_connect (self->xmpp, "session-started", G_CALLBACK (session_started_cb), self);
  g_signal_connect (self->xmpp, "stanza", G_CALLBACK (stanza_cb), self);
}
