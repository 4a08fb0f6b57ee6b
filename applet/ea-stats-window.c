/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Statistics: GetStatistics for the agent's own requests or the expert's
 * own offers, as figures and charts (answers per hour, time-to-answer
 * histogram, per group, per expert).
 */
#define G_LOG_DOMAIN "ea-stats"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-applet-util.h"
#include "ea-chart.h"
#include "ea-stats-window.h"

struct _EaStatsWindow
{
  AdwApplicationWindow  parent_instance;
  gboolean               disposed;

  EaAppletApplication  *application;
  EaDaemonClient       *client;
  GCancellable         *cancellable;

  GtkDropDown          *role_drop;
  GtkDropDown          *period_drop;
  GtkLabel             *status_label;
  GtkFlowBox           *figures_box;
  EaChart              *hours_chart;
  EaChart              *histogram_chart;
  EaChart              *groups_chart;
  EaChart              *experts_chart;
};

G_DEFINE_FINAL_TYPE (EaStatsWindow, ea_stats_window, ADW_TYPE_APPLICATION_WINDOW)

static const gint64 period_days[] = { 1, 7, 30, 365 };

static void
add_figure (EaStatsWindow *self, const char *value, const char *caption)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *number = gtk_label_new (value);
  GtkWidget *text = gtk_label_new (caption);

  gtk_widget_add_css_class (box, "card");
  gtk_widget_add_css_class (box, "ea-figure");
  gtk_widget_add_css_class (number, "title-2");
  gtk_widget_add_css_class (text, "caption");
  gtk_widget_add_css_class (text, "dim-label");
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_box_append (GTK_BOX (box), number);
  gtk_box_append (GTK_BOX (box), text);
  gtk_flow_box_append (self->figures_box, box);
}

static void
add_count (EaStatsWindow *self, GVariant *stats, const char *key, const char *caption)
{
  g_autofree char *value = g_strdup_printf ("%u", ea_lookup_uint (stats, key));

  add_figure (self, value, caption);
}

static void
add_duration (EaStatsWindow *self, GVariant *stats, const char *key, const char *caption)
{
  g_autofree char *value = ea_format_duration (ea_lookup_double (stats, key));

  add_figure (self, value, caption);
}

static void
chart_rows (EaChart *chart, GVariant *stats, const char *list_key, const char *label_key,
            const char *value_key, EaStatsWindow *self)
{
  g_autoptr(GVariant) rows = g_variant_lookup_value (stats, list_key, G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) values = g_array_new (FALSE, TRUE, sizeof (double));
  gsize n = rows ? g_variant_n_children (rows) : 0;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) row = g_variant_get_child_value (rows, i);
      double value = ea_lookup_uint (row, value_key);
      char *label;

      if (g_str_equal (label_key, "start"))
        label = ea_format_time (ea_lookup_int64 (row, "start"));
      else if (g_str_equal (label_key, "upto"))
        {
          guint upto = ea_lookup_uint (row, "upto");
          /* Translators: a histogram bin; "more" is above the last bound */
          label = upto ? g_strdup_printf ("≤%u", upto) : g_strdup (_("more"));
        }
      else if (g_str_equal (label_key, "address"))
        {
          g_autofree char *address = ea_lookup_string (row, "address");
          label = g_strdup (address ? ea_daemon_client_expert_name (self->client, address) : "");
        }
      else
        {
          g_autofree char *id = ea_lookup_string (row, label_key);
          const EaGroupInfo *info = ea_daemon_client_find_group (self->client, id);
          label = g_strdup (info ? info->name : (id ? id : ""));
        }
      g_ptr_array_add (labels, label);
      g_array_append_val (values, value);
    }
  ea_chart_set_data (chart, (const char *const *) labels->pdata, (double *) values->data,
                     values->len);
}

/* The "hours" rows, one per hour in the range, folded onto the hour of the
 * day: a week of hourly bars would be too thin to read. */
static void
chart_hour_of_day (EaChart *chart, GVariant *stats, const char *value_key)
{
  g_autoptr(GVariant) rows = g_variant_lookup_value (stats, "hours", G_VARIANT_TYPE ("aa{sv}"));
  double values[24] = { 0 };
  char *labels[24];
  gsize n = rows ? g_variant_n_children (rows) : 0;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) row = g_variant_get_child_value (rows, i);
      g_autoptr(GDateTime) start = g_date_time_new_from_unix_local (ea_lookup_int64 (row, "start")
                                                                     / G_USEC_PER_SEC);

      if (start != NULL)
        values[g_date_time_get_hour (start)] += ea_lookup_uint (row, value_key);
    }
  for (guint h = 0; h < 24; h++)
    labels[h] = g_strdup_printf ("%u", h);
  if (n > 0)
    ea_chart_set_data (chart, (const char *const *) labels, values, 24);
  else
    ea_chart_clear (chart);
  for (guint h = 0; h < 24; h++)
    g_free (labels[h]);
}

static void
statistics_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaStatsWindow) self = user_data;
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *child;
  gboolean expert = gtk_drop_down_get_selected (self->role_drop) == 1;

  if (!ea_expert_assist_call_get_statistics_finish (EA_EXPERT_ASSIST (source), &stats, result,
                                                    &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      gtk_label_set_text (self->status_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->figures_box))) != NULL)
    gtk_flow_box_remove (self->figures_box, child);
  if (!expert)
    {
      g_autofree char *level = g_strdup_printf ("%.0f %%",
                                                100.0 * ea_lookup_double (stats, "service-level"));
      g_autofree char *caption = g_strdup_printf (_("Answered within %u s"),
                                                  ea_lookup_uint (stats, "service-level-target"));

      add_count (self, stats, "requests", _("Requests"));
      add_count (self, stats, "answered", _("Answered"));
      add_figure (self, level, caption);
      add_duration (self, stats, "time-to-answer-avg", _("Average time to answer"));
      add_duration (self, stats, "time-to-answer-p90", _("9 in 10 answered within"));
      add_duration (self, stats, "handle-time-avg", _("Average chat length"));
      add_count (self, stats, "expired", _("Expired"));
      add_count (self, stats, "cancelled", _("Cancelled"));
    }
  else
    {
      add_count (self, stats, "offers", _("Offers received"));
      add_count (self, stats, "offers-accepted", _("Accepted"));
      add_count (self, stats, "offers-declined", _("Declined"));
      add_count (self, stats, "offers-expired", _("Not answered in time"));
      add_count (self, stats, "offers-withdrawn", _("Taken by others"));
      add_duration (self, stats, "handle-time-avg", _("Average chat length"));
    }

  chart_hour_of_day (self->hours_chart, stats, expert ? "offers" : "answered");
  chart_rows (self->histogram_chart, stats, "time-to-answer-histogram", "upto", "count", self);
  chart_rows (self->groups_chart, stats, "groups", "id", expert ? "offers-accepted" : "answered",
              self);
  chart_rows (self->experts_chart, stats, "experts", "address", "offers-accepted", self);
  ea_chart_set_title (self->hours_chart, expert ? _("Offers by hour of the day")
                                                : _("Answered by hour of the day"));
}

static void
refresh_cb (EaStatsWindow *self)
{
  EaExpertAssist *root;
  GVariantBuilder filter;
  guint period;
  gboolean expert;

  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  period = gtk_drop_down_get_selected (self->period_drop);
  expert = gtk_drop_down_get_selected (self->role_drop) == 1;
  root = ea_daemon_client_get_root (self->client);
  if (root == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "role",
                         g_variant_new_string (expert ? "expert" : "agent"));
  if (period < G_N_ELEMENTS (period_days))
    g_variant_builder_add (&filter, "{sv}", "since",
                           g_variant_new_int64 (g_get_real_time () -
                                                period_days[period] * G_USEC_PER_SEC * 86400));
  ea_expert_assist_call_get_statistics (root, g_variant_builder_end (&filter),
                                        self->cancellable, statistics_cb, g_object_ref (self));
}

static void
ea_stats_window_dispose (GObject *object)
{
  EaStatsWindow *self = EA_STATS_WINDOW (object);

  self->disposed = TRUE;
  gtk_widget_dispose_template (GTK_WIDGET (self), EA_TYPE_STATS_WINDOW);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);

  G_OBJECT_CLASS (ea_stats_window_parent_class)->dispose (object);
}

static void
ea_stats_window_finalize (GObject *object)
{
  EaStatsWindow *self = EA_STATS_WINDOW (object);

  g_clear_object (&self->client);

  G_OBJECT_CLASS (ea_stats_window_parent_class)->finalize (object);
}

static void
ea_stats_window_class_init (EaStatsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ea_stats_window_dispose;
  object_class->finalize = ea_stats_window_finalize;

  g_type_ensure (EA_TYPE_CHART);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/ExpertAssist/Applet/ea-stats-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, role_drop);
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, period_drop);
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, figures_box);
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, hours_chart);
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, histogram_chart);
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, groups_chart);
  gtk_widget_class_bind_template_child (widget_class, EaStatsWindow, experts_chart);
  gtk_widget_class_bind_template_callback (widget_class, refresh_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ea_stats_window_init (EaStatsWindow *self)
{
  const char *roles[] = { _("My requests (as agent)"), _("My answers (as expert)"), NULL };
  const char *periods[] = { _("Today"), _("Last 7 days"), _("Last 30 days"), _("Last year"),
                            NULL };
  g_autoptr(GtkStringList) role_model = gtk_string_list_new (roles);
  g_autoptr(GtkStringList) period_model = gtk_string_list_new (periods);

  gtk_widget_init_template (GTK_WIDGET (self));
  ea_block_handlers (self->role_drop, self);
  ea_block_handlers (self->period_drop, self);
  gtk_drop_down_set_model (self->role_drop, G_LIST_MODEL (role_model));
  gtk_drop_down_set_model (self->period_drop, G_LIST_MODEL (period_model));
  gtk_drop_down_set_selected (self->period_drop, 1);
  ea_unblock_handlers (self->role_drop, self);
  ea_unblock_handlers (self->period_drop, self);
}

GtkWidget *
ea_stats_window_new (EaAppletApplication *application)
{
  EaStatsWindow *self = g_object_new (EA_TYPE_STATS_WINDOW, "application", application, NULL);

  self->application = application;
  self->client = g_object_ref (ea_applet_application_get_client (application));
  refresh_cb (self);
  return GTK_WIDGET (self);
}
