/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Statistics for people and machines: the text of `expert-assist stats`,
 * the self-contained HTML report with its SVG charts, and the CSV rows
 * behind it. All of it from one GetStatistics a{sv}; nothing here talks
 * to the bus.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *label;   /* under the bar; thinned out when crowded */
  double      value;
  const char *title;   /* tooltip, NULL for none */
} EaCliBar;

typedef struct {
  const char *title;   /* the chart's accessible name */
  const char *unit;    /* what the y axis counts, NULL for none */
  guint       width;   /* 0: 720 */
  guint       height;  /* 0: 240 */
} EaCliChartOptions;

char *ea_cli_svg_bar_chart (const EaCliBar          *bars,
                            gsize                    n_bars,
                            const EaCliChartOptions *options);

typedef struct {
  gint64      since;      /* unix us, 0 when open */
  gint64      until;      /* unix us, 0 when open (then: generated) */
  gint64      generated;  /* unix us */
  const char *group;      /* NULL or "" for every group */
  const char *expert;     /* NULL or "" for every expert */
  const char *role;       /* "agent" or "expert" */
  GTimeZone  *tz;         /* NULL: local time */
} EaCliReportInfo;

char *ea_cli_html_escape    (const char            *text);
char *ea_cli_report_range   (const EaCliReportInfo *info);
char *ea_cli_report_html    (GVariant              *stats,
                             const EaCliReportInfo *info);
char *ea_cli_report_csv     (GVariant              *stats,
                             const EaCliReportInfo *info);
char *ea_cli_stats_text     (GVariant              *stats,
                             const EaCliReportInfo *info);

G_END_DECLS
