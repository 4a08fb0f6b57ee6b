/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests of the command-line client's pure parts: exit codes, the JSON
 * and CSV writers, date parsing, tables, HTML escaping, the SVG bar chart
 * and the reports, from GetStatistics results built by hand in the shape
 * of DESIGN sections 3 and 9.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "ea-error.h"
#include "ea-cli-util.h"
#include "ea-cli-report.h"

/* 2026-11-24T10:30:00Z */
#define NOW_US (G_GINT64_CONSTANT (1795516200) * G_USEC_PER_SEC)
#define HOUR_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

static guint
count_substrings (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static char *
json_of (GVariant *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  return ea_cli_json_from_variant (owned);
}

/* ------------------------------------------------------------------ */
/* Exit codes and messages                                              */
/* ------------------------------------------------------------------ */

static void
test_exit_codes (void)
{
  static const struct {
    EaError code;
    int exit_code;
  } map[] = {
    { EA_ERROR_NOT_FOUND, 4 },
    { EA_ERROR_INVALID_ARGS, 6 },
    { EA_ERROR_NOT_CONNECTED, 3 },
    { EA_ERROR_TAKEN, 10 },
    { EA_ERROR_EXPIRED, 7 },
    { EA_ERROR_PERMISSION_DENIED, 5 },
    { EA_ERROR_FAILED, 7 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (EA_ERROR, map[i].code, "x");

      g_assert_cmpint (ea_cli_exit_code_for_error (error), ==, map[i].exit_code);
    }

  {
    g_autoptr(GError) unknown = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                                                     "x");
    g_autoptr(GError) spawn = g_error_new_literal (G_DBUS_ERROR,
                                                   G_DBUS_ERROR_SPAWN_CHILD_EXITED, "x");
    g_autoptr(GError) args = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "x");
    g_autoptr(GError) io = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "x");

    g_assert_cmpint (ea_cli_exit_code_for_error (unknown), ==, EA_CLI_EXIT_NO_DAEMON);
    g_assert_cmpint (ea_cli_exit_code_for_error (spawn), ==, EA_CLI_EXIT_NO_DAEMON);
    g_assert_cmpint (ea_cli_exit_code_for_error (args), ==, EA_CLI_EXIT_INVALID_ARGS);
    g_assert_cmpint (ea_cli_exit_code_for_error (io), ==, 1);
    g_assert_cmpint (ea_cli_exit_code_for_error (NULL), ==, 0);
  }
}

static void
test_remote_error_message (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  (void) ea_error_quark ();
  error = g_dbus_error_new_for_dbus_error ("org.example.ExpertAssist.Error.NotFound",
                                           "There is no expert group “nope”.\nSecond line");
  g_assert_error (error, EA_ERROR, EA_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "GDBus.Error:"));
  message = ea_cli_error_message (error);
  g_assert_cmpstr (message, ==, "There is no expert group “nope”. Second line");
  g_assert_cmpint (ea_cli_exit_code_for_error (error), ==, EA_CLI_EXIT_NOT_FOUND);
  /* The caller's error is left as it was. */
  g_assert_true (g_str_has_prefix (error->message, "GDBus.Error:"));
}

/* ------------------------------------------------------------------ */
/* JSON                                                                 */
/* ------------------------------------------------------------------ */

static void
test_json_string (void)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "", "\"\"" },
    { "plain", "\"plain\"" },
    { "a\"b\\c/d", "\"a\\\"b\\\\c/d\"" },
    { "line\nnext\r\ttab\b\f", "\"line\\nnext\\r\\ttab\\b\\f\"" },
    { "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
    { "Grüße €", "\"Grüße €\"" },
    { "a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"" },
    { "bad \xff byte", "\"bad \xef\xbf\xbd byte\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);

      ea_cli_json_string (out, cases[i].in);
      g_assert_cmpstr (out->str, ==, cases[i].out);
    }
  {
    g_autoptr(GString) out = g_string_new (NULL);

    ea_cli_json_string (out, NULL);
    g_assert_cmpstr (out->str, ==, "\"\"");
  }
}

static void
test_json_double (void)
{
  static const struct {
    double in;
    const char *out;
  } cases[] = {
    { 0, "0.0" },
    { 5, "5.0" },
    { 0.1, "0.1" },
    { -0.5, "-0.5" },
    { 12.25, "12.25" },
    { 1e300, "1e+300" },
    { 0.8333333333333334, "0.8333333333333334" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);

      ea_cli_json_double (out, cases[i].in);
      g_assert_cmpstr (out->str, ==, cases[i].out);
      g_assert_cmpfloat (g_ascii_strtod (out->str, NULL), ==, cases[i].in);
    }
  {
    g_autoptr(GString) out = g_string_new (NULL);

    ea_cli_json_double (out, NAN);
    g_string_append_c (out, ',');
    ea_cli_json_double (out, INFINITY);
    g_assert_cmpstr (out->str, ==, "null,null");
  }
  {
    g_autofree char *a = ea_cli_format_number (20);
    g_autofree char *b = ea_cli_format_number (0.1);

    g_assert_cmpstr (a, ==, "20");
    g_assert_cmpstr (b, ==, "0.1");
  }
}

static void
test_json_variant (void)
{
  GVariantBuilder b, rows, row;
  g_autofree char *json = NULL;
  g_autofree char *scalars = NULL;
  g_autofree char *dict = NULL;
  g_autofree char *tuple = NULL;
  g_autofree char *empty = NULL;

  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&row, "{sv}", "id", g_variant_new_string ("billing"));
  g_variant_builder_add (&row, "{sv}", "rate", g_variant_new_double (0.75));
  g_variant_builder_add_value (&rows, g_variant_builder_end (&row));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string ("Billing \"&\" refunds"));
  g_variant_builder_add (&b, "{sv}", "count", g_variant_new_uint32 (5));
  g_variant_builder_add (&b, "{sv}", "time", g_variant_new_int64 (G_GINT64_CONSTANT (-1795516200000000)));
  g_variant_builder_add (&b, "{sv}", "ok", g_variant_new_boolean (TRUE));
  g_variant_builder_add (&b, "{sv}", "no", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&b, "{sv}", "avg", g_variant_new_double (8.5));
  g_variant_builder_add (&b, "{sv}", "skills", g_variant_new_strv ((const char *[]) { "a", "b\n", NULL }, -1));
  g_variant_builder_add (&b, "{sv}", "none", g_variant_new_strv (NULL, 0));
  g_variant_builder_add (&b, "{sv}", "levels", g_variant_new_parsed ("{'refunds': uint32 4}"));
  g_variant_builder_add (&b, "{sv}", "rows", g_variant_builder_end (&rows));
  g_variant_builder_add (&b, "{sv}", "path", g_variant_new_object_path ("/org/example/x"));
  g_variant_builder_add (&b, "{sv}", "nested", g_variant_new_variant (g_variant_new_byte (7)));
  json = json_of (g_variant_builder_end (&b));
  g_assert_cmpstr (json, ==,
                   "{\"name\":\"Billing \\\"&\\\" refunds\",\"count\":5,"
                   "\"time\":-1795516200000000,\"ok\":true,\"no\":false,\"avg\":8.5,"
                   "\"skills\":[\"a\",\"b\\n\"],\"none\":[],\"levels\":{\"refunds\":4},"
                   "\"rows\":[{\"id\":\"billing\",\"rate\":0.75}],"
                   "\"path\":\"/org/example/x\",\"nested\":7}");

  scalars = json_of (g_variant_new_parsed ("(int16 -3, uint16 3, uint64 18446744073709551615, "
                                           "@mi nothing, @mi 4, 1.0)"));
  g_assert_cmpstr (scalars, ==, "[-3,3,18446744073709551615,null,4,1.0]");

  /* JSON keys are strings, whatever the dictionary's key type. */
  dict = json_of (g_variant_new_parsed ("{uint32 1: 'one', 2: 'two'}"));
  g_assert_cmpstr (dict, ==, "{\"1\":\"one\",\"2\":\"two\"}");

  /* GetMessages' a(sxss) */
  tuple = json_of (g_variant_new_parsed ("[('id1', int64 5, 'alice@example.org', 'hi')]"));
  g_assert_cmpstr (tuple, ==, "[[\"id1\",5,\"alice@example.org\",\"hi\"]]");

  empty = json_of (g_variant_new ("a{sv}", NULL));
  g_assert_cmpstr (empty, ==, "{}");
}

/* ------------------------------------------------------------------ */
/* CSV                                                                  */
/* ------------------------------------------------------------------ */

static void
test_csv (void)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "plain", "plain" },
    { "", "" },
    { "a,b", "\"a,b\"" },
    { "say \"hi\"", "\"say \"\"hi\"\"\"" },
    { "two\nlines", "\"two\nlines\"" },
    { "cr\r", "\"cr\r\"" },
    { " spaced ", " spaced " },
    { "Grüße", "Grüße" },
  };
  const char *row[] = { "section", "a,b", NULL, "x\"y" };
  g_autoptr(GString) line = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);

      ea_cli_csv_field (out, cases[i].in);
      g_assert_cmpstr (out->str, ==, cases[i].out);
    }
  ea_cli_csv_row (line, row, G_N_ELEMENTS (row));
  g_assert_cmpstr (line->str, ==, "section,\"a,b\",,\"x\"\"y\"\r\n");
}

/* ------------------------------------------------------------------ */
/* Times                                                                */
/* ------------------------------------------------------------------ */

static gint64
utc_us (int year, int month, int day, int hour, int minute, int second)
{
  g_autoptr(GDateTime) dt = g_date_time_new_utc (year, month, day, hour, minute, second);

  return g_date_time_to_unix (dt) * G_USEC_PER_SEC;
}

static void
test_parse_time (void)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GTimeZone) plus2 = g_time_zone_new_identifier ("+02:00");
  const struct {
    const char *text;
    gint64 expected;
  } cases[] = {
    { "now", NOW_US },
    { "24h", NOW_US - 24 * HOUR_US },
    { "7d", NOW_US - 7 * 24 * HOUR_US },
    { "2w", NOW_US - 14 * 24 * HOUR_US },
    { "30m", NOW_US - 30 * 60 * G_USEC_PER_SEC },
    { "90s", NOW_US - 90 * G_USEC_PER_SEC },
    { " 24H ", NOW_US - 24 * HOUR_US },
    { "-1h", NOW_US - HOUR_US },
    { "today", utc_us (2026, 11, 24, 0, 0, 0) },
    { "yesterday", utc_us (2026, 11, 23, 0, 0, 0) },
    { "2026-11-20", utc_us (2026, 11, 20, 0, 0, 0) },
    { "2026-11-20T08:15:00Z", utc_us (2026, 11, 20, 8, 15, 0) },
    { "2026-11-20T08:15:00", utc_us (2026, 11, 20, 8, 15, 0) },
    { "2026-11-20T08:15:00+01:00", utc_us (2026, 11, 20, 7, 15, 0) },
    { "2026-11-20 08:15", utc_us (2026, 11, 20, 8, 15, 0) },
    { "2026-11-20T08:15Z", utc_us (2026, 11, 20, 8, 15, 0) },
  };
  static const char *const bad[] = { "", "soon", "24x", "2026-13-01", "2026-11-20T25:00:00",
                                     "h", "12" };
  gint64 out;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("parsing “%s”", cases[i].text);
      g_assert_true (ea_cli_parse_time (cases[i].text, NOW_US, utc, &out, &error));
      g_assert_no_error (error);
      g_assert_cmpint (out, ==, cases[i].expected);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("refusing “%s”", bad[i]);
      g_assert_false (ea_cli_parse_time (bad[i], NOW_US, utc, &out, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_nonnull (strstr (error->message, "YYYY-MM-DD"));
    }

  /* A date is midnight where the user is. */
  g_assert_true (ea_cli_parse_time ("2026-11-20", NOW_US, plus2, &out, NULL));
  g_assert_cmpint (out, ==, utc_us (2026, 11, 19, 22, 0, 0));
  g_assert_true (ea_cli_parse_time ("today", NOW_US, plus2, &out, NULL));
  g_assert_cmpint (out, ==, utc_us (2026, 11, 23, 22, 0, 0));
  g_assert_true (ea_cli_parse_time ("2026-11-20T08:15:00Z", NOW_US, plus2, &out, NULL));
  g_assert_cmpint (out, ==, utc_us (2026, 11, 20, 8, 15, 0));
}

static void
test_format_time (void)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *a = ea_cli_format_time (NOW_US, utc, "%Y-%m-%d %H:%M");
  g_autofree char *b = ea_cli_format_iso8601 (NOW_US + 123);
  g_autofree char *s1 = ea_cli_format_seconds (8.5);
  g_autofree char *s2 = ea_cli_format_seconds (312);
  g_autofree char *s3 = ea_cli_format_seconds (7500);
  g_autofree char *s4 = ea_cli_format_seconds (0);

  g_assert_cmpstr (a, ==, "2026-11-24 10:30");
  g_assert_cmpstr (b, ==, "2026-11-24T10:30:00Z");
  g_assert_cmpstr (s1, ==, "8.5 s");
  g_assert_cmpstr (s2, ==, "5 min 12 s");
  g_assert_cmpstr (s3, ==, "2 h 05 min");
  g_assert_cmpstr (s4, ==, "0.0 s");
}

/* ------------------------------------------------------------------ */
/* Text and tables                                                      */
/* ------------------------------------------------------------------ */

static void
test_snippet (void)
{
  g_autofree char *a = ea_cli_snippet_to_text ("a <b>refund</b> &amp; &lt;x&gt; &#39;q&#39; "
                                               "&quot;z&quot; &#x41; &unknown; 5 & 6");
  g_autofree char *b = ea_cli_one_line ("  two\nlines\tand\rmore  ");

  g_assert_cmpstr (a, ==, "a refund & <x> 'q' \"z\" A &unknown; 5 & 6");
  g_assert_cmpstr (b, ==, "two lines and more");
  g_assert_cmpuint (ea_cli_display_width ("Grüße"), ==, 5);
  g_assert_cmpuint (ea_cli_display_width ("日本"), ==, 4);
}

static void
test_table (void)
{
  g_autoptr(EaCliTable) table = ea_cli_table_new (3);
  g_autoptr(EaCliTable) numbers = ea_cli_table_new (2);
  g_autofree char *text = NULL;
  g_autofree char *right = NULL;

  ea_cli_table_add (table, "billing", "Billing and refunds", "2 of 5 available", NULL);
  ea_cli_table_add (table, "tech", "Técnica", "0 of 1 available", NULL);
  ea_cli_table_add (table, "x", "", "", NULL);
  text = ea_cli_table_to_string (table, "");
  g_assert_cmpstr (text, ==,
                   "billing  Billing and refunds  2 of 5 available\n"
                   "tech     Técnica              0 of 1 available\n"
                   "x\n");

  ea_cli_table_set_header (numbers, "GROUP", "REQUESTS", NULL);
  ea_cli_table_align_right (numbers, 1);
  ea_cli_table_add (numbers, "billing", "12", NULL);
  ea_cli_table_add (numbers, "a\nb", "7", NULL);
  right = ea_cli_table_to_string (numbers, "  ");
  g_assert_cmpstr (right, ==,
                   "  GROUP    REQUESTS\n"
                   "  billing        12\n"
                   "  a b             7\n");
  g_assert_cmpuint (ea_cli_table_n_rows (numbers), ==, 2);
}

static void
test_html_escape (void)
{
  g_autofree char *a = ea_cli_html_escape ("<b>Tom & \"Jerry\" 'x'</b>");
  g_autofree char *b = ea_cli_html_escape (NULL);

  g_assert_cmpstr (a, ==, "&lt;b&gt;Tom &amp; &quot;Jerry&quot; &apos;x&apos;&lt;/b&gt;");
  g_assert_cmpstr (b, ==, "");
}

/* ------------------------------------------------------------------ */
/* SVG                                                                  */
/* ------------------------------------------------------------------ */

static void
test_svg_chart (void)
{
  const EaCliBar bars[] = {
    { "a", 0, "zero" },
    { "b", 5, "five <b>" },
    { "c", 10, NULL },
  };
  EaCliChartOptions options = { "Answers & more", "answered", 300, 200 };
  g_autofree char *svg = ea_cli_svg_bar_chart (bars, G_N_ELEMENTS (bars), &options);

  /* Plot 240 x 152 from (48, 12); scale 0..10 in steps of 2; slots 80 wide. */
  g_assert_true (g_str_has_prefix (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                                        "class=\"chart\" role=\"img\" "
                                        "aria-label=\"Answers &amp; more\" width=\"300\" "
                                        "height=\"200\" viewBox=\"0 0 300 200\">"));
  g_assert_true (g_str_has_suffix (svg, "</svg>\n"));
  g_assert_cmpuint (count_substrings (svg, "<rect class=\"bar\""), ==, 3);
  g_assert_nonnull (strstr (svg, "<rect class=\"bar\" x=\"56\" y=\"164\" width=\"64\" "
                                 "height=\"0\" data-value=\"0\"><title>zero</title></rect>"));
  g_assert_nonnull (strstr (svg, "<rect class=\"bar\" x=\"136\" y=\"88\" width=\"64\" "
                                 "height=\"76\" data-value=\"5\"><title>five &lt;b&gt;</title>"
                                 "</rect>"));
  g_assert_nonnull (strstr (svg, "<rect class=\"bar\" x=\"216\" y=\"12\" width=\"64\" "
                                 "height=\"152\" data-value=\"10\"></rect>"));
  /* Ticks 0, 2, ..., 10 */
  g_assert_cmpuint (count_substrings (svg, "<text class=\"tick\""), ==, 6);
  g_assert_nonnull (strstr (svg, "text-anchor=\"end\">10</text>"));
  g_assert_nonnull (strstr (svg, "<text x=\"168\" y=\"180\" text-anchor=\"middle\">b</text>"));
  g_assert_null (strstr (svg, "No data"));
  g_assert_null (strstr (svg, "NaN"));
}

static void
test_svg_chart_crowded_and_empty (void)
{
  EaCliBar bars[48];
  g_autofree char *svg = NULL;
  g_autofree char *empty = NULL;
  char *labels[48];

  for (guint i = 0; i < G_N_ELEMENTS (bars); i++)
    {
      labels[i] = g_strdup_printf ("h%u", i);
      bars[i].label = labels[i];
      bars[i].value = i % 3;
      bars[i].title = NULL;
    }
  svg = ea_cli_svg_bar_chart (bars, G_N_ELEMENTS (bars), NULL);
  g_assert_cmpuint (count_substrings (svg, "<rect class=\"bar\""), ==, 48);
  /* Every 4th label: 12 of them. */
  g_assert_cmpuint (count_substrings (svg, "text-anchor=\"middle\">h"), ==, 12);
  g_assert_nonnull (strstr (svg, ">h0<"));
  g_assert_nonnull (strstr (svg, ">h4<"));
  g_assert_null (strstr (svg, ">h1<"));
  for (guint i = 0; i < G_N_ELEMENTS (bars); i++)
    g_free (labels[i]);

  empty = ea_cli_svg_bar_chart (NULL, 0, NULL);
  g_assert_cmpuint (count_substrings (empty, "<rect"), ==, 0);
  g_assert_nonnull (strstr (empty, "No data"));
  g_assert_nonnull (strstr (empty, "viewBox=\"0 0 720 240\""));
}

/* ------------------------------------------------------------------ */
/* Reports                                                              */
/* ------------------------------------------------------------------ */

static void
add_figures (GVariantBuilder *b, guint requests, guint answered, double sl)
{
  g_variant_builder_add (b, "{sv}", "requests", g_variant_new_uint32 (requests));
  g_variant_builder_add (b, "{sv}", "answered", g_variant_new_uint32 (answered));
  g_variant_builder_add (b, "{sv}", "cancelled", g_variant_new_uint32 (1));
  g_variant_builder_add (b, "{sv}", "expired", g_variant_new_uint32 (1));
  g_variant_builder_add (b, "{sv}", "failed", g_variant_new_uint32 (0));
  g_variant_builder_add (b, "{sv}", "queued", g_variant_new_uint32 (3));
  g_variant_builder_add (b, "{sv}", "time-to-answer-avg", g_variant_new_double (8.25));
  g_variant_builder_add (b, "{sv}", "time-to-answer-p50", g_variant_new_double (6));
  g_variant_builder_add (b, "{sv}", "time-to-answer-p90", g_variant_new_double (15.5));
  g_variant_builder_add (b, "{sv}", "handle-time-avg", g_variant_new_double (312));
  g_variant_builder_add (b, "{sv}", "queue-wait-avg", g_variant_new_double (4.1));
  g_variant_builder_add (b, "{sv}", "service-level", g_variant_new_double (sl));
  g_variant_builder_add (b, "{sv}", "offers", g_variant_new_uint32 (30));
  g_variant_builder_add (b, "{sv}", "offers-accepted", g_variant_new_uint32 (10));
  g_variant_builder_add (b, "{sv}", "offers-declined", g_variant_new_uint32 (8));
  g_variant_builder_add (b, "{sv}", "offers-expired", g_variant_new_uint32 (7));
  g_variant_builder_add (b, "{sv}", "offers-withdrawn", g_variant_new_uint32 (5));
  g_variant_builder_add (b, "{sv}", "offers-per-request", g_variant_new_double (2.5));
}

/* A GetStatistics result as DESIGN 3 and 9 shape it: 3 hours from
 * 08:00 UTC, the 8 histogram bins (5 .. 300 s, then 0 for "above"),
 * 2 groups (one id needing escaping and quoting), 1 expert. */
static GVariant *
make_stats (void)
{
  static const guint bounds[] = { 5, 10, 20, 30, 60, 120, 300, 0 };
  static const guint counts[] = { 2, 3, 4, 0, 1, 0, 0, 1 };
  GVariantBuilder b, hours, histogram, groups, experts, row;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_figures (&b, 12, 10, 0.8333333333333334);
  g_variant_builder_add (&b, "{sv}", "service-level-target", g_variant_new_uint32 (20));

  g_variant_builder_init (&hours, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < 3; i++)
    {
      g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&row, "{sv}", "start",
                             g_variant_new_int64 (utc_us (2026, 11, 24, 8 + (int) i, 0, 0)));
      g_variant_builder_add (&row, "{sv}", "requests", g_variant_new_uint32 (4 + i));
      g_variant_builder_add (&row, "{sv}", "answered", g_variant_new_uint32 (i * 5));
      g_variant_builder_add (&row, "{sv}", "offers", g_variant_new_uint32 (10));
      g_variant_builder_add_value (&hours, g_variant_builder_end (&row));
    }
  g_variant_builder_add (&b, "{sv}", "hours", g_variant_builder_end (&hours));

  g_variant_builder_init (&histogram, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < G_N_ELEMENTS (bounds); i++)
    {
      g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&row, "{sv}", "upto", g_variant_new_uint32 (bounds[i]));
      g_variant_builder_add (&row, "{sv}", "count", g_variant_new_uint32 (counts[i]));
      g_variant_builder_add_value (&histogram, g_variant_builder_end (&row));
    }
  g_variant_builder_add (&b, "{sv}", "time-to-answer-histogram",
                         g_variant_builder_end (&histogram));

  g_variant_builder_init (&groups, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&row, "{sv}", "id", g_variant_new_string ("billing"));
  add_figures (&row, 8, 7, 0.875);
  g_variant_builder_add_value (&groups, g_variant_builder_end (&row));
  g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&row, "{sv}", "id", g_variant_new_string ("<t&2>,\"x\""));
  add_figures (&row, 4, 3, 0.75);
  g_variant_builder_add_value (&groups, g_variant_builder_end (&row));
  g_variant_builder_add (&b, "{sv}", "groups", g_variant_builder_end (&groups));

  g_variant_builder_init (&experts, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&row, "{sv}", "address", g_variant_new_string ("alice@example.org"));
  add_figures (&row, 0, 0, 0);
  g_variant_builder_add_value (&experts, g_variant_builder_end (&row));
  g_variant_builder_add (&b, "{sv}", "experts", g_variant_builder_end (&experts));

  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
report_info (EaCliReportInfo *info, GTimeZone *utc)
{
  memset (info, 0, sizeof *info);
  info->since = utc_us (2026, 11, 24, 8, 0, 0);
  info->until = utc_us (2026, 11, 24, 11, 0, 0);
  info->generated = NOW_US;
  info->role = "agent";
  info->group = "billing";
  info->tz = utc;
}

static void
test_report_html (void)
{
  g_autoptr(GVariant) stats = make_stats ();
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *html = NULL;
  const char *hours, *histogram, *end;
  EaCliReportInfo info;

  report_info (&info, utc);
  html = ea_cli_report_html (stats, &info);

  g_assert_true (g_str_has_prefix (html, "<!DOCTYPE html>\n<html lang=\"en\">"));
  g_assert_true (g_str_has_suffix (html, "</html>\n"));
  g_assert_nonnull (strstr (html, "<meta charset=\"utf-8\">"));
  g_assert_nonnull (strstr (html, "<title>Expert Assist report, 2026-11-24 08:00 to "
                                  "2026-11-24 11:00</title>"));
  g_assert_nonnull (strstr (html, "<p class=\"scope\">as agent, group billing</p>"));
  /* Self-contained: no script, nothing fetched. */
  g_assert_null (strstr (html, "<script"));
  g_assert_null (strstr (html, "src="));
  g_assert_null (strstr (html, "href="));
  g_assert_null (strstr (html, "@import"));
  g_assert_null (strstr (html, "url("));

  /* Headline figures, machine value and what people read. */
  g_assert_nonnull (strstr (html, "<dd data-key=\"requests\" data-value=\"12\">12</dd>"));
  g_assert_nonnull (strstr (html, "<dd data-key=\"answered\" data-value=\"10\">10</dd>"));
  g_assert_nonnull (strstr (html, "<dd data-key=\"service-level\" "
                                  "data-value=\"0.8333333333333334\">83 %</dd>"));
  g_assert_nonnull (strstr (html, "Service level (answered within 20 s)"));
  g_assert_nonnull (strstr (html, "<dd data-key=\"time-to-answer-p90\" data-value=\"15.5\">"
                                  "15.5 s</dd>"));
  g_assert_nonnull (strstr (html, "<dd data-key=\"handle-time-avg\" data-value=\"312\">"
                                  "5 min 12 s</dd>"));
  g_assert_nonnull (strstr (html, "<dd data-key=\"offers-per-request\" data-value=\"2.5\">"
                                  "2.50</dd>"));

  /* Two charts: one bar per hour, one per histogram bin. */
  g_assert_cmpuint (count_substrings (html, "<svg"), ==, 2);
  hours = strstr (html, "<figure class=\"hours\">");
  histogram = strstr (html, "<figure class=\"time-to-answer\">");
  g_assert_nonnull (hours);
  g_assert_nonnull (histogram);
  g_assert_true (hours < histogram);
  {
    g_autofree char *part = g_strndup (hours, (gsize) (histogram - hours));

    g_assert_cmpuint (count_substrings (part, "<rect class=\"bar\""), ==, 3);
    g_assert_nonnull (strstr (part, "data-value=\"10\"><title>2026-11-24 10:00: 10 answered "
                                    "of 6 requests, 10 offers</title>"));
    g_assert_nonnull (strstr (part, ">Nov 24</text>"));
    g_assert_nonnull (strstr (part, ">09:00</text>"));
  }
  end = strstr (histogram, "</figure>");
  g_assert_nonnull (end);
  {
    g_autofree char *part = g_strndup (histogram, (gsize) (end - histogram));

    g_assert_cmpuint (count_substrings (part, "<rect class=\"bar\""), ==, 8);
    g_assert_nonnull (strstr (part, ">≤ 5 s</text>"));
    g_assert_nonnull (strstr (part, ">5–10 s</text>"));
    g_assert_nonnull (strstr (part, ">&gt; 300 s</text>"));
    g_assert_nonnull (strstr (part, "<title>10–20 s: 4 requests</title>"));
  }

  /* Tables, escaped. */
  g_assert_nonnull (strstr (html, "<table class=\"groups\">"));
  g_assert_nonnull (strstr (html, "<table class=\"experts\">"));
  g_assert_nonnull (strstr (html, "<tr><td>billing</td><td data-key=\"requests\" "
                                  "data-value=\"8\">8</td>"));
  g_assert_nonnull (strstr (html, "<tr><td>&lt;t&amp;2&gt;,&quot;x&quot;</td>"));
  g_assert_null (strstr (html, "<t&2>"));
  g_assert_nonnull (strstr (html, "<tr><td>alice@example.org</td>"));
  g_assert_nonnull (strstr (html, "<td data-key=\"service-level\" data-value=\"0.875\">88 %</td>"));
}

static void
test_report_html_empty (void)
{
  g_autoptr(GVariant) stats = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *html = NULL;
  EaCliReportInfo info;

  report_info (&info, utc);
  info.since = 0;
  info.until = 0;
  info.group = NULL;
  html = ea_cli_report_html (stats, &info);
  g_assert_nonnull (strstr (html, "<title>Expert Assist report, everything up to "
                                  "2026-11-24 10:30</title>"));
  g_assert_nonnull (strstr (html, "as agent, every group"));
  g_assert_cmpuint (count_substrings (html, "<svg"), ==, 2);
  g_assert_cmpuint (count_substrings (html, "<rect"), ==, 0);
  g_assert_nonnull (strstr (html, "<dd data-key=\"requests\" data-value=\"\">–</dd>"));
}

static void
test_report_csv (void)
{
  g_autoptr(GVariant) stats = make_stats ();
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *csv = NULL;
  g_auto(GStrv) lines = NULL;
  EaCliReportInfo info;

  report_info (&info, utc);
  csv = ea_cli_report_csv (stats, &info);
  g_assert_true (g_str_has_suffix (csv, "\r\n"));
  lines = g_strsplit (csv, "\r\n", -1);
  /* header, total, 3 hours, 8 bins, 2 groups, 1 expert, "" after the last CRLF */
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + 1 + 3 + 8 + 2 + 1 + 1);
  g_assert_cmpstr (lines[0], ==,
                   "section,start,upto,id,address,requests,answered,cancelled,expired,failed,"
                   "queued,time-to-answer-avg,time-to-answer-p50,time-to-answer-p90,"
                   "service-level,service-level-target,queue-wait-avg,handle-time-avg,offers,"
                   "offers-per-request,offers-accepted,offers-declined,offers-expired,"
                   "offers-withdrawn,count");
  g_assert_cmpstr (lines[1], ==,
                   "total,,,,,12,10,1,1,0,3,8.25,6,15.5,0.8333333333333334,20,4.1,312,30,2.5,"
                   "10,8,7,5,");
  g_assert_cmpstr (lines[2], ==, "hour,2026-11-24T08:00:00Z,,,,4,0,,,,,,,,,,,,10,,,,,,");
  g_assert_cmpstr (lines[4], ==, "hour,2026-11-24T10:00:00Z,,,,6,10,,,,,,,,,,,,10,,,,,,");
  g_assert_cmpstr (lines[5], ==, "time-to-answer,,5,,,,,,,,,,,,,,,,,,,,,,2");
  g_assert_cmpstr (lines[12], ==, "time-to-answer,,,,,,,,,,,,,,,,,,,,,,,,1");
  g_assert_true (g_str_has_prefix (lines[13], "group,,,billing,,8,7,"));
  g_assert_true (g_str_has_prefix (lines[14], "group,,,\"<t&2>,\"\"x\"\"\",,4,3,"));
  g_assert_true (g_str_has_prefix (lines[15], "expert,,,,alice@example.org,0,0,"));
  g_assert_cmpstr (lines[16], ==, "");
}

static void
test_stats_text (void)
{
  g_autoptr(GVariant) stats = make_stats ();
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *text = NULL;
  EaCliReportInfo info;

  report_info (&info, utc);
  text = ea_cli_stats_text (stats, &info);
  g_assert_true (g_str_has_prefix (text, "Statistics, 2026-11-24 08:00 to 2026-11-24 11:00 "
                                         "(as agent, group billing)\n\n"));
  g_assert_nonnull (strstr (text, "Requests        12 (answered 10, cancelled 1, expired 1, "
                                  "failed 0; 3 were queued)\n"));
  g_assert_nonnull (strstr (text, "Time to answer  average 8.2 s, median 6.0 s, "
                                  "90th percentile 15.5 s\n"));
  g_assert_nonnull (strstr (text, "Service level   83 % answered within 20 s\n"));
  g_assert_nonnull (strstr (text, "Offers          30 (2.50 per request)\n"));
  g_assert_nonnull (strstr (text, "Offer outcomes  accepted 10, declined 8, expired 7, "
                                  "withdrawn 5\n"));
  g_assert_nonnull (strstr (text, "\nBy group\n  GROUP"));
  g_assert_nonnull (strstr (text, "\n  billing           8         7           88 %"));
  g_assert_nonnull (strstr (text, "\nBy expert\n  EXPERT"));
  g_assert_nonnull (strstr (text, "\n  alice@example.org"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/exit-codes", test_exit_codes);
  g_test_add_func ("/cli/remote-error-message", test_remote_error_message);
  g_test_add_func ("/cli/json/string", test_json_string);
  g_test_add_func ("/cli/json/double", test_json_double);
  g_test_add_func ("/cli/json/variant", test_json_variant);
  g_test_add_func ("/cli/csv", test_csv);
  g_test_add_func ("/cli/time/parse", test_parse_time);
  g_test_add_func ("/cli/time/format", test_format_time);
  g_test_add_func ("/cli/text/snippet", test_snippet);
  g_test_add_func ("/cli/text/table", test_table);
  g_test_add_func ("/cli/html/escape", test_html_escape);
  g_test_add_func ("/cli/svg/chart", test_svg_chart);
  g_test_add_func ("/cli/svg/crowded-and-empty", test_svg_chart_crowded_and_empty);
  g_test_add_func ("/cli/report/html", test_report_html);
  g_test_add_func ("/cli/report/html-empty", test_report_html_empty);
  g_test_add_func ("/cli/report/csv", test_report_csv);
  g_test_add_func ("/cli/report/stats-text", test_stats_text);

  return g_test_run ();
}
