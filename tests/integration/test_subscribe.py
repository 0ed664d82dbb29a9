#!/usr/bin/python3
"""Consuming: subscribe, deliver, ack and nack against the real broker; what
warrend declares on RabbitMQ for a subscription, interoperation with
aio-pika publishers and consumers following the seed's patterns, dead
lettering, prefetch, load sharing and recovery from a broker restart."""

import asyncio
import collections
import dataclasses
import json
import os
import socket
import time

import warrentest
from warrentest import (BROKER_HOST, BROKER_PORT, DEADLINE, UNREACHABLE_URL,
                        Daemon, RESOURCE_ACCESSED, _pika, expect,
                        expect_eq, expect_error, expect_ok, fail, parse_reply,
                        publish_req, rabbitmqctl, resource_data, short, wait_for)

EVENT = "ResourceAccessedEvent"
ROUTING_KEY = "resource.accessed"
AIO_URL = "amqp://guest:guest@%s:%d/" % (BROKER_HOST, BROKER_PORT)
RESTART_DEADLINE = 90.0     # seconds: a broker app restart plus reconnecting
FRESH_DAEMONS = 20          # daemons started to check their first subscribe


# ------------------------------------------------------------------ helpers


class Broker(warrentest.Broker):
    """warrentest.Broker whose clean-up survives a connection lost midway
    (another test run may restart the broker): each deletion is retried on
    a new connection."""

    def cleanup(self):
        deletions = [lambda ch, q=q: ch.queue_delete(q) for q in self.queues] + \
            [lambda ch, x=x: ch.exchange_delete(x) for x in self.exchanges]
        self.queues, self.exchanges = [], []
        try:
            for delete in deletions:
                self._do(delete)
        except Exception:
            pass        # the broker is gone for good: the test has failed already
        self.close()


def service_for(name):
    """A per-test, per-process service name: it names warrend's queues."""
    return "svc-%s-%d" % (name.replace("_", "-"), os.getpid())


def consumer_daemon(b, name, events=(EVENT,), **kw):
    """A Daemon with a unique service; the queues, dead queues and the
    dead-letter exchange warrend will declare are removed by b on exit
    (after the daemon has stopped)."""
    kw.setdefault("service", service_for(name))
    d = Daemon(name, **kw)
    b.exchanges.extend([d.exchange, d.exchange + ".dlx"])
    for ev in events:
        q = "%s.%s" % (d.service, ev)
        b.queues.extend([q, q + ".dead"])
    return d


def queue_of(d, event=EVENT):
    return "%s.%s" % (d.service, event)


def check_delivery(obj, raw):
    """A deliver line has the members warren-protocol(7) gives it."""
    def bad(what):
        fail("deliver line: expected %s, got %s" % (what, short(raw)))
    if type(obj.get("tag")) is not int or obj["tag"] < 1:
        bad("a positive integer \"tag\"")
    for k in ("event", "routing_key"):
        if not isinstance(obj.get(k), str):
            bad("a string %r" % k)
    if "message_id" not in obj or not (obj["message_id"] is None
                                       or isinstance(obj["message_id"], str)):
        bad("\"message_id\" a string or null")
    if type(obj.get("redelivered")) is not bool:
        bad("a boolean \"redelivered\"")
    if "data" not in obj:
        bad("a \"data\" member")


class Sub:
    """A client connection used for consuming. Deliver lines may arrive at
    any time, so they are kept apart from the replies to requests; tags are
    checked to count 1, 2, 3... on the connection."""

    def __init__(self, d):
        self.d = d
        self.c = d.client()
        self.pending = collections.deque()      # (obj, raw) not yet taken
        self.all = []                            # every delivery, in order
        self.last_tag = 0

    def close(self):
        self.c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _line(self, timeout):
        """The next line as (obj, raw), or None when none came in time."""
        end = time.monotonic() + timeout
        while b"\n" not in self.c.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.c.sock.settimeout(left)
            try:
                chunk = self.c.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                fail("connection closed by warrend (buffered %s)%s"
                     % (short(self.c.buf), self.c._ctx()))
            self.c.buf += chunk
        raw, _, self.c.buf = self.c.buf.partition(b"\n")
        return parse_reply(raw, self.c._ctx()), raw

    def _keep(self, obj, raw):
        """Keep a deliver line; False for any other line."""
        if obj.get("op") != "deliver":
            return False
        check_delivery(obj, raw)
        if obj["tag"] != self.last_tag + 1:
            fail("deliver tags counting 1, 2, 3... per connection: expected tag %d, got %s"
                 % (self.last_tag + 1, short(raw)))
        self.last_tag = obj["tag"]
        self.pending.append((obj, raw))
        self.all.append(obj)
        return True

    def reply(self, timeout=DEADLINE):
        """The next line that is not a delivery."""
        end = time.monotonic() + timeout
        while True:
            got = self._line(max(0.0, end - time.monotonic()))
            if got is None:
                fail("timed out after %.0f s waiting for a reply%s" % (timeout, self.c._ctx()))
            if not self._keep(*got):
                return got[0]

    def request(self, obj, timeout=DEADLINE):
        self.c.send(obj)
        return self.reply(timeout)

    def send(self, obj):
        self.c.send(obj)

    def try_deliver(self, timeout, raw=False):
        """The next delivery, or None when none arrives within timeout. Any
        other line (an error reply to an ack, say) fails the test."""
        end = time.monotonic() + timeout
        while not self.pending:
            got = self._line(max(0.0, end - time.monotonic()))
            if got is None:
                return None
            if not self._keep(*got):
                fail("expected only deliver lines, got %s%s" % (short(got[1]), self.c._ctx()))
        obj, line = self.pending.popleft()
        return (obj, line) if raw else obj

    def deliver(self, timeout=DEADLINE, raw=False, what="a delivery"):
        got = self.try_deliver(timeout, raw)
        if got is None:
            fail("timed out after %.0f s waiting for %s (deliveries so far: %s)"
                 % (timeout, what, short(json.dumps(self.all), 400)))
        return got

    def subscribe(self, event=EVENT, id=None):
        req = {"op": "subscribe", "event": event}
        if id is not None:
            req["id"] = id
        members = {"queue": "%s.%s" % (self.d.service, event)}
        if id is not None:
            members["id"] = id
        return expect_ok(self.request(req), "subscribe", req=req, **members)

    def unsubscribe(self, event=EVENT, id=None):
        req = {"op": "unsubscribe", "event": event}
        if id is not None:
            req["id"] = id
        r = self.request(req)
        want = {"op": "unsubscribe", "ok": True}
        if id is not None:
            want["id"] = id
        expect_eq("unsubscribe reply", want, r)

    def ack(self, tag):
        self.c.send({"op": "ack", "tag": tag})

    def nack(self, tag, requeue=None):
        req = {"op": "nack", "tag": tag}
        if requeue is not None:
            req["requeue"] = requeue
        self.c.send(req)

    def sync(self, what="the acks and nacks sent so far"):
        """A ping answered with nothing but deliveries before it: whatever
        was sent before (acks, nacks) got no error reply."""
        r = self.request({"op": "ping", "id": "sync"})
        if r != {"op": "ping", "ok": True, "id": "sync"}:
            fail("expected no reply to %s (the next line to be the ping's), got %s"
                 % (what, short(json.dumps(r))))

    def stats(self):
        return expect_ok(self.request({"op": "stats"}), "stats")["stats"]


def publish(d, n=1, data=None, event=EVENT):
    """Publish n events through warrend; their message_ids."""
    mids = []
    with d.client() as c:
        for i in range(n):
            req = publish_req(event, resource_data(i) if data is None else data, id=i)
            mids.append(expect_ok(c.request(req), "publish", req=req)["message_id"])
    return mids


def pika_publish(b, exchange, routing_key, body, message_id=None):
    """Publish body as is with pika (persistent, confirmed, mandatory)."""
    pika = _pika()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/json",
                                 message_id=message_id)

    def pub(ch):
        ch2 = ch.connection.channel()
        try:
            ch2.confirm_delivery()
            ch2.basic_publish(exchange, routing_key, body, props, mandatory=True)
        finally:
            if ch2.is_open:
                ch2.close()
    b._do(pub)


def queue_table():
    """{queue: (ready, unacked, consumers)} from rabbitmqctl; raises on
    error (wait_for keeps polling)."""
    rc, out = rabbitmqctl("-q", "list_queues", "--no-table-headers", "name",
                          "messages_ready", "messages_unacknowledged", "consumers")
    if rc != 0:
        raise RuntimeError("rabbitmqctl list_queues failed (%d): %s" % (rc, out.strip()))
    t = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            try:
                t[parts[0]] = tuple(int(x) for x in parts[1:])
            except ValueError:
                pass
    return t


def wait_queue(q, ready=None, unacked=None, consumers=None, deadline=DEADLINE):
    """Wait until rabbitmqctl shows queue q with these counts (None: any)."""
    last = ["not polled"]

    def ok():
        t = queue_table()
        got = t.get(q)
        last[0] = "no such queue" if got is None else \
            "ready %d, unacked %d, consumers %d" % got
        if got is None:
            return False
        for want, have in zip((ready, unacked, consumers), got):
            if want is not None and want != have:
                return False
        return got
    try:
        return wait_for(ok, "queue %s counts" % q, deadline, interval=0.3)
    except Exception:
        want = ", ".join("%s %s" % (k, v) for k, v in
                         (("ready", ready), ("unacked", unacked), ("consumers", consumers))
                         if v is not None)
        fail("queue %s: expected %s, got %s (waited %.0f s)" % (q, want, last[0], deadline))


def run_async(coro, timeout=DEADLINE):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def aio_pika_module():
    try:
        import aio_pika
    except ImportError:
        fail("aio_pika is not importable (use /usr/bin/python3 with python3-aio-pika)")
    return aio_pika


@dataclasses.dataclass(frozen=True)
class ResourceAccessedEvent:
    """The contract as the seed's consumer would hold it (frozen, every
    field named; constructing it with an unknown field raises TypeError)."""
    resource_id: str
    resource_name: str
    accessed_at: str
    user_agent: object = None


# -------------------------------------------------------------------- tests


def aio_pika_published_event_reaches_subscriber_unchanged():
    """The seed's Publisher Pattern (aio-pika, connect_robust, topic durable
    exchange, persistent message) publishes; a warren subscriber gets the
    body unchanged and the message_id from the properties."""
    aio_pika = aio_pika_module()
    name = "aio_publisher"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        s.subscribe(id="s1")
        data = {"resource_id": "r-\u00e9-1", "resource_name": "a link \u2603",
                "accessed_at": "2024-05-01T12:00:00+02:00", "user_agent": None}
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        mid = "aio-%d" % os.getpid()

        async def publisher():
            conn = await aio_pika.connect_robust(AIO_URL)
            try:
                ch = await conn.channel()
                ex = await ch.declare_exchange(d.exchange, aio_pika.ExchangeType.TOPIC,
                                               durable=True)
                msg = aio_pika.Message(body=body,
                                       delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                       content_type="application/json", message_id=mid)
                await ex.publish(msg, routing_key=ROUTING_KEY)
            finally:
                await conn.close()
        run_async(publisher())
        m, raw = s.deliver(raw=True)
        expect_eq("tag of the first delivery", 1, m["tag"])
        expect_eq("event", EVENT, m["event"])
        expect_eq("routing_key", ROUTING_KEY, m["routing_key"])
        expect_eq("message_id", mid, m["message_id"])
        expect_eq("redelivered", False, m["redelivered"])
        expect_eq("data", data, m["data"])
        expect(body in raw, "the body's bytes as they are in the deliver line %s" % short(body),
               raw)
        s.ack(m["tag"])
        s.sync()


def warrend_published_event_read_by_aio_pika_consumer():
    """The seed's Consumer Pattern (queue <service>.<ContractName>, bound with
    the routing key) reads an event published through warrend, and
    event_type(**json.loads(body)) gives exactly the contract's fields."""
    aio_pika = aio_pika_module()
    name = "aio_consumer"
    with Broker() as b, consumer_daemon(b, name) as d:
        service = d.service     # the consuming service's queue
        data = dict(resource_data(7), user_agent="curl/8.0")
        reply = {}

        def publish_through_warrend():
            with d.client() as c:
                req = publish_req(EVENT, data, id="p")
                reply.update(expect_ok(c.request(req), "publish", req=req))

        async def consumer():
            conn = await aio_pika.connect_robust(AIO_URL)
            try:
                ch = await conn.channel()
                await ch.set_qos(prefetch_count=10)
                exchange = await ch.declare_exchange(d.exchange, aio_pika.ExchangeType.TOPIC,
                                                     durable=True)
                queue = await ch.declare_queue("%s.%s" % (service, EVENT), durable=True)
                routing_key_map = {"ResourceAccessedEvent": "resource.accessed"}
                await queue.bind(exchange, routing_key=routing_key_map[EVENT])
                got = asyncio.get_running_loop().create_future()

                async def on_message(message):
                    async with message.process():
                        if not got.done():
                            got.set_result((message.body, message.message_id))
                await queue.consume(on_message)
                await asyncio.get_running_loop().run_in_executor(None, publish_through_warrend)
                return await got
            finally:
                await conn.close()
        body, mid = run_async(consumer())
        expect_eq("message_id seen by the aio-pika consumer", reply.get("message_id"), mid)
        parsed = json.loads(body.decode())
        expect_eq("fields of json.loads(body)",
                  sorted(f["name"] for f in RESOURCE_ACCESSED["fields"]), sorted(parsed))
        expect_eq("json.loads(body)", data, parsed)
        try:
            ev = ResourceAccessedEvent(**parsed)
        except TypeError as e:
            fail("ResourceAccessedEvent(**json.loads(body)) raised %s for body %s"
                 % (e, short(body)))
        expect_eq("event.resource_id", data["resource_id"], ev.resource_id)
        expect_eq("event.user_agent", "curl/8.0", ev.user_agent)


def subscribe_declares_queue_dead_letter_queue_and_binding():
    """A first subscribe declares <service>.<Event> (durable, dead-lettering
    into <exchange>.dlx) bound with the routing key, and consumes it."""
    name = "declares"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        s.subscribe(id=1)
        q = queue_of(d)
        wait_queue(q, ready=0, unacked=0, consumers=1)
        wait_queue(q + ".dead", ready=0, unacked=0, consumers=0)
        # Passive declares: they exist; a matching active declare of the
        # queue with the dead-letter arguments is accepted (same arguments).
        pika = _pika()

        def declare(ch):
            ch.queue_declare(q, durable=True, arguments={
                "x-dead-letter-exchange": d.exchange + ".dlx",
                "x-dead-letter-routing-key": q + ".dead"})
            ch.exchange_declare(d.exchange + ".dlx", passive=True)
        try:
            b._do(declare)
        except pika.exceptions.ChannelClosedByBroker as e:
            fail("queue %s declared durable with x-dead-letter-exchange=%s.dlx and "
                 "x-dead-letter-routing-key=%s.dead: the broker refused an equal "
                 "declaration: %s" % (q, d.exchange, q, e))
        # The binding: a message published with the routing key arrives.
        pika_publish(b, d.exchange, ROUTING_KEY,
                     json.dumps(resource_data(1)).encode(), "bind-1")
        m = s.deliver()
        expect_eq("message_id", "bind-1", m["message_id"])
        s.ack(m["tag"])
        s.sync()
        st = s.stats()
        expect_eq("stats.subscriptions", 1, st.get("subscriptions"))
        expect(isinstance(st.get("consumer"), dict)
               and st["consumer"].get("connected") is True
               and type(st["consumer"].get("reconnects")) is int,
               "stats.consumer {connected: true, reconnects: <int>}", json.dumps(st))


def ack_removes_message_from_queue():
    name = "ack_removes"
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        with Sub(d) as s:
            s.subscribe(id=1)
            mids = publish(d, 3)
            got = [s.deliver() for _ in range(3)]
            expect_eq("message_ids delivered", sorted(mids), sorted(m["message_id"] for m in got))
            for m in got:
                s.ack(m["tag"])
            s.sync()
            # While still subscribed: the broker holds nothing for us.
            wait_queue(q, ready=0, unacked=0, consumers=1)
            st = s.stats()
            for k, v in (("deliveries", 3), ("acks", 3), ("nacks", 0), ("requeued", 0)):
                expect_eq("stats.%s" % k, v, st.get(k))
        # The consumer is gone (last subscriber left): nothing came back.
        wait_queue(q, consumers=0)
        wait_queue(q, ready=0, unacked=0, consumers=0)
        expect_eq("message_count of %s (passive declare)" % q, 0, b.count(q))


def disconnect_requeues_unacked_delivery_redelivered():
    name = "disconnect_requeue"
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        with Sub(d) as s1:
            s1.subscribe(id=1)
            mid, = publish(d, 1)
            m1 = s1.deliver()
            expect_eq("message_id", mid, m1["message_id"])
            expect_eq("redelivered on first delivery", False, m1["redelivered"])
        # s1 closed without acking.
        wait_queue(q, ready=1, unacked=0)
        with Sub(d) as s2:
            s2.subscribe(id=2)
            m2 = s2.deliver(what="the requeued message on a new subscriber")
            expect_eq("message_id redelivered", mid, m2["message_id"])
            expect_eq("redelivered", True, m2["redelivered"])
            expect_eq("data", m1["data"], m2["data"])
            expect_eq("tag on the new connection", 1, m2["tag"])
            s2.ack(m2["tag"])
            s2.sync()
            st = s2.stats()
            expect(type(st.get("requeued")) is int and st["requeued"] >= 1,
                   "stats.requeued >= 1", json.dumps(st))
            wait_queue(q, ready=0, unacked=0)


def nack_with_requeue_redelivers():
    """nack's requeue defaults to true: the message comes back, redelivered."""
    name = "nack_requeue"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        q = queue_of(d)
        s.subscribe()
        mid, = publish(d, 1)
        m1 = s.deliver()
        s.nack(m1["tag"])
        m2 = s.deliver(what="the nacked message again")
        expect_eq("message_id", mid, m2["message_id"])
        expect_eq("redelivered", True, m2["redelivered"])
        expect(m2["tag"] != m1["tag"], "a new tag", m2)
        s.ack(m2["tag"])
        s.sync()
        st = s.stats()
        expect_eq("stats.nacks", 1, st.get("nacks"))
        expect_eq("stats.acks", 1, st.get("acks"))
        wait_queue(q, ready=0, unacked=0)
        wait_queue(q + ".dead", ready=0)


def prefetch_bounds_unacked_deliveries():
    """broker.prefetch = 5, 20 messages queued: a subscriber that does not
    ack holds exactly 5; the broker keeps 15 ready."""
    name = "prefetch"
    with Broker() as b, consumer_daemon(b, name, broker_opts={"prefetch": 5}) as d:
        q = queue_of(d)
        with Sub(d) as s0:      # create the queue, then leave
            s0.subscribe()
            s0.unsubscribe()
        wait_queue(q, consumers=0)
        publish(d, 20)
        b.wait_count(q, 20)
        with Sub(d) as s:
            s.subscribe(id=1)
            got = [s.deliver(what="delivery %d of 5" % (i + 1)) for i in range(5)]
            # The broker's view: exactly 5 handed out, 15 still ready.
            wait_queue(q, consumers=1)
            t = wait_for(lambda: (lambda x: x if x and x[0] + x[1] == 20 else None)(
                queue_table().get(q)), "queue %s to account for all 20 messages" % q)
            expect(t[:2] == (15, 5), "15 ready and 5 unacknowledged in %s" % q,
                   "ready %d, unacked %d" % t[:2])
            s.sync("the subscribe")
            expect_eq("deliveries held by the non-acking subscriber", 5, len(s.all))
            # Acking one lets exactly one more in.
            s.ack(got[0]["tag"])
            s.deliver(what="a 6th delivery after acking one")
            wait_queue(q, ready=14, unacked=5)
            s.sync()
            expect_eq("deliveries after one ack", 6, len(s.all))


def nack_without_requeue_and_invalid_bodies_dead_lettered():
    """A nack with requeue:false, a body that is not JSON and one that
    breaks the contract all end in <service>.<Event>.dead and nowhere else;
    the subscriber never sees the invalid ones."""
    name = "dead_letter"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        q = queue_of(d)
        dq = q + ".dead"
        s.subscribe(id=1)
        pika_publish(b, d.exchange, ROUTING_KEY, b"this is not JSON {", "bad-not-json")
        pika_publish(b, d.exchange, ROUTING_KEY,
                     json.dumps({"resource_id": "", "accessed_at": "2024-05-01T12:00:00"}).encode(),
                     "bad-contract")
        pika_publish(b, d.exchange, ROUTING_KEY, b"[1, 2, 3]", "bad-not-object")
        mid, = publish(d, 1)            # after the bad ones, so they went first
        m = s.deliver()
        expect_eq("the only delivery's message_id (the valid event)", mid, m["message_id"])
        s.nack(m["tag"], requeue=False)
        s.sync()
        wait_queue(dq, ready=4)
        wait_queue(q, ready=0, unacked=0)
        expect_eq("deliveries to the subscriber", [mid], [x["message_id"] for x in s.all])
        dead = b.get_all(dq)
        expect_eq("message_ids in %s" % dq,
                  sorted(["bad-not-json", "bad-contract", "bad-not-object", mid]),
                  sorted(x.props.message_id for x in dead))
        st = s.stats()
        expect_eq("stats.dead_lettered", 3, st.get("dead_lettered"))
        expect_eq("stats.nacks", 1, st.get("nacks"))
        expect_eq("stats.deliveries", 1, st.get("deliveries"))
        log = d.log()
        for bad in ("bad-not-json", "bad-contract", "bad-not-object"):
            expect(bad in log, "a log line naming the dead-lettered message %s" % bad,
                   d.log_tail(10))


def two_subscribers_share_the_load():
    name = "round_robin"
    n = 20
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s1, Sub(d) as s2:
        s1.subscribe(id=1)
        s2.subscribe(id=2)
        mids = publish(d, n)
        got = {s1: [], s2: []}
        end = time.monotonic() + DEADLINE
        while sum(len(v) for v in got.values()) < n:
            if time.monotonic() > end:
                fail("timed out waiting for %d deliveries: got %d and %d"
                     % (n, len(got[s1]), len(got[s2])))
            for s in (s1, s2):
                m = s.try_deliver(0.05)
                if m is not None:
                    got[s].append(m["message_id"])
                    s.ack(m["tag"])
        s1.sync()
        s2.sync()
        a = [m["message_id"] for m in s1.all]
        c = [m["message_id"] for m in s2.all]
        expect(a and c, "both subscribers to receive some", "%d and %d" % (len(a), len(c)))
        expect_eq("every message delivered once across both", sorted(mids), sorted(a + c))
        wait_queue(queue_of(d), ready=0, unacked=0)


def subscribe_to_consumed_event_answered_once_pipeline_kept():
    """A second client subscribing to an event that is already consumed
    gets one reply, and the requests pipelined after it are answered."""
    name = "second_subscriber"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s1, Sub(d) as s2:
        q = queue_of(d)
        s1.subscribe(id=1)
        s2.send(b'{"op":"subscribe","id":2,"event":"%s"}\n{"op":"ping","id":"after"}\n'
                % EVENT.encode())
        expect_ok(s2.reply(), "subscribe", id=2, queue=q)
        r = s2.reply()
        expect_eq("the reply after the subscribe's", {"op": "ping", "ok": True, "id": "after"}, r)
        s2.sync()
        d.assert_serving()


def events_published_while_unsubscribed_delivered_later():
    name = "later"
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        with Sub(d) as s0:
            s0.subscribe(id=1)
            s0.unsubscribe(id=2)
            wait_queue(q, consumers=0)
            mids = publish(d, 3)
            wait_queue(q, ready=3, unacked=0, consumers=0)
            s0.sync("unsubscribing")
            expect_eq("deliveries after unsubscribing", [], s0.all)
        with Sub(d) as s:
            s.subscribe(id=3)
            got = [s.deliver() for _ in range(3)]
            expect_eq("message_ids delivered later", sorted(mids),
                      sorted(m["message_id"] for m in got))
            for m in got:
                expect_eq("redelivered", False, m["redelivered"])
                s.ack(m["tag"])
            s.sync()
            wait_queue(q, ready=0, unacked=0)


def subscribe_repeated_is_one_subscription():
    """Subscribing twice (even pipelined) is one subscription: a single
    unsubscribe stops the deliveries."""
    name = "repeat"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        q = queue_of(d)
        s.send(b'{"op":"subscribe","id":1,"event":"%s"}\n'
               b'{"op":"subscribe","id":2,"event":"%s"}\n' % (EVENT.encode(), EVENT.encode()))
        for i in (1, 2):
            expect_ok(s.reply(), "subscribe", id=i, queue=q)
        s.unsubscribe(id=3)
        wait_queue(q, consumers=0)
        publish(d, 1)
        wait_queue(q, ready=1, unacked=0, consumers=0)
        s.sync("unsubscribing")
        expect_eq("deliveries after unsubscribing", [], s.all)


def broker_restart_subscription_resumes_without_resubscribing():
    """The broker's app is stopped and started while subscribed: warrend
    reconnects and consumes again; the same client connection receives an
    event published after the restart without subscribing again; the
    unacked delivery from before comes back (redelivered) and acking its
    old tag is no error. (Another test run may disturb the broker too, so
    a message may come back more than once; each copy is acked.)"""
    name = "restart"
    known = ("before-restart", "after-restart")
    with Broker() as b, consumer_daemon(b, name, broker_opts={
            "reconnect_min_ms": 50, "reconnect_max_ms": 500}) as d, Sub(d) as s:
        q = queue_of(d)
        s.subscribe(id=1)
        pika_publish(b, d.exchange, ROUTING_KEY, json.dumps(resource_data(1)).encode(),
                     "before-restart")
        m1 = s.deliver()
        expect_eq("message_id before the restart", "before-restart", m1["message_id"])
        reconnects = s.stats()["consumer"]["reconnects"]
        stopped = False
        try:
            b.close()
            rc, out = rabbitmqctl("stop_app")
            stopped = True
            if rc != 0:
                fail("rabbitmqctl stop_app failed (%d): %s" % (rc, out))
            wait_for(lambda: s.stats()["consumer"]["connected"] is False,
                     "stats.consumer.connected false while the broker is stopped",
                     RESTART_DEADLINE)
        finally:
            rc1, out1 = rabbitmqctl("start_app")
            rc2, out2 = rabbitmqctl("-q", "await_startup")
            if stopped and (rc1 != 0 or rc2 != 0):
                fail("restarting the broker failed: %s %s" % (out1, out2))
        wait_for(lambda: s.stats()["consumer"]["connected"] is True
                 and s.stats()["consumer"]["reconnects"] > reconnects,
                 "stats.consumer connected again with reconnects grown", RESTART_DEADLINE, 0.2)
        pika_publish(b, d.exchange, ROUTING_KEY, json.dumps(resource_data(2)).encode(),
                     "after-restart")
        first = {}
        end = time.monotonic() + RESTART_DEADLINE
        while len(first) < 2:
            m = s.try_deliver(max(0.0, end - time.monotonic()))
            if m is None:
                fail("timed out waiting for deliveries after the restart without subscribing "
                     "again; got %s" % short(json.dumps(s.all)))
            expect(m["message_id"] in known, "only the test's messages delivered", m)
            if m["message_id"] == "before-restart":
                expect_eq("redelivered of the message unacked at the restart", True,
                          m["redelivered"])
            first.setdefault(m["message_id"], m)
        expect_eq("redelivered of the event published after the restart", False,
                  first["after-restart"]["redelivered"])
        s.ack(m1["tag"])        # stale: the broker requeued it; silently dropped
        for m in s.all[1:]:
            s.ack(m["tag"])
        s.sync("acking a delivery from before the restart and the new ones")
        settle_until_empty(s, q, known)


def settle_until_empty(s, q, known, deadline=DEADLINE):
    """Wait until q has nothing ready or unacked, acking any further copy of
    the known messages (only a lost consumer connection makes those)."""
    acked = len(s.all)
    last = ["not polled"]
    end = time.monotonic() + deadline
    while True:
        while s.try_deliver(0) is not None:
            pass
        for m in s.all[acked:]:
            expect(m["message_id"] in known, "only the test's messages delivered", m)
            s.ack(m["tag"])
        acked = len(s.all)
        try:
            got = queue_table().get(q)
        except RuntimeError as e:
            got, last[0] = None, str(e)
        if got is not None:
            last[0] = "ready %d, unacked %d, consumers %d" % got
            if got[:2] == (0, 0):
                s.sync()
                return
        if time.monotonic() > end:
            fail("queue %s: expected ready 0, unacked 0, got %s (waited %.0f s)"
                 % (q, last[0], deadline))
        time.sleep(0.3)


def ack_after_unsubscribe_still_settles():
    """A delivery held when unsubscribing can still be acked: no error, and
    the message is gone."""
    name = "ack_after_unsub"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        q = queue_of(d)
        s.subscribe(id=1)
        publish(d, 1)
        m = s.deliver()
        s.unsubscribe(id=2)
        wait_queue(q, consumers=0)
        s.ack(m["tag"])
        s.sync("an ack after unsubscribing")
        wait_queue(q, ready=0, unacked=0, consumers=0)
        st = s.stats()
        expect_eq("stats.subscriptions after unsubscribing", 0, st.get("subscriptions"))


def deliver_without_message_id_has_null():
    name = "no_message_id"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        s.subscribe()
        pika_publish(b, d.exchange, ROUTING_KEY, json.dumps(resource_data(3)).encode())
        m = s.deliver()
        expect("message_id" in m and m["message_id"] is None,
               "\"message_id\":null for a message without one", m)
        s.ack(m["tag"])
        s.sync()


def quorum_queue_type_declares_quorum_queues():
    name = "quorum"
    with Broker() as b, consumer_daemon(b, name, broker_opts={"queue_type": "quorum"}) as d, \
            Sub(d) as s:
        q = queue_of(d)
        s.subscribe(id=1)
        rc, out = rabbitmqctl("-q", "list_queues", "--no-table-headers", "name", "type")
        expect(rc == 0, "rabbitmqctl list_queues to work", out)
        types = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
        expect_eq("type of %s" % q, "quorum", types.get(q))
        expect_eq("type of %s.dead" % q, "quorum", types.get(q + ".dead"))
        mid, = publish(d, 1)
        m = s.deliver()
        s.nack(m["tag"], requeue=False)
        s.sync()
        wait_queue(q + ".dead", ready=1)
        wait_queue(q, ready=0, unacked=0)
        expect_eq("dead-lettered message_id", mid, b.get_one(q + ".dead").props.message_id)


def dead_letter_false_declares_no_dead_letter_queue():
    name = "no_dlx"
    with Broker() as b, consumer_daemon(b, name, broker_opts={"dead_letter": False}) as d, \
            Sub(d) as s:
        q = queue_of(d)
        s.subscribe(id=1)
        publish(d, 1)
        m = s.deliver()
        s.nack(m["tag"], requeue=False)
        s.sync()
        wait_queue(q, ready=0, unacked=0)
        expect(q + ".dead" not in queue_table(), "no %s.dead queue with dead_letter = false" % q,
               "it exists")


def double_ack_answered_unknown_tag():
    name = "double_ack"
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        s.subscribe()
        publish(d, 1)
        m = s.deliver()
        s.ack(m["tag"])
        s.sync("the first ack")
        req = {"op": "ack", "id": "again", "tag": m["tag"]}
        expect_error(s.request(req), "unknown_tag", op="ack", id="again", req=req)
        req = {"op": "nack", "id": 5, "tag": m["tag"], "requeue": False}
        expect_error(s.request(req), "unknown_tag", op="nack", id=5, req=req)
        req = {"op": "ack", "tag": 999}
        expect_error(s.request(req), "unknown_tag", op="ack", req=req)
        s.sync()
        d.assert_serving()


def subscribe_to_fresh_daemon_never_answered_unavailable():
    """The broker is up: the first subscribe of a newly started warrend
    (whose consumer connection is made lazily) is never answered
    unavailable. Repeated on fresh daemons, as the first one is special."""
    for i in range(FRESH_DAEMONS):
        name = "fresh_%d" % i
        with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
            req = {"op": "subscribe", "id": i, "event": EVENT}
            r = s.request(req)
            if r.get("ok") is not True:
                fail("first subscribe on fresh daemon %d of %d: expected an ok reply, got %s"
                     % (i + 1, FRESH_DAEMONS, short(json.dumps(r))))
            expect_ok(r, "subscribe", req=req, id=i, queue=queue_of(d))


def subscribe_unknown_event_answered_unknown_event():
    with Daemon("sub_unknown", wait_connected=False) as d, Sub(d) as s:
        req = {"op": "subscribe", "id": 1, "event": "NoSuchEvent"}
        expect_error(s.request(req), "unknown_event", op="subscribe", id=1, req=req)
        req = {"op": "unsubscribe", "id": 2, "event": "NoSuchEvent"}
        expect_error(s.request(req), "unknown_event", op="unsubscribe", id=2, req=req)
        s.sync()
        d.assert_serving()


def subscribe_forbidden_for_unlisted_user_or_group():
    contracts = [
        dict(RESOURCE_ACCESSED, name="UserOnlyEvent", routing_key="user.only",
             allow_users=["nobody"]),
        dict(RESOURCE_ACCESSED, name="GroupOnlyEvent", routing_key="group.only",
             allow_groups=["nogroup"]),
    ]
    name = "sub_forbidden"
    with Broker() as b, consumer_daemon(b, name, events=[c["name"] for c in contracts],
                                        contracts=contracts) as d, Sub(d) as s:
        for i, ct in enumerate(contracts):
            req = {"op": "subscribe", "id": i, "event": ct["name"]}
            expect_error(s.request(req), "forbidden", op="subscribe", id=i, req=req)
        s.sync()
        t = queue_table()
        for ct in contracts:
            expect(queue_of(d, ct["name"]) not in t, "no queue declared for a forbidden "
                   "subscribe", "%s exists" % queue_of(d, ct["name"]))
        d.assert_serving()


def subscribe_rejected_when_queue_exists_with_other_arguments():
    name = "sub_rejected"
    with Broker() as b, consumer_daemon(b, name, events=(EVENT, "OrderPlacedEvent")) as d, \
            Sub(d) as s:
        q = queue_of(d)
        b._do(lambda ch: ch.queue_declare(q, durable=True, arguments={"x-max-length": 10}))
        req = {"op": "subscribe", "id": "r", "event": EVENT}
        r = expect_error(s.request(req), "rejected", op="subscribe", id="r", req=req)
        expect("PRECONDITION_FAILED" in r["message"] and "inequivalent arg" in r["message"]
               and "'x-" in r["message"],
               "the broker's PRECONDITION_FAILED text naming the argument in the message",
               r["message"])
        s.sync()
        d.assert_serving("after a refused queue declaration")
        # Other subscriptions still work on the consumer connection ...
        s.subscribe("OrderPlacedEvent", id="o")
        # ... and so does this one once the conflicting queue is gone.
        b._do(lambda ch: ch.queue_delete(q))
        s.subscribe(EVENT, id="again")
        mid, = publish(d, 1)
        m = s.deliver()
        expect_eq("message_id after subscribing again", mid, m["message_id"])
        s.ack(m["tag"])
        s.sync()


def subscribe_unavailable_when_broker_unreachable():
    with Daemon("sub_unavailable", urls=[UNREACHABLE_URL]) as d, Sub(d) as s:
        req = {"op": "subscribe", "id": 1, "event": EVENT}
        expect_error(s.request(req), "unavailable", op="subscribe", id=1, req=req)
        s.sync()
        d.assert_serving()


def deliver_keeps_big_numbers_byte_for_byte():
    name = "big_numbers"
    body = (b'{"sensor":"s","value":9007199254740993,"ratio":1.50e2,'
            b'"label":"l","at":"2024-05-01T12:00:00Z"}')
    with Broker() as b, consumer_daemon(b, name, events=("MeasurementTakenEvent",)) as d, \
            Sub(d) as s:
        s.subscribe("MeasurementTakenEvent")
        pika_publish(b, d.exchange, "measurement.taken", body, "big-1")
        m, raw = s.deliver(raw=True)
        expect(b"9007199254740993" in raw, "9007199254740993 as that exact text in the "
               "deliver line", raw)
        expect(body in raw, "the body bytes as they are in the deliver line", raw)
        s.ack(m["tag"])
        s.sync()


def deliver_turns_raw_newlines_into_spaces():
    name = "newlines"
    body = (b'{\n  "resource_id": "r-1",\r\n  "resource_name": "n",\n'
            b'  "accessed_at": "2024-05-01T12:00:00Z"\r\n}\n')
    with Broker() as b, consumer_daemon(b, name) as d, Sub(d) as s:
        s.subscribe()
        pika_publish(b, d.exchange, ROUTING_KEY, body, "nl-1")
        m, raw = s.deliver(raw=True)
        expect_eq("message_id", "nl-1", m["message_id"])
        expect_eq("data", json.loads(body), m["data"])
        want = body.replace(b"\r", b" ").replace(b"\n", b" ")
        expect(want in raw, "the body with newlines and CRs as spaces in the deliver line",
               raw)
        s.ack(m["tag"])
        s.sync()


if __name__ == "__main__":
    from warrentest import run
    run([
        aio_pika_published_event_reaches_subscriber_unchanged,
        warrend_published_event_read_by_aio_pika_consumer,
        subscribe_declares_queue_dead_letter_queue_and_binding,
        ack_removes_message_from_queue,
        disconnect_requeues_unacked_delivery_redelivered,
        nack_with_requeue_redelivers,
        prefetch_bounds_unacked_deliveries,
        nack_without_requeue_and_invalid_bodies_dead_lettered,
        two_subscribers_share_the_load,
        subscribe_to_consumed_event_answered_once_pipeline_kept,
        events_published_while_unsubscribed_delivered_later,
        subscribe_repeated_is_one_subscription,
        ack_after_unsubscribe_still_settles,
        deliver_without_message_id_has_null,
        quorum_queue_type_declares_quorum_queues,
        dead_letter_false_declares_no_dead_letter_queue,
        double_ack_answered_unknown_tag,
        subscribe_to_fresh_daemon_never_answered_unavailable,
        subscribe_unknown_event_answered_unknown_event,
        subscribe_forbidden_for_unlisted_user_or_group,
        subscribe_rejected_when_queue_exists_with_other_arguments,
        subscribe_unavailable_when_broker_unreachable,
        deliver_keeps_big_numbers_byte_for_byte,
        deliver_turns_raw_newlines_into_spaces,
        broker_restart_subscription_resumes_without_resubscribing,
    ])
