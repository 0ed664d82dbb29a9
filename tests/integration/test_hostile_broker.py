#!/usr/bin/python3
"""A hostile broker: warrend's consumer connection talks to a fake AMQP
server (fakebroker.py) that breaks the framing rules. Whatever it sends,
warrend stays up, never hands a body it did not get whole and as declared
to an application, hangs up on that connection and consumes again on a
new one; and what the broker says is logged without forging lines."""

import json
import re

import fakebroker as fk
from fakebroker import FakeBroker, wait_closed
from warrentest import (DEADLINE, RESOURCE_ACCESSED, Daemon, expect, expect_eq,
                        expect_ok, fail, resource_data, run, short, wait_for)

EVENT = "ResourceAccessedEvent"
RK = "resource.accessed"


def good_body(n):
    return json.dumps(resource_data(n)).encode()


class Consuming:
    """warrend with one subscriber to EVENT, its consumer connection to the
    fake broker, and the subscriber's deliveries."""

    def __init__(self, fb, name, **kw):
        self.fb = fb
        self.d = Daemon(name, urls=[fb.url], contracts=[RESOURCE_ACCESSED], **kw)

    def __enter__(self):
        self.d.__enter__()
        try:
            self.sub = self.d.client()
            expect_ok(self.sub.request({"op": "subscribe", "id": 1, "event": EVENT}),
                      "subscribe")
            self.conn = self.next_conn("the first subscribe")
        except BaseException:
            self.d.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.sub.close()
        return self.d.__exit__(*exc)

    def next_conn(self, after):
        c = self.fb.next_consumer(DEADLINE)
        if c is None:
            fail("warrend did not consume on the fake broker within %.0f s after %s; "
                 "log:\n%s" % (DEADLINE, after, self.d.log_tail()))
        self.channel, self.ctag = next(iter(c.consumers.items()))
        return c

    def send_good(self, dtag, mid):
        self.conn.send(fk.message(self.channel, self.ctag, dtag, RK, good_body(dtag), mid))

    def expect_delivery(self, mid, n, acked=True):
        """The subscriber's next line is the delivery of mid (the body of
        send_good(n)); ack it and wait for the ack to reach the broker."""
        line = self.sub.readline()
        if line is None:
            fail("the subscriber's connection closed waiting for %s" % mid)
        m = json.loads(line)
        if m.get("op") != "deliver" or m.get("message_id") != mid:
            fail("expected the delivery of %s next, got %s" % (mid, short(line)))
        expect_eq("data of %s" % mid, resource_data(n), m.get("data"))
        self.sub.send({"op": "ack", "tag": m["tag"]})
        if acked:
            wait_for(lambda: ("ack", self.channel, n) in self.conn.settled(),
                     "the ack of %s to reach the broker" % mid)
        return m


def lie_and_expect_reconnect(name, lie, why, logged="protocol error", whole=None):
    """One honest delivery, then lie(c) on the same connection: warrend
    hangs up, logs why (logged), consumes again on a new connection, and
    the next thing the subscriber gets is the honest delivery sent on that
    one: the lie was neither delivered nor settled. whole names a message
    that came whole, as declared, before the lie: it is delivered first."""
    with FakeBroker() as fb, Consuming(fb, name) as c:
        c.send_good(1, "good-1")
        c.expect_delivery("good-1", 1)
        first, ch = c.conn, c.channel
        lie(c)
        if not wait_closed(first, DEADLINE):
            fail("warrend kept the connection after %s; log:\n%s" % (why, c.d.log_tail()))
        if whole is not None:
            c.expect_delivery(whole[0], whole[1], acked=False)
        c.conn = c.next_conn(why)
        c.send_good(2, "good-2")
        c.expect_delivery("good-2", 2)
        if not c.d.alive():
            fail("warrend died after %s" % why)
        expect_eq("what warrend settled on the lying connection", [("ack", ch, 1)],
                  first.settled())
        expect(logged in c.d.log(), "a log line with %r after %s" % (logged, why),
               c.d.log_tail(10))
        c.d.assert_serving("after %s" % why)


def broker_body_longer_than_declared_not_delivered():
    """Ten bytes declared, a string opened in the first frame and more in
    a second: warrend used to hand on a length past its 11-byte buffer,
    and the JSON check read on (ASan heap-buffer-overflow)."""
    def lie(c):
        c.conn.send(fk.deliver(c.channel, c.ctag, 2, RK) + fk.header(c.channel, 10, "liar")
                    + fk.body(c.channel, b'{"k":"abc') + fk.body(c.channel, b"i" * 200 + b'"}'))
    lie_and_expect_reconnect("hb_longer", lie, "a body longer than its header declared")


def broker_body_frame_after_a_whole_message_refused():
    """The message was whole as declared when the extra frame came: it is
    delivered; the frame that follows is refused."""
    def lie(c):
        c.conn.send(fk.message(c.channel, c.ctag, 2, RK, good_body(7), "whole")
                    + fk.body(c.channel, b"{\"extra\":1}"))
    lie_and_expect_reconnect("hb_extra_frame", lie,
                             "a body frame after the declared size was complete",
                             whole=("whole", 7))


def broker_body_shorter_than_declared_not_delivered():
    def lie(c):
        data = good_body(7)
        c.conn.send(fk.deliver(c.channel, c.ctag, 2, RK)
                    + fk.header(c.channel, len(data) + 100, "liar")
                    + fk.body(c.channel, data)
                    + fk.message(c.channel, c.ctag, 3, RK, good_body(8), "next"))
    lie_and_expect_reconnect("hb_shorter", lie,
                             "a body shorter than declared, cut off by the next delivery")


def broker_header_without_method_not_delivered():
    def lie(c):
        data = good_body(7)
        c.conn.send(fk.header(c.channel, len(data), "liar") + fk.body(c.channel, data))
    lie_and_expect_reconnect("hb_no_method", lie, "a content header with no method")


def broker_body_without_header_not_delivered():
    def lie(c):
        c.conn.send(fk.deliver(c.channel, c.ctag, 2, RK) + fk.body(c.channel, good_body(7)))
    lie_and_expect_reconnect("hb_no_header", lie, "a body frame with no content header")


def broker_content_header_of_another_class_refused():
    def lie(c):
        data = good_body(7)
        c.conn.send(fk.deliver(c.channel, c.ctag, 2, RK)
                    + fk.header(c.channel, len(data), class_id=10) + fk.body(c.channel, data))
    lie_and_expect_reconnect("hb_class", lie, "a content header of class 10 (connection)")


def broker_frames_on_unknown_channel_refused():
    def lie(c):
        c.conn.send(fk.message(777, c.ctag, 2, RK, good_body(7), "liar"))
    lie_and_expect_reconnect("hb_channel", lie, "a delivery on a channel never opened")


def broker_content_on_channel_zero_refused():
    def lie(c):
        data = good_body(7)
        c.conn.send(fk.header(0, len(data), "liar") + fk.body(0, data))
    lie_and_expect_reconnect("hb_channel0", lie, "content frames on channel 0")


def broker_oversized_frame_refused():
    def lie(c):
        data = b"[" + b"1," * 100000 + b"1]"
        c.conn.send(fk.deliver(c.channel, c.ctag, 2, RK)
                    + fk.header(c.channel, len(data), "liar") + fk.body(c.channel, data))
    # librabbitmq itself refuses a frame above frame_max.
    lie_and_expect_reconnect("hb_oversized", lie,
                             "a %d-byte frame (frame_max %d)" % (200003, fk.FRAME_MAX),
                             logged="invalid AMQP data")


def broker_text_with_newlines_logged_on_one_line():
    """A message_id and a channel.close reply text holding "\\n<0>..." are
    logged escaped: under the journal, every line still starts with one of
    warrend's own priorities and no forged line appears."""
    with FakeBroker() as fb, Consuming(fb, "hb_log", journal=True) as c:
        evil = "evil\n<0>warrend: forged message_id\r\n<2>x"
        c.conn.send(fk.message(c.channel, c.ctag, 2, RK, b"not json", evil))
        c.send_good(3, "good-3")
        c.expect_delivery("good-3", 3)
        text = b"bye\n<0>warrend: forged reply text"
        c.conn.send(fk.method(c.channel, fk.CHANNEL_CLOSE,
                              b"\x01\x94" + fk.shortstr(text) + b"\x00\x00\x00\x00"))
        c.conn = c.next_conn("a channel.close")
        c.send_good(4, "good-4")
        c.expect_delivery("good-4", 4)
        log = c.d.log()
        for ln in log.rstrip("\n").split("\n"):
            if not re.match(r"<[3467]>", ln):
                fail("a log line that does not start with warrend's own priority: %s\n"
                     "log:\n%s" % (short(ln), c.d.log_tail()))
        for want in ("evil\\n<0>warrend: forged message_id\\r\\n<2>x",
                     "bye\\n<0>warrend: forged reply text"):
            expect(want in log, "the escaped text %s in the log" % want, c.d.log_tail(10))
        expect_eq("settled on the connection", [("nack", c.channel, 2), ("ack", c.channel, 3),
                                                ("ack", c.channel, 4)], c.conn.settled())


if __name__ == "__main__":
    run([
        broker_body_longer_than_declared_not_delivered,
        broker_body_frame_after_a_whole_message_refused,
        broker_body_shorter_than_declared_not_delivered,
        broker_header_without_method_not_delivered,
        broker_body_without_header_not_delivered,
        broker_content_header_of_another_class_refused,
        broker_frames_on_unknown_channel_refused,
        broker_content_on_channel_zero_refused,
        broker_oversized_frame_refused,
        broker_text_with_newlines_logged_on_one_line,
    ])
