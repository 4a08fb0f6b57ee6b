/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gio/gio.h>

#include "ea-error.h"

static const char * const names[] = {
  "org.example.ExpertAssist.Error.NotFound",
  "org.example.ExpertAssist.Error.InvalidArgs",
  "org.example.ExpertAssist.Error.NotConnected",
  "org.example.ExpertAssist.Error.Taken",
  "org.example.ExpertAssist.Error.Expired",
  "org.example.ExpertAssist.Error.PermissionDenied",
  "org.example.ExpertAssist.Error.Failed",
};

/* Every error crosses the bus with its name, and comes back as itself. */
static void
test_round_trip (void)
{
  G_STATIC_ASSERT (G_N_ELEMENTS (names) == EA_N_ERRORS);

  for (int code = 0; code < EA_N_ERRORS; code++)
    {
      g_autoptr(GError) error = g_error_new (EA_ERROR, code, "Something to act on %d", code);
      g_autofree char *name = g_dbus_error_encode_gerror (error);
      g_autoptr(GError) back = g_dbus_error_new_for_dbus_error (names[code], "Something to act on");

      g_assert_cmpstr (name, ==, names[code]);
      g_assert_cmpstr (ea_error_dbus_name (code), ==, names[code]);
      g_assert_error (back, EA_ERROR, code);
      g_assert_true (g_dbus_error_strip_remote_error (back));
      g_assert_cmpstr (back->message, ==, "Something to act on");
    }
  g_assert_null (ea_error_dbus_name (EA_N_ERRORS));
}

/* Through a real connection: a skeleton method returning each error, called
 * on a private bus. */
static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *path,
             const char            *iface,
             const char            *method,
             GVariant              *params,
             GDBusMethodInvocation *invocation,
             gpointer               data)
{
  int code;

  g_variant_get (params, "(i)", &code);
  g_dbus_method_invocation_return_error (invocation, EA_ERROR, code, "code %d", code);
}

static void
call_done (GObject *source, GAsyncResult *res, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (res);
}

static void
test_over_the_bus (void)
{
  g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_autoptr(GDBusConnection) server = NULL;
  g_autoptr(GDBusConnection) client = NULL;
  g_autoptr(GDBusNodeInfo) info = NULL;
  static const GDBusInterfaceVTable vtable = { method_call, NULL, NULL, { 0 } };
  guint id;

  g_test_dbus_up (bus);
  server = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, NULL);
  client = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, NULL);
  info = g_dbus_node_info_new_for_xml ("<node><interface name='org.example.Test'>"
                                       "<method name='Fail'><arg type='i' direction='in'/></method>"
                                       "</interface></node>", NULL);
  id = g_dbus_connection_register_object (server, "/t", info->interfaces[0], &vtable,
                                          NULL, NULL, NULL);

  for (int code = 0; code < EA_N_ERRORS; code++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) ret = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      g_autofree char *expected = g_strdup_printf ("code %d", code);

      /* The handler runs in this thread: call asynchronously and spin. */
      g_dbus_connection_call (client, g_dbus_connection_get_unique_name (server),
                              "/t", "org.example.Test", "Fail",
                              g_variant_new ("(i)", code), NULL,
                              G_DBUS_CALL_FLAGS_NONE, 5000, NULL, call_done, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      ret = g_dbus_connection_call_finish (client, result, &error);
      g_assert_null (ret);
      g_assert_error (error, EA_ERROR, code);
      g_dbus_error_strip_remote_error (error);
      g_assert_cmpstr (error->message, ==, expected);
    }

  g_dbus_connection_unregister_object (server, id);
  /* Closed before the bus goes, so g_test_dbus_down() has nothing to wait
   * for. */
  g_dbus_connection_close_sync (server, NULL, NULL);
  g_dbus_connection_close_sync (client, NULL, NULL);
  g_clear_object (&server);
  g_clear_object (&client);
  g_test_dbus_down (bus);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/error/round-trip", test_round_trip);
  g_test_add_func ("/error/over-the-bus", test_over_the_bus);

  return g_test_run ();
}
