#!/usr/bin/python3
"""The Prometheus endpoint: /metrics counts what warrend did, /healthz says
whether it can take events."""

import os
import resource
import socket
import threading
import time
import urllib.error
import urllib.request

from warrentest import (free_port, UNREACHABLE_URL, Broker, Daemon, expect,
                        expect_eq, unique, expect_ok, fail, publish_req, run,
                        wait_for)


def get(port, path):
    """(status, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """The metric lines as {name{labels}: value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def metrics_count_accepted_confirmed_and_rejected_by_code():
    port = free_port()
    with Broker() as b, Daemon("metrics", top={"metrics": {
            "listen": "127.0.0.1:%d" % port}}) as d:
        q = unique("metrics")
        b.bind_queue(q, d.exchange, "resource.accessed")
        with d.client() as c:
            for i in range(3):
                expect_ok(c.request(publish_req(id=i)), "publish")
            r = c.request({"event": "ResourceAccessedEvent", "data": {}})
            expect_eq("error", "validation", r.get("error"))
            c.send(b"not json\n")
            c.read()
        status, text = get(port, "/metrics")
        expect_eq("GET /metrics status", 200, status)
        m = samples(text)
        expect_eq("warren_events_accepted_total", 3.0,
                  m.get("warren_events_accepted_total"))
        expect_eq("warren_events_confirmed_total", 3.0,
                  m.get("warren_events_confirmed_total"))
        expect_eq("validation rejections", 1.0,
                  m.get('warren_events_rejected_total{code="validation"}'))
        expect_eq("bad_json rejections", 1.0,
                  m.get('warren_events_rejected_total{code="bad_json"}'))
        expect_eq("broker connected gauge", 1.0,
                  m.get("warren_broker_connected"))
        expect_eq("latency histogram count", 3.0,
                  m.get("warren_confirm_latency_seconds_count"))
        expect_eq("+Inf bucket", 3.0,
                  m.get('warren_confirm_latency_seconds_bucket{le="+Inf"}'))
        expect("# TYPE warren_confirm_latency_seconds histogram" in text,
               "a histogram TYPE line", text[:200])
        status, _ = get(port, "/healthz")
        expect_eq("GET /healthz status with the broker up", 200, status)
        status, _ = get(port, "/nothing-here")
        expect_eq("unknown path status", 404, status)


def subscribe_errors_counted_in_stats_errors_and_metrics_alike():
    """warren-protocol(7): stats errors counts error replies of every code,
    so a subscribe the broker cannot serve counts there as in /metrics."""
    port = free_port()
    with Daemon("metrics_sub_errors", urls=[UNREACHABLE_URL],
                top={"metrics": {"listen": "127.0.0.1:%d" % port}}) as d:
        with d.client() as c:
            req = {"op": "subscribe", "id": 1, "event": "ResourceAccessedEvent"}
            r = c.request(req)
            expect_eq("error of a subscribe with the broker unreachable",
                      "unavailable", r.get("error"))
            req = {"op": "subscribe", "id": 2, "event": "NoSuchEvent"}
            r = c.request(req)
            expect_eq("error of a subscribe to an unknown event",
                      "unknown_event", r.get("error"))
        expect_eq("stats errors after two refused subscribes", 2,
                  d.stats()["stats"].get("errors"))
        status, text = get(port, "/metrics")
        expect_eq("GET /metrics status", 200, status)
        m = samples(text)
        expect_eq("unavailable rejections", 1.0,
                  m.get('warren_events_rejected_total{code="unavailable"}'))
        expect_eq("unknown_event rejections", 1.0,
                  m.get('warren_events_rejected_total{code="unknown_event"}'))
        total = sum(v for k, v in m.items()
                    if k.startswith("warren_events_rejected_total{"))
        expect_eq("rejections of every code in /metrics", 2.0, total)


def healthz_unavailable_when_broker_down_and_no_spool():
    port = free_port()
    with Daemon("healthz_down", urls=[UNREACHABLE_URL],
                spool={"max_bytes": 0},  # spool disabled
                top={"metrics": {"listen": "127.0.0.1:%d" % port}}) as d:
        status, body = get(port, "/healthz")
        expect_eq("GET /healthz status, broker down, no spool", 503, status)
        expect_eq("body", "unavailable\n", body)
        d.assert_serving()


def healthz_ok_while_the_spool_takes_events():
    port = free_port()
    with Daemon("healthz_spool", urls=[UNREACHABLE_URL],
                top={"metrics": {"listen": "127.0.0.1:%d" % port}}):
        status, _ = get(port, "/healthz")
        expect_eq("GET /healthz status, broker down, spool with room",
                  200, status)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def read_all(s, timeout, reset_ok=False):
    """Everything s sends until EOF within timeout seconds, or None. With
    reset_ok a reset counts as the end (what came before it is kept)."""
    data = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            s.settimeout(max(end - time.monotonic(), 0.01))
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        if reset_ok:
            return data
    return None


def accept_lines(d):
    return [ln for ln in d.log().split("\n") if "accept" in ln]


def metrics_connections_capped_whole_life_bounded_unix_clients_served():
    """Hundreds of /metrics connections trickling a byte at a time, beyond
    what warrend's descriptors allow: all but metrics.max_clients are
    answered 503 and closed at once; those few are closed after
    metrics.timeout_ms although bytes keep coming; the Unix socket serves
    throughout, and accept never spins."""
    port, cap, ms, n = free_port(), 4, 2000, 400
    with Daemon("metrics_cap", urls=[UNREACHABLE_URL], top={"metrics": {
            "listen": "127.0.0.1:%d" % port, "max_clients": cap,
            "timeout_ms": ms}}) as d:
        limit = fd_count(d.proc.pid) + 64
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (limit, limit))
        conns = []
        try:
            for i in range(n):
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                except OSError as e:
                    fail("connection %d of %d to /metrics failed: %r" % (i + 1, n, e))
                conns.append(s)
                s.sendall(b"G")
            started = time.monotonic()
            stop = threading.Event()

            def trickle():
                while not stop.wait(0.3):
                    for s in conns[:cap]:
                        try:
                            s.sendall(b"E")
                        except OSError:
                            pass
            t = threading.Thread(target=trickle, daemon=True)
            t.start()
            try:
                # Closed at once (a reset when the byte sent was unread),
                # after a 503 if it got through.
                for i, s in enumerate(conns[cap:]):
                    got = read_all(s, 5, reset_ok=True)
                    expect(got is not None and (got == b"" or
                                                got.startswith(b"HTTP/1.1 503 ")),
                           "connection %d (over max_clients %d) closed at once, after "
                           "a 503 if anything" % (i + cap + 1, cap), got)
                d.client().ping()
                for i, s in enumerate(conns[:cap]):
                    got = read_all(s, ms / 1000 + 10 - (time.monotonic() - started))
                    expect(got is not None, "trickling connection %d closed within "
                           "timeout_ms %d (+10 s) though bytes kept coming" % (i + 1, ms),
                           "still open after %.1f s" % (time.monotonic() - started))
            finally:
                stop.set()
                t.join()
        finally:
            for s in conns:
                s.close()
        status, text = get(port, "/metrics")
        expect_eq("GET /metrics status once the slots are free", 200, status)
        expect(len(accept_lines(d)) < 20, "fewer than 20 log lines about accept",
               "%d, e.g. %s" % (len(accept_lines(d)), accept_lines(d)[:3]))
        d.assert_serving()


def listeners_pause_at_fd_limit_without_spinning():
    """Out of descriptors, both listeners (the Unix socket and /metrics)
    pause for a second at a time instead of retrying accept() in a loop,
    and serve again once descriptors are free."""
    port = free_port()
    with Daemon("metrics_emfile", urls=[UNREACHABLE_URL], top={"metrics": {
            "listen": "127.0.0.1:%d" % port}}) as d:
        limit = fd_count(d.proc.pid) + 8
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (limit, limit))
        clients, tcp = [], []
        try:
            for _ in range(12):
                clients.append(d.client())
            for _ in range(3):
                tcp.append(socket.create_connection(("127.0.0.1", port), timeout=5))
                tcp[-1].sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            wait_for(lambda: accept_lines(d), "a log line about accept failing")
            before = len(accept_lines(d))
            time.sleep(3)
            during = len(accept_lines(d)) - before
            expect(during <= 10, "at most 10 accept lines in 3 s at the limit (a pause of "
                   "a second per listener)", "%d, e.g. %s" % (during, accept_lines(d)[-3:]))
            for who in ("socket", "metrics"):
                expect(any(ln.endswith("%s: accept: Too many open files; pausing for a "
                                       "second" % who) for ln in accept_lines(d)),
                       "the %s listener pausing at the limit" % who, accept_lines(d)[-4:])
        finally:
            for c in clients:
                c.close()
        try:
            for s in tcp:
                got = read_all(s, 10)
                expect(got is not None and got.startswith(b"HTTP/1.1 200 "),
                       "a /metrics request queued at the limit answered 200", got)
        finally:
            for s in tcp:
                s.close()
        d.assert_serving("once descriptors were free again")


def metrics_malformed_requests_refused():
    """Each malformed request gets its 4xx/5xx status and a close."""
    port = free_port()
    cases = [(b"BREW /metrics HTTP/1.1\r\n\r\n", 405),
             (b"GET /metrics SPDY/3\r\n\r\n", 400),
             (b"GET /metrics HTTP/2.0\r\n\r\n", 505),
             (b"GET /" + b"m" * 300 + b" HTTP/1.1\r\n\r\n", 414),
             (b"GET /metrics HTTP/1.1\r\nX: " + b"y" * 9000, 431),
             (b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", 400),
             (b"\r\n", 400)]
    with Daemon("metrics_bad", urls=[UNREACHABLE_URL], top={"metrics": {
            "listen": "127.0.0.1:%d" % port}}) as d:
        for req, status in cases:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                try:
                    s.sendall(req)
                except OSError:
                    pass
                got = read_all(s, 10)
                expect(got is not None and got.startswith(b"HTTP/1.1 %d " % status),
                       "%d for %s" % (status, req[:60]), got)
        status, _ = get(port, "/metrics?x=1")
        expect_eq("status of /metrics with a query string", 200, status)
        d.assert_serving()


if __name__ == "__main__":
    run([
        metrics_count_accepted_confirmed_and_rejected_by_code,
        subscribe_errors_counted_in_stats_errors_and_metrics_alike,
        healthz_unavailable_when_broker_down_and_no_spool,
        healthz_ok_while_the_spool_takes_events,
        metrics_connections_capped_whole_life_bounded_unix_clients_served,
        listeners_pause_at_fd_limit_without_spinning,
        metrics_malformed_requests_refused,
    ])
