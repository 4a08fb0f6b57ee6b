/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define EA_BUS_NAME "org.example.ExpertAssist"
#define EA_ROOT_PATH "/org/example/ExpertAssist"

/* By data, not by function: -Wpedantic forbids function pointers as void *. */
#define ea_block_handlers(instance, data) \
  g_signal_handlers_block_matched ((instance), G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, (data))
#define ea_unblock_handlers(instance, data) \
  g_signal_handlers_unblock_matched ((instance), G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, (data))

char       *ea_describe_error        (const GError *error);
const char *ea_status_label          (const char *status);
const char *ea_connection_label      (const char *state);
const char *ea_request_state_label   (const char *state);
const char *ea_offer_reason_label    (const char *reason);
const char *ea_channel_label         (const char *channel);
const char *ea_mode_label            (const char *mode);
char       *ea_format_time           (gint64 unix_us);
char       *ea_format_date_time      (gint64 unix_us);
char       *ea_format_duration       (double seconds);
char       *ea_lookup_string         (GVariant *dict,
                                      const char *key);
guint       ea_lookup_uint           (GVariant *dict,
                                      const char *key);
double      ea_lookup_double         (GVariant *dict,
                                      const char *key);
gint64      ea_lookup_int64          (GVariant *dict,
                                      const char *key);
char       *ea_join_addresses        (const char * const *addresses);
void        ea_list_box_clear        (GtkListBox *box);

G_END_DECLS
