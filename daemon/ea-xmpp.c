/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The XMPP connection.
 *
 * libstrophe blocks the calling thread while it connects (DNS, SRV and the
 * TLS handshake, which has no time limit of its own), so the connection
 * lives on a worker thread with a GMainContext of its own. The worker owns
 * the libstrophe context and connection and never calls into the rest of
 * the daemon; the main thread never touches them. They talk through:
 *
 *  - stanzas to send: serialised on the main thread, queued under a lock,
 *    flushed by the worker in one go (one wake-up per burst);
 *  - events back (connected, disconnected, a batch of received stanzas):
 *    posted to the main context, tagged with the attempt's generation so
 *    that news from an abandoned attempt is dropped;
 *  - a watchdog on the main thread that shuts the socket down (through a
 *    dup() of it, so a reused descriptor number is never hit) when an
 *    attempt takes longer than 20 s, which unblocks a stuck handshake.
 *
 * The worker sleeps in poll() on the socket: libstrophe is run only when
 * the socket has something (or when there is something to send), and the
 * only timer is the XEP-0199 ping after 60 s of silence.
 */
#define G_LOG_DOMAIN "ea-xmpp"

#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <glib/gi18n.h>

#include "ea-util.h"
#include "ea-xmpp.h"

#define ATTEMPT_TIMEOUT_S 20
#define PING_IDLE_S 60
#define PING_ANSWER_S 30

static gint64 ping_idle_s = PING_IDLE_S;
static gint64 ping_answer_s = PING_ANSWER_S;

/* Tests that cut the network cannot wait 90 s: they shorten both
 * (EA_PING_IDLE_S, EA_PING_ANSWER_S). */
static gint64
env_seconds (const char *name, gint64 fallback)
{
  const char *value = g_getenv (name);
  guint64 v;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 1, 3600, &v, NULL))
    return fallback;
  return (gint64) v;
}
#define STOP_GRACE_S 2

static const guint backoff_s[] = { 0, 1, 2, 4, 8, 15 };

typedef enum {
  END_LINK,           /* the link dropped or never came up: retry */
  END_AUTH_FAILED,    /* the server refused the password */
  END_LASTING,        /* retrying cannot help until the configuration changes */
} EndKind;

typedef struct _Worker Worker;

struct _EaXmpp {
  GObject parent_instance;

  GMainContext *main_context;
  xmpp_ctx_t *builder;

  EaXmppState state;
  char *error_message;

  char *jid;
  char *full_jid;
  char *password;
  char *host;
  guint16 port;
  EaTlsPolicy tls;

  gboolean wanted;
  gboolean attempt_running;
  guint attempt;
  guint retry_id;
  guint watchdog_id;
  guint generation;

  GHashTable *pending_iqs;
  guint64 next_id;
  char *id_prefix;

  /* Events from the worker, handled a slice at a time (see drain_cb). */
  GQueue *inbox;
  guint inbox_pos;
  guint drain_id;
  guint drained;        /* stanzas handled since the inbox was last empty */

  Worker *worker;
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_ERROR,
  N_PROPS
};

enum {
  SIGNAL_SESSION_STARTED,
  SIGNAL_STANZA,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (EaXmpp, ea_xmpp, G_TYPE_OBJECT)

/* ------------------------------------------------------------------ */
/* The worker thread                                                   */
/* ------------------------------------------------------------------ */

typedef struct {
  guint generation;
  char *jid;
  char *password;
  char *host;
  guint16 port;
  long flags;
  gboolean resume;
} ConnectParams;

struct _Worker {
  gatomicrefcount ref;

  /* Read and written on the main thread only. */
  EaXmpp *owner;

  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GMainContext *main_context;

  /* Worker thread only. */
  xmpp_ctx_t *ctx;
  xmpp_conn_t *conn;
  xmpp_sm_state_t *sm;
  int fd;
  GSource *fd_source;
  gpointer fd_tag;
  GIOCondition cond;
  GSource *ping_source;
  GSource *stop_source;
  gint64 last_rx;
  char *ping_id;
  guint ping_serial;
  gint64 ping_deadline;
  guint generation;
  guint probe;
  gboolean conn_done;
  gboolean authenticated;
  gboolean resumed;
  gboolean auth_failed;
  gboolean cert_failed;
  gboolean stopping;
  char *cert_error;
  int last_errno;
  int stream_error;
  char *stream_error_text;
  GPtrArray *batch;

  /* Shared, under lock. */
  GMutex lock;
  GPtrArray *outgoing;
  gboolean flush_pending;
  int watch_fd;
};

typedef enum {
  EVENT_CONNECTED,
  EVENT_DISCONNECTED,
  EVENT_STANZAS,
} EventKind;

typedef struct {
  Worker *worker;
  EventKind kind;
  guint generation;
  gboolean resumed;
  EndKind end;
  char *message;
  GPtrArray *stanzas;
} Event;

static _Thread_local Worker *current_worker;

/* libstrophe contexts are never freed: a stanza keeps a pointer to the
 * context it was made in and frees itself through it, and copies of
 * received stanzas may outlive a connection object. */
static GPtrArray *strophe_contexts;
G_LOCK_DEFINE_STATIC (strophe_contexts);

static xmpp_ctx_t *
strophe_context_new (const xmpp_log_t *log)
{
  xmpp_ctx_t *ctx = xmpp_ctx_new (NULL, log);

  G_LOCK (strophe_contexts);
  if (strophe_contexts == NULL)
    strophe_contexts = g_ptr_array_new ();
  g_ptr_array_add (strophe_contexts, ctx);
  G_UNLOCK (strophe_contexts);
  return ctx;
}

static Worker *
worker_ref (Worker *w)
{
  g_atomic_ref_count_inc (&w->ref);
  return w;
}

static void
worker_unref (Worker *w)
{
  if (!g_atomic_ref_count_dec (&w->ref))
    return;
  g_clear_pointer (&w->outgoing, g_ptr_array_unref);
  g_clear_pointer (&w->batch, g_ptr_array_unref);
  g_mutex_clear (&w->lock);
  g_clear_pointer (&w->loop, g_main_loop_unref);
  g_clear_pointer (&w->context, g_main_context_unref);
  g_clear_pointer (&w->main_context, g_main_context_unref);
  g_free (w->cert_error);
  g_free (w->stream_error_text);
  g_free (w->ping_id);
  g_free (w);
}

static void
event_free (gpointer data)
{
  Event *ev = data;

  g_clear_pointer (&ev->stanzas, g_ptr_array_unref);
  g_free (ev->message);
  worker_unref (ev->worker);
  g_free (ev);
}

static gboolean enqueue_event (gpointer data);

static void
post_event (Worker *w, Event *ev)
{
  ev->worker = worker_ref (w);
  ev->generation = w->generation;
  /* enqueue_event takes the event over. */
  g_main_context_invoke_full (w->main_context, G_PRIORITY_DEFAULT,
                              enqueue_event, ev, NULL);
}

static void
stanza_release (gpointer data)
{
  xmpp_stanza_release (data);
}

static void
flush_batch (Worker *w)
{
  Event *ev;

  if (w->batch == NULL || w->batch->len == 0)
    return;
  ev = g_new0 (Event, 1);
  ev->kind = EVENT_STANZAS;
  ev->stanzas = g_steal_pointer (&w->batch);
  post_event (w, ev);
}

static void
set_watch_fd (Worker *w, int fd)
{
  g_mutex_lock (&w->lock);
  if (w->watch_fd >= 0)
    close (w->watch_fd);
  w->watch_fd = fd >= 0 ? dup (fd) : -1;
  g_mutex_unlock (&w->lock);
}

/* May be called from any thread: shutdown() affects the socket, not the
 * descriptor, so the dup()ed copy is enough to wake a stuck handshake. */
static void
worker_abort_socket (Worker *w)
{
  g_mutex_lock (&w->lock);
  if (w->watch_fd >= 0)
    shutdown (w->watch_fd, SHUT_RDWR);
  g_mutex_unlock (&w->lock);
}

/* Counts passes through libstrophe's timed-handler step: xmpp_run_once()
 * makes one pass when nothing happened and two when it handled an event,
 * which is how the drain loop knows when to stop. */
static int
probe_cb (xmpp_ctx_t *ctx, void *userdata)
{
  Worker *w = userdata;

  w->probe++;
  return 1;
}

static void
worker_update_cond (Worker *w)
{
  GIOCondition want = G_IO_IN | G_IO_HUP | G_IO_ERR;

  if (w->fd_source == NULL || w->conn == NULL)
    return;
  if (xmpp_conn_is_connecting (w->conn) || xmpp_conn_send_queue_len (w->conn) > 0)
    want |= G_IO_OUT;
  /* Changing the condition on every pass makes the loop spin: only when it
   * really changes. */
  if (want != w->cond)
    {
      w->cond = want;
      g_source_modify_unix_fd (w->fd_source, w->fd_tag, want);
    }
}

static void worker_release_conn (Worker *w);

static void
worker_run (Worker *w)
{
  guint before;

  if (w->conn == NULL)
    return;

  if (w->fd >= 0)
    {
      int one = 1;

      /* Prosody and the kernel otherwise hold our next stanza behind a
       * delayed ACK (about 40 ms); re-armed before each read. */
      setsockopt (w->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }

  do
    {
      before = w->probe;
      xmpp_run_once (w->ctx, 0);
    }
  while (!w->conn_done && w->probe - before >= 2);

  flush_batch (w);

  if (w->conn_done)
    worker_release_conn (w);
  else
    worker_update_cond (w);
}

static gboolean
fd_dispatch (gpointer user_data)
{
  Worker *w = user_data;

  worker_run (w);
  return G_SOURCE_CONTINUE;
}

typedef struct {
  GSource source;
  Worker *worker;
} FdSource;

static gboolean
fd_source_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs fd_source_funcs = {
  .dispatch = fd_source_dispatch,
};

static void
worker_watch_fd (Worker *w)
{
  if (w->fd_source != NULL || w->fd < 0)
    return;
  w->fd_source = g_source_new (&fd_source_funcs, sizeof (FdSource));
  g_source_set_name (w->fd_source, "ea-xmpp socket");
  g_source_set_callback (w->fd_source, fd_dispatch, w, NULL);
  w->cond = G_IO_IN | G_IO_OUT | G_IO_HUP | G_IO_ERR;
  w->fd_tag = g_source_add_unix_fd (w->fd_source, w->fd, w->cond);
  g_source_attach (w->fd_source, w->context);
}

static void
worker_unwatch_fd (Worker *w)
{
  if (w->fd_source == NULL)
    return;
  g_source_destroy (w->fd_source);
  g_clear_pointer (&w->fd_source, g_source_unref);
  w->fd_tag = NULL;
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static gboolean ping_timeout_cb (gpointer data);

static void
worker_schedule_ping (Worker *w, gint64 at_us)
{
  gint64 now = g_get_monotonic_time ();
  guint delay_ms = at_us > now ? (guint) ((at_us - now) / 1000) + 1 : 0;

  clear_source (&w->ping_source);
  w->ping_source = g_timeout_source_new (delay_ms);
  g_source_set_name (w->ping_source, "ea-xmpp ping");
  g_source_set_callback (w->ping_source, ping_timeout_cb, w, NULL);
  g_source_attach (w->ping_source, w->context);
}

/* XEP-0199: a frozen server's kernel still answers TCP, so silence is
 * tested with a ping, once after a minute of it. Everything received moves
 * the minute on; the timer itself is only re-armed when it fires, so a busy
 * connection costs nothing per stanza. */
static gboolean
ping_timeout_cb (gpointer data)
{
  Worker *w = data;
  gint64 now = g_get_monotonic_time ();

  g_clear_pointer (&w->ping_source, g_source_unref);

  if (w->conn == NULL || !w->authenticated)
    return G_SOURCE_REMOVE;

  if (w->ping_id != NULL)
    {
      if (now >= w->ping_deadline)
        {
          g_message ("The server did not answer a ping within %" G_GINT64_FORMAT " s; "
                     "reconnecting", ping_answer_s);
          w->last_errno = ETIMEDOUT;
          worker_abort_socket (w);
          return G_SOURCE_REMOVE;
        }
      worker_schedule_ping (w, w->ping_deadline);
      return G_SOURCE_REMOVE;
    }

  if (now - w->last_rx < ping_idle_s * G_USEC_PER_SEC)
    {
      worker_schedule_ping (w, w->last_rx + ping_idle_s * G_USEC_PER_SEC);
      return G_SOURCE_REMOVE;
    }

  w->ping_id = g_strdup_printf ("ea-ping-%u", ++w->ping_serial);
  w->ping_deadline = now + ping_answer_s * G_USEC_PER_SEC;
  xmpp_send_raw_string (w->conn,
                        "<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>",
                        w->ping_id);
  worker_schedule_ping (w, w->ping_deadline);
  worker_run (w);
  return G_SOURCE_REMOVE;
}

static int
stanza_cb (xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
  Worker *w = userdata;
  const char *name = xmpp_stanza_get_name (stanza);

  w->last_rx = g_get_monotonic_time ();

  /* Stream management's <r/> and <a/> are libstrophe's business. */
  if (g_strcmp0 (xmpp_stanza_get_ns (stanza), "urn:xmpp:sm:3") == 0)
    return 1;

  if (w->ping_id != NULL)
    {
      /* Anything from the server proves the link is alive. */
      gboolean is_pong = g_strcmp0 (name, "iq") == 0 &&
                         g_strcmp0 (xmpp_stanza_get_id (stanza), w->ping_id) == 0;

      g_clear_pointer (&w->ping_id, g_free);
      if (is_pong)
        return 1;
    }

  if (w->batch == NULL)
    w->batch = g_ptr_array_new_with_free_func (stanza_release);
  g_ptr_array_add (w->batch, xmpp_stanza_copy (stanza));
  return 1;
}

static const char *
errno_message (int err)
{
  switch (err)
    {
    case ECONNREFUSED:
      return _("the server refused the connection");
    case ETIMEDOUT:
      return _("the server did not answer in time");
    case ECONNRESET:
      return _("the server closed the connection");
    case EHOSTUNREACH:
    case ENETUNREACH:
      return _("the network cannot reach the server");
    default:
      return NULL;
    }
}

static void
conn_cb (xmpp_conn_t         *conn,
         xmpp_conn_event_t    status,
         int                  error,
         xmpp_stream_error_t *stream_error,
         void                *userdata)
{
  Worker *w = userdata;
  Event *ev;

  if (conn != w->conn)
    return;

  if (status == XMPP_CONN_CONNECT)
    {
      w->authenticated = TRUE;
      w->last_rx = g_get_monotonic_time ();
      worker_schedule_ping (w, w->last_rx + ping_idle_s * G_USEC_PER_SEC);

      ev = g_new0 (Event, 1);
      ev->kind = EVENT_CONNECTED;
      ev->resumed = w->resumed;
      ev->message = g_strdup (xmpp_conn_get_bound_jid (conn));
      post_event (w, ev);
      return;
    }

  if (status != XMPP_CONN_DISCONNECT && status != XMPP_CONN_FAIL)
    return;

  ev = g_new0 (Event, 1);
  ev->kind = EVENT_DISCONNECTED;
  ev->end = END_LINK;

  if (error != 0)
    w->last_errno = error;

  if (w->cert_failed)
    {
      ev->end = END_LASTING;
      ev->message = g_strdup_printf (_("The server’s certificate is not trusted (%s). "
                                       "Install the server’s CA certificate, or use "
                                       "--tls=trust-self-signed for a test server."),
                                     w->cert_error ? w->cert_error : _("unknown reason"));
    }
  else if (w->auth_failed)
    {
      ev->end = END_AUTH_FAILED;
      ev->message = g_strdup (_("The server refused the password. Set the right one with "
                                "SetAccount or “expert-assist login”."));
    }
  else if (stream_error != NULL)
    {
      switch (stream_error->type)
        {
        case XMPP_SE_CONFLICT:
          ev->end = END_LASTING;
          ev->message = g_strdup (_("Another login with the same address and resource "
                                    "replaced this one."));
          break;
        case XMPP_SE_NOT_AUTHORIZED:
          ev->end = END_LASTING;
          ev->message = g_strdup (_("The server says this account is not authorised."));
          break;
        case XMPP_SE_POLICY_VIOLATION:
          ev->end = END_LASTING;
          ev->message = g_strdup_printf (_("The server closed the connection for a policy "
                                           "violation%s%s."),
                                         stream_error->text ? ": " : "",
                                         stream_error->text ? stream_error->text : "");
          break;
        case XMPP_SE_HOST_UNKNOWN:
          ev->end = END_LASTING;
          ev->message = g_strdup (_("The server does not serve this address’s domain."));
          break;
        default:
          ev->message = g_strdup_printf (_("The server ended the stream%s%s."),
                                         stream_error->text ? ": " : "",
                                         stream_error->text ? stream_error->text : "");
          break;
        }
    }
  else if (!w->stopping)
    {
      const char *why = errno_message (w->last_errno);

      ev->message = why ? g_strdup_printf (_("Connection lost: %s."), why)
                        : g_strdup (_("Connection lost."));
    }

  post_event (w, ev);
  w->conn_done = TRUE;
}

static int
sockopt_cb (xmpp_conn_t *conn, void *sock)
{
  Worker *w = current_worker;
  int fd = *(int *) sock;
  int one = 1;

  /* Without it every stanza after the first of a burst waits for the
   * peer's delayed ACK. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  if (w != NULL)
    {
      w->fd = fd;
      set_watch_fd (w, fd);
    }
  return 0;
}

static int
certfail_cb (const xmpp_tlscert_t *cert, const char *const errormsg)
{
  Worker *w = current_worker;

  if (w != NULL)
    {
      w->cert_failed = TRUE;
      g_free (w->cert_error);
      w->cert_error = g_strdup (errormsg);
    }
  return 0;
}

/* libstrophe reports a refused password and a resumed stream only through
 * its log. Stanza traffic (SENT/RECV) is never passed on: it can carry
 * masked customer data. */
static void
log_cb (void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
  Worker *w = current_worker;

  if (w != NULL)
    {
      if (strcmp (msg, "Cannot authenticate with known methods") == 0)
        w->auth_failed = TRUE;
      else if (strcmp (msg, "Session resumed successfully.") == 0)
        w->resumed = TRUE;
    }

  if (level < XMPP_LEVEL_INFO)
    return;
  if (strchr (msg, '<') != NULL)
    return;
  g_debug ("libstrophe %s: %s", area, msg);
}

static const xmpp_log_t strophe_log = { log_cb, NULL };

static void
worker_release_conn (Worker *w)
{
  worker_unwatch_fd (w);
  clear_source (&w->ping_source);
  clear_source (&w->stop_source);
  set_watch_fd (w, -1);
  w->fd = -1;

  if (w->conn != NULL)
    {
      xmpp_sm_state_t *sm = NULL;

      if (!w->stopping && !w->auth_failed && !w->cert_failed)
        sm = xmpp_conn_get_sm_state (w->conn);
      if (w->sm != NULL)
        xmpp_free_sm_state (w->sm);
      w->sm = sm;
      xmpp_conn_release (w->conn);
      w->conn = NULL;
    }
  g_clear_pointer (&w->ping_id, g_free);
  w->authenticated = FALSE;
  w->conn_done = FALSE;
}

static gboolean
worker_connect (gpointer data)
{
  ConnectParams *p = data;
  Worker *w = current_worker;
  int rc;

  if (w->conn != NULL)
    {
      /* A previous attempt is still winding down: drop it. */
      w->stopping = TRUE;
      worker_release_conn (w);
    }

  w->generation = p->generation;
  w->resumed = FALSE;
  w->auth_failed = FALSE;
  w->cert_failed = FALSE;
  w->stopping = FALSE;
  w->last_errno = 0;
  g_clear_pointer (&w->cert_error, g_free);

  if (!p->resume && w->sm != NULL)
    g_clear_pointer (&w->sm, xmpp_free_sm_state);

  w->conn = xmpp_conn_new (w->ctx);
  xmpp_conn_set_flags (w->conn, p->flags);
  xmpp_conn_set_jid (w->conn, p->jid);
  xmpp_conn_set_pass (w->conn, p->password);
  xmpp_conn_set_sockopt_callback (w->conn, sockopt_cb);
  xmpp_conn_set_certfail_handler (w->conn, certfail_cb);
  if (w->sm != NULL)
    {
      if (xmpp_conn_set_sm_state (w->conn, w->sm) == XMPP_EOK)
        w->sm = NULL;
      else
        g_clear_pointer (&w->sm, xmpp_free_sm_state);
    }
  xmpp_handler_add (w->conn, stanza_cb, NULL, NULL, NULL, w);

  rc = xmpp_connect_client (w->conn, p->host, p->port, conn_cb, w);
  if (rc != XMPP_EOK && w->conn_done)
    {
      /* conn_cb has told the main thread already. */
      w->stopping = TRUE;
      worker_release_conn (w);
      return G_SOURCE_REMOVE;
    }
  if (rc != XMPP_EOK)
    {
      Event *ev = g_new0 (Event, 1);

      ev->kind = EVENT_DISCONNECTED;
      ev->end = END_LINK;
      ev->message = g_strdup_printf (_("Cannot reach the server %s."),
                                     p->host ? p->host : _("of this address"));
      post_event (w, ev);
      w->stopping = TRUE;
      worker_release_conn (w);
      return G_SOURCE_REMOVE;
    }

  worker_watch_fd (w);
  worker_run (w);
  return G_SOURCE_REMOVE;
}

static void
connect_params_free (gpointer data)
{
  ConnectParams *p = data;

  g_free (p->jid);
  if (p->password != NULL)
    explicit_bzero (p->password, strlen (p->password));
  g_free (p->password);
  g_free (p->host);
  g_free (p);
}

static gboolean
stop_grace_cb (gpointer data)
{
  Worker *w = data;

  g_clear_pointer (&w->stop_source, g_source_unref);
  worker_abort_socket (w);
  return G_SOURCE_REMOVE;
}

static gboolean
worker_disconnect (gpointer data)
{
  Worker *w = current_worker;

  if (w->conn == NULL)
    return G_SOURCE_REMOVE;

  w->stopping = TRUE;
  g_clear_pointer (&w->sm, xmpp_free_sm_state);
  if (xmpp_conn_is_connecting (w->conn))
    {
      worker_abort_socket (w);
      return G_SOURCE_REMOVE;
    }
  xmpp_disconnect (w->conn);
  /* libstrophe's own clean-up timer only runs when the socket wakes it;
   * make sure a silent server cannot keep the socket open. */
  if (w->stop_source == NULL)
    {
      w->stop_source = g_timeout_source_new_seconds (STOP_GRACE_S);
      g_source_set_callback (w->stop_source, stop_grace_cb, w, NULL);
      g_source_attach (w->stop_source, w->context);
    }
  worker_run (w);
  return G_SOURCE_REMOVE;
}

static gboolean
worker_flush (gpointer data)
{
  Worker *w = current_worker;
  g_autoptr(GPtrArray) out = NULL;

  g_mutex_lock (&w->lock);
  out = g_steal_pointer (&w->outgoing);
  w->outgoing = g_ptr_array_new_with_free_func (g_free);
  w->flush_pending = FALSE;
  g_mutex_unlock (&w->lock);

  if (w->conn == NULL || !w->authenticated || out->len == 0)
    return G_SOURCE_REMOVE;

  for (guint i = 0; i < out->len; i++)
    {
      const char *text = g_ptr_array_index (out, i);

      xmpp_send_raw (w->conn, text, strlen (text));
    }

  /* One burst, as few packets as the kernel can make of it. */
  if (out->len > 1 && w->fd >= 0)
    {
      int on = 1;

      setsockopt (w->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
      worker_run (w);
      if (w->fd >= 0)
        {
          int off = 0;

          setsockopt (w->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
        }
    }
  else
    worker_run (w);

  return G_SOURCE_REMOVE;
}

static gboolean
worker_quit (gpointer data)
{
  Worker *w = current_worker;

  w->stopping = TRUE;
  worker_release_conn (w);
  g_main_loop_quit (w->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;

  current_worker = w;
  g_main_context_push_thread_default (w->context);

  w->ctx = strophe_context_new (&strophe_log);
  xmpp_global_timed_handler_add (w->ctx, probe_cb, 0, w);

  g_main_loop_run (w->loop);

  if (w->sm != NULL)
    g_clear_pointer (&w->sm, xmpp_free_sm_state);
  g_clear_pointer (&w->batch, g_ptr_array_unref);
  xmpp_global_timed_handler_delete (w->ctx, probe_cb);
  /* The context stays: stanzas copied out of it may still be alive on the
   * main thread, and they free themselves through it. */
  g_main_context_pop_thread_default (w->context);
  current_worker = NULL;
  return NULL;
}

static void
worker_invoke (Worker *w, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  g_main_context_invoke_full (w->context, G_PRIORITY_DEFAULT, func, data, notify);
}

static Worker *
worker_new (GMainContext *main_context)
{
  Worker *w = g_new0 (Worker, 1);

  g_atomic_ref_count_init (&w->ref);
  g_mutex_init (&w->lock);
  w->outgoing = g_ptr_array_new_with_free_func (g_free);
  w->watch_fd = -1;
  w->fd = -1;
  w->context = g_main_context_new ();
  w->loop = g_main_loop_new (w->context, FALSE);
  w->main_context = g_main_context_ref (main_context);
  w->thread = g_thread_new ("ea-xmpp", worker_thread, w);
  return w;
}

static void
worker_stop (Worker *w)
{
  worker_invoke (w, worker_quit, NULL, NULL);
  g_thread_join (w->thread);
  w->thread = NULL;
  worker_unref (w);
}

/* ------------------------------------------------------------------ */
/* The main-thread side                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  EaXmppIqCallback callback;
  gpointer user_data;
  char *peer;
} PendingIq;

static void
pending_iq_free (gpointer data)
{
  PendingIq *p = data;

  g_free (p->peer);
  g_free (p);
}

const char *
ea_xmpp_state_to_string (EaXmppState state)
{
  switch (state)
    {
    case EA_XMPP_DISCONNECTED:
      return "disconnected";
    case EA_XMPP_CONNECTING:
      return "connecting";
    case EA_XMPP_CONNECTED:
      return "connected";
    case EA_XMPP_AUTH_FAILED:
      return "auth-failed";
    case EA_XMPP_ERROR:
      return "error";
    default:
      g_assert_not_reached ();
    }
}

gboolean
ea_tls_policy_from_string (const char *text, EaTlsPolicy *out)
{
  if (g_strcmp0 (text, "required") == 0)
    *out = EA_TLS_REQUIRED;
  else if (g_strcmp0 (text, "trust-self-signed") == 0)
    *out = EA_TLS_TRUST_SELF_SIGNED;
  else if (g_strcmp0 (text, "none") == 0)
    *out = EA_TLS_NONE;
  else
    return FALSE;
  return TRUE;
}

static void
set_state (EaXmpp *self, EaXmppState state, const char *message)
{
  gboolean changed_state = self->state != state;
  gboolean changed_error = g_strcmp0 (self->error_message, message ? message : "") != 0;

  if (changed_state)
    g_debug ("connection: %s → %s", ea_xmpp_state_to_string (self->state),
             ea_xmpp_state_to_string (state));
  self->state = state;
  if (changed_error)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (message ? message : "");
    }
  g_object_freeze_notify (G_OBJECT (self));
  if (changed_state)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  if (changed_error)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
fail_pending_iqs (EaXmpp *self)
{
  g_autoptr(GHashTable) pending = NULL;
  GHashTableIter iter;
  gpointer value;

  if (g_hash_table_size (self->pending_iqs) == 0)
    return;
  pending = g_steal_pointer (&self->pending_iqs);
  self->pending_iqs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_iq_free);

  g_object_ref (self);
  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PendingIq *p = value;

      p->callback (self, NULL, p->user_data);
    }
  g_object_unref (self);
}

static void begin_attempt (EaXmpp *self);

static gboolean
retry_cb (gpointer data)
{
  EaXmpp *self = data;

  self->retry_id = 0;
  if (self->wanted && !self->attempt_running)
    begin_attempt (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (EaXmpp *self)
{
  guint idx = MIN (self->attempt, G_N_ELEMENTS (backoff_s) - 1);
  guint base_ms = backoff_s[idx] * 1000;
  guint delay_ms;

  self->attempt++;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (base_ms == 0)
    delay_ms = 0;
  else
    /* ±20 % so that a room full of desktops does not knock at once. */
    delay_ms = (guint) (base_ms * g_random_double_range (0.8, 1.2));
  g_debug ("reconnecting in %u ms", delay_ms);
  self->retry_id = g_timeout_add (delay_ms, retry_cb, self);
}

static gboolean
watchdog_cb (gpointer data)
{
  EaXmpp *self = data;

  self->watchdog_id = 0;
  g_message ("Connection attempt took longer than %d s; giving up on it", ATTEMPT_TIMEOUT_S);
  worker_abort_socket (self->worker);
  return G_SOURCE_REMOVE;
}

static void
begin_attempt (EaXmpp *self)
{
  ConnectParams *p;
  long flags = 0;

  g_return_if_fail (self->jid != NULL && self->password != NULL);

  self->generation++;
  self->attempt_running = TRUE;

  switch (self->tls)
    {
    case EA_TLS_REQUIRED:
      flags = XMPP_CONN_FLAG_MANDATORY_TLS;
      break;
    case EA_TLS_TRUST_SELF_SIGNED:
      flags = XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_TRUST_TLS;
      break;
    case EA_TLS_NONE:
      flags = XMPP_CONN_FLAG_DISABLE_TLS;
      break;
    default:
      g_assert_not_reached ();
    }

  p = g_new0 (ConnectParams, 1);
  p->generation = self->generation;
  p->jid = g_strdup (self->full_jid);
  p->password = g_strdup (self->password);
  p->host = g_strdup (self->host);
  p->port = self->port;
  p->flags = flags;
  p->resume = TRUE;

  g_clear_handle_id (&self->watchdog_id, g_source_remove);
  self->watchdog_id = g_timeout_add_seconds (ATTEMPT_TIMEOUT_S, watchdog_cb, self);

  set_state (self, EA_XMPP_CONNECTING, self->error_message);
  worker_invoke (self->worker, worker_connect, p, connect_params_free);
}

static void
handle_stanza (EaXmpp *self, xmpp_stanza_t *stanza)
{
  const char *name = xmpp_stanza_get_name (stanza);
  const char *type = xmpp_stanza_get_type (stanza);
  const char *id = xmpp_stanza_get_id (stanza);

  if (self->state != EA_XMPP_CONNECTED)
    return;

  if (g_strcmp0 (name, "iq") == 0 && id != NULL &&
      (g_strcmp0 (type, "result") == 0 || g_strcmp0 (type, "error") == 0))
    {
      PendingIq *p = g_hash_table_lookup (self->pending_iqs, id);
      const char *from = xmpp_stanza_get_from (stanza);

      if (p != NULL)
        {
          /* Only the party asked may answer; the server answers for our
           * own account. */
          gboolean ok = (p->peer == NULL)
                          ? (from == NULL || ea_jid_equal_bare (from, self->jid) ||
                             strchr (from, '@') == NULL)
                          : (from != NULL && g_ascii_strcasecmp (from, p->peer) == 0) ||
                            (from == NULL && ea_jid_equal_bare (p->peer, self->jid));

          if (ok)
            {
              g_autofree char *key = NULL;
              gpointer value = NULL;

              g_hash_table_steal_extended (self->pending_iqs, id, (gpointer *) &key, &value);
              p = value;
              p->callback (self, stanza, p->user_data);
              pending_iq_free (p);
              return;
            }
          g_debug ("dropping an iq answer from the wrong sender");
          return;
        }
    }

  g_signal_emit (self, signals[SIGNAL_STANZA], 0, stanza);
}

static void
handle_event (EaXmpp *self, Event *ev)
{
  switch (ev->kind)
    {
    case EVENT_CONNECTED:
      g_clear_handle_id (&self->watchdog_id, g_source_remove);
      self->attempt = 0;
      g_debug ("connected as %s%s", ev->message ? ev->message : "?",
               ev->resumed ? " (stream resumed)" : "");
      if (ev->message != NULL)
        {
          g_free (self->full_jid);
          self->full_jid = g_strdup (ev->message);
        }
      set_state (self, EA_XMPP_CONNECTED, NULL);
      g_signal_emit (self, signals[SIGNAL_SESSION_STARTED], 0, ev->resumed);
      break;

    case EVENT_STANZAS:
      /* Handled by drain_cb, a slice at a time. */
      break;

    case EVENT_DISCONNECTED:
      g_clear_handle_id (&self->watchdog_id, g_source_remove);
      self->attempt_running = FALSE;
      /* Bump the generation: nothing more from that attempt counts. */
      self->generation++;
      if (ev->message != NULL)
        g_message ("%s", ev->message);
      fail_pending_iqs (self);

      switch (ev->end)
        {
        case END_AUTH_FAILED:
          set_state (self, EA_XMPP_AUTH_FAILED, ev->message);
          break;
        case END_LASTING:
          set_state (self, EA_XMPP_ERROR, ev->message);
          break;
        case END_LINK:
        default:
          set_state (self, EA_XMPP_DISCONNECTED, ev->message);
          if (self->wanted)
            schedule_retry (self);
          break;
        }
      break;

    default:
      g_assert_not_reached ();
    }
}

#define DRAIN_SLICE_US 4000

/* Events are handled in order, but a burst (a roster of thousands, a storm
 * of presence) only for a few milliseconds per main-loop iteration, so
 * D-Bus calls are answered in between. */
static gboolean
drain_cb (gpointer data)
{
  EaXmpp *self = data;
  gint64 start = g_get_monotonic_time ();

  g_object_ref (self);
  while (!g_queue_is_empty (self->inbox))
    {
      Event *ev = g_queue_peek_head (self->inbox);

      if (ev->generation != self->generation)
        ;
      else if (ev->kind == EVENT_STANZAS)
        {
          while (self->inbox_pos < ev->stanzas->len && ev->generation == self->generation)
            {
              self->drained++;
              handle_stanza (self, g_ptr_array_index (ev->stanzas, self->inbox_pos++));
              if (g_get_monotonic_time () - start > DRAIN_SLICE_US &&
                  self->inbox_pos < ev->stanzas->len)
                {
                  g_object_unref (self);
                  return G_SOURCE_CONTINUE;
                }
            }
        }
      else
        handle_event (self, ev);

      /* The handlers may have run the queue dry (dispose). */
      if (g_queue_peek_head (self->inbox) == ev)
        {
          g_queue_pop_head (self->inbox);
          event_free (ev);
        }
      self->inbox_pos = 0;
      if (g_get_monotonic_time () - start > DRAIN_SLICE_US && !g_queue_is_empty (self->inbox))
        {
          g_object_unref (self);
          return G_SOURCE_CONTINUE;
        }
    }
  self->drain_id = 0;
#ifdef __GLIBC__
  /* After a burst (a big roster, a storm of presence) give the memory its
   * stanzas took back to the system instead of keeping it in the heap. */
  if (self->drained > 1000)
    malloc_trim (0);
#endif
  self->drained = 0;
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static gboolean
enqueue_event (gpointer data)
{
  Event *ev = data;
  EaXmpp *self = ev->worker->owner;

  if (self == NULL)
    {
      event_free (ev);
      return G_SOURCE_REMOVE;
    }
  g_queue_push_tail (self->inbox, ev);
  if (self->drain_id == 0)
    self->drain_id = g_idle_add_full (G_PRIORITY_DEFAULT, drain_cb, self, NULL);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

EaXmpp *
ea_xmpp_new (void)
{
  return g_object_new (EA_TYPE_XMPP, NULL);
}

static void
forget_password (EaXmpp *self)
{
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_clear_pointer (&self->password, g_free);
}

/**
 * ea_xmpp_configure:
 *
 * Sets the account to connect with. Any attempt under way is abandoned;
 * "auth-failed" and "error" are cleared. Call ea_xmpp_start() to connect.
 */
void
ea_xmpp_configure (EaXmpp      *self,
                   const char  *jid,
                   const char  *password,
                   const char  *host,
                   guint16      port,
                   EaTlsPolicy  tls)
{
  g_autofree char *resource = NULL;
  g_autofree char *rand_id = ea_id_new ();

  g_return_if_fail (EA_IS_XMPP (self));
  g_return_if_fail (jid != NULL && password != NULL);

  g_free (self->jid);
  self->jid = ea_jid_bare (jid);
  forget_password (self);
  self->password = g_strdup (password);
  g_free (self->host);
  self->host = g_strdup (host);
  self->port = port;
  self->tls = tls;

  /* A resource of its own per process: two desktops of one user never
   * replace each other's login, and a reconnect can resume the stream. */
  resource = g_strdup_printf ("expert-assist.%.8s", rand_id);
  g_free (self->full_jid);
  self->full_jid = g_strdup_printf ("%s/%s", self->jid, resource);

  self->generation++;
  self->attempt = 0;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->attempt_running)
    {
      self->attempt_running = FALSE;
      worker_invoke (self->worker, worker_disconnect, NULL, NULL);
      fail_pending_iqs (self);
    }
  set_state (self, EA_XMPP_DISCONNECTED, NULL);
}

/**
 * ea_xmpp_set_error:
 *
 * Puts the connection in a lasting state (no account, an unreadable
 * password file...) that stays until the next ea_xmpp_configure().
 */
void
ea_xmpp_set_error (EaXmpp *self, EaXmppState state, const char *message)
{
  g_return_if_fail (state == EA_XMPP_ERROR || state == EA_XMPP_AUTH_FAILED ||
                    state == EA_XMPP_DISCONNECTED);

  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->watchdog_id, g_source_remove);
  if (self->attempt_running)
    {
      self->attempt_running = FALSE;
      self->generation++;
      worker_invoke (self->worker, worker_disconnect, NULL, NULL);
      fail_pending_iqs (self);
    }
  set_state (self, state, message);
}

void
ea_xmpp_start (EaXmpp *self)
{
  g_return_if_fail (EA_IS_XMPP (self));

  self->wanted = TRUE;
  if (self->jid == NULL || self->password == NULL)
    return;
  if (self->state == EA_XMPP_AUTH_FAILED || self->state == EA_XMPP_ERROR)
    return;
  if (self->attempt_running || self->retry_id != 0)
    return;
  begin_attempt (self);
}

void
ea_xmpp_stop (EaXmpp *self)
{
  g_return_if_fail (EA_IS_XMPP (self));

  self->wanted = FALSE;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->watchdog_id, g_source_remove);
  if (self->attempt_running)
    {
      self->attempt_running = FALSE;
      self->generation++;
      worker_invoke (self->worker, worker_disconnect, NULL, NULL);
      fail_pending_iqs (self);
    }
  if (self->state == EA_XMPP_CONNECTED || self->state == EA_XMPP_CONNECTING)
    set_state (self, EA_XMPP_DISCONNECTED, NULL);
}

EaXmppState
ea_xmpp_get_state (EaXmpp *self)
{
  return self->state;
}

const char *
ea_xmpp_get_state_name (EaXmpp *self)
{
  return ea_xmpp_state_to_string (self->state);
}

const char *
ea_xmpp_get_error (EaXmpp *self)
{
  return self->error_message ? self->error_message : "";
}

const char *
ea_xmpp_get_jid (EaXmpp *self)
{
  return self->jid;
}

const char *
ea_xmpp_get_full_jid (EaXmpp *self)
{
  return self->full_jid;
}

gboolean
ea_xmpp_is_connected (EaXmpp *self)
{
  return self->state == EA_XMPP_CONNECTED;
}

/**
 * ea_xmpp_get_ctx:
 *
 * The libstrophe context stanzas are built and parsed with on the main
 * thread. It has no connection: sending goes through ea_xmpp_send().
 */
xmpp_ctx_t *
ea_xmpp_get_ctx (EaXmpp *self)
{
  return self->builder;
}

char *
ea_xmpp_new_id (EaXmpp *self)
{
  return g_strdup_printf ("%s-%" G_GUINT64_FORMAT, self->id_prefix, ++self->next_id);
}

/**
 * ea_xmpp_send:
 *
 * Queues @stanza for the server. Returns %FALSE, sending nothing, when not
 * connected; callers that must not lose a stanza keep it and send it again
 * on the next session.
 */
gboolean
ea_xmpp_send (EaXmpp *self, xmpp_stanza_t *stanza)
{
  char *text = NULL;
  size_t len = 0;
  gboolean wake;

  g_return_val_if_fail (EA_IS_XMPP (self), FALSE);

  if (self->state != EA_XMPP_CONNECTED)
    return FALSE;
  if (xmpp_stanza_to_text (stanza, &text, &len) != XMPP_EOK)
    return FALSE;

  g_mutex_lock (&self->worker->lock);
  g_ptr_array_add (self->worker->outgoing, g_strndup (text, len));
  wake = !self->worker->flush_pending;
  self->worker->flush_pending = TRUE;
  g_mutex_unlock (&self->worker->lock);
  xmpp_free (self->builder, text);

  if (wake)
    worker_invoke (self->worker, worker_flush, NULL, NULL);
  return TRUE;
}

/**
 * ea_xmpp_send_iq:
 *
 * Sends @iq (given an id if it has none) and calls @callback once with the
 * answer, or with %NULL if the connection goes before one arrives.
 */
void
ea_xmpp_send_iq (EaXmpp           *self,
                 xmpp_stanza_t    *iq,
                 EaXmppIqCallback  callback,
                 gpointer          user_data)
{
  PendingIq *p;
  const char *id = xmpp_stanza_get_id (iq);
  const char *to = xmpp_stanza_get_to (iq);

  if (id == NULL)
    {
      g_autofree char *new_id = ea_xmpp_new_id (self);

      xmpp_stanza_set_id (iq, new_id);
      id = xmpp_stanza_get_id (iq);
    }

  if (!ea_xmpp_send (self, iq))
    {
      callback (self, NULL, user_data);
      return;
    }

  p = g_new0 (PendingIq, 1);
  p->callback = callback;
  p->user_data = user_data;
  p->peer = g_strdup (to);
  g_hash_table_replace (self->pending_iqs, g_strdup (id), p);
}

static void
ea_xmpp_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  EaXmpp *self = EA_XMPP (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_string (value, ea_xmpp_get_error (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ea_xmpp_dispose (GObject *object)
{
  EaXmpp *self = EA_XMPP (object);

  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->watchdog_id, g_source_remove);
  g_clear_handle_id (&self->drain_id, g_source_remove);
  if (self->inbox != NULL)
    {
      g_queue_free_full (self->inbox, event_free);
      self->inbox = NULL;
    }
  if (self->worker != NULL)
    {
      self->worker->owner = NULL;
      worker_stop (g_steal_pointer (&self->worker));
    }
  if (self->pending_iqs != NULL)
    fail_pending_iqs (self);

  G_OBJECT_CLASS (ea_xmpp_parent_class)->dispose (object);
}

static void
ea_xmpp_finalize (GObject *object)
{
  EaXmpp *self = EA_XMPP (object);

  forget_password (self);
  g_clear_pointer (&self->pending_iqs, g_hash_table_unref);
  g_free (self->jid);
  g_free (self->full_jid);
  g_free (self->host);
  g_free (self->error_message);
  g_free (self->id_prefix);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  self->builder = NULL;

  G_OBJECT_CLASS (ea_xmpp_parent_class)->finalize (object);
}

static void
ea_xmpp_class_init (EaXmppClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  ping_idle_s = env_seconds ("EA_PING_IDLE_S", PING_IDLE_S);
  ping_answer_s = env_seconds ("EA_PING_ANSWER_S", PING_ANSWER_S);

  object_class->get_property = ea_xmpp_get_property;
  object_class->dispose = ea_xmpp_dispose;
  object_class->finalize = ea_xmpp_finalize;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL,
                      EA_XMPP_DISCONNECTED, EA_XMPP_ERROR, EA_XMPP_DISCONNECTED,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EaXmpp::session-started:
   * @resumed: %TRUE when the previous stream was resumed (XEP-0198), so
   *   presence and rooms are still in place
   */
  signals[SIGNAL_SESSION_STARTED] =
    g_signal_new ("session-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);

  /**
   * EaXmpp::stanza:
   * @stanza: (type gpointer): an xmpp_stanza_t, valid during the emission
   */
  signals[SIGNAL_STANZA] =
    g_signal_new ("stanza", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
ea_xmpp_init (EaXmpp *self)
{
  static gsize initialized = 0;
  g_autofree char *rand_id = ea_id_new ();

  if (g_once_init_enter (&initialized))
    {
      /* A server that drops the link must not kill us with SIGPIPE. */
      signal (SIGPIPE, SIG_IGN);
      xmpp_initialize ();
      g_once_init_leave (&initialized, 1);
    }

  self->main_context = g_main_context_ref_thread_default ();
  self->builder = strophe_context_new (NULL);
  self->error_message = g_strdup ("");
  self->pending_iqs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_iq_free);
  self->id_prefix = g_strndup (rand_id, 8);
  self->inbox = g_queue_new ();
  self->worker = worker_new (self->main_context);
  self->worker->owner = self;
}
