/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What goes over the wire: building and reading stanzas. Everything that
 * reads a stanza treats it as hostile: missing attributes, wrong types and
 * out-of-range numbers make it "not understood", never a crash.
 */
#define G_LOG_DOMAIN "ea-protocol"

#include "config.h"

#include <string.h>

#include "ea-util.h"
#include "ea-protocol.h"

xmpp_stanza_t *
ea_stanza_new (xmpp_ctx_t *ctx, const char *name, const char *type, const char *to, const char *id)
{
  xmpp_stanza_t *s = xmpp_stanza_new (ctx);

  xmpp_stanza_set_name (s, name);
  if (type != NULL)
    xmpp_stanza_set_type (s, type);
  if (to != NULL)
    xmpp_stanza_set_to (s, to);
  if (id != NULL)
    xmpp_stanza_set_id (s, id);
  return s;
}

/* Returns the new child, owned by @parent. */
xmpp_stanza_t *
ea_stanza_add_child (xmpp_stanza_t *parent, const char *name, const char *ns)
{
  xmpp_stanza_t *child = xmpp_stanza_new (xmpp_stanza_get_context (parent));

  xmpp_stanza_set_name (child, name);
  if (ns != NULL)
    xmpp_stanza_set_ns (child, ns);
  xmpp_stanza_add_child (parent, child);
  xmpp_stanza_release (child);
  return child;
}

void
ea_stanza_add_text (xmpp_stanza_t *parent, const char *name, const char *ns, const char *text)
{
  xmpp_stanza_t *child = ea_stanza_add_child (parent, name, ns);
  xmpp_stanza_t *t = xmpp_stanza_new (xmpp_stanza_get_context (parent));

  xmpp_stanza_set_text (t, text ? text : "");
  xmpp_stanza_add_child (child, t);
  xmpp_stanza_release (t);
}

void
ea_stanza_set_attr (xmpp_stanza_t *stanza, const char *name, const char *value)
{
  if (value != NULL)
    xmpp_stanza_set_attribute (stanza, name, value);
}

void
ea_stanza_set_attr_uint (xmpp_stanza_t *stanza, const char *name, guint64 value)
{
  char buf[32];

  g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT, value);
  xmpp_stanza_set_attribute (stanza, name, buf);
}

xmpp_stanza_t *
ea_stanza_iq_result (xmpp_ctx_t *ctx, xmpp_stanza_t *request)
{
  return ea_stanza_new (ctx, "iq", "result", xmpp_stanza_get_from (request),
                        xmpp_stanza_get_id (request));
}

xmpp_stanza_t *
ea_stanza_iq_error (xmpp_ctx_t *ctx, xmpp_stanza_t *request, const char *type, const char *condition)
{
  xmpp_stanza_t *iq = ea_stanza_new (ctx, "iq", "error", xmpp_stanza_get_from (request),
                                     xmpp_stanza_get_id (request));
  xmpp_stanza_t *error = ea_stanza_add_child (iq, "error", NULL);

  xmpp_stanza_set_attribute (error, "type", type);
  ea_stanza_add_child (error, condition, EA_NS_STANZAS);
  return iq;
}

xmpp_stanza_t *
ea_stanza_child (xmpp_stanza_t *stanza, const char *name, const char *ns)
{
  if (stanza == NULL)
    return NULL;
  if (ns == NULL)
    return xmpp_stanza_get_child_by_name (stanza, name);
  return xmpp_stanza_get_child_by_name_and_ns (stanza, name, ns);
}

char *
ea_stanza_child_text (xmpp_stanza_t *stanza, const char *name)
{
  xmpp_stanza_t *child = ea_stanza_child (stanza, name, NULL);
  char *raw;
  char *text;

  if (child == NULL)
    return NULL;
  raw = xmpp_stanza_get_text (child);
  text = g_strdup (raw ? raw : "");
  if (raw != NULL)
    xmpp_free (xmpp_stanza_get_context (stanza), raw);
  return text;
}

gboolean
ea_stanza_attr_uint (xmpp_stanza_t *stanza, const char *name, guint64 max, guint64 *out)
{
  const char *value = stanza ? xmpp_stanza_get_attribute (stanza, name) : NULL;

  return value != NULL && g_ascii_string_to_unsigned (value, 10, 0, max, out, NULL);
}

gboolean
ea_stanza_is_type (xmpp_stanza_t *stanza, const char *type)
{
  return g_strcmp0 (xmpp_stanza_get_type (stanza), type) == 0;
}

/* ------------------------------------------------------------------ */
/* Presence                                                            */
/* ------------------------------------------------------------------ */

/**
 * ea_presence_parse:
 *
 * Reads an available presence. Returns %FALSE for anything else
 * (unavailable, subscription requests, errors).
 */
gboolean
ea_presence_parse (xmpp_stanza_t *stanza, EaPresence *out)
{
  static const char * const shows[] = { "chat", "away", "xa", "dnd", NULL };
  g_autofree char *show = NULL;
  g_autofree char *priority = NULL;
  xmpp_stanza_t *load, *caps;
  guint64 v;

  memset (out, 0, sizeof *out);
  if (g_strcmp0 (xmpp_stanza_get_name (stanza), "presence") != 0 ||
      xmpp_stanza_get_type (stanza) != NULL)
    return FALSE;

  show = ea_stanza_child_text (stanza, "show");
  if (show != NULL)
    g_strstrip (show);
  out->show = g_strdup (show && g_strv_contains (shows, show) ? show : "available");
  out->message = ea_stanza_child_text (stanza, "status");
  if (out->message != NULL && !g_utf8_validate (out->message, -1, NULL))
    g_clear_pointer (&out->message, g_free);

  priority = ea_stanza_child_text (stanza, "priority");
  if (priority != NULL)
    {
      gint64 p;

      if (g_ascii_string_to_signed (g_strstrip (priority), 10, -128, 127, &p, NULL))
        out->priority = (int) p;
    }

  load = ea_stanza_child (stanza, "load", EA_NS);
  if (load != NULL)
    {
      out->has_load = TRUE;
      out->has_daemon = TRUE;
      if (ea_stanza_attr_uint (load, "sessions", 100000, &v))
        out->sessions = (guint) v;
      if (ea_stanza_attr_uint (load, "max", 100000, &v))
        out->max_sessions = (guint) v;
    }

  caps = ea_stanza_child (stanza, "c", EA_NS_CAPS);
  if (caps != NULL)
    {
      const char *node = xmpp_stanza_get_attribute (caps, "node");
      const char *ver = xmpp_stanza_get_attribute (caps, "ver");

      if (node != NULL && ver != NULL && strlen (node) < 1024 && strlen (ver) < 256)
        {
          out->caps_node = g_strdup (node);
          out->caps_ver = g_strdup (ver);
          if (g_str_equal (ver, ea_caps_ver ()) && g_str_equal (node, EA_CAPS_NODE))
            out->has_daemon = TRUE;
        }
    }
  return TRUE;
}

/* Our own presence: the show, the text, caps, and for experts the load,
 * so that agents' daemons know who can take more work without asking. */
xmpp_stanza_t *
ea_presence_build (xmpp_ctx_t *ctx,
                   const char *status,
                   const char *message,
                   gboolean    expert,
                   guint       sessions,
                   guint       max_sessions)
{
  xmpp_stanza_t *p = ea_stanza_new (ctx, "presence", NULL, NULL, NULL);
  xmpp_stanza_t *c, *load;

  if (g_strcmp0 (status, "available") != 0)
    ea_stanza_add_text (p, "show", NULL, status);
  if (message != NULL && *message != '\0')
    ea_stanza_add_text (p, "status", NULL, message);
  ea_stanza_add_text (p, "priority", NULL, "1");

  c = ea_stanza_add_child (p, "c", EA_NS_CAPS);
  xmpp_stanza_set_attribute (c, "hash", "sha-1");
  xmpp_stanza_set_attribute (c, "node", EA_CAPS_NODE);
  xmpp_stanza_set_attribute (c, "ver", ea_caps_ver ());

  if (expert)
    {
      load = ea_stanza_add_child (p, "load", EA_NS);
      ea_stanza_set_attr_uint (load, "sessions", sessions);
      ea_stanza_set_attr_uint (load, "max", max_sessions);
    }
  return p;
}

/* ------------------------------------------------------------------ */
/* disco#info and caps (XEP-0030, XEP-0115)                            */
/* ------------------------------------------------------------------ */

#define IDENTITY_CATEGORY "client"
#define IDENTITY_TYPE "pc"
#define IDENTITY_NAME "Expert Assist"

static const char * const features[] = {
  EA_NS_CAPS,
  EA_NS_CHATSTATES,
  EA_NS_DISCO_INFO,
  EA_NS_MUC,
  EA_NS_RECEIPTS,
  EA_NS_CONFERENCE,
  EA_NS,
  EA_NS_PING,
  NULL
};

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

const char *
ea_caps_ver (void)
{
  static char *ver;

  if (g_once_init_enter (&ver))
    {
      g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
      g_autoptr(GString) s = g_string_new (NULL);
      g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA1);
      guint8 digest[20];
      gsize len = sizeof digest;

      for (guint i = 0; features[i]; i++)
        g_ptr_array_add (sorted, (gpointer) features[i]);
      g_ptr_array_sort (sorted, compare_strings);

      g_string_append (s, IDENTITY_CATEGORY "/" IDENTITY_TYPE "//" IDENTITY_NAME "<");
      for (guint i = 0; i < sorted->len; i++)
        g_string_append_printf (s, "%s<", (const char *) g_ptr_array_index (sorted, i));

      g_checksum_update (sum, (const guchar *) s->str, (gssize) s->len);
      g_checksum_get_digest (sum, digest, &len);
      g_once_init_leave (&ver, g_base64_encode (digest, len));
    }
  return ver;
}

xmpp_stanza_t *
ea_disco_info_result (xmpp_ctx_t *ctx, xmpp_stanza_t *request)
{
  xmpp_stanza_t *iq = ea_stanza_iq_result (ctx, request);
  xmpp_stanza_t *req_query = ea_stanza_child (request, "query", EA_NS_DISCO_INFO);
  xmpp_stanza_t *query = ea_stanza_add_child (iq, "query", EA_NS_DISCO_INFO);
  xmpp_stanza_t *identity = ea_stanza_add_child (query, "identity", NULL);
  const char *node = req_query ? xmpp_stanza_get_attribute (req_query, "node") : NULL;

  if (node != NULL)
    xmpp_stanza_set_attribute (query, "node", node);
  xmpp_stanza_set_attribute (identity, "category", IDENTITY_CATEGORY);
  xmpp_stanza_set_attribute (identity, "type", IDENTITY_TYPE);
  xmpp_stanza_set_attribute (identity, "name", IDENTITY_NAME);
  for (guint i = 0; features[i]; i++)
    {
      xmpp_stanza_t *f = ea_stanza_add_child (query, "feature", NULL);

      xmpp_stanza_set_attribute (f, "var", features[i]);
    }
  return iq;
}

gboolean
ea_disco_info_has_feature (xmpp_stanza_t *result, const char *feature)
{
  xmpp_stanza_t *query = ea_stanza_child (result, "query", EA_NS_DISCO_INFO);

  for (xmpp_stanza_t *c = query ? xmpp_stanza_get_children (query) : NULL; c;
       c = xmpp_stanza_get_next (c))
    if (g_strcmp0 (xmpp_stanza_get_name (c), "feature") == 0 &&
        g_strcmp0 (xmpp_stanza_get_attribute (c, "var"), feature) == 0)
      return TRUE;
  return FALSE;
}
