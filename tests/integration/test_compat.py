#!/usr/bin/python3
"""warren compat OLD NEW: every contract change is one "CONTRACT[.FIELD]:
KIND: message [breaking|additive][, FORBIDDEN]" line and a summary; --json
gives the same as one object. Exit 0 when nothing is forbidden, 1 when a
breaking change keeps its routing key, 2 when a file does not load. A
breaking change made as a new contract on a new versioned routing key is
the sanctioned path. Needs no broker and no warrend."""

import copy
import json
import os
import shutil
import subprocess
import tempfile

from warrentest import RESOURCE_ACCESSED, conf_text, expect, expect_eq, fail, run, short

HERE = os.path.dirname(os.path.abspath(__file__))
WARREN = os.environ.get("WARREN") or os.path.normpath(
    os.path.join(HERE, "..", "..", "src", "warren", "warren"))
RUN_BOUND = 30.0

V1 = RESOURCE_ACCESSED
REFERRER_REQUIRED = {"name": "referrer", "type": "string", "max_length": 2048}
REFERRER_OPTIONAL = dict(REFERRER_REQUIRED, optional=True)


def with_fields(contract, *extra, **changes):
    """A copy of contract with extra fields appended and keys changed."""
    c = copy.deepcopy(contract)
    c["fields"] = c["fields"] + [copy.deepcopy(f) for f in extra]
    c.update(changes)
    return c


# The seed's ResourceAccessedEventV2: the new required field, on its own key.
V2 = with_fields(V1, REFERRER_REQUIRED, name="ResourceAccessedEventV2",
                 routing_key="resource.accessed.v2")


class Files:
    """Config files in a fresh temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="warren-compat.")

    def conf(self, name, contracts, full=True):
        """Write a warrend.conf (or, without full, a file of contracts only,
        as in contracts_dir) and return its path."""
        settings = {}
        if full:
            settings["service"] = "compat-test"
            settings["socket"] = {"path": os.path.join(self.dir, "w.sock")}
        settings["contracts"] = contracts
        return self.text(name, conf_text(settings))

    def text(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def warren(*args):
    if not os.access(WARREN, os.X_OK):
        fail("warren not found or not executable at %s" % WARREN)
    argv = [WARREN] + list(args)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_BOUND)
    except subprocess.TimeoutExpired:
        fail("%s did not exit within %.0f s" % (" ".join(argv), RUN_BOUND))
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def compat(old_contracts, new_contracts, *opts, full=True):
    with Files() as fs:
        old = fs.conf("old.conf", old_contracts, full)
        new = fs.conf("new.conf", new_contracts, full)
        return warren("compat", *opts, old, new)


def expect_exit(what, want, rc, out, err):
    if rc != want:
        fail("%s: expected exit %d, got exit %d, stdout %s, stderr %s"
             % (what, want, rc, short(out), short(err)))


def expect_line(out, prefix, *words):
    """A report line starting with prefix and holding each of words."""
    lines = [ln for ln in out.split("\n") if ln.startswith(prefix)]
    expect(lines, "a report line starting %r" % prefix, out)
    for w in words:
        expect(w in lines[0], "%r in the line %r" % (w, lines[0]), out)
    return lines[0]


# ---------------------------------------------------------------- exit 0


def compat_identical_contracts_report_no_changes():
    rc, out, err = compat([V1, V2], [V1, V2])
    expect_exit("the same contracts twice", 0, rc, out, err)
    expect_eq("stdout", "no changes\n", out)


def compat_additive_change_exits_0():
    new = with_fields(V1, REFERRER_OPTIONAL)
    new["fields"][1]["max_length"] = 1024   # resource_name: 512 -> 1024
    rc, out, err = compat([V1], [new])
    expect_exit("an optional field added, a bound relaxed", 0, rc, out, err)
    expect_line(out, "ResourceAccessedEvent.referrer: added: ", "[additive]")
    expect_line(out, "ResourceAccessedEvent.resource_name: relaxed: ",
                "512", "1024", "[additive]")
    expect("FORBIDDEN" not in out and "[breaking" not in out,
           "no breaking or FORBIDDEN change", out)
    expect(out.endswith("2 changes: 0 breaking, 2 additive\n"),
           "the summary line \"2 changes: 0 breaking, 2 additive\"", out)


def compat_breaking_change_as_v2_contract_exits_0():
    rc, out, err = compat([V1], [V1, V2])
    expect_exit("V1 kept, the required field in V2 on resource.accessed.v2", 0,
                rc, out, err)
    expect_line(out, "ResourceAccessedEventV2: added: ", "resource.accessed.v2",
                "[additive]")
    expect("FORBIDDEN" not in out, "no FORBIDDEN change", out)


def compat_old_version_removed_after_v2_exits_0():
    rc, out, err = compat([V1, V2], [V2])
    expect_exit("V1 retired with V2 left", 0, rc, out, err)
    expect_line(out, "ResourceAccessedEvent: removed: ", "ResourceAccessedEventV2",
                "[breaking]")
    expect("FORBIDDEN" not in out, "no FORBIDDEN change", out)


def compat_contracts_only_files_compared():
    rc, out, err = compat([V1], [with_fields(V1, REFERRER_OPTIONAL)], full=False)
    expect_exit("files of contracts only, as in contracts_dir", 0, rc, out, err)
    expect_line(out, "ResourceAccessedEvent.referrer: added: ", "[additive]")


# ---------------------------------------------------------------- exit 1


def compat_breaking_change_keeping_routing_key_exits_1():
    rc, out, err = compat([V1], [with_fields(V1, REFERRER_REQUIRED)])
    expect_exit("a required field added on resource.accessed", 1, rc, out, err)
    expect_line(out, "ResourceAccessedEvent.referrer: added: ",
                "[breaking, FORBIDDEN]")
    expect(out.endswith("1 change: 1 breaking (1 forbidden), 0 additive\n"),
           "the summary line \"1 change: 1 breaking (1 forbidden), 0 additive\"", out)


def compat_summary_totals_add_up():
    """Forbidden changes are some of the breaking ones: the summary says
    "N changes: B breaking (F forbidden), A additive" with B + A = N."""
    new = with_fields(V1, REFERRER_REQUIRED)
    new["fields"][1]["max_length"] = 1024   # resource_name: 512 -> 1024, additive
    rc, out, err = compat([V1], [new])
    expect_exit("a required field added and a bound relaxed", 1, rc, out, err)
    expect(out.endswith("2 changes: 1 breaking (1 forbidden), 1 additive\n"),
           "the summary line \"2 changes: 1 breaking (1 forbidden), 1 additive\"", out)


def compat_every_breaking_kind_forbidden_on_same_key():
    old = with_fields(V1, REFERRER_OPTIONAL)
    new = copy.deepcopy(V1)
    new["fields"][0]["max_length"] = 32                  # tightened
    new["fields"][1]["type"] = "uuid"                    # type changed
    del new["fields"][1]["max_length"]
    new["fields"][3]["optional"] = False                 # made required
    rc, out, err = compat([old], [new])                  # referrer removed
    expect_exit("breaking changes on resource.accessed", 1, rc, out, err)
    for prefix in ("ResourceAccessedEvent.resource_id: tightened: ",
                   "ResourceAccessedEvent.resource_name: type_changed: ",
                   "ResourceAccessedEvent.user_agent: made_required: ",
                   "ResourceAccessedEvent.referrer: removed: "):
        expect_line(out, prefix, "[breaking, FORBIDDEN]")


def compat_routing_key_changed_or_renamed_exits_1():
    moved = dict(V1, routing_key="resource.opened")
    rc, out, err = compat([V1], [moved])
    expect_exit("the routing key of ResourceAccessedEvent moved", 1, rc, out, err)
    expect_line(out, "ResourceAccessedEvent: routing_key_changed: ",
                "resource.opened", "[breaking, FORBIDDEN]")
    renamed = dict(V1, name="ResourceOpenedEvent")
    rc, out, err = compat([V1], [renamed])
    expect_exit("ResourceAccessedEvent renamed on resource.accessed", 1, rc, out, err)
    expect_line(out, "ResourceAccessedEvent: renamed: ", "ResourceOpenedEvent",
                "[breaking, FORBIDDEN]")


def compat_partition_key_or_count_changed_exits_1():
    """Partitioning a contract, or changing its partition key or count,
    moves keys between partitions: breaking, and forbidden on the same
    routing key."""
    part = dict(V1, partition_key="resource_id", partitions=4)
    for what, old, new, words in (
            ("partitioned", V1, part, ("resource_id", "4", "not partitioned")),
            ("count 4 -> 8", part, dict(part, partitions=8), ("into 8", "into 4")),
            ("key changed", part, dict(part, partition_key="resource_name"),
             ("by resource_name", "by resource_id"))):
        rc, out, err = compat([old], [new])
        expect_exit(what, 1, rc, out, err)
        expect_line(out, "ResourceAccessedEvent: partitioning_changed: ",
                    "[breaking, FORBIDDEN]", *words)
    rc, out, err = compat([part], [dict(part)])
    expect_exit("the same partitioning", 0, rc, out, err)


def compat_json_parses_and_counts():
    new = [with_fields(V1, REFERRER_REQUIRED), V2,
           dict(V1, name="ResourceSharedEvent", routing_key="resource.shared")]
    new[0]["fields"][3]["max_length"] = 100              # user_agent: bound added
    rc, out, err = compat([V1], new, "--json")
    expect_exit("--json with two forbidden changes", 1, rc, out, err)
    try:
        report = json.loads(out)
    except ValueError as e:
        fail("expected --json to print one JSON object, got %s (%s)" % (short(out), e))
    expect_eq("forbidden", 2, report.get("forbidden"))
    expect_eq("breaking", 2, report.get("breaking"))
    expect_eq("additive", 2, report.get("additive"))
    changes = report.get("changes")
    expect(isinstance(changes, list) and len(changes) == 4, "4 changes", changes)
    for ch in changes:
        expect(sorted(ch) == ["class", "contract", "field", "kind", "message", "verdict"],
               "contract, field, kind, class, verdict and message in each change", ch)
    got = [(c["contract"], c["field"], c["kind"], c["class"], c["verdict"])
           for c in changes]
    want = [("ResourceAccessedEvent", "user_agent", "tightened", "breaking", "forbidden"),
            ("ResourceAccessedEvent", "referrer", "added", "breaking", "forbidden"),
            ("ResourceAccessedEventV2", None, "added", "additive", "ok"),
            ("ResourceSharedEvent", None, "added", "additive", "ok")]
    expect_eq("the changes", want, got)


# ---------------------------------------------------------------- exit 2


def compat_unreadable_file_exits_2():
    with Files() as fs:
        good = fs.conf("good.conf", [V1])
        missing = os.path.join(fs.dir, "no-such.conf")
        rc, out, err = warren("compat", good, missing)
        expect_exit("a missing NEW file", 2, rc, out, err)
        expect(missing in err, "stderr naming %s" % missing, err)
        expect(out == "", "nothing on stdout", out)
        broken = fs.text("broken.conf", 'service = "s";\ncontracts = (\n  { name = ; }\n);\n')
        rc, out, err = warren("compat", broken, good)
        expect_exit("an OLD file with a syntax error", 2, rc, out, err)
        expect("%s:3:" % broken in err, "stderr naming %s:3:" % broken, err)
        bad = fs.conf("bad.conf", [with_fields(V1, {"name": "x", "type": "blob"})])
        rc, out, err = warren("compat", good, bad)
        expect_exit("a contract with an unknown type", 2, rc, out, err)
        expect("blob" in err, "stderr naming the unknown type blob", err)
        if os.geteuid() != 0:
            os.chmod(good, 0)
            rc, out, err = warren("compat", good, good)
            expect_exit("an unreadable file", 2, rc, out, err)


def compat_usage_error_exits_2():
    rc, out, err = warren("compat", "only-one.conf")
    expect_exit("compat with one file", 2, rc, out, err)
    expect("usage" in err.lower() and "compat" in err, "a usage message naming compat", err)
    rc, out, err = warren("compat", "--colour", "a.conf", "b.conf")
    expect_exit("compat with an unknown option", 2, rc, out, err)


if __name__ == "__main__":
    run([
        compat_identical_contracts_report_no_changes,
        compat_additive_change_exits_0,
        compat_breaking_change_as_v2_contract_exits_0,
        compat_old_version_removed_after_v2_exits_0,
        compat_contracts_only_files_compared,
        compat_breaking_change_keeping_routing_key_exits_1,
        compat_summary_totals_add_up,
        compat_every_breaking_kind_forbidden_on_same_key,
        compat_routing_key_changed_or_renamed_exits_1,
        compat_partition_key_or_count_changed_exits_1,
        compat_json_parses_and_counts,
        compat_unreadable_file_exits_2,
        compat_usage_error_exits_2,
    ])
