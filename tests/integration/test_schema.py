#!/usr/bin/python3
"""warren contracts --json-schema NAME prints a contract as the JSON Schema
Pydantic v2's model_json_schema() gives the same model, and warren asyncapi
prints an AsyncAPI 3.0 document that a real AsyncAPI parser accepts. Both
read the config file; neither needs warrend.

The validators come from npm: @asyncapi/parser at the version pinned in
tests/integration/asyncapi/package.json (and the Ajv it brings, for the JSON
Schemas), installed by script/bootstrap into $WARREN_ASYNCAPI_DIR, by default
/var/cache/warren-tests/asyncapi, or by this test when it is missing. Without
node and npm the tests fail: they do not skip."""

import json
import os
import shutil
import subprocess
import tempfile

from warrentest import (ORDER_PLACED, RESOURCE_ACCESSED, TOP_SRCDIR, conf_text,
                        expect, expect_eq, fail, order_data, resource_data, run,
                        short)

HERE = os.path.dirname(os.path.abspath(__file__))
WARREN = os.environ.get("WARREN") or os.path.normpath(
    os.path.join(HERE, "..", "..", "src", "warren", "warren"))
SHIPPED_CONF = os.path.join(TOP_SRCDIR, "conf", "warrend.conf")
VALIDATOR_SRC = os.path.join(HERE, "asyncapi")
VALIDATOR_DIR = os.environ.get("WARREN_ASYNCAPI_DIR") or "/var/cache/warren-tests/asyncapi"
RUN_BOUND = 120.0
PASSWORD = "pa55-w0rd-never-printed"

# What Pydantic v2 (2.13) prints, json.dumps(Model.model_json_schema(),
# indent=2), for the seed's model as conf/warrend.conf constrains it:
#
#   class ResourceAccessedEvent(BaseModel):
#       """A short link was opened."""
#       model_config = ConfigDict(extra="forbid")
#       resource_id: str = Field(min_length=1, max_length=64)
#       resource_name: str = Field(max_length=512)
#       accessed_at: datetime
#       user_agent: Optional[str] = Field(None, max_length=1024)
#
# plus warren's x-warren-* keys (Pydantic sorts every schema's keys, but not
# the properties, which keep the fields' order).
SEED_SCHEMA = {
    "additionalProperties": False,
    "description": "A short link was opened.",
    "properties": {
        "resource_id": {"maxLength": 64, "minLength": 1, "title": "Resource Id",
                        "type": "string"},
        "resource_name": {"maxLength": 512, "title": "Resource Name", "type": "string"},
        "accessed_at": {"format": "date-time", "title": "Accessed At", "type": "string"},
        "user_agent": {"anyOf": [{"maxLength": 1024, "type": "string"},
                                 {"type": "null"}],
                       "default": None, "title": "User Agent"},
    },
    "required": ["resource_id", "resource_name", "accessed_at"],
    "title": "ResourceAccessedEvent",
    "type": "object",
    "x-warren-consumers": ["analytics-service"],
    "x-warren-publisher": "link-service",
    "x-warren-routing-key": "resource.accessed",
}


# ------------------------------------------------------------------ helpers


class Result:
    def __init__(self, args, rc, out, err):
        self.args, self.rc = args, rc
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")

    def __repr__(self):
        return "%s: exit %s, stdout %s, stderr %s" % (
            " ".join(self.args), self.rc, short(self.out, 400), short(self.err, 400))


def command(argv, what):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_BOUND)
    except FileNotFoundError:
        fail("%s: %s not found" % (what, argv[0]))
    except subprocess.TimeoutExpired:
        fail("%s: %s did not finish within %.0f s" % (what, " ".join(argv), RUN_BOUND))
    return Result(argv, p.returncode, p.stdout, p.stderr)


def warren(*args):
    if not os.access(WARREN, os.X_OK):
        fail("warren not found or not executable at %s" % WARREN)
    return command([WARREN] + list(args), "warren")


def expect_rc(res, rc):
    if res.rc != rc:
        fail("expected exit status %d, got %r" % (rc, res))


def parse(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        fail("%s: expected JSON, got %s (%s)" % (what, short(text), e))


class Config:
    """A config file with the given contracts in a fresh temp dir; its
    socket is never there: these commands must not need warrend."""

    def __init__(self, contracts, service="analytics-service",
                 urls=("amqp://guest:%s@127.0.0.1:5672/%%2f" % PASSWORD,)):
        self.dir = tempfile.mkdtemp(prefix="warren-schema.")
        self.path = os.path.join(self.dir, "warrend.conf")
        with open(self.path, "w") as f:
            f.write(conf_text({
                "service": service,
                "socket": {"path": os.path.join(self.dir, "absent", "warren.sock")},
                "broker": {"urls": list(urls), "exchange": "test.events"},
                "spool": {"dir": os.path.join(self.dir, "spool")},
                "contracts": contracts,
            }))
        os.chmod(self.path, 0o600)

    def file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


# ---------------------------------------------------------------- validator


def pinned_version():
    with open(os.path.join(VALIDATOR_SRC, "package.json")) as f:
        return json.load(f)["dependencies"]["@asyncapi/parser"]


def installed_version():
    try:
        with open(os.path.join(VALIDATOR_DIR, "node_modules", "@asyncapi",
                               "parser", "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def validator():
    """The validator directory, with the pinned parser installed."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            fail("expected %s on PATH to install and run the AsyncAPI parser "
                 "(script/bootstrap installs it), got none" % tool)
    want = pinned_version()
    if installed_version() != want:
        os.makedirs(VALIDATOR_DIR, exist_ok=True)
        shutil.copy(os.path.join(VALIDATOR_SRC, "package.json"), VALIDATOR_DIR)
        res = command(["npm", "install", "--prefix", VALIDATOR_DIR, "--no-audit",
                       "--no-fund", "--ignore-scripts", "--no-package-lock",
                       "--loglevel=error"], "npm install")
        if res.rc != 0 or installed_version() != want:
            fail("expected npm to install @asyncapi/parser %s into %s, got %r"
                 % (want, VALIDATOR_DIR, res))
    return VALIDATOR_DIR


def node_validate(*args):
    res = command(["node", os.path.join(VALIDATOR_SRC, "validate.js")] + list(args),
                  "node validate.js")
    if res.rc != 0:
        fail("expected validate.js to run, got %r" % res)
    return parse(res.out, "validate.js output")


def asyncapi_diagnostics(path):
    """(errors, warnings, the parser's report) for the document at path."""
    rep = node_validate("asyncapi", validator(), path)
    errors = [d for d in rep["diagnostics"] if d["severity"] == 0]
    warnings = [d for d in rep["diagnostics"] if d["severity"] == 1]
    return errors, warnings, rep


def asyncapi_of(cfg):
    res = warren("-c", cfg.path, "asyncapi")
    expect_rc(res, 0)
    return res, parse(res.out, "warren asyncapi output")


# ------------------------------------------------------------ json-schema


def json_schema_of_seed_contract_is_what_pydantic_prints():
    res = warren("-c", SHIPPED_CONF, "contracts", "--json-schema",
                 "ResourceAccessedEvent")
    expect_rc(res, 0)
    expect_eq("warren contracts --json-schema ResourceAccessedEvent (parsed)",
              SEED_SCHEMA, parse(res.out, "the schema"))
    # Byte for byte: key order, indentation and all.
    expect_eq("its text", json.dumps(SEED_SCHEMA, indent=2) + "\n", res.out)


def json_schema_of_unknown_contract_exits_1():
    res = warren("-c", SHIPPED_CONF, "contracts", "--json-schema", "NoSuchEvent")
    expect_rc(res, 1)
    expect(res.out == "", "nothing on stdout", res.out)
    expect("unknown contract: NoSuchEvent" in res.err,
           "\"unknown contract: NoSuchEvent\" on stderr", res.err)


def json_schema_without_a_name_is_a_usage_error():
    res = warren("-c", SHIPPED_CONF, "contracts", "--json-schema")
    expect_rc(res, 2)
    expect("usage:" in res.err, "the usage message on stderr", res.err)


def json_schema_of_bad_config_exits_2_naming_it():
    with Config([RESOURCE_ACCESSED]) as cfg:
        path = cfg.file("broken.conf", 'service = "x";\nbogus = 1;\n')
        res = warren("-c", path, "contracts", "--json-schema", "ResourceAccessedEvent")
        expect_rc(res, 2)
        expect(path in res.err, "the file named on stderr", res.err)


def contracts_without_json_schema_still_asks_warrend():
    res = warren("-s", "/nonexistent/warren.sock", "contracts")
    expect_rc(res, 2)
    expect("cannot connect to /nonexistent/warren.sock" in res.err,
           "warren contracts to try warrend's socket", res.err)


def json_schema_accepts_what_the_contract_accepts():
    """The schema of a contract with nested objects, arrays, an enum and a
    pattern compiles in Ajv (strict, JSON Schema 2020-12) and agrees with
    the contract on good and bad events."""
    with Config([ORDER_PLACED]) as cfg:
        res = warren("-c", cfg.path, "contracts", "--json-schema", "OrderPlacedEvent")
        expect_rc(res, 0)
        schema = parse(res.out, "the schema")
        expect(set(schema.get("$defs", {})) == {"OrderPlacedEventItemsItem"},
               "the items' object as $defs OrderPlacedEventItemsItem",
               schema.get("$defs"))
        good = order_data()
        bad = [
            dict(good, order_id="not-a-uuid"),
            dict(good, status="lost"),
            dict(good, items=[]),
            dict(good, items=[{"sku": "abc-1", "qty": 1}]),   # pattern
            dict(good, items=[{"sku": "ABC-1", "qty": 0}]),   # minimum
            dict(good, surprise=1),                           # additional
            {k: v for k, v in good.items() if k != "total"},  # required
            dict(good, gift=None),
        ]
        cases = [good, dict(good, gift=True)] + bad
        want = [True, True] + [False] * (len(bad) - 1) + [True]
        rep = node_validate("schema", validator(), cfg.file("s.json", res.out),
                            cfg.file("i.json", json.dumps(cases)))
        got = [r["valid"] for r in rep["results"]]
        if got != want:
            fail("expected Ajv %s to find %s valid: %s, got %s (errors %s)"
                 % (rep["ajv"], [json.dumps(c) for c in cases], want, got,
                    [r["errors"] for r in rep["results"]]))


# ---------------------------------------------------------------- asyncapi


def asyncapi_validates_with_the_asyncapi_parser():
    with Config([RESOURCE_ACCESSED, ORDER_PLACED]) as cfg:
        res, _ = asyncapi_of(cfg)
        errors, warnings, rep = asyncapi_diagnostics(cfg.file("asyncapi.json", res.out))
        if not rep["document"] or errors or warnings:
            fail("expected @asyncapi/parser %s to accept the document without "
                 "errors or warnings, got %s" % (rep["parser"],
                                                 json.dumps(errors + warnings)))


def asyncapi_parser_rejects_a_broken_document():
    """The check above can fail: the same document with an operation whose
    action is neither send nor receive, and one with a dangling $ref, are
    errors."""
    with Config([RESOURCE_ACCESSED]) as cfg:
        _, doc = asyncapi_of(cfg)
        op = doc["operations"]["receiveResourceAccessedEvent"]
        op["action"] = "publish"
        errors, _, rep = asyncapi_diagnostics(cfg.file("bad1.json", json.dumps(doc)))
        expect(errors, "@asyncapi/parser %s to report an error for action "
               "\"publish\"" % rep["parser"], rep)
        op["action"] = "receive"
        op["channel"]["$ref"] = "#/channels/Nowhere"
        errors, _, rep = asyncapi_diagnostics(cfg.file("bad2.json", json.dumps(doc)))
        expect(errors, "an error for a $ref to a missing channel", rep)


def asyncapi_describes_exchange_channels_and_operations():
    publisher = dict(ORDER_PLACED, publisher="analytics-service")
    with Config([RESOURCE_ACCESSED, publisher]) as cfg:
        _, doc = asyncapi_of(cfg)
        expect_eq("asyncapi", "3.0.0", doc.get("asyncapi"))
        expect_eq("info.title", "analytics-service events", doc["info"]["title"])
        channels = doc["channels"]
        expect_eq("channels", ["ResourceAccessedEvent", "OrderPlacedEvent"],
                  list(channels))
        for name, key in (("ResourceAccessedEvent", "resource.accessed"),
                          ("OrderPlacedEvent", "order.placed.v2")):
            ch = channels[name]
            expect_eq("%s address" % name, key, ch["address"])
            expect_eq("%s AMQP binding" % name, {
                "is": "routingKey",
                "exchange": {"name": "test.events", "type": "topic", "durable": True,
                             "autoDelete": False, "vhost": "/"},
                "bindingVersion": "0.3.0"}, ch["bindings"]["amqp"])
        ops = doc["operations"]
        expect_eq("operations", ["receiveResourceAccessedEvent", "sendOrderPlacedEvent"],
                  sorted(ops))
        expect_eq("receive action", "receive", ops["receiveResourceAccessedEvent"]["action"])
        expect_eq("receive queue", "analytics-service.ResourceAccessedEvent",
                  ops["receiveResourceAccessedEvent"]["x-warren-queue"])
        expect_eq("send action", "send", ops["sendOrderPlacedEvent"]["action"])
        expect_eq("send channel", {"$ref": "#/channels/OrderPlacedEvent"},
                  ops["sendOrderPlacedEvent"]["channel"])
        expect_eq("publisher of ResourceAccessedEvent", "link-service",
                  channels["ResourceAccessedEvent"]["x-warren-publisher"])
        msg = doc["components"]["messages"]["ResourceAccessedEvent"]
        expect_eq("contentType", "application/json", msg["contentType"])
        headers = msg["headers"]["properties"]
        expect_eq("CloudEvents headers", [
            "cloudEvents:specversion", "cloudEvents:id", "cloudEvents:source",
            "cloudEvents:type", "cloudEvents:time"], list(headers))
        expect_eq("cloudEvents:type", "ResourceAccessedEvent",
                  headers["cloudEvents:type"].get("const"))


def asyncapi_shows_partitions():
    """A partitioned contract's channel names its partition key and count,
    its message the key header, and the consuming service's receive
    operation its hash exchange and partition queues; the parser accepts
    the document."""
    part = dict(ORDER_PLACED, consumers=["analytics-service"],
                partition_key="order_id", partitions=3)
    with Config([part]) as cfg:
        res, doc = asyncapi_of(cfg)
        ch = doc["channels"]["OrderPlacedEvent"]
        expect_eq("x-warren-partition-key", "order_id",
                  ch.get("x-warren-partition-key"))
        expect_eq("x-warren-partitions", 3, ch.get("x-warren-partitions"))
        msg = doc["components"]["messages"]["OrderPlacedEvent"]
        expect("cloudEvents:partitionkey" in msg["headers"]["properties"],
               "the partition key header", list(msg["headers"]["properties"]))
        expect("cloudEvents:partitionkey" in msg["headers"]["required"],
               "the partition key header required", msg["headers"]["required"])
        op = doc["operations"]["receiveOrderPlacedEvent"]
        expect_eq("hash exchange", "analytics-service.OrderPlacedEvent.hash",
                  op.get("x-warren-partition-exchange"))
        expect_eq("partition queues",
                  ["analytics-service.OrderPlacedEvent.p%d" % i for i in range(3)],
                  op.get("x-warren-partition-queues"))
        errors, warnings, rep = asyncapi_diagnostics(cfg.file("p.json", res.out))
        if not rep["document"] or errors or warnings:
            fail("expected the parser to accept it, got %s"
                 % json.dumps(errors + warnings))
    plain = dict(ORDER_PLACED, consumers=["analytics-service"])
    with Config([plain]) as cfg:
        _, doc = asyncapi_of(cfg)
        expect("x-warren-partitions" not in doc["channels"]["OrderPlacedEvent"],
               "no partitions on an unpartitioned channel",
               doc["channels"]["OrderPlacedEvent"])


def asyncapi_never_prints_a_password():
    urls = ("amqp://svc:%s@mq1.example:5673/prod" % PASSWORD,
            "amqp://svc:%s@127.0.0.1/%%2f" % PASSWORD)
    with Config([RESOURCE_ACCESSED], urls=urls) as cfg:
        res, doc = asyncapi_of(cfg)
        expect(PASSWORD not in res.out and "svc:" not in res.out,
               "no user or password in the document", res.out)
        expect_eq("servers", {
            "broker1": {"host": "mq1.example:5673", "protocol": "amqp",
                        "protocolVersion": "0.9.1", "pathname": "/prod"},
            "broker2": {"host": "127.0.0.1:5672", "protocol": "amqp",
                        "protocolVersion": "0.9.1", "pathname": "/%2F"}},
            {k: {kk: vv for kk, vv in v.items() if kk != "description"}
             for k, v in doc["servers"].items()})


def asyncapi_payload_is_the_contracts_json_schema():
    with Config([RESOURCE_ACCESSED]) as cfg:
        _, doc = asyncapi_of(cfg)
        res = warren("-c", cfg.path, "contracts", "--json-schema",
                     "ResourceAccessedEvent")
        expect_rc(res, 0)
        expect_eq("message payload", {"$ref": "#/components/schemas/ResourceAccessedEvent"},
                  doc["components"]["messages"]["ResourceAccessedEvent"]["payload"])
        expect_eq("components.schemas.ResourceAccessedEvent",
                  parse(res.out, "the schema"),
                  doc["components"]["schemas"]["ResourceAccessedEvent"])
        # And the schema takes the events the other tests publish.
        rep = node_validate("schema", validator(), cfg.file("s.json", res.out),
                            cfg.file("i.json", json.dumps([resource_data(1)])))
        expect(rep["results"][0]["valid"], "resource_data() valid", rep)


if __name__ == "__main__":
    run([
        json_schema_of_seed_contract_is_what_pydantic_prints,
        json_schema_of_unknown_contract_exits_1,
        json_schema_without_a_name_is_a_usage_error,
        json_schema_of_bad_config_exits_2_naming_it,
        contracts_without_json_schema_still_asks_warrend,
        json_schema_accepts_what_the_contract_accepts,
        asyncapi_validates_with_the_asyncapi_parser,
        asyncapi_parser_rejects_a_broken_document,
        asyncapi_describes_exchange_channels_and_operations,
        asyncapi_never_prints_a_password,
        asyncapi_shows_partitions,
        asyncapi_payload_is_the_contracts_json_schema,
    ])
