#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 reverse proxy for tests (Python 3 stdlib only).

  faultproxy.py --upstream http://127.0.0.1:P [--port 0] [--rules RULES.json]
                [--state DIR] [--lifetime 600] [--owner PID]

Listens on 127.0.0.1 (port 0: the OS picks), prints the port on stdout, and with
--state writes DIR/port, DIR/pid, DIR/endpoint (http://127.0.0.1:PORT plus the
upstream URL's path) and appends one line per request to DIR/log:
    METHOD PATH ACTION        e.g.  PUT /bkt/key rule=0 status 503
and to DIR/bytes one line per request when it ends, however it ends (answered, cut by
a rule, or the client gone mid-body, e.g. killed):
    METHOD PATH N QUERY       e.g.  PUT /bkt/key 8388608 partNumber=3&uploadId=x
N: the request body's bytes the proxy received from the client (content only: chunked
framing is not counted), forwarded or not; what a client sent, for tests to sum.
QUERY is "-" when there is none. N is what the proxy received, not what upstream
stored: a request cut by a rule, by upstream (502) or by the client counts what came.
DIR/active holds the number of requests begun (head read) whose bytes line is not
written yet: after a client is killed, 0 there means all its requests are logged (a
request forwarded whole is logged only when upstream answers).
Requests are forwarded unchanged (Host included, so signatures stay valid) over one
keep-alive upstream connection per client connection; bodies stream both ways,
chunked ones too. "Expect: 100-continue" is answered by the proxy itself.

Rules (a JSON list, or {"rules": [...]}) are tried in order for each request; the
first whose match fits and that is still active applies; a request no rule takes is
passed through. The file is re-read when it changes (counters restart).
    {"match": {"method": "PUT", "path": "^/bkt/", "query": "partNumber=2",
               "headers": {"content-type": "xml"}},   # all optional; regex search
     "skip": 0,        # let the first K matching requests through untouched
     "count": 2,       # then apply to N matching requests (absent: all of them)
     # actions (stall_ms and date_skew_s combine with the others):
     "status": 503, "headers": {"Retry-After": "1"}, "body": "<Error>...</Error>",
     "close": false,   # with status: close the connection after answering
     "reset_request_body_after": N,   # read N body bytes, forward them, then RST
     "close_request_body_after": N,   # the same, then a clean close (FIN): the
                                      # client reads EOF, never an answer; the
                                      # rest of its body is read and dropped
     "reset_response_body_after": N,  # forward N bytes of upstream's body, then RST
     "close_response_body_after": N,  # the same, then a clean close (FIN), no RST
     "lose_response": true,           # upstream does the request; the client gets
                                      # an RST instead of its answer (a lost response)
     "flip_request_body_byte": N,     # forward the body with its byte N inverted
     "flip_response_body_byte": N,    # the same for upstream's response body
     "stall_ms": 500,                 # wait before answering
     "stall_response_body_after": N,  # with stall_ms: wait after N bytes of the
                                      # response body instead (a stall mid-body)
     "date_skew_s": -900,             # answer with Date skewed by this much
     "fraction": 0.2, "seed": 7}      # apply to a random 20% of the requests
                                      # it would take (seeded: the same run of
                                      # choices each time; default seed 0)
    {"s3_checksum_type": true}   # S3's check of a multipart upload's checksum type,
                                 # as AWS makes it and moto does not (s3_checksum_type)
With "status" the request body is read and discarded, and upstream is not contacted.
Byte counts are of the body as on the wire (chunked framing counts), except the flip
offsets: they count content bytes (a chunked body's framing is skipped, so the flip
changes data, not the framing), and "middle" means Content-Length // 2. A flipped
byte is XORed with 0xff; the message is otherwise forwarded unchanged (lengths, any
Content-MD5 or checksum headers), as a corruption in flight would be. The flips
combine with each other, stall_ms and date_skew_s, not with status or the resets.
Exits on SIGTERM/SIGINT, after --lifetime seconds, or when --owner's pid is gone.
"""
import argparse
import email.utils
import fcntl
import json
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import termios
import threading
import time
import urllib.parse

BUF = 65536
MAX_HEAD = 65536
IDLE_TIMEOUT = 300

RULE_KEYS = {
    "match", "skip", "count", "status", "headers", "body", "close",
    "reset_request_body_after", "close_request_body_after", "reset_response_body_after",
    "close_response_body_after",
    "lose_response", "stall_ms", "stall_response_body_after",
    "date_skew_s", "flip_request_body_byte", "flip_response_body_byte", "comment",
    "fraction", "seed",
}
MATCH_KEYS = {"method", "path", "query", "headers"}
RULE_KEYS.add("s3_checksum_type")


def flip_offset(idx, key, d):
    """A flip's offset: None (no flip), an int >= 0, or "middle"."""
    v = d.get(key)
    if v is None or v == "middle":
        return v
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise ValueError(f"rule {idx}: {key} must be an offset >= 0 or \"middle\"")


def sampler(idx, d):
    """A rule's "fraction": None (every request), or a function that says,
    from a seeded generator, whether this request is one of the fraction."""
    frac = d.get("fraction")
    if frac is None:
        return None
    if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac <= 1:
        raise ValueError(f"rule {idx}: fraction must be a number from 0 to 1")
    seed = d.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"rule {idx}: seed must be an integer")
    rng = random.Random(seed)
    return lambda: rng.random() < frac


class Rule:
    def __init__(self, idx, d):
        if not isinstance(d, dict):
            raise ValueError(f"rule {idx}: not an object")
        bad = set(d) - RULE_KEYS
        if bad:
            raise ValueError(f"rule {idx}: unknown keys {sorted(bad)}")
        m = d.get("match", {}) or {}
        bad = set(m) - MATCH_KEYS
        if bad:
            raise ValueError(f"rule {idx}: unknown match keys {sorted(bad)}")
        self.idx = idx
        meth = m.get("method")
        self.methods = None
        if meth is not None:
            meth = [meth] if isinstance(meth, str) else meth
            self.methods = {x.upper() for x in meth}
        self.path = re.compile(m["path"]) if m.get("path") is not None else None
        self.query = re.compile(m["query"]) if m.get("query") is not None else None
        self.headers = {k.lower(): re.compile(v) for k, v in (m.get("headers") or {}).items()}
        self.skip = int(d.get("skip", 0))
        self.count = None if d.get("count") is None else int(d["count"])
        self.status = None if d.get("status") is None else int(d["status"])
        self.resp_headers = dict(d.get("headers") or {})
        self.body = (d.get("body") or "").encode()
        self.close = bool(d.get("close", False))
        self.reset_req = d.get("reset_request_body_after")
        self.close_req = d.get("close_request_body_after")
        self.reset_resp = d.get("reset_response_body_after")
        self.close_resp = d.get("close_response_body_after")
        self.lose_resp = True if d.get("lose_response") else None
        self.stall_ms = int(d.get("stall_ms", 0) or 0)
        self.stall_body = d.get("stall_response_body_after")
        if self.stall_body is not None and (not self.stall_ms or isinstance(self.stall_body, bool)
                                            or not isinstance(self.stall_body, int)
                                            or self.stall_body < 0):
            raise ValueError(f"rule {idx}: stall_response_body_after must be an offset >= 0 "
                             "and needs stall_ms")
        self.skew = d.get("date_skew_s")
        self.flip_req = flip_offset(idx, "flip_request_body_byte", d)
        self.flip_resp = flip_offset(idx, "flip_response_body_byte", d)
        acts = sum(x is not None for x in (self.status, self.reset_req, self.close_req,
                                            self.reset_resp, self.close_resp,
                                            self.lose_resp))
        flips = self.flip_req is not None or self.flip_resp is not None
        if acts > 1 or (acts and flips):
            raise ValueError(f"rule {idx}: status, reset_request_body_after, "
                             "close_request_body_after, reset_response_body_after, "
                             "close_response_body_after, "
                             "lose_response and the flips exclude each other")
        self.s3_checksum_type = bool(d.get("s3_checksum_type", False))
        if acts == 0 and not flips and not self.stall_ms and self.skew is None \
                and not self.s3_checksum_type:
            raise ValueError(f"rule {idx}: no action")
        self.sample = sampler(idx, d)
        self.seen = 0
        self.applied = 0

    def matches(self, method, path, query, headers):
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self.path is not None and not self.path.search(path):
            return False
        if self.query is not None and not self.query.search(query):
            return False
        for k, rx in self.headers.items():
            if not any(rx.search(v) for n, v in headers if n.lower() == k):
                return False
        return True


class Rules:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.sig = None
        self.rules = []
        if path:
            self._load(strict=True)

    def _load(self, strict):
        try:
            st = os.stat(self.path)
            sig = (st.st_mtime_ns, st.st_size, st.st_ino)
            if sig == self.sig:
                return
            with open(self.path) as f:
                data = json.load(f)
            if isinstance(data, dict):
                data = data.get("rules", [])
            rules = [Rule(i, r) for i, r in enumerate(data)]
        except (OSError, ValueError) as e:
            if strict:
                raise
            log_line("-", "-", f"rules-reload-failed {e}")
            return
        self.rules, self.sig = rules, sig

    def pick(self, method, path, query, headers):
        with self.lock:
            if self.path:
                self._load(strict=False)
            for r in self.rules:
                if not r.matches(method, path, query, headers):
                    continue
                r.seen += 1
                if r.seen <= r.skip:
                    continue
                if r.count is not None and r.applied >= r.count:
                    continue
                if r.sample is not None and not r.sample():
                    continue
                r.applied += 1
                return r
        return None


LOG = None
BYTES = None
STATE = None
ACTIVE = [0]
LOG_LOCK = threading.Lock()


def set_active(delta):
    """Count a request begun (+1) or logged in DIR/bytes (-1) in DIR/active.
    Called with LOG_LOCK held."""
    ACTIVE[0] += delta
    if STATE is not None:
        tmp = os.path.join(STATE, "active.tmp")
        with open(tmp, "w") as f:
            f.write(f"{ACTIVE[0]}\n")
        os.replace(tmp, os.path.join(STATE, "active"))


def log_line(method, path, action):
    line = f"{method} {path} {action}\n"
    with LOG_LOCK:
        if LOG is not None:
            LOG.write(line)
            LOG.flush()


def log_bytes(cur):
    """The DIR/bytes line of the request in cur ([method, path, tag, box,
    query])."""
    if len(cur) < 5:
        return
    with LOG_LOCK:
        if BYTES is not None:
            BYTES.write(f"{cur[0]} {cur[1]} {cur[3][0]} {cur[4] or '-'}\n")
            BYTES.flush()
        set_active(-1)


def counting(parts, box):
    """Pass a body's (bytes, is_content) pieces on, adding its content bytes
    to box[0] as they arrive."""
    for b, content in parts:
        if content:
            box[0] += len(b)
        yield b, content


class Closed(Exception):
    """The peer went away."""


class ClientGone(Closed):
    """The client gave up during a stall."""


def read_head(rf):
    """Read a request/status line and headers. None on a clean EOF before any byte."""
    lines = []
    total = 0
    while True:
        line = rf.readline(MAX_HEAD)
        if not line:
            if not lines:
                return None
            raise Closed("EOF in header")
        total += len(line)
        if total > MAX_HEAD:
            raise Closed("header too large")
        if line in (b"\r\n", b"\n"):
            if not lines:
                continue  # tolerate stray CRLF between messages
            break
        lines.append(line.rstrip(b"\r\n").decode("latin-1"))
    headers = []
    for h in lines[1:]:
        if h[:1] in (" ", "\t") and headers:  # obsolete folding
            n, v = headers[-1]
            headers[-1] = (n, v + " " + h.strip())
            continue
        n, _, v = h.partition(":")
        headers.append((n.strip(), v.strip()))
    return lines[0], headers


def hget(headers, name):
    name = name.lower()
    vals = [v for n, v in headers if n.lower() == name]
    return ",".join(vals) if vals else None


def tokens(headers, name):
    v = hget(headers, name)
    return {t.strip().lower() for t in v.split(",")} if v else set()


def encode_head(first, headers):
    out = [first]
    out += [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


def framing(headers, request, method=None, status=None):
    if not request:
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return ("none", 0)
    if "chunked" in tokens(headers, "transfer-encoding"):
        return ("chunked", 0)
    cl = hget(headers, "content-length")
    if cl is not None:
        try:
            return ("length", int(cl.split(",")[0].strip()))
        except ValueError:
            raise Closed("bad Content-Length")
    return ("none", 0) if request else ("close", 0)


def iter_body_parts(rf, fr):
    """Yield the body's raw bytes (chunked framing included) as they arrive, as
    (bytes, is_content): framing pieces are (line, False)."""
    kind, n = fr
    if kind == "none":
        return
    if kind == "length":
        left = n
        while left:
            b = rf.read1(min(left, BUF))
            if not b:
                raise Closed("EOF in body")
            left -= len(b)
            yield b, True
        return
    if kind == "close":
        while True:
            b = rf.read1(BUF)
            if not b:
                return
            yield b, True
    # chunked
    while True:
        line = rf.readline(8192)
        if not line.endswith(b"\n"):
            raise Closed("EOF in chunk size")
        yield line, False
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise Closed("bad chunk size")
        if size == 0:
            while True:
                t = rf.readline(8192)
                if not t:
                    raise Closed("EOF in trailer")
                yield t, False
                if t in (b"\r\n", b"\n"):
                    return
        left = size
        while left:
            b = rf.read1(min(left, BUF))
            if not b:
                raise Closed("EOF in chunk")
            left -= len(b)
            yield b, True
        crlf = rf.read(2)
        if len(crlf) != 2:
            raise Closed("EOF in chunk")
        yield crlf, False


def iter_body(rf, fr):
    """Yield the body's raw bytes (chunked framing included) as they arrive."""
    for b, _ in iter_body_parts(rf, fr):
        yield b


class Flip:
    """Inverts the content byte at one offset of a body passing through."""

    def __init__(self, name, spec, fr):
        self.name, self.spec = name, spec
        self.at = spec
        self.why = None
        if spec == "middle":
            self.at = None
            if fr[0] == "length" and fr[1] > 0:
                self.at = fr[1] // 2
            else:
                self.why = "no middle: the body's length is not known" if fr[0] != "length" \
                    else "no middle: empty body"
        self.pos = 0
        self.done = None

    def feed(self, b, is_content):
        if not is_content:
            return b
        start = self.pos
        self.pos += len(b)
        if self.at is None or self.done is not None or not start <= self.at < self.pos:
            return b
        i = self.at - start
        old = b[i]
        self.done = (old, old ^ 0xFF)
        return b[:i] + bytes([old ^ 0xFF]) + b[i + 1:]

    def describe(self):
        if self.done is not None:
            return f"{self.name} {self.at} (0x{self.done[0]:02x}->0x{self.done[1]:02x}) "
        if self.why:
            return f"{self.name} {self.spec} (not flipped: {self.why}) "
        return f"{self.name} {self.at} (not flipped: body has {self.pos} content bytes) "


def drain_outq(sock, limit_s=2.0):
    """Wait until the kernel has sent what we wrote (so a reset loses none of it)."""
    end = time.monotonic() + limit_s
    buf = bytearray(4)
    while time.monotonic() < end:
        try:
            fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, buf)
        except OSError:
            return
        if struct.unpack("i", buf)[0] == 0:
            return
        time.sleep(0.005)


def hard_reset(sock, rf=None):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        if rf is not None:
            rf.close()
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def stall(csock, ms):
    """Wait ms, or until the client gives up (Closed): a stall ends there,
    so its log line comes when the client has moved on, not seconds later."""
    end = time.monotonic() + ms / 1000
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([csock], [], [], left)
        if not r:
            continue
        try:
            peek = csock.recv(1, socket.MSG_PEEK)
        except OSError as e:
            raise ClientGone(f"client gone during the stall: {e}")
        if not peek:
            raise ClientGone("client gone during the stall")
        time.sleep(max(0.0, end - time.monotonic()))  # a pipelined request: wait on
        return


def clean_close(sock, rf):
    """Close with a FIN (what was sent arrives whole; the peer reads EOF)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        rf.close()
        sock.close()
    except OSError:
        pass


def fin_mid_request(sock, rf, body, limit_s=30.0):
    """A clean close (FIN) in the middle of a request's body. The rest of
    the body is read and dropped until the client stops (closing a socket
    with unread input would send an RST, not the FIN this is about)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    end = time.monotonic() + limit_s
    try:
        sock.settimeout(limit_s)
        for _ in body:
            if time.monotonic() > end:
                break
        while time.monotonic() < end and rf.read1(BUF):
            pass
    except (Closed, OSError, ValueError):
        pass
    try:
        rf.close()
        sock.close()
    except OSError:
        pass


def http_date(skew):
    return email.utils.formatdate(time.time() + float(skew or 0), usegmt=True)


def set_header(headers, name, value):
    out = [(n, v) for n, v in headers if n.lower() != name.lower()]
    out.append((name, value))
    return out


class Upstream:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.sock = None
        self.rf = None

    def fresh(self):
        """Connected, and not closed by the server while idle."""
        if self.sock is not None:
            r, _, _ = select.select([self.sock], [], [], 0)
            if r:  # EOF or unsolicited bytes: don't reuse
                self.close()
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port), timeout=IDLE_TIMEOUT)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.rf = self.sock.makefile("rb", buffering=BUF)
            return False
        return True

    def close(self, reset=False):
        if self.sock is None:
            return
        if reset:
            hard_reset(self.sock, self.rf)
        else:
            try:
                self.rf.close()
                self.sock.close()
            except OSError:
                pass
        self.sock = self.rf = None


class Proxy:
    def __init__(self, upstream, rules):
        u = urllib.parse.urlsplit(upstream)
        if u.scheme != "http" or not u.hostname:
            raise ValueError("--upstream must be http://HOST:PORT")
        self.up_host, self.up_port = u.hostname, u.port or 80
        self.rules = rules

    def serve_conn(self, csock):
        csock.settimeout(IDLE_TIMEOUT)
        csock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        crf = csock.makefile("rb", buffering=BUF)
        up = Upstream(self.up_host, self.up_port)
        cur = []  # the request in progress: [method, path, action so far, body bytes, query]
        try:
            while True:
                more = self.one_request(csock, crf, up, cur)
                log_bytes(cur)
                cur.clear()
                if not more:
                    break
            up.close()
            crf.close()
            csock.close()
        except (Closed, OSError) as e:
            if cur:
                log_line(cur[0], cur[1], f"{cur[2]}aborted: {e or type(e).__name__}")
            up.close(reset=True)
            hard_reset(csock, crf)
        finally:
            log_bytes(cur)  # a request that ended in a cut or an error

    def one_request(self, csock, crf, up, cur):
        """Serve one request; True to keep the client connection open."""
        head = read_head(crf)
        if head is None:
            return False
        first, headers = head
        parts = first.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            csock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            log_line("-", "-", "bad-request-line")
            return False
        method, target, version = parts
        u = urllib.parse.urlsplit(target)
        path, query = (u.path or "/"), u.query
        conn = tokens(headers, "connection")
        keep = ("close" not in conn) if version == "HTTP/1.1" else ("keep-alive" in conn)
        req_fr = framing(headers, True)
        expect = "100-continue" in tokens(headers, "expect")
        fwd_headers = [(n, v) for n, v in headers if n.lower() != "expect"] if expect else headers

        rule = self.rules.pick(method, path, query, headers)
        if rule and rule.s3_checksum_type:
            rule = s3_checksum_type(rule, method, path, query, headers)
        tag = f"rule={rule.idx} " if rule else ""
        box = [0]  # request body bytes received (DIR/bytes)
        cur[:] = [method, path, tag, box, query]
        with LOG_LOCK:
            set_active(1)

        def cont():
            if expect and req_fr[0] != "none":
                csock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

        # status: answer ourselves, after reading and discarding the body.
        if rule and rule.status is not None:
            cont()
            for _ in counting(iter_body_parts(crf, req_fr), box):
                pass
            if rule.stall_ms:
                stall(csock, rule.stall_ms)
            reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found",
                      408: "Request Timeout", 429: "Too Many Requests",
                      500: "Internal Server Error", 502: "Bad Gateway",
                      503: "Service Unavailable", 504: "Gateway Timeout"}.get(rule.status, "Status")
            hs = [("Date", http_date(rule.skew))]
            if rule.body and not any(k.lower() == "content-type" for k in rule.resp_headers):
                hs.append(("Content-Type", "application/xml" if rule.body.lstrip()[:1] == b"<"
                           else "text/plain"))
            hs += [(k, str(v)) for k, v in rule.resp_headers.items()
                   if k.lower() not in ("content-length", "date")]
            hs.append(("Content-Length", str(len(rule.body))))
            close = rule.close or not keep
            if close:
                hs.append(("Connection", "close"))
            data = encode_head(f"HTTP/1.1 {rule.status} {reason}", hs)
            if method != "HEAD":
                data += rule.body
            csock.sendall(data)
            log_line(method, path, tag + (f"stall_ms {rule.stall_ms} " if rule.stall_ms else "")
                     + f"status {rule.status}")
            return not close

        # Forward the request.
        cont()
        head_bytes = encode_head(first, fwd_headers)
        reused = False
        try:
            try:
                reused = up.fresh()
                up.sock.sendall(head_bytes)
            except OSError:
                if not reused:
                    raise
                up.close()  # a kept-alive connection the server had dropped: once more
                up.fresh()
                up.sock.sendall(head_bytes)
        except OSError as e:
            up.close(reset=True)
            msg = b"proxy: cannot reach upstream\n"
            csock.sendall(encode_head("HTTP/1.1 502 Bad Gateway",
                                      [("Content-Length", str(len(msg))), ("Connection", "close")]) + msg)
            log_line(method, path, tag + f"error 502 connect: {e}")
            return False

        cut = None
        if rule and rule.reset_req is not None:
            cut = ("reset_request_body_after", int(rule.reset_req))
        elif rule and rule.close_req is not None:
            cut = ("close_request_body_after", int(rule.close_req))
        if cut:
            name, limit = cut
            sent = 0
            body = (b for b, _ in counting(iter_body_parts(crf, req_fr), box))
            try:
                for b in body:
                    take = b[: limit - sent]
                    if take:
                        up.sock.sendall(take)
                        sent += len(take)
                    if sent >= limit:
                        break
            except (Closed, OSError):
                pass
            up.close(reset=True)
            if name == "close_request_body_after":
                fin_mid_request(csock, crf, body)
            else:
                hard_reset(csock, crf)
            log_line(method, path, tag + f"{name} {limit} (read {sent})")
            raise _Done()

        up_broken = False
        flip_req = Flip("flip_request_body_byte", rule.flip_req, req_fr) \
            if rule and rule.flip_req is not None else None
        try:
            for b, content in counting(iter_body_parts(crf, req_fr), box):
                up.sock.sendall(flip_req.feed(b, content) if flip_req else b)
        except Closed:
            raise
        except OSError:
            # Upstream stopped reading (it may have answered early): use its answer,
            # then close the client connection, whose body we did not finish.
            up_broken = True
            keep = False

        # Upstream's response (interim 1xx answers are dropped: we sent our own 100).
        try:
            while True:
                rh = read_head(up.rf)
                if rh is None:
                    raise Closed("upstream closed")
                status_line, rheaders = rh
                sp = status_line.split(None, 2)
                status = int(sp[1])
                if 100 <= status < 200 and status != 101:
                    continue
                break
        except (Closed, OSError, ValueError, IndexError) as e:
            up.close(reset=True)
            msg = b"proxy: upstream failed\n"
            csock.sendall(encode_head("HTTP/1.1 502 Bad Gateway",
                                      [("Content-Length", str(len(msg))), ("Connection", "close")]) + msg)
            log_line(method, path, tag + f"error 502 upstream: {e or type(e).__name__}"
                     + (" (after write failure)" if up_broken else ""))
            return False

        resp_fr = framing(rheaders, False, method, status)
        up_close = "close" in tokens(rheaders, "connection") or sp[0] == "HTTP/1.0"
        if up_close or resp_fr[0] == "close":
            keep = False
        if rule and rule.stall_ms and rule.stall_body is None:
            stall(csock, rule.stall_ms)
        if rule and rule.skew is not None:
            rheaders = set_header(rheaders, "Date", http_date(rule.skew))
        if not keep and "close" not in tokens(rheaders, "connection") and resp_fr[0] != "close":
            rheaders = rheaders + [("Connection", "close")]
        if rule and rule.lose_resp:
            up.close(reset=True)
            hard_reset(csock, crf)
            log_line(method, path, tag + f"lose_response (upstream {status})")
            raise _Done()
        csock.sendall(encode_head(status_line, rheaders))

        desc = tag
        if rule and rule.stall_ms:
            desc += f"stall_ms {rule.stall_ms} "
            if rule.stall_body is not None:
                desc += f"after {rule.stall_body} "
        if rule and rule.skew is not None:
            desc += f"date_skew_s {rule.skew} "
        if flip_req:
            desc += flip_req.describe()

        cut = None
        if rule and rule.reset_resp is not None:
            cut = ("reset_response_body_after", int(rule.reset_resp))
        elif rule and rule.close_resp is not None:
            cut = ("close_response_body_after", int(rule.close_resp))
        if cut:
            name, limit = cut
            sent = 0
            try:
                for b in iter_body(up.rf, resp_fr):
                    take = b[: limit - sent]
                    if take:
                        csock.sendall(take)
                        sent += len(take)
                    if sent >= limit:
                        break
            except (Closed, OSError):
                pass
            drain_outq(csock)
            up.close(reset=True)
            if name == "close_response_body_after":
                clean_close(csock, crf)
            else:
                hard_reset(csock, crf)
            log_line(method, path, desc + f"{name} {limit} (sent {sent}, upstream {status})")
            raise _Done()

        flip_resp = Flip("flip_response_body_byte", rule.flip_resp, resp_fr) \
            if rule and rule.flip_resp is not None else None
        stall_at = rule.stall_body if rule and rule.stall_body is not None else None
        sent = 0
        try:
            for b, content in iter_body_parts(up.rf, resp_fr):
                if stall_at is not None and sent + len(b) >= stall_at:
                    i = stall_at - sent
                    csock.sendall(flip_resp.feed(b[:i], content) if flip_resp else b[:i])
                    sent += i
                    b = b[i:]
                    drain_outq(csock)
                    stall(csock, rule.stall_ms)
                    stall_at = None
                sent += len(b)
                csock.sendall(flip_resp.feed(b, content) if flip_resp else b)
        except ClientGone:
            raise
        except Closed:
            up.close(reset=True)
            log_line(method, path, desc + (flip_resp.describe() if flip_resp else "")
                     + f"pass {status} (upstream cut the body)")
            raise
        if flip_resp:
            desc += flip_resp.describe()
        log_line(method, path, desc + f"pass {status}")
        if up_close or up_broken or resp_fr[0] == "close":
            up.close()
        return keep


# What each multipart upload's CreateMultipartUpload declared, by path (the
# upload id is in the answer, which the proxy does not parse): its
# x-amz-checksum-algorithm, lowercased, "" for none.
S3_UPLOADS = {}
S3_UPLOADS_LOCK = threading.Lock()


def s3_part_algorithm(headers):
    """The checksum algorithm an UploadPart carries, lowercased, or ""."""
    for n, v in headers:
        n = n.lower()
        if n.startswith("x-amz-checksum-") and n not in ("x-amz-checksum-type",
                                                         "x-amz-checksum-algorithm",
                                                         "x-amz-checksum-mode"):
            return n[len("x-amz-checksum-"):]
        if n == "x-amz-trailer" and v.lower().startswith("x-amz-checksum-"):
            return v.lower()[len("x-amz-checksum-"):]
    return ""


def s3_checksum_type(rule, method, path, query, headers):
    """A rule with "s3_checksum_type": AWS S3 refuses an UploadPart whose checksum
    is not the one its CreateMultipartUpload declared (none declared: any checksum
    is refused) with 400 InvalidRequest "Checksum Type mismatch occurred, expected
    checksum Type: null, actual checksum Type: crc32c"; moto takes it. The rule
    records each CreateMultipartUpload it sees (passed through) and answers such a
    part itself (a copy of the rule with that status and body); anything else,
    and parts of uploads it did not see begin, pass through."""
    q = urllib.parse.parse_qs(query, keep_blank_values=True)
    if method == "POST" and "uploads" in q:
        with S3_UPLOADS_LOCK:
            S3_UPLOADS[path] = (hget(headers, "x-amz-checksum-algorithm") or "").lower()
        return rule
    if method != "PUT" or "partNumber" not in q or "uploadId" not in q:
        return rule
    with S3_UPLOADS_LOCK:
        declared = S3_UPLOADS.get(path)
    sent = s3_part_algorithm(headers)
    if declared is None or not sent or sent == declared:
        return rule
    refusal = Rule(rule.idx, {"status": 400, "body": (
        "<Error><Code>InvalidRequest</Code><Message>Checksum Type mismatch occurred, "
        f"expected checksum Type: {declared or 'null'}, actual checksum Type: {sent}"
        "</Message><RequestId>FAULTPROXY</RequestId></Error>")})
    return refusal


class _Done(Exception):
    """The connection was deliberately reset."""


def main():
    global LOG, BYTES, STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rules")
    ap.add_argument("--state")
    ap.add_argument("--lifetime", type=float, default=600)
    ap.add_argument("--owner", type=int, default=0)
    a = ap.parse_args()

    try:
        rules = Rules(a.rules)
        proxy = Proxy(a.upstream, rules)
    except (OSError, ValueError) as e:
        sys.exit(f"faultproxy: {e}")

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(128)
    port = ls.getsockname()[1]
    up_path = urllib.parse.urlsplit(a.upstream).path.rstrip("/")

    if a.state:
        os.makedirs(a.state, exist_ok=True)
        LOG = open(os.path.join(a.state, "log"), "a")
        BYTES = open(os.path.join(a.state, "bytes"), "a")
        STATE = a.state
        set_active(0)

        def put(name, value):
            tmp = os.path.join(a.state, name + ".tmp")
            with open(tmp, "w") as f:
                f.write(f"{value}\n")
            os.replace(tmp, os.path.join(a.state, name))

        put("pid", os.getpid())
        put("endpoint", f"http://127.0.0.1:{port}{up_path}")
        put("port", port)  # last: its presence means ready
    print(port, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def accept_loop():
        while not stop.is_set():
            try:
                c, _ = ls.accept()
            except OSError:
                if stop.is_set():
                    return
                continue

            def run(sock=c):
                try:
                    proxy.serve_conn(sock)
                except _Done:
                    pass
                except Exception as e:  # keep serving other connections
                    log_line("-", "-", f"internal-error {type(e).__name__}: {e}")
                    hard_reset(sock)

            threading.Thread(target=run, daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    deadline = time.monotonic() + a.lifetime
    why = "sigterm"
    while not stop.wait(0.5):
        if time.monotonic() >= deadline:
            why = "lifetime"
            break
        if a.owner > 0:
            try:
                os.kill(a.owner, 0)
            except ProcessLookupError:
                why = "owner-gone"
                break
            except PermissionError:
                pass
    log_line("-", "-", f"exit {why}")
    try:
        ls.close()
    except OSError:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
