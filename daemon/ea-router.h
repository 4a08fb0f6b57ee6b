/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ea-directory.h"
#include "ea-roster.h"

G_BEGIN_DECLS

/* What the agent asked for besides the group. */
typedef struct {
  char *expert;         /* a named expert, or NULL */
  GStrv skills;         /* every one required, or NULL */
  char *language;       /* or NULL */
  guint level;          /* at least this, 0 for any */
} EaPreferences;

typedef struct {
  EaDirExpert *expert;  /* borrowed from the directory */
  EaDirGroup *group;    /* the group it qualifies through */
  gboolean interruptible;
  guint sessions;
} EaCandidate;

/* What the router remembers between requests: when it last gave each
 * expert a request (longest-idle), where round-robin stopped per group,
 * and its random source. */
typedef struct _EaRouterMemory EaRouterMemory;

void            ea_preferences_clear       (EaPreferences *prefs);

gboolean        ea_router_is_interruptible (EaDirGroup   *group,
                                            EaDirExpert  *expert,
                                            EaContact    *contact,
                                            const char   *own_address);
gboolean        ea_router_matches          (EaDirExpert         *expert,
                                            const EaPreferences *prefs);
GPtrArray      *ea_router_candidates       (EaDirectory         *directory,
                                            GPtrArray           *groups,
                                            const EaPreferences *prefs,
                                            EaRoster            *roster,
                                            const char          *own_address,
                                            gboolean             interruptible_only);
guint           ea_router_count_possible   (EaDirectory         *directory,
                                            GPtrArray           *groups,
                                            const EaPreferences *prefs,
                                            const char          *own_address);
void            ea_router_order            (GPtrArray           *candidates,
                                            const char          *order,
                                            EaRouterMemory      *memory,
                                            const char          *group_key);

EaRouterMemory *ea_router_memory_new       (guint32         seed);
void            ea_router_memory_free      (EaRouterMemory *memory);
void            ea_router_memory_assigned  (EaRouterMemory *memory,
                                            const char     *address,
                                            gint64          when);
void            ea_router_memory_offered   (EaRouterMemory *memory,
                                            const char     *group_key,
                                            const char     *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EaRouterMemory, ea_router_memory_free)

G_END_DECLS
