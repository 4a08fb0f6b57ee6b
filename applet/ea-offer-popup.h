/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ea-applet-application.h"

G_BEGIN_DECLS

#define EA_TYPE_OFFER_POPUP (ea_offer_popup_get_type ())
G_DECLARE_FINAL_TYPE (EaOfferPopup, ea_offer_popup, EA, OFFER_POPUP, AdwWindow)

GtkWidget *ea_offer_popup_new     (EaAppletApplication *application,
                                   EaExpertAssistOffer *offer);
void       ea_offer_popup_refresh (EaOfferPopup        *self);
void       ea_offer_popup_accept  (EaOfferPopup        *self);

G_END_DECLS
