#!/usr/bin/python3
"""TLS to the broker (amqps://): against a private RabbitMQ node with a
TLS listener that requires client certificates, and certificates this
test makes with openssl (a CA, the broker's for IP 127.0.0.1 only, a
client's, an expired one and a stranger CA). A good chain publishes and
the event is in the queue; a wrong CA, a wrong host name, an expired
certificate or no client certificate gives no connection, a log line
that says why, and spooled events; SASL EXTERNAL logs in as the client
certificate.

The node is WARREN_TEST_TLS_NODE (default warren-tls@localhost) with
AMQP on WARREN_TEST_TLS_PORT (default 5710) and AMQPS on the port after;
the test (re)starts it with its own certificates and stops it at the
end. An expired broker certificate is served by a TLS listener in this
process (the handshake fails before AMQP, so no broker is needed behind
it). A node that does not start fails every test: none is skipped."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading

from warrentest import (BROKER_HOST, DEADLINE, TOP_SRCDIR, WARREND, Broker,
                        Daemon, expect, expect_ok, fail, publish_req,
                        resource_data, run, unique, wait_for)

NODE = os.environ.get("WARREN_TEST_TLS_NODE", "warren-tls")
PORT = int(os.environ.get("WARREN_TEST_TLS_PORT", "5710"))
TLS_PORT = PORT + 1
RABBIT_NODE = os.path.join(TOP_SRCDIR, "tests", "rabbit-node")
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
RK = "resource.accessed"
CLIENT_CN = "warren-client"
FAST = {"reconnect_min_ms": 50, "reconnect_max_ms": 500}
S = {"pki": None, "node_error": None}


# ------------------------------------------------------------ certificates


def openssl(*args, cwd):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if p.returncode != 0:
        fail("openssl %s failed: %s" % (" ".join(args),
                                         p.stdout.decode("utf-8", "replace")))


CA_CNF = """[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
"""


class Pki:
    """A test CA and the certificates signed by it, in a temporary dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="warren-tls.")
        os.chmod(self.dir, 0o755)       # the broker reads its files
        self.ca("ca")
        self.ca("stranger")
        self.leaf("server", "warren-test-broker", "serverAuth",
                  "subjectAltName=IP:127.0.0.1")
        self.leaf("client", CLIENT_CN, "clientAuth")
        self.leaf("expired", "warren-test-broker", "serverAuth",
                  "subjectAltName=IP:127.0.0.1",
                  dates=("20200101000000Z", "20200102000000Z"))

    def path(self, name):
        return os.path.join(self.dir, name)

    def ca(self, name):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                "-keyout", name + ".key", "-out", name + ".pem",
                "-subj", "/CN=warren test %s" % name,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)

    def leaf(self, name, cn, usage, san=None, dates=None):
        d = self.dir
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("[ ext ]\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=%s\n%s\n" % (usage, san or ""))
        if dates is None:
            openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                    "-CAkey", "ca.key", "-CAcreateserial", "-days", "30",
                    "-extfile", name + ".ext", "-extensions", "ext",
                    "-out", name + ".pem", cwd=d)
        else:
            # openssl x509 cannot date a certificate in the past; openssl
            # ca can (-startdate/-enddate).
            with open(os.path.join(d, "ca.cnf"), "w") as f:
                f.write(CA_CNF)
            open(os.path.join(d, "index.txt"), "w").close()
            with open(os.path.join(d, "serial"), "w") as f:
                f.write("1000\n")
            openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem",
                    "-keyfile", "ca.key", "-in", name + ".csr",
                    "-startdate", dates[0], "-enddate", dates[1],
                    "-extfile", name + ".ext", "-extensions", "ext",
                    "-notext", "-out", name + ".pem", cwd=d)
        if name == "client":
            openssl("pkey", "-in", "client.key", "-aes256", "-passout",
                    "pass:secret", "-out", "client-locked.key", cwd=d)
        for f in os.listdir(d):
            os.chmod(os.path.join(d, f), 0o644 if f.endswith(".pem") else 0o600)
        os.chmod(self.path("server.key"), 0o644)   # for the broker's user


# ------------------------------------------------------------ the TLS node


def ctl(*args):
    env = dict(os.environ)
    env.setdefault("HOME", "/root")
    p = subprocess.run([CTL, "-n", NODE + "@localhost", "-q"] + list(args),
                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def node_config(pki):
    path = pki.path("rabbitmq.conf")
    with open(path, "w") as f:
        f.write("listeners.tcp.default = %d\n"
                "listeners.ssl.default = %d\n"
                "ssl_options.cacertfile = %s\n"
                "ssl_options.certfile = %s\n"
                "ssl_options.keyfile = %s\n"
                "ssl_options.verify = verify_peer\n"
                "ssl_options.fail_if_no_peer_cert = true\n"
                "auth_mechanisms.1 = PLAIN\n"
                "auth_mechanisms.2 = AMQPLAIN\n"
                "auth_mechanisms.3 = EXTERNAL\n"
                "ssl_cert_login_from = common_name\n"
                % (PORT, TLS_PORT, pki.path("ca.pem"), pki.path("server.pem"),
                   pki.path("server.key")))
    return path


def start_node():
    """(Re)start the TLS node with this run's certificates."""
    pki = Pki()
    S["pki"] = pki
    env = dict(os.environ, RABBIT_NODE_PLUGINS="rabbitmq_auth_mechanism_ssl")
    subprocess.run([RABBIT_NODE, "stop", NODE], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = subprocess.run([RABBIT_NODE, "start", NODE, str(PORT), node_config(pki)],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        S["node_error"] = p.stdout.decode("utf-8", "replace")
        return
    wait_for(lambda: tls_port_open(), "the TLS listener on port %d" % TLS_PORT)


def tls_port_open():
    with socket.create_connection((BROKER_HOST, TLS_PORT), timeout=2):
        return True


def need_node():
    if S["node_error"] is not None:
        fail("the TLS broker node %s did not start: %s" % (NODE, S["node_error"]))


def amqps(host="127.0.0.1", port=None, userinfo="guest:guest@"):
    return "amqps://%s%s:%d/%%2f" % (userinfo, host, TLS_PORT if port is None
                                     else port)


def tls_opts(ca="ca.pem", cert="client.pem", key="client.key", **more):
    pki = S["pki"]
    t = {"ca_file": pki.path(ca)}
    if cert:
        t["cert_file"] = pki.path(cert)
        t["key_file"] = pki.path(key)
    t.update(more)
    opts = dict(FAST)
    opts["tls"] = t
    return opts


def tls_daemon(name, urls=None, wait=False, **tls):
    extra = tls.pop("broker", {})
    opts = tls_opts(**tls)
    opts.update(extra)
    return Daemon(name, urls=urls or [amqps()], broker_opts=opts,
                  wait_connected=wait)


def publish_spooled(d):
    """A publish while the broker cannot be reached is answered ok,
    spooled."""
    with d.client() as c:
        r = c.request(publish_req(id=1))
    expect_ok(r, "publish", spooled=True)


def wait_log(d, *needles):
    """Wait until warrend's log has a line with every needle."""
    def has():
        return any(all(n in line for n in needles)
                   for line in d.log().split("\n"))
    wait_for(has, "a log line with %r" % (needles,))


def connections():
    """(user, ssl, auth_mechanism) of every connection to the TLS node."""
    rc, out = ctl("list_connections", "user", "ssl", "auth_mechanism")
    expect(rc == 0, "rabbitmqctl list_connections to work", out)
    return [tuple(line.split("\t")) for line in out.strip().split("\n")
            if line.strip()]


# ------------------------------------------------------------------ tests


def tls_publish_confirmed_and_queued():
    need_node()
    with Broker(port=PORT) as b, tls_daemon("tls-good", wait=True) as d:
        q = unique("tls-good")
        b.bind_queue(q, d.exchange, RK)
        with d.client() as c:
            r = c.request(publish_req(id=1, data=resource_data(7)))
        expect_ok(r, "publish")
        expect("spooled" not in r, "no \"spooled\" (the broker confirmed)", r)
        m = b.get_one(q)
        expect(b'"r-7"' in m.body, "the event's data in the queue", m.body)
        expect(("guest", "true", "PLAIN") in connections(),
               "a TLS connection of guest (PLAIN) on the broker",
               connections())


def tls_wrong_ca_refused_logged_and_spooled():
    need_node()
    with tls_daemon("tls-wrong-ca", ca="stranger.pem") as d:
        wait_log(d, "cannot connect: TLS: certificate verify failed",
                 "self-signed certificate in certificate chain")
        publish_spooled(d)
        expect(d.stats()["stats"]["broker"]["connected"] is False,
               "broker.connected false", d.stats())


def tls_wrong_hostname_refused():
    need_node()
    # The broker's certificate names 127.0.0.1 only.
    with tls_daemon("tls-wrong-host", urls=[amqps(host="localhost")]) as d:
        wait_log(d, "localhost:%d: cannot connect: TLS: certificate verify "
                 "failed: hostname mismatch" % TLS_PORT)
        publish_spooled(d)


class ExpiredListener:
    """A TLS listener on 127.0.0.1 that presents the expired certificate."""

    def __init__(self, pki):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.path("expired.pem"), pki.path("expired.key"))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.handshakes += 1
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as t:
                    t.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self):
        self.sock.close()


def tls_expired_certificate_refused():
    need_node()
    lst = ExpiredListener(S["pki"])
    try:
        with tls_daemon("tls-expired", urls=[amqps(port=lst.port)]) as d:
            wait_log(d, "cannot connect: TLS: certificate verify failed: "
                     "certificate has expired")
            publish_spooled(d)
    finally:
        lst.close()


def tls_client_certificate_required():
    """Without a client certificate the broker refuses warrend; with one
    it takes it, and the events spooled meanwhile reach the queue."""
    need_node()
    with Broker(port=PORT) as b:
        d = tls_daemon("tls-no-cert", cert=None)
        q = unique("tls-no-cert")
        b.bind_queue(q, d.exchange, RK)
        d.start()
        try:
            wait_log(d, "certificate required")
            publish_spooled(d)
            expect(d.stats()["stats"]["broker"]["connected"] is False,
                   "broker.connected false without a client certificate",
                   d.stats())
        except BaseException:
            d._cleanup(True)
            raise
        rc = d.terminate()
        expect(rc == 0, "warrend to exit 0 on SIGTERM", rc)
        expect(b.count(q) == 0, "nothing in the queue yet", b.count(q))
        # The same spool, now with the client certificate.
        d.broker_opts = tls_opts()
        d.wait_connected = True
        d.stopping = False
        d.write_config()
        with d:
            m = b.get_one(q)
            expect(b'"r-0"' in m.body, "the spooled event in the queue", m.body)


def sasl_external_logs_in_as_certificate():
    need_node()
    ctl("delete_user", CLIENT_CN)
    rc, out = ctl("add_user", CLIENT_CN, os.urandom(12).hex())
    expect(rc == 0, "rabbitmqctl add_user %s to work" % CLIENT_CN, out)
    rc, out = ctl("set_permissions", "-p", "/", CLIENT_CN, ".*", ".*", ".*")
    expect(rc == 0, "rabbitmqctl set_permissions to work", out)
    with Broker(port=PORT) as b, tls_daemon(
            "tls-external", urls=[amqps(userinfo="")], wait=True,
            broker={"auth_mechanism": "external"}) as d:
        q = unique("tls-external")
        b.bind_queue(q, d.exchange, RK)
        with d.client() as c:
            expect_ok(c.request(publish_req(id=1)), "publish")
        b.get_one(q)
        expect((CLIENT_CN, "true", "EXTERNAL") in connections(),
               "a TLS connection of %s logged in with EXTERNAL" % CLIENT_CN,
               connections())


def tls_verify_peer_off_connects_and_warns():
    """verify_peer = false takes any certificate, and says it is unsafe."""
    need_node()
    with Broker(port=PORT) as b, tls_daemon(
            "tls-no-verify", ca="stranger.pem", wait=True,
            verify_peer=False) as d:
        q = unique("tls-no-verify")
        b.bind_queue(q, d.exchange, RK)
        with d.client() as c:
            expect_ok(c.request(publish_req(id=1)), "publish")
        b.get_one(q)
        wait_log(d, "broker.tls.verify_peer = false",
                 "can pose as the broker")


def tls_encrypted_key_refused_with_reason():
    """A key that needs a passphrase: no connection (warrend asks no one
    for it), the log says the certificate cannot be used, events spool."""
    need_node()
    with tls_daemon("tls-locked-key", key="client-locked.key") as d:
        wait_log(d, "cannot connect: TLS: cannot use the client certificate",
                 "client-locked.key")
        publish_spooled(d)


def configtest_refuses_unreadable_tls_file():
    need_node()
    d = tls_daemon("tls-configtest", ca="absent.pem")
    p = subprocess.run([WARREND, "-t", "-c", d.conf_path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=DEADLINE)
    out = p.stdout.decode("utf-8", "replace")
    shutil.rmtree(d.dir, ignore_errors=True)
    expect(p.returncode == 1, "warrend -t to exit 1", (p.returncode, out))
    expect("warrend.conf:" in out and "broker.tls.ca_file" in out and
           "absent.pem: No such file or directory" in out,
           "an error naming file, line, key and the missing CA file", out)


def main():
    start_node()
    try:
        run([tls_publish_confirmed_and_queued,
             tls_wrong_ca_refused_logged_and_spooled,
             tls_wrong_hostname_refused,
             tls_expired_certificate_refused,
             tls_client_certificate_required,
             sasl_external_logs_in_as_certificate,
             tls_verify_peer_off_connects_and_warns,
             tls_encrypted_key_refused_with_reason,
             configtest_refuses_unreadable_tls_file])
    finally:
        subprocess.run([RABBIT_NODE, "stop", NODE], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if S["pki"] is not None and not os.environ.get("WARREN_KEEP"):
            shutil.rmtree(S["pki"].dir, ignore_errors=True)


if __name__ == "__main__":
    main()
