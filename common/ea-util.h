/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EA_ID_LEN 32

char      *ea_id_new               (void);
gboolean   ea_id_is_valid          (const char *id);

gboolean   ea_jid_is_valid         (const char *jid);
gboolean   ea_jid_is_valid_bare    (const char *jid);
char      *ea_jid_bare             (const char *jid);
const char *ea_jid_resource        (const char *jid);
char      *ea_jid_domain           (const char *jid);
char      *ea_jid_localpart        (const char *jid);
gboolean   ea_jid_equal_bare       (const char *a,
                                    const char *b);
char      *ea_jid_short            (const char *jid);

gboolean   ea_status_is_valid      (const char *status);
int        ea_status_rank          (const char *status);

char      *ea_time_to_iso8601      (gint64      unix_us);
gboolean   ea_time_from_iso8601    (const char *text,
                                    gint64     *out_unix_us);

gboolean   ea_parse_server         (const char *text,
                                    char      **out_host,
                                    guint16    *out_port,
                                    GError    **error);
gboolean   ea_host_is_loopback     (const char *host);

gboolean   ea_text_is_one_line     (const char *text);
char      *ea_utf8_cut             (const char *text,
                                    gsize       max_bytes);

G_END_DECLS
