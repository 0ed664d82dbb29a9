#!/usr/bin/python3
"""Versioned migration (replaces): publishing the newer event also publishes
its projection onto the contract it replaces, as the seed's "publish both
versions during migration", and -t refuses a projection that could break
the older contract."""

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime

from warrentest import (RESOURCE_ACCESSED, WARREND, Broker, Daemon, expect,
                        expect_eq, expect_error, expect_ok, publish_req, run,
                        unique)

V2 = {
    "name": "ResourceAccessedEventV2",
    "routing_key": "resource.accessed.v2",
    "replaces": "ResourceAccessedEvent",
    "description": "A short link was opened (with its owner).",
    "publisher": "link-service",
    "consumers": ["analytics-service"],
    "fields": [
        {"name": "resource_id", "type": "string", "min_length": 1, "max_length": 64},
        {"name": "resource_name", "type": "string", "max_length": 512},
        {"name": "owner_id", "type": "string", "max_length": 64},
        {"name": "accessed_at", "type": "datetime"},
    ],
}


@dataclass(frozen=True)
class ResourceAccessedEvent:
    """The seed's V1 model, as a V1 consumer defines it."""
    resource_id: str
    resource_name: str
    accessed_at: datetime
    user_agent: str = None


def v1_consumer_parse(body):
    """The seed's consumer pattern: event_type(**json.loads(body))."""
    d = json.loads(body)
    d["accessed_at"] = datetime.fromisoformat(d["accessed_at"].replace("Z", "+00:00"))
    return ResourceAccessedEvent(**d)


def dual_publish_reaches_both_routing_keys_with_one_message_id():
    with Broker() as b, Daemon("migrate", contracts=[RESOURCE_ACCESSED, V2]) as d:
        q1, q2 = unique("migrate-v1"), unique("migrate-v2")
        b.bind_queue(q1, d.exchange, "resource.accessed")
        b.bind_queue(q2, d.exchange, "resource.accessed.v2")
        raw = ('{"resource_id": "r-7", "owner_id":"u-1",  "resource_name":'
               '"link", "accessed_at":"2024-05-01T12:00:00Z"}')
        with d.client() as c:
            c.send(('{"op":"publish","id":1,"event":"ResourceAccessedEventV2",'
                    '"data":' + raw + '}\n').encode())
            r = expect_ok(c.read(), "publish", id=1,
                          routing_key="resource.accessed.v2")
        m2, m1 = b.get_one(q2), b.get_one(q1)
        expect_eq("V2 body", raw.encode(), m2.body)
        expect_eq("V2 message_id", r["message_id"], m2.props.message_id)
        expect_eq("V1 message_id", r["message_id"], m1.props.message_id)
        expect_eq("V1 type", "ResourceAccessedEvent", m1.props.type)
        expect_eq("V1 body (V1's fields, bytes as sent)",
                  b'{"resource_id": "r-7","resource_name":"link",'
                  b'"accessed_at":"2024-05-01T12:00:00Z"}', m1.body)
        ev = v1_consumer_parse(m1.body)
        expect_eq("V1 consumer's resource_id", "r-7", ev.resource_id)


def v1_publish_alone_is_not_projected():
    with Broker() as b, Daemon("migrate_v1", contracts=[RESOURCE_ACCESSED, V2]) as d:
        q2 = unique("migrate-only-v2")
        b.bind_queue(q2, d.exchange, "resource.accessed.v2")
        with d.client() as c:
            expect_ok(c.request(publish_req(id=1)), "publish")
            expect_ok(c.request({"op": "ping"}), "ping")
        expect_eq("messages on the V2 key after a V1 publish", 0, b.count(q2))


def dual_publish_spooled_when_broker_unreachable():
    with Daemon("migrate_spool", contracts=[RESOURCE_ACCESSED, V2],
                urls=["amqp://guest:guest@127.0.0.1:1/%2f"]) as d:
        data = dict(owner_id="u-2", **{k: v for k, v in
                                       [("resource_id", "r-8"),
                                        ("resource_name", "x"),
                                        ("accessed_at", "2024-05-01T12:00:00Z")]})
        with d.client() as c:
            r = c.request(publish_req("ResourceAccessedEventV2", data, id=2))
        expect_ok(r, "publish", id=2, spooled=True)
        expect_eq("spooled records (both versions)", 2,
                  d.stats()["stats"]["spool"]["records"])


def configtest(name, contracts):
    """(exit status, stderr) of warrend -t on a config with contracts."""
    d = Daemon(name, contracts=contracts)
    try:
        p = subprocess.run([WARREND, "-t", "-c", d.conf_path],
                           capture_output=True, text=True, timeout=30)
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)
    return p.returncode, p.stderr


def configtest_refuses_projection_that_breaks_the_old_contract():
    bad = json.loads(json.dumps(V2))
    bad["fields"][0]["max_length"] = 65   # looser than V1's 64
    rc, err = configtest("migrate_bad", [RESOURCE_ACCESSED, bad])
    expect_eq("exit status of -t", 1, rc)
    expect("resource_id" in err and "max_length" in err and
           "ResourceAccessedEvent" in err,
           "an error naming the field, the bound and the old contract",
           err.strip())


def configtest_refuses_replaces_of_unknown_contract():
    rc, err = configtest("migrate_unknown",
                         [RESOURCE_ACCESSED, dict(V2, replaces="NoSuchEvent")])
    expect_eq("exit status of -t", 1, rc)
    expect("NoSuchEvent" in err and "no such contract" in err,
           "an error naming the missing contract", err.strip())


if __name__ == "__main__":
    run([
        dual_publish_reaches_both_routing_keys_with_one_message_id,
        v1_publish_alone_is_not_projected,
        dual_publish_spooled_when_broker_unreachable,
        configtest_refuses_projection_that_breaks_the_old_contract,
        configtest_refuses_replaces_of_unknown_contract,
    ])
