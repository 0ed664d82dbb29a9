#!/usr/bin/env python3
"""Ordered partitions (warrend(8), PARTITIONS): a contract with a
partition_key and partitions = N is consumed through N single-active-
consumer quorum queues behind a consistent-hash exchange. Three warrends
of one service on this machine (own sockets and spools), one app each:
every event is handled once, in publish order per key, never by two apps
at once; a SIGKILLed warrend's partitions move to another within seconds
and nothing is lost."""

import collections
import contextlib
import os
import signal
import threading
import time

from warrentest import (BROKER_PORT, Broker, Client, Daemon, diag, expect,
                        expect_eq, expect_ok, fail, rabbitmqctl, run, step,
                        unique, wait_for)

PARTS = 4
EVENT = "OrderStepEvent"
ORDER_STEP = {
    "name": EVENT,
    "routing_key": "order.step",
    "partition_key": "order",
    "partitions": PARTS,
    "fields": [
        {"name": "order", "type": "string"},
        {"name": "seq", "type": "integer", "minimum": 0},
    ],
}


def service_name(tag):
    return "part-%s-%d" % (tag, os.getpid())


def broker_cleanup(service):
    """Delete the queues and the hash exchange warrend declared."""
    b = Broker().connect(deadline=5)
    b.queues = ["%s.%s.p%d" % (service, EVENT, i) for i in range(PARTS)]
    b.queues.append("%s.%s.dead" % (service, EVENT))
    b.exchanges = ["%s.%s.hash" % (service, EVENT)]
    b.cleanup()


class App(threading.Thread):
    """A subscribed app: records when it got each delivery and when it
    acked it (the hold interval), acks after hold seconds."""

    def __init__(self, name, daemon, clock, hold=0.0):
        super().__init__(daemon=True)
        self.name = name
        self.client = Client(daemon.sock_path)
        self.clock = clock
        self.hold = hold
        self.records = []   # (key, seq, partition, redelivered, t_in, t_ack)
        self.eof_at = None
        self.error = None
        r = self.client.request({"op": "subscribe", "id": 1, "event": EVENT})
        expect_ok(r, "subscribe")
        expect_eq("subscribe reply partitions", PARTS, r.get("partitions"))

    def run(self):
        import json
        try:
            while True:
                line = self.client.readline(timeout=3600)
                now = self.clock()
                if line is None:
                    self.eof_at = now
                    return
                d = json.loads(line)
                if d.get("op") != "deliver":
                    continue
                if self.hold:
                    time.sleep(self.hold)
                t_ack = self.clock()   # the hold ends when the ack leaves
                self.client.send({"op": "ack", "tag": d["tag"]})
                self.records.append((d["data"]["order"], d["data"]["seq"],
                                     d.get("partition"), d["redelivered"],
                                     now, t_ack))
        except Exception as e:   # noqa: BLE001 - reported by the test
            self.error = repr(e)

    def stop(self):
        self.client.close()


def publish_all(daemon, events, rate=None):
    """Publish (key, seq) events through daemon, pipelined in windows of
    200 (at most rate per second); every reply must be ok."""
    with Client(daemon.sock_path) as c:
        for start in range(0, len(events), 200):
            chunk = events[start:start + 200]
            t0 = time.monotonic()
            for i, (k, s) in enumerate(chunk):
                c.send({"op": "publish", "id": start + i, "event": EVENT,
                        "data": {"order": k, "seq": s}})
            for i in range(len(chunk)):
                expect_ok(c.read(timeout=60), "publish")
            if rate:
                left = len(chunk) / rate - (time.monotonic() - t0)
                if left > 0:
                    time.sleep(left)


def make_events(nkeys, per_key):
    """per_key events for each of nkeys keys, keys interleaved."""
    return [("order-%03d" % k, s) for s in range(per_key) for k in range(nkeys)]


def check_per_key(apps, events, dedup):
    """Each key's events were handled in publish order, each once (with
    dedup: duplicates only as redeliveries, order judged by first sight)."""
    per_key = collections.defaultdict(list)
    for a in apps:
        for rec in a.records:
            per_key[rec[0]].append((rec[4], rec[1], rec[3], a.name))
    want = collections.defaultdict(list)
    for k, s in events:
        want[k].append(s)
    for k, seqs in want.items():
        got = [x for x in sorted(per_key.get(k, []))]
        seen, firsts = set(), []
        for t, s, redelivered, app in got:
            if s in seen:
                if not dedup or not redelivered:
                    fail("key %s: seq %d handled twice (again by %s, "
                         "redelivered=%s)" % (k, s, app, redelivered))
                continue
            seen.add(s)
            firsts.append(s)
        if firsts != seqs:
            fail("key %s: expected seqs %s in order, handled %s"
                 % (k, seqs[:20], [(s, app) for _, s, _, app in got][:40]))


def check_no_overlap(apps):
    """No two apps held events of one key at the same time."""
    per_key = collections.defaultdict(list)
    for a in apps:
        for rec in a.records:
            per_key[rec[0]].append((rec[4], rec[5], a.name, rec[1]))
    for k, iv in per_key.items():
        iv.sort()
        last_end, last_app, last_seq = -1.0, None, None
        for start, end, app, seq in iv:
            if app != last_app and last_app is not None and start < last_end:
                fail("key %s: %s got seq %d at %.6f while %s still held "
                     "seq %d (until %.6f)"
                     % (k, app, seq, start, last_app, last_seq, last_end))
            if end >= last_end:
                last_end, last_app, last_seq = end, app, seq


def fleet(tag, n, exchange):
    return [Daemon("partition-%s-%d" % (tag, i), contracts=[ORDER_STEP],
                   service=service_name(tag), exchange=exchange)
            for i in range(n)]


def partition_three_warrends_each_key_once_in_order():
    """20,000 events over 200 keys, 3 warrends with an app each, 4
    partitions: all handled once, in order per key, never two apps at
    once, and the partitions spread over more than one warrend."""
    exchange = unique("partition-order")
    events = make_events(200, 100)
    apps = []
    try:
        with contextlib.ExitStack() as st:
            ds = [st.enter_context(d) for d in fleet("order", 3, exchange)]
            clock = time.monotonic
            apps = [App("app%d" % i, d, clock, hold=0.0005)
                    for i, d in enumerate(ds)]
            for a in apps:
                a.start()
            t0 = time.monotonic()
            publish_all(ds[0], events)
            total = lambda: sum(len(a.records) for a in apps)  # noqa: E731
            wait_for(lambda: total() >= len(events) or
                     any(a.error for a in apps),
                     "%d events handled" % len(events), deadline=300,
                     interval=0.2)
            took = time.monotonic() - t0
            time.sleep(1.0)   # anything more would be a duplicate
            for a in apps:
                a.stop()
            for a in apps:
                expect(a.error is None, "no app error", a.error)
            counts = {a.name: len(a.records) for a in apps}
            diag("handled per app %s in %.1f s" % (counts, took))
            if total() != len(events):
                seen = collections.Counter((r[0], r[1]) for a in apps
                                           for r in a.records)
                diag("handled more than once: %s" % [
                    (k, s, a.name, r[2], r[3]) for a in apps
                    for r in a.records for k, s in [(r[0], r[1])]
                    if seen[(k, s)] > 1][:40])
            expect_eq("events handled", len(events), total())
            check_per_key(apps, events, dedup=False)
            check_no_overlap(apps)
            parts = {a.name: sorted({r[2] for r in a.records}) for a in apps}
            expect(sum(1 for a in apps if a.records) >= 2,
                   "the partitions spread over 2 or more warrends",
                   parts)
            for a in apps:
                for r in a.records:
                    expect(r[2] in range(PARTS),
                           "a partition 0..%d in each deliver line" % (PARTS - 1),
                           r)
    finally:
        broker_cleanup(service_name("order"))


def partition_moves_when_its_warrend_is_killed():
    """SIGKILL the warrend that holds a partition while events flow: within
    a few seconds another warrend's app gets that partition, and every
    event is handled, in publish order per key."""
    exchange = unique("partition-kill")
    events = make_events(50, 60)
    apps = []
    try:
        with contextlib.ExitStack() as st:
            ds = [st.enter_context(d) for d in fleet("kill", 3, exchange)]
            apps = [App("app%d" % i, d, time.monotonic, hold=0.002)
                    for i, d in enumerate(ds)]
            for a in apps:
                a.start()
            pub = threading.Thread(target=publish_all,
                                   args=(ds[0], events, 600), daemon=True)
            pub.start()
            # A warrend other than the publisher's that alone is being
            # given a partition's events now.
            def holder():
                now = time.monotonic()
                for i in (1, 2):
                    mine = {r[2] for r in apps[i].records[-50:]
                            if r[4] > now - 0.5}
                    theirs = {r[2] for j, a in enumerate(apps) if j != i
                              for r in a.records[-200:] if r[4] > now - 0.5}
                    if mine - theirs:
                        return i, mine - theirs
                return None
            victim, held = wait_for(holder, "a partition held by warrend 1 "
                                    "or 2 alone", deadline=60, interval=0.1)
            expect(pub.is_alive(), "events still flowing at the kill",
                   "all published already")
            ds[victim].terminate(signal.SIGKILL)
            killed_at = time.monotonic()
            others = [a for i, a in enumerate(apps) if i != victim]
            moved = wait_for(
                lambda: next((r[4] for a in others for r in a.records
                              if r[2] in held and r[4] > killed_at), None),
                "partitions %s at another app" % sorted(held), deadline=15)
            diag("partitions %s moved in %.2f s" % (sorted(held),
                                                    moved - killed_at))
            expect(moved - killed_at < 5.0, "the partition moved within 5 s",
                   "%.2f s" % (moved - killed_at))
            pub.join(120)
            expect(not pub.is_alive(), "every publish answered", "still going")
            seen = lambda: {(r[0], r[1]) for a in apps for r in a.records}  # noqa: E731
            wait_for(lambda: len(seen()) >= len(events),
                     "all %d events handled" % len(events), deadline=60,
                     interval=0.2)
            for a in apps:
                a.stop()
            check_per_key(apps, events, dedup=True)
    finally:
        broker_cleanup(service_name("kill"))


def partition_consumption_survives_a_broker_restart():
    """stop_app and start_app of the broker between two batches: both
    warrends reconnect, declare everything again and go on; every event is
    handled, in publish order per key (a redelivery may repeat one)."""
    exchange = unique("partition-brestart")
    first, second = make_events(20, 10), make_events(20, 20)[200:]
    try:
        with contextlib.ExitStack() as st:
            ds = [st.enter_context(d) for d in fleet("brestart", 2, exchange)]
            apps = [App("app%d" % i, d, time.monotonic, hold=0.001)
                    for i, d in enumerate(ds)]
            for a in apps:
                a.start()
            publish_all(ds[0], first)
            seen = lambda: {(r[0], r[1]) for a in apps for r in a.records}  # noqa: E731
            wait_for(lambda: len(seen()) >= len(first), "the first batch",
                     deadline=60, interval=0.1)
            try:
                rc, out = rabbitmqctl("stop_app")
                expect(rc == 0, "stop_app to work", out)
                time.sleep(1)
            finally:
                rc, out = rabbitmqctl("start_app")
            expect(rc == 0, "start_app to work", out)
            for d in ds:
                d.wait_broker(True, deadline=60)
            publish_all(ds[0], second)
            wait_for(lambda: len(seen()) >= len(first) + len(second),
                     "both batches handled", deadline=60, interval=0.1)
            for a in apps:
                a.stop()
            check_per_key(apps, first + second, dedup=True)
            for d in ds:
                d.assert_serving("after the broker restart")
    finally:
        broker_cleanup(service_name("brestart"))


def partition_deliveries_carry_the_key_header():
    """The published message carries cloudEvents:partitionkey with the
    key's value, and still goes to the topic exchange with the contract's
    routing key (a non-partitioned consumer gets it)."""
    with Broker() as b, Daemon("partition-header", contracts=[ORDER_STEP],
                               service=service_name("hdr")) as d:
        q = unique("partition-header")
        b.bind_queue(q, d.exchange, "order.step")
        with d.client() as c:
            expect_ok(c.request({"op": "publish", "event": EVENT,
                                 "data": {"order": "o-7", "seq": 3}}),
                      "publish")
        m = b.get_one(q)
        expect_eq("cloudEvents:partitionkey", "o-7",
                  m.header("cloudEvents:partitionkey"))


def partition_in_warren_subscribe_exec_environment():
    """warren subscribe --exec gives the command WARREN_PARTITION, the
    deliver line's partition (never one warren itself was started with)."""
    import subprocess
    import tempfile
    warren = os.environ.get("WARREN") or os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
        "warren", "warren"))
    service = service_name("exec")
    tmp = tempfile.mkdtemp(prefix="warren-part-exec.")
    out = os.path.join(tmp, "out")
    cmd = 'cat > /dev/null; printf "%s\\n" "$WARREN_PARTITION" >> ' + out
    try:
        with Daemon("partition-exec", contracts=[ORDER_STEP],
                    service=service) as d:
            with d.client() as c:   # the partitions, to hold the events
                expect_ok(c.request({"op": "subscribe", "event": EVENT}),
                          "subscribe")
                expect_ok(c.request({"op": "unsubscribe", "event": EVENT}),
                          "unsubscribe")
                for i in range(8):
                    expect_ok(c.request(
                        {"op": "publish", "event": EVENT,
                         "data": {"order": "o-%d" % i, "seq": 0}}),
                        "publish")
            env = dict(os.environ, WARREN_PARTITION="stale")
            p = subprocess.Popen([warren, "-s", d.sock_path, "subscribe",
                                  "--exec", cmd, EVENT], env=env,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL)
            try:
                wait_for(lambda: os.path.exists(out) and
                         open(out).read().count("\n") >= 8,
                         "8 runs of the command", deadline=30)
            finally:
                p.terminate()
                p.wait(10)
        got = open(out).read().split()
        expect(all(x in [str(i) for i in range(PARTS)] for x in got),
               "WARREN_PARTITION 0..%d in every run" % (PARTS - 1), got)
    finally:
        broker_cleanup(service)
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


def partition_count_change_is_refused():
    """A warrend whose partitions differ from the broker's exchange is
    refused at subscribe (it would split keys over two rings), naming the
    argument."""
    service = service_name("count")
    exchange = unique("partition-count")
    other = dict(ORDER_STEP, partitions=PARTS + 2)
    try:
        with Daemon("partition-count-a", contracts=[ORDER_STEP],
                    service=service, exchange=exchange) as d1, \
                Daemon("partition-count-b", contracts=[other], service=service,
                       exchange=exchange) as d2:
            with d1.client() as c1, d2.client() as c2:
                expect_ok(c1.request({"op": "subscribe", "event": EVENT}),
                          "subscribe")
                r = c2.request({"op": "subscribe", "event": EVENT})
                expect_eq("subscribe with another count: ok", False,
                          r.get("ok"))
                expect("partitions-%d" % (PARTS + 2) in r.get("message", ""),
                       "a message naming the new count", r)
    finally:
        b = Broker().connect(deadline=5)
        b.queues = ["%s.%s.p%d" % (service, EVENT, i)
                    for i in range(PARTS + 2)]
        b.queues.append("%s.%s.dead" % (service, EVENT))
        b.exchanges = ["%s.%s.hash" % (service, EVENT)]
        b.cleanup()


def partition_refused_midway_consumes_none():
    """When the broker refuses one partition queue (here p2, declared
    before with other arguments), the subscribe is rejected naming it and
    no partition is left consuming (its deliveries would only go back)."""
    service = service_name("midway")
    exchange = unique("partition-midway")
    odd = "%s.%s.p2" % (service, EVENT)
    try:
        with Broker() as b:
            b._do(lambda ch: ch.queue_declare(odd, durable=True))
            with Daemon("partition-midway", contracts=[ORDER_STEP],
                        service=service, exchange=exchange) as d:
                with d.client() as c:
                    r = c.request({"op": "subscribe", "event": EVENT})
                    expect_eq("subscribe ok", False, r.get("ok"))
                    expect(odd in r.get("message", ""),
                           "a message naming %s" % odd, r)
                    rc, out = rabbitmqctl("list_queues", "name", "consumers")
                    busy = [ln for ln in out.splitlines()
                            if ln.startswith(service + ".")
                            and not ln.endswith("\t0")]
                    expect(not busy, "no queue of %s with a consumer"
                           % service, busy)
    finally:
        broker_cleanup(service)


def partition_topology_survives_a_warrend_restart():
    """The hash exchange, its binding to the topic exchange and the N
    quorum queues stay; a restarted warrend declares them again without
    error and gets what was published while it was away."""
    service = service_name("restart")
    exchange = unique("partition-restart")
    try:
        with Daemon("partition-restart", contracts=[ORDER_STEP],
                    service=service, exchange=exchange) as d:
            with d.client() as c:
                expect_ok(c.request({"op": "subscribe", "event": EVENT}),
                          "subscribe")
            d.terminate()
            d.start()
            with d.client() as c:
                expect_ok(c.request({"op": "publish", "event": EVENT,
                                     "data": {"order": "o-1", "seq": 0}}),
                          "publish")
            d.terminate()
            d.start()
            with d.client() as c:
                expect_ok(c.request({"op": "subscribe", "event": EVENT}),
                          "subscribe")
                m = c.read()
                expect_eq("deliver op", "deliver", m.get("op"))
                expect_eq("deliver data", {"order": "o-1", "seq": 0},
                          m.get("data"))
        rc, out = rabbitmqctl("list_queues", "name", "arguments")
        for i in range(PARTS):
            line = [x for x in out.splitlines()
                    if x.startswith("%s.%s.p%d\t" % (service, EVENT, i))]
            expect(line and "x-single-active-consumer" in line[0] and
                   "quorum" in line[0],
                   "queue p%d a single-active-consumer quorum queue" % i,
                   line)
    finally:
        broker_cleanup(service)


if __name__ == "__main__":
    run([
        partition_deliveries_carry_the_key_header,
        partition_topology_survives_a_warrend_restart,
        partition_count_change_is_refused,
        partition_in_warren_subscribe_exec_environment,
        partition_refused_midway_consumes_none,
        partition_three_warrends_each_key_once_in_order,
        partition_moves_when_its_warrend_is_killed,
        partition_consumption_survives_a_broker_restart,
    ])
