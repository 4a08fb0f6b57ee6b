/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void      ea_secret_lookup        (const char          *account,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
char     *ea_secret_lookup_finish (GAsyncResult        *result,
                                   GError             **error);
void      ea_secret_store         (const char          *account,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean  ea_secret_store_finish  (GAsyncResult        *result,
                                   GError             **error);
void      ea_secret_free          (char                *password);

void      ea_password_file_read        (const char          *path,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
char     *ea_password_file_read_finish (GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
