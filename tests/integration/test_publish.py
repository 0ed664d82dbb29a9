#!/usr/bin/python3
"""Publishing: what a valid event turns into on RabbitMQ, and the replies of
publish, ping, contracts and stats."""

import json
import time

from warrentest import (BROKER_ADDR, BROKER_URL, UNREACHABLE_URL, Broker, Daemon, RESOURCE_ACCESSED, expect,
                        expect_eq, expect_error, expect_ok, fail, order_data,
                        parse_rfc3339, publish_req, resource_data, rfc3339_utc,
                        run, short, unique, wait_for)

SERVICE = "link-service"
CLOCK_SLACK = 300  # seconds: "close to now" only guards against garbage


def bound_daemon(b, name, routing_key="resource.accessed", **kw):
    """A daemon and a queue bound to its exchange with routing_key."""
    kw.setdefault("service", SERVICE)
    d = Daemon(name, **kw)
    d.__enter__()
    q = unique(name)
    try:
        b.bind_queue(q, d.exchange, routing_key)
    except BaseException:
        d.__exit__(None, None, None)
        raise
    return d, q


class Bound:
    """with Bound(b, name) as (d, q): a started daemon with a bound queue."""

    def __init__(self, b, name, routing_key="resource.accessed", **kw):
        self.args = (b, name, routing_key)
        self.kw = kw

    def __enter__(self):
        self.d, self.q = bound_daemon(*self.args, **self.kw)
        return self.d, self.q

    def __exit__(self, *exc):
        return self.d.__exit__(*exc)


def publish_body_reaches_queue_byte_for_byte():
    data_raw = ('{ "sensor" : "th\\u00e9rmo-1" ,\t"value":9007199254740993,'
                '"ratio": 1.50e2 , "label":"\u6e29\u5ea6 \u2603 \U0001F600",  '
                '"at":"2024-05-01T12:00:00.123+02:00"  }')
    line = ('{"op" : "publish",  "id" : 7 , "event":"MeasurementTakenEvent", '
            '"data" :  ' + data_raw + '  }\n').encode("utf-8")
    with Broker() as b, Bound(b, "body_bytes", "measurement.taken") as (d, q):
        with d.client() as c:
            c.send(line)
            r = c.read()
        expect_ok(r, "publish", req=line, id=7)
        m = b.get_one(q)
        if m.body != data_raw.encode("utf-8"):
            fail("message body: expected exactly the data bytes %s, got %s"
                 % (short(data_raw.encode("utf-8")), short(m.body)))
        d.assert_serving()


def publish_sets_every_amqp_property():
    with Broker() as b, Bound(b, "properties") as (d, q):
        req = publish_req(id=1)
        before = time.time()
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req)
        after = time.time()
        mid = r.get("message_id")
        expect(isinstance(mid, str) and mid, "a non-empty string message_id in the reply",
               json.dumps(r))
        m = b.get_one(q)
        p = m.props
        expect_eq("delivery_mode", 2, p.delivery_mode)
        expect_eq("content_type", "application/json", p.content_type)
        expect_eq("message_id property (the reply's)", mid, p.message_id)
        expect_eq("type", "ResourceAccessedEvent", p.type)
        expect_eq("app_id", SERVICE, p.app_id)
        expect(isinstance(p.timestamp, int)
               and before - CLOCK_SLACK <= p.timestamp <= after + CLOCK_SLACK,
               "a timestamp close to now (%d)" % int(before), p.timestamp)
        expect_eq("exchange", d.exchange, m.method.exchange)
        expect_eq("routing key", "resource.accessed", m.method.routing_key)


def publish_sets_cloudevents_headers():
    with Broker() as b, Bound(b, "cloudevents") as (d, q):
        req = publish_req(id=2)
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req)
        now = time.time()
        m = b.get_one(q)
        expect(isinstance(m.props.headers, dict), "AMQP headers", m.props.headers)
        expect_eq("header cloudEvents:specversion", "1.0", m.header("cloudEvents:specversion"))
        expect_eq("header cloudEvents:id", r.get("message_id"), m.header("cloudEvents:id"))
        expect_eq("header cloudEvents:source", SERVICE, m.header("cloudEvents:source"))
        expect_eq("header cloudEvents:type", "ResourceAccessedEvent",
                  m.header("cloudEvents:type"))
        t = m.header("cloudEvents:time")
        expect(rfc3339_utc(t), "cloudEvents:time as an RFC 3339 UTC date-time "
               "(YYYY-MM-DDTHH:MM:SS[.frac]Z)", t)
        expect(abs(parse_rfc3339(t) - now) < CLOCK_SLACK, "cloudEvents:time close to now", t)


def publish_message_ids_are_unique():
    with Broker() as b, Bound(b, "unique_ids") as (d, q):
        ids = []
        with d.client() as c:
            for i in range(20):
                req = publish_req(data=resource_data(i), id=i)
                ids.append(expect_ok(c.request(req), "publish", req=req)["message_id"])
        expect(len(set(ids)) == 20, "20 distinct message_ids", ids)
        b.wait_count(q, 20)
        got = [m.props.message_id for m in b.get_all(q)]
        expect_eq("message_ids in the queue", sorted(ids), sorted(got))


def publish_client_message_id_used_as_is():
    with Broker() as b, Bound(b, "client_mid") as (d, q):
        mid = "client-chosen-\u00e9-42"
        req = publish_req(id=3, message_id=mid)
        with d.client() as c:
            expect_ok(c.request(req), "publish", req=req, message_id=mid)
        m = b.get_one(q)
        expect_eq("message_id property", mid, m.props.message_id)
        expect_eq("header cloudEvents:id", mid, m.header("cloudEvents:id"))


def publish_reply_has_routing_key_and_echoed_id():
    with Broker() as b, Bound(b, "reply_members", "order.placed.v2") as (d, q):
        req = publish_req("OrderPlacedEvent", order_data(), id=11)
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req,
                          routing_key="order.placed.v2", id=11)
        expect("routed" not in r, "no \"routed\" member in the reply of a routed event",
               json.dumps(r))
        expect("spooled" not in r, "no \"spooled\" member when the broker confirmed it",
               json.dumps(r))
        m = b.get_one(q)
        expect_eq("body", order_data(), json.loads(m.body))


def publish_echoes_id_of_any_json_type():
    ids = [0, 12345, -3, 2.5, "req-1", "", {"k": [1, "two", None]}, [1, 2],
           9007199254740993, 123456789012345678901234567890, True]
    with Broker() as b, Bound(b, "echo_ids") as (d, q):
        with d.client() as c:
            for i in ids:
                req = publish_req(id=i)
                c.send(req)
                raw = c.readline()
                expect(raw is not None, "a reply", "EOF")
                r = json.loads(raw)
                expect_ok(r, "publish", req=req)
                if "id" not in r or r["id"] != i or type(r["id"]) is not type(i):
                    fail("id %s: expected it echoed exactly, got reply %s"
                         % (json.dumps(i), short(raw)))
                if isinstance(i, int) and not isinstance(i, bool) and abs(i) > 2**53:
                    expect(b'"id":%d' % i in raw.replace(b" ", b""),
                           "the big integer id's digits echoed as sent", raw)
            for i in ids:
                req = {"op": "ping", "id": i}
                r = c.request(req)
                expect_ok(r, "ping", req=req)
                if r.get("id") != i or type(r.get("id")) is not type(i):
                    fail("ping id %s: expected it echoed exactly, got %s"
                         % (json.dumps(i), json.dumps(r)))


def publish_without_id_has_no_id_in_reply():
    with Broker() as b, Bound(b, "no_id") as (d, q):
        req = publish_req()
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req)
        expect("id" not in r, "no \"id\" member when the request had none", json.dumps(r))


def publish_request_without_op_is_a_publish():
    with Broker() as b, Bound(b, "no_op") as (d, q):
        req = {"id": "x", "event": "ResourceAccessedEvent", "data": resource_data(5)}
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req, id="x")
        m = b.get_one(q)
        expect_eq("message_id", r.get("message_id"), m.props.message_id)
        expect_eq("body", resource_data(5), json.loads(m.body))


def publish_optional_field_absent_or_null_accepted():
    with Broker() as b, Bound(b, "optional") as (d, q):
        with d.client() as c:
            for ua in ("absent", None, "curl/8.0"):
                data = resource_data()
                if ua != "absent":
                    data["user_agent"] = ua
                req = publish_req(data=data, id=str(ua))
                expect_ok(c.request(req), "publish", req=req)
        b.wait_count(q, 3)


def publish_every_field_type_accepted():
    contract = {
        "name": "EverythingHappenedEvent", "routing_key": "everything.happened.v1",
        "fields": [
            {"name": "s", "type": "string", "min_length": 2, "max_length": 3,
             "pattern": "[a-z\u00e9]+"},
            {"name": "i", "type": "integer", "minimum": -5, "maximum": 5},
            {"name": "n", "type": "number", "minimum": 0.5, "maximum": 1e10},
            {"name": "b", "type": "boolean"},
            {"name": "dt", "type": "datetime"},
            {"name": "d", "type": "date"},
            {"name": "u", "type": "uuid"},
            {"name": "e", "type": "enum", "values": ["a", "b"]},
            {"name": "o", "type": "object", "fields": [
                {"name": "x", "type": "integer"}, {"name": "y", "type": "string", "optional": True}]},
            {"name": "a", "type": "array", "min_items": 0, "max_items": 3,
             "items": {"type": "string"}},
            {"name": "extra_ok", "type": "object", "additional_fields": True,
             "fields": [{"name": "k", "type": "integer"}]},
        ]}
    data = {"s": "\u00e9t\u00e9", "i": -5, "n": 1e10, "b": False,
            "dt": "2024-02-29T23:59:59.999999-07:30", "d": "2024-02-29",
            "u": "00000000-0000-0000-0000-000000000000", "e": "b",
            "o": {"x": 3, "y": None}, "a": [], "extra_ok": {"k": 1, "anything": [1, {"z": 2}]}}
    with Broker() as b, Bound(b, "all_types", "everything.happened.v1",
                              contracts=[contract]) as (d, q):
        req = publish_req("EverythingHappenedEvent", data, id=1)
        with d.client() as c:
            expect_ok(c.request(req), "publish", req=req)
            data2 = dict(data, i=5, n=0.5, b=True, dt="2024-01-01T00:00:00Z", s="ab",
                         a=["x", "y", "z"], e="a", u="3f2504e0-4f89-41d3-9a0c-0305e82c3301")
            req = publish_req("EverythingHappenedEvent", data2, id=2)
            expect_ok(c.request(req), "publish", req=req)
        b.wait_count(q, 2)


def publish_allowed_user_or_group_may_publish():
    base = dict(RESOURCE_ACCESSED)
    contracts = [
        dict(base, name="ByNameEvent", routing_key="by.name", allow_users=["root"]),
        dict(base, name="ByUidEvent", routing_key="by.uid", allow_users=["nobody", "0"]),
        dict(base, name="ByGroupEvent", routing_key="by.group", allow_groups=["root"]),
        dict(base, name="ByEitherEvent", routing_key="by.either",
             allow_users=["nobody"], allow_groups=["0"]),
    ]
    with Broker() as b, Bound(b, "allowed", "by.*", contracts=contracts) as (d, q):
        with d.client() as c:
            for ct in contracts:
                req = publish_req(ct["name"], id=ct["name"])
                expect_ok(c.request(req), "publish", req=req)
        b.wait_count(q, 4)


def publish_unroutable_warn_answered_ok_routed_false():
    with Broker() as b, Daemon("unroutable_warn", broker_opts={"unroutable": "warn"}) as d:
        b.declare_exchange(d.exchange)   # no queue bound
        req = publish_req(id=4)
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req, id=4, routed=False)
        expect(isinstance(r.get("message_id"), str), "a message_id", json.dumps(r))
        d.assert_serving()


def publish_unroutable_error_answered_unroutable():
    with Broker() as b, Daemon("unroutable_error", broker_opts={"unroutable": "error"}) as d:
        b.declare_exchange(d.exchange)
        req = publish_req(id=5)
        with d.client() as c:
            expect_error(c.request(req), "unroutable", op="publish", id=5, req=req)
            # The next, routed one is fine on the same connection.
            q = unique("unroutable_error")
            b.bind_queue(q, d.exchange, "resource.accessed")
            req = publish_req(id=6)
            r = expect_ok(c.request(req), "publish", req=req, id=6)
            expect("routed" not in r, "no \"routed\" member once routed", json.dumps(r))
        d.assert_serving()


def publish_pipelined_routed_and_unroutable_flagged_each():
    """With several in flight, each broker return is matched to its own
    event: only the unroutable ones carry "routed":false."""
    with Broker() as b, Bound(b, "mixed_routing", broker_opts={"unroutable": "warn"}) as (d, q):
        reqs = []
        for i in range(100):
            if i % 3 == 0:
                reqs.append(publish_req("OrderPlacedEvent", order_data(), id=i))   # unbound
            else:
                reqs.append(publish_req(data=resource_data(i), id=i))
        with d.client() as c:
            c.send(b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
            routed = []
            for i, req in enumerate(reqs):
                r = expect_ok(c.read(), "publish", req=req, id=i)
                if req["event"] == "OrderPlacedEvent":
                    expect(r.get("routed") is False, "\"routed\":false for unroutable event %d" % i,
                           json.dumps(r))
                else:
                    expect("routed" not in r, "no \"routed\" member for routed event %d" % i,
                           json.dumps(r))
                    routed.append(r["message_id"])
        b.wait_count(q, len(routed))
        got = sorted(m.props.message_id for m in b.get_all(q))
        expect_eq("message_ids in the queue", sorted(routed), got)


def publish_integral_numbers_accepted_as_integer():
    with Broker() as b, Bound(b, "integral", "measurement.taken") as (d, q):
        raws = [b"1.0", b"1e2", b"-0", b"2.50E1", b"-9223372036854775808", b"123456789012345678901234567890"]
        with d.client() as c:
            for i, raw in enumerate(raws):
                data = (b'{"sensor":"s","value":' + raw + b',"ratio":1,"label":"l",'
                        b'"at":"2024-05-01T12:00:00Z"}')
                line = b'{"op":"publish","id":%d,"event":"MeasurementTakenEvent","data":%s}\n' % (i, data)
                c.send(line)
                expect_ok(c.read(), "publish", req=line, id=i)
                m = b.get_one(q)
                expect_eq("body for value %s" % raw.decode(), data, m.body)


def publish_string_length_counted_in_characters():
    with Broker() as b, Bound(b, "char_length") as (d, q):
        with d.client() as c:
            for s in ("\u00e9" * 64, "\U0001F600" * 64, "x" * 64, "\u6e29" * 64):
                req = publish_req(data=dict(resource_data(), resource_id=s), id=len(s.encode()))
                expect_ok(c.request(req), "publish", req=req)
        b.wait_count(q, 4)


def ping_answered_ok():
    with Daemon("ping", wait_connected=False) as d:
        with d.client() as c:
            r = c.request({"op": "ping"})
            expect_eq("ping reply", {"op": "ping", "ok": True}, r)
            r = c.request({"op": "ping", "id": "p1"})
            expect_eq("ping reply with id", {"op": "ping", "ok": True, "id": "p1"}, r)


def contracts_lists_every_contract_with_fields():
    with Daemon("contracts", wait_connected=False) as d:
        with d.client() as c:
            r = expect_ok(c.request({"op": "contracts", "id": 9}), "contracts", id=9)
        cs = r.get("contracts")
        expect(isinstance(cs, list), "a \"contracts\" array", json.dumps(r))
        by = {}
        for ct in cs:
            expect(isinstance(ct, dict) and isinstance(ct.get("name"), str),
                   "contract objects with a name", ct)
            by[ct["name"]] = ct
        expect_eq("contract names", sorted(["ResourceAccessedEvent", "OrderPlacedEvent",
                                            "MeasurementTakenEvent"]), sorted(by))
        ra = by["ResourceAccessedEvent"]
        expect_eq("ResourceAccessedEvent routing_key", "resource.accessed", ra.get("routing_key"))
        expect_eq("OrderPlacedEvent routing_key", "order.placed.v2",
                  by["OrderPlacedEvent"].get("routing_key"))
        fields = ra.get("fields")
        expect(isinstance(fields, list) and all(isinstance(f, dict) for f in fields),
               "a fields array of objects", fields)
        expect_eq("ResourceAccessedEvent field names",
                  ["resource_id", "resource_name", "accessed_at", "user_agent"],
                  [f.get("name") for f in fields])
        expect_eq("ResourceAccessedEvent field types",
                  ["string", "string", "datetime", "string"], [f.get("type") for f in fields])
        items = [f for f in by["OrderPlacedEvent"].get("fields", []) if f.get("name") == "items"]
        expect(len(items) == 1 and items[0].get("type") == "array",
               "OrderPlacedEvent's items field of type array", by["OrderPlacedEvent"])


def stats_reports_clients_accepted_confirmed_and_broker():
    def ints(st):
        for k in ("clients", "accepted", "confirmed"):
            expect(type(st.get(k)) is int, "stats.%s an integer" % k, json.dumps(st))
        expect(isinstance(st.get("broker"), dict)
               and type(st["broker"].get("connected")) is bool,
               "stats.broker.connected a boolean", json.dumps(st))

    with Broker() as b, Bound(b, "stats") as (d, q):
        with d.client() as c1, d.client() as c2, d.client() as c:
            c1.ping()
            c2.ping()
            r = expect_ok(c.request({"op": "stats", "id": 1}), "stats", id=1)
            st = r.get("stats")
            expect(isinstance(st, dict), "a \"stats\" object", json.dumps(r))
            ints(st)
            expect(st["clients"] >= 3, "stats.clients >= 3 with 3 clients connected",
                   json.dumps(st))
            expect_eq("stats.broker.connected", True, st["broker"]["connected"])
            for i in range(3):
                req = publish_req(id=i)
                expect_ok(c.request(req), "publish", req=req)

            def moved():
                st2 = expect_ok(c.request({"op": "stats"}), "stats")["stats"]
                ints(st2)
                return (st2["accepted"] >= st["accepted"] + 3
                        and st2["confirmed"] >= st["confirmed"] + 3) and st2
            wait_for(moved, "stats.accepted and stats.confirmed to grow by the 3 publishes")


def publish_fails_over_to_the_next_broker_url():
    """The first URL refuses connections; warrend moves on to the second
    and publishes there with no error reply."""
    with Broker() as b, Bound(b, "failover", urls=[UNREACHABLE_URL, BROKER_URL],
                              broker_opts={"reconnect_min_ms": 50,
                                           "reconnect_max_ms": 200}) as (d, q):
        d.wait_broker(True, strict=True)
        req = publish_req(id=1)
        with d.client() as c:
            r = expect_ok(c.request(req), "publish", req=req, id=1)
        m = b.get_one(q)
        expect_eq("message_id", r["message_id"], m.props.message_id)
        st = d.stats()["stats"]["broker"]
        expect_eq("broker address in stats", BROKER_ADDR, st["address"])


if __name__ == "__main__":
    run([
        publish_body_reaches_queue_byte_for_byte,
        publish_fails_over_to_the_next_broker_url,
        publish_sets_every_amqp_property,
        publish_sets_cloudevents_headers,
        publish_message_ids_are_unique,
        publish_client_message_id_used_as_is,
        publish_reply_has_routing_key_and_echoed_id,
        publish_echoes_id_of_any_json_type,
        publish_without_id_has_no_id_in_reply,
        publish_request_without_op_is_a_publish,
        publish_optional_field_absent_or_null_accepted,
        publish_every_field_type_accepted,
        publish_allowed_user_or_group_may_publish,
        publish_unroutable_warn_answered_ok_routed_false,
        publish_unroutable_error_answered_unroutable,
        publish_pipelined_routed_and_unroutable_flagged_each,
        publish_integral_numbers_accepted_as_integer,
        publish_string_length_counted_in_characters,
        ping_answered_ok,
        contracts_lists_every_contract_with_fields,
        stats_reports_clients_accepted_confirmed_and_broker,
    ])
