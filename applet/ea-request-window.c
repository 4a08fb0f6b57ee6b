/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Ask for help: the groups with live counts (from the daemon client, which
 * follows ExpertChanged and GroupsChanged), the question and the customer
 * context, preferences from GetPreferenceOptions, the mode, similar past
 * answers (FindSimilar) before sending; then the request's progress,
 * followed live through its Request object, until the chat opens.
 */
#define G_LOG_DOMAIN "ea-request"

#include "config.h"

#include <glib/gi18n.h>

#include "ea-applet-util.h"
#include "ea-request-window.h"

static const char *const channels[] = { "", "phone", "email", "im", "webchat" };
static const char *const modes[] = { "", "parallel", "serial", "progressive", "room" };

struct _EaRequestWindow
{
  AdwApplicationWindow   parent_instance;
  gboolean               disposed;

  EaAppletApplication   *application;
  EaDaemonClient        *client;
  GCancellable          *cancellable;
  char                  *selected_group;   /* "" = any group, by preferences */
  GPtrArray             *languages;        /* as shown in language_row, [0] = any */
  GPtrArray             *experts;          /* as shown in expert_row, [0] = anyone */
  GArray                *levels;           /* guint, [0] = any */
  GPtrArray             *similar_shown;
  guint                  similar_timeout;
  EaExpertAssistRequest *request;
  char                  *request_path;
  gboolean               sending;

  AdwToastOverlay       *toasts;
  AdwWindowTitle        *window_title;
  GtkLabel              *problem_label;
  GtkStack              *stack;
  GtkListBox            *group_list;
  AdwEntryRow           *summary_row;
  AdwComboRow           *channel_row;
  AdwEntryRow           *customer_row;
  AdwEntryRow           *reference_row;
  AdwEntryRow           *details_row;
  GtkLabel              *similar_status;
  GtkListBox            *similar_list;
  GtkFlowBox            *skills_box;
  AdwActionRow          *skills_row;
  AdwComboRow           *language_row;
  AdwComboRow           *level_row;
  AdwComboRow           *expert_row;
  AdwComboRow           *mode_row;
  GtkSpinButton         *offer_to_spin;
  GtkSpinButton         *experts_spin;
  GtkButton             *send_button;
  GtkSpinner            *progress_spinner;
  GtkLabel              *progress_title;
  GtkLabel              *progress_summary;
  AdwActionRow          *offered_row;
  AdwActionRow          *queue_row;
  AdwActionRow          *declined_row;
  AdwActionRow          *expired_row;
  AdwActionRow          *accepted_row;
  GtkButton             *cancel_button;
  GtkButton             *chat_button;
  GtkButton             *new_button;
};

G_DEFINE_FINAL_TYPE (EaRequestWindow, ea_request_window, ADW_TYPE_APPLICATION_WINDOW)

static void
toast (EaRequestWindow *self, const char *text)
{
  AdwToast *t = adw_toast_new (text);

  adw_toast_set_timeout (t, 8);
  adw_toast_overlay_add_toast (self->toasts, t);
}

static void
set_string_model (AdwComboRow *row, GPtrArray *labels)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);

  for (guint i = 0; i < labels->len; i++)
    gtk_string_list_append (list, g_ptr_array_index (labels, i));
  adw_combo_row_set_model (row, G_LIST_MODEL (list));
}

static void load_options (EaRequestWindow *self);

/* Groups */

static GtkWidget *
make_group_row (const char *id, const char *title, const char *subtitle, gboolean any)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;
  g_autofree char *name = g_strconcat ("group-", *id ? id : "any", NULL);

  gtk_widget_set_name (row, name);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  icon = gtk_image_new_from_icon_name (any ? "system-search-symbolic"
                                           : "system-users-symbolic");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  g_object_set_data_full (G_OBJECT (row), "ea-group", g_strdup (id), g_free);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  return row;
}

static void
groups_changed_cb (EaRequestWindow *self)
{
  GPtrArray *groups;
  const char *error;
  g_autofree char *keep = g_strdup (self->selected_group);
  GtkListBoxRow *select = NULL;
  GtkWidget *row;

  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  groups = ea_daemon_client_get_groups (self->client);
  error = ea_daemon_client_get_groups_error (self->client);
  ea_list_box_clear (self->group_list);
  for (guint i = 0; i < groups->len; i++)
    {
      const EaGroupInfo *group = g_ptr_array_index (groups, i);
      /* Translators: experts who can take a request now, of all experts */
      g_autofree char *counts = g_strdup_printf (_("%u of %u available"), group->available,
                                                 group->total);
      g_autofree char *subtitle = group->description && *group->description
                                  ? g_strdup_printf ("%s · %s", counts, group->description)
                                  : g_strdup (counts);

      row = make_group_row (group->id, group->name, subtitle, FALSE);
      gtk_list_box_append (self->group_list, row);
      if (g_strcmp0 (keep, group->id) == 0)
        select = GTK_LIST_BOX_ROW (row);
    }
  row = make_group_row ("", _("Any group"),
                        error ? error : _("Ask by the preferences below, across all groups"),
                        TRUE);
  gtk_list_box_append (self->group_list, row);
  if (select == NULL && keep != NULL && *keep == '\0')
    select = GTK_LIST_BOX_ROW (row);
  if (select == NULL && groups->len > 0 && keep == NULL)
    select = gtk_list_box_get_row_at_index (self->group_list, 0);
  if (select != NULL)
    gtk_list_box_select_row (self->group_list, select);

  /* The experts arrive with the first ListExperts after the options. */
  if (self->experts->len <= 1 && ea_daemon_client_get_root (self->client) != NULL)
    {
      g_autoptr(GPtrArray) known = ea_daemon_client_list_experts (self->client);

      if (known->len > 0)
        load_options (self);
    }
}

static void
group_selected_cb (EaRequestWindow *self, GtkListBoxRow *row)
{
  if (row == NULL)
    return;
  g_free (self->selected_group);
  self->selected_group = g_strdup (g_object_get_data (G_OBJECT (row), "ea-group"));
}

void
ea_request_window_select_group (EaRequestWindow *self, const char *group)
{
  g_return_if_fail (EA_IS_REQUEST_WINDOW (self));

  g_free (self->selected_group);
  self->selected_group = g_strdup (group);
  groups_changed_cb (self);
  if (g_str_equal (gtk_stack_get_visible_child_name (self->stack), "form"))
    gtk_widget_grab_focus (GTK_WIDGET (self->summary_row));
}

/* Preference options */

static void
options_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaRequestWindow) self = user_data;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **skills = NULL;
  g_autofree const char **languages = NULL;
  g_autoptr(GVariant) levels = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GPtrArray) experts = NULL;
  GtkWidget *child;

  if (!ea_expert_assist_call_get_preference_options_finish (EA_EXPERT_ASSIST (source),
                                                            &options, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = ea_describe_error (error);
          toast (self, text);
        }
      return;
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->skills_box))) != NULL)
    gtk_flow_box_remove (self->skills_box, child);
  g_variant_lookup (options, "skills", "^a&s", &skills);
  for (guint i = 0; skills && skills[i]; i++)
    {
      GtkWidget *toggle = gtk_toggle_button_new_with_label (skills[i]);
      g_autofree char *name = g_strconcat ("skill-", skills[i], NULL);

      gtk_widget_set_name (toggle, name);
      gtk_widget_add_css_class (toggle, "ea-chip");
      g_object_set_data_full (G_OBJECT (toggle), "ea-skill", g_strdup (skills[i]), g_free);
      gtk_flow_box_append (self->skills_box, toggle);
    }
  adw_action_row_set_subtitle (self->skills_row,
                               skills && skills[0] ? "" : _("No skills are listed in the directory"));

  g_ptr_array_set_size (self->languages, 0);
  g_ptr_array_add (self->languages, g_strdup (""));
  labels = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (labels, g_strdup (_("Any language")));
  g_variant_lookup (options, "languages", "^a&s", &languages);
  for (guint i = 0; languages && languages[i]; i++)
    {
      g_ptr_array_add (self->languages, g_strdup (languages[i]));
      g_ptr_array_add (labels, g_strdup (languages[i]));
    }
  set_string_model (self->language_row, labels);

  g_array_set_size (self->levels, 0);
  g_ptr_array_set_size (labels, 0);
  {
    guint any = 0;
    g_array_append_val (self->levels, any);
  }
  g_ptr_array_add (labels, g_strdup (_("Any level")));
  levels = g_variant_lookup_value (options, "levels", G_VARIANT_TYPE ("au"));
  if (levels != NULL)
    {
      gsize n;
      const guint32 *values = g_variant_get_fixed_array (levels, &n, sizeof (guint32));

      for (gsize i = 0; i < n; i++)
        {
          guint level = values[i];

          g_array_append_val (self->levels, level);
          /* Translators: an expert level, 1 to 5, higher knows more */
          g_ptr_array_add (labels, g_strdup_printf (_("Level %u or higher"), level));
        }
    }
  set_string_model (self->level_row, labels);

  /* Every expert open to this user, from ListExperts via the client. */
  g_ptr_array_set_size (self->experts, 0);
  g_ptr_array_set_size (labels, 0);
  g_ptr_array_add (self->experts, g_strdup (""));
  g_ptr_array_add (labels, g_strdup (_("Anyone")));
  experts = ea_daemon_client_list_experts (self->client);
  for (guint i = 0; i < experts->len; i++)
    {
      const char *address = g_ptr_array_index (experts, i);
      const char *name = ea_daemon_client_expert_name (self->client, address);

      g_ptr_array_add (self->experts, g_strdup (address));
      g_ptr_array_add (labels, g_str_equal (name, address) ? g_strdup (address)
                                                           : g_strdup_printf ("%s (%s)", name,
                                                                              address));
    }
  set_string_model (self->expert_row, labels);
}

static void
load_options (EaRequestWindow *self)
{
  EaExpertAssist *root = ea_daemon_client_get_root (self->client);

  if (root != NULL)
    ea_expert_assist_call_get_preference_options (root, self->cancellable, options_cb,
                                                  g_object_ref (self));
}

static void
state_changed_cb (EaRequestWindow *self)
{
  g_autofree char *problem = NULL;
  const char *account;

  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  problem = ea_daemon_client_dup_problem (self->client);
  account = ea_daemon_client_get_account (self->client);
  gtk_label_set_text (self->problem_label, problem ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->problem_label), problem != NULL);
  adw_window_title_set_subtitle (self->window_title, account);
}

static void
client_ready_cb (EaRequestWindow *self)
{
  load_options (self);
  groups_changed_cb (self);
}

/* Similar past answers */

static void
similar_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaRequestWindow) self = user_data;
  g_autoptr(GVariant) rows = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *row;

  if (!ea_expert_assist_call_find_similar_finish (EA_EXPERT_ASSIST (source), &rows, result,
                                                  &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      gtk_label_set_text (self->similar_status, text);
      gtk_widget_set_visible (GTK_WIDGET (self->similar_status), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->similar_list), FALSE);
      return;
    }

  ea_list_box_clear (self->similar_list);
  g_ptr_array_set_size (self->similar_shown, 0);
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autofree char *summary = ea_lookup_string (row, "summary");
      g_autofree char *expert = ea_lookup_string (row, "expert");
      g_autofree char *request = ea_lookup_string (row, "request");
      g_autofree char *when = ea_format_date_time (ea_lookup_int64 (row, "time"));
      g_autofree const char **answer = NULL;
      g_autofree char *answer_text = NULL;
      g_autofree char *subtitle = NULL;
      GtkWidget *widget = adw_action_row_new ();

      g_variant_lookup (row, "answer", "^a&s", &answer);
      answer_text = answer && answer[0] ? g_strjoinv (" / ", (char **) answer)
                                        : g_strdup (_("(no answer recorded)"));
      subtitle = g_strdup_printf ("%s · %s\n%s", when,
                                  expert ? ea_daemon_client_expert_name (self->client, expert)
                                         : "", answer_text);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (widget), summary ? summary : "");
      adw_action_row_set_subtitle (ADW_ACTION_ROW (widget), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (widget), 4);
      gtk_list_box_append (self->similar_list, widget);
      if (request != NULL)
        g_ptr_array_add (self->similar_shown, g_steal_pointer (&request));
      g_variant_unref (row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->similar_list), self->similar_shown->len > 0
                          || gtk_widget_get_first_child (GTK_WIDGET (self->similar_list)));
  gtk_label_set_text (self->similar_status, _("Nothing similar was answered before."));
  gtk_widget_set_visible (GTK_WIDGET (self->similar_status),
                          gtk_widget_get_first_child (GTK_WIDGET (self->similar_list)) == NULL);
}

static gboolean
similar_timeout_cb (gpointer user_data)
{
  EaRequestWindow *self = user_data;
  EaExpertAssist *root = ea_daemon_client_get_root (self->client);
  const char *summary = gtk_editable_get_text (GTK_EDITABLE (self->summary_row));

  self->similar_timeout = 0;
  if (root != NULL && g_utf8_strlen (summary, -1) >= 3)
    ea_expert_assist_call_find_similar (root, summary, 5, self->cancellable, similar_cb,
                                        g_object_ref (self));
  return G_SOURCE_REMOVE;
}

static void
summary_changed_cb (EaRequestWindow *self)
{
  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  g_clear_handle_id (&self->similar_timeout, g_source_remove);
  self->similar_timeout = g_timeout_add (400, similar_timeout_cb, self);
  gtk_widget_remove_css_class (GTK_WIDGET (self->summary_row), "error");
}

/* Progress */

static void
set_row_list (AdwActionRow *row, const char *const *addresses, EaDaemonClient *client)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  for (guint i = 0; addresses && addresses[i]; i++)
    g_ptr_array_add (names, (gpointer) ea_daemon_client_expert_name (client, addresses[i]));
  g_ptr_array_add (names, NULL);
  {
    g_autofree char *text = ea_join_addresses ((const char *const *) names->pdata);
    adw_action_row_set_subtitle (row, text);
  }
  gtk_widget_set_visible (GTK_WIDGET (row), addresses && addresses[0]);
}

static void
update_progress (EaRequestWindow *self)
{
  EaExpertAssistRequest *request = self->request;
  const char *state, *reason, *session;
  gboolean final;
  guint position;

  if (request == NULL)
    return;
  state = ea_expert_assist_request_get_state (request);
  reason = ea_expert_assist_request_get_reason (request);
  session = ea_expert_assist_request_get_session (request);
  position = ea_expert_assist_request_get_queue_position (request);
  final = g_strcmp0 (state, "failed") == 0 || g_strcmp0 (state, "cancelled") == 0 ||
          g_strcmp0 (state, "closed") == 0;

  if (reason != NULL && *reason != '\0')
    {
      g_autofree char *title = g_strdup_printf ("%s: %s", ea_request_state_label (state),
                                                ea_offer_reason_label (reason));
      gtk_label_set_text (self->progress_title, title);
    }
  else
    {
      gtk_label_set_text (self->progress_title, ea_request_state_label (state));
    }
  gtk_label_set_text (self->progress_summary, ea_expert_assist_request_get_summary (request));
  gtk_spinner_set_spinning (self->progress_spinner,
                            g_strcmp0 (state, "queued") == 0 || g_strcmp0 (state, "offering") == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_spinner),
                          g_strcmp0 (state, "queued") == 0 || g_strcmp0 (state, "offering") == 0);

  {
    const char *const *offered = ea_expert_assist_request_get_offered (request);
    guint n = offered ? g_strv_length ((char **) offered) : 0;
    g_autofree char *title = g_strdup_printf (ngettext ("Offered to %u expert",
                                                        "Offered to %u experts", n), n);

    set_row_list (self->offered_row, offered, self->client);
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->offered_row), title);
  }
  set_row_list (self->declined_row, ea_expert_assist_request_get_declined (request),
                self->client);
  set_row_list (self->expired_row, ea_expert_assist_request_get_expired (request),
                self->client);
  set_row_list (self->accepted_row, ea_expert_assist_request_get_accepted (request),
                self->client);
  if (position > 0)
    {
      g_autofree char *text = g_strdup_printf (_("Number %u in the queue"), position);
      adw_action_row_set_subtitle (self->queue_row, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->queue_row), position > 0);

  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button),
                          g_strcmp0 (state, "queued") == 0 || g_strcmp0 (state, "offering") == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->chat_button),
                          session != NULL && g_strcmp0 (session, "/") != 0);
  gtk_widget_set_visible (GTK_WIDGET (self->new_button),
                          final || g_strcmp0 (state, "connected") == 0);
}

static void
request_notify_cb (EaRequestWindow *self, GParamSpec *pspec, EaExpertAssistRequest *request)
{
  update_progress (self);
  if (g_str_equal (pspec->name, "session"))
    {
      const char *session = ea_expert_assist_request_get_session (request);

      if (session != NULL && g_strcmp0 (session, "/") != 0)
        ea_applet_application_open_chat (self->application, session);
    }
}

static void
follow_request (EaRequestWindow *self, EaExpertAssistRequest *request)
{
  const char *session;

  if (self->request)
    g_signal_handlers_disconnect_by_data (self->request, self);
  g_set_object (&self->request, request);
  g_signal_connect_swapped (request, "notify", G_CALLBACK (request_notify_cb), self);
  update_progress (self);
  session = ea_expert_assist_request_get_session (request);
  if (session != NULL && g_strcmp0 (session, "/") != 0)
    ea_applet_application_open_chat (self->application, session);
}

static void
object_added_cb (EaRequestWindow *self, GDBusObject *object)
{
  g_autoptr(EaExpertAssistRequest) request = NULL;

  if (self->request != NULL || self->request_path == NULL ||
      g_strcmp0 (g_dbus_object_get_object_path (object), self->request_path) != 0)
    return;
  request = ea_daemon_client_get_request (self->client, self->request_path);
  if (request != NULL)
    follow_request (self, request);
}

static void
request_help_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaRequestWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(EaExpertAssistRequest) request = NULL;

  self->sending = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->send_button), TRUE);
  if (!ea_expert_assist_call_request_help_finish (EA_EXPERT_ASSIST (source), &path, result,
                                                  &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = ea_describe_error (error);
      toast (self, text);
      return;
    }

  g_free (self->request_path);
  self->request_path = g_strdup (path);
  gtk_label_set_text (self->progress_title, _("Sending…"));
  gtk_label_set_text (self->progress_summary,
                      gtk_editable_get_text (GTK_EDITABLE (self->summary_row)));
  gtk_stack_set_visible_child_name (self->stack, "progress");
  request = ea_daemon_client_get_request (self->client, path);
  /* Else it arrives through object-added in a moment. */
  if (request != NULL)
    follow_request (self, request);
}

static void
add_string (GVariantBuilder *builder, const char *key, const char *value)
{
  g_autofree char *stripped = g_strstrip (g_strdup (value ? value : ""));

  if (*stripped != '\0')
    g_variant_builder_add (builder, "{sv}", key, g_variant_new_string (stripped));
}

static void
send_cb (EaRequestWindow *self)
{
  EaExpertAssist *root;
  GVariantBuilder query, options;
  g_autoptr(GPtrArray) skills = g_ptr_array_new ();
  const char *summary = gtk_editable_get_text (GTK_EDITABLE (self->summary_row));
  guint selected;
  guint experts = (guint) gtk_spin_button_get_value_as_int (self->experts_spin);
  guint offer_to = (guint) gtk_spin_button_get_value_as_int (self->offer_to_spin);

  if (self->disposed || self->client == NULL)
    return; /* a child's signal during set-up or teardown */
  root = ea_daemon_client_get_root (self->client);
  if (self->sending)
    return;
  if (root == NULL)
    {
      toast (self, _("The Expert Assist service is not running."));
      return;
    }
  {
    g_autofree char *stripped = g_strstrip (g_strdup (summary));

    if (*stripped == '\0')
      {
        gtk_widget_add_css_class (GTK_WIDGET (self->summary_row), "error");
        gtk_widget_grab_focus (GTK_WIDGET (self->summary_row));
        toast (self, _("Please write a one-line summary first."));
        return;
      }
  }

  g_variant_builder_init (&query, G_VARIANT_TYPE_VARDICT);
  add_string (&query, "summary", summary);
  selected = adw_combo_row_get_selected (self->channel_row);
  if (selected > 0 && selected < G_N_ELEMENTS (channels))
    add_string (&query, "channel", channels[selected]);
  add_string (&query, "customer", gtk_editable_get_text (GTK_EDITABLE (self->customer_row)));
  add_string (&query, "reference", gtk_editable_get_text (GTK_EDITABLE (self->reference_row)));
  add_string (&query, "details", gtk_editable_get_text (GTK_EDITABLE (self->details_row)));

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  selected = adw_combo_row_get_selected (self->mode_row);
  if (selected > 0 && selected < G_N_ELEMENTS (modes))
    add_string (&options, "mode", modes[selected]);
  g_variant_builder_add (&options, "{sv}", "experts", g_variant_new_uint32 (MAX (experts, 1)));
  if (offer_to > 0)
    g_variant_builder_add (&options, "{sv}", "offer-to", g_variant_new_uint32 (offer_to));
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->skills_box));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *toggle = gtk_flow_box_child_get_child (GTK_FLOW_BOX_CHILD (child));

      if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (toggle)))
        g_ptr_array_add (skills, g_object_get_data (G_OBJECT (toggle), "ea-skill"));
    }
  if (skills->len > 0)
    {
      g_ptr_array_add (skills, NULL);
      g_variant_builder_add (&options, "{sv}", "skills",
                             g_variant_new_strv ((const char *const *) skills->pdata, -1));
    }
  selected = adw_combo_row_get_selected (self->language_row);
  if (selected > 0 && selected < self->languages->len)
    add_string (&options, "language", g_ptr_array_index (self->languages, selected));
  selected = adw_combo_row_get_selected (self->level_row);
  if (selected > 0 && selected < self->levels->len)
    g_variant_builder_add (&options, "{sv}", "level",
                           g_variant_new_uint32 (g_array_index (self->levels, guint, selected)));
  selected = adw_combo_row_get_selected (self->expert_row);
  if (selected > 0 && selected < self->experts->len)
    add_string (&options, "expert", g_ptr_array_index (self->experts, selected));
  if (self->similar_shown->len > 0)
    {
      g_ptr_array_add (self->similar_shown, NULL);
      g_variant_builder_add (&options, "{sv}", "similar-shown",
                             g_variant_new_strv ((const char *const *) self->similar_shown->pdata,
                                                 -1));
      g_ptr_array_remove_index (self->similar_shown, self->similar_shown->len - 1);
    }

  self->sending = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->send_button), FALSE);
  ea_expert_assist_call_request_help (root, self->selected_group ? self->selected_group : "",
                                      g_variant_builder_end (&query),
                                      g_variant_builder_end (&options), self->cancellable,
                                      request_help_cb, g_object_ref (self));
}

static void
cancel_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(EaRequestWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ea_expert_assist_request_call_cancel_finish (EA_EXPERT_ASSIST_REQUEST (source), result,
                                                    &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = ea_describe_error (error);
      toast (self, text);
    }
}

static void
cancel_cb (EaRequestWindow *self)
{
  if (self->request != NULL)
    ea_expert_assist_request_call_cancel (self->request, self->cancellable, cancel_done_cb,
                                          g_object_ref (self));
}

static void
open_chat_cb (EaRequestWindow *self)
{
  if (self->request != NULL)
    ea_applet_application_open_chat (self->application,
                                     ea_expert_assist_request_get_session (self->request));
}

static void
new_request_cb (EaRequestWindow *self)
{
  if (self->request)
    g_signal_handlers_disconnect_by_data (self->request, self);
  g_clear_object (&self->request);
  g_clear_pointer (&self->request_path, g_free);
  gtk_editable_set_text (GTK_EDITABLE (self->summary_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->customer_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->reference_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->details_row), "");
  gtk_stack_set_visible_child_name (self->stack, "form");
  gtk_widget_grab_focus (GTK_WIDGET (self->summary_row));
}

/* GObject */

static void
ea_request_window_dispose (GObject *object)
{
  EaRequestWindow *self = EA_REQUEST_WINDOW (object);

  self->disposed = TRUE;
  gtk_widget_dispose_template (GTK_WIDGET (self), EA_TYPE_REQUEST_WINDOW);
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->similar_timeout, g_source_remove);
  if (self->request)
    g_signal_handlers_disconnect_by_data (self->request, self);
  if (self->client)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->request);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (ea_request_window_parent_class)->dispose (object);
}

static void
ea_request_window_finalize (GObject *object)
{
  EaRequestWindow *self = EA_REQUEST_WINDOW (object);

  g_clear_object (&self->client);
  g_free (self->selected_group);
  g_free (self->request_path);
  g_ptr_array_unref (self->languages);
  g_ptr_array_unref (self->experts);
  g_ptr_array_unref (self->similar_shown);
  g_array_unref (self->levels);

  G_OBJECT_CLASS (ea_request_window_parent_class)->finalize (object);
}

static void
ea_request_window_class_init (EaRequestWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ea_request_window_dispose;
  object_class->finalize = ea_request_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/example/ExpertAssist/Applet/ea-request-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, EaRequestWindow, name)
  CHILD (toasts);
  CHILD (window_title);
  CHILD (problem_label);
  CHILD (stack);
  CHILD (group_list);
  CHILD (summary_row);
  CHILD (channel_row);
  CHILD (customer_row);
  CHILD (reference_row);
  CHILD (details_row);
  CHILD (similar_status);
  CHILD (similar_list);
  CHILD (skills_box);
  CHILD (skills_row);
  CHILD (language_row);
  CHILD (level_row);
  CHILD (expert_row);
  CHILD (mode_row);
  CHILD (offer_to_spin);
  CHILD (experts_spin);
  CHILD (send_button);
  CHILD (progress_spinner);
  CHILD (progress_title);
  CHILD (progress_summary);
  CHILD (offered_row);
  CHILD (queue_row);
  CHILD (declined_row);
  CHILD (expired_row);
  CHILD (accepted_row);
  CHILD (cancel_button);
  CHILD (chat_button);
  CHILD (new_button);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, group_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, summary_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, send_cb);
  gtk_widget_class_bind_template_callback (widget_class, cancel_cb);
  gtk_widget_class_bind_template_callback (widget_class, open_chat_cb);
  gtk_widget_class_bind_template_callback (widget_class, new_request_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ea_request_window_init (EaRequestWindow *self)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  self->cancellable = g_cancellable_new ();
  self->languages = g_ptr_array_new_with_free_func (g_free);
  self->experts = g_ptr_array_new_with_free_func (g_free);
  self->similar_shown = g_ptr_array_new_with_free_func (g_free);
  self->levels = g_array_new (FALSE, TRUE, sizeof (guint));
  gtk_widget_init_template (GTK_WIDGET (self));

  g_ptr_array_add (labels, (gpointer) _("Not given"));
  for (guint i = 1; i < G_N_ELEMENTS (channels); i++)
    g_ptr_array_add (labels, (gpointer) ea_channel_label (channels[i]));
  set_string_model (self->channel_row, labels);
  g_ptr_array_set_size (labels, 0);
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    g_ptr_array_add (labels, (gpointer) ea_mode_label (modes[i]));
  set_string_model (self->mode_row, labels);
}

GtkWidget *
ea_request_window_new (EaAppletApplication *application)
{
  EaRequestWindow *self = g_object_new (EA_TYPE_REQUEST_WINDOW, "application", application,
                                        NULL);

  self->application = application;
  self->client = g_object_ref (ea_applet_application_get_client (application));
  g_signal_connect_swapped (self->client, "groups-changed", G_CALLBACK (groups_changed_cb), self);
  g_signal_connect_swapped (self->client, "state-changed", G_CALLBACK (state_changed_cb), self);
  g_signal_connect_swapped (self->client, "ready", G_CALLBACK (client_ready_cb), self);
  g_signal_connect_swapped (self->client, "object-added", G_CALLBACK (object_added_cb), self);
  state_changed_cb (self);
  groups_changed_cb (self);
  load_options (self);
  return GTK_WIDGET (self);
}
