/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The statistics of GetStatistics (DESIGN sections 3 and 9) as text for a
 * terminal, as one self-contained HTML5 file (inline CSS and SVG, no
 * script, nothing fetched) and as CSV rows.
 */
#define G_LOG_DOMAIN "ea-cli"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "ea-cli-report.h"
#include "ea-cli-util.h"

typedef enum {
  FIGURE_COUNT,
  FIGURE_SECONDS,
  FIGURE_RATIO,
  FIGURE_NUMBER,
} FigureKind;

typedef struct {
  const char *key;
  const char *label;
  FigureKind kind;
} Figure;

/* The headline, in the order a supervisor reads it. */
static const Figure headline[] = {
  { "requests", N_("Requests"), FIGURE_COUNT },
  { "answered", N_("Answered"), FIGURE_COUNT },
  { "cancelled", N_("Cancelled"), FIGURE_COUNT },
  { "expired", N_("Expired"), FIGURE_COUNT },
  { "failed", N_("Failed"), FIGURE_COUNT },
  { "queued", N_("Queued"), FIGURE_COUNT },
  { "time-to-answer-avg", N_("Time to answer, average"), FIGURE_SECONDS },
  { "time-to-answer-p50", N_("Time to answer, median"), FIGURE_SECONDS },
  { "time-to-answer-p90", N_("Time to answer, 90th percentile"), FIGURE_SECONDS },
  { "service-level", N_("Service level"), FIGURE_RATIO },
  { "queue-wait-avg", N_("Queue wait, average"), FIGURE_SECONDS },
  { "handle-time-avg", N_("Handle time, average"), FIGURE_SECONDS },
  { "offers", N_("Offers"), FIGURE_COUNT },
  { "offers-per-request", N_("Offers per request"), FIGURE_NUMBER },
  { "offers-accepted", N_("Offers accepted"), FIGURE_COUNT },
  { "offers-declined", N_("Offers declined"), FIGURE_COUNT },
  { "offers-expired", N_("Offers expired"), FIGURE_COUNT },
  { "offers-withdrawn", N_("Offers withdrawn"), FIGURE_COUNT },
};

/* The columns of the per-group and per-expert tables. */
static const Figure row_columns[] = {
  { "requests", N_("Requests"), FIGURE_COUNT },
  { "answered", N_("Answered"), FIGURE_COUNT },
  { "service-level", N_("Service level"), FIGURE_RATIO },
  { "time-to-answer-avg", N_("Answer avg"), FIGURE_SECONDS },
  { "time-to-answer-p90", N_("Answer p90"), FIGURE_SECONDS },
  { "queue-wait-avg", N_("Queue wait"), FIGURE_SECONDS },
  { "handle-time-avg", N_("Handle time"), FIGURE_SECONDS },
  { "offers", N_("Offers"), FIGURE_COUNT },
  { "offers-accepted", N_("Accepted"), FIGURE_COUNT },
  { "offers-declined", N_("Declined"), FIGURE_COUNT },
  { "offers-expired", N_("Expired"), FIGURE_COUNT },
  { "offers-withdrawn", N_("Withdrawn"), FIGURE_COUNT },
};

/* Every key a CSV row may carry, after "section". */
static const char *const csv_columns[] = {
  "section", "start", "upto", "id", "address",
  "requests", "answered", "cancelled", "expired", "failed", "queued",
  "time-to-answer-avg", "time-to-answer-p50", "time-to-answer-p90",
  "service-level", "service-level-target", "queue-wait-avg", "handle-time-avg",
  "offers", "offers-per-request", "offers-accepted", "offers-declined",
  "offers-expired", "offers-withdrawn", "count",
};

/* ------------------------------------------------------------------ */
/* Reading the a{sv}                                                    */
/* ------------------------------------------------------------------ */

static gboolean
lookup_number (GVariant *dict, const char *key, double *out)
{
  g_autoptr(GVariant) value = NULL;

  if (dict == NULL)
    return FALSE;
  value = g_variant_lookup_value (dict, key, NULL);
  if (value == NULL)
    return FALSE;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    *out = (double) g_variant_get_int64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = (double) g_variant_get_uint64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (value);
  else
    return FALSE;
  return TRUE;
}

static double
number (GVariant *dict, const char *key)
{
  double value = 0;

  lookup_number (dict, key, &value);
  return value;
}

static gint64
lookup_int64 (GVariant *dict, const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, NULL);

  if (value == NULL)
    return 0;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return g_variant_get_int64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return (gint64) g_variant_get_uint64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (value);
  return 0;
}

static char *
lookup_string (GVariant *dict, const char *key)
{
  const char *text = NULL;

  if (dict != NULL && g_variant_lookup (dict, key, "&s", &text))
    return g_strdup (text);
  return g_strdup ("");
}

/* An aa{sv} member as an array of its rows (each an a{sv}). */
static GPtrArray *
lookup_rows (GVariant *stats, const char *key)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GVariant) value = g_variant_lookup_value (stats, key, G_VARIANT_TYPE ("aa{sv}"));

  if (value != NULL)
    {
      gsize n = g_variant_n_children (value);

      for (gsize i = 0; i < n; i++)
        g_ptr_array_add (rows, g_variant_get_child_value (value, i));
    }
  return rows;
}

static guint
target_seconds (GVariant *stats)
{
  double target = 20;

  lookup_number (stats, "service-level-target", &target);
  return (guint) target;
}

/* A figure for people. */
static char *
figure_text (GVariant *dict, const Figure *figure)
{
  double value;

  if (!lookup_number (dict, figure->key, &value))
    return g_strdup ("–");
  switch (figure->kind)
    {
    case FIGURE_COUNT:
      return g_strdup_printf ("%.0f", value);
    case FIGURE_SECONDS:
      return ea_cli_format_seconds (value);
    case FIGURE_RATIO:
      return g_strdup_printf ("%.0f %%", value * 100);
    case FIGURE_NUMBER:
    default:
      return g_strdup_printf ("%.2f", value);
    }
}

/* A value for machines: integers as integers, doubles shortest. */
static char *
value_text (GVariant *dict, const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, NULL);

  if (value == NULL)
    return g_strdup ("");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    return ea_cli_format_number (g_variant_get_double (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_strdup_printf ("%" G_GUINT32_FORMAT, g_variant_get_uint32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return g_strdup_printf ("%" G_GINT32_FORMAT, g_variant_get_int32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "true" : "false");
  return g_variant_print (value, FALSE);
}

/* ------------------------------------------------------------------ */
/* Range                                                               */
/* ------------------------------------------------------------------ */

char *
ea_cli_report_range (const EaCliReportInfo *info)
{
  const char *format = "%Y-%m-%d %H:%M";
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;

  to = ea_cli_format_time (info->until != 0 ? info->until : info->generated, info->tz, format);
  if (info->since == 0)
    return g_strdup_printf (_("everything up to %s"), to);
  from = ea_cli_format_time (info->since, info->tz, format);
  return g_strdup_printf (_("%s to %s"), from, to);
}

static char *
report_scope (const EaCliReportInfo *info)
{
  GString *out = g_string_new (NULL);
  const char *role = info->role != NULL && *info->role != '\0' ? info->role : "agent";

  if (g_strcmp0 (role, "expert") == 0)
    g_string_append (out, _("as expert"));
  else
    g_string_append (out, _("as agent"));
  g_string_append (out, ", ");
  if (info->group != NULL && *info->group != '\0')
    g_string_append_printf (out, _("group %s"), info->group);
  else
    g_string_append (out, _("every group"));
  if (info->expert != NULL && *info->expert != '\0')
    {
      g_string_append (out, ", ");
      g_string_append_printf (out, _("expert %s"), info->expert);
    }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* SVG                                                                 */
/* ------------------------------------------------------------------ */

char *
ea_cli_html_escape (const char *text)
{
  return g_markup_escape_text (text != NULL ? text : "", -1);
}

/* A step of 1, 2 or 5 times a power of ten giving at most 5 intervals,
 * never below 1 (the charts count things). */
static double
nice_step (double max)
{
  double magnitude;

  if (max <= 5)
    return 1;
  magnitude = pow (10, floor (log10 (max / 5)));
  for (int i = 0; i < 4; i++)
    {
      static const double factors[] = { 1, 2, 5, 10 };
      double step = factors[i] * magnitude;

      if (max / step <= 5)
        return step;
    }
  return 10 * magnitude;
}

static void
append_coord (GString *out, const char *name, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.1f", value);
  /* "12.0" reads better as "12". */
  if (g_str_has_suffix (buf, ".0"))
    buf[strlen (buf) - 2] = '\0';
  g_string_append_printf (out, " %s=\"%s\"", name, buf);
}

/* A bar chart as an inline <svg>: one <rect class="bar"> per bar, in
 * order, each with a <title> tooltip; a y axis with round ticks; the
 * labels thinned to about 12. */
char *
ea_cli_svg_bar_chart (const EaCliBar          *bars,
                      gsize                    n_bars,
                      const EaCliChartOptions *options)
{
  const double left = 48, right = 12, top = 12, bottom = 36;
  double width = options != NULL && options->width > 0 ? options->width : 720;
  double height = options != NULL && options->height > 0 ? options->height : 240;
  const char *title = options != NULL && options->title != NULL ? options->title : "";
  double plot_w = width - left - right;
  double plot_h = height - top - bottom;
  double max = 0, step, scale_max, slot;
  gsize label_every;
  g_autofree char *escaped_title = ea_cli_html_escape (title);
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < n_bars; i++)
    if (isfinite (bars[i].value) && bars[i].value > max)
      max = bars[i].value;
  step = nice_step (max);
  scale_max = MAX (step, ceil (max / step) * step);
  slot = n_bars > 0 ? plot_w / (double) n_bars : plot_w;
  label_every = n_bars > 12 ? (n_bars + 11) / 12 : 1;

  g_string_append_printf (out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
                          "role=\"img\" aria-label=\"%s\"", escaped_title);
  append_coord (out, "width", width);
  append_coord (out, "height", height);
  g_string_append_printf (out, " viewBox=\"0 0 %.0f %.0f\">\n", width, height);
  g_string_append_printf (out, "<title>%s</title>\n", escaped_title);

  /* Grid and ticks */
  g_string_append (out, "<g class=\"grid\">\n");
  for (double tick = 0; tick <= scale_max + step / 2; tick += step)
    {
      double y = top + plot_h - tick / scale_max * plot_h;

      g_string_append (out, "<line");
      append_coord (out, "x1", left);
      append_coord (out, "y1", y);
      append_coord (out, "x2", left + plot_w);
      append_coord (out, "y2", y);
      g_string_append (out, "/>");
      g_string_append (out, "<text class=\"tick\"");
      append_coord (out, "x", left - 6);
      append_coord (out, "y", y + 4);
      g_string_append_printf (out, " text-anchor=\"end\">%.0f</text>\n", tick);
    }
  g_string_append (out, "</g>\n");

  if (options != NULL && options->unit != NULL)
    {
      g_autofree char *unit = ea_cli_html_escape (options->unit);

      g_string_append (out, "<text class=\"unit\"");
      append_coord (out, "x", 4);
      append_coord (out, "y", top - 2);
      g_string_append_printf (out, ">%s</text>\n", unit);
    }

  /* Bars */
  g_string_append (out, "<g class=\"bars\">\n");
  for (gsize i = 0; i < n_bars; i++)
    {
      double value = isfinite (bars[i].value) && bars[i].value > 0 ? bars[i].value : 0;
      double h = value / scale_max * plot_h;
      g_autofree char *data = ea_cli_format_number (bars[i].value);

      g_string_append (out, "<rect class=\"bar\"");
      append_coord (out, "x", left + slot * (double) i + slot * 0.1);
      append_coord (out, "y", top + plot_h - h);
      append_coord (out, "width", MAX (slot * 0.8, 1));
      append_coord (out, "height", h);
      g_string_append_printf (out, " data-value=\"%s\">", data);
      if (bars[i].title != NULL)
        {
          g_autofree char *tip = ea_cli_html_escape (bars[i].title);

          g_string_append_printf (out, "<title>%s</title>", tip);
        }
      g_string_append (out, "</rect>\n");
    }
  g_string_append (out, "</g>\n");

  /* Axis and labels */
  g_string_append (out, "<line class=\"axis\"");
  append_coord (out, "x1", left);
  append_coord (out, "y1", top + plot_h);
  append_coord (out, "x2", left + plot_w);
  append_coord (out, "y2", top + plot_h);
  g_string_append (out, "/>\n<g class=\"labels\">\n");
  for (gsize i = 0; i < n_bars; i += label_every)
    {
      g_autofree char *label = NULL;

      if (bars[i].label == NULL)
        continue;
      label = ea_cli_html_escape (bars[i].label);
      g_string_append (out, "<text");
      append_coord (out, "x", left + slot * (double) i + slot / 2);
      append_coord (out, "y", top + plot_h + 16);
      g_string_append_printf (out, " text-anchor=\"middle\">%s</text>\n", label);
    }
  g_string_append (out, "</g>\n");
  if (n_bars == 0)
    {
      g_string_append (out, "<text class=\"empty\"");
      append_coord (out, "x", left + plot_w / 2);
      append_coord (out, "y", top + plot_h / 2);
      g_string_append_printf (out, " text-anchor=\"middle\">%s</text>\n", _("No data"));
    }
  g_string_append (out, "</svg>\n");
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* Charts from the statistics                                           */
/* ------------------------------------------------------------------ */

static char *
hours_chart (GVariant *stats, GTimeZone *tz)
{
  g_autoptr(GPtrArray) rows = lookup_rows (stats, "hours");
  g_autofree EaCliBar *bars = g_new0 (EaCliBar, MAX (rows->len, 1));
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  EaCliChartOptions options = { _("Answers per hour"), _("answered"), 0, 0 };

  for (guint i = 0; i < rows->len; i++)
    {
      GVariant *row = g_ptr_array_index (rows, i);
      gint64 start = lookup_int64 (row, "start");
      g_autofree char *hour = ea_cli_format_time (start, tz, "%H:%M");
      g_autofree char *day = ea_cli_format_time (start, tz, "%Y-%m-%d %H:%M");
      char *label;
      char *title;

      /* The day where it changes, the hour elsewhere. */
      if (i == 0 || g_str_has_prefix (hour, "00:"))
        label = ea_cli_format_time (start, tz, "%b %d");
      else
        label = g_strdup (hour);
      title = g_strdup_printf (_("%s: %.0f answered of %.0f requests, %.0f offers"), day,
                               number (row, "answered"), number (row, "requests"),
                               number (row, "offers"));
      g_ptr_array_add (strings, label);
      g_ptr_array_add (strings, title);
      bars[i].label = label;
      bars[i].title = title;
      bars[i].value = number (row, "answered");
    }
  return ea_cli_svg_bar_chart (bars, rows->len, &options);
}

/* "≤ 5 s", "5–10 s", ..., "> 300 s": each bin from the previous bound. */
static char *
histogram_label (guint upto, guint previous)
{
  if (upto == 0)
    return g_strdup_printf (_("> %u s"), previous);
  if (previous == 0)
    return g_strdup_printf (_("≤ %u s"), upto);
  return g_strdup_printf (_("%u–%u s"), previous, upto);
}

static char *
histogram_chart (GVariant *stats)
{
  g_autoptr(GPtrArray) rows = lookup_rows (stats, "time-to-answer-histogram");
  g_autofree EaCliBar *bars = g_new0 (EaCliBar, MAX (rows->len, 1));
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  EaCliChartOptions options = { _("Time to answer"), _("requests"), 0, 0 };
  guint previous = 0;

  for (guint i = 0; i < rows->len; i++)
    {
      GVariant *row = g_ptr_array_index (rows, i);
      guint upto = (guint) number (row, "upto");
      double count = number (row, "count");
      char *label = histogram_label (upto, previous);
      char *title = g_strdup_printf (_("%s: %.0f requests"), label, count);

      g_ptr_array_add (strings, label);
      g_ptr_array_add (strings, title);
      bars[i].label = label;
      bars[i].title = title;
      bars[i].value = count;
      if (upto != 0)
        previous = upto;
    }
  return ea_cli_svg_bar_chart (bars, rows->len, &options);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

static const char report_css[] =
  "body{font-family:system-ui,-apple-system,'Segoe UI',Cantarell,sans-serif;"
  "margin:2em auto;max-width:70em;padding:0 1em;color:#1d1d1d;background:#fff}"
  "h1{font-size:1.6em;margin-bottom:.2em}"
  "p.scope{color:#555;margin-top:0}"
  "dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(13em,1fr));"
  "gap:.6em;margin:1.5em 0}"
  "dl.figures div{border:1px solid #ddd;border-radius:6px;padding:.5em .8em}"
  "dl.figures dt{font-size:.85em;color:#555}"
  "dl.figures dd{margin:0;font-size:1.4em;font-variant-numeric:tabular-nums}"
  "svg.chart{max-width:100%;height:auto;font-size:11px}"
  "svg.chart .bar{fill:#3584e4}"
  "svg.chart .grid line{stroke:#e5e5e5}"
  "svg.chart .axis{stroke:#888}"
  "svg.chart text{fill:#555}"
  "table{border-collapse:collapse;margin:1em 0;font-variant-numeric:tabular-nums}"
  "th,td{padding:.3em .7em;border-bottom:1px solid #e5e5e5;text-align:right}"
  "th:first-child,td:first-child{text-align:left}"
  "footer{margin-top:2em;color:#777;font-size:.85em}"
  "@media print{body{margin:0}}";

static void
html_row_table (GString *out, GVariant *stats, const char *key, const char *id_key,
                const char *id_heading)
{
  g_autoptr(GPtrArray) rows = lookup_rows (stats, key);
  g_autofree char *heading = ea_cli_html_escape (id_heading);

  if (rows->len == 0)
    {
      g_string_append_printf (out, "<p class=\"empty\">%s</p>\n", _("No data."));
      return;
    }
  g_string_append_printf (out, "<table class=\"%s\">\n<thead><tr><th>%s</th>", key, heading);
  for (gsize c = 0; c < G_N_ELEMENTS (row_columns); c++)
    {
      g_autofree char *label = ea_cli_html_escape (_(row_columns[c].label));

      g_string_append_printf (out, "<th>%s</th>", label);
    }
  g_string_append (out, "</tr></thead>\n<tbody>\n");
  for (guint r = 0; r < rows->len; r++)
    {
      GVariant *row = g_ptr_array_index (rows, r);
      g_autofree char *id = lookup_string (row, id_key);
      g_autofree char *id_html = ea_cli_html_escape (id);

      g_string_append_printf (out, "<tr><td>%s</td>", id_html);
      for (gsize c = 0; c < G_N_ELEMENTS (row_columns); c++)
        {
          g_autofree char *text = figure_text (row, &row_columns[c]);
          g_autofree char *text_html = ea_cli_html_escape (text);
          g_autofree char *raw = value_text (row, row_columns[c].key);

          g_string_append_printf (out, "<td data-key=\"%s\" data-value=\"%s\">%s</td>",
                                  row_columns[c].key, raw, text_html);
        }
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</tbody>\n</table>\n");
}

char *
ea_cli_report_html (GVariant *stats, const EaCliReportInfo *info)
{
  g_autofree char *range = ea_cli_report_range (info);
  g_autofree char *scope = report_scope (info);
  g_autofree char *title = g_strdup_printf (_("Expert Assist report, %s"), range);
  g_autofree char *title_html = ea_cli_html_escape (title);
  g_autofree char *scope_html = ea_cli_html_escape (scope);
  g_autofree char *hours = hours_chart (stats, info->tz);
  g_autofree char *histogram = histogram_chart (stats);
  g_autofree char *generated = ea_cli_format_time (info->generated, info->tz,
                                                   "%Y-%m-%d %H:%M:%S %Z");
  g_autofree char *generated_html = ea_cli_html_escape (generated);
  GString *out = g_string_new (NULL);

  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  g_string_append (out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  g_string_append (out, "<meta name=\"generator\" content=\"expert-assist " PACKAGE_VERSION "\">\n");
  g_string_append_printf (out, "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n",
                          title_html, report_css);
  g_string_append_printf (out, "<h1>%s</h1>\n<p class=\"scope\">%s</p>\n", title_html, scope_html);

  g_string_append (out, "<dl class=\"figures\">\n");
  for (gsize i = 0; i < G_N_ELEMENTS (headline); i++)
    {
      g_autofree char *label = NULL;
      g_autofree char *text = figure_text (stats, &headline[i]);
      g_autofree char *text_html = ea_cli_html_escape (text);
      g_autofree char *raw = value_text (stats, headline[i].key);

      if (strcmp (headline[i].key, "service-level") == 0)
        label = g_strdup_printf (_("Service level (answered within %u s)"),
                                 target_seconds (stats));
      else
        label = g_strdup (_(headline[i].label));
      {
        g_autofree char *label_html = ea_cli_html_escape (label);

        g_string_append_printf (out, "<div><dt>%s</dt><dd data-key=\"%s\" data-value=\"%s\">"
                                "%s</dd></div>\n", label_html, headline[i].key, raw, text_html);
      }
    }
  g_string_append (out, "</dl>\n");

  g_string_append_printf (out, "<h2>%s</h2>\n<figure class=\"hours\">\n%s</figure>\n",
                          _("Answers per hour"), hours);
  g_string_append_printf (out, "<h2>%s</h2>\n<figure class=\"time-to-answer\">\n%s</figure>\n",
                          _("Time to answer"), histogram);

  g_string_append_printf (out, "<h2>%s</h2>\n", _("By group"));
  html_row_table (out, stats, "groups", "id", _("Group"));
  g_string_append_printf (out, "<h2>%s</h2>\n", _("By expert"));
  html_row_table (out, stats, "experts", "address", _("Expert"));

  g_string_append_printf (out, "<footer>%s</footer>\n</body>\n</html>\n",
                          generated_html);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

/* One row: SECTION, then for each column the value of ROW's key of the
 * same name (or of OVERRIDES). */
static void
csv_row_from (GString *out, const char *section, GVariant *row, GHashTable *overrides)
{
  const char *fields[G_N_ELEMENTS (csv_columns)];
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);

  fields[0] = section;
  for (gsize c = 1; c < G_N_ELEMENTS (csv_columns); c++)
    {
      const char *override = overrides != NULL ? g_hash_table_lookup (overrides, csv_columns[c])
                                                : NULL;
      char *text;

      if (override != NULL)
        text = g_strdup (override);
      else if (strcmp (csv_columns[c], "start") == 0 || strcmp (csv_columns[c], "upto") == 0)
        text = g_strdup ("");   /* set through overrides only */
      else
        text = value_text (row, csv_columns[c]);
      g_ptr_array_add (owned, text);
      fields[c] = text;
    }
  ea_cli_csv_row (out, fields, G_N_ELEMENTS (csv_columns));
}

/* One file, one header, a "section" column: total (one row), hour (start
 * as ISO 8601 UTC), time-to-answer (upto in seconds, empty above the last
 * bound), group (id), expert (address). */
char *
ea_cli_report_csv (GVariant *stats, const EaCliReportInfo *info)
{
  GString *out = g_string_new (NULL);
  g_autoptr(GPtrArray) hours = lookup_rows (stats, "hours");
  g_autoptr(GPtrArray) histogram = lookup_rows (stats, "time-to-answer-histogram");
  g_autoptr(GPtrArray) groups = lookup_rows (stats, "groups");
  g_autoptr(GPtrArray) experts = lookup_rows (stats, "experts");

  ea_cli_csv_row (out, (const char * const *) csv_columns, G_N_ELEMENTS (csv_columns));
  csv_row_from (out, "total", stats, NULL);

  for (guint i = 0; i < hours->len; i++)
    {
      GVariant *row = g_ptr_array_index (hours, i);
      g_autoptr(GHashTable) overrides = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                               NULL, g_free);

      g_hash_table_insert (overrides, (gpointer) "start",
                           ea_cli_format_iso8601 (lookup_int64 (row, "start")));
      csv_row_from (out, "hour", row, overrides);
    }
  for (guint i = 0; i < histogram->len; i++)
    {
      GVariant *row = g_ptr_array_index (histogram, i);
      g_autoptr(GHashTable) overrides = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                               NULL, g_free);
      guint upto = (guint) number (row, "upto");

      if (upto > 0)
        g_hash_table_insert (overrides, (gpointer) "upto", g_strdup_printf ("%u", upto));
      csv_row_from (out, "time-to-answer", row, overrides);
    }
  for (guint i = 0; i < groups->len; i++)
    csv_row_from (out, "group", g_ptr_array_index (groups, i), NULL);
  for (guint i = 0; i < experts->len; i++)
    csv_row_from (out, "expert", g_ptr_array_index (experts, i), NULL);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

static void
text_row_table (GString *out, GVariant *stats, const char *key, const char *id_key,
                const char *heading, const char *id_heading)
{
  g_autoptr(GPtrArray) rows = lookup_rows (stats, key);
  g_autoptr(EaCliTable) table = NULL;
  g_autofree char *text = NULL;

  if (rows->len == 0)
    return;
  table = ea_cli_table_new (1 + G_N_ELEMENTS (row_columns));
  {
    char **header = g_new0 (char *, G_N_ELEMENTS (row_columns) + 2);

    header[0] = g_utf8_strup (id_heading, -1);
    for (gsize c = 0; c < G_N_ELEMENTS (row_columns); c++)
      header[c + 1] = g_utf8_strup (_(row_columns[c].label), -1);
    ea_cli_table_add_take (table, header);
  }
  for (gsize c = 0; c < G_N_ELEMENTS (row_columns); c++)
    ea_cli_table_align_right (table, (guint) c + 1);
  for (guint r = 0; r < rows->len; r++)
    {
      GVariant *row = g_ptr_array_index (rows, r);
      char **cells = g_new0 (char *, G_N_ELEMENTS (row_columns) + 2);

      cells[0] = lookup_string (row, id_key);
      for (gsize c = 0; c < G_N_ELEMENTS (row_columns); c++)
        cells[c + 1] = figure_text (row, &row_columns[c]);
      ea_cli_table_add_take (table, cells);
    }
  text = ea_cli_table_to_string (table, "  ");
  g_string_append_printf (out, "\n%s\n%s", heading, text);
}

char *
ea_cli_stats_text (GVariant *stats, const EaCliReportInfo *info)
{
  GString *out = g_string_new (NULL);
  g_autofree char *range = ea_cli_report_range (info);
  g_autofree char *scope = report_scope (info);
  g_autoptr(EaCliTable) table = ea_cli_table_new (2);
  g_autofree char *table_text = NULL;
  g_autofree char *avg = ea_cli_format_seconds (number (stats, "time-to-answer-avg"));
  g_autofree char *p50 = ea_cli_format_seconds (number (stats, "time-to-answer-p50"));
  g_autofree char *p90 = ea_cli_format_seconds (number (stats, "time-to-answer-p90"));
  g_autofree char *queue = ea_cli_format_seconds (number (stats, "queue-wait-avg"));
  g_autofree char *handle = ea_cli_format_seconds (number (stats, "handle-time-avg"));
  g_autofree char *c1 = NULL, *c2 = NULL, *c3 = NULL, *c4 = NULL, *c5 = NULL, *c6 = NULL;
  g_autofree char *c7 = NULL, *c8 = NULL;

  g_string_append_printf (out, _("Statistics, %s (%s)\n\n"), range, scope);

  c1 = g_strdup_printf (_("%.0f (answered %.0f, cancelled %.0f, expired %.0f, failed %.0f; "
                          "%.0f were queued)"),
                        number (stats, "requests"), number (stats, "answered"),
                        number (stats, "cancelled"), number (stats, "expired"),
                        number (stats, "failed"), number (stats, "queued"));
  ea_cli_table_add (table, _("Requests"), c1, NULL);
  c2 = g_strdup_printf ("%.0f", number (stats, "answered"));
  ea_cli_table_add (table, _("Answered"), c2, NULL);
  c3 = g_strdup_printf (_("average %s, median %s, 90th percentile %s"), avg, p50, p90);
  ea_cli_table_add (table, _("Time to answer"), c3, NULL);
  c4 = g_strdup_printf (_("%.0f %% answered within %u s"),
                        number (stats, "service-level") * 100, target_seconds (stats));
  ea_cli_table_add (table, _("Service level"), c4, NULL);
  c5 = g_strdup_printf (_("average %s"), queue);
  ea_cli_table_add (table, _("Queue wait"), c5, NULL);
  c6 = g_strdup_printf (_("average %s"), handle);
  ea_cli_table_add (table, _("Handle time"), c6, NULL);
  c7 = g_strdup_printf (_("%.0f (%.2f per request)"), number (stats, "offers"),
                        number (stats, "offers-per-request"));
  ea_cli_table_add (table, _("Offers"), c7, NULL);
  c8 = g_strdup_printf (_("accepted %.0f, declined %.0f, expired %.0f, withdrawn %.0f"),
                        number (stats, "offers-accepted"), number (stats, "offers-declined"),
                        number (stats, "offers-expired"), number (stats, "offers-withdrawn"));
  ea_cli_table_add (table, _("Offer outcomes"), c8, NULL);

  table_text = ea_cli_table_to_string (table, "");
  g_string_append (out, table_text);
  text_row_table (out, stats, "groups", "id", _("By group"), _("Group"));
  text_row_table (out, stats, "experts", "address", _("By expert"), _("Expert"));
  return g_string_free (out, FALSE);
}
