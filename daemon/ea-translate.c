/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Translations into a language other than the daemon's own: an offer's
 * plain-text body is written in the expert's language. gettext only
 * follows the process locale (and switching LANGUAGE with setenv() is not
 * safe with threads running), so this reads the catalogue itself: a GNU
 * .mo file is a sorted table of msgid/msgstr pairs, mapped read-only once
 * per language.
 */
#define G_LOG_DOMAIN "ea-translate"

#include "config.h"

#include <string.h>

#include "ea-translate.h"

typedef struct {
  GMappedFile *file;
  const char *data;
  gsize size;
  guint32 n;
  guint32 originals;
  guint32 translations;
  gboolean swap;
} Catalogue;

G_LOCK_DEFINE_STATIC (catalogues);
static GHashTable *catalogues; /* language → Catalogue, or NULL when none */

static guint32
read32 (const Catalogue *c, guint32 offset)
{
  guint32 v;

  memcpy (&v, c->data + offset, sizeof v);
  return c->swap ? GUINT32_SWAP_LE_BE (v) : v;
}

static Catalogue *
catalogue_open (const char *language)
{
  const char *dir = g_getenv ("EA_LOCALEDIR");
  g_autofree char *path = NULL;
  g_autoptr(GMappedFile) file = NULL;
  Catalogue *c;
  guint32 magic;

  if (dir == NULL || *dir == '\0')
    dir = LOCALEDIR;
  path = g_build_filename (dir, language, "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  file = g_mapped_file_new (path, FALSE, NULL);
  if (file == NULL || g_mapped_file_get_length (file) < 28)
    return NULL;

  c = g_new0 (Catalogue, 1);
  c->data = g_mapped_file_get_contents (file);
  c->size = g_mapped_file_get_length (file);
  memcpy (&magic, c->data, sizeof magic);
  if (magic == 0x950412de)
    c->swap = FALSE;
  else if (magic == 0xde120495)
    c->swap = TRUE;
  else
    {
      g_free (c);
      return NULL;
    }
  c->n = read32 (c, 8);
  c->originals = read32 (c, 12);
  c->translations = read32 (c, 16);
  if ((guint64) c->originals + 8ull * c->n > c->size ||
      (guint64) c->translations + 8ull * c->n > c->size)
    {
      g_free (c);
      return NULL;
    }
  c->file = g_steal_pointer (&file);
  return c;
}

static const char *
entry (const Catalogue *c, guint32 table, guint32 i)
{
  guint32 len = read32 (c, table + 8 * i);
  guint32 off = read32 (c, table + 8 * i + 4);

  if ((guint64) off + len >= c->size || c->data[off + len] != '\0')
    return NULL;
  return c->data + off;
}

/**
 * ea_translate:
 * @language: a language code such as "de" or "pt_BR"
 *
 * Returns the translation of @msgid into @language, or @msgid itself when
 * there is no catalogue or no translation.
 */
const char *
ea_translate (const char *language, const char *msgid)
{
  Catalogue *c;
  guint32 lo, hi;

  if (language == NULL || *language == '\0' || g_str_equal (language, "en") ||
      strchr (language, '/') != NULL || strchr (language, '.') != NULL)
    return msgid;

  G_LOCK (catalogues);
  if (catalogues == NULL)
    catalogues = g_hash_table_new (g_str_hash, g_str_equal);
  if (!g_hash_table_lookup_extended (catalogues, language, NULL, (gpointer *) &c))
    {
      c = catalogue_open (language);
      g_hash_table_insert (catalogues, g_strdup (language), c);
    }
  G_UNLOCK (catalogues);

  if (c == NULL)
    return msgid;

  /* The originals are sorted: binary search. */
  lo = 0;
  hi = c->n;
  while (lo < hi)
    {
      guint32 mid = lo + (hi - lo) / 2;
      const char *orig = entry (c, c->originals, mid);
      int cmp;

      if (orig == NULL)
        return msgid;
      cmp = strcmp (msgid, orig);
      if (cmp == 0)
        {
          const char *tr = entry (c, c->translations, mid);

          return tr && *tr ? tr : msgid;
        }
      if (cmp < 0)
        hi = mid;
      else
        lo = mid + 1;
    }
  return msgid;
}
