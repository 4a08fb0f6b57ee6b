#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The accept race, as a stress run (bench/race; never part of "meson
# test"): 8 experts' daemons accept the same offer within the same
# milliseconds, round after round. Every round must have exactly the
# number of winners asked for (1, then 2 with `experts 2`), every loser's
# Accept() must fail with Taken and its offer end "withdrawn" (reason
# taken, TakenBy a winner), and the agent's Request must list exactly the
# winners as Accepted.
#
#   bench/race.py [--rounds 1000] [--experts 1,2] [--agents 12]
#
# An expert's daemon takes at most 20 new offers a minute from one agent
# (ea-daemon-expert.c, flooding()), so the rounds go round several agents'
# daemons and wait when all have used their minute.

import argparse
import collections
import sys
import time

from benchlib import (OFFER_IFACE, REQUEST_IFACE, SESSION_IFACE, Report, Timed, daemon_env,
                      jid, median, percentile, wait_for)
import bench

ERROR = "org.example.ExpertAssist.Error."
FLOOD_MAX = 20
FLOOD_WINDOW = 61.0


class Pacer:
    """Picks the agent whose last minute has room for one more offer."""

    def __init__(self, agents):
        self.agents = agents
        self.used = {a.name: collections.deque() for a in agents}
        self.next = 0
        self.waited = 0.0

    def pick(self):
        while True:
            t = time.monotonic()
            for k in range(len(self.agents)):
                a = self.agents[(self.next + k) % len(self.agents)]
                q = self.used[a.name]
                while q and t - q[0] > FLOOD_WINDOW:
                    q.popleft()
                if len(q) < FLOOD_MAX - 1:
                    q.append(t)
                    self.next = (self.next + k + 1) % len(self.agents)
                    return a
            time.sleep(0.2)
            self.waited += 0.2


def one_round(agent, experts, want, n, failures):
    marks = {e.name: e.mark() for e in experts}
    box = bench.ask(agent, "race", "Race %d" % n, experts=want)
    wait_for(lambda: "reply" in box or "error" in box, 10, "RequestHelp", poll_ms=2)
    if "error" in box:
        failures.append("round %d: RequestHelp failed: %s" % (n, box["error"]))
        return None
    path = box["reply"][0]
    rid = path.rsplit("/", 1)[1]
    offer = "/org/example/ExpertAssist/offer/" + rid
    for e in experts:
        e.wait_signal("OfferReceived", lambda a: a[0] == offer, timeout=15, since=marks[e.name])

    # Everyone at once: 8 calls leave within a fraction of a millisecond.
    calls = [(e, Timed(e).call("Accept", None, iface=OFFER_IFACE, path=offer))
             for e in experts]
    spread = calls[-1][1]["t0"] - calls[0][1]["t0"]
    wait_for(lambda: all("t" in c for _, c in calls), 30, "every Accept to answer", poll_ms=2)

    winners = [e for e, c in calls if "reply" in c]
    losers = [(e, c) for e, c in calls if "reply" not in c]
    ok = True
    if len(winners) != want:
        failures.append("round %d: %d winners (%s), wanted %d"
                        % (n, len(winners), ", ".join(e.name for e in winners), want))
        ok = False
    winner_addresses = sorted(jid(e.name) for e in winners)
    for e, c in losers:
        if c.get("error") != ERROR + "Taken":
            failures.append("round %d: %s's Accept failed with %s, not Taken"
                            % (n, e.name, c.get("error")))
            ok = False
    # Every loser is told: its offer ends withdrawn, reason taken, by a winner.
    for e, _ in losers:
        def told(e=e):
            return e.get_property("State", iface=OFFER_IFACE, path=offer) == "withdrawn"
        try:
            wait_for(told, 10, "%s's offer withdrawn" % e.name, poll_ms=5)
        except AssertionError:
            failures.append("round %d: %s's offer is %s" % (
                n, e.name, e.get_property("State", iface=OFFER_IFACE, path=offer)))
            ok = False
            continue
        reason = e.get_property("Reason", iface=OFFER_IFACE, path=offer)
        by = e.get_property("TakenBy", iface=OFFER_IFACE, path=offer)
        if reason != "taken" or by not in winner_addresses:
            failures.append("round %d: %s's offer withdrawn with reason %r by %r"
                            % (n, e.name, reason, by))
            ok = False
    accepted = sorted(agent.get_property("Accepted", iface=REQUEST_IFACE, path=path))
    if accepted != winner_addresses:
        failures.append("round %d: the request lists %s as accepted, the winners are %s"
                        % (n, accepted, winner_addresses))
        ok = False

    session = agent.get_property("Session", iface=REQUEST_IFACE, path=path)
    if session != "/":
        Timed(agent).call("Close", None, iface=SESSION_IFACE, path=session)
    return ok, spread


def run(report, rounds, want, pacer, experts):
    failures = []
    spreads = []
    good = 0
    t0 = time.monotonic()
    for n in range(rounds):
        result = one_round(pacer.pick(), experts, want, n, failures)
        if result is not None:
            ok, spread = result
            good += ok
            spreads.append(spread)
        if (n + 1) % 100 == 0:
            sys.stderr.write("experts %d: %d rounds, %d good, %.0f s\n"
                             % (want, n + 1, good, time.monotonic() - t0))
    elapsed = time.monotonic() - t0
    name = "race" if want == 1 else "race-experts-%d" % want
    report.figure(name + "-rounds", rounds, "", fmt="%d")
    report.figure(name + "-good-rounds", good,
                  "(exactly %d winner%s, every loser Taken and withdrawn)"
                  % (want, "" if want == 1 else "s"), fmt="%d")
    report.figure(name + "-accept-spread-ms", median(spreads) * 1000,
                  "ms (median time between the first and the 8th Accept call)")
    report.figure(name + "-accept-spread-p99-ms", percentile(spreads, 99) * 1000, "ms")
    report.figure(name + "-seconds", elapsed, "s (%.0f s in all waiting for the flood limit)"
                  % pacer.waited)
    for f in failures[:20]:
        report.note(f)
    report.goal(name + "-good-rounds", good, "==", rounds)
    return not failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--experts", default="1,2")
    parser.add_argument("--agents", type=int, default=12)
    args = parser.parse_args()
    daemon_env()
    report = Report()
    expert_names = ["x%d" % i for i in range(1, 9)]
    agent_names = ["agent%02d" % i for i in range(1, args.agents + 1)]
    directory = "[Group race]\nName=Race\nExperts=%s;\nOfferTimeout=60\nExpire=120\n" % (
        ";".join(jid(x) for x in expert_names))
    for x in expert_names:
        directory += "[Expert %s]\nMaxSessions=1000\n" % jid(x)
    w = bench.World("race")
    ok = True
    try:
        w.users(*(expert_names + agent_names))
        w.prosody.set_groups({"Staff": expert_names + agent_names})
        w.prosody.start()
        agents = [w.desktop(a, directory) for a in agent_names]
        experts = [w.desktop(x, directory) for x in expert_names]
        for d in agents + experts:
            d.wait_connected(60)
        for a in agents:
            bench.wait_interruptible(a, "race", len(experts), timeout=120)
        # One pacer for every mode: the experts' flood windows carry over.
        pacer = Pacer(agents)
        for want in (int(x) for x in args.experts.split(",")):
            ok &= run(report, args.rounds, want, pacer, experts)
    finally:
        w.close()
    report.summary()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
