/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One chat session: the request summary at the top, the participants with
 * their presence, the messages with time, sender and delivery ticks, who
 * is typing. Enter sends, Shift+Enter starts a new line, Escape closes the
 * window (the session stays open; End Chat closes it for everyone).
 * Also shows a past session from the log, read-only (GetTranscript).
 */
#define G_LOG_DOMAIN "ea-chat"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-util.h"
#include "ea-applet-util.h"
#include "ea-chat-window.h"

#define TYPING_PAUSE_SECONDS 5

struct _EaChatWindow
{
  AdwApplicationWindow   parent_instance;
  gboolean               disposed;

  EaAppletApplication   *application;
  EaDaemonClient        *client;
  EaExpertAssistSession *session;        /* NULL for a transcript */
  char                  *session_id;
  GCancellable          *cancellable;
  GHashTable            *ticks;          /* message id → GtkLabel (own messages) */
  GHashTable            *typing;         /* address → NULL, who is typing now */
  guint                  n_messages;
  gboolean               i_am_typing;
  guint                  typing_timeout;
  gboolean               loaded;

  AdwToastOverlay       *toasts;
  AdwWindowTitle        *window_title;
  GtkButton             *end_button;
  GtkLabel              *summary_label;
  GtkFlowBox            *participants_box;
  GtkScrolledWindow     *scroller;
  GtkListBox            *message_list;
  GtkLabel              *typing_label;
  GtkWidget             *input_box;
  GtkTextView           *message_view;
  GtkButton             *send_button;
};

G_DEFINE_FINAL_TYPE (EaChatWindow, ea_chat_window, ADW_TYPE_APPLICATION_WINDOW)

static void
toast (EaChatWindow *self, const char *text)
{
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (text));
}

static const char *
own_address (EaChatWindow *self)
{
  return ea_daemon_client_get_account (self->client);
}

static const char *
display_name (EaChatWindow *self, const char *address)
{
  if (g_strcmp0 (address, own_address (self)) == 0)
    return _("You");
  return ea_daemon_client_expert_name (self->client, address);
}

/* Messages */

static gboolean
scroll_to_end_cb (gpointer user_data)
{
  EaChatWindow *self = user_data;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
set_tick (GtkLabel *tick, gboolean delivered)
{
  gtk_label_set_text (tick, delivered ? "✓✓" : "✓");
  gtk_accessible_update_property (GTK_ACCESSIBLE (tick), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  delivered ? _("Delivered") : _("Sent"), -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (tick), delivered ? _("Delivered") : _("Sent"));
}

static void
add_message (EaChatWindow *self, const char *id, gint64 time, const char *sender,
             const char *text)
{
  gboolean own = g_strcmp0 (sender, own_address (self)) == 0;
  GtkWidget *row, *box, *head, *body, *line;
  g_autofree char *when = ea_format_time (time);
  g_autofree char *header = NULL;
  g_autofree char *name = NULL;

  if (id != NULL && *id != '\0')
    {
      if (g_hash_table_contains (self->ticks, id))
        return; /* our own message, already shown */
      if (!own)
        g_hash_table_add (self->ticks, g_strdup (id));
    }

  header = g_markup_printf_escaped ("<b>%s</b>  <small>%s</small>",
                                    display_name (self, sender), when);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_halign (box, own ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_widget_add_css_class (box, "ea-bubble");
  gtk_widget_add_css_class (box, own ? "ea-own" : "ea-other");
  head = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (head), header);
  gtk_label_set_xalign (GTK_LABEL (head), 0);
  gtk_widget_add_css_class (head, "dim-label");
  body = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (body), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (body), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (body), TRUE);
  gtk_label_set_xalign (GTK_LABEL (body), 0);
  gtk_label_set_max_width_chars (GTK_LABEL (body), 48);
  line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (line), head);
  gtk_box_append (GTK_BOX (box), line);
  gtk_box_append (GTK_BOX (box), body);
  if (own && self->session != NULL)
    {
      GtkWidget *tick = gtk_label_new (NULL);

      gtk_widget_add_css_class (tick, "ea-tick");
      set_tick (GTK_LABEL (tick), FALSE);
      gtk_widget_set_halign (tick, GTK_ALIGN_END);
      gtk_widget_set_hexpand (tick, TRUE);
      gtk_box_append (GTK_BOX (line), tick);
      if (id != NULL && *id != '\0')
        g_hash_table_insert (self->ticks, g_strdup (id), tick);
    }

  row = gtk_list_box_row_new ();
  name = g_strdup_printf ("message-%u", self->n_messages++);
  gtk_widget_set_name (row, name);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_append (self->message_list, row);
  g_idle_add (scroll_to_end_cb, g_object_ref (self));
}

static void
add_messages (EaChatWindow *self, GVariant *messages)
{
  GVariantIter iter;
  const char *id, *sender, *text;
  gint64 time;

  g_variant_iter_init (&iter, messages);
  while (g_variant_iter_next (&iter, "(&sx&s&s)", &id, &time, &sender, &text))
    add_message (self, id, time, sender, text);
}

static void
message_received_cb (EaChatWindow *self, const char *id, gint64 time, const char *sender,
                     const char *text)
{
  g_hash_table_remove (self->typing, sender);
  add_message (self, id, time, sender, text);
}

static void
message_delivered_cb (EaChatWindow *self, const char *id, gint64 time)
{
  GtkLabel *tick = g_hash_table_lookup (self->ticks, id);

  if (tick != NULL)
    set_tick (tick, TRUE);
}

static void
update_typing (EaChatWindow *self)
{
  GList *who = g_hash_table_get_keys (self->typing);
  g_autofree char *text = NULL;
  guint n = g_list_length (who);

  if (n == 1)
    /* Translators: someone is writing a message */
    text = g_strdup_printf (_("%s is typing…"), display_name (self, who->data));
  else if (n > 1)
    text = g_strdup (_("Several people are typing…"));
  gtk_label_set_text (self->typing_label, text ? text : "");
  g_list_free (who);
}

static void
participant_typing_cb (EaChatWindow *self, const char *participant, gboolean typing)
{
  if (g_strcmp0 (participant, own_address (self)) == 0)
    return;
  if (typing)
    g_hash_table_add (self->typing, g_strdup (participant));
  else
    g_hash_table_remove (self->typing, participant);
  update_typing (self);
}

/* Participants and header */

static void
update_participants (EaChatWindow *self, const char *const *participants)
{
  GtkWidget *child;
  g_autoptr(GPtrArray) others = g_ptr_array_new ();

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->participants_box))) != NULL)
    gtk_flow_box_remove (self->participants_box, child);

  for (guint i = 0; participants && participants[i]; i++)
    {
      const char *address = participants[i];
      gboolean own = g_strcmp0 (address, own_address (self)) == 0;
      const char *status = own ? ea_daemon_client_get_status (self->client)
                               : ea_daemon_client_expert_status (self->client, address);
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
      GtkWidget *dot = gtk_label_new ("●");
      GtkWidget *label = gtk_label_new (display_name (self, address));
      g_autofree char *css = g_strconcat ("ea-presence-", status ? status : "unknown", NULL);
      g_autofree char *description = g_strdup_printf ("%s: %s", display_name (self, address),
                                                      status ? ea_status_label (status)
                                                             : _("presence unknown"));

      gtk_widget_add_css_class (dot, "ea-presence");
      gtk_widget_add_css_class (dot, css);
      gtk_widget_set_tooltip_text (box, description);
      gtk_accessible_update_property (GTK_ACCESSIBLE (dot), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      status ? ea_status_label (status) : _("presence unknown"),
                                      -1);
      gtk_box_append (GTK_BOX (box), dot);
      gtk_box_append (GTK_BOX (box), label);
      gtk_flow_box_append (self->participants_box, box);
      if (!own)
        g_ptr_array_add (others, (gpointer) display_name (self, address));
    }

  if (others->len > 0)
    {
      g_autofree char *names = NULL;
      g_autofree char *title = NULL;

      g_ptr_array_add (others, NULL);
      names = g_strjoinv (", ", (char **) others->pdata);
      title = self->session != NULL ? g_strdup_printf (_("Chat with %s"), names)
                                    : g_strdup_printf (_("Past chat with %s"), names);
      adw_window_title_set_title (self->window_title, title);
      gtk_window_set_title (GTK_WINDOW (self), title);
    }
}

static void
refresh_participants (EaChatWindow *self)
{
  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  if (self->session != NULL)
    update_participants (self, ea_expert_assist_session_get_participants (self->session));
}

static void
update_state (EaChatWindow *self)
{
  gboolean open;

  if (self->session == NULL)
    return;
  open = g_strcmp0 (ea_expert_assist_session_get_state (self->session), "open") == 0;
  gtk_widget_set_sensitive (self->input_box, open);
  gtk_widget_set_visible (GTK_WIDGET (self->end_button), open);
  if (!open)
    {
      g_autofree char *ended = ea_format_time (ea_expert_assist_session_get_ended (self->session));
      g_autofree char *text = g_strdup_printf (_("The chat ended at %s"), ended);

      adw_window_title_set_subtitle (self->window_title, text);
      g_hash_table_remove_all (self->typing);
      update_typing (self);
    }
  else
    {
      const char *role = ea_expert_assist_session_get_role (self->session);

      adw_window_title_set_subtitle (self->window_title,
                                     g_strcmp0 (role, "expert") == 0
                                     ? _("You are helping as the expert")
                                     : _("You asked for help"));
    }
}

static void
find_summary (EaChatWindow *self)
{
  const char *request_id = ea_expert_assist_session_get_request (self->session);
  g_autofree char *request_path = g_strconcat (EA_ROOT_PATH "/request/", request_id, NULL);
  g_autofree char *offer_path = g_strconcat (EA_ROOT_PATH "/offer/", request_id, NULL);
  g_autoptr(EaExpertAssistRequest) request = NULL;
  g_autoptr(EaExpertAssistOffer) offer = NULL;

  if (request_id == NULL || !ea_id_is_valid (request_id))
    return;
  request = ea_daemon_client_get_request (self->client, request_path);
  if (request != NULL)
    {
      gtk_label_set_text (self->summary_label, ea_expert_assist_request_get_summary (request));
      return;
    }
  offer = ea_daemon_client_get_offer (self->client, offer_path);
  if (offer != NULL)
    gtk_label_set_text (self->summary_label, ea_expert_assist_offer_get_summary (offer));
}

static void
messages_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaChatWindow) self = user_data;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;

  if (!ea_expert_assist_session_call_get_messages_finish (EA_EXPERT_ASSIST_SESSION (source),
                                                          &messages, result, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      toast (self, text);
      return;
    }
  add_messages (self, messages);
}

static void
transcript_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaChatWindow) self = user_data;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **peers = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *started = NULL;

  if (!ea_expert_assist_call_get_transcript_finish (EA_EXPERT_ASSIST (source), &info,
                                                    &messages, result, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      gtk_label_set_text (self->summary_label, text);
      return;
    }
  summary = ea_lookup_string (info, "summary");
  gtk_label_set_text (self->summary_label, summary ? summary : "");
  g_variant_lookup (info, "peers", "^a&s", &peers);
  update_participants (self, peers);
  started = ea_format_date_time (ea_lookup_int64 (info, "started"));
  adw_window_title_set_subtitle (self->window_title, started);
  add_messages (self, messages);
}

/* Sending */

static void
set_typing (EaChatWindow *self, gboolean typing)
{
  if (self->session == NULL || self->i_am_typing == typing)
    return;
  self->i_am_typing = typing;
  ea_expert_assist_session_call_set_typing (self->session, typing, NULL, NULL, NULL);
}

static gboolean
typing_timeout_cb (gpointer user_data)
{
  EaChatWindow *self = user_data;

  self->typing_timeout = 0;
  set_typing (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
buffer_changed_cb (EaChatWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->message_view);

  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  g_clear_handle_id (&self->typing_timeout, g_source_remove);
  if (gtk_text_buffer_get_char_count (buffer) == 0)
    {
      set_typing (self, FALSE);
      return;
    }
  set_typing (self, TRUE);
  self->typing_timeout = g_timeout_add_seconds (TYPING_PAUSE_SECONDS, typing_timeout_cb, self);
}

typedef struct {
  EaChatWindow *self;
  char         *text;
} SendData;

static void
send_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SendData *data = user_data;
  EaChatWindow *self = data->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  if (!ea_expert_assist_session_call_send_finish (EA_EXPERT_ASSIST_SESSION (source), &id,
                                                  result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = ea_describe_error (error);
          GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->message_view);

          toast (self, text);
          /* Give the text back rather than lose it. */
          if (gtk_text_buffer_get_char_count (buffer) == 0)
            gtk_text_buffer_set_text (buffer, data->text, -1);
        }
    }
  else
    {
      add_message (self, id, g_get_real_time (), own_address (self), data->text);
    }
  g_object_unref (data->self);
  g_free (data->text);
  g_free (data);
}

static void
send_cb (EaChatWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->message_view);
  GtkTextIter start, end;
  g_autofree char *text = NULL;
  SendData *data;

  if (self->session == NULL)
    return;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_strstrip (text);
  if (*text == '\0')
    return;
  gtk_text_buffer_set_text (buffer, "", -1);
  g_clear_handle_id (&self->typing_timeout, g_source_remove);
  self->i_am_typing = FALSE; /* sending a message ends the composing state */

  data = g_new0 (SendData, 1);
  data->self = g_object_ref (self);
  data->text = g_steal_pointer (&text);
  ea_expert_assist_session_call_send (self->session, data->text, self->cancellable,
                                      send_done_cb, data);
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType state, EaChatWindow *self)
{
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) &&
      (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) == 0)
    {
      send_cb (self);
      return TRUE;
    }
  return FALSE; /* Shift+Enter: the text view inserts a new line */
}

static void
close_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaChatWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ea_expert_assist_session_call_close_finish (EA_EXPERT_ASSIST_SESSION (source), result,
                                                   &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = ea_describe_error (error);
          toast (self, text);
        }
      return;
    }
  gtk_window_close (GTK_WINDOW (self));
}

static void
end_cb (EaChatWindow *self)
{
  if (self->session != NULL)
    ea_expert_assist_session_call_close (self->session, self->cancellable, close_done_cb,
                                         g_object_ref (self));
}

/* GObject */

static void
ea_chat_window_dispose (GObject *object)
{
  EaChatWindow *self = EA_CHAT_WINDOW (object);

  self->disposed = TRUE;
  gtk_widget_dispose_template (GTK_WIDGET (self), EA_TYPE_CHAT_WINDOW);
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->typing_timeout, g_source_remove);
  if (self->session != NULL)
    {
      set_typing (self, FALSE);
      g_signal_handlers_disconnect_by_data (self->session, self);
    }
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (ea_chat_window_parent_class)->dispose (object);
}

static void
ea_chat_window_finalize (GObject *object)
{
  EaChatWindow *self = EA_CHAT_WINDOW (object);

  g_clear_object (&self->client);
  g_free (self->session_id);
  g_hash_table_unref (self->ticks);
  g_hash_table_unref (self->typing);

  G_OBJECT_CLASS (ea_chat_window_parent_class)->finalize (object);
}

static void
ea_chat_window_class_init (EaChatWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ea_chat_window_dispose;
  object_class->finalize = ea_chat_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/ExpertAssist/Applet/ea-chat-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, EaChatWindow, name)
  CHILD (toasts);
  CHILD (window_title);
  CHILD (end_button);
  CHILD (summary_label);
  CHILD (participants_box);
  CHILD (scroller);
  CHILD (message_list);
  CHILD (typing_label);
  CHILD (input_box);
  CHILD (message_view);
  CHILD (send_button);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, send_cb);
  gtk_widget_class_bind_template_callback (widget_class, end_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ea_chat_window_init (EaChatWindow *self)
{
  GtkEventController *keys;

  self->cancellable = g_cancellable_new ();
  self->ticks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->typing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->message_view), keys);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->message_view), "changed",
                            G_CALLBACK (buffer_changed_cb), self);
}

static EaChatWindow *
chat_window_new (EaAppletApplication *application, const char *session_id)
{
  EaChatWindow *self = g_object_new (EA_TYPE_CHAT_WINDOW, "application", application, NULL);

  self->application = application;
  self->client = g_object_ref (ea_applet_application_get_client (application));
  self->session_id = g_strdup (session_id);
  g_signal_connect_swapped (self->client, "expert-changed",
                            G_CALLBACK (refresh_participants), self);
  return self;
}

GtkWidget *
ea_chat_window_new (EaAppletApplication *application, EaExpertAssistSession *session)
{
  EaChatWindow *self = chat_window_new (application, ea_expert_assist_session_get_id (session));
  g_autofree char *name = g_strconcat ("chat-", self->session_id, NULL);

  gtk_widget_set_name (GTK_WIDGET (self), name);
  self->session = g_object_ref (session);
  g_signal_connect_swapped (session, "message-received", G_CALLBACK (message_received_cb), self);
  g_signal_connect_swapped (session, "message-delivered", G_CALLBACK (message_delivered_cb),
                            self);
  g_signal_connect_swapped (session, "participant-typing", G_CALLBACK (participant_typing_cb),
                            self);
  g_signal_connect_swapped (session, "notify::state", G_CALLBACK (update_state), self);
  g_signal_connect_swapped (session, "notify::participants", G_CALLBACK (refresh_participants),
                            self);
  refresh_participants (self);
  update_state (self);
  find_summary (self);
  ea_expert_assist_session_call_get_messages (session, 0, self->cancellable, messages_cb,
                                              g_object_ref (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->message_view));
  return GTK_WIDGET (self);
}

GtkWidget *
ea_chat_window_new_transcript (EaAppletApplication *application, const char *session_id)
{
  EaChatWindow *self = chat_window_new (application, session_id);
  EaExpertAssist *root = ea_daemon_client_get_root (self->client);
  g_autofree char *name = g_strconcat ("transcript-", session_id, NULL);

  gtk_widget_set_name (GTK_WIDGET (self), name);
  gtk_widget_set_visible (self->input_box, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->end_button), FALSE);
  gtk_window_set_title (GTK_WINDOW (self), _("Past Chat"));
  adw_window_title_set_title (self->window_title, _("Past Chat"));
  if (root != NULL)
    ea_expert_assist_call_get_transcript (root, session_id, self->cancellable, transcript_cb,
                                          g_object_ref (self));
  return GTK_WIDGET (self);
}
