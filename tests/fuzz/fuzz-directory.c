/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The directory (daemon/ea-directory.c): ea_directory_parse on any keyfile
 * text, then building a directory from what it accepted plus roster items,
 * and reading it the ways the daemon does. A refused file has a message
 * that names the file and a line; an accepted one gives only group ids of
 * the form ^[a-z0-9-]+$, bare addresses, and the same directory each time.
 *
 * Input: the keyfile text, optionally followed by a NUL byte and roster
 * items, one a line: "address<TAB>name<TAB>group;group;..."
 */
#include "fuzz-common.h"

#include "ea-directory.h"
#include "ea-error.h"
#include "ea-util.h"

static gboolean
is_id (const char *id)
{
  if (id == NULL || *id == '\0')
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
      return FALSE;
  return TRUE;
}

static EaDirectory *
build (GKeyFile *kf, const char *roster, gsize roster_len)
{
  EaDirectoryBuilder *b = ea_directory_builder_new ();
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;

  if (kf != NULL)
    ea_directory_builder_add_keyfile (b, kf);
  if (roster != NULL)
    {
      text = g_strndup (roster, roster_len);
      lines = g_strsplit (text, "\n", 2000);
      for (guint i = 0; lines[i]; i++)
        {
          g_auto(GStrv) fields = NULL;
          g_auto(GStrv) groups = NULL;

          /* Roster items come out of XML: always UTF-8. */
          if (!g_utf8_validate (lines[i], -1, NULL))
            continue;
          fields = g_strsplit (lines[i], "\t", 3);
          if (fields[0] == NULL)
            continue;
          groups = g_strsplit (fields[1] && fields[2] ? fields[2] : "", ";", 100);
          ea_directory_builder_add_roster_item (b, fields[0], fields[1],
                                                (const char * const *) groups);
        }
    }
  return ea_directory_builder_end (b);
}

static void
check_directory (EaDirectory *dir)
{
  GPtrArray *groups = ea_directory_get_groups (dir);
  GList *experts = ea_directory_get_experts (dir);

  FUZZ_CHECK (ea_directory_get_roster_prefix (dir) != NULL, "no roster prefix");
  for (guint i = 0; i < groups->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (groups, i);

      FUZZ_CHECK (is_id (g->id), "group id [%s]", g->id);
      FUZZ_CHECK (g->name != NULL && g_utf8_validate (g->name, -1, NULL), "group name");
      FUZZ_CHECK (ea_directory_get_group (dir, g->id) == g, "group %s not found by id", g->id);
      if (i > 0)
        FUZZ_CHECK (strcmp (((EaDirGroup *) g_ptr_array_index (groups, i - 1))->id, g->id) < 0,
                    "groups not sorted");
      for (guint j = 0; j < g->experts->len; j++)
        {
          const char *addr = g_ptr_array_index (g->experts, j);

          FUZZ_CHECK (ea_directory_get_expert (dir, addr) != NULL,
                      "member %s of %s is no expert", addr, g->id);
          FUZZ_CHECK (ea_dir_group_has_expert (g, addr), "member lookup");
        }
      (void) ea_dir_group_interrupts_on (g, "available");
      (void) ea_dir_group_interrupts_on (g, "dnd");
    }
  for (GList *l = experts; l; l = l->next)
    {
      EaDirExpert *e = l->data;
      g_autoptr(GPtrArray) of = ea_directory_groups_of_expert (dir, e->address, FALSE);
      g_autoptr(GPtrArray) of_kf = ea_directory_groups_of_expert (dir, e->address, TRUE);

      FUZZ_CHECK (g_utf8_validate (e->address, -1, NULL), "expert address");
      FUZZ_CHECK (of_kf->len <= of->len, "keyfile groups of %s", e->address);
      for (guint i = 0; i < e->skills->len; i++)
        (void) ea_dir_expert_skill_level (e, g_ptr_array_index (e->skills, i));
      FUZZ_CHECK (ea_directory_is_listed (dir, e->address), "expert %s not listed", e->address);
    }
  g_list_free (experts);

  {
    g_autoptr(GPtrArray) open = ea_directory_open_groups (dir, "carol@example.org");
    g_autoptr(GPtrArray) open2 = ea_directory_open_groups (dir, "nobody@example.org");

    FUZZ_CHECK (open->len <= groups->len && open2->len <= groups->len, "open groups");
    if (!ea_directory_has_agents (dir))
      FUZZ_CHECK (open->len == groups->len, "no agents, yet not every group is open");
  }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_glib_fatal ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  const char *nul;
  gsize kf_len = size;
  const char *roster = NULL;
  gsize roster_len = 0;
  g_autoptr(GKeyFile) kf = NULL;
  g_autoptr(GKeyFile) kf2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EaDirectory) dir = NULL;
  g_autoptr(EaDirectory) dir2 = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *fp2 = NULL;

  if (size > 64 * 1024)
    return 0;
  nul = memchr (data, '\0', size);
  if (nul != NULL)
    {
      kf_len = (gsize) (nul - text);
      roster = nul + 1;
      roster_len = size - kf_len - 1;
    }

  if (!ea_directory_parse (text, kf_len, "fuzz.conf", &kf, &error))
    {
      FUZZ_CHECK (error != NULL && kf == NULL, "refused without an error");
      FUZZ_CHECK (g_str_has_prefix (error->message, "fuzz.conf:"),
                  "the message does not name the file: %s", error->message);
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL), "message not UTF-8");
      /* The roster alone still makes a directory. */
      dir = build (NULL, roster, roster_len);
      check_directory (dir);
      return 0;
    }

  dir = build (kf, roster, roster_len);
  check_directory (dir);

  /* The same input, the same directory (reloads compare fingerprints). */
  FUZZ_CHECK (ea_directory_parse (text, kf_len, "fuzz.conf", &kf2, NULL), "second parse");
  dir2 = build (kf2, roster, roster_len);
  fp = ea_directory_fingerprint (dir);
  fp2 = ea_directory_fingerprint (dir2);
  FUZZ_CHECK (g_str_equal (fp, fp2), "fingerprint differs between two builds");

  /* A group id is also what a roster group name becomes. */
  for (guint i = 0; i < ea_directory_get_groups (dir)->len; i++)
    {
      EaDirGroup *g = g_ptr_array_index (ea_directory_get_groups (dir), i);
      g_autofree char *id = ea_directory_roster_group_id (g->name);

      FUZZ_CHECK (*id == '\0' || is_id (id), "roster id [%s] of [%s]", id, g->name);
    }
  return 0;
}
