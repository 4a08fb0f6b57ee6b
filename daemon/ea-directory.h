/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EA_DEFAULT_ROSTER_PREFIX "Experts: "
#define EA_DEFAULT_LEVEL 1
#define EA_DEFAULT_MAX_SESSIONS 1
#define EA_DEFAULT_PRIORITY 100

typedef struct {
  char *id;
  char *name;
  char *description;
  char *address;        /* the group's MUC room, or NULL */
  char *strategy;       /* NULL: not set, the GSettings default applies */
  char *order;          /* NULL: priority */
  char *fallback;       /* NULL: none */
  guint offer_timeout;  /* 0: not set */
  guint expire;         /* 0: not set */
  GStrv interruptible;  /* NULL: available;chat; */
  GPtrArray *experts;   /* bare addresses (char *), in directory order */
  gboolean in_keyfile;  /* named by a keyfile (own rooms are joined only then) */
} EaDirGroup;

typedef struct {
  char *address;
  char *name;           /* NULL: not set */
  GPtrArray *skills;    /* names (char *), in directory order */
  GHashTable *skill_levels; /* name → own level (GUINT_TO_POINTER), only when given */
  GStrv languages;
  guint level;
  guint max_sessions;
  guint priority;
} EaDirExpert;

typedef struct {
  char *address;
  GPtrArray *groups;    /* group ids (char *) */
} EaDirAgent;

typedef struct _EaDirectory EaDirectory;
typedef struct _EaDirectoryBuilder EaDirectoryBuilder;

extern const char * const ea_modes[];
extern const char * const ea_orders[];

EaDirectory         *ea_directory_ref              (EaDirectory *self);
void                 ea_directory_unref            (EaDirectory *self);
EaDirectory         *ea_directory_new_empty        (void);

const char          *ea_directory_get_roster_prefix (EaDirectory *self);
GPtrArray           *ea_directory_get_groups       (EaDirectory *self);
EaDirGroup          *ea_directory_get_group        (EaDirectory *self,
                                                    const char  *id);
EaDirExpert         *ea_directory_get_expert       (EaDirectory *self,
                                                    const char  *address);
GList               *ea_directory_get_experts      (EaDirectory *self);
EaDirAgent          *ea_directory_get_agent        (EaDirectory *self,
                                                    const char  *address);
gboolean             ea_directory_has_agents       (EaDirectory *self);
gboolean             ea_directory_is_listed        (EaDirectory *self,
                                                    const char  *address);
gboolean             ea_directory_group_is_open    (EaDirectory *self,
                                                    EaDirGroup  *group,
                                                    const char  *user);
GPtrArray           *ea_directory_open_groups      (EaDirectory *self,
                                                    const char  *user);
GPtrArray           *ea_directory_groups_of_expert (EaDirectory *self,
                                                    const char  *address,
                                                    gboolean     keyfile_only);
gboolean             ea_dir_group_has_expert       (EaDirGroup  *group,
                                                    const char  *address);
gboolean             ea_dir_group_interrupts_on    (EaDirGroup  *group,
                                                    const char  *status);
guint                ea_dir_expert_skill_level     (EaDirExpert *expert,
                                                    const char  *skill);
char                *ea_directory_fingerprint      (EaDirectory *self);

gboolean             ea_directory_parse            (const char  *data,
                                                    gsize        length,
                                                    const char  *origin,
                                                    GKeyFile   **out_keyfile,
                                                    GError     **error);
char                *ea_directory_roster_group_id  (const char  *name);

EaDirectoryBuilder  *ea_directory_builder_new      (void);
void                 ea_directory_builder_add_keyfile (EaDirectoryBuilder *builder,
                                                       GKeyFile           *keyfile);
void                 ea_directory_builder_add_roster_item (EaDirectoryBuilder *builder,
                                                           const char         *address,
                                                           const char         *name,
                                                           const char * const *groups);
EaDirectory         *ea_directory_builder_end      (EaDirectoryBuilder *builder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EaDirectory, ea_directory_unref)

G_END_DECLS
