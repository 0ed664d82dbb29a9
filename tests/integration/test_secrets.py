#!/usr/bin/python3
"""Broker passwords out of warrend.conf: broker.password_file (its first
line is the password of every URL without one of its own; a relative
name is looked up in $CREDENTIALS_DIRECTORY, where systemd's
LoadCredential= puts it, else beside warrend.conf). A password from the
file logs in; a missing file is a warrend -t error naming file and line;
a password file others can read draws a warning, one only the owner can
read none; a password left in warrend.conf still warns when the config
is readable by others (test_configtest.py)."""

import os
import tempfile

from warrentest import (BROKER_ADDR, Broker, Daemon, expect, expect_ok, fail,
                        publish_req, rabbitmqctl, resource_data, run, unique,
                        wait_for)
from test_configtest import Case, expect_broken, expect_good

RK = "resource.accessed"
USER = "warren-secret-%d" % os.getpid()


def make_user(password):
    """A broker user (deleted first) with every permission on /."""
    rabbitmqctl("delete_user", USER)
    rc, out = rabbitmqctl("add_user", USER, password)
    if rc != 0:
        fail("rabbitmqctl add_user %s failed (%d): %s" % (USER, rc, out))
    rc, out = rabbitmqctl("set_permissions", "-p", "/", USER, ".*", ".*", ".*")
    if rc != 0:
        fail("rabbitmqctl set_permissions failed (%d): %s" % (rc, out))


def write_secret(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def publishes_as_user(d, b):
    """An event published through d reaches a queue, over a connection
    the broker lists as USER's."""
    q = unique(d.name)
    b.bind_queue(q, d.exchange, RK)
    with d.client() as c:
        r = c.request(publish_req(id=1, data=resource_data(3)))
    expect_ok(r, "publish")
    expect("spooled" not in r, "the broker's confirm, not the spool", r)
    m = b.get_one(q)
    expect(b'"r-3"' in m.body, "the event in the queue", m.body)
    rc, out = rabbitmqctl("-q", "list_connections", "user")
    expect(USER in out.split(), "a connection of %s on the broker" % USER, out)


def password_file_logs_in():
    make_user("pw-from-file")
    url = "amqp://%s@%s/%%2f" % (USER, BROKER_ADDR)
    d = Daemon("secret-file", urls=[url], wait_connected=True)
    write_secret(os.path.join(d.dir, "broker-password"), "pw-from-file\n")
    d.broker_opts = {"password_file": "broker-password"}
    d.write_config()
    with Broker() as b, d:
        publishes_as_user(d, b)
    rabbitmqctl("delete_user", USER)


def password_file_wrong_password_refused():
    """The file's password is really used: a wrong one is refused."""
    make_user("right")
    url = "amqp://%s@%s/%%2f" % (USER, BROKER_ADDR)
    d = Daemon("secret-wrong", urls=[url], wait_connected=False)
    write_secret(os.path.join(d.dir, "pw"), "wrong\n")
    d.broker_opts = {"password_file": "pw"}
    d.write_config()
    with d:
        wait_for(lambda: "login as %s: " % USER in d.log(),
                 "a log line saying the login as %s failed" % USER)
        expect(d.stats()["stats"]["broker"]["connected"] is False,
               "broker.connected false", d.stats())
    rabbitmqctl("delete_user", USER)


def password_file_found_in_credentials_directory():
    make_user("pw-from-systemd")
    url = "amqp://%s@%s/%%2f" % (USER, BROKER_ADDR)
    creds = tempfile.mkdtemp(prefix="warren-creds.")
    write_secret(os.path.join(creds, "warrend.broker-password"),
                 "pw-from-systemd", 0o400)
    d = Daemon("secret-creds", urls=[url], wait_connected=True,
               broker_opts={"password_file": "warrend.broker-password"})
    os.environ["CREDENTIALS_DIRECTORY"] = creds
    try:
        with Broker() as b, d:
            publishes_as_user(d, b)
    finally:
        del os.environ["CREDENTIALS_DIRECTORY"]
        os.unlink(os.path.join(creds, "warrend.broker-password"))
        os.rmdir(creds)
    rabbitmqctl("delete_user", USER)


CONF = """service = "secrets";
broker: {
  urls = [ "amqp://warren@127.0.0.1:5672/%2f" ];
  password_file = "{dir}/broker-password";
};
"""


def configtest_missing_password_file_names_file_and_line():
    with Case(CONF) as c:
        expect_broken(c.path, 4, "broker.password_file",
                      os.path.join(c.dir, "broker-password"),
                      "No such file or directory")


def configtest_warns_password_file_readable_by_others():
    with Case(CONF) as c:
        pw = os.path.join(c.dir, "broker-password")
        write_secret(pw, "s3cr3t\n", 0o644)
        err = expect_good(c.path)
        expect(pw in err and "readable by others" in err,
               "a warning naming %s, readable by others" % pw, err)
        os.chmod(pw, 0o640)
        err = expect_good(c.path)
        expect("readable by others" not in err,
               "no warning for a password file others cannot read", err)


if __name__ == "__main__":
    run([password_file_logs_in,
         password_file_wrong_password_refused,
         password_file_found_in_credentials_directory,
         configtest_missing_password_file_names_file_and_line,
         configtest_warns_password_file_readable_by_others])
