#!/usr/bin/python3
"""Load: pipelined requests answered in order, many concurrent clients, and
every event answered ok is in the queue."""

import collections
import json
import time
import os
import threading

from warrentest import (Broker, Daemon, Failure, Pipeliner, expect, expect_eq, expect_error, fail, order_data, publish_req, resource_data, run, short, unique, wait_for)


def drain_ids(b, q, n):
    """Wait for n messages in q and return a Counter of their message_ids."""
    b.wait_count(q, n, deadline=30)
    return collections.Counter(m.props.message_id for m in b.get_all(q))


def check_all_in_queue(b, q, mids):
    got = drain_ids(b, q, len(mids))
    missing = [m for m in mids if got[m] < 1]
    expect(not missing, "every message_id answered ok in the queue",
           "%d of %d missing, e.g. %s" % (len(missing), len(mids), missing[:5]))
    extra = set(got) - set(mids)
    expect(not extra, "no message in the queue that was not answered ok",
           "%d unknown message_ids, e.g. %s" % (len(extra), sorted(extra)[:5]))


def pipeline(c, reqs):
    """Send reqs in one go from a thread and read len(reqs) replies."""
    lines = [json.dumps(r).encode() + b"\n" for r in reqs]
    p = Pipeliner(c, lines)
    replies = []
    for i in range(len(reqs)):
        try:
            replies.append(c.read(timeout=30))
        except Failure as e:
            fail("reply %d of %d: %s" % (i, len(reqs), e))
    p.join()
    return replies


def load_1000_pipelined_requests_answered_in_order():
    with Broker() as b, Daemon("l_pipeline") as d:
        q = unique("l_pipeline")
        b.bind_queue(q, d.exchange, "resource.accessed")
        reqs = []
        for i in range(1000):
            if i % 3 == 0:
                reqs.append({"op": "ping", "id": i})
            else:
                reqs.append(publish_req(data=resource_data(i), id=i))
        with d.client() as c:
            replies = pipeline(c, reqs)
        mids = []
        for i, (req, r) in enumerate(zip(reqs, replies)):
            if r.get("id") != i or r.get("ok") is not True or r.get("op") != req["op"]:
                fail("reply %d: expected {\"op\":%s,\"ok\":true,\"id\":%d}, got %s"
                     % (i, json.dumps(req["op"]), i, short(json.dumps(r))))
            if req["op"] == "publish":
                mids.append(r.get("message_id"))
        check_all_in_queue(b, q, mids)
        d.assert_serving()


def load_pipelined_errors_keep_request_order():
    """Replies that need no broker (errors, pings) wait behind publishes
    still waiting for their confirm."""
    with Broker() as b, Daemon("l_errors_order") as d:
        q = unique("l_errors_order")
        b.bind_queue(q, d.exchange, "resource.accessed")
        reqs, want = [], []
        for i in range(300):
            k = i % 5
            if k == 0:
                reqs.append(publish_req(data=resource_data(i), id=i)); want.append(None)
            elif k == 1:
                reqs.append({"op": "ping", "id": i}); want.append(None)
            elif k == 2:
                reqs.append(publish_req(data=dict(resource_data(i), accessed_at="2024-05-01"),
                                        id=i)); want.append("validation")
            elif k == 3:
                reqs.append({"op": "nosuchop", "id": i}); want.append("unknown_op")
            else:
                reqs.append(publish_req("NoSuchEvent", {}, id=i)); want.append("unknown_event")
        with d.client() as c:
            replies = pipeline(c, reqs)
        mids = []
        for i, (req, code, r) in enumerate(zip(reqs, want, replies)):
            if r.get("id") != i:
                fail("reply %d out of order: expected id %d, got %s"
                     % (i, i, short(json.dumps(r))))
            if code is None:
                if r.get("ok") is not True:
                    fail("reply %d: expected ok, got %s" % (i, short(json.dumps(r))))
                if req["op"] == "publish":
                    mids.append(r["message_id"])
            else:
                expect_error(r, code, id=i, req=req)
        check_all_in_queue(b, q, mids)


def load_pipeline_beyond_confirm_window_all_confirmed():
    with Broker() as b, Daemon("l_window", broker_opts={"confirm_window": 4}) as d:
        q = unique("l_window")
        b.bind_queue(q, d.exchange, "resource.accessed")
        reqs = [publish_req(data=resource_data(i), id=i) for i in range(500)]
        with d.client() as c:
            replies = pipeline(c, reqs)
        for i, r in enumerate(replies):
            if r.get("id") != i or r.get("ok") is not True:
                fail("reply %d: expected ok with id %d, got %s" % (i, i, short(json.dumps(r))))
        check_all_in_queue(b, q, [r["message_id"] for r in replies])


def load_200_concurrent_clients_all_published():
    nclients, per = 200, 5
    with Broker() as b, Daemon("l_concurrent", socket_opts={"max_clients": 300}) as d:
        q = unique("l_concurrent")
        b.bind_queue(q, d.exchange, "resource.accessed")
        results = [None] * nclients
        errors = []
        go = threading.Event()

        def worker(k):
            try:
                c = d.client()
                go.wait(30)
                mids = []
                try:
                    for j in range(per):
                        req = publish_req(data=resource_data(k * per + j), id=[k, j])
                        r = c.request(req, timeout=60)
                        if r.get("ok") is not True or r.get("id") != [k, j]:
                            errors.append("client %d request %d: %s -> %s"
                                          % (k, j, json.dumps(req), json.dumps(r)))
                            return
                        mids.append(r["message_id"])
                finally:
                    c.close()
                results[k] = mids
            except Exception as e:
                errors.append("client %d: %s" % (k, e))

        threads = [threading.Thread(target=worker, args=(k,), daemon=True)
                   for k in range(nclients)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join(120)
        expect(not errors, "every client's publishes answered ok",
               "%d problems, first: %s" % (len(errors), errors[:3]))
        expect(all(r is not None for r in results), "every client finished",
               "%d did not" % sum(r is None for r in results))
        mids = [m for r in results for m in r]
        expect_eq("distinct message_ids", nclients * per, len(set(mids)))
        check_all_in_queue(b, q, mids)
        d.assert_serving()


def load_connection_churn_leaks_no_descriptors():
    with Daemon("l_churn", wait_connected=False) as d:
        pid = d.proc.pid

        def nfds():
            return len(os.listdir("/proc/%d/fd" % pid))
        base = nfds()
        for i in range(300):
            with d.client() as c:
                c.ping()
        for i in range(300):
            d.client().close()
        for i in range(200):
            c = d.client()
            c.send(b'{"op":"ping","id":' + b"1" * (i % 50))
            c.close()
        for i in range(100):
            c = d.client()
            c.send(b'{"op":"contracts"}\n' * 50)
            c.close()
        wait_for(lambda: nfds() <= base + 2,
                 "warrend's open descriptors to return to %d after 900 short connections "
                 "(it has %d)" % (base, nfds()))
        d.assert_serving()


def cpu_seconds(pid):
    """User plus system CPU time of pid so far, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_warrend_burns_no_cpu():
    """With no client and no subscription, no thread may spin: over three
    idle seconds warrend uses a small fraction of one second of CPU."""
    with Daemon("idle_cpu") as d:
        with d.client() as c:
            c.ping()
        before = cpu_seconds(d.proc.pid)
        time.sleep(3)
        used = cpu_seconds(d.proc.pid) - before
        expect(used < 0.5, "under 0.5 s of CPU in 3 idle seconds",
               "%.2f s" % used)


def out_of_order_confirms_never_mix_up_events():
    """With a window of 2, routed (slow, persistent) and unroutable (fast)
    events interleaved make the broker confirm out of order: every publish
    must still be answered ok, and nothing may stay in flight."""
    with Broker() as b, Daemon("ooo_confirms", spool={"max_bytes": 0},
                               broker_opts={"confirm_window": 2,
                                            "publish_timeout_ms": 20000}) as d:
        q = unique("ooo")
        b.bind_queue(q, d.exchange, "resource.accessed", durable=True)
        with d.client() as c:
            for i in range(300):
                if i % 3 == 0:
                    c.send(publish_req(id=i))
                else:
                    c.send(publish_req("OrderPlacedEvent", order_data(), id=i))
            for i in range(300):
                r = c.read()
                expect(r.get("ok") is True and r.get("id") == i,
                       "publish %d answered ok in order" % i, json.dumps(r))
        wait_for(lambda: d.stats()["stats"]["in_flight"] == 0,
                 "nothing left in flight")
        b.wait_count(q, 100)


if __name__ == "__main__":
    run([
        out_of_order_confirms_never_mix_up_events,
        idle_warrend_burns_no_cpu,
        load_1000_pipelined_requests_answered_in_order,
        load_pipelined_errors_keep_request_order,
        load_pipeline_beyond_confirm_window_all_confirmed,
        load_200_concurrent_clients_all_published,
        load_connection_churn_leaks_no_descriptors,
    ])
