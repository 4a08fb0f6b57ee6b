/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The log: every request, offer, session and message of this desktop, in
 * SQLite.
 *
 * One worker thread owns the connection; nothing else ever touches it.
 * Every call packs what it needs into a work item (copies, so the caller
 * may free its structs at once) and pushes it on a GAsyncQueue. The worker
 * takes items in order:
 *
 *  - consecutive writes are drained into one transaction (group commit:
 *    one commit for a burst of messages instead of one each) and their
 *    callbacks are posted only after COMMIT has returned, so a caller that
 *    acknowledges in its callback never acknowledges what a SIGKILL could
 *    lose;
 *  - a read, a flush or the end of the queue closes the batch first, so a
 *    read always sees every write made before it;
 *  - results go back to the caller's thread-default main context, captured
 *    at call time, through an idle source of our own (never
 *    g_main_context_invoke(), which would run the callback on the worker
 *    when it can acquire the caller's context).
 *
 * A database that cannot be opened, or a write that fails (disk full, a
 * lock held by another process), is logged once per kind of failure and
 * reported to the callbacks as EA_ERROR_FAILED; SQLite's transactions keep
 * the file consistent, and an open that failed is tried again on later
 * calls, at most every 30 s.
 */
#define G_LOG_DOMAIN "ea-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "ea-error.h"
#include "ea-store.h"

#define STORE_FILE "expert-assist.db"
#define SCHEMA_VERSION 2
/* Only another process (a reporting tool writing to the file) can hold the
 * lock; waiting longer would stall every call queued behind it. */
#define BUSY_TIMEOUT_MS 2000
/* Bounds the memory a batch holds and how long its callbacks wait. */
#define MAX_BATCH 10000
#define REOPEN_INTERVAL_US (30 * G_USEC_PER_SEC)

#define SEARCH_LIMIT_DEFAULT 50
#define SEARCH_LIMIT_MAX 1000
/* How many of the most recent matches are ranked; see search_messages(). */
#define SEARCH_WINDOW 500
#define SNIPPET_TOKENS 16
#define SIMILAR_LIMIT_DEFAULT 5
#define SIMILAR_LIMIT_MAX 100
#define SIMILAR_MAX_TERMS 32
#define SIMILAR_SUMMARY_CANDIDATES 100
#define SIMILAR_CHAT_CANDIDATES 300
#define SIMILAR_ANSWER_LINES 5
#define SERVICE_LEVEL_TARGET_DEFAULT 20
#define HOUR_US ((gint64) 3600 * G_USEC_PER_SEC)
#define MAX_HOURS (24 * 62)
#define MAX_PURGE_DAYS 365000

/* Marks what snippet() found; escaped by g_markup_escape_text() into
 * "&#x1;" and "&#x2;", which no escaped text can otherwise contain. */
#define MARK_OPEN "\x01"
#define MARK_CLOSE "\x02"

/* ------------------------------------------------------------------ */
/* Schema                                                              */
/* ------------------------------------------------------------------ */

/*
 * Lists (accepted, similar_shown, participants) are stored as their items
 * joined by "\n": addresses and ids never contain one, and SQL can test
 * membership with instr(). Variants (query, options) are stored as
 * g_variant_print() text, readable by people and by g_variant_parse().
 * Every table has an INTEGER PRIMARY KEY so that the rowids the FTS
 * indexes point to survive VACUUM. No foreign keys: records arrive from
 * the network in any order (a message before its session) and each is
 * purged by its own time.
 */
static const char schema_v1[] =
  "CREATE TABLE requests ("
  "  seq INTEGER PRIMARY KEY,"
  "  id TEXT NOT NULL,"
  "  role TEXT NOT NULL,"
  "  agent TEXT NOT NULL DEFAULT '',"
  "  group_id TEXT NOT NULL DEFAULT '',"
  "  summary TEXT NOT NULL DEFAULT '',"
  "  details TEXT NOT NULL DEFAULT '',"
  "  query TEXT NOT NULL DEFAULT '@a{sv} {}',"
  "  options TEXT,"
  "  state TEXT NOT NULL,"
  "  reason TEXT NOT NULL DEFAULT '',"
  "  session TEXT,"
  "  accepted TEXT NOT NULL DEFAULT '',"
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL,"
  "  answered INTEGER NOT NULL DEFAULT 0,"
  "  queued INTEGER NOT NULL DEFAULT 0,"
  "  queue_wait INTEGER NOT NULL DEFAULT 0,"
  "  ever_queued INTEGER NOT NULL DEFAULT 0,"
  "  similar_shown TEXT NOT NULL DEFAULT '',"
  "  UNIQUE (id, role)"
  ");"
  "CREATE TABLE offers ("
  "  seq INTEGER PRIMARY KEY,"
  "  request TEXT NOT NULL,"
  "  expert TEXT NOT NULL,"
  "  role TEXT NOT NULL,"
  "  agent TEXT NOT NULL DEFAULT '',"
  "  group_id TEXT NOT NULL DEFAULT '',"
  "  state TEXT NOT NULL,"
  "  reason TEXT NOT NULL DEFAULT '',"
  "  offered INTEGER NOT NULL,"
  "  expires INTEGER NOT NULL DEFAULT 0,"
  "  ended INTEGER NOT NULL DEFAULT 0,"
  "  rounds INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE (request, expert, role)"
  ");"
  "CREATE TABLE sessions ("
  "  seq INTEGER PRIMARY KEY,"
  "  id TEXT NOT NULL UNIQUE,"
  "  request TEXT NOT NULL DEFAULT '',"
  "  role TEXT NOT NULL,"
  "  group_id TEXT NOT NULL DEFAULT '',"
  "  summary TEXT NOT NULL DEFAULT '',"
  "  participants TEXT NOT NULL DEFAULT '',"
  "  room TEXT,"
  "  state TEXT NOT NULL,"
  "  started INTEGER NOT NULL,"
  "  ended INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE TABLE messages ("
  "  seq INTEGER PRIMARY KEY,"
  "  session TEXT NOT NULL,"
  "  id TEXT NOT NULL,"
  "  time INTEGER NOT NULL,"
  "  sender TEXT NOT NULL,"
  "  text TEXT NOT NULL,"
  "  outgoing INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE (session, id)"
  ");";

/* Version 2: delivery receipts, the indexes statistics and purge use, and
 * full-text search. The FTS5 tables are external-content tables over the
 * rows themselves (the text is stored once), kept in step by triggers,
 * which also run on purge. The requests index is only rewritten when the
 * indexed text changes, not on every state change. */
static const char schema_v2[] =
  "ALTER TABLE messages ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX requests_created ON requests (role, created);"
  "CREATE INDEX offers_offered ON offers (role, offered);"
  "CREATE INDEX sessions_request ON sessions (request);"
  "CREATE INDEX sessions_started ON sessions (started);"
  /* Purge (at every start-up) then costs what it deletes, not a scan. */
  "CREATE INDEX messages_time ON messages (time);"
  "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
  "  text,"
  "  content='messages', content_rowid='seq',"
  "  tokenize='unicode61 remove_diacritics 2');"
  "CREATE VIRTUAL TABLE requests_fts USING fts5 ("
  "  summary, details,"
  "  content='requests', content_rowid='seq',"
  "  tokenize='unicode61 remove_diacritics 2');"
  /* A word in a summary says more than one in the details. */
  "INSERT INTO requests_fts (requests_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0)');"
  "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');"
  "INSERT INTO requests_fts (requests_fts) VALUES ('rebuild');"
  "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
  "  INSERT INTO messages_fts (rowid, text) VALUES (new.seq, new.text);"
  "END;"
  "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
  "  INSERT INTO messages_fts (messages_fts, rowid, text)"
  "    VALUES ('delete', old.seq, old.text);"
  "END;"
  "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages"
  "  WHEN old.text IS NOT new.text BEGIN"
  "  INSERT INTO messages_fts (messages_fts, rowid, text)"
  "    VALUES ('delete', old.seq, old.text);"
  "  INSERT INTO messages_fts (rowid, text) VALUES (new.seq, new.text);"
  "END;"
  "CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN"
  "  INSERT INTO requests_fts (rowid, summary, details)"
  "    VALUES (new.seq, new.summary, new.details);"
  "END;"
  "CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN"
  "  INSERT INTO requests_fts (requests_fts, rowid, summary, details)"
  "    VALUES ('delete', old.seq, old.summary, old.details);"
  "END;"
  "CREATE TRIGGER requests_fts_update AFTER UPDATE OF summary, details ON requests"
  "  WHEN old.summary IS NOT new.summary OR old.details IS NOT new.details BEGIN"
  "  INSERT INTO requests_fts (requests_fts, rowid, summary, details)"
  "    VALUES ('delete', old.seq, old.summary, old.details);"
  "  INSERT INTO requests_fts (rowid, summary, details)"
  "    VALUES (new.seq, new.summary, new.details);"
  "END;";

/* migrations[v] brings schema v - 1 to v. */
static const char * const migrations[SCHEMA_VERSION + 1] = {
  NULL,
  schema_v1,
  schema_v2,
};

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

typedef struct _Worker Worker;
typedef struct _Item Item;

typedef gboolean (*WriteFunc) (Worker *w, gpointer data, GError **error);
typedef GVariant *(*ReadFunc) (Worker *w, gpointer data, GError **error);

typedef enum {
  ITEM_WRITE,
  ITEM_READ,
  ITEM_FLUSH,
  ITEM_STOP,
} ItemKind;

typedef struct {
  GMutex lock;
  GCond cond;
  gboolean done;
} FlushSync;

struct _Item {
  ItemKind kind;
  gpointer data;
  GDestroyNotify data_free;

  /* ITEM_WRITE */
  WriteFunc write;
  EaStoreDone done;
  gpointer user_data;
  GMainContext *context;

  /* ITEM_READ */
  ReadFunc read;
  GTask *task;
  GVariant *result;

  /* ITEM_FLUSH */
  FlushSync *sync;

  GError *error;
};

/* Everything here belongs to the worker thread, apart from the queue. */
struct _Worker {
  GAsyncQueue *queue;
  char *dir;
  char *path;
  sqlite3 *db;
  GError *open_error;
  gint64 last_attempt;
  GHashTable *stmts;   /* static SQL text → sqlite3_stmt */
  GHashTable *warned;  /* "kind/code" of failures already logged */
};

struct _EaStore {
  GObject parent_instance;

  char *data_dir;
  char *path;
  GAsyncQueue *queue;
  GThread *thread;
};

enum {
  PROP_0,
  PROP_DATA_DIR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (EaStore, ea_store, G_TYPE_OBJECT)

static _Thread_local Worker *current_worker;

/* Every function that touches the connection runs on the worker. */
#define ASSERT_WORKER(w) g_assert (current_worker == (w) && (w) != NULL)

/* Source tags of the read tasks. */
static int tag_messages;
static int tag_search;
static int tag_similar;
static int tag_statistics;
static int tag_transcript;
static int tag_unfinished;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static char *
strv_join (const char * const *strv)
{
  if (strv == NULL)
    return g_strdup ("");
  return g_strjoinv ("\n", (char **) strv);
}

static char **
strv_split (const char *text)
{
  if (text == NULL || *text == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (text, "\n", -1);
}

static GVariant *
list_variant (const char *text)
{
  g_auto(GStrv) items = strv_split (text);

  return g_variant_new_strv ((const char * const *) items, -1);
}

/* Takes a floating reference, as GLib functions do, and leaves a normal
 * one alone. */
static char *
variant_text (GVariant *value)
{
  g_autoptr(GVariant) owned = NULL;

  if (value == NULL)
    return NULL;
  owned = g_variant_ref_sink (value);
  return g_variant_print (owned, TRUE);
}

static GVariant *
vardict_from_text (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value;

  if (text == NULL || *text == '\0')
    return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
  value = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);
  if (value == NULL)
    {
      g_debug ("A stored dictionary does not parse (%s); using an empty one", error->message);
      return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
    }
  return value;
}

static const char *
col_text (sqlite3_stmt *stmt, int col)
{
  const char *text = (const char *) sqlite3_column_text (stmt, col);

  return text != NULL ? text : "";
}

static void
dict_add (GVariantBuilder *b, const char *key, GVariant *value)
{
  g_variant_builder_add (b, "{sv}", key, value);
}

static void
dict_add_string (GVariantBuilder *b, const char *key, const char *value)
{
  dict_add (b, key, g_variant_new_string (value != NULL ? value : ""));
}

/* Runs @func on @context through an idle source of our own. */
static void
post_to_context (GMainContext   *context,
                 GSourceFunc     func,
                 gpointer        data,
                 GDestroyNotify  destroy)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, "[ea-store] result");
  g_source_attach (source, context);
  g_source_unref (source);
}

/* A statement from the worker's cache, reset and unbound when it goes out
 * of scope. */
typedef sqlite3_stmt *CachedStmt;

static void
cached_stmt_release (CachedStmt stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (CachedStmt, cached_stmt_release, NULL)

static void
stmt_finalize (gpointer data)
{
  sqlite3_finalize (data);
}

static void
bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
}

static void
bind_optional_int64 (sqlite3_stmt *stmt, int index, gboolean set, gint64 value)
{
  if (set)
    sqlite3_bind_int64 (stmt, index, value);
  else
    sqlite3_bind_null (stmt, index);
}

/* ------------------------------------------------------------------ */
/* Items                                                               */
/* ------------------------------------------------------------------ */

static void
item_free (gpointer data)
{
  Item *item = data;

  if (item->data_free != NULL && item->data != NULL)
    item->data_free (item->data);
  g_clear_pointer (&item->context, g_main_context_unref);
  g_clear_object (&item->task);
  g_clear_pointer (&item->result, g_variant_unref);
  g_clear_error (&item->error);
  g_free (item);
}

static void
store_push_write (EaStore        *self,
                  WriteFunc       write,
                  gpointer        data,
                  GDestroyNotify  data_free,
                  EaStoreDone     done,
                  gpointer        user_data)
{
  Item *item = g_new0 (Item, 1);

  item->kind = ITEM_WRITE;
  item->write = write;
  item->data = data;
  item->data_free = data_free;
  item->done = done;
  item->user_data = user_data;
  if (done != NULL)
    item->context = g_main_context_ref_thread_default ();
  g_async_queue_push (self->queue, item);
}

static void
store_push_read (EaStore        *self,
                 GTask          *task,
                 ReadFunc        read,
                 gpointer        data,
                 GDestroyNotify  data_free)
{
  Item *item = g_new0 (Item, 1);

  item->kind = ITEM_READ;
  item->task = task;
  item->read = read;
  item->data = data;
  item->data_free = data_free;
  g_async_queue_push (self->queue, item);
}

/* ------------------------------------------------------------------ */
/* The worker: opening, failures                                       */
/* ------------------------------------------------------------------ */

static void
worker_free (Worker *w)
{
  g_async_queue_unref (w->queue);
  g_clear_error (&w->open_error);
  g_hash_table_unref (w->warned);
  g_free (w->dir);
  g_free (w->path);
  g_free (w);
}

/* A failure is worth one warning per kind (what was done, SQLite's primary
 * result code): a full disk would otherwise log every message. */
static void
worker_warn_once (Worker     *w,
                  const char *kind,
                  int         code,
                  const char *message)
{
  char *key = g_strdup_printf ("%s/%d", kind, code & 0xff);

  if (!g_hash_table_add (w->warned, key))
    return;
  g_warning ("%s (further failures like this one are not logged)", message);
}

static gboolean
worker_write_failed (Worker *w, GError **error)
{
  GError *local = g_error_new (EA_ERROR, EA_ERROR_FAILED,
                               _("Could not write to the log %s: %s"),
                               w->path, sqlite3_errmsg (w->db));

  worker_warn_once (w, "write", sqlite3_extended_errcode (w->db), local->message);
  g_propagate_error (error, local);
  return FALSE;
}

static gboolean
worker_read_failed (Worker *w, GError **error)
{
  GError *local = g_error_new (EA_ERROR, EA_ERROR_FAILED,
                               _("Could not read the log %s: %s"),
                               w->path, sqlite3_errmsg (w->db));

  worker_warn_once (w, "read", sqlite3_extended_errcode (w->db), local->message);
  g_propagate_error (error, local);
  return FALSE;
}

static gboolean
worker_exec (Worker *w, const char *sql, GError **error)
{
  ASSERT_WORKER (w);

  if (sqlite3_exec (w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return worker_write_failed (w, error);
  return TRUE;
}

static CachedStmt
worker_stmt (Worker *w, const char *sql, GError **error)
{
  sqlite3_stmt *stmt;

  ASSERT_WORKER (w);

  stmt = g_hash_table_lookup (w->stmts, sql);
  if (stmt != NULL)
    return stmt;
  if (sqlite3_prepare_v3 (w->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      worker_read_failed (w, error);
      return NULL;
    }
  g_hash_table_insert (w->stmts, (gpointer) sql, stmt);
  return stmt;
}

/* Steps a write statement to its end. */
static gboolean
worker_step_write (Worker *w, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return worker_write_failed (w, error);
  return TRUE;
}

/* While opening: failures are the open's, logged as such by the caller. */
static gboolean
worker_pragma_text (Worker *w, const char *sql, char **out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (w->db, sql, -1, &stmt, NULL) == SQLITE_OK)
    rc = sqlite3_step (stmt);
  else
    rc = SQLITE_ERROR;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                   _("The log %s cannot be opened: %s"), w->path, sqlite3_errmsg (w->db));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  *out = g_strdup (rc == SQLITE_ROW ? col_text (stmt, 0) : "");
  sqlite3_finalize (stmt);
  return TRUE;
}

/* Each migration in a transaction of its own, rolled back whole when any
 * part fails: a log is at one version or the next, never in between. */
static gboolean
worker_migrate (Worker *w, GError **error)
{
  g_autofree char *text = NULL;
  int version;

  if (!worker_pragma_text (w, "PRAGMA user_version", &text, error))
    return FALSE;
  version = atoi (text);
  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                   _("The log %s was written by a newer version of Expert Assist "
                     "(schema %d; this version knows up to %d)"),
                   w->path, version, SCHEMA_VERSION);
      return FALSE;
    }

  for (int v = version + 1; v <= SCHEMA_VERSION; v++)
    {
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", v);

      if (sqlite3_exec (w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
          sqlite3_exec (w->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
          sqlite3_exec (w->db, set_version, NULL, NULL, NULL) != SQLITE_OK ||
          sqlite3_exec (w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        {
          g_autofree char *message = g_strdup (sqlite3_errmsg (w->db));

          if (!sqlite3_get_autocommit (w->db))
            sqlite3_exec (w->db, "ROLLBACK", NULL, NULL, NULL);
          g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                       _("The log %s could not be brought to schema %d: %s"),
                       w->path, v, message);
          return FALSE;
        }
      g_debug ("%s: schema %d", w->path, v);
    }
  return TRUE;
}

static gboolean
worker_open (Worker *w, GError **error)
{
  g_autofree char *mode = NULL;
  sqlite3 *db = NULL;
  int fd;
  int rc;

  ASSERT_WORKER (w);

  if (g_mkdir_with_parents (w->dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                   _("The folder %s for the log cannot be created: %s"),
                   w->dir, g_strerror (saved));
      return FALSE;
    }

  /* Created here so that it is private from the start; SQLite gives the
   * -wal and -shm files the same mode. */
  fd = g_open (w->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                   _("The log %s cannot be opened: %s"), w->path, g_strerror (saved));
      return FALSE;
    }
  close (fd);

  /* NOMUTEX: only the worker thread ever uses this connection. */
  rc = sqlite3_open_v2 (w->path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                   _("The log %s cannot be opened: %s"), w->path,
                   db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return FALSE;
    }
  w->db = db;
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);

  /* Pragmas outside any transaction (journal_mode cannot change inside
   * one). WAL lets a reporting tool read while we write.
   * synchronous=NORMAL: in WAL mode a COMMIT has written the transaction
   * to the -wal file when it returns, but fsync()s only at checkpoints. A
   * process crash (SIGKILL, abort) loses nothing committed, since the data
   * is in the kernel and the next open replays the WAL; only a power loss
   * or kernel crash can lose the last transactions, and never corrupts the
   * file. An fsync per commit would cost milliseconds for every message,
   * for a case the XMPP server's own archive covers. */
  if (!worker_pragma_text (w, "PRAGMA journal_mode = WAL", &mode, error))
    goto fail;
  if (g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                   _("The log %s cannot use write-ahead logging (journal mode %s)"),
                   w->path, mode);
      goto fail;
    }
  /* Searches read pages all over the file (one per ranked match): mapped,
   * a page costs no read() and no copy, which took a third off SearchLog
   * on a million messages (bench/search). Reads only: writes still go
   * through write(). The cost is that a disk read error would be SIGBUS
   * instead of an error; the mapping is address space, not memory. */
  if (sqlite3_exec (db,
                    "PRAGMA synchronous = NORMAL;"
                    "PRAGMA temp_store = MEMORY;"
                    "PRAGMA cache_size = -16000;"
                    "PRAGMA mmap_size = 1073741824;",
                    NULL, NULL, NULL) != SQLITE_OK)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_FAILED,
                   _("The log %s cannot be opened: %s"), w->path, sqlite3_errmsg (db));
      goto fail;
    }

  if (!worker_migrate (w, error))
    goto fail;

  g_debug ("Log open: %s", w->path);
  return TRUE;

fail:
  g_hash_table_remove_all (w->stmts);
  sqlite3_close (w->db);
  w->db = NULL;
  return FALSE;
}

/* Opens the log if it is not open yet; after a failure, tries again only
 * every REOPEN_INTERVAL_US, failing the calls in between at once. */
static gboolean
worker_ensure_open (Worker *w, GError **error)
{
  gint64 now;

  ASSERT_WORKER (w);

  if (w->db != NULL)
    return TRUE;

  now = g_get_monotonic_time ();
  if (w->open_error == NULL || now - w->last_attempt >= REOPEN_INTERVAL_US)
    {
      w->last_attempt = now;
      g_clear_error (&w->open_error);
      if (worker_open (w, &w->open_error))
        return TRUE;
      worker_warn_once (w, "open", 0, w->open_error->message);
    }
  g_propagate_error (error, g_error_copy (w->open_error));
  return FALSE;
}

static void
worker_close (Worker *w)
{
  ASSERT_WORKER (w);

  g_hash_table_remove_all (w->stmts);
  if (w->db == NULL)
    return;
  /* Leaves a checkpointed database and removes the -wal file. */
  if (sqlite3_close (w->db) != SQLITE_OK)
    g_warning ("The log %s did not close cleanly: %s", w->path, sqlite3_errmsg (w->db));
  w->db = NULL;
}

/* ------------------------------------------------------------------ */
/* The worker: the loop                                                */
/* ------------------------------------------------------------------ */

static gboolean
deliver_writes (gpointer data)
{
  GPtrArray *items = data;

  for (guint i = 0; i < items->len; i++)
    {
      Item *item = g_ptr_array_index (items, i);

      item->done (item->error, item->user_data);
    }
  return G_SOURCE_REMOVE;
}

static void
delivery_free (gpointer data)
{
  g_ptr_array_unref (data);
}

/* Posts the callbacks of a committed (or failed) batch, in call order:
 * one idle source per run of items for the same main context. */
static void
worker_deliver_writes (Worker *w, GPtrArray *batch)
{
  GPtrArray *run = NULL;
  GMainContext *run_context = NULL;

  for (guint i = 0; i < batch->len; i++)
    {
      Item *item = g_ptr_array_index (batch, i);

      /* The row data is no longer needed: freed here, not on the
       * caller's thread. */
      if (item->data_free != NULL)
        g_clear_pointer (&item->data, item->data_free);

      if (item->done == NULL)
        {
          item_free (item);
          continue;
        }
      if (run != NULL && item->context != run_context)
        {
          post_to_context (run_context, deliver_writes, run, delivery_free);
          run = NULL;
        }
      if (run == NULL)
        {
          run = g_ptr_array_new_with_free_func (item_free);
          run_context = item->context;
        }
      g_ptr_array_add (run, item);
    }
  if (run != NULL)
    post_to_context (run_context, deliver_writes, run, delivery_free);
}

static void
fail_items (GPtrArray *batch, guint from, guint to, const GError *error)
{
  for (guint j = from; j < to; j++)
    {
      Item *other = g_ptr_array_index (batch, j);

      if (other->error == NULL)
        other->error = g_error_copy (error);
    }
}

/* One transaction for the whole batch. A statement that fails alone (SQLite
 * undoes just that statement) fails only its own item. A failure after
 * which SQLite has rolled the whole transaction back (a full disk, an I/O
 * error) fails its own item and undoes the ones before it in the
 * transaction: those are applied again, once, in a new transaction (every
 * write is an upsert, so applying one twice is harmless), and fail only if
 * that fails too. A failed COMMIT fails every item of the transaction. */
static void
worker_write_batch (Worker *w, GPtrArray *batch)
{
  g_autoptr(GError) error = NULL;
  gboolean in_transaction = FALSE;
  gboolean replayed = FALSE;
  guint first = 0;
  guint i = 0;

  ASSERT_WORKER (w);

  if (!worker_ensure_open (w, &error))
    {
      fail_items (batch, 0, batch->len, error);
      worker_deliver_writes (w, batch);
      return;
    }

  while (i < batch->len)
    {
      Item *item = g_ptr_array_index (batch, i);

      /* Failed already, for a reason of its own, before a replay. */
      if (item->error != NULL)
        {
          i++;
          continue;
        }
      if (!in_transaction)
        {
          g_clear_error (&error);
          if (!worker_exec (w, "BEGIN IMMEDIATE", &error))
            {
              fail_items (batch, i, batch->len, error);
              break;
            }
          in_transaction = TRUE;
          first = i;
        }
      if (item->write (w, item->data, &item->error) || !sqlite3_get_autocommit (w->db))
        {
          i++;
          continue;
        }

      in_transaction = FALSE;
      if (!replayed && i > first)
        {
          g_debug ("Applying %u writes again after a rolled-back transaction", i - first);
          replayed = TRUE;
          i = first;
          continue;
        }
      fail_items (batch, first, i, item->error);
      i++;
    }

  if (in_transaction)
    {
      g_clear_error (&error);
      if (!worker_exec (w, "COMMIT", &error))
        {
          if (!sqlite3_get_autocommit (w->db))
            sqlite3_exec (w->db, "ROLLBACK", NULL, NULL, NULL);
          fail_items (batch, first, batch->len, error);
        }
    }

  worker_deliver_writes (w, batch);
}

static gboolean
deliver_read (gpointer data)
{
  Item *item = data;

  if (item->error != NULL)
    g_task_return_error (item->task, g_steal_pointer (&item->error));
  else
    g_task_return_pointer (item->task, g_steal_pointer (&item->result),
                           (GDestroyNotify) g_variant_unref);
  return G_SOURCE_REMOVE;
}

static void
worker_read (Worker *w, Item *item)
{
  ASSERT_WORKER (w);

  if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (item->task), &item->error) &&
      worker_ensure_open (w, &item->error))
    {
      item->result = item->read (w, item->data, &item->error);
      g_assert ((item->result == NULL) != (item->error == NULL));
      if (item->result != NULL)
        g_variant_take_ref (item->result);
    }
  if (item->data_free != NULL)
    g_clear_pointer (&item->data, item->data_free);

  /* The task is completed and released on its own context, so that its
   * last reference (and the store's, which it holds) never drops here. */
  post_to_context (g_task_get_context (item->task), deliver_read, item, item_free);
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  Item *next = NULL;
  gboolean running = TRUE;

  current_worker = w;
  w->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, stmt_finalize);

  /* Opened at once, so that the file and its schema exist early and a
   * failure is logged at start-up, not at the first message. */
  {
    g_autoptr(GError) error = NULL;

    worker_ensure_open (w, &error);
  }

  while (running)
    {
      Item *item = next != NULL ? next : g_async_queue_pop (w->queue);

      next = NULL;
      switch (item->kind)
        {
        case ITEM_WRITE:
          {
            g_autoptr(GPtrArray) batch = g_ptr_array_new ();

            g_ptr_array_add (batch, item);
            while (batch->len < MAX_BATCH && (next = g_async_queue_try_pop (w->queue)) != NULL)
              {
                if (next->kind != ITEM_WRITE)
                  break;
                g_ptr_array_add (batch, next);
                next = NULL;
              }
            worker_write_batch (w, batch);
          }
          break;

        case ITEM_READ:
          worker_read (w, item);
          break;

        case ITEM_FLUSH:
          g_mutex_lock (&item->sync->lock);
          item->sync->done = TRUE;
          g_cond_signal (&item->sync->cond);
          g_mutex_unlock (&item->sync->lock);
          item_free (item);
          break;

        case ITEM_STOP:
          item_free (item);
          running = FALSE;
          break;

        default:
          g_assert_not_reached ();
        }
    }

  worker_close (w);
  g_clear_pointer (&w->stmts, g_hash_table_unref);
  current_worker = NULL;
  worker_free (w);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  char *id;
  char *role;
  char *agent;
  char *group;
  char *summary;
  char *details;
  char *query;
  char *options;
  char *state;
  char *reason;
  char *session;
  char *accepted;
  char *similar_shown;
  gint64 created;
  gint64 updated;
  gint64 answered;
  gint64 queued;
  gint64 queue_wait;
  gboolean ever_queued;
} RequestRow;

static void
request_row_free (gpointer data)
{
  RequestRow *r = data;

  g_free (r->id);
  g_free (r->role);
  g_free (r->agent);
  g_free (r->group);
  g_free (r->summary);
  g_free (r->details);
  g_free (r->query);
  g_free (r->options);
  g_free (r->state);
  g_free (r->reason);
  g_free (r->session);
  g_free (r->accepted);
  g_free (r->similar_shown);
  g_free (r);
}

static gboolean
write_request (Worker *w, gpointer data, GError **error)
{
  RequestRow *r = data;
  g_auto(CachedStmt) stmt = NULL;

  ASSERT_WORKER (w);

  stmt = worker_stmt (w,
    "INSERT INTO requests (id, role, agent, group_id, summary, details, query, options,"
    "  state, reason, session, accepted, created, updated, answered, queued, queue_wait,"
    "  ever_queued, similar_shown)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
    "  ?18, ?19)"
    " ON CONFLICT (id, role) DO UPDATE SET agent = excluded.agent,"
    "  group_id = excluded.group_id, summary = excluded.summary,"
    "  details = excluded.details, query = excluded.query, options = excluded.options,"
    "  state = excluded.state, reason = excluded.reason, session = excluded.session,"
    "  accepted = excluded.accepted, created = excluded.created,"
    "  updated = excluded.updated, answered = excluded.answered,"
    "  queued = excluded.queued, queue_wait = excluded.queue_wait,"
    "  ever_queued = excluded.ever_queued, similar_shown = excluded.similar_shown",
    error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, r->id);
  bind_text (stmt, 2, r->role);
  bind_text (stmt, 3, r->agent);
  bind_text (stmt, 4, r->group);
  bind_text (stmt, 5, r->summary);
  bind_text (stmt, 6, r->details);
  bind_text (stmt, 7, r->query);
  bind_text (stmt, 8, r->options);
  bind_text (stmt, 9, r->state);
  bind_text (stmt, 10, r->reason);
  bind_text (stmt, 11, r->session);
  bind_text (stmt, 12, r->accepted);
  sqlite3_bind_int64 (stmt, 13, r->created);
  sqlite3_bind_int64 (stmt, 14, r->updated);
  sqlite3_bind_int64 (stmt, 15, r->answered);
  sqlite3_bind_int64 (stmt, 16, r->queued);
  sqlite3_bind_int64 (stmt, 17, r->queue_wait);
  sqlite3_bind_int (stmt, 18, r->ever_queued ? 1 : 0);
  bind_text (stmt, 19, r->similar_shown);
  return worker_step_write (w, stmt, error);
}

void
ea_store_put_request (EaStore              *self,
                      const EaStoreRequest *request,
                      EaStoreDone           done,
                      gpointer              user_data)
{
  RequestRow *r;
  const char *details = NULL;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (request != NULL);
  g_return_if_fail (request->id != NULL && request->role != NULL && request->state != NULL);
  g_return_if_fail (request->query == NULL ||
                    g_variant_is_of_type (request->query, G_VARIANT_TYPE_VARDICT));
  g_return_if_fail (request->options == NULL ||
                    g_variant_is_of_type (request->options, G_VARIANT_TYPE_VARDICT));

  r = g_new0 (RequestRow, 1);
  r->id = g_strdup (request->id);
  r->role = g_strdup (request->role);
  r->agent = g_strdup (request->agent != NULL ? request->agent : "");
  r->group = g_strdup (request->group != NULL ? request->group : "");
  r->summary = g_strdup (request->summary != NULL ? request->summary : "");
  if (request->query != NULL)
    g_variant_lookup (request->query, "details", "&s", &details);
  r->details = g_strdup (details != NULL ? details : "");
  r->query = request->query != NULL ? variant_text (request->query) : g_strdup ("@a{sv} {}");
  r->options = variant_text (request->options);
  r->state = g_strdup (request->state);
  r->reason = g_strdup (request->reason != NULL ? request->reason : "");
  r->session = g_strdup (request->session != NULL && *request->session != '\0'
                         ? request->session : NULL);
  r->accepted = strv_join (request->accepted);
  r->similar_shown = strv_join (request->similar_shown);
  r->created = request->created;
  r->updated = request->updated;
  r->answered = request->answered;
  r->queued = request->queued;
  r->queue_wait = request->queue_wait;
  r->ever_queued = request->ever_queued;

  store_push_write (self, write_request, r, request_row_free, done, user_data);
}

typedef struct {
  char *request;
  char *expert;
  char *role;
  char *agent;
  char *group;
  char *state;
  char *reason;
  gint64 offered;
  gint64 expires;
  gint64 ended;
  guint rounds;
} OfferRow;

static void
offer_row_free (gpointer data)
{
  OfferRow *o = data;

  g_free (o->request);
  g_free (o->expert);
  g_free (o->role);
  g_free (o->agent);
  g_free (o->group);
  g_free (o->state);
  g_free (o->reason);
  g_free (o);
}

static gboolean
write_offer (Worker *w, gpointer data, GError **error)
{
  OfferRow *o = data;
  g_auto(CachedStmt) stmt = NULL;

  ASSERT_WORKER (w);

  stmt = worker_stmt (w,
    "INSERT INTO offers (request, expert, role, agent, group_id, state, reason, offered,"
    "  expires, ended, rounds)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT (request, expert, role) DO UPDATE SET agent = excluded.agent,"
    "  group_id = excluded.group_id, state = excluded.state, reason = excluded.reason,"
    "  offered = excluded.offered, expires = excluded.expires, ended = excluded.ended,"
    "  rounds = excluded.rounds",
    error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, o->request);
  bind_text (stmt, 2, o->expert);
  bind_text (stmt, 3, o->role);
  bind_text (stmt, 4, o->agent);
  bind_text (stmt, 5, o->group);
  bind_text (stmt, 6, o->state);
  bind_text (stmt, 7, o->reason);
  sqlite3_bind_int64 (stmt, 8, o->offered);
  sqlite3_bind_int64 (stmt, 9, o->expires);
  sqlite3_bind_int64 (stmt, 10, o->ended);
  sqlite3_bind_int64 (stmt, 11, o->rounds);
  return worker_step_write (w, stmt, error);
}

static gboolean
write_nothing (Worker *w, gpointer data, GError **error)
{
  return TRUE;
}

/**
 * ea_store_flush_then:
 *
 * Calls @done once every write made before this call is committed,
 * without blocking: a barrier for "do this only once the log has it".
 */
void
ea_store_flush_then (EaStore *self, EaStoreDone done, gpointer user_data)
{
  g_return_if_fail (EA_IS_STORE (self));

  store_push_write (self, write_nothing, NULL, NULL, done, user_data);
}

void
ea_store_put_offer (EaStore            *self,
                    const EaStoreOffer *offer,
                    EaStoreDone         done,
                    gpointer            user_data)
{
  OfferRow *o;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (offer != NULL);
  g_return_if_fail (offer->request != NULL && offer->expert != NULL &&
                    offer->role != NULL && offer->state != NULL);

  o = g_new0 (OfferRow, 1);
  o->request = g_strdup (offer->request);
  o->expert = g_strdup (offer->expert);
  o->role = g_strdup (offer->role);
  o->agent = g_strdup (offer->agent != NULL ? offer->agent : "");
  o->group = g_strdup (offer->group != NULL ? offer->group : "");
  o->state = g_strdup (offer->state);
  o->reason = g_strdup (offer->reason != NULL ? offer->reason : "");
  o->offered = offer->offered;
  o->expires = offer->expires;
  o->ended = offer->ended;
  o->rounds = offer->rounds;

  store_push_write (self, write_offer, o, offer_row_free, done, user_data);
}

typedef struct {
  char *id;
  char *request;
  char *role;
  char *group;
  char *summary;
  char *participants;
  char *room;
  char *state;
  gint64 started;
  gint64 ended;
} SessionRow;

static void
session_row_free (gpointer data)
{
  SessionRow *s = data;

  g_free (s->id);
  g_free (s->request);
  g_free (s->role);
  g_free (s->group);
  g_free (s->summary);
  g_free (s->participants);
  g_free (s->room);
  g_free (s->state);
  g_free (s);
}

static gboolean
write_session (Worker *w, gpointer data, GError **error)
{
  SessionRow *s = data;
  g_auto(CachedStmt) stmt = NULL;

  ASSERT_WORKER (w);

  stmt = worker_stmt (w,
    "INSERT INTO sessions (id, request, role, group_id, summary, participants, room,"
    "  state, started, ended)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (id) DO UPDATE SET request = excluded.request, role = excluded.role,"
    "  group_id = excluded.group_id, summary = excluded.summary,"
    "  participants = excluded.participants, room = excluded.room,"
    "  state = excluded.state, started = excluded.started, ended = excluded.ended",
    error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, s->id);
  bind_text (stmt, 2, s->request);
  bind_text (stmt, 3, s->role);
  bind_text (stmt, 4, s->group);
  bind_text (stmt, 5, s->summary);
  bind_text (stmt, 6, s->participants);
  bind_text (stmt, 7, s->room);
  bind_text (stmt, 8, s->state);
  sqlite3_bind_int64 (stmt, 9, s->started);
  sqlite3_bind_int64 (stmt, 10, s->ended);
  return worker_step_write (w, stmt, error);
}

void
ea_store_put_session (EaStore              *self,
                      const EaStoreSession *session,
                      EaStoreDone           done,
                      gpointer              user_data)
{
  SessionRow *s;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (session->id != NULL && session->role != NULL && session->state != NULL);

  s = g_new0 (SessionRow, 1);
  s->id = g_strdup (session->id);
  s->request = g_strdup (session->request != NULL ? session->request : "");
  s->role = g_strdup (session->role);
  s->group = g_strdup (session->group != NULL ? session->group : "");
  s->summary = g_strdup (session->summary != NULL ? session->summary : "");
  s->participants = strv_join (session->participants);
  s->room = g_strdup (session->room != NULL && *session->room != '\0' ? session->room : NULL);
  s->state = g_strdup (session->state);
  s->started = session->started;
  s->ended = session->ended;

  store_push_write (self, write_session, s, session_row_free, done, user_data);
}

typedef struct {
  char *session;
  char *id;
  char *sender;
  char *text;
  gint64 time;
  gboolean outgoing;
} MessageRow;

static void
message_row_free (gpointer data)
{
  MessageRow *m = data;

  g_free (m->session);
  g_free (m->id);
  g_free (m->sender);
  g_free (m->text);
  g_free (m);
}

static gboolean
write_message (Worker *w, gpointer data, GError **error)
{
  MessageRow *m = data;
  g_auto(CachedStmt) stmt = NULL;

  ASSERT_WORKER (w);

  /* A duplicate (same session and stanza id) is dropped: the first copy
   * stays, and the caller still gets its callback. */
  stmt = worker_stmt (w,
    "INSERT OR IGNORE INTO messages (session, id, time, sender, text, outgoing)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, m->session);
  bind_text (stmt, 2, m->id);
  sqlite3_bind_int64 (stmt, 3, m->time);
  bind_text (stmt, 4, m->sender);
  bind_text (stmt, 5, m->text);
  sqlite3_bind_int (stmt, 6, m->outgoing ? 1 : 0);
  return worker_step_write (w, stmt, error);
}

void
ea_store_put_message (EaStore              *self,
                      const EaStoreMessage *message,
                      EaStoreDone           done,
                      gpointer              user_data)
{
  MessageRow *m;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (message != NULL);
  g_return_if_fail (message->session != NULL && message->id != NULL);

  m = g_new0 (MessageRow, 1);
  m->session = g_strdup (message->session);
  m->id = g_strdup (message->id);
  m->sender = g_strdup (message->sender != NULL ? message->sender : "");
  m->text = g_strdup (message->text != NULL ? message->text : "");
  m->time = message->time != 0 ? message->time : g_get_real_time ();
  m->outgoing = message->outgoing;

  store_push_write (self, write_message, m, message_row_free, done, user_data);
}

typedef struct {
  char *session;
  char *id;
  gint64 time;
} DeliveredRow;

static void
delivered_row_free (gpointer data)
{
  DeliveredRow *d = data;

  g_free (d->session);
  g_free (d->id);
  g_free (d);
}

static gboolean
write_delivered (Worker *w, gpointer data, GError **error)
{
  DeliveredRow *d = data;
  g_auto(CachedStmt) stmt = NULL;

  ASSERT_WORKER (w);

  stmt = worker_stmt (w,
    "UPDATE messages SET delivered = ?3 WHERE session = ?1 AND id = ?2",
    error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, d->session);
  bind_text (stmt, 2, d->id);
  sqlite3_bind_int64 (stmt, 3, d->time);
  return worker_step_write (w, stmt, error);
}

void
ea_store_set_delivered (EaStore    *self,
                        const char *session,
                        const char *id,
                        gint64      time)
{
  DeliveredRow *d;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (session != NULL && id != NULL);

  d = g_new0 (DeliveredRow, 1);
  d->session = g_strdup (session);
  d->id = g_strdup (id);
  d->time = time != 0 ? time : g_get_real_time ();
  store_push_write (self, write_delivered, d, delivered_row_free, NULL, NULL);
}

typedef struct {
  gint64 cutoff;
} PurgeArgs;

/* Several statements: a savepoint makes them one, so a failure half-way
 * leaves nothing deleted. A session purged takes its messages with it,
 * even the later ones, so that no message is left without its session. */
static gboolean
write_purge (Worker *w, gpointer data, GError **error)
{
  static const char * const statements[] = {
    "DELETE FROM messages WHERE time < ?1"
    " OR session IN (SELECT id FROM sessions WHERE started < ?1)",
    "DELETE FROM sessions WHERE started < ?1",
    "DELETE FROM offers WHERE offered < ?1",
    "DELETE FROM requests WHERE created < ?1",
  };
  PurgeArgs *args = data;
  int deleted[G_N_ELEMENTS (statements)] = { 0 };

  ASSERT_WORKER (w);

  if (!worker_exec (w, "SAVEPOINT purge", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (statements); i++)
    {
      g_auto(CachedStmt) stmt = worker_stmt (w, statements[i], error);

      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, args->cutoff);
      if (!worker_step_write (w, stmt, error))
        goto fail;
      deleted[i] = sqlite3_changes (w->db);
    }
  if (!worker_exec (w, "RELEASE purge", error))
    goto fail;
  g_debug ("Purged %d messages, %d sessions, %d offers, %d requests",
           deleted[0], deleted[1], deleted[2], deleted[3]);
  return TRUE;

fail:
  /* Unless SQLite has already rolled the whole transaction back. */
  if (!sqlite3_get_autocommit (w->db))
    {
      sqlite3_exec (w->db, "ROLLBACK TO purge", NULL, NULL, NULL);
      sqlite3_exec (w->db, "RELEASE purge", NULL, NULL, NULL);
    }
  return FALSE;
}

void
ea_store_purge (EaStore     *self,
                guint        days,
                EaStoreDone  done,
                gpointer     user_data)
{
  PurgeArgs *args;

  g_return_if_fail (EA_IS_STORE (self));

  args = g_new0 (PurgeArgs, 1);
  /* days 0 keeps everything: a cutoff before any row. */
  if (days == 0)
    args->cutoff = G_MININT64;
  else
    args->cutoff = g_get_real_time () -
                   (gint64) MIN (days, MAX_PURGE_DAYS) * 86400 * G_USEC_PER_SEC;
  store_push_write (self, write_purge, args, g_free, done, user_data);
}

/* ------------------------------------------------------------------ */
/* Reads: messages and transcripts                                     */
/* ------------------------------------------------------------------ */

typedef struct {
  char *session;
  guint limit;
} MessagesArgs;

static void
messages_args_free (gpointer data)
{
  MessagesArgs *a = data;

  g_free (a->session);
  g_free (a);
}

/* The last @limit messages of @session (0: all), oldest first: a(sxss). */
static GVariant *
worker_messages (Worker *w, const char *session, guint limit, GError **error)
{
  g_auto(CachedStmt) stmt = NULL;
  GVariantBuilder b;
  int rc;

  ASSERT_WORKER (w);

  stmt = worker_stmt (w,
    "SELECT id, time, sender, text FROM ("
    "  SELECT seq, id, time, sender, text FROM messages WHERE session = ?1"
    "  ORDER BY time DESC, seq DESC LIMIT ?2)"
    " ORDER BY time, seq",
    error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, session);
  sqlite3_bind_int64 (stmt, 2, limit == 0 ? -1 : (gint64) limit);

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sxss)"));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_variant_builder_add (&b, "(sxss)",
                           col_text (stmt, 0),
                           (gint64) sqlite3_column_int64 (stmt, 1),
                           col_text (stmt, 2),
                           col_text (stmt, 3));
  if (rc != SQLITE_DONE)
    {
      g_variant_builder_clear (&b);
      worker_read_failed (w, error);
      return NULL;
    }
  return g_variant_builder_end (&b);
}

static GVariant *
read_messages (Worker *w, gpointer data, GError **error)
{
  MessagesArgs *a = data;

  return worker_messages (w, a->session, a->limit, error);
}

void
ea_store_get_messages (EaStore             *self,
                       const char          *session,
                       guint                limit,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task;
  MessagesArgs *a;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (session != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, &tag_messages);
  a = g_new0 (MessagesArgs, 1);
  a->session = g_strdup (session);
  a->limit = limit;
  store_push_read (self, task, read_messages, a, messages_args_free);
}

static GVariant *
read_finish (EaStore *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (EA_IS_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

GVariant *
ea_store_get_messages_finish (EaStore *self, GAsyncResult *result, GError **error)
{
  return read_finish (self, result, &tag_messages, error);
}

static GVariant *
read_transcript (Worker *w, gpointer data, GError **error)
{
  const char *session = data;
  g_auto(CachedStmt) stmt = NULL;
  GVariantBuilder info;
  GVariant *messages;
  int rc;

  ASSERT_WORKER (w);

  stmt = worker_stmt (w,
    "SELECT request, group_id, summary, participants, started, ended"
    " FROM sessions WHERE id = ?1",
    error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, session);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_NOT_FOUND,
                   _("The session “%s” is not in the log"), session);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      worker_read_failed (w, error);
      return NULL;
    }

  g_variant_builder_init (&info, G_VARIANT_TYPE_VARDICT);
  dict_add_string (&info, "request", col_text (stmt, 0));
  dict_add_string (&info, "group", col_text (stmt, 1));
  dict_add_string (&info, "summary", col_text (stmt, 2));
  dict_add (&info, "peers", list_variant (col_text (stmt, 3)));
  dict_add (&info, "started", g_variant_new_int64 (sqlite3_column_int64 (stmt, 4)));
  dict_add (&info, "ended", g_variant_new_int64 (sqlite3_column_int64 (stmt, 5)));

  messages = worker_messages (w, session, 0, error);
  if (messages == NULL)
    {
      g_variant_builder_clear (&info);
      return NULL;
    }
  return g_variant_new ("(a{sv}@a(sxss))", &info, messages);
}

void
ea_store_get_transcript (EaStore             *self,
                         const char          *session,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (session != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, &tag_transcript);
  store_push_read (self, task, read_transcript, g_strdup (session), g_free);
}

GVariant *
ea_store_get_transcript_finish (EaStore *self, GAsyncResult *result, GError **error)
{
  return read_finish (self, result, &tag_transcript, error);
}

/* ------------------------------------------------------------------ */
/* Reads: filters                                                      */
/* ------------------------------------------------------------------ */

typedef struct {
  const char *key;
  const char *type;
} FilterKey;

/* Checks every key of @filter against @known: InvalidArgs naming the
 * first unknown key or wrong type. */
static gboolean
filter_check (GVariant *filter, const FilterKey *known, guint n_known, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (filter == NULL)
    return TRUE;
  if (!g_variant_is_of_type (filter, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                   _("The filter must be a dictionary (a{sv}), not %s"),
                   g_variant_get_type_string (filter));
      return FALSE;
    }

  g_variant_iter_init (&iter, filter);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;
      guint i;

      for (i = 0; i < n_known; i++)
        if (g_str_equal (key, known[i].key))
          break;
      if (i == n_known)
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The filter key “%s” is not known"), key);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (known[i].type)))
        {
          g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                       _("The filter key “%s” must be of type %s, not %s"),
                       key, known[i].type, g_variant_get_type_string (value));
          return FALSE;
        }
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Reads: SearchLog                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
  char *text;
  gboolean has_since;
  gint64 since;
  gboolean has_until;
  gint64 until;
  char *group;
  char *peer;
  guint limit;
} SearchArgs;

static void
search_args_free (gpointer data)
{
  SearchArgs *a = data;

  g_free (a->text);
  g_free (a->group);
  g_free (a->peer);
  g_free (a);
}

typedef struct {
  double rank;
  GVariant *row;   /* a{sv}, floating until added */
} Hit;

static int
hit_compare (gconstpointer a, gconstpointer b)
{
  const Hit *x = a;
  const Hit *y = b;

  return (x->rank < y->rank) - (x->rank > y->rank);
}

/* Escapes the snippet, then turns the markers into <b>...</b>. A text
 * that itself contains a marker character (no XMPP text can: XML forbids
 * them) gets no highlighting rather than stray tags. */
static char *
snippet_markup (const char *raw, gboolean markers_in_text)
{
  GString *out = g_string_new (NULL);
  g_autofree char *escaped = g_markup_escape_text (raw, -1);

  g_string_assign (out, escaped);
  g_string_replace (out, "&#x1;", markers_in_text ? "" : "<b>", 0);
  g_string_replace (out, "&#x2;", markers_in_text ? "" : "</b>", 0);
  return g_string_free (out, FALSE);
}

/* The other party of a session as this user sees it: everyone but the
 * user, or everyone but the sender when the user's address is unknown. */
static char *
peers_of (const char *participants, const char *self, const char *sender)
{
  g_auto(GStrv) items = strv_split (participants);
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  const char *skip = self != NULL && *self != '\0' ? self : sender;

  for (guint i = 0; items[i] != NULL; i++)
    if (g_strcmp0 (items[i], skip) != 0)
      g_ptr_array_add (others, items[i]);
  g_ptr_array_add (others, NULL);
  return g_strjoinv (", ", (char **) others->pdata);
}

/* A failed MATCH: SQLITE_ERROR is the query's fault (syntax, unknown
 * column); anything else is the database's. */
typedef enum {
  MATCH_OK,
  MATCH_QUERY_ERROR,
  MATCH_DB_ERROR,
} MatchResult;

static MatchResult
match_failed (Worker *w, char **query_error, GError **error)
{
  if ((sqlite3_extended_errcode (w->db) & 0xff) == SQLITE_ERROR)
    {
      *query_error = g_strdup (sqlite3_errmsg (w->db));
      return MATCH_QUERY_ERROR;
    }
  worker_read_failed (w, error);
  return MATCH_DB_ERROR;
}

/* Where the window of the most recent matches (that pass the filters)
 * begins: the rowid of the oldest of them, or 0 when nothing matches.
 * FTS5 walks a doclist backwards without ranking anything, so this costs
 * little even for a word in every other message. */
static MatchResult
search_window (Worker *w, SearchArgs *a, gint64 *start, char **query_error, GError **error)
{
  gboolean filtered = a->has_since || a->has_until || a->group != NULL || a->peer != NULL;
  g_auto(CachedStmt) stmt = NULL;
  int rc;

  if (!filtered)
    stmt = worker_stmt (w,
      "SELECT min(seq) FROM ("
      "  SELECT rowid AS seq FROM messages_fts WHERE messages_fts MATCH ?1"
      "  ORDER BY rowid DESC LIMIT ?6)",
      error);
  else
    stmt = worker_stmt (w,
      "SELECT min(seq) FROM ("
      "  SELECT f.rowid AS seq FROM messages_fts f"
      "  JOIN messages m ON m.seq = f.rowid"
      "  LEFT JOIN sessions s ON s.id = m.session"
      "  WHERE messages_fts MATCH ?1"
      "   AND (?2 IS NULL OR m.time >= ?2)"
      "   AND (?3 IS NULL OR m.time < ?3)"
      "   AND (?4 IS NULL OR s.group_id = ?4)"
      "   AND (?5 IS NULL OR instr(char(10) || s.participants || char(10),"
      "                            char(10) || ?5 || char(10)) > 0)"
      "  ORDER BY f.rowid DESC LIMIT ?6)",
      error);
  if (stmt == NULL)
    return MATCH_DB_ERROR;

  bind_text (stmt, 1, a->text);
  if (filtered)
    {
      bind_optional_int64 (stmt, 2, a->has_since, a->since);
      bind_optional_int64 (stmt, 3, a->has_until, a->until);
      bind_text (stmt, 4, a->group);
      bind_text (stmt, 5, a->peer);
    }
  sqlite3_bind_int64 (stmt, 6, MAX (SEARCH_WINDOW, 2 * a->limit));

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return match_failed (w, query_error, error);
  *start = sqlite3_column_int64 (stmt, 0);
  return MATCH_OK;
}

/*
 * Ranking every match costs a few microseconds each: a word found in one
 * message of ten would take a quarter of a second in a million messages.
 * So the hits are the best ranked (by bm25, over the whole index's word
 * frequencies) among the SEARCH_WINDOW (or twice the limit) most recent
 * matches that pass the filters; with fewer matches than that, simply the
 * best ranked of all. In a log, what is recent is what is looked for. A
 * window of 500 ranks in 0.6 ms less than one of 1000 (bench/search).
 */
static MatchResult
search_messages (Worker *w, SearchArgs *a, GArray *hits, char **query_error, GError **error)
{
  g_auto(CachedStmt) stmt = NULL;
  MatchResult result;
  gint64 start = 0;
  int rc;

  ASSERT_WORKER (w);

  result = search_window (w, a, &start, query_error, error);
  if (result != MATCH_OK || start == 0)
    return result;

  /* FTS5 ranks the window (the rowid bound is its constraint) and sorts
   * it itself; the joined columns, the snippet and the correlated
   * lookups are computed for the rows that pass the filters only, up to
   * the limit. */
  stmt = worker_stmt (w,
    "SELECT -f.rank,"
    "  snippet(messages_fts, 0, char(1), char(2), '…', " G_STRINGIFY (SNIPPET_TOKENS) "),"
    "  instr(m.text, char(1)) + instr(m.text, char(2)),"
    "  m.session, m.time, m.sender,"
    "  coalesce(s.request, ''), coalesce(s.group_id, ''), coalesce(s.participants, ''),"
    "  CASE s.role"
    "    WHEN 'agent' THEN (SELECT agent FROM requests r"
    "                       WHERE r.id = s.request AND r.role = 'agent')"
    "    WHEN 'expert' THEN (SELECT expert FROM offers o"
    "                        WHERE o.request = s.request AND o.role = 'expert' LIMIT 1)"
    "  END"
    " FROM messages_fts f"
    " JOIN messages m ON m.seq = f.rowid"
    " LEFT JOIN sessions s ON s.id = m.session"
    " WHERE messages_fts MATCH ?1 AND f.rowid >= ?7"
    "  AND (?2 IS NULL OR m.time >= ?2)"
    "  AND (?3 IS NULL OR m.time < ?3)"
    "  AND (?4 IS NULL OR s.group_id = ?4)"
    "  AND (?5 IS NULL OR instr(char(10) || s.participants || char(10),"
    "                           char(10) || ?5 || char(10)) > 0)"
    " ORDER BY f.rank LIMIT ?6",
    error);
  if (stmt == NULL)
    return MATCH_DB_ERROR;

  bind_text (stmt, 1, a->text);
  bind_optional_int64 (stmt, 2, a->has_since, a->since);
  bind_optional_int64 (stmt, 3, a->has_until, a->until);
  bind_text (stmt, 4, a->group);
  bind_text (stmt, 5, a->peer);
  sqlite3_bind_int64 (stmt, 6, a->limit);
  sqlite3_bind_int64 (stmt, 7, start);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GVariantBuilder b;
      Hit hit;
      g_autofree char *snippet = snippet_markup (col_text (stmt, 1),
                                                 sqlite3_column_int (stmt, 2) > 0);
      g_autofree char *peer = peers_of (col_text (stmt, 8),
                                        (const char *) sqlite3_column_text (stmt, 9),
                                        col_text (stmt, 5));

      hit.rank = sqlite3_column_double (stmt, 0);
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      dict_add_string (&b, "session", col_text (stmt, 3));
      dict_add_string (&b, "request", col_text (stmt, 6));
      dict_add (&b, "time", g_variant_new_int64 (sqlite3_column_int64 (stmt, 4)));
      dict_add_string (&b, "sender", col_text (stmt, 5));
      dict_add_string (&b, "peer", peer);
      dict_add_string (&b, "group", col_text (stmt, 7));
      dict_add (&b, "rank", g_variant_new_double (hit.rank));
      dict_add_string (&b, "snippet", snippet);
      hit.row = g_variant_ref_sink (g_variant_builder_end (&b));
      g_array_append_val (hits, hit);
    }
  if (rc == SQLITE_DONE)
    return MATCH_OK;
  return match_failed (w, query_error, error);
}

static MatchResult
search_requests (Worker *w, SearchArgs *a, GArray *hits, char **query_error, GError **error)
{
  g_auto(CachedStmt) stmt = NULL;
  int rc;

  ASSERT_WORKER (w);

  /* The counterpart of a request: the experts who took it (this user's
   * own request) or the agent who asked (a request offered to this user). */
  stmt = worker_stmt (w,
    "SELECT -f.rank,"
    "  snippet(requests_fts, -1, char(1), char(2), '…', " G_STRINGIFY (SNIPPET_TOKENS) "),"
    "  instr(r.summary, char(1)) + instr(r.summary, char(2))"
    "    + instr(r.details, char(1)) + instr(r.details, char(2)),"
    "  r.id, r.created, r.agent, r.role, r.group_id, r.accepted"
    " FROM requests_fts f"
    " JOIN requests r ON r.seq = f.rowid"
    " WHERE requests_fts MATCH ?1"
    "  AND (?2 IS NULL OR r.created >= ?2)"
    "  AND (?3 IS NULL OR r.created < ?3)"
    "  AND (?4 IS NULL OR r.group_id = ?4)"
    "  AND (?5 IS NULL"
    "       OR (r.role = 'expert' AND r.agent = ?5)"
    "       OR (r.role = 'agent' AND instr(char(10) || r.accepted || char(10),"
    "                                      char(10) || ?5 || char(10)) > 0))"
    " ORDER BY f.rank LIMIT ?6",
    error);
  if (stmt == NULL)
    return MATCH_DB_ERROR;

  bind_text (stmt, 1, a->text);
  bind_optional_int64 (stmt, 2, a->has_since, a->since);
  bind_optional_int64 (stmt, 3, a->has_until, a->until);
  bind_text (stmt, 4, a->group);
  bind_text (stmt, 5, a->peer);
  sqlite3_bind_int64 (stmt, 6, a->limit);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GVariantBuilder b;
      Hit hit;
      g_autofree char *snippet = snippet_markup (col_text (stmt, 1),
                                                 sqlite3_column_int (stmt, 2) > 0);
      g_autofree char *peer = NULL;

      if (g_str_equal (col_text (stmt, 6), "agent"))
        peer = peers_of (col_text (stmt, 8), NULL, NULL);
      else
        peer = g_strdup (col_text (stmt, 5));

      hit.rank = sqlite3_column_double (stmt, 0);
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      dict_add_string (&b, "session", "");
      dict_add_string (&b, "request", col_text (stmt, 3));
      dict_add (&b, "time", g_variant_new_int64 (sqlite3_column_int64 (stmt, 4)));
      dict_add_string (&b, "sender", col_text (stmt, 5));
      dict_add_string (&b, "peer", peer);
      dict_add_string (&b, "group", col_text (stmt, 7));
      dict_add (&b, "rank", g_variant_new_double (hit.rank));
      dict_add_string (&b, "snippet", snippet);
      hit.row = g_variant_ref_sink (g_variant_builder_end (&b));
      g_array_append_val (hits, hit);
    }
  if (rc == SQLITE_DONE)
    return MATCH_OK;
  return match_failed (w, query_error, error);
}

static void
hit_clear (gpointer data)
{
  Hit *hit = data;

  g_clear_pointer (&hit->row, g_variant_unref);
}

static GVariant *
read_search (Worker *w, gpointer data, GError **error)
{
  SearchArgs *a = data;
  g_autoptr(GArray) hits = g_array_new (FALSE, FALSE, sizeof (Hit));
  g_autofree char *messages_error = NULL;
  g_autofree char *requests_error = NULL;
  MatchResult in_messages, in_requests;
  GVariantBuilder b;

  ASSERT_WORKER (w);

  g_array_set_clear_func (hits, hit_clear);

  in_messages = search_messages (w, a, hits, &messages_error, error);
  if (in_messages == MATCH_DB_ERROR)
    return NULL;
  in_requests = search_requests (w, a, hits, &requests_error, error);
  if (in_requests == MATCH_DB_ERROR)
    return NULL;

  /* A syntax error fails both; a column filter ("summary: login") fails
   * only in the index without that column, which then has no hits. */
  if (in_messages == MATCH_QUERY_ERROR && in_requests == MATCH_QUERY_ERROR)
    {
      g_set_error (error, EA_ERROR, EA_ERROR_INVALID_ARGS,
                   _("The search “%s” is not valid: %s. Use words, \"phrases\", "
                     "AND, OR, NOT."),
                   a->text, messages_error);
      return NULL;
    }

  g_array_sort (hits, hit_compare);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < hits->len && i < a->limit; i++)
    g_variant_builder_add_value (&b, g_array_index (hits, Hit, i).row);
  return g_variant_builder_end (&b);
}

void
ea_store_search (EaStore             *self,
                 const char          *text,
                 GVariant            *filter,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  static const FilterKey keys[] = {
    { "since", "x" },
    { "until", "x" },
    { "group", "s" },
    { "peer", "s" },
    { "limit", "u" },
  };
  g_autoptr(GTask) task = NULL;
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stripped = NULL;
  SearchArgs *a;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (text != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, &tag_search);
  if (filter != NULL)
    owned = g_variant_ref_sink (filter);

  stripped = g_strstrip (g_strdup (text));
  if (*stripped == '\0')
    {
      g_task_return_new_error (task, EA_ERROR, EA_ERROR_INVALID_ARGS,
                               _("The search is empty. Use words, \"phrases\", "
                                 "AND, OR, NOT."));
      return;
    }
  if (!filter_check (owned, keys, G_N_ELEMENTS (keys), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  a = g_new0 (SearchArgs, 1);
  a->text = g_strdup (text);
  a->limit = SEARCH_LIMIT_DEFAULT;
  if (owned != NULL)
    {
      a->has_since = g_variant_lookup (owned, "since", "x", &a->since);
      a->has_until = g_variant_lookup (owned, "until", "x", &a->until);
      g_variant_lookup (owned, "group", "s", &a->group);
      g_variant_lookup (owned, "peer", "s", &a->peer);
      if (g_variant_lookup (owned, "limit", "u", &a->limit) && a->limit == 0)
        a->limit = SEARCH_LIMIT_DEFAULT;
      a->limit = MIN (a->limit, SEARCH_LIMIT_MAX);
    }
  store_push_read (self, g_steal_pointer (&task), read_search, a, search_args_free);
}

GVariant *
ea_store_search_finish (EaStore *self, GAsyncResult *result, GError **error)
{
  return read_finish (self, result, &tag_search, error);
}

/* ------------------------------------------------------------------ */
/* Reads: FindSimilar                                                  */
/* ------------------------------------------------------------------ */

typedef struct {
  GPtrArray *terms;   /* the words, each quoted as an FTS5 string */
  guint limit;
} SimilarArgs;

static void
similar_args_free (gpointer data)
{
  SimilarArgs *a = data;

  g_ptr_array_unref (a->terms);
  g_free (a);
}

/* Every word of @text quoted (a word has no quote in it, so any text is
 * safe), without FTS5's operator words and repeats. */
static GPtrArray *
similar_terms (const char *text)
{
  static const char * const operators[] = { "and", "or", "not", "near", NULL };
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) word = g_string_new (NULL);
  GPtrArray *terms = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;

  if (!g_utf8_validate (text, -1, NULL))
    return terms;

  for (;;)
    {
      gunichar c = g_utf8_get_char (p);

      if (c != 0 && (g_unichar_isalnum (c) || c == '_'))
        {
          g_string_append_unichar (word, c);
        }
      else if (word->len > 0)
        {
          char *folded = g_utf8_casefold (word->str, -1);

          if (!g_strv_contains (operators, folded) && terms->len < SIMILAR_MAX_TERMS &&
              !g_hash_table_contains (seen, folded))
            {
              g_hash_table_add (seen, folded);
              g_ptr_array_add (terms, g_strdup_printf ("\"%s\"", word->str));
            }
          else
            {
              g_free (folded);
            }
          g_string_truncate (word, 0);
        }
      if (c == 0)
        break;
      p = g_utf8_next_char (p);
    }

  return terms;
}

static char *
or_query (GPtrArray *terms)
{
  g_ptr_array_add (terms, NULL);
  {
    char *query = g_strjoinv (" OR ", (char **) terms->pdata);

    g_ptr_array_remove_index (terms, terms->len - 1);
    return query;
  }
}

/* The words worth looking for in chats: those in fewer than one message
 * in 20 (at least 1000). A word in every other message ("the") says
 * nothing about similarity, and ORing it would make FTS5 rank half the
 * log. Counting stops at the threshold, so this is cheap. */
static GPtrArray *
similar_chat_terms (Worker *w, GPtrArray *terms, GError **error)
{
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();
  g_auto(CachedStmt) total = NULL;
  gint64 threshold;

  total = worker_stmt (w, "SELECT coalesce(max(seq), 0) FROM messages", error);
  if (total == NULL)
    return NULL;
  if (sqlite3_step (total) != SQLITE_ROW)
    {
      worker_read_failed (w, error);
      return NULL;
    }
  threshold = MAX (1000, sqlite3_column_int64 (total, 0) / 20);

  for (guint i = 0; i < terms->len; i++)
    {
      g_auto(CachedStmt) count = worker_stmt (w,
        "SELECT count(*) FROM ("
        "  SELECT 1 FROM messages_fts WHERE messages_fts MATCH ?1 LIMIT ?2)",
        error);

      if (count == NULL)
        return NULL;
      bind_text (count, 1, g_ptr_array_index (terms, i));
      sqlite3_bind_int64 (count, 2, threshold);
      if (sqlite3_step (count) != SQLITE_ROW)
        {
          worker_read_failed (w, error);
          return NULL;
        }
      if (sqlite3_column_int64 (count, 0) < threshold)
        g_ptr_array_add (kept, g_ptr_array_index (terms, i));
    }
  return g_steal_pointer (&kept);
}

typedef struct {
  char *request;
  double rank;
} Candidate;

static int
candidate_compare (gconstpointer a, gconstpointer b)
{
  const Candidate *x = a;
  const Candidate *y = b;

  if (x->rank != y->rank)
    return (x->rank < y->rank) - (x->rank > y->rank);
  return strcmp (x->request, y->request);
}

static void
candidate_clear (gpointer data)
{
  Candidate *c = data;

  g_free (c->request);
}

/* Adds @rank to the score of each request the statement returns (column
 * 0 the request id, column 1 the rank). */
static gboolean
similar_collect (Worker        *w,
                 sqlite3_stmt  *stmt,
                 double         weight,
                 GHashTable    *scores,
                 GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *request = col_text (stmt, 0);
      double *score;

      if (*request == '\0')
        continue;
      score = g_hash_table_lookup (scores, request);
      if (score == NULL)
        {
          score = g_new0 (double, 1);
          g_hash_table_insert (scores, g_strdup (request), score);
        }
      *score += weight * sqlite3_column_double (stmt, 1);
    }
  if (rc != SQLITE_DONE)
    {
      worker_read_failed (w, error);
      return FALSE;
    }
  return TRUE;
}

/* The row of one past request, or NULL when it was never answered (no
 * session in the log: nothing to learn from it). */
static GVariant *
similar_row (Worker *w, const char *request, double rank, GError **error)
{
  g_auto(CachedStmt) stmt = NULL;
  g_auto(CachedStmt) lines = NULL;
  g_autofree char *expert = NULL;
  g_autofree char *session = NULL;
  GVariantBuilder b;
  GVariantBuilder answer;
  int rc;

  stmt = worker_stmt (w,
    "SELECT r.id, r.created, r.group_id, r.summary, r.accepted, r.agent,"
    "  s.id, s.participants"
    " FROM requests r JOIN sessions s ON s.request = r.id"
    " WHERE r.id = ?1"
    " ORDER BY r.role = 'agent' DESC, s.started DESC LIMIT 1",
    error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, request);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return NULL;
  if (rc != SQLITE_ROW)
    {
      worker_read_failed (w, error);
      return NULL;
    }

  /* Who answered: the first who accepted, else (the expert's own view of
   * a request) the first participant who is not the agent. */
  {
    g_auto(GStrv) accepted = strv_split (col_text (stmt, 4));
    g_auto(GStrv) participants = strv_split (col_text (stmt, 7));

    if (accepted[0] != NULL)
      expert = g_strdup (accepted[0]);
    for (guint i = 0; expert == NULL && participants[i] != NULL; i++)
      if (g_strcmp0 (participants[i], col_text (stmt, 5)) != 0)
        expert = g_strdup (participants[i]);
    if (expert == NULL)
      expert = g_strdup ("");
  }
  session = g_strdup (col_text (stmt, 6));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  dict_add_string (&b, "request", col_text (stmt, 0));
  dict_add (&b, "time", g_variant_new_int64 (sqlite3_column_int64 (stmt, 1)));
  dict_add_string (&b, "group", col_text (stmt, 2));
  dict_add_string (&b, "summary", col_text (stmt, 3));
  dict_add_string (&b, "expert", expert);
  dict_add (&b, "rank", g_variant_new_double (rank));

  lines = worker_stmt (w,
    "SELECT text FROM messages WHERE session = ?1 AND sender = ?2"
    " ORDER BY time, seq LIMIT " G_STRINGIFY (SIMILAR_ANSWER_LINES),
    error);
  if (lines == NULL)
    {
      g_variant_builder_clear (&b);
      return NULL;
    }
  bind_text (lines, 1, session);
  bind_text (lines, 2, expert);
  g_variant_builder_init (&answer, G_VARIANT_TYPE_STRING_ARRAY);
  while ((rc = sqlite3_step (lines)) == SQLITE_ROW)
    g_variant_builder_add (&answer, "s", col_text (lines, 0));
  if (rc != SQLITE_DONE)
    {
      g_variant_builder_clear (&answer);
      g_variant_builder_clear (&b);
      worker_read_failed (w, error);
      return NULL;
    }
  dict_add (&b, "answer", g_variant_builder_end (&answer));
  return g_variant_builder_end (&b);
}

/* A past request scores by its summary and details (weighted 2:1 by the
 * index's rank) plus half of what its chat scores: the best-ranked of the
 * most recent matching messages (as in SearchLog), summed per request.
 * Only answered requests (with a session) are returned: an unanswered one
 * has nothing to show. */
static GVariant *
read_similar (Worker *w, gpointer data, GError **error)
{
  SimilarArgs *a = data;
  g_autoptr(GHashTable) scores = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_autoptr(GPtrArray) chat_terms = NULL;
  g_autofree char *query = NULL;
  g_autofree char *chat_query = NULL;
  gint64 start = 0;
  GVariantBuilder b;
  GHashTableIter iter;
  gpointer key, value;
  guint n = 0;

  ASSERT_WORKER (w);

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  if (a->terms->len == 0)
    return g_variant_builder_end (&b);
  query = or_query (a->terms);

  {
    g_auto(CachedStmt) stmt = worker_stmt (w,
      "SELECT r.id, -f.rank FROM requests_fts f JOIN requests r ON r.seq = f.rowid"
      " WHERE requests_fts MATCH ?1"
      " ORDER BY f.rank LIMIT " G_STRINGIFY (SIMILAR_SUMMARY_CANDIDATES),
      error);

    if (stmt == NULL)
      goto fail;
    bind_text (stmt, 1, query);
    if (!similar_collect (w, stmt, 1.0, scores, error))
      goto fail;
  }

  chat_terms = similar_chat_terms (w, a->terms, error);
  if (chat_terms == NULL)
    goto fail;
  if (chat_terms->len > 0)
    {
      g_auto(CachedStmt) window = worker_stmt (w,
        "SELECT coalesce(min(seq), 0) FROM ("
        "  SELECT rowid AS seq FROM messages_fts WHERE messages_fts MATCH ?1"
        "  ORDER BY rowid DESC LIMIT " G_STRINGIFY (SEARCH_WINDOW) ")",
        error);

      if (window == NULL)
        goto fail;
      chat_query = or_query (chat_terms);
      bind_text (window, 1, chat_query);
      if (sqlite3_step (window) != SQLITE_ROW)
        {
          worker_read_failed (w, error);
          goto fail;
        }
      start = sqlite3_column_int64 (window, 0);
    }
  if (start > 0)
    {
      g_auto(CachedStmt) stmt = worker_stmt (w,
        "SELECT s.request, -c.rank FROM ("
        "   SELECT rowid, rank FROM messages_fts"
        "   WHERE messages_fts MATCH ?1 AND rowid >= ?2"
        "   ORDER BY rank LIMIT " G_STRINGIFY (SIMILAR_CHAT_CANDIDATES) ") c"
        " JOIN messages m ON m.seq = c.rowid"
        " JOIN sessions s ON s.id = m.session",
        error);

      if (stmt == NULL)
        goto fail;
      bind_text (stmt, 1, chat_query);
      sqlite3_bind_int64 (stmt, 2, start);
      if (!similar_collect (w, stmt, 0.5, scores, error))
        goto fail;
    }

  g_array_set_clear_func (candidates, candidate_clear);
  g_hash_table_iter_init (&iter, scores);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Candidate c = { g_strdup (key), *(double *) value };

      g_array_append_val (candidates, c);
    }
  g_array_sort (candidates, candidate_compare);

  for (guint i = 0; i < candidates->len && n < a->limit; i++)
    {
      Candidate *c = &g_array_index (candidates, Candidate, i);
      GVariant *row = similar_row (w, c->request, c->rank, error);

      if (row == NULL && error != NULL && *error != NULL)
        goto fail;
      if (row == NULL)
        continue;
      g_variant_builder_add_value (&b, row);
      n++;
    }
  return g_variant_builder_end (&b);

fail:
  g_variant_builder_clear (&b);
  return NULL;
}

void
ea_store_find_similar (EaStore             *self,
                       const char          *summary,
                       guint                limit,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task;
  SimilarArgs *a;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (summary != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, &tag_similar);
  a = g_new0 (SimilarArgs, 1);
  a->terms = similar_terms (summary);
  a->limit = limit == 0 ? SIMILAR_LIMIT_DEFAULT : MIN (limit, SIMILAR_LIMIT_MAX);
  store_push_read (self, task, read_similar, a, similar_args_free);
}

GVariant *
ea_store_find_similar_finish (EaStore *self, GAsyncResult *result, GError **error)
{
  return read_finish (self, result, &tag_similar, error);
}

/* ------------------------------------------------------------------ */
/* Reads: statistics                                                   */
/* ------------------------------------------------------------------ */

typedef struct {
  gboolean has_since;
  gint64 since;
  gboolean has_until;
  gint64 until;
  char *group;
  char *expert;
  gboolean expert_role;
  guint target;
} StatsArgs;

static void
stats_args_free (gpointer data)
{
  StatsArgs *a = data;

  g_free (a->group);
  g_free (a->expert);
  g_free (a);
}

typedef enum {
  OUTCOME_OPEN,
  OUTCOME_ANSWERED,
  OUTCOME_CANCELLED,
  OUTCOME_EXPIRED,
  OUTCOME_FAILED,
} Outcome;

typedef struct {
  char *group;
  char **accepted;
  Outcome outcome;
  gint64 created;
  gint64 updated;
  gint64 answered;
  gint64 queue_wait;
  gboolean ever_queued;
  gint64 handle;       /* closed session's length, -1 when none */
} StatRequest;

typedef struct {
  char *expert;
  char *group;
  char *state;
  gint64 offered;
} StatOffer;

static void
stat_request_free (gpointer data)
{
  StatRequest *r = data;

  g_free (r->group);
  g_strfreev (r->accepted);
  g_free (r);
}

static void
stat_offer_free (gpointer data)
{
  StatOffer *o = data;

  g_free (o->expert);
  g_free (o->group);
  g_free (o->state);
  g_free (o);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Percentile by linear interpolation between the closest ranks (the
 * median of an even count is the mean of the middle two); @sorted
 * ascending. */
static double
percentile (GArray *sorted, double p)
{
  double pos, lower;
  guint lo, hi;

  if (sorted->len == 0)
    return 0.0;
  pos = p * (sorted->len - 1);
  lower = floor (pos);
  lo = (guint) lower;
  hi = MIN (lo + 1, sorted->len - 1);
  return g_array_index (sorted, double, lo) +
         (g_array_index (sorted, double, hi) - g_array_index (sorted, double, lo)) * (pos - lower);
}

static const guint histogram_bounds[] = { 5, 10, 20, 30, 60, 120, 300 };

/* The figures of DESIGN.md section 9 over one set of requests and offers.
 * With @full, the whole-set extras too (histogram). */
static void
stats_add_figures (GVariantBuilder *b,
                   GPtrArray       *requests,
                   GPtrArray       *offers,
                   guint            target,
                   gint64           now,
                   gboolean         full)
{
  g_autoptr(GArray) tta = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 target_us = (gint64) target * G_USEC_PER_SEC;
  guint counts[OUTCOME_FAILED + 1] = { 0 };
  guint queued = 0, handled = 0, in_target = 0, sl_total = 0;
  guint offers_by_state[4] = { 0 };   /* accepted, declined, expired, withdrawn */
  double tta_sum = 0.0, handle_sum = 0.0, wait_sum = 0.0;

  for (guint i = 0; i < requests->len; i++)
    {
      StatRequest *r = g_ptr_array_index (requests, i);

      counts[r->outcome]++;
      if (r->ever_queued)
        {
          queued++;
          wait_sum += r->queue_wait / (double) G_USEC_PER_SEC;
        }
      if (r->handle >= 0)
        {
          handled++;
          handle_sum += r->handle / (double) G_USEC_PER_SEC;
        }

      switch (r->outcome)
        {
        case OUTCOME_ANSWERED:
          {
            double seconds = (r->answered - r->created) / (double) G_USEC_PER_SEC;

            g_array_append_val (tta, seconds);
            tta_sum += seconds;
            sl_total++;
            if (r->answered - r->created <= target_us)
              in_target++;
          }
          break;
        case OUTCOME_CANCELLED:
          /* Cancelled within the target: the agent changed their mind
           * before anyone could have been expected to answer. */
          if (r->updated - r->created > target_us)
            sl_total++;
          break;
        case OUTCOME_OPEN:
          /* Still open and younger than the target: not decided yet. */
          if (now - r->created >= target_us)
            sl_total++;
          break;
        case OUTCOME_EXPIRED:
        case OUTCOME_FAILED:
        default:
          sl_total++;
          break;
        }
    }
  g_array_sort (tta, compare_doubles);

  for (guint i = 0; i < offers->len; i++)
    {
      StatOffer *o = g_ptr_array_index (offers, i);

      if (g_str_equal (o->state, "accepted"))
        offers_by_state[0]++;
      else if (g_str_equal (o->state, "declined"))
        offers_by_state[1]++;
      else if (g_str_equal (o->state, "expired"))
        offers_by_state[2]++;
      else if (g_str_equal (o->state, "withdrawn"))
        offers_by_state[3]++;
    }

  dict_add (b, "requests", g_variant_new_uint32 (requests->len));
  dict_add (b, "answered", g_variant_new_uint32 (counts[OUTCOME_ANSWERED]));
  dict_add (b, "cancelled", g_variant_new_uint32 (counts[OUTCOME_CANCELLED]));
  dict_add (b, "expired", g_variant_new_uint32 (counts[OUTCOME_EXPIRED]));
  dict_add (b, "failed", g_variant_new_uint32 (counts[OUTCOME_FAILED]));
  dict_add (b, "queued", g_variant_new_uint32 (queued));
  dict_add (b, "time-to-answer-avg",
            g_variant_new_double (tta->len > 0 ? tta_sum / tta->len : 0.0));
  dict_add (b, "time-to-answer-p50", g_variant_new_double (percentile (tta, 0.5)));
  dict_add (b, "time-to-answer-p90", g_variant_new_double (percentile (tta, 0.9)));
  dict_add (b, "handle-time-avg", g_variant_new_double (handled > 0 ? handle_sum / handled : 0.0));
  dict_add (b, "queue-wait-avg", g_variant_new_double (queued > 0 ? wait_sum / queued : 0.0));
  dict_add (b, "service-level",
            g_variant_new_double (sl_total > 0 ? in_target / (double) sl_total : 0.0));
  dict_add (b, "service-level-target", g_variant_new_uint32 (target));
  dict_add (b, "offers", g_variant_new_uint32 (offers->len));
  dict_add (b, "offers-accepted", g_variant_new_uint32 (offers_by_state[0]));
  dict_add (b, "offers-declined", g_variant_new_uint32 (offers_by_state[1]));
  dict_add (b, "offers-expired", g_variant_new_uint32 (offers_by_state[2]));
  dict_add (b, "offers-withdrawn", g_variant_new_uint32 (offers_by_state[3]));
  dict_add (b, "offers-per-request",
            g_variant_new_double (requests->len > 0 ? offers->len / (double) requests->len : 0.0));

  if (full)
    {
      GVariantBuilder rows;
      guint buckets[G_N_ELEMENTS (histogram_bounds) + 1] = { 0 };

      for (guint i = 0; i < tta->len; i++)
        {
          double seconds = g_array_index (tta, double, i);
          guint k = 0;

          while (k < G_N_ELEMENTS (histogram_bounds) && seconds > histogram_bounds[k])
            k++;
          buckets[k]++;
        }
      g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
      for (guint k = 0; k <= G_N_ELEMENTS (histogram_bounds); k++)
        g_variant_builder_add_parsed (&rows, "{'upto': <%u>, 'count': <%u>}",
                                      k < G_N_ELEMENTS (histogram_bounds) ? histogram_bounds[k] : 0,
                                      buckets[k]);
      dict_add (b, "time-to-answer-histogram", g_variant_builder_end (&rows));
    }
}

static gint64
hour_of (gint64 t)
{
  return t >= 0 ? t - t % HOUR_US : t - (HOUR_US + t % HOUR_US) % HOUR_US;
}

/* One row per hour (UTC hours) of the range: the filter's bounds, or
 * from the first request or offer to now; at most MAX_HOURS, the latest. */
static GVariant *
stats_hours (StatsArgs *a, GPtrArray *requests, GPtrArray *offers, gint64 now)
{
  GVariantBuilder rows;
  g_autofree guint *counts = NULL;
  gint64 first, last;
  gsize n;

  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));

  if (a->has_since)
    first = a->since;
  else
    {
      first = G_MAXINT64;
      for (guint i = 0; i < requests->len; i++)
        first = MIN (first, ((StatRequest *) g_ptr_array_index (requests, i))->created);
      for (guint i = 0; i < offers->len; i++)
        first = MIN (first, ((StatOffer *) g_ptr_array_index (offers, i))->offered);
      if (first == G_MAXINT64)
        return g_variant_builder_end (&rows);
    }
  last = a->has_until ? a->until - 1 : now;
  first = hour_of (first);
  last = hour_of (last);
  if (last < first)
    return g_variant_builder_end (&rows);
  if ((last - first) / HOUR_US + 1 > MAX_HOURS)
    first = last - (gint64) (MAX_HOURS - 1) * HOUR_US;
  n = (last - first) / HOUR_US + 1;

  counts = g_new0 (guint, 3 * n);
  for (guint i = 0; i < requests->len; i++)
    {
      StatRequest *r = g_ptr_array_index (requests, i);
      gint64 h = hour_of (r->created);

      if (h < first || h > last)
        continue;
      counts[3 * ((h - first) / HOUR_US)]++;
      if (r->outcome == OUTCOME_ANSWERED)
        counts[3 * ((h - first) / HOUR_US) + 1]++;
    }
  for (guint i = 0; i < offers->len; i++)
    {
      StatOffer *o = g_ptr_array_index (offers, i);
      gint64 h = hour_of (o->offered);

      if (h < first || h > last)
        continue;
      counts[3 * ((h - first) / HOUR_US) + 2]++;
    }

  for (gsize k = 0; k < n; k++)
    g_variant_builder_add_parsed (&rows,
                                  "{'start': <%x>, 'requests': <%u>, 'answered': <%u>, "
                                  "'offers': <%u>}",
                                  first + (gint64) k * HOUR_US,
                                  counts[3 * k], counts[3 * k + 1], counts[3 * k + 2]);
  return g_variant_builder_end (&rows);
}

static gboolean
stats_load (Worker     *w,
            StatsArgs  *a,
            GPtrArray  *requests,
            GPtrArray  *offers,
            GError    **error)
{
  g_auto(CachedStmt) rstmt = NULL;
  g_auto(CachedStmt) ostmt = NULL;
  int rc;

  ASSERT_WORKER (w);

  if (!a->expert_role)
    {
      /* Role agent: this user's own requests; with an expert, the ones
       * that expert answered. */
      rstmt = worker_stmt (w,
        "SELECT r.group_id, r.accepted, r.state, r.reason, r.created, r.updated,"
        "  r.answered, r.ever_queued, r.queue_wait,"
        "  (SELECT s.ended - s.started FROM sessions s"
        "   WHERE s.request = r.id AND s.role = r.role AND s.state = 'closed'"
        "     AND s.ended > 0"
        "   ORDER BY s.started LIMIT 1)"
        " FROM requests r"
        " WHERE r.role = 'agent'"
        "  AND (?1 IS NULL OR r.created >= ?1)"
        "  AND (?2 IS NULL OR r.created < ?2)"
        "  AND (?3 IS NULL OR r.group_id = ?3)"
        "  AND (?4 IS NULL OR instr(char(10) || r.accepted || char(10),"
        "                           char(10) || ?4 || char(10)) > 0)",
        error);
      if (rstmt == NULL)
        return FALSE;
      bind_optional_int64 (rstmt, 1, a->has_since, a->since);
      bind_optional_int64 (rstmt, 2, a->has_until, a->until);
      bind_text (rstmt, 3, a->group);
      bind_text (rstmt, 4, a->expert);
      while ((rc = sqlite3_step (rstmt)) == SQLITE_ROW)
        {
          StatRequest *r = g_new0 (StatRequest, 1);
          const char *state = col_text (rstmt, 2);

          r->group = g_strdup (col_text (rstmt, 0));
          r->accepted = strv_split (col_text (rstmt, 1));
          r->created = sqlite3_column_int64 (rstmt, 4);
          r->updated = sqlite3_column_int64 (rstmt, 5);
          r->answered = sqlite3_column_int64 (rstmt, 6);
          r->ever_queued = sqlite3_column_int (rstmt, 7) != 0;
          r->queue_wait = sqlite3_column_int64 (rstmt, 8);
          r->handle = sqlite3_column_type (rstmt, 9) == SQLITE_NULL
                      ? -1 : MAX (0, sqlite3_column_int64 (rstmt, 9));
          /* Once, by the final state; answered wins over what came after. */
          if (r->answered > 0)
            r->outcome = OUTCOME_ANSWERED;
          else if (g_str_equal (state, "cancelled"))
            r->outcome = OUTCOME_CANCELLED;
          else if (g_str_equal (state, "failed") && g_str_equal (col_text (rstmt, 3), "expired"))
            r->outcome = OUTCOME_EXPIRED;
          else if (g_str_equal (state, "failed"))
            r->outcome = OUTCOME_FAILED;
          else
            r->outcome = OUTCOME_OPEN;
          g_ptr_array_add (requests, r);
        }
      if (rc != SQLITE_DONE)
        return worker_read_failed (w, error);
    }

  ostmt = worker_stmt (w,
    "SELECT expert, group_id, state, offered FROM offers"
    " WHERE role = ?5"
    "  AND (?1 IS NULL OR offered >= ?1)"
    "  AND (?2 IS NULL OR offered < ?2)"
    "  AND (?3 IS NULL OR group_id = ?3)"
    "  AND (?4 IS NULL OR expert = ?4)",
    error);
  if (ostmt == NULL)
    return FALSE;
  bind_optional_int64 (ostmt, 1, a->has_since, a->since);
  bind_optional_int64 (ostmt, 2, a->has_until, a->until);
  bind_text (ostmt, 3, a->group);
  bind_text (ostmt, 4, a->expert);
  bind_text (ostmt, 5, a->expert_role ? "expert" : "agent");
  while ((rc = sqlite3_step (ostmt)) == SQLITE_ROW)
    {
      StatOffer *o = g_new0 (StatOffer, 1);

      o->expert = g_strdup (col_text (ostmt, 0));
      o->group = g_strdup (col_text (ostmt, 1));
      o->state = g_strdup (col_text (ostmt, 2));
      o->offered = sqlite3_column_int64 (ostmt, 3);
      g_ptr_array_add (offers, o);
    }
  if (rc != SQLITE_DONE)
    return worker_read_failed (w, error);
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static GPtrArray *
sorted_keys (GHashTable *set)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  return keys;
}

static GVariant *
read_statistics (Worker *w, gpointer data, GError **error)
{
  StatsArgs *a = data;
  g_autoptr(GPtrArray) requests = g_ptr_array_new_with_free_func (stat_request_free);
  g_autoptr(GPtrArray) offers = g_ptr_array_new_with_free_func (stat_offer_free);
  g_autoptr(GHashTable) group_set = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) expert_set = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GPtrArray) experts = NULL;
  GVariantBuilder b, rows;
  gint64 now = g_get_real_time ();

  ASSERT_WORKER (w);

  if (!stats_load (w, a, requests, offers, error))
    return NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  stats_add_figures (&b, requests, offers, a->target, now, TRUE);
  dict_add (&b, "hours", stats_hours (a, requests, offers, now));

  for (guint i = 0; i < requests->len; i++)
    {
      StatRequest *r = g_ptr_array_index (requests, i);

      g_hash_table_add (group_set, r->group);
      for (guint k = 0; r->accepted[k] != NULL; k++)
        g_hash_table_add (expert_set, r->accepted[k]);
    }
  for (guint i = 0; i < offers->len; i++)
    {
      StatOffer *o = g_ptr_array_index (offers, i);

      g_hash_table_add (group_set, o->group);
      g_hash_table_add (expert_set, o->expert);
    }

  groups = sorted_keys (group_set);
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  for (guint g = 0; g < groups->len; g++)
    {
      const char *id = g_ptr_array_index (groups, g);
      g_autoptr(GPtrArray) rs = g_ptr_array_new ();
      g_autoptr(GPtrArray) os = g_ptr_array_new ();
      GVariantBuilder row;

      for (guint i = 0; i < requests->len; i++)
        if (g_str_equal (((StatRequest *) g_ptr_array_index (requests, i))->group, id))
          g_ptr_array_add (rs, g_ptr_array_index (requests, i));
      for (guint i = 0; i < offers->len; i++)
        if (g_str_equal (((StatOffer *) g_ptr_array_index (offers, i))->group, id))
          g_ptr_array_add (os, g_ptr_array_index (offers, i));
      g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
      dict_add_string (&row, "id", id);
      stats_add_figures (&row, rs, os, a->target, now, FALSE);
      g_variant_builder_add_value (&rows, g_variant_builder_end (&row));
    }
  dict_add (&b, "groups", g_variant_builder_end (&rows));

  /* Role agent: per expert, the offers sent to it and the requests it
   * answered. Role expert: the offers this user received, one row. */
  experts = sorted_keys (expert_set);
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  for (guint e = 0; e < experts->len; e++)
    {
      const char *address = g_ptr_array_index (experts, e);
      g_autoptr(GPtrArray) rs = g_ptr_array_new ();
      g_autoptr(GPtrArray) os = g_ptr_array_new ();
      GVariantBuilder row;

      for (guint i = 0; i < requests->len; i++)
        {
          StatRequest *r = g_ptr_array_index (requests, i);

          if (g_strv_contains ((const char * const *) r->accepted, address))
            g_ptr_array_add (rs, r);
        }
      for (guint i = 0; i < offers->len; i++)
        if (g_str_equal (((StatOffer *) g_ptr_array_index (offers, i))->expert, address))
          g_ptr_array_add (os, g_ptr_array_index (offers, i));
      g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
      dict_add_string (&row, "address", address);
      stats_add_figures (&row, rs, os, a->target, now, FALSE);
      g_variant_builder_add_value (&rows, g_variant_builder_end (&row));
    }
  dict_add (&b, "experts", g_variant_builder_end (&rows));

  return g_variant_builder_end (&b);
}

void
ea_store_statistics (EaStore             *self,
                     GVariant            *filter,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  static const FilterKey keys[] = {
    { "since", "x" },
    { "until", "x" },
    { "group", "s" },
    { "expert", "s" },
    { "role", "s" },
    { "service-level-target", "u" },
  };
  g_autoptr(GTask) task = NULL;
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(GError) error = NULL;
  const char *role = "agent";
  StatsArgs *a;

  g_return_if_fail (EA_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, &tag_statistics);
  if (filter != NULL)
    owned = g_variant_ref_sink (filter);

  if (!filter_check (owned, keys, G_N_ELEMENTS (keys), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (owned != NULL)
    g_variant_lookup (owned, "role", "&s", &role);
  if (!g_str_equal (role, "agent") && !g_str_equal (role, "expert"))
    {
      g_task_return_new_error (task, EA_ERROR, EA_ERROR_INVALID_ARGS,
                               _("The filter key “role” must be “agent” or “expert”, "
                                 "not “%s”"),
                               role);
      return;
    }

  a = g_new0 (StatsArgs, 1);
  a->expert_role = g_str_equal (role, "expert");
  a->target = SERVICE_LEVEL_TARGET_DEFAULT;
  if (owned != NULL)
    {
      a->has_since = g_variant_lookup (owned, "since", "x", &a->since);
      a->has_until = g_variant_lookup (owned, "until", "x", &a->until);
      g_variant_lookup (owned, "group", "s", &a->group);
      g_variant_lookup (owned, "expert", "s", &a->expert);
      g_variant_lookup (owned, "service-level-target", "u", &a->target);
    }
  store_push_read (self, g_steal_pointer (&task), read_statistics, a, stats_args_free);
}

GVariant *
ea_store_statistics_finish (EaStore *self, GAsyncResult *result, GError **error)
{
  return read_finish (self, result, &tag_statistics, error);
}

/* ------------------------------------------------------------------ */
/* Reads: what was not finished                                        */
/* ------------------------------------------------------------------ */

static gboolean
unfinished_requests (Worker *w, GVariantBuilder *rows, GError **error)
{
  g_auto(CachedStmt) stmt = NULL;
  int rc;

  stmt = worker_stmt (w,
    "SELECT id, role, agent, group_id, summary, query, options, state, reason, session,"
    "  accepted, created, updated, answered, queued, queue_wait, ever_queued, similar_shown,"
    "  (SELECT group_concat (o.expert, char (10)) FROM offers o"
    "    WHERE o.request = requests.id AND o.role = 'agent' AND o.state = 'pending')"
    " FROM requests"
    " WHERE role = 'agent' AND state NOT IN ('failed', 'cancelled', 'closed')"
    " ORDER BY created, seq",
    error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      dict_add_string (&b, "id", col_text (stmt, 0));
      dict_add_string (&b, "role", col_text (stmt, 1));
      dict_add_string (&b, "agent", col_text (stmt, 2));
      dict_add_string (&b, "group", col_text (stmt, 3));
      dict_add_string (&b, "summary", col_text (stmt, 4));
      dict_add (&b, "query", vardict_from_text (col_text (stmt, 5)));
      dict_add (&b, "options", vardict_from_text (col_text (stmt, 6)));
      dict_add_string (&b, "state", col_text (stmt, 7));
      dict_add_string (&b, "reason", col_text (stmt, 8));
      dict_add_string (&b, "session", col_text (stmt, 9));
      dict_add (&b, "accepted", list_variant (col_text (stmt, 10)));
      dict_add (&b, "created", g_variant_new_int64 (sqlite3_column_int64 (stmt, 11)));
      dict_add (&b, "updated", g_variant_new_int64 (sqlite3_column_int64 (stmt, 12)));
      dict_add (&b, "answered", g_variant_new_int64 (sqlite3_column_int64 (stmt, 13)));
      dict_add (&b, "queued", g_variant_new_int64 (sqlite3_column_int64 (stmt, 14)));
      dict_add (&b, "queue_wait", g_variant_new_int64 (sqlite3_column_int64 (stmt, 15)));
      dict_add (&b, "ever_queued", g_variant_new_boolean (sqlite3_column_int (stmt, 16) != 0));
      dict_add (&b, "similar_shown", list_variant (col_text (stmt, 17)));
      /* Whom the daemon still owes a withdrawal after a restart. */
      dict_add (&b, "pending-offers", list_variant (col_text (stmt, 18)));
      g_variant_builder_add_value (rows, g_variant_builder_end (&b));
    }
  if (rc != SQLITE_DONE)
    return worker_read_failed (w, error);
  return TRUE;
}

static gboolean
unfinished_offers (Worker *w, GVariantBuilder *rows, GError **error)
{
  g_auto(CachedStmt) stmt = NULL;
  int rc;

  stmt = worker_stmt (w,
    "SELECT request, expert, role, agent, group_id, state, reason, offered, expires,"
    "  ended, rounds,"
    "  (SELECT r.summary FROM requests r WHERE r.id = offers.request AND r.role = 'expert'),"
    "  (SELECT r.query FROM requests r WHERE r.id = offers.request AND r.role = 'expert')"
    " FROM offers WHERE role = 'expert' AND state = 'pending'"
    " ORDER BY offered, seq",
    error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      dict_add_string (&b, "request", col_text (stmt, 0));
      dict_add_string (&b, "expert", col_text (stmt, 1));
      dict_add_string (&b, "role", col_text (stmt, 2));
      dict_add_string (&b, "agent", col_text (stmt, 3));
      dict_add_string (&b, "group", col_text (stmt, 4));
      dict_add_string (&b, "state", col_text (stmt, 5));
      dict_add_string (&b, "reason", col_text (stmt, 6));
      dict_add (&b, "offered", g_variant_new_int64 (sqlite3_column_int64 (stmt, 7)));
      dict_add (&b, "expires", g_variant_new_int64 (sqlite3_column_int64 (stmt, 8)));
      dict_add (&b, "ended", g_variant_new_int64 (sqlite3_column_int64 (stmt, 9)));
      dict_add (&b, "rounds", g_variant_new_uint32 ((guint32) sqlite3_column_int64 (stmt, 10)));
      /* What the expert's desktop shows of a restored offer. */
      dict_add_string (&b, "summary", col_text (stmt, 11));
      dict_add (&b, "query", vardict_from_text (col_text (stmt, 12)));
      g_variant_builder_add_value (rows, g_variant_builder_end (&b));
    }
  if (rc != SQLITE_DONE)
    return worker_read_failed (w, error);
  return TRUE;
}

static gboolean
unfinished_sessions (Worker *w, GVariantBuilder *rows, GError **error)
{
  g_auto(CachedStmt) stmt = NULL;
  int rc;

  stmt = worker_stmt (w,
    "SELECT id, request, role, group_id, summary, participants, room, state, started, ended"
    " FROM sessions WHERE state = 'open'"
    " ORDER BY started, seq",
    error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      dict_add_string (&b, "id", col_text (stmt, 0));
      dict_add_string (&b, "request", col_text (stmt, 1));
      dict_add_string (&b, "role", col_text (stmt, 2));
      dict_add_string (&b, "group", col_text (stmt, 3));
      dict_add_string (&b, "summary", col_text (stmt, 4));
      dict_add (&b, "participants", list_variant (col_text (stmt, 5)));
      dict_add_string (&b, "room", col_text (stmt, 6));
      dict_add_string (&b, "state", col_text (stmt, 7));
      dict_add (&b, "started", g_variant_new_int64 (sqlite3_column_int64 (stmt, 8)));
      dict_add (&b, "ended", g_variant_new_int64 (sqlite3_column_int64 (stmt, 9)));
      g_variant_builder_add_value (rows, g_variant_builder_end (&b));
    }
  if (rc != SQLITE_DONE)
    return worker_read_failed (w, error);
  return TRUE;
}

static GVariant *
read_unfinished (Worker *w, gpointer data, GError **error)
{
  GVariantBuilder b, requests, offers, sessions;

  ASSERT_WORKER (w);

  g_variant_builder_init (&requests, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_init (&offers, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_init (&sessions, G_VARIANT_TYPE ("aa{sv}"));
  if (!unfinished_requests (w, &requests, error) ||
      !unfinished_offers (w, &offers, error) ||
      !unfinished_sessions (w, &sessions, error))
    {
      g_variant_builder_clear (&requests);
      g_variant_builder_clear (&offers);
      g_variant_builder_clear (&sessions);
      return NULL;
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  dict_add (&b, "requests", g_variant_builder_end (&requests));
  dict_add (&b, "offers", g_variant_builder_end (&offers));
  dict_add (&b, "sessions", g_variant_builder_end (&sessions));
  return g_variant_builder_end (&b);
}

void
ea_store_load_unfinished (EaStore             *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (EA_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, &tag_unfinished);
  store_push_read (self, task, read_unfinished, NULL, NULL);
}

GVariant *
ea_store_load_unfinished_finish (EaStore *self, GAsyncResult *result, GError **error)
{
  return read_finish (self, result, &tag_unfinished, error);
}

/* ------------------------------------------------------------------ */
/* The object                                                          */
/* ------------------------------------------------------------------ */

void
ea_store_flush (EaStore *self)
{
  FlushSync sync;
  Item *item;

  g_return_if_fail (EA_IS_STORE (self));
  g_return_if_fail (current_worker == NULL);

  g_mutex_init (&sync.lock);
  g_cond_init (&sync.cond);
  sync.done = FALSE;

  item = g_new0 (Item, 1);
  item->kind = ITEM_FLUSH;
  item->sync = &sync;
  g_async_queue_push (self->queue, item);

  g_mutex_lock (&sync.lock);
  while (!sync.done)
    g_cond_wait (&sync.cond, &sync.lock);
  g_mutex_unlock (&sync.lock);

  g_mutex_clear (&sync.lock);
  g_cond_clear (&sync.cond);
}

const char *
ea_store_get_path (EaStore *self)
{
  g_return_val_if_fail (EA_IS_STORE (self), NULL);

  return self->path;
}

EaStore *
ea_store_new (const char *data_dir)
{
  g_return_val_if_fail (data_dir != NULL, NULL);

  return g_object_new (EA_TYPE_STORE, "data-dir", data_dir, NULL);
}

static void
ea_store_constructed (GObject *object)
{
  EaStore *self = EA_STORE (object);
  Worker *w;

  G_OBJECT_CLASS (ea_store_parent_class)->constructed (object);

  g_assert (self->data_dir != NULL);
  self->path = g_build_filename (self->data_dir, STORE_FILE, NULL);
  self->queue = g_async_queue_new ();

  w = g_new0 (Worker, 1);
  w->queue = g_async_queue_ref (self->queue);
  w->dir = g_strdup (self->data_dir);
  w->path = g_strdup (self->path);
  w->warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->thread = g_thread_new ("ea-store", worker_thread, w);
}

/* Whatever was queued is written (its callbacks are posted) before the
 * worker closes the database and ends. */
static void
ea_store_finalize (GObject *object)
{
  EaStore *self = EA_STORE (object);
  Item *item;

  if (self->thread != NULL)
    {
      item = g_new0 (Item, 1);
      item->kind = ITEM_STOP;
      g_async_queue_push (self->queue, item);
      g_thread_join (self->thread);
    }
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_free (self->data_dir);
  g_free (self->path);

  G_OBJECT_CLASS (ea_store_parent_class)->finalize (object);
}

static void
ea_store_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  EaStore *self = EA_STORE (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ea_store_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  EaStore *self = EA_STORE (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ea_store_class_init (EaStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ea_store_constructed;
  object_class->finalize = ea_store_finalize;
  object_class->get_property = ea_store_get_property;
  object_class->set_property = ea_store_set_property;

  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ea_store_init (EaStore *self)
{
}
