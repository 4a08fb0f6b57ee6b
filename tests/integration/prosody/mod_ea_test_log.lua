-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- Loaded only by the integration tests' Prosody: logs every SASL outcome
-- with the account name (Prosody itself logs only failures' top tags,
-- without the user), so a test can count login attempts per user.

module:hook("authentication-success", function (event)
	local session = event.session;
	module:log("info", "ea-test auth success user=%s", tostring(session.username));
end);

module:hook("authentication-failure", function (event)
	local session = event.session;
	local handler = session.sasl_handler;
	module:log("info", "ea-test auth failure user=%s condition=%s",
		tostring(handler and handler.username), tostring(event.condition));
end);
