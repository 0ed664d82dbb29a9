#!/usr/bin/python3
"""The stream key of a contract in the tools that need no broker: warrend -t
names a bad one's file and line, warren lint flags a stream without
max_bytes, warren compat says which stream changes break replays, and
warren asyncapi shows the stream (and the parser accepts the document)."""

import copy
import json

import warrentest
from warrentest import RESOURCE_ACCESSED, expect, expect_eq, fail, short
from test_compat import compat
from test_schema import (Config, asyncapi_diagnostics, asyncapi_of, command,
                         expect_rc, warren)

EVENT = "ResourceAccessedEvent"


def with_stream(**retention):
    c = copy.deepcopy(RESOURCE_ACCESSED)
    c["stream"] = retention
    c["fields"][3] = dict(c["fields"][3], max_length=1024)   # lint-clean
    return c


def configtest_names_bad_stream_key_file_and_line():
    """warrend -t refuses a stream with a bad max_age, naming the file, the
    line, the contract and what max_age takes."""
    with Config([with_stream(max_age="7 days")]) as cfg:
        res = command([warrentest.WARREND, "-t", "-c", cfg.path], "warrend -t")
        expect_rc(res, 1)
        expect("%s:" % cfg.path in res.err and
               "contract %s: stream: max_age must be" % EVENT in res.err,
               "FILE:LINE: contract %s: stream: max_age must be ... on stderr" % EVENT,
               res.err)


def lint_flags_a_stream_without_max_bytes():
    """A stream with only max_age is a stream-without-max-bytes finding on
    the stream's line; with max_bytes it is clean."""
    with Config([with_stream(max_age="7D")]) as cfg:
        res = warren("lint", cfg.path)
        lines = [l for l in res.out.splitlines() if "stream-without-max-bytes" in l]
        expect(len(lines) == 1 and ": contract %s: stream keeps 7D" % EVENT in lines[0],
               "one stream-without-max-bytes finding for %s" % EVENT, res.out)
        with open(cfg.path) as f:
            text = f.read().split("\n")
        line = int(lines[0].split(":")[1])
        expect("stream" in text[line - 1], "the finding on the stream's line",
               (line, text[line - 1]))
    with Config([with_stream(max_age="7D", max_bytes=10000000)]) as cfg:
        res = warren("lint", "--strict", cfg.path)
        expect_eq("warren lint --strict of a bounded stream", (0, ""), (res.rc, res.out))


def compat_says_which_stream_changes_break():
    """Adding a stream is additive (exit 0); removing it or keeping less is
    breaking and forbidden on the same routing key (exit 1)."""
    plain = with_stream()
    del plain["stream"]
    week = with_stream(max_age="7D", max_bytes=10000000)
    day = with_stream(max_age="1D", max_bytes=10000000)
    rc, out, err = compat([plain], [week])
    expect_eq("exit status when a stream is added", 0, rc)
    expect("%s.stream: stream_added:" % EVENT in out and "additive" in out,
           "a stream_added additive line", out)
    rc, out, err = compat([week], [plain])
    expect_eq("exit status when the stream is removed", 1, rc)
    expect("%s.stream: stream_removed:" % EVENT in out and "breaking" in out,
           "a stream_removed breaking line", out)
    rc, out, err = compat([week], [day])
    expect_eq("exit status when max_age is shortened", 1, rc)
    expect("retention_changed: stream max_age shortened from 7D to 1D" in out
           and "policy" in out, "a retention_changed line that says to use a policy", out)
    rc, out, err = compat([day], [week], "--json")
    expect_eq("exit status when max_age is lengthened", 0, rc)
    changes = json.loads(out)["changes"]
    expect_eq("kinds", ["retention_changed"], [c["kind"] for c in changes])
    expect_eq("class", "additive", changes[0]["class"])


def asyncapi_shows_the_stream_and_validates():
    """The contract's channel carries x-warren-stream; the stream queue has
    a channel of its own with a queue binding; @asyncapi/parser accepts the
    document without errors or warnings."""
    with Config([with_stream(max_age="7D", max_bytes=10000000)]) as cfg:
        res, doc = asyncapi_of(cfg)
        xs = doc["channels"][EVENT].get("x-warren-stream")
        expect_eq("x-warren-stream", {"queue": "test.events.%s.stream" % EVENT,
                                      "max_bytes": 10000000, "max_age": "7D"}, xs)
        ch = doc["channels"].get(EVENT + "Stream")
        expect(ch is not None, "a channel %sStream" % EVENT, sorted(doc["channels"]))
        expect_eq("the stream channel's queue binding",
                  ("queue", "test.events.%s.stream" % EVENT, True),
                  (ch["bindings"]["amqp"]["is"], ch["bindings"]["amqp"]["queue"]["name"],
                   ch["bindings"]["amqp"]["queue"]["durable"]))
        errors, warnings, rep = asyncapi_diagnostics(cfg.file("asyncapi.json", res.out))
        if not rep["document"] or errors or warnings:
            fail("expected @asyncapi/parser to accept the document, got %s"
                 % short(json.dumps(errors + warnings)))


if __name__ == "__main__":
    warrentest.run([
        configtest_names_bad_stream_key_file_and_line,
        lint_flags_a_stream_without_max_bytes,
        compat_says_which_stream_changes_break,
        asyncapi_shows_the_stream_and_validates,
    ])
