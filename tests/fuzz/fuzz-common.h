/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What every fuzz target shares: a libstrophe context made once, criticals
 * and warnings made fatal (so GLib's own checks count as findings), and
 * the invariant checks that turn a wrong answer into a crash libFuzzer
 * can report and minimise.
 */
#pragma once

#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <strophe.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "invariant broken at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf (stderr, __VA_ARGS__); \
        fputc ('\n', stderr); \
        abort (); \
      } \
  } G_STMT_END

/* GLib stops a fatal message with SIGTRAP, which libFuzzer does not catch:
 * make it an abort, so the input is saved like any other crash. */
static void
fuzz_trap_to_abort (int sig)
{
  abort ();
}

/* A critical is a bug found, not noise; so is a warning from code that
 * only parses. Debug and info stay quiet. */
static inline void
fuzz_make_glib_fatal_full (gboolean warnings)
{
  signal (SIGTRAP, fuzz_trap_to_abort);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR |
                          (warnings ? G_LOG_LEVEL_WARNING : 0));
  if (g_getenv ("FUZZ_VERBOSE") == NULL)
    g_log_set_writer_func (g_log_writer_default, NULL, NULL);
  g_setenv ("G_MESSAGES_DEBUG", "", TRUE);
}

static inline void
fuzz_make_glib_fatal (void)
{
  fuzz_make_glib_fatal_full (TRUE);
}

static inline xmpp_ctx_t *
fuzz_ctx (void)
{
  static xmpp_ctx_t *ctx;

  if (ctx == NULL)
    {
      xmpp_initialize ();
      ctx = xmpp_ctx_new (NULL, NULL);
    }
  return ctx;
}

/* NUL-terminated copy of the input; libstrophe parses C strings. */
static inline char *
fuzz_cstring (const uint8_t *data, size_t size)
{
  char *s = g_malloc (size + 1);

  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

static inline void
fuzz_check_text (const char *what, const char *text, gsize max_bytes, gboolean one_line)
{
  if (text == NULL)
    return;
  FUZZ_CHECK (g_utf8_validate (text, -1, NULL), "%s is not valid UTF-8", what);
  FUZZ_CHECK (max_bytes == 0 || strlen (text) <= max_bytes, "%s has %zu bytes (max %zu)",
              what, strlen (text), (size_t) max_bytes);
  if (one_line)
    FUZZ_CHECK (strchr (text, '\n') == NULL && strchr (text, '\r') == NULL,
                "%s is not one line", what);
}

/* Every string in an a{sv} of strings is valid UTF-8 (D-Bus needs it). */
static inline void
fuzz_check_vardict (const char *what, GVariant *dict)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (dict == NULL)
    return;
  FUZZ_CHECK (g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT), "%s is %s", what,
              g_variant_get_type_string (dict));
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      FUZZ_CHECK (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING), "%s[%s] is %s", what,
                  key, g_variant_get_type_string (value));
      fuzz_check_text (key, g_variant_get_string (value, NULL), 0, FALSE);
    }
}
