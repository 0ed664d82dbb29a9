#!/usr/bin/python3
"""A contract given as schema = "path.json": a JSON Schema as Pydantic v2's
model_json_schema() prints it. warrend -t accepts the schemas Pydantic
emits (tests/data/pydantic), a running warrend enforces exactly what they
say, and a keyword warren cannot enforce is a config error naming it and
the file, never dropped."""

import json
import os
import shutil
import subprocess
import tempfile

from warrentest import (TOP_SRCDIR, WARREND, Daemon, conf_text, expect,
                        expect_eq, expect_error, expect_ok, fail, run, short)

FIXTURES = os.path.join(TOP_SRCDIR, "tests", "data", "pydantic")


def fixture(name):
    return os.path.join(FIXTURES, name + ".json")


# The fixtures whose schemas hold no routing key get one from the group.
RESOURCE = {"routing_key": "resource.accessed",
            "schema": fixture("resource_accessed_event")}
SHIPMENT = {"schema": fixture("shipment_created_event")}
TICKET = {"routing_key": "ticket.opened", "schema": fixture("ticket_opened_event")}
ORDER = {"routing_key": "order.placed", "schema": fixture("order_placed_event")}
GOOD = [RESOURCE, SHIPMENT, TICKET, ORDER]

RESOURCE_DATA = {"resource_id": "r-1", "resource_name": "link 1",
                 "accessed_at": "2024-05-01T12:00:00Z"}
SHIPMENT_DATA = {"sku": "ABC-1234", "quantity": 1, "weight_kg": 0.5, "priority": 1}
TICKET_DATA = {"ticket_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "channel": "chat"}
ORDER_DATA = {"order_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
              "placed_on": "2024-05-01",
              "shipping_address": {"street": "1 Main St", "city": "Springfield"},
              "items": [{"sku": "A", "quantity": 1}]}


class Case:
    """A config (and any extra files) in a fresh temp dir."""

    def __init__(self, contracts, files=None, text=None):
        self.dir = tempfile.mkdtemp(prefix="warren-schema-import.")
        for name, body in (files or {}).items():
            path = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(body)
        self.path = os.path.join(self.dir, "warrend.conf")
        with open(self.path, "w") as f:
            f.write(text or conf_text({"service": "schema-import",
                                       "contracts": contracts}))

    def line_of(self, needle):
        with open(self.path) as f:
            for n, line in enumerate(f, 1):
                if needle in line:
                    return n
        fail("%r is not in %s" % (needle, self.path))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def configtest(path, cwd=None):
    if not os.access(WARREND, os.X_OK):
        fail("warrend not found or not executable at %s" % WARREND)
    p = subprocess.run([WARREND, "-t", "-c", path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       cwd=cwd)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def expect_good(path, cwd=None):
    rc, out, err = configtest(path, cwd)
    if rc != 0 or out.strip() != "configuration OK":
        fail("warrend -t -c %s: expected exit 0 and \"configuration OK\", got exit %d, "
             "stdout %s, stderr %s" % (path, rc, short(out), short(err)))


def expect_broken(path, where, *words):
    """Exit 1; stderr names where and each of words."""
    rc, out, err = configtest(path)
    if rc != 1 or "configuration OK" in out:
        fail("warrend -t: expected exit 1 naming %s, got exit %d, stdout %s, stderr %s"
             % (where, rc, short(out), short(err)))
    for w in (where,) + words:
        if w not in err:
            fail("warrend -t: expected stderr to mention %r, got %s" % (w, short(err)))


# ------------------------------------------------------------ warrend -t


def configtest_each_pydantic_fixture_accepted():
    for contract in GOOD:
        with Case([contract]) as c:
            expect_good(c.path)
    with Case(GOOD) as c:
        expect_good(c.path)


def configtest_relative_schema_path_from_config_dir():
    with open(fixture("resource_accessed_event")) as f:
        text = f.read()
    with Case([{"routing_key": "resource.accessed", "schema": "schemas/ra.json"}],
              files={"schemas/ra.json": text}) as c:
        expect_good(c.path, cwd="/")


def configtest_unsupported_keyword_named_with_file():
    path = fixture("payment_captured_event_multiple_of")
    with Case([{"routing_key": "payment.captured", "schema": path}]) as c:
        expect_broken(c.path, "%s:%d:" % (c.path, c.line_of("schema =")), path,
                      "amount_cents", "multipleOf")


def configtest_email_format_refused():
    schema = {"properties": {"email": {"format": "email", "title": "Email",
                                       "type": "string"}},
              "required": ["email"], "title": "UserSignedUpEvent", "type": "object"}
    with Case([{"routing_key": "user.signed_up", "schema": "s.json"}],
              files={"s.json": json.dumps(schema, indent=2)}) as c:
        expect_broken(c.path, "%s:%d:" % (c.path, c.line_of("schema =")),
                      os.path.join(c.dir, "s.json"), "email", "format")


def configtest_exclusive_bound_on_number_refused():
    schema = {"properties": {"amount": {"exclusiveMinimum": 0.0, "title": "Amount",
                                        "type": "number"}},
              "required": ["amount"], "title": "PaidEvent", "type": "object"}
    with Case([{"routing_key": "pay.paid", "schema": "s.json"}],
              files={"s.json": json.dumps(schema)}) as c:
        expect_broken(c.path, "%s:%d:" % (c.path, c.line_of("schema =")),
                      "amount", "exclusiveMinimum")


def configtest_schema_and_fields_refused():
    with Case([dict(RESOURCE, fields=[{"name": "x", "type": "string"}])]) as c:
        expect_broken(c.path, "%s:%d:" % (c.path, c.line_of("schema =")),
                      "schema", "fields")


def configtest_missing_schema_file_named():
    with Case([{"routing_key": "a.b", "schema": "no-such.json"}]) as c:
        expect_broken(c.path, "%s:%d:" % (c.path, c.line_of("schema =")),
                      os.path.join(c.dir, "no-such.json"), "No such file")


def configtest_invalid_json_named_with_line():
    with Case([{"routing_key": "a.b", "schema": "bad.json"}],
              files={"bad.json": '{"title": "X",\n "type": "object",\n}'}) as c:
        expect_broken(c.path, "%s:%d:" % (c.path, c.line_of("schema =")),
                      os.path.join(c.dir, "bad.json"), "line 3", "JSON")


def configtest_routing_key_required_from_group_or_schema():
    with Case([{"schema": fixture("resource_accessed_event")}]) as c:
        expect_broken(c.path, "%s:" % c.path, "ResourceAccessedEvent", "routing_key")


def configtest_group_error_names_its_own_line():
    text = ('service = "s";\ncontracts = ( {\n  schema = "%s";\n'
            '  routing_key = "not a key";\n} );\n' % fixture("resource_accessed_event"))
    with Case(None, text=text) as c:
        expect_broken(c.path, "%s:4:" % c.path, "routing_key")


# ------------------------------------------------------ warrend enforces it


def contracts_op_shows_exactly_the_schema():
    group = {"name": "LinkOpenedEvent", "routing_key": "link.opened",
             "description": "From the group.", "consumers": ["stats"],
             "schema": fixture("shipment_created_event")}
    with Daemon("schema_contracts", contracts=[RESOURCE, group],
                wait_connected=False) as d:
        with d.client() as c:
            r = expect_ok(c.request({"op": "contracts"}), op="contracts")
    got = {x["name"]: x for x in r["contracts"]}
    expect_eq("ResourceAccessedEvent", {
        "name": "ResourceAccessedEvent", "routing_key": "resource.accessed",
        "consumers": [], "additional_fields": True,
        "fields": [
            {"name": "resource_id", "type": "string", "optional": False},
            {"name": "resource_name", "type": "string", "optional": False},
            {"name": "accessed_at", "type": "datetime", "optional": False},
            {"name": "user_agent", "type": "string", "optional": True}]},
        got.get("ResourceAccessedEvent"))
    link = got.get("LinkOpenedEvent") or fail("no LinkOpenedEvent in %s" % short(r))
    expect_eq("the group's keys over the schema's",
              ("link.opened", "From the group.", ["stats"], False),
              (link["routing_key"], link["description"], link["consumers"],
               link["additional_fields"]))
    expect_eq("priority (exclusive bounds 0 and 10 on an integer)",
              {"name": "priority", "type": "integer", "optional": False,
               "minimum": 1, "maximum": 9}, link["fields"][3])


def publish_cases(d, cases):
    """cases: (event, data, field or None for ok)."""
    with d.client() as c:
        for n, (event, data, field) in enumerate(cases):
            req = {"op": "publish", "id": n, "event": event, "data": data}
            r = c.request(req)
            if field is None:
                expect_ok(r, op="publish", req=req)
            else:
                expect_error(r, "validation", op="publish", id=n, field=field, req=req)
    d.assert_serving()


def publish_seed_schema_enforced():
    with Daemon("schema_seed", contracts=[RESOURCE]) as d:
        e = "ResourceAccessedEvent"
        publish_cases(d, [
            (e, RESOURCE_DATA, None),
            (e, dict(RESOURCE_DATA, user_agent=None), None),
            (e, dict(RESOURCE_DATA, user_agent="curl/8"), None),
            (e, dict(RESOURCE_DATA, accessed_at="2024-05-01T12:00:00"), "accessed_at"),
            (e, dict(RESOURCE_DATA, resource_id=7), "resource_id"),
            (e, {k: v for k, v in RESOURCE_DATA.items() if k != "resource_name"},
             "resource_name"),
        ])


def publish_field_constraints_enforced():
    with Daemon("schema_constraints", contracts=[SHIPMENT]) as d:
        e = "ShipmentCreatedEvent"
        publish_cases(d, [
            (e, SHIPMENT_DATA, None),
            (e, dict(SHIPMENT_DATA, sku="ABC-12345678", quantity=100, weight_kg=30.0,
                     priority=9), None),
            (e, dict(SHIPMENT_DATA, sku="ABC-1"), "sku"),              # minLength 6
            (e, dict(SHIPMENT_DATA, sku="ABC-1234567890"), "sku"),     # maxLength 12
            (e, dict(SHIPMENT_DATA, sku="abc-1234"), "sku"),           # pattern
            (e, dict(SHIPMENT_DATA, quantity=0), "quantity"),          # minimum 1
            (e, dict(SHIPMENT_DATA, quantity=101), "quantity"),        # maximum 100
            (e, dict(SHIPMENT_DATA, quantity=1.5), "quantity"),        # integer
            (e, dict(SHIPMENT_DATA, weight_kg=0.49), "weight_kg"),     # minimum 0.5
            (e, dict(SHIPMENT_DATA, weight_kg=30.01), "weight_kg"),    # maximum 30.0
            (e, dict(SHIPMENT_DATA, priority=0), "priority"),          # exclusiveMinimum 0
            (e, dict(SHIPMENT_DATA, priority=10), "priority"),         # exclusiveMaximum 10
            (e, dict(SHIPMENT_DATA, colour="red"), "colour"),          # additionalProperties
        ])


def publish_enum_literal_uuid_enforced():
    with Daemon("schema_enum", contracts=[TICKET]) as d:
        e = "TicketOpenedEvent"
        publish_cases(d, [
            (e, TICKET_DATA, None),
            (e, dict(TICKET_DATA, priority="high", source="web"), None),
            (e, dict(TICKET_DATA, channel="fax"), "channel"),          # Literal
            (e, dict(TICKET_DATA, priority="urgent"), "priority"),     # Enum via $ref
            (e, dict(TICKET_DATA, source="app"), "source"),            # const
            (e, dict(TICKET_DATA, ticket_id="not-a-uuid"), "ticket_id"),
        ])


def publish_nested_models_and_lists_enforced():
    addr = ORDER_DATA["shipping_address"]
    items = ORDER_DATA["items"]
    with Daemon("schema_nested", contracts=[ORDER]) as d:
        e = "OrderPlacedEvent"
        publish_cases(d, [
            (e, ORDER_DATA, None),
            (e, dict(ORDER_DATA, billing_address=None, items=items * 3), None),
            (e, dict(ORDER_DATA, billing_address=dict(addr, postcode="12345")), None),
            (e, dict(ORDER_DATA, placed_on="2024-02-30"), "placed_on"),
            (e, dict(ORDER_DATA, placed_on="2024-05-01T12:00:00Z"), "placed_on"),
            (e, dict(ORDER_DATA, shipping_address={"street": "1 Main St"}),
             "shipping_address.city"),
            (e, dict(ORDER_DATA, billing_address={"city": "X"}), "billing_address.street"),
            (e, dict(ORDER_DATA, items=[]), "items"),                  # minItems 1
            (e, dict(ORDER_DATA, items=items * 4), "items"),           # maxItems 3
            (e, dict(ORDER_DATA, items=items + [{"sku": "", "quantity": 1}]),
             "items[1].sku"),
            (e, dict(ORDER_DATA, items=items + [{"sku": "B", "quantity": 0}]),
             "items[1].quantity"),
        ])


if __name__ == "__main__":
    run([
        configtest_each_pydantic_fixture_accepted,
        configtest_relative_schema_path_from_config_dir,
        configtest_unsupported_keyword_named_with_file,
        configtest_email_format_refused,
        configtest_exclusive_bound_on_number_refused,
        configtest_schema_and_fields_refused,
        configtest_missing_schema_file_named,
        configtest_invalid_json_named_with_line,
        configtest_routing_key_required_from_group_or_schema,
        configtest_group_error_names_its_own_line,
        contracts_op_shows_exactly_the_schema,
        publish_seed_schema_enforced,
        publish_field_constraints_enforced,
        publish_enum_literal_uuid_enforced,
        publish_nested_models_and_lists_enforced,
    ])
