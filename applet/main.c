/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "ea-applet-application.h"

int
main (int argc, char *argv[])
{
  g_autoptr(EaAppletApplication) app = NULL;
  const char *localedir = g_getenv ("EA_LOCALEDIR");

  setlocale (LC_ALL, "");
  /* EA_LOCALEDIR: the build tree's catalogues, for the tests. */
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Expert Assist"));
  app = ea_applet_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
