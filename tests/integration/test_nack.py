"""A nack is "not confirmed", not "refused": with the spool an event the
broker nacks is kept and retried with its message_id, its client hears
ok/spooled, nothing overtakes it, and only the nacked events are sent
again. Without the spool the client hears "rejected". A broker that keeps
nacking shows in stats and /metrics.

The broker nacks for real here: a queue with x-max-length and
x-overflow = reject-publish, bound to the routing key, nacks every publish
while it is full, and takes them again once a consumer makes room.
"""

import json
import time

from warrentest import (free_port, metric, Broker, Client, Daemon, Pipeliner,
                        expect, expect_eq, expect_error, expect_ok, fail,
                        publish_req, resource_data, run, unique, wait_for)

RK = "resource.accessed"


def full_queue(b, d, name, length):
    q = unique(name)
    b.bind_queue(q, d.exchange, RK, arguments={
        "x-max-length": length, "x-overflow": "reject-publish"})
    return q


def nack_without_spool_answered_rejected():
    with Broker() as b, Daemon("nack-nospool", spool={"max_bytes": 0}) as d:
        full_queue(b, d, "nack-nospool", 0)
        with d.client() as c:
            req = publish_req(id=1)
            expect_error(c.request(req), "rejected", op="publish", id=1, req=req)
        st = d.stats()["stats"]
        expect(st["broker"]["nacks"] >= 1, "stats.broker.nacks >= 1", st["broker"])


def nack_with_spool_kept_answered_spooled_then_delivered_once():
    port = free_port()
    with Broker() as b, Daemon("nack-spool", top={"metrics": {
            "listen": "127.0.0.1:%d" % port}}) as d:
        q = full_queue(b, d, "nack-spool", 1)
        with d.client() as c:
            r = c.request(publish_req(id=1, message_id="first"))
            expect_ok(r, "publish", id=1, message_id="first")
            expect("spooled" not in r, "the first event confirmed, not spooled", r)
            # The queue is full now: the broker nacks the next one.
            r = c.request(publish_req(id=2, message_id="second"))
            expect_ok(r, "publish", id=2, message_id="second", spooled=True)
            st = d.stats()["stats"]["broker"]
            expect(st["nacks"] >= 1, "stats.broker.nacks >= 1", st)
            wait_for(lambda: d.stats()["stats"]["broker"]["refusing"] is True,
                     "stats.broker.refusing true while the queue is full")
            expect_eq("warren_broker_refusing", 1.0,
                      metric(port, "warren_broker_refusing"))
            expect(metric(port, "warren_broker_nacks_total") >= 1,
                   "warren_broker_nacks_total >= 1", "0")
            # Behind it, not past it.
            r = c.request(publish_req(id=3, message_id="third"))
            expect_ok(r, "publish", id=3, message_id="third", spooled=True)
        got = []
        deadline = time.monotonic() + 20
        while len(got) < 3 and time.monotonic() < deadline:
            m = b.get(q)     # makes room for the next retry
            if m is None:
                time.sleep(0.05)
                continue
            got.append(m.props.message_id)
        expect_eq("message_ids in the queue, in order", ["first", "second", "third"], got)
        wait_for(lambda: d.stats()["stats"]["spool"]["records"] == 0,
                 "the spool to drain")
        wait_for(lambda: d.stats()["stats"]["broker"]["refusing"] is False,
                 "stats.broker.refusing false once the broker takes events")
        time.sleep(0.5)
        expect_eq("messages left (no duplicate)", 0, b.count(q))


def nack_retries_exactly_the_nacked_events_each_once():
    """A full queue nacks part of a pipelined burst: the nacked events are
    sent again, the confirmed ones never, so each arrives exactly once.
    (A nacked event may land after events already on their way behind it:
    the documented exception to the order.)"""
    n, room = 60, 10
    with Broker() as b, Daemon("nack-exact") as d:
        q = full_queue(b, d, "nack-exact", room)
        ids = ["e-%03d" % i for i in range(n)]
        with d.client() as c:
            lines = [json.dumps(publish_req(id=i, message_id=ids[i],
                                            data=resource_data(i))).encode() + b"\n"
                     for i in range(n)]
            p = Pipeliner(c, lines)
            replies = [c.read() for _ in range(n)]
            p.join()
        for i, r in enumerate(replies):
            expect_ok(r, "publish", id=i, message_id=ids[i])
        spooled = sum(1 for r in replies if r.get("spooled"))
        expect(spooled >= n - room, "at least %d answered spooled" % (n - room), spooled)
        got = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = b.get(q)
            if m is not None:
                got.append(m.props.message_id)
                continue
            if len(got) >= n and d.stats()["stats"]["spool"]["records"] == 0:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        got += [m.props.message_id for m in b.get_all(q)]
        dups = len(got) - len(set(got))
        expect_eq("duplicates", 0, dups)
        expect_eq("every event once", ids, sorted(got))
        expect_eq("the confirmed ones first, in order", ids[:room], got[:room])


def nack_forever_fills_the_spool_then_unavailable_and_loses_nothing():
    """A broker that keeps nacking is backpressure: the spool takes the
    events up to max_bytes, then publishes are answered unavailable; once
    the broker takes events, every one answered ok arrives."""
    with Broker() as b, Daemon("nack-full", spool={"max_bytes": 4000}) as d:
        full = full_queue(b, d, "nack-full", 0)
        t0 = time.monotonic()
        answers = {}
        with d.client() as c:
            for i in range(60):
                mid = "f-%03d" % i
                r = c.request(publish_req(id=i, message_id=mid, data=resource_data(i)))
                answers[mid] = r
        oks = [m for m, r in answers.items() if r.get("ok") is True]
        unavailable = [m for m, r in answers.items() if r.get("error") == "unavailable"]
        expect(all(answers[m].get("spooled") is True for m in oks),
               "every ok answered spooled while the broker nacks", answers)
        expect(len(oks) > 0 and len(unavailable) > 0 and len(oks) + len(unavailable) == 60,
               "some events spooled, then unavailable once the spool is full",
               {m: r.get("error", "ok") for m, r in answers.items()})
        st = d.stats()["stats"]
        expect(st["broker"]["refusing"] is True and st["spool"]["full"] >= 1,
               "stats: broker.refusing and spool.full", st)
        time.sleep(6)   # the broker goes on refusing the probes
        # Logged once when it starts, then as counts: not once per nack.
        t_refusing = time.monotonic() - t0
        log = d.log()
        starts = log.count("refused (nacked) events: kept")
        counts = log.count("more times")
        expect(starts == 1 and counts <= 1 + t_refusing / 5,
               "one 'refused (nacked)' line and a count at most every 5 s "
               "(%d nacks in %.1f s)" % (d.stats()["stats"]["broker"]["nacks"], t_refusing),
               "%d and %d lines:\n%s" % (starts, counts, log[-3000:]))
        # The queue that refused goes; one that takes everything comes.
        b.channel().queue_delete(full)
        q = unique("nack-full-ok")
        b.bind_queue(q, d.exchange, RK)
        wait_for(lambda: d.stats()["stats"]["spool"]["records"] == 0,
                 "the spool to drain once the broker takes events", 30)
        time.sleep(0.5)
        got = [m.props.message_id for m in b.get_all(q)]
        expect_eq("events answered ok, once each and in order", sorted(oks), got)


def unroutable_logged_once_then_counted_then_its_end():
    """Fifty unroutable events make one warning, not fifty; the first
    routed one after them says the spell is over, with its count."""
    with Broker() as b, Daemon("unroutable-log", broker_opts={"unroutable": "warn"}) as d:
        b.declare_exchange(d.exchange)
        with d.client() as c:
            for i in range(50):
                r = c.request(publish_req(id=i, data=resource_data(i)))
                expect_ok(r, "publish", id=i, routed=False)
            b.bind_queue(unique("unroutable-log"), d.exchange, RK)
            expect_ok(c.request(publish_req(id=50)), "publish", id=50)
        log = d.log()
        expect_eq("'unroutable, no queue is bound' lines", 1,
                  log.count("unroutable, no queue is bound to"))
        expect("events are routed again, after 50 unroutable" in log,
               "'events are routed again, after 50 unroutable' in the log", log[-2000:])


if __name__ == "__main__":
    run([
        nack_without_spool_answered_rejected,
        nack_with_spool_kept_answered_spooled_then_delivered_once,
        nack_retries_exactly_the_nacked_events_each_once,
        nack_forever_fills_the_spool_then_unavailable_and_loses_nothing,
        unroutable_logged_once_then_counted_then_its_end,
    ])
