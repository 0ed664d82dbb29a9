#!/usr/bin/python3
"""Hostile clients: each gets the SPEC's error, and warrend goes on serving
everyone else (a second client's ping is answered after each)."""

import json
import os
import socket
import threading
import time

from warrentest import (WARREND, Broker, Daemon, Failure, expect, expect_error,
                        expect_ok, fail, publish_req, resource_data, run, short,
                        unique, vmrss_kib, wait_for)

# Growth, not absolute size, so the bound holds under valgrind and ASan too.
RSS_GROWTH_KIB = 48 * 1024


def answered_bad(d, bystander, lines, code="bad_json", op=None, id=None):
    """Each line on a fresh connection is answered code (no op/id for a line
    that is not JSON); the bystander's ping is answered after each."""
    for line in lines:
        with d.client() as c:
            try:
                c.send(line)
            except OSError as e:
                fail("sending %s failed: %r" % (short(line), e))
            r = c.read()
            expect_error(r, code, op=op, id=id, req=line)
        if not d.alive():
            fail("warrend died after %s" % short(line))
        try:
            bystander.ping()
        except Failure as e:
            fail("after %s the other client's ping failed: %s" % (short(line), e))
    d.assert_serving()


def hostile_not_json_answered_bad_json():
    with Daemon("h_not_json", wait_connected=False) as d, d.client() as other:
        answered_bad(d, other, [
            b"hello\n",
            b"{\n",
            b"}\n",
            b'{"op":"ping","id":1\n',
            b'{"op":"ping","id":1,}\n',
            b"{'op':'ping','id':1}\n",
            b'{"op":ping,"id":1}\n',
            b'{"op":"ping","id":01}\n',
            b'{"op":"ping","id":1} {"op":"ping"}\n',
            b'{"op":"ping","id":1}x\n',
            b'{"op":"ping","id":NaN}\n',
            b'{"op":"ping","id":"\\x41"}\n',
            b'{"op":"ping","id":"tab\there"}\n',
        ])


def hostile_non_object_json_answered_bad_json():
    with Daemon("h_non_object", wait_connected=False) as d, d.client() as other:
        answered_bad(d, other, [b"[1,2]\n", b'"x"\n', b"3\n", b"null\n", b"true\n",
                                b"[]\n", b'[{"op":"ping"}]\n'])


def hostile_duplicate_keys_answered_bad_json():
    with Daemon("h_dup_keys", wait_connected=False) as d, d.client() as other:
        answered_bad(d, other, [
            b'{"op":"ping","op":"ping","id":1}\n',
            b'{"op":"ping","id":1,"id":2}\n',
            b'{"op":"ping","id":1,"a":1,"\\u0061":2}\n',
            b'{"op":"publish","id":1,"event":"ResourceAccessedEvent","data":'
            b'{"resource_id":"a","resource_id":"b","resource_name":"n",'
            b'"accessed_at":"2024-05-01T12:00:00Z"}}\n',
            b'{"op":"ping","id":{"k":{"x":1,"y":2,"\\u0078":3}}}\n',
            b'{"op":"ping","id":[{"a":1},{"b":1,"b":1}]}\n',
        ])


def hostile_invalid_utf8_answered_bad_json():
    bads = [b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xff", b"\xf8\x88\x80\x80\x80",
            b"\xf4\x90\x80\x80", b"\x80"]
    lines = []
    for bad in bads:
        lines.append(b'{"op":"ping","id":1,"x":"a' + bad + b'b"}\n')
        lines.append(b'{"op":"ping","id":1,"k' + bad + b'":1}\n')
        lines.append(b'{"op":"publish","id":1,"event":"ResourceAccessedEvent","data":'
                     b'{"resource_id":"a' + bad + b'","resource_name":"n",'
                     b'"accessed_at":"2024-05-01T12:00:00Z"}}\n')
    with Daemon("h_utf8", wait_connected=False) as d, d.client() as other:
        answered_bad(d, other, lines)


def hostile_lone_surrogate_escape_answered_bad_json():
    with Daemon("h_surrogate", wait_connected=False) as d, d.client() as other:
        answered_bad(d, other, [b'{"op":"ping","id":1,"x":"\\ud800"}\n',
                                b'{"op":"ping","id":1,"x":"\\udc00\\ud800"}\n'])


def hostile_nul_bytes_answered_bad_json():
    with Daemon("h_nul", wait_connected=False) as d, d.client() as other:
        answered_bad(d, other, [
            b'{"op":"ping","id":1,"x":"a\x00b"}\n',
            b'{"op":"ping",\x00"id":1}\n',
            b'{"op":"ping","id":1}\x00\n',
            b'\x00{"op":"ping","id":1}\n',
            b'{"op":"ping","id":1,"x":"a\\u0000b"}\n',
            b'{"op":"ping","id":1,"a\\u0000":1}\n',
        ])


def hostile_line_over_max_line_answered_too_large_same_connection_pings():
    with Daemon("h_max_line", wait_connected=False, socket_opts={"max_line": 4096}) as d, \
            d.client() as other:
        with d.client() as c:
            for size in (4097 + 100, 10000, 1024 * 1024):
                line = b'{"op":"ping","id":1,"pad":"' + b"z" * size + b'"}\n'
                c.send(line)
                expect_error(c.read(), "too_large", req=line[:80] + b"...")
                expect_ok(c.request({"op": "ping", "id": size}), "ping", id=size)
                other.ping()
            # A line with no newline at all, growing past max_line in small
            # writes, then finished.
            for _ in range(16):
                c.send(b"w" * 1024)
            c.send(b"\n")
            expect_error(c.read(), "too_large", req=b"16 KiB of w, then a newline")
            expect_ok(c.request({"op": "ping", "id": "after"}), "ping", id="after")
        d.assert_serving()


def hostile_deep_nesting_answered_bad_json():
    depth = 100000
    arrays = b'{"op":"ping","id":1,"x":' + b"[" * depth + b"]" * depth + b"}\n"
    objects = b'{"op":"ping","id":1,"x":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}\n"
    unclosed = b'{"op":"ping","id":1,"x":' + b"[" * depth + b"\n"
    with Daemon("h_deep", wait_connected=False) as d, d.client() as other:
        answered_bad(d, other, [arrays, objects, unclosed])


def hostile_client_closing_mid_line_harmless():
    with Daemon("h_mid_line", wait_connected=False) as d, d.client() as other:
        for part in (b'{"op":"publish","event":"Reso', b'{"op":"ping","id":"\xe2\x82',
                     b"x" * 100000, b'{"op":"ping"}'):
            c = d.client()
            c.send(part)
            c.close()
            other.ping()
        # And one that closes before reading replies it is owed.
        c = d.client()
        c.send(b'{"op":"ping","id":1}\n' * 2000 + b'{"op":"contracts"}\n' * 200)
        c.close()
        other.ping()
        d.assert_serving()


def hostile_client_closing_with_publishes_in_flight_harmless():
    with Broker() as b, Daemon("h_close_inflight") as d, d.client() as other:
        q = unique("h_close_inflight")
        b.bind_queue(q, d.exchange, "resource.accessed")
        for _ in range(5):
            c = d.client()
            c.send(b"".join(json.dumps(publish_req(data=resource_data(i), id=i)).encode()
                            + b"\n" for i in range(200)))
            c.close()
        other.ping()
        req = publish_req(id="after")
        expect_ok(other.request(req), "publish", req=req)
        d.assert_serving()


def hostile_request_split_across_writes_answered_once():
    with Broker() as b, Daemon("h_split") as d:
        q = unique("h_split")
        b.bind_queue(q, d.exchange, "resource.accessed")
        data = dict(resource_data(), resource_name="caf\u00e9 \u2603 \U0001F600")
        line = json.dumps(publish_req(data=data, id=1), ensure_ascii=False).encode() + b"\n"
        with d.client() as c:
            for i in range(len(line)):       # one byte per write
                c.sock.sendall(line[i:i + 1])
                if i % 16 == 0:
                    time.sleep(0.002)
            expect_ok(c.read(), "publish", req=line, id=1)
            expect_ok(c.request({"op": "ping", "id": 2}), "ping", id=2)
            # Several requests in one write, each answered once, in order.
            c.send(b'{"op":"ping","id":3}\n{"op":"ping","id":4}\n{"op":"ping","id":5}\n')
            for i in (3, 4, 5):
                expect_ok(c.read(), "ping", id=i)
        m = b.get_one(q)
        expect(json.loads(m.body) == data, "the body as sent", m.body)


def hostile_client_never_reading_does_not_grow_memory():
    with Broker() as b, Daemon("h_no_read") as d, d.client() as other:
        q = unique("h_no_read")
        b.bind_queue(q, d.exchange, "resource.accessed")
        pid = d.proc.pid
        base = vmrss_kib(pid)
        lines = [json.dumps(publish_req(data=dict(resource_data(i), resource_name="n" * 100),
                                        id=i)).encode() + b"\n" for i in range(10000)]
        hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        hog.connect(d.sock_path)
        state = {"sent": 0, "done": False, "error": None}

        def writer():
            try:
                for i in range(0, len(lines), 100):
                    hog.sendall(b"".join(lines[i:i + 100]))
                    state["sent"] = i + 100
            except OSError as e:
                state["error"] = e
            state["done"] = True

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        peak = base
        last_sent, last_change = -1, time.monotonic()
        end = time.monotonic() + 60
        try:
            while True:
                # Everyone else is still served while the hog is connected.
                try:
                    other.ping()
                except Failure as e:
                    fail("with a client writing %d requests and never reading, another "
                         "client's ping failed: %s" % (state["sent"], e))
                peak = max(peak, vmrss_kib(pid))
                if state["sent"] != last_sent:
                    last_sent, last_change = state["sent"], time.monotonic()
                if state["done"] or time.monotonic() - last_change > 3:
                    break   # all written, or warrend stopped reading (backpressure)
                if time.monotonic() > end:
                    break
                time.sleep(0.1)
            for _ in range(10):  # and a little longer, while it works through them
                other.ping()
                peak = max(peak, vmrss_kib(pid))
                time.sleep(0.1)
        finally:
            try:
                hog.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            hog.close()
            t.join(10)
        expect(peak - base < RSS_GROWTH_KIB,
               "warrend's VmRSS to grow by less than %d KiB (it was %d KiB at the start)"
               % (RSS_GROWTH_KIB, base),
               "a peak of %d KiB with %d requests written" % (peak, state["sent"]))
        other.ping()
        d.assert_serving("after the hog left")


def hostile_connections_beyond_max_clients_refused_with_one_line():
    n = 4
    with Daemon("h_max_clients", wait_connected=False, socket_opts={"max_clients": n}) as d:
        clients = []
        try:
            # Fill every slot (the start-up probe's slot may take a moment to free).
            while len(clients) < n:
                def one():
                    c = d.client()
                    c.send({"op": "ping"})
                    r = c.read()
                    if r.get("ok") is True:
                        return c
                    c.close()
                    if r.get("error") != "too_many_clients":
                        fail("expected a ping reply or too_many_clients, got %s" % json.dumps(r))
                    return None
                clients.append(wait_for(one, "client %d of %d to be accepted"
                                        % (len(clients) + 1, n)))
            for extra in range(3):
                c = d.client()
                try:
                    c.send({"op": "ping", "id": "extra"})
                except OSError:
                    pass
                lines = []
                while True:
                    line = c.readline()
                    if line is None:
                        break
                    lines.append(line)
                    if len(lines) > 5:
                        break
                c.close()
                expect(len(lines) == 1, "exactly one line then EOF for connection %d" % (n + 1),
                       lines)
                r = json.loads(lines[0])
                expect_error(r, "too_many_clients", req=b"(connect)")
                expect(r.get("ok") is False and "id" not in r,
                       "{\"ok\":false,\"error\":\"too_many_clients\",...} without an id",
                       json.dumps(r))
            for i, c in enumerate(clients):
                expect_ok(c.request({"op": "ping", "id": i}), "ping", id=i)
            clients.pop(0).close()

            def newcomer():
                c = d.client()
                c.send({"op": "ping", "id": "new"})
                r = c.read()
                if r.get("ok") is True:
                    clients.append(c)
                    return True
                c.close()
                return False
            wait_for(newcomer, "a new connection to be served once a client left")
            for i, c in enumerate(clients):
                expect_ok(c.request({"op": "ping", "id": i}), "ping", id=i)
        finally:
            for c in clients:
                c.close()
        d.assert_serving()


def hostile_second_instance_on_same_socket_refused():
    """A second warrend given the socket of a running one must not take it
    over: it exits non-zero and the first goes on serving on that path."""
    with Daemon("h_second", wait_connected=False) as d, d.client() as other:
        import subprocess
        second = subprocess.run([WARREND, "-c", d.conf_path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        expect(second.returncode != 0, "the second instance to exit non-zero",
               "exit %d, output %s" % (second.returncode, short(second.stdout)))
        expect(os.path.exists(d.sock_path), "the socket path still there", "it was removed")
        other.ping()
        d.assert_serving("after a second instance tried the same socket")


def hostile_stale_socket_file_replaced():
    """A socket file left by a killed instance does not stop a new one."""
    d = Daemon("h_stale", wait_connected=False)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(d.sock_path)      # bound, never listening, then closed: stale
    s.close()
    with d:
        d.assert_serving("started over a stale socket file")


def hostile_reply_never_reaches_a_later_client():
    """A client that leaves with publishes in flight: their replies must not
    go to the next client that connects (and may get the same descriptor)."""
    with Broker() as b, Daemon("h_reuse") as d:
        q = unique("h_reuse")
        b.bind_queue(q, d.exchange, "resource.accessed")
        for round_ in range(20):
            a = d.client()
            a.send(b"".join(json.dumps(publish_req(data=resource_data(i), id="A-%d-%d"
                                                   % (round_, i))).encode() + b"\n"
                            for i in range(100)))
            a.close()
            with d.client() as c:
                reqs = [{"op": "ping", "id": "B-%d-%d" % (round_, i)} for i in range(3)]
                reqs.append(publish_req(id="B-%d-3" % round_))
                c.send(b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
                for req in reqs:
                    r = c.read()
                    if r.get("id") != req["id"]:
                        fail("round %d: expected the reply to %s, got %s (a reply meant "
                             "for an earlier client?)" % (round_, req["id"], json.dumps(r)))
        d.assert_serving()


def hostile_half_closed_client_still_gets_replies():
    """A client that shuts down its writing side after its requests (as
    `nc -N` does) still gets every reply, then EOF."""
    with Broker() as b, Daemon("h_half_close") as d:
        q = unique("h_half_close")
        b.bind_queue(q, d.exchange, "resource.accessed")
        with d.client() as c:
            reqs = [{"op": "ping", "id": 1}, publish_req(id=2), {"op": "ping", "id": 3}]
            c.send(b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
            c.sock.shutdown(socket.SHUT_WR)
            for req in reqs:
                expect_ok(c.read(), req["op"], req=req, id=req["id"])
            c.expect_eof()
        b.wait_count(q, 1)
        d.assert_serving()


def hostile_crlf_and_blank_lines_harmless():
    """\\r is JSON whitespace: a CRLF line is a valid request."""
    with Daemon("h_crlf", wait_connected=False) as d, d.client() as c:
        r = c.request(b'{"op":"ping","id":1}\r\n')
        expect_ok(r, "ping", id=1)
        c.send(b'\r\n \t\r\n')   # blank lines: ignored or answered, never fatal
        r = c.request({"op": "ping", "id": 2})
        while r.get("id") != 2 and r.get("ok") is False:
            r = c.read()
        expect_ok(r, "ping", id=2)
        d.assert_serving()


def hostile_extreme_numbers_answered():
    with Daemon("h_numbers", broker_opts={"unroutable": "warn"}) as d, d.client() as c:
        for raw in (b"1e999", b"-1e999", b"1e-999", b"1E400", b"123456789" * 40,
                    b"0." + b"0" * 5000 + b"1", b"-0"):
            for field in (b"value", b"ratio"):
                data = {b"value": b"1", b"ratio": b"1"}
                data[field] = raw
                line = (b'{"op":"publish","id":1,"event":"MeasurementTakenEvent","data":'
                        b'{"sensor":"s","value":' + data[b"value"] + b',"ratio":' + data[b"ratio"] +
                        b',"label":"l","at":"2024-05-01T12:00:00Z"}}\n')
                r = c.request(line)
                if r.get("ok") is not True:
                    expect_error(r, "validation", op="publish", id=1, req=line[:200])
        d.assert_serving()


if __name__ == "__main__":
    run([
        hostile_not_json_answered_bad_json,
        hostile_non_object_json_answered_bad_json,
        hostile_duplicate_keys_answered_bad_json,
        hostile_invalid_utf8_answered_bad_json,
        hostile_lone_surrogate_escape_answered_bad_json,
        hostile_nul_bytes_answered_bad_json,
        hostile_line_over_max_line_answered_too_large_same_connection_pings,
        hostile_deep_nesting_answered_bad_json,
        hostile_client_closing_mid_line_harmless,
        hostile_client_closing_with_publishes_in_flight_harmless,
        hostile_request_split_across_writes_answered_once,
        hostile_client_never_reading_does_not_grow_memory,
        hostile_connections_beyond_max_clients_refused_with_one_line,
        hostile_second_instance_on_same_socket_refused,
        hostile_reply_never_reaches_a_later_client,
        hostile_half_closed_client_still_gets_replies,
        hostile_crlf_and_blank_lines_harmless,
        hostile_extreme_numbers_answered,
        hostile_stale_socket_file_replaced,
    ])
