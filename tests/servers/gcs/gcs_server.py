#!/usr/bin/env python3
"""A small, strict Google Cloud Storage JSON API server for xtstore's tests.

  gcs_server.py STATE_DIR PORT

Listens on 127.0.0.1:PORT (HTTP/1.1, keep-alive), keeps object bytes under
STATE_DIR/data and metadata in memory, and writes STATE_DIR/sa.json (a service
account whose key it generated) and STATE_DIR/user.json (an authorized_user) before it
answers GET /_test/ping. What it implements and its test hooks: README.md here.
"""
import base64
import hashlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import crc32c

import gcs_auth
import gcs_signed

CHUNK = 256 * 1024          # resumable chunks are multiples of this, but the last
IO = 1 << 20                # read/write granularity when streaming
MAX_COMPOSE = 32
BATCH_MAX = 100             # calls in one batch request (Google's limit)
BATCH_BYTES = 10 << 20      # and its payload: less than 10 MB
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
OBJECT_FIELDS = ("contentType", "contentEncoding", "contentDisposition", "cacheControl",
                 "contentLanguage", "customTime")


class ApiError(Exception):
    def __init__(self, status, reason, message, headers=None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or {}


class Truncated(Exception):
    """The request body ended before its declared end (client gone, reset)."""


class Superseded(Truncated):
    """A newer request on the same resumable session took over from this one."""


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t * 1000 % 1000)


def crc_b64(v):
    return base64.b64encode(v.to_bytes(4, "big")).decode()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def int_param(q, name, required=False):
    v = q.get(name)
    if v is None:
        if required:
            raise ApiError(400, "required", "Required parameter: %s" % name)
        return None
    try:
        return int(v)
    except ValueError:
        raise ApiError(400, "invalid", "Invalid value for %s: %s" % (name, v))


def bool_param(q, name):
    return q.get(name, "").lower() == "true"


# -- state -----------------------------------------------------------------------

class Obj:
    def __init__(self, bucket, name, path, size, md5, crc, meta, generation, now):
        self.bucket = bucket
        self.name = name
        self.path = path
        self.size = size
        self.md5 = md5                  # base64, None for composite objects
        self.crc = crc                  # base64
        self.fields = {k: meta[k] for k in OBJECT_FIELDS if meta.get(k) is not None}
        self.metadata = {k: str(v) for k, v in (meta.get("metadata") or {}).items()
                         if v is not None}
        self.generation = generation
        self.metageneration = 1
        self.created = now
        self.updated = now
        self.deleted = None             # timeDeleted when noncurrent
        self.components = None          # componentCount of a composite object
        self.temporary_hold = False     # a delete is refused while set

    def etag(self):
        return base64.b64encode(b"\x08" + varint(self.generation) + b"\x10"
                                + varint(self.metageneration)).decode()

    def resource(self, base):
        enc = urllib.parse.quote(self.name, safe="")
        r = {
            "kind": "storage#object",
            "id": "%s/%s/%d" % (self.bucket, self.name, self.generation),
            "selfLink": "%s/storage/v1/b/%s/o/%s" % (base, self.bucket, enc),
            "mediaLink": "%s/download/storage/v1/b/%s/o/%s?generation=%d&alt=media"
                         % (base, self.bucket, enc, self.generation),
            "name": self.name,
            "bucket": self.bucket,
            "generation": str(self.generation),
            "metageneration": str(self.metageneration),
            "storageClass": "STANDARD",
            "size": str(self.size),
            "crc32c": self.crc,
            "etag": self.etag(),
            "timeCreated": rfc3339(self.created),
            "updated": rfc3339(self.updated),
            "timeStorageClassUpdated": rfc3339(self.created),
        }
        if self.md5 is not None:
            r["md5Hash"] = self.md5
        if self.components is not None:
            r["componentCount"] = self.components
        if self.temporary_hold:
            r["temporaryHold"] = True
        if self.deleted is not None:
            r["timeDeleted"] = rfc3339(self.deleted)
        r.update(self.fields)
        if self.metadata:
            r["metadata"] = dict(self.metadata)
        return r


class Bucket:
    def __init__(self, name, project, now):
        self.name = name
        self.project = project
        self.created = now
        self.updated = now
        self.metageneration = 1
        self.versioning = False
        self.labels = {}
        self.ubla = False
        self.public = False
        self.live = {}                  # name -> Obj
        self.old = {}                   # name -> [Obj] noncurrent, oldest first

    def resource(self, base):
        r = {
            "kind": "storage#bucket",
            "id": self.name,
            "selfLink": "%s/storage/v1/b/%s" % (base, self.name),
            "projectNumber": gcs_auth.PROJECT_NUMBER,
            "name": self.name,
            "timeCreated": rfc3339(self.created),
            "updated": rfc3339(self.updated),
            "metageneration": str(self.metageneration),
            "iamConfiguration": {
                "bucketPolicyOnly": {"enabled": self.ubla},
                "uniformBucketLevelAccess": {"enabled": self.ubla},
                "publicAccessPrevention": "inherited",
            },
            "location": "US",
            "locationType": "multi-region",
            "storageClass": "STANDARD",
            "etag": base64.b64encode(b"\x10" + varint(self.metageneration)).decode(),
        }
        if self.versioning:
            r["versioning"] = {"enabled": True}
        if self.labels:
            r["labels"] = dict(self.labels)
        return r

    def find(self, name, generation=None):
        o = self.live.get(name)
        if generation is None:
            return o
        if o is not None and o.generation == generation:
            return o
        for o in self.old.get(name, ()):
            if o.generation == generation:
                return o
        return None

    def empty(self):
        return not self.live and not any(self.old.values())


class Upload:
    def __init__(self, uid, bucket, name, meta, query, path, total):
        self.id = uid
        self.bucket = bucket
        self.name = name
        self.meta = meta
        self.query = query              # the initiating request's (preconditions)
        self.path = path
        self.total = total              # X-Upload-Content-Length, or None
        self.persisted = 0
        self.bytes_received = 0
        self.puts = 0
        self.lock = threading.Lock()
        self.result = None              # the Obj once finalized
        self.cancelled = False
        self.ticket = 0                 # the latest request's; older ones stop
        self.writing = False            # a request is receiving into the session


class State:
    def __init__(self, root):
        self.lock = threading.RLock()
        self.root = root
        self.objdir = os.path.join(root, "objects")
        self.tmpdir = os.path.join(root, "tmp")
        os.makedirs(self.objdir, exist_ok=True)
        os.makedirs(self.tmpdir, exist_ok=True)
        self.buckets = {}
        self.uploads = {}
        self.rewrites = {}
        self.last_gen = 0
        self.page_size = 1000
        self.rewrite_threshold = 1 << 20
        self.truncate_next = None   # "compose" or "rewrite": its result loses a byte
        self.lose_next_session = False  # the next chunk's session is forgotten
        self.md5_only = False       # x-goog-hash of downloads without crc32c
        self.requests = 0
        self.unauthorized = 0
        self.batches = 0            # batch requests answered (their calls: batch_parts)
        self.batch_parts = 0

    def tmp_path(self):
        return os.path.join(self.tmpdir, secrets.token_hex(12))

    def next_generation(self):
        with self.lock:
            g = max(int(time.time() * 1e6), self.last_gen + 1)
            self.last_gen = g
            return g

    def bucket(self, name):
        b = self.buckets.get(name)
        if b is None:
            raise ApiError(404, "notFound", "The specified bucket does not exist.")
        return b

    def commit(self, bname, name, tmp, size, md5, crc, meta, q, components=None):
        """Make tmp the live generation of bname/name if the preconditions in q hold.
        Takes ownership of tmp (removed on failure)."""
        try:
            check_object_name(name)
            with self.lock:
                b = self.bucket(bname)
                check_preconditions(q, b.live.get(name), write=True)
                now = time.time()
                gen = self.next_generation()
                path = os.path.join(self.objdir, secrets.token_hex(16))
                os.rename(tmp, path)
                tmp = None
                o = Obj(bname, name, path, size, md5, crc, meta, gen, now)
                o.components = components
                self._replace(b, name, o, now)
                return o
        finally:
            if tmp is not None:
                _unlink(tmp)

    def _replace(self, b, name, new, now):
        old = b.live.pop(name, None)
        if old is not None:
            if b.versioning:
                old.deleted = now
                b.old.setdefault(name, []).append(old)
            else:
                _unlink(old.path)
        if new is not None:
            b.live[name] = new


def canonical_project(p):
    """The service account's project by id or number is one project."""
    return gcs_auth.PROJECT_ID if p in (gcs_auth.PROJECT_ID, gcs_auth.PROJECT_NUMBER) else p


def check_object_name(name):
    """GCS's rules: 1-1024 bytes of UTF-8, no CR or LF, not . or .."""
    n = len(name.encode("utf-8", "surrogatepass"))
    if not 1 <= n <= 1024 or "\r" in name or "\n" in name or name in (".", ".."):
        raise ApiError(400, "invalid", "The object name '%s' is invalid." % name[:64])


def _unlink(p):
    try:
        os.unlink(p)
    except OSError:
        pass


def check_preconditions(q, o, write=False, prefix="if"):
    """GCS's generation/metageneration preconditions (query parameters) against o, the
    object as it is (None: absent). A failed NotMatch on a read is 304."""
    gm = int_param(q, prefix + "GenerationMatch")
    gnm = int_param(q, prefix + "GenerationNotMatch")
    mm = int_param(q, prefix + "MetagenerationMatch")
    mnm = int_param(q, prefix + "MetagenerationNotMatch")
    fail = ApiError(412, "conditionNotMet", "At least one of the pre-conditions you specified "
                    "did not hold.")
    if gm is not None:
        if gm == 0:
            if o is not None:
                raise fail
        elif o is None or o.generation != gm:
            raise fail
    if mm is not None and (o is None or o.metageneration != mm):
        raise fail
    not_modified = ApiError(304, "notModified", "Not Modified") if not write else fail
    if gnm is not None and o is not None and o.generation == gnm:
        raise not_modified
    if mnm is not None and o is not None and o.metageneration == mnm:
        raise not_modified


# -- request bodies --------------------------------------------------------------

class Body:
    """The request body, Content-Length or chunked, read as it arrives."""

    def __init__(self, rfile, headers):
        self.rfile = rfile
        self.chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        self.left = 0 if self.chunked else int(headers.get("Content-Length") or 0)
        self.length = None if self.chunked else self.left
        self.done = not self.chunked and self.left == 0
        self.nread = 0

    def _raw(self, n):
        try:
            d = self.rfile.read1(n)
        except (OSError, ValueError) as e:
            raise Truncated(str(e))
        if not d:
            raise Truncated("connection closed")
        return d

    def read(self, n=IO):
        if self.done:
            return b""
        if self.chunked and self.left == 0:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise Truncated("chunk header")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ApiError(400, "invalid", "Malformed chunked request body.")
            if size == 0:
                while True:
                    t = self.rfile.readline(8192)
                    if not t.endswith(b"\n"):
                        raise Truncated("trailer")
                    if t in (b"\r\n", b"\n"):
                        break
                self.done = True
                return b""
            self.left = size
        d = self._raw(min(n, self.left))
        self.left -= len(d)
        self.nread += len(d)
        if self.left == 0:
            if self.chunked:
                if self.rfile.readline(16) not in (b"\r\n", b"\n"):
                    raise Truncated("chunk end")
            else:
                self.done = True
        return d

    def read_all(self, limit):
        out = bytearray()
        while True:
            d = self.read()
            if not d:
                return bytes(out)
            out += d
            if len(out) > limit:
                raise ApiError(400, "invalid", "Request body too large.")

    def drain(self):
        while self.read():
            pass


class Sink:
    """A file being written, with its size, MD5 and CRC32C."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.path = path
        self.size = 0
        self.md5 = hashlib.md5()
        self.crc = 0

    def write(self, d):
        if d:
            self.f.write(d)
            self.md5.update(d)
            self.crc = crc32c.crc32c(d, self.crc)
            self.size += len(d)

    def close(self):
        self.f.close()

    def hashes(self):
        return base64.b64encode(self.md5.digest()).decode(), crc_b64(self.crc)


def file_hashes(path):
    md5, crc, size = hashlib.md5(), 0, 0
    with open(path, "rb") as f:
        while True:
            d = f.read(IO)
            if not d:
                break
            md5.update(d)
            crc = crc32c.crc32c(d, crc)
            size += len(d)
    return size, base64.b64encode(md5.digest()).decode(), crc_b64(crc)


class Stream:
    """Delimiter scanning over a Body, for multipart/related."""

    def __init__(self, body):
        self.body = body
        self.buf = bytearray()

    def fill(self):
        d = self.body.read(64 * 1024)
        if not d:
            raise ApiError(400, "invalid", "Malformed multipart body.")
        self.buf += d

    def read_until(self, delim, limit):
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(delim)]
                return out
            if len(self.buf) > limit:
                raise ApiError(400, "invalid", "Malformed multipart body.")
            self.fill()

    def headers(self):
        while len(self.buf) < 2:
            self.fill()
        if self.buf.startswith(b"\r\n"):
            del self.buf[:2]
            return {}
        raw = self.read_until(b"\r\n\r\n", 64 * 1024)
        h = {}
        for line in raw.split(b"\r\n"):
            k, _, v = line.decode("latin-1").partition(":")
            h[k.strip().lower()] = v.strip()
        return h

    def copy_until(self, delim, sink):
        keep = len(delim) - 1
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                sink.write(bytes(self.buf[:i]))
                del self.buf[:i + len(delim)]
                return
            if len(self.buf) > keep:
                sink.write(bytes(self.buf[:len(self.buf) - keep]))
                del self.buf[:len(self.buf) - keep]
            self.fill()


def parse_goog_hash(value):
    out = {}
    for part in (value or "").split(","):
        k, _, v = part.strip().partition("=")
        if k in ("crc32c", "md5") and v:
            out[k] = v
    return out


def verify_hashes(meta, header_hash, md5, crc):
    want_crc = meta.get("crc32c") or header_hash.get("crc32c")
    want_md5 = meta.get("md5Hash") or header_hash.get("md5")
    if want_crc is not None and want_crc != crc:
        raise ApiError(400, "invalid", 'Provided CRC32C "%s" doesn\'t match calculated '
                       'CRC32C "%s".' % (want_crc, crc))
    if want_md5 is not None and want_md5 != md5:
        raise ApiError(400, "invalid", 'Provided MD5 hash "%s" doesn\'t match calculated '
                       'MD5 hash "%s".' % (want_md5, md5))


def object_meta(body_json):
    if body_json is None:
        return {}
    if not isinstance(body_json, dict):
        raise ApiError(400, "invalid", "Invalid JSON payload: the object resource must be "
                       "an object.")
    md = body_json.get("metadata")
    if md is not None and not isinstance(md, dict):
        raise ApiError(400, "invalid", "Invalid value for metadata: must be a map.")
    return body_json


def mixed_boundary(content_type):
    """The boundary of a multipart/mixed Content-Type, or None."""
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/mixed":
        return None
    for p in params.split(";"):
        k, _, v = p.strip().partition("=")
        if k.lower() == "boundary" and v:
            v = v[1:-1] if len(v) > 1 and v[0] == v[-1] == '"' else v
            return v or None
    return None


def split_mixed(raw, boundary):
    """[(mime_headers (lowercased names), http_bytes)] of a multipart body
    (RFC 2046: the CRLF before a delimiter belongs to it; a close delimiter
    ends the body). ApiError 400 when the framing is wrong."""
    delim = b"--" + boundary.encode("latin-1")
    data = b"\r\n" + raw
    pieces = data.split(b"\r\n" + delim)
    if len(pieces) < 2:
        raise ApiError(400, "invalid", "The batch body has no part delimiter.")
    parts = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            return parts
        line_end = piece.find(b"\r\n")
        if line_end < 0 or piece[:line_end].strip(b" \t"):
            raise ApiError(400, "invalid", "Malformed multipart delimiter line.")
        mime_head, sep, content = piece[line_end + 2:].partition(b"\r\n\r\n")
        if not sep:
            raise ApiError(400, "invalid", "A batch part has no blank line after its headers.")
        mime = {}
        for line in mime_head.decode("latin-1").split("\r\n"):
            k, sep2, v = line.partition(":")
            if line and not sep2:
                raise ApiError(400, "invalid", "Malformed batch part header.")
            if line:
                mime[k.strip().lower()] = v.strip()
        parts.append((mime, content))
    raise ApiError(400, "invalid", "The batch body has no close delimiter.")


def error_response(status, reason, message):
    """A whole HTTP response with Google's JSON error, as bytes."""
    body = json.dumps({"error": {"code": status, "message": message, "errors": [
        {"message": message, "domain": "global", "reason": reason}]}}).encode()
    return (("HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=UTF-8\r\n"
             "Content-Length: %d\r\n\r\n") % (status, http.client.responses.get(status, ""),
                                               len(body))).encode() + body


def parse_json(raw):
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ApiError(400, "parseError", "Parse Error: %s" % e)


# -- HTTP ------------------------------------------------------------------------

ROUTE_OBJ_OP = re.compile(r"^(.+)/(rewriteTo|copyTo)/b/([^/]+)/o/(.+)$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120

    def version_string(self):
        return "xtstore-gcs-test"

    def date_time_string(self, timestamp=None):
        # Every Date by the server's clock, moved by the clock hook.
        if timestamp is None:
            timestamp = time.time() + self.auth.clock_skew
        return super().date_time_string(timestamp)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    # Every method goes through dispatch.
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    @property
    def st(self):
        return self.server.state

    @property
    def auth(self):
        return self.server.auth

    @property
    def base(self):
        return self.server.endpoint

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        self.q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        self.body = Body(self.rfile, self.headers)
        with self.st.lock:
            if getattr(self, "in_batch", False):
                self.st.batch_parts += 1
            else:
                self.st.requests += 1
        try:
            self.route(url.path)
        except Truncated as e:
            self.log_message("request body truncated: %s", e)
            self.close_connection = True
            return
        except ApiError as e:
            self.finish_body()
            if e.status == 304:
                self.send_empty(304, e.headers)
                return
            err = {"code": e.status, "message": e.message,
                   "errors": [{"message": e.message, "domain": "global", "reason": e.reason}]}
            if e.status == 401:
                err["errors"][0]["locationType"] = "header"
                err["errors"][0]["location"] = "Authorization"
            self.send_json(e.status, {"error": err}, e.headers)
            return
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        self.finish_body()

    def finish_body(self):
        try:
            self.body.drain()
        except (Truncated, ApiError):
            self.close_connection = True

    # -- responses -----------------------------------------------------------
    def send_json(self, status, obj, headers=None):
        # Google's APIs indent by one space unless asked not to.
        if getattr(self, "q", {}).get("prettyPrint") == "false":
            data = json.dumps(obj, separators=(",", ":")).encode()
        else:
            data = json.dumps(obj, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_empty(self, status, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def json_body(self, limit=1 << 20):
        return parse_json(self.body.read_all(limit))

    # -- auth ----------------------------------------------------------------
    def require_auth(self, public_bucket=None):
        h = self.headers.get("Authorization")
        if h is None:
            if public_bucket is not None:
                with self.st.lock:
                    b = self.st.buckets.get(public_bucket)
                    if b is not None and b.public:
                        return
            with self.st.lock:
                self.st.unauthorized += 1
            raise ApiError(401, "required", "Anonymous caller does not have storage access to "
                           "the Google Cloud Storage resource. Permission denied on resource "
                           "(or it may not exist).",
                           {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        scheme, _, tok = h.partition(" ")
        why = "malformed" if scheme.lower() != "bearer" or not tok else \
            self.auth.check_bearer(tok.strip())
        if why is not None:
            with self.st.lock:
                self.st.unauthorized += 1
            self.log_message("401: bearer token %s", why)
            raise ApiError(401, "authError", "Invalid Credentials",
                           {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                            'error="invalid_token"'})
        # A devstorage.read_only scope reads; GCS refuses it any write.
        if self.command not in ("GET", "HEAD") and self.auth.read_only(tok.strip()):
            raise ApiError(403, "insufficientPermissions",
                           "Provided scope(s) are not authorized")

    # -- routing -------------------------------------------------------------
    def route(self, path):
        m = self.command
        if path == "/token" and m == "POST":
            return self.token()
        if path.startswith("/_test/"):
            return self.test_hook(path[len("/_test/"):])
        if path == "/batch/storage/v1" and not getattr(self, "in_batch", False):
            return self.batch()
        if "X-Goog-Signature" in self.q:
            return self.signed_url(path)
        for prefix, kind in (("/storage/v1", "json"), ("/upload/storage/v1", "upload"),
                             ("/download/storage/v1", "download")):
            if path == prefix + "/b" or path.startswith(prefix + "/b/"):
                return self.storage(kind, path[len(prefix):])
        raise ApiError(404, "notFound", "Not Found")

    def storage(self, kind, rest):
        m = self.command
        if rest == "/b":
            self.require_auth()
            if kind != "json":
                raise ApiError(404, "notFound", "Not Found")
            if m == "GET":
                return self.buckets_list()
            if m == "POST":
                return self.bucket_insert()
            raise ApiError(405, "methodNotAllowed", "Method not allowed")
        mm = re.match(r"^/b/([^/]+)(/o(?:/(.*))?)?$", rest)
        if not mm:
            raise ApiError(404, "notFound", "Not Found")
        bname = urllib.parse.unquote(mm.group(1))
        reads = m in ("GET", "HEAD")
        # A resumable session's URI is its own credential (GCS: requests on it need
        # not be authorized); anything else needs a token.
        if not (kind == "upload" and mm.group(2) == "/o" and "upload_id" in self.q):
            self.require_auth(public_bucket=bname if reads else None)
        if mm.group(2) is None:
            if kind != "json":
                raise ApiError(404, "notFound", "Not Found")
            if m in ("GET", "HEAD"):
                return self.bucket_get(bname)
            if m in ("PATCH", "PUT"):
                return self.bucket_patch(bname, replace=(m == "PUT"))
            if m == "DELETE":
                return self.bucket_delete(bname)
            raise ApiError(405, "methodNotAllowed", "Method not allowed")
        raw = mm.group(3)
        if raw is None:
            if kind == "upload":
                # Chunks go to the session URI by PUT (Google's docs, the Node client)
                # or POST (Go's google-api-go-client): GCS takes both.
                if m in ("PUT", "POST") and "upload_id" in self.q:
                    return self.upload_put(bname)
                if m == "POST":
                    return self.upload_start(bname)
                if m == "DELETE" and "upload_id" in self.q:
                    return self.upload_cancel(bname)
                raise ApiError(400, "invalid", "Upload requests need uploadType or upload_id.")
            if kind != "json":
                raise ApiError(404, "notFound", "Not Found")
            if m == "GET":
                return self.objects_list(bname)
            if m == "POST":
                return self.object_insert_metadata_only(bname)
            raise ApiError(405, "methodNotAllowed", "Method not allowed")
        op = ROUTE_OBJ_OP.match(raw)
        if op and m == "POST" and kind == "json":
            src = urllib.parse.unquote(op.group(1))
            dst_b = urllib.parse.unquote(op.group(3))
            dst = urllib.parse.unquote(op.group(4))
            return self.rewrite(bname, src, dst_b, dst, copy=(op.group(2) == "copyTo"))
        if raw.endswith("/compose") and m == "POST" and kind == "json":
            return self.compose(bname, urllib.parse.unquote(raw[:-len("/compose")]))
        name = urllib.parse.unquote(raw)
        if kind == "upload":
            raise ApiError(404, "notFound", "Not Found")
        if m in ("GET", "HEAD"):
            if kind == "download" or self.q.get("alt") == "media":
                return self.object_download(bname, name)
            return self.object_get(bname, name)
        if kind != "json":
            raise ApiError(404, "notFound", "Not Found")
        if m in ("PATCH", "PUT"):
            return self.object_patch(bname, name, replace=(m == "PUT"))
        if m == "DELETE":
            return self.object_delete(bname, name)
        raise ApiError(405, "methodNotAllowed", "Method not allowed")

    # -- V4 signed URLs (XML API path style: /BUCKET/OBJECT) -----------------
    def signed_url(self, path):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        refused = gcs_signed.check(self.command, url.path, query, self.headers,
                                   self.auth.public_keys)
        m = re.match(r"^/([^/]+)/(.+)$", path)
        if refused is None and not m:
            refused = (404, "NoSuchKey", "The specified key does not exist.")
        if refused is not None:
            self.log_message("signed URL refused: %s: %s", refused[1], refused[2])
            self.finish_body()
            data = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code>"
                    "<Message>%s</Message></Error>" % refused[1:]).encode()
            self.send_response(refused[0])
            self.send_header("Content-Type", "application/xml; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return None
        bname, name = urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2))
        if self.command in ("GET", "HEAD"):
            return self.object_download(bname, name)
        if self.command == "PUT":
            meta = {"contentType": self.headers.get("Content-Type",
                                                    "application/octet-stream")}
            return self.store_stream(bname, name, meta, self.copy_body)
        raise ApiError(405, "methodNotAllowed", "Method not allowed")

    # -- batch ---------------------------------------------------------------
    def batch(self):
        """POST /batch/storage/v1: a multipart/mixed body of application/http
        parts, each a JSON API call (path only), answered by a multipart/mixed
        200 of the calls' responses in order, Content-ID "<response-ID>". The
        outer request's headers apply to every call, except Content-* and those
        the call sets itself (its own Authorization wins); each call is
        authorized and performed on its own."""
        if self.command != "POST":
            raise ApiError(405, "methodNotAllowed", "Method not allowed")
        boundary = mixed_boundary(self.headers.get("Content-Type", ""))
        if boundary is None:
            raise ApiError(400, "invalid", "Batch requests need Content-Type "
                           "multipart/mixed with a boundary.")
        parts = split_mixed(self.body.read_all(BATCH_BYTES), boundary)
        if not parts:
            raise ApiError(400, "invalid", "The batch request has no parts.")
        if len(parts) > BATCH_MAX:
            raise ApiError(400, "invalid", "Too many requests in batch: %d (at most %d)."
                           % (len(parts), BATCH_MAX))
        with self.st.lock:
            self.st.batches += 1
        rb = "batch_" + base64.b64encode(secrets.token_bytes(10)).decode().replace("/", "_")
        out = bytearray()
        for mime, http_bytes in parts:
            cid = mime.get("content-id")
            out += b"--" + rb.encode() + b"\r\nContent-Type: application/http\r\n"
            if cid is not None:
                inner = cid[1:-1] if cid.startswith("<") and cid.endswith(">") else cid
                out += ("Content-ID: <response-%s>\r\n" % inner).encode("latin-1")
            out += b"\r\n"
            if mime.get("content-type", "").split(";")[0].strip().lower() != "application/http":
                out += error_response(400, "invalid", "Each part must be application/http.")
            else:
                out += self.call(http_bytes)
            out += b"\r\n"
        out += b"--" + rb.encode() + b"--\r\n"
        self.send_response(200)
        self.send_header("Content-Type", "multipart/mixed; boundary=" + rb)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def call(self, raw):
        """One call of a batch, performed by a handler of its own: its
        response as bytes."""
        head, sep, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        words = lines[0].split(" ")
        if not sep or len(words) != 3 or not words[1].startswith("/storage/v1/") \
                or not words[2].startswith("HTTP/"):
            return error_response(400, "invalid", "Each call must be 'METHOD /storage/v1/... "
                                  "HTTP/1.1' (the JSON API, path only).")
        sub = Handler.__new__(Handler)
        sub.server = self.server
        sub.client_address = self.client_address
        sub.request_version = "HTTP/1.1"
        sub.requestline = lines[0]
        sub.command, sub.path = words[0], words[1]
        sub.close_connection = False
        sub.in_batch = True
        headers = http.client.parse_headers(io.BytesIO(
            ("\r\n".join(lines[1:]) + "\r\n\r\n").encode("latin-1")))
        for k, v in self.headers.items():
            lk = k.lower()
            if lk.startswith("content-") or lk in ("host", "transfer-encoding", "connection",
                                                   "expect") or k in headers:
                continue
            headers[k] = v
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body))
        sub.headers = headers
        sub.rfile = io.BytesIO(body)
        sub.wfile = io.BytesIO()
        sub.dispatch()
        return sub.wfile.getvalue()

    # -- token endpoint ------------------------------------------------------
    def token(self):
        raw = self.body.read_all(64 * 1024)
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        # Client credentials may come as HTTP Basic instead of form fields (RFC 6749).
        scheme, _, cred = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                cid, _, secret = base64.b64decode(cred).decode().partition(":")
            except ValueError:
                cid = secret = ""
            form.setdefault("client_id", urllib.parse.unquote_plus(cid))
            form.setdefault("client_secret", urllib.parse.unquote_plus(secret))
        try:
            tok = self.auth.grant(form)
        except gcs_auth.GrantError as e:
            self.log_message("token grant refused: %s: %s", e.error, e.description)
            return self.send_json(e.status, {"error": e.error,
                                             "error_description": e.description})
        self.send_json(200, tok, {"Cache-Control": "no-cache, no-store, max-age=0"})

    # -- test hooks ----------------------------------------------------------
    def test_hook(self, what):
        st = self.st
        if what == "ping":
            return self.send_json(200, {"ok": True})
        if what == "config" and self.command == "GET":
            with st.lock:
                return self.send_json(200, self.config())
        if what == "config" and self.command == "POST":
            cfg = self.json_body() or {}
            with st.lock:
                if "page_size" in cfg:
                    st.page_size = int(cfg["page_size"] or 1000)
                if "rewrite_threshold" in cfg:
                    st.rewrite_threshold = int(cfg["rewrite_threshold"] or (1 << 20))
                if "md5_only" in cfg:
                    st.md5_only = bool(cfg["md5_only"])
                if "lose_next_session" in cfg:
                    st.lose_next_session = bool(cfg["lose_next_session"])
                if "truncate_next" in cfg:
                    st.truncate_next = cfg["truncate_next"]
                if "token_ttl" in cfg:
                    with self.auth.lock:
                        self.auth.ttl = int(cfg["token_ttl"] or 3600)
                return self.send_json(200, self.config())
        if what == "expire-tokens" and self.command == "POST":
            try:
                after = float(self.q.get("after", "0"))
            except ValueError:
                raise ApiError(400, "invalid", "after: not a number of seconds")
            if not self.auth.expire(self.q.get("token"), after):
                raise ApiError(404, "notFound", "No such token.")
            return self.send_json(200, {"ok": True})
        if what == "clock" and self.command in ("GET", "POST"):
            # The server's clock moved by ?skew=S seconds (POST; the grant
            # refusals for the JWT's times counted from 0 again), as the
            # token endpoint of a machine whose clock differs from the
            # client's: {"skew", "refused"}.
            if self.command == "POST":
                try:
                    skew = int(self.q.get("skew", "0"))
                except ValueError:
                    raise ApiError(400, "invalid", "skew: not a number of seconds")
                with self.auth.lock:
                    self.auth.clock_skew, self.auth.clock_refusals = skew, 0
            with self.auth.lock:
                return self.send_json(200, {"skew": self.auth.clock_skew,
                                            "refused": self.auth.clock_refusals})
        if what == "public" and self.command == "POST":
            bname = self.q.get("bucket", "")
            with st.lock:
                b = st.bucket(bname)
                b.public = self.q.get("public", "true") != "false"
                return self.send_json(200, {"bucket": bname, "public": b.public})
        if what == "uploads" and self.command == "GET":
            with st.lock:
                return self.send_json(200, {u.id: {
                    "bucket": u.bucket, "name": u.name, "bytes_received": u.bytes_received,
                    "persisted": u.persisted, "puts": u.puts, "done": u.result is not None,
                    "cancelled": u.cancelled} for u in st.uploads.values()})
        if what == "counters" and self.command == "GET":
            with st.lock, self.auth.lock:
                return self.send_json(200, {"requests": st.requests,
                                            "batches": st.batches,
                                            "batch_parts": st.batch_parts,
                                            "unauthorized": st.unauthorized,
                                            "token_grants": self.auth.grants,
                                            "tokens_issued": len(self.auth.tokens)})
        raise ApiError(404, "notFound", "No such test hook: %s %s" % (self.command, what))

    def config(self):
        return {"page_size": self.st.page_size, "rewrite_threshold": self.st.rewrite_threshold,
                "truncate_next": self.st.truncate_next,
                "lose_next_session": self.st.lose_next_session,
                "md5_only": self.st.md5_only, "token_ttl": self.auth.ttl}

    def truncated(self, kind, tmp):
        """A fault for clients' checks: the result of the next compose or
        rewrite (truncate_next) loses its last byte. (size, md5, crc) then,
        else None."""
        with self.st.lock:
            if self.st.truncate_next != kind:
                return None
            self.st.truncate_next = None
        size = os.path.getsize(tmp)
        os.truncate(tmp, max(0, size - 1))
        return file_hashes(tmp)

    # -- buckets -------------------------------------------------------------
    def buckets_list(self):
        project = self.q.get("project")
        if not project:
            raise ApiError(400, "required", "Required parameter: project")
        prefix = self.q.get("prefix", "")
        with self.st.lock:
            names = sorted(n for n, b in self.st.buckets.items()
                           if n.startswith(prefix) and b.project == canonical_project(project))
            size = self.page_size()
            after = self.token_after()
            names = [n for n in names if after is None or n > after]
            page, more = names[:size], len(names) > size
            out = {"kind": "storage#buckets"}
            if page:
                out["items"] = [self.st.buckets[n].resource(self.base) for n in page]
            if more:
                out["nextPageToken"] = encode_token({"after": page[-1]})
        self.send_json(200, out)

    def bucket_insert(self):
        if not self.q.get("project"):
            raise ApiError(400, "required", "Required parameter: project")
        body = self.json_body()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise ApiError(400, "required", "Required parameter: name")
        name = body["name"]
        if not BUCKET_NAME.match(name) or ".." in name:
            raise ApiError(400, "invalid", "Invalid bucket name: '%s'" % name)
        with self.st.lock:
            if name in self.st.buckets:
                raise ApiError(409, "conflict", "Your previous request to create the named "
                               "bucket succeeded and you already own it.")
            b = Bucket(name, canonical_project(self.q["project"]), time.time())
            self.apply_bucket_fields(b, body, replace=True)
            self.st.buckets[name] = b
            self.send_json(200, b.resource(self.base))

    def apply_bucket_fields(self, b, body, replace):
        v = body.get("versioning")
        if isinstance(v, dict):
            b.versioning = bool(v.get("enabled"))
        elif replace:
            b.versioning = False
        labels = body.get("labels")
        if isinstance(labels, dict):
            if replace:
                b.labels = {}
            for k, val in labels.items():
                if val is None:
                    b.labels.pop(k, None)
                else:
                    b.labels[k] = str(val)
        elif replace:
            b.labels = {}
        iam = body.get("iamConfiguration")
        if isinstance(iam, dict):
            for k in ("uniformBucketLevelAccess", "bucketPolicyOnly"):
                if isinstance(iam.get(k), dict) and "enabled" in iam[k]:
                    b.ubla = bool(iam[k]["enabled"])

    def bucket_get(self, bname):
        with self.st.lock:
            b = self.st.bucket(bname)
            self.bucket_preconditions(b)
            self.send_json(200, b.resource(self.base))

    def bucket_preconditions(self, b):
        mm = int_param(self.q, "ifMetagenerationMatch")
        mnm = int_param(self.q, "ifMetagenerationNotMatch")
        if (mm is not None and mm != b.metageneration) or \
                (mnm is not None and mnm == b.metageneration):
            raise ApiError(412, "conditionNotMet", "At least one of the pre-conditions you "
                           "specified did not hold.")

    def bucket_patch(self, bname, replace):
        body = self.json_body()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ApiError(400, "invalid", "Invalid JSON payload: expected an object.")
        with self.st.lock:
            b = self.st.bucket(bname)
            self.bucket_preconditions(b)
            self.apply_bucket_fields(b, body, replace)
            b.metageneration += 1
            b.updated = time.time()
            self.send_json(200, b.resource(self.base))

    def bucket_delete(self, bname):
        with self.st.lock:
            b = self.st.bucket(bname)
            self.bucket_preconditions(b)
            if not b.empty():
                raise ApiError(409, "conflict", "The bucket you tried to delete is not empty.")
            del self.st.buckets[bname]
        self.send_empty(204)

    # -- object reads --------------------------------------------------------
    def lookup(self, bname, name):
        """The object (generation= honoured) or 404; preconditions checked. Under lock."""
        b = self.st.bucket(bname)
        o = b.find(name, int_param(self.q, "generation"))
        if o is None:
            raise ApiError(404, "notFound", "No such object: %s/%s" % (bname, name))
        check_preconditions(self.q, o, write=self.command not in ("GET", "HEAD"))
        return o

    def object_get(self, bname, name):
        with self.st.lock:
            o = self.lookup(bname, name)
            self.send_json(200, o.resource(self.base))

    def object_download(self, bname, name):
        with self.st.lock:
            o = self.lookup(bname, name)
            f = open(o.path, "rb")   # open under the lock: a replace may unlink it later
            size, ctype = o.size, o.fields.get("contentType", "application/octet-stream")
            hdrs = {
                "x-goog-hash": ",".join(
                    (["crc32c=%s" % o.crc] if not self.st.md5_only else []) +
                    (["md5=%s" % o.md5] if o.md5 else [])),
                "x-goog-generation": str(o.generation),
                "x-goog-metageneration": str(o.metageneration),
                "x-goog-stored-content-length": str(o.size),
                "x-goog-stored-content-encoding":
                    o.fields.get("contentEncoding", "identity"),
                "x-goog-storage-class": "STANDARD",
                "ETag": o.etag(),
                "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                               time.gmtime(o.updated)),
            }
            if o.components is not None:
                hdrs["x-goog-component-count"] = str(o.components)
            for k, v in (("contentEncoding", "Content-Encoding"),
                         ("contentDisposition", "Content-Disposition"),
                         ("cacheControl", "Cache-Control"),
                         ("contentLanguage", "Content-Language")):
                if k in o.fields:
                    hdrs[v] = o.fields[k]
        # Decompressive transcoding, as GCS does: a gzip object goes out
        # decompressed, whole (Range ignored), with no Content-Encoding, to a
        # client that does not accept gzip; x-goog-hash still describes the
        # stored (compressed) bytes.
        if (hdrs.get("Content-Encoding") == "gzip"
                and "gzip" not in self.headers.get("Accept-Encoding", "")
                and "no-transform" not in o.fields.get("cacheControl", "")):
            with f:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = d.decompress(f.read()) + d.flush()
            del hdrs["Content-Encoding"]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Warning", "214 UploadServer gzipped")
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        with f:
            start, end, status = 0, size - 1, 200
            rng = self.headers.get("Range")
            if rng:
                start, end = parse_range(rng, size)
                status = 206
                hdrs["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
            n = max(0, end - start + 1)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(n))
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command == "HEAD":
                return
            f.seek(start)
            while n > 0:
                d = f.read(min(IO, n))
                if not d:
                    break
                self.wfile.write(d)
                n -= len(d)

    def objects_list(self, bname):
        q = self.q
        prefix = q.get("prefix", "")
        delim = q.get("delimiter", "")
        start = q.get("startOffset") or q.get("startAfter")
        end = q.get("endOffset")
        versions = bool_param(q, "versions")
        trailing = bool_param(q, "includeTrailingDelimiter")
        if "matchGlob" in q:
            raise ApiError(400, "invalid", "matchGlob is not supported by this test server.")
        with self.st.lock:
            b = self.st.bucket(bname)
            size = self.page_size()
            tok = decode_token(q.get("pageToken"))
            entries = []
            for n in sorted(set(b.live) | set(k for k, v in b.old.items() if v)):
                if not n.startswith(prefix):
                    continue
                if start is not None and n < start:
                    continue
                if end is not None and n >= end:
                    continue
                if versions:
                    gens = sorted(b.old.get(n, []) + ([b.live[n]] if n in b.live else []),
                                  key=lambda o: o.generation)
                    entries.extend(gens)
                elif n in b.live:
                    entries.append(b.live[n])
            items, prefixes, count, last = [], [], 0, None
            more = False
            for o in entries:
                key = (o.name, o.generation)
                if tok is not None:
                    if "prefix" in tok and (o.name < tok["prefix"] or
                                            o.name.startswith(tok["prefix"])):
                        continue
                    if "after" in tok and key <= (tok["after"], tok.get("gen", 0)):
                        continue
                p = None
                if delim:
                    i = o.name.find(delim, len(prefix))
                    if i >= 0:
                        p = o.name[:i + len(delim)]
                if p is not None:
                    if prefixes and prefixes[-1] == p:
                        if trailing and o.name == p and o.deleted is None:
                            items.append(o)
                        continue
                    if count >= size:
                        more = True
                        break
                    prefixes.append(p)
                    count += 1
                    last = {"prefix": p}
                    if trailing and o.name == p:
                        items.append(o)
                    continue
                if count >= size:
                    more = True
                    break
                items.append(o)
                count += 1
                last = {"after": o.name, "gen": o.generation}
            out = {"kind": "storage#objects"}
            if prefixes:
                out["prefixes"] = prefixes
            if items:
                out["items"] = [o.resource(self.base) for o in items]
            if more and last is not None:
                out["nextPageToken"] = encode_token(last)
        self.send_json(200, out)

    def page_size(self):
        size = min(self.st.page_size, 1000)
        mr = int_param(self.q, "maxResults")
        if mr is not None and mr > 0:
            size = min(size, mr)
        return size

    def token_after(self):
        tok = decode_token(self.q.get("pageToken"))
        return None if tok is None else tok.get("after")

    # -- object writes -------------------------------------------------------
    def object_patch(self, bname, name, replace):
        body = self.json_body()
        body = object_meta(body if body is not None else {})
        with self.st.lock:
            o = self.lookup(bname, name)
            if replace:
                o.fields = {}
                o.metadata = {}
            for k in OBJECT_FIELDS:
                if k in body:
                    if body[k] is None:
                        o.fields.pop(k, None)
                    else:
                        o.fields[k] = str(body[k])
            if "temporaryHold" in body:
                o.temporary_hold = body["temporaryHold"] is True
            md = body.get("metadata")
            if md is None and "metadata" in body:
                o.metadata = {}
            elif md:
                for k, v in md.items():
                    if v is None:
                        o.metadata.pop(k, None)
                    else:
                        o.metadata[k] = str(v)
            o.metageneration += 1
            o.updated = time.time()
            self.send_json(200, o.resource(self.base))

    def object_delete(self, bname, name):
        with self.st.lock:
            b = self.st.bucket(bname)
            gen = int_param(self.q, "generation")
            o = b.find(name, gen)
            if o is None:
                raise ApiError(404, "notFound", "No such object: %s/%s" % (bname, name))
            # GCS: the preconditions are on the object's current (live) generation,
            # also when a generation is named.
            check_preconditions(self.q, b.live.get(name), write=True)
            if o.temporary_hold:
                raise ApiError(403, "forbidden", "Object '%s/%s' is under active Temporary "
                               "hold and cannot be deleted, overwritten or archived until "
                               "hold is removed." % (bname, name))
            if b.live.get(name) is o:
                if gen is not None:
                    del b.live[name]     # a generation named: gone for good
                    _unlink(o.path)
                else:
                    self.st._replace(b, name, None, time.time())
            else:
                b.old[name].remove(o)
                _unlink(o.path)
        self.send_empty(204)

    def object_insert_metadata_only(self, bname):
        raise ApiError(400, "invalid", "Uploads go to /upload/storage/v1/b/%s/o." % bname)

    def upload_start(self, bname):
        ut = self.q.get("uploadType")
        with self.st.lock:
            self.st.bucket(bname)
        if ut == "media":
            name = self.q.get("name")
            if not name:
                raise ApiError(400, "required", "Required parameter: name")
            meta = {"contentType": self.headers.get("Content-Type") or
                    "application/octet-stream"}
            if self.q.get("contentEncoding"):
                meta["contentEncoding"] = self.q["contentEncoding"]
            return self.store_stream(bname, name, meta, lambda sink: self.copy_body(sink))
        if ut == "multipart":
            return self.upload_multipart(bname)
        if ut == "resumable":
            return self.resumable_start(bname)
        raise ApiError(400, "invalid", "Invalid upload type: %s" % ut)

    def copy_body(self, sink):
        while True:
            d = self.body.read()
            if not d:
                return
            sink.write(d)

    def store_stream(self, bname, name, meta, fill):
        """Stream the upload into a temp file, verify the hashes sent, commit."""
        tmp = self.st.tmp_path()
        sink = Sink(tmp)
        try:
            fill(sink)
        except BaseException:
            sink.close()
            _unlink(tmp)
            raise
        sink.close()
        md5, crc = sink.hashes()
        try:
            verify_hashes(meta, parse_goog_hash(self.headers.get("X-Goog-Hash")), md5, crc)
        except ApiError:
            _unlink(tmp)
            raise
        o = self.st.commit(bname, name, tmp, sink.size, md5, crc, meta, self.q)
        self.send_json(200, o.resource(self.base))

    def upload_multipart(self, bname):
        ctype = self.headers.get("Content-Type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.lower().startswith("multipart/related") or not m:
            raise ApiError(400, "invalid", "Content-Type must be multipart/related with a "
                           "boundary.")
        delim = b"--" + m.group(1).encode()
        s = Stream(self.body)
        s.read_until(delim + b"\r\n", 64 * 1024)
        s.headers()
        meta = object_meta(parse_json(s.read_until(b"\r\n" + delim + b"\r\n", 1 << 20)))
        media_headers = s.headers()
        name = meta.get("name") or self.q.get("name")
        if not name:
            raise ApiError(400, "required", "Required parameter: name")
        meta = dict(meta)
        if not meta.get("contentType"):
            meta["contentType"] = media_headers.get("content-type", "application/octet-stream")

        def fill(sink):
            s.copy_until(b"\r\n" + delim, sink)
            tail = s.buf
            while len(tail) < 2:
                s.fill()
                tail = s.buf
            if not tail.startswith(b"--"):
                raise ApiError(400, "invalid", "Multipart upload must have exactly two parts.")
        return self.store_stream(bname, name, meta, fill)

    # -- resumable uploads ---------------------------------------------------
    def resumable_start(self, bname):
        meta = object_meta(self.json_body()) or {}
        meta = dict(meta)
        name = meta.get("name") or self.q.get("name")
        if not name:
            raise ApiError(400, "required", "Required parameter: name")
        if not meta.get("contentType"):
            meta["contentType"] = (self.headers.get("X-Upload-Content-Type") or
                                   "application/octet-stream")
        total = self.headers.get("X-Upload-Content-Length")
        total = int(total) if total and total.isdigit() else None
        with self.st.lock:
            self.st.bucket(bname)
            b = self.st.buckets[bname]
            check_preconditions(self.q, b.live.get(name), write=True)
            uid = "ADPycd" + secrets.token_urlsafe(24)
            path = self.st.tmp_path()
            open(path, "wb").close()
            q = {k: v for k, v in self.q.items() if k.startswith("if")}
            self.st.uploads[uid] = Upload(uid, bname, name, meta, q, path, total)
        qs = urllib.parse.urlencode({"uploadType": "resumable", "name": name, "upload_id": uid})
        loc = "%s/upload/storage/v1/b/%s/o?%s" % (self.base, urllib.parse.quote(bname, safe=""),
                                                   qs)
        self.send_empty(200, {"Location": loc, "X-GUploader-UploadID": uid})

    def session(self, bname):
        with self.st.lock:
            u = self.st.uploads.get(self.q.get("upload_id", ""))
        if u is None or u.bucket != bname:
            raise ApiError(404, "notFound", "No such upload session.")
        if u.cancelled:
            raise ApiError(499, "clientClosedRequest", "The upload session was cancelled.")
        return u

    def upload_cancel(self, bname):
        u = self.session(bname)
        with u.lock:
            u.cancelled = True
            u.ticket += 1               # a request still receiving stops
            _unlink(u.path)
        self.send_empty(499)

    def upload_put(self, bname):
        with self.st.lock:
            lose, self.st.lose_next_session = self.st.lose_next_session, False
            if lose:    # as an expired session: GCS forgets them after a week
                self.st.uploads.pop(self.q.get("upload_id", ""), None)
        u = self.session(bname)
        cr = self.headers.get("Content-Range")
        with u.lock:
            if u.cancelled:
                raise ApiError(499, "clientClosedRequest", "The upload session was cancelled.")
            u.puts += 1
            # A new request on the session supersedes one still receiving (its client
            # gave up on it): that one stops, and what it stored counts, to 256 KiB.
            u.ticket += 1
            ticket = u.ticket
            if u.writing:
                u.writing = False
                self.truncate(u, u.persisted // CHUNK * CHUNK)
            if u.result is not None:
                done = u.result
            else:
                done = None
                if cr is None:
                    first, last, total = 0, None, None   # the whole object in one request
                else:
                    first, last, total = parse_content_range(cr)
                if total is not None:
                    if u.total is not None and total != u.total:
                        raise ApiError(400, "invalid", "The total object size in "
                                       "Content-Range (%d) does not match the size declared "
                                       "before (%d)." % (total, u.total))
                    u.total = total
                if first is None:        # a status query
                    if u.total is not None and u.persisted == u.total:
                        return self.finalize(u)
                    return self.send_incomplete(u)
                if first > u.persisted:
                    raise ApiError(400, "invalid", "Invalid request. According to the "
                                   "Content-Range header, the upload offset is %d byte(s), "
                                   "which exceeds already uploaded size of %d byte(s)."
                                   % (first, u.persisted))
                if last is not None and self.body.length is not None and \
                        self.body.length != last - first + 1:
                    raise ApiError(400, "invalid", "Content-Range (%s) does not match the "
                                   "body's Content-Length (%d)." % (cr, self.body.length))
                if u.total is not None and last is not None and last >= u.total:
                    raise ApiError(400, "invalid", "Content-Range end (%d) is past the object "
                                   "size (%d)." % (last, u.total))
                u.writing = True
                skip = u.persisted - first
        if done is not None:
            self.body.drain()
            return self.send_json(200, done.resource(self.base))
        self.receive_chunk(u, ticket, skip)
        with u.lock:
            if u.ticket != ticket:
                raise Superseded("a newer request took the session")
            u.writing = False
            if u.total is None and last is None and total is None:
                u.total = u.persisted     # "a-*/*" or no Content-Range: the body was all
            if u.total is not None and u.persisted == u.total:
                return self.finalize(u)
            # A non-final chunk persists only in multiples of 256 KiB (as GCS does).
            aligned = u.persisted // CHUNK * CHUNK
            if aligned != u.persisted:
                self.truncate(u, aligned)
            return self.send_incomplete(u)

    def receive_chunk(self, u, ticket, skip):
        """Append the body to the session (its first skip bytes the server already has).
        A body cut short keeps what arrived, rounded down to 256 KiB."""
        with open(u.path, "r+b", buffering=0) as f:
            try:
                while True:
                    d = self.body.read()
                    if not d:
                        return
                    with u.lock:
                        if u.ticket != ticket:
                            raise Superseded("a newer request took the session")
                        u.bytes_received += len(d)
                        if skip:
                            cut = min(skip, len(d))
                            d = d[cut:]
                            skip -= cut
                        if u.total is not None and u.persisted + len(d) > u.total:
                            raise ApiError(400, "invalid", "More data than the object size "
                                           "in Content-Range.")
                        f.seek(u.persisted)
                        f.write(d)
                        u.persisted += len(d)
            except (Truncated, ApiError) as e:
                with u.lock:
                    if u.ticket == ticket:
                        u.writing = False
                        if not isinstance(e, ApiError):
                            self.truncate(u, u.persisted // CHUNK * CHUNK)
                raise

    def truncate(self, u, size):
        u.persisted = size
        os.truncate(u.path, size)

    def send_incomplete(self, u):
        h = {"X-GUploader-UploadID": u.id}
        if u.persisted > 0:
            h["Range"] = "bytes=0-%d" % (u.persisted - 1)
        # Go's client asks for this: its HTTP stack would take 308 for a redirect.
        if self.headers.get("X-GUploader-No-308", "").lower() == "yes":
            h["X-HTTP-Status-Code-Override"] = "308"
            return self.send_empty(200, h)
        self.send_empty(308, h)

    def finalize(self, u):
        size, md5, crc = file_hashes(u.path)
        try:
            verify_hashes(u.meta, parse_goog_hash(self.headers.get("X-Goog-Hash")), md5, crc)
        except ApiError:
            u.cancelled = True      # GCS fails the whole session on a checksum mismatch
            _unlink(u.path)
            raise
        # The session's file becomes the object: copy, so a status query still works.
        tmp = self.st.tmp_path()
        os.link(u.path, tmp)
        q = dict(u.query)
        o = self.st.commit(u.bucket, u.name, tmp, size, md5, crc, u.meta, q)
        _unlink(u.path)
        u.result = o
        self.send_json(200, o.resource(self.base))

    # -- compose and rewrite -------------------------------------------------
    def compose(self, bname, dest):
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "required", "Required parameter: sourceObjects")
        srcs = body.get("sourceObjects")
        if not isinstance(srcs, list) or not srcs:
            raise ApiError(400, "required", "Required parameter: sourceObjects")
        if len(srcs) > MAX_COMPOSE:
            raise ApiError(400, "invalid", "The number of source components provided (%d) "
                           "exceeds the maximum (%d)" % (len(srcs), MAX_COMPOSE))
        files, comps = [], 0
        with self.st.lock:
            b = self.st.bucket(bname)
            for s in srcs:
                if not isinstance(s, dict) or not isinstance(s.get("name"), str):
                    raise ApiError(400, "required", "Required parameter: sourceObjects.name")
                gen = s.get("generation")
                o = b.find(s["name"], int(gen) if gen is not None else None)
                if o is None:
                    raise ApiError(404, "notFound", "Object %s (generation: %s) not found."
                                   % (s["name"], gen or 0))
                pre = (s.get("objectPreconditions") or {}).get("ifGenerationMatch")
                if pre is not None and int(pre) != o.generation:
                    raise ApiError(412, "conditionNotMet", "At least one of the "
                                   "pre-conditions you specified did not hold.")
                files.append(open(o.path, "rb"))
                comps += o.components or 1
        # No cap on the components (GCS dropped its 1024); componentCount
        # saturates at 2^31-1.
        comps = min(comps, 2 ** 31 - 1)
        try:
            tmp = self.st.tmp_path()
            sink = Sink(tmp)
            for f in files:
                while True:
                    d = f.read(IO)
                    if not d:
                        break
                    sink.write(d)
            sink.close()
        finally:
            for f in files:
                f.close()
        meta = object_meta(body.get("destination") or {})
        _, crc = sink.hashes()
        size = sink.size
        cut = self.truncated("compose", tmp)
        if cut:
            size, _, crc = cut
        o = self.st.commit(bname, dest, tmp, size, None, crc, meta, self.q,
                           components=comps)
        self.send_json(200, o.resource(self.base))

    def rewrite(self, sb, sname, db, dname, copy):
        body = self.json_body()
        meta = object_meta(body) if body else None
        with self.st.lock:
            self.st.bucket(db)
            src_b = self.st.bucket(sb)
            o = src_b.find(sname, int_param(self.q, "sourceGeneration"))
            if o is None:
                raise ApiError(404, "notFound", "No such object: %s/%s" % (sb, sname))
            check_preconditions(self.q, o, write=True, prefix="ifSource")
            f = open(o.path, "rb")
            src = o
        with f:
            token = self.q.get("rewriteToken")
            done_bytes, tmp = 0, None
            if token:
                with self.st.lock:
                    rw = self.st.rewrites.get(token)
                if rw is None or rw["src"] != (sb, sname, src.generation) or \
                        rw["dst"] != (db, dname):
                    raise ApiError(400, "invalid", "Invalid rewrite token.")
                done_bytes, tmp = rw["done"], rw["tmp"]
            else:
                tmp = self.st.tmp_path()
                open(tmp, "wb").close()
            step = src.size
            if not copy and src.size > self.st.rewrite_threshold:
                step = self.st.rewrite_threshold
                mb = int_param(self.q, "maxBytesRewrittenPerCall")
                if mb:
                    step = min(step, mb)
            end = min(src.size, done_bytes + step)
            with open(tmp, "r+b") as out:
                f.seek(done_bytes)
                out.seek(done_bytes)
                n = end - done_bytes
                while n > 0:
                    d = f.read(min(IO, n))
                    if not d:
                        break
                    out.write(d)
                    n -= len(d)
            if token:
                with self.st.lock:
                    self.st.rewrites.pop(token, None)
            if end < src.size:
                token = secrets.token_urlsafe(32)
                with self.st.lock:
                    self.st.rewrites[token] = {"src": (sb, sname, src.generation),
                                               "dst": (db, dname), "done": end, "tmp": tmp}
                return self.send_json(200, {"kind": "storage#rewriteResponse",
                                            "totalBytesRewritten": str(end),
                                            "objectSize": str(src.size), "done": False,
                                            "rewriteToken": token})
        if meta is None:
            meta = dict(src.fields)
            meta["metadata"] = dict(src.metadata)
        size, md5, crc = src.size, src.md5, src.crc
        cut = self.truncated("rewrite", tmp)
        if cut:
            size, md5, crc = cut
        o = self.st.commit(db, dname, tmp, size, md5, crc, meta, self.q,
                           components=src.components)
        if copy:
            return self.send_json(200, o.resource(self.base))
        self.send_json(200, {"kind": "storage#rewriteResponse",
                             "totalBytesRewritten": str(src.size),
                             "objectSize": str(src.size), "done": True,
                             "resource": o.resource(self.base)})


def parse_range(h, size):
    m = re.match(r"^bytes=(\d*)-(\d*)$", h.strip())
    bad = ApiError(416, "requestedRangeNotSatisfiable", "Request range not satisfiable",
                   {"Content-Range": "bytes */%d" % size})
    if not m or (m.group(1) == "" and m.group(2) == ""):
        raise bad
    if m.group(1) == "":
        n = int(m.group(2))
        if n == 0:
            raise bad
        return max(0, size - n), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        raise bad
    return start, min(end, size - 1)


def parse_content_range(h):
    """(first, last, total) of `bytes a-b/T`, `bytes a-*/T`, `bytes */T`; None for * parts."""
    m = re.match(r"^bytes (?:(\d+)-(\d+|\*)|\*)/(\d+|\*)$", h.strip())
    if not m:
        raise ApiError(400, "invalid", "Invalid Content-Range: %s" % h)
    first = int(m.group(1)) if m.group(1) is not None else None
    last = int(m.group(2)) if m.group(2) not in (None, "*") else None
    total = int(m.group(3)) if m.group(3) != "*" else None
    if first is not None and last is not None and last < first:
        raise ApiError(400, "invalid", "Invalid Content-Range: %s" % h)
    return first, last, total


def encode_token(d):
    return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")


def decode_token(t):
    if not t:
        return None
    try:
        d = json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))
        if isinstance(d, dict):
            return d
    except ValueError:
        pass
    raise ApiError(400, "invalid", "Invalid page token.")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def write_json(path, obj):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.rename(tmp, path)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: gcs_server.py STATE_DIR PORT\n")
        return 2
    state_dir, port = argv[1], int(argv[2])
    data = os.path.join(state_dir, "data")
    shutil.rmtree(data, ignore_errors=True)
    endpoint = "http://127.0.0.1:%d" % port
    auth = gcs_auth.Auth(endpoint + "/token", endpoint)
    srv = Server(("127.0.0.1", port), Handler)
    srv.state = State(data)
    srv.auth = auth
    srv.endpoint = endpoint
    write_json(os.path.join(state_dir, "sa.json"), auth.service_account_json())
    write_json(os.path.join(state_dir, "user.json"), auth.authorized_user_json())
    sys.stderr.write("gcs test server on %s, data in %s\n" % (endpoint, data))
    sys.stderr.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
