/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SearchLog on a large log: fills a fresh store in a temporary directory
 * with about a million chat messages through the real EaStore API, then
 * times searches shaped like the applet's (one or two words, common or
 * rare, a phrase, with and without filters, limit 50), each measured from
 * the call to its callback on the main context.
 *
 * The text is random sentences over a vocabulary of a few thousand words
 * drawn with a Zipf distribution (s = 1), like natural language. "Common"
 * words are those of rank 10 to 100 (about 10 % to 1 % of messages hold
 * one), "rare" ones rank 1000 and beyond (a few hundred messages each);
 * the ten most frequent ("the", "to", ...) are stop words nobody searches
 * for and are left out of the queries.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "ea-store.h"

#define N_WORDS 4000
#define N_GROUPS 8
#define N_EXPERTS 60
#define BATCH 20000

static int n_messages = 1000000;
static int n_sessions = 4000;
static int n_searches = 400;
static int seed = 42;
static char *keep_dir;

static const GOptionEntry entries[] = {
  { "messages", 'm', 0, G_OPTION_ARG_INT, &n_messages, "Messages to store (1000000)", "N" },
  { "sessions", 's', 0, G_OPTION_ARG_INT, &n_sessions,
    "Sessions they are spread over (4000)", "N" },
  { "searches", 'n', 0, G_OPTION_ARG_INT, &n_searches, "Searches to time (400)", "N" },
  { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Random seed (42)", "N" },
  { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep_dir,
    "Use this directory and keep the database (reused when it exists)", "DIR" },
  { NULL }
};

static const char * const frequent[] = {
  "the", "to", "and", "a", "is", "it", "you", "i", "of", "in", "for", "on", "that",
  "this", "with", "customer", "can", "not", "they", "we", "account", "please", "order",
  "have", "be", "check", "was", "login", "refund", "error", "payment", "invoice", "issue",
  "ticket", "system", "password", "update", "card", "problem", "email",
};

static char *words[N_WORDS];
static double cdf[N_WORDS];
static GRand *rng;

static void
make_vocabulary (void)
{
  static const char consonants[] = "bcdfghjklmnprstvwz";
  static const char * const vowels[] = { "a", "e", "i", "o", "u", "ai", "ou", "ie" };
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  double sum = 0.0;
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (frequent); i++)
    {
      words[n++] = g_strdup (frequent[i]);
      g_hash_table_add (seen, words[n - 1]);
    }
  while (n < N_WORDS)
    {
      GString *w = g_string_new (NULL);
      int syllables = g_rand_int_range (rng, 2, 5);

      for (int k = 0; k < syllables; k++)
        {
          g_string_append_c (w, consonants[g_rand_int_range (rng, 0, sizeof consonants - 1)]);
          g_string_append (w, vowels[g_rand_int_range (rng, 0, G_N_ELEMENTS (vowels))]);
        }
      if (g_rand_boolean (rng))
        g_string_append_c (w, consonants[g_rand_int_range (rng, 0, sizeof consonants - 1)]);
      if (g_hash_table_contains (seen, w->str))
        {
          g_string_free (w, TRUE);
          continue;
        }
      words[n++] = g_string_free (w, FALSE);
      g_hash_table_add (seen, words[n - 1]);
    }

  for (guint k = 0; k < N_WORDS; k++)
    {
      sum += 1.0 / (k + 1);
      cdf[k] = sum;
    }
  for (guint k = 0; k < N_WORDS; k++)
    cdf[k] /= sum;
}

static const char *
zipf_word (void)
{
  double u = g_rand_double (rng);
  guint lo = 0, hi = N_WORDS - 1;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (cdf[mid] < u)
        lo = mid + 1;
      else
        hi = mid;
    }
  return words[lo];
}

static char *
sentence (int min_words, int max_words)
{
  GString *s = g_string_new (NULL);
  int n = g_rand_int_range (rng, min_words, max_words + 1);

  for (int i = 0; i < n; i++)
    {
      const char *w = zipf_word ();

      if (i > 0)
        g_string_append_c (s, ' ');
      if (i == 0)
        {
          g_string_append_unichar (s, g_unichar_toupper (w[0]));
          g_string_append (s, w + 1);
        }
      else
        g_string_append (s, w);
      if (i > 0 && i < n - 1 && g_rand_int_range (rng, 0, 12) == 0)
        g_string_append_c (s, ',');
    }
  g_string_append_c (s, g_rand_int_range (rng, 0, 5) == 0 ? '?' : '.');
  return g_string_free (s, FALSE);
}

static char *
random_id (void)
{
  return g_strdup_printf ("%08x%08x%08x%08x",
                          g_rand_int (rng), g_rand_int (rng), g_rand_int (rng), g_rand_int (rng));
}

static guint pending;
static guint failures;

static void
done_cb (GError *error, gpointer data)
{
  if (error != NULL)
    {
      if (failures++ == 0)
        g_printerr ("write failed: %s\n", error->message);
    }
  pending--;
}

static void
drain (EaStore *store)
{
  ea_store_flush (store);
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);
}

static int
compare_times (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static double cpu_ms (void);

static char *experts[N_EXPERTS];
static char *groups[N_GROUPS];

static void
fill (EaStore *store, gint64 now)
{
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  int messages_left = n_messages;
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_ms ();
  double seconds;

  /* Sessions over the past year, oldest first, each with its request. */
  for (int i = 0; i < n_sessions; i++)
    {
      gint64 start = now - (gint64) (g_rand_double (rng) * 365 * 24 * 3600) * G_USEC_PER_SEC;

      g_array_append_val (starts, start);
    }
  g_array_sort (starts, compare_times);

  for (int i = 0; i < n_sessions; i++)
    {
      g_autofree char *request_id = random_id ();
      g_autofree char *session_id = random_id ();
      g_autofree char *summary = sentence (4, 10);
      const char *expert = experts[g_rand_int_range (rng, 0, N_EXPERTS)];
      const char *group = groups[g_rand_int_range (rng, 0, N_GROUPS)];
      const char * const accepted[] = { expert, NULL };
      const char * const participants[] = { "agent@example.org", expert, NULL };
      gint64 start = g_array_index (starts, gint64, i);
      int count = i == n_sessions - 1 ? messages_left
                  : MIN (messages_left,
                         g_rand_int_range (rng, 1, MAX (2, 2 * n_messages / n_sessions)));
      EaStoreRequest r = {
        .id = request_id, .role = "agent", .agent = "agent@example.org", .group = group,
        .summary = summary, .state = "closed", .session = session_id, .accepted = accepted,
        .created = start - 10 * G_USEC_PER_SEC, .updated = start,
        .answered = start,
      };
      EaStoreSession s = {
        .id = session_id, .request = request_id, .role = "agent", .group = group,
        .summary = summary, .participants = participants, .state = "closed",
        .started = start, .ended = start + (gint64) count * 20 * G_USEC_PER_SEC,
      };

      pending += 2;
      ea_store_put_request (store, &r, done_cb, NULL);
      ea_store_put_session (store, &s, done_cb, NULL);
      for (int k = 0; k < count; k++)
        {
          g_autofree char *id = g_strdup_printf ("%s-%d", session_id, k);
          g_autofree char *text = sentence (3, 18);
          EaStoreMessage m = {
            .session = session_id, .id = id, .time = start + (gint64) k * 20 * G_USEC_PER_SEC,
            .sender = participants[k % 2], .text = text, .outgoing = k % 2 == 0,
          };

          pending++;
          ea_store_put_message (store, &m, done_cb, NULL);
          /* Let callbacks run while the worker writes; wait only when
           * far ahead of it. */
          while (g_main_context_iteration (NULL, FALSE))
            ;
          if (pending >= BATCH)
            drain (store);
        }
      messages_left -= count;
    }
  drain (store);
  seconds = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;
  g_print ("fill-rate: %.0f messages/s\n", n_messages / seconds);
  g_print ("fill-time: %.1f s (%.1f s of CPU)\n", seconds, (cpu_ms () - c0) / 1000.0);
}

typedef struct {
  gboolean done;
  guint hits;
  GError *error;
} SearchResult;

static void
search_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SearchResult *r = data;
  g_autoptr(GVariant) hits = ea_store_search_finish (EA_STORE (source), res, &r->error);

  r->hits = hits != NULL ? g_variant_n_children (hits) : 0;
  r->done = TRUE;
}

/* CPU time of the whole process (the worker, and the main thread, which
 * only waits): unlike wall time, not inflated by whatever else the
 * machine runs at the same time. */
static double
cpu_ms (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double
timed_search (EaStore *store, const char *text, GVariant *filter, guint *hits, double *cpu)
{
  SearchResult r = { 0 };
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_ms ();

  ea_store_search (store, text, filter, NULL, search_cb, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  if (r.error != NULL)
    g_error ("search %s: %s", text, r.error->message);
  *hits = r.hits;
  *cpu = cpu_ms () - c0;
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static void
similar_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  SearchResult *r = data;
  g_autoptr(GVariant) rows = ea_store_find_similar_finish (EA_STORE (source), res, &r->error);

  r->hits = rows != NULL ? g_variant_n_children (rows) : 0;
  r->done = TRUE;
}

static double
timed_similar (EaStore *store, const char *summary, double *cpu)
{
  SearchResult r = { 0 };
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_ms ();

  ea_store_find_similar (store, summary, 0, NULL, similar_cb, &r);
  while (!r.done)
    g_main_context_iteration (NULL, TRUE);
  if (r.error != NULL)
    g_error ("similar %s: %s", summary, r.error->message);
  *cpu = cpu_ms () - c0;
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static const char *
word_in (guint from, guint to)
{
  return words[g_rand_int_range (rng, from, to)];
}

typedef enum {
  KIND_COMMON,
  KIND_RARE,
  KIND_TWO_COMMON,
  KIND_COMMON_RARE,
  KIND_PHRASE,
  N_KINDS
} Kind;

static const char * const kind_names[] = {
  "one-common", "one-rare", "two-common", "common-rare", "phrase",
};

static char *
make_query (Kind kind)
{
  switch (kind)
    {
    case KIND_COMMON:
      return g_strdup (word_in (10, 100));
    case KIND_RARE:
      return g_strdup (word_in (1000, N_WORDS));
    case KIND_TWO_COMMON:
      return g_strdup_printf ("%s %s", word_in (10, 100), word_in (10, 100));
    case KIND_COMMON_RARE:
      return g_strdup_printf ("%s %s", word_in (10, 100), word_in (1000, N_WORDS));
    case KIND_PHRASE:
      {
        /* Two neighbours from a sentence like the stored ones. */
        g_autofree char *s = sentence (6, 12);
        g_auto(GStrv) parts = g_strsplit_set (s, " ,.?", -1);
        g_autoptr(GPtrArray) kept = g_ptr_array_new ();
        guint at;

        for (guint i = 0; parts[i] != NULL; i++)
          if (*parts[i] != '\0')
            g_ptr_array_add (kept, parts[i]);
        at = g_rand_int_range (rng, 0, kept->len - 1);
        return g_strdup_printf ("\"%s %s\"",
                                (char *) kept->pdata[at], (char *) kept->pdata[at + 1]);
      }
    case N_KINDS:
    default:
      g_assert_not_reached ();
    }
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
percentile (GArray *sorted, double p)
{
  guint i = (guint) ceil (p * sorted->len);

  return g_array_index (sorted, double, MIN (MAX (i, 1), sorted->len) - 1);
}

static void
report (const char *label, GArray *times)
{
  g_array_sort (times, compare_doubles);
  g_print ("%s-p50: %.2f ms\n", label, percentile (times, 0.5));
  g_print ("%s-p99: %.2f ms\n", label, percentile (times, 0.99));
}

static guint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

int
main (int argc, char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- time SearchLog on a large log");
  g_autoptr(GError) error = NULL;
  g_autoptr(EaStore) store = NULL;
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) filtered = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu_all = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *by_kind[N_KINDS];
  GArray *cpu_by_kind[N_KINDS];
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autofree char *wal = NULL;
  gint64 now = g_get_real_time ();
  gboolean reuse = FALSE;
  guint64 total_hits = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  rng = g_rand_new_with_seed (seed);
  make_vocabulary ();
  for (guint i = 0; i < N_EXPERTS; i++)
    experts[i] = g_strdup_printf ("expert%02u@example.org", i);
  for (guint i = 0; i < N_GROUPS; i++)
    groups[i] = g_strdup_printf ("group-%u", i);

  if (keep_dir != NULL)
    {
      g_autofree char *existing = g_build_filename (keep_dir, "expert-assist.db", NULL);

      dir = g_strdup (keep_dir);
      reuse = g_file_test (existing, G_FILE_TEST_EXISTS);
    }
  else
    {
      dir = g_dir_make_tmp ("bench-search-XXXXXX", &error);
      if (dir == NULL)
        g_error ("%s", error->message);
    }

  store = ea_store_new (dir);
  db = g_strdup (ea_store_get_path (store));
  wal = g_strconcat (db, "-wal", NULL);
  g_print ("database: %s\n", db);
  if (!reuse)
    fill (store, now);
  if (failures > 0)
    g_error ("%u writes failed", failures);
  ea_store_flush (store);
  g_print ("db-size: %.0f MB\n", (file_size (db) + file_size (wal)) / 1e6);

  for (guint k = 0; k < N_KINDS; k++)
    {
      by_kind[k] = g_array_new (FALSE, FALSE, sizeof (double));
      cpu_by_kind[k] = g_array_new (FALSE, FALSE, sizeof (double));
    }

  /* A few to warm the page cache, as a running daemon's would be. */
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *q = make_query (i % N_KINDS);
      guint hits;
      double cpu;

      timed_search (store, q, NULL, &hits, &cpu);
    }

  for (int i = 0; i < n_searches; i++)
    {
      Kind kind = i % N_KINDS;
      g_autofree char *q = make_query (kind);
      GVariant *filter = NULL;
      guint hits;
      double ms, cpu;

      /* Every other search with one of the applet's filters. */
      switch ((i / N_KINDS) % 6)
        {
        case 1:
          filter = g_variant_new_parsed ("{'since': <@x %x>}",
                                         now - (gint64) 30 * 86400 * G_USEC_PER_SEC);
          break;
        case 3:
          filter = g_variant_new_parsed ("{'group': <%s>}",
                                         groups[g_rand_int_range (rng, 0, N_GROUPS)]);
          break;
        case 5:
          filter = g_variant_new_parsed ("{'peer': <%s>}",
                                         experts[g_rand_int_range (rng, 0, N_EXPERTS)]);
          break;
        default:
          break;
        }
      ms = timed_search (store, q, filter != NULL ? filter : g_variant_new_parsed ("@a{sv} {}"),
                         &hits, &cpu);
      total_hits += hits;
      g_array_append_val (all, ms);
      g_array_append_val (cpu_all, cpu);
      g_array_append_val (by_kind[kind], ms);
      g_array_append_val (cpu_by_kind[kind], cpu);
      if (filter != NULL)
        g_array_append_val (filtered, ms);
      if (g_getenv ("BENCH_VERBOSE") != NULL)
        g_print ("  %-12s %-30s %-8s %3u hits %8.2f ms %8.2f ms cpu\n", kind_names[kind], q,
                 filter != NULL ? "filter" : "", hits, ms, cpu);
    }

  report ("search", all);
  report ("search-cpu", cpu_all);
  g_print ("searches: %d, %.1f hits each\n", n_searches, total_hits / (double) n_searches);
  for (guint k = 0; k < N_KINDS; k++)
    {
      g_autofree char *label = g_strconcat (kind_names[k], "-cpu", NULL);

      report (kind_names[k], by_kind[k]);
      report (label, cpu_by_kind[k]);
      g_array_unref (by_kind[k]);
      g_array_unref (cpu_by_kind[k]);
    }
  report ("with-filter", filtered);

  /* FindSimilar with summaries like the stored ones. */
  {
    g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
    g_autoptr(GArray) cpus = g_array_new (FALSE, FALSE, sizeof (double));

    for (int i = 0; i < 50; i++)
      {
        g_autofree char *summary = sentence (4, 10);
        double cpu, ms = timed_similar (store, summary, &cpu);

        g_array_append_val (times, ms);
        g_array_append_val (cpus, cpu);
        if (g_getenv ("BENCH_VERBOSE") != NULL)
          g_print ("  similar %-60s %8.2f ms %8.2f ms cpu\n", summary, ms, cpu);
      }
    report ("similar", times);
    report ("similar-cpu", cpus);
  }

  /* What the purge at start-up costs when nothing is old enough. */
  {
    gint64 t0 = g_get_monotonic_time ();

    pending++;
    ea_store_purge (store, 3650, done_cb, NULL);
    drain (store);
    g_print ("purge-nothing: %.0f ms\n", (g_get_monotonic_time () - t0) / 1000.0);
  }

  g_clear_object (&store);
  if (keep_dir == NULL)
    {
      g_autofree char *shm = g_strconcat (db, "-shm", NULL);

      g_unlink (wal);
      g_unlink (shm);
      g_unlink (db);
      g_rmdir (dir);
    }
  for (guint i = 0; i < N_WORDS; i++)
    g_free (words[i]);
  for (guint i = 0; i < N_EXPERTS; i++)
    g_free (experts[i]);
  for (guint i = 0; i < N_GROUPS; i++)
    g_free (groups[i]);
  g_rand_free (rng);
  return 0;
}
