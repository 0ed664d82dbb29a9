#!/usr/bin/python3
"""What an operator sees: refusals reach the journal at error priority with
no doubled "warrend:" prefix, a failed start leaves no socket file behind,
and errors give the system's reason (Address already in use, Connection
refused)."""

import os
import re
import shlex
import shutil
import signal
import stat
import socket
import subprocess
import tempfile

from warrentest import (RESOURCE_ACCESSED, TOP_SRCDIR, WARREND, Daemon, expect, fail, run,
                        short, wait_for)

BROKEN = 'service = "operator";\nspool: { max_bytes = "big"; };\n'
# A contract the lint checklist finds fault with (no description).
LINTY = ('service = "operator";\nspool: { dir = "%s"; };\n'
         'contracts = ( { name = "ThingHappenedEvent"; routing_key = '
         '"thing.happened"; fields = ( { name = "id"; type = "string"; } ); } );\n')


def run_warrend(args, journal, cwd):
    """Run warrend with stderr in a file; with journal, $JOURNAL_STREAM names
    that file as systemd does. Returns (status, stdout, stderr)."""
    err_path = os.path.join(cwd, "stderr")
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    with open(err_path, "wb") as errf:
        if journal:
            st = os.fstat(errf.fileno())
            env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        try:
            p = subprocess.run([WARREND] + args, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=errf, env=env,
                               cwd=cwd, timeout=30)
        except subprocess.TimeoutExpired:
            fail("warrend %s did not exit within 30 s" % " ".join(args))
    with open(err_path, "rb") as f:
        err = f.read().decode("utf-8", "replace")
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


class Scratch:
    """A temp dir, removed afterwards."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="warren-operator.")
        return self

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def configtest_refusal_is_one_error_line_in_the_journal():
    with Scratch() as s:
        path = s.write("warrend.conf", BROKEN)
        rc, out, err = run_warrend(["-t", "-c", path], True, s.dir)
        want = "<3>%s:2: spool.max_bytes must be an integer" % path
        expect(rc == 1 and err.splitlines() == [want],
               "exit 1 and the one stderr line %r (error priority, no "
               "\"warrend:\": the journal adds the name)" % want,
               "exit %d, stderr %s" % (rc, short(err)))


def configtest_refusal_on_a_terminal_names_warrend_without_a_time():
    with Scratch() as s:
        path = s.write("warrend.conf", BROKEN)
        rc, out, err = run_warrend(["-t", "-c", path], False, s.dir)
        want = "warrend: %s:2: spool.max_bytes must be an integer" % path
        expect(rc == 1 and err.splitlines() == [want],
               "exit 1 and the one stderr line %r" % want,
               "exit %d, stderr %s" % (rc, short(err)))


def configtest_lint_finding_is_warning_priority_in_the_journal():
    with Scratch() as s:
        os.mkdir(os.path.join(s.dir, "spool"))
        path = s.write("warrend.conf", LINTY % os.path.join(s.dir, "spool"))
        rc, out, err = run_warrend(["-t", "-c", path], True, s.dir)
        lines = err.splitlines()
        expect(rc == 0 and out == "configuration OK\n" and lines and
               all(ln.startswith("<4>warning: %s:" % path) for ln in lines),
               "exit 0, configuration OK, and each finding as \"<4>warning: "
               "FILE:...\"", "exit %d, stdout %s, stderr %s"
               % (rc, short(out), short(err)))


def warrend_long_options_and_named_mistakes():
    with Scratch() as s:
        for flag in ("--help", "-h"):
            rc, out, err = run_warrend([flag], False, s.dir)
            expect(rc == 0 and out.startswith("usage: warrend ") and err == "",
                   "warrend %s: exit 0 and the usage on stdout" % flag, (rc, out, err))
        rc, out, err = run_warrend(["--version"], False, s.dir)
        expect(rc == 0 and re.fullmatch(r"warrend \S+\n", out), "warrend --version: "
               "exit 0 and \"warrend VERSION\"", (rc, out, err))
        for args, first in ((["--bogus"], "warrend: unknown option --bogus"),
                            (["-Q"], "warrend: unknown option -Q"),
                            (["-c"], "warrend: option -c needs an argument"),
                            (["x"], "warrend: unexpected argument: x")):
            rc, out, err = run_warrend(args, False, s.dir)
            lines = err.splitlines()
            expect(rc == 1 and lines[:1] == [first] and lines[1].startswith("usage: warrend"),
                   "warrend %s: exit 1, %r then the usage" % (" ".join(args), first),
                   (rc, err))


def occupied_port():
    """A listening TCP socket on 127.0.0.1 and its port."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def failed_start_says_address_in_use_and_removes_its_socket():
    busy, port = occupied_port()
    d = Daemon("failed_start", wait_connected=False,
               top={"metrics": {"listen": "127.0.0.1:%d" % port}})
    try:
        rc, out, err = run_warrend(["-c", d.conf_path], True, d.dir)
        want = "<3>metrics.listen 127.0.0.1:%d: cannot listen there: " \
            "Address already in use" % port
        expect(rc == 1 and want in err.splitlines(),
               "exit 1 and the stderr line %r" % want,
               "exit %d, stderr %s" % (rc, short(err)))
        expect(not os.path.exists(d.sock_path),
               "no socket file left at %s after the failed start"
               % d.sock_path, sorted(os.listdir(d.dir)))
    finally:
        busy.close()
        shutil.rmtree(d.dir, ignore_errors=True)


def broker_refusing_connections_logged_as_connection_refused():
    busy, port = occupied_port()
    busy.close()   # nobody listens there now: connect gets ECONNREFUSED
    url = "amqp://guest:guest@127.0.0.1:%d/%%2f" % port
    with Daemon("refused", urls=[url], wait_connected=False) as d:
        want = "broker 127.0.0.1:%d: cannot connect: Connection refused" % port
        wait_for(lambda: want in d.log(), "the log line %r" % want)
        if "a socket error occurred" in d.log():
            fail("the log still says \"a socket error occurred\": %s"
                 % short(d.log_tail()))


def broker_host_unknown_logged_with_the_resolver_reason():
    url = "amqp://guest:guest@nonexistent.invalid:5672/%2f"
    with Daemon("unknown_host", urls=[url], wait_connected=False) as d:
        pat = r"broker nonexistent\.invalid:5672: cannot connect: hostname lookup " \
            r"failed: \S.*; retrying"
        wait_for(lambda: re.search(pat, d.log()), "a log line matching %r" % pat)


def startup_lines_in_the_journal_have_no_name_or_time():
    with Daemon("journal_lines", wait_connected=False, journal=True) as d:
        d.assert_serving()
        lines = [ln for ln in d.log().split("\n") if ln]
    bad = [ln for ln in lines if not re.match(r"<[0-7]>", ln) or
           ln[3:].startswith("warrend:") or re.match(r"<\d>\d{4}-", ln)]
    expect(lines and not bad, "every journal line as <N>message, without "
           "\"warrend:\" or a time stamp", bad[:5])


def one_contract_is_singular_in_the_log():
    with Daemon("plural", contracts=[RESOURCE_ACCESSED], wait_connected=False) as d:
        want = "listening on %s, 1 contract\n" % d.sock_path
        expect(want in d.log(), "the start-up line ending %r" % want, d.log_tail())


def make_install(destdir):
    """make install DESTDIR=destdir in the build tree warrend comes from."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(WARREND))))
    env = dict(os.environ)
    for v in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):   # not make check's jobs
        env.pop(v, None)
    p = subprocess.run(["make", "-C", top, "install",
                        "DESTDIR=" + destdir], stdin=subprocess.DEVNULL,
                       capture_output=True, env=env, timeout=120)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    expect(p.returncode == 0, "make install DESTDIR=%s to succeed" % destdir, out)
    return out


def install_never_overwrites_an_edited_config():
    with Scratch() as s:
        make_install(s.dir)
        found = [os.path.join(r, f)[len(s.dir):] for r, _, fs in os.walk(s.dir) for f in fs]
        confs = [f for f in found if f.endswith("/warren/warrend.conf")]
        expect(len(confs) == 1, "one warren/warrend.conf installed", found)
        conf = s.dir + confs[0]
        mode = stat.S_IMODE(os.stat(conf).st_mode)
        expect(mode == 0o640, "a new warrend.conf with mode 0640 (it may hold a "
               "password)", "%04o" % mode)
        with open(conf, "a") as f:
            f.write("# edited by the operator\n")
        os.chmod(conf, 0o600)
        out = make_install(s.dir)
        with open(conf) as f:
            text = f.read()
        expect(text.endswith("# edited by the operator\n"),
               "the edited warrend.conf kept by a second make install", out)
        mode = stat.S_IMODE(os.stat(conf).st_mode)
        expect(mode == 0o600, "its mode kept at 0600", "%04o" % mode)
        with open(os.path.join(TOP_SRCDIR, "conf", "warrend.conf")) as f:
            shipped = f.read()
        with open(conf + ".dist") as f:
            expect(f.read() == shipped, "the shipped file beside it as "
                   "warrend.conf.dist", out)


def unit_exec_lines(unit, key):
    """The command lines of key= in a unit file, as argv lists, with
    systemd's "$$" for a literal "$"."""
    cmds = []
    with open(os.path.join(TOP_SRCDIR, "systemd", unit)) as f:
        for line in f:
            if line.startswith(key + "="):
                argv = shlex.split(line[len(key) + 1:].strip().lstrip("-@:+!"))
                cmds.append([a.replace("$$", "$") for a in argv])
    return cmds


def reload_needs_only_warrend_and_sh():
    """ExecReload runs nothing but warrend and /bin/sh (Essential): run as
    systemd would, with $MAINPID in the environment and an empty PATH, it
    checks the file and makes warrend reload."""
    cmds = unit_exec_lines("warrend.service", "ExecReload")
    progs = sorted(set(c[0] for c in cmds))
    expect(progs == ["/bin/sh", "/usr/sbin/warrend"], "ExecReload= running only "
           "/usr/sbin/warrend and /bin/sh", progs)
    with Daemon("reload_sh", wait_connected=False) as d:
        for argv in cmds:
            argv = [WARREND if a == "/usr/sbin/warrend" else
                    d.conf_path if a == "/etc/warren/warrend.conf" else a for a in argv]
            p = subprocess.run(argv, env={"MAINPID": str(d.proc.pid), "PATH": "/nonexistent"},
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            expect(p.returncode == 0, "%s to exit 0" % argv, p)
        wait_for(lambda: "configuration reloaded" in d.log(),
                 "\"configuration reloaded\" in warrend's log")


if __name__ == "__main__":
    run([
        configtest_refusal_is_one_error_line_in_the_journal,
        configtest_refusal_on_a_terminal_names_warrend_without_a_time,
        configtest_lint_finding_is_warning_priority_in_the_journal,
        warrend_long_options_and_named_mistakes,
        failed_start_says_address_in_use_and_removes_its_socket,
        broker_refusing_connections_logged_as_connection_refused,
        broker_host_unknown_logged_with_the_resolver_reason,
        startup_lines_in_the_journal_have_no_name_or_time,
        one_contract_is_singular_in_the_log,
        install_never_overwrites_an_edited_config,
        reload_needs_only_warrend_and_sh,
    ])
