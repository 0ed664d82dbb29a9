"""fakebroker -- a small AMQP 0-9-1 server that lies.

It speaks just enough of the protocol for warrend's two connections to get
going (protocol header, connection.start/tune/open, channel.open, exchange
and queue declare and bind, basic.qos, confirm.select, basic.consume) and
then lets a test write any frames it likes to the connection that consumes:
bodies longer or shorter than their header declared, frames on channels
never opened, a header with no method before it, frames larger than the
negotiated frame_max. It records what warrend sends back (acks, nacks,
closes) and when warrend hangs up.

Standard library only; one thread per connection.
"""

import queue
import socket
import struct
import threading
import time

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = b"\xce"
FRAME_MAX = 131072

# (class, method) of what the fake broker answers, and the answer's method.
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
EXCHANGE_DECLARE = (40, 10)
QUEUE_DECLARE = (50, 10)
QUEUE_BIND = (50, 20)
BASIC_QOS = (60, 10)
BASIC_CONSUME = (60, 20)
BASIC_CANCEL = (60, 30)
BASIC_DELIVER = (60, 60)
BASIC_ACK = (60, 80)
BASIC_REJECT = (60, 90)
BASIC_NACK = (60, 120)
CONFIRM_SELECT = (85, 10)


def shortstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("B", len(b)) + b


def longstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


def table(d):
    out = b""
    for k, v in d.items():
        out += shortstr(k)
        if isinstance(v, bool):
            out += b"t" + struct.pack("B", int(v))
        elif isinstance(v, dict):
            out += b"F" + table(v)
        else:
            out += b"S" + longstr(v)
    return longstr(out)


def frame(ftype, channel, payload):
    """One frame as bytes; the size field is the payload's, as it is."""
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + FRAME_END


def method(channel, cm, args=b""):
    return frame(FRAME_METHOD, channel, struct.pack(">HH", *cm) + args)


def deliver(channel, ctag, dtag, routing_key, exchange="events", redelivered=False):
    return method(channel, BASIC_DELIVER, shortstr(ctag) + struct.pack(">QB", dtag, redelivered)
                  + shortstr(exchange) + shortstr(routing_key))


def header(channel, body_size, message_id=None, class_id=60):
    """A content header with content_type application/json and, when
    given, a message_id (property flags 0x8000 and 0x0080)."""
    flags = 0x8000 | (0x0080 if message_id is not None else 0)
    props = shortstr("application/json")
    if message_id is not None:
        props += shortstr(message_id)
    return frame(FRAME_HEADER, channel, struct.pack(">HHQH", class_id, 0, body_size, flags)
                 + props)


def body(channel, data):
    return frame(FRAME_BODY, channel, data)


def message(channel, ctag, dtag, routing_key, data, message_id=None):
    """A whole, honest delivery: method, header, one body frame."""
    return (deliver(channel, ctag, dtag, routing_key)
            + header(channel, len(data), message_id) + body(channel, data))


class Conn:
    """One client connection, served on its own thread."""

    def __init__(self, server, sock):
        self.server = server
        self.sock = sock
        self.lock = threading.Lock()
        self.closed = threading.Event()     # warrend hung up (or we did)
        self.received = []                  # (channel, (class, method), args)
        self.consumers = {}                 # channel -> consumer tag
        self.queues = {}                    # channel -> queue name
        self.buf = b""

    def send(self, data):
        with self.lock:
            try:
                self.sock.sendall(data)
            except OSError:
                pass

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def serve(self):
        try:
            if self._read(8) != b"AMQP\x00\x00\x09\x01":
                return
            self.send(method(0, (10, 10), struct.pack("BB", 0, 9)
                             + table({"product": "fakebroker",
                                      "capabilities": {"publisher_confirms": True,
                                                       "consumer_cancel_notify": True,
                                                       "basic.nack": True}})
                             + longstr("PLAIN") + longstr("en_US")))
            while True:
                ftype, channel, size = struct.unpack(">BHI", self._read(7))
                payload = self._read(size)
                if self._read(1) != FRAME_END:
                    return
                if ftype == FRAME_METHOD:
                    cm = struct.unpack(">HH", payload[:4])
                    self.received.append((channel, cm, payload[4:]))
                    self.answer(channel, cm, payload[4:])
        except (EOFError, OSError):
            pass
        finally:
            self.closed.set()
            try:
                self.sock.close()
            except OSError:
                pass

    def answer(self, channel, cm, args):
        if cm == CONNECTION_START_OK:
            self.send(method(0, (10, 30), struct.pack(">HIH", 2047, FRAME_MAX, 0)))
        elif cm == CONNECTION_OPEN:
            self.send(method(0, (10, 41), shortstr("")))
        elif cm == CONNECTION_CLOSE:
            self.send(method(0, CONNECTION_CLOSE_OK))
        elif cm == CHANNEL_OPEN:
            self.send(method(channel, (20, 11), longstr("")))
        elif cm == CHANNEL_CLOSE:
            self.send(method(channel, CHANNEL_CLOSE_OK))
        elif cm == EXCHANGE_DECLARE:
            self.send(method(channel, (40, 11)))
        elif cm == QUEUE_DECLARE:
            name = args[3:3 + args[2]].decode()
            self.queues.setdefault(channel, name)
            self.send(method(channel, (50, 11), shortstr(name) + struct.pack(">II", 0, 0)))
        elif cm == QUEUE_BIND:
            self.send(method(channel, (50, 21)))
        elif cm == BASIC_QOS:
            self.send(method(channel, (60, 11)))
        elif cm == CONFIRM_SELECT:
            self.send(method(channel, (85, 11)))
        elif cm == BASIC_CANCEL:
            tag = args[1:1 + args[0]]
            self.send(method(channel, (60, 31), shortstr(tag)))
        elif cm == BASIC_CONSUME:
            tag = "ctag-%d-%d" % (channel, len(self.server.conns))
            self.consumers[channel] = tag
            self.send(method(channel, (60, 21), shortstr(tag)))
            self.server.consuming.put(self)

    def settled(self):
        """[(what, channel, delivery tag)] for every ack, nack, reject."""
        out = []
        for channel, cm, args in self.received:
            if cm in (BASIC_ACK, BASIC_NACK, BASIC_REJECT):
                what = {BASIC_ACK: "ack", BASIC_NACK: "nack", BASIC_REJECT: "reject"}[cm]
                out.append((what, channel, struct.unpack(">Q", args[:8])[0]))
        return out

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FakeBroker:
    """Listen on 127.0.0.1 (a free port); each connection gets a Conn.
    consuming yields each Conn as it sends basic.consume."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.url = "amqp://guest:guest@127.0.0.1:%d/%%2f" % self.port
        self.conns = []
        self.consuming = queue.Queue()
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            c = Conn(self, s)
            self.conns.append(c)
            threading.Thread(target=c.serve, daemon=True).start()

    def next_consumer(self, timeout):
        """The next connection to start consuming, or None."""
        try:
            return self.consuming.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        self.stopping = True
        try:
            self.lsock.close()
        except OSError:
            pass
        for c in self.conns:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_closed(conn, timeout):
    """Did warrend hang up conn within timeout seconds?"""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if conn.closed.wait(0.05):
            return True
    return conn.closed.is_set()
