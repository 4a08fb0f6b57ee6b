/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/random.h>
#include <errno.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "ea-error.h"
#include "ea-util.h"

/* 128 random bits from the kernel: ids double as capabilities (who knows a
 * request id may answer it), so they must not be guessable. */
char *
ea_id_new (void)
{
  guint8 bytes[EA_ID_LEN / 2];
  static const char hex[] = "0123456789abcdef";
  char *id = g_malloc (EA_ID_LEN + 1);
  gsize got = 0;

  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          g_error ("getrandom() failed: %s", g_strerror (errno));
        }
      got += (gsize) n;
    }

  for (gsize i = 0; i < sizeof bytes; i++)
    {
      id[2 * i] = hex[bytes[i] >> 4];
      id[2 * i + 1] = hex[bytes[i] & 0xf];
    }
  id[EA_ID_LEN] = '\0';
  return id;
}

gboolean
ea_id_is_valid (const char *id)
{
  if (id == NULL)
    return FALSE;
  for (gsize i = 0; i < EA_ID_LEN; i++)
    {
      char c = id[i];

      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        return FALSE;
    }
  return id[EA_ID_LEN] == '\0';
}

/* A practical check, not full RFC 7622 preparation: what matters here is
 * that nothing with spaces, control characters or a missing part gets used
 * as an address or a key. */
static gboolean
jid_part_ok (const char *start, gsize len, gboolean allow_at)
{
  if (len == 0 || len > 1023)
    return FALSE;
  if (!g_utf8_validate (start, (gssize) len, NULL))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) start[i];

      if (c <= 0x20 || c == 0x7f || c == '"' || c == '&' || c == '\'' ||
          c == '<' || c == '>' || (!allow_at && c == '@'))
        return FALSE;
    }
  return TRUE;
}

gboolean
ea_jid_is_valid (const char *jid)
{
  const char *at, *slash, *domain;
  gsize domain_len;

  if (jid == NULL || *jid == '\0')
    return FALSE;

  slash = strchr (jid, '/');
  at = strchr (jid, '@');
  if (at != NULL && slash != NULL && at > slash)
    at = NULL;

  if (at != NULL && !jid_part_ok (jid, (gsize) (at - jid), FALSE))
    return FALSE;
  if (at != NULL && memchr (jid, '/', (gsize) (at - jid)) != NULL)
    return FALSE;

  domain = at ? at + 1 : jid;
  domain_len = slash ? (gsize) (slash - domain) : strlen (domain);
  if (!jid_part_ok (domain, domain_len, FALSE))
    return FALSE;
  if (domain[0] == '.' || domain[domain_len - 1] == '.')
    return FALSE;

  if (slash != NULL && !jid_part_ok (slash + 1, strlen (slash + 1), TRUE))
    return FALSE;

  return TRUE;
}

gboolean
ea_jid_is_valid_bare (const char *jid)
{
  return ea_jid_is_valid (jid) && strchr (jid, '@') != NULL &&
         strchr (jid, '/') == NULL;
}

/* Bare addresses are compared and stored lower-cased: localpart and domain
 * are case-insensitive in practice (nodeprep and nameprep). */
char *
ea_jid_bare (const char *jid)
{
  const char *slash;

  if (jid == NULL)
    return NULL;
  slash = strchr (jid, '/');
  if (slash == NULL)
    return g_utf8_strdown (jid, -1);
  return g_utf8_strdown (jid, slash - jid);
}

const char *
ea_jid_resource (const char *jid)
{
  const char *slash = jid ? strchr (jid, '/') : NULL;

  return slash ? slash + 1 : NULL;
}

char *
ea_jid_domain (const char *jid)
{
  g_autofree char *bare = ea_jid_bare (jid);
  const char *at;

  if (bare == NULL)
    return NULL;
  at = strchr (bare, '@');
  return g_strdup (at ? at + 1 : bare);
}

char *
ea_jid_localpart (const char *jid)
{
  const char *at = jid ? strchr (jid, '@') : NULL;
  const char *slash = jid ? strchr (jid, '/') : NULL;

  if (at == NULL || (slash != NULL && slash < at))
    return NULL;
  return g_strndup (jid, (gsize) (at - jid));
}

gboolean
ea_jid_equal_bare (const char *a, const char *b)
{
  g_autofree char *ba = ea_jid_bare (a);
  g_autofree char *bb = ea_jid_bare (b);

  return ba != NULL && bb != NULL && g_strcmp0 (ba, bb) == 0;
}

/* For debug logs: enough to tell people apart, not a full address. */
char *
ea_jid_short (const char *jid)
{
  g_autofree char *local = ea_jid_localpart (jid);

  if (local == NULL)
    return g_strdup (jid ? jid : "(none)");
  if (g_utf8_strlen (local, -1) <= 3)
    return g_strdup_printf ("%s@…", local);
  return g_strdup_printf ("%.3s…@…", local);
}

static const char * const statuses[] = {
  "offline", "dnd", "xa", "away", "available", "chat", NULL
};

gboolean
ea_status_is_valid (const char *status)
{
  return status != NULL && g_strv_contains (statuses, status);
}

/* Higher is more reachable; used to pick the best resource. */
int
ea_status_rank (const char *status)
{
  for (int i = 0; statuses[i] != NULL; i++)
    if (g_strcmp0 (statuses[i], status) == 0)
      return i;
  return 0;
}

char *
ea_time_to_iso8601 (gint64 unix_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00Z");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

gboolean
ea_time_from_iso8601 (const char *text, gint64 *out_unix_us)
{
  g_autoptr(GDateTime) dt = NULL;

  if (text == NULL)
    return FALSE;
  dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    return FALSE;
  *out_unix_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC +
                 g_date_time_get_microsecond (dt);
  return TRUE;
}

/* "host", "host:port", "[v6]:port" or "v6". An empty text means "no
 * server given" (the address's domain, by SRV): host NULL, port 0. */
gboolean
ea_parse_server (const char *text,
                 char      **out_host,
                 guint16    *out_port,
                 GError    **error)
{
  g_autofree char *host = NULL;
  const char *port_text = NULL;
  guint64 port = 0;

  *out_host = NULL;
  *out_port = 0;

  if (text == NULL || *text == '\0')
    return TRUE;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        goto bad;
      host = g_strndup (text + 1, (gsize) (end - text - 1));
      if (end[1] == ':')
        port_text = end + 2;
    }
  else
    {
      const char *colon = strchr (text, ':');

      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        host = g_strdup (text); /* a bare IPv6 address */
      else if (colon != NULL)
        {
          host = g_strndup (text, (gsize) (colon - text));
          port_text = colon + 1;
        }
      else
        host = g_strdup (text);
    }

  if (*host == '\0')
    goto bad;
  for (const char *p = host; *p; p++)
    if ((guchar) *p <= 0x20 || *p == '/' || *p == '@')
      goto bad;

  if (port_text != NULL &&
      (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &port, NULL)))
    goto bad;

  *out_host = g_steal_pointer (&host);
  *out_port = (guint16) port;
  return TRUE;

bad:
  g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
               _("“%s” is not a server: give HOST or HOST:PORT"), text);
  return FALSE;
}

gboolean
ea_host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) addr = NULL;

  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

/**
 * ea_utf8_cut:
 *
 * At most @max_bytes of @text, cut before a character, never inside one.
 */
char *
ea_utf8_cut (const char *text, gsize max_bytes)
{
  const char *end;

  if (strlen (text) <= max_bytes)
    return g_strdup (text);
  end = text + max_bytes;
  /* Back to the start of the character that would be split. */
  while (end > text && ((guchar) *end & 0xc0) == 0x80)
    end--;
  return g_strndup (text, (gsize) (end - text));
}

gboolean
ea_text_is_one_line (const char *text)
{
  return text != NULL && strchr (text, '\n') == NULL && strchr (text, '\r') == NULL;
}
