#!/usr/bin/python3
"""Acks on the consume path after warrend coalesces them: the consumer
thread sends a `multiple` basic.ack only over tags every one of which the
app acked, sends an ack behind a delivery the app still holds by itself,
and keeps nacks exactly as they were. What the broker's counts must show:
an unacked delivery comes back after its subscriber goes and no acked one
does, a held delivery does not stop the acks after it from freeing
prefetch, and a nack between acks dead-letters or requeues that one only."""

import json
import time

from test_subscribe import (Broker, Sub, consumer_daemon, publish, queue_of,
                            wait_queue)
from warrentest import DEADLINE, expect, expect_eq, fail, run


def deliveries(s, n, what):
    """n deliveries to s, in order."""
    return [s.deliver(what="%s %d of %d" % (what, i + 1, n)) for i in range(n)]


def no_channel_errors(d):
    """A double or unknown ack makes the broker close the channel: the log
    says so, and the consumer would have had to reopen it."""
    log = d.log()
    for bad in ("closed channel", "not unacked", "protocol error"):
        expect(bad not in log, "no %r in warrend's log" % bad, d.log_tail(20))


def out_of_order_acks_only_the_unacked_come_back_after_disconnect():
    """12 deliveries acked out of order, in one write, all but tags 4 and
    9: the broker holds exactly those two unacked; when the subscriber goes
    they, and only they, come back, redelivered."""
    name = "ooo_acks"
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        with Sub(d) as s:
            s.subscribe(id=1)
            publish(d, 12)
            got = deliveries(s, 12, "delivery")
            held = {m["tag"]: m["message_id"] for m in got if m["tag"] in (4, 9)}
            expect_eq("tags held", [4, 9], sorted(held))
            order = [12, 2, 7, 1, 11, 3, 10, 5, 8, 6]
            s.send(b"".join(b'{"op":"ack","tag":%d}\n' % t for t in order))
            s.sync()
            wait_queue(q, ready=0, unacked=2, consumers=1)
            expect_eq("stats.acks", 10, s.stats().get("acks"))
        wait_queue(q, ready=2, unacked=0, consumers=0)
        with Sub(d) as s2:
            s2.subscribe(id=2)
            back = deliveries(s2, 2, "a requeued delivery")
            expect_eq("message_ids that came back", sorted(held.values()),
                      sorted(m["message_id"] for m in back))
            for m in back:
                expect_eq("redelivered", True, m["redelivered"])
                s2.ack(m["tag"])
            s2.sync()
            wait_queue(q, ready=0, unacked=0, consumers=1)
            expect(s2.try_deliver(0.5) is None, "nothing else to come back",
                   json.dumps(s2.all))
        no_channel_errors(d)


def held_delivery_does_not_stop_later_acks_freeing_prefetch():
    """prefetch 5, 30 events: the subscriber keeps its first delivery and
    acks every other one as it comes. All 30 arrive (the acks behind the
    held one reach the broker); the broker then holds just that one."""
    name = "held_head"
    n = 30
    with Broker() as b, consumer_daemon(b, name, broker_opts={"prefetch": 5}) as d:
        q = queue_of(d)
        with Sub(d) as s:
            s.subscribe(id=1)
            mids = publish(d, n)
            first = s.deliver(what="the delivery to hold")
            for i in range(n - 1):
                m = s.deliver(what="delivery %d of %d behind the held one (prefetch 5)"
                              % (i + 2, n))
                s.ack(m["tag"])
            s.sync()
            expect_eq("every message delivered once", sorted(mids),
                      sorted(m["message_id"] for m in s.all))
            wait_queue(q, ready=0, unacked=1, consumers=1)
            s.ack(first["tag"])
            s.sync()
            wait_queue(q, ready=0, unacked=0, consumers=1)
        no_channel_errors(d)


def nack_between_acks_settles_only_that_one():
    """In one write: ack 1 and 2, nack 3 (requeue false), ack 4, nack 5
    (requeue true), ack 6. Only 3 is dead-lettered and only 5 comes back;
    no multiple ack settles either twice."""
    name = "nack_between"
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        with Sub(d) as s:
            s.subscribe(id=1)
            publish(d, 6)
            got = {m["tag"]: m for m in deliveries(s, 6, "delivery")}
            s.send(b'{"op":"ack","tag":1}\n{"op":"ack","tag":2}\n'
                   b'{"op":"nack","tag":3,"requeue":false}\n{"op":"ack","tag":4}\n'
                   b'{"op":"nack","tag":5,"requeue":true}\n{"op":"ack","tag":6}\n')
            again = s.deliver(what="the requeued delivery 5")
            expect_eq("message_id requeued", got[5]["message_id"], again["message_id"])
            expect_eq("redelivered", True, again["redelivered"])
            s.ack(again["tag"])
            s.sync()
            wait_queue(q, ready=0, unacked=0, consumers=1)
            wait_queue(q + ".dead", ready=1)
            expect(s.try_deliver(0.5) is None, "nothing else to come back",
                   json.dumps(s.all))
            st = s.stats()
            expect_eq("stats.acks", 5, st.get("acks"))
            expect_eq("stats.nacks", 2, st.get("nacks"))
        dead = b.count(q + ".dead")
        expect_eq("messages in %s.dead" % q, 1, dead)
        no_channel_errors(d)


def many_subscribers_acking_at_once_settle_everything():
    """4 subscribers, 400 events, each acking its deliveries in bursts:
    every message is delivered once and the queue ends empty."""
    name = "burst_acks"
    n = 400
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        subs = [Sub(d) for _ in range(4)]
        try:
            for i, s in enumerate(subs):
                s.subscribe(id=i)
            mids = publish(d, n)
            end = time.monotonic() + DEADLINE
            while sum(len(s.all) for s in subs) < n:
                if time.monotonic() > end:
                    fail("timed out: %d of %d delivered"
                         % (sum(len(s.all) for s in subs), n))
                for s in subs:
                    tags = []
                    m = s.try_deliver(0.02)
                    while m is not None:
                        tags.append(m["tag"])
                        m = s.try_deliver(0)
                    if tags:
                        s.send(b"".join(b'{"op":"ack","tag":%d}\n' % t
                                        for t in reversed(tags)))
            for s in subs:
                s.sync()
            seen = [m["message_id"] for s in subs for m in s.all]
            expect_eq("every message delivered once", sorted(mids), sorted(seen))
            wait_queue(q, ready=0, unacked=0, consumers=1)
        finally:
            for s in subs:
                s.close()
        no_channel_errors(d)


if __name__ == "__main__":
    run([
        out_of_order_acks_only_the_unacked_come_back_after_disconnect,
        held_delivery_does_not_stop_later_acks_freeing_prefetch,
        nack_between_acks_settles_only_that_one,
        many_subscribers_acking_at_once_settle_everything,
    ])
