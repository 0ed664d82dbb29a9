"""Replay from a stream while a node of a 3-node cluster dies.

Starts its own 3-node cluster (the nodes of test_cluster.py, wiped before
and after) and a warrend whose broker.urls list the three nodes, with a
contract that keeps a stream. It publishes 30 events; a replay from "first"
takes 10 of them, then the node both of warrend's connections are on (node
1, which also leads the stream, declared there first) is SIGKILLed. Then:
the same replay goes on after warrend reconnects to another node and
delivers exactly the other 20, then 10 published while the node is down;
a new replay from the offset after the 10th delivers exactly the 30 after
it; once the node is back, nothing is lost or repeated either.

Environment: WARREN_CLUSTER_PORT and WARREN_CLUSTER_NAME, as for
test_cluster.py.
"""

import atexit
import copy
import signal

import warrentest
from warrentest import (Daemon, RESOURCE_ACCESSED, expect, expect_eq, expect_ok,
                        fail, publish_req, resource_data, run, short, wait_for)
from test_cluster import NODES, Cluster, log, url_of

EVENT = "ResourceAccessedEvent"
FAILOVER_DEADLINE = 90.0    # a node's death, a new stream leader, a reconnect
QUIET = 1.0
S = {}


def publish_n(client, first, n):
    ids = []
    for i in range(first, first + n):
        r = client.request(publish_req(data=resource_data(i), id=i), timeout=FAILOVER_DEADLINE)
        expect_ok(r, "publish")
        ids.append(r["message_id"])
    return ids


def read(client, n, deadline=warrentest.DEADLINE):
    out = []
    for _ in range(n):
        m = client.read(timeout=deadline)
        if m.get("op") != "deliver":
            fail("expected a deliver line, got %s" % short(m))
        client.send({"op": "ack", "tag": m["tag"]})
        out.append(m)
    return out


def expect_ids(what, got, ids):
    expect_eq(what, ids, [m["message_id"] for m in got])


def expect_silence(client, what):
    try:
        m = client.read(timeout=QUIET)
    except warrentest.Failure:
        return
    fail("expected nothing more %s, got %s" % (what, short(m)))


def cluster_replay_goes_on_when_its_node_dies():
    cl = Cluster()
    S["cluster"] = cl
    cl.start()
    contract = copy.deepcopy(RESOURCE_ACCESSED)
    contract["stream"] = {"max_age": "1D", "max_bytes": 100000000}
    d = Daemon("cluster-stream", service="cluster-stream",
               urls=[url_of(p) for _, p in NODES], contracts=[contract],
               wait_connected=True,
               broker_opts={"reconnect_min_ms": 100, "reconnect_max_ms": 2000})
    S["daemon"] = d
    d.start()
    queue = "%s.%s.stream" % (d.exchange, EVENT)
    cl.wait_online([queue])
    pc = d.client()
    c = d.client()
    S["clients"] = [pc, c]
    ids = publish_n(pc, 0, 30)
    expect_ok(c.request({"op": "subscribe", "id": 1, "event": EVENT, "from": "first"}),
              "subscribe")
    head = read(c, 10)
    expect_ids("the first 10", head, ids[:10])
    log("killing %s, which warrend is connected to and which leads %s"
        % (NODES[0][0], queue))
    cl.kill(NODES[0][0])
    rest = read(c, 20, FAILOVER_DEADLINE)
    expect_ids("the other 20 after the node died", rest, ids[10:])
    more = publish_n(pc, 30, 10)
    expect_ids("events published while the node is down", read(c, 10, FAILOVER_DEADLINE),
               more)
    expect_silence(c, "after them")
    with d.client() as c2:
        expect_ok(c2.request({"op": "subscribe", "id": 2, "event": EVENT,
                              "from": head[-1]["offset"] + 1}), "subscribe")
        expect_ids("a replay from a saved offset on another node", read(c2, 30),
                   ids[10:] + more)
        expect_silence(c2, "after them")
    cl.start_node(*NODES[0])
    cl.wait_online([queue])
    with d.client() as c3:
        expect_ok(c3.request({"op": "subscribe", "id": 3, "event": EVENT,
                              "from": "first"}), "subscribe")
        expect_ids("the whole history once the node is back", read(c3, 40),
                   ids + more)
        expect_silence(c3, "after it")


def cleanup():
    for c in S.pop("clients", []):
        c.close()
    d = S.pop("daemon", None)
    problem = None
    if d is not None and d.proc is not None:
        problem = d._cleanup(False)
    cl = S.pop("cluster", None)
    if cl is not None:
        cl.wipe()
    return problem


def cluster_stream_cleanup_warrend_exits_zero():
    problem = cleanup()
    if problem:
        fail(problem)


def _interrupted(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    atexit.register(cleanup)

    def with_log(t):
        def g():
            try:
                t()
            except BaseException:
                d = S.get("daemon")
                if d is not None and d.proc is not None:
                    warrentest.diag("warrend log (%s), last lines:\n%s"
                                    % (d.log_path, d.log_tail(60)))
                raise
        g.__name__ = t.__name__
        return g
    run([with_log(t) for t in (cluster_replay_goes_on_when_its_node_dies,
                               cluster_stream_cleanup_warrend_exits_zero)])
