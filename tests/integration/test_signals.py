#!/usr/bin/python3
"""Signals: SIGTERM and SIGINT shut down gracefully with exit 0; SIGHUP
reloads the config and contracts without dropping clients, and keeps the
old ones when the new config is broken."""

import collections
import json
import signal

from warrentest import (DEADLINE, Broker, Daemon, Failure, FreezableProxy,
                        MEASUREMENT_TAKEN,
                        Pipeliner, RESOURCE_ACCESSED, UNREACHABLE_URL, expect,
                        expect_error, expect_ok, fail, publish_req, resource_data,
                        conf_text, run, short, unique, wait_for)

NEW_THING = {
    "name": "NewThingHappenedEvent", "routing_key": "thing.happened",
    "fields": [{"name": "what", "type": "string"}],
}


def graceful(sig, name):
    with Broker() as b, Daemon(name) as d:
        q = unique(name)
        b.bind_queue(q, d.exchange, "resource.accessed")
        with d.client() as idle, d.client() as c:
            req = publish_req(id=1)
            expect_ok(c.request(req), "publish", req=req)
            idle.ping()
            rc = d.terminate(sig)
            expect(rc == 0, "exit status 0 after %s" % sig.name,
                   "killed after %.0f s" % DEADLINE if rc is None else "status %s" % rc)
            idle.expect_eof()
        expect(b.count(q) == 1, "the event answered ok in the queue", b.count(q))


def sigterm_graceful_exit_zero():
    graceful(signal.SIGTERM, "sigterm")


def sigint_graceful_exit_zero():
    graceful(signal.SIGINT, "sigint")


def sigterm_finishes_inflight_confirms_and_answers_every_request():
    n = 300
    with Broker() as b, Daemon("sigterm_inflight") as d:
        q = unique("sigterm_inflight")
        b.bind_queue(q, d.exchange, "resource.accessed")
        with d.client() as c:
            lines = [json.dumps(publish_req(data=resource_data(i), id=i)).encode() + b"\n"
                     for i in range(n)]
            p = Pipeliner(c, lines)
            first = c.read()      # some are in flight now
            d.kill(signal.SIGTERM)
            replies = [first]
            while True:
                line = c.readline(timeout=DEADLINE)
                if line is None:
                    break
                replies.append(json.loads(line))
            try:
                p.join(5)
            except Failure:
                pass   # warrend may close before reading everything we sent
        rc = d.terminate(None)
        expect(rc == 0, "exit status 0 after SIGTERM", rc)
        # Every line was sent before the signal's effects could close the
        # connection; each must have its answer, in order.
        expect(len(replies) == n, "an answer to each of the %d requests" % n,
               "%d answers" % len(replies))
        ok = []
        for i, r in enumerate(replies):
            if r.get("id") != i:
                fail("reply %d: expected id %d (replies in request order), got %s"
                     % (i, i, short(json.dumps(r))))
            if r.get("ok") is True:
                ok.append(r["message_id"])
            elif r.get("error") != "shutting_down":
                fail("reply %d: expected ok or shutting_down, got %s" % (i, json.dumps(r)))
        # The first reply came before the signal: at least that event and
        # whatever was in flight with it were finished, not dropped.
        expect(len(ok) >= 1, "at least the event answered before SIGTERM answered ok",
               "%d ok" % len(ok))
        got = collections.Counter(m.props.message_id for m in b.get_all(q))
        missing = [m for m in ok if not got[m]]
        expect(not missing, "every event answered ok before the exit in the queue",
               "%d of %d missing" % (len(missing), len(ok)))


def sigterm_answers_pending_and_later_requests_shutting_down():
    """A publish in flight when SIGTERM comes, and one read after it, are
    both answered shutting_down. The broker is connected but silent (a
    frozen proxy), so warrend has an unconfirmed event to wait for and
    keeps reading for its shutdown_timeout_ms: the later request is read
    inside that window whatever the machine's load."""
    with Broker(), FreezableProxy() as proxy, \
            Daemon("sigterm_pending", urls=[proxy.url], wait_connected=True,
                   spool={"max_bytes": 0},  # spool disabled
                   broker_opts={"publish_timeout_ms": 60000},
                   top={"shutdown_timeout_ms": 3000}) as d:
        with d.client() as c:
            req0 = publish_req(id=0)
            expect_ok(c.request(req0), "publish", req=req0)
            proxy.freeze()
            req1 = publish_req(id=1)
            c.send(req1)
            wait_for(lambda: d.stats()["stats"]["accepted"] >= 2,
                     "stats.accepted >= 2 after the publish into the silence")
            d.kill(signal.SIGTERM)
            req2 = publish_req(id=2)
            try:
                c.send(req2)   # read after the signal: answered too
            except OSError as e:
                fail("warrend closed the connection right after SIGTERM, before its "
                     "shutdown_timeout_ms (3000) expired: %r" % (e,))
            expect_error(c.read(), "shutting_down", op="publish", id=1, req=req1)
            expect_error(c.read(), "shutting_down", op="publish", id=2, req=req2)
            c.expect_eof()
        rc = d.terminate(None)
        expect(rc == 0, "exit status 0 after SIGTERM", rc)


def sighup_reload_adds_contract_on_open_connection():
    with Broker() as b, Daemon("sighup_add", contracts=[RESOURCE_ACCESSED]) as d:
        q = unique("sighup_add")
        b.bind_queue(q, d.exchange, "thing.happened")
        with d.client() as c, d.client() as idle:
            idle.ping()
            req = publish_req("NewThingHappenedEvent", {"what": "x"}, id=0)
            expect_error(c.request(req), "unknown_event", op="publish", id=0, req=req)
            d.write_config(d.config_text([RESOURCE_ACCESSED, NEW_THING]))
            d.kill(signal.SIGHUP)
            n = [0]

            def accepted():
                n[0] += 1
                req = publish_req("NewThingHappenedEvent", {"what": "x"}, id=n[0])
                r = c.request(req)
                if r.get("ok") is True:
                    return True
                expect_error(r, "unknown_event", id=n[0], req=req)
                return False
            wait_for(accepted, "the new contract to be accepted on the same connection "
                     "after SIGHUP", interval=0.1)
            r = expect_ok(c.request({"op": "contracts"}), "contracts")
            names = sorted(ct.get("name") for ct in r.get("contracts", []))
            expect(names == ["NewThingHappenedEvent", "ResourceAccessedEvent"],
                   "both contracts listed after the reload", names)
            req = publish_req(id="old")
            expect_ok(c.request(req), "publish", req=req)
            idle.ping()
        b.wait_count(q, 1)
        d.assert_serving()


def sighup_broken_config_keeps_old_contracts():
    good = [RESOURCE_ACCESSED, NEW_THING]
    with Broker() as b, Daemon("sighup_broken", contracts=good) as d:
        q = unique("sighup_broken")
        b.bind_queue(q, d.exchange, "#")
        with d.client() as c:
            def still_old(tag):
                for ev, data in (("ResourceAccessedEvent", resource_data()),
                                 ("NewThingHappenedEvent", {"what": tag})):
                    req = publish_req(ev, data, id=tag)
                    expect_ok(c.request(req), "publish", req=req)
                if not d.alive():
                    fail("warrend died after %s (status %s)" % (tag, d.proc.poll()))

            still_old("before")
            # 1: not libconfig at all.
            text = d.config_text(good)
            lines = text.split("\n")
            bad_line = len(lines)      # the appended line
            loglen = len(d.log())
            d.write_config(text + "this is ( not libconfig\n")
            d.kill(signal.SIGHUP)
            wait_for(lambda: "warrend.conf:%d" % bad_line in d.log()[loglen:],
                     "the log to name warrend.conf:%d after a SIGHUP with a syntax error"
                     % bad_line)
            still_old("after syntax error")
            # 2: valid libconfig, broken contract (and NewThing gone): the old
            # contracts, NewThing included, stay in force.
            broken = dict(MEASUREMENT_TAKEN,
                          fields=[{"name": "sensor", "type": "blob"}])
            text = d.config_text([RESOURCE_ACCESSED, broken])
            bad_line = 1 + next(i for i, ln in enumerate(text.split("\n")) if '"blob"' in ln)
            loglen = len(d.log())
            d.write_config(text)
            d.kill(signal.SIGHUP)
            wait_for(lambda: "warrend.conf:%d" % bad_line in d.log()[loglen:],
                     "the log to name warrend.conf:%d after a SIGHUP with an unknown field "
                     "type" % bad_line)
            still_old("after bad contract")
            req = publish_req("MeasurementTakenEvent", {"sensor": "s"}, id="m")
            expect_error(c.request(req), "unknown_event", id="m", req=req)
            # 3: a good config again is taken.
            d.write_config(d.config_text([RESOURCE_ACCESSED, MEASUREMENT_TAKEN]))
            d.kill(signal.SIGHUP)
            data = {"sensor": "s", "value": 1, "ratio": 0.5, "label": "l",
                    "at": "2024-05-01T12:00:00Z"}

            def took():
                req = publish_req("MeasurementTakenEvent", data, id="m2")
                r = c.request(req)
                return r.get("ok") is True
            wait_for(took, "MeasurementTakenEvent accepted after a good config and SIGHUP",
                     interval=0.1)
            c.ping()
        d.assert_serving()


def sighup_crossed_reconnect_bounds_keep_daemon_and_old_config():
    """A reload whose only fault is a reconnect_max_ms below the default
    reconnect_min_ms is logged and refused; warrend stays up, its socket
    stays, and the old contracts serve (it used to crash here)."""
    with Broker() as b, Daemon("sighup_bounds", contracts=[RESOURCE_ACCESSED]) as d:
        q = unique("sighup_bounds")
        b.bind_queue(q, d.exchange, "resource.accessed")
        with d.client() as c:
            settings = d.settings()
            del settings["broker"]["reconnect_min_ms"]
            settings["broker"]["reconnect_max_ms"] = 5
            text = conf_text(settings)
            line = 1 + next(i for i, ln in enumerate(text.split("\n"))
                            if "reconnect_max_ms" in ln)
            loglen = len(d.log())
            d.write_config(text)
            d.kill(signal.SIGHUP)
            wait_for(lambda: "warrend.conf:%d" % line in d.log()[loglen:],
                     "the log to name warrend.conf:%d (reconnect_max_ms) after SIGHUP"
                     % line)
            if not d.alive():
                fail("warrend died on SIGHUP (status %s)" % d.proc.poll())
            req = publish_req(id="after")
            expect_ok(c.request(req), "publish", req=req)
        b.wait_count(q, 1)
        d.assert_serving()


def sighup_reload_applies_broker_settings():
    with Broker() as b, Daemon("sighup_settings", broker_opts={"unroutable": "warn"}) as d:
        b.declare_exchange(d.exchange)      # nothing bound: every event is unroutable
        with d.client() as c:
            req = publish_req(id=0)
            expect_ok(c.request(req), "publish", req=req, routed=False)
            d.broker_opts["unroutable"] = "error"
            d.write_config()
            d.kill(signal.SIGHUP)
            n = [0]

            def applied():
                n[0] += 1
                req = publish_req(id=n[0])
                r = c.request(req)
                if r.get("ok") is True:
                    expect(r.get("routed") is False, "routed:false before the reload", r)
                    return False
                expect_error(r, "unroutable", id=n[0], req=req)
                return True
            wait_for(applied, "unroutable = \"error\" to apply after SIGHUP", interval=0.1)
            c.ping()
        d.assert_serving()


def sigterm_with_nothing_in_flight_exits_without_waiting_shutdown_timeout():
    """shutdown_timeout_ms bounds the wait for in-flight confirms; with none
    in flight warrend exits at once (here: within the test's 20 s stop bound,
    with a 600 s shutdown_timeout_ms)."""
    for urls in (None, [UNREACHABLE_URL]):
        with Broker() as b, Daemon("sigterm_idle", urls=urls,
                                   top={"shutdown_timeout_ms": 600000}) as d:
            with d.client() as c:
                if urls is None:
                    q = unique("sigterm_idle")
                    b.bind_queue(q, d.exchange, "resource.accessed")
                    req = publish_req(id=1)
                    expect_ok(c.request(req), "publish", req=req)
                else:
                    c.ping()
                rc = d.terminate(signal.SIGTERM)
            expect(rc == 0, "exit 0 within %.0f s of SIGTERM with nothing in flight "
                   "(broker %s)" % (DEADLINE, "reachable" if urls is None else "unreachable"),
                   "still running after %.0f s (killed)" % DEADLINE if rc is None
                   else "status %s" % rc)


def sigterm_after_unavailable_reply_exits_without_waiting_shutdown_timeout():
    """An event already answered unavailable is no longer in flight: it must
    not hold up the exit for shutdown_timeout_ms."""
    with Daemon("sigterm_unavailable", urls=[UNREACHABLE_URL],
                spool={"max_bytes": 0},  # spool disabled
                broker_opts={"publish_timeout_ms": 500},
                top={"shutdown_timeout_ms": 600000}) as d:
        with d.client() as c:
            req = publish_req(id=1)
            expect_error(c.request(req), "unavailable", op="publish", id=1, req=req)
        st = d.stats()
        rc = d.terminate(signal.SIGTERM)
        expect(rc == 0, "exit 0 within %.0f s of SIGTERM (nothing in flight after the "
               "unavailable reply; stats before the signal: %s)" % (DEADLINE, json.dumps(st)),
               "still running after %.0f s (killed)" % DEADLINE if rc is None
               else "status %s" % rc)


def sigkill_loses_no_event_answered_ok():
    n = 500
    with Broker() as b, Daemon("sigkill") as d:
        q = unique("sigkill")
        b.bind_queue(q, d.exchange, "resource.accessed")
        with d.client() as c:
            lines = [json.dumps(publish_req(data=resource_data(i), id=i)).encode() + b"\n"
                     for i in range(n)]
            p = Pipeliner(c, lines)
            ok = []
            for i in range(n):
                # SIGKILL may cut a reply in half: that event was never
                # answered ok, so it is not counted.
                line = c.readline(partial_ok=True)
                if line is None:
                    break
                r = json.loads(line)
                if r.get("ok") is True:
                    ok.append(r["message_id"])
                if i == 50:
                    d.terminate(signal.SIGKILL)
            try:
                p.join(5)
            except Failure:
                pass
        # Replies 0..50 were read before SIGKILL was sent; each was ok.
        expect(len(ok) >= 51, "the 51 events answered before SIGKILL answered ok",
               "%d ok" % len(ok))
        got = collections.Counter(m.props.message_id for m in b.get_all(q))
        missing = [m for m in ok if not got[m]]
        expect(not missing, "every event answered ok before SIGKILL in the queue",
               "%d of %d missing" % (len(missing), len(ok)))


def sighup_during_pipelined_publishes_loses_nothing():
    n = 600
    with Broker() as b, Daemon("sighup_inflight") as d:
        q = unique("sighup_inflight")
        b.bind_queue(q, d.exchange, "resource.accessed")
        with d.client() as c:
            lines = [json.dumps(publish_req(data=resource_data(i), id=i)).encode() + b"\n"
                     for i in range(n)]
            p = Pipeliner(c, lines)
            ok = []
            for i in range(n):
                r = c.read()
                if r.get("id") != i or r.get("ok") is not True:
                    fail("reply %d: expected ok with id %d, got %s" % (i, i, json.dumps(r)))
                ok.append(r["message_id"])
                if i in (10, 200, 400):
                    d.kill(signal.SIGHUP)
            p.join()
        b.wait_count(q, n)
        got = collections.Counter(m.props.message_id for m in b.get_all(q))
        missing = [m for m in ok if not got[m]]
        expect(not missing, "every event answered ok in the queue", "%d missing" % len(missing))
        d.assert_serving()


def sighup_reload_removes_contract():
    with Broker() as b, Daemon("sighup_remove", contracts=[RESOURCE_ACCESSED, NEW_THING]) as d:
        q = unique("sighup_remove")
        b.bind_queue(q, d.exchange, "#")
        with d.client() as c:
            req = publish_req("NewThingHappenedEvent", {"what": "x"}, id=0)
            expect_ok(c.request(req), "publish", req=req)
            d.write_config(d.config_text([RESOURCE_ACCESSED]))
            d.kill(signal.SIGHUP)
            n = [0]

            def removed():
                n[0] += 1
                req = publish_req("NewThingHappenedEvent", {"what": "x"}, id=n[0])
                r = c.request(req)
                if r.get("ok") is True:
                    return False
                expect_error(r, "unknown_event", id=n[0], req=req)
                return True
            wait_for(removed, "the removed contract to be refused after SIGHUP", interval=0.1)
            req = publish_req(id="kept")
            expect_ok(c.request(req), "publish", req=req)
        d.assert_serving()


if __name__ == "__main__":
    run([
        sigterm_graceful_exit_zero,
        sigint_graceful_exit_zero,
        sigterm_finishes_inflight_confirms_and_answers_every_request,
        sigterm_answers_pending_and_later_requests_shutting_down,
        sigterm_with_nothing_in_flight_exits_without_waiting_shutdown_timeout,
        sigterm_after_unavailable_reply_exits_without_waiting_shutdown_timeout,
        sigkill_loses_no_event_answered_ok,
        sighup_reload_adds_contract_on_open_connection,
        sighup_broken_config_keeps_old_contracts,
        sighup_crossed_reconnect_bounds_keep_daemon_and_old_config,
        sighup_reload_applies_broker_settings,
        sighup_reload_removes_contract,
        sighup_during_pipelined_publishes_loses_nothing,
    ])
