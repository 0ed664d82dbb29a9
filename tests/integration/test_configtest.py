#!/usr/bin/python3
"""warrend -t: "configuration OK" and exit 0 for a good config, exit 1 with
FILE:LINE: and the problem on stderr for a broken one."""

import os
import shutil
import subprocess
import tempfile

from warrentest import (TOP_SRCDIR, WARREND, Daemon, RESOURCE_ACCESSED, expect,
                        expect_ok, fail, run, short)

# A config with every key, one setting per line. {dir} is the test's temp dir.
GOOD = """\
# warrend.conf written by test_configtest.py
service = "configtest-service";
shutdown_timeout_ms = 5000;
socket: {
  path = "{dir}/warren.sock";
  mode = "0660";
  max_clients = 1024;
  max_line = 1048576;
};
broker: {
  urls = [ "amqp://guest:guest@127.0.0.1:5672/%2f", "amqp://guest:guest@localhost:5672/%2f" ];
  exchange = "events";
  heartbeat = 30;
  confirm_window = 1024;
  prefetch = 64;
  queue_type = "classic";
  dead_letter = true;
  unroutable = "warn";
  reconnect_min_ms = 100;
  reconnect_max_ms = 30000;
  publish_timeout_ms = 5000;
};
spool: {
  dir = "{dir}/spool";
  max_bytes = 4294967296L;
  fsync = "always";
};
metrics: {
  listen = "[::1]:9464";
  max_clients = 16;
  timeout_ms = 10000;
};
contracts = (
  {
    name = "ResourceAccessedEvent";
    routing_key = "resource.accessed";
    description = "A short link was opened.";
    publisher = "link-service";
    consumers = [ "analytics-service" ];
    allow_users = [ "root", "0" ];
    allow_groups = [ "root" ];
    fields = (
      { name = "resource_id";   type = "string"; min_length = 1; max_length = 64; pattern = "[a-z0-9-]+"; },
      { name = "resource_name"; type = "string"; max_length = 512; },
      { name = "accessed_at";   type = "datetime"; },
      { name = "user_agent";    type = "string"; optional = true; }
    );
  },
  { name = "OrderPlacedEvent"; routing_key = "order.placed.v2"; additional_fields = true; fields = ( { name = "id"; type = "uuid"; }, { name = "on"; type = "date"; }, { name = "n"; type = "integer"; minimum = 1; maximum = 9; }, { name = "x"; type = "number"; minimum = 0.5; }, { name = "b"; type = "boolean"; }, { name = "e"; type = "enum"; values = [ "a", "b" ]; }, { name = "o"; type = "object"; fields = ( { name = "k"; type = "string"; } ); }, { name = "a"; type = "array"; min_items = 1; max_items = 3; items = { type = "object"; fields = ( { name = "sku"; type = "string"; } ); }; } ); }
);
"""

ONE_LINE_CONTRACT = ('  { name = "%s"; routing_key = "%s"; fields = ( %s ); }')
STRING_FIELD = '{ name = "x"; type = "string"; }'


class Case:
    """A config file in a fresh temp dir."""

    def __init__(self, text, name="warrend.conf", mode=0o600):
        self.dir = tempfile.mkdtemp(prefix="warren-configtest.")
        self.path = os.path.join(self.dir, name)
        self.write(text, mode)

    def write(self, text, mode=0o600):
        with open(self.path, "w") as f:
            f.write(text.replace("{dir}", self.dir))
        os.chmod(self.path, mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def configtest(path):
    if not os.access(WARREND, os.X_OK):
        fail("warrend not found or not executable at %s" % WARREND)
    try:
        p = subprocess.run([WARREND, "-t", "-c", path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    except subprocess.TimeoutExpired:
        fail("warrend -t -c %s did not exit within 30 s" % path)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def expect_good(path):
    rc, out, err = configtest(path)
    if rc != 0 or out.strip() != "configuration OK":
        fail("warrend -t -c %s: expected exit 0 and stdout \"configuration OK\", got exit %d, "
             "stdout %s, stderr %s" % (path, rc, short(out), short(err)))
    return err


def expect_broken(path, line, *words, file=None):
    """Exit 1; stderr names FILE:LINE: and contains each of words."""
    rc, out, err = configtest(path)
    where = "%s:%d:" % (file or path, line) if line else (file or path)
    if rc != 1:
        fail("warrend -t: expected exit 1 naming %s, got exit %d, stdout %s, stderr %s"
             % (where, rc, short(out), short(err)))
    if where not in err:
        fail("warrend -t: expected stderr to name %s, got %s" % (where, short(err)))
    for w in words:
        if w.lower() not in err.lower():
            fail("warrend -t: expected stderr to mention %r, got %s" % (w, short(err)))
    if "configuration OK" in out:
        fail("warrend -t printed \"configuration OK\" for a broken config (exit %d)" % rc)


def lines_of(text):
    return text.split("\n")


def replace_line(text, old, new):
    """Replace the line whose stripped text is old; return (text, line number)."""
    ls = lines_of(text)
    for i, ln in enumerate(ls):
        if ln.strip() == old:
            ls[i] = ln[:len(ln) - len(ln.lstrip())] + new
            return "\n".join(ls), i + 1
    raise AssertionError("no line %r in the template" % old)


def insert_after(text, after, new):
    ls = lines_of(text)
    for i, ln in enumerate(ls):
        if ln.strip() == after:
            ls.insert(i + 1, new)
            return "\n".join(ls), i + 2
    raise AssertionError("no line %r in the template" % after)


def add_contract(text, line):
    """Add a one-line contract after the last one; return (text, its line)."""
    ls = lines_of(text)
    i = max(k for k, ln in enumerate(ls) if ln.strip() == ");")
    ls[i - 1] = ls[i - 1] + ","
    ls.insert(i, line)
    return "\n".join(ls), i + 1


def broken_case(old, new, *words):
    text, line = replace_line(GOOD, old, new)
    with Case(text) as c:
        expect_broken(c.path, line, *words)


# ---------------------------------------------------------------- good


def configtest_shipped_config_ok():
    path = os.path.join(TOP_SRCDIR, "conf", "warrend.conf")
    if not os.path.exists(path):
        fail("the shipped config %s does not exist" % path)
    expect_good(path)


def configtest_full_config_ok():
    with Case(GOOD) as c:
        expect_good(c.path)


def configtest_minimal_config_ok():
    text = ('service = "s";\nsocket: { path = "{dir}/w.sock"; };\n'
            'contracts = (\n' + ONE_LINE_CONTRACT % ("ThingHappenedEvent", "thing.happened",
                                                    STRING_FIELD) + "\n);\n")
    with Case(text) as c:
        expect_good(c.path)


def configtest_range_limits_accepted():
    text = GOOD
    for old, new in (("publish_timeout_ms = 5000;", "publish_timeout_ms = 100;"),
                     ("shutdown_timeout_ms = 5000;", "shutdown_timeout_ms = 0;"),
                     ("confirm_window = 1024;", "confirm_window = 1;"),
                     ("mode = \"0660\";", "mode = \"0600\";")):
        text, _ = replace_line(text, old, new)
    with Case(text) as c:
        expect_good(c.path)
    text = GOOD
    for old, new in (("publish_timeout_ms = 5000;", "publish_timeout_ms = 3600000;"),
                     ("shutdown_timeout_ms = 5000;", "shutdown_timeout_ms = 600000;"),
                     ("queue_type = \"classic\";", "queue_type = \"quorum\";"),
                     ("unroutable = \"warn\";", "unroutable = \"error\";"),
                     ("fsync = \"always\";", "fsync = \"never\";")):
        text, _ = replace_line(text, old, new)
    with Case(text) as c:
        expect_good(c.path)


def configtest_warns_password_file_readable_by_others():
    with Case(GOOD, mode=0o644) as c:
        err = expect_good(c.path)
        expect(c.path in err, "a warning on stderr naming %s (it holds a password and "
               "is readable by others)" % c.path, err)


# ---------------------------------------------------------------- broken


def configtest_unknown_top_level_key():
    text, line = insert_after(GOOD, 'service = "configtest-service";', 'colour = "blue";')
    with Case(text) as c:
        expect_broken(c.path, line, "colour")


def configtest_misspelt_group_key_is_unknown_key():
    broken_case("heartbeat = 30;", "hartbeat = 30;", "hartbeat", "unknown")


def configtest_misspelt_socket_key_is_unknown_key():
    broken_case("max_clients = 1024;", "max_client = 1024;", "max_client", "unknown")


def configtest_wrong_type():
    broken_case("heartbeat = 30;", 'heartbeat = "30";', "heartbeat")


def configtest_wrong_type_string_for_group():
    broken_case('exchange = "events";', "exchange = 5;", "exchange")


def configtest_confirm_window_zero_out_of_range():
    broken_case("confirm_window = 1024;", "confirm_window = 0;", "confirm_window")


def configtest_heartbeat_negative_out_of_range():
    broken_case("heartbeat = 30;", "heartbeat = -1;", "heartbeat")


def configtest_publish_timeout_out_of_range():
    broken_case("publish_timeout_ms = 5000;", "publish_timeout_ms = 99;", "publish_timeout_ms")
    broken_case("publish_timeout_ms = 5000;", "publish_timeout_ms = 3600001;",
                "publish_timeout_ms")


def configtest_shutdown_timeout_out_of_range():
    broken_case("shutdown_timeout_ms = 5000;", "shutdown_timeout_ms = 600001;",
                "shutdown_timeout_ms")
    broken_case("shutdown_timeout_ms = 5000;", "shutdown_timeout_ms = -1;",
                "shutdown_timeout_ms")


def configtest_reconnect_bounds_crossed_with_one_default():
    """Only one of the pair in the file, crossing the other's default: the
    error names the one that is there (this used to crash warrend -t)."""
    for drop, keep, value in (("reconnect_min_ms = 100;", "reconnect_max_ms = 30000;",
                               "reconnect_max_ms = 5;"),
                              ("reconnect_max_ms = 30000;", "reconnect_min_ms = 100;",
                               "reconnect_min_ms = 40000;")):
        text, _ = replace_line(GOOD, drop, "")
        text, line = replace_line(text, keep, value)
        with Case(text) as c:
            expect_broken(c.path, line, "reconnect_min_ms", "reconnect_max_ms")


def configtest_metrics_settings_checked():
    for old, new, words in (('listen = "[::1]:9464";', 'listen = "9464";', ("host:port",)),
                            ('listen = "[::1]:9464";', 'listen = "[::1]:0";', ("host:port",)),
                            ('listen = "[::1]:9464";', 'listen = "[::1:9464";', ("host:port",)),
                            ("max_clients = 16;", "max_clients = 0;", ("max_clients",)),
                            ("max_clients = 16;", "max_clients = 1025;", ("max_clients",)),
                            ("timeout_ms = 10000;", "timeout_ms = 99;", ("timeout_ms",))):
        broken_case(old, new, *words)


def configtest_bad_socket_mode():
    broken_case('mode = "0660";', 'mode = "0999";', "mode")
    broken_case('mode = "0660";', 'mode = 660;', "mode")


def configtest_bad_enum_values():
    broken_case('unroutable = "warn";', 'unroutable = "drop";', "unroutable")
    broken_case('queue_type = "classic";', 'queue_type = "stream";', "queue_type")
    broken_case('fsync = "always";', 'fsync = "sometimes";', "fsync")


def configtest_syntax_error():
    text, line = replace_line(GOOD, "heartbeat = 30;", "heartbeat == 30;")
    with Case(text) as c:
        expect_broken(c.path, line)


def configtest_missing_service():
    text, _ = replace_line(GOOD, 'service = "configtest-service";', "# no service")
    with Case(text) as c:
        rc, out, err = configtest(c.path)
        if rc != 1 or c.path not in err or "service" not in err:
            fail("expected exit 1 naming %s and \"service\", got exit %d, stderr %s"
                 % (c.path, rc, short(err)))


def configtest_contract_unknown_type():
    text, line = add_contract(GOOD, ONE_LINE_CONTRACT % (
        "BlobbedEvent", "blob.added", '{ name = "x"; type = "blob"; }'))
    with Case(text) as c:
        expect_broken(c.path, line, "blob")


def configtest_contract_bad_regex():
    text, line = add_contract(GOOD, ONE_LINE_CONTRACT % (
        "PatternedEvent", "pattern.added", '{ name = "x"; type = "string"; pattern = "([a-z"; }'))
    with Case(text) as c:
        expect_broken(c.path, line, "pattern")


def configtest_contract_duplicate_name():
    text, line = add_contract(GOOD, ONE_LINE_CONTRACT % (
        "ResourceAccessedEvent", "resource.opened", STRING_FIELD))
    with Case(text) as c:
        expect_broken(c.path, line, "ResourceAccessedEvent")


def configtest_contract_duplicate_routing_key():
    text, line = add_contract(GOOD, ONE_LINE_CONTRACT % (
        "ResourceOpenedEvent", "resource.accessed", STRING_FIELD))
    with Case(text) as c:
        expect_broken(c.path, line, "resource.accessed")


def configtest_contract_bad_routing_key():
    for rk in ("resource", "resource.accessed.extra", "resource..accessed", "a b.c",
               "resource.accessed.v"):
        text, line = add_contract(GOOD, ONE_LINE_CONTRACT % ("ThingHappenedEvent", rk,
                                                             STRING_FIELD))
        with Case(text) as c:
            expect_broken(c.path, line, "routing")


def configtest_contract_bad_name():
    for name in ("thingHappened", "Thing-Happened", ""):
        text, line = add_contract(GOOD, ONE_LINE_CONTRACT % (name, "thing.happened",
                                                             STRING_FIELD))
        with Case(text) as c:
            expect_broken(c.path, line)


def configtest_contract_unknown_key():
    text, line = add_contract(GOOD, '  { name = "ThingHappenedEvent"; routing_key = '
                              '"thing.happened"; colour = "red"; fields = ( %s ); }'
                              % STRING_FIELD)
    with Case(text) as c:
        expect_broken(c.path, line, "colour")


GOOD_DIR_FILE = """\
# good contracts
contracts = (
  { name = "GoodThingEvent"; routing_key = "good.thing"; fields = ( { name = "x"; type = "string"; } ); }
);
"""

BROKEN_DIR_FILE = """\
# broken contracts
contracts = (
  { name = "BrokenThingEvent"; routing_key = "broken.thing"; fields = ( { name = "x"; type = "blob"; } ); }
);
"""


def with_contracts_dir(files):
    text, _ = insert_after(GOOD, 'service = "configtest-service";',
                           'contracts_dir = "{dir}/contracts.d";')
    c = Case(text)
    os.mkdir(os.path.join(c.dir, "contracts.d"))
    for name, body in files.items():
        with open(os.path.join(c.dir, "contracts.d", name), "w") as f:
            f.write(body)
    return c


def configtest_contracts_dir_good_files_ok():
    with with_contracts_dir({"good.conf": GOOD_DIR_FILE,
                             "README.txt": "not libconfig ( at all\n",
                             "broken.conf.disabled": BROKEN_DIR_FILE}) as c:
        expect_good(c.path)


def configtest_contracts_dir_broken_file_named_with_line():
    with with_contracts_dir({"good.conf": GOOD_DIR_FILE, "broken.conf": BROKEN_DIR_FILE}) as c:
        expect_broken(c.path, 3, "blob", file=os.path.join(c.dir, "contracts.d", "broken.conf"))


def configtest_contracts_dir_syntax_error_named_with_line():
    with with_contracts_dir({"good.conf": GOOD_DIR_FILE,
                             "zz.conf": "contracts = (\n  { name = \"ZzEvent\"; = ; }\n);\n"}) as c:
        expect_broken(c.path, 2, file=os.path.join(c.dir, "contracts.d", "zz.conf"))


def configtest_contracts_dir_duplicate_of_main_contract():
    dup = GOOD_DIR_FILE.replace("GoodThingEvent", "ResourceAccessedEvent")
    with with_contracts_dir({"dup.conf": dup}) as c:
        rc, out, err = configtest(c.path)
        if rc != 1 or "ResourceAccessedEvent" not in err or ".conf:" not in err:
            fail("expected exit 1 naming the duplicate ResourceAccessedEvent with FILE:LINE:, "
                 "got exit %d, stderr %s" % (rc, short(err)))


def configtest_missing_file():
    d = tempfile.mkdtemp(prefix="warren-configtest.")
    try:
        path = os.path.join(d, "no-such.conf")
        rc, out, err = configtest(path)
        if rc != 1 or path not in err:
            fail("expected exit 1 with stderr naming %s, got exit %d, stdout %s, stderr %s"
                 % (path, rc, short(out), short(err)))
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------ the daemon uses the dir


def contracts_dir_contracts_served():
    d = Daemon("contracts_dir", contracts=[RESOURCE_ACCESSED], wait_connected=False)
    os.mkdir(os.path.join(d.dir, "contracts.d"))
    with open(os.path.join(d.dir, "contracts.d", "good.conf"), "w") as f:
        f.write(GOOD_DIR_FILE)
    d.write_config(d.config_text() + 'contracts_dir = "%s";\n'
                   % os.path.join(d.dir, "contracts.d"))
    with d:
        with d.client() as c:
            r = expect_ok(c.request({"op": "contracts"}), "contracts")
        names = sorted(ct.get("name") for ct in r.get("contracts", []))
        expect(names == ["GoodThingEvent", "ResourceAccessedEvent"],
               "the contracts of the config and of contracts.d/good.conf", names)


def socket_created_with_configured_mode():
    import stat
    for mode in ("0600", "0660", "0666"):
        with Daemon("socket_mode", wait_connected=False, socket_opts={"mode": mode}) as d:
            got = stat.S_IMODE(os.stat(d.sock_path).st_mode)
            expect(got == int(mode, 8), "socket %s with mode %s" % (d.sock_path, mode),
                   "mode %04o" % got)


def log_priority_prefix_when_stderr_is_the_journal():
    import re
    with Daemon("journal", wait_connected=False, journal=True) as d:
        d.assert_serving()
        lines = [ln for ln in d.log().split("\n") if ln]
    expect(lines and all(re.match(r"<[0-7]>", ln) for ln in lines),
           "every log line with a <N> syslog priority prefix when $JOURNAL_STREAM names stderr",
           lines[:5])
    with Daemon("no_journal", wait_connected=False) as d:
        d.assert_serving()
        lines = [ln for ln in d.log().split("\n") if ln]
    expect(lines and not any(re.match(r"<[0-7]>", ln) for ln in lines),
           "no <N> prefix when stderr is not the journal", lines[:5])


def options_version_printed():
    if not os.access(WARREND, os.X_OK):
        fail("warrend not found or not executable at %s" % WARREND)
    p = subprocess.run([WARREND, "-V"], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    if p.returncode != 0 or "0.1.0" not in out:
        fail("warrend -V: expected exit 0 and the version 0.1.0, got exit %d, output %s"
             % (p.returncode, short(out)))


def options_unknown_option_exits_nonzero_with_usage():
    if not os.access(WARREND, os.X_OK):
        fail("warrend not found or not executable at %s" % WARREND)
    p = subprocess.run([WARREND, "-Q"], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode == 0 or "usage" not in err.lower():
        fail("warrend -Q: expected a non-zero exit and a usage message on stderr, got exit "
             "%d, stderr %s" % (p.returncode, short(err)))


if __name__ == "__main__":
    run([
        configtest_shipped_config_ok,
        configtest_full_config_ok,
        configtest_minimal_config_ok,
        configtest_range_limits_accepted,
        configtest_warns_password_file_readable_by_others,
        configtest_unknown_top_level_key,
        configtest_misspelt_group_key_is_unknown_key,
        configtest_misspelt_socket_key_is_unknown_key,
        configtest_wrong_type,
        configtest_wrong_type_string_for_group,
        configtest_confirm_window_zero_out_of_range,
        configtest_heartbeat_negative_out_of_range,
        configtest_publish_timeout_out_of_range,
        configtest_shutdown_timeout_out_of_range,
        configtest_reconnect_bounds_crossed_with_one_default,
        configtest_metrics_settings_checked,
        configtest_bad_socket_mode,
        configtest_bad_enum_values,
        configtest_syntax_error,
        configtest_missing_service,
        configtest_contract_unknown_type,
        configtest_contract_bad_regex,
        configtest_contract_duplicate_name,
        configtest_contract_duplicate_routing_key,
        configtest_contract_bad_routing_key,
        configtest_contract_bad_name,
        configtest_contract_unknown_key,
        configtest_contracts_dir_good_files_ok,
        configtest_contracts_dir_broken_file_named_with_line,
        configtest_contracts_dir_syntax_error_named_with_line,
        configtest_contracts_dir_duplicate_of_main_contract,
        configtest_missing_file,
        contracts_dir_contracts_served,
        socket_created_with_configured_mode,
        log_priority_prefix_when_stderr_is_the_journal,
        options_version_printed,
        options_unknown_option_exits_nonzero_with_usage,
    ])
