/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <strophe.h>

G_BEGIN_DECLS

typedef enum {
  EA_XMPP_DISCONNECTED,
  EA_XMPP_CONNECTING,
  EA_XMPP_CONNECTED,
  EA_XMPP_AUTH_FAILED,
  EA_XMPP_ERROR,
} EaXmppState;

typedef enum {
  EA_TLS_REQUIRED,
  EA_TLS_TRUST_SELF_SIGNED,
  EA_TLS_NONE,
} EaTlsPolicy;

#define EA_TYPE_XMPP (ea_xmpp_get_type ())
G_DECLARE_FINAL_TYPE (EaXmpp, ea_xmpp, EA, XMPP, GObject)

/**
 * EaXmppIqCallback:
 * @xmpp: the connection
 * @reply: the result or error iq, or %NULL when the connection went away
 *   before an answer came
 * @user_data: what was passed along
 */
typedef void (*EaXmppIqCallback) (EaXmpp        *xmpp,
                                  xmpp_stanza_t *reply,
                                  gpointer       user_data);

EaXmpp       *ea_xmpp_new              (void);

void          ea_xmpp_configure        (EaXmpp      *self,
                                        const char  *jid,
                                        const char  *password,
                                        const char  *host,
                                        guint16      port,
                                        EaTlsPolicy  tls);
void          ea_xmpp_set_error        (EaXmpp      *self,
                                        EaXmppState  state,
                                        const char  *message);
void          ea_xmpp_start            (EaXmpp      *self);
void          ea_xmpp_stop             (EaXmpp      *self);

EaXmppState   ea_xmpp_get_state        (EaXmpp      *self);
const char   *ea_xmpp_get_state_name   (EaXmpp      *self);
const char   *ea_xmpp_get_error        (EaXmpp      *self);
const char   *ea_xmpp_get_jid          (EaXmpp      *self);
const char   *ea_xmpp_get_full_jid     (EaXmpp      *self);
gboolean      ea_xmpp_is_connected     (EaXmpp      *self);

xmpp_ctx_t   *ea_xmpp_get_ctx          (EaXmpp      *self);
char         *ea_xmpp_new_id           (EaXmpp      *self);
gboolean      ea_xmpp_send             (EaXmpp        *self,
                                        xmpp_stanza_t *stanza);
void          ea_xmpp_send_iq          (EaXmpp           *self,
                                        xmpp_stanza_t    *iq,
                                        EaXmppIqCallback  callback,
                                        gpointer          user_data);

const char   *ea_xmpp_state_to_string  (EaXmppState  state);
gboolean      ea_tls_policy_from_string (const char  *text,
                                         EaTlsPolicy *out);

G_END_DECLS
