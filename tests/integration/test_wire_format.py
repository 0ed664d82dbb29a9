#!/usr/bin/python3
"""broker.wire_format: each format puts exactly its documented AMQP
properties and headers on the message (read back from a queue), the default
is SPEC's format, every format keeps mandatory (unroutable detection) and
message_id (a spooled event keeps its id when it is replayed), and a bad
value is a config error naming the file and line."""

import contextlib
import json
import os
import shutil
import subprocess
import time

from warrentest import (BROKER_URL, UNREACHABLE_URL, WARREND, Broker, Daemon,
                        expect, expect_eq, expect_ok, fail, parse_rfc3339,
                        publish_req, run, short, unique)

WARREN = os.environ.get("WARREN") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                 "src", "warren", "warren"))

SERVICE = "wire-service"
EVENT = "ResourceAccessedEvent"
CLOCK_SLACK = 300  # seconds: "close to now" only guards against garbage

# Every basic property pika reads; a format sets exactly some of them.
ALL_PROPERTIES = ("content_type", "content_encoding", "headers",
                  "delivery_mode", "priority", "correlation_id", "reply_to",
                  "expiration", "message_id", "timestamp", "type", "user_id",
                  "app_id", "cluster_id")

CE_HEADERS = {"cloudEvents:specversion", "cloudEvents:id",
              "cloudEvents:source", "cloudEvents:type", "cloudEvents:time"}

# What warrend.conf(5) documents for each format.
FORMATS = {
    "cloudevents": ({"content_type", "delivery_mode", "message_id",
                     "timestamp", "type", "app_id", "headers"}, CE_HEADERS),
    "standard": ({"content_type", "delivery_mode", "message_id", "timestamp",
                  "type", "app_id"}, set()),
    "lean": ({"content_type", "delivery_mode", "message_id"}, set()),
}


def present(props):
    """The names of the properties a message carries."""
    return {n for n in ALL_PROPERTIES if getattr(props, n, None) is not None}


def published(fmt, name):
    """Publish one event through a warrend with broker.wire_format fmt (None:
    the key left out) and return (reply, message read back from a queue)."""
    opts = {} if fmt is None else {"wire_format": fmt}
    with Broker() as b, Daemon(name, service=SERVICE, broker_opts=opts) as d:
        q = unique(name)
        b.bind_queue(q, d.exchange, "resource.accessed")
        req = publish_req(id=1)
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req, id=1)
        return r, b.get_one(q)


def expect_format(fmt, r, m, start):
    """m carries exactly fmt's properties and headers, with their values."""
    props, headers = FORMATS[fmt]
    p = m.props
    expect_eq("%s: the properties present" % fmt, sorted(props),
              sorted(present(p)))
    expect_eq("%s: the headers present" % fmt, sorted(headers),
              sorted((p.headers or {}).keys()))
    expect_eq("delivery_mode", 2, p.delivery_mode)
    expect_eq("content_type", "application/json", p.content_type)
    expect_eq("message_id (the reply's)", r["message_id"], p.message_id)
    if "type" in props:
        expect_eq("type", EVENT, p.type)
        expect_eq("app_id", SERVICE, p.app_id)
        expect(abs(p.timestamp - start) < CLOCK_SLACK, "a timestamp close to now",
               p.timestamp)
    if headers:
        expect_eq("cloudEvents:specversion", "1.0", m.header("cloudEvents:specversion"))
        expect_eq("cloudEvents:id", r["message_id"], m.header("cloudEvents:id"))
        expect_eq("cloudEvents:source", SERVICE, m.header("cloudEvents:source"))
        expect_eq("cloudEvents:type", EVENT, m.header("cloudEvents:type"))
        t = m.header("cloudEvents:time")
        expect(abs(parse_rfc3339(t) - start) < CLOCK_SLACK,
               "cloudEvents:time close to now", t)


def wire_format_default_is_spec_format():
    start = time.time()
    r, m = published(None, "wire_default")
    expect_format("cloudevents", r, m, start)


def wire_format_cloudevents_sets_properties_and_headers():
    start = time.time()
    r, m = published("cloudevents", "wire_cloudevents")
    expect_format("cloudevents", r, m, start)


def wire_format_standard_sets_properties_without_headers():
    start = time.time()
    r, m = published("standard", "wire_standard")
    expect_format("standard", r, m, start)


def wire_format_lean_sets_message_id_only():
    start = time.time()
    r, m = published("lean", "wire_lean")
    expect_format("lean", r, m, start)


def wire_format_every_format_reports_unroutable():
    # mandatory stays on in every format: the broker returns the event and
    # warrend matches the return to it by message_id.
    for fmt in FORMATS:
        with Broker() as b, Daemon("wire_unroutable_" + fmt,
                                   broker_opts={"wire_format": fmt}) as d:
            b.declare_exchange(d.exchange)   # no queue bound
            req = publish_req(id=2)
            with d.client() as c:
                expect_ok(c.request(req), "publish", req=req, id=2, routed=False)
                q = unique("wire_unroutable_" + fmt)
                b.bind_queue(q, d.exchange, "resource.accessed")
                r = expect_ok(c.request(req), "publish", req=req, id=2)
                expect("routed" not in r, "%s: no \"routed\" once a queue is bound"
                       % fmt, json.dumps(r))


def unroutable_ignore_publishes_without_mandatory():
    # No mandatory flag: the broker drops an unroutable event and returns
    # nothing, so the client hears a plain ok; a routed one arrives with
    # the format's properties as ever.
    for fmt in ("lean", "cloudevents"):
        with Broker() as b, Daemon("wire_ignore_" + fmt, service=SERVICE,
                                   broker_opts={"wire_format": fmt,
                                                "unroutable": "ignore"}) as d:
            b.declare_exchange(d.exchange)   # no queue bound
            req = publish_req(id=4)
            with d.client() as c:
                r = expect_ok(c.request(req), "publish", req=req, id=4)
                expect("routed" not in r, "%s: no \"routed\" member without "
                       "mandatory" % fmt, json.dumps(r))
                q = unique("wire_ignore_" + fmt)
                b.bind_queue(q, d.exchange, "resource.accessed")
                start = time.time()
                r = expect_ok(c.request(req), "publish", req=req, id=4)
            expect_format(fmt, r, b.get_one(q), start)
            expect_eq("%s: messages in the queue (the unroutable one dropped)"
                      % fmt, 0, b.count(q))
            st = d.stats()["stats"]
            expect_eq("%s: stats confirmed" % fmt, 2, st["confirmed"])
            expect_eq("%s: stats unroutable" % fmt, 0, st["unroutable"])


def restart_on(d, urls):
    """Stop d, point it at urls and start it again on the same spool."""
    d.terminate()
    with contextlib.suppress(Exception):
        d.logf.close()
    os.rename(d.log_path, d.log_path + ".1")
    d.urls = urls
    d.write_config()
    d.proc = None
    d.stopping = False
    d.exit_status = None
    d.wait_connected = True
    d.start()


def wire_format_lean_spooled_event_keeps_message_id():
    # The id a consumer deduplicates by is the one the client was given,
    # even when the event went through the spool first.
    with Broker() as b, Daemon("wire_lean_spool", service=SERVICE,
                               urls=[UNREACHABLE_URL], wait_connected=False,
                               broker_opts={"wire_format": "lean"}) as d:
        start = time.time()
        req = publish_req(id=3)
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req, id=3, spooled=True)
        q = unique("wire_lean_spool")
        b.bind_queue(q, d.exchange, "resource.accessed")
        restart_on(d, [BROKER_URL])
        expect_format("lean", r, b.get_one(q), start)


def wire_format_bad_value_names_file_and_line():
    d = Daemon("wire_bad", broker_opts={"wire_format": "binary"})
    lines = d.config_text().split("\n")
    line = 1 + next(i for i, ln in enumerate(lines) if "wire_format" in ln)
    p = subprocess.run([WARREND, "-t", "-c", d.conf_path], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    err = p.stderr.decode("utf-8", "replace")
    where = "%s:%d:" % (d.conf_path, line)
    shutil.rmtree(d.dir, ignore_errors=True)
    expect(p.returncode == 1 and where in err and "wire_format" in err
           and "lean" in err,
           "exit 1, stderr naming %s, broker.wire_format and the formats" % where,
           "exit %d, stderr %s" % (p.returncode, short(err)))


def asyncapi_doc(fmt):
    """warren asyncapi of a config with broker.wire_format fmt: (the
    message of ResourceAccessedEvent, its send operation's AMQP binding)."""
    d = Daemon("wire_asyncapi", service="link-service",
               broker_opts={"wire_format": fmt})
    try:
        p = subprocess.run([WARREN, "-c", d.conf_path, "asyncapi"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)
    expect_eq("warren asyncapi exit status (stderr %s)" % short(p.stderr), 0,
              p.returncode)
    doc = json.loads(p.stdout)
    return (doc["components"]["messages"][EVENT],
            doc["operations"]["send" + EVENT]["bindings"]["amqp"])


def wire_format_asyncapi_describes_the_format():
    msg, amqp = asyncapi_doc("cloudevents")
    expect_eq("cloudevents: the headers described",
              sorted(CE_HEADERS), sorted(msg["headers"]["properties"]))
    expect_eq("cloudevents: timestamp in the binding", True, amqp["timestamp"])
    msg, amqp = asyncapi_doc("standard")
    expect("headers" not in msg, "standard: no headers described", json.dumps(msg))
    expect_eq("standard: timestamp in the binding", True, amqp["timestamp"])
    msg, amqp = asyncapi_doc("lean")
    expect("headers" not in msg, "lean: no headers described", json.dumps(msg))
    expect_eq("lean: timestamp in the binding", False, amqp["timestamp"])
    expect("app_id" not in msg["description"] and "message_id" in msg["description"],
           "lean: a description naming message_id and not app_id", msg["description"])
    expect_eq("mandatory in the binding", True, amqp["mandatory"])
    d = Daemon("wire_asyncapi_ignore", service="link-service",
               broker_opts={"unroutable": "ignore"})
    try:
        p = subprocess.run([WARREN, "-c", d.conf_path, "asyncapi"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)
    amqp = json.loads(p.stdout)["operations"]["send" + EVENT]["bindings"]["amqp"]
    expect_eq("unroutable ignore: mandatory in the binding", False, amqp["mandatory"])


if __name__ == "__main__":
    run([
        wire_format_default_is_spec_format,
        wire_format_cloudevents_sets_properties_and_headers,
        wire_format_standard_sets_properties_without_headers,
        wire_format_lean_sets_message_id_only,
        wire_format_every_format_reports_unroutable,
        unroutable_ignore_publishes_without_mandatory,
        wire_format_lean_spooled_event_keeps_message_id,
        wire_format_bad_value_names_file_and_line,
        wire_format_asyncapi_describes_the_format,
    ])
