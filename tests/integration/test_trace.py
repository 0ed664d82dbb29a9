#!/usr/bin/python3
"""W3C trace context end to end (issue #14, item 3): a publish's
traceparent and tracestate go on the message as cloudEvents:traceparent
and cloudEvents:tracestate, come back unchanged in a subscriber's deliver
line and in the environment of warren subscribe --exec, also when the
event waited in the spool while the broker was away (and spool records of
the format before trace context still replay); a malformed one is refused
as a validation error naming the member; trace.start starts a well-formed
one when the client sent none."""

import json
import os
import re
import signal
import time

import warrentest
from warrentest import (BROKER_URL, DEADLINE, UNREACHABLE_URL, Broker, expect,
                        expect_eq, expect_error, expect_ok, fail,
                        publish_req, resource_data, short, unique, wait_for)
from test_cli import (Subscriber, TempDir, accepted_line, compact, expect_rc,
                      read_file, wcli)
from test_spool import (RK, TYPE, SwitchProxy, restart, segment_files,
                        spool_key, spool_record)
from test_subscribe import EVENT, Sub, consumer_daemon, queue_of
from test_migrate import V2
from warrentest import _pika

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TS = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
TP_RE = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-0[01]\Z")
H_TP = "cloudEvents:traceparent"
H_TS = "cloudEvents:tracestate"
FAST = {"reconnect_min_ms": 50, "reconnect_max_ms": 300}


def expect_trace(what, obj, tp, ts):
    """obj (a deliver line or reply) carries exactly tp and ts (None:
    the member is absent)."""
    for k, v in (("traceparent", tp), ("tracestate", ts)):
        if v is None:
            expect(k not in obj, "%s: no %s" % (what, k), short(json.dumps(obj)))
        else:
            expect_eq("%s: %s" % (what, k), v, obj.get(k))


def expect_headers(what, m, tp, ts):
    """Message m carries exactly tp and ts as CloudEvents headers."""
    expect_eq("%s: header %s" % (what, H_TP), tp, m.header(H_TP))
    expect_eq("%s: header %s" % (what, H_TS), ts, m.header(H_TS))


def take(b, q, n, deadline=DEADLINE):
    """The messages of queue q by message_id, once there are n."""
    msgs = {}

    def more():
        msgs.update({m.props.message_id: m for m in b.get_all(q)})
        return len(msgs) >= n
    wait_for(more, "%d messages in queue %s" % (n, q), deadline)
    return msgs


def publish(c, req):
    r = c.request(req)
    return expect_ok(r, "publish", req=req)


def traceparent_travels_to_message_and_deliver_line_unchanged():
    """A subscriber gets the publisher's traceparent and tracestate in its
    deliver line and a plain AMQP consumer finds them as CloudEvents
    headers; the body is the data alone; an event without them carries
    none anywhere."""
    name = "trace_e2e"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        q = unique(name)
        b.bind_queue(q, d.exchange, RK)
        s.subscribe()
        data = resource_data(1)
        with d.client() as c:
            r1 = publish(c, publish_req(data=data, id=1, traceparent=TP, tracestate=TS))
            expect_trace("publish reply", r1, TP, None)
            r2 = publish(c, publish_req(data=resource_data(2), id=2))
            expect_trace("publish reply without trace context", r2, None, None)
            r3 = publish(c, publish_req(data=resource_data(3), id=3, traceparent=TP,
                                        tracestate=""))
        got = {}
        while len(got) < 3:
            obj, raw = s.deliver(raw=True)
            got[obj["message_id"]] = (obj, raw)
            s.ack(obj["tag"])
        obj, raw = got[r1["message_id"]]
        expect_trace("deliver line", obj, TP, TS)
        expect_eq("deliver line data", data, obj["data"])
        expect_trace("deliver line of an event without trace context",
                     got[r2["message_id"]][0], None, None)
        expect_trace("deliver line of an event with an empty tracestate",
                     got[r3["message_id"]][0], TP, None)
        msgs = take(b, q, 3)
        m = msgs[r1["message_id"]]
        expect_headers("the message", m, TP, TS)
        expect_eq("the body", data, json.loads(m.body))
        expect("traceparent" not in m.body.decode(), "no trace context in the body",
               m.body)
        expect_headers("the message without trace context", msgs[r2["message_id"]],
                       None, None)
        expect_headers("the message with an empty tracestate", msgs[r3["message_id"]],
                       TP, None)
        s.sync()


def projection_onto_replaced_contract_keeps_trace_context():
    """An event whose contract replaces an older one goes out twice (the
    projection for the older consumers): both messages carry the same
    trace context, the client's or the one warrend started."""
    name = "trace_migrate"
    with Broker() as b, warrentest.Daemon(name, contracts=[warrentest.RESOURCE_ACCESSED, V2],
                                          top={"trace": {"start": True}}) as d:
        q1, q2 = unique(name + "-v1"), unique(name + "-v2")
        b.bind_queue(q1, d.exchange, RK)
        b.bind_queue(q2, d.exchange, V2["routing_key"])
        data = dict(resource_data(1), owner_id="u-1")
        with d.client() as c:
            own = publish(c, publish_req(V2["name"], data, id=1, traceparent=TP,
                                         tracestate=TS))
            made = publish(c, publish_req(V2["name"], data, id=2))
        m1, m2 = take(b, q1, 2), take(b, q2, 2)
        for what, msgs in (("the projection", m1), ("the newer event", m2)):
            expect_headers(what + " with the client's trace context",
                           msgs[own["message_id"]], TP, TS)
            expect_headers(what + " with a started trace", msgs[made["message_id"]],
                           made["traceparent"], None)


def foreign_publish(b, exchange, headers, mid):
    """Publish a valid event with pika, with these headers."""
    pika = _pika()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/json",
                                 message_id=mid, headers=headers)

    def pub(ch):
        ch2 = ch.connection.channel()
        try:
            ch2.confirm_delivery()
            ch2.basic_publish(exchange, RK, json.dumps(resource_data(1)).encode(),
                              props, mandatory=True)
        finally:
            if ch2.is_open:
                ch2.close()
    b._do(pub)


def malformed_trace_headers_of_other_publishers_not_delivered():
    """Messages from other publishers: a valid trace context in the
    CloudEvents headers is delivered; a malformed traceparent is left out
    with its tracestate, and a malformed tracestate alone is left out (W3C
    Trace Context); the event itself is delivered all the same."""
    name = "trace_foreign"
    cases = [("good", {H_TP: TP, H_TS: TS}, TP, TS),
             ("bad-parent", {H_TP: TP.upper(), H_TS: TS}, None, None),
             ("bad-state", {H_TP: TP, H_TS: "Rojo=1"}, TP, None),
             ("not-a-string", {H_TP: 12345}, None, None),
             ("none", {}, None, None)]
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        s.subscribe()
        for tag, headers, _, _ in cases:
            foreign_publish(b, d.exchange, headers, "%s-%s" % (name, tag))
        got = {}
        while len(got) < len(cases):
            obj = s.deliver(what="the events of another publisher")
            got[obj["message_id"]] = obj
            s.ack(obj["tag"])
        for tag, _, tp, ts in cases:
            expect_trace("deliver line of the %s case" % tag, got["%s-%s" % (name, tag)],
                         tp, ts)
        s.sync()


BAD_TRACEPARENTS = [
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",          # no flags
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",       # uppercase
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",       # zero trace-id
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",       # zero parent-id
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",       # version ff
    TP + "-extra",                                                   # 00 is 55 chars
    "not a traceparent",
    "",
    42,
    None,
]
BAD_TRACESTATES = ["Rojo=1", "rojo", "rojo=1,rojo=2", "rojo=a=b",
                   ",".join("k%d=v" % i for i in range(33)), "k=" + "v" * 600, 7]


def malformed_traceparent_refused_as_validation_naming_the_field():
    """Each malformed traceparent or tracestate is answered validation with
    "field" naming it, and nothing reaches the broker; the connection
    keeps working."""
    name = "trace_bad"
    with Broker() as b, warrentest.Daemon(name) as d:
        q = unique(name)
        b.bind_queue(q, d.exchange, RK)
        with d.client() as c:
            n = 0
            for tp in BAD_TRACEPARENTS:
                n += 1
                req = publish_req(id=n, traceparent=tp)
                expect_error(c.request(req), "validation", op="publish", id=n,
                             field="traceparent", req=req)
            for ts in BAD_TRACESTATES:
                n += 1
                req = publish_req(id=n, traceparent=TP, tracestate=ts)
                expect_error(c.request(req), "validation", op="publish", id=n,
                             field="tracestate", req=req)
            n += 1
            req = publish_req(id=n, tracestate="rojo=1")
            expect_error(c.request(req), "validation", op="publish", id=n,
                         field="tracestate", req=req)
            later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more"
            r = publish(c, publish_req(id="ok", traceparent=later))
        m = b.get_one(q)
        expect_eq("the only message is the good one", r["message_id"], m.props.message_id)
        expect_headers("a later version's traceparent", m, later, None)
        time.sleep(0.3)
        expect_eq("messages left after the good one", 0, b.count(q))


def trace_start_generates_wellformed_traceparent_on_message():
    """With trace.start, an event published without a traceparent gets a
    new well-formed one (sampled by default, a new trace-id each time),
    returned in the reply and put on the message; a client's own is kept
    as it is. trace.sampled = false clears the sampled flag. Without
    trace.start (the default) none is added, until a reload turns it
    on."""
    name = "trace_start"
    with Broker() as b, warrentest.Daemon(name, top={"trace": {"start": True}}) as d:
        q = unique(name)
        b.bind_queue(q, d.exchange, RK)
        with d.client() as c:
            made = [publish(c, publish_req(id=i, data=resource_data(i))) for i in range(3)]
            own = publish(c, publish_req(id=9, traceparent=TP, tracestate=TS))
        ids = set()
        for r in made:
            tp = r.get("traceparent")
            expect(isinstance(tp, str) and TP_RE.match(tp),
                   "a version 00 traceparent with non-zero ids in the reply", short(json.dumps(r)))
            expect_eq("the sampled flag of a started trace", "01", tp[-2:])
            ids.add(tp[3:35])
        expect_eq("distinct trace-ids for 3 events", 3, len(ids))
        expect_trace("reply with the client's own", own, TP, None)
        msgs = take(b, q, 4)
        for r in made:
            expect_headers("a started trace's message", msgs[r["message_id"]],
                           r["traceparent"], None)
        expect_headers("the client's own", msgs[own["message_id"]], TP, TS)
    with Broker() as b, warrentest.Daemon(
            name, top={"trace": {"start": True, "sampled": False}}) as d:
        with d.client() as c:
            r = publish(c, publish_req(id=1))
        expect(TP_RE.match(r.get("traceparent", "")) and r["traceparent"].endswith("-00"),
               "a started trace with flags 00 when trace.sampled = false",
               short(json.dumps(r)))
    with Broker() as b, warrentest.Daemon(name) as d:
        q = unique(name)
        b.bind_queue(q, d.exchange, RK)
        with d.client() as c:
            r = publish(c, publish_req(id=1))
        expect_trace("reply without trace.start", r, None, None)
        expect_headers("message without trace.start", b.get_one(q), None, None)
        # Turned on by a reload, for the events after it.
        d.top = {"trace": {"start": True}}
        d.write_config()
        d.kill(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.log(),
                 "\"configuration reloaded\" in warrend's log")
        with d.client() as c:
            r = publish(c, publish_req(id=2))
        expect(TP_RE.match(r.get("traceparent", "")),
               "a started trace after trace.start was turned on by SIGHUP",
               short(json.dumps(r)))
        expect_headers("message after the reload", b.get_one(q), r["traceparent"], None)


EXEC_TRACE = ('printf %s "${TRACEPARENT-unset}" > "$CLI_DIR/tp.$WARREN_MESSAGE_ID"; '
              'printf %s "${TRACESTATE-unset}" > "$CLI_DIR/ts.$WARREN_MESSAGE_ID"; '
              'cat > /dev/null; : > "$CLI_DIR/done.$WARREN_MESSAGE_ID"')


def exec_outputs(tmp, mid):
    path = os.path.join(tmp, "done." + mid)
    wait_for(lambda: os.path.exists(path), "the command to run for %s" % mid)
    return (read_file(os.path.join(tmp, "tp." + mid)).decode(),
            read_file(os.path.join(tmp, "ts." + mid)).decode())


def exec_command_gets_traceparent_in_its_environment():
    """warren subscribe --exec exports TRACEPARENT and TRACESTATE as the
    publisher sent them; for an event without them both are unset, even
    when warren itself was started with them in its environment."""
    name = "trace_exec"
    stale = {"TRACEPARENT": "00-11111111111111111111111111111111-2222222222222222-01",
             "TRACESTATE": "stale=1"}
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        env = dict(stale, CLI_DIR=tmp)
        with Subscriber(d, "--exec", EXEC_TRACE, EVENT, env=env) as s:
            s.wait_subscribed(d)
            with d.client() as c:
                r1 = publish(c, publish_req(id=1, data=resource_data(1),
                                            traceparent=TP, tracestate=TS))
                r2 = publish(c, publish_req(id=2, data=resource_data(2)))
                r3 = publish(c, publish_req(id=3, data=resource_data(3), traceparent=TP))
            expect_eq("TRACEPARENT and TRACESTATE", (TP, TS),
                      exec_outputs(tmp, r1["message_id"]))
            expect_eq("TRACEPARENT and TRACESTATE of an event without them",
                      ("unset", "unset"), exec_outputs(tmp, r2["message_id"]))
            expect_eq("TRACEPARENT and TRACESTATE of an event without tracestate",
                      (TP, "unset"), exec_outputs(tmp, r3["message_id"]))
            s.stop()


def warren_publish_sends_trace_context():
    """warren publish --traceparent/--tracestate sends them with the one
    event of its argument and with every line of its standard input (a
    handler run by --exec passes its TRACEPARENT on this way); warrend's
    refusal of a malformed one is printed with exit status 1."""
    name = "trace_cli"
    with Broker() as b, warrentest.Daemon(name) as d:
        q = unique(name)
        b.bind_queue(q, d.exchange, RK)
        res = wcli(d, "publish", "--traceparent", TP, "--tracestate", TS, EVENT,
                   compact(resource_data(1)))
        expect_rc(res, 0)
        one = accepted_line(res.out.strip())[0]
        lines = "\n".join(compact(resource_data(i)) for i in range(2, 5)) + "\n"
        res = wcli(d, "publish", "--traceparent", TP, EVENT, stdin=lines)
        expect_rc(res, 0)
        many = [accepted_line(line)[0] for line in res.out.split("\n") if line]
        expect_eq("events published from stdin", 3, len(many))
        res = wcli(d, "publish", EVENT, compact(resource_data(5)))
        expect_rc(res, 0)
        plain = accepted_line(res.out.strip())[0]
        res = wcli(d, "publish", "--traceparent", "00-zz", EVENT, compact(resource_data(6)))
        expect_rc(res, 1)
        expect("validation" in res.err and "traceparent" in res.err,
               "warren to print warrend's validation error naming traceparent", res)
        msgs = take(b, q, 5)
        expect_headers("the event of warren publish's argument", msgs[one], TP, TS)
        for m in many:
            expect_headers("an event of warren publish's stdin", msgs[m], TP, None)
        expect_headers("an event of warren publish without options", msgs[plain],
                       None, None)
        time.sleep(0.3)
        expect_eq("messages left (the refused one never sent)", 0, b.count(q))


def spooled_event_keeps_its_traceparent_to_deliver_line_and_exec():
    """The broker is away when the event is published (answered spooled);
    once it is back, the event reaches a subscriber's deliver line and a
    warren subscribe --exec command with the same traceparent and
    tracestate, and the message carries them."""
    name = "trace_spool"
    with Broker() as b, SwitchProxy() as px, TempDir() as tmp:
        d = consumer_daemon(b, name, urls=[px.url], broker_opts=FAST, wait_connected=True)
        with d:
            q = unique(name)
            b.bind_queue(q, d.exchange, RK)
            with Sub(d) as s:
                s.subscribe()
                px.down()
                d.wait_broker(False)
                with d.client() as c:
                    r = c.request(publish_req(id=1, traceparent=TP, tracestate=TS),
                                  timeout=30)
                    expect_ok(r, "publish", spooled=True)
                    expect_trace("spooled reply", r, TP, None)
                px.up()
                obj = s.deliver(timeout=60, what="the spooled event")
                expect_eq("message_id", r["message_id"], obj["message_id"])
                expect_trace("deliver line of a spooled event", obj, TP, TS)
                m = b.get_one(q)
                expect_headers("the spooled event's message", m, TP, TS)
                # Not acked: handed out again to the --exec command.
            with Subscriber(d, "--exec", EXEC_TRACE, EVENT, env={"CLI_DIR": tmp}) as sub:
                sub.wait_subscribed(d)
                expect_eq("TRACEPARENT and TRACESTATE of the spooled event", (TP, TS),
                          exec_outputs(tmp, r["message_id"]))
                sub.stop()


def spool_of_the_format_before_trace_context_still_replays():
    """Records written before trace context (the u16 after the message_id
    length zero) replay as they were, without trace headers, next to
    records that carry it, which replay with theirs."""
    name = "trace_old_spool"
    with Broker() as b:
        d = warrentest.Daemon(name, urls=[UNREACHABLE_URL], broker_opts=FAST,
                              wait_connected=False)
        with d:
            q = unique(name)
            b.bind_queue(q, d.exchange, RK, durable=True)
            with d.client() as c:
                r = c.request(publish_req(id=1, traceparent=TP, tracestate=TS), timeout=30)
                expect_ok(r, "publish", spooled=True)
            rc = d.terminate()
            expect(rc == 0, "exit status 0 after SIGTERM", rc)
            spool_dir = os.path.join(d.dir, "spool")
            segs = segment_files(spool_dir)
            expect(segs, "a spool segment after a spooled publish", segs)
            old_id = "%s-old" % name
            body = json.dumps(resource_data(7)).encode()
            with open(segs[-1], "ab") as f:
                f.write(spool_record(RK, TYPE, old_id, 1714564800123, body,
                                     spool_key(spool_dir)))
            d.urls = [BROKER_URL]
            d.write_config()
            restart(d, wait_connected=True)
            msgs = take(b, q, 2, deadline=60)
            expect_headers("the event spooled with trace context",
                           msgs[r["message_id"]], TP, TS)
            old = msgs[old_id]
            expect_headers("the event of the older record", old, None, None)
            expect_eq("the older record's body", body, old.body)
            st = d.stats()["stats"]["spool"]
            expect(st["corrupt"] == 0 and st["forged"] == 0,
                   "no record counted corrupt or forged", json.dumps(st))


if __name__ == "__main__":
    warrentest.run([
        traceparent_travels_to_message_and_deliver_line_unchanged,
        malformed_traceparent_refused_as_validation_naming_the_field,
        trace_start_generates_wellformed_traceparent_on_message,
        projection_onto_replaced_contract_keeps_trace_context,
        malformed_trace_headers_of_other_publishers_not_delivered,
        exec_command_gets_traceparent_in_its_environment,
        warren_publish_sends_trace_context,
        spooled_event_keeps_its_traceparent_to_deliver_line_and_exec,
        spool_of_the_format_before_trace_context_still_replays,
    ])
