#!/usr/bin/python3
"""systemd: the test plays systemd's side of its protocols against the real
warrend -- the notify datagrams ($NOTIFY_SOCKET: READY, STATUS, RELOADING,
STOPPING), the watchdog ($WATCHDOG_USEC, $WATCHDOG_PID), socket activation
($LISTEN_FDS, $LISTEN_PID) and the journal log format ($JOURNAL_STREAM) --
and checks that no broker password reaches the log."""

import os
import re
import signal
import socket
import stat
import subprocess
import time

from warrentest import (BROKER_ADDR, BROKER_URL, DEADLINE, UNREACHABLE_URL, WARREND, Client,
                        Daemon, Failure, RESOURCE_ACCESSED, expect,
                        expect_ok, fail, publish_req, run, short, wait_for)

# Everything systemd may pass; none of it leaks in from the test's own
# environment.
SD_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
           "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM")

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
PASSWORD = "s3cr3t-pw"


# ------------------------------------------------------------- helpers


class ForkedProc:
    """The parts of subprocess.Popen that Daemon uses, for a child made with
    os.fork (so that it can set $LISTEN_PID/$WATCHDOG_PID to its own pid)."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def _reap(self, flags):
        if self.returncode is not None:
            return self.returncode
        pid, status = os.waitpid(self.pid, flags)
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self):
        return self._reap(os.WNOHANG)

    def wait(self, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired("warrend", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig):
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class SdDaemon(Daemon):
    """A Daemon started the way systemd starts it: env(child_pid) gives the
    variables to set (computed in the child, so they can name its own pid),
    listen_sock (if given) becomes descriptor 3. Unlike Daemon it does not
    wait for the socket at start: the tests decide what to wait for."""

    def __init__(self, name, env=None, listen_sock=None, args=(), **kw):
        kw.setdefault("wait_connected", False)
        super().__init__(name, **kw)
        self.env_fn = env or (lambda pid: {})
        self.listen_sock = listen_sock
        self.args = list(args)

    def start(self):
        if not os.access(WARREND, os.X_OK):
            fail("warrend not found or not executable at %s" % WARREND)
        self.logf = open(self.log_path, "wb")
        wrapper = os.environ.get("WARREND_WRAPPER", "").split()
        argv = wrapper + [WARREND] + self.args + ["-c", self.conf_path]
        base = {k: v for k, v in os.environ.items() if k not in SD_VARS}
        pid = os.fork()
        if pid == 0:   # the child: never return into the test
            try:
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(self.logf.fileno(), 1)
                os.dup2(self.logf.fileno(), 2)
                if self.listen_sock is not None:
                    os.dup2(self.listen_sock.fileno(), 3)
                    os.set_inheritable(3, True)   # also when it was 3 already
                env = dict(base)
                env.update(self.env_fn(os.getpid()))
                os.chdir(self.dir)
                os.execvpe(argv[0], argv, env)
            except BaseException as e:
                try:
                    os.write(2, ("cannot start warrend: %r\n" % (e,)).encode())
                finally:
                    os._exit(127)
        self.proc = ForkedProc(pid)
        return self

    def __enter__(self):
        return self     # started by the test, once its env is set

    def wait_serving(self, path=None, deadline=DEADLINE):
        """Wait until path (socket.path by default) answers ping."""
        path = path or self.sock_path
        end = time.monotonic() + deadline
        last = None
        while True:
            rc = self.proc.poll()
            if rc is not None:
                fail("warrend exited with status %d at start-up; log:\n%s"
                     % (rc, self.log_tail()))
            try:
                with Client(path, connect_timeout=2) as c:
                    r = c.request({"op": "ping"}, timeout=5)
                    if r.get("ok") is True:
                        return
                    last = r
            except (OSError, Failure) as e:
                last = e
            if time.monotonic() > end:
                fail("warrend did not answer ping on %s within %.0f s (last: %s); log:\n%s"
                     % (path, deadline, short(str(last)), self.log_tail()))
            time.sleep(0.05)


class Notify:
    """systemd's end of $NOTIFY_SOCKET: a datagram socket at a path, or at an
    abstract address when name starts with "@". Keeps every message."""

    def __init__(self, where):
        self.where = where
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + where[1:] if where.startswith("@") else where)
        self.msgs = []       # every datagram, as text, in arrival order
        self.seen = 0        # how many of them next() has handed out

    def _recv(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        self.msgs.append(data.decode("utf-8", "replace"))
        return self.msgs[-1]

    def next(self, deadline):
        """The next datagram not handed out yet, or None after deadline s."""
        if self.seen < len(self.msgs):
            self.seen += 1
            return self.msgs[self.seen - 1]
        m = self._recv(deadline)
        if m is not None:
            self.seen += 1
        return m

    def wait(self, pred, what, deadline=DEADLINE):
        """Read datagrams until pred(lines of one datagram) holds; return
        those lines. Fails naming what and showing what did arrive."""
        end = time.monotonic() + deadline
        while True:
            left = end - time.monotonic()
            m = self.next(max(left, 0)) if left > 0 else None
            if m is None and time.monotonic() >= end:
                fail("timed out after %.0f s waiting for a notify message with %s; "
                     "received: %s" % (deadline, what, short(self.msgs, 1500)))
            if m is not None and pred(m.split("\n")):
                return m.split("\n")

    def wait_line(self, line, deadline=DEADLINE):
        return self.wait(lambda ls: line in ls, repr(line), deadline)

    def collect(self, seconds):
        """Every datagram arriving in the next seconds (a bounded wait)."""
        out = []
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return out
            m = self.next(left)
            if m is not None:
                out.append(m)

    def close(self):
        self.sock.close()
        if not self.where.startswith("@"):
            try:
                os.unlink(self.where)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def abstract_name(tag):
    return "@warren-test.%d.%s" % (os.getpid(), tag)


def notify_env(where, **more):
    def env(pid):
        e = {"NOTIFY_SOCKET": where}
        e.update({k: (v(pid) if callable(v) else v) for k, v in more.items()})
        return e
    return env


def status_lines(lines):
    return [ln[len("STATUS="):] for ln in lines if ln.startswith("STATUS=")]


def expect_exit_zero(d, sig=signal.SIGTERM):
    rc = d.terminate(sig)
    expect(rc == 0, "exit status 0 after %s" % sig.name,
           "killed after %.0f s" % DEADLINE if rc is None else "status %s" % rc)


def listening_unix_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    return s


# ------------------------------------------------------------- notify


def notify_ready_only_once_socket_answers_ping():
    with SdDaemon("notify_ready") as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        # No ping before this point: READY=1 alone must mean "serving".
        try:
            with Client(d.sock_path, connect_timeout=5) as c:
                r = c.request({"op": "ping"}, timeout=DEADLINE)
        except OSError as e:
            fail("expected the socket to accept a connection as soon as READY=1 "
                 "arrived, got %r" % (e,))
        expect_ok(r, "ping")
        expect_exit_zero(d)


def notify_abstract_socket_gets_ready_and_stopping():
    with SdDaemon("notify_abstract") as d, Notify(abstract_name("abstract")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        d.wait_serving()
        d.kill(signal.SIGTERM)
        n.wait_line("STOPPING=1")
        rc = d.terminate(None)
        expect(rc == 0, "exit status 0 after SIGTERM", rc)


def notify_status_says_connected_to_broker_and_spool_empty():
    with SdDaemon("notify_status") as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        n.wait(lambda ls: any("connected to " + BROKER_ADDR in s and "spool empty" in s
                              for s in status_lines(ls)),
               'a STATUS= line with "connected to 127.0.0.1:5672" and "spool empty"')
        expect_exit_zero(d)


def notify_status_says_cannot_reach_broker_and_no_spool():
    with SdDaemon("notify_status_down", urls=[UNREACHABLE_URL],
                  spool={"max_bytes": 0}) as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        n.wait(lambda ls: any(s.startswith("cannot reach") and "no spool" in s
                              for s in status_lines(ls)),
               'a STATUS= line starting "cannot reach" and with "no spool"')
        expect_exit_zero(d)


def notify_status_counts_clients():
    with SdDaemon("notify_clients") as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        with d.client() as c1, d.client() as c2:
            c1.ping()
            c2.ping()
            n.wait(lambda ls: any(", 2 clients," in s for s in status_lines(ls)),
                   'a STATUS= line with ", 2 clients,"')
        n.wait(lambda ls: any(", 0 clients," in s for s in status_lines(ls)),
               'a STATUS= line with ", 0 clients," after both clients closed')
        expect_exit_zero(d)


def notify_sighup_sends_reloading_with_monotonic_usec_then_ready():
    with SdDaemon("notify_reload") as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        d.wait_serving()
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        d.kill(signal.SIGHUP)
        lines = n.wait_line("RELOADING=1")
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        mono = [ln for ln in lines if ln.startswith("MONOTONIC_USEC=")]
        expect(len(mono) == 1, "one MONOTONIC_USEC= line in the RELOADING=1 message "
               "(systemd requires it in the same datagram)", lines)
        v = mono[0][len("MONOTONIC_USEC="):]
        expect(v.isdigit() and before <= int(v) <= after,
               "MONOTONIC_USEC= a CLOCK_MONOTONIC time in microseconds between the "
               "SIGHUP (%d) and the message's arrival (%d)" % (before, after), v)
        n.wait_line("READY=1")
        d.assert_serving("after the reload")
        expect_exit_zero(d)


def notify_sighup_with_broken_config_sends_ready_and_reload_failed_status():
    with SdDaemon("notify_reload_bad") as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        d.wait_serving()
        d.write_config(d.config_text() + "this is ( not libconfig\n")
        d.kill(signal.SIGHUP)
        n.wait_line("RELOADING=1")
        lines = n.wait_line("READY=1")
        st = status_lines(lines)
        if not any("reload failed" in s for s in st):
            st = status_lines(n.wait(lambda ls: any(s for s in status_lines(ls)),
                                     "a STATUS= line after the failed reload"))
        expect(any("reload failed" in s for s in st),
               'a STATUS= line saying "reload failed" with the READY=1 after a '
               'broken reload', n.msgs[-3:])
        d.assert_serving("after the failed reload")
        expect_exit_zero(d)


def notify_sigterm_sends_stopping_and_exits_zero():
    with SdDaemon("notify_stop") as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where)
        d.start()
        n.wait_line("READY=1")
        d.wait_serving()
        d.kill(signal.SIGTERM)
        n.wait_line("STOPPING=1")
        rc = d.terminate(None)
        expect(rc == 0, "exit status 0 after SIGTERM",
               "killed after %.0f s" % DEADLINE if rc is None else "status %s" % rc)
        after = n.msgs[next(i for i, m in enumerate(n.msgs) if "STOPPING=1" in m.split("\n")):]
        expect(not any("READY=1" in m.split("\n") for m in after),
               "no READY=1 after STOPPING=1", after)


# ------------------------------------------------------------- watchdog


def count_watchdog(n, want, deadline=DEADLINE):
    got = [0]

    def enough():
        m = n.next(0.2)
        if m is not None and "WATCHDOG=1" in m.split("\n"):
            got[0] += 1
        return got[0] >= want
    try:
        wait_for(enough, "%d WATCHDOG=1 messages" % want, deadline, interval=0)
    except Failure as e:
        fail("%s (got %d; received: %s)" % (e, got[0], short(n.msgs[-20:], 1500)))


def watchdog_keepalives_with_watchdog_usec_and_no_watchdog_pid():
    with SdDaemon("watchdog") as d, Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where, WATCHDOG_USEC="500000")
        d.start()
        n.wait_line("READY=1")
        count_watchdog(n, 3)
        expect_exit_zero(d)


def watchdog_keepalives_when_watchdog_pid_is_warrends_own():
    with SdDaemon("watchdog_pid") as d, Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where, WATCHDOG_USEC="500000", WATCHDOG_PID=str)
        d.start()
        n.wait_line("READY=1")
        count_watchdog(n, 3)
        expect_exit_zero(d)


def watchdog_silent_when_watchdog_pid_is_another_process():
    ours = str(os.getpid())
    with SdDaemon("watchdog_other") as d, Notify(os.path.join(d.dir, "notify")) as n:
        d.env_fn = notify_env(n.where, WATCHDOG_USEC="500000",
                              WATCHDOG_PID=lambda pid: ours)
        d.start()
        n.wait_line("READY=1")
        # A STATUS= change after start-up shows the periodic tick (which
        # sends WATCHDOG=1 when it is on) has run; then a bounded wait.
        n.wait(lambda ls: any(s.startswith("connected to") for s in status_lines(ls)),
               'a STATUS= line starting "connected to"')
        n.collect(2.0)
        wd = [m for m in n.msgs if "WATCHDOG=1" in m.split("\n")]
        expect(not wd, "no WATCHDOG=1 when $WATCHDOG_PID names another process (%s)"
               % ours, "%d WATCHDOG=1 messages among %s" % (len(wd), short(n.msgs, 800)))
        other = [ln for m in n.msgs for ln in m.split("\n")
                 if not (ln in ("READY=1",) or ln.startswith("STATUS="))]
        expect(not other, "only READY=1 and STATUS= messages", other)
        expect_exit_zero(d)


# ------------------------------------------------------------- socket activation


def socket_activation_serves_the_inherited_socket():
    with SdDaemon("activation", contracts=[RESOURCE_ACCESSED]) as d:
        ours = os.path.join(d.dir, "activated.sock")
        d.sock_path = os.path.join(d.dir, "absent", "warren.sock")   # no such dir
        d.write_config()
        with listening_unix_socket(ours) as ls:
            d.listen_sock = ls
            d.env_fn = lambda pid: {"LISTEN_FDS": "1", "LISTEN_PID": str(pid)}
            d.start()
            d.wait_serving(ours)
            with Client(ours) as c:
                r = expect_ok(c.request({"op": "contracts"}), "contracts")
                names = [ct.get("name") for ct in r.get("contracts", [])]
                expect(names == ["ResourceAccessedEvent"],
                       "this config's one contract listed on the inherited socket", names)
            expect(not os.path.exists(d.sock_path),
                   "socket.path %s not created (the inherited socket is used)"
                   % d.sock_path, "it exists")
            expect("using the listening socket passed by systemd" in d.log(),
                   'the log line "using the listening socket passed by systemd"',
                   d.log_tail(10))
            expect_exit_zero(d)


def socket_activation_leaves_inherited_socket_file_after_sigterm():
    with SdDaemon("activation_keep") as d:
        ours = os.path.join(d.dir, "activated.sock")
        d.sock_path = os.path.join(d.dir, "absent", "warren.sock")
        d.write_config()
        with listening_unix_socket(ours) as ls:
            d.listen_sock = ls
            d.env_fn = lambda pid: {"LISTEN_FDS": "1", "LISTEN_PID": str(pid)}
            d.start()
            d.wait_serving(ours)
            expect_exit_zero(d)
            try:
                st = os.lstat(ours)
            except OSError as e:
                fail("expected the inherited socket file %s to remain after SIGTERM, "
                     "got %r" % (ours, e))
            expect(stat.S_ISSOCK(st.st_mode), "%s still a socket" % ours,
                   "mode %o" % st.st_mode)


def socket_activation_with_notify_ready_serves_inherited_socket():
    with SdDaemon("activation_notify") as d, \
            Notify(os.path.join(d.dir, "notify")) as n:
        ours = os.path.join(d.dir, "activated.sock")
        d.sock_path = os.path.join(d.dir, "absent", "warren.sock")
        d.write_config()
        with listening_unix_socket(ours) as ls:
            d.listen_sock = ls
            d.env_fn = lambda pid: {"LISTEN_FDS": "1", "LISTEN_PID": str(pid),
                                    "NOTIFY_SOCKET": n.where}
            d.start()
            n.wait_line("READY=1")
            with Client(ours, connect_timeout=5) as c:
                expect_ok(c.request({"op": "ping"}), "ping")
            d.kill(signal.SIGTERM)
            n.wait_line("STOPPING=1")
            rc = d.terminate(None)
            expect(rc == 0, "exit status 0 after SIGTERM", rc)
            expect(os.path.exists(ours), "%s still there after SIGTERM" % ours, "gone")


def socket_activation_ignored_when_listen_pid_is_another_process():
    ppid = str(os.getpid())
    with SdDaemon("activation_other") as d:
        ours = os.path.join(d.dir, "activated.sock")
        with listening_unix_socket(ours) as ls:
            d.listen_sock = ls
            d.env_fn = lambda pid: {"LISTEN_FDS": "1", "LISTEN_PID": ppid}
            d.start()
            d.wait_serving(d.sock_path)      # socket.path, bound by warrend itself
            expect("passed by systemd" not in d.log(),
                   "no \"passed by systemd\" log line when $LISTEN_PID is %s" % ppid,
                   d.log_tail(10))
            st = os.lstat(d.sock_path)
            expect(stat.S_ISSOCK(st.st_mode), "socket.path a socket", "mode %o" % st.st_mode)
            expect_exit_zero(d)
            expect(not os.path.exists(d.sock_path),
                   "warrend to remove socket.path, which it bound itself, at exit",
                   "it is still there")


# ------------------------------------------------------------- journal


def journal_stream_gives_priority_prefixes_and_no_timestamps():
    # The unreachable URL gives a warning, the reachable one an info line.
    with SdDaemon("journal", urls=[UNREACHABLE_URL, BROKER_URL]) as d:
        # As systemd does: the device and inode of the child's stderr (the
        # log file, descriptor 2 by the time env() runs in the child).
        d.env_fn = lambda pid: {"JOURNAL_STREAM": "%d:%d" % (os.fstat(2).st_dev,
                                                             os.fstat(2).st_ino)}
        d.start()
        d.wait_serving()
        wait_for(lambda: re.search(r"^<6>publisher: connected to broker", d.log(), re.M),
                 'a "<6>publisher: connected to broker" line')
        wait_for(lambda: re.search(r"^<4>.*127\.0\.0\.1:1\b", d.log(), re.M),
                 'a "<4>" warning about 127.0.0.1:1')
        expect_exit_zero(d)
        lines = [ln for ln in d.log().split("\n") if ln]
        bad = [ln for ln in lines if not re.match(r"<[0-7]>", ln)]
        expect(not bad, "every line starting with <N>", bad[:5])
        stamped = [ln for ln in lines if TIMESTAMP.search(ln)]
        expect(not stamped, "no timestamps when stderr is the journal", stamped[:5])
        named = [ln for ln in lines if re.match(r"<[0-7]>warrend: ", ln)]
        expect(not named, "no program name prefix (the journal adds it)", named[:5])
        expect(any(ln.startswith("<6>") and "stopped" in ln for ln in lines),
               'a "<6>stopped" line at exit', lines[-5:])


def log_lines_start_with_timestamp_without_journal_stream():
    with SdDaemon("no_journal", urls=[UNREACHABLE_URL, BROKER_URL]) as d:
        d.start()
        d.wait_serving()
        wait_for(lambda: "publisher: connected to broker" in d.log(),
                 'a "publisher: connected to broker" line')
        expect_exit_zero(d)
        lines = [ln for ln in d.log().split("\n") if ln]
        bad = [ln for ln in lines
               if not re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3} warrend: ", ln)]
        expect(lines and not bad,
               'every line starting "YYYY-MM-DDTHH:MM:SS.mmm warrend: "', bad[:5] or lines)


def journal_stream_naming_another_file_keeps_timestamps():
    with SdDaemon("journal_other") as d:
        st = os.stat(d.conf_path)      # not stderr
        d.env_fn = lambda pid: {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}
        d.start()
        d.wait_serving()
        expect_exit_zero(d)
        lines = [ln for ln in d.log().split("\n") if ln]
        bad = [ln for ln in lines if not TIMESTAMP.match(ln)]
        expect(lines and not bad,
               "timestamped lines when $JOURNAL_STREAM names another file", bad[:5] or lines)


# ------------------------------------------------------------- secrets


def broker_password_never_in_log():
    unreachable = "amqp://guest:%s@127.0.0.1:1/%%2f" % PASSWORD
    reachable = "amqp://guest:%s@%s/%%2f" % (PASSWORD, BROKER_ADDR)    # wrong password
    with SdDaemon("password", urls=[unreachable, reachable], args=["-d"],
                  broker_opts={"publish_timeout_ms": 500}) as d:
        d.start()
        d.wait_serving()
        wait_for(lambda: "127.0.0.1:1" in d.log(), "a log line about 127.0.0.1:1")
        wait_for(lambda: re.search(re.escape(BROKER_ADDR) + r".*login", d.log()),
                 "a log line about the refused login at 127.0.0.1:5672")
        with d.client() as c:
            # Spooled or unavailable: either way it goes through the log paths.
            r = c.request(publish_req(id=1))
            expect(PASSWORD not in str(r), "no password in the publish reply", r)
            r = c.request({"op": "subscribe", "id": 2, "event": "ResourceAccessedEvent"})
            expect(PASSWORD not in str(r), "no password in the subscribe reply", r)
            r = c.request({"op": "stats"})
            expect(PASSWORD not in str(r), "no password in the stats reply", r)
        d.kill(signal.SIGHUP)
        wait_for(lambda: "reloaded" in d.log(), "the reload in the log")
        expect_exit_zero(d)
        log = d.log()
        hits = [ln for ln in log.split("\n") if PASSWORD in ln]
        expect(not hits, "the password %r nowhere in the log" % PASSWORD, hits[:5])
        # warrend -t on a URL it refuses (port out of range) must not
        # echo it either.
        d.urls = ["amqps://guest:%s@127.0.0.1:99999/%%2f" % PASSWORD]
        d.write_config()
        p = subprocess.run([WARREND, "-t", "-c", d.conf_path], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        expect(p.returncode == 1, "warrend -t to refuse a URL with port 99999 (exit 1)",
               "status %d: %s" % (p.returncode, out))
        expect(PASSWORD not in out, "no password in warrend -t's message", out)


if __name__ == "__main__":
    run([
        notify_ready_only_once_socket_answers_ping,
        notify_abstract_socket_gets_ready_and_stopping,
        notify_status_says_connected_to_broker_and_spool_empty,
        notify_status_says_cannot_reach_broker_and_no_spool,
        notify_status_counts_clients,
        notify_sighup_sends_reloading_with_monotonic_usec_then_ready,
        notify_sighup_with_broken_config_sends_ready_and_reload_failed_status,
        notify_sigterm_sends_stopping_and_exits_zero,
        watchdog_keepalives_with_watchdog_usec_and_no_watchdog_pid,
        watchdog_keepalives_when_watchdog_pid_is_warrends_own,
        watchdog_silent_when_watchdog_pid_is_another_process,
        socket_activation_serves_the_inherited_socket,
        socket_activation_leaves_inherited_socket_file_after_sigterm,
        socket_activation_with_notify_ready_serves_inherited_socket,
        socket_activation_ignored_when_listen_pid_is_another_process,
        journal_stream_gives_priority_prefixes_and_no_timestamps,
        log_lines_start_with_timestamp_without_journal_stream,
        journal_stream_naming_another_file_keeps_timestamps,
        broker_password_never_in_log,
    ])
