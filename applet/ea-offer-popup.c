/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An offer: who asks, the group, the summary and context, a countdown to
 * expiry, Accept and Decline with a reason. It closes by itself, after
 * saying why, when the offer is withdrawn or expires. GTK 4 cannot keep a
 * window above others on every desktop, so it is a small window presented
 * (and marked urgent by the window manager) when the offer arrives.
 */
#define G_LOG_DOMAIN "ea-offer"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-applet-util.h"
#include "ea-offer-popup.h"

/* How long the pop-up stays to say why it closes. */
#define LINGER_SECONDS 3

static const char *const context_fields[] = { "channel", "customer", "reference", "details" };

struct _EaOfferPopup
{
  AdwWindow            parent_instance;

  EaAppletApplication *application;
  EaExpertAssistOffer *offer;
  GCancellable        *cancellable;
  guint                tick_id;
  guint                close_id;
  gint64               first_left;
  gboolean             accepting;
  gboolean             finished;

  AdwWindowTitle      *window_title;
  GtkLabel            *asker_label;
  GtkLabel            *summary_label;
  GtkListBox          *context_list;
  GtkLevelBar         *countdown_bar;
  GtkLabel            *countdown_label;
  GtkLabel            *status_label;
  GtkEntry            *reason_entry;
  GtkWidget           *buttons;
  GtkButton           *accept_button;
  GtkButton           *decline_button;
};

G_DEFINE_FINAL_TYPE (EaOfferPopup, ea_offer_popup, ADW_TYPE_WINDOW)

static const char *
field_label (const char *field)
{
  if (g_str_equal (field, "channel"))
    return _("Channel");
  if (g_str_equal (field, "customer"))
    return _("Customer");
  if (g_str_equal (field, "reference"))
    return _("Reference");
  if (g_str_equal (field, "details"))
    return _("Details");
  return field;
}

static gboolean
close_cb (gpointer user_data)
{
  EaOfferPopup *self = user_data;

  self->close_id = 0;
  gtk_window_destroy (GTK_WINDOW (self));
  return G_SOURCE_REMOVE;
}

static void
finish (EaOfferPopup *self, const char *message, guint linger)
{
  self->finished = TRUE;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  gtk_widget_set_sensitive (self->buttons, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->reason_entry), FALSE);
  gtk_level_bar_set_value (self->countdown_bar, 0);
  if (message != NULL)
    {
      gtk_label_set_text (self->status_label, message);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
    }
  g_clear_handle_id (&self->close_id, g_source_remove);
  self->close_id = g_timeout_add_seconds (linger, close_cb, self);
}

static gboolean
tick_cb (gpointer user_data)
{
  EaOfferPopup *self = user_data;
  gint64 expires = ea_expert_assist_offer_get_expires (self->offer);
  gint64 left = (expires - g_get_real_time ()) / G_USEC_PER_SEC;
  g_autofree char *text = NULL;

  if (expires <= 0)
    {
      gtk_label_set_text (self->countdown_label, "");
      return G_SOURCE_CONTINUE;
    }
  if (left < 0)
    left = 0;
  if (self->first_left <= 0)
    self->first_left = MAX (left, 1);
  /* Translators: minutes and seconds until the offer expires */
  text = g_strdup_printf (_("%d:%02d left"), (int) (left / 60), (int) (left % 60));
  gtk_label_set_text (self->countdown_label, text);
  gtk_level_bar_set_value (self->countdown_bar, MIN (1.0, (double) left / self->first_left));
  return G_SOURCE_CONTINUE;
}

void
ea_offer_popup_refresh (EaOfferPopup *self)
{
  EaExpertAssistOffer *offer = self->offer;
  EaDaemonClient *client = ea_applet_application_get_client (self->application);
  const char *from = ea_expert_assist_offer_get_from_name (offer);
  const char *group_id = ea_expert_assist_offer_get_group (offer);
  const EaGroupInfo *group = ea_daemon_client_find_group (client, group_id);
  const char *const *masked = ea_expert_assist_offer_get_masked (offer);
  GVariant *query = ea_expert_assist_offer_get_query (offer);
  g_autofree char *asker = NULL;
  g_autofree char *title = NULL;

  if (from == NULL || *from == '\0')
    from = ea_expert_assist_offer_get_from (offer);
  /* Translators: "Carol asks Billing for help" */
  asker = g_strdup_printf (_("%s asks %s for help"), from,
                           group ? group->name : (group_id && *group_id ? group_id : _("you")));
  gtk_label_set_text (self->asker_label, asker);
  /* Translators: the pop-up's title */
  title = g_strdup_printf (_("Request from %s"), from);
  gtk_window_set_title (GTK_WINDOW (self), title);
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, group ? group->name : group_id);
  gtk_label_set_text (self->summary_label, ea_expert_assist_offer_get_summary (offer));

  ea_list_box_clear (self->context_list);
  for (guint i = 0; i < G_N_ELEMENTS (context_fields); i++)
    {
      const char *field = context_fields[i];
      g_autofree char *value = ea_lookup_string (query, field);
      GtkWidget *row;

      if (masked && g_strv_contains (masked, field))
        {
          g_free (value);
          value = g_strdup (_("(shown on accept)"));
        }
      else if (value != NULL && g_str_equal (field, "channel"))
        {
          char *label = g_strdup (ea_channel_label (value));
          g_free (value);
          value = label;
        }
      if (value == NULL || *value == '\0')
        continue;
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), field_label (field));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), value);
      gtk_widget_add_css_class (row, "property");
      gtk_list_box_append (self->context_list, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->context_list),
                          gtk_widget_get_first_child (GTK_WIDGET (self->context_list)) != NULL);

  if (g_strcmp0 (ea_expert_assist_offer_get_state (offer), "pending") == 0 && self->finished)
    {
      /* Offered again (a new round): back to life. */
      self->finished = FALSE;
      self->first_left = 0;
      g_clear_handle_id (&self->close_id, g_source_remove);
      gtk_widget_set_sensitive (self->buttons, TRUE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->reason_entry), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
    }
  if (self->tick_id == 0 && !self->finished)
    self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
  tick_cb (self);
}

static void
state_cb (EaOfferPopup *self)
{
  const char *state = ea_expert_assist_offer_get_state (self->offer);
  const char *reason = ea_expert_assist_offer_get_reason (self->offer);
  const char *taken_by = ea_expert_assist_offer_get_taken_by (self->offer);
  EaDaemonClient *client = ea_applet_application_get_client (self->application);
  g_autofree char *message = NULL;

  if (g_strcmp0 (state, "pending") == 0)
    {
      ea_offer_popup_refresh (self);
      return;
    }
  if (self->accepting)
    return; /* the Accept reply says what happened */

  if (g_strcmp0 (state, "withdrawn") == 0 && g_strcmp0 (reason, "taken") == 0 &&
      taken_by != NULL && *taken_by != '\0')
    /* Translators: the offer is gone, someone else took it */
    message = g_strdup_printf (_("Taken by %s"), ea_daemon_client_expert_name (client, taken_by));
  else if (g_strcmp0 (state, "withdrawn") == 0 && g_strcmp0 (reason, "cancelled") == 0)
    message = g_strdup (_("Cancelled by the agent"));
  else if (g_strcmp0 (state, "withdrawn") == 0 && g_strcmp0 (reason, "taken") == 0)
    message = g_strdup (_("Taken by another expert"));
  else if (g_strcmp0 (state, "expired") == 0 || g_strcmp0 (reason, "expired") == 0)
    message = g_strdup (_("The offer has expired"));
  else if (g_strcmp0 (state, "declined") == 0)
    message = g_strdup (_("Declined"));
  else if (g_strcmp0 (state, "accepted") == 0)
    message = g_strdup (_("Accepted"));
  else
    message = g_strdup (ea_offer_reason_label (reason));
  finish (self, message, LINGER_SECONDS);
}

static void
accept_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaOfferPopup) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *session = NULL;

  self->accepting = FALSE;
  if (!ea_expert_assist_offer_call_accept_finish (EA_EXPERT_ASSIST_OFFER (source), &session,
                                                  result, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      g_message ("Accept failed: %s", error->message);
      finish (self, text, LINGER_SECONDS + 2);
      return;
    }
  ea_applet_application_open_chat (self->application, session);
  finish (self, _("Connected"), 1);
}

void
ea_offer_popup_accept (EaOfferPopup *self)
{
  if (self->accepting || self->finished)
    return;
  self->accepting = TRUE;
  gtk_widget_set_sensitive (self->buttons, FALSE);
  gtk_label_set_text (self->status_label, _("Accepting…"));
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
  ea_expert_assist_offer_call_accept (self->offer, self->cancellable, accept_done_cb,
                                      g_object_ref (self));
}

static void
accept_cb (EaOfferPopup *self)
{
  ea_offer_popup_accept (self);
}

static void
decline_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaOfferPopup) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ea_expert_assist_offer_call_decline_finish (EA_EXPERT_ASSIST_OFFER (source), result,
                                                   &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      finish (self, text, LINGER_SECONDS);
      return;
    }
  finish (self, _("Declined"), 1);
}

static void
decline_cb (EaOfferPopup *self)
{
  g_autofree char *reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reason_entry))));

  if (self->accepting || self->finished)
    return;
  gtk_widget_set_sensitive (self->buttons, FALSE);
  ea_expert_assist_offer_call_decline (self->offer, *reason ? reason : "busy",
                                       self->cancellable, decline_done_cb, g_object_ref (self));
}

static void
ea_offer_popup_dispose (GObject *object)
{
  EaOfferPopup *self = EA_OFFER_POPUP (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->close_id, g_source_remove);
  if (self->offer)
    g_signal_handlers_disconnect_by_data (self->offer, self);
  g_clear_object (&self->offer);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), EA_TYPE_OFFER_POPUP);

  G_OBJECT_CLASS (ea_offer_popup_parent_class)->dispose (object);
}

static void
ea_offer_popup_class_init (EaOfferPopupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ea_offer_popup_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/ExpertAssist/Applet/ea-offer-popup.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, EaOfferPopup, name)
  CHILD (window_title);
  CHILD (asker_label);
  CHILD (summary_label);
  CHILD (context_list);
  CHILD (countdown_bar);
  CHILD (countdown_label);
  CHILD (status_label);
  CHILD (reason_entry);
  CHILD (buttons);
  CHILD (accept_button);
  CHILD (decline_button);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, accept_cb);
  gtk_widget_class_bind_template_callback (widget_class, decline_cb);
}

static void
ea_offer_popup_init (EaOfferPopup *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ea_offer_popup_new (EaAppletApplication *application, EaExpertAssistOffer *offer)
{
  EaOfferPopup *self = g_object_new (EA_TYPE_OFFER_POPUP, "application", application, NULL);
  g_autofree char *name = g_strconcat ("offer-", ea_expert_assist_offer_get_id (offer), NULL);

  self->application = application;
  self->offer = g_object_ref (offer);
  gtk_widget_set_name (GTK_WIDGET (self), name);
  g_signal_connect_swapped (offer, "notify::state", G_CALLBACK (state_cb), self);
  g_signal_connect_swapped (offer, "notify::query", G_CALLBACK (ea_offer_popup_refresh), self);
  g_signal_connect_swapped (offer, "notify::expires", G_CALLBACK (ea_offer_popup_refresh), self);
  ea_offer_popup_refresh (self);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->accept_button));
  return GTK_WIDGET (self);
}
