/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The reply grammar of people with an ordinary client (DESIGN.md section
 * 9): "ok CODE" accepts, "no CODE [reason]" declines. Whatever is read must
 * be a 4-digit lowercase hex code and, for a decline, a reason that is one
 * line of valid UTF-8 of at most 256 bytes (it ends up on D-Bus and in the
 * log).
 *
 * Input: the text of a message body (any bytes; the server guarantees
 * UTF-8, but the parser must not rely on it).
 */
#include "fuzz-common.h"

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
  g_autofree char *body = NULL;
  g_autofree char *code = NULL;
  g_autofree char *reason = NULL;
  gboolean accept = FALSE;
  gboolean valid_input;

  if (size > 4096)
    return 0;
  body = fuzz_cstring (data, size);
  valid_input = g_utf8_validate (body, -1, NULL);

  if (!ea_reply_parse (body, &accept, &code, &reason))
    {
      FUZZ_CHECK (code == NULL && reason == NULL, "a refused reply left fields behind");
      return 0;
    }

  FUZZ_CHECK (code != NULL && strlen (code) == EA_REPLY_CODE_LEN, "code [%s]", code);
  for (const char *p = code; *p; p++)
    FUZZ_CHECK (g_ascii_isxdigit (*p) && !g_ascii_isupper (*p), "code [%s]", code);
  if (accept)
    FUZZ_CHECK (reason == NULL, "an accept with a reason");
  /* From valid UTF-8 only valid UTF-8 may come out. */
  if (valid_input)
    fuzz_check_text ("reason", reason, 256, TRUE);
  else if (reason != NULL)
    FUZZ_CHECK (strlen (reason) <= 256 && strchr (reason, '\n') == NULL, "reason [%s]", reason);
  return 0;
}
