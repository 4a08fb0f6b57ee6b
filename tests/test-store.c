/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "ea-error.h"
#include "ea-store.h"

#define SEC G_USEC_PER_SEC
#define HOUR ((gint64) 3600 * SEC)
#define DAY ((gint64) 24 * HOUR)

#define ID(n) "0000000000000000000000000000" n   /* 28 + 4 = 32 hex digits */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
  char *dir;
  EaStore *store;
} Fixture;

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_chmod (path, 0700);
  g_rmdir (path);
}

static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                   ==, SQLITE_OK);
  return db;
}

static void
raw_exec (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
raw_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static char *
raw_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return value;
}

/* The whole file and both full-text indexes, against their content. */
static void
assert_integrity (const char *path)
{
  sqlite3 *db = raw_open (path);
  g_autofree char *result = raw_text (db, "PRAGMA integrity_check");

  g_assert_cmpstr (result, ==, "ok");
  if (raw_int (db, "PRAGMA user_version") >= 2)
    {
      raw_exec (db, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
      raw_exec (db, "INSERT INTO requests_fts (requests_fts, rank) VALUES ('integrity-check', 1)");
    }
  sqlite3_close (db);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = ea_store_new (f->dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *path = NULL;

  if (f->store != NULL)
    {
      path = g_strdup (ea_store_get_path (f->store));
      g_clear_object (&f->store);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        assert_integrity (path);
    }
  /* Pending idle callbacks would otherwise outlive the test. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_tree (f->dir);
  g_free (f->dir);
}

/* Write callbacks */

typedef struct {
  guint calls;
  guint failures;
  GError *error;       /* the last one */
} Written;

static void
written_clear (Written *w)
{
  g_clear_error (&w->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Written, written_clear)

static void
done_cb (GError *error, gpointer data)
{
  Written *w = data;

  w->calls++;
  if (error != NULL)
    {
      w->failures++;
      g_clear_error (&w->error);
      w->error = g_error_copy (error);
    }
}

static void
wait_calls (Written *w, guint calls)
{
  while (w->calls < calls)
    g_main_context_iteration (NULL, TRUE);
}

/* Reads */

typedef struct {
  gboolean done;
  GVariant *value;
  GError *error;
} ReadResult;

typedef GVariant *(*FinishFunc) (EaStore *, GAsyncResult *, GError **);

typedef struct {
  ReadResult *result;
  FinishFunc finish;
} ReadCall;

static void
read_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  ReadCall *call = data;

  call->result->value = call->finish (EA_STORE (source), res, &call->result->error);
  call->result->done = TRUE;
}

static GVariant *
wait_read (ReadCall *call, GError **error)
{
  while (!call->result->done)
    g_main_context_iteration (NULL, TRUE);
  if (call->result->error != NULL)
    {
      g_assert_null (call->result->value);
      g_propagate_error (error, call->result->error);
      return NULL;
    }
  g_assert_nonnull (call->result->value);
  g_assert_false (g_variant_is_floating (call->result->value));
  return call->result->value;
}

static GVariant *
do_search (EaStore *store, const char *text, GVariant *filter, GError **error)
{
  ReadResult result = { 0 };
  ReadCall call = { &result, ea_store_search_finish };

  ea_store_search (store, text, filter, NULL, read_cb, &call);
  return wait_read (&call, error);
}

static GVariant *
do_similar (EaStore *store, const char *summary, guint limit, GError **error)
{
  ReadResult result = { 0 };
  ReadCall call = { &result, ea_store_find_similar_finish };

  ea_store_find_similar (store, summary, limit, NULL, read_cb, &call);
  return wait_read (&call, error);
}

static GVariant *
do_statistics (EaStore *store, GVariant *filter, GError **error)
{
  ReadResult result = { 0 };
  ReadCall call = { &result, ea_store_statistics_finish };

  ea_store_statistics (store, filter, NULL, read_cb, &call);
  return wait_read (&call, error);
}

static GVariant *
do_messages (EaStore *store, const char *session, guint limit, GError **error)
{
  ReadResult result = { 0 };
  ReadCall call = { &result, ea_store_get_messages_finish };

  ea_store_get_messages (store, session, limit, NULL, read_cb, &call);
  return wait_read (&call, error);
}

static GVariant *
do_transcript (EaStore *store, const char *session, GError **error)
{
  ReadResult result = { 0 };
  ReadCall call = { &result, ea_store_get_transcript_finish };

  ea_store_get_transcript (store, session, NULL, read_cb, &call);
  return wait_read (&call, error);
}

static GVariant *
do_unfinished (EaStore *store, GError **error)
{
  ReadResult result = { 0 };
  ReadCall call = { &result, ea_store_load_unfinished_finish };

  ea_store_load_unfinished (store, NULL, read_cb, &call);
  return wait_read (&call, error);
}

/* Builders of rows */

static void
put_request (EaStore *store, const EaStoreRequest *r, Written *w)
{
  ea_store_put_request (store, r, done_cb, w);
}

static void
put_message (EaStore    *store,
             const char *session,
             const char *id,
             gint64      time,
             const char *sender,
             const char *text,
             Written    *w)
{
  EaStoreMessage m = {
    .session = session, .id = id, .time = time, .sender = sender, .text = text,
  };

  ea_store_put_message (store, &m, done_cb, w);
}

static void
put_session (EaStore            *store,
             const char         *id,
             const char         *request,
             const char         *role,
             const char         *group,
             const char * const *participants,
             const char         *state,
             gint64              started,
             gint64              ended,
             Written            *w)
{
  EaStoreSession s = {
    .id = id, .request = request, .role = role, .group = group,
    .summary = "", .participants = participants, .state = state,
    .started = started, .ended = ended,
  };

  ea_store_put_session (store, &s, done_cb, w);
}

static void
put_offer (EaStore    *store,
           const char *request,
           const char *expert,
           const char *role,
           const char *group,
           const char *state,
           gint64      offered,
           Written    *w)
{
  EaStoreOffer o = {
    .request = request, .expert = expert, .role = role, .agent = "carol@example.org",
    .group = group, .state = state, .offered = offered, .expires = offered + 30 * SEC,
    .ended = g_str_equal (state, "pending") ? 0 : offered + 5 * SEC, .rounds = 1,
  };

  ea_store_put_offer (store, &o, done_cb, w);
}

static GVariant *
hit_lookup (GVariant *row, const char *key, const char *type)
{
  GVariant *value = g_variant_lookup_value (row, key, G_VARIANT_TYPE (type));

  if (value == NULL)
    g_error ("key %s of type %s missing in %s", key, type, g_variant_print (row, TRUE));
  return value;
}

static const char *
row_str (GVariant *row, const char *key)
{
  g_autoptr(GVariant) v = hit_lookup (row, key, "s");

  /* The string lives as long as @row does. */
  return g_variant_get_string (v, NULL);
}

static gint64
row_x (GVariant *row, const char *key)
{
  g_autoptr(GVariant) v = hit_lookup (row, key, "x");

  return g_variant_get_int64 (v);
}

static guint
row_u (GVariant *row, const char *key)
{
  g_autoptr(GVariant) v = hit_lookup (row, key, "u");

  return g_variant_get_uint32 (v);
}

static double
row_d (GVariant *row, const char *key)
{
  g_autoptr(GVariant) v = hit_lookup (row, key, "d");

  return g_variant_get_double (v);
}

static GVariant *
row_at (GVariant *rows, gsize i)
{
  return g_variant_get_child_value (rows, i);
}

/* ------------------------------------------------------------------ */
/* Round trip                                                          */
/* ------------------------------------------------------------------ */

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  const char * const accepted[] = { "bob@example.org", NULL };
  const char * const shown[] = { ID ("0009"), ID ("0010"), NULL };
  const char * const participants[] = { "carol@example.org", "bob@example.org", NULL };
  g_auto(Written) w = { 0 };
  g_autoptr(GVariant) unfinished = NULL;
  g_autoptr(GVariant) requests = NULL;
  g_autoptr(GVariant) offers = NULL;
  g_autoptr(GVariant) sessions = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GVariant) transcript = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) strv = NULL;
  g_autoptr(GVariant) query =
    g_variant_ref_sink (g_variant_new_parsed ("{'summary': <'Customer cannot log in'>,"
                                              " 'channel': <'phone'>,"
                                              " 'details': <'Since Monday'>}"));
  g_autoptr(GVariant) options =
    g_variant_ref_sink (g_variant_new_parsed ("{'mode': <'serial'>, 'experts': <@u 1>}"));
  gint64 t = g_get_real_time () - HOUR;
  EaStoreRequest open = {
    .id = ID ("0001"), .role = "agent", .agent = "carol@example.org", .group = "billing",
    .summary = "Customer cannot log in",
    .query = query, .options = options,
    .state = "connected", .reason = "", .session = ID ("0100"), .accepted = accepted,
    .created = t, .updated = t + 9 * SEC, .answered = t + 8 * SEC, .queued = t + SEC,
    .queue_wait = 3 * SEC, .ever_queued = TRUE, .similar_shown = shown,
  };
  EaStoreRequest closed = {
    .id = ID ("0002"), .role = "agent", .agent = "carol@example.org", .group = "tech",
    .summary = "Done already", .state = "closed", .created = t, .updated = t,
  };
  EaStoreRequest offered = {
    .id = ID ("0003"), .role = "expert", .agent = "dave@example.org", .group = "tech",
    .summary = "Offered to me", .state = "pending", .created = t, .updated = t,
  };
  EaStoreOffer pending = {
    .request = ID ("0003"), .expert = "carol@example.org", .role = "expert",
    .agent = "dave@example.org", .group = "tech", .state = "pending", .reason = "",
    .offered = t + SEC, .expires = t + 31 * SEC, .ended = 0, .rounds = 2,
  };
  EaStoreSession session = {
    .id = ID ("0100"), .request = ID ("0001"), .role = "agent", .group = "billing",
    .summary = "Customer cannot log in", .participants = participants,
    .room = NULL, .state = "open", .started = t + 8 * SEC, .ended = 0,
  };

  put_request (f->store, &open, &w);
  put_request (f->store, &closed, &w);
  put_request (f->store, &offered, &w);
  ea_store_put_offer (f->store, &pending, done_cb, &w);
  put_offer (f->store, ID ("0001"), "bob@example.org", "agent", "billing", "pending", t, &w);
  ea_store_put_session (f->store, &session, done_cb, &w);
  put_message (f->store, ID ("0100"), "s1", t + 10 * SEC, "carol@example.org", "Hello Bob", &w);
  put_message (f->store, ID ("0100"), "s2", t + 11 * SEC, "bob@example.org", "Hi Carol", &w);
  ea_store_set_delivered (f->store, ID ("0100"), "s1", t + 12 * SEC);
  wait_calls (&w, 8);
  g_assert_cmpuint (w.failures, ==, 0);

  unfinished = do_unfinished (f->store, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (unfinished, G_VARIANT_TYPE ("a{sv}")));
  requests = g_variant_lookup_value (unfinished, "requests", G_VARIANT_TYPE ("aa{sv}"));
  offers = g_variant_lookup_value (unfinished, "offers", G_VARIANT_TYPE ("aa{sv}"));
  sessions = g_variant_lookup_value (unfinished, "sessions", G_VARIANT_TYPE ("aa{sv}"));

  /* Only the agent's open request: not the closed one, not the one
   * offered to this user. */
  g_assert_cmpuint (g_variant_n_children (requests), ==, 1);
  row = row_at (requests, 0);
  g_assert_cmpstr (row_str (row, "id"), ==, ID ("0001"));
  g_assert_cmpstr (row_str (row, "role"), ==, "agent");
  g_assert_cmpstr (row_str (row, "agent"), ==, "carol@example.org");
  g_assert_cmpstr (row_str (row, "group"), ==, "billing");
  g_assert_cmpstr (row_str (row, "summary"), ==, "Customer cannot log in");
  g_assert_cmpstr (row_str (row, "state"), ==, "connected");
  g_assert_cmpstr (row_str (row, "reason"), ==, "");
  g_assert_cmpstr (row_str (row, "session"), ==, ID ("0100"));
  g_assert_cmpint (row_x (row, "created"), ==, t);
  g_assert_cmpint (row_x (row, "updated"), ==, t + 9 * SEC);
  g_assert_cmpint (row_x (row, "answered"), ==, t + 8 * SEC);
  g_assert_cmpint (row_x (row, "queued"), ==, t + SEC);
  g_assert_cmpint (row_x (row, "queue_wait"), ==, 3 * SEC);
  value = hit_lookup (row, "ever_queued", "b");
  g_assert_true (g_variant_get_boolean (value));
  g_clear_pointer (&value, g_variant_unref);
  value = hit_lookup (row, "accepted", "as");
  strv = g_variant_dup_strv (value, NULL);
  g_assert_cmpstrv (strv, accepted);
  g_clear_pointer (&strv, g_strfreev);
  g_clear_pointer (&value, g_variant_unref);
  value = hit_lookup (row, "similar_shown", "as");
  strv = g_variant_dup_strv (value, NULL);
  g_assert_cmpstrv (strv, shown);
  g_clear_pointer (&strv, g_strfreev);
  g_clear_pointer (&value, g_variant_unref);
  value = hit_lookup (row, "query", "a{sv}");
  g_assert_true (g_variant_equal (value, query));
  g_clear_pointer (&value, g_variant_unref);
  value = hit_lookup (row, "options", "a{sv}");
  g_assert_true (g_variant_equal (value, options));
  g_clear_pointer (&value, g_variant_unref);
  /* bob still holds one of its offers: a restart owes him a withdrawal. */
  value = hit_lookup (row, "pending-offers", "as");
  strv = g_variant_dup_strv (value, NULL);
  g_assert_cmpuint (g_strv_length (strv), ==, 1);
  g_assert_cmpstr (strv[0], ==, "bob@example.org");
  g_clear_pointer (&strv, g_strfreev);
  g_clear_pointer (&value, g_variant_unref);
  g_clear_pointer (&row, g_variant_unref);

  /* The pending offer this user received, not the one the agent sent. */
  g_assert_cmpuint (g_variant_n_children (offers), ==, 1);
  row = row_at (offers, 0);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0003"));
  g_assert_cmpstr (row_str (row, "expert"), ==, "carol@example.org");
  g_assert_cmpstr (row_str (row, "role"), ==, "expert");
  g_assert_cmpstr (row_str (row, "agent"), ==, "dave@example.org");
  g_assert_cmpstr (row_str (row, "group"), ==, "tech");
  g_assert_cmpstr (row_str (row, "state"), ==, "pending");
  g_assert_cmpint (row_x (row, "offered"), ==, t + SEC);
  g_assert_cmpint (row_x (row, "expires"), ==, t + 31 * SEC);
  g_assert_cmpint (row_x (row, "ended"), ==, 0);
  g_assert_cmpuint (row_u (row, "rounds"), ==, 2);
  /* With what the expert's desktop shows of it. */
  g_assert_cmpstr (row_str (row, "summary"), ==, "Offered to me");
  g_clear_pointer (&row, g_variant_unref);

  g_assert_cmpuint (g_variant_n_children (sessions), ==, 1);
  row = row_at (sessions, 0);
  g_assert_cmpstr (row_str (row, "id"), ==, ID ("0100"));
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0001"));
  g_assert_cmpstr (row_str (row, "role"), ==, "agent");
  g_assert_cmpstr (row_str (row, "group"), ==, "billing");
  g_assert_cmpstr (row_str (row, "summary"), ==, "Customer cannot log in");
  g_assert_cmpstr (row_str (row, "room"), ==, "");
  g_assert_cmpstr (row_str (row, "state"), ==, "open");
  g_assert_cmpint (row_x (row, "started"), ==, t + 8 * SEC);
  g_assert_cmpint (row_x (row, "ended"), ==, 0);
  value = hit_lookup (row, "participants", "as");
  strv = g_variant_dup_strv (value, NULL);
  g_assert_cmpstrv (strv, participants);
  g_clear_pointer (&strv, g_strfreev);
  g_clear_pointer (&value, g_variant_unref);
  g_clear_pointer (&row, g_variant_unref);

  messages = do_messages (f->store, ID ("0100"), 0, &error);
  g_assert_no_error (error);
  value = g_variant_new_parsed ("[('s1', @x %x, 'carol@example.org', 'Hello Bob'),"
                                " ('s2', %x, 'bob@example.org', 'Hi Carol')]",
                                t + 10 * SEC, t + 11 * SEC);
  g_variant_ref_sink (value);
  g_assert_true (g_variant_equal (messages, value));
  g_clear_pointer (&value, g_variant_unref);
  g_clear_pointer (&messages, g_variant_unref);

  /* An unknown session simply has no messages. */
  messages = do_messages (f->store, ID ("9999"), 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (messages), ==, 0);

  transcript = do_transcript (f->store, ID ("0100"), &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (transcript, G_VARIANT_TYPE ("(a{sv}a(sxss))")));
  info = g_variant_get_child_value (transcript, 0);
  g_assert_cmpstr (row_str (info, "request"), ==, ID ("0001"));
  g_assert_cmpstr (row_str (info, "group"), ==, "billing");
  g_assert_cmpstr (row_str (info, "summary"), ==, "Customer cannot log in");
  g_assert_cmpint (row_x (info, "started"), ==, t + 8 * SEC);
  g_assert_cmpint (row_x (info, "ended"), ==, 0);
  value = hit_lookup (info, "peers", "as");
  strv = g_variant_dup_strv (value, NULL);
  g_assert_cmpstrv (strv, participants);
  g_clear_pointer (&value, g_variant_unref);
  value = g_variant_get_child_value (transcript, 1);
  g_assert_cmpuint (g_variant_n_children (value), ==, 2);
  g_clear_pointer (&value, g_variant_unref);
  g_clear_pointer (&transcript, g_variant_unref);

  transcript = do_transcript (f->store, ID ("9999"), &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_NOT_FOUND);
  g_assert_null (transcript);
  g_clear_error (&error);

  /* The receipt went in too. */
  ea_store_flush (f->store);
  {
    sqlite3 *db = raw_open (ea_store_get_path (f->store));

    g_assert_cmpint (raw_int (db, "SELECT delivered FROM messages WHERE id = 's1'"),
                     ==, t + 12 * SEC);
    g_assert_cmpint (raw_int (db, "SELECT count(*) FROM messages WHERE delivered = 0"), ==, 1);
    /* The file is private. */
    {
      GStatBuf st;

      g_assert_cmpint (g_stat (ea_store_get_path (f->store), &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
      g_assert_cmpint (g_stat (f->dir, &st), ==, 0);
    }
    g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 2);
    {
      g_autofree char *mode = raw_text (db, "PRAGMA journal_mode");

      g_assert_cmpstr (mode, ==, "wal");
    }
    sqlite3_close (db);
  }
}

/* The directory is created, 0700, with its parents. */
static void
test_creates_directory (Fixture *f, gconstpointer data)
{
  g_autofree char *sub = g_build_filename (f->dir, "a", "b", NULL);
  g_autoptr(EaStore) store = ea_store_new (sub);
  g_autofree char *db = g_build_filename (sub, "expert-assist.db", NULL);
  g_auto(Written) w = { 0 };
  GStatBuf st;

  g_assert_cmpstr (ea_store_get_path (store), ==, db);
  put_message (store, ID ("0100"), "a", 1, "x@example.org", "hello", &w);
  wait_calls (&w, 1);
  g_assert_no_error (w.error);
  g_assert_cmpint (g_stat (sub, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));
  g_clear_object (&store);
  /* Closed cleanly: the WAL was checkpointed and removed. */
  {
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);

    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  }
  assert_integrity (db);
}

/* ------------------------------------------------------------------ */
/* Ordering, duplicates, durability                                    */
/* ------------------------------------------------------------------ */

typedef struct {
  GArray *order;
  guint tag;
} Tagged;

static void
tagged_cb (GError *error, gpointer data)
{
  Tagged *t = data;

  g_assert_no_error (error);
  g_array_append_val (t->order, t->tag);
}

static void
test_order (Fixture *f, gconstpointer data)
{
  static const char * const states[] = { "queued", "offering", "queued", "offering", "connected" };
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  Tagged tags[200];
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GVariant) unfinished = NULL;
  g_autoptr(GVariant) requests = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autoptr(GError) error = NULL;
  gint64 t = g_get_real_time ();

  /* Writes of every kind, interleaved with reads; callbacks in call order. */
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      g_autofree char *id = g_strdup_printf ("m%03u", i);

      tags[i].order = order;
      tags[i].tag = i;
      if (i % 40 < G_N_ELEMENTS (states))
        {
          EaStoreRequest r = {
            .id = ID ("0001"), .role = "agent", .state = states[i % 40], .created = t,
            .updated = t + i,
          };

          ea_store_put_request (f->store, &r, tagged_cb, &tags[i]);
        }
      else
        {
          /* Same time for all: insertion order breaks the tie. */
          EaStoreMessage m = {
            .session = ID ("0100"), .id = id, .time = t, .sender = "a@example.org", .text = id,
          };

          ea_store_put_message (f->store, &m, tagged_cb, &tags[i]);
        }
      if (i == 100)
        {
          g_autoptr(GVariant) some = do_messages (f->store, ID ("0100"), 0, &error);

          g_assert_no_error (error);
          /* A read sees every write queued before it. */
          /* 101 writes, 15 of them requests (0-4, 40-44, 80-84). */
          g_assert_cmpuint (g_variant_n_children (some), ==, 86);
          g_assert_cmpuint (order->len, ==, 101);
        }
    }
  while (order->len < G_N_ELEMENTS (tags))
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < order->len; i++)
    g_assert_cmpuint (g_array_index (order, guint, i), ==, i);

  /* The last snapshot wins. */
  unfinished = do_unfinished (f->store, &error);
  g_assert_no_error (error);
  requests = g_variant_lookup_value (unfinished, "requests", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_cmpuint (g_variant_n_children (requests), ==, 1);
  row = row_at (requests, 0);
  g_assert_cmpstr (row_str (row, "state"), ==, "connected");
  g_assert_cmpint (row_x (row, "updated"), ==, t + 164);

  /* The last 3 messages, oldest first. */
  messages = do_messages (f->store, ID ("0100"), 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (messages), ==, 3);
  {
    const char *id;

    g_variant_get_child (messages, 0, "(&sxss)", &id, NULL, NULL, NULL);
    g_assert_cmpstr (id, ==, "m197");
    g_variant_get_child (messages, 2, "(&sxss)", &id, NULL, NULL, NULL);
    g_assert_cmpstr (id, ==, "m199");
  }
}

static void
test_duplicate_message (Fixture *f, gconstpointer data)
{
  g_auto(Written) w = { 0 };
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GVariant) hits = NULL;
  g_autoptr(GError) error = NULL;
  const char *text;

  put_message (f->store, ID ("0100"), "dup", 1000, "a@example.org", "first copy", &w);
  put_message (f->store, ID ("0100"), "dup", 2000, "a@example.org", "second copy", &w);
  /* The same stanza id in another session is another message. */
  put_message (f->store, ID ("0200"), "dup", 3000, "a@example.org", "other session", &w);
  wait_calls (&w, 3);
  g_assert_cmpuint (w.failures, ==, 0);

  messages = do_messages (f->store, ID ("0100"), 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (messages), ==, 1);
  g_variant_get_child (messages, 0, "(&sxs&s)", NULL, NULL, NULL, &text);
  g_assert_cmpstr (text, ==, "first copy");
  g_clear_pointer (&messages, g_variant_unref);
  messages = do_messages (f->store, ID ("0200"), 0, &error);
  g_assert_cmpuint (g_variant_n_children (messages), ==, 1);

  /* The index has the first copy only. */
  hits = do_search (f->store, "second", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 0);
  g_clear_pointer (&hits, g_variant_unref);
  hits = do_search (f->store, "copy", NULL, &error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
}

typedef struct {
  const char *path;
  guint seen;
} CommitCheck;

/* Another connection, as after a crash, sees the row from the callback on. */
static void
committed_cb (GError *error, gpointer data)
{
  CommitCheck *check = data;
  sqlite3 *db = raw_open (check->path);

  g_assert_no_error (error);
  check->seen = (guint) raw_int (db, "SELECT count(*) FROM messages WHERE text LIKE 'durable%'");
  sqlite3_close (db);
}

static void
test_callback_after_commit (Fixture *f, gconstpointer data)
{
  CommitCheck checks[50];

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      g_autofree char *id = g_strdup_printf ("d%u", i);
      g_autofree char *text = g_strdup_printf ("durable %u", i);
      EaStoreMessage m = {
        .session = ID ("0100"), .id = id, .time = 1000 + i, .sender = "a@example.org",
        .text = text,
      };

      checks[i].path = ea_store_get_path (f->store);
      checks[i].seen = 0;
      ea_store_put_message (f->store, &m, committed_cb, &checks[i]);
    }
  while (checks[G_N_ELEMENTS (checks) - 1].seen == 0)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    g_assert_cmpuint (checks[i].seen, >=, i + 1);
}

/* A barrier: everything written before it is committed when it calls. */
static void
test_flush_then (Fixture *f, gconstpointer data)
{
  CommitCheck check = { ea_store_get_path (f->store), 0 };

  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *id = g_strdup_printf ("b%u", i);
      EaStoreMessage m = {
        .session = ID ("0100"), .id = id, .time = 1000 + i, .sender = "a@example.org",
        .text = "durable barrier",
      };

      ea_store_put_message (f->store, &m, NULL, NULL);
    }
  ea_store_flush_then (f->store, committed_cb, &check);
  while (check.seen == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (check.seen, ==, 20);
}

/* Callbacks come back on the caller's thread-default context, not on the
 * default one. */
static void
test_thread_default_context (Fixture *f, gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_auto(Written) w = { 0 };
  ReadResult result = { 0 };
  ReadCall call = { &result, ea_store_get_messages_finish };

  g_main_context_push_thread_default (context);
  put_message (f->store, ID ("0100"), "c1", 1000, "a@example.org", "context", &w);
  ea_store_get_messages (f->store, ID ("0100"), 0, NULL, read_cb, &call);
  ea_store_flush (f->store);
  /* Nothing on the default context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (w.calls, ==, 0);
  while (w.calls < 1 || !result.done)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_assert_no_error (result.error);
  g_assert_cmpuint (g_variant_n_children (result.value), ==, 1);
  g_variant_unref (result.value);
}

/* ------------------------------------------------------------------ */
/* Search                                                              */
/* ------------------------------------------------------------------ */

static gint64 search_t;

static void
fill_search (EaStore *store)
{
  const char * const agent_side[] = { "carol@example.org", "bob@example.org", NULL };
  const char * const expert_side[] = { "dave@example.org", "carol@example.org", NULL };
  const char * const bob[] = { "bob@example.org", NULL };
  g_auto(Written) w = { 0 };
  gint64 t = search_t = g_get_real_time () - 10 * DAY;
  EaStoreRequest r1 = {
    .id = ID ("0001"), .role = "agent", .agent = "carol@example.org", .group = "billing",
    .summary = "Refund for a double charge", .accepted = bob, .session = ID ("0100"),
    .query = g_variant_new_parsed ("{'details': <'Card ending 4242, refund pending'>}"),
    .state = "closed", .created = t, .updated = t, .answered = t + 5 * SEC,
  };
  EaStoreRequest r2 = {
    .id = ID ("0002"), .role = "expert", .agent = "dave@example.org", .group = "tech",
    .summary = "Printer offline after update", .session = ID ("0200"),
    .state = "accepted", .created = t + DAY, .updated = t + DAY,
  };

  put_request (store, &r1, &w);
  put_request (store, &r2, &w);
  put_offer (store, ID ("0002"), "carol@example.org", "expert", "tech", "accepted", t + DAY, &w);
  put_session (store, ID ("0100"), ID ("0001"), "agent", "billing", agent_side, "closed",
               t + 5 * SEC, t + HOUR, &w);
  put_session (store, ID ("0200"), ID ("0002"), "expert", "tech", expert_side, "closed",
               t + DAY, t + DAY + HOUR, &w);
  put_message (store, ID ("0100"), "a1", t + 10 * SEC, "bob@example.org",
               "The refund for the customer failed twice, I will look at the gateway logs", &w);
  put_message (store, ID ("0100"), "a2", t + 20 * SEC, "carol@example.org",
               "<script>alert('refund')</script> & \"quotes\" came in the ticket", &w);
  put_message (store, ID ("0100"), "a3", t + 30 * SEC, "bob@example.org",
               "refund refund refund", &w);
  put_message (store, ID ("0100"), "a4", t + 40 * SEC, "bob@example.org",
               "odd \x01 marker in a refund line", &w);
  put_message (store, ID ("0200"), "b1", t + DAY + 10 * SEC, "dave@example.org",
               "The printer shows offline since the update, no refund needed", &w);
  put_message (store, ID ("0200"), "b2", t + DAY + 20 * SEC, "carol@example.org",
               "Reinstall the printer driver from the vendor site", &w);
  wait_calls (&w, 11);
  g_assert_cmpuint (w.failures, ==, 0);
}

static GVariant *
search_ok (EaStore *store, const char *text, GVariant *filter)
{
  g_autoptr(GError) error = NULL;
  GVariant *hits = do_search (store, text, filter, &error);

  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (hits, G_VARIANT_TYPE ("aa{sv}")));
  /* Best first. */
  for (gsize i = 1; i < g_variant_n_children (hits); i++)
    {
      g_autoptr(GVariant) a = row_at (hits, i - 1);
      g_autoptr(GVariant) b = row_at (hits, i);

      g_assert_cmpfloat (row_d (a, "rank"), >=, row_d (b, "rank"));
    }
  return hits;
}

static GVariant *
find_hit (GVariant *hits, const char *session, const char *snippet_part)
{
  for (gsize i = 0; i < g_variant_n_children (hits); i++)
    {
      GVariant *row = row_at (hits, i);

      if (g_str_equal (row_str (row, "session"), session) &&
          strstr (row_str (row, "snippet"), snippet_part) != NULL)
        return row;
      g_variant_unref (row);
    }
  return NULL;
}

static void
test_search (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) hits = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autoptr(GError) error = NULL;
  gint64 t;
  guint summary_hits = 0;

  fill_search (f->store);
  t = search_t;

  hits = search_ok (f->store, "refund", NULL);
  /* a1 a2 a3 a4 b1 in chats, r1 by summary and details. */
  g_assert_cmpuint (g_variant_n_children (hits), ==, 6);
  for (gsize i = 0; i < g_variant_n_children (hits); i++)
    {
      g_autoptr(GVariant) hit = row_at (hits, i);

      g_assert_cmpfloat (row_d (hit, "rank"), >, 0.0);
      if (*row_str (hit, "session") == '\0')
        summary_hits++;
    }
  g_assert_cmpuint (summary_hits, ==, 1);

  /* The densest message ranks above the long one. */
  {
    gsize dense = G_MAXSIZE, sparse = G_MAXSIZE;

    for (gsize i = 0; i < g_variant_n_children (hits); i++)
      {
        g_autoptr(GVariant) hit = row_at (hits, i);

        if (g_str_equal (row_str (hit, "snippet"), "<b>refund</b> <b>refund</b> <b>refund</b>"))
          dense = i;
        if (g_str_has_prefix (row_str (hit, "snippet"), "The <b>refund</b> for the customer"))
          sparse = i;
      }
    g_assert_cmpuint (dense, <, sparse);
    g_assert_cmpuint (sparse, !=, G_MAXSIZE);
  }

  /* A message hit, every key. */
  row = find_hit (hits, ID ("0100"), "gateway");
  g_assert_nonnull (row);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0001"));
  g_assert_cmpint (row_x (row, "time"), ==, t + 10 * SEC);
  g_assert_cmpstr (row_str (row, "sender"), ==, "bob@example.org");
  g_assert_cmpstr (row_str (row, "peer"), ==, "bob@example.org");
  g_assert_cmpstr (row_str (row, "group"), ==, "billing");
  g_clear_pointer (&row, g_variant_unref);

  /* Escaped first, highlighted after: the tag is text, the match bold. */
  row = find_hit (hits, ID ("0100"), "script");
  g_assert_nonnull (row);
  g_assert_cmpstr (row_str (row, "snippet"), ==,
                   "&lt;script&gt;alert(&apos;<b>refund</b>&apos;)&lt;/script&gt; &amp; "
                   "&quot;quotes&quot; came in the ticket");
  g_assert_null (strstr (row_str (row, "snippet"), "<script"));
  g_clear_pointer (&row, g_variant_unref);

  /* A text with a marker character of its own: no stray tags. */
  row = find_hit (hits, ID ("0100"), "marker");
  g_assert_nonnull (row);
  g_assert_null (strstr (row_str (row, "snippet"), "<b>"));
  g_assert_null (strstr (row_str (row, "snippet"), "&#x"));
  g_clear_pointer (&row, g_variant_unref);

  /* The expert's side: the other party is the agent, not the user. */
  row = find_hit (hits, ID ("0200"), "printer");
  g_assert_nonnull (row);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0002"));
  g_assert_cmpstr (row_str (row, "peer"), ==, "dave@example.org");
  g_assert_cmpstr (row_str (row, "group"), ==, "tech");
  g_clear_pointer (&row, g_variant_unref);

  /* The summary hit: no session, the expert as the other party. */
  row = find_hit (hits, "", "<b>Refund</b>");
  g_assert_nonnull (row);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0001"));
  g_assert_cmpint (row_x (row, "time"), ==, t);
  g_assert_cmpstr (row_str (row, "sender"), ==, "carol@example.org");
  g_assert_cmpstr (row_str (row, "peer"), ==, "bob@example.org");
  g_assert_cmpstr (row_str (row, "group"), ==, "billing");
  g_clear_pointer (&row, g_variant_unref);
  g_clear_pointer (&hits, g_variant_unref);

  /* Filters. */
  hits = search_ok (f->store, "refund", g_variant_new_parsed ("{'group': <'tech'>}"));
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
  g_clear_pointer (&hits, g_variant_unref);

  hits = search_ok (f->store, "refund OR printer",
                    g_variant_new_parsed ("{'peer': <'dave@example.org'>}"));
  /* b1, b2 in the chat with dave, and r2's summary (dave asked). */
  g_assert_cmpuint (g_variant_n_children (hits), ==, 3);
  g_clear_pointer (&hits, g_variant_unref);

  hits = search_ok (f->store, "refund",
                    g_variant_new_parsed ("{'since': <@x %x>, 'until': <@x %x>}",
                                          t + 20 * SEC, t + 40 * SEC));
  /* a2 and a3; a4 is at the (exclusive) end, r1 before the start. */
  g_assert_cmpuint (g_variant_n_children (hits), ==, 2);
  g_clear_pointer (&hits, g_variant_unref);

  hits = search_ok (f->store, "refund", g_variant_new_parsed ("{'limit': <@u 2>}"));
  g_assert_cmpuint (g_variant_n_children (hits), ==, 2);
  g_clear_pointer (&hits, g_variant_unref);

  /* Phrases and prefixes, FTS5 syntax. */
  hits = search_ok (f->store, "\"printer driver\"", NULL);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
  g_clear_pointer (&hits, g_variant_unref);
  hits = search_ok (f->store, "gate*", NULL);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
  g_clear_pointer (&hits, g_variant_unref);

  /* A column of one index only: the other has no hits, not an error. */
  hits = search_ok (f->store, "summary: printer", NULL);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
  row = row_at (hits, 0);
  g_assert_cmpstr (row_str (row, "session"), ==, "");
  g_clear_pointer (&row, g_variant_unref);
  g_clear_pointer (&hits, g_variant_unref);

  /* Mistakes. */
  hits = do_search (f->store, "refund AND", NULL, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  g_assert_null (hits);
  g_assert_nonnull (strstr (error->message, "“refund AND” is not valid"));
  g_assert_nonnull (strstr (error->message, "syntax error"));
  g_clear_error (&error);

  hits = do_search (f->store, "\"unterminated", NULL, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  hits = do_search (f->store, "nosuchcolumn: word", NULL, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  hits = do_search (f->store, "", NULL, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  hits = do_search (f->store, "   ", NULL, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  hits = do_search (f->store, "refund", g_variant_new_parsed ("{'colour': <'red'>}"), &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "colour"));
  g_clear_error (&error);

  hits = do_search (f->store, "refund", g_variant_new_parsed ("{'limit': <5>}"), &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "limit"));
  g_clear_error (&error);

  /* And the store still works. */
  hits = search_ok (f->store, "printer", NULL);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 3);
}

/* With many matches, only the most recent ones (500) are ranked: the
 * oldest messages, the best matches by far, are not among the hits. */
static void
test_search_window (Fixture *f, gconstpointer data)
{
  g_auto(Written) w = { 0 };
  g_autoptr(GVariant) hits = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 1100; i++)
    {
      g_autofree char *id = g_strdup_printf ("w%u", i);

      put_message (f->store, ID ("0100"), id, (1 + i) * SEC, "a@example.org",
                   i < 50 ? "alpha alpha alpha" : "alpha and a long tail of other words here",
                   &w);
    }
  wait_calls (&w, 1100);
  g_assert_cmpuint (w.failures, ==, 0);

  hits = search_ok (f->store, "alpha", NULL);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 50);
  for (gsize i = 0; i < g_variant_n_children (hits); i++)
    {
      g_autoptr(GVariant) hit = row_at (hits, i);

      g_assert_cmpint (row_x (hit, "time"), >, 100 * SEC);
    }
  g_clear_pointer (&hits, g_variant_unref);

  /* With a filter, the window is of the matches that pass it. */
  hits = search_ok (f->store, "alpha",
                    g_variant_new_parsed ("{'until': <@x %x>}", (gint64) 51 * SEC));
  g_assert_cmpuint (g_variant_n_children (hits), ==, 50);
  g_clear_pointer (&hits, g_variant_unref);

  hits = do_search (f->store, "alpha", g_variant_new_parsed ("{'limit': <@u 5000>}"), &error);
  g_assert_no_error (error);
  /* At most 1000 hits a search. */
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1000);
}

/* ------------------------------------------------------------------ */
/* FindSimilar                                                         */
/* ------------------------------------------------------------------ */

static void
test_similar (Fixture *f, gconstpointer data)
{
  static const char * const hostile[] = {
    "\"", "\"\"", "NEAR(login reset)", "*", "(", ")", "AND OR NOT", "login\" OR \"x",
    "summary: login", "-login +reset", "^login", "log*in", "{summary details}: login",
    "'; DROP TABLE requests; --", "\x01\x02", "über naïve café",
  };
  const char * const participants[] = { "carol@example.org", "bob@example.org", NULL };
  const char * const bob[] = { "bob@example.org", NULL };
  g_auto(Written) w = { 0 };
  g_autoptr(GVariant) rows = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autoptr(GVariant) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 t = g_get_real_time () - DAY;
  EaStoreRequest answered = {
    .id = ID ("0001"), .role = "agent", .agent = "carol@example.org", .group = "billing",
    .summary = "Customer cannot log in after a password reset", .accepted = bob,
    .session = ID ("0100"), .state = "closed", .created = t, .updated = t,
    .answered = t + 5 * SEC,
  };
  EaStoreRequest unanswered = {
    .id = ID ("0002"), .role = "agent", .agent = "carol@example.org", .group = "billing",
    .summary = "Login page shows a password error", .state = "failed", .reason = "expired",
    .created = t, .updated = t,
  };
  EaStoreRequest other = {
    .id = ID ("0003"), .role = "agent", .agent = "carol@example.org", .group = "tech",
    .summary = "Printer jams", .accepted = bob, .session = ID ("0300"), .state = "closed",
    .created = t, .updated = t, .answered = t + 5 * SEC,
  };

  put_request (f->store, &answered, &w);
  put_request (f->store, &unanswered, &w);
  put_request (f->store, &other, &w);
  put_session (f->store, ID ("0100"), ID ("0001"), "agent", "billing", participants, "closed",
               t + 5 * SEC, t + HOUR, &w);
  put_session (f->store, ID ("0300"), ID ("0003"), "agent", "tech", participants, "closed",
               t + 5 * SEC, t + HOUR, &w);
  put_message (f->store, ID ("0100"), "q", t + 6 * SEC, "carol@example.org",
               "Customer is locked out after the reset", &w);
  for (guint i = 0; i < 7; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", i);
      g_autofree char *text = g_strdup_printf ("step %u: clear the session token", i + 1);

      put_message (f->store, ID ("0100"), id, t + (10 + i) * SEC, "bob@example.org", text, &w);
    }
  /* Only the chat of the printer request mentions logging in. */
  put_message (f->store, ID ("0300"), "p", t + 6 * SEC, "bob@example.org",
               "unrelated, but the customer can log in to the printer login page", &w);
  wait_calls (&w, 14);
  g_assert_cmpuint (w.failures, ==, 0);

  rows = do_similar (f->store, "Customer can't log in: password \"reset\" (again)", 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (rows, G_VARIANT_TYPE ("aa{sv}")));
  /* The unanswered request is left out; the chat-only match comes after. */
  g_assert_cmpuint (g_variant_n_children (rows), ==, 2);
  row = row_at (rows, 0);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0001"));
  g_assert_cmpint (row_x (row, "time"), ==, t);
  g_assert_cmpstr (row_str (row, "group"), ==, "billing");
  g_assert_cmpstr (row_str (row, "summary"), ==, answered.summary);
  g_assert_cmpstr (row_str (row, "expert"), ==, "bob@example.org");
  g_assert_cmpfloat (row_d (row, "rank"), >, 0.0);
  answer = hit_lookup (row, "answer", "as");
  lines = g_variant_dup_strv (answer, NULL);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_cmpstr (lines[0], ==, "step 1: clear the session token");
  g_assert_cmpstr (lines[4], ==, "step 5: clear the session token");
  g_clear_pointer (&row, g_variant_unref);
  row = row_at (rows, 1);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0003"));
  g_clear_pointer (&row, g_variant_unref);
  g_clear_pointer (&rows, g_variant_unref);

  rows = do_similar (f->store, "password", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (rows), ==, 1);
  g_clear_pointer (&rows, g_variant_unref);

  /* Any text is safe: words only, quoted. */
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      rows = do_similar (f->store, hostile[i], 0, &error);
      g_assert_no_error (error);
      g_assert_nonnull (rows);
      g_clear_pointer (&rows, g_variant_unref);
    }
  rows = do_similar (f->store, "", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (rows), ==, 0);
  g_clear_pointer (&rows, g_variant_unref);
  /* NEAR dropped; "login" is in the unanswered summary and a chat. */
  rows = do_similar (f->store, "NEAR(login", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (rows), ==, 1);
  row = row_at (rows, 0);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0003"));
}

/* A word in most messages is no evidence of similarity: it is left out
 * of the search in chats (not of the one in summaries). */
static void
test_similar_common_words (Fixture *f, gconstpointer data)
{
  const char * const participants[] = { "carol@example.org", "bob@example.org", NULL };
  const char * const bob[] = { "bob@example.org", NULL };
  g_auto(Written) w = { 0 };
  g_autoptr(GVariant) rows = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autoptr(GError) error = NULL;
  EaStoreRequest scanner = {
    .id = ID ("0001"), .role = "agent", .summary = "Scanner jams", .accepted = bob,
    .session = ID ("0100"), .state = "closed", .created = 1, .updated = 1, .answered = 2,
  };
  EaStoreRequest chatty = {
    .id = ID ("0002"), .role = "agent", .summary = "Something else", .accepted = bob,
    .session = ID ("0200"), .state = "closed", .created = 1, .updated = 1, .answered = 2,
  };

  put_request (f->store, &scanner, &w);
  put_request (f->store, &chatty, &w);
  put_session (f->store, ID ("0100"), ID ("0001"), "agent", "", participants, "closed", 2, 3, &w);
  put_session (f->store, ID ("0200"), ID ("0002"), "agent", "", participants, "closed", 2, 3, &w);
  for (guint i = 0; i < 1100; i++)
    {
      g_autofree char *id = g_strdup_printf ("c%u", i);

      put_message (f->store, ID ("0200"), id, 10 + i, "bob@example.org", "the the the", &w);
    }
  wait_calls (&w, 1104);
  g_assert_cmpuint (w.failures, ==, 0);

  rows = do_similar (f->store, "the scanner", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (rows), ==, 1);
  row = row_at (rows, 0);
  g_assert_cmpstr (row_str (row, "request"), ==, ID ("0001"));
}

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
  const char *id;
  const char *group;
  const char *state;
  const char *reason;
  const char *expert;        /* who accepted, or NULL */
  gint64 at;                 /* created, from the first hour's start */
  gint64 tta;                /* seconds to answer, 0 = never */
  gint64 cancelled_after;    /* seconds, for cancelled ones */
  gint64 queue_wait;         /* seconds; -1 never queued */
  gint64 handle;             /* seconds of a closed session, 0 = none */
} StatCase;

typedef struct {
  const char *request;
  const char *expert;
  const char *state;
} OfferCase;

/* The hand-built set (target 20 s), times from H0, the start of the hour
 * two hours before this one:
 *
 *  id  group    outcome              tta   queued  handle  SL (20 s)
 *  A1  billing  answered (closed)     4 s  -       100 s   in, within
 *  A2  billing  answered (closed)    15 s  10 s    200 s   in, within
 *  A3  billing  answered (connected) 25 s  -       (open)  in, late
 *  C1  billing  cancelled after 10 s       -               left out
 *  C2  billing  cancelled after 60 s       50 s            in
 *  A4  tech     answered (closed)   100 s  90 s    300 s   in, late
 *  A5  tech     answered, then failed 400 s -      400 s   in, late
 *               "restarted"
 *  E1  tech     expired                    180 s           in
 *  F1  tech     failed no-experts          -               in
 *  O1  tech     open (offering), 1.5 h old -               in
 *  O2  tech     open (queued), 5 s old     0 s             left out
 *
 * requests 11, answered 5, cancelled 2, expired 1, failed 1, queued 5;
 * time to answer 4 15 25 100 400: avg 108.8, p50 25, p90 100 + 0.6 * 300
 * = 280; handle avg (100 + 200 + 300 + 400) / 4 = 250; queue wait avg
 * (10 + 50 + 90 + 180 + 0) / 5 = 66; service level 2 / 9.
 */
static const StatCase stat_cases[] = {
  { ID ("00a1"), "billing", "closed", "", "bob@example.org", 10 * 60, 4, 0, -1, 100 },
  { ID ("00a2"), "billing", "closed", "", "alice@example.org", 20 * 60, 15, 0, 10, 200 },
  { ID ("00a3"), "billing", "connected", "", "bob@example.org", 65 * 60, 25, 0, -1, 0 },
  { ID ("00c1"), "billing", "cancelled", "cancelled", NULL, 70 * 60, 0, 10, -1, 0 },
  { ID ("00c2"), "billing", "cancelled", "cancelled", NULL, 75 * 60, 0, 60, 50, 0 },
  { ID ("00a4"), "tech", "closed", "", "carol@example.org", 30 * 60, 100, 0, 90, 300 },
  { ID ("00a5"), "tech", "failed", "restarted", "bob@example.org", 80 * 60, 400, 0, -1, 400 },
  { ID ("00e1"), "tech", "failed", "expired", NULL, 90 * 60, 0, 0, 180, 0 },
  { ID ("00f1"), "tech", "failed", "no-experts", NULL, 100 * 60, 0, 0, -1, 0 },
  { ID ("00b1"), "tech", "offering", "", NULL, 40 * 60, 0, 0, -1, 0 },
  { ID ("00b2"), "tech", "queued", "", NULL, -1 /* young */, 0, 0, 0, 0 },
};

static const OfferCase offer_cases[] = {
  { ID ("00a1"), "bob@example.org", "accepted" },
  { ID ("00a1"), "alice@example.org", "withdrawn" },
  { ID ("00a2"), "alice@example.org", "accepted" },
  { ID ("00a2"), "bob@example.org", "declined" },
  { ID ("00a3"), "bob@example.org", "accepted" },
  { ID ("00c1"), "alice@example.org", "withdrawn" },
  { ID ("00c2"), "alice@example.org", "expired" },
  { ID ("00c2"), "bob@example.org", "expired" },
  { ID ("00a4"), "carol@example.org", "accepted" },
  { ID ("00a5"), "bob@example.org", "accepted" },
  { ID ("00a5"), "carol@example.org", "declined" },
  { ID ("00e1"), "carol@example.org", "expired" },
  { ID ("00b1"), "carol@example.org", "pending" },
};

static gint64 stats_h0;

static void
fill_statistics (EaStore *store)
{
  g_auto(Written) w = { 0 };
  gint64 now = g_get_real_time ();
  gint64 h0 = now - now % HOUR - 2 * HOUR;
  guint expected = 0;

  stats_h0 = h0;
  for (guint i = 0; i < G_N_ELEMENTS (stat_cases); i++)
    {
      const StatCase *c = &stat_cases[i];
      const char * const accepted[] = { c->expert, NULL };
      /* The young one: at most 5 s old, in the third hour. */
      gint64 created = c->at >= 0 ? h0 + c->at * SEC : MAX (now - 5 * SEC, h0 + 2 * HOUR);
      gint64 answered = c->tta > 0 ? created + c->tta * SEC : 0;
      EaStoreRequest r = {
        .id = c->id, .role = "agent", .agent = "me@example.org", .group = c->group,
        .summary = c->id, .state = c->state, .reason = c->reason,
        .accepted = c->expert != NULL ? accepted : NULL,
        .session = answered > 0 ? c->id : NULL,
        .created = created,
        .updated = c->cancelled_after > 0 ? created + c->cancelled_after * SEC : created,
        .answered = answered,
        .ever_queued = c->queue_wait >= 0,
        .queued = c->queue_wait >= 0 ? created : 0,
        .queue_wait = MAX (c->queue_wait, 0) * SEC,
      };

      put_request (store, &r, &w);
      expected++;
      if (answered > 0)
        {
          const char * const participants[] = { "me@example.org", c->expert, NULL };

          put_session (store, c->id, c->id, "agent", c->group, participants,
                       c->handle > 0 ? "closed" : "open", answered,
                       c->handle > 0 ? answered + c->handle * SEC : 0, &w);
          expected++;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (offer_cases); i++)
    {
      const OfferCase *o = &offer_cases[i];
      const char *group = NULL;
      gint64 at = 0;

      for (guint k = 0; k < G_N_ELEMENTS (stat_cases); k++)
        if (g_str_equal (stat_cases[k].id, o->request))
          {
            group = stat_cases[k].group;
            at = h0 + stat_cases[k].at * SEC + SEC;
          }
      put_offer (store, o->request, o->expert, "agent", group, o->state, at, &w);
      expected++;
    }

  /* Not counted for role agent: outside the range, or seen as an expert. */
  {
    EaStoreRequest old = {
      .id = ID ("0old"), .role = "agent", .agent = "me@example.org", .group = "billing",
      .summary = "old", .state = "failed", .reason = "expired",
      .created = h0 - 5 * HOUR, .updated = h0 - 5 * HOUR,
    };
    EaStoreRequest offered = {
      .id = ID ("0e01"), .role = "expert", .agent = "dave@example.org", .group = "tech",
      .summary = "offered", .state = "accepted", .created = h0 + HOUR, .updated = h0 + HOUR,
      .answered = h0 + HOUR + SEC,
    };

    put_request (store, &old, &w);
    put_request (store, &offered, &w);
    put_offer (store, ID ("0e01"), "me@example.org", "expert", "tech", "accepted",
               h0 + HOUR, &w);
    put_offer (store, ID ("0e02"), "me@example.org", "expert", "tech", "declined",
               h0 + HOUR + 60 * SEC, &w);
    put_offer (store, ID ("0e03"), "me@example.org", "expert", "billing", "expired",
               h0 + 2 * HOUR + SEC, &w);
    put_offer (store, ID ("0e04"), "me@example.org", "expert", "billing", "pending",
               h0 - 5 * HOUR, &w);
    expected += 6;
  }
  wait_calls (&w, expected);
  g_assert_cmpuint (w.failures, ==, 0);
}

typedef struct {
  guint requests, answered, cancelled, expired, failed, queued;
  double tta_avg, tta_p50, tta_p90, handle_avg, wait_avg, service_level;
  guint offers, accepted, declined, expired_offers, withdrawn;
  double per_request;
} Figures;

static void
assert_figures (GVariant *row, const Figures *e, guint target)
{
  g_assert_cmpuint (row_u (row, "requests"), ==, e->requests);
  g_assert_cmpuint (row_u (row, "answered"), ==, e->answered);
  g_assert_cmpuint (row_u (row, "cancelled"), ==, e->cancelled);
  g_assert_cmpuint (row_u (row, "expired"), ==, e->expired);
  g_assert_cmpuint (row_u (row, "failed"), ==, e->failed);
  g_assert_cmpuint (row_u (row, "queued"), ==, e->queued);
  g_assert_cmpfloat_with_epsilon (row_d (row, "time-to-answer-avg"), e->tta_avg, 1e-9);
  g_assert_cmpfloat_with_epsilon (row_d (row, "time-to-answer-p50"), e->tta_p50, 1e-9);
  g_assert_cmpfloat_with_epsilon (row_d (row, "time-to-answer-p90"), e->tta_p90, 1e-9);
  g_assert_cmpfloat_with_epsilon (row_d (row, "handle-time-avg"), e->handle_avg, 1e-9);
  g_assert_cmpfloat_with_epsilon (row_d (row, "queue-wait-avg"), e->wait_avg, 1e-9);
  g_assert_cmpfloat_with_epsilon (row_d (row, "service-level"), e->service_level, 1e-9);
  g_assert_cmpuint (row_u (row, "service-level-target"), ==, target);
  g_assert_cmpuint (row_u (row, "offers"), ==, e->offers);
  g_assert_cmpuint (row_u (row, "offers-accepted"), ==, e->accepted);
  g_assert_cmpuint (row_u (row, "offers-declined"), ==, e->declined);
  g_assert_cmpuint (row_u (row, "offers-expired"), ==, e->expired_offers);
  g_assert_cmpuint (row_u (row, "offers-withdrawn"), ==, e->withdrawn);
  g_assert_cmpfloat_with_epsilon (row_d (row, "offers-per-request"), e->per_request, 1e-9);
}

static const Figures all_figures = {
  11, 5, 2, 1, 1, 5,
  108.8, 25.0, 280.0, 250.0, 66.0, 2.0 / 9.0,
  13, 5, 2, 3, 2, 13.0 / 11.0,
};
/* A1 A2 A3 C1 C2: tta 4 15 25 (p90 15 + 0.8 * 10); SL 2 / 4 (C1 out). */
static const Figures billing_figures = {
  5, 3, 2, 0, 0, 2,
  44.0 / 3.0, 15.0, 23.0, 150.0, 30.0, 0.5,
  8, 3, 1, 2, 2, 8.0 / 5.0,
};
/* A4 A5 E1 F1 O1 O2: tta 100 400; SL 0 / 5 (O2 out). */
static const Figures tech_figures = {
  6, 2, 0, 1, 1, 3,
  250.0, 250.0, 370.0, 350.0, 90.0, 0.0,
  5, 2, 1, 1, 0, 5.0 / 6.0,
};
/* Answered by bob: A1 A3 A5 (4 25 400); offers to bob: 5. */
static const Figures bob_figures = {
  3, 3, 0, 0, 0, 0,
  143.0, 25.0, 325.0, 250.0, 0.0, 1.0 / 3.0,
  5, 3, 1, 1, 0, 5.0 / 3.0,
};
static const Figures alice_figures = {
  1, 1, 0, 0, 0, 1,
  15.0, 15.0, 15.0, 200.0, 10.0, 1.0,
  4, 1, 0, 1, 2, 4.0,
};
static const Figures carol_figures = {
  1, 1, 0, 0, 0, 1,
  100.0, 100.0, 100.0, 300.0, 90.0, 0.0,
  4, 1, 1, 1, 0, 4.0,
};

static GVariant *
stats_ok (EaStore *store, GVariant *filter)
{
  g_autoptr(GError) error = NULL;
  GVariant *stats = do_statistics (store, filter, &error);

  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (stats, G_VARIANT_TYPE ("a{sv}")));
  return stats;
}

static void
test_statistics (Fixture *f, gconstpointer data)
{
  static const guint bounds[] = { 5, 10, 20, 30, 60, 120, 300, 0 };
  static const guint histogram[] = { 1, 0, 1, 1, 0, 1, 0, 1 };
  static const guint hour_requests[] = { 4, 6, 1 };
  static const guint hour_answered[] = { 3, 2, 0 };
  static const guint hour_offers[] = { 6, 7, 0 };
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GVariant) rows = NULL;
  g_autoptr(GVariant) row = NULL;
  gint64 h0;

  fill_statistics (f->store);
  h0 = stats_h0;

  stats = stats_ok (f->store, g_variant_new_parsed ("{'since': <@x %x>, 'until': <@x %x>}",
                                                     h0, h0 + 3 * HOUR));
  assert_figures (stats, &all_figures, 20);

  rows = hit_lookup (stats, "time-to-answer-histogram", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, G_N_ELEMENTS (bounds));
  for (guint i = 0; i < G_N_ELEMENTS (bounds); i++)
    {
      row = row_at (rows, i);
      g_assert_cmpuint (row_u (row, "upto"), ==, bounds[i]);
      g_assert_cmpuint (row_u (row, "count"), ==, histogram[i]);
      g_clear_pointer (&row, g_variant_unref);
    }
  g_clear_pointer (&rows, g_variant_unref);

  rows = hit_lookup (stats, "hours", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      row = row_at (rows, i);
      g_assert_cmpint (row_x (row, "start"), ==, h0 + i * HOUR);
      g_assert_cmpuint (row_u (row, "requests"), ==, hour_requests[i]);
      g_assert_cmpuint (row_u (row, "answered"), ==, hour_answered[i]);
      g_assert_cmpuint (row_u (row, "offers"), ==, hour_offers[i]);
      g_clear_pointer (&row, g_variant_unref);
    }
  g_clear_pointer (&rows, g_variant_unref);

  rows = hit_lookup (stats, "groups", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 2);
  row = row_at (rows, 0);
  g_assert_cmpstr (row_str (row, "id"), ==, "billing");
  assert_figures (row, &billing_figures, 20);
  g_clear_pointer (&row, g_variant_unref);
  row = row_at (rows, 1);
  g_assert_cmpstr (row_str (row, "id"), ==, "tech");
  assert_figures (row, &tech_figures, 20);
  g_clear_pointer (&row, g_variant_unref);
  g_clear_pointer (&rows, g_variant_unref);

  rows = hit_lookup (stats, "experts", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 3);
  row = row_at (rows, 0);
  g_assert_cmpstr (row_str (row, "address"), ==, "alice@example.org");
  assert_figures (row, &alice_figures, 20);
  g_clear_pointer (&row, g_variant_unref);
  row = row_at (rows, 1);
  g_assert_cmpstr (row_str (row, "address"), ==, "bob@example.org");
  assert_figures (row, &bob_figures, 20);
  g_clear_pointer (&row, g_variant_unref);
  row = row_at (rows, 2);
  g_assert_cmpstr (row_str (row, "address"), ==, "carol@example.org");
  assert_figures (row, &carol_figures, 20);
  g_clear_pointer (&row, g_variant_unref);
  g_clear_pointer (&rows, g_variant_unref);
  g_clear_pointer (&stats, g_variant_unref);

  /* The group and expert filters give the same figures as their rows. */
  stats = stats_ok (f->store, g_variant_new_parsed ("{'since': <@x %x>, 'group': <'tech'>}", h0));
  assert_figures (stats, &tech_figures, 20);
  g_clear_pointer (&stats, g_variant_unref);
  stats = stats_ok (f->store, g_variant_new_parsed ("{'since': <@x %x>, "
                                                     "'expert': <'bob@example.org'>}", h0));
  assert_figures (stats, &bob_figures, 20);
  g_clear_pointer (&stats, g_variant_unref);

  /* Another target: A3 (25 s) is now within it, and C1 (10 s) still
   * cancelled within it. */
  stats = stats_ok (f->store, g_variant_new_parsed ("{'since': <@x %x>, "
                                                     "'service-level-target': <@u 30>}", h0));
  g_assert_cmpuint (row_u (stats, "service-level-target"), ==, 30);
  g_assert_cmpfloat_with_epsilon (row_d (stats, "service-level"), 3.0 / 9.0, 1e-9);
  g_clear_pointer (&stats, g_variant_unref);

  /* The first hour only. */
  stats = stats_ok (f->store, g_variant_new_parsed ("{'since': <@x %x>, 'until': <@x %x>}",
                                                     h0, h0 + HOUR));
  g_assert_cmpuint (row_u (stats, "requests"), ==, 4);
  g_assert_cmpuint (row_u (stats, "offers"), ==, 6);
  rows = hit_lookup (stats, "hours", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 1);
  g_clear_pointer (&rows, g_variant_unref);
  g_clear_pointer (&stats, g_variant_unref);

  /* No bounds: everything, hours from the oldest request to now. */
  stats = stats_ok (f->store, NULL);
  g_assert_cmpuint (row_u (stats, "requests"), ==, 12);
  g_assert_cmpuint (row_u (stats, "expired"), ==, 2);
  g_assert_cmpuint (row_u (stats, "service-level-target"), ==, 20);
  rows = hit_lookup (stats, "hours", "aa{sv}");
  {
    gsize n = g_variant_n_children (rows);
    g_autoptr(GVariant) first = row_at (rows, 0);
    g_autoptr(GVariant) last = row_at (rows, n - 1);

    g_assert_cmpint (row_x (first, "start"), ==, h0 - 5 * HOUR);
    /* Unless an hour began since the data was written. */
    g_assert_cmpint (row_x (last, "start"), >=, h0 + 2 * HOUR);
    g_assert_cmpint (row_x (last, "start"), <=, h0 + 3 * HOUR);
    g_assert_cmpuint (n, ==, (row_x (last, "start") - (h0 - 5 * HOUR)) / HOUR + 1);
    g_assert_cmpuint (row_u (first, "requests"), ==, 1);
  }
  g_clear_pointer (&rows, g_variant_unref);
  g_clear_pointer (&stats, g_variant_unref);

  /* Role expert: only the offers received; request keys 0. */
  stats = stats_ok (f->store, g_variant_new_parsed ("{'role': <'expert'>, 'since': <@x %x>}", h0));
  {
    static const Figures expert_figures = {
      0, 0, 0, 0, 0, 0,  0.0, 0.0, 0.0, 0.0, 0.0, 0.0,  3, 1, 1, 1, 0, 0.0,
    };

    assert_figures (stats, &expert_figures, 20);
    rows = hit_lookup (stats, "experts", "aa{sv}");
    g_assert_cmpuint (g_variant_n_children (rows), ==, 1);
    row = row_at (rows, 0);
    g_assert_cmpstr (row_str (row, "address"), ==, "me@example.org");
    g_assert_cmpuint (row_u (row, "offers"), ==, 3);
    g_clear_pointer (&row, g_variant_unref);
    g_clear_pointer (&rows, g_variant_unref);
    rows = hit_lookup (stats, "groups", "aa{sv}");
    g_assert_cmpuint (g_variant_n_children (rows), ==, 2);
    g_clear_pointer (&rows, g_variant_unref);
  }
  g_clear_pointer (&stats, g_variant_unref);
}

static void
test_statistics_empty (Fixture *f, gconstpointer data)
{
  static const Figures zero = { 0 };
  g_autoptr(GVariant) stats = stats_ok (f->store, NULL);
  g_autoptr(GVariant) rows = NULL;

  assert_figures (stats, &zero, 20);
  rows = hit_lookup (stats, "hours", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 0);
  g_clear_pointer (&rows, g_variant_unref);
  rows = hit_lookup (stats, "time-to-answer-histogram", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 8);
  g_clear_pointer (&rows, g_variant_unref);
  rows = hit_lookup (stats, "groups", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 0);
  g_clear_pointer (&rows, g_variant_unref);
  rows = hit_lookup (stats, "experts", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 0);
  g_clear_pointer (&rows, g_variant_unref);
  g_clear_pointer (&stats, g_variant_unref);

  /* Bounds alone make the rows: 24 hours, even with nothing in them. */
  stats = stats_ok (f->store, g_variant_new_parsed ("{'since': <@x %x>, 'until': <@x %x>}",
                                                     (gint64) 1000 * HOUR, (gint64) 1024 * HOUR));
  rows = hit_lookup (stats, "hours", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 24);
  g_clear_pointer (&rows, g_variant_unref);
  g_clear_pointer (&stats, g_variant_unref);

  /* And never more than 62 days of them. */
  stats = stats_ok (f->store, g_variant_new_parsed ("{'since': <@x 0>}"));
  rows = hit_lookup (stats, "hours", "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 24 * 62);
}

static void
test_statistics_invalid (Fixture *f, gconstpointer data)
{
  static const char * const bad[] = {
    "{'colour': <'red'>}",
    "{'since': <'yesterday'>}",
    "{'until': <@u 5>}",
    "{'group': <1>}",
    "{'role': <'manager'>}",
    "{'service-level-target': <@x 20>}",
  };
  static const char * const named[] = {
    "colour", "since", "until", "group", "role", "service-level-target",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) stats = do_statistics (f->store, g_variant_new_parsed (bad[i]), &error);

      g_assert_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS);
      g_assert_null (stats);
      g_assert_nonnull (strstr (error->message, named[i]));
    }
}

/* ------------------------------------------------------------------ */
/* Purge                                                               */
/* ------------------------------------------------------------------ */

static void
test_purge (Fixture *f, gconstpointer data)
{
  const char * const participants[] = { "carol@example.org", "bob@example.org", NULL };
  g_auto(Written) w = { 0 };
  g_autoptr(GVariant) hits = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time ();
  gint64 old = now - 40 * DAY;
  gint64 recent = now - DAY;
  EaStoreRequest r_old = {
    .id = ID ("0001"), .role = "agent", .summary = "ancient scanner trouble",
    .state = "closed", .created = old, .updated = old,
  };
  EaStoreRequest r_new = {
    .id = ID ("0002"), .role = "agent", .summary = "fresh scanner trouble",
    .state = "closed", .created = recent, .updated = recent,
  };
  sqlite3 *db;

  put_request (f->store, &r_old, &w);
  put_request (f->store, &r_new, &w);
  put_offer (f->store, ID ("0001"), "bob@example.org", "agent", "", "accepted", old, &w);
  put_offer (f->store, ID ("0002"), "bob@example.org", "agent", "", "accepted", recent, &w);
  put_session (f->store, ID ("0100"), ID ("0001"), "agent", "", participants, "closed",
               old, old + HOUR, &w);
  put_session (f->store, ID ("0200"), ID ("0002"), "agent", "", participants, "closed",
               recent, recent + HOUR, &w);
  put_message (f->store, ID ("0100"), "o1", old + SEC, "bob@example.org", "ancient words", &w);
  /* In an old session, but itself recent: goes with its session. */
  put_message (f->store, ID ("0100"), "o2", recent, "bob@example.org", "ancient late words", &w);
  /* Old, in no session at all. */
  put_message (f->store, ID ("0300"), "o3", old, "bob@example.org", "ancient orphan", &w);
  put_message (f->store, ID ("0200"), "n1", recent + SEC, "bob@example.org", "fresh words", &w);
  wait_calls (&w, 10);
  g_assert_cmpuint (w.failures, ==, 0);

  /* 0 days: nothing. */
  ea_store_purge (f->store, 0, done_cb, &w);
  wait_calls (&w, 11);
  g_assert_no_error (w.error);
  hits = do_search (f->store, "ancient", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 4);
  g_clear_pointer (&hits, g_variant_unref);

  ea_store_purge (f->store, 30, done_cb, &w);
  wait_calls (&w, 12);
  g_assert_no_error (w.error);

  hits = do_search (f->store, "ancient", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 0);
  g_clear_pointer (&hits, g_variant_unref);
  hits = do_search (f->store, "fresh", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 2);

  ea_store_flush (f->store);
  db = raw_open (ea_store_get_path (f->store));
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM requests"), ==, 1);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM offers"), ==, 1);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM sessions"), ==, 1);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM messages"), ==, 1);
  /* The index is consistent with what is left. */
  raw_exec (db, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
  raw_exec (db, "INSERT INTO requests_fts (requests_fts, rank) VALUES ('integrity-check', 1)");
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM messages_fts"
                                " WHERE messages_fts MATCH 'ancient'"), ==, 0);
  sqlite3_close (db);
}

/* ------------------------------------------------------------------ */
/* Migration                                                           */
/* ------------------------------------------------------------------ */

static char *
load_v1 (const char *dir, const char *extra_sql)
{
  g_autofree char *dump_path = g_test_build_filename (G_TEST_DIST, "data", "store-v1.sql", NULL);
  g_autofree char *dump = NULL;
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, "expert-assist.db", NULL);
  sqlite3 *db;

  g_file_get_contents (dump_path, &dump, NULL, &error);
  g_assert_no_error (error);
  db = raw_open (path);
  raw_exec (db, dump);
  if (extra_sql != NULL)
    raw_exec (db, extra_sql);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 1);
  sqlite3_close (db);
  return path;
}

static void
test_migration (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", NULL);
  g_autofree char *path = load_v1 (dir, NULL);
  g_autoptr(EaStore) store = ea_store_new (dir);
  g_autoptr(GVariant) hits = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autoptr(GVariant) transcript = NULL;
  g_autoptr(GVariant) similar = NULL;
  g_autoptr(GVariant) unfinished = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Written) w = { 0 };
  sqlite3 *db;

  /* Chats and summaries from before the index are found. */
  hits = do_search (store, "token", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
  row = row_at (hits, 0);
  g_assert_cmpstr (row_str (row, "session"), ==, "7c2e4a6b8d0f1a3c5e7b9d1f3a5c7e02");
  g_assert_cmpstr (row_str (row, "request"), ==, "0f3a9c1e5b7d4a2c8e6f1b3d5a7c9e01");
  g_assert_cmpstr (row_str (row, "snippet"), ==,
                   "Clear the session <b>token</b> in the admin console");
  g_clear_pointer (&row, g_variant_unref);
  g_clear_pointer (&hits, g_variant_unref);

  hits = do_search (store, "currency", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
  row = row_at (hits, 0);
  g_assert_cmpstr (row_str (row, "session"), ==, "");
  g_assert_cmpstr (row_str (row, "request"), ==, "c3d4e5f60718293a4b5c6d7e8f9a0b05");
  g_clear_pointer (&row, g_variant_unref);
  g_clear_pointer (&hits, g_variant_unref);

  /* Details were indexed too. */
  hits = do_search (store, "ACME", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);
  g_clear_pointer (&hits, g_variant_unref);

  transcript = do_transcript (store, "7c2e4a6b8d0f1a3c5e7b9d1f3a5c7e02", &error);
  g_assert_no_error (error);
  list = g_variant_get_child_value (transcript, 1);
  g_assert_cmpuint (g_variant_n_children (list), ==, 3);
  g_clear_pointer (&list, g_variant_unref);

  similar = do_similar (store, "customer cannot log in", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (similar), >=, 1);
  row = row_at (similar, 0);
  g_assert_cmpstr (row_str (row, "request"), ==, "0f3a9c1e5b7d4a2c8e6f1b3d5a7c9e01");
  g_assert_cmpstr (row_str (row, "expert"), ==, "bob@example.org");
  g_clear_pointer (&row, g_variant_unref);

  unfinished = do_unfinished (store, &error);
  g_assert_no_error (error);
  list = g_variant_lookup_value (unfinished, "sessions", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_cmpuint (g_variant_n_children (list), ==, 1);
  g_clear_pointer (&list, g_variant_unref);

  /* New rows go into the index, and receipts into the new column. */
  put_message (store, "7c2e4a6b8d0f1a3c5e7b9d1f3a5c7e02", "m4", 1700000050000000,
               "carol@example.org", "Works now, thanks", &w);
  ea_store_set_delivered (store, "7c2e4a6b8d0f1a3c5e7b9d1f3a5c7e02", "m4", 1700000051000000);
  wait_calls (&w, 1);
  g_assert_no_error (w.error);
  hits = do_search (store, "thanks", NULL, &error);
  g_assert_cmpuint (g_variant_n_children (hits), ==, 1);

  g_clear_object (&store);
  db = raw_open (path);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM requests"), ==, 3);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM messages"), ==, 6);
  g_assert_cmpint (raw_int (db, "SELECT delivered FROM messages WHERE id = 'm4'"), ==,
                   1700000051000000);
  sqlite3_close (db);
  assert_integrity (path);
  remove_tree (dir);
}

/* A migration that fails half-way leaves the file as it was. */
static void
test_migration_failure (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", NULL);
  /* A table in the way of the one version 2 creates, after the ALTER
   * TABLE and the indexes have run. */
  g_autofree char *path = load_v1 (dir, "CREATE TABLE requests_fts (x)");
  g_autoptr(EaStore) store = NULL;
  g_auto(Written) w = { 0 };
  sqlite3 *db;

  g_test_expect_message ("ea-store", G_LOG_LEVEL_WARNING, "*could not be brought to schema 2*");
  store = ea_store_new (dir);
  put_message (store, "s", "1", 1, "a@example.org", "never stored", &w);
  wait_calls (&w, 1);
  g_test_assert_expected_messages ();
  g_assert_error (w.error, EA_ERROR, EA_ERROR_FAILED);
  g_assert_nonnull (strstr (w.error->message, "requests_fts"));
  g_clear_object (&store);

  db = raw_open (path);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM pragma_table_info('messages')"
                                " WHERE name = 'delivered'"), ==, 0);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                " ('messages_fts', 'requests_created')"), ==, 0);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM messages"), ==, 5);
  sqlite3_close (db);
  assert_integrity (path);
  remove_tree (dir);
}

static void
test_newer_schema (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", NULL);
  g_autofree char *path = load_v1 (dir, NULL);
  g_autoptr(EaStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) hits = NULL;
  sqlite3 *db = raw_open (path);

  raw_exec (db, "PRAGMA user_version = 99");
  sqlite3_close (db);

  g_test_expect_message ("ea-store", G_LOG_LEVEL_WARNING, "*newer version*");
  store = ea_store_new (dir);
  hits = do_search (store, "token", NULL, &error);
  g_test_assert_expected_messages ();
  g_assert_error (error, EA_ERROR, EA_ERROR_FAILED);
  g_assert_null (hits);
  g_clear_object (&store);

  db = raw_open (path);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 99);
  sqlite3_close (db);
  remove_tree (dir);
}

/* ------------------------------------------------------------------ */
/* Failures                                                            */
/* ------------------------------------------------------------------ */

/* Every call fails with Failed, the warning comes once, nothing crashes. */
static void
assert_unusable (const char *data_dir, const char *warning)
{
  g_autoptr(EaStore) store = NULL;
  g_auto(Written) w = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  EaStoreRequest r = { .id = ID ("0001"), .role = "agent", .state = "queued" };

  g_test_expect_message ("ea-store", G_LOG_LEVEL_WARNING, warning);
  store = ea_store_new (data_dir);
  put_request (store, &r, &w);
  put_message (store, "s", "1", 1, "a@example.org", "hello", &w);
  ea_store_purge (store, 1, done_cb, &w);
  wait_calls (&w, 3);
  g_assert_cmpuint (w.failures, ==, 3);
  g_assert_error (w.error, EA_ERROR, EA_ERROR_FAILED);

  value = do_search (store, "hello", NULL, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_FAILED);
  g_clear_error (&error);
  value = do_statistics (store, NULL, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_FAILED);
  g_clear_error (&error);
  value = do_unfinished (store, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_FAILED);
  g_clear_error (&error);
  value = do_messages (store, "s", 0, &error);
  g_assert_error (error, EA_ERROR, EA_ERROR_FAILED);
  g_clear_error (&error);
  ea_store_flush (store);
  g_test_assert_expected_messages ();
}

static void
test_unusable_paths (Fixture *f, gconstpointer data)
{
  g_autofree char *file = g_build_filename (f->dir, "a-file", NULL);
  g_autofree char *under_file = g_build_filename (file, "sub", NULL);
  g_autofree char *garbage_dir = g_build_filename (f->dir, "garbage", NULL);
  g_autofree char *garbage = g_build_filename (garbage_dir, "expert-assist.db", NULL);
  g_autofree char *dir_as_db = g_build_filename (f->dir, "dir-as-db", NULL);
  g_autofree char *db_dir = g_build_filename (dir_as_db, "expert-assist.db", NULL);
  g_autoptr(GError) error = NULL;

  /* A path that cannot be created: under a regular file. */
  g_file_set_contents (file, "x", -1, &error);
  g_assert_no_error (error);
  assert_unusable (under_file, "*cannot be created*");

  /* A read-only place, even for root. */
  assert_unusable ("/proc/expert-assist-test", "*cannot be created*");

  /* A file that is not a database. */
  g_mkdir (garbage_dir, 0700);
  g_file_set_contents (garbage, "this is not a database, not at all, no no no no no no no no",
                       -1, &error);
  g_assert_no_error (error);
  assert_unusable (garbage_dir, "*not a database*");

  /* The database's name taken by a directory. */
  g_mkdir_with_parents (db_dir, 0700);
  assert_unusable (dir_as_db, "*cannot be opened*");
}

/* A write that fails (here: another process holds the write lock past the
 * busy timeout) fails its callback with a message; the store goes on. */
static void
test_write_failure (Fixture *f, gconstpointer data)
{
  g_auto(Written) w = { 0 };
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db;

  put_message (f->store, ID ("0100"), "before", 1, "a@example.org", "before", &w);
  wait_calls (&w, 1);
  g_assert_no_error (w.error);

  db = raw_open (ea_store_get_path (f->store));
  raw_exec (db, "BEGIN EXCLUSIVE");
  g_test_expect_message ("ea-store", G_LOG_LEVEL_WARNING, "*locked*");
  put_message (f->store, ID ("0100"), "during", 2, "a@example.org", "during", &w);
  put_message (f->store, ID ("0100"), "during2", 3, "a@example.org", "during", &w);
  wait_calls (&w, 3);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (w.failures, ==, 2);
  g_assert_error (w.error, EA_ERROR, EA_ERROR_FAILED);
  g_assert_nonnull (strstr (w.error->message, "locked"));

  /* Reads still work in WAL mode. */
  messages = do_messages (f->store, ID ("0100"), 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (messages), ==, 1);
  g_clear_pointer (&messages, g_variant_unref);

  /* A second failure of the same kind is not logged again. */
  put_message (f->store, ID ("0100"), "during3", 4, "a@example.org", "during", &w);
  wait_calls (&w, 4);
  g_assert_cmpuint (w.failures, ==, 3);

  raw_exec (db, "COMMIT");
  sqlite3_close (db);

  put_message (f->store, ID ("0100"), "after", 5, "a@example.org", "after", &w);
  wait_calls (&w, 5);
  g_assert_cmpuint (w.failures, ==, 3);
  messages = do_messages (f->store, ID ("0100"), 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (messages), ==, 2);
}

typedef struct {
  gboolean called;
  gboolean failed;
} Outcome;

static void
outcome_cb (GError *error, gpointer data)
{
  Outcome *o = data;

  o->called = TRUE;
  o->failed = error != NULL;
  if (error != NULL)
    g_assert_error (error, EA_ERROR, EA_ERROR_FAILED);
}

/* A statement that fails alone fails its own write; one that makes SQLite
 * roll the whole transaction back (as a full disk does) fails its own, and
 * the writes it took with it are applied again. Either way a callback says
 * committed exactly when the row is there. */
static void
test_batch_failures (Fixture *f, gconstpointer data)
{
  Outcome outcomes[60] = { { 0 } };
  g_autoptr(GError) error = NULL;
  sqlite3 *db;
  guint failed = 0;

  ea_store_flush (f->store);
  db = raw_open (ea_store_get_path (f->store));
  raw_exec (db, "CREATE TRIGGER test_rollback BEFORE INSERT ON messages"
                " WHEN new.text = 'rollback' BEGIN SELECT RAISE (ROLLBACK, 'rolled back'); END;"
                "CREATE TRIGGER test_abort BEFORE INSERT ON messages"
                " WHEN new.text = 'abort' BEGIN SELECT RAISE (ABORT, 'aborted'); END;");

  g_test_expect_message ("ea-store", G_LOG_LEVEL_WARNING, "*rolled back*");
  for (guint i = 0; i < G_N_ELEMENTS (outcomes); i++)
    {
      g_autofree char *id = g_strdup_printf ("%u", i);
      EaStoreMessage m = {
        .session = ID ("0100"), .id = id, .time = 1 + i, .sender = "a@example.org",
        .text = i == 20 ? "rollback" : i == 40 ? "abort" : "fine",
      };

      ea_store_put_message (f->store, &m, outcome_cb, &outcomes[i]);
    }
  while (!outcomes[G_N_ELEMENTS (outcomes) - 1].called)
    g_main_context_iteration (NULL, TRUE);
  g_test_assert_expected_messages ();

  for (guint i = 0; i < G_N_ELEMENTS (outcomes); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM messages WHERE id = '%u'", i);

      g_assert_true (outcomes[i].called);
      g_assert_cmpint (outcomes[i].failed, ==, i == 20 || i == 40);
      g_assert_cmpint (raw_int (db, sql), ==, outcomes[i].failed ? 0 : 1);
      failed += outcomes[i].failed;
    }
  g_assert_cmpuint (failed, ==, 2);

  raw_exec (db, "DROP TRIGGER test_rollback; DROP TRIGGER test_abort;");
  sqlite3_close (db);
}

/* Dropping the store with work queued writes it all first. */
static void
test_finalize_flushes (Fixture *f, gconstpointer data)
{
  g_auto(Written) w = { 0 };
  g_autofree char *path = g_strdup (ea_store_get_path (f->store));
  sqlite3 *db;

  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *id = g_strdup_printf ("%u", i);

      put_message (f->store, ID ("0100"), id, 1 + i, "a@example.org", "bulk", &w);
    }
  g_clear_object (&f->store);
  db = raw_open (path);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM messages"), ==, 1000);
  sqlite3_close (db);
  /* The callbacks still come, on the caller's context. */
  wait_calls (&w, 1000);
  g_assert_cmpuint (w.failures, ==, 0);
  assert_integrity (path);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/store/round-trip", Fixture, NULL, fixture_setup, test_round_trip, fixture_teardown);
  g_test_add ("/store/creates-directory", Fixture, NULL, fixture_setup, test_creates_directory,
              fixture_teardown);
  g_test_add ("/store/order", Fixture, NULL, fixture_setup, test_order, fixture_teardown);
  g_test_add ("/store/duplicate-message", Fixture, NULL, fixture_setup, test_duplicate_message,
              fixture_teardown);
  g_test_add ("/store/flush-then", Fixture, NULL, fixture_setup, test_flush_then,
              fixture_teardown);
  g_test_add ("/store/callback-after-commit", Fixture, NULL, fixture_setup,
              test_callback_after_commit, fixture_teardown);
  g_test_add ("/store/thread-default-context", Fixture, NULL, fixture_setup,
              test_thread_default_context, fixture_teardown);
  g_test_add ("/store/search", Fixture, NULL, fixture_setup, test_search, fixture_teardown);
  g_test_add ("/store/search-window", Fixture, NULL, fixture_setup, test_search_window,
              fixture_teardown);
  g_test_add ("/store/similar", Fixture, NULL, fixture_setup, test_similar, fixture_teardown);
  g_test_add ("/store/similar-common-words", Fixture, NULL, fixture_setup,
              test_similar_common_words, fixture_teardown);
  g_test_add ("/store/statistics", Fixture, NULL, fixture_setup, test_statistics,
              fixture_teardown);
  g_test_add ("/store/statistics-empty", Fixture, NULL, fixture_setup, test_statistics_empty,
              fixture_teardown);
  g_test_add ("/store/statistics-invalid", Fixture, NULL, fixture_setup, test_statistics_invalid,
              fixture_teardown);
  g_test_add ("/store/purge", Fixture, NULL, fixture_setup, test_purge, fixture_teardown);
  g_test_add_func ("/store/migration", test_migration);
  g_test_add_func ("/store/migration-failure", test_migration_failure);
  g_test_add_func ("/store/newer-schema", test_newer_schema);
  g_test_add ("/store/unusable-paths", Fixture, NULL, fixture_setup, test_unusable_paths,
              fixture_teardown);
  g_test_add ("/store/write-failure", Fixture, NULL, fixture_setup, test_write_failure,
              fixture_teardown);
  g_test_add ("/store/batch-failures", Fixture, NULL, fixture_setup, test_batch_failures,
              fixture_teardown);
  g_test_add ("/store/finalize-flushes", Fixture, NULL, fixture_setup, test_finalize_flushes,
              fixture_teardown);

  return g_test_run ();
}
