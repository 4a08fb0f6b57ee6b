/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The expert directory: which experts are in which group, what they know,
 * and which groups each agent may ask. Built from keyfiles (administrators'
 * first, the user's last) and the server's shared roster groups, merged:
 * a later source adds members to a group and overrides scalar keys, it
 * never removes members. A built directory is immutable and refcounted,
 * so a reload swaps it whole.
 */
#define G_LOG_DOMAIN "ea-directory"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "ea-error.h"
#include "ea-util.h"
#include "ea-directory.h"

const char * const ea_modes[] = { "parallel", "serial", "progressive", "room", NULL };
const char * const ea_orders[] = { "priority", "longest-idle", "fewest-sessions",
                                   "round-robin", "random", NULL };

struct _EaDirectory {
  gatomicrefcount ref;
  char *roster_prefix;
  GHashTable *groups;   /* id → EaDirGroup */
  GPtrArray *sorted;    /* EaDirGroup, by id */
  GHashTable *experts;  /* address → EaDirExpert */
  GHashTable *agents;   /* address → EaDirAgent */
};

struct _EaDirectoryBuilder {
  EaDirectory *dir;
};

static void
dir_group_free (gpointer data)
{
  EaDirGroup *g = data;

  g_free (g->id);
  g_free (g->name);
  g_free (g->description);
  g_free (g->address);
  g_free (g->strategy);
  g_free (g->order);
  g_free (g->fallback);
  g_strfreev (g->interruptible);
  g_ptr_array_unref (g->experts);
  g_free (g);
}

static void
dir_expert_free (gpointer data)
{
  EaDirExpert *e = data;

  g_free (e->address);
  g_free (e->name);
  g_ptr_array_unref (e->skills);
  g_hash_table_unref (e->skill_levels);
  g_strfreev (e->languages);
  g_free (e);
}

static void
dir_agent_free (gpointer data)
{
  EaDirAgent *a = data;

  g_free (a->address);
  g_ptr_array_unref (a->groups);
  g_free (a);
}

EaDirectory *
ea_directory_new_empty (void)
{
  EaDirectory *self = g_new0 (EaDirectory, 1);

  g_atomic_ref_count_init (&self->ref);
  self->roster_prefix = g_strdup (EA_DEFAULT_ROSTER_PREFIX);
  self->groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, dir_group_free);
  self->sorted = g_ptr_array_new ();
  self->experts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, dir_expert_free);
  self->agents = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, dir_agent_free);
  return self;
}

EaDirectory *
ea_directory_ref (EaDirectory *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
ea_directory_unref (EaDirectory *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  g_ptr_array_unref (self->sorted);
  g_hash_table_unref (self->groups);
  g_hash_table_unref (self->experts);
  g_hash_table_unref (self->agents);
  g_free (self->roster_prefix);
  g_free (self);
}

const char *
ea_directory_get_roster_prefix (EaDirectory *self)
{
  return self->roster_prefix;
}

/* Groups sorted by id. */
GPtrArray *
ea_directory_get_groups (EaDirectory *self)
{
  return self->sorted;
}

EaDirGroup *
ea_directory_get_group (EaDirectory *self, const char *id)
{
  if (id == NULL)
    return NULL;
  return g_hash_table_lookup (self->groups, id);
}

EaDirExpert *
ea_directory_get_expert (EaDirectory *self, const char *address)
{
  g_autofree char *bare = ea_jid_bare (address);

  if (bare == NULL)
    return NULL;
  return g_hash_table_lookup (self->experts, bare);
}

/* Every expert of every group, sorted by address. */
static int
compare_experts (gconstpointer a, gconstpointer b)
{
  return strcmp (((const EaDirExpert *) a)->address, ((const EaDirExpert *) b)->address);
}

GList *
ea_directory_get_experts (EaDirectory *self)
{
  return g_list_sort (g_hash_table_get_values (self->experts), compare_experts);
}

EaDirAgent *
ea_directory_get_agent (EaDirectory *self, const char *address)
{
  g_autofree char *bare = ea_jid_bare (address);

  if (bare == NULL)
    return NULL;
  return g_hash_table_lookup (self->agents, bare);
}

gboolean
ea_directory_has_agents (EaDirectory *self)
{
  return g_hash_table_size (self->agents) > 0;
}

gboolean
ea_directory_is_listed (EaDirectory *self, const char *address)
{
  return ea_directory_get_expert (self, address) != NULL ||
         ea_directory_get_agent (self, address) != NULL;
}

gboolean
ea_dir_group_has_expert (EaDirGroup *group, const char *address)
{
  g_autofree char *bare = ea_jid_bare (address);

  for (guint i = 0; i < group->experts->len; i++)
    if (g_strcmp0 (g_ptr_array_index (group->experts, i), bare) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ea_dir_group_interrupts_on (EaDirGroup *group, const char *status)
{
  static const char * const fallback[] = { "available", "chat", NULL };
  const char * const *list = group && group->interruptible
                               ? (const char * const *) group->interruptible
                               : fallback;

  return status != NULL && g_strv_contains (list, status);
}

/* The level a request's "level" is checked against for @skill: the skill's
 * own level when the directory gives one, else the expert's Level. */
guint
ea_dir_expert_skill_level (EaDirExpert *expert, const char *skill)
{
  gpointer level;

  if (g_hash_table_lookup_extended (expert->skill_levels, skill, NULL, &level))
    return GPOINTER_TO_UINT (level);
  return expert->level;
}

/* A user with an [Agent] section may ask the groups it lists; a user
 * without one may ask every group. */
gboolean
ea_directory_group_is_open (EaDirectory *self, EaDirGroup *group, const char *user)
{
  EaDirAgent *agent = ea_directory_get_agent (self, user);

  if (group == NULL)
    return FALSE;
  if (agent == NULL)
    return TRUE;
  for (guint i = 0; i < agent->groups->len; i++)
    if (g_strcmp0 (g_ptr_array_index (agent->groups, i), group->id) == 0)
      return TRUE;
  return FALSE;
}

GPtrArray *
ea_directory_open_groups (EaDirectory *self, const char *user)
{
  GPtrArray *open = g_ptr_array_new ();

  for (guint i = 0; i < self->sorted->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (self->sorted, i);

      if (ea_directory_group_is_open (self, g, user))
        g_ptr_array_add (open, g);
    }
  return open;
}

GPtrArray *
ea_directory_groups_of_expert (EaDirectory *self, const char *address, gboolean keyfile_only)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < self->sorted->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (self->sorted, i);

      if (keyfile_only && !g->in_keyfile)
        continue;
      if (ea_dir_group_has_expert (g, address))
        g_ptr_array_add (out, g);
    }
  return out;
}

static void
append_strv (GString *s, const char *key, const char * const *v)
{
  g_string_append_printf (s, "%s=", key);
  for (; v && *v; v++)
    g_string_append_printf (s, "%s;", *v);
  g_string_append_c (s, '\n');
}

static void
append_array (GString *s, const char *key, GPtrArray *a)
{
  g_string_append_printf (s, "%s=", key);
  for (guint i = 0; a && i < a->len; i++)
    g_string_append_printf (s, "%s;", (const char *) g_ptr_array_index (a, i));
  g_string_append_c (s, '\n');
}

/* A canonical text of everything clients can see, to tell whether a reload
 * changed anything (GroupsChanged is only emitted then). */
char *
ea_directory_fingerprint (EaDirectory *self)
{
  GString *s = g_string_new (NULL);
  g_autoptr(GList) experts = ea_directory_get_experts (self);
  g_autoptr(GList) agents = g_list_sort (g_hash_table_get_keys (self->agents),
                                         (GCompareFunc) (void (*) (void)) strcmp);

  g_string_append_printf (s, "prefix=%s\n", self->roster_prefix);
  for (guint i = 0; i < self->sorted->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (self->sorted, i);

      g_string_append_printf (s, "[g %s]\nname=%s\ndesc=%s\naddr=%s\nstrategy=%s\n"
                                 "order=%s\nfallback=%s\nto=%u\nexpire=%u\nkf=%d\n",
                              g->id, g->name, g->description ? g->description : "",
                              g->address ? g->address : "", g->strategy ? g->strategy : "",
                              g->order ? g->order : "", g->fallback ? g->fallback : "",
                              g->offer_timeout, g->expire, g->in_keyfile);
      append_strv (s, "int", (const char * const *) g->interruptible);
      append_array (s, "experts", g->experts);
    }
  for (GList *l = experts; l; l = l->next)
    {
      EaDirExpert *e = l->data;

      g_string_append_printf (s, "[e %s]\nname=%s\nlevel=%u\nmax=%u\nprio=%u\n",
                              e->address, e->name ? e->name : "", e->level,
                              e->max_sessions, e->priority);
      g_string_append (s, "skills=");
      for (guint i = 0; i < e->skills->len; i++)
        {
          const char *skill = g_ptr_array_index (e->skills, i);

          g_string_append_printf (s, "%s:%u;", skill, ea_dir_expert_skill_level (e, skill));
        }
      g_string_append_c (s, '\n');
      append_strv (s, "lang", (const char * const *) e->languages);
    }
  for (GList *l = agents; l; l = l->next)
    {
      EaDirAgent *a = g_hash_table_lookup (self->agents, l->data);

      g_string_append_printf (s, "[a %s]\n", a->address);
      append_array (s, "groups", a->groups);
    }
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------ */
/* Parsing and checking one keyfile                                    */
/* ------------------------------------------------------------------ */

static gboolean
is_group_id (const char *id)
{
  if (id == NULL || *id == '\0' || strlen (id) > 64)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
      return FALSE;
  return TRUE;
}

/* GKeyFile's errors quote the line but give no number, and are translated;
 * this scan finds the number itself, with the same rules. */
static gboolean
check_syntax (const char *data, gsize length, const char *origin, GError **error)
{
  const char *p = data;
  const char *end = data + length;
  guint line = 0;
  gboolean in_group = FALSE;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *le = nl ? nl : end;
      g_autofree char *text = NULL;
      char *t;

      line++;
      if (!g_utf8_validate (p, le - p, NULL))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("%s:%u: the line is not valid UTF-8"), origin, line);
          return FALSE;
        }
      text = g_strndup (p, (gsize) (le - p));
      t = g_strstrip (text);

      if (*t == '\0' || *t == '#')
        ;
      else if (*t == '[')
        {
          gsize n = strlen (t);

          if (n < 3 || t[n - 1] != ']' || memchr (t + 1, ']', n - 2) != NULL ||
              memchr (t + 1, '[', n - 2) != NULL)
            {
              g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                           _("%s:%u: “%s” is not a valid section header"), origin, line, t);
              return FALSE;
            }
          in_group = TRUE;
        }
      else
        {
          const char *eq = strchr (t, '=');

          if (eq == NULL || eq == t)
            {
              g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                           _("%s:%u: “%s” is not a key=value line, a [section] or a "
                             "comment (comments go on lines of their own)"),
                           origin, line, t);
              return FALSE;
            }
          if (!in_group)
            {
              g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                           _("%s:%u: a key comes before the first [section]"), origin, line);
              return FALSE;
            }
        }
      p = nl ? nl + 1 : end;
    }
  return TRUE;
}

/* The line of @key in section @group, or of the section when @key is
 * NULL or missing, for messages that point at the right place. */
static guint
find_line (const char *data, gsize length, const char *group, const char *key)
{
  const char *p = data;
  const char *end = data + length;
  guint line = 0, group_line = 0;
  gboolean inside = FALSE;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *le = nl ? nl : end;
      g_autofree char *text = g_strndup (p, (gsize) (le - p));
      char *t = g_strstrip (text);

      line++;
      if (*t == '[')
        {
          gsize n = strlen (t);

          inside = n >= 2 && strncmp (t + 1, group, n - 2) == 0 && strlen (group) == n - 2;
          if (inside && group_line == 0)
            group_line = line;
        }
      else if (inside && key != NULL)
        {
          gsize klen = strlen (key);

          if (strncmp (t, key, klen) == 0)
            {
              const char *r = t + klen;

              while (*r == ' ' || *r == '\t')
                r++;
              if (*r == '=' || *r == '[')
                return line;
            }
        }
      p = nl ? nl + 1 : end;
    }
  return group_line;
}

typedef struct {
  const char *data;
  gsize length;
  const char *origin;
  GKeyFile *kf;
  char *message;
} Checker;

G_GNUC_PRINTF (4, 5)
static gboolean
fail_at (Checker *c, const char *group, const char *key, const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_free (c->message);
  c->message = g_strdup_printf ("%s:%u: [%s]%s%s: %s", c->origin,
                                find_line (c->data, c->length, group, key),
                                group, key ? " " : "", key ? key : "", msg);
  return FALSE;
}

static gboolean
check_uint (Checker *c, const char *group, const char *key, guint64 min, guint64 max)
{
  g_autofree char *value = g_key_file_get_string (c->kf, group, key, NULL);
  guint64 v;

  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  if (!g_ascii_string_to_unsigned (value, 10, min, max, &v, NULL))
    return fail_at (c, group, key, _("“%s” is not a whole number from %llu to %llu"),
                    value, (unsigned long long) min, (unsigned long long) max);
  return TRUE;
}

static gboolean
check_choice (Checker *c, const char *group, const char *key, const char * const *choices)
{
  g_autofree char *value = g_key_file_get_string (c->kf, group, key, NULL);
  g_autofree char *list = NULL;

  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  if (g_strv_contains (choices, value))
    return TRUE;
  list = g_strjoinv (", ", (char **) choices);
  return fail_at (c, group, key, _("“%s” is not one of %s"), value, list);
}

static gboolean
check_addresses (Checker *c, const char *group, const char *key)
{
  g_auto(GStrv) list = g_key_file_get_string_list (c->kf, group, key, NULL, NULL);

  for (guint i = 0; list && list[i]; i++)
    {
      g_strstrip (list[i]);
      if (*list[i] != '\0' && !ea_jid_is_valid_bare (list[i]))
        return fail_at (c, group, key, _("“%s” is not a bare XMPP address"), list[i]);
    }
  return TRUE;
}

static gboolean
check_group_ids (Checker *c, const char *group, const char *key)
{
  g_auto(GStrv) list = g_key_file_get_string_list (c->kf, group, key, NULL, NULL);

  for (guint i = 0; list && list[i]; i++)
    {
      g_strstrip (list[i]);
      if (*list[i] != '\0' && !is_group_id (list[i]))
        return fail_at (c, group, key,
                        _("“%s” is not a group id (lower-case letters, digits and -)"),
                        list[i]);
    }
  return TRUE;
}

static gboolean
check_section (Checker *c, const char *section)
{
  if (g_str_equal (section, "Directory"))
    return TRUE;

  if (g_str_has_prefix (section, "Group "))
    {
      static const char * const interruptible[] = { "available", "chat", "away", "xa", "dnd", NULL };
      const char *id = section + strlen ("Group ");
      g_auto(GStrv) list = NULL;

      if (!is_group_id (id))
        return fail_at (c, section, NULL,
                        _("“%s” is not a group id (lower-case letters, digits and -)"), id);
      if (!check_choice (c, section, "Strategy", ea_modes) ||
          !check_choice (c, section, "Order", ea_orders) ||
          !check_uint (c, section, "OfferTimeout", 1, 86400) ||
          !check_uint (c, section, "Expire", 1, 7 * 86400) ||
          !check_addresses (c, section, "Experts") ||
          !check_group_ids (c, section, "Fallback"))
        return FALSE;

      list = g_key_file_get_string_list (c->kf, section, "Interruptible", NULL, NULL);
      for (guint i = 0; list && list[i]; i++)
        {
          g_strstrip (list[i]);
          if (*list[i] != '\0' && !g_strv_contains (interruptible, list[i]))
            return fail_at (c, section, "Interruptible",
                            _("“%s” is not a presence (available, chat, away, xa, dnd)"),
                            list[i]);
        }
      if (g_key_file_has_key (c->kf, section, "Address", NULL))
        {
          g_autofree char *addr = g_key_file_get_string (c->kf, section, "Address", NULL);

          g_strstrip (addr);
          if (*addr != '\0' && !ea_jid_is_valid_bare (addr))
            return fail_at (c, section, "Address", _("“%s” is not a room address"), addr);
        }
      return TRUE;
    }

  if (g_str_has_prefix (section, "Expert "))
    {
      const char *addr = section + strlen ("Expert ");
      g_auto(GStrv) skills = NULL;

      if (!ea_jid_is_valid_bare (addr))
        return fail_at (c, section, NULL, _("“%s” is not a bare XMPP address"), addr);
      if (!check_uint (c, section, "Level", 1, 5) ||
          !check_uint (c, section, "MaxSessions", 0, 1000) ||
          !check_uint (c, section, "Priority", 0, G_MAXINT32))
        return FALSE;

      skills = g_key_file_get_string_list (c->kf, section, "Skills", NULL, NULL);
      for (guint i = 0; skills && skills[i]; i++)
        {
          char *colon = strchr (skills[i], ':');
          guint64 level;

          if (colon == NULL)
            continue;
          if (!g_ascii_string_to_unsigned (g_strstrip (colon + 1), 10, 1, 5, &level, NULL))
            return fail_at (c, section, "Skills",
                            _("“%s” has no level from 1 to 5 after the colon"), skills[i]);
        }
      return TRUE;
    }

  if (g_str_has_prefix (section, "Agent "))
    {
      const char *addr = section + strlen ("Agent ");

      if (!ea_jid_is_valid_bare (addr))
        return fail_at (c, section, NULL, _("“%s” is not a bare XMPP address"), addr);
      return check_group_ids (c, section, "Groups");
    }

  g_message ("%s:%u: ignoring the unknown section [%s]", c->origin,
             find_line (c->data, c->length, section, NULL), section);
  return TRUE;
}

/**
 * ea_directory_parse:
 * @origin: the file name, for messages
 *
 * Parses and checks one directory keyfile. Every problem is reported as
 * "FILE:LINE: what is wrong", and then nothing of the file is used.
 */
gboolean
ea_directory_parse (const char  *data,
                    gsize        length,
                    const char  *origin,
                    GKeyFile   **out_keyfile,
                    GError     **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) sections = NULL;
  Checker c = { data, length, origin, NULL, NULL };

  if (!check_syntax (data, length, origin, error))
    return FALSE;
  if (!g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS, "%s: %s", origin, local->message);
      return FALSE;
    }

  c.kf = kf;
  sections = g_key_file_get_groups (kf, NULL);

  /* Escapes are checked on the raw text first: GLib 2.74 reports some bad
   * ones twice (an invalid escape then a trailing backslash). */
  for (guint i = 0; sections[i]; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (kf, sections[i], NULL, NULL);

      for (guint j = 0; keys && keys[j]; j++)
        {
          g_autofree char *raw = g_key_file_get_value (kf, sections[i], keys[j], NULL);

          for (const char *p = raw; p && *p; p++)
            {
              if (*p != '\\')
                continue;
              if (p[1] == '\0' || strchr ("sntr\\;", p[1]) == NULL)
                {
                  /* Quote the whole character after the backslash, never
                   * one byte of it: the message must stay UTF-8. */
                  int n = p[1] ? (int) (g_utf8_next_char (p + 1) - (p + 1)) : 0;

                  fail_at (&c, sections[i], keys[j],
                           _("“\\%.*s” is not an escape: use \\s, \\n, \\t, \\r, \\\\ or \\;"),
                           n, p + 1);
                  g_set_error_literal (error, EA_ERROR, EA_ERROR_INVALID_ARGS, c.message);
                  g_free (c.message);
                  return FALSE;
                }
              p++;
            }
        }
    }

  for (guint i = 0; sections[i]; i++)
    {
      if (!check_section (&c, sections[i]))
        {
          g_set_error_literal (error, EA_ERROR, EA_ERROR_INVALID_ARGS, c.message);
          g_free (c.message);
          return FALSE;
        }
    }

  *out_keyfile = g_steal_pointer (&kf);
  return TRUE;
}

/* "Tier 2 Support" → "tier-2-support": transliterated to ASCII,
 * lower-cased, every run of other characters one "-", trimmed. */
char *
ea_directory_roster_group_id (const char *name)
{
  g_autofree char *ascii = g_str_to_ascii (name, "C");
  GString *id = g_string_new (NULL);
  gboolean dash = FALSE;

  for (const char *p = ascii; *p; p++)
    {
      char ch = g_ascii_tolower (*p);

      if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
        {
          if (dash && id->len > 0)
            g_string_append_c (id, '-');
          dash = FALSE;
          g_string_append_c (id, ch);
        }
      else
        dash = TRUE;
    }
  return g_string_free (id, FALSE);
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

EaDirectoryBuilder *
ea_directory_builder_new (void)
{
  EaDirectoryBuilder *b = g_new0 (EaDirectoryBuilder, 1);

  b->dir = ea_directory_new_empty ();
  return b;
}

static EaDirGroup *
builder_group (EaDirectoryBuilder *b, const char *id)
{
  EaDirGroup *g = g_hash_table_lookup (b->dir->groups, id);

  if (g == NULL)
    {
      g = g_new0 (EaDirGroup, 1);
      g->id = g_strdup (id);
      g->experts = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (b->dir->groups, g->id, g);
    }
  return g;
}

static EaDirExpert *
builder_expert (EaDirectoryBuilder *b, const char *address)
{
  g_autofree char *bare = ea_jid_bare (address);
  EaDirExpert *e = g_hash_table_lookup (b->dir->experts, bare);

  if (e == NULL)
    {
      e = g_new0 (EaDirExpert, 1);
      e->address = g_steal_pointer (&bare);
      e->skills = g_ptr_array_new_with_free_func (g_free);
      e->skill_levels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      e->level = EA_DEFAULT_LEVEL;
      e->max_sessions = EA_DEFAULT_MAX_SESSIONS;
      e->priority = EA_DEFAULT_PRIORITY;
      g_hash_table_insert (b->dir->experts, e->address, e);
    }
  return e;
}

static void
add_unique (GPtrArray *array, const char *value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_strcmp0 (g_ptr_array_index (array, i), value) == 0)
      return;
  g_ptr_array_add (array, g_strdup (value));
}

static char *
get_trimmed (GKeyFile *kf, const char *section, const char *key)
{
  char *value = g_key_file_get_string (kf, section, key, NULL);

  if (value == NULL)
    return NULL;
  g_strstrip (value);
  if (*value == '\0')
    g_clear_pointer (&value, g_free);
  return value;
}

/* Only for already checked keyfiles. */
static gboolean
get_uint (GKeyFile *kf, const char *section, const char *key, guint *out)
{
  g_autofree char *value = get_trimmed (kf, section, key);
  guint64 v;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT, &v, NULL))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static GStrv
get_list (GKeyFile *kf, const char *section, const char *key)
{
  g_auto(GStrv) raw = g_key_file_get_string_list (kf, section, key, NULL, NULL);
  g_autoptr(GStrvBuilder) b = NULL;

  if (raw == NULL)
    return NULL;
  b = g_strv_builder_new ();
  for (guint i = 0; raw[i]; i++)
    {
      g_strstrip (raw[i]);
      if (*raw[i] != '\0')
        g_strv_builder_add (b, raw[i]);
    }
  return g_strv_builder_end (b);
}

static void
replace_string (char **slot, char *value)
{
  if (value == NULL)
    return;
  g_free (*slot);
  *slot = value;
}

static void
add_group_section (EaDirectoryBuilder *b, GKeyFile *kf, const char *section)
{
  EaDirGroup *g = builder_group (b, section + strlen ("Group "));
  g_auto(GStrv) experts = get_list (kf, section, "Experts");
  GStrv interruptible = get_list (kf, section, "Interruptible");
  g_autofree char *fallback = get_trimmed (kf, section, "Fallback");

  g->in_keyfile = TRUE;
  replace_string (&g->name, get_trimmed (kf, section, "Name"));
  replace_string (&g->description, get_trimmed (kf, section, "Description"));
  replace_string (&g->address, get_trimmed (kf, section, "Address"));
  replace_string (&g->strategy, get_trimmed (kf, section, "Strategy"));
  replace_string (&g->order, get_trimmed (kf, section, "Order"));
  if (fallback != NULL)
    replace_string (&g->fallback, g_steal_pointer (&fallback));
  get_uint (kf, section, "OfferTimeout", &g->offer_timeout);
  get_uint (kf, section, "Expire", &g->expire);
  if (interruptible != NULL)
    {
      g_strfreev (g->interruptible);
      g->interruptible = interruptible;
    }
  for (guint i = 0; experts && experts[i]; i++)
    {
      g_autofree char *bare = ea_jid_bare (experts[i]);

      add_unique (g->experts, bare);
    }
}

static void
add_expert_section (EaDirectoryBuilder *b, GKeyFile *kf, const char *section)
{
  EaDirExpert *e = builder_expert (b, section + strlen ("Expert "));
  g_auto(GStrv) skills = get_list (kf, section, "Skills");
  GStrv languages = get_list (kf, section, "Languages");

  replace_string (&e->name, get_trimmed (kf, section, "Name"));
  get_uint (kf, section, "Level", &e->level);
  get_uint (kf, section, "MaxSessions", &e->max_sessions);
  get_uint (kf, section, "Priority", &e->priority);
  if (languages != NULL)
    {
      g_strfreev (e->languages);
      e->languages = languages;
    }
  if (skills != NULL)
    {
      g_ptr_array_set_size (e->skills, 0);
      g_hash_table_remove_all (e->skill_levels);
      for (guint i = 0; skills[i]; i++)
        {
          char *colon = strchr (skills[i], ':');

          if (colon != NULL)
            {
              guint64 level = g_ascii_strtoull (colon + 1, NULL, 10);

              *colon = '\0';
              g_strstrip (skills[i]);
              g_hash_table_replace (e->skill_levels, g_strdup (skills[i]),
                                    GUINT_TO_POINTER ((guint) level));
            }
          if (*skills[i] != '\0')
            add_unique (e->skills, skills[i]);
        }
    }
}

static void
add_agent_section (EaDirectoryBuilder *b, GKeyFile *kf, const char *section)
{
  g_autofree char *bare = ea_jid_bare (section + strlen ("Agent "));
  EaDirAgent *a = g_hash_table_lookup (b->dir->agents, bare);
  g_auto(GStrv) groups = get_list (kf, section, "Groups");

  if (a == NULL)
    {
      a = g_new0 (EaDirAgent, 1);
      a->address = g_steal_pointer (&bare);
      a->groups = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (b->dir->agents, a->address, a);
    }
  for (guint i = 0; groups && groups[i]; i++)
    add_unique (a->groups, groups[i]);
}

/* @keyfile must have passed ea_directory_parse(). */
void
ea_directory_builder_add_keyfile (EaDirectoryBuilder *b, GKeyFile *keyfile)
{
  g_auto(GStrv) sections = g_key_file_get_groups (keyfile, NULL);

  for (guint i = 0; sections[i]; i++)
    {
      const char *s = sections[i];

      if (g_str_equal (s, "Directory"))
        {
          /* Not trimmed: the default prefix ends in a space ("Experts:\s"). */
          char *prefix = g_key_file_get_string (keyfile, s, "RosterPrefix", NULL);

          if (prefix != NULL && *prefix != '\0')
            replace_string (&b->dir->roster_prefix, prefix);
          else
            g_free (prefix);
        }
      else if (g_str_has_prefix (s, "Group "))
        add_group_section (b, keyfile, s);
      else if (g_str_has_prefix (s, "Expert "))
        add_expert_section (b, keyfile, s);
      else if (g_str_has_prefix (s, "Agent "))
        add_agent_section (b, keyfile, s);
    }
}

/* A roster item; only its groups that carry the roster prefix count. Add
 * roster items after every keyfile, which may set the prefix. */
void
ea_directory_builder_add_roster_item (EaDirectoryBuilder *b,
                                      const char         *address,
                                      const char         *name,
                                      const char * const *groups)
{
  const char *prefix = b->dir->roster_prefix;
  gsize plen = strlen (prefix);
  g_autofree char *bare = NULL;

  if (!ea_jid_is_valid_bare (address))
    return;
  bare = ea_jid_bare (address);

  for (guint i = 0; groups && groups[i]; i++)
    {
      const char *display;
      g_autofree char *id = NULL;
      EaDirGroup *g;
      EaDirExpert *e;

      if (strncmp (groups[i], prefix, plen) != 0)
        continue;
      display = groups[i] + plen;
      id = ea_directory_roster_group_id (display);
      if (*id == '\0')
        continue;

      g = builder_group (b, id);
      if (g->name == NULL)
        g->name = g_strdup (display);
      add_unique (g->experts, bare);

      e = builder_expert (b, bare);
      if (e->name == NULL && name != NULL && *name != '\0')
        e->name = g_strdup (name);
    }
}

static int
compare_group_ids (gconstpointer a, gconstpointer b)
{
  const EaDirGroup *ga = *(EaDirGroup **) a;
  const EaDirGroup *gb = *(EaDirGroup **) b;

  return strcmp (ga->id, gb->id);
}

EaDirectory *
ea_directory_builder_end (EaDirectoryBuilder *b)
{
  EaDirectory *dir = g_steal_pointer (&b->dir);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, dir->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EaDirGroup *g = value;

      if (g->name == NULL)
        g->name = g_strdup (g->id);
      /* A member named only in a group still is an expert. */
      for (guint i = 0; i < g->experts->len; i++)
        {
          const char *addr = g_ptr_array_index (g->experts, i);

          if (!g_hash_table_contains (dir->experts, addr))
            {
              EaDirectoryBuilder tmp = { dir };

              builder_expert (&tmp, addr);
            }
        }
      g_ptr_array_add (dir->sorted, g);
    }
  g_ptr_array_sort (dir->sorted, compare_group_ids);
  g_free (b);
  return dir;
}
