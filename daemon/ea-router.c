/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The router: who may be interrupted, who is a candidate for a request, in
 * which order. Pure functions of the directory and what is known of
 * presence, with no XMPP and no D-Bus, so every rule is unit-tested.
 */
#define G_LOG_DOMAIN "ea-router"

#include "config.h"

#include "ea-util.h"
#include "ea-router.h"

/**
 * ea_router_is_interruptible:
 * @contact: (nullable): what the roster knows of the expert
 * @own_address: the user's own address, never a candidate
 *
 * An expert may be interrupted in @group when its presence is one the
 * group allows and it has fewer sessions than its maximum.
 */
gboolean
ea_router_is_interruptible (EaDirGroup  *group,
                            EaDirExpert *expert,
                            EaContact   *contact,
                            const char  *own_address)
{
  if (expert == NULL)
    return FALSE;
  if (own_address != NULL && ea_jid_equal_bare (expert->address, own_address))
    return FALSE;
  if (!ea_dir_group_interrupts_on (group, ea_contact_status (contact)))
    return FALSE;
  return ea_contact_sessions (contact) < expert->max_sessions;
}
