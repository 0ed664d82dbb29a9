#!/usr/bin/python3
"""No event twice to the app: an event the app acked whose ack never
reached the broker (the connection dropped first) is redelivered by the
broker, and warrend acks it without handing it to the app again, because
its message_id is in the subscription's acked-ids window; an event the
app had not acked is handed out again. The same across a warrend restart
(the window is on disk), and counted in stats and /metrics. Without the
window (consume.dedup_max_ids = 0) the acked event does come back: that
is what the window is for.

The connection drop is forced with a TCP proxy: frozen, it forwards
nothing (the ack stays with it); thawed, it closes every connection, so
the broker requeues what it never saw acked."""

import json
import os
import signal

from test_subscribe import (Broker, Sub, consumer_daemon, publish, queue_of,
                            wait_queue)
from warrentest import (free_port, metric, FreezableProxy, expect, expect_eq,
                        fail, short, wait_for)


def dedup_file(d):
    """Where warrend(8) says the window of d's subscription lives by
    default: dedup/ beside the spool directory."""
    return os.path.join(d.dir, "dedup", queue_of(d) + ".dedup")


def file_holds(path, mid):
    try:
        with open(path, "rb") as f:
            return mid.encode() in f.read()
    except OSError:
        return False


def proxied_daemon(b, name, proxy, **kw):
    return consumer_daemon(b, name, urls=[proxy.url], wait_connected=True,
                           broker_opts={"reconnect_min_ms": 50,
                                        "reconnect_max_ms": 300}, **kw)


def ack_one_while_frozen(d, s, proxy, window=True):
    """Two events delivered; with the proxy frozen the app acks the first
    (the ack cannot reach the broker) and holds the second. Returns their
    message_ids."""
    s.subscribe(id=1)
    acked, unacked = publish(d, 2)
    got = {m["message_id"]: m for m in (s.deliver(), s.deliver())}
    expect_eq("message_ids delivered", sorted([acked, unacked]), sorted(got))
    proxy.freeze()
    s.ack(got[acked]["tag"])
    s.sync("the ack sent while the broker connection is frozen")
    if window:
        wait_for(lambda: file_holds(dedup_file(d), acked),
                 "the acked message_id in %s" % dedup_file(d))
    return acked, unacked


def expect_only_unacked_again(s, q, acked, unacked, seen_before):
    """The unacked event comes back (redelivered) and the acked one does
    not; once the unacked one is acked the queue holds nothing."""
    m = s.deliver(timeout=30, what="the unacked event again after the drop")
    expect_eq("message_id delivered after the drop", unacked, m["message_id"])
    expect_eq("redelivered of the unacked event", True, m["redelivered"])
    s.ack(m["tag"])
    s.sync()
    wait_queue(q, ready=0, unacked=0)
    again = [x for x in s.all[seen_before:] if x["message_id"] == acked]
    expect(not again, "the acked event not handed out again", short(json.dumps(again)))
    expect(s.try_deliver(1.0) is None, "no further delivery", short(json.dumps(s.all)))


def acked_event_not_redelivered_after_connection_drop_unacked_one_is():
    name = "dedup_drop"
    port = free_port()
    with Broker() as b, FreezableProxy() as proxy, \
            proxied_daemon(b, name, proxy, top={"metrics": {
                "listen": "127.0.0.1:%d" % port}}) as d, Sub(d) as s:
        acked, unacked = ack_one_while_frozen(d, s, proxy)
        proxy.thaw()
        expect_only_unacked_again(s, queue_of(d), acked, unacked, 2)
        expect_eq("stats.deduplicated", 1, s.stats().get("deduplicated"))
        expect_eq("warren_deduplicated_total", 1.0,
                  metric(port, "warren_deduplicated_total"))


def acked_event_not_redelivered_after_warrend_restart():
    name = "dedup_restart"
    with Broker() as b, FreezableProxy() as proxy, \
            proxied_daemon(b, name, proxy) as d:
        with Sub(d) as s:
            acked, unacked = ack_one_while_frozen(d, s, proxy)
        expect_eq("exit status after SIGKILL", -signal.SIGKILL,
                  d.terminate(signal.SIGKILL))
        proxy.thaw()
        d.start()
        d.stopping = False
        with Sub(d) as s:
            s.subscribe(id=1)
            expect_only_unacked_again(s, queue_of(d), acked, unacked, 0)
            expect_eq("stats.deduplicated after the restart", 1,
                      s.stats().get("deduplicated"))


def acked_event_handed_again_without_dedup_window():
    """The control: with consume.dedup_max_ids = 0 the same drop hands the
    acked event to the app again (the broker never saw its ack)."""
    name = "dedup_off"
    with Broker() as b, FreezableProxy() as proxy, \
            proxied_daemon(b, name, proxy, top={"consume": {"dedup_max_ids": 0}}) as d, \
            Sub(d) as s:
        acked, unacked = ack_one_while_frozen(d, s, proxy, window=False)
        proxy.thaw()
        back = set()
        while back != {acked, unacked}:
            m = s.deliver(timeout=30, what="both events again (no window)")
            back.add(m["message_id"])
            s.ack(m["tag"])
        s.sync()
        wait_queue(queue_of(d), ready=0, unacked=0)
        expect_eq("stats.deduplicated", 0, s.stats().get("deduplicated"))
        expect(not os.path.exists(dedup_file(d)), "no dedup file without a window",
               dedup_file(d))


if __name__ == "__main__":
    from warrentest import run
    run([
        acked_event_not_redelivered_after_connection_drop_unacked_one_is,
        acked_event_not_redelivered_after_warrend_restart,
        acked_event_handed_again_without_dedup_window,
    ])
