#!/usr/bin/python3
"""What warrend trusts in spool.dir (issue #11, hole 3). warrend, often
root, republishes what it finds there as genuine events and cuts torn
tails off with ftruncate, so: a symbolic link in the spool (a segment, the
lock, the directory itself) is refused and what it points to is left
alone; a directory owned by another uid or writable by others is refused
(at start-up and by warrend -t); a record warrend did not write (intact,
but without a MAC under its spool.key) is never published; and a spool of
the first format (no MAC) is refused with a message that says what to do."""

import json
import os
import shutil
import signal
import stat
import struct
import subprocess

import warrentest
from warrentest import (BROKER_URL, DEADLINE, UNREACHABLE_URL, WARREND, Broker,
                        Daemon, expect, expect_ok, fail, resource_data, unique)
from test_spool import (MAGIC_V1, RK, TYPE, Queue, crc32c, daemon, mid, restart,
                        segment_files, spool_key, spool_record, spool_stats)

SECRET = b"root's secret, mode 0600: must keep every byte\n" * 20


def run_warrend(d, *args, bound=10):
    """Run warrend on d's config; (exit status, output). One that is still
    running after bound seconds accepted the spool: it is stopped, and the
    status is None."""
    p = subprocess.Popen([WARREND, "-c", d.conf_path] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, cwd=d.dir)
    try:
        out, _ = p.communicate(timeout=bound)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=DEADLINE)
        rc = None
    return rc, out.decode("utf-8", "replace")


def expect_refused(d, what, *words):
    """warrend refuses to start, and so does warrend -t, each naming words."""
    for args in ((), ("-t",)):
        rc, out = run_warrend(d, *args)
        expect(rc not in (None, 0), "warrend %s to exit non-zero: %s"
               % (" ".join(args), what),
               "%s: %s" % (rc, out))
        for w in words:
            expect(w in out, "warrend %s to say %r: %s" % (" ".join(args), w, what), out)


def victim(d):
    """A root-owned 0600 file outside the spool, that must stay intact."""
    path = os.path.join(d.dir, "victim")
    with open(path, "wb") as f:
        f.write(SECRET)
    os.chmod(path, 0o600)
    return path


def expect_intact(path):
    with open(path, "rb") as f:
        got = f.read()
    expect(got == SECRET, "%s unchanged (%d bytes)" % (path, len(SECRET)),
           "%d bytes: %r" % (len(got), got[:60]))


def symlinked_segment_is_refused_and_its_target_not_truncated():
    """0000000000000001.spool is a link to a 0600 file: before, warrend took
    the file for a torn segment and truncated it to 0 bytes."""
    d = Daemon("trust_seglink", urls=[UNREACHABLE_URL])
    try:
        v = victim(d)
        link = os.path.join(d.dir, "spool", "0000000000000001.spool")
        os.symlink(v, link)
        rc, out = run_warrend(d)
        expect_intact(v)
        expect(rc not in (None, 0) and "0000000000000001.spool" in out and "symbolic link" in out,
               "warrend to refuse the spool, naming the link", "%s: %s" % (rc, out))
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


def symlinked_lock_is_refused_and_nothing_made_through_it():
    """spool.dir/lock is a link: before, warrend opened it with O_CREAT
    following the link, creating or opening a file wherever it points."""
    d = Daemon("trust_locklink", urls=[UNREACHABLE_URL])
    try:
        target = os.path.join(d.dir, "made-through-the-link")
        os.symlink(target, os.path.join(d.dir, "spool", "lock"))
        rc, out = run_warrend(d)
        expect(not os.path.lexists(target), "no file made at %s" % target,
               os.listdir(d.dir))
        expect(rc not in (None, 0) and "lock" in out and "symbolic link" in out,
               "warrend to refuse the spool, naming the lock", "%s: %s" % (rc, out))
        v = victim(d)
        os.unlink(os.path.join(d.dir, "spool", "lock"))
        os.symlink(v, os.path.join(d.dir, "spool", "lock"))
        rc, out = run_warrend(d)
        expect_intact(v)
        expect(rc not in (None, 0) and "symbolic link" in out,
               "warrend to refuse a lock linked to a file", "%s: %s" % (rc, out))
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


def spool_dir_writable_by_others_is_refused():
    d = Daemon("trust_mode", urls=[UNREACHABLE_URL])
    try:
        spool_dir = os.path.join(d.dir, "spool")
        for mode in (0o777, 0o770, 0o1777):
            os.chmod(spool_dir, mode)
            expect_refused(d, "spool.dir mode %04o" % mode, spool_dir, "writable")
        os.chmod(spool_dir, 0o755)
        rc, out = run_warrend(d, "-t")
        expect(rc == 0 and "configuration OK" in out,
               "warrend -t to accept a 0755 spool.dir of its own", "%s: %s" % (rc, out))
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


def spool_dir_owned_by_another_uid_is_refused():
    d = Daemon("trust_owner", urls=[UNREACHABLE_URL])
    try:
        if os.geteuid() == 0:
            spool_dir = os.path.join(d.dir, "spool")
            os.chown(spool_dir, 65534, 65534)
            other = "65534"
        else:
            spool_dir = "/usr"      # root's, and not ours
            other = "0"
        d.spool = {"dir": spool_dir}
        d.write_config()
        expect_refused(d, "spool.dir owned by uid %s" % other, spool_dir,
                       "owned by uid %s" % other)
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


def spool_dir_that_is_a_link_is_refused():
    d = Daemon("trust_dirlink", urls=[UNREACHABLE_URL])
    try:
        link = os.path.join(d.dir, "spool-link")
        os.symlink(os.path.join(d.dir, "spool"), link)
        for name in (link, link + "/"):
            d.spool = {"dir": name}
            d.write_config()
            expect_refused(d, "spool.dir %s" % name, "symbolic link")
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


def key_made_0600_and_a_readable_key_refused():
    """The first start makes spool.key, 32 bytes, 0600; a key others can
    read is refused, since it proves nothing any more."""
    with daemon("trust_key", urls=[UNREACHABLE_URL], wait_connected=False) as d:
        key_path = os.path.join(d.dir, "spool", "spool.key")
        st = os.lstat(key_path)
        expect(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
               and st.st_size == 32 and st.st_uid == os.geteuid(),
               "spool.key a 32-byte regular file of mode 0600",
               "mode %o size %d uid %d" % (st.st_mode, st.st_size, st.st_uid))
        with d.client() as c:
            expect_ok(c.request(warrentest.publish_req(id=1), timeout=30), "publish",
                      spooled=True)
        rc = d.terminate()
        expect(rc == 0, "exit status 0 after SIGTERM", rc)
        os.chmod(key_path, 0o644)
        rc, out = run_warrend(d)
        expect(rc not in (None, 0) and "spool.key" in out, "warrend to refuse a spool.key of "
               "mode 0644", "%s: %s" % (rc, out))
        os.chmod(key_path, 0o600)
        restart(d, wait_connected=False)
        expect(spool_stats(d)["records"] == 1, "the spooled event still there with "
               "the key back to 0600", json.dumps(spool_stats(d)))


def planted_record_without_valid_mac_is_not_published():
    """Records appended by someone else, intact (right CRC) but with a MAC
    under another key, are skipped with a log line and counted; the genuine
    ones around them arrive."""
    name = "trust_planted"
    with Broker() as b, daemon(name, urls=[UNREACHABLE_URL], wait_connected=False) as d:
        q = Queue(b, unique(name), d.exchange)
        ok = []
        with d.client() as c:
            for k in range(3):
                req = warrentest.publish_req(id=k, message_id=mid(name, k),
                                             data=resource_data(k))
                expect_ok(c.request(req, timeout=30), "publish", spooled=True)
                ok.append(mid(name, k))
        rc = d.terminate()
        expect(rc == 0, "exit status 0 after SIGTERM", rc)
        spool_dir = os.path.join(d.dir, "spool")
        segs = segment_files(spool_dir)
        body = json.dumps(resource_data(666)).encode()
        forged = spool_record(RK, TYPE, mid(name, 666), 1714564800123, body,
                              b"\x01" * 32)
        with open(segs[-1], "ab") as f:
            f.write(forged)
        good = spool_record(RK, TYPE, mid(name, 3), 1714564800123,
                            json.dumps(resource_data(3)).encode(), spool_key(spool_dir))
        with open(segs[-1], "ab") as f:
            f.write(good)
        ok.append(mid(name, 3))
        d.urls = [BROKER_URL]
        d.write_config()
        restart(d, wait_connected=True)
        st = spool_stats(d)
        expect(st.get("forged") == 1 and st["corrupt"] == 0 and st["torn"] == 0,
               "spool stats forged 1, corrupt 0, torn 0", json.dumps(st))
        expect("not written by this warrend" in d.log(),
               "a log line saying a record was not written by this warrend",
               d.log_tail(8))
        q.wait_all(ok, "around the planted record")
        q.take()
        expect(not q.got[mid(name, 666)], "the planted record not published",
               q.got[mid(name, 666)])


def first_format_spool_is_refused_not_published():
    """A segment of the first format (no MAC): before, any record in it with
    the right CRC was published; now warrend refuses to start and says how
    to drain or discard it."""
    name = "trust_v1"
    with Broker() as b:
        d = Daemon(name, urls=[BROKER_URL])
        try:
            q = Queue(b, unique(name), d.exchange)
            rk, typ, m = RK.encode(), TYPE.encode(), mid(name, 1).encode()
            payload = struct.pack("<HHHHq", len(rk), len(typ), len(m), 0,
                                  1714564800123) + rk + typ + m + \
                json.dumps(resource_data(1)).encode()
            seg = os.path.join(d.dir, "spool", "0000000000000001.spool")
            with open(seg, "wb") as f:
                f.write(struct.pack("<III", MAGIC_V1, len(payload), crc32c(payload))
                        + payload)
            os.chmod(seg, 0o600)
            rc, out = run_warrend(d)
            q.take()
            expect(not q.got[mid(name, 1)], "the record without a MAC not published",
                   q.got[mid(name, 1)])
            expect(rc not in (None, 0) and "0000000000000001.spool" in out
                   and "older warrend" in out and "previous warrend" in out,
                   "warrend to refuse the first-format segment, saying how to drain it",
                   "%s: %s" % (rc, out))
            expect(os.path.getsize(seg) > 0, "the old segment left as it was",
                   os.path.getsize(seg))
        finally:
            shutil.rmtree(d.dir, ignore_errors=True)


if __name__ == "__main__":
    warrentest.run([
        symlinked_segment_is_refused_and_its_target_not_truncated,
        symlinked_lock_is_refused_and_nothing_made_through_it,
        spool_dir_writable_by_others_is_refused,
        spool_dir_owned_by_another_uid_is_refused,
        spool_dir_that_is_a_link_is_refused,
        key_made_0600_and_a_readable_key_refused,
        planted_record_without_valid_mac_is_not_published,
        first_format_spool_is_refused_not_published,
    ])
