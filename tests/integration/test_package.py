#!/usr/bin/python3
"""The Debian package: script/package builds warren_VERSION_ARCH.deb and
lintian finds no error or warning; its contents, conffile and modes are
right; unpacked with dpkg --root into a scratch root, its maintainer
scripts (run with DPKG_ROOT, the host's dpkg and systemd stubbed) create
the warren user, give the config to group warren, enable and start
warrend.service, and on purge remove the spool."""

import os
import re
import shutil
import subprocess
import tempfile

from warrentest import TOP_SRCDIR, expect, expect_eq, fail, run, short

BUILD_BOUND = 900     # seconds: apt-get the first time, then ~30 s
PKG = {}              # the build, shared by the tests: dir, deb, log


def sh(argv, what, timeout=120, env=None, ok=True):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, env=env)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    if ok and p.returncode != 0:
        fail("%s: expected exit 0, got exit %d: %s" % (what, p.returncode, short(out, 3000)))
    return p.returncode, p.stdout.decode("utf-8", "replace"), out


def build():
    """script/package into a temp dir, once."""
    if PKG:
        return PKG
    d = tempfile.mkdtemp(prefix="warren-package.")
    env = dict(os.environ, WARREN_DEB_DIR=d, DEB_BUILD_OPTIONS="nocheck")
    for v in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):   # not make check's jobs
        env.pop(v, None)
    _, _, out = sh([os.path.join(TOP_SRCDIR, "script", "package")], "script/package",
                   timeout=BUILD_BOUND, env=env)
    debs = [f for f in os.listdir(d) if re.fullmatch(r"warren_[^_]+_[^_]+\.deb", f)]
    expect(len(debs) == 1, "one warren_VERSION_ARCH.deb in %s" % d, sorted(os.listdir(d)))
    PKG.update(dir=d, deb=os.path.join(d, debs[0]), log=out)
    return PKG


def package_builds_lintian_clean():
    p = build()
    changes = [f for f in os.listdir(p["dir"]) if f.endswith(".changes")]
    _, _, out = sh(["lintian", "--fail-on", "error,warning",
                    os.path.join(p["dir"], changes[0])], "lintian", timeout=300)
    bad = [ln for ln in out.splitlines() if re.match(r"[EW]: ", ln)]
    expect(not bad, "lintian: no error or warning", bad)


def contents():
    """{path: (mode string, owner/group)} from dpkg-deb -c."""
    _, out, _ = sh(["dpkg-deb", "-c", build()["deb"]], "dpkg-deb -c")
    files = {}
    for ln in out.splitlines():
        f = ln.split()
        files[f[5].lstrip(".")] = (f[0], f[1])
    return files


def package_holds_programs_units_manuals_and_private_conffile():
    files = contents()
    for path in ("/usr/sbin/warrend", "/usr/bin/warren",
                 "/lib/systemd/system/warrend.service", "/lib/systemd/system/warrend.socket",
                 "/usr/lib/sysusers.d/warren.conf", "/usr/share/man/man8/warrend.8.gz",
                 "/usr/share/man/man5/warrend.conf.5.gz", "/usr/share/man/man1/warren.1.gz",
                 "/usr/share/man/man7/warren-protocol.7.gz",
                 "/usr/share/doc/warren/copyright"):
        expect(path in files, "%s in the package" % path, sorted(files))
    expect_eq("/etc/warren/warrend.conf mode and owner", ("-rw-r-----", "root/root"),
              files.get("/etc/warren/warrend.conf"))
    d = tempfile.mkdtemp(prefix="warren-ctrl.")
    try:
        sh(["dpkg-deb", "-e", build()["deb"], d], "dpkg-deb -e")
        with open(os.path.join(d, "conffiles")) as f:
            expect_eq("conffiles", ["/etc/warren/warrend.conf"], f.read().split())
    finally:
        shutil.rmtree(d, ignore_errors=True)
    _, dep, _ = sh(["dpkg-deb", "-f", build()["deb"], "Depends"], "dpkg-deb -f")
    for want in ("systemd-sysusers", "librabbitmq4", "libevent-2.1-7", "libconfig9",
                 "libcjson1"):
        expect(want in dep, "Depends naming %s" % want, dep)


STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0") $1" in
"dpkg-statoverride --list") exit ${{STUB_LISTED:-1}} ;;
"deb-systemd-helper debian-installed") exit 1 ;;   # a first install
esac
exit 0
"""


class Root:
    """A scratch root with the package unpacked by dpkg --root, and stubs
    for the commands that would touch the host (its dpkg database, its
    systemd)."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="warren-root.")
        self.root = os.path.join(self.dir, "root")
        admin = os.path.join(self.root, "var/lib/dpkg")
        for sub in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, sub))
        open(os.path.join(admin, "status"), "w").close()
        sh(["dpkg", "--root=" + self.root, "--force-not-root", "--force-depends",
            "--force-script-chrootless", "--unpack", build()["deb"]], "dpkg --root --unpack",
           env=dict(os.environ, DPKG_ROOT=self.root, PATH=self.stubs() + ":" +
                    os.environ.get("PATH", "/usr/bin:/bin")))
        return self

    def stubs(self):
        self.bin = os.path.join(self.dir, "bin")
        self.log = os.path.join(self.dir, "calls")
        if not os.path.isdir(self.bin):
            os.makedirs(self.bin)
            for name in ("dpkg-statoverride", "deb-systemd-helper", "deb-systemd-invoke",
                         "systemctl"):
                path = os.path.join(self.bin, name)
                with open(path, "w") as f:
                    f.write(STUB.format(log=self.log))
                os.chmod(path, 0o755)
        return self.bin

    def script(self, name, *args, listed=False):
        """Run the package's maintainer script name with DPKG_ROOT; listed:
        the stub dpkg-statoverride --list says there is an override."""
        path = os.path.join(self.root, "var/lib/dpkg/info", "warren." + name)
        env = dict(os.environ, DPKG_ROOT=self.root, STUB_LISTED="0" if listed else "1",
                   PATH=self.stubs() + ":/usr/sbin:/usr/bin:/sbin:/bin")
        sh(["/bin/sh", "-e", path] + list(args), "warren.%s %s" % (name, " ".join(args)),
           env=env)

    def calls(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def read(self, path):
        with open(os.path.join(self.root, path.lstrip("/"))) as f:
            return f.read()

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def installed_into_scratch_root_creates_user_and_private_config():
    with Root() as r:
        _, out, _ = sh(["dpkg", "--root=" + r.root, "-s", "warren"], "dpkg --root -s")
        expect("Status: install ok unpacked" in out and "/etc/warren/warrend.conf" in out,
               "dpkg's database in the scratch root: unpacked, with the conffile", out)
        conf = os.path.join(r.root, "etc/warren/warrend.conf")
        # dpkg unpacks a new conffile as .dpkg-new and renames it when it
        # configures the package: do that part of --configure here.
        expect_eq("unpacked warrend.conf.dpkg-new mode", "0o640",
                  oct(os.stat(conf + ".dpkg-new").st_mode & 0o777))
        os.rename(conf + ".dpkg-new", conf)
        r.script("postinst", "configure")
        passwd = [ln.split(":") for ln in r.read("/etc/passwd").splitlines()]
        users = {u[0]: u for u in passwd}
        expect("warren" in users, "a warren user in the root's /etc/passwd", passwd)
        expect(users["warren"][5:] == ["/var/lib/warren", "/usr/sbin/nologin"] and
               int(users["warren"][2]) < 1000, "a system user, home /var/lib/warren, "
               "shell /usr/sbin/nologin", users["warren"])
        groups = {g.split(":")[0] for g in r.read("/etc/group").splitlines()}
        expect("warren" in groups, "a warren group in the root's /etc/group", groups)
        calls = r.calls()
        for want in ("dpkg-statoverride --update --add root warren 0640 "
                     "/etc/warren/warrend.conf",
                     "deb-systemd-helper enable warrend.service"):
            expect(want in calls, "postinst to run %r" % want, calls)
        expect(not any(c.startswith("deb-systemd-helper enable warrend.socket") for c in calls),
               "warrend.socket not enabled (socket activation is opt-in)", calls)
        invoke = [c for c in calls if c.startswith("deb-systemd-invoke")]
        expect(invoke == [] or all("warrend.socket" not in c for c in invoke),
               "only warrend.service started", invoke)
        rc, out, _ = sh([os.path.join(r.root, "usr/sbin/warrend"), "-t", "-c", conf],
                        "the packaged warrend -t on the packaged config", ok=False)
        expect(rc == 0 and out == "configuration OK\n", "configuration OK", out)


def unit_files_match_the_package():
    with Root() as r:
        unit = r.read("/lib/systemd/system/warrend.service")
        execs = re.findall(r"^Exec\w+=[-@:+!]*(\S+)", unit, re.M)
        for e in execs:
            expect(e in ("/usr/sbin/warrend", "/bin/sh"), "unit commands from the package "
                   "or Essential (/bin/sh)", execs)
            if e != "/bin/sh":
                expect(os.path.exists(os.path.join(r.root, e.lstrip("/"))),
                       "%s in the package" % e, e)
        expect(re.search(r"^User=warren$", unit, re.M) and
               re.search(r"^Group=warren$", unit, re.M), "User=warren and Group=warren", unit)
        expect(re.search(r"^u warren ", r.read("/usr/lib/sysusers.d/warren.conf"), re.M),
               "sysusers.d creating the unit's user", "")
        expect("ConfigurationDirectory=warren" in unit and "ProtectSystem=strict" in unit,
               "the hardened unit", unit)


def purge_removes_the_spool_and_the_override():
    with Root() as r:
        spool = os.path.join(r.root, "var/lib/warren/spool")
        os.makedirs(spool)
        with open(os.path.join(spool, "0000000000000001.spool"), "w") as f:
            f.write("x")
        r.script("postrm", "remove")
        expect(os.path.isdir(spool), "the spool kept by remove", spool)
        r.script("postrm", "purge", listed=True)
        expect(not os.path.exists(os.path.join(r.root, "var/lib/warren")),
               "/var/lib/warren removed by purge", os.listdir(os.path.join(r.root, "var/lib")))
        expect("dpkg-statoverride --remove /etc/warren/warrend.conf" in r.calls(),
               "the stat override removed by purge", r.calls())


if __name__ == "__main__":
    try:
        run([
            package_builds_lintian_clean,
            package_holds_programs_units_manuals_and_private_conffile,
            installed_into_scratch_root_creates_user_and_private_config,
            unit_files_match_the_package,
            purge_removes_the_spool_and_the_override,
        ])
    finally:
        if PKG:
            shutil.rmtree(PKG["dir"], ignore_errors=True)
