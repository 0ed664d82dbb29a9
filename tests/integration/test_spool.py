#!/usr/bin/python3
"""The disk spool, by fault injection: while the broker is stopped,
unreachable or blocking publishers, events are answered ok with
"spooled":true and written to disk; they survive SIGKILL and SIGTERM, a
full spool answers unavailable without losing what it took, a damaged spool
is replayed minus what is damaged (and says so), and every event answered
ok reaches a queue bound to the exchange once the broker is back (at least
once: duplicates are counted, losses fail).

The broker is shared: before stopping its app or setting its memory
watermark these tests wait until no other test that does so is running,
and they always leave it running with the watermark they found."""

import collections
import contextlib
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import warrentest
from warrentest import (BROKER_HOST, BROKER_PORT, DEADLINE, UNREACHABLE_URL,
                        WARREND, Broker, Daemon, Failure, FreezableProxy,
                        Pipeliner, expect, expect_error, expect_ok, fail,
                        parse_reply, publish_req, rabbitmqctl, resource_data,
                        short, unique, wait_for)
from test_broker_restart import memory_watermark, set_memory_watermark

RK = "resource.accessed"
TYPE = "ResourceAccessedEvent"
# Quick reconnects, so that a test does not wait on the backoff.
FAST = {"reconnect_min_ms": 50, "reconnect_max_ms": 500}
# Tests that stop the broker's app or set its memory watermark.
OTHERS = ("test_subscribe.py", "test_broker_restart.py")
WATERMARK = "0.4"       # what the broker must be left with
B = {"stopped": False, "watermark": None}   # broker state to restore


# ------------------------------------------------------------ the broker


def other_broker_tests():
    """The pids of the OTHERS scripts running against this suite's broker
    node (same WARREN_TEST_BROKER_PORT): not a make naming them, nor a
    suite run against another node."""
    mine = os.environ.get("WARREN_TEST_BROKER_PORT", "5672")
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if not argv or "python" not in os.path.basename(argv[0]):
            continue
        if not any(os.path.basename(a) in OTHERS for a in argv[1:2]):
            continue
        port = "5672"
        for e in env:
            if e.startswith("WARREN_TEST_BROKER_PORT="):
                port = e.split("=", 1)[1]
        if port == mine:
            pids.append(int(d))
    return pids


def wait_for_other_broker_tests(deadline=900):
    """Wait until no other test that stops the broker's app or sets its
    memory watermark is running, then until the broker is up."""
    end = time.monotonic() + deadline
    while True:
        pids = other_broker_tests()
        if not pids:
            break
        if time.monotonic() > end:
            fail("other broker tests (pids %s) still running after %.0f s"
                 % (pids, deadline))
        time.sleep(1.0)
    rc, out = rabbitmqctl("-q", "await_startup")
    if rc != 0:
        fail("rabbitmqctl await_startup failed (%d): %s" % (rc, out))


def stop_app():
    B["stopped"] = True
    rc, out = rabbitmqctl("stop_app")
    if rc != 0:
        fail("rabbitmqctl stop_app failed (%d): %s" % (rc, out))


def start_app():
    rc, out = rabbitmqctl("start_app")
    if rc != 0:
        fail("rabbitmqctl start_app failed (%d): %s" % (rc, out))
    rc, out = rabbitmqctl("-q", "await_startup")
    if rc != 0:
        fail("rabbitmqctl await_startup failed (%d): %s" % (rc, out))
    B["stopped"] = False


def restore_watermark(value, deadline=120):
    """Set the memory watermark back to value; another test may have
    stopped the broker's app meanwhile: wait for it and try again."""
    end = time.monotonic() + deadline
    while True:
        rabbitmqctl("-q", "await_startup")
        try:
            set_memory_watermark(value)
            return
        except Failure:
            if time.monotonic() > end:
                raise
            time.sleep(1.0)


def restore_broker():
    """Best effort, for finally blocks: the app running, the watermark back."""
    if B["stopped"]:
        rabbitmqctl("start_app")
        rabbitmqctl("-q", "await_startup")
        B["stopped"] = False
    if B["watermark"] is not None:
        with contextlib.suppress(Failure):
            restore_watermark(B["watermark"])
        B["watermark"] = None


class SwitchProxy:
    """A TCP forwarder to the broker that a test switches off and on, so
    that the broker becomes unreachable for one warrend only: down() closes
    every connection through it and then accepts and at once closes new
    ones (a stopped broker); up() forwards again."""

    def __init__(self, target=(BROKER_HOST, BROKER_PORT)):
        self.target = target
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.url = "amqp://guest:guest@127.0.0.1:%d/%%2f" % self.port
        self.is_up = True
        self.closing = False
        self.pairs = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.closing:
            with self.lock:
                socks = [self.lsock] + [s for p in self.pairs for s in p]
            try:
                r, _, _ = select.select(socks, [], [], 0.05)
            except (OSError, ValueError):
                continue
            for s in r:
                if s is self.lsock:
                    try:
                        a, _ = self.lsock.accept()
                    except OSError:
                        continue
                    if not self.is_up:
                        a.close()
                        continue
                    try:
                        b = socket.create_connection(self.target, timeout=5)
                        b.settimeout(None)
                    except OSError:
                        a.close()
                        continue
                    with self.lock:
                        self.pairs.append((a, b))
                    continue
                with self.lock:
                    pair = next((p for p in self.pairs if s in p), None)
                if pair is None:
                    continue
                other = pair[1] if s is pair[0] else pair[0]
                try:
                    data = s.recv(65536)
                    if data:
                        other.sendall(data)
                except (OSError, ValueError):
                    data = b""
                if not data:
                    self._drop(pair)

    def _drop(self, pair):
        with self.lock:
            if pair in self.pairs:
                self.pairs.remove(pair)
        for s in pair:
            with contextlib.suppress(OSError):
                s.close()

    def down(self):
        with self.lock:
            self.is_up = False
            old, self.pairs = self.pairs, []
        for pair in old:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

    def up(self):
        self.is_up = True

    def close(self):
        self.closing = True
        self.thread.join(5)
        self.down()
        self.lsock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ------------------------------------------------------------ publishing


def mid(tag, k):
    return "%s-%d-%06d" % (tag, os.getpid(), k)


class Stream:
    """Publishes events first..first+n-1 pipelined on one connection (a
    sender thread writes, run() reads the replies in order) and records
    each reply. on_reply(k) runs after the k-th reply."""

    def __init__(self, d, tag, first, n):
        self.d = d
        self.ids = [(k, mid(tag, k)) for k in range(first, first + n)]
        self.ok = []            # message_ids answered ok
        self.spooled = []       # ... of them, with "spooled":true
        self.errors = collections.Counter()
        self.error_replies = []
        self.odd = []           # out of order, or neither ok nor an error
        self.eof = False
        self.sender = None
        self.may_die = False    # warrend is killed: a cut reply is its end

    def run(self, on_reply=None, timeout=60):
        c = self.d.client()
        try:
            lines = [json.dumps(publish_req(data=resource_data(k), id=k, message_id=m))
                     .encode() + b"\n" for k, m in self.ids]
            self.sender = Pipeliner(c, lines)
            for i, (k, m) in enumerate(self.ids):
                try:
                    line = c.readline(timeout)
                except Failure as e:
                    # A SIGKILL may cut a reply short.
                    if not (self.may_die and "partial line" in str(e)):
                        raise
                    line = None
                if line is None:
                    self.eof = True
                    break
                r = parse_reply(line)
                if r.get("id") != k:
                    self.odd.append(("out of order: expected id %d" % k, r))
                if r.get("ok") is True:
                    if r.get("message_id") != m or r.get("routing_key") != RK:
                        self.odd.append(("wrong message_id/routing_key", r))
                    self.ok.append(m)
                    if r.get("spooled") is True:
                        self.spooled.append(m)
                    elif "spooled" in r:
                        self.odd.append(("spooled is not true", r))
                elif r.get("ok") is False and isinstance(r.get("error"), str):
                    self.errors[r["error"]] += 1
                    self.error_replies.append(r)
                else:
                    self.odd.append(("neither ok nor an error", r))
                if on_reply is not None:
                    on_reply(i + 1)
        finally:
            c.close()
        self.sender.thread.join(5)
        return self

    def summary(self):
        return ("%d sent, %d ok (%d spooled), errors %s, odd %s%s"
                % (len(self.ids), len(self.ok), len(self.spooled), dict(self.errors),
                   short(self.odd, 300), ", EOF" if self.eof else ""))

    def expect_all_ok(self, what, spooled=False):
        """Every request answered ok (and spooled, if asked)."""
        expect(len(self.ok) == len(self.ids) and not self.odd,
               "every one of %d publishes %s answered ok" % (len(self.ids), what),
               self.summary())
        if spooled:
            expect(len(self.spooled) == len(self.ids),
                   "every publish %s answered \"spooled\":true" % what, self.summary())


def spool_stats(d):
    r = d.stats()
    expect_ok(r, "stats")
    s = r.get("stats", {})
    if not isinstance(s.get("spool"), dict) or not isinstance(s.get("broker"), dict):
        fail("stats has no spool or broker object: %s" % short(json.dumps(r)))
    return s["spool"]


def wait_spool(d, what, cond, deadline=DEADLINE, interval=0.1):
    last = [None]

    def check():
        last[0] = spool_stats(d)
        return cond(last[0])
    try:
        return wait_for(check, what, deadline, interval)
    except Failure as e:
        fail("%s (last spool stats %s)" % (e, json.dumps(last[0])))


def wait_blocked(d, blocked, deadline=DEADLINE):
    last = [None]

    def check():
        r = d.stats()
        last[0] = r
        return r["stats"]["broker"]["blocked"] is blocked
    try:
        wait_for(check, "stats broker.blocked %s" % blocked, deadline, 0.1)
    except Failure as e:
        fail("%s (last stats %s)" % (e, short(json.dumps(last[0]))))


def restart(d, wait_connected):
    """Start d's warrend again on the same config and spool; the old log
    is kept beside it as warrend.log.N."""
    with contextlib.suppress(Exception):
        d.logf.close()
    n = 1
    while os.path.exists("%s.%d" % (d.log_path, n)):
        n += 1
    with contextlib.suppress(OSError):
        os.rename(d.log_path, "%s.%d" % (d.log_path, n))
    d.proc = None
    d.stopping = False
    d.exit_status = None
    d.wait_connected = wait_connected
    d.start()


def daemon(name, urls=None, broker_opts=None, **kw):
    opts = dict(FAST)
    opts.update(broker_opts or {})
    return Daemon(name, urls=urls, broker_opts=opts, **kw)


# ------------------------------------------------------------ the queue


class Queue:
    """A durable queue bound to warrend's exchange (durable, so that it and
    its messages outlive a broker restart, ours or another test's). take()
    moves what is in it into got (message_id -> count), order (first
    arrivals) and props/bodies."""

    def __init__(self, b, name, exchange, routing_key=RK):
        self.b = b
        self.name = name
        b.bind_queue(name, exchange, routing_key, durable=True)
        self.got = collections.Counter()
        self.order = []
        self.msgs = {}

    def take(self):
        def fn(ch):
            ch.basic_qos(prefetch_count=500)
            last = None
            n = 0
            try:
                for m, p, body in ch.consume(self.name, auto_ack=False,
                                             inactivity_timeout=0.25):
                    if m is None:
                        break
                    i = p.message_id
                    if not self.got[i]:
                        self.order.append(i)
                        self.msgs[i] = (p, body)
                    self.got[i] += 1
                    last = m.delivery_tag
                    n += 1
                    if n % 200 == 0:
                        ch.basic_ack(last, multiple=True)
                if last is not None:
                    ch.basic_ack(last, multiple=True)
            finally:
                with contextlib.suppress(Exception):
                    ch.cancel()
        self.b._do(fn)

    def wait_all(self, ids, what, deadline=90):
        """Every message_id of ids arrives; fail naming the missing."""
        end = time.monotonic() + deadline
        while True:
            self.take()
            missing = [i for i in ids if not self.got[i]]
            if not missing or time.monotonic() > end:
                break
            time.sleep(0.2)
        dups = sum(1 for i in set(ids) if self.got[i] > 1)
        expect(not missing, "every event answered ok %s in queue %s" % (what, self.name),
               "%d of %d missing (e.g. %s); %d arrived twice or more"
               % (len(missing), len(set(ids)), missing[:5], dups))
        return dups


# ------------------------------------------------------------ the record format


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82f63b78 if c & 1 else 0)
        t.append(c)
    return t


CRC_TABLE = _crc_table()
MAGIC = 0x32574e57      # "WNW2": records with a MAC
MAGIC_V1 = 0x52574e57   # "WNWR": the first format, without one
HEADER = 52


def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc ^ 0xffffffff


def spool_key(spool_dir):
    """The record key warrend keeps in its spool directory."""
    with open(os.path.join(spool_dir, "spool.key"), "rb") as f:
        return f.read()


def spool_record(rk, typ, message_id, ts_ms, body, key):
    """One record as spool.c writes it, little-endian: header (magic,
    payload length, i64 ms, CRC-32C of the length, the time and the
    payload, HMAC-SHA256 under key of the 20 bytes before it and the
    payload), then the payload (three u16 lengths, u16 0, the strings, the
    body) as publisher-spool.c writes it."""
    rk, typ, message_id = rk.encode(), typ.encode(), message_id.encode()
    payload = struct.pack("<HHHH", len(rk), len(typ), len(message_id), 0) \
        + rk + typ + message_id + body
    head = struct.pack("<IIq", MAGIC, len(payload), ts_ms)
    head += struct.pack("<I", crc32c(head[4:] + payload))
    return head + hmac.new(key, head + payload, hashlib.sha256).digest() + payload


def parse_segment(data, path, key):
    """The records of a segment: (offset, length, message_id, body). Every
    record must be intact and carry a MAC under key."""
    out = []
    off = 0
    while off < len(data):
        if len(data) - off < HEADER:
            fail("%s: %d stray bytes at offset %d" % (path, len(data) - off, off))
        magic, plen, ts, crc = struct.unpack_from("<IIqI", data, off)
        mac = data[off + 20:off + HEADER]
        payload = data[off + HEADER:off + HEADER + plen]
        want = crc32c(data[off + 4:off + 16] + payload)
        good = hmac.new(key, data[off:off + 20] + payload, hashlib.sha256).digest()
        if magic != MAGIC or len(payload) != plen or want != crc or mac != good:
            fail("%s: record at offset %d is not magic 0x%08x + length + time + "
                 "CRC-32C + HMAC-SHA256 (magic 0x%08x, length %d, crc 0x%08x vs "
                 "0x%08x, mac %s)" % (path, off, MAGIC, magic, plen, crc, want,
                                      "ok" if mac == good else "bad"))
        rl, tl, ml, zero = struct.unpack_from("<HHHH", payload, 0)
        s = 8
        rk = payload[s:s + rl].decode()
        typ = payload[s + rl:s + rl + tl].decode()
        m = payload[s + rl + tl:s + rl + tl + ml].decode()
        body = payload[s + rl + tl + ml:]
        if rk != RK or typ != TYPE or zero != 0:
            fail("%s: record at offset %d has routing key %r, type %r, pad %d"
                 % (path, off, rk, typ, zero))
        out.append((off, HEADER + plen, m, body))
        off += HEADER + plen
    return out


def segment_files(spool_dir):
    return sorted(os.path.join(spool_dir, f) for f in os.listdir(spool_dir)
                  if re.fullmatch(r"\d{16}\.spool", f))


# ------------------------------------------------------------ the tests


class Continuous(threading.Thread):
    """Publishes batches of pipelined events on one connection, over and
    over until stopped, recording every reply (as Stream does)."""

    def __init__(self, d, tag, batch=100):
        super().__init__(daemon=True)
        self.d = d
        self.tag = tag
        self.batch = batch
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.ok, self.spooled, self.odd = [], [], []
        self.errors = collections.Counter()
        self.n = 0

    def run(self):
        try:
            while not self.halt.is_set():
                s = Stream(self.d, self.tag, self.n, self.batch).run(timeout=60)
                self.n += self.batch
                with self.lock:
                    self.ok += s.ok
                    self.spooled += s.spooled
                    self.odd += s.odd
                    self.errors.update(s.errors)
        except Exception as e:      # reported by the test
            with self.lock:
                self.odd.append(repr(e))

    def counts(self):
        with self.lock:
            return len(self.ok), len(self.spooled)

    def summary(self):
        with self.lock:
            return ("%d sent, %d ok (%d spooled), errors %s, odd %s"
                    % (self.n, len(self.ok), len(self.spooled), dict(self.errors),
                       short(self.odd, 300)))


def stop_app_thousands_spooled_all_arrive_after_start_app():
    """The broker's app stops in the middle of a pipelined stream: the
    stream goes on, answered ok and spooled, thousands of events; after
    start_app the spool drains (the stream still going, behind it) and
    every event answered ok is in the queue."""
    name = "spool_stop_app"
    wait_for_other_broker_tests()
    with Broker() as b, daemon(name, broker_opts={"heartbeat": 5}) as d:
        q = Queue(b, unique(name), d.exchange)
        p = Continuous(d, name)
        try:
            p.start()
            wait_for(lambda: p.counts()[0] >= 1000, "1000 events answered ok before "
                     "stop_app (%s)" % p.summary(), 30, 0.05)
            b.close()
            stop_app()
            d.wait_broker(False, deadline=30, strict=True)
            ok0, sp0 = p.counts()
            wait_for(lambda: p.counts()[1] >= sp0 + 3000,
                     "3000 more events answered ok spooled while the app is stopped",
                     60, 0.05)
            d.assert_serving("while the broker's app is stopped")
            st = spool_stats(d)
            expect(st["enabled"] is True and st["records"] >= 3000 and st["bytes"] > 0
                   and st["oldest_age_ms"] > 0 and st["appended"] >= 3000,
                   "spool stats with >= 3000 records, bytes and an oldest age",
                   json.dumps(st))
            start_app()
            d.wait_broker(True, deadline=60, strict=True)
            ok1 = p.counts()[0]
            wait_for(lambda: p.counts()[0] >= ok1 + 1000,
                     "1000 more events answered ok after start_app", 60, 0.05)
        finally:
            p.halt.set()
            p.join(90)
            restore_broker()
        expect(not p.is_alive(), "the test's publisher to stop", "still running")
        expect(not p.odd and not p.errors, "only ok replies, in request order", p.summary())
        q.wait_all(p.ok, "across stop_app/start_app")
        wait_spool(d, "the spool to drain",
                   lambda s: s["records"] == 0 and s["drained"] >= 3000, deadline=60)
        d.assert_serving("after the spool drained")


def sigkill_with_spool_then_restart_all_arrive_in_order():
    """Broker unreachable, events being spooled, warrend killed with
    SIGKILL: the restarted warrend finds every event answered ok on disk
    (in several segment files); killed again while it drains, and
    restarted, it still loses none; the spool drains in order, events
    published during the drain come after it, and the segment files go."""
    name = "spool_sigkill"
    with Broker() as b, SwitchProxy() as proxy, \
            daemon(name, urls=[proxy.url], wait_connected=True,
                   spool={"max_bytes": 1 << 20}) as d:
        spool_dir = os.path.join(d.dir, "spool")
        q = Queue(b, unique(name), d.exchange)
        proxy.down()
        d.wait_broker(False, deadline=30, strict=True)

        def kill_at(k):
            if k == 3000:
                d.kill(signal.SIGKILL)
        s1 = Stream(d, name, 0, 4000)
        s1.may_die = True
        s1.run(on_reply=kill_at)
        expect(len(s1.ok) >= 3000 and len(s1.spooled) == len(s1.ok) and not s1.odd
               and not s1.errors, "3000 or more publishes answered ok spooled before "
               "the SIGKILL", s1.summary())
        expect(d.terminate(None) == -signal.SIGKILL, "warrend killed by SIGKILL",
               d.proc.returncode)
        expect(len(segment_files(spool_dir)) >= 3,
               "several segment files with spool.max_bytes 1 MiB",
               os.listdir(spool_dir))
        restart(d, wait_connected=False)
        st = spool_stats(d)
        keys = ["enabled", "records", "bytes", "oldest_age_ms", "appended",
                "drained", "full", "corrupt", "torn"]
        expect(all(k in st for k in keys), "stats.spool with members %s" % keys,
               json.dumps(st))
        expect(st["enabled"] is True and st["records"] >= len(s1.ok) and st["corrupt"] == 0
               and st["oldest_age_ms"] > 0,
               "the restarted warrend to find the %d events answered ok in its spool"
               % len(s1.ok), json.dumps(st))
        m = re.search(r"spool: (\d+) events in .* to publish", d.log())
        expect(m and int(m.group(1)) == st["records"],
               "a log line counting the %d spooled events" % st["records"], d.log_tail(5))
        proxy.up()
        wait_spool(d, "the drain to start", lambda st: st["drained"] > 0, deadline=30,
                   interval=0.01)
        d.kill(signal.SIGKILL)
        d.terminate(None)
        restart(d, wait_connected=True)
        s2 = Stream(d, name, 5000, 300).run()
        s2.expect_all_ok("while the spool drains")
        want = s1.ok + s2.ok
        q.wait_all(want, "before the SIGKILLs and during the drain")
        wanted = set(want)
        first = [i for i in q.order if i in wanted]
        bad = next((n for n, (x, y) in enumerate(zip(first, want)) if x != y), None)
        expect(bad is None, "events to reach the queue in the order they were published",
               "first difference at position %s: %s instead of %s"
               % (bad, first[bad] if bad is not None else "",
                  want[bad] if bad is not None else ""))
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)
        expect(segment_files(spool_dir) == [], "no segment file left once drained",
               os.listdir(spool_dir))


BLOB_STORED = {
    "name": "BlobStoredEvent",
    "routing_key": "blob.stored",
    "fields": [
        {"name": "blob", "type": "string"},
        {"name": "n", "type": "number"},
        {"name": "at", "type": "datetime"},
    ],
}


def large_events_replayed_byte_for_byte_with_acceptance_time():
    """Events of several hundred KiB (bigger than a segment) spooled, warrend
    killed and restarted: each arrives with its data exactly as the client
    wrote it, and with the time it was accepted, not the time it was
    republished."""
    name = "spool_large"
    with Broker() as b, SwitchProxy() as proxy, \
            daemon(name, urls=[proxy.url], wait_connected=True,
                   contracts=warrentest.DEFAULT_CONTRACTS + [BLOB_STORED],
                   spool={"max_bytes": 4 << 20}) as d:
        q = Queue(b, unique(name), d.exchange, "blob.stored")
        proxy.down()
        d.wait_broker(False, deadline=30, strict=True)
        sent = {}
        with d.client() as c:
            for k, size in enumerate((300000, 200000, 100)):
                blob = ("\u00e9\u6f22\U0001F600x" * (size // 4))[:size]
                data = ('{ "blob" : %s,\t "n": 1.000000000000000000001e-7,'
                        '"at":"2024-05-01T12:00:00+02:00" }') % json.dumps(blob, ensure_ascii=False)
                m = mid(name, k)
                line = ('{"op":"publish","id":%d,"event":"BlobStoredEvent",'
                        '"message_id":"%s","data":%s}\n') % (k, m, data)
                t0 = time.time()
                c.send(line.encode())
                r = c.read(timeout=30)
                t1 = time.time()
                expect_ok(r, "publish", spooled=True)
                sent[m] = (data.encode(), t0, t1)
        d.kill(signal.SIGKILL)
        d.terminate(None)
        restart(d, wait_connected=False)
        st = spool_stats(d)
        expect(st["records"] == 3 and st["corrupt"] == 0 and st["torn"] == 0,
               "3 intact records after the restart", json.dumps(st))
        proxy.up()
        q.wait_all(list(sent), "with large bodies")
        for m, (body, t0, t1) in sent.items():
            p, got = q.msgs[m]
            expect(got == body, "the body of %s byte for byte as sent (%d bytes)"
                   % (m, len(body)), "%d bytes: %s" % (len(got), short(got[:200])))
            h = (p.headers or {}).get("cloudEvents:time")
            h = h.decode() if isinstance(h, bytes) else h
            expect(isinstance(h, str) and t0 - 0.002 <= warrentest.parse_rfc3339(h) <= t1 + 0.002,
                   "cloudEvents:time of %s between sending and the ok (%.3f..%.3f)"
                   % (m, t0, t1), h)
            expect(p.timestamp is not None and int(t0) <= p.timestamp <= int(t1),
                   "timestamp of %s the second it was accepted" % m, p.timestamp)
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)


def spool_disabled_answers_unavailable():
    """spool.max_bytes = 0 disables the spool: stats says so, and with the
    broker unreachable a publish is answered unavailable."""
    name = "spool_disabled"
    with daemon(name, urls=[UNREACHABLE_URL], wait_connected=False,
                spool={"max_bytes": 0}, broker_opts={"publish_timeout_ms": 1000}) as d:
        st = spool_stats(d)
        expect(st["enabled"] is False and st["records"] == 0,
               "stats spool.enabled false", json.dumps(st))
        with d.client() as c:
            req = publish_req(id=1)
            expect_error(c.request(req, timeout=30), "unavailable", op="publish", id=1,
                         req=req)
        d.assert_serving("after an unavailable answer")


def connection_dropped_mid_stream_twice_nothing_lost():
    """The broker goes away twice in the middle of a pipelined stream (the
    second time while the spool drains): every event answered ok arrives."""
    name = "spool_midstream"
    with Broker() as b, SwitchProxy() as proxy, \
            daemon(name, urls=[proxy.url], wait_connected=True,
                   broker_opts={"heartbeat": 5}) as d:
        q = Queue(b, unique(name), d.exchange)

        def bounce(k):
            if k in (1000, 3000):
                proxy.down()
                d.wait_broker(False, deadline=30, strict=True)
            if k in (1500, 3200):
                proxy.up()
        s = Stream(d, name, 0, 5000).run(on_reply=bounce)
        proxy.up()
        s.expect_all_ok("across two outages")
        expect(len(s.spooled) > 0, "some publishes answered \"spooled\":true", s.summary())
        d.wait_broker(True, deadline=30, strict=True)
        q.wait_all(s.ok, "across two outages")
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)


def memory_alarm_spools_and_answers_then_all_arrive():
    """A memory alarm blocks publishing connections: clients keep getting
    answers (spooled), ping answers, stats says broker.blocked; when the
    alarm clears everything answered ok arrives."""
    name = "spool_blocked"
    wait_for_other_broker_tests()
    with Broker() as b, daemon(name, broker_opts={"publish_timeout_ms": 2000}) as d:
        q = Queue(b, unique(name), d.exchange)
        s0 = Stream(d, name, 0, 100).run()
        s0.expect_all_ok("before the alarm")
        old = memory_watermark()
        expect(old == WATERMARK, "the broker's memory watermark to be %s before the test"
               % WATERMARK, old)
        try:
            B["watermark"] = old
            set_memory_watermark("0.0000001")
            s1 = Stream(d, name, 1000, 2000).run(timeout=30)
            s1.expect_all_ok("during the memory alarm")
            expect(len(s1.spooled) >= 1000, "most publishes during the alarm spooled",
                   s1.summary())
            wait_blocked(d, True, deadline=30)
            d.assert_serving("during the memory alarm")
            with d.client() as c:
                c.ping()
                req = publish_req(id="during", message_id=mid(name, 9999))
                r = expect_ok(c.request(req, timeout=30), "publish", req=req, spooled=True)
                s1.ok.append(r["message_id"])
                c.ping()
            # SIGTERM while blocked, with publishes in flight: exit 0, and
            # what was answered ok is on disk for the next start.
            s2 = Stream(d, name, 20000, 1500)

            def term(k):
                if k == 200:
                    d.kill(signal.SIGTERM)
            s2.run(on_reply=term, timeout=30)
            rc = d.terminate(None)
            expect(rc == 0, "exit status 0 after SIGTERM during the memory alarm", rc)
            expect(not s2.odd and set(s2.errors) <= {"shutting_down"}
                   and len(s2.ok) >= 200,
                   "ok or shutting_down replies, in order, to SIGTERM while blocked",
                   s2.summary())
            restore_watermark(old)
            B["watermark"] = None
        finally:
            restore_broker()
        restart(d, wait_connected=True)
        wait_blocked(d, False, deadline=30)
        q.wait_all(s0.ok + s1.ok + s2.ok, "during the memory alarm")
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)


def attempts(proxy):
    """Connections a frozen FreezableProxy took and left unanswered."""
    with proxy.lock:
        return sum(1 for p in proxy.pairs if p[1] is None)


def silent_broker_publishes_answered_spooled_not_unavailable():
    """The broker's host goes silent (no FIN, no RST; reconnects hang in the
    handshake): publishes not confirmed within half of publish_timeout_ms
    are spooled and answered ok, and so is every publish made while warrend
    tries to reconnect -- never unavailable while the spool has room. After
    the host is back everything answered ok arrives."""
    name = "spool_silent"
    with Broker() as b, FreezableProxy() as proxy, \
            daemon(name, urls=[proxy.url], wait_connected=True,
                   broker_opts={"publish_timeout_ms": 2000, "heartbeat": 2}) as d:
        q = Queue(b, unique(name), d.exchange)
        s0 = Stream(d, name, 0, 100).run()
        s0.expect_all_ok("before the broker goes silent")
        proxy.freeze()
        ok, replies = [], []
        disconnected_at = None
        # Publish until warrend has noticed (heartbeat: 2 x 2 s of silence)
        # and retried; the deadline only bounds a warrend that never does.
        end = time.monotonic() + 60
        with d.client() as c:
            for k in range(1000, 1000000):
                if time.monotonic() > end:
                    break
                if k > 1100:
                    time.sleep(0.005)   # a steady trickle, not a flood
                req = publish_req(data=resource_data(k), id=k, message_id=mid(name, k))
                r = c.request(req, timeout=30)
                replies.append(r)
                if r.get("ok") is True:
                    ok.append(r["message_id"])
                if disconnected_at is None and \
                        d.stats()["stats"]["broker"]["connected"] is False:
                    disconnected_at = len(replies)
                # Until warrend has tried to reconnect twice (the silent host
                # accepts, then says nothing), with 10 publishes since.
                if disconnected_at is not None and attempts(proxy) >= 2 and \
                        len(replies) >= disconnected_at + 10:
                    break
        bad = [r for r in replies if r.get("ok") is not True or r.get("spooled") is not True]
        expect(disconnected_at is not None, "warrend to notice the silent broker "
               "(stats broker.connected false)", "still connected after %d publishes"
               % len(replies))
        proxy.thaw()
        d.wait_broker(True, deadline=30, strict=True)
        q.wait_all(s0.ok + ok, "while the broker was silent")
        expect(not bad, "every publish while the broker is silent answered ok spooled "
               "(%d publishes, %d after warrend noticed)"
               % (len(replies), len(replies) - disconnected_at),
               "%d not: %s" % (len(bad), short(bad[:3], 500)))
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)


def sigterm_mid_stream_exit_zero_all_arrive_after_restart():
    """SIGTERM while thousands of pipelined publishes are in flight: exit 0,
    every one answered ok is confirmed or on disk, and arrives (after a
    restart for what was spooled)."""
    name = "spool_sigterm"
    with Broker() as b, daemon(name) as d:
        q = Queue(b, unique(name), d.exchange)

        def term(k):
            if k == 1000:
                d.kill(signal.SIGTERM)
        s = Stream(d, name, 0, 6000).run(on_reply=term)
        rc = d.terminate(None)
        expect(rc == 0, "exit status 0 after SIGTERM", rc)
        expect(not s.odd and set(s.errors) <= {"shutting_down"},
               "only ok or shutting_down replies, in order", s.summary())
        expect(len(s.ok) >= 1000, "at least the 1000 read before SIGTERM answered ok",
               s.summary())
        restart(d, wait_connected=True)
        q.wait_all(s.ok, "before the SIGTERM")
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)


def sigterm_with_broker_silent_spools_in_flight_exit_zero():
    """The broker goes silent with a thousand publishes in flight and more
    waiting; SIGTERM: warrend spools them, answers ok spooled, exits 0, and
    after a restart they all arrive."""
    name = "spool_sigterm_silent"
    with Broker() as b, FreezableProxy() as proxy, \
            daemon(name, urls=[proxy.url], wait_connected=True,
                   broker_opts={"publish_timeout_ms": 60000, "heartbeat": 30},
                   top={"shutdown_timeout_ms": 1000}) as d:
        q = Queue(b, unique(name), d.exchange)
        proxy.freeze()
        # Three clients: each may have 1024 requests unanswered.
        streams = [Stream(d, name, 10000 * i, 1500) for i in range(3)]
        threads = [threading.Thread(target=lambda s=s: s.run(timeout=60), daemon=True)
                   for s in streams]
        for t in threads:
            t.start()

        def in_flight():
            st = d.stats()["stats"]
            return st["in_flight"] >= 2500 and st["broker"]["published"] >= 1000
        wait_for(in_flight, "2500 publishes in flight, 1000 of them sent", 30, 0.1)
        rc = d.terminate(signal.SIGTERM)
        for t in threads:
            t.join(60)
        expect(not any(t.is_alive() for t in threads), "the streams' replies to end",
               "still reading")
        expect(rc == 0, "exit status 0 after SIGTERM", rc)
        ok = []
        for s in streams:
            expect(not s.odd and set(s.errors) <= {"shutting_down"},
                   "only ok or shutting_down replies, in order", s.summary())
            ok += s.ok
        spooled = sum(len(s.spooled) for s in streams)
        expect(spooled >= 2500,
               "the publishes in flight answered ok spooled at shutdown",
               "%d spooled: %s" % (spooled, "; ".join(s.summary() for s in streams)))
        proxy.thaw()
        restart(d, wait_connected=True)
        q.wait_all(ok, "before the SIGTERM")
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)


def spool_full_answers_unavailable_and_loses_nothing():
    """A 64 KiB spool and an unreachable broker: publishes are spooled until
    the spool is full, then answered unavailable; after the broker is back
    every event answered ok arrives, and publishing works again."""
    name = "spool_full"
    max_bytes = 65536
    with Broker() as b, SwitchProxy() as proxy, \
            daemon(name, urls=[proxy.url], wait_connected=True,
                   spool={"max_bytes": max_bytes}) as d:
        q = Queue(b, unique(name), d.exchange)
        proxy.down()
        d.wait_broker(False, deadline=30, strict=True)
        s = Stream(d, name, 0, 1000).run()
        expect(not s.odd and set(s.errors) == {"unavailable"} and len(s.spooled) == len(s.ok)
               and len(s.ok) > 100,
               "ok spooled answers, then unavailable ones", s.summary())
        first_err = next(i for i, (k, m) in enumerate(s.ids) if m not in set(s.ok))
        late_ok = [m for k, m in s.ids[first_err:] if m in set(s.ok)]
        expect(not late_ok, "no ok answer after the first unavailable one (same-size events)",
               late_ok[:5])
        for r in s.error_replies[:3]:
            expect_error(r, "unavailable", op="publish")
        st = spool_stats(d)
        expect(st["full"] >= 1 and st["bytes"] <= max_bytes and st["records"] == len(s.ok),
               "spool stats with full >= 1, bytes <= %d, records = %d"
               % (max_bytes, len(s.ok)), json.dumps(st))
        expect("spool is full" in d.log(), "a log line saying the spool is full",
               d.log_tail(5))
        d.assert_serving("with the spool full")
        proxy.up()
        d.wait_broker(True, deadline=30, strict=True)
        q.wait_all(s.ok, "before the spool was full")
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)
        with d.client() as c:
            req = publish_req(id="after", message_id=mid(name, 99999))
            r = expect_ok(c.request(req, timeout=30), "publish", req=req)
            expect("spooled" not in r, "a direct (not spooled) publish after the drain",
                   json.dumps(r))
        q.wait_all([mid(name, 99999)], "after the drain")


def damaged_spool_replays_the_rest_and_reports_it():
    """A spool with a corrupted middle record and a torn last record (as a
    crash leaves it): warrend starts, says what it skipped (log and stats),
    and every intact record arrives, including one written by the test in
    the documented record format with the MAC under spool.key."""
    name = "spool_damaged"
    with Broker() as b, SwitchProxy() as proxy, \
            daemon(name, urls=[proxy.url], wait_connected=True) as d:
        q = Queue(b, unique(name), d.exchange)
        proxy.down()
        d.wait_broker(False, deadline=30, strict=True)
        s = Stream(d, name, 0, 200).run()
        s.expect_all_ok("while the broker is unreachable", spooled=True)
        rc = d.terminate()
        expect(rc == 0, "exit status 0 after SIGTERM", rc)

        expect(crc32c(b"123456789") == 0xe3069283, "the test's CRC-32C check value",
               hex(crc32c(b"123456789")))
        spool_dir = os.path.join(d.dir, "spool")
        segs = segment_files(spool_dir)
        expect(len(segs) == 1, "one segment file in %s" % spool_dir, os.listdir(spool_dir))
        with open(segs[0], "rb") as f:
            data = bytearray(f.read())
        key = spool_key(spool_dir)
        recs = parse_segment(bytes(data), segs[0], key)
        expect([r[2] for r in recs] == s.ok, "the 200 spooled events, in order, on disk",
               [r[2] for r in recs][:5])
        # A bit flips in the 100th record's body.
        off, length, damaged, _ = recs[99]
        data[off + length - 3] ^= 0x20
        # A record in the documented format, written by the test.
        crafted = mid(name, 777)
        body = json.dumps(resource_data(777)).encode()
        ts = 1714564800123
        data += spool_record(RK, TYPE, crafted, ts, body, key)
        # A record cut short by a crash.
        torn = spool_record(RK, TYPE, mid(name, 888), ts, body, key)
        data += torn[:len(torn) // 2]
        with open(segs[0], "wb") as f:
            f.write(data)

        restart(d, wait_connected=False)
        st = spool_stats(d)
        expect(st["corrupt"] == 1 and st["torn"] == 1 and st["records"] == 200,
               "spool stats corrupt 1, torn 1, records 200 (199 + 1 crafted)",
               json.dumps(st))
        log = d.log()
        expect(re.search(r"spool: .*%s.*damaged record at offset %d" % (
            re.escape(os.path.basename(segs[0])), off), log),
            "a log line naming the damaged record's file and offset", d.log_tail(8))
        expect(re.search(r"spool: .*torn record at offset %d" % (len(data) - len(torn) // 2),
                         log), "a log line naming the torn record's offset", d.log_tail(8))
        proxy.up()
        d.wait_broker(True, deadline=30, strict=True)
        intact = [m for m in s.ok if m != damaged] + [crafted]
        q.wait_all(intact, "that is intact in the damaged spool")
        wait_spool(d, "the spool to drain", lambda st: st["records"] == 0, deadline=60)
        q.take()
        expect(not q.got[damaged] and not q.got[mid(name, 888)],
               "the damaged and the torn record not published",
               {damaged: q.got[damaged], mid(name, 888): q.got[mid(name, 888)]})
        p, got_body = q.msgs[crafted]
        expect(got_body == body and p.type == TYPE and p.timestamp == ts // 1000
               and p.delivery_mode == 2,
               "the crafted record published with its body, type and timestamp",
               (got_body, p.type, p.timestamp, p.delivery_mode))


def missing_spool_dir_is_a_startup_error_naming_it():
    name = "spool_missing_dir"
    d = Daemon(name, urls=[UNREACHABLE_URL])
    try:
        missing = os.path.join(d.dir, "no", "such", "spool")
        d.spool = {"dir": missing}
        d.write_config()
        p = subprocess.run([WARREND, "-c", d.conf_path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=DEADLINE, cwd=d.dir)
        out = p.stdout.decode("utf-8", "replace")
        expect(p.returncode != 0, "a non-zero exit status", "%d: %s" % (p.returncode, out))
        expect(missing in out, "the error to name %s" % missing, out)
    except subprocess.TimeoutExpired:
        fail("warrend with a missing spool.dir did not exit within %.0f s" % DEADLINE)
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


def second_warrend_on_same_spool_dir_refuses():
    name = "spool_locked"
    with daemon(name, urls=[UNREACHABLE_URL], wait_connected=False) as d1:
        d2 = Daemon(name + "_2", urls=[UNREACHABLE_URL])
        try:
            spool_dir = os.path.join(d1.dir, "spool")
            d2.spool = {"dir": spool_dir}
            d2.write_config()
            try:
                p = subprocess.run([WARREND, "-c", d2.conf_path], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=DEADLINE, cwd=d2.dir)
            except subprocess.TimeoutExpired:
                fail("a second warrend on %s did not exit within %.0f s" % (spool_dir, DEADLINE))
            out = p.stdout.decode("utf-8", "replace")
            expect(p.returncode != 0, "a non-zero exit status", "%d: %s" % (p.returncode, out))
            expect("in use" in out and spool_dir in out,
                   "an error saying %s is in use" % spool_dir, out)
        finally:
            shutil.rmtree(d2.dir, ignore_errors=True)
        d1.assert_serving("after a second warrend was refused its spool")
        with d1.client() as c:
            req = publish_req(id=1)
            expect_ok(c.request(req, timeout=30), "publish", req=req, spooled=True)


def broker_left_running_with_watermark():
    """Whatever happened above: the broker's app runs, with watermark 0.4."""
    restore_broker()
    rc, out = rabbitmqctl("-q", "await_startup")
    expect(rc == 0, "the broker's app running", out)
    expect(memory_watermark() == WATERMARK, "the memory watermark %s" % WATERMARK,
           memory_watermark())


def _interrupted(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        warrentest.run([
            missing_spool_dir_is_a_startup_error_naming_it,
            second_warrend_on_same_spool_dir_refuses,
            spool_full_answers_unavailable_and_loses_nothing,
            damaged_spool_replays_the_rest_and_reports_it,
            spool_disabled_answers_unavailable,
            large_events_replayed_byte_for_byte_with_acceptance_time,
            sigkill_with_spool_then_restart_all_arrive_in_order,
            silent_broker_publishes_answered_spooled_not_unavailable,
            connection_dropped_mid_stream_twice_nothing_lost,
            sigterm_mid_stream_exit_zero_all_arrive_after_restart,
            sigterm_with_broker_silent_spools_in_flight_exit_zero,
            stop_app_thousands_spooled_all_arrive_after_start_app,
            memory_alarm_spools_and_answers_then_all_arrive,
            broker_left_running_with_watermark,
        ])
    finally:
        restore_broker()
