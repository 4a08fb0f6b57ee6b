/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The whole stanza dispatch of a daemon (rooms, presence, the expert's
 * offers, the agent's arbitration, chat), fed parsed stanzas without a
 * network: a fresh EaDaemon per input, with a directory, a log in a
 * throwaway directory and its D-Bus objects exported on a private bus,
 * gets each stanza the way EaXmpp hands them over (its "stanza" signal).
 * The daemon must never crash nor emit a critical (GDBus checks, among
 * others, that every string it is given is UTF-8).
 *
 * Input: up to 8 stanzas separated by NUL bytes; a stanza without "from"
 * comes from carol@example.org/desk, an agent of the directory.
 *
 * Without a network the daemon is "disconnected", so what needs a session
 * (RequestHelp, Accept, presence) is out of reach here; see README.md.
 */
#include "fuzz-common.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "ea-daemon-private.h"

#define ME "me@example.org"
#define MAX_STANZAS 8

static const char directory_text[] =
  "[Group billing]\n"
  "Name=Billing\n"
  "Experts=me@example.org;alice@example.org;\n"
  "Address=billing@conference.example.org\n"
  "OfferTimeout=30\n"
  "[Group tech]\n"
  "Experts=alice@example.org;me@example.org;\n"
  "Strategy=serial\n"
  "Fallback=billing\n"
  "[Expert me@example.org]\n"
  "MaxSessions=3\n"
  "Skills=refunds:4;chargebacks;\n"
  "Languages=de;en;\n"
  "[Agent carol@example.org]\n"
  "Groups=billing;tech;\n"
  "[Agent me@example.org]\n"
  "Groups=billing;\n";

static GTestDBus *test_bus;
static GDBusConnection *bus_conn;
static char *base_dir;
static guint serial;

/* A private dbus-daemon (GTestDBus): the daemon watches names on the bus,
 * which a peer-to-peer connection cannot do. It goes when we do. */
static void
start_bus (void)
{
  g_autoptr(GError) error = NULL;

  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (test_bus);
  bus_conn = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (test_bus),
                                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                     NULL, NULL, &error);
  FUZZ_CHECK (bus_conn != NULL, "private bus: %s", error ? error->message : "?");
}

static void
write_or_die (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  FUZZ_CHECK (g_file_set_contents (path, text, -1, &error), "%s: %s", path, error->message);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates until @done says so, or 5 s pass (a hang is a finding too). */
static void
iterate_until (gboolean (*done) (gpointer), gpointer data, const char *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (5000, timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  FUZZ_CHECK (!timed_out, "timed out waiting for %s", what);
  g_source_remove (id);
}

static gboolean
daemon_ready (gpointer data)
{
  EaDaemon *d = data;

  return d->restored && d->directory != NULL &&
         ea_directory_get_groups (d->directory)->len > 0;
}

static gboolean
is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

static void
flushed_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GVariant *rows = ea_store_load_unfinished_finish (EA_STORE (source), res, NULL);

  g_clear_pointer (&rows, g_variant_unref);
  *(gboolean *) data = TRUE;
}

static void
drain (void)
{
  for (guint i = 0; i < 200 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static xmpp_stanza_t *
stanza_from (const char *text)
{
  xmpp_stanza_t *s = xmpp_stanza_new_from_string (fuzz_ctx (), text);

  if (s == NULL)
    return NULL;
  if (xmpp_stanza_get_name (s) == NULL)
    {
      xmpp_stanza_release (s);
      return NULL;
    }
  if (xmpp_stanza_get_from (s) == NULL && !xmpp_stanza_is_text (s))
    xmpp_stanza_set_from (s, "carol@example.org/desk");
  return s;
}

static void
copy_files (const char *from, const char *to)
{
  g_autoptr(GDir) dir = g_dir_open (from, 0, NULL);
  const char *name;

  g_mkdir_with_parents (to, 0700);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *src = g_build_filename (from, name, NULL);
      g_autofree char *dst = g_build_filename (to, name, NULL);
      g_autofree char *contents = NULL;
      gsize len;

      if (g_file_test (src, G_FILE_TEST_IS_REGULAR) &&
          g_file_get_contents (src, &contents, &len, NULL))
        g_file_set_contents_full (dst, contents, len, G_FILE_SET_CONTENTS_NONE, 0600, NULL);
    }
}

/* One daemon's life: start (its log copied from the template, which saves
 * creating the schema every time), the stanzas, a clean stop. */
static void
run_daemon (const char *data_dir, const char *text, size_t size)
{
  EaOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  EaDaemon *daemon;
  const char *p, *end;
  guint fed = 0;

  options.account = (char *) ME;
  options.server = (char *) "127.0.0.1:9";
  options.password_file = g_build_filename (base_dir, "password", NULL);
  options.directory = g_build_filename (base_dir, "directory.conf", NULL);
  options.data_dir = (char *) data_dir;
  options.tls = (char *) "none";

  daemon = ea_daemon_new (&options, &error);
  FUZZ_CHECK (daemon != NULL, "ea_daemon_new: %s", error->message);
  g_free (options.password_file);
  g_free (options.directory);
  FUZZ_CHECK (ea_daemon_export (daemon, bus_conn, &error), "export: %s", error->message);
  ea_daemon_start (daemon);
  iterate_until (daemon_ready, daemon, "the directory and the log");

  end = text + size;
  for (p = text; p < end && fed < MAX_STANZAS; p += strlen (p) + 1)
    {
      xmpp_stanza_t *stanza = stanza_from (p);

      if (stanza == NULL)
        continue;
      fed++;
      g_signal_emit_by_name (daemon->xmpp, "stanza", stanza);
      xmpp_stanza_release (stanza);
      drain ();
    }

  /* Every write's callback before the daemon goes: a read is answered
   * only after the writes queued before it (ea-store.c). Store callbacks
   * that outlive the daemon are a bug of their own, but one a daemon whose
   * main loop ends with it never meets. */
  if (daemon->store != NULL)
    {
      gboolean flushed = FALSE;

      ea_store_load_unfinished (daemon->store, NULL, flushed_cb, &flushed);
      iterate_until (is_true, &flushed, "the log to answer");
    }
  ea_daemon_shutdown (daemon);
  ea_daemon_unexport (daemon);
  g_object_add_weak_pointer (G_OBJECT (daemon), (gpointer *) &daemon);
  g_object_unref (daemon);
  iterate_until (is_null, &daemon, "the daemon to finish");
  drain ();
}

static char *template_dir;

/* libFuzzer leaves with _Exit() on some paths, so atexit() is not enough:
 * whatever a dead run left behind goes at the next start. */
static void
remove_stale (const char *parent)
{
  g_autoptr(GDir) dir = g_dir_open (parent, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *proc = NULL;
      g_autofree char *path = NULL;

      if (!g_str_has_prefix (name, "ea-fuzz-dispatch-"))
        continue;
      proc = g_strdup_printf ("/proc/%s", name + strlen ("ea-fuzz-dispatch-"));
      if (g_file_test (proc, G_FILE_TEST_EXISTS))
        continue;
      path = g_build_filename (parent, name, NULL);
      remove_tree (path);
    }
}

static void
remove_base_dir (void)
{
  if (base_dir != NULL)
    remove_tree (base_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *shm = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();
  g_autofree char *password = NULL;

  /* Without a network the daemon rightly warns of what it cannot do
   * (join a room, send): criticals only. */
  fuzz_make_glib_fatal_full (FALSE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GIO_USE_VFS", "local", TRUE);
  fuzz_ctx ();
  remove_stale (shm);
  base_dir = g_strdup_printf ("%s/ea-fuzz-dispatch-%d", shm, (int) getpid ());
  remove_tree (base_dir);
  FUZZ_CHECK (g_mkdir (base_dir, 0700) == 0, "cannot make %s", base_dir);
  write_or_die (base_dir, "directory.conf", directory_text);
  write_or_die (base_dir, "password", "secret");
  password = g_build_filename (base_dir, "password", NULL);
  g_chmod (password, 0600);
  atexit (remove_base_dir);
  start_bus ();

  /* Offline: the daemon never tries the network. */
  template_dir = g_build_filename (base_dir, "template", NULL);
  g_mkdir_with_parents (template_dir, 0700);
  write_or_die (template_dir, "state.ini", "[Presence]\nStatus=offline\nMessage=\n");
  run_daemon (template_dir, "", 0);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;
  g_autofree char *data_dir = NULL;

  if (size > 128 * 1024)
    return 0;
  text = fuzz_cstring (data, size);
  data_dir = g_strdup_printf ("%s/data-%u", base_dir, ++serial);
  copy_files (template_dir, data_dir);
  run_daemon (data_dir, text, size);
  remove_tree (data_dir);
  return 0;
}
