/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What goes over the wire: building and reading stanzas. Everything that
 * reads a stanza treats it as hostile: missing attributes, wrong types and
 * out-of-range numbers make it "not understood", never a crash.
 */
#define G_LOG_DOMAIN "ea-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ea-error.h"
#include "ea-translate.h"
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

/* ------------------------------------------------------------------ */
/* Control stanzas (section 5)                                         */
/* ------------------------------------------------------------------ */

static const char * const query_fields[] = { "channel", "customer", "reference", NULL };

void
ea_stanza_add_no_store (xmpp_stanza_t *message)
{
  /* Control stanzas are transient and may carry customer context:
   * servers must not archive them (XEP-0334). */
  ea_stanza_add_child (message, "no-permanent-store", EA_NS_HINTS);
}

char *
ea_message_body (xmpp_stanza_t *message)
{
  char *body = ea_stanza_child_text (message, "body");

  if (body != NULL && !g_utf8_validate (body, -1, NULL))
    g_clear_pointer (&body, g_free);
  return body;
}

char *
ea_message_thread (xmpp_stanza_t *message)
{
  char *thread = ea_stanza_child_text (message, "thread");

  if (thread != NULL)
    g_strstrip (thread);
  return thread;
}

void
ea_offer_info_clear (EaOfferInfo *info)
{
  g_clear_pointer (&info->id, g_free);
  g_clear_pointer (&info->group, g_free);
  g_clear_pointer (&info->summary, g_free);
  g_clear_pointer (&info->agent, g_free);
  g_clear_pointer (&info->agent_name, g_free);
  g_clear_pointer (&info->query, g_variant_unref);
  g_clear_pointer (&info->masked, g_strfreev);
  memset (info, 0, sizeof *info);
}

static gboolean
text_ok (const char *text, gsize max_bytes)
{
  return text != NULL && strlen (text) <= max_bytes && g_utf8_validate (text, -1, NULL);
}

/**
 * ea_query_is_valid:
 *
 * A query as RequestHelp takes it: "summary" (required, one line, 1 to 200
 * characters), "channel", "customer", "reference" (short lines) and
 * "details" (up to 4 KiB), all strings.
 */
gboolean
ea_query_is_valid (GVariant *query, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;
  const char *summary = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_variant_iter_init (&iter, query);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const char *text;

      /* a{sv} may repeat a key; lookups would see one copy, checks another. */
      if (!g_hash_table_add (seen, (gpointer) key))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The query has the key “%s” twice."), key);
          g_variant_unref (value);
          return FALSE;
        }
      if (!g_str_equal (key, "summary") && !g_str_equal (key, "details") &&
          !g_strv_contains (query_fields, key))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The query has an unknown key “%s”: use summary, channel, customer, "
                         "reference or details."), key);
          g_variant_unref (value);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The query key “%s” must be a string (s), not %s."),
                       key, g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }
      text = g_variant_get_string (value, NULL);
      if (g_str_equal (key, "summary"))
        summary = text;
      else if (g_str_equal (key, "details"))
        {
          if (strlen (text) > EA_MAX_DETAILS_BYTES)
            {
              g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                           _("The details are longer than %d bytes."), EA_MAX_DETAILS_BYTES);
              g_variant_unref (value);
              return FALSE;
            }
        }
      else if (strlen (text) > 200 || !ea_text_is_one_line (text))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The query key “%s” must be one line of at most 200 bytes."), key);
          g_variant_unref (value);
          return FALSE;
        }
    }

  if (summary == NULL)
    {
      g_set_error_literal (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                           _("The query needs a “summary”: one line saying what the "
                             "customer needs."));
      return FALSE;
    }
  {
    g_autofree char *trimmed = g_strstrip (g_strdup (summary));
    glong chars = g_utf8_strlen (summary, -1);

    if (*trimmed == '\0' || chars > EA_MAX_SUMMARY_CHARS || !ea_text_is_one_line (summary))
      {
        g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                     _("The summary must be one line of 1 to %d characters."),
                     EA_MAX_SUMMARY_CHARS);
        return FALSE;
      }
  }
  return TRUE;
}

/* Builds the offer. @info->query must not hold masked fields any more. */
xmpp_stanza_t *
ea_offer_build (xmpp_ctx_t        *ctx,
                const EaOfferInfo *info,
                const char        *to,
                const char        *type,
                const char        *body,
                const char        *stanza_id)
{
  xmpp_stanza_t *m = ea_stanza_new (ctx, "message", type, to, stanza_id);
  xmpp_stanza_t *offer = ea_stanza_add_child (m, "offer", EA_NS);
  xmpp_stanza_t *agent, *query;
  g_autofree char *expires = ea_time_to_iso8601 (info->expires);
  const char *details = NULL;

  xmpp_stanza_set_attribute (offer, "id", info->id);
  xmpp_stanza_set_attribute (offer, "group", info->group);
  xmpp_stanza_set_attribute (offer, "expires", expires);
  ea_stanza_set_attr_uint (offer, "experts", MAX (info->experts, 1));
  ea_stanza_set_attr_uint (offer, "timeout", info->timeout);

  agent = ea_stanza_add_child (offer, "agent", NULL);
  xmpp_stanza_set_attribute (agent, "jid", info->agent);
  if (info->agent_name != NULL)
    xmpp_stanza_set_attribute (agent, "name", info->agent_name);
  ea_stanza_add_text (offer, "summary", NULL, info->summary);

  query = ea_stanza_add_child (offer, "query", NULL);
  for (guint i = 0; query_fields[i]; i++)
    {
      const char *v = NULL;

      if (info->query && g_variant_lookup (info->query, query_fields[i], "&s", &v) && *v)
        xmpp_stanza_set_attribute (query, query_fields[i], v);
    }
  if (info->masked != NULL && info->masked[0] != NULL)
    {
      g_autofree char *masked = g_strjoinv (" ", info->masked);

      xmpp_stanza_set_attribute (query, "masked", masked);
    }
  if (info->query && g_variant_lookup (info->query, "details", "&s", &details) && *details)
    ea_stanza_add_text (query, "details", NULL, details);

  if (body != NULL)
    ea_stanza_add_text (m, "body", NULL, body);
  ea_stanza_add_text (m, "thread", NULL, info->id);
  ea_stanza_add_no_store (m);
  return m;
}

static char *
stanza_text_limited (xmpp_stanza_t *parent, const char *name, gsize max)
{
  g_autofree char *text = ea_stanza_child_text (parent, name);

  if (text == NULL || !text_ok (text, max))
    return NULL;
  return g_steal_pointer (&text);
}

/**
 * ea_offer_parse:
 *
 * Reads the offer element of a message. Anything malformed (a bad id, a
 * summary that is not one line of 1 to 200 characters, oversized fields,
 * invalid UTF-8) makes the whole offer invalid, with a reason for the log.
 */
gboolean
ea_offer_parse (xmpp_stanza_t *message, EaOfferInfo *out, GError **error)
{
  xmpp_stanza_t *offer = ea_stanza_child (message, "offer", EA_NS);
  xmpp_stanza_t *agent, *query;
  const char *id, *group, *expires, *jid, *name;
  guint64 v;
  GVariantBuilder qb;
  g_autoptr(GStrvBuilder) masked = g_strv_builder_new ();

  memset (out, 0, sizeof *out);
  if (offer == NULL)
    return FALSE;

  id = xmpp_stanza_get_attribute (offer, "id");
  group = xmpp_stanza_get_attribute (offer, "group");
  if (!ea_id_is_valid (id))
    {
      g_set_error_literal (error, EA_ERROR, EA_ERROR_INVALID_ARGS, "offer with an invalid id");
      return FALSE;
    }
  if (group == NULL || !text_ok (group, 64))
    {
      g_set_error_literal (error, EA_ERROR, EA_ERROR_INVALID_ARGS, "offer without a valid group");
      return FALSE;
    }

  out->id = g_strdup (id);
  out->group = g_strdup (group);
  out->experts = ea_stanza_attr_uint (offer, "experts", 1000, &v) && v > 0 ? (guint) v : 1;
  out->timeout = ea_stanza_attr_uint (offer, "timeout", 86400, &v) ? (guint) v : 0;
  expires = xmpp_stanza_get_attribute (offer, "expires");
  if (expires != NULL && !ea_time_from_iso8601 (expires, &out->expires))
    out->expires = 0;

  out->summary = stanza_text_limited (offer, "summary", 4 * EA_MAX_SUMMARY_CHARS);
  if (out->summary == NULL || g_utf8_strlen (out->summary, -1) > EA_MAX_SUMMARY_CHARS ||
      !ea_text_is_one_line (out->summary) || *out->summary == '\0')
    {
      g_set_error_literal (error, EA_ERROR, EA_ERROR_INVALID_ARGS, "offer with an invalid summary");
      ea_offer_info_clear (out);
      return FALSE;
    }

  agent = ea_stanza_child (offer, "agent", NULL);
  jid = agent ? xmpp_stanza_get_attribute (agent, "jid") : NULL;
  name = agent ? xmpp_stanza_get_attribute (agent, "name") : NULL;
  if (jid != NULL && ea_jid_is_valid_bare (jid))
    out->agent = ea_jid_bare (jid);
  if (name != NULL && text_ok (name, 256) && ea_text_is_one_line (name))
    out->agent_name = g_strdup (name);

  g_variant_builder_init (&qb, G_VARIANT_TYPE_VARDICT);
  query = ea_stanza_child (offer, "query", NULL);
  if (query != NULL)
    {
      const char *masked_attr = xmpp_stanza_get_attribute (query, "masked");
      g_autofree char *details = NULL;

      for (guint i = 0; query_fields[i]; i++)
        {
          const char *value = xmpp_stanza_get_attribute (query, query_fields[i]);

          if (value != NULL && text_ok (value, EA_MAX_FIELD_BYTES))
            g_variant_builder_add (&qb, "{sv}", query_fields[i], g_variant_new_string (value));
        }
      details = stanza_text_limited (query, "details", EA_MAX_DETAILS_BYTES);
      if (details != NULL && *details)
        g_variant_builder_add (&qb, "{sv}", "details", g_variant_new_string (details));
      if (masked_attr != NULL && text_ok (masked_attr, 256))
        {
          g_auto(GStrv) names = g_strsplit (masked_attr, " ", -1);

          for (guint i = 0; names[i]; i++)
            if (g_strv_contains (query_fields, names[i]) || g_str_equal (names[i], "details"))
              g_strv_builder_add (masked, names[i]);
        }
    }
  out->query = g_variant_ref_sink (g_variant_builder_end (&qb));
  out->masked = g_strv_builder_end (masked);
  return TRUE;
}

static void
append_field (GString *s, const char *label_msgid, const char *value, const char *language)
{
  if (value == NULL || *value == '\0')
    return;
  if (s->len > 0)
    g_string_append (s, " · ");
  g_string_append_printf (s, "%s: %s", ea_translate (language, label_msgid), value);
}

/**
 * ea_offer_body:
 *
 * The readable text of an offer for people with an ordinary client: who
 * asks which group, the summary and the context, and how to answer. The
 * reply grammar itself ("ok CODE", "no CODE") is never translated.
 */
char *
ea_offer_body (const EaOfferInfo *info, const char *group_name, const char *language)
{
  g_autoptr(GString) context = g_string_new (NULL);
  g_autofree char *code = g_strndup (info->id, EA_REPLY_CODE_LEN);
  const char *who = info->agent_name ? info->agent_name : info->agent;
  const char *channel = NULL, *customer = NULL, *reference = NULL, *details = NULL;
  GString *body = g_string_new (NULL);

  if (info->query != NULL)
    {
      g_variant_lookup (info->query, "channel", "&s", &channel);
      g_variant_lookup (info->query, "customer", "&s", &customer);
      g_variant_lookup (info->query, "reference", "&s", &reference);
      g_variant_lookup (info->query, "details", "&s", &details);
    }
  if (info->masked != NULL && g_strv_contains ((const char * const *) info->masked, "customer"))
    customer = ea_translate (language, N_("(shown on accept)"));

  g_string_append_printf (body, ea_translate (language, N_("%s asks %s for help: %s")),
                          who ? who : "?", group_name ? group_name : info->group, info->summary);
  append_field (context, N_("Channel"), channel, language);
  append_field (context, N_("Customer"), customer, language);
  append_field (context, N_("Reference"), reference, language);
  if (context->len > 0)
    g_string_append_printf (body, "\n%s", context->str);
  if (details != NULL && *details)
    g_string_append_printf (body, "\n%s", details);
  g_string_append_c (body, '\n');
  g_string_append_printf (body,
                          ea_translate (language,
                                        N_("Reply “ok %s” to take it, “no %s” to decline.")),
                          code, code);
  return g_string_free (body, FALSE);
}

void
ea_control_clear (EaControl *c)
{
  g_clear_pointer (&c->id, g_free);
  g_clear_pointer (&c->session, g_free);
  g_clear_pointer (&c->reason, g_free);
  g_clear_pointer (&c->by, g_free);
  g_clear_pointer (&c->room, g_free);
  g_clear_pointer (&c->query, g_variant_unref);
  memset (c, 0, sizeof *c);
}

static const char * const control_names[] = {
  NULL, "accept", "decline", "assigned", "withdraw", "close"
};

const char *
ea_control_kind_name (EaControlKind kind)
{
  if ((guint) kind >= G_N_ELEMENTS (control_names))
    return NULL;
  return control_names[kind];
}

xmpp_stanza_t *
ea_control_build (xmpp_ctx_t      *ctx,
                  const EaControl *c,
                  const char      *to,
                  const char      *type,
                  const char      *stanza_id)
{
  xmpp_stanza_t *m = ea_stanza_new (ctx, "message", type ? type : "normal", to, stanza_id);
  xmpp_stanza_t *el = ea_stanza_add_child (m, ea_control_kind_name (c->kind), EA_NS);

  ea_stanza_set_attr (el, "id", c->id);
  ea_stanza_set_attr (el, "session", c->session);
  ea_stanza_set_attr (el, "reason", c->reason);
  ea_stanza_set_attr (el, "by", c->by);
  ea_stanza_set_attr (el, "room", c->room);
  if (c->query != NULL && g_variant_n_children (c->query) > 0)
    {
      xmpp_stanza_t *q = ea_stanza_add_child (el, "query", NULL);
      const char *details = NULL;

      for (guint i = 0; query_fields[i]; i++)
        {
          const char *v = NULL;

          if (g_variant_lookup (c->query, query_fields[i], "&s", &v))
            xmpp_stanza_set_attribute (q, query_fields[i], v);
        }
      if (g_variant_lookup (c->query, "details", "&s", &details))
        ea_stanza_add_text (q, "details", NULL, details);
    }
  if (c->id != NULL)
    ea_stanza_add_text (m, "thread", NULL, c->id);
  ea_stanza_add_no_store (m);
  return m;
}

/**
 * ea_control_parse:
 *
 * Reads accept, decline, assigned, withdraw or close. Ids of any other
 * form than 32 lowercase hex digits make it invalid (DESIGN 9).
 */
gboolean
ea_control_parse (xmpp_stanza_t *message, EaControl *out, GError **error)
{
  xmpp_stanza_t *el = NULL;
  const char *id, *session, *reason, *by, *room;

  memset (out, 0, sizeof *out);
  for (guint k = EA_CONTROL_ACCEPT; k <= EA_CONTROL_CLOSE && el == NULL; k++)
    {
      el = ea_stanza_child (message, control_names[k], EA_NS);
      if (el != NULL)
        out->kind = k;
    }
  if (el == NULL)
    return FALSE;

  id = xmpp_stanza_get_attribute (el, "id");
  session = xmpp_stanza_get_attribute (el, "session");
  reason = xmpp_stanza_get_attribute (el, "reason");
  by = xmpp_stanza_get_attribute (el, "by");
  room = xmpp_stanza_get_attribute (el, "room");

  if (out->kind != EA_CONTROL_CLOSE && !ea_id_is_valid (id))
    goto invalid;
  if ((out->kind == EA_CONTROL_CLOSE || out->kind == EA_CONTROL_ASSIGNED) &&
      !ea_id_is_valid (session))
    goto invalid;
  if (reason != NULL && (!text_ok (reason, 256) || !ea_text_is_one_line (reason)))
    reason = NULL;
  if (by != NULL && !ea_jid_is_valid_bare (by))
    by = NULL;
  if (room != NULL && !ea_jid_is_valid_bare (room))
    goto invalid;

  out->id = g_strdup (id);
  out->session = g_strdup (session);
  out->reason = g_strdup (reason);
  out->by = by ? ea_jid_bare (by) : NULL;
  out->room = room ? ea_jid_bare (room) : NULL;

  if (out->kind == EA_CONTROL_ASSIGNED)
    {
      xmpp_stanza_t *q = ea_stanza_child (el, "query", NULL);
      GVariantBuilder qb;

      g_variant_builder_init (&qb, G_VARIANT_TYPE_VARDICT);
      for (guint i = 0; q != NULL && query_fields[i]; i++)
        {
          const char *v = xmpp_stanza_get_attribute (q, query_fields[i]);

          if (v != NULL && text_ok (v, EA_MAX_FIELD_BYTES))
            g_variant_builder_add (&qb, "{sv}", query_fields[i], g_variant_new_string (v));
        }
      if (q != NULL)
        {
          g_autofree char *details = stanza_text_limited (q, "details", EA_MAX_DETAILS_BYTES);

          if (details != NULL && *details)
            g_variant_builder_add (&qb, "{sv}", "details", g_variant_new_string (details));
        }
      out->query = g_variant_ref_sink (g_variant_builder_end (&qb));
    }
  return TRUE;

invalid:
  g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS, "%s with an invalid id or address",
               control_names[out->kind]);
  ea_control_clear (out);
  return FALSE;
}

/**
 * ea_reply_parse:
 *
 * The answer of an expert with an ordinary client: "ok CODE" accepts,
 * "no CODE [reason]" declines; trimmed, case-insensitive, never translated.
 */
gboolean
ea_reply_parse (const char *body, gboolean *accept, char **code, char **reason)
{
  g_autofree char *text = NULL;
  char *p, *word_end;
  gboolean yes;

  *code = NULL;
  if (reason != NULL)
    *reason = NULL;
  if (body == NULL || strlen (body) > 512)
    return FALSE;

  text = g_strstrip (g_strdup (body));
  if (g_ascii_strncasecmp (text, "ok", 2) == 0 && g_ascii_isspace (text[2]))
    yes = TRUE;
  else if (g_ascii_strncasecmp (text, "no", 2) == 0 && g_ascii_isspace (text[2]))
    yes = FALSE;
  else
    return FALSE;

  p = text + 2;
  while (g_ascii_isspace (*p))
    p++;
  word_end = p;
  while (*word_end && !g_ascii_isspace (*word_end))
    word_end++;
  if (word_end - p != EA_REPLY_CODE_LEN)
    return FALSE;
  for (char *q = p; q < word_end; q++)
    if (!g_ascii_isxdigit (*q))
      return FALSE;

  /* "ok CODE" is the whole message; a decline may give a reason. */
  if (yes && *word_end != '\0')
    return FALSE;

  *accept = yes;
  *code = g_ascii_strdown (p, EA_REPLY_CODE_LEN);
  if (!yes && reason != NULL)
    {
      char *r = word_end;

      while (g_ascii_isspace (*r))
        r++;
      if (*r && ea_text_is_one_line (r) && g_utf8_validate (r, -1, NULL))
        *reason = ea_utf8_cut (r, 256);
    }
  return TRUE;
}
