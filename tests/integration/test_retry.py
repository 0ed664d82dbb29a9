#!/usr/bin/python3
"""Delayed retry against the real broker: {"op":"nack","tag":N,
"retry_in_ms":MS} brings the event back to this service's queue only, no
earlier than asked and within the tolerance warrend(8) states, with its
attempt count in the deliver line; a short delay is not held behind a long
one; past max_attempts it is dead-lettered with the reason in a header;
a warrend restart and a broker restart while it waits lose nothing."""

import json
import os
import signal
import time

from test_subscribe import (Broker, EVENT, ROUTING_KEY, RESTART_DEADLINE, Sub,
                            consumer_daemon, publish, queue_of, wait_queue)
from test_cli import Subscriber, TempDir
from warrentest import (FreezableProxy, RESOURCE_ACCESSED, diag, expect, expect_eq, expect_error,
                        fail, rabbitmqctl, short, unique, wait_for)

# The tiers warrend(8) lists: 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6 and 8 times
# each power of ten from 100 ms up.
STEPS = (100, 125, 150, 200, 250, 300, 400, 500, 600, 800)
TIERS = [s * 10 ** d for d in range(6) for s in STEPS] + [100000000]
LATE = 1.0      # seconds the broker and warrend may add (warrend(8))


def tier(ms):
    return next(t for t in TIERS if t >= ms)


def retry_daemon(b, name, tiers=(), **kw):
    """A consumer daemon whose tier queues and exchanges b removes too."""
    d = consumer_daemon(b, name, **kw)
    for ms in tiers:
        n = "%s.retry.%d" % (d.service, tier(ms))
        b.queues.append(n)
        b.exchanges.append(n)
    return d


def nack_retry(s, tag, ms):
    s.send({"op": "nack", "tag": tag, "retry_in_ms": ms})


def expect_back(s, mid, attempt, sent_at, ms, what):
    """The next delivery is mid's retry, attempt attempt, no earlier than ms
    after sent_at and no later than its tier plus LATE."""
    m = s.deliver(timeout=ms / 1000.0 + 30, what=what)
    took = time.monotonic() - sent_at
    note = "%s: asked %d ms, tier %d ms, came back after %.3f s" % (what, ms, tier(ms), took)
    diag(note)
    print("# " + note, flush=True)     # the measured figure, also when it passes
    expect_eq("message_id of %s" % what, mid, m["message_id"])
    expect_eq("attempt of %s" % what, attempt, m.get("attempt"))
    expect(ms / 1000.0 <= took <= tier(ms) / 1000.0 + LATE,
           "%s between %.3f s and %.3f s after the nack" % (what, ms / 1000.0,
                                                            tier(ms) / 1000.0 + LATE),
           "%.3f s" % took)
    return m


def retry_comes_back_after_delay_to_this_service_only():
    """The retry arrives after its delay with attempt 2 and the same data;
    another service's queue bound to the same routing key gets nothing
    more than the original."""
    name = "retry_delay"
    with Broker() as b, retry_daemon(b, name, tiers=(1100,)) as d, Sub(d) as s:
        other = unique("retry-other-service")
        b.bind_queue(other, d.exchange, ROUTING_KEY, durable=True)
        s.subscribe(id=1)
        mid = publish(d, 1)[0]
        m1 = s.deliver(what="the first delivery")
        expect_eq("attempt of a first delivery", 1, m1.get("attempt"))
        t0 = time.monotonic()
        nack_retry(s, m1["tag"], 1100)
        s.sync("a nack with retry_in_ms")
        m2 = expect_back(s, mid, 2, t0, 1100, "the retry (between two tiers)")
        expect_eq("data of the retry", m1["data"], m2["data"])
        expect_eq("event of the retry", EVENT, m2["event"])
        s.ack(m2["tag"])
        s.sync()
        wait_queue(queue_of(d), ready=0, unacked=0)
        expect_eq("messages in the other service's queue (the original only)",
                  1, b.count(other))
        st = s.stats()
        expect_eq("stats.retried", 1, st.get("retried"))
        expect_eq("stats.nacks", 1, st.get("nacks"))
        expect(s.try_deliver(1.0) is None, "no further delivery", short(json.dumps(s.all)))


def short_delay_not_held_behind_long_one():
    """An event nacked for 8 s, then another for 1 s: the second is back
    after about 1 s, ahead of the first, which comes after about 8 s."""
    name = "retry_hol"
    with Broker() as b, retry_daemon(b, name, tiers=(8000, 1000)) as d, Sub(d) as s:
        s.subscribe(id=1)
        long_mid, short_mid = publish(d, 2)
        got = {m["message_id"]: m for m in (s.deliver(), s.deliver())}
        t_long = time.monotonic()
        nack_retry(s, got[long_mid]["tag"], 8000)
        t_short = time.monotonic()
        nack_retry(s, got[short_mid]["tag"], 1000)
        s.sync("two nacks with retry_in_ms")
        m = expect_back(s, short_mid, 2, t_short, 1000, "the 1 s retry")
        s.ack(m["tag"])
        m = expect_back(s, long_mid, 2, t_long, 8000, "the 8 s retry")
        s.ack(m["tag"])
        s.sync()
        wait_queue(queue_of(d), ready=0, unacked=0)


def max_attempts_dead_letters_with_reason():
    """With max_attempts = 2 in the contract: attempt 1 is retried, attempt
    2 asking again goes to the dead-letter queue with x-warren-reason and
    x-warren-attempt headers; the app sees no third attempt."""
    name = "retry_max"
    ct = dict(RESOURCE_ACCESSED, max_attempts=2)
    with Broker() as b, retry_daemon(b, name, tiers=(200,), contracts=[ct]) as d, \
            Sub(d) as s:
        s.subscribe(id=1)
        mid = publish(d, 1)[0]
        m1 = s.deliver()
        t0 = time.monotonic()
        nack_retry(s, m1["tag"], 200)
        m2 = expect_back(s, mid, 2, t0, 200, "the retry")
        nack_retry(s, m2["tag"], 200)
        s.sync("a nack with retry_in_ms past max_attempts")
        dead = b.get_one(queue_of(d) + ".dead")
        expect_eq("message_id of the dead-lettered event", mid, dead.props.message_id)
        reason = dead.header("x-warren-reason")
        expect(isinstance(reason, str) and reason.startswith("max_attempts"),
               "x-warren-reason starting with max_attempts", reason)
        expect_eq("x-warren-attempt of the dead-lettered event", 2,
                  dead.header("x-warren-attempt"))
        expect_eq("body of the dead-lettered event", m1["data"], json.loads(dead.body))
        expect(s.try_deliver(1.5) is None, "no third attempt", short(json.dumps(s.all)))
        wait_queue(queue_of(d), ready=0, unacked=0)
        st = s.stats()
        expect_eq("stats.retried", 1, st.get("retried"))
        expect_eq("stats.retries_exhausted", 1, st.get("retries_exhausted"))


def config_max_attempts_applies_without_contract_key():
    """consume.max_attempts = 1: the first retry asked for dead-letters."""
    name = "retry_conf_max"
    with Broker() as b, retry_daemon(b, name, top={"consume": {"max_attempts": 1}}) as d, \
            Sub(d) as s:
        s.subscribe(id=1)
        mid = publish(d, 1)[0]
        nack_retry(s, s.deliver()["tag"], 100)
        s.sync()
        dead = b.get_one(queue_of(d) + ".dead")
        expect_eq("message_id of the dead-lettered event", mid, dead.props.message_id)
        expect(str(dead.header("x-warren-reason")).startswith("max_attempts"),
               "x-warren-reason starting with max_attempts", dead.header("x-warren-reason"))
        expect(s.try_deliver(1.0) is None, "no retry", short(json.dumps(s.all)))


def retry_survives_warrend_restart():
    """warrend is killed (SIGKILL) while a retry waits in its delay queue
    and started again: the event comes back with attempt 2, once."""
    name = "retry_wrestart"
    with Broker() as b, retry_daemon(b, name, tiers=(4000,)) as d:
        with Sub(d) as s:
            s.subscribe(id=1)
            mid = publish(d, 1)[0]
            t0 = time.monotonic()
            nack_retry(s, s.deliver()["tag"], 4000)
            wait_for(lambda: s.stats().get("retried") == 1,
                     "stats.retried 1 (the copy confirmed, the original acked)")
        expect_eq("exit status after SIGKILL", -signal.SIGKILL, d.terminate(signal.SIGKILL))
        d.start()
        d.stopping = False
        with Sub(d) as s:
            s.subscribe(id=1)
            m = s.deliver(timeout=30, what="the retry after the restart")
            took = time.monotonic() - t0
            expect_eq("message_id after the restart", mid, m["message_id"])
            expect_eq("attempt after the restart", 2, m.get("attempt"))
            expect(took >= 4.0, "the retry no earlier than 4 s", "%.3f s" % took)
            s.ack(m["tag"])
            s.sync()
            expect(s.try_deliver(1.0) is None, "the event once", short(json.dumps(s.all)))
            wait_queue(queue_of(d), ready=0, unacked=0)


def retry_survives_broker_restart():
    """The broker's app is stopped and started while a retry waits in its
    (durable) delay queue: the persistent copy comes back, attempt 2."""
    name = "retry_brestart"
    with Broker() as b, retry_daemon(b, name, tiers=(20000,), broker_opts={
            "reconnect_min_ms": 50, "reconnect_max_ms": 500}) as d, Sub(d) as s:
        s.subscribe(id=1)
        mid = publish(d, 1)[0]
        t0 = time.monotonic()
        nack_retry(s, s.deliver()["tag"], 20000)
        wait_for(lambda: s.stats().get("retried") == 1,
                 "stats.retried 1 (the copy confirmed, the original acked)")
        stopped = False
        try:
            b.close()
            rc, out = rabbitmqctl("stop_app")
            stopped = True
            if rc != 0:
                fail("rabbitmqctl stop_app failed (%d): %s" % (rc, out))
        finally:
            rc1, out1 = rabbitmqctl("start_app")
            rc2, out2 = rabbitmqctl("-q", "await_startup")
            if stopped and (rc1 != 0 or rc2 != 0):
                fail("restarting the broker failed: %s %s" % (out1, out2))
        m = s.deliver(timeout=RESTART_DEADLINE, what="the retry after the broker restart")
        took = time.monotonic() - t0
        expect_eq("message_id after the broker restart", mid, m["message_id"])
        expect_eq("attempt after the broker restart", 2, m.get("attempt"))
        expect(took >= 20.0, "the retry no earlier than 20 s", "%.3f s" % took)
        s.ack(m["tag"])
        s.sync()
        wait_queue(queue_of(d), ready=0, unacked=0)


def crash_before_copy_confirmed_loses_nothing():
    """The consuming connection freezes right after the nack (the copy is
    written to it, never confirmed) and warrend is killed: the original,
    not acked, comes back after the restart (a duplicate may follow, a loss
    may not). A first retry opens the retry channel and its tier, so the
    second one only publishes into the frozen connection."""
    name = "retry_crash"
    with Broker() as b, FreezableProxy() as proxy, \
            retry_daemon(b, name, tiers=(300,), urls=[proxy.url], wait_connected=True,
                         broker_opts={"reconnect_min_ms": 50,
                                      "reconnect_max_ms": 300}) as d:
        with Sub(d) as s:
            s.subscribe(id=1)
            first, second = publish(d, 2)
            got = {m["message_id"]: m for m in (s.deliver(), s.deliver())}
            t0 = time.monotonic()
            nack_retry(s, got[first]["tag"], 300)
            m = expect_back(s, first, 2, t0, 300, "the first retry")
            s.ack(m["tag"])
            wait_for(lambda: s.stats().get("retried") == 1, "stats.retried 1")
            proxy.freeze()
            nack_retry(s, got[second]["tag"], 300)
            s.sync("a nack with retry_in_ms while the broker connection is frozen")
            time.sleep(0.5)     # let the consumer write the copy (either way nothing is lost)
            expect_eq("stats.retried while frozen", 1, s.stats().get("retried"))
        expect_eq("exit status after SIGKILL", -signal.SIGKILL, d.terminate(signal.SIGKILL))
        proxy.thaw()
        d.start()
        d.stopping = False
        with Sub(d) as s:
            s.subscribe(id=1)
            m = s.deliver(timeout=30, what="the second event after the crash")
            expect_eq("message_id after the crash", second, m["message_id"])
            expect_eq("attempt after the crash (the original)", 1, m.get("attempt"))
            expect_eq("redelivered after the crash", True, m["redelivered"])
            s.ack(m["tag"])
            s.sync()
            wait_queue(queue_of(d), ready=0, unacked=0)


def broker_refusing_copy_gives_original_back():
    """A policy makes the broker nack every copy sent to this service's
    delay tiers (max-length 0, reject-publish): the original must not have
    been acked, and comes back at once (requeued, attempt 1); nothing is
    counted as retried. Acking the original before the copy's confirm would
    lose the event here."""
    name = "retry_refused"
    with Broker() as b, retry_daemon(b, name, tiers=(300,)) as d, Sub(d) as s:
        policy = "warren-test-%s" % d.service
        rc, out = rabbitmqctl("set_policy", "--apply-to", "queues", policy,
                              "^%s\\.retry\\." % d.service.replace(".", "\\."),
                              '{"max-length":0,"overflow":"reject-publish"}')
        if rc != 0:
            fail("rabbitmqctl set_policy failed (%d): %s" % (rc, out))
        try:
            s.subscribe(id=1)
            mid = publish(d, 1)[0]
            nack_retry(s, s.deliver()["tag"], 300)
            m = s.deliver(timeout=10, what="the original given back")
            expect_eq("message_id given back", mid, m["message_id"])
            expect_eq("attempt given back (the original)", 1, m.get("attempt"))
            expect_eq("redelivered given back", True, m["redelivered"])
            expect_eq("stats.retried", 0, s.stats().get("retried"))
            s.ack(m["tag"])
            s.sync()
            wait_queue(queue_of(d), ready=0, unacked=0)
        finally:
            rabbitmqctl("clear_policy", policy)


def refused_copy_not_covered_by_later_multiple_ack():
    """A retry waiting for its copy's confirm, with acks of later
    deliveries in the same write: warrend acks those in as few basic.acks
    as it may (a multiple ack where every tag below is settled), but never
    one that covers the waiting original. With the copy refused by the
    broker the original must come back; a multiple ack over it would have
    settled it and lost the event."""
    name = "retry_refused_acks"
    with Broker() as b, retry_daemon(b, name, tiers=(300,)) as d, Sub(d) as s:
        policy = "warren-test-%s" % d.service
        rc, out = rabbitmqctl("set_policy", "--apply-to", "queues", policy,
                              "^%s\\.retry\\." % d.service.replace(".", "\\."),
                              '{"max-length":0,"overflow":"reject-publish"}')
        if rc != 0:
            fail("rabbitmqctl set_policy failed (%d): %s" % (rc, out))
        try:
            s.subscribe(id=1)
            mids = publish(d, 4)
            tags = [s.deliver(what="delivery %d of 4" % (i + 1))["tag"] for i in range(4)]
            lines = [{"op": "nack", "tag": tags[0], "retry_in_ms": 300}]
            lines += [{"op": "ack", "tag": t} for t in tags[1:]]
            s.c.sock.sendall(b"".join(json.dumps(l).encode() + b"\n" for l in lines))
            m = s.deliver(timeout=10, what="the original given back")
            expect_eq("message_id given back", mids[0], m["message_id"])
            expect_eq("redelivered given back", True, m["redelivered"])
            s.ack(m["tag"])
            s.sync()
            wait_queue(queue_of(d), ready=0, unacked=0)
            expect(s.try_deliver(1.0) is None, "no other delivery comes back",
                   "one did")
        finally:
            rabbitmqctl("clear_policy", policy)


def retry_with_quorum_queues():
    """With broker.queue_type = "quorum" the delay tier is a quorum queue
    too, and the retry comes back the same way."""
    name = "retry_quorum"
    with Broker() as b, retry_daemon(b, name, tiers=(500,),
                                     broker_opts={"queue_type": "quorum"}) as d, Sub(d) as s:
        s.subscribe(id=1)
        mid = publish(d, 1)[0]
        t0 = time.monotonic()
        nack_retry(s, s.deliver()["tag"], 500)
        m = expect_back(s, mid, 2, t0, 500, "the retry through a quorum tier")
        s.ack(m["tag"])
        s.sync()
        wait_queue(queue_of(d), ready=0, unacked=0)
        tier_q = "%s.retry.%d" % (d.service, tier(500))
        for _ in range(3):      # rabbitmqctl can time out on a busy node
            rc, out = rabbitmqctl("-q", "list_queues", "--no-table-headers", "name", "type")
            if rc == 0:
                break
        if rc != 0:
            fail("rabbitmqctl list_queues failed (%d): %s" % (rc, out))
        types = dict(l.split("\t")[:2] for l in out.splitlines() if "\t" in l)
        expect_eq("type of %s" % tier_q, "quorum", types.get(tier_q))


def nack_retry_in_ms_bad_values_refused():
    """retry_in_ms must be an integer from 1 to 86400000, and not come with
    requeue; ack takes no retry_in_ms."""
    name = "retry_bad"
    with Broker() as b, retry_daemon(b, name) as d, Sub(d) as s:
        s.subscribe(id=1)
        publish(d, 1)
        tag = s.deliver()["tag"]
        for v in (0, -5, 1.5, "100", None, True, 86400001):
            req = {"op": "nack", "id": 7, "tag": tag, "retry_in_ms": v}
            expect_error(s.request(req), "bad_request", op="nack", id=7, req=req)
        req = {"op": "nack", "id": 8, "tag": tag, "retry_in_ms": 100, "requeue": True}
        expect_error(s.request(req), "bad_request", op="nack", id=8, req=req)
        req = {"op": "ack", "id": 9, "tag": tag, "retry_in_ms": 100}
        expect_error(s.request(req), "bad_request", op="ack", id=9, req=req)
        s.ack(tag)
        s.sync("the ack of a delivery whose bad nacks were refused")


def cli_subscribe_retry_in_retries_failed_command():
    """warren subscribe --exec CMD --retry-in 300: a command failing on
    attempt 1 gets the event again with WARREN_ATTEMPT=2; succeeding then,
    the event is acked; nothing is dead-lettered."""
    name = "retry_cli"
    cmd = 'echo "$WARREN_ATTEMPT" >> "$CLI_DIR/attempts"; [ "$WARREN_ATTEMPT" -ge 2 ]'
    with Broker() as b, retry_daemon(b, name, tiers=(300,)) as d, TempDir() as tmp:
        q = queue_of(d)
        path = os.path.join(tmp, "attempts")
        with Subscriber(d, "--exec", cmd, "--retry-in", "300", EVENT,
                        env={"CLI_DIR": tmp}) as sub:
            sub.wait_subscribed(d)
            publish(d, 1)

            def attempts():
                try:
                    with open(path) as f:
                        return f.read()
                except OSError:
                    return ""
            wait_for(lambda: attempts() == "1\n2\n",
                     "the command run for attempts 1 and 2 (WARREN_ATTEMPT)")
            wait_queue(q, ready=0, unacked=0)
            st = d.stats()["stats"]
            expect_eq("stats.retried", 1, st.get("retried"))
            expect_eq("stats.acks", 1, st.get("acks"))
        expect_eq("messages in the dead-letter queue", 0, b.count(q + ".dead"))


if __name__ == "__main__":
    from warrentest import run
    run([
        retry_comes_back_after_delay_to_this_service_only,
        short_delay_not_held_behind_long_one,
        max_attempts_dead_letters_with_reason,
        config_max_attempts_applies_without_contract_key,
        nack_retry_in_ms_bad_values_refused,
        cli_subscribe_retry_in_retries_failed_command,
        retry_survives_warrend_restart,
        crash_before_copy_confirmed_loses_nothing,
        broker_refusing_copy_gives_original_back,
        refused_copy_not_covered_by_later_multiple_ack,
        retry_with_quorum_queues,
        retry_survives_broker_restart,
    ])
