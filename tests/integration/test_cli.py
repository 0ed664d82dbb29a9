#!/usr/bin/python3
"""The command-line client warren(1), run as a program against a real
warrend and RabbitMQ: ping, stats and contracts; publishing one event from
an argument or many from standard input (message ids, spooled and
unroutable marks, refusals and exit statuses); subscribing, printing or
handing each delivery to a command and acking it only once that is done."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from warrentest import (DEADLINE, RESOURCE_ACCESSED, STOP_BOUND, UNREACHABLE_URL,
                        Broker, Daemon, _pika, conf_text, expect, expect_eq, fail, rabbitmqctl,
                        resource_data, run, short, unique, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
WARREN = os.environ.get("WARREN") or os.path.normpath(
    os.path.join(HERE, "..", "..", "src", "warren", "warren"))

EVENT = "ResourceAccessedEvent"
ROUTING_KEY = "resource.accessed"
RUN_BOUND = 120.0       # a warren run taking longer than this has hung
CONTRACT_NAMES = ["ResourceAccessedEvent", "OrderPlacedEvent", "MeasurementTakenEvent"]
NAIVE_LINE = ("warren: validation: accessed_at: datetime has no timezone offset "
              "(field accessed_at)")


# ------------------------------------------------------------------ helpers


class Result:
    """How a finished warren run went: rc, out and err as text, raw bytes."""

    def __init__(self, args, rc, out, err):
        self.args = args
        self.rc = rc
        self.rawout = out
        self.rawerr = err
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")

    def __repr__(self):
        return "warren %s: exit %s, stdout %s, stderr %s" % (
            short(" ".join(str(a) for a in self.args[1:]), 200), self.rc,
            short(self.out, 300), short(self.err, 300))


def warren_env(extra=None):
    env = dict(os.environ)
    env.pop("WARREN_SOCKET", None)
    env.update(extra or {})
    return env


def check_binary():
    """warren is there (waiting a little: make may be relinking it)."""
    try:
        wait_for(lambda: os.access(WARREN, os.X_OK), "warren at %s" % WARREN)
    except Exception:
        fail("warren not found or not executable at %s" % WARREN)


def warren(*args, stdin=None, env=None):
    """Run warren with args to its end; stdin is bytes, str or None."""
    check_binary()
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    argv = [WARREN] + list(args)
    try:
        p = subprocess.run(argv, input=stdin if stdin is not None else b"",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=warren_env(env), timeout=RUN_BOUND)
    except subprocess.TimeoutExpired as e:
        fail("warren %s did not finish within %.0f s (stdout %s, stderr %s)"
             % (short(" ".join(str(a) for a in args), 200), RUN_BOUND,
                short(e.stdout or b""), short(e.stderr or b"")))
    return Result(argv, p.returncode, p.stdout, p.stderr)


def expect_rc(res, rc):
    if res.rc != rc:
        fail("exit status %d: got %r" % (rc, res))


def wcli(d, *args, **kw):
    """warren -s <d's socket> args."""
    return warren("-s", d.sock_path, *args, **kw)


def parse_json(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        fail("%s: expected JSON, got %s (%s)" % (what, short(text), e))


def cli_stats(d):
    """warren stats, parsed."""
    res = wcli(d, "stats")
    expect_rc(res, 0)
    st = parse_json(res.out, "warren stats output")
    expect(isinstance(st, dict), "warren stats to print a JSON object", res.out)
    return st


def wait_stat(d, key, value, what=None):
    """Poll warren stats until stats[key] == value; the last stats."""
    last = [None]

    def ok():
        last[0] = cli_stats(d)
        return last[0].get(key) == value
    try:
        wait_for(ok, what or "stats.%s == %r" % (key, value))
    except Exception:
        fail("stats.%s: expected %r, got %r (last stats %s)"
             % (key, value, (last[0] or {}).get(key), short(json.dumps(last[0]))))
    return last[0]


def message_id_line(line, suffix=""):
    """The message id from a line "ID" + suffix, or fail."""
    m = re.fullmatch(r"([^\s()]+)" + re.escape(suffix), line)
    if not m:
        fail("expected a line \"<message_id>%s\", got %s" % (suffix, short(line)))
    return m.group(1)


def one_line(text, what):
    lines = text.split("\n")
    if len(lines) != 2 or lines[1] != "":
        fail("%s: expected exactly one line, got %s" % (what, short(text)))
    return lines[0]


def service_for(name):
    """A per-test, per-process service name: it names warrend's queues."""
    return "svc-cli-%s-%d" % (name.replace("_", "-"), os.getpid())


def consumer_daemon(b, name, **kw):
    """A Daemon with a unique service; the queue, dead queue and dead-letter
    exchange warrend declares for EVENT are removed by b on exit, after the
    daemon has stopped."""
    kw.setdefault("service", service_for(name))
    d = Daemon(name, **kw)
    b.exchanges.extend([d.exchange, d.exchange + ".dlx"])
    q = queue_of(d)
    b.queues.extend([q, q + ".dead"])
    return d


def queue_of(d, event=EVENT):
    return "%s.%s" % (d.service, event)


def queue_table():
    """{queue: (ready, unacked, consumers)} from rabbitmqctl; raises on
    error (wait_for keeps polling)."""
    rc, out = rabbitmqctl("-q", "list_queues", "--no-table-headers", "name",
                          "messages_ready", "messages_unacknowledged", "consumers")
    if rc != 0:
        raise RuntimeError("rabbitmqctl list_queues failed (%d): %s" % (rc, out.strip()))
    t = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            try:
                t[parts[0]] = tuple(int(x) for x in parts[1:])
            except ValueError:
                pass
    return t


def wait_queue(q, ready=None, unacked=None, consumers=None, deadline=DEADLINE):
    """Wait until the broker shows queue q with these counts (None: any)."""
    last = ["not polled"]

    def ok():
        got = queue_table().get(q)
        last[0] = "no such queue" if got is None else \
            "ready %d, unacked %d, consumers %d" % got
        if got is None:
            return False
        return all(w is None or w == h for w, h in zip((ready, unacked, consumers), got))
    try:
        wait_for(ok, "queue %s counts" % q, deadline, interval=0.3)
    except Exception:
        want = ", ".join("%s %s" % (k, v) for k, v in
                         (("ready", ready), ("unacked", unacked), ("consumers", consumers))
                         if v is not None)
        fail("queue %s: expected %s, got %s (waited %.0f s)" % (q, want, last[0], deadline))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# The broker is shared with other test runs, which may restart it, block it
# (memory alarm) or slow its confirms. warrend then spools events, prints
# " (spooled)" and publishes them later, possibly twice (warrend(8),
# Duplicates), and consumers see redeliveries. Tests whose subject is not
# that accept it; their exact counts hold only when nothing of the sort
# happened (disturbed() is false).
SPOOLED = " (spooled)"


def accepted_line(line):
    """(message_id, spooled) from an output line "ID" or "ID (spooled)"."""
    if line.endswith(SPOOLED):
        return message_id_line(line, SPOOLED), True
    return message_id_line(line), False


def disturbed(d):
    """Did this warrend spool, reconnect or republish (see SPOOLED)?"""
    st = cli_stats(d)
    try:
        return (st["spooled"] > 0 or st["broker"]["reconnects"] > 0
                or st["broker"]["republished"] > 0 or st["consumer"]["reconnects"] > 0)
    except (KeyError, TypeError):
        fail("stats without spooled, broker.reconnects, broker.republished or "
             "consumer.reconnects: %s" % short(json.dumps(st)))


def queue_bodies(b, q, ids, deadline=DEADLINE):
    """Take messages from q until every id in ids was seen: {id: [body...]}
    of every message taken."""
    got = {}

    def ok():
        for m in b.get_all(q):
            got.setdefault(m.props.message_id, []).append(m.body)
        return all(i in got for i in ids)
    try:
        wait_for(ok, "the messages in %s" % q, deadline, 0.1)
    except Exception:
        missing = [i for i in ids if i not in got]
        fail("every printed message id in queue %s: %d missing, e.g. %s (%d ids in the queue)"
             % (q, len(missing), missing[:3], len(got)))
    return got


def wait_acked(d, n, lost=0):
    """Wait until warrend has acked n deliveries or more, and every delivery
    but the first lost ones (held by a subscriber that went away) is acked
    (and none is left in its spool); the stats."""
    last = [None]

    def ok():
        st = last[0] = cli_stats(d)
        return (st.get("acks", 0) >= n and st["acks"] + lost == st.get("deliveries")
                and st.get("spool", {}).get("records") == 0)
    try:
        wait_for(ok, "acks")
    except Exception:
        fail("stats: expected %d acks or more, and every delivery acked but %d, got %s"
             % (n, lost, short(json.dumps(last[0]))))
    return last[0]


def cli_publish(d, data, event=EVENT):
    """warren publish event data (a dict or raw JSON text): the message_id."""
    text = data if isinstance(data, str) else compact(data)
    res = wcli(d, "publish", event, text)
    expect_rc(res, 0)
    return accepted_line(one_line(res.out, "publish output"))[0]


class Subscriber:
    """warren subscribe ARGS running with stdout piped (or closed at once)
    and stderr in a file; stopped by its PID on exit. Children recorded with
    adopt() (commands that outlive a killed warren) are killed too."""

    def __init__(self, d, *args, env=None, close_stdout=False):
        check_binary()
        self.dir = tempfile.mkdtemp(prefix="warren-cli-sub.")
        self.err_path = os.path.join(self.dir, "stderr")
        self.errf = open(self.err_path, "wb")
        self.orphans = []
        self.buf = b""
        self.argv = [WARREN, "-s", d.sock_path, "subscribe"] + list(args)
        self.env = warren_env(env)
        self.close_stdout = close_stdout
        self.proc = None
        self.start()

    def start(self):
        self.errf.seek(0)
        self.errf.truncate()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.errf,
                                     env=self.env)
        if self.close_stdout:
            self.proc.stdout.close()

    def wait_subscribed(self, d, event=EVENT):
        """Wait until warrend consumes the event's queue for us. A subscribe
        answered "unavailable" (the broker restarted just then: other test
        runs share it) is tried again with a new warren subscribe."""
        q = queue_of(d, event)
        end = time.monotonic() + DEADLINE
        while True:
            got = queue_table().get(q)
            if got is not None and got[2] >= 1 and self.alive():
                return
            if not self.alive():
                err = self.stderr()
                if not err.startswith("warren: unavailable:") or time.monotonic() > end:
                    fail("warren subscribe %s exited with status %s before its subscription "
                         "was live (stderr %s)" % (event, self.proc.returncode, short(err)))
                with_suppress(lambda: self.proc.stdout and self.proc.stdout.close())
                d.wait_broker(True)
                self.start()
            if time.monotonic() > end:
                fail("queue %s: expected a consumer within %.0f s, got %s"
                     % (q, DEADLINE, "no such queue" if got is None else
                        "ready %d, unacked %d, consumers %d" % got))
            time.sleep(0.3)

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def readline(self, timeout=DEADLINE, what="a line from warren subscribe"):
        """The next stdout line (bytes, no newline)."""
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                fail("timed out after %.0f s waiting for %s (stdout so far %s, "
                     "stderr %s)" % (timeout, what, short(self.buf), short(self.stderr())))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                self.proc.wait(STOP_BOUND)
                fail("warren subscribe ended (status %s) instead of giving %s "
                     "(stdout %s, stderr %s)" % (self.proc.returncode, what,
                                                short(self.buf), short(self.stderr())))
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def delivery(self, what="a deliver line"):
        raw = self.readline(what=what)
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            fail("%s: expected a JSON object, got %s (%s)" % (what, short(raw), e))
        if not isinstance(obj, dict):
            fail("%s: expected a JSON object, got %s" % (what, short(raw)))
        return obj, raw

    def adopt(self, pid):
        self.orphans.append(pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Send sig and wait for the exit (SIGKILL after a bound)."""
        if self.proc.poll() is None:
            with_suppress(lambda: self.proc.send_signal(sig))
            try:
                self.proc.wait(STOP_BOUND)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def wait_exit(self, what):
        try:
            return self.proc.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            fail("warren subscribe still running %.0f s after %s (stderr %s)"
                 % (DEADLINE, what, short(self.stderr())))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        for pid in self.orphans:
            with_suppress(lambda: os.kill(pid, signal.SIGKILL))
        if self.proc.stdout is not None:
            with_suppress(self.proc.stdout.close)
        self.errf.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def with_suppress(fn):
    try:
        fn()
    except (OSError, ValueError):
        pass


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="warren-cli.")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


class FakeWarrend:
    """A Unix socket server standing in for warrend: handler(conn) is run
    for each connection it accepts (in a thread); conn is closed after."""

    def __init__(self, handler):
        self.dir = tempfile.mkdtemp(prefix="warren-cli-fake.")
        self.path = os.path.join(self.dir, "fake.sock")
        self.handler = handler
        self.errors = []
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(self.path)
        self.lsock.listen(8)
        self.closing = False
        self.conns = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.closing:
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self.handler(conn)
        except Exception as e:
            self.errors.append(e)
        finally:
            with_suppress(conn.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closing = True
        with_suppress(lambda: self.lsock.shutdown(socket.SHUT_RDWR))
        with_suppress(self.lsock.close)
        for c in self.conns:
            with_suppress(c.close)
        self.thread.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def read_lines(conn, n, deadline=DEADLINE):
    """Read n request lines from conn; the lines (bytes)."""
    buf = b""
    end = time.monotonic() + deadline
    while buf.count(b"\n") < n:
        left = end - time.monotonic()
        if left <= 0:
            raise RuntimeError("got only %d of %d request lines" % (buf.count(b"\n"), n))
        conn.settimeout(left)
        chunk = conn.recv(65536)
        if not chunk:
            raise RuntimeError("client closed after %d of %d lines" % (buf.count(b"\n"), n))
        buf += chunk
    return buf.split(b"\n")[:n]


# ------------------------------------------------- ping, stats, contracts


def ping_prints_ok_with_socket_option():
    with Daemon("cli_ping", wait_connected=False) as d:
        res = wcli(d, "ping")
        expect_rc(res, 0)
        expect_eq("ping stdout", "ok\n", res.out)
        expect_eq("ping stderr", "", res.err)


def config_option_reads_socket_path_from_config():
    with Daemon("cli_conf", wait_connected=False) as d:
        res = warren("-c", d.conf_path, "ping")
        expect_rc(res, 0)
        expect_eq("ping stdout with -c", "ok\n", res.out)
        res = warren("-c", d.conf_path, "contracts")
        expect_rc(res, 0)
        got = parse_json(res.out, "warren -c FILE contracts output")
        expect_eq("contract names with -c", CONTRACT_NAMES,
                  [c.get("name") for c in got] if isinstance(got, list) else got)
        res = warren("-c", d.conf_path, "stats")
        expect_rc(res, 0)
        expect("accepted" in parse_json(res.out, "warren -c FILE stats output"),
               "stats with an \"accepted\" member", res.out)


def socket_option_takes_precedence_over_config():
    with Daemon("cli_prec", wait_connected=False) as d, TempDir() as tmp:
        # A valid config whose socket.path leads nowhere.
        other = dict(d.settings())
        other["socket"] = {"path": os.path.join(tmp, "nobody.sock")}
        conf = os.path.join(tmp, "other.conf")
        with open(conf, "w") as f:
            f.write(conf_text(other))
        res = warren("-c", conf, "-s", d.sock_path, "ping")
        expect_rc(res, 0)
        expect_eq("ping stdout with -c then -s", "ok\n", res.out)
        res = warren("-s", d.sock_path, "-c", conf, "ping")
        expect_rc(res, 0)
        expect_eq("ping stdout with -s then -c", "ok\n", res.out)


def default_socket_without_options_or_environment():
    res = warren("ping")
    if res.rc != 0 or res.out != "ok\n":     # no warrend there, most likely
        expect_rc(res, 2)
        expect("/run/warren/warren.sock" in res.err, "the default socket named", res)
    res = warren("ping", env={"WARREN_SOCKET": ""})
    if res.rc != 0 or res.out != "ok\n":
        expect_rc(res, 2)
        expect("/run/warren/warren.sock" in res.err,
               "the default socket named (WARREN_SOCKET empty)", res)


def warren_socket_environment_used_without_options():
    with Daemon("cli_env", wait_connected=False) as d:
        res = warren("ping", env={"WARREN_SOCKET": d.sock_path})
        expect_rc(res, 0)
        expect_eq("ping stdout with WARREN_SOCKET", "ok\n", res.out)
        with TempDir() as tmp:
            # -s wins over WARREN_SOCKET.
            res = warren("-s", d.sock_path, "ping",
                         env={"WARREN_SOCKET": os.path.join(tmp, "nobody.sock")})
            expect_rc(res, 0)
            expect_eq("ping stdout, -s over WARREN_SOCKET", "ok\n", res.out)
            # So does -c: the variable is used only without either.
            res = warren("-c", d.conf_path, "ping",
                         env={"WARREN_SOCKET": os.path.join(tmp, "nobody.sock")})
            expect_rc(res, 0)
            expect_eq("ping stdout, -c over WARREN_SOCKET", "ok\n", res.out)


def stats_prints_counters_as_json():
    with Broker() as b, Daemon("cli_stats") as d:
        b.bind_queue(unique("cli_stats"), d.exchange, ROUTING_KEY)
        st = cli_stats(d)
        expect(type(st.get("accepted")) is int, "an integer stats.accepted", json.dumps(st))
        expect_eq("stats.accepted before any publish", 0, st["accepted"])
        cli_publish(d, resource_data(1))
        cli_publish(d, resource_data(2))
        st = cli_stats(d)
        expect_eq("stats.accepted after two publishes", 2, st.get("accepted"))
        expect(isinstance(st.get("broker"), dict) and st["broker"].get("connected") is True,
               "stats.broker.connected true", json.dumps(st))
        res = wcli(d, "stats")
        expect(res.out.count("\n") > 3, "indented (multi-line) JSON", res.out)


def contracts_prints_configured_contracts_as_json():
    with Daemon("cli_contracts", wait_connected=False) as d:
        res = wcli(d, "contracts")
        expect_rc(res, 0)
        got = parse_json(res.out, "warren contracts output")
        expect(isinstance(got, list), "a JSON array of contracts", res.out)
        expect_eq("contract names", CONTRACT_NAMES, [c.get("name") for c in got])
        ra = got[0]
        expect_eq("routing_key", ROUTING_KEY, ra.get("routing_key"))
        expect_eq("publisher", "link-service", ra.get("publisher"))
        expect_eq("consumers", ["analytics-service"], ra.get("consumers"))
        expect_eq("field names", ["resource_id", "resource_name", "accessed_at", "user_agent"],
                  [f.get("name") for f in ra.get("fields", [])])
        expect(res.out.count("\n") > 3, "indented (multi-line) JSON", res.out)


def nothing_listening_exits_2_is_warrend_running():
    with TempDir() as tmp:
        missing = os.path.join(tmp, "missing.sock")
        # A socket file nobody listens on (ECONNREFUSED).
        stale = os.path.join(tmp, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        s.close()
        for path in (missing, stale):
            for cmd in (["ping"], ["stats"], ["contracts"],
                        ["publish", EVENT, compact(resource_data())],
                        ["subscribe", EVENT]):
                res = warren("-s", path, *cmd)
                expect_rc(res, 2)
                expect("cannot connect" in res.err and "is warrend running?" in res.err,
                       "stderr with \"cannot connect\" and \"is warrend running?\"", res)
                expect_eq("stdout of %s with nothing listening" % cmd[0], "", res.out)
        # The same through WARREN_SOCKET and through -c.
        res = warren("ping", env={"WARREN_SOCKET": missing})
        expect_rc(res, 2)
        expect("cannot connect" in res.err and "is warrend running?" in res.err,
               "stderr with \"cannot connect\" and \"is warrend running?\"", res)


def config_option_unreadable_or_invalid_exits_2():
    with TempDir() as tmp:
        res = warren("-c", os.path.join(tmp, "missing.conf"), "ping")
        expect_rc(res, 2)
        expect(res.err.strip() != "", "a message on stderr", res)
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write("service = \"x\";\nsocket: { path = 12; };\nthis is not libconfig\n")
        res = warren("-c", bad, "ping")
        expect_rc(res, 2)
        expect(res.err.strip() != "", "a message on stderr", res)
        # Valid syntax, a socket.path, but a contract warrend -t refuses.
        with Daemon("cli_conf_bad", wait_connected=False) as d:
            contract = dict(RESOURCE_ACCESSED,
                            fields=[{"name": "x", "type": "bogus"}])
            with open(bad, "w") as f:
                f.write(d.config_text([contract]))
            res = warren("-c", bad, "ping")
            expect_rc(res, 2)
            expect_eq("stdout", "", res.out)
            expect("bogus" in res.err, "a message naming the bad type", res)


def usage_errors_exit_2():
    """A usage mistake: exit 2, the mistake named in one "warren: " line,
    then the short usage, found before connecting."""
    with TempDir() as tmp:
        sock = os.path.join(tmp, "nobody.sock")
        top = r"usage: warren \[-hV\] \[-c file \| -s socket\] command .*"
        cases = [([], "warren: no command given", top),
                 (["publish"], "warren: publish: missing the event name", "publish"),
                 (["-s", sock, "frobnicate"], "warren: unknown command: frobnicate", top),
                 (["-s", sock, "ping", "extra"], "warren: ping: unexpected argument: extra",
                  "ping"),
                 (["-s", sock, "stats", "x"], "warren: stats: unexpected argument: x", "stats"),
                 (["-s", sock, "publish", EVENT, "{}", "{}"],
                  "warren: publish: unexpected argument: {}", "publish"),
                 (["-s", sock, "subscribe"], "warren: subscribe: missing the event name",
                  "subscribe"),
                 (["-s", sock, "subscribe", EVENT, "Other"],
                  "warren: subscribe: unexpected argument: Other", "subscribe"),
                 (["-s", sock, "subscribe", "--exec"],
                  "warren: subscribe: option --exec needs an argument", "subscribe"),
                 (["-s", sock, "subscribe", "--nope", EVENT],
                  "warren: subscribe: unknown option --nope", "subscribe"),
                 (["-x", "ping"], "warren: unknown option -x", top),
                 (["--bogus"], "warren: unknown option --bogus", top),
                 (["-s"], "warren: option -s needs an argument", top),
                 (["contracts", "--json-schema"],
                  "warren: contracts: option --json-schema needs an argument", "contracts"),
                 (["asyncapi", "x"], "warren: asyncapi: unexpected argument: x", "asyncapi")]
        for args, first, usage in cases:
            res = warren(*args)
            expect_rc(res, 2)
            lines = res.err.split("\n")
            if not re.fullmatch(r"\w+", usage):
                pat = usage
            else:
                pat = r"usage: warren \[-c file \| -s socket\] %s( .*)?" % usage
            expect(lines[0] == first and re.fullmatch(pat, lines[1]),
                   "warren %s: stderr %r, then the usage line matching %r"
                   % (" ".join(args), first, pat), res)
            expect_eq("stdout of warren %s" % " ".join(args), "", res.out)


def help_and_version_exit_0():
    for flag in ("-h", "--help"):
        res = warren(flag)
        expect_rc(res, 0)
        expect(res.out.startswith("usage: warren ") and res.err == "" and
               all(c in res.out for c in COMMANDS), "the usage, naming every command, on "
               "stdout", res)
    for flag in ("-V", "--version"):
        res = warren(flag)
        expect_rc(res, 0)
        expect(re.fullmatch(r"warren \S+\n", res.out) is not None, "\"warren VERSION\"", res)


COMMANDS = ("ping", "stats", "contracts", "publish", "subscribe", "compat", "lint",
            "asyncapi")


def every_command_has_help_exit_0():
    """COMMAND --help and COMMAND -h print that command's usage on stdout,
    exit 0, and connect to nothing (the socket does not exist)."""
    for cmd in COMMANDS:
        for flag in ("--help", "-h"):
            res = warren("-s", "/nonexistent/warren.sock", cmd, flag)
            expect(res.rc == 0 and res.err == "" and
                   res.out.startswith("usage: warren [-c file | -s socket] %s" % cmd),
                   "warren %s %s: exit 0 and its usage on stdout" % (cmd, flag), res)


def json_output_indented_by_two_spaces():
    """stats, contracts, compat --json, contracts --json-schema and asyncapi
    all print JSON the same way: two spaces per level, no tabs."""
    def check(what, out, nested=True):
        parse_json(out, what)
        expect("\t" not in out and re.search(r"^  \S", out, re.M) and
               (not nested or re.search(r"^    \S", out, re.M)),
               "%s indented by two spaces, no tabs" % what, out[:300])
    with Daemon("cli_json_style", wait_connected=False) as d:
        check("warren stats", wcli(d, "stats").out)
        check("warren contracts", wcli(d, "contracts").out)
        check("warren contracts --json-schema",
              warren("-c", d.conf_path, "contracts", "--json-schema", EVENT).out)
        check("warren asyncapi", warren("-c", d.conf_path, "asyncapi").out)
        check("warren compat --json", warren("compat", "--json", d.conf_path,
                                             d.conf_path).out, nested=False)


def messages_have_no_time_stamp():
    """What warren logs through the daemon's logger (a config readable by
    others that holds a password) is "warren: ..." with no time stamp."""
    with Daemon("cli_no_stamp", wait_connected=False) as d:
        os.chmod(d.conf_path, 0o644)
        res = warren("-c", d.conf_path, "ping")
        expect_rc(res, 0)
        want = "warren: %s holds a broker password and is readable by others " \
            "(mode 0644)\n" % d.conf_path
        expect_eq("warren -c CONF ping stderr", want, res.err)


def too_many_clients_exits_2():
    with Daemon("cli_tmc", wait_connected=False, socket_opts={"max_clients": 2}) as d:
        with d.client() as c1, d.client() as c2:
            c1.ping()
            c2.ping()
            for cmd in (["ping"], ["stats"], ["publish", EVENT, compact(resource_data())]):
                res = wcli(d, *cmd)
                expect_rc(res, 2)
                expect("too many clients" in res.err or "refused" in res.err,
                       "a message saying warrend refused the connection", res)
                expect_eq("stdout", "", res.out)
        res = wcli(d, "ping")
        expect_rc(res, 0)


def not_a_reply_exits_2():
    def garbage(conn):
        read_lines(conn, 1)
        conn.sendall(b"this is not a reply\n")
        read_lines_until_eof(conn)

    def not_ok(conn):
        read_lines(conn, 1)
        conn.sendall(b'{"op":"ping","hello":1}\n')
        read_lines_until_eof(conn)
    for handler in (garbage, not_ok):
        with FakeWarrend(handler) as f:
            for cmd in (["ping"], ["stats"], ["publish", EVENT, compact(resource_data())]):
                res = warren("-s", f.path, *cmd)
                expect_rc(res, 2)
                expect_eq("stdout (%s, %s)" % (cmd[0], handler.__name__), "", res.out)
                expect(res.err.startswith("warren: "), "a message on stderr", res)


def read_lines_until_eof(conn):
    conn.settimeout(DEADLINE)
    while conn.recv(65536):
        pass


def closed_with_requests_unanswered_exits_2():
    def hang_up(conn):
        read_lines(conn, 1)
    with FakeWarrend(hang_up) as f:
        for cmd in (["ping"], ["contracts"], ["publish", EVENT, compact(resource_data())]):
            res = warren("-s", f.path, *cmd)
            expect_rc(res, 2)
            expect_eq("stdout of %s" % cmd[0], "", res.out)
            expect(res.err.startswith("warren: "), "a message on stderr", res)


def publish_stdin_connection_lost_prints_answered_ids_exits_2():
    """warrend answers 3 of 10 pipelined lines and hangs up: the 3 message
    ids are printed, in order, and warren exits 2."""
    def three(conn):
        reqs = read_lines(conn, 10)
        out = b""
        for raw in reqs[:3]:
            req = json.loads(raw)
            out += json.dumps({"op": "publish", "ok": True, "id": req.get("id"),
                               "message_id": "m-%s" % req.get("id")}).encode() + b"\n"
        conn.sendall(out)
    lines = "".join(compact(resource_data(i)) + "\n" for i in range(10))
    with FakeWarrend(three) as f:
        res = warren("-s", f.path, "publish", EVENT, stdin=lines)
        expect(not f.errors, "the fake warrend to get 10 request lines", f.errors)
        expect_rc(res, 2)
        expect_eq("stdout: the ids of the answered lines", "m-1\nm-2\nm-3\n", res.out)
        expect(res.err.startswith("warren: "), "a message on stderr", res)


def publish_stdin_warrend_killed_printed_ids_are_in_queue():
    with Broker() as b, Daemon("cli_stdin_lost") as d:
        q = unique("cli_stdin_lost")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        check_binary()
        with TempDir() as tmp:
            errpath = os.path.join(tmp, "stderr")
            with open(errpath, "wb") as errf:
                p = subprocess.Popen([WARREN, "-s", d.sock_path, "publish", EVENT],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=errf, env=warren_env())
            try:
                p.stdin.write("".join(compact(resource_data(i)) + "\n"
                                      for i in range(10)).encode())
                p.stdin.flush()
                out = b""
                fd = p.stdout.fileno()
                end = time.monotonic() + DEADLINE
                while out.count(b"\n") < 10:
                    if time.monotonic() > end:
                        fail("expected 10 message ids before warrend is killed, got %s"
                             % short(out))
                    r, _, _ = select.select([fd], [], [], 0.5)
                    if r:
                        chunk = os.read(fd, 65536)
                        if not chunk:
                            fail("warren publish ended early: stdout %s, stderr %s"
                                 % (short(out), short(read_file(errpath))))
                        out += chunk
                d.terminate(signal.SIGKILL)
                rest, _ = p.communicate(b"", timeout=RUN_BOUND)
                out += rest
                err = read_file(errpath).decode("utf-8", "replace")
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            expect(p.returncode == 2, "exit status 2 after warrend was killed",
                   "status %s, stderr %s" % (p.returncode, short(err)))
            expect(err.startswith("warren: ") and "connection" in err,
                   "a message about the lost connection", err)
            printed = [accepted_line(line) for line in out.decode().split("\n")[:-1]]
            expect_eq("ids printed", 10, len(printed))
            if any(sp for _, sp in printed):
                # Those are safe in the spool: a new warrend publishes them.
                d.stopping = False
                d.start()
            queue_bodies(b, q, [mid for mid, _ in printed])


def ping_gives_up_on_silence_exits_2():
    """ping gives up when warrend sends nothing (30 seconds, warren(1))."""
    def silent(conn):
        read_lines(conn, 1)
        read_lines_until_eof(conn)
    with FakeWarrend(silent) as f:
        res = warren("-s", f.path, "ping")
        expect_rc(res, 2)
        expect_eq("stdout", "", res.out)
        expect(res.err.startswith("warren: "), "a message on stderr", res)


# ---------------------------------------------------------------- publish


def publish_argument_body_byte_for_byte():
    data = ('{ "sensor" : "th\\u00e9rmo\\n1" ,\t"value":9007199254740993,'
            '"ratio": 1.50e2 , "label":"\u6e29\u5ea6 \u2603 \U0001F600",  '
            '"at":"2024-05-01T12:00:00.123+02:00"  }')
    with Broker() as b, Daemon("cli_bytes") as d:
        q = unique("cli_bytes")
        b.bind_queue(q, d.exchange, "measurement.taken")
        res = wcli(d, "publish", "MeasurementTakenEvent", data)
        expect_rc(res, 0)
        expect_eq("stderr", "", res.err)
        mid, _ = accepted_line(one_line(res.out, "publish output"))
        got = queue_bodies(b, q, [mid])
        for body in got[mid]:
            if body != data.encode("utf-8"):
                fail("message body: expected exactly %s, got %s"
                     % (short(data.encode("utf-8")), short(body)))
        if not disturbed(d):
            expect_eq("messages in %s" % q, {mid: 1}, {k: len(v) for k, v in got.items()})


def publish_argument_newlines_sent_as_spaces():
    data = ('{"resource_id":"abc",\n "resource_name":"do\\ncs",\n\n'
            '   "accessed_at" :\n"2026-11-27T05:18:40Z"\n}')
    with Broker() as b, Daemon("cli_newlines") as d:
        q = unique("cli_newlines")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        res = wcli(d, "publish", EVENT, data)
        expect_rc(res, 0)
        mid, _ = accepted_line(one_line(res.out, "publish output"))
        want = data.replace("\n", " ").encode("utf-8")
        for body in queue_bodies(b, q, [mid])[mid]:
            if body != want:
                fail("message body: expected the argument with newlines as spaces %s, got %s"
                     % (short(want), short(body)))


def publish_refused_event_exits_1_with_validation_line():
    naive = ('{"resource_id":"abc","resource_name":"docs",\n'
             '  "accessed_at":"2026-11-27T05:18:40"}')
    with Broker() as b, Daemon("cli_refused") as d:
        q = unique("cli_refused")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        res = wcli(d, "publish", EVENT, naive)
        expect_rc(res, 1)
        expect_eq("stdout of a refused publish", "", res.out)
        expect_eq("stderr of a refused publish", NAIVE_LINE + "\n", res.err)
        # A field path inside a nested array.
        order = {"order_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
                 "placed_on": "2024-05-01", "total": 12.5, "status": "new",
                 "items": [{"sku": "ABC-1", "qty": 1}, {"sku": "ABC-2", "qty": 1},
                           {"sku": "bad", "qty": 1}]}
        res = wcli(d, "publish", "OrderPlacedEvent", compact(order))
        expect_rc(res, 1)
        expect(re.fullmatch(r"warren: validation: .+ \(field items\[2\]\.sku\)\n", res.err),
               "\"warren: validation: ... (field items[2].sku)\"", res)
        st = cli_stats(d)
        expect_eq("stats.accepted after refusals", 0, st.get("accepted"))
        expect_eq("messages in %s" % q, 0, b.count(q))


def publish_unknown_event_exits_1():
    with Daemon("cli_unknown", wait_connected=False) as d:
        res = wcli(d, "publish", "NoSuchEvent", compact(resource_data()))
        expect_rc(res, 1)
        expect_eq("stdout", "", res.out)
        expect(re.fullmatch(r"warren: unknown_event: .+\n", res.err),
               "\"warren: unknown_event: ...\"", res)


def publish_invalid_json_argument_exits_1_bad_json_not_sent():
    bad = ["not json", '{"resource_id":"a",}', '{"a":1,"a":2}', "[1,2]", '"str"',
           '{"a":1} {"b":2}', '{"a":01}', "", "{'a':1}", '{"a":NaN}',
           b'{"a":"\xff"}', '{"a":"\\ud800"}']
    with Daemon("cli_badjson", wait_connected=False) as d:
        for arg in bad:
            if isinstance(arg, bytes):
                res = warren("-s", d.sock_path, "publish", EVENT.encode(), arg)
            else:
                res = wcli(d, "publish", EVENT, arg)
            expect_rc(res, 1)
            expect_eq("stdout for %r" % arg, "", res.out)
            expect(re.fullmatch(r"warren: bad_json: .+\n", res.err),
                   "one line \"warren: bad_json: ...\" for %r" % (arg,), res)
        st = cli_stats(d)
        # warren checks before sending: warrend saw no publish at all.
        expect_eq("stats.errors (nothing reached warrend)", 0, st.get("errors"))
        expect_eq("stats.accepted", 0, st.get("accepted"))


def publish_not_spooled(d, *args, **kw):
    """warren -s ... publish args, again while the event was spooled (the
    shared broker was blocked or slow, see SPOOLED): only a publish the
    broker answered says whether it was routed."""
    last = [None]

    def attempt():
        res = last[0] = wcli(d, "publish", *args, **kw)
        return SPOOLED not in res.out
    try:
        wait_for(attempt, "a publish not spooled", interval=0.5)
    except Exception:
        fail("a publish the broker answered, not spooled: got %r" % (last[0],))
    return last[0]


def publish_unroutable_error_refused_exit_1():
    with Daemon("cli_unroutable_err", broker_opts={"unroutable": "error"}) as d:
        res = publish_not_spooled(d, EVENT, compact(resource_data()))
        expect_rc(res, 1)
        expect_eq("stdout", "", res.out)
        expect(re.fullmatch(r"warren: unroutable: .+\n", res.err),
               "\"warren: unroutable: ...\"", res)


def publish_refused_unavailable_without_spool_exits_1():
    """Broker unreachable and no spool: each event is refused unavailable."""
    with Daemon("cli_unavailable", urls=[UNREACHABLE_URL], spool={"max_bytes": 0},
                broker_opts={"publish_timeout_ms": 1000}) as d:
        res = wcli(d, "publish", EVENT, compact(resource_data()))
        expect_rc(res, 1)
        expect_eq("stdout", "", res.out)
        expect(re.fullmatch(r"warren: unavailable: .+\n", res.err),
               "\"warren: unavailable: ...\"", res)
        res = wcli(d, "publish", EVENT,
                   stdin="".join(compact(resource_data(i)) + "\n" for i in range(2)))
        expect_rc(res, 1)
        expect_eq("stdout", "", res.out)
        err = sorted(res.err.split("\n")[:-1])
        expect(len(err) == 2 and re.fullmatch(r"warren: line 1: unavailable: .+", err[0])
               and re.fullmatch(r"warren: line 2: unavailable: .+", err[1]),
               "\"line 1: unavailable: ...\" and \"line 2: unavailable: ...\"", res)


def publish_unroutable_marked_when_no_queue_bound():
    with Daemon("cli_unroutable") as d:
        res = publish_not_spooled(d, EVENT, compact(resource_data()))
        expect_rc(res, 0)
        message_id_line(one_line(res.out, "publish output"), " (unroutable)")
        res = publish_not_spooled(d, EVENT, stdin="".join(compact(resource_data(i)) + "\n"
                                                          for i in range(3)))
        expect_rc(res, 0)
        lines = res.out.split("\n")
        expect(len(lines) == 4 and lines[3] == "", "three lines", res)
        for line in lines[:3]:
            message_id_line(line, " (unroutable)")


def publish_spooled_when_broker_unreachable():
    with Daemon("cli_spooled", urls=[UNREACHABLE_URL]) as d:
        res = wcli(d, "publish", EVENT, compact(resource_data()))
        expect_rc(res, 0)
        expect_eq("stderr", "", res.err)
        message_id_line(one_line(res.out, "publish output"), " (spooled)")
        res = wcli(d, "publish", EVENT,
                   stdin="".join(compact(resource_data(i)) + "\n" for i in range(3)))
        expect_rc(res, 0)
        lines = res.out.split("\n")
        expect(len(lines) == 4 and lines[3] == "", "three lines", res)
        ids = [message_id_line(line, " (spooled)") for line in lines[:3]]
        expect(len(set(ids)) == 3, "three distinct message ids", ids)
        st = cli_stats(d)
        expect_eq("stats.spooled", 4, st.get("spooled"))


def odd_line(n):
    """A valid ResourceAccessedEvent line with its own spacing."""
    if n % 3 == 0:
        return compact(resource_data(n))
    if n % 3 == 1:
        return '{ "resource_id" : "r-%d",\t"resource_name":"link \\u00e9 %d" , ' \
               '"accessed_at": "2024-05-01T12:00:00+02:00" }' % (n, n)
    return '  {"accessed_at":"2024-05-01T12:00:00Z","resource_name":"l %d",' \
           '"resource_id":"r-%d","user_agent":"\u2603/%d"}\t' % (n, n, n)


def stdin_publish_check(b, d, q, lines, refused):
    """Publish lines (text, without newlines) from stdin; refused maps line
    numbers to (code, field or None). Checks stdout, stderr, the exit status
    and the queue; returns nothing."""
    res = wcli(d, "publish", EVENT, stdin="".join(l + "\n" for l in lines))
    accepted = [(i + 1, l) for i, l in enumerate(lines)
                if l.strip(" \t") != "" and (i + 1) not in refused]
    expect_rc(res, 1 if refused else 0)
    out = res.out.split("\n")
    if out[-1] != "":
        fail("stdout to end with a newline, got %s" % short(res.out[-200:]))
    out = out[:-1]
    if len(out) != len(accepted):
        fail("one message_id per accepted line: expected %d lines, got %d (stderr %s)"
             % (len(accepted), len(out), short(res.err)))
    ids = [accepted_line(line)[0] for line in out]
    expect(len(set(ids)) == len(ids), "distinct message ids", out[:10])
    err = res.err.split("\n")
    expect(err[-1] == "", "stderr to end with a newline", res.err[-200:])
    err = err[:-1]
    if len(err) != len(refused):
        fail("one stderr line per refused line: expected %d, got %s"
             % (len(refused), short(res.err)))
    # Only stdout is in input order: a line warren itself finds broken is
    # reported at once, before the replies to the lines above it.
    by_line = {}
    for line in err:
        m = re.match(r"warren: line (\d+): ", line)
        expect(m is not None, "stderr lines \"warren: line N: ...\"", line)
        expect(int(m.group(1)) not in by_line, "one stderr line per line number", res.err)
        by_line[int(m.group(1))] = line
    expect_eq("line numbers named on stderr", sorted(refused), sorted(by_line))
    for n, (code, field) in sorted(refused.items()):
        pat = r"warren: line %d: %s: .+" % (n, re.escape(code))
        if field is not None:
            pat += r" \(field %s\)" % re.escape(field)
        expect(re.fullmatch(pat, by_line[n]), "a stderr line matching %s" % pat, by_line[n])
    # Every accepted line's object (the line without the white space around
    # it) is in the queue, byte for byte, under the id printed for it, in
    # input order.
    got = queue_bodies(b, q, ids)
    for (n, line), mid in zip(accepted, ids):
        want = line.strip(" \t").encode("utf-8")
        for body in got[mid]:
            if body != want:
                fail("body of %s (printed for line %d): expected %s, got %s"
                     % (mid, n, short(want), short(body)))
    extra = set(got) - set(ids)
    expect(not extra, "only the printed message ids in %s" % q, sorted(extra)[:5])
    if not disturbed(d):
        dups = [k for k, v in got.items() if len(v) != 1]
        expect(not dups, "each event once in %s" % q, dups[:5])


def publish_stdin_reports_refused_lines_and_prints_ids_in_order():
    """1000 event lines plus one blank line: one breaks the contract, one is
    not JSON; 998 message ids, two "line N:" refusals, exit 1."""
    lines = [odd_line(i) for i in range(1000)]
    lines[299] = compact(dict(resource_data(299), accessed_at="2024-05-01T12:00:00"))
    lines[699] = '{"resource_id":"r-699","resource_name":'
    lines.insert(500, "")          # line 501 is blank
    refused = {300: ("validation", "accessed_at"), 701: ("bad_json", None)}
    with Broker() as b, Daemon("cli_stdin") as d:
        q = unique("cli_stdin")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        stdin_publish_check(b, d, q, lines, refused)
        st = cli_stats(d)
        expect_eq("stats.accepted", 998, st.get("accepted"))


def publish_stdin_all_good_exits_0():
    lines = [odd_line(i) for i in range(200)]
    lines.insert(100, " \t ")      # a blank line of white space
    with Broker() as b, Daemon("cli_stdin_good") as d:
        q = unique("cli_stdin_good")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        stdin_publish_check(b, d, q, lines, {})
        for empty in ("", "\n\n  \n"):
            res = wcli(d, "publish", EVENT, stdin=empty)
            expect_rc(res, 0)
            expect_eq("stdout for no event on stdin", "", res.out)
            expect_eq("stderr for no event on stdin", "", res.err)


def publish_stdin_unwanted_lines_refused_each_with_its_number():
    """Lines warren refuses (invalid UTF-8, a NUL byte), one warrend refuses
    as too long, and unknown events: each is named, the rest published."""
    good = [compact(resource_data(i)) for i in range(4)]
    huge = compact(dict(resource_data(9), user_agent="x" * 1100000)).encode()
    data = b"\n".join([good[0].encode(), huge, good[1].encode(), b'{"a":"\xff"}',
                       good[2].encode(), b'{"resource_id":"a\x00"}', good[3].encode()]) + b"\n"
    with Broker() as b, Daemon("cli_stdin_unwanted") as d:
        q = unique("cli_stdin_unwanted")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        res = wcli(d, "publish", EVENT, stdin=data)
        expect_rc(res, 1)
        ids = [accepted_line(line)[0] for line in res.out.split("\n")[:-1]]
        expect_eq("ids printed (lines 1, 3, 5 and 7)", 4, len(ids))
        got = queue_bodies(b, q, ids)
        for mid, line in zip(ids, good):
            for body in got[mid]:
                expect_eq("body under %s" % mid, line.encode(), body)
        err = sorted(res.err.split("\n")[:-1])
        expect_eq("stderr line count", 3, len(err))
        for line, pat in zip(err, (r"warren: line 2: too_large: .+", r"warren: line 4: bad_json: .+",
                                   r"warren: line 6: bad_json: .+")):
            expect(re.fullmatch(pat, line), "a stderr line matching %s" % pat, res.err)
        res = wcli(d, "publish", "NoSuchEvent", stdin="{}\n\n{}\n")
        expect_rc(res, 1)
        expect_eq("stdout", "", res.out)
        err = sorted(res.err.split("\n")[:-1])
        expect(len(err) == 2 and re.fullmatch(r"warren: line 1: unknown_event: .+", err[0])
               and re.fullmatch(r"warren: line 3: unknown_event: .+", err[1]),
               "\"line 1: unknown_event: ...\" and \"line 3: ...\"", res)


def publish_stdin_beyond_in_flight_window_keeps_line_numbers():
    """More lines than the 1024 in flight: refusals after the window wrapped
    still name their own line."""
    lines = [odd_line(i) for i in range(3000)]
    refused = {}
    for n in (1, 1024, 1025, 2049, 2999):
        lines[n - 1] = compact(dict(resource_data(n), resource_id=""))
        refused[n] = ("validation", "resource_id")
    for n in (1500, 3000):
        lines[n - 1] = "{not json"
        refused[n] = ("bad_json", None)
    with Broker() as b, Daemon("cli_stdin_window") as d:
        q = unique("cli_stdin_window")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        stdin_publish_check(b, d, q, lines, refused)


def publish_long_lines_and_last_line_without_newline():
    big = compact(dict(resource_data(1), user_agent="x" * 300000))
    lines = [odd_line(i) for i in range(6)]
    lines[2] = big
    arg = compact(dict(resource_data(9), user_agent="\u2603" * 30000))
    with Broker() as b, Daemon("cli_long") as d:
        q = unique("cli_long")
        b.bind_queue(q, d.exchange, ROUTING_KEY)
        res = wcli(d, "publish", EVENT, stdin="\n".join(lines))     # no final newline
        expect_rc(res, 0)
        ids = [accepted_line(line)[0] for line in res.out.split("\n")[:-1]]
        expect_eq("ids printed", 6, len(ids))
        got = queue_bodies(b, q, ids)
        for n, (mid, line) in enumerate(zip(ids, lines)):
            for body in got[mid]:
                expect(body == line.strip(" \t").encode(),
                       "line %d's object in the queue under %s" % (n + 1, mid), short(body))
        res = wcli(d, "publish", EVENT, arg)
        expect_rc(res, 0)
        mid, _ = accepted_line(one_line(res.out, "publish output"))
        for body in queue_bodies(b, q, [mid])[mid]:
            expect(body == arg.encode(), "the 90 kB argument byte for byte", short(body))


# -------------------------------------------------------------- subscribe


def subscribe_prints_deliveries_and_acks_them():
    name = "cli_sub_print"
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        with Subscriber(d, EVENT) as s:
            s.wait_subscribed(d)
            sent = []
            for i in range(3):
                text = '{"resource_id":"r-%d",  "resource_name":"n \\u00e9 %d",' \
                       '"accessed_at":"2024-05-01T12:00:00Z"}' % (i, i)
                sent.append((cli_publish(d, text), text))
            texts = dict(sent)
            seen = []
            while not all(mid in seen for mid, _ in sent):
                obj, raw = s.delivery("deliver line %d" % (len(seen) + 1))
                expect_eq("op", "deliver", obj.get("op"))
                expect_eq("tag", len(seen) + 1, obj.get("tag"))
                expect_eq("event", EVENT, obj.get("event"))
                expect_eq("routing_key", ROUTING_KEY, obj.get("routing_key"))
                mid = obj.get("message_id")
                expect(mid in texts, "a message_id printed by warren publish", raw)
                expect_eq("data", json.loads(texts[mid]), obj.get("data"))
                expect(texts[mid].encode() in raw,
                       "the data's bytes as published in the line", raw)
                seen.append(mid)
                if not disturbed(d):
                    expect_eq("redelivered", False, obj.get("redelivered"))
            st = wait_acked(d, len(seen))
            expect_eq("stats.nacks", 0, st.get("nacks"))
            if not disturbed(d):
                expect_eq("message ids delivered, in order", [m for m, _ in sent], seen)
                expect_eq("stats.acks", 3, st.get("acks"))
            wait_queue(q, ready=0, unacked=0, consumers=1)
            expect(s.alive(), "warren subscribe still running", s.stderr())
            s.stop(signal.SIGTERM)
        wait_stat(d, "clients", 1, "the subscriber's connection to close")
        wait_queue(q, consumers=0)
        wait_queue(q, ready=0, unacked=0, consumers=0)
        if not disturbed(d):
            st = cli_stats(d)
            expect_eq("stats.requeued after the subscriber left", 0, st.get("requeued"))


EXEC_OK = ('printf %s "$WARREN_EVENT" > "$CLI_DIR/event.$WARREN_MESSAGE_ID"; '
           'printf %s "$WARREN_ROUTING_KEY" > "$CLI_DIR/rk.$WARREN_MESSAGE_ID"; '
           'printf %s "$WARREN_REDELIVERED" > "$CLI_DIR/redelivered.$WARREN_MESSAGE_ID"; '
           'cat > "$CLI_DIR/tmp.$$" && '
           'mv "$CLI_DIR/tmp.$$" "$CLI_DIR/data.$WARREN_MESSAGE_ID"')


def subscribe_exec_success_acks_with_data_on_stdin():
    name = "cli_exec_ok"
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        q = queue_of(d)
        with Subscriber(d, "--exec", EXEC_OK, EVENT, env={"CLI_DIR": tmp}) as s:
            s.wait_subscribed(d)
            sent = []
            for i in range(2):
                text = '{ "resource_id" : "x-%d", "resource_name":"big %d",' \
                       ' "accessed_at":"2024-05-01T12:00:00.5-07:00" }' % (i, i)
                sent.append((cli_publish(d, text), text))
            for mid, text in sent:
                path = os.path.join(tmp, "data." + mid)
                wait_for(lambda: os.path.exists(path), "the command to write %s" % path)
                got = read_file(path)
                if got != text.encode() + b"\n":
                    fail("the command's stdin: expected the data and a newline %s, got %s"
                         % (short(text.encode() + b"\n"), short(got)))
                expect_eq("WARREN_EVENT", EVENT.encode(),
                          read_file(os.path.join(tmp, "event." + mid)))
                expect_eq("WARREN_ROUTING_KEY", ROUTING_KEY.encode(),
                          read_file(os.path.join(tmp, "rk." + mid)))
                if not disturbed(d):
                    expect_eq("WARREN_REDELIVERED", b"0",
                              read_file(os.path.join(tmp, "redelivered." + mid)))
            st = wait_acked(d, 2)
            expect_eq("stats.nacks", 0, st.get("nacks"))
            if not disturbed(d):
                expect_eq("stats.acks", 2, st.get("acks"))
            wait_queue(q, ready=0, unacked=0, consumers=1)
            s.stop()
            expect_eq("stdout of warren subscribe --exec", b"", s.proc.stdout.read())
        wait_queue(q + ".dead", ready=0)


def subscribe_acks_only_what_it_wrote():
    """Each delivery is acked once written and flushed: while nobody reads
    warren's output (a full pipe: each line is larger than it), nothing is
    acked; reading lets every delivery through, each acked."""
    name = "cli_sub_full_pipe"
    n = 6
    lines = [compact(dict(resource_data(i), user_agent="u%d" % i * 40000)) for i in range(n)]
    with Broker() as b, consumer_daemon(b, name) as d:
        with Subscriber(d, EVENT) as s:
            s.wait_subscribed(d)
            res = wcli(d, "publish", EVENT, stdin="".join(l + "\n" for l in lines))
            expect_rc(res, 0)
            ids = [accepted_line(line)[0] for line in res.out.split("\n")[:-1]]
            wait_for(lambda: cli_stats(d).get("deliveries", 0) >= 1, "a delivery to warren")
            st = cli_stats(d)
            expect_eq("stats.acks while warren's output is not read", 0, st.get("acks"))
            seen = set()
            while not seen >= set(ids):
                obj, raw = s.delivery("deliver line %d" % (len(seen) + 1))
                mid = obj.get("message_id")
                expect(mid in ids, "a published message id", short(raw))
                expect(lines[ids.index(mid)].encode() in raw, "the data as published",
                       short(raw))
                seen.add(mid)
            wait_acked(d, n)
            wait_queue(queue_of(d), ready=0, unacked=0)


EXEC_SERIAL = ('mkdir "$CLI_DIR/busy" 2>/dev/null || echo overlap >> "$CLI_DIR/overlaps"; '
               'cat > /dev/null; sleep 0.2; '
               'echo "$WARREN_MESSAGE_ID" >> "$CLI_DIR/done"; rmdir "$CLI_DIR/busy"')


def subscribe_exec_runs_one_delivery_at_a_time():
    name = "cli_exec_serial"
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        with Subscriber(d, "--exec", EXEC_SERIAL, EVENT, env={"CLI_DIR": tmp}) as s:
            s.wait_subscribed(d)
            res = wcli(d, "publish", EVENT,
                       stdin="".join(compact(resource_data(i)) + "\n" for i in range(5)))
            expect_rc(res, 0)
            ids = [accepted_line(line)[0] for line in res.out.split("\n")[:-1]]
            st = wait_acked(d, 5)
            expect(not os.path.exists(os.path.join(tmp, "overlaps")),
                   "no command started while another ran", "overlaps")
            done = read_file(os.path.join(tmp, "done")).decode().split()
            expect_eq("commands run", st["deliveries"], len(done))
            expect_eq("message ids handled", set(ids), set(done))


EXEC_NO_READ = 'echo "$WARREN_MESSAGE_ID" >> "$CLI_DIR/done"; exit 0'


def subscribe_exec_large_data_read_or_not():
    """Data larger than a pipe reaches the command whole; a command that
    does not read it and exits 0 still gets its delivery acked."""
    name = "cli_exec_large"
    big = compact(dict(resource_data(1), user_agent="\u00e9" * 200000))
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        with Subscriber(d, "--exec", EXEC_OK, EVENT, env={"CLI_DIR": tmp}) as s:
            s.wait_subscribed(d)
            res = wcli(d, "publish", EVENT, stdin=big + "\n")
            expect_rc(res, 0)
            mid = accepted_line(one_line(res.out, "publish output"))[0]
            path = os.path.join(tmp, "data." + mid)
            wait_for(lambda: os.path.exists(path), "the command to write %s" % path)
            expect(read_file(path) == big.encode() + b"\n",
                   "the 400 kB data and a newline on the command's stdin",
                   short(read_file(path)))
            wait_acked(d, 1)
        acks = cli_stats(d)["acks"]
        with Subscriber(d, "--exec", EXEC_NO_READ, EVENT, env={"CLI_DIR": tmp}) as s:
            s.wait_subscribed(d)
            res = wcli(d, "publish", EVENT, stdin=big + "\n")
            expect_rc(res, 0)
            mid = accepted_line(one_line(res.out, "publish output"))[0]
            done = os.path.join(tmp, "done")
            wait_for(lambda: os.path.exists(done) and mid in read_file(done).decode(),
                     "the command to run")
            wait_acked(d, acks + 1)
            wait_queue(queue_of(d), ready=0, unacked=0)


def subscribe_exec_command_that_cannot_run_stops_and_keeps_the_event():
    """A command the shell cannot find (127) or run (126), or one killed by a
    signal, would fail every delivery: warren stops with a message saying
    why, exit 2, and the event stays in the queue, not in .dead."""
    name = "cli_exec_broken"
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        q = queue_of(d)
        noexec = os.path.join(tmp, "noexec")
        with open(noexec, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(noexec, 0o644)
        cases = [("/nonexistent/cmd", r"command not found \(exit status 127\)"),
                 (noexec, r"command cannot be run \(exit status 126\)"),
                 ("cat >/dev/null; kill -KILL $$", r"killed by signal 9 \(Killed\)")]
        for n, (cmd, why) in enumerate(cases):
            with Subscriber(d, "--exec", cmd, EVENT) as s:
                if n == 0:     # later ones get the event that stayed at once
                    s.wait_subscribed(d)
                    cli_publish(d, resource_data(1))
                rc = s.wait_exit("the command failed to run")
                err = s.stderr()
                want = r"warren: --exec %s: %s; stopping, the event stays in the queue" \
                    % (re.escape(cmd), why)
                expect(rc == 2 and re.search(want, err),
                       "exit 2 and a stderr line matching %r" % want,
                       "exit %s, stderr %s" % (rc, short(err)))
            wait_queue(q, ready=1, unacked=0, consumers=0)
        wait_queue(q + ".dead", ready=0)


EXEC_ENV = ('printf "%s|%s|%s|%s" "${WARREN_MESSAGE_ID-(unset)}" "$WARREN_EVENT" '
            '"$WARREN_ROUTING_KEY" "$WARREN_REDELIVERED" > "$CLI_DIR/env.tmp"; '
            'cat > /dev/null; echo >> "$CLI_DIR/env.tmp"; cat "$CLI_DIR/env.tmp" >> "$CLI_DIR/env"')


def subscribe_exec_environment_describes_this_delivery_only():
    """The WARREN_* variables the command sees are the delivery's, not ones
    warren itself was started with: a message published without a
    message_id (null in the deliver line) must not get a stale one, which a
    handler deduplicating by message id would take for a repeat."""
    name = "cli_exec_env"
    stale = {"WARREN_MESSAGE_ID": "stale-id", "WARREN_EVENT": "StaleEvent",
             "WARREN_ROUTING_KEY": "stale.key", "WARREN_REDELIVERED": "9"}
    pika = _pika()
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        with Subscriber(d, "--exec", EXEC_ENV, EVENT, env=dict(stale, CLI_DIR=tmp)) as s:
            s.wait_subscribed(d)
            mid = cli_publish(d, resource_data(1))

            def publish_without_message_id(ch):
                ch.basic_publish(d.exchange, ROUTING_KEY, compact(resource_data(2)).encode(),
                                 pika.BasicProperties(delivery_mode=2,
                                                      content_type="application/json"))
            b._do(publish_without_message_id)
            path = os.path.join(tmp, "env")
            wait_for(lambda: os.path.exists(path) and
                     read_file(path).count(b"\n") >= 2, "two runs of the command")
            wait_acked(d, 2)
            runs = read_file(path).decode().split("\n")[:-1]
            with_id = [r for r in runs if r.startswith(mid + "|")]
            expect(with_id, "a run for %s" % mid, runs)
            expect_eq("environment of the run for %s" % mid,
                      "%s|%s|%s|0" % (mid, EVENT, ROUTING_KEY), with_id[0])
            other = [r for r in runs if not r.startswith(mid + "|")]
            expect(other, "a run for the message without a message_id", runs)
            got_mid = other[0].split("|")[0]
            expect(got_mid in ("(unset)", ""),
                   "WARREN_MESSAGE_ID unset or empty for a message without one "
                   "(not the \"stale-id\" warren was started with)", other[0])
            expect_eq("the rest of its environment", "|%s|%s|0" % (EVENT, ROUTING_KEY),
                      other[0][len(got_mid):])


EXEC_FAIL = 'cat > /dev/null; echo run >> "$CLI_DIR/runs"; exit 1'


def subscribe_exec_failure_nacks_to_dead_letter_queue():
    name = "cli_exec_fail"
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        q = queue_of(d)
        dq = q + ".dead"
        with Subscriber(d, "--exec", EXEC_FAIL, EVENT, env={"CLI_DIR": tmp}) as s:
            s.wait_subscribed(d)
            text = compact(resource_data(42))
            mid = cli_publish(d, text)
            got = queue_bodies(b, dq, [mid])
            for body in got[mid]:
                expect_eq("body in %s" % dq, text.encode(), body)
            wait_queue(q, ready=0, unacked=0, consumers=1)
            st = cli_stats(d)
            expect_eq("stats.acks", 0, st.get("acks"))
            expect(st.get("nacks", 0) >= 1 and st.get("nacks") == st.get("deliveries"),
                   "every delivery nacked", json.dumps(st))
            expect_eq("runs of the failing command", b"run\n" * st["deliveries"],
                      read_file(os.path.join(tmp, "runs")))
            if not disturbed(d):
                expect_eq("stats.nacks", 1, st.get("nacks"))
                expect_eq("messages in %s" % dq, {mid: 1}, {k: len(v) for k, v in got.items()})


EXEC_SECOND_TIME = (
    'if [ -e "$CLI_DIR/marker" ]; then '
    '  printf %s "$WARREN_REDELIVERED" > "$CLI_DIR/redelivered.2"; '
    '  cat > "$CLI_DIR/tmp" && mv "$CLI_DIR/tmp" "$CLI_DIR/data.2"; exit 0; '
    'else '
    '  printf %s "$WARREN_REDELIVERED" > "$CLI_DIR/redelivered.1"; '
    '  cat > "$CLI_DIR/data.1"; touch "$CLI_DIR/marker"; exit 1; '
    'fi')


def wait_acked_after_nacks(d, nacks):
    """Wait until every delivery was acked or nacked, nacks of them nacked."""
    last = [None]

    def ok():
        st = last[0] = cli_stats(d)
        return (st.get("nacks") == nacks and st.get("acks", 0) >= 1
                and st["acks"] + st["nacks"] == st.get("deliveries")
                and st.get("spool", {}).get("records") == 0)
    try:
        wait_for(ok, "acks and nacks")
    except Exception:
        fail("stats: expected %d nack(s) and the other deliveries acked, got %s"
             % (nacks, short(json.dumps(last[0]))))
    return last[0]


def subscribe_exec_requeue_redelivers_until_success():
    name = "cli_exec_requeue"
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        q = queue_of(d)
        with Subscriber(d, "--requeue", "--exec", EXEC_SECOND_TIME, EVENT,
                        env={"CLI_DIR": tmp}) as s:
            s.wait_subscribed(d)
            text = compact(resource_data(7))
            cli_publish(d, text)
            path = os.path.join(tmp, "data.2")
            wait_for(lambda: os.path.exists(path), "the second run of the command")
            st = wait_acked_after_nacks(d, 1)
            if not disturbed(d):
                expect_eq("stats.acks", 1, st.get("acks"))
                expect_eq("stats.deliveries", 2, st.get("deliveries"))
                # (A spooled second copy could come first, not redelivered.)
                expect_eq("WARREN_REDELIVERED the first time", b"0",
                          read_file(os.path.join(tmp, "redelivered.1")))
                expect_eq("WARREN_REDELIVERED the second time", b"1",
                          read_file(os.path.join(tmp, "redelivered.2")))
            expect_eq("data the first time", text.encode() + b"\n",
                      read_file(os.path.join(tmp, "data.1")))
            expect_eq("data the second time", text.encode() + b"\n", read_file(path))
            wait_queue(q, ready=0, unacked=0, consumers=1)
            wait_queue(q + ".dead", ready=0)


def subscribe_unknown_event_exits_1():
    with Daemon("cli_sub_unknown") as d:
        with Subscriber(d, "NoSuchEvent") as s:
            rc = s.wait_exit("a subscribe to an unknown event")
            err = s.stderr()
            expect(rc == 1, "exit status 1", "status %s, stderr %s" % (rc, short(err)))
            expect(re.fullmatch(r"warren: unknown_event: .+\n", err),
                   "\"warren: unknown_event: ...\" on stderr", err)
            expect_eq("stdout", b"", s.proc.stdout.read())


def forbidden_publish_and_subscribe_exit_1():
    closed = dict(RESOURCE_ACCESSED, allow_users=[])
    with Daemon("cli_forbidden", contracts=[closed],
                service=service_for("cli_forbidden")) as d:
        res = wcli(d, "publish", EVENT, compact(resource_data()))
        expect_rc(res, 1)
        expect(re.fullmatch(r"warren: forbidden: .+\n", res.err), "\"warren: forbidden: ...\"",
               res)
        with Subscriber(d, EVENT) as s:
            rc = s.wait_exit("a forbidden subscribe")
            err = s.stderr()
            expect(rc == 1, "exit status 1", "status %s, stderr %s" % (rc, short(err)))
            expect(re.fullmatch(r"warren: forbidden: .+\n", err),
                   "\"warren: forbidden: ...\" on stderr", err)


def subscribe_broker_unreachable_exits_1_unavailable():
    with Daemon("cli_sub_unavail", urls=[UNREACHABLE_URL],
                service=service_for("cli_sub_unavail")) as d:
        with Subscriber(d, EVENT) as s:
            rc = s.wait_exit("a subscribe with the broker unreachable")
            err = s.stderr()
            expect(rc == 1, "exit status 1", "status %s, stderr %s" % (rc, short(err)))
            expect(re.fullmatch(r"warren: unavailable: .+\n", err),
                   "\"warren: unavailable: ...\" on stderr", err)


EXEC_HANG = ('cat > /dev/null; echo $$ > "$CLI_DIR/pid.tmp" && '
             'mv "$CLI_DIR/pid.tmp" "$CLI_DIR/pid"; exec sleep 300')


def redelivered_again(s, mid, text, strict):
    """The next subscriber s gets message mid again, redelivered (first,
    with tag 1, when strict; else a spooled copy may come before it)."""
    tag = 0
    while True:
        obj, raw = s.delivery("message %s again, on the next subscriber" % mid)
        tag += 1
        expect_eq("tag", tag, obj.get("tag"))
        if strict or (obj.get("message_id") == mid and obj.get("redelivered") is True):
            break
    expect_eq("message_id", mid, obj.get("message_id"))
    expect_eq("redelivered", True, obj.get("redelivered"))
    expect_eq("data", json.loads(text), obj.get("data"))


def subscribe_killed_before_ack_message_redelivered():
    name = "cli_sub_kill"
    with Broker() as b, consumer_daemon(b, name) as d, TempDir() as tmp:
        q = queue_of(d)
        text = compact(resource_data(3))
        with Subscriber(d, "--exec", EXEC_HANG, EVENT, env={"CLI_DIR": tmp}) as s1:
            s1.wait_subscribed(d)
            mid = cli_publish(d, text)
            pidfile = os.path.join(tmp, "pid")
            wait_for(lambda: os.path.exists(pidfile), "the command to start")
            pid = int(read_file(pidfile))
            s1.adopt(pid)
            if not disturbed(d):
                wait_queue(q, ready=0, unacked=1)
            s1.stop(signal.SIGKILL)
            with_suppress(lambda: os.kill(pid, signal.SIGKILL))
        wait_stat(d, "clients", 1, "the killed subscriber's connection to close")
        strict = not disturbed(d)
        if strict:
            wait_queue(q, ready=1, unacked=0)
        st = cli_stats(d)
        expect_eq("stats.acks", 0, st.get("acks"))
        with Subscriber(d, EVENT) as s2:
            redelivered_again(s2, mid, text, strict)
            st = wait_acked(d, 1, lost=st["deliveries"])
            if strict:
                expect_eq("stats.acks", 1, st["acks"])
            wait_queue(q, ready=0, unacked=0)


def subscribe_stdout_closed_message_redelivered():
    """warren subscribe whose standard output is closed cannot write the
    delivery: it exits without acking, and the message comes back."""
    name = "cli_sub_closed"
    with Broker() as b, consumer_daemon(b, name) as d:
        q = queue_of(d)
        text = compact(resource_data(5))
        with Subscriber(d, EVENT, close_stdout=True) as s1:
            s1.wait_subscribed(d)
            mid = cli_publish(d, text)
            s1.wait_exit("its standard output was closed and a delivery came")
        st = wait_stat(d, "clients", 1, "the closed subscriber's connection to close")
        expect_eq("stats.acks", 0, st.get("acks"))
        strict = not disturbed(d)
        if strict:
            wait_queue(q, ready=1, unacked=0)
        st = cli_stats(d)
        with Subscriber(d, EVENT) as s2:
            redelivered_again(s2, mid, text, strict)
            st = wait_acked(d, 1, lost=st["deliveries"])
            if strict:
                expect_eq("stats.acks", 1, st["acks"])
            wait_queue(q, ready=0, unacked=0)


def subscribe_ends_when_warrend_closes_connection():
    name = "cli_sub_end"
    with Broker() as b, consumer_daemon(b, name) as d:
        with Subscriber(d, EVENT) as s:
            s.wait_subscribed(d)
            rc = d.terminate()
            expect_eq("warrend exit status after SIGTERM", 0, rc)
            s.wait_exit("warrend stopped")


if __name__ == "__main__":
    run([
        ping_prints_ok_with_socket_option,
        config_option_reads_socket_path_from_config,
        socket_option_takes_precedence_over_config,
        default_socket_without_options_or_environment,
        warren_socket_environment_used_without_options,
        stats_prints_counters_as_json,
        contracts_prints_configured_contracts_as_json,
        nothing_listening_exits_2_is_warrend_running,
        config_option_unreadable_or_invalid_exits_2,
        usage_errors_exit_2,
        help_and_version_exit_0,
        every_command_has_help_exit_0,
        json_output_indented_by_two_spaces,
        messages_have_no_time_stamp,
        too_many_clients_exits_2,
        not_a_reply_exits_2,
        closed_with_requests_unanswered_exits_2,
        publish_stdin_connection_lost_prints_answered_ids_exits_2,
        publish_stdin_warrend_killed_printed_ids_are_in_queue,
        ping_gives_up_on_silence_exits_2,
        publish_argument_body_byte_for_byte,
        publish_argument_newlines_sent_as_spaces,
        publish_refused_event_exits_1_with_validation_line,
        publish_unknown_event_exits_1,
        publish_invalid_json_argument_exits_1_bad_json_not_sent,
        publish_unroutable_error_refused_exit_1,
        publish_refused_unavailable_without_spool_exits_1,
        publish_unroutable_marked_when_no_queue_bound,
        publish_spooled_when_broker_unreachable,
        publish_stdin_reports_refused_lines_and_prints_ids_in_order,
        publish_stdin_all_good_exits_0,
        publish_stdin_unwanted_lines_refused_each_with_its_number,
        publish_stdin_beyond_in_flight_window_keeps_line_numbers,
        publish_long_lines_and_last_line_without_newline,
        subscribe_prints_deliveries_and_acks_them,
        subscribe_acks_only_what_it_wrote,
        subscribe_exec_success_acks_with_data_on_stdin,
        subscribe_exec_runs_one_delivery_at_a_time,
        subscribe_exec_environment_describes_this_delivery_only,
        subscribe_exec_large_data_read_or_not,
        subscribe_exec_command_that_cannot_run_stops_and_keeps_the_event,
        subscribe_exec_failure_nacks_to_dead_letter_queue,
        subscribe_exec_requeue_redelivers_until_success,
        subscribe_unknown_event_exits_1,
        forbidden_publish_and_subscribe_exit_1,
        subscribe_broker_unreachable_exits_1_unavailable,
        subscribe_killed_before_ack_message_redelivered,
        subscribe_stdout_closed_message_redelivered,
        subscribe_ends_when_warrend_closes_connection,
    ])
