#!/usr/bin/env python3
"""A scripted HTTP/1.1 server for the SDK's HTTP tests (stdlib only).

Binds 127.0.0.1 on a free port and prints that port on the first line of
stdout. What it does for a request is chosen by the path:

  /echo...               text report: method, path, headers, framing, length,
                         sha256 of the body, then the body itself
  /chunked-upload        like /echo, but 411 unless the body was chunked
  /big?n=N[&status=S]    N bytes of pattern(i) = (i * 31 + 7) & 0xff, status S
  /status/NNN[?retry-after=V]   status NNN, Retry-After V, x-request-id, XML
  /continue              an interim "100 Continue" with a header, then 200
  /redirect              307 to /echo (clients must not follow it)
  /reset-after?n=N       headers promising more, N bytes, then a TCP reset
  /stall[?s=S]           headers, 10 bytes, then silence for S (<= 20) seconds
  /count                 how many TCP connections were accepted so far
  /__quit                stop the server

With --tls CERT KEY it speaks HTTPS instead (the same routes), with that
certificate chain and key (PEM): the TLS handshake happens in the
connection's thread, and a client that refuses the certificate just
closes the connection.

It stops by itself after --timeout seconds (default 60), when /__quit is
requested, or when its stdin reaches EOF (the test that started it died).
Every loop is bounded: requests per connection, chunks per body, bytes.
"""
import argparse
import hashlib
import os
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_REQUESTS_PER_CONN = 10000
MAX_BODY = 256 << 20
MAX_CHUNKS = 1 << 20
PATTERN_BLOCK = bytes((i * 31 + 7) & 0xFF for i in range(256)) * 256  # 64 KiB


def pattern(n):
    """The first n bytes of the pattern."""
    reps = (n + len(PATTERN_BLOCK) - 1) // len(PATTERN_BLOCK)
    return (PATTERN_BLOCK * max(reps, 1))[:n]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # exit at once, even with idle keep-alive clients
    allow_reuse_address = True

    def __init__(self, addr, handler):
        super().__init__(addr, handler)
        self.lock = threading.Lock()
        self.accepted = 0

    def process_request(self, request, client_address):
        with self.lock:
            self.accepted += 1
        super().process_request(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "scripted/1"

    def log_message(self, fmt, *args):  # quiet: ctest shows stdout on failure
        pass

    def setup(self):
        super().setup()
        self.connection.settimeout(30)

    def handle(self):
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                return  # the client refused our certificate (or went away)
        self.was_reset = False
        served = 0
        self.close_connection = False
        while not self.close_connection and served < MAX_REQUESTS_PER_CONN:
            try:
                self.handle_one_request()
            except ConnectionError:
                return  # the client went away (tests abort on purpose)
            except (OSError, ValueError):
                if not self.was_reset:
                    raise
                return
            served += 1

    # --- request bodies -------------------------------------------------
    def read_body(self):
        """(body bytes, framing) with framing chunked, length or none."""
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
            parts, total = [], 0
            for _ in range(MAX_CHUNKS):
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    for _ in range(100):  # trailers, up to the empty line
                        if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                            break
                    return b"".join(parts), "chunked"
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(16)
            raise ValueError("too many chunks")
        n = self.headers.get("Content-Length")
        if n is None:
            return b"", "none"
        n = int(n)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n), "length"

    # --- helpers --------------------------------------------------------
    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def query(self):
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    # --- routes ---------------------------------------------------------
    def dispatch(self):
        route = urlsplit(self.path).path
        q = self.query()
        if route.startswith("/echo"):
            return self.echo(require_chunked=False)
        if route == "/chunked-upload":
            return self.echo(require_chunked=True)
        if route == "/big":
            return self.big(int(q.get("n", "0")), int(q.get("status", "200")))
        if route.startswith("/status/"):
            return self.status(int(route[len("/status/"):]), q.get("retry-after"))
        if route == "/continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n")
            return self.reply(200, b"final", [("X-Final", "yes")])
        if route == "/redirect":
            return self.reply(307, b"", [("Location", "/echo")])
        if route == "/reset-after":
            return self.reset_after(int(q.get("n", "0")))
        if route == "/stall":
            return self.stall(min(float(q.get("s", "10")), 20.0))
        if route == "/count":
            with self.server.lock:
                n = self.server.accepted
            return self.reply(200, str(n).encode())
        if route == "/__quit":
            self.reply(200, b"bye")
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return None
        return self.reply(404, b"no such route")

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = dispatch

    def echo(self, require_chunked):
        body, framing = self.read_body()
        if require_chunked and framing != "chunked":
            return self.reply(411, b"chunked body required\n")
        lines = [f"method: {self.command}", f"path: {self.path}"]
        for k, v in self.headers.items():
            lines.append(f"h-{k.lower()}: {v}")
        lines += [f"framing: {framing}", f"length: {len(body)}",
                  f"sha256: {hashlib.sha256(body).hexdigest()}", ""]
        out = "\n".join(lines).encode() + b"\n" + body
        return self.reply(200, out, [("Content-Type", "text/plain")])

    def big(self, n, status):
        self.read_body()
        self.send_response(status)
        self.send_header("Content-Length", str(n))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        while sent < n:
            chunk = PATTERN_BLOCK[:n - sent]
            self.wfile.write(chunk)
            sent += len(chunk)

    def status(self, code, retry_after):
        self.read_body()
        headers = [("x-request-id", f"req-{code}"), ("Content-Type", "application/xml")]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        body = (f"<?xml version=\"1.0\"?><Error><Code>Status{code}</Code>"
                f"<Message>scripted {code}</Message></Error>").encode()
        return self.reply(code, body, headers)

    def reset_after(self, n):
        self.send_response(200)
        self.send_header("Content-Length", str(n * 10 + 1))
        self.end_headers()
        self.wfile.write(pattern(n))
        self.wfile.flush()
        time.sleep(0.2)
        # The socket only really closes once its file objects are closed.
        self.rfile.close()
        self.wfile.close()
        # SO_LINGER {on, 0}: close() sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()
        self.was_reset = True
        self.close_connection = True

    def stall(self, seconds):
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        time.sleep(seconds)
        self.close_connection = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    print(srv.server_address[1], flush=True)

    def stop_on_eof():
        # os.read, not sys.stdin: a thread blocked inside sys.stdin holds
        # its lock and would hang interpreter shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        srv.shutdown()

    threading.Thread(target=stop_on_eof, daemon=True).start()
    timer = threading.Timer(args.timeout, srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    # Handler threads may be sleeping (/stall) or waiting on idle
    # keep-alive connections: do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()
