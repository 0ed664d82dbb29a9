#!/usr/bin/python3
"""Replay from streams against the real broker: a contract with a stream
keeps its events in a stream queue declared by every warrend that knows the
contract; a subscriber started later replays from "first", from a time,
from a saved offset, or takes only what comes next; deliver lines carry
offsets; replays survive a warrend restart and a broker restart."""

import copy
import datetime
import json
import os
import select
import signal
import subprocess
import time

import warrentest
from warrentest import (DEADLINE, Daemon, RESOURCE_ACCESSED, expect,
                        expect_eq, expect_error, expect_ok, fail,
                        publish_req, rabbitmqctl, resource_data, short,
                        wait_for)

EVENT = "ResourceAccessedEvent"
RESTART_DEADLINE = 90.0     # seconds: a broker app restart plus reconnecting
QUIET = 1.0                 # seconds a replay must stay silent past its end


def stream_contract(**retention):
    c = copy.deepcopy(RESOURCE_ACCESSED)
    c["stream"] = retention or {"max_age": "1D", "max_bytes": 50000000}
    return c


def stream_queue(d):
    return "%s.%s.stream" % (d.exchange, EVENT)


def service_for(name):
    return "svc-%s-%d" % (name.replace("_", "-"), __import__("os").getpid())


Broker = warrentest.Broker


def publisher(b, name, **kw):
    """A warrend that only publishes; the stream is b's to delete."""
    d = Daemon(name + "-pub", contracts=[stream_contract()],
               service=service_for(name + "-pub"), **kw)
    b.queues.append(stream_queue(d))
    return d


def consumer_of(p, name):
    """A second warrend of another service on p's exchange: a service that
    did not exist when p published."""
    return Daemon(name + "-sub", contracts=[stream_contract()],
                  service=service_for(name + "-sub"), exchange=p.exchange)


def stream_exists(d):
    rc, out = rabbitmqctl("list_queues", "-q", "name")
    return stream_queue(d) in out.split()


def stream_consumers(d):
    """How many consumers the broker counts on d's stream queue."""
    rc, out = rabbitmqctl("list_queues", "-q", "name", "consumers")
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == stream_queue(d):
            return int(f[1])
    fail("the stream queue %s is not listed: %s" % (stream_queue(d), short(out)))


def publish_n(client, first, n):
    """Publish events first..first+n-1; their message ids in order."""
    ids = []
    for i in range(first, first + n):
        r = client.request(publish_req(data=resource_data(i), id=i))
        expect_ok(r, "publish")
        ids.append(r["message_id"])
    return ids


def subscribe(client, frm, id="s"):
    r = client.request({"op": "subscribe", "id": id, "event": EVENT, "from": frm})
    return r


def read_deliveries(client, n, ack=True, timeout=DEADLINE):
    """Read n deliver lines (acking each); fail on anything else."""
    out = []
    for _ in range(n):
        m = client.read(timeout=timeout)
        if m.get("op") != "deliver":
            fail("expected a deliver line, got %s" % short(m))
        out.append(m)
        if ack:
            client.send({"op": "ack", "tag": m["tag"]})
    return out


def expect_silence(client, what):
    """Nothing more arrives for QUIET seconds."""
    try:
        m = client.read(timeout=QUIET)
    except warrentest.Failure:
        return
    fail("expected nothing more %s, got %s" % (what, short(m)))


def expect_ids(what, deliveries, ids):
    got = [m["message_id"] for m in deliveries]
    expect_eq(what, ids, got)


# -------------------------------------------------------------------- tests


def replay_from_first_delivers_history_to_a_later_service():
    """Events published before the consuming service ever ran are replayed
    from "first", in order, each with its offset, counting up."""
    with Broker() as b:
        p = publisher(b, "first")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 10)
            with consumer_of(p, "first") as s, s.client() as c:
                r = subscribe(c, "first")
                expect_ok(r, "subscribe", queue=stream_queue(p))
                got = read_deliveries(c, 10)
                expect_ids("message ids replayed from first", got, ids)
                offsets = [m["offset"] for m in got]
                expect(all(isinstance(o, int) for o in offsets),
                       "integer offsets", offsets)
                expect_eq("offsets", list(range(offsets[0], offsets[0] + 10)), offsets)
                expect_eq("data of the 4th", resource_data(3), got[3]["data"])
                expect_silence(c, "after the history")
                more = publish_n(pc, 10, 2)
                expect_ids("events published during the replay", read_deliveries(c, 2), more)


def stream_declared_by_a_publishing_warrend():
    """A warrend that only publishes declares the stream queue at connect
    (with the contract's retention), bound with the routing key."""
    with Broker() as b:
        p = publisher(b, "declared")
        with p:
            rc, out = rabbitmqctl("list_queues", "-q", "name", "type", "arguments")
            line = [l for l in out.splitlines() if l.split("\t")[0] == stream_queue(p)]
            expect(line, "the stream queue %s listed" % stream_queue(p), out)
            expect("stream" in line[0] and "x-max-age" in line[0] and "1D" in line[0]
                   and "x-max-length-bytes" in line[0] and "50000000" in line[0],
                   "a stream queue with x-max-age 1D and x-max-length-bytes 50000000",
                   line[0])
            rc, out = rabbitmqctl("list_bindings", "-q", "source_name",
                                  "destination_name", "routing_key")
            expect("%s\t%s\tresource.accessed" % (p.exchange, stream_queue(p)) in out,
                   "the stream bound to the exchange with resource.accessed", out)


def replay_from_time_skips_earlier_events():
    """from an RFC 3339 time: the events published before it are not
    delivered, every one after it is."""
    with Broker() as b:
        p = publisher(b, "time")
        with p, p.client() as pc:
            publish_n(pc, 0, 5)
            time.sleep(0.3)
            cut = datetime.datetime.now(datetime.timezone.utc)
            time.sleep(0.3)
            later = publish_n(pc, 5, 5)
            stamp = cut.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            with consumer_of(p, "time") as s, s.client() as c:
                expect_ok(subscribe(c, stamp), "subscribe")
                expect_ids("events after %s" % stamp, read_deliveries(c, 5), later)
                expect_silence(c, "after the events since the time")
                # The same instant with an offset from UTC.
                plus2 = (cut + datetime.timedelta(hours=2)).strftime(
                    "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+02:00"
                expect_ok(subscribe(c, plus2, id="s2"), "subscribe")
                expect_ids("events after %s" % plus2, read_deliveries(c, 5), later)


def replay_resumes_from_saved_offset():
    """An app that stopped after 4 events resumes from the offset after the
    last one it handled: it gets exactly the other 6, once each."""
    with Broker() as b:
        p = publisher(b, "resume")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 10)
            with consumer_of(p, "resume") as s:
                with s.client() as c:
                    expect_ok(subscribe(c, "first"), "subscribe")
                    head = read_deliveries(c, 4)
                    saved = head[-1]["offset"]
                with s.client() as c:
                    expect_ok(subscribe(c, saved + 1), "subscribe")
                    rest = read_deliveries(c, 6)
                    expect_ids("the rest after offset %d" % saved, rest, ids[4:])
                    expect_eq("first offset delivered", saved + 1, rest[0]["offset"])
                    expect_silence(c, "after the rest")


def replay_next_delivers_only_new_events():
    """from "next": nothing published before the subscribe, everything
    after it."""
    with Broker() as b:
        p = publisher(b, "next")
        with p, p.client() as pc:
            publish_n(pc, 0, 3)
            with consumer_of(p, "next") as s, s.client() as c:
                expect_ok(subscribe(c, "next"), "subscribe")
                expect_silence(c, "before anything new is published")
                new = publish_n(pc, 3, 2)
                expect_ids("events published after the subscribe",
                           read_deliveries(c, 2), new)


def replay_last_starts_at_the_latest_events():
    """from "last": the broker starts at its last chunk, so the latest event
    comes first or among the first, never one older than what "first"
    gives, and new events follow."""
    with Broker() as b:
        p = publisher(b, "last")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 5)
            with consumer_of(p, "last") as s, s.client() as c:
                expect_ok(subscribe(c, "last"), "subscribe")
                got = []
                while not got or got[-1]["message_id"] != ids[-1]:
                    got += read_deliveries(c, 1)
                    if len(got) > 5:
                        fail("from last delivered more than the 5 events: %s"
                             % short([m["message_id"] for m in got]))
                expect_ids("a tail of the history", got, ids[len(ids) - len(got):])
                expect_silence(c, "after the last event")
                new = publish_n(pc, 5, 1)
                expect_ids("the next event", read_deliveries(c, 1), new)


def bad_from_values_are_bad_requests():
    """A from that is not first/last/next/a time/an offset, and a from for
    a contract with no stream, are bad_request with a clear message."""
    plain = copy.deepcopy(RESOURCE_ACCESSED)
    plain["name"], plain["routing_key"] = "PlainEvent", "plain.happened"
    with Broker() as b:
        d = Daemon("badfrom", contracts=[stream_contract(), plain],
                   service=service_for("badfrom"))
        b.queues.append(stream_queue(d))
        with d, d.client() as c:
            for bad in ("beginning", -1, 1.5, "2024-05-01T12:00:00", True,
                        None, {"offset": 1}, "2024-02-30T00:00:00Z"):
                req = {"op": "subscribe", "id": 1, "event": EVENT, "from": bad}
                r = c.request(req)
                expect_error(r, "bad_request", op="subscribe", id=1, req=req)
                expect("from must be" in r.get("message", ""),
                       "a message saying what from accepts", r)
            req = {"op": "subscribe", "id": 2, "event": "PlainEvent", "from": "first"}
            r = c.request(req)
            expect_error(r, "bad_request", op="subscribe", id=2, req=req)
            expect("PlainEvent keeps no stream" in r.get("message", ""),
                   "a message saying PlainEvent keeps no stream", r)
            d.assert_serving()


def nack_does_not_requeue_from_a_stream():
    """A nack of a replayed event does not bring it back (a stream keeps
    every message: there is no requeue); it can be replayed from its
    offset."""
    with Broker() as b:
        p = publisher(b, "nack")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 3)
            with consumer_of(p, "nack") as s, s.client() as c:
                expect_ok(subscribe(c, "first"), "subscribe")
                got = read_deliveries(c, 3, ack=False)
                c.send({"op": "nack", "tag": got[1]["tag"], "requeue": True})
                c.send({"op": "ack", "tag": got[0]["tag"]})
                c.send({"op": "ack", "tag": got[2]["tag"]})
                expect_silence(c, "after a nack with requeue on a stream")
                expect_ok(subscribe(c, got[1]["offset"], id="again"), "subscribe")
                expect_ids("the nacked event replayed from its offset",
                           read_deliveries(c, 2), ids[1:])


def retry_on_a_replay_settles_it():
    """A nack with retry_in_ms of a replayed event settles it like an ack:
    a stream keeps its events, so nothing comes back after the delay and
    no retry copy is made (stats.retried stays 0)."""
    with Broker() as b:
        p = publisher(b, "retryreplay")
        with p, p.client() as pc:
            publish_n(pc, 0, 2)
            with consumer_of(p, "retryreplay") as s, s.client() as c:
                expect_ok(subscribe(c, "first"), "subscribe")
                got = read_deliveries(c, 2, ack=False)
                c.send({"op": "nack", "tag": got[0]["tag"], "retry_in_ms": 200})
                c.send({"op": "ack", "tag": got[1]["tag"]})
                expect_silence(c, "after a nack with retry_in_ms on a stream")
                st = s.stats()["stats"]
                expect_eq("stats.retried", 0, st.get("retried"))


def replay_from_next_keeps_events_spooled_while_the_broker_was_down():
    """A replay from "next" that has had nothing yet when the broker goes
    away still gets the events published (and spooled) meanwhile, once
    each, after the broker is back."""
    with Broker() as b:
        p = publisher(b, "nextdown")
        with p, p.client() as pc:
            with consumer_of(p, "nextdown") as s, s.client() as c:
                expect_ok(subscribe(c, "next"), "subscribe")
                stopped = False
                try:
                    rc, out = rabbitmqctl("stop_app")
                    stopped = True
                    if rc != 0:
                        fail("rabbitmqctl stop_app failed (%d): %s" % (rc, out))
                    p.wait_broker(False, RESTART_DEADLINE)
                    ids = []
                    for i in range(3):
                        r = pc.request(publish_req(data=resource_data(i), id=i))
                        expect_ok(r, "publish", spooled=True)
                        ids.append(r["message_id"])
                finally:
                    rc1, out1 = rabbitmqctl("start_app")
                    rc2, out2 = rabbitmqctl("-q", "await_startup")
                    if stopped and (rc1 != 0 or rc2 != 0):
                        fail("restarting the broker failed: %s %s" % (out1, out2))
                expect_ids("the events spooled while the broker was down",
                           read_deliveries(c, 3, timeout=RESTART_DEADLINE), ids)
                expect_silence(c, "after them")


def replay_survives_warrend_restart():
    """The stream outlives the warrends: after both are restarted, a
    replay from a saved offset delivers exactly the rest."""
    with Broker() as b:
        p = publisher(b, "wrestart")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 6)
        s = consumer_of(p, "wrestart")
        with s, s.client() as c:
            expect_ok(subscribe(c, "first"), "subscribe")
            saved = read_deliveries(c, 3)[-1]["offset"]
        p2 = publisher(b, "wrestart")
        p2.exchange = p.exchange
        p2.write_config()
        with p2, p2.client() as pc:
            ids += publish_n(pc, 6, 2)
        s2 = consumer_of(p, "wrestart")
        with s2, s2.client() as c:
            expect_ok(subscribe(c, saved + 1), "subscribe")
            expect_ids("the rest after a restart", read_deliveries(c, 5), ids[3:])
            expect_silence(c, "after the rest")


def replay_survives_broker_restart():
    """The broker's app is stopped and started during a replay: the stream
    is still there, the same replay goes on after the last event it
    delivered (no repeat, no gap), and a new replay from a saved offset
    works."""
    with Broker() as b:
        p = publisher(b, "brestart")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 6)
            with consumer_of(p, "brestart") as s, s.client() as c:
                expect_ok(subscribe(c, "first"), "subscribe")
                head = read_deliveries(c, 6)
                stopped = False
                try:
                    rc, out = rabbitmqctl("stop_app")
                    stopped = True
                    if rc != 0:
                        fail("rabbitmqctl stop_app failed (%d): %s" % (rc, out))
                    wait_for(lambda: s.stats()["stats"]["consumer"]["connected"] is False,
                             "the consumer to notice the broker is gone", RESTART_DEADLINE)
                finally:
                    rc1, out1 = rabbitmqctl("start_app")
                    rc2, out2 = rabbitmqctl("-q", "await_startup")
                    if stopped and (rc1 != 0 or rc2 != 0):
                        fail("restarting the broker failed: %s %s" % (out1, out2))
                p.wait_broker(True, RESTART_DEADLINE)
                wait_for(lambda: s.stats()["stats"]["consumer"]["connected"] is True,
                         "the consumer to reconnect", RESTART_DEADLINE)
                more = publish_n(pc, 6, 3)
                got = read_deliveries(c, 3)
                expect_ids("after the broker restart, only the new events", got, more)
                expect_eq("offsets go on", head[-1]["offset"] + 1, got[0]["offset"])
                expect_silence(c, "after the new events")
                with s.client() as c2:
                    expect_ok(subscribe(c2, head[2]["offset"]), "subscribe")
                    expect_ids("a replay from a saved offset after the restart",
                               read_deliveries(c2, 7), ids[2:] + more)


def unsubscribe_and_disconnect_end_replays():
    """unsubscribe ends a connection's replays and its tags; another
    connection replays the same stream independently; a disconnect ends a
    replay and leaves no channel behind."""
    with Broker() as b:
        p = publisher(b, "end")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 4)
            with consumer_of(p, "end") as s:
                with s.client() as c1, s.client() as c2:
                    expect_ok(subscribe(c1, "first"), "subscribe")
                    expect_ok(subscribe(c2, "first"), "subscribe")
                    expect_ids("c1's replay", read_deliveries(c1, 4), ids)
                    expect_ids("c2's replay", read_deliveries(c2, 4), ids)
                    r = c1.request({"op": "unsubscribe", "id": "u", "event": EVENT})
                    expect_ok(r, "unsubscribe")
                    more = publish_n(pc, 4, 1)
                    expect_ids("c2 still replaying", read_deliveries(c2, 1), more)
                    expect_silence(c1, "after unsubscribe")
                for _ in range(3):
                    with s.client() as c:
                        expect_ok(subscribe(c, "first"), "subscribe")
                        read_deliveries(c, 5)
                wait_for(lambda: stream_consumers(p) == 0,
                         "no consumer left on the stream after the disconnects")
                expect_eq("stats.subscriptions", 0, s.stats()["stats"]["subscriptions"])
                s.assert_serving()


def replay_skips_messages_that_break_the_contract():
    """A message in the stream whose body breaks the contract (published
    around warrend) is skipped, logged, never delivered; the events around
    it are delivered in order."""
    pika = warrentest._pika()
    with Broker() as b:
        p = publisher(b, "skip")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 1)
            # Confirmed before the next publish, so it lies between them.
            ch = b.channel().connection.channel()
            ch.confirm_delivery()
            ch.basic_publish(p.exchange, "resource.accessed", b'{"resource_id": 7}',
                             pika.BasicProperties(message_id="bad-one", delivery_mode=2))
            ch.close()
            ids += publish_n(pc, 1, 1)
            with consumer_of(p, "skip") as s, s.client() as c:
                expect_ok(subscribe(c, "first"), "subscribe")
                got = read_deliveries(c, 2)
                expect_ids("the good events around the bad one", got, ids)
                expect_eq("offsets skip the bad one", got[0]["offset"] + 2,
                          got[1]["offset"])
                expect_silence(c, "after the good events")
                expect("delivery bad-one of %s breaks its contract" % EVENT in s.log()
                       and "skipped" in s.log(), "a log line naming bad-one, skipped",
                       s.log_tail())
                expect_eq("dead_lettered", 0, s.stats()["stats"]["dead_lettered"])


def stream_with_other_retention_is_kept_and_used():
    """A stream that already exists with another retention (the contract's
    was changed) is logged and kept as it is: events still go into it and
    replays still read it."""
    with Broker() as b:
        p = publisher(b, "other")
        b._do(lambda ch: ch.exchange_declare(p.exchange, exchange_type="topic",
                                             durable=True))
        b._do(lambda ch: ch.queue_declare(stream_queue(p), durable=True, arguments={
            "x-queue-type": "stream", "x-max-age": "2D"}))
        with p, p.client() as pc:
            wait_for(lambda: "stream %s exists with other arguments" % stream_queue(p)
                     in p.log(), "the publisher's warning about the stream's arguments")
            ids = publish_n(pc, 0, 3)
            with consumer_of(p, "other") as s, s.client() as c:
                expect_ok(subscribe(c, "first"), "subscribe")
                expect_ids("events in the stream kept as it was", read_deliveries(c, 3),
                           ids)
            rc, out = rabbitmqctl("list_queues", "-q", "name", "arguments")
            line = [l for l in out.splitlines() if l.startswith(stream_queue(p) + "\t")]
            expect(line and "2D" in line[0] and "1D" not in line[0],
                   "the stream still with x-max-age 2D", line)


def replays_per_connection_are_bounded():
    """A connection may replay 64 streams at once: the 65th subscribe with
    from is a bad_request that says so; once one ends, another may start;
    every replay delivers a new event once."""
    with Broker() as b:
        p = publisher(b, "bound")
        with p, p.client() as c:
            for i in range(64):
                c.send({"op": "subscribe", "id": i, "event": EVENT, "from": "next"})
            for i in range(64):
                expect_ok(c.read(), "subscribe")
            r = subscribe(c, "next", id="65th")
            expect_error(r, "bad_request", op="subscribe", id="65th")
            expect("at most 64" in r.get("message", ""), "a message naming the bound", r)
            expect_ok(c.request({"op": "unsubscribe", "id": "u", "event": EVENT}),
                      "unsubscribe")
            expect_ok(subscribe(c, "next", id="again"), "subscribe")
            with p.client() as pc:
                ids = publish_n(pc, 0, 1)
            expect_ids("one delivery of the new event", read_deliveries(c, 1), ids)
            expect_silence(c, "after it")


def stream_added_by_reload_keeps_events_from_then_on():
    """A reload that gives a contract a stream makes the running publisher
    declare it at once: events published after the reload are replayed
    from "first", the one before it is not."""
    plain = copy.deepcopy(RESOURCE_ACCESSED)
    with Broker() as b:
        p = Daemon("reload-pub", contracts=[plain], service=service_for("reload-pub"))
        b.queues.append(stream_queue(p))
        with p, p.client() as pc:
            publish_n(pc, 0, 1)
            p.contracts = [stream_contract()]
            p.write_config()
            p.kill(signal.SIGHUP)
            wait_for(lambda: "configuration reloaded" in p.log(), "the reload")
            wait_for(lambda: stream_exists(p), "the stream declared after the reload")
            ids = publish_n(pc, 1, 3)
            with consumer_of(p, "reload") as s, s.client() as c:
                expect_ok(subscribe(c, "first"), "subscribe")
                expect_ids("events published after the reload", read_deliveries(c, 3), ids)
                expect_silence(c, "after them")


def warren_subscribe_from_replays_with_offsets():
    """warren subscribe --from OFFSET prints the deliver lines from that
    offset on; with --exec, the command sees WARREN_OFFSET; a bad --from
    is a usage error (exit 2) before anything is sent."""
    warren = os.path.join(warrentest.TOP_SRCDIR, "src", "warren", "warren")
    with Broker() as b:
        p = publisher(b, "cli")
        with p, p.client() as pc:
            ids = publish_n(pc, 0, 5)
            with consumer_of(p, "cli") as s:
                with s.client() as c:
                    expect_ok(subscribe(c, "first"), "subscribe")
                    offsets = [m["offset"] for m in read_deliveries(c, 5)]
                out = os.path.join(s.dir, "offsets")
                proc = subprocess.Popen(
                    [warren, "-s", s.sock_path, "subscribe", "--from", str(offsets[2]),
                     "--exec", 'echo "$WARREN_OFFSET $WARREN_MESSAGE_ID" >> ' + out, EVENT],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                try:
                    def lines():
                        try:
                            with open(out) as f:
                                return f.read().splitlines()
                        except OSError:
                            return []
                    wait_for(lambda: len(lines()) >= 3, "3 deliveries run through --exec")
                    time.sleep(QUIET)
                    expect_eq("WARREN_OFFSET and WARREN_MESSAGE_ID of each",
                              ["%d %s" % (o, i) for o, i in zip(offsets[2:], ids[2:])],
                              lines())
                finally:
                    proc.kill()
                    proc.wait()
                proc = subprocess.Popen(
                    [warren, "-s", s.sock_path, "subscribe", "--from", "first", EVENT],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                try:
                    ready, _, _ = select.select([proc.stdout], [], [], DEADLINE)
                    expect(ready, "a line from warren subscribe --from first", "nothing")
                    first = json.loads(proc.stdout.readline())
                    expect_eq("first line's offset", offsets[0], first.get("offset"))
                    expect_eq("first line's message_id", ids[0], first.get("message_id"))
                finally:
                    proc.kill()
                    proc.wait()
                bad = subprocess.run([warren, "-s", s.sock_path, "subscribe", "--from",
                                      "yesterday", EVENT], capture_output=True, timeout=DEADLINE)
                expect_eq("exit status of --from yesterday", 2, bad.returncode)
                expect(b"from must be" in bad.stderr, "a message saying what --from takes",
                       bad.stderr)


if __name__ == "__main__":
    warrentest.run([
        stream_declared_by_a_publishing_warrend,
        replay_from_first_delivers_history_to_a_later_service,
        replay_from_time_skips_earlier_events,
        replay_resumes_from_saved_offset,
        replay_next_delivers_only_new_events,
        replay_last_starts_at_the_latest_events,
        bad_from_values_are_bad_requests,
        nack_does_not_requeue_from_a_stream,
        retry_on_a_replay_settles_it,
        unsubscribe_and_disconnect_end_replays,
        replay_skips_messages_that_break_the_contract,
        stream_with_other_retention_is_kept_and_used,
        replays_per_connection_are_bounded,
        stream_added_by_reload_keeps_events_from_then_on,
        warren_subscribe_from_replays_with_offsets,
        replay_from_next_keeps_events_spooled_while_the_broker_was_down,
        replay_survives_warrend_restart,
        replay_survives_broker_restart,
    ])
