/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Raw XMPP clients for the benchmarks: many libstrophe connections in one
 * process, one GLib main loop, no daemon. They are the baselines (a raw
 * client sending the same stanzas through the same server) and the raw
 * recipients that record when each stanza arrived; they also make the
 * load (a presence storm from a thousand contacts).
 *
 * Driven by lines on stdin, answering with lines on stdout. Times are
 * CLOCK_MONOTONIC in nanoseconds, the clock Python's time.monotonic_ns()
 * reads, so they compare with the driver's own stamps.
 *
 *   login NAME JID PASSWORD TLS PRESENCE [PRIORITY [SM]]
 *        TLS: none | trust; PRESENCE: 0 | 1; SM: 1 (default) keeps
 *        libstrophe's stream management (XEP-0198) on, as the daemon
 *        has it. Answer: "ready NAME T" or "failed NAME WHY".
 *   send NAME TAG XML            send one stanza; answer "sent TAG T"
 *   burst NAME TAG N             the next N lines are stanzas, sent as one
 *                                burst from NAME; answer "sent TAG T" (the
 *                                time before the first one)
 *   echo NAME 0|1                reply to every chat message with its body
 *   dump NAME 0|1                also print "xml NAME XML" for each message
 *   autoassign NAME 0|1          answer every <accept/> at once with
 *                                <assigned/> (an agent's daemon at its fastest)
 *   ping NAME TAG                XEP-0199 ping to the server; answer
 *                                "pong TAG RTT_NS"
 *   storm TAG PREFIX N           every connection whose name starts with
 *                                PREFIX sends N presence changes, round
 *                                robin; the last one is available for even
 *                                indexes and away for odd; answer
 *                                "stormed TAG T_FIRST T_LAST COUNT"
 *   mark TAG                     answer "mark TAG T" (a synchronisation)
 *   quit
 *
 * Events: "recv NAME T KIND ID FROM" for each message received, KIND being
 * the first child in the Expert Assist namespace (offer, withdraw, ...),
 * else "chat" or "normal"; ID the offer's request id for an offer, else
 * the stanza id.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <strophe.h>

#define MAX_CONNECTING 64

typedef struct {
  char *name;
  char *jid;
  char *password;
  gboolean tls;
  gboolean presence;
  gboolean sm;
  int priority;
  xmpp_conn_t *conn;
  int fd;
  guint watch;
  gboolean ready;
  gboolean echo;
  gboolean dump;
  gboolean autoassign;
  guint index;
} Account;

static xmpp_ctx_t *ctx;
static GHashTable *accounts;     /* name → Account */
static GPtrArray *order;         /* Account, in login order */
static GQueue *to_connect;
static guint connecting;
static guint probe;
static GMainLoop *loop;
static GString *stdin_buf;
static char *burst_name;
static char *burst_tag;
static guint burst_left;
static gboolean burst_stamped;
static guint pump_id;
static Account *current;         /* set while libstrophe creates a socket */

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
out (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
out (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vfprintf (stdout, fmt, ap);
  va_end (ap);
  fputc ('\n', stdout);
  fflush (stdout);
}

static int
probe_cb (xmpp_ctx_t *c, void *data)
{
  probe++;
  return 1;
}

static gboolean pump_later_cb (gpointer data);

/* Runs libstrophe until a pass handles nothing (see the daemon's
 * ea-xmpp.c: data decrypted inside TLS is only handled by a later pass). */
static void
pump (void)
{
  guint before;
  gboolean queued = FALSE;

  for (guint i = 0; i < order->len; i++)
    {
      Account *a = g_ptr_array_index (order, i);
      int one = 1;

      if (a->fd >= 0)
        setsockopt (a->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
  do
    {
      before = probe;
      xmpp_run_once (ctx, 0);
    }
  while (probe - before >= 2);

  for (guint i = 0; i < order->len && !queued; i++)
    {
      Account *a = g_ptr_array_index (order, i);

      if (a->conn != NULL && (xmpp_conn_send_queue_len (a->conn) > 0 ||
                              xmpp_conn_is_connecting (a->conn)))
        queued = TRUE;
    }
  /* Something still to write or a connection under way: come back soon. */
  if (queued && pump_id == 0)
    pump_id = g_timeout_add (1, pump_later_cb, NULL);
}

static gboolean
pump_later_cb (gpointer data)
{
  pump_id = 0;
  pump ();
  return G_SOURCE_REMOVE;
}

static gboolean
fd_cb (int fd, GIOCondition cond, gpointer data)
{
  pump ();
  return G_SOURCE_CONTINUE;
}

static int
sockopt_cb (xmpp_conn_t *conn, void *sock)
{
  int fd = *(int *) sock;
  int one = 1;

  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (current != NULL)
    {
      current->fd = fd;
      current->watch = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, fd_cb, NULL);
    }
  return 0;
}

static const char *
ea_kind (xmpp_stanza_t *stanza, const char **id)
{
  for (xmpp_stanza_t *c = xmpp_stanza_get_children (stanza); c; c = xmpp_stanza_get_next (c))
    {
      const char *ns = xmpp_stanza_get_ns (c);

      if (ns != NULL && g_str_equal (ns, EA_NS))
        {
          if (xmpp_stanza_get_attribute (c, "id") != NULL)
            *id = xmpp_stanza_get_attribute (c, "id");
          return xmpp_stanza_get_name (c);
        }
    }
  return NULL;
}

static int
message_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *data)
{
  gint64 t = now_ns ();
  Account *a = data;
  const char *type = xmpp_stanza_get_type (stanza);
  const char *id = xmpp_stanza_get_id (stanza);
  const char *from = xmpp_stanza_get_from (stanza);
  const char *kind = ea_kind (stanza, &id);

  if (kind == NULL)
    {
      if (xmpp_stanza_get_child_by_name (stanza, "body") == NULL)
        return 1;
      kind = g_strcmp0 (type, "chat") == 0 ? "chat" : "normal";
    }
  out ("recv %s %" G_GINT64_FORMAT " %s %s %s", a->name, t, kind, id ? id : "-",
       from ? from : "-");
  if (a->dump)
    {
      char *text = NULL;
      size_t len = 0;

      if (xmpp_stanza_to_text (stanza, &text, &len) == XMPP_EOK)
        {
          for (size_t i = 0; i < len; i++)
            if (text[i] == '\n')
              text[i] = ' ';
          out ("xml %s %s", a->name, text);
          xmpp_free (ctx, text);
        }
    }

  if (a->autoassign && g_str_equal (kind, "accept") && from != NULL && id != NULL)
    {
      g_autofree char *session = g_strdup_printf ("%08x%08x%08x%08x", g_random_int (),
                                                  g_random_int (), g_random_int (),
                                                  g_random_int ());

      xmpp_send_raw_string (conn, "<message type='normal' to='%s'><assigned xmlns='%s' "
                            "id='%s' session='%s'/><thread>%s</thread></message>",
                            from, EA_NS, id, session, id);
    }

  if (a->echo && g_str_equal (kind, "chat") && from != NULL)
    {
      char *body = xmpp_message_get_body (stanza);
      xmpp_stanza_t *reply = xmpp_message_new (ctx, "chat", from, id);

      xmpp_message_set_body (reply, body ? body : "");
      xmpp_send (conn, reply);
      xmpp_stanza_release (reply);
      if (body != NULL)
        xmpp_free (ctx, body);
    }
  return 1;
}

typedef struct {
  char *tag;
  gint64 sent;
} Ping;

static int
pong_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *data)
{
  Ping *p = data;

  out ("pong %s %" G_GINT64_FORMAT, p->tag, now_ns () - p->sent);
  g_free (p->tag);
  g_free (p);
  return 0;
}

static void connect_next (void);

/* Never from inside a libstrophe callback: connecting runs libstrophe. */
static gboolean
connect_next_cb (gpointer data)
{
  connect_next ();
  return G_SOURCE_REMOVE;
}

static void
conn_cb (xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
         xmpp_stream_error_t *stream_error, void *data)
{
  Account *a = data;

  if (status == XMPP_CONN_CONNECT)
    {
      if (a->presence)
        {
          char buf[96];

          g_snprintf (buf, sizeof buf, "<presence><priority>%d</priority></presence>",
                      a->priority);
          xmpp_send_raw_string (conn, "%s", buf);
        }
      a->ready = TRUE;
      connecting--;
      out ("ready %s %" G_GINT64_FORMAT, a->name, now_ns ());
      g_idle_add (connect_next_cb, NULL);
      return;
    }
  if (!a->ready)
    {
      connecting--;
      g_idle_add (connect_next_cb, NULL);
    }
  out ("failed %s error=%d%s", a->name, error, stream_error ? " stream-error" : "");
  a->ready = FALSE;
  if (a->watch != 0)
    g_source_remove (a->watch);
  a->watch = 0;
  a->fd = -1;
}

static void
start_login (Account *a)
{
  long flags = a->tls ? (XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_TRUST_TLS)
                      : XMPP_CONN_FLAG_DISABLE_TLS;
  g_autofree char *host = NULL;
  const char *server = g_getenv ("BENCH_SERVER");
  unsigned short port = 5222;

  if (!a->sm)
    flags |= XMPP_CONN_FLAG_DISABLE_SM;

  if (server != NULL)
    {
      const char *colon = strrchr (server, ':');

      host = colon ? g_strndup (server, (gsize) (colon - server)) : g_strdup (server);
      if (colon)
        port = (unsigned short) atoi (colon + 1);
    }

  a->conn = xmpp_conn_new (ctx);
  xmpp_conn_set_flags (a->conn, flags);
  xmpp_conn_set_jid (a->conn, a->jid);
  xmpp_conn_set_pass (a->conn, a->password);
  xmpp_conn_set_sockopt_callback (a->conn, sockopt_cb);
  xmpp_handler_add (a->conn, message_cb, NULL, "message", NULL, a);
  current = a;
  connecting++;
  if (xmpp_connect_client (a->conn, host, port, conn_cb, a) != XMPP_EOK)
    {
      connecting--;
      out ("failed %s connect", a->name);
    }
  current = NULL;
  pump ();
}

static void
connect_next (void)
{
  while (connecting < MAX_CONNECTING && !g_queue_is_empty (to_connect))
    start_login (g_queue_pop_head (to_connect));
}

static Account *
lookup (const char *name)
{
  Account *a = g_hash_table_lookup (accounts, name);

  if (a == NULL || !a->ready)
    {
      out ("error no ready connection %s", name);
      return NULL;
    }
  return a;
}

static void
storm (const char *tag, const char *prefix, guint n)
{
  static const char * const shows[] = { "away", "dnd", "xa", "chat" };
  g_autoptr(GPtrArray) who = g_ptr_array_new ();
  gint64 first = 0, last = 0;
  guint count = 0;

  for (guint i = 0; i < order->len; i++)
    {
      Account *a = g_ptr_array_index (order, i);

      if (a->ready && g_str_has_prefix (a->name, prefix))
        g_ptr_array_add (who, a);
    }
  /* Round robin, so that every contact keeps changing during the storm. */
  for (guint k = 0; k < n; k++)
    {
      for (guint i = 0; i < who->len; i++)
        {
          Account *a = g_ptr_array_index (who, i);
          gboolean final = k == n - 1;

          if (first == 0)
            first = now_ns ();
          if (final && i % 2 == 0)
            xmpp_send_raw_string (a->conn, "<presence/>");
          else if (final)
            xmpp_send_raw_string (a->conn, "<presence><show>away</show></presence>");
          else
            xmpp_send_raw_string (a->conn, "<presence><show>%s</show><status>%u</status>"
                                  "</presence>", shows[(k + i) % 4], k);
          count++;
        }
      pump ();
    }
  /* Until everything is written. */
  for (guint spins = 0; spins < 100000; spins++)
    {
      gboolean queued = FALSE;

      for (guint i = 0; i < who->len && !queued; i++)
        queued = xmpp_conn_send_queue_len (((Account *) g_ptr_array_index (who, i))->conn) > 0;
      if (!queued)
        break;
      pump ();
      g_usleep (100);
    }
  last = now_ns ();
  out ("stormed %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %u", tag, first, last, count);
}

static void
command (char *line)
{
  g_auto(GStrv) w = NULL;
  guint n;

  if (burst_left > 0)
    {
      Account *a = lookup (burst_name);

      if (!burst_stamped)
        {
          out ("sent %s %" G_GINT64_FORMAT, burst_tag, now_ns ());
          burst_stamped = TRUE;
        }
      if (a != NULL)
        xmpp_send_raw (a->conn, line, strlen (line));
      if (--burst_left == 0)
        {
          g_clear_pointer (&burst_name, g_free);
          g_clear_pointer (&burst_tag, g_free);
          pump ();
        }
      return;
    }

  w = g_strsplit (line, " ", 4);
  n = g_strv_length (w);
  if (n == 0 || *w[0] == '\0')
    return;

  if (g_str_equal (w[0], "login") && n >= 4)
    {
      g_auto(GStrv) more = g_strsplit (line, " ", 0);
      Account *a = g_new0 (Account, 1);

      if (g_strv_length (more) < 6)
        {
          out ("error login NAME JID PASSWORD TLS PRESENCE [PRIORITY]");
          g_free (a);
          return;
        }
      a->name = g_strdup (more[1]);
      a->jid = g_strdup (more[2]);
      a->password = g_strdup (more[3]);
      a->tls = g_str_equal (more[4], "trust");
      a->presence = g_str_equal (more[5], "1");
      a->priority = more[6] ? atoi (more[6]) : 0;
      a->sm = more[6] == NULL || more[7] == NULL || !g_str_equal (more[7], "0");
      a->fd = -1;
      a->index = order->len;
      g_hash_table_replace (accounts, a->name, a);
      g_ptr_array_add (order, a);
      g_queue_push_tail (to_connect, a);
      connect_next ();
    }
  else if (g_str_equal (w[0], "send") && n == 4)
    {
      Account *a = lookup (w[1]);

      if (a == NULL)
        return;
      out ("sent %s %" G_GINT64_FORMAT, w[2], now_ns ());
      xmpp_send_raw (a->conn, w[3], strlen (w[3]));
      pump ();
    }
  else if (g_str_equal (w[0], "burst") && n == 4)
    {
      burst_name = g_strdup (w[1]);
      burst_tag = g_strdup (w[2]);
      burst_left = (guint) atoi (w[3]);
      burst_stamped = FALSE;
    }
  else if (g_str_equal (w[0], "echo") && n == 3)
    {
      Account *a = lookup (w[1]);

      if (a != NULL)
        a->echo = g_str_equal (w[2], "1");
      out ("echo %s %s", w[1], w[2]);
    }
  else if (g_str_equal (w[0], "dump") && n == 3)
    {
      Account *a = lookup (w[1]);

      if (a != NULL)
        a->dump = g_str_equal (w[2], "1");
      out ("dump %s %s", w[1], w[2]);
    }
  else if (g_str_equal (w[0], "autoassign") && n == 3)
    {
      Account *a = lookup (w[1]);

      if (a != NULL)
        a->autoassign = g_str_equal (w[2], "1");
      out ("autoassign %s %s", w[1], w[2]);
    }
  else if (g_str_equal (w[0], "ping") && n == 3)
    {
      Account *a = lookup (w[1]);
      Ping *p;
      g_autofree char *id = NULL;

      if (a == NULL)
        return;
      p = g_new0 (Ping, 1);
      p->tag = g_strdup (w[2]);
      id = g_strdup_printf ("bp-%s", w[2]);
      xmpp_id_handler_add (a->conn, pong_cb, id, p);
      p->sent = now_ns ();
      xmpp_send_raw_string (a->conn, "<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>",
                            id);
      pump ();
    }
  else if (g_str_equal (w[0], "storm") && n == 4)
    storm (w[1], w[2], (guint) atoi (w[3]));
  else if (g_str_equal (w[0], "mark") && n >= 2)
    out ("mark %s %" G_GINT64_FORMAT, w[1], now_ns ());
  else if (g_str_equal (w[0], "quit"))
    g_main_loop_quit (loop);
  else
    out ("error unknown command %s", w[0]);
}

static gboolean
stdin_cb (int fd, GIOCondition cond, gpointer data)
{
  char buf[65536];
  ssize_t r = read (fd, buf, sizeof buf);
  char *nl;

  if (r <= 0)
    {
      if (r < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      g_main_loop_quit (loop);
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (stdin_buf, buf, r);
  while ((nl = memchr (stdin_buf->str, '\n', stdin_buf->len)) != NULL)
    {
      g_autofree char *line = g_strndup (stdin_buf->str, (gsize) (nl - stdin_buf->str));

      g_string_erase (stdin_buf, 0, (gssize) (nl - stdin_buf->str) + 1);
      command (line);
    }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  xmpp_initialize ();
  ctx = xmpp_ctx_new (NULL, g_getenv ("BENCH_XMPP_DEBUG")
                             ? xmpp_get_default_logger (XMPP_LEVEL_DEBUG) : NULL);
  xmpp_global_timed_handler_add (ctx, probe_cb, 0, NULL);
  accounts = g_hash_table_new (g_str_hash, g_str_equal);
  order = g_ptr_array_new ();
  to_connect = g_queue_new ();
  stdin_buf = g_string_new (NULL);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_set_fd_nonblocking (0, TRUE, NULL);
  g_unix_fd_add (0, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_cb, NULL);
  g_main_loop_run (loop);

  for (guint i = 0; i < order->len; i++)
    {
      Account *a = g_ptr_array_index (order, i);

      if (a->conn != NULL && a->ready)
        xmpp_disconnect (a->conn);
    }
  for (guint i = 0; i < 20; i++)
    xmpp_run_once (ctx, 10);
  return 0;
}
