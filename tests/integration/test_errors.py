#!/usr/bin/python3
"""Every error code of warren-protocol(7), reached from a socket."""

import json
import signal

from warrentest import (Broker, Daemon, Failure, RESOURCE_ACCESSED, UNREACHABLE_URL,
                        expect, expect_eq, fail, expect_error, expect_ok, order_data,
                        publish_req, resource_data, run, unique, wait_for)


def error_not_json_answered_bad_json_without_op_or_id():
    with Daemon("bad_json", wait_connected=False) as d:
        with d.client() as c:
            for line in (b"not json\n", b'{"op":"ping","id":1\n', b'{"op":"ping","id":1,}\n'):
                r = c.request(line)
                expect_error(r, "bad_json", op=None, id=None, req=line)
        d.assert_serving()


def error_line_too_long_answered_too_large_connection_kept():
    with Daemon("too_large", wait_connected=False, socket_opts={"max_line": 4096}) as d:
        with d.client() as c:
            big = b'{"op":"ping","id":1,"pad":"' + b"x" * 5000 + b'"}\n'
            r = c.request(big)
            expect_error(r, "too_large", req=big)
            r = c.request({"op": "ping", "id": 2})
            expect_ok(r, "ping", req={"op": "ping", "id": 2}, id=2)
            # The rest of an over-long line is discarded up to its newline
            # only: a ping in the same write is still answered.
            both = b'{"op":"ping","id":3,"pad":"' + b"y" * 20000 + b'"}\n{"op":"ping","id":4}\n'
            c.send(both)
            expect_error(c.read(), "too_large", req=both)
            expect_ok(c.read(), "ping", req=both, id=4)
        d.assert_serving()


def error_publish_without_event_answered_bad_request():
    with Daemon("no_event", wait_connected=False) as d:
        with d.client() as c:
            req = {"op": "publish", "id": 1, "data": resource_data()}
            expect_error(c.request(req), "bad_request", op="publish", id=1, req=req)
        d.assert_serving()


def error_event_not_a_string_answered_bad_request():
    with Daemon("event_type", wait_connected=False) as d:
        with d.client() as c:
            for ev in (5, None, ["ResourceAccessedEvent"], {"name": "ResourceAccessedEvent"}):
                req = {"op": "publish", "id": 2, "event": ev, "data": resource_data()}
                expect_error(c.request(req), "bad_request", op="publish", id=2, req=req)
        d.assert_serving()


def error_data_not_an_object_answered_bad_request():
    with Daemon("data_type", wait_connected=False) as d:
        with d.client() as c:
            for data in ([1, 2], "x", 3, None, True):
                req = {"op": "publish", "id": 3, "event": "ResourceAccessedEvent", "data": data}
                expect_error(c.request(req), "bad_request", op="publish", id=3, req=req)
            req = {"op": "publish", "id": 4, "event": "ResourceAccessedEvent"}
            expect_error(c.request(req), "bad_request", op="publish", id=4, req=req)
        d.assert_serving()


def error_ack_without_tag_answered_bad_request():
    with Daemon("ack_no_tag", wait_connected=False) as d:
        with d.client() as c:
            for req in ({"op": "ack", "id": 5}, {"op": "nack", "id": 6},
                        {"op": "ack", "id": 7, "tag": "7"}, {"op": "nack", "id": 8, "tag": None}):
                expect_error(c.request(req), "bad_request", op=req["op"], id=req["id"], req=req)
        d.assert_serving()


def error_unknown_op_answered_unknown_op():
    with Daemon("unknown_op", wait_connected=False) as d:
        with d.client() as c:
            req = {"op": "frobnicate", "id": 9}
            expect_error(c.request(req), "unknown_op", id=9, req=req)
        d.assert_serving()


def error_unknown_event_answered_unknown_event():
    with Daemon("unknown_event", wait_connected=False) as d:
        with d.client() as c:
            req = publish_req("NoSuchEvent", {"x": 1}, id=10)
            expect_error(c.request(req), "unknown_event", op="publish", id=10, req=req)
        d.assert_serving()


def error_ack_nack_unknown_tag_answered_unknown_tag():
    with Daemon("unknown_tag", wait_connected=False) as d:
        with d.client() as c:
            for req in ({"op": "ack", "id": 11, "tag": 12345},
                        {"op": "nack", "id": 12, "tag": 1, "requeue": False},
                        {"op": "nack", "id": 13, "tag": 7}):
                expect_error(c.request(req), "unknown_tag", op=req["op"], id=req["id"], req=req)
        d.assert_serving()


def error_validation_naive_datetime_message_and_field():
    with Daemon("naive_dt", wait_connected=False) as d:
        with d.client() as c:
            data = dict(resource_data(), accessed_at="2024-05-01T12:00:00")
            req = publish_req(data=data, id=14)
            expect_error(c.request(req), "validation", op="publish", id=14, field="accessed_at",
                         message="accessed_at: datetime has no timezone offset", req=req)
        d.assert_serving()


def error_validation_nested_array_item_field_path():
    with Daemon("nested_path", wait_connected=False) as d:
        with d.client() as c:
            data = order_data()
            data["items"] = [{"sku": "ABC-1", "qty": 1}, {"sku": "ABC-2", "qty": 1},
                             {"sku": "abc", "qty": 1}]
            req = publish_req("OrderPlacedEvent", data, id=15)
            r = expect_error(c.request(req), "validation", op="publish", id=15,
                             field="items[2].sku", req=req)
            expect(r["message"].startswith("items[2].sku: "),
                   "a message starting with \"items[2].sku: \"", json.dumps(r))
            data["items"] = [{"sku": "ABC-1", "qty": 1}, {"sku": "ABC-2", "qty": 0}]
            req = publish_req("OrderPlacedEvent", data, id=16)
            expect_error(c.request(req), "validation", op="publish", id=16,
                         field="items[1].qty", req=req)
        d.assert_serving()


def error_validation_names_the_field_at_fault():
    good = order_data()
    cases = [
        ("missing required field", {k: v for k, v in good.items() if k != "order_id"},
         "order_id"),
        ("required field null", dict(good, order_id=None), "order_id"),
        ("field not in the contract", dict(good, coupon="X"), "coupon"),
        ("bad uuid", dict(good, order_id="3f2504e0-4f89-41d3-9a0c"), "order_id"),
        ("bad date", dict(good, placed_on="2024-02-30"), "placed_on"),
        ("number below minimum", dict(good, total=-0.01), "total"),
        ("number given as a string", dict(good, total="12.5"), "total"),
        ("value not in enum", dict(good, status="lost"), "status"),
        ("array below min_items", dict(good, items=[]), "items"),
        ("array above max_items", dict(good, items=[{"sku": "ABC-1", "qty": 1}] * 11), "items"),
        ("integer not integral", dict(good, items=[{"sku": "ABC-1", "qty": 1.5}]), "items[0].qty"),
        ("unknown member in nested object", dict(good, items=[{"sku": "ABC-1", "qty": 1,
                                                               "x": 1}]), "items[0].x"),
        ("boolean given as number", dict(good, gift=1), "gift"),
        ("pattern matching only part of the string",
         dict(good, items=[{"sku": "ABC-12x", "qty": 1}]), "items[0].sku"),
        ("pattern matching only a suffix", dict(good, items=[{"sku": "xABC-12", "qty": 1}]),
         "items[0].sku"),
        ("missing member of an array item", dict(good, items=[{"sku": "ABC-1"}]), "items[0].qty"),
        ("array item not an object", dict(good, items=["ABC-1"]), "items[0]"),
        ("not a leap year", dict(good, placed_on="2023-02-29"), "placed_on"),
        ("date with a time", dict(good, placed_on="2024-05-01T00:00:00Z"), "placed_on"),
        ("enum value not a string", dict(good, status=1), "status"),
        ("uuid with braces", dict(good, order_id="{3f2504e0-4f89-41d3-9a0c-0305e82c3301}"),
         "order_id"),
    ]
    rcases = [
        ("string over max_length (in characters)",
         dict(resource_data(), resource_id="\u00e9" * 65), "resource_id"),
        ("string under min_length", dict(resource_data(), resource_id=""), "resource_id"),
        ("datetime without seconds", dict(resource_data(), accessed_at="2024-05-01T12:00Z"),
         "accessed_at"),
        ("datetime month 13", dict(resource_data(), accessed_at="2024-13-01T12:00:00Z"),
         "accessed_at"),
        ("datetime hour 25", dict(resource_data(), accessed_at="2024-05-01T25:00:00Z"),
         "accessed_at"),
        ("datetime one-digit offset hour",
         dict(resource_data(), accessed_at="2024-05-01T12:00:00+2:00"), "accessed_at"),
        ("datetime as a number", dict(resource_data(), accessed_at=1714564800), "accessed_at"),
        ("string given as a number", dict(resource_data(), resource_name=5), "resource_name"),
    ]
    with Broker() as b, Daemon("validation") as d:
        q = unique("validation")
        b.bind_queue(q, d.exchange, "#")
        with d.client() as c:
            for i, (what, data, field) in enumerate(cases):
                req = publish_req("OrderPlacedEvent", data, id=i)
                r = c.request(req)
                try:
                    expect_error(r, "validation", op="publish", id=i, field=field, req=req)
                except Failure as e:
                    fail("%s: %s" % (what, e))
            for i, (what, data, field) in enumerate(rcases):
                req = publish_req("ResourceAccessedEvent", data, id=100 + i)
                r = c.request(req)
                try:
                    expect_error(r, "validation", op="publish", id=100 + i, field=field, req=req)
                except Failure as e:
                    fail("%s: %s" % (what, e))
            # None of those reached the broker; a valid one does.
            req = publish_req("OrderPlacedEvent", good, id="valid")
            r = expect_ok(c.request(req), "publish", req=req)
        b.wait_count(q, 1)
        got = [m.props.message_id for m in b.get_all(q)]
        expect_eq("message_ids in the queue (only the valid event)", [r["message_id"]], got)
        d.assert_serving()


def error_validation_non_integral_integer_rejected():
    """integer: a JSON number with an integral value. These are not integral,
    though each rounds to an integral double."""
    contract = {"name": "CountedEvent", "routing_key": "counted.ev",
                "fields": [{"name": "n", "type": "integer", "minimum": 0, "maximum": 5}]}
    with Daemon("non_integral", contracts=[contract], wait_connected=False) as d:
        with d.client() as c:
            for raw in (b"1e-999", b"1.0000000000000000001", b"4.99999999999999999999",
                        b"0." + b"0" * 400 + b"1"):
                line = b'{"op":"publish","id":1,"event":"CountedEvent","data":{"n":' + raw + b'}}\n'
                expect_error(c.request(line), "validation", op="publish", id=1, field="n",
                             req=line)
        d.assert_serving()


def error_message_id_not_a_string_answered_bad_request():
    with Daemon("message_id_type", wait_connected=False) as d:
        with d.client() as c:
            for mid in (5, None, ["a"], {"a": 1}):
                req = publish_req(id=30, message_id=mid)
                expect_error(c.request(req), "bad_request", op="publish", id=30, req=req)
        d.assert_serving()


def error_reply_escapes_odd_names():
    """Names taken from the request are escaped in the reply: it stays one
    valid JSON line and field is the name as sent."""
    odd = 'we"ird\\ke\ny\u00e9\u2028\t\u0001'
    with Daemon("odd_names", wait_connected=False) as d:
        with d.client() as c:
            data = dict(resource_data())
            data[odd] = 1
            req = publish_req(data=data, id=31)
            expect_error(c.request(req), "validation", op="publish", id=31, field=odd, req=req)
            req = publish_req('No"Such\nEvent\u2028', {}, id=32)
            expect_error(c.request(req), "unknown_event", op="publish", id=32, req=req)
            req = {"op": 'fr"ob\nnicate', "id": 33}
            expect_error(c.request(req), "unknown_op", id=33, req=req)
            c.ping()
        d.assert_serving()


def error_forbidden_for_unlisted_user_or_group():
    contracts = [
        dict(RESOURCE_ACCESSED, name="UserOnlyEvent", routing_key="user.only",
             allow_users=["nobody"]),
        dict(RESOURCE_ACCESSED, name="GroupOnlyEvent", routing_key="group.only",
             allow_groups=["nogroup"]),
        dict(RESOURCE_ACCESSED, name="NeitherEvent", routing_key="neither.one",
             allow_users=["nobody", "65534"], allow_groups=["nogroup"]),
    ]
    with Broker() as b, Daemon("forbidden", contracts=contracts) as d:
        q = unique("forbidden")
        b.bind_queue(q, d.exchange, "#")
        with d.client() as c:
            for i, ct in enumerate(contracts):
                req = publish_req(ct["name"], id=i)
                expect_error(c.request(req), "forbidden", op="publish", id=i, req=req)
        expect_eq("messages in the queue", 0, b.count(q))
        d.assert_serving()


def error_unroutable_when_unroutable_is_error():
    with Broker() as b, Daemon("unroutable", broker_opts={"unroutable": "error"}) as d:
        b.declare_exchange(d.exchange)
        with d.client() as c:
            req = publish_req(id=17)
            expect_error(c.request(req), "unroutable", op="publish", id=17, req=req)
        d.assert_serving()


def error_rejected_when_broker_nacks():
    with Broker() as b, Daemon("rejected", spool={"max_bytes": 0}) as d:
        q = unique("rejected")
        b.bind_queue(q, d.exchange, "resource.accessed",
                     arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
        with d.client() as c:
            req = publish_req(id=18)
            expect_error(c.request(req), "rejected", op="publish", id=18, req=req)
            req = publish_req(id=19)
            expect_error(c.request(req), "rejected", op="publish", id=19, req=req)
            expect_ok(c.request({"op": "ping", "id": 20}), "ping", id=20)
        d.assert_serving()


def error_unavailable_when_broker_unreachable_and_spool_disabled():
    with Daemon("unavailable", urls=[UNREACHABLE_URL],
                spool={"max_bytes": 0},  # spool disabled
                broker_opts={"publish_timeout_ms": 500}) as d:
        with d.client() as c:
            req = publish_req(id=21)
            expect_error(c.request(req), "unavailable", op="publish", id=21, req=req)
            req = publish_req(id=22)
            expect_error(c.request(req), "unavailable", op="publish", id=22, req=req)
        st = d.stats()
        expect_ok(st, "stats")
        expect(st.get("stats", {}).get("broker", {}).get("connected") is False,
               "stats.broker.connected false while the broker is unreachable", json.dumps(st))
        d.assert_serving()


def error_shutting_down_for_pending_publish_on_sigterm_without_spool():
    with Daemon("shutting_down", urls=[UNREACHABLE_URL],
                spool={"max_bytes": 0},  # spool disabled
                broker_opts={"publish_timeout_ms": 60000},
                top={"shutdown_timeout_ms": 300}) as d:
        with d.client() as c:
            req = publish_req(id=23)
            c.send(req)

            def accepted():
                st = d.stats()
                return st["stats"]["accepted"] >= 1
            wait_for(accepted, "stats.accepted >= 1 after the publish")
            rc = d.terminate(signal.SIGTERM)
            expect_error(c.read(), "shutting_down", op="publish", id=23, req=req)
            expect(rc == 0, "warrend to exit 0 after SIGTERM",
                   "killed after %s s" % 20 if rc is None else "exit status %s" % rc)


if __name__ == "__main__":
    run([
        error_not_json_answered_bad_json_without_op_or_id,
        error_line_too_long_answered_too_large_connection_kept,
        error_publish_without_event_answered_bad_request,
        error_event_not_a_string_answered_bad_request,
        error_data_not_an_object_answered_bad_request,
        error_ack_without_tag_answered_bad_request,
        error_unknown_op_answered_unknown_op,
        error_unknown_event_answered_unknown_event,
        error_ack_nack_unknown_tag_answered_unknown_tag,
        error_validation_naive_datetime_message_and_field,
        error_validation_nested_array_item_field_path,
        error_validation_names_the_field_at_fault,
        error_validation_non_integral_integer_rejected,
        error_message_id_not_a_string_answered_bad_request,
        error_reply_escapes_odd_names,
        error_forbidden_for_unlisted_user_or_group,
        error_unroutable_when_unroutable_is_error,
        error_rejected_when_broker_nacks,
        error_unavailable_when_broker_unreachable_and_spool_disabled,
        error_shutting_down_for_pending_publish_on_sigterm_without_spool,
    ])
