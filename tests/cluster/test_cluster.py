"""A RabbitMQ cluster losing nodes: warrend rides it as a user would.

Starts its own 3-node cluster (tests/rabbit-node, private ports and node
names), binds quorum queues to the routing key, and has warrend, with
broker.urls listing the three nodes and the spool on, publish events with
unique message_ids from several pipelining clients while two local
subscribers consume and ack. Then:

  kill 1  SIGKILL the node warrend is connected to, which leads every
          queue; restart it once the other two carry on.
  kill 2  with all three back, move every queue's leadership to the node
          warrend is connected to now and SIGKILL that one; restart it.

Two nodes of three always stay up, so the quorum queues stay available and
every bound below is meaningful. (With two down a quorum queue takes
nothing: warrend then spools, and answers "unavailable" once the spool is
full; the ordinary suite covers that.)

Afterwards every event answered ok must be in the queue, every event
answered with an error must not be, and per kill the duplicates must not
exceed the events that were in flight when the connection dropped, no reply
may take longer than publish_timeout_ms, the first confirm from another
node must come within 5 s of the kill, and the subscribers' largest gap
between deliveries must stay under 5 s. The figures are printed per kill.

Environment: WARREN_CLUSTER_PORT (default 5761) is the first node's AMQP
port, the others follow; the nodes are named warren-cl1..3 (override the
prefix with WARREN_CLUSTER_NAME). They are wiped before and after.
"""

import atexit
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

from warrentest import (Client, Daemon, Failure, RESOURCE_ACCESSED, diag,
                        expect_ok, fail, resource_data, run, wait_for, _pika)

HERE = os.path.dirname(os.path.abspath(__file__))
RABBIT_NODE = os.path.join(HERE, "..", "rabbit-node")
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
BASE_PORT = int(os.environ.get("WARREN_CLUSTER_PORT", "5761"))
PREFIX = os.environ.get("WARREN_CLUSTER_NAME", "warren-cl")
NODES = [("%s%d" % (PREFIX, i + 1), BASE_PORT + i) for i in range(3)]
EVENT = "ResourceAccessedEvent"
ROUTING_KEY = RESOURCE_ACCESSED["routing_key"]
SERVICE = "cluster-test"
SUB_QUEUE = "%s.%s" % (SERVICE, EVENT)
AUDIT_QUEUES = ["cluster.audit.a", "cluster.audit.b"]
PUBLISH_TIMEOUT_MS = 5000
CLIENTS = 4                 # publishing clients, each pipelining
RATE = 100                  # events per second per client
MAX_OUTSTANDING = 400       # unanswered requests per client
SETTLE = 4.0                # seconds of steady publishing around each kill
DOWN = 10.0                 # seconds a killed node stays down
FAILOVER_BOUND = 5.0
GAP_BOUND = 5.0
NACK_BOUND = 20             # nacks per kill (a window is 1,024)

S = {}                      # the scenario's results, shared by the tests
T_BEGIN = time.monotonic()


def node_of(name):
    return "%s@localhost" % name


def addr_of(port):
    return "127.0.0.1:%d" % port


def url_of(port):
    return "amqp://guest:guest@127.0.0.1:%d/%%2f" % port


def log(msg):
    print("# %s" % msg, flush=True)


def sh(*args, timeout=120):
    env = dict(os.environ)
    env["HOME"] = env.get("HOME") or "/root"
    p = subprocess.run(list(args), env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def ctl(name, *args, timeout=60):
    return sh(CTL, "-n", node_of(name), *args, timeout=timeout)


# ----------------------------------------------------------------- cluster


class Cluster:
    """Three private nodes clustered together."""

    def __init__(self):
        self.up = {name: False for name, _ in NODES}

    def wipe(self):
        for name, _ in NODES:
            sh(RABBIT_NODE, "wipe", name)
            self.up[name] = False

    def start_node(self, name, port):
        rc, out = sh(RABBIT_NODE, "start", name, str(port), timeout=180)
        if rc != 0:
            fail("node %s did not start: %s" % (name, out.strip()))
        self.up[name] = True

    def start(self):
        self.wipe()
        threads = []
        errors = []

        def one(name, port):
            try:
                self.start_node(name, port)
            except Failure as e:
                errors.append(str(e))
        for name, port in NODES:
            t = threading.Thread(target=one, args=(name, port))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        if errors:
            fail("; ".join(errors))
        for name, _ in NODES[1:]:
            rc, out = sh(RABBIT_NODE, "join", name, NODES[0][0])
            if rc != 0:
                fail("node %s could not join %s: %s" % (name, NODES[0][0], out))
        rc, out = ctl(NODES[0][0], "-q", "cluster_status", "--formatter", "json")
        running = json.loads(out).get("running_nodes", []) if rc == 0 else []
        if sorted(running) != sorted(node_of(n) for n, _ in NODES):
            fail("cluster did not form: running nodes %s (%s)" % (running, out[-300:]))

    def kill(self, name):
        sh(RABBIT_NODE, "kill", name)
        self.up[name] = False

    def live(self):
        return next(n for n, _ in NODES if self.up[n])

    def queues(self):
        """{queue: (leader, [online members])} as the cluster sees it."""
        rc, out = ctl(self.live(), "-q", "list_queues", "name", "leader",
                      "online", "--formatter", "json")
        if rc != 0:
            return {}
        return {q["name"]: (q.get("leader"), q.get("online") or [])
                for q in json.loads(out)}

    def wait_online(self, queues, deadline=90):
        """Every queue has all three members online and a leader."""
        want = sorted(node_of(n) for n, _ in NODES)

        def ok():
            qs = self.queues()
            return all(q in qs and sorted(qs[q][1]) == want and qs[q][0]
                       for q in queues)
        wait_for(ok, "queues %s with all three members online" % queues,
                 deadline, 0.5)

    def transfer(self, queue, name):
        """Make name the leader of queue (Raft leadership transfer)."""
        expr = ('{ok,Q}=rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, '
                '<<"%s">>)), {R,_}=amqqueue:get_pid(Q), '
                "ra:transfer_leadership(amqqueue:get_pid(Q), {R, '%s'})."
                % (queue, node_of(name)))
        ctl(self.live(), "eval", expr)

    def lead(self, queues, name, deadline=30):
        def ok():
            qs = self.queues()
            if all(qs.get(q, (None,))[0] == node_of(name) for q in queues):
                return True
            for q in queues:
                if qs.get(q, (None,))[0] != node_of(name):
                    self.transfer(q, name)
            return False
        wait_for(ok, "%s leading %s" % (name, queues), deadline, 0.5)


# ----------------------------------------------------------------- traffic


class Publisher(threading.Thread):
    """One client pipelining publishes at RATE per second with unique
    message_ids; records when each was sent and how it was answered."""

    def __init__(self, d, idx, stop):
        super().__init__(daemon=True)
        self.c = Client(d.sock_path)
        self.idx = idx
        self.stop = stop
        self.sent = []          # (message_id, t_sent)
        self.replies = []       # (message_id, t_reply, reply dict)
        self.error = None
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self.read_all, daemon=True)

    def run(self):
        self.reader.start()
        try:
            seq = 0
            step = 0.05
            per = max(1, int(RATE * step))
            nxt = time.monotonic()
            while not self.stop.is_set():
                with self.lock:
                    outstanding = len(self.sent) - len(self.replies)
                if outstanding < MAX_OUTSTANDING:
                    lines = []
                    now = time.monotonic()
                    for _ in range(per):
                        mid = "c%d-%06d" % (self.idx, seq)
                        req = {"op": "publish", "id": seq, "event": EVENT,
                               "message_id": mid, "data": resource_data(seq)}
                        lines.append(json.dumps(req).encode() + b"\n")
                        with self.lock:
                            self.sent.append((mid, now))
                        seq += 1
                    self.c.sock.sendall(b"".join(lines))
                nxt += step
                time.sleep(max(0.0, nxt - time.monotonic()))
        except Exception as e:
            self.error = "sending: %r" % (e,)

    def read_all(self):
        try:
            while True:
                with self.lock:
                    done = self.stop.is_set() and len(self.replies) >= len(self.sent)
                    n = len(self.replies)
                    mid = self.sent[n][0] if n < len(self.sent) else None
                if done:
                    return
                if mid is None:
                    time.sleep(0.01)
                    continue
                r = self.c.read(timeout=60)
                with self.lock:
                    self.replies.append((mid, time.monotonic(), r))
                if r.get("id") != n:
                    self.error = "reply out of order: expected id %d, got %s" % (n, r)
                    return
        except Exception as e:
            self.error = "reading: %r" % (e,)

    def finish(self, deadline=60):
        self.join(deadline)
        self.reader.join(deadline)
        if self.reader.is_alive():
            fail("client %d: %d replies still missing %.0f s after the last "
                 "request" % (self.idx, len(self.sent) - len(self.replies), deadline))
        self.c.close()
        if self.error:
            fail("client %d: %s" % (self.idx, self.error))


class Subscriber(threading.Thread):
    """A local subscriber that acks every delivery and notes its time."""

    def __init__(self, d, idx):
        super().__init__(daemon=True)
        self.c = Client(d.sock_path)
        self.idx = idx
        self.times = []
        self.error = None
        self.closing = False
        req = {"op": "subscribe", "id": "s%d" % idx, "event": EVENT}
        expect_ok(self.c.request(req, timeout=30), "subscribe", req=req)

    def run(self):
        try:
            while not self.closing:
                line = self.c.readline(timeout=3600)
                if line is None:
                    return
                m = json.loads(line)
                if m.get("op") != "deliver":
                    continue
                self.times.append(time.monotonic())
                self.c.send({"op": "ack", "tag": m["tag"]})
        except Exception as e:
            if not self.closing:
                self.error = repr(e)

    def close(self):
        self.closing = True
        self.c.close()


class Monitor(threading.Thread):
    """Samples warrend's stats every 50 ms: which node, confirms so far."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d = d
        self.samples = []       # (t, address, connected, confirmed, republished, nacks)
        self.halt = threading.Event()

    def run(self):
        c = None
        while not self.halt.is_set():
            try:
                if c is None:
                    c = Client(self.d.sock_path)
                st = c.request({"op": "stats"}, timeout=10)["stats"]
                b = st["broker"]
                self.samples.append((time.monotonic(), b.get("address"),
                                     b.get("connected"),
                                     st["confirmed"] + st["spool"]["drained"],
                                     b.get("republished", 0), b.get("nacks", 0)))
            except Exception:
                c = None
            time.sleep(0.05)

    def address(self):
        return self.samples[-1][1] if self.samples else None


# ----------------------------------------------------------------- scenario


def amqp(port):
    pika = _pika()
    params = pika.ConnectionParameters(
        host="127.0.0.1", port=port,
        credentials=pika.PlainCredentials("guest", "guest"),
        connection_attempts=3, retry_delay=1, socket_timeout=10, heartbeat=0)
    return pika.BlockingConnection(params)


def declare_audit_queues(exchange):
    """Quorum queues bound to the routing key, declared on node 1 so that
    it leads them."""
    conn = amqp(NODES[0][1])
    ch = conn.channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    for q in AUDIT_QUEUES:
        ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
        ch.queue_bind(q, exchange, routing_key=ROUTING_KEY)
    conn.close()


def read_queue(port, queue):
    """Every message_id in queue, with repeats, consuming it empty."""
    conn = amqp(port)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=2000)
    n = ch.queue_declare(queue, passive=True).method.message_count
    ids = []
    for m, p, _ in ch.consume(queue, inactivity_timeout=5):
        if m is None:
            break
        ids.append(p.message_id)
        if len(ids) % 500 == 0 or len(ids) >= n:
            ch.basic_ack(m.delivery_tag, multiple=True)
    ch.cancel()
    conn.close()
    if len(ids) < n:
        fail("read only %d of the %d messages in %s" % (len(ids), n, queue))
    return ids


def kill_phase(cl, d, mon, victim, label):
    """Kill victim, keep publishing while it is down, restart it."""
    name, port = victim
    k = {"label": label, "node": name, "addr": addr_of(port)}
    wait_for(lambda: mon.address() == addr_of(port) and mon.samples[-1][2],
             "warrend publishing through %s" % name, 30)
    k["republished_before"] = mon.samples[-1][4]
    k["nacks_before"] = mon.samples[-1][5]
    log("%s: SIGKILL %s (warrend's node, leader of every queue)" % (label, name))
    k["t"] = time.monotonic()
    cl.kill(name)
    time.sleep(DOWN)
    log("%s: restarting %s" % (label, name))
    cl.start_node(name, port)
    cl.wait_online(AUDIT_QUEUES + [SUB_QUEUE])
    time.sleep(SETTLE)
    k["end"] = time.monotonic()
    return k


def scenario():
    cl = Cluster()
    S["cluster"] = cl
    log("starting a 3-node cluster on ports %s" % ", ".join(str(p) for _, p in NODES))
    t0 = time.monotonic()
    cl.start()
    log("cluster up in %.1f s" % (time.monotonic() - t0))
    d = Daemon("cluster", service=SERVICE, urls=[url_of(p) for _, p in NODES],
               contracts=[RESOURCE_ACCESSED], wait_connected=True,
               broker_opts={"queue_type": "quorum",
                            "publish_timeout_ms": PUBLISH_TIMEOUT_MS,
                            "reconnect_min_ms": 100,
                            "reconnect_max_ms": 30000})
    S["daemon"] = d
    d.start()
    declare_audit_queues(d.exchange)
    subs = [Subscriber(d, i) for i in range(2)]
    S["subs"] = subs
    for s in subs:
        s.start()
    cl.wait_online(AUDIT_QUEUES + [SUB_QUEUE])
    cl.lead(AUDIT_QUEUES + [SUB_QUEUE], NODES[0][0])
    mon = Monitor(d)
    mon.start()
    S["monitor"] = mon
    stop = threading.Event()
    pubs = [Publisher(d, i, stop) for i in range(CLIENTS)]
    S["pubs"] = pubs
    S["t_start"] = time.monotonic()
    for p in pubs:
        p.start()
    time.sleep(SETTLE)
    kills = [kill_phase(cl, d, mon, NODES[0], "kill 1")]
    # Kill 2: the node warrend moved to, made leader of every queue first.
    addr = mon.address()
    victim = next(((n, p) for n, p in NODES if addr_of(p) == addr), None)
    if victim is None or victim == NODES[0]:
        fail("after kill 1 warrend is on %s, not on another node" % addr)
    cl.lead(AUDIT_QUEUES + [SUB_QUEUE], victim[0])
    kills.append(kill_phase(cl, d, mon, victim, "kill 2"))
    S["kills"] = kills
    stop.set()
    S["t_stop"] = time.monotonic()
    for p in pubs:
        p.finish()
    # Everything answered; now let the spool drain and the subscribers
    # catch up before counting.
    wait_for(lambda: d.stats()["stats"]["spool"]["records"] == 0,
             "the spool to drain", 120, 0.5)
    mon.halt.set()
    S["stats"] = d.stats()["stats"]
    port = NODES[2][1]
    S["queued"] = {q: read_queue(port, q) for q in AUDIT_QUEUES}
    S["done"] = True


# ----------------------------------------------------------------- figures


LEAD = 2.0                  # events sent this long before a kill are its own


def phase_of(t):
    """0 before the first kill, i from shortly before kill i: the events
    on their way when a node dies were sent a little before it."""
    i = 0
    for n, k in enumerate(S["kills"]):
        if t >= k["t"] - LEAD:
            i = n + 1
    return i


def figures():
    if "figures" in S:
        return S["figures"]
    if not S.get("done"):
        fail("not run: the scenario did not finish")
    kills = S["kills"]
    phases = [{"events": 0, "ok": 0, "spooled": 0, "errors": 0, "lost": 0,
               "dups": 0, "max_latency": 0.0, "error_stored": 0}
              for _ in range(len(kills) + 1)]
    counts = {}
    for q, ids in S["queued"].items():
        for mid in ids:
            counts[(q, mid)] = counts.get((q, mid), 0) + 1
    S["lost_ids"], S["stored_errors"] = [], []
    for p in S["pubs"]:
        sent = dict(p.sent)
        for mid, t_reply, r in p.replies:
            ph = phases[phase_of(sent[mid])]
            ph["events"] += 1
            ph["max_latency"] = max(ph["max_latency"], t_reply - sent[mid])
            for q in AUDIT_QUEUES:
                n = counts.get((q, mid), 0)
                if r.get("ok") is True:
                    if n == 0:
                        ph["lost"] += 1
                        S["lost_ids"].append((q, mid, r))
                    ph["dups"] += max(0, n - 1)
                elif n > 0:
                    ph["error_stored"] += 1
                    S["stored_errors"].append((q, mid, r))
            if r.get("ok") is True:
                ph["ok"] += 1
                ph["spooled"] += 1 if r.get("spooled") else 0
            else:
                ph["errors"] += 1
    samples = S["monitor"].samples
    for i, k in enumerate(kills):
        ph = phases[i + 1]
        after = [s for s in samples if s[0] >= k["t"]]
        ph["in_flight"] = max([s[4] for s in after if s[0] < k["end"]] or
                              [k["republished_before"]]) - k["republished_before"]
        ph["nacks"] = max([s[5] for s in after if s[0] < k["end"]] or
                          [k["nacks_before"]]) - k["nacks_before"]
        ph["failover"] = None
        moved = [s for s in after if s[1] != k["addr"] and s[2]]
        if moved:
            base = moved[0][3]
            first = next((s for s in moved if s[3] > base), None)
            if first is not None:
                ph["failover"] = first[0] - k["t"]
        ph["gap"] = largest_gap(k["t"] - SETTLE, k["end"])
    phases[0]["gap"] = largest_gap(S["t_start"] + 1.0, kills[0]["t"])
    S["figures"] = phases
    for i, ph in enumerate(phases):
        name = "before the kills" if i == 0 else "%s (%s)" % (kills[i - 1]["label"], kills[i - 1]["node"])
        extra = ""
        if i > 0:
            extra = ", in flight at the drop %d, nacked %d, failover %s, delivery gap %.2f s" % (
                ph["in_flight"], ph["nacks"],
                "none" if ph["failover"] is None else "%.2f s" % ph["failover"],
                ph["gap"])
        log("%s: events %d (ok %d, spooled %d, errors %d), lost %d, "
            "duplicates %d, largest reply latency %.2f s%s"
            % (name, ph["events"], ph["ok"], ph["spooled"], ph["errors"],
               ph["lost"], ph["dups"], ph["max_latency"], extra))
    return phases


def largest_gap(t0, t1):
    times = sorted(t for s in S["subs"] for t in s.times if t0 <= t <= t1)
    if not times:
        return float("inf")
    edges = [t0] + times + [t1]
    return max(b - a for a, b in zip(edges, edges[1:]))


# ----------------------------------------------------------------- tests


def cluster_scenario_runs_two_node_kills_under_load():
    scenario()
    for s in S["subs"]:
        if s.error:
            fail("subscriber %d: %s" % (s.idx, s.error))
    figures()


def cluster_no_event_answered_ok_is_lost():
    figures()
    if S["lost_ids"]:
        fail("%d events answered ok are not in their queue, e.g. %s"
             % (len(S["lost_ids"]), S["lost_ids"][:5]))


def cluster_no_event_answered_with_an_error_is_stored():
    figures()
    if S["stored_errors"]:
        fail("%d events answered with an error reached a queue anyway, e.g. %s"
             % (len(S["stored_errors"]), S["stored_errors"][:5]))


def cluster_duplicates_at_most_the_events_in_flight_at_each_kill():
    if figures()[0]["dups"] != 0:
        fail("%d duplicate copies before any kill" % figures()[0]["dups"])
    for i, ph in enumerate(figures()[1:]):
        # Per queue: each audit queue gets a copy of every event. A quorum
        # queue electing a leader nacks events it may store all the same,
        # so each nack may make one more copy: warrend's part is to nack
        # few (next test), by probing one event at a time.
        bound = (ph["in_flight"] + ph["nacks"]) * len(AUDIT_QUEUES)
        if ph["dups"] > bound:
            fail("kill %d: %d duplicate copies, more than the %d events in "
                 "flight when the connection dropped and the %d nacked "
                 "(x%d queues)" % (i + 1, ph["dups"], ph["in_flight"],
                                   ph["nacks"], len(AUDIT_QUEUES)))


def cluster_failover_nacks_a_few_events_not_windows():
    """Retrying exactly the nacked events, one at a time while the broker
    refuses: a failover must not send (and have nacked) whole windows."""
    for i, ph in enumerate(figures()[1:]):
        if ph["nacks"] > NACK_BOUND:
            fail("kill %d: the broker nacked %d events, expected at most %d"
                 % (i + 1, ph["nacks"], NACK_BOUND))


def cluster_no_reply_slower_than_publish_timeout():
    for i, ph in enumerate(figures()):
        if ph["max_latency"] * 1000 > PUBLISH_TIMEOUT_MS:
            fail("phase %d: a reply took %.2f s, more than publish_timeout_ms %d"
                 % (i, ph["max_latency"], PUBLISH_TIMEOUT_MS))


def cluster_first_confirm_on_another_node_within_5s():
    for i, ph in enumerate(figures()[1:]):
        if ph["failover"] is None or ph["failover"] > FAILOVER_BOUND:
            fail("kill %d: first confirm from another node %s after the kill, "
                 "expected within %.0f s"
                 % (i + 1, "never" if ph["failover"] is None else
                    "%.2f s" % ph["failover"], FAILOVER_BOUND))


def cluster_subscribers_delivery_gap_under_5s():
    for i, ph in enumerate(figures()):
        if ph["gap"] >= GAP_BOUND:
            fail("phase %d: subscribers got nothing for %.2f s, expected gaps "
                 "under %.0f s" % (i, ph["gap"], GAP_BOUND))


def cleanup():
    for s in S.get("subs", []):
        s.close()
    d = S.pop("daemon", None)
    problem = None
    if d is not None and d.proc is not None:
        problem = d._cleanup(False)
    cl = S.pop("cluster", None)
    if cl is not None:
        cl.wipe()
    return problem


def cluster_cleanup_warrend_exits_zero_and_nodes_removed():
    problem = cleanup()
    log("the cluster suite took %.0f s" % (time.monotonic() - T_BEGIN))
    left = [n for n, p in NODES if ctl(n, "-q", "ping", timeout=20)[0] == 0]
    if left:
        fail("nodes still running after the wipe: %s" % left)
    if problem:
        fail(problem)


def _interrupted(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


if __name__ == "__main__":
    import warrentest
    signal.signal(signal.SIGTERM, _interrupted)
    atexit.register(cleanup)
    tests = [
        cluster_scenario_runs_two_node_kills_under_load,
        cluster_no_event_answered_ok_is_lost,
        cluster_no_event_answered_with_an_error_is_stored,
        cluster_duplicates_at_most_the_events_in_flight_at_each_kill,
        cluster_failover_nacks_a_few_events_not_windows,
        cluster_no_reply_slower_than_publish_timeout,
        cluster_first_confirm_on_another_node_within_5s,
        cluster_subscribers_delivery_gap_under_5s,
        cluster_cleanup_warrend_exits_zero_and_nodes_removed,
    ]

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
    run([with_log(t) for t in tests])
