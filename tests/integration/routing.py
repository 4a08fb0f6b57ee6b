# SPDX-License-Identifier: GPL-3.0-or-later
#
# Helpers for the routing scenarios: asking, offers, sessions, chat, read
# through the D-Bus API exactly as DESIGN.md section 3 names it.

from gi.repository import GLib

from harness import (OFFER_IFACE, REQUEST_IFACE, ROOT_IFACE, SESSION_IFACE,
                     IntegrationTest)

DOMAIN = "example.org"


def jid(user):
    return "%s@%s" % (user, DOMAIN)


def vardict(d):
    """A plain dict as a{sv}: str → s, bool → b, int → u, list → as."""
    out = {}
    for key, value in d.items():
        if isinstance(value, GLib.Variant):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = GLib.Variant("b", value)
        elif isinstance(value, int):
            out[key] = GLib.Variant("u", value)
        elif isinstance(value, (list, tuple)):
            out[key] = GLib.Variant("as", list(value))
        else:
            out[key] = GLib.Variant("s", value)
    return out


def directory(groups, experts=None, agents=None, extra=""):
    """A directory keyfile: groups = {id: {"experts": [users], key: value}}."""
    lines = []
    for gid, spec in groups.items():
        lines.append("[Group %s]" % gid)
        for key, value in spec.items():
            if key == "experts":
                lines.append("Experts=%s;" % ";".join(jid(u) for u in value))
            else:
                lines.append("%s=%s" % (key, value))
        lines.append("")
    for user, spec in (experts or {}).items():
        lines.append("[Expert %s]" % jid(user))
        for key, value in spec.items():
            lines.append("%s=%s" % (key, value))
        lines.append("")
    for user, groups_ in (agents or {}).items():
        lines.append("[Agent %s]" % jid(user))
        lines.append("Groups=%s;" % ";".join(groups_))
        lines.append("")
    return "\n".join(lines) + extra


class RoutingTest(IntegrationTest):
    """World building and D-Bus helpers for routing scenarios."""

    def world(self, agents, experts, groups, expert_profiles=None, plain=(), agent_sections=None,
              mod_groups=None, extra=""):
        users = list(agents) + list(experts) + list(plain)
        self.start_world(users=users, groups=mod_groups,
                         directory=directory(groups, expert_profiles, agent_sections, extra))
        desktops = {}
        for user in list(agents) + list(experts):
            desktops[user] = self.start_desktop(user)
        return desktops

    def wait_interruptible(self, agent, group, count, timeout=15):
        def ok():
            row = agent.groups().get(group)
            return row is not None and row[2] == count
        agent.wait_for(ok, timeout, "%s to see %d interruptible in %s" % (agent.name, count, group),
                       poll_ms=100)

    # asking

    def ask(self, agent, group, summary="Customer cannot log in", query=None, **options):
        q = {"summary": summary}
        q.update(query or {})
        args = GLib.Variant("(sa{sv}a{sv})", (group, vardict(q), vardict(options)))
        return agent.call("RequestHelp", args)

    def ask_error(self, agent, group, summary="Customer cannot log in", query=None, **options):
        q = {"summary": summary} if summary is not None else {}
        q.update(query or {})
        args = GLib.Variant("(sa{sv}a{sv})", (group, vardict(q), vardict(options)))
        return agent.call_error("RequestHelp", args)

    def request(self, agent, path, name):
        return agent.get_property(name, iface=REQUEST_IFACE, path=path)

    def wait_request(self, agent, path, state, timeout=15):
        return agent.wait_for(lambda: self.request(agent, path, "State") == state, timeout,
                              "request %s at %s to become %s" % (path, agent.name, state),
                              poll_ms=50)

    def cancel(self, agent, path):
        return agent.call("Cancel", None, iface=REQUEST_IFACE, path=path)

    # offers

    def offer_path(self, request_path):
        return "/org/example/ExpertAssist/offer/" + request_path.rsplit("/", 1)[1]

    def wait_offer(self, expert, request_path, since=0, timeout=15):
        path = self.offer_path(request_path)
        expert.wait_signal("OfferReceived", lambda a: a[0] == path, timeout=timeout, since=since,
                           iface=ROOT_IFACE,
                           what="OfferReceived(%s) at %s" % (path, expert.name))
        return path

    def offer(self, expert, path, name):
        return expert.get_property(name, iface=OFFER_IFACE, path=path)

    def wait_offer_state(self, expert, path, state, timeout=15):
        return expert.wait_for(lambda: self.offer(expert, path, "State") == state, timeout,
                               "offer %s at %s to become %s" % (path, expert.name, state),
                               poll_ms=50)

    def accept(self, expert, path):
        return expert.call("Accept", None, iface=OFFER_IFACE, path=path, timeout_ms=20000)

    def accept_error(self, expert, path):
        return expert.call_error("Accept", None, iface=OFFER_IFACE, path=path, timeout_ms=20000)

    def decline(self, expert, path, reason="busy"):
        return expert.call("Decline", GLib.Variant("(s)", (reason,)), iface=OFFER_IFACE,
                           path=path)

    # sessions

    def session(self, desktop, path, name):
        return desktop.get_property(name, iface=SESSION_IFACE, path=path)

    def send(self, desktop, path, text):
        return desktop.call("Send", GLib.Variant("(s)", (text,)), iface=SESSION_IFACE, path=path)

    def messages(self, desktop, path, limit=0):
        return desktop.call("GetMessages", GLib.Variant("(u)", (limit,)), iface=SESSION_IFACE,
                            path=path)

    def wait_message(self, desktop, path, text, since=0, timeout=15):
        return desktop.wait_signal("MessageReceived", lambda a: a[3] == text, timeout=timeout,
                                   since=since, iface=SESSION_IFACE, path=path,
                                   what="MessageReceived(%r) at %s" % (text, desktop.name))
