#!/usr/bin/python3
"""warren lint and warrend -t: the contracts are checked against the event
design checklist; each finding is one "FILE:LINE: RULE: contract X[: field
F]: message" line. Exit 0 without --strict, 1 with it when there are
findings, 2 when the config does not load. warrend -t prints the same
findings as warnings and still says "configuration OK". Needs no broker."""

import os
import re
import shutil
import subprocess
import tempfile

from warrentest import TOP_SRCDIR, WARREND, expect, expect_eq, fail, run, short

HERE = os.path.dirname(os.path.abspath(__file__))
WARREN = os.environ.get("WARREN") or os.path.normpath(
    os.path.join(HERE, "..", "..", "src", "warren", "warren"))
RUN_BOUND = 30.0

# The seed's self-contained ResourceAccessedEvent, every string bounded.
CLEAN = """\
service = "lint-service";
contracts = (
  {
    name = "ResourceAccessedEvent";
    routing_key = "resource.accessed";
    description = "A short link was opened.";
    publisher = "link-service";
    consumers = [ "analytics-service" ];
    fields = (
      { name = "resource_id";   type = "string"; min_length = 1; max_length = 64; },
      { name = "resource_name"; type = "string"; max_length = 512; },
      { name = "accessed_at";   type = "datetime"; },
      { name = "user_agent";    type = "string"; max_length = 1024; optional = true; }
    );
  },
  {
    name = "ResourceAccessedEventV2";
    routing_key = "resource.accessed.v2";
    description = "A short link was opened.";
    publisher = "link-service";
    consumers = [ "analytics-service" ];
    stream = { max_bytes = 1000000000; max_age = "7D"; };
    fields = (
      { name = "resource_id";   type = "uuid"; },
      { name = "resource_name"; type = "string"; max_length = 512; },
      { name = "accessed_at";   type = "datetime"; },
      { name = "tags"; type = "array"; max_items = 8; items = { type = "string"; max_length = 32; }; }
    );
  }
);
"""

# One contract per problem; "#> rule field" marks the line of each finding.
DIRTY = """\
service = "lint-service";
contracts = (
  {                                             #> event-name-suffix -
                                                #> missing-description -
                                                #> missing-publisher -
                                                #> missing-consumers -
                                                #> ids-only -
    name = "ResourceAccessed";
    routing_key = "resource.accessed";
    stream = { max_age = "7D"; };               #> stream-without-max-bytes -
    fields = (
      { name = "resource_id"; type = "uuid"; },
      { name = "accessed_at"; type = "datetime"; }
    );
  },
  {                                             #> routing-key-format -
                                                #> version-suffix-mismatch -
    name = "LinkShortenedEventV2";
    routing_key = "Link.shortened";
    description = "A long URL was given a short one.";
    publisher = "link-service";
    consumers = [ "analytics-service" ];
    fields = (
      { name = "url"; type = "string"; max_length = 2048; },   #> ambiguous-field-name url
      { name = "created"; type = "datetime"; },                #> datetime-not-at created
      { name = "items"; type = "array"; max_items = 9; items = {
          type = "object"; fields = (
            { name = "sku"; type = "string"; }                 #> string-without-max-length items[].sku
          ); }; }
    );
  },
  {
    name = "OrderShippedEvent";
    routing_key = "order.shipped";
    description = "An order left the warehouse.";
    publisher = "shop-service";
    consumers = [ "mail-service" ];
    partition_key = "order_id";
    partitions = 4;
    fields = (
      { name = "order_id"; type = "uuid"; },
      { name = "carrier_name"; type = "string"; max_length = 64; }
    );
  },
  {                                             #> partitioning-changed -
    name = "OrderShippedEventV2";
    routing_key = "order.shipped.v2";
    replaces = "OrderShippedEvent";
    description = "An order left the warehouse.";
    publisher = "shop-service";
    consumers = [ "mail-service" ];
    partition_key = "order_id";
    partitions = 8;
    fields = (
      { name = "order_id"; type = "uuid"; },
      { name = "carrier_name"; type = "string"; max_length = 64; }
    );
  }
);
"""

ALL_RULES = ["event-name-suffix", "routing-key-format", "version-suffix-mismatch",
             "missing-description", "missing-publisher", "missing-consumers",
             "ids-only", "ambiguous-field-name", "datetime-not-at",
             "string-without-max-length", "stream-without-max-bytes",
             "partitioning-changed"]

LINE_RX = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<rule>[a-z]+(?:-[a-z]+)*): "
                     r"contract (?P<contract>[A-Z][A-Za-z0-9]*)"
                     r"(?:: field (?P<field>[^:]+))?: (?P<msg>.+)$")


# ------------------------------------------------------------------ helpers


class Case:
    """A config file (mode 0600, so no warning about its password) in a fresh
    temp dir."""

    def __init__(self, text):
        self.dir = tempfile.mkdtemp(prefix="warren-lint.")
        self.path = os.path.join(self.dir, "warrend.conf")
        with open(self.path, "w") as f:
            f.write(text)
        os.chmod(self.path, 0o600)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def execute(argv):
    """(exit status, stdout, stderr) of argv run to its end."""
    if not os.access(argv[0], os.X_OK):
        fail("%s not found or not executable" % argv[0])
    env = dict(os.environ)
    env.pop("WARREN_SOCKET", None)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=RUN_BOUND)
    except subprocess.TimeoutExpired:
        fail("%s did not exit within %.0f s" % (" ".join(argv), RUN_BOUND))
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def lint(*args):
    return execute([WARREN] + list(args))


def expected_findings(path, text):
    """[(file, line, rule, field or None)] from the "#> rule field" marks."""
    out = []
    for n, ln in enumerate(text.split("\n"), 1):
        for rule, field in re.findall(r"#> (\S+) (\S+)", ln):
            # a contract's findings are on the line of its opening brace
            where = n
            while "{" not in text.split("\n")[where - 1].split("#")[0]:
                where -= 1
            out.append((path, where, rule, None if field == "-" else field))
    return out


def parse_findings(out, what):
    """[(file, line, rule, field or None)] of the lines of out."""
    found = []
    for ln in out.splitlines():
        m = LINE_RX.match(ln)
        if m is None:
            fail("%s: expected every line as FILE:LINE: RULE: contract X[: field F]: "
                 "message, got %r" % (what, ln))
        found.append((m.group("file"), int(m.group("line")), m.group("rule"),
                      m.group("field")))
    return found


def lint_rules_in_source():
    """The rule names of lint_rules[] in src/lint.c."""
    with open(os.path.join(TOP_SRCDIR, "src", "lib", "lint.c"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"lint_rules\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if m is None:
        fail("cannot find lint_rules[] in src/lint.c")
    return re.findall(r'\{\s*"([a-z-]+)"\s*,', m.group(1))


# ------------------------------------------------------------------ tests


def clean_config_lints_silently_and_exits_0():
    with Case(CLEAN) as c:
        for args in (("lint", c.path), ("lint", "--strict", c.path)):
            rc, out, err = lint(*args)
            if rc != 0 or out != "" or err != "":
                fail("warren %s: expected exit 0 and no output, got exit %d, stdout %s, "
                     "stderr %s" % (" ".join(args), rc, short(out), short(err)))


def shipped_config_lints_clean():
    path = os.path.join(TOP_SRCDIR, "conf", "warrend.conf")
    rc, out, _ = lint("lint", "--strict", path)
    if rc != 0 or out != "":
        fail("warren lint --strict %s: expected exit 0 and no findings (the shipped "
             "contract follows the checklist), got exit %d, stdout %s" % (path, rc, short(out)))


def findings_printed_with_file_line_and_rule_exit_0():
    with Case(DIRTY) as c:
        rc, out, err = lint("lint", c.path)
        expect_eq("exit status of warren lint with findings, without --strict", 0, rc)
        expect(err == "", "nothing on stderr", err)
        found = parse_findings(out, "warren lint")
        want = expected_findings(c.path, DIRTY)
        expect_eq("findings (file, line, rule, field)", sorted(want), sorted(found))


def findings_cover_every_rule():
    with Case(DIRTY) as c:
        _, out, _ = lint("lint", c.path)
        rules = {f[2] for f in parse_findings(out, "warren lint")}
        expect_eq("rules found", sorted(ALL_RULES), sorted(rules))
        expect_eq("rules of lint_rules[] in src/lint.c", sorted(ALL_RULES),
                  sorted(lint_rules_in_source()))


def findings_carry_the_seeds_advice():
    with Case(DIRTY) as c:
        _, out, _ = lint("lint", c.path)
        for rule, advice in (("ambiguous-field-name", "long_url, not url"),
                             ("datetime-not-at", "accessed_at"),
                             ("ids-only", "resource_name next to resource_id"),
                             ("version-suffix-mismatch", "Link.shortened.v2")):
            lines = [ln for ln in out.splitlines() if (": %s: " % rule) in ln]
            expect(lines and advice in lines[0], "the %s line to advise %r" % (rule, advice),
                   out)


def strict_with_findings_exits_1():
    with Case(DIRTY) as c:
        rc, out, _ = lint("lint", "--strict", c.path)
        expect_eq("exit status of warren lint --strict with findings", 1, rc)
        expect(out.count("\n") == len(expected_findings(c.path, DIRTY)),
               "every finding printed with --strict too", out)


def config_from_c_option():
    with Case(DIRTY) as c:
        rc, out, _ = lint("-c", c.path, "lint", "--strict")
        expect_eq("exit status of warren -c FILE lint --strict", 1, rc)
        expect(out.startswith(c.path + ":"), "findings naming %s" % c.path, out)
        with Case(CLEAN) as clean:
            rc, out, _ = lint("-c", c.path, "lint", "--strict", clean.path)
            expect(rc == 0 and out == "", "the argument to win over -c: exit 0, no "
                   "output", "exit %d, stdout %s" % (rc, out))


def broken_config_exits_2_with_cause():
    text = CLEAN.replace('type = "datetime";', 'type = "datetme";', 1)
    line = CLEAN.split("\n").index(next(ln for ln in CLEAN.split("\n")
                                        if '"datetime"' in ln)) + 1
    with Case(text) as c:
        for args in (("lint", c.path), ("lint", "--strict", c.path)):
            rc, out, err = lint(*args)
            expect_eq("exit status of warren %s on a broken config" % " ".join(args), 2, rc)
            expect(out == "", "nothing on stdout", out)
            expect("%s:%d:" % (c.path, line) in err and "datetme" in err,
                   "stderr naming %s:%d: and datetme" % (c.path, line), err)
    rc, _, err = lint("lint", "/nonexistent/warrend.conf")
    expect(rc == 2 and "/nonexistent/warrend.conf" in err,
           "exit 2 naming the missing file", "exit %d, stderr %s" % (rc, err))


def usage_errors_exit_2():
    for args in (("lint", "--bogus"), ("lint", "a.conf", "b.conf")):
        rc, out, err = lint(*args)
        expect(rc == 2 and "usage:" in err, "warren %s: exit 2 and the usage on stderr"
               % " ".join(args), "exit %d, stderr %s" % (rc, short(err)))


def warrend_t_prints_lint_warnings():
    with Case(DIRTY) as c:
        rc, out, err = execute([WARREND, "-t", "-c", c.path])
        expect_eq("warrend -t exit status with lint findings", 0, rc)
        expect_eq("warrend -t stdout", "configuration OK\n", out)
        _, lout, _ = lint("lint", c.path)
        want = ["warrend: warning: " + ln for ln in lout.splitlines()]
        expect_eq("warrend -t stderr: warren lint's lines after \"warrend: warning: \"", want,
                  err.splitlines())
    with Case(CLEAN) as c:
        rc, out, err = execute([WARREND, "-t", "-c", c.path])
        expect(rc == 0 and out == "configuration OK\n" and err == "",
               "exit 0, configuration OK and no warnings for a clean config",
               "exit %d, stdout %s, stderr %s" % (rc, short(out), short(err)))


def every_lint_rule_documented_in_warren_1():
    with open(os.path.join(TOP_SRCDIR, "man", "warren.1"), encoding="utf-8") as f:
        page = f.read()
    missing = [r for r in lint_rules_in_source()
               if not re.search(r"^\.It Ql %s$" % re.escape(r), page, re.M)]
    expect(not missing, "an .It Ql item in man/warren.1 for every rule of "
           "lint_rules[]", "missing: %s" % missing)


if __name__ == "__main__":
    run([
        clean_config_lints_silently_and_exits_0,
        shipped_config_lints_clean,
        findings_printed_with_file_line_and_rule_exit_0,
        findings_cover_every_rule,
        findings_carry_the_seeds_advice,
        strict_with_findings_exits_1,
        config_from_c_option,
        broken_config_exits_2_with_cause,
        usage_errors_exit_2,
        warrend_t_prints_lint_warnings,
        every_lint_rule_documented_in_warren_1,
    ])
