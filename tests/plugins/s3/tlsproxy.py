#!/usr/bin/env python3
"""A TLS terminator for tests (Python 3 stdlib only): HTTPS in front of a
plain-HTTP fixture server, so a provider can be tested over https://.

  tlsproxy.py --cert CERT --key KEY --upstream http://127.0.0.1:P
              --log FILE [--lifetime 300] [--owner PID]

Listens on 127.0.0.1 (a port the OS picks) and prints that port on stdout.
Each connection: the TLS handshake (with CERT and KEY, PEM), then bytes
copied both ways to a new TCP connection to the upstream, unchanged (Host
included), until either side closes. FILE gets one line per connection:
    conn N handshake ok
    conn N handshake failed: REASON
so a test can count attempts and see a client refuse the certificate.
Exits on SIGTERM, after --lifetime seconds, or when --owner's pid is gone.
"""
import argparse
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

BUF = 65536
IDLE_TIMEOUT = 120


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def line(self, text):
        with self.lock, open(self.path, "a") as f:
            f.write(text + "\n")


def pump(a, b):
    """Copy bytes both ways between a and b until one side is done."""
    socks = [a, b]
    while True:
        r, _, _ = select.select(socks, [], [], IDLE_TIMEOUT)
        if not r:
            return
        for s in r:
            other = b if s is a else a
            try:
                data = s.recv(BUF)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                return
            if not data:
                return
            try:
                other.sendall(data)
            except OSError:
                return
            # TLS may hold decrypted bytes select() cannot see.
            while isinstance(s, ssl.SSLSocket) and s.pending():
                try:
                    other.sendall(s.recv(BUF))
                except OSError:
                    return


def serve(conn, n, ctx, upstream, log):
    up = None
    try:
        conn.settimeout(30)
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log.line(f"conn {n} handshake failed: {e}")
            return
        log.line(f"conn {n} handshake ok")
        conn = tls
        up = socket.create_connection(upstream, timeout=30)
        conn.settimeout(None)
        up.settimeout(None)
        pump(conn, up)
    except OSError as e:
        log.line(f"conn {n} error: {e}")
    finally:
        for s in (conn, up):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=300.0)
    ap.add_argument("--owner", type=int, default=0)
    args = ap.parse_args()
    u = urllib.parse.urlsplit(args.upstream)
    upstream = (u.hostname, u.port or 80)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    log = Log(args.log)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    srv.settimeout(0.5)
    print(srv.getsockname()[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    end = time.monotonic() + args.lifetime
    n = 0
    while time.monotonic() < end:
        if args.owner:
            try:
                os.kill(args.owner, 0)
            except OSError:
                break
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        n += 1
        threading.Thread(target=serve, args=(conn, n, ctx, upstream, log),
                         daemon=True).start()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
