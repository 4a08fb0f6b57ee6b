/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

#include "ea-roster.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmpp_stanza_t, xmpp_stanza_release)

#define EA_NS_ROSTER "jabber:iq:roster"
#define EA_NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define EA_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define EA_NS_CAPS "http://jabber.org/protocol/caps"
#define EA_NS_PING "urn:xmpp:ping"
#define EA_NS_RECEIPTS "urn:xmpp:receipts"
#define EA_NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define EA_NS_MUC "http://jabber.org/protocol/muc"
#define EA_NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define EA_NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define EA_NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
#define EA_NS_CONFERENCE "jabber:x:conference"
#define EA_NS_HINTS "urn:xmpp:hints"
#define EA_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define EA_NS_DATA "jabber:x:data"
#define EA_NS_DELAY "urn:xmpp:delay"

/* Building */
xmpp_stanza_t *ea_stanza_new          (xmpp_ctx_t    *ctx,
                                       const char    *name,
                                       const char    *type,
                                       const char    *to,
                                       const char    *id);
xmpp_stanza_t *ea_stanza_add_child    (xmpp_stanza_t *parent,
                                       const char    *name,
                                       const char    *ns);
void           ea_stanza_add_text     (xmpp_stanza_t *parent,
                                       const char    *name,
                                       const char    *ns,
                                       const char    *text);
void           ea_stanza_set_attr     (xmpp_stanza_t *stanza,
                                       const char    *name,
                                       const char    *value);
void           ea_stanza_set_attr_uint (xmpp_stanza_t *stanza,
                                        const char    *name,
                                        guint64        value);
xmpp_stanza_t *ea_stanza_iq_result    (xmpp_ctx_t    *ctx,
                                       xmpp_stanza_t *request);
xmpp_stanza_t *ea_stanza_iq_error     (xmpp_ctx_t    *ctx,
                                       xmpp_stanza_t *request,
                                       const char    *type,
                                       const char    *condition);

/* Reading */
xmpp_stanza_t *ea_stanza_child        (xmpp_stanza_t *stanza,
                                       const char    *name,
                                       const char    *ns);
char          *ea_stanza_child_text   (xmpp_stanza_t *stanza,
                                       const char    *name);
gboolean       ea_stanza_attr_uint    (xmpp_stanza_t *stanza,
                                       const char    *name,
                                       guint64        max,
                                       guint64       *out);
gboolean       ea_stanza_is_type      (xmpp_stanza_t *stanza,
                                       const char    *type);

/* Presence */
gboolean       ea_presence_parse      (xmpp_stanza_t *stanza,
                                       EaPresence    *out);
xmpp_stanza_t *ea_presence_build      (xmpp_ctx_t    *ctx,
                                       const char    *status,
                                       const char    *message,
                                       gboolean       expert,
                                       guint          sessions,
                                       guint          max_sessions);

/* The control elements of section 5 */
#define EA_MAX_SUMMARY_CHARS 200
#define EA_MAX_DETAILS_BYTES 4096
#define EA_MAX_FIELD_BYTES 1024
#define EA_MAX_MESSAGE_BYTES 65536
#define EA_REPLY_CODE_LEN 4

typedef struct {
  char *id;             /* REQID */
  char *group;
  char *summary;
  char *agent;          /* the agent's bare address */
  char *agent_name;
  gint64 expires;       /* unix us, from the expires attribute; 0 if absent */
  guint timeout;        /* seconds left when sent */
  guint experts;
  GVariant *query;      /* a{sv}: channel, customer, reference, details (s each) */
  GStrv masked;         /* query fields left out until assigned */
} EaOfferInfo;

typedef enum {
  EA_CONTROL_NONE,
  EA_CONTROL_ACCEPT,
  EA_CONTROL_DECLINE,
  EA_CONTROL_ASSIGNED,
  EA_CONTROL_WITHDRAW,
  EA_CONTROL_CLOSE,
} EaControlKind;

typedef struct {
  EaControlKind kind;
  char *id;             /* REQID (not for close) */
  char *session;        /* assigned, close */
  char *reason;         /* decline, withdraw */
  char *by;             /* withdraw: who took it */
  char *room;           /* assigned for several experts */
  GVariant *query;      /* assigned: the masked fields, a{sv} */
} EaControl;

void           ea_offer_info_clear    (EaOfferInfo   *info);
xmpp_stanza_t *ea_offer_build         (xmpp_ctx_t         *ctx,
                                       const EaOfferInfo  *info,
                                       const char         *to,
                                       const char         *type,
                                       const char         *body,
                                       const char         *stanza_id);
gboolean       ea_offer_parse         (xmpp_stanza_t *message,
                                       EaOfferInfo   *out,
                                       GError       **error);
char          *ea_offer_body          (const EaOfferInfo *info,
                                       const char        *group_name,
                                       const char        *language);
gboolean       ea_query_is_valid      (GVariant          *query,
                                       GError           **error);

void           ea_control_clear       (EaControl     *control);
xmpp_stanza_t *ea_control_build       (xmpp_ctx_t      *ctx,
                                       const EaControl *control,
                                       const char      *to,
                                       const char      *type,
                                       const char      *stanza_id);
gboolean       ea_control_parse       (xmpp_stanza_t *message,
                                       EaControl     *out,
                                       GError       **error);
const char    *ea_control_kind_name   (EaControlKind  kind);

gboolean       ea_reply_parse         (const char    *body,
                                       gboolean      *accept,
                                       char         **code,
                                       char         **reason);

void           ea_stanza_add_no_store (xmpp_stanza_t *message);
char          *ea_message_body        (xmpp_stanza_t *message);
char          *ea_message_thread      (xmpp_stanza_t *message);

/* Service discovery and capabilities */
const char    *ea_caps_ver            (void);
xmpp_stanza_t *ea_disco_info_result   (xmpp_ctx_t    *ctx,
                                       xmpp_stanza_t *request);
gboolean       ea_disco_info_has_feature (xmpp_stanza_t *result,
                                          const char    *feature);

G_END_DECLS
