"""Ordered partitions on a 3-node cluster losing the node a consuming
warrend is connected to.

Starts its own 3-node cluster (tests/rabbit-node, as test_cluster.py, with
rabbitmq_consistent_hash_exchange), two warrends of one service consuming a
contract partitioned into 4, each connected to one node (node 1 and node
2), each with an acking app, and a third warrend on node 3 publishing
events over 40 keys. While events flow, node 1 is SIGKILLed: the
partitions its warrend held must go on at the other warrend's app within
a few seconds, and every event must be handled, in publish order per key
(a redelivery may repeat one, never reorder).

Environment: as test_cluster.py (WARREN_CLUSTER_PORT, WARREN_CLUSTER_NAME).
"""

import atexit
import contextlib
import os
import signal
import threading
import time

from test_cluster import NODES, Cluster, url_of
from test_partition import (ORDER_STEP, App, check_per_key, make_events,
                            publish_all)
from warrentest import Daemon, diag, expect, run, wait_for

SERVICE = "partition-cluster-%d" % os.getpid()
EXCHANGE = "partition.cluster.%d" % os.getpid()
MOVE_BOUND = 10.0      # seconds for a held partition to go on elsewhere
S = {}


def daemon(name, port):
    d = Daemon(name, contracts=[ORDER_STEP], service=SERVICE,
               exchange=EXCHANGE, urls=[url_of(port)])
    return d


def cluster_partition_moves_when_its_node_dies():
    cl = S["cluster"] = Cluster()
    cl.start()
    events = make_events(40, 75)
    with contextlib.ExitStack() as st:
        a = st.enter_context(daemon("pcl-a", NODES[0][1]))
        b = st.enter_context(daemon("pcl-b", NODES[1][1]))
        p = st.enter_context(daemon("pcl-pub", NODES[2][1]))
        for d in (a, b, p):
            d.wait_broker(True, deadline=60)
        apps = [App("app-a", a, time.monotonic, hold=0.002)]
        apps.append(App("app-b", b, time.monotonic, hold=0.002))
        for x in apps:
            x.start()
        pub = threading.Thread(target=publish_all, args=(p, events, 250),
                               daemon=True)
        pub.start()

        def held_by_a():
            now = time.monotonic()
            mine = {r[2] for r in apps[0].records[-50:] if r[4] > now - 0.5}
            theirs = {r[2] for r in apps[1].records[-200:] if r[4] > now - 0.5}
            return (mine - theirs) or None
        time.sleep(4)   # the warrends share the partitions out
        held = wait_for(held_by_a, "a partition held by the warrend on node 1",
                        deadline=30, interval=0.1)
        expect(pub.is_alive(), "events still flowing at the kill",
               "all published already")
        cl.kill(NODES[0][0])
        killed_at = time.monotonic()
        moved = wait_for(
            lambda: next((r[4] for r in apps[1].records
                          if r[2] in held and r[4] > killed_at), None),
            "partitions %s at the app on node 2" % sorted(held), deadline=60)
        diag("partitions %s went on at node 2's warrend %.2f s after node 1 "
             "died" % (sorted(held), moved - killed_at))
        print("# partitions %s moved in %.2f s" % (sorted(held),
                                                    moved - killed_at))
        expect(moved - killed_at < MOVE_BOUND,
               "the partition moved within %.0f s" % MOVE_BOUND,
               "%.2f s" % (moved - killed_at))
        pub.join(120)
        expect(not pub.is_alive(), "every publish answered", "still going")
        seen = lambda: {(r[0], r[1]) for x in apps for r in x.records}  # noqa: E731
        wait_for(lambda: len(seen()) >= len(events),
                 "all %d events handled" % len(events), deadline=90,
                 interval=0.2)
        for x in apps:
            x.stop()
        check_per_key(apps, events, dedup=True)
        a.terminate()   # its node is gone: it may not exit 0 in time
        a.stopping = True


def cleanup():
    cl = S.pop("cluster", None)
    if cl is not None:
        cl.wipe()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(
        KeyboardInterrupt("SIGTERM")))
    atexit.register(cleanup)
    run([cluster_partition_moves_when_its_node_dies])
