"""warrentest -- shared helpers for warren's black-box integration tests.

Each test file imports this module, defines test functions named for the
behaviour they prove, and calls run(tests). Every test starts a private
warrend (Daemon) on a socket inside a fresh temporary directory, talks to it
with Client, and checks what reached RabbitMQ with Broker (pika).

Only the standard library and pika are used; run with /usr/bin/python3.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import urllib.request
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
WARREND = os.environ.get("WARREND") or os.path.normpath(
    os.path.join(HERE, "..", "..", "src", "warrend", "warrend"))
TOP_SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))

BROKER_HOST = "127.0.0.1"
# WARREN_TEST_BROKER_PORT and WARREN_TEST_BROKER_NODE point the suite at
# another local node (rabbitmqctl -n), so two checkouts can test at once.
BROKER_PORT = int(os.environ.get("WARREN_TEST_BROKER_PORT", "5672"))
BROKER_NODE = os.environ.get("WARREN_TEST_BROKER_NODE")
BROKER_ADDR = "127.0.0.1:%d" % BROKER_PORT
BROKER_URL = "amqp://guest:guest@%s/%%2f" % BROKER_ADDR
UNREACHABLE_URL = "amqp://guest:guest@127.0.0.1:1/%2f"

DEADLINE = 20.0          # generous default for "wait until" loops (seconds)
STOP_BOUND = 20.0        # how long a SIGTERM may take before SIGKILL

# ---------------------------------------------------------------- failures


class Failure(Exception):
    """A test's expectation did not hold; the message says what and why."""


def fail(msg):
    raise Failure(msg)


def short(v, limit=600):
    """repr() of v cut to a readable length."""
    s = v if isinstance(v, str) else repr(v)
    if len(s) > limit:
        s = s[:limit] + "...(%d more chars)" % (len(s) - limit)
    return s


def expect(cond, expected, got):
    if not cond:
        fail("expected %s, got %s" % (expected, short(got)))


def expect_eq(what, expected, got):
    """got == expected, and of the same JSON type (1 and 1.0 count as one)."""
    def num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    same_type = type(expected) is type(got) or (num(expected) and num(got))
    if expected != got or not same_type:
        fail("%s: expected %s, got %s" % (what, short(repr(expected)),
                                         short(repr(got))))


def expect_ok(reply, op=None, req=None, **members):
    """reply is {"ok":true,...} with op (if given) and the given members."""
    ctx = "" if req is None else " (request %s)" % short(req, 300)
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        fail("expected an ok reply%s, got %s" % (ctx, short(json.dumps(reply))))
    if op is not None and reply.get("op") != op:
        fail("expected reply op %r%s, got %s" % (op, ctx, short(json.dumps(reply))))
    for k, v in members.items():
        if k not in reply or reply[k] != v or (isinstance(v, bool) != isinstance(reply[k], bool)):
            fail("expected reply member %r = %s%s, got %s" %
                 (k, json.dumps(v), ctx, short(json.dumps(reply))))
    return reply


NOTHING = object()


def expect_error(reply, code, op=NOTHING, id=NOTHING, field=NOTHING, req=None,
                 message=NOTHING):
    """reply is {"ok":false,"error":code,"message":"..."} (+ op/id/field)."""
    ctx = "" if req is None else " for request %s" % short(req, 300)
    r = short(json.dumps(reply)) if not isinstance(reply, bytes) else short(reply)
    if not isinstance(reply, dict) or reply.get("ok") is not False:
        fail("expected error %r%s, got %s" % (code, ctx, r))
    if reply.get("error") != code:
        fail("expected error %r%s, got %s" % (code, ctx, r))
    if not isinstance(reply.get("message"), str) or not reply["message"]:
        fail("expected a non-empty string \"message\" in the %r reply%s, got %s"
             % (code, ctx, r))
    if op is None:
        if "op" in reply:
            fail("expected no \"op\" member in the %r reply%s, got %s" % (code, ctx, r))
    elif op is not NOTHING and reply.get("op") != op:
        fail("expected \"op\":%s in the %r reply%s, got %s" % (json.dumps(op), code, ctx, r))
    if id is None:
        if "id" in reply:
            fail("expected no \"id\" member in the %r reply%s, got %s" % (code, ctx, r))
    elif id is not NOTHING and ("id" not in reply or reply["id"] != id
                                or type(reply["id"]) is not type(id)):
        fail("expected \"id\":%s echoed in the %r reply%s, got %s"
             % (json.dumps(id), code, ctx, r))
    if field is not NOTHING and reply.get("field") != field:
        fail("expected \"field\":%s in the %r reply%s, got %s"
             % (json.dumps(field), code, ctx, r))
    if message is not NOTHING and reply.get("message") != message:
        fail("expected \"message\":%s in the %r reply%s, got %s"
             % (json.dumps(message), code, ctx, r))
    return reply


def wait_for(cond, what, deadline=DEADLINE, interval=0.05):
    """Poll cond() until it returns a true value; fail naming what on expiry."""
    end = time.monotonic() + deadline
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except Failure:
            raise
        except Exception as e:  # keep polling through transient errors
            last_exc = e
        if time.monotonic() > end:
            extra = "" if last_exc is None else " (last error: %r)" % (last_exc,)
            fail("timed out after %.0f s waiting for %s%s" % (deadline, what, extra))
        time.sleep(interval)


# Diagnostics printed after a FAIL line (e.g. the daemon's log tail).
_diag = []


def diag(text):
    _diag.append(text)


def step(fn):
    """Mark fn as a setup or cleanup step of a scenario, not a test: run()
    counts it as a failure when it fails, and not at all when it works."""
    fn.is_step = True
    return fn


def run(tests):
    """Run tests in order, print TAP-like lines and the summary, exit.
    Steps (see step()) are run in their place but only count if they fail."""
    passed = failed = 0
    for t in tests:
        name = t.__name__
        del _diag[:]
        try:
            t()
        except Failure as e:
            failed += 1
            print("FAIL - %s: %s" % (name, e), flush=True)
        except Exception:
            failed += 1
            tb = traceback.format_exc().rstrip().replace("\n", "\n#   ")
            print("FAIL - %s: unexpected exception:\n#   %s" % (name, tb), flush=True)
        else:
            if getattr(t, "is_step", False):
                print("# step done - %s" % name, flush=True)
            else:
                passed += 1
                print("ok - %s" % name, flush=True)
            continue
        for d in _diag:
            for line in d.rstrip("\n").split("\n"):
                print("#   " + line)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(0 if failed == 0 else 1)


def unique(name):
    """A per-test, per-process unique exchange/queue name."""
    return "test.%s.%d" % (name, os.getpid())


# ----------------------------------------------------------------- config


def _conf_str(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def conf_value(v, indent=""):
    """A Python value in libconfig syntax: dict -> group, list of dicts ->
    list ( ), other list -> array [ ]."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "%dL" % v if not -2**31 <= v < 2**31 else "%d" % v
    if isinstance(v, float):
        r = repr(v)
        return r if ("." in r or "e" in r) else r + ".0"
    if isinstance(v, str):
        return _conf_str(v)
    if isinstance(v, dict):
        inner = indent + "  "
        body = "".join("%s%s = %s;\n" % (inner, k, conf_value(x, inner))
                       for k, x in v.items())
        return "{\n%s%s}" % (body, indent)
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, dict) for x in v):
            inner = indent + "  "
            # One element per line, on a single line each, so that a test can
            # tell which line a contract or field is on.
            return "(\n%s\n%s)" % (",\n".join(inner + conf_inline(x) for x in v), indent)
        return "[ %s ]" % ", ".join(conf_value(x) for x in v)
    raise TypeError("cannot write %r as libconfig" % (v,))


def conf_inline(v):
    """A group written on one line."""
    if isinstance(v, dict):
        return "{ %s }" % " ".join("%s = %s;" % (k, conf_inline(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, dict) for x in v):
        return "( %s )" % ", ".join(conf_inline(x) for x in v)
    return conf_value(v)


def conf_text(settings):
    """A whole config file from an ordered dict of top-level settings."""
    lines = []
    for k, v in settings.items():
        if isinstance(v, dict):
            lines.append("%s: %s;" % (k, conf_value(v)))
        else:
            lines.append("%s = %s;" % (k, conf_value(v)))
    return "\n".join(lines) + "\n"


# Contracts used across the tests.
RESOURCE_ACCESSED = {
    "name": "ResourceAccessedEvent",
    "routing_key": "resource.accessed",
    "description": "A short link was opened.",
    "publisher": "link-service",
    "consumers": ["analytics-service"],
    "fields": [
        {"name": "resource_id", "type": "string", "min_length": 1, "max_length": 64},
        {"name": "resource_name", "type": "string", "max_length": 512},
        {"name": "accessed_at", "type": "datetime"},
        {"name": "user_agent", "type": "string", "optional": True},
    ],
}

ORDER_PLACED = {
    "name": "OrderPlacedEvent",
    "routing_key": "order.placed.v2",
    "fields": [
        {"name": "order_id", "type": "uuid"},
        {"name": "placed_on", "type": "date"},
        {"name": "total", "type": "number", "minimum": 0},
        {"name": "status", "type": "enum", "values": ["new", "paid"]},
        {"name": "items", "type": "array", "min_items": 1, "max_items": 10,
         "items": {"type": "object", "fields": [
             {"name": "sku", "type": "string", "pattern": "[A-Z]{3}-[0-9]+"},
             {"name": "qty", "type": "integer", "minimum": 1},
         ]}},
        {"name": "gift", "type": "boolean", "optional": True},
    ],
}

MEASUREMENT_TAKEN = {
    "name": "MeasurementTakenEvent",
    "routing_key": "measurement.taken",
    "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "value", "type": "integer"},
        {"name": "ratio", "type": "number"},
        {"name": "label", "type": "string", "max_length": 20},
        {"name": "at", "type": "datetime"},
    ],
}

DEFAULT_CONTRACTS = [RESOURCE_ACCESSED, ORDER_PLACED, MEASUREMENT_TAKEN]


def resource_data(n=0):
    """Valid data for ResourceAccessedEvent."""
    return {"resource_id": "r-%d" % n, "resource_name": "link %d" % n,
            "accessed_at": "2024-05-01T12:00:00Z"}


def order_data():
    return {"order_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "placed_on": "2024-05-01", "total": 12.5, "status": "new",
            "items": [{"sku": "ABC-1", "qty": 1}, {"sku": "XYZ-22", "qty": 3}]}


def publish_req(event="ResourceAccessedEvent", data=None, id=NOTHING, **extra):
    req = {"op": "publish"}
    if id is not NOTHING:
        req["id"] = id
    req["event"] = event
    req["data"] = resource_data() if data is None else data
    req.update(extra)
    return req


# ----------------------------------------------------------------- client


class Client:
    """One connection to warrend's socket."""

    def __init__(self, path, connect_timeout=DEADLINE):
        self.path = path
        self.buf = b""
        self.last_sent = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect, as most clients do: it waits for room in the
        # listen backlog (bounded by SO_SNDTIMEO) instead of failing EAGAIN.
        tv = struct.pack("ll", int(connect_timeout), int(connect_timeout % 1 * 1e6))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        self.sock.settimeout(None)
        try:
            self.sock.connect(path)
        except BaseException:
            self.sock.close()
            raise
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 0, 0))
        self.sock.settimeout(connect_timeout)

    def send(self, obj):
        """Send obj as one JSON line, or bytes exactly as given."""
        if isinstance(obj, (bytes, bytearray)):
            data = bytes(obj)
        else:
            data = json.dumps(obj, ensure_ascii=False).encode() + b"\n"
        self.last_sent = data
        self.sock.settimeout(DEADLINE)
        self.sock.sendall(data)

    def readline(self, timeout=DEADLINE, partial_ok=False):
        """The next line (bytes, without the newline); None on EOF."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                fail("timed out after %.0f s waiting for a reply line%s"
                     % (timeout, self._ctx()))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buf and not partial_ok:
                    line, self.buf = self.buf, b""
                    fail("connection closed after a partial line %s%s"
                         % (short(line), self._ctx()))
                # A daemon killed mid-write leaves half a reply: no answer.
                self.buf = b""
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def _ctx(self):
        if self.last_sent is None:
            return ""
        return " (last request sent: %s)" % short(self.last_sent, 300)

    def read(self, timeout=DEADLINE):
        """The next reply as a dict; fails on EOF or on a line that is not
        a JSON object with no duplicate keys."""
        line = self.readline(timeout)
        if line is None:
            fail("connection closed by warrend instead of a reply%s" % self._ctx())
        return parse_reply(line, self._ctx())

    def request(self, obj, timeout=DEADLINE):
        self.send(obj)
        return self.read(timeout)

    def ping(self, timeout=DEADLINE):
        return expect_ok(self.request({"op": "ping"}, timeout), "ping")

    def expect_eof(self, timeout=DEADLINE):
        line = self.readline(timeout)
        if line is not None:
            fail("expected the connection to be closed, got line %s" % short(line))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _no_dup_hook(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key %r in reply" % k)
        d[k] = v
    return d


def parse_reply(line, ctx=""):
    try:
        text = line.decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_no_dup_hook)
    except (UnicodeDecodeError, ValueError) as e:
        fail("reply line is not valid JSON (%s): %s%s" % (e, short(line), ctx))
    if not isinstance(obj, dict):
        fail("reply is not a JSON object: %s%s" % (short(line), ctx))
    return obj


# ----------------------------------------------------------------- daemon


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Daemon:
    """A private warrend: config in a fresh temp dir, started with -c, ready
    once its socket answers ping. Always stopped on exit (SIGTERM, then
    SIGKILL after a bound). Fails the test if it died on its own or did not
    exit 0 after SIGTERM."""

    def __init__(self, name, contracts=None, service="test-service",
                 exchange=None, urls=None, socket_opts=None, broker_opts=None,
                 top=None, extra_text="", wait_connected=None,
                 spool=True, journal=False):
        self.name = name
        self.service = service
        self.exchange = exchange or unique(name)
        self.urls = urls or [BROKER_URL]
        self.contracts = DEFAULT_CONTRACTS if contracts is None else contracts
        self.socket_opts = socket_opts or {}
        self.broker_opts = broker_opts or {}
        self.top = top or {}
        self.extra_text = extra_text
        self.spool = spool
        self.journal = journal
        self.wait_connected = (self.urls == [BROKER_URL]) if wait_connected is None \
            else wait_connected
        self.dir = tempfile.mkdtemp(prefix="warren-%s." % name[:40])
        self.sock_path = os.path.join(self.dir, "warren.sock")
        self.conf_path = os.path.join(self.dir, "warrend.conf")
        self.log_path = os.path.join(self.dir, "warrend.log")
        self.proc = None
        self.stopping = False
        self.exit_status = None
        self.write_config()

    # The config as an ordered dict; tests may edit it and call write_config.
    def settings(self, contracts=None):
        s = {"service": self.service}
        s.update(self.top)
        sock = {"path": self.sock_path, "mode": "0600"}
        sock.update(self.socket_opts)
        s["socket"] = sock
        br = {"urls": list(self.urls), "exchange": self.exchange,
              "reconnect_min_ms": 100, "reconnect_max_ms": 1000}
        br.update(self.broker_opts)
        s["broker"] = br
        if self.spool:
            s["spool"] = {"dir": os.path.join(self.dir, "spool")}
            if isinstance(self.spool, dict):   # e.g. {"max_bytes": 0}: no spool
                s["spool"].update(self.spool)
        s["contracts"] = self.contracts if contracts is None else contracts
        return s

    def config_text(self, contracts=None):
        return conf_text(self.settings(contracts)) + self.extra_text

    def write_config(self, text=None):
        if text is None:
            text = self.config_text()
        tmp = self.conf_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.rename(tmp, self.conf_path)
        if self.spool:
            os.makedirs(os.path.join(self.dir, "spool"), exist_ok=True)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        lines = self.log().rstrip("\n").split("\n")
        return "\n".join(lines[-n:])

    def start(self):
        if not os.access(WARREND, os.X_OK):
            fail("warrend not found or not executable at %s" % WARREND)
        self.logf = open(self.log_path, "wb")
        # WARREND_WRAPPER runs warrend under a checker, e.g.
        # "valgrind --error-exitcode=99 --leak-check=full".
        wrapper = os.environ.get("WARREND_WRAPPER", "").split()
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if self.journal:
            # What systemd sets when stderr is the journal: its dev:inode.
            st = os.fstat(self.logf.fileno())
            env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        self.proc = subprocess.Popen(wrapper + [WARREND, "-c", self.conf_path],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     cwd=self.dir, env=env)
        end = time.monotonic() + DEADLINE
        last = None
        while True:
            rc = self.proc.poll()
            if rc is not None:
                fail("warrend exited with status %d at start-up; log:\n%s"
                     % (rc, self.log_tail()))
            try:
                with Client(self.sock_path, connect_timeout=2) as c:
                    r = c.request({"op": "ping"}, timeout=5)
                    if r.get("ok") is True:
                        break
                    last = r
            except (OSError, Failure) as e:
                last = e
            if time.monotonic() > end:
                fail("warrend did not answer ping on %s within %.0f s (last: %s); log:\n%s"
                     % (self.sock_path, DEADLINE, short(str(last)), self.log_tail()))
            time.sleep(0.05)
        if self.wait_connected:
            self.wait_broker(True)
        return self

    def stats(self):
        with Client(self.sock_path) as c:
            r = c.request({"op": "stats"})
        return r

    def wait_broker(self, connected, deadline=DEADLINE, strict=False):
        """Wait until stats says broker.connected == connected. When the
        stats op itself does not answer that, only wait (the stats test
        reports it) unless strict."""
        end = time.monotonic() + deadline
        while True:
            r = self.stats()
            try:
                if r["stats"]["broker"]["connected"] is connected:
                    return True
            except (KeyError, TypeError):
                if strict:
                    fail("stats reply has no stats.broker.connected: %s" % short(json.dumps(r)))
                time.sleep(1.0)   # give it a chance to connect anyway
                return False
            if time.monotonic() > end:
                fail("broker.connected did not become %s within %.0f s (last stats %s)"
                     % (connected, deadline, short(json.dumps(r))))
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self):
        return Client(self.sock_path)

    def assert_serving(self, what="after that"):
        """The process is alive and a fresh connection gets ping answered."""
        if not self.alive():
            fail("warrend died %s (status %s); log:\n%s"
                 % (what, self.proc.poll(), self.log_tail()))
        try:
            with self.client() as c:
                r = c.request({"op": "ping"})
        except OSError as e:
            fail("a new client could not connect %s: %r" % (what, e))
        except Failure as e:
            fail("a new client's ping was not answered %s: %s" % (what, e))
        if r.get("ok") is not True:
            fail("a new client's ping %s answered %s" % (what, short(json.dumps(r))))

    def kill(self, sig):
        """Send sig to warrend."""
        self.proc.send_signal(sig)

    def terminate(self, sig=signal.SIGTERM, bound=STOP_BOUND):
        """Send sig (None: none, a signal was sent already) and wait up to
        bound for the exit; SIGKILL then. Returns the exit status (negative:
        killed by that signal), None when it had to be killed."""
        self.stopping = True
        if self.proc.poll() is None and sig is not None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(bound)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_status = "killed"
                return None
        self.exit_status = self.proc.returncode
        return self.exit_status

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self._cleanup(True)
            raise

    def _cleanup(self, failing):
        problem = None
        if self.proc is not None:
            died = self.proc.poll() is not None and not self.stopping
            if died:
                problem = "warrend died during the test with status %d" % self.proc.returncode
            elif not self.stopping:
                rc = self.terminate()
                if rc is None:
                    problem = "warrend did not exit within %.0f s of SIGTERM (killed)" % STOP_BOUND
                elif rc != 0:
                    problem = "warrend exited with status %d after SIGTERM" % rc
            try:
                self.logf.close()
            except Exception:
                pass
            if BROKER_URL in self.urls:
                delete_exchange(self.exchange)   # warrend declared it
        if self.proc is not None and problem is None:
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                        "WARNING: ThreadSanitizer", "ThreadSanitizer: reported",
                        "ERROR SUMMARY: [1-9]", "definitely lost: [1-9]"):
                m = re.search(bad, self.log())
                if m:
                    problem = "warrend's log reports %r" % m.group(0)
                    break
        if (failing or problem) and self.proc is not None:
            diag("warrend log (%s), last lines:\n%s" % (self.log_path, self.log_tail()))
        keep = (failing or problem or os.environ.get("WARREN_KEEP")) and self.proc is not None
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return problem

    def __exit__(self, et, ev, tb):
        problem = self._cleanup(et is not None)
        if problem and et is None:
            fail(problem)
        return False


# ----------------------------------------------------------------- broker


def _pika():
    try:
        import pika
    except ImportError:
        fail("pika is not importable by %s (use /usr/bin/python3)" % sys.executable)
    return pika


class Message:
    def __init__(self, method, props, body):
        self.method = method
        self.props = props
        self.body = body

    def header(self, name):
        h = self.props.headers or {}
        v = h.get(name)
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return v


class Broker:
    """Test-side view of RabbitMQ: declare/bind/fetch/delete. Cleans up the
    queues and exchanges it declared on exit."""

    def __init__(self, port=None):
        self.port = BROKER_PORT if port is None else port   # another node's
        self.conn = None
        self.ch = None
        self.queues = []
        self.exchanges = []

    def connect(self, deadline=DEADLINE):
        pika = _pika()
        params = pika.ConnectionParameters(
            host=BROKER_HOST, port=self.port,
            credentials=pika.PlainCredentials("guest", "guest"),
            connection_attempts=1, socket_timeout=5, blocked_connection_timeout=30,
            heartbeat=0)
        end = time.monotonic() + deadline
        while True:
            try:
                self.conn = pika.BlockingConnection(params)
                self.ch = self.conn.channel()
                return self
            except Exception as e:
                if time.monotonic() > end:
                    fail("cannot reach the RabbitMQ broker at %s:%d: %r"
                         % (BROKER_HOST, self.port, e))
                time.sleep(0.5)

    def channel(self):
        if self.conn is None or not self.conn.is_open or self.ch is None or not self.ch.is_open:
            self.close()
            self.connect()
        return self.ch

    def _do(self, fn):
        """fn(channel), again on a new connection if the connection was lost
        (another test run may close connections or restart the broker)."""
        pika = _pika()
        for attempt in range(3):
            try:
                return fn(self.channel())
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.StreamLostError,
                    pika.exceptions.ConnectionClosed, pika.exceptions.ChannelWrongStateError,
                    ConnectionError):
                if attempt == 2:
                    raise
                self.close()
                time.sleep(0.5)

    def declare_exchange(self, exchange):
        self._do(lambda ch: ch.exchange_declare(exchange, exchange_type="topic", durable=True))
        if exchange not in self.exchanges:
            self.exchanges.append(exchange)

    def bind_queue(self, queue, exchange, routing_key, arguments=None, durable=False):
        """Declare the exchange, a fresh queue and bind it."""
        self.declare_exchange(exchange)

        def bind(ch):
            ch.queue_delete(queue)
            ch.queue_declare(queue, durable=durable, arguments=arguments)
            ch.queue_bind(queue, exchange, routing_key=routing_key)
        if queue not in self.queues:
            self.queues.append(queue)
        self._do(bind)

    def count(self, queue):
        return self._do(lambda ch: ch.queue_declare(queue, passive=True).method.message_count)

    def get(self, queue):
        m, p, b = self._do(lambda ch: ch.basic_get(queue, auto_ack=True))
        return None if m is None else Message(m, p, b)

    def get_all(self, queue):
        out = []
        while True:
            m = self.get(queue)
            if m is None:
                return out
            out.append(m)

    def get_one(self, queue, deadline=DEADLINE):
        """The first message in queue, waiting for it to arrive."""
        return wait_for(lambda: self.get(queue), "a message in queue %s" % queue, deadline)

    def wait_count(self, queue, n, deadline=DEADLINE):
        wait_for(lambda: self.count(queue) >= n,
                 "%d messages in queue %s" % (n, queue), deadline, 0.1)

    def close(self):
        try:
            if self.conn is not None and self.conn.is_open:
                self.conn.close()
        except Exception:
            pass
        self.conn = self.ch = None

    def cleanup(self):
        for q in self.queues:
            with contextlib.suppress(Exception):
                self.channel().queue_delete(q)
        for x in self.exchanges:
            with contextlib.suppress(Exception):
                self.channel().exchange_delete(x)
        self.queues, self.exchanges = [], []
        self.close()

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.cleanup()
        return False


def delete_exchange(exchange):
    """Delete an exchange warrend declared (best effort)."""
    with contextlib.suppress(Exception):
        b = Broker().connect(deadline=5)
        b.exchanges.append(exchange)
        b.cleanup()


def rabbitmqctl(*args, timeout=120):
    env = dict(os.environ)
    env.setdefault("HOME", "/root")
    if not env.get("HOME"):
        env["HOME"] = "/root"
    node = ["-n", BROKER_NODE] if BROKER_NODE else []
    p = subprocess.run(["rabbitmqctl"] + node + list(args), env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


# ----------------------------------------------------------------- misc


def rfc3339_utc(s):
    return isinstance(s, str) and re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)", s) is not None


def parse_rfc3339(s):
    import datetime
    s2 = s.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(s2).timestamp()


class Pipeliner:
    """Send many lines from a thread while the caller reads the replies, so a
    big pipeline cannot deadlock on full socket buffers."""

    def __init__(self, client, lines):
        self.client = client
        self.data = b"".join(lines)
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.client.sock.sendall(self.data)
        except Exception as e:
            self.error = e

    def join(self, timeout=DEADLINE):
        self.thread.join(timeout)
        if self.thread.is_alive():
            fail("sending the pipelined requests did not finish within %.0f s" % timeout)
        if self.error:
            fail("sending the pipelined requests failed: %r" % (self.error,))


class FreezableProxy:
    """A TCP proxy on 127.0.0.1 to the broker that can go silent: while
    frozen it keeps every connection open but forwards nothing, like a
    broker host that vanished without closing anything. thaw() drops the
    frozen connections and forwards new ones again."""

    def __init__(self, target=(BROKER_HOST, BROKER_PORT)):
        import select
        self.select = select
        self.target = target
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.url = "amqp://guest:guest@127.0.0.1:%d/%%2f" % self.port
        self.frozen = False
        self.closing = False
        self.pairs = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        sel = self.select
        while not self.closing:
            with self.lock:
                socks = [self.lsock]
                if not self.frozen:
                    for a, b in self.pairs:
                        socks += [a, b]
            try:
                r, _, _ = sel.select(socks, [], [], 0.05)
            except (OSError, ValueError):
                continue
            for s in r:
                if s is self.lsock:
                    try:
                        a, _ = self.lsock.accept()
                    except OSError:
                        continue
                    if self.frozen:     # a silent host does not answer either
                        with self.lock:
                            self.pairs.append((a, None))
                        continue
                    try:
                        b = socket.create_connection(self.target, timeout=5)
                    except OSError:
                        a.close()
                        continue
                    with self.lock:
                        self.pairs.append((a, b))
                    continue
                with self.lock:
                    pair = next((p for p in self.pairs if s in p), None)
                if pair is None or self.frozen:
                    continue
                other = pair[1] if s is pair[0] else pair[0]
                try:
                    data = s.recv(65536)
                    if data:
                        other.sendall(data)
                except OSError:
                    data = b""
                if not data:
                    self._drop(pair)

    def _drop(self, pair):
        with self.lock:
            if pair in self.pairs:
                self.pairs.remove(pair)
        for s in pair:
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()

    def freeze(self):
        self.frozen = True

    def thaw(self):
        with self.lock:
            old, self.pairs = self.pairs, []
            self.frozen = False
        for pair in old:
            for s in pair:
                if s is not None:
                    with contextlib.suppress(OSError):
                        s.close()

    def close(self):
        self.closing = True
        self.thread.join(5)
        self.thaw()
        self.lsock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(port, name):
    """The value of the unlabelled sample name in warrend's /metrics on port."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    fail("no %s in /metrics:\n%s" % (name, text))
