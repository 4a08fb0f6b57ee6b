/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * History: SearchLog over the daemon's log with a period, group and peer
 * filter; hits show the daemon's snippet (GMarkup, matches in bold), and
 * activating one opens that past session read-only.
 */
#define G_LOG_DOMAIN "ea-history"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-applet-util.h"
#include "ea-history-window.h"

struct _EaHistoryWindow
{
  AdwApplicationWindow  parent_instance;
  gboolean               disposed;

  EaAppletApplication  *application;
  EaDaemonClient       *client;
  GCancellable         *search_cancellable;
  GPtrArray            *group_ids;     /* as in group_drop, [0] = all */

  GtkSearchEntry       *search_entry;
  GtkDropDown          *period_drop;
  GtkDropDown          *group_drop;
  GtkEntry             *peer_entry;
  GtkLabel             *status_label;
  GtkListBox           *results_list;
};

G_DEFINE_FINAL_TYPE (EaHistoryWindow, ea_history_window, ADW_TYPE_APPLICATION_WINDOW)

static const gint64 period_days[] = { 0, 1, 7, 30, 365 };

static GtkWidget *
make_hit_row (EaHistoryWindow *self, GVariant *hit, guint index)
{
  g_autofree char *session = ea_lookup_string (hit, "session");
  g_autofree char *sender = ea_lookup_string (hit, "sender");
  g_autofree char *peer = ea_lookup_string (hit, "peer");
  g_autofree char *group = ea_lookup_string (hit, "group");
  g_autofree char *snippet = ea_lookup_string (hit, "snippet");
  g_autofree char *when = ea_format_date_time (ea_lookup_int64 (hit, "time"));
  g_autofree char *meta = NULL;
  g_autofree char *name = g_strdup_printf ("hit-%u", index);
  const EaGroupInfo *info = ea_daemon_client_find_group (self->client, group);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *top = gtk_label_new (NULL);
  GtkWidget *text = gtk_label_new (NULL);
  const char *who = sender && *sender ? sender : peer;

  meta = g_strdup_printf ("%s · %s%s%s", when,
                          who ? ea_daemon_client_expert_name (self->client, who) : "",
                          group && *group ? " · " : "",
                          info ? info->name : (group ? group : ""));
  gtk_label_set_text (GTK_LABEL (top), meta);
  gtk_label_set_xalign (GTK_LABEL (top), 0);
  gtk_widget_add_css_class (top, "dim-label");
  gtk_widget_add_css_class (top, "caption");
  /* The daemon escapes the snippet and marks the matches. */
  gtk_label_set_markup (GTK_LABEL (text), snippet ? snippet : "");
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_xalign (GTK_LABEL (text), 0);
  gtk_box_append (GTK_BOX (box), top);
  gtk_box_append (GTK_BOX (box), text);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_name (row, name);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), session && *session);
  if (session && *session)
    {
      gtk_widget_set_tooltip_text (row, _("Open this chat"));
      g_object_set_data_full (G_OBJECT (row), "ea-session", g_steal_pointer (&session), g_free);
    }
  return row;
}

static void
search_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaHistoryWindow) self = user_data;
  g_autoptr(GVariant) hits = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *hit;
  guint n = 0;

  if (!ea_expert_assist_call_search_log_finish (EA_EXPERT_ASSIST (source), &hits, result,
                                                &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      ea_list_box_clear (self->results_list);
      gtk_label_set_text (self->status_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->results_list), FALSE);
      return;
    }

  ea_list_box_clear (self->results_list);
  g_variant_iter_init (&iter, hits);
  while ((hit = g_variant_iter_next_value (&iter)) != NULL)
    {
      gtk_list_box_append (self->results_list, make_hit_row (self, hit, n++));
      g_variant_unref (hit);
    }
  if (n == 0)
    gtk_label_set_text (self->status_label, _("Nothing found."));
  else
    {
      g_autofree char *text = g_strdup_printf (ngettext ("%u result", "%u results", n), n);
      gtk_label_set_text (self->status_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->results_list), n > 0);
}

static void
search_cb (EaHistoryWindow *self)
{
  EaExpertAssist *root;
  const char *peer;
  guint period, group;
  GVariantBuilder filter;
  g_autofree char *stripped = NULL;

  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  root = ea_daemon_client_get_root (self->client);
  stripped = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))));
  peer = gtk_editable_get_text (GTK_EDITABLE (self->peer_entry));
  period = gtk_drop_down_get_selected (self->period_drop);
  group = gtk_drop_down_get_selected (self->group_drop);
  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  if (root == NULL || *stripped == '\0')
    return;

  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  if (period > 0 && period < G_N_ELEMENTS (period_days))
    g_variant_builder_add (&filter, "{sv}", "since",
                           g_variant_new_int64 (g_get_real_time () -
                                                period_days[period] * G_USEC_PER_SEC * 86400));
  if (group > 0 && group < self->group_ids->len)
    g_variant_builder_add (&filter, "{sv}", "group",
                           g_variant_new_string (g_ptr_array_index (self->group_ids, group)));
  if (peer != NULL && *peer != '\0')
    g_variant_builder_add (&filter, "{sv}", "peer", g_variant_new_string (peer));
  g_variant_builder_add (&filter, "{sv}", "limit", g_variant_new_uint32 (100));

  gtk_label_set_text (self->status_label, _("Searching…"));
  self->search_cancellable = g_cancellable_new ();
  ea_expert_assist_call_search_log (root, stripped, g_variant_builder_end (&filter),
                                    self->search_cancellable, search_done_cb,
                                    g_object_ref (self));
}

static void
row_activated_cb (EaHistoryWindow *self, GtkListBoxRow *row)
{
  const char *session = g_object_get_data (G_OBJECT (row), "ea-session");

  if (session != NULL)
    ea_applet_application_open_transcript (self->application, session);
}

static void
groups_changed_cb (EaHistoryWindow *self)
{
  GPtrArray *groups;
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);

  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  groups = ea_daemon_client_get_groups (self->client);
  if (self->group_ids->len == groups->len + 1)
    return; /* only the counts moved */
  g_ptr_array_set_size (self->group_ids, 0);
  g_ptr_array_add (self->group_ids, g_strdup (""));
  gtk_string_list_append (list, _("All groups"));
  for (guint i = 0; i < groups->len; i++)
    {
      const EaGroupInfo *info = g_ptr_array_index (groups, i);

      g_ptr_array_add (self->group_ids, g_strdup (info->id));
      gtk_string_list_append (list, info->name);
    }
  ea_block_handlers (self->group_drop, self);
  gtk_drop_down_set_model (self->group_drop, G_LIST_MODEL (list));
  ea_unblock_handlers (self->group_drop, self);
}

static void
ea_history_window_dispose (GObject *object)
{
  EaHistoryWindow *self = EA_HISTORY_WINDOW (object);

  self->disposed = TRUE;
  gtk_widget_dispose_template (GTK_WIDGET (self), EA_TYPE_HISTORY_WINDOW);
  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_pointer (&self->group_ids, g_ptr_array_unref);

  G_OBJECT_CLASS (ea_history_window_parent_class)->dispose (object);
}

static void
ea_history_window_finalize (GObject *object)
{
  EaHistoryWindow *self = EA_HISTORY_WINDOW (object);

  g_clear_object (&self->client);

  G_OBJECT_CLASS (ea_history_window_parent_class)->finalize (object);
}

static void
ea_history_window_class_init (EaHistoryWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ea_history_window_dispose;
  object_class->finalize = ea_history_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/ExpertAssist/Applet/ea-history-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EaHistoryWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, EaHistoryWindow, period_drop);
  gtk_widget_class_bind_template_child (widget_class, EaHistoryWindow, group_drop);
  gtk_widget_class_bind_template_child (widget_class, EaHistoryWindow, peer_entry);
  gtk_widget_class_bind_template_child (widget_class, EaHistoryWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, EaHistoryWindow, results_list);
  gtk_widget_class_bind_template_callback (widget_class, search_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ea_history_window_init (EaHistoryWindow *self)
{
  const char *periods[] = { _("Any time"), _("Today"), _("Last 7 days"), _("Last 30 days"),
                            _("Last year"), NULL };

  g_autoptr(GtkStringList) model = gtk_string_list_new (periods);

  self->group_ids = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drop_down_set_model (self->period_drop, G_LIST_MODEL (model));
}

GtkWidget *
ea_history_window_new (EaAppletApplication *application)
{
  EaHistoryWindow *self = g_object_new (EA_TYPE_HISTORY_WINDOW, "application", application,
                                        NULL);

  self->application = application;
  self->client = g_object_ref (ea_applet_application_get_client (application));
  g_signal_connect_swapped (self->client, "groups-changed", G_CALLBACK (groups_changed_cb), self);
  groups_changed_cb (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
  return GTK_WIDGET (self);
}
