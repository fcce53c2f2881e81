#!/usr/bin/env python3
"""A server whose clock is off, for the clock-skew test (stdlib only): an
HTTP/1.1 proxy in front of s3rver that keeps its own time, SKEW seconds
ahead of ours, and judges every request by it the way S3 does.

  skewshim.py --upstream http://127.0.0.1:P --skew 3600 --log FILE
              [--lifetime 300] [--owner PID]

Listens on 127.0.0.1 (a port the OS picks), prints the port on stdout.
For each request:
  - its signing time (X-Amz-Date, else Date) more than 15 minutes from
    the shim's clock: 403 RequestTimeTooSkewed (no body for HEAD), with the
    shim's Date, as S3 answers it; upstream never sees it;
  - otherwise: forwarded with X-Amz-Date moved back by SKEW (s3rver checks
    the date against its own clock, not the signature), and the answer
    sent back with the shim's Date.
FILE gets one line per request:  METHOD PATH skewed 403 (off by N s)  or
METHOD PATH pass STATUS (off by N s). Bodies are read whole (small test
objects). Exits on SIGTERM, after --lifetime seconds, or when --owner's
pid is gone.
"""
import argparse
import calendar
import email.utils
import http.client
import os
import signal
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIMIT_S = 15 * 60
MAX_BODY = 64 << 20
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer",
       "upgrade", "proxy-connection", "date", "content-length", "server"}
SKEWED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>'
          b'RequestTimeTooSkewed</Code><Message>The difference between the '
          b'request time and the current time is too large.</Message>'
          b'<RequestId>SKEWSHIM</RequestId></Error>')


def amz_time(v):
    """Seconds since the epoch of an X-Amz-Date (20240102T030405Z)."""
    return calendar.timegm(time.strptime(v, "%Y%m%dT%H%M%SZ"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "skewshim/1"

    def log_message(self, fmt, *args):
        pass

    def date_time_string(self, timestamp=None):
        """The Date of every answer (send_response): the shim's clock."""
        return email.utils.formatdate(time.time() + self.server.skew,
                                      usegmt=True)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts, total = [], 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(16)
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def dispatch(self):
        body = self.read_body()
        now = time.time() + self.server.skew
        amz = self.headers.get("X-Amz-Date")
        if amz:
            signed = amz_time(amz)
        else:
            d = self.headers.get("Date")
            signed = email.utils.parsedate_to_datetime(d).timestamp() if d else now
        off = int(signed - now)
        path = urllib.parse.urlsplit(self.path).path
        if abs(off) > LIMIT_S:
            self.server.log(f"{self.command} {path} skewed 403 (off by {off} s)")
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(SKEWED)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(SKEWED)
            return
        headers = {}
        for k, v in self.headers.items():
            if k.lower() in HOP:
                continue
            if k.lower() == "x-amz-date":
                v = time.strftime("%Y%m%dT%H%M%SZ",
                                  time.gmtime(signed - self.server.skew))
            headers[k] = v
        headers["Content-Length"] = str(len(body))
        up = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        try:
            up.request(self.command, self.path, body=body, headers=headers)
            resp = up.getresponse()
            data = resp.read()
            self.server.log(f"{self.command} {path} pass {resp.status} "
                            f"(off by {off} s)")
            self.send_response(resp.status)
            length = None
            for k, v in resp.getheaders():
                if k.lower() == "content-length":
                    length = v
                if k.lower() not in HOP:
                    self.send_header(k, v)
            # HEAD: the object's length, not the (empty) body's
            self.send_header("Content-Length",
                             length if self.command == "HEAD" and length
                             else str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            up.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, upstream, skew, logpath):
        super().__init__(("127.0.0.1", 0), Handler)
        self.upstream = upstream
        self.skew = skew
        self.logpath = logpath
        self.lock = threading.Lock()

    def log(self, line):
        with self.lock, open(self.logpath, "a") as f:
            f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--skew", type=int, default=3600)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=300.0)
    ap.add_argument("--owner", type=int, default=0)
    args = ap.parse_args()
    u = urllib.parse.urlsplit(args.upstream)
    srv = Server((u.hostname, u.port or 80), args.skew, args.log)
    print(srv.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def watch():
        end = time.monotonic() + args.lifetime
        while time.monotonic() < end:
            if args.owner:
                try:
                    os.kill(args.owner, 0)
                except OSError:
                    break
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    srv.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
