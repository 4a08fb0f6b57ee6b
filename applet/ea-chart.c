/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A bar chart drawn with GtkSnapshot and cairo: a title, one bar per
 * value with its label underneath and its value above, in the style's
 * accent and foreground colours (so dark style works). Screen readers get
 * the figures as the accessible description.
 */
#define G_LOG_DOMAIN "ea-chart"

#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "ea-chart.h"

struct _EaChart
{
  GtkWidget  parent_instance;

  char      *title;
  GPtrArray *labels;
  GArray    *values;
};

G_DEFINE_FINAL_TYPE (EaChart, ea_chart, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TITLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_accessible (EaChart *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < self->values->len; i++)
    g_string_append_printf (text, "%s%s: %g", i ? ", " : "",
                            (const char *) g_ptr_array_index (self->labels, i),
                            g_array_index (self->values, double, i));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, self->title ? self->title : "",
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text->len ? text->str : _("No data"),
                                  -1);
}

static PangoLayout *
make_layout (EaChart *self, const char *text, double scale)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);

  if (scale != 1.0)
    {
      PangoFontDescription *font = pango_font_description_copy (
        pango_context_get_font_description (pango_layout_get_context (layout)));

      pango_font_description_set_size (font,
                                       (int) (pango_font_description_get_size (font) * scale));
      pango_layout_set_font_description (layout, font);
      pango_font_description_free (font);
    }
  return layout;
}

static void
draw_text (cairo_t *cr, PangoLayout *layout, double x, double y, double align)
{
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - w * align, y);
  pango_cairo_show_layout (cr, layout);
}

static void
ea_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  EaChart *self = EA_CHART (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  GdkRGBA fg, accent;
  cairo_t *cr;
  double top = 28, bottom = 34, left = 8, right = 8;
  double max = 0, plot_w, plot_h, slot;
  guint n = self->values->len;
  guint label_every = 1;

  if (width <= 0 || height <= 0)
    return;
  gtk_style_context_get_color (style, &fg);
  if (!gtk_style_context_lookup_color (style, "accent_bg_color", &accent))
    gdk_rgba_parse (&accent, "#3584e4");

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (self->title != NULL)
    {
      g_autoptr(PangoLayout) layout = make_layout (self, self->title, 1.0);

      gdk_cairo_set_source_rgba (cr, &fg);
      draw_text (cr, layout, left, 2, 0);
    }

  plot_w = width - left - right;
  plot_h = height - top - bottom;
  if (n == 0 || plot_w <= 0 || plot_h <= 0)
    {
      g_autoptr(PangoLayout) layout = make_layout (self, _("No data yet"), 1.0);
      GdkRGBA dim = fg;

      dim.alpha *= 0.55;
      gdk_cairo_set_source_rgba (cr, &dim);
      draw_text (cr, layout, width / 2.0, height / 2.0 - 8, 0.5);
      cairo_destroy (cr);
      return;
    }

  for (guint i = 0; i < n; i++)
    max = MAX (max, g_array_index (self->values, double, i));
  if (max <= 0)
    max = 1;
  slot = plot_w / n;
  while (label_every < n && slot * label_every < 36)
    label_every++;

  /* Base line */
  {
    GdkRGBA line = fg;

    line.alpha *= 0.3;
    gdk_cairo_set_source_rgba (cr, &line);
    cairo_set_line_width (cr, 1);
    cairo_move_to (cr, left, top + plot_h + 0.5);
    cairo_line_to (cr, left + plot_w, top + plot_h + 0.5);
    cairo_stroke (cr);
  }

  for (guint i = 0; i < n; i++)
    {
      double value = g_array_index (self->values, double, i);
      double bar_h = plot_h * 0.85 * value / max;
      double bar_w = CLAMP (slot * 0.7, 2.0, 48.0);
      double x = left + slot * i + (slot - bar_w) / 2;
      double y = top + plot_h - bar_h;

      gdk_cairo_set_source_rgba (cr, &accent);
      cairo_rectangle (cr, x, y, bar_w, bar_h);
      cairo_fill (cr);

      if (value > 0 && slot >= 18)
        {
          g_autofree char *text = fabs (value - round (value)) < 0.005
                                  ? g_strdup_printf ("%.0f", value)
                                  : g_strdup_printf ("%.1f", value);
          g_autoptr(PangoLayout) layout = make_layout (self, text, 0.8);

          gdk_cairo_set_source_rgba (cr, &fg);
          draw_text (cr, layout, x + bar_w / 2, y - 16, 0.5);
        }
      if (i % label_every == 0)
        {
          g_autoptr(PangoLayout) layout = make_layout (self, g_ptr_array_index (self->labels, i),
                                                       0.8);
          GdkRGBA dim = fg;

          dim.alpha *= 0.7;
          gdk_cairo_set_source_rgba (cr, &dim);
          pango_layout_set_width (layout, (int) (slot * label_every * PANGO_SCALE));
          pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
          pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
          cairo_move_to (cr, left + slot * i + slot / 2 - slot * label_every / 2,
                         top + plot_h + 4);
          pango_cairo_show_layout (cr, layout);
        }
    }
  cairo_destroy (cr);
}

static void
ea_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                  int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 200;
      *natural = 320;
    }
  else
    {
      *minimum = 150;
      *natural = 180;
    }
}

static void
ea_chart_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  EaChart *self = EA_CHART (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ea_chart_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  EaChart *self = EA_CHART (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      ea_chart_set_title (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ea_chart_finalize (GObject *object)
{
  EaChart *self = EA_CHART (object);

  g_free (self->title);
  g_ptr_array_unref (self->labels);
  g_array_unref (self->values);

  G_OBJECT_CLASS (ea_chart_parent_class)->finalize (object);
}

static void
ea_chart_class_init (EaChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ea_chart_finalize;
  object_class->get_property = ea_chart_get_property;
  object_class->set_property = ea_chart_set_property;
  widget_class->snapshot = ea_chart_snapshot;
  widget_class->measure = ea_chart_measure;

  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL,
                                                G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                                                G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "chart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
ea_chart_init (EaChart *self)
{
  self->labels = g_ptr_array_new_with_free_func (g_free);
  self->values = g_array_new (FALSE, TRUE, sizeof (double));
  update_accessible (self);
}

GtkWidget *
ea_chart_new (void)
{
  return g_object_new (EA_TYPE_CHART, NULL);
}

void
ea_chart_set_title (EaChart *self, const char *title)
{
  g_return_if_fail (EA_IS_CHART (self));

  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

void
ea_chart_set_data (EaChart *self, const char * const *labels, const double *values,
                   guint n_values)
{
  g_return_if_fail (EA_IS_CHART (self));

  g_ptr_array_set_size (self->labels, 0);
  g_array_set_size (self->values, 0);
  for (guint i = 0; i < n_values; i++)
    {
      g_ptr_array_add (self->labels, g_strdup (labels[i]));
      g_array_append_val (self->values, values[i]);
    }
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ea_chart_clear (EaChart *self)
{
  ea_chart_set_data (self, NULL, NULL, 0);
}
