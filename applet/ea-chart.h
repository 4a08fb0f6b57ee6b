/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define EA_TYPE_CHART (ea_chart_get_type ())
G_DECLARE_FINAL_TYPE (EaChart, ea_chart, EA, CHART, GtkWidget)

GtkWidget *ea_chart_new       (void);
void       ea_chart_set_title (EaChart            *self,
                               const char         *title);
void       ea_chart_set_data  (EaChart            *self,
                               const char * const *labels,
                               const double       *values,
                               guint               n_values);
void       ea_chart_clear     (EaChart            *self);

G_END_DECLS
