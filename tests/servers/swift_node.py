#!/usr/bin/env python3
"""One-node OpenStack Swift with s3api on 127.0.0.1, for server.sh.

  swift_node.py DATA_DIR PROXY_PORT

Runs in the foreground as the one process server.sh starts and stops: it writes the
configs into DATA_DIR/etc, builds the account, container and object rings there
(swift-ring-builder's own code, in this process: one run of the command costs ~1 s
of Python start-up, nine would make a slow start), makes the device DATA_DIR/devs/d1,
and starts at once the three storage servers, on ports the OS says are free, and
the proxy (S3 through s3api, tempauth user test:tester / testing) on PROXY_PORT. All
four run with workers = 0 and log to this process's stdout and stderr. When all
listen and a signed ListBuckets works (and a wrong secret gets 403), it writes
DATA_DIR/ready. SIGTERM or SIGINT stops them; if one dies the others are stopped and
this exits 1. The servers die with this process even if it is killed
(PR_SET_PDEATHSIG).

Needs a Python with the swift package (Debian's /usr/bin/python3 once swift-proxy
is installed); the servers still read /etc/swift/swift.conf (hash prefix and storage
policies: Swift has no option to move it), which the Debian packages install.
"""
import base64
import ctypes
import email.utils
import hashlib
import hmac
import http.client
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
BACKENDS = ("account", "container", "object")   # the proxy is the fourth

PROXY_PIPELINE = ("catch_errors gatekeeper healthcheck proxy-logging cache "
                  "listing_formats s3api tempauth copy slo dlo proxy-logging "
                  "proxy-server")


T0 = time.monotonic()


def log(msg):
    print(f"swift_node: {time.monotonic() - T0:.2f} s: {msg}", flush=True)


def free_port(taken):
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in taken:
            return port


def defaults(name, etc, devs, port):
    # bind_timeout: a port lost to another process fails in 2 s, not Swift's 30, and
    # server.sh retries with other ports (it looks for "Could not bind").
    return f"""[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
bind_timeout = 2
workers = 0
mount_check = false
devices = {devs}
swift_dir = {etc}
user = {pwd.getpwuid(os.geteuid()).pw_name}
log_name = {name}
"""


def write_configs(etc, devs, ports):
    for name in BACKENDS:
        with open(os.path.join(etc, f"{name}-server.conf"), "w") as f:
            f.write(defaults(f"{name}-server", etc, devs, ports[name]))
            f.write(f"""
[pipeline:main]
pipeline = {name}-server

[app:{name}-server]
use = egg:swift#{name}
""")
    # cache: tempauth wants a memcache client; none needs to listen (each S3
    # request's signature is checked by tempauth itself).
    with open(os.path.join(etc, "proxy-server.conf"), "w") as f:
        f.write(defaults("proxy-server", etc, devs, ports["proxy"]))
        f.write(f"""
[pipeline:main]
pipeline = {PROXY_PIPELINE}

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
""")
        for name in ("catch_errors", "gatekeeper", "healthcheck", "proxy-logging",
                     "listing_formats", "copy", "slo", "dlo"):
            f.write(f"\n[filter:{name}]\nuse = egg:swift#{name.replace('-', '_')}\n")


def build_rings(etc, ports):
    from swift.cli import ringbuilder
    for name in BACKENDS:
        builder = os.path.join(etc, f"{name}.builder")
        for args in (["create", "8", "1", "1"],
                     ["add", f"r1z1-127.0.0.1:{ports[name]}/d1", "1"],
                     ["rebalance"]):
            try:
                ringbuilder.main(["swift-ring-builder", builder] + args)
                rc = 0
            except SystemExit as e:
                rc = e.code or 0
            if rc not in (0, 1):   # 1: done, with warnings
                raise RuntimeError(f"swift-ring-builder {builder} {' '.join(args)}: exit {rc}")


def check_xattrs(path):
    try:
        os.setxattr(path, "user.xtstore-probe", b"1")
        os.removexattr(path, "user.xtstore-probe")
    except OSError as e:
        raise RuntimeError(f"{path}: no user xattrs on this filesystem ({e}); "
                           "Swift's object server needs them") from None


def die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def s3_list_buckets(port, access, secret):
    """Status of a ListBuckets signed with S3's V2 scheme (tempauth checks it)."""
    date = email.utils.formatdate(usegmt=True)
    sig = base64.b64encode(hmac.new(secret.encode(), f"GET\n\n\n{date}\n/".encode(),
                                    hashlib.sha1).digest()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/", headers={"Date": date,
                                          "Authorization": f"AWS {access}:{sig}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    data, proxy_port = os.path.abspath(argv[1]), int(argv[2])
    etc, devs = os.path.join(data, "etc"), os.path.join(data, "devs")
    ready = os.path.join(data, "ready")
    os.makedirs(etc, exist_ok=True)
    os.makedirs(os.path.join(devs, "d1"), exist_ok=True)
    check_xattrs(os.path.join(devs, "d1"))

    ports, taken = {}, {proxy_port}
    for name in BACKENDS:
        ports[name] = free_port(taken)
        taken.add(ports[name])
    ports["proxy"] = proxy_port
    write_configs(etc, devs, ports)
    build_rings(etc, ports)
    log("rings built; ports: " + ", ".join(f"{n} {p}" for n, p in ports.items()))

    children = []
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    def dead():
        return [n for n, p in children if p.poll() is not None]

    try:
        for name in ports:
            server = shutil.which(f"swift-{name}-server") or f"/usr/bin/swift-{name}-server"
            conf = os.path.join(etc, f"{name}-server.conf")
            children.append((name, subprocess.Popen(
                [sys.executable, server, conf, "-v"], stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent)))
        deadline = time.monotonic() + 60
        while not all(listening(p) for p in ports.values()):
            if stopping:
                return 0
            if dead():
                log(f"{', '.join(dead())} server exited while starting")
                return 1
            if time.monotonic() > deadline:
                log("the servers did not listen within 60 s")
                return 1
            time.sleep(0.05)
        status = s3_list_buckets(proxy_port, "test:tester", "testing")
        bad = s3_list_buckets(proxy_port, "test:tester", "wrong")
        if status != 200 or bad != 403:
            log(f"S3 check failed: ListBuckets {status} (want 200), "
                f"with a wrong secret {bad} (want 403)")
            return 1
        with open(ready, "w") as f:
            f.write("ready\n")
        log("ready (signed ListBuckets 200, wrong secret 403)")
        while not stopping:
            if dead():
                log(f"{', '.join(dead())} server exited; stopping the node")
                return 1
            time.sleep(0.2)
        return 0
    finally:
        for _, p in children:
            if p.poll() is None:
                p.terminate()
        end = time.monotonic() + 5
        for _, p in children:
            try:
                p.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except RuntimeError as e:
        log(str(e))
        sys.exit(1)
