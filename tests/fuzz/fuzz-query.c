/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ea_query_is_valid on any a{sv} a D-Bus caller could send to RequestHelp:
 * the input is the serialised GVariant (little-endian, as GDBus hands it
 * over after checking its framing). An accepted query has only known keys,
 * strings only, and a summary of 1 to 200 characters on one line; a
 * refused one says why (InvalidArgs) instead of crashing.
 */
#include "fuzz-common.h"

#include "ea-error.h"
#include "ea-protocol.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_glib_fatal ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) any = NULL;
  g_autoptr(GVariant) query = NULL;
  g_autoptr(GError) error = NULL;
  const char *summary = NULL;

  if (size > 64 * 1024)
    return 0;
  bytes = g_bytes_new (data, size);
  any = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
  /* GDBus only ever hands over normal-form values: so does this. */
  query = g_variant_get_normal_form (any);

  if (!ea_query_is_valid (query, &error))
    {
      FUZZ_CHECK (error != NULL && error->domain == EA_ERROR &&
                  error->code == EA_ERROR_INVALID_ARGS, "refused without InvalidArgs");
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL), "error message not UTF-8");
      return 0;
    }

  FUZZ_CHECK (error == NULL, "accepted with an error set");
  fuzz_check_vardict ("query", query);
  FUZZ_CHECK (g_variant_lookup (query, "summary", "&s", &summary), "accepted without summary");
  FUZZ_CHECK (g_utf8_strlen (summary, -1) <= EA_MAX_SUMMARY_CHARS, "summary too long");
  FUZZ_CHECK (strchr (summary, '\n') == NULL, "summary of several lines");
  {
    g_autofree char *trimmed = g_strstrip (g_strdup (summary));

    FUZZ_CHECK (*trimmed != '\0', "blank summary accepted");
  }
  {
    const char *details = NULL;

    if (g_variant_lookup (query, "details", "&s", &details))
      FUZZ_CHECK (strlen (details) <= EA_MAX_DETAILS_BYTES, "details too long");
  }
  return 0;
}
