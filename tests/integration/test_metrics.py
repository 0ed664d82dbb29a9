#!/usr/bin/python3
"""The Prometheus endpoint: /metrics counts what warrend did, /healthz says
whether it can take events."""

import socket
import urllib.error
import urllib.request

from warrentest import (UNREACHABLE_URL, Broker, Daemon, expect, expect_eq,
                        unique,
                        expect_ok, fail, publish_req, run, wait_for)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


if __name__ == "__main__":
    run([
        metrics_count_accepted_confirmed_and_rejected_by_code,
        subscribe_errors_counted_in_stats_errors_and_metrics_alike,
        healthz_unavailable_when_broker_down_and_no_spool,
        healthz_ok_while_the_spool_takes_events,
    ])
