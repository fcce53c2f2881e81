#!/usr/bin/python3
"""A small, strict OCI Object Storage test server (native API, RSA request signatures).

  oci_server.py STATE_DIR PORT

Writes STATE_DIR/key.pem, key-enc.pem, passphrase and config (see README.md here), then
serves http://127.0.0.1:PORT. Object bytes live in files under STATE_DIR/data (streamed,
never held whole in memory); everything else is in memory and gone at exit.
Python 3 stdlib + python3-cryptography + python3-crc32c (Debian's /usr/bin/python3).
"""
import base64
import email.utils
import hashlib
import http.server
import json
import os
import re
import shutil
import sys
import threading
import time
import urllib.parse
import uuid

import crc32c
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import oci_par

NAMESPACE = "xtns"
TENANCY = "ocid1.tenancy.oc1..xttenancy"
USER = "ocid1.user.oc1..xtuser"
REGION = "us-ashburn-1"
PASSPHRASE = "xt-oci-pass"
CLOCK_WINDOW_S = 300
CHUNK = 1 << 20
HOOK_DEFAULTS = {"page_size": 0,            # 0: no cap beyond the API's own limits
                 "clock_skew": 0.0,         # seconds added to the server's clock
                 "work_request_delay": 0.0}  # seconds before a copy starts
JSON_BODY_MAX = 16 << 20
DRAIN_MAX = 64 << 20
DEFAULT_LIMIT = 1000


# PARs of this server (one process per state directory).
PARS = oci_par.Pars()
PAR_OPS = {("POST", False): "CreatePreauthenticatedRequest",
           ("GET", True): "GetPreauthenticatedRequest",
           ("DELETE", True): "DeletePreauthenticatedRequest"}


def b64(raw):
    return base64.b64encode(raw).decode()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def crc_b64(crc):
    return b64(crc.to_bytes(4, "big"))


class OciError(Exception):
    def __init__(self, status, code, message, close=False):
        super().__init__(message)
        self.status, self.code, self.message, self.close = status, code, message, close


class Version:
    """One stored version of an object (or a delete marker)."""

    def __init__(self, name):
        self.name = name
        self.version_id = str(uuid.uuid4())
        self.etag = str(uuid.uuid4())
        self.path = None            # data file; None for a delete marker
        self.size = 0
        self.md5 = None             # base64, single-part objects
        self.multipart_md5 = None   # "base64-N", multipart objects
        self.crc32c = None          # base64, big-endian
        self.headers = {}           # content-type and friends, lowercase names
        self.meta = {}              # opc-meta-* (full lowercase names)
        self.created = self.modified = time.time()
        self.delete_marker = False
        self.replaceable = False    # written while the bucket's versioning was not Enabled

    def list_md5(self):
        return self.multipart_md5 or self.md5


class Bucket:
    def __init__(self, name, compartment, metadata, versioning):
        self.name, self.compartment, self.metadata = name, compartment, metadata
        self.versioning = versioning
        self.created = time.time()
        self.etag = str(uuid.uuid4())
        self.id = "ocid1.bucket.oc1.iad." + uuid.uuid4().hex
        self.objects = {}           # name -> [Version], oldest first
        self.uploads = {}           # upload id -> Upload

    def current(self, name):
        versions = self.objects.get(name)
        if not versions or versions[-1].delete_marker:
            return None
        return versions[-1]


class Upload:
    def __init__(self, bucket, obj, headers, meta, storage_tier):
        self.bucket, self.object = bucket, obj
        self.id = str(uuid.uuid4())
        self.headers, self.meta, self.storage_tier = headers, meta, storage_tier
        self.created = time.time()
        self.parts = {}             # part number -> dict(path, size, md5 (raw), etag)


class WorkRequest:
    def __init__(self, bucket, compartment, resources):
        self.bucket = bucket        # the source bucket: whose hook settings apply
        self.id = "ocid1.objectstorageworkrequest.oc1.iad." + uuid.uuid4().hex
        self.compartment, self.resources = compartment, resources
        self.accepted = time.time()
        self.started = self.finished = None
        self.status = "ACCEPTED"
        self.error = None
        self.polls = 0


class State:
    def __init__(self, root, key_id, public_key):
        self.root = root
        self.data = os.path.join(root, "data")
        os.makedirs(self.data, exist_ok=True)
        self.keys = {key_id: public_key}
        self.lock = threading.RLock()
        self.buckets = {}
        self.work_requests = {}
        # Test hook settings: "" holds the server-wide ones, a bucket name those that apply
        # to requests on that bucket only (so tests sharing the fixture do not disturb
        # each other).
        self.settings = {"": dict(HOOK_DEFAULTS)}
        self.counters = {}
        self.in_flight = {}

    def setting(self, bucket, name):
        with self.lock:
            return self.settings.get(bucket or "", {}).get(name, self.settings[""][name])

    def now(self, bucket=None):
        return time.time() + self.setting(bucket, "clock_skew")

    def count(self, bucket, what):
        """Counts server-wide and, for a request on a bucket, for that bucket."""
        with self.lock:
            for scope in {"", bucket or ""}:
                c = self.counters.setdefault(scope, {})
                c[what] = c.get(what, 0) + 1

    # Requests being served at once, server-wide and per bucket: the counter
    # "max_in_flight" is the most seen, for tests of clients that send in parallel.
    def enter(self, bucket):
        with self.lock:
            for scope in {"", bucket or ""}:
                n = self.in_flight[scope] = self.in_flight.get(scope, 0) + 1
                c = self.counters.setdefault(scope, {})
                c["max_in_flight"] = max(c.get("max_in_flight", 0), n)

    def leave(self, bucket):
        with self.lock:
            for scope in {"", bucket or ""}:
                self.in_flight[scope] -= 1

    def new_file(self):
        return os.path.join(self.data, uuid.uuid4().hex)


def unlink_quiet(path):
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


AUTH_RE = re.compile(r'(\w+)="([^"]*)"')


# The signature scheme, as functions test_oci_vectors.py runs on Oracle's published examples.

def parse_authorization(auth):
    """The parameters of an `Authorization: Signature ...` header; OciError (401) if it is
    not a version 1 rsa-sha256 signature with keyId, headers and signature."""
    if not auth.startswith("Signature "):
        raise OciError(401, "NotAuthenticated", "Authorization is not an OCI Signature")
    params = dict(AUTH_RE.findall(auth[len("Signature "):]))
    if params.get("version") != "1":
        raise OciError(401, "NotAuthenticated", "signature version must be \"1\"")
    if params.get("algorithm") != "rsa-sha256":
        raise OciError(401, "NotAuthenticated", "algorithm must be rsa-sha256")
    for p in ("keyId", "headers", "signature"):
        if p not in params:
            raise OciError(401, "NotAuthenticated", "Authorization lacks %s" % p)
    return params


def signing_string(method, target, signed, get_all):
    """The string signed: one `name: value` line per signed header (lowercase names, in the
    signed order; a repeated header's values joined by ", "), `(request-target)` being the
    lowercase method and the path?query as sent. get_all(name) gives a header's values or
    None."""
    lines = []
    for h in signed:
        if h == "(request-target)":
            lines.append("(request-target): %s %s" % (method.lower(), target))
            continue
        values = get_all(h)
        if values is None:
            raise OciError(401, "NotAuthenticated", "signed header %s is missing" % h)
        lines.append("%s: %s" % (h, ", ".join(v.strip() for v in values)))
    return "\n".join(lines)


def verify_signature(public_key, signature_b64, string):
    try:
        sig = base64.b64decode(signature_b64, validate=True)
        public_key.verify(sig, string.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise OciError(401, "NotAuthenticated", "The required information to complete "
                       "authentication was not provided or was incorrect.")
OBJECT_BODY_OPS = ("PutObject", "UploadPart")
CONTENT_HEADERS = ("content-type", "content-language", "content-encoding", "content-disposition",
                   "cache-control")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 75                    # an idle keep-alive connection is closed, as servers do
    server_version = "xtstore-oci-test"
    sys_version = ""
    state = None                    # set in main()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    # The server's clock (and so its Date header) follows the skew hook, so a client that
    # corrects its clock from Date can be tested.
    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(timestamp if timestamp is not None else
                                      self.state.now(self.bucket_name),
                                      usegmt=True)

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    # ---- plumbing -------------------------------------------------------------------

    def dispatch(self):
        self.request_id = uuid.uuid4().hex.upper()
        self.bucket_name = None
        # Whether the request's body is consumed (or absent): a response sent before that
        # closes the connection, since the unread bytes would be taken for the next request.
        self.body_read = self.header("content-length") in (None, "0") and \
            not self.header("transfer-encoding")
        self.sha_verify = None
        raw_path, _, raw_query = self.path.partition("?")
        self.query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        try:
            if raw_path.startswith("/_test/"):
                return self.test_hook(raw_path)
            if raw_path.startswith("/p/"):
                return self.par_request(raw_path)
            op, args = self.route(raw_path)
            if len(args) >= 2 and op not in ("ListBuckets", "CreateBucket"):
                self.bucket_name = args[1]
            self.state.count(self.bucket_name, "requests")
            self.state.enter(self.bucket_name)
            try:
                self.authenticate(op)
                self.state.count(self.bucket_name, op)
                getattr(self, "op_" + op)(*args)
            finally:
                self.state.leave(self.bucket_name)
        except OciError as e:
            if e.status == 401:
                self.state.count(self.bucket_name, "NotAuthenticated")
            self.send_error_json(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(self, path):
        parts = path.split("/")
        m = self.command
        if len(parts) < 2 or parts[1] not in ("n", "workRequests"):
            raise OciError(404, "NotFound", "no such API path: %s" % path)
        if parts[1] == "workRequests":
            if len(parts) == 3 and m == "GET":
                return "GetWorkRequest", (urllib.parse.unquote(parts[2]),)
            if len(parts) == 4 and parts[3] == "errors" and m == "GET":
                return "ListWorkRequestErrors", (urllib.parse.unquote(parts[2]),)
            raise OciError(404, "NotFound", "no such API path: %s" % path)
        rest = [urllib.parse.unquote(p) for p in parts[2:4]]
        if len(parts) == 2 or (len(parts) == 3 and parts[2] == ""):
            if m == "GET":
                return "GetNamespace", ()
        elif len(parts) == 3 or (len(parts) == 4 and parts[3] == ""):
            if m == "GET":
                return "GetNamespaceMetadata", (rest[0],)
        elif parts[3] == "b" and (len(parts) == 4 or (len(parts) == 5 and parts[4] == "")):
            if m == "GET":
                return "ListBuckets", (rest[0],)
            if m == "POST":
                return "CreateBucket", (rest[0],)
        elif parts[3] == "b" and (len(parts) == 5 or (len(parts) == 6 and parts[5] == "")):
            ns, b = rest[0], urllib.parse.unquote(parts[4])
            ops = {"GET": "GetBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket",
                   "POST": "UpdateBucket"}
            if m in ops:
                return ops[m], (ns, b)
        elif parts[3] == "b" and len(parts) >= 6:
            ns, b, kind = rest[0], urllib.parse.unquote(parts[4]), parts[5]
            name = urllib.parse.unquote("/".join(parts[6:])) if len(parts) > 6 else None
            if kind == "o" and not name:
                if m == "GET":
                    return "ListObjects", (ns, b)
            elif kind == "o":
                ops = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject",
                       "DELETE": "DeleteObject"}
                if m in ops:
                    return ops[m], (ns, b, name)
            elif kind == "u" and not name:
                if m == "POST":
                    return "CreateMultipartUpload", (ns, b)
                if m == "GET":
                    return "ListMultipartUploads", (ns, b)
            elif kind == "u":
                ops = {"PUT": "UploadPart", "POST": "CommitMultipartUpload",
                       "DELETE": "AbortMultipartUpload", "GET": "ListMultipartUploadParts"}
                if m in ops:
                    return ops[m], (ns, b, name)
            elif kind == "objectversions" and not name and m == "GET":
                return "ListObjectVersions", (ns, b)
            elif kind == "actions" and name == "copyObject" and m == "POST":
                return "CopyObject", (ns, b)
            elif kind == "p":
                par = PAR_OPS.get((m, bool(name)))
                if par:
                    return par, (ns, b) + ((name,) if name else ())
        raise OciError(404, "NotFound", "%s %s is not an API this server knows" % (m, path))

    def header(self, name):
        return self.headers.get(name)

    def authenticate(self, op):
        auth = self.header("authorization")
        if not auth:
            raise OciError(401, "NotAuthenticated", "The required information to complete "
                           "authentication was not provided.")
        params = parse_authorization(auth)
        key = self.state.keys.get(params["keyId"])
        if key is None:
            raise OciError(401, "NotAuthenticated", "unknown keyId %r" % params["keyId"])
        signed = params["headers"].lower().split()
        required = ["(request-target)", "host"]
        if self.command in ("PUT", "POST", "PATCH") and op not in OBJECT_BODY_OPS:
            required += ["content-length", "content-type", "x-content-sha256"]
        missing = [h for h in required if h not in signed]
        if "date" not in signed and "x-date" not in signed:
            missing.insert(0, "date|x-date")
        if missing:
            raise OciError(401, "NotAuthenticated", "the signature must cover %s"
                           % ", ".join(missing))
        verify_signature(key, params["signature"],
                         signing_string(self.command, self.path, signed, self.headers.get_all))
        date_h = "x-date" if "x-date" in signed else "date"
        try:
            when = email.utils.parsedate_to_datetime(self.header(date_h)).timestamp()
        except (TypeError, ValueError):
            raise OciError(401, "NotAuthenticated", "unparsable %s header" % date_h)
        if abs(when - self.state.now(self.bucket_name)) > CLOCK_WINDOW_S:
            raise OciError(401, "NotAuthenticated", "The request date %s is more than 5 minutes "
                           "from the server's clock" % self.header(date_h))
        if "x-content-sha256" in signed:
            self.sha_verify = self.header("x-content-sha256").strip()

    def content_length(self):
        if self.header("transfer-encoding"):
            raise OciError(411, "LengthRequired", "Transfer-Encoding is not supported; send "
                           "Content-Length", close=True)
        v = self.header("content-length")
        if v is None:
            if self.command in ("PUT", "POST"):
                raise OciError(411, "LengthRequired", "Content-Length is required", close=True)
            return 0
        if not v.isdigit():
            raise OciError(400, "InvalidParameter", "bad Content-Length %r" % v, close=True)
        return int(v)

    def read_json(self):
        n = self.content_length()
        if n > JSON_BODY_MAX:
            raise OciError(400, "InvalidParameter", "request body too large", close=True)
        raw = self.rfile.read(n)
        self.body_read = True
        if len(raw) != n:
            raise OciError(400, "InvalidParameter", "request body truncated", close=True)
        if self.sha_verify is not None and b64(hashlib.sha256(raw).digest()) != self.sha_verify:
            raise OciError(401, "NotAuthenticated", "x-content-sha256 does not match the body")
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise OciError(400, "InvalidParameter", "request body is not JSON")
        if not isinstance(body, dict):
            raise OciError(400, "InvalidParameter", "request body must be a JSON object")
        return body

    def no_body(self):
        """Discards the body of a request that should have none."""
        n = self.content_length()
        while n:
            chunk = self.rfile.read(min(CHUNK, n))
            if not chunk:
                break
            n -= len(chunk)
        self.body_read = True

    def stream_body(self, path, want_md5=None, want_crc=None):
        """Streams the request body to path; returns (size, md5 raw, crc32c int). On any
        mismatch or short body the file is removed and OciError raised."""
        n = self.content_length()
        md5, crc, sha = hashlib.md5(), 0, hashlib.sha256() if self.sha_verify else None
        left = n
        try:
            with open(path, "wb") as f:
                while left:
                    chunk = self.rfile.read(min(CHUNK, left))
                    if not chunk:
                        raise OciError(400, "InvalidParameter", "request body shorter than "
                                       "Content-Length", close=True)
                    f.write(chunk)
                    md5.update(chunk)
                    crc = crc32c.crc32c(chunk, crc)
                    if sha:
                        sha.update(chunk)
                    left -= len(chunk)
            self.body_read = True
            if sha and b64(sha.digest()) != self.sha_verify:
                raise OciError(401, "NotAuthenticated", "x-content-sha256 does not match the body")
            if want_md5 is not None and b64(md5.digest()) != want_md5.strip():
                raise OciError(400, "InvalidContentMd5", "The computed MD5 hash (%s) does not "
                               "match the expected MD5 hash (%s)" % (b64(md5.digest()), want_md5))
            if want_crc is not None and crc_b64(crc) != want_crc.strip():
                raise OciError(400, "InvalidContentCrc32c", "The computed CRC32C of the request "
                               "body (%s) does not match the opc-content-crc32c header (%s)"
                               % (crc_b64(crc), want_crc))
        except BaseException:
            unlink_quiet(path)
            raise
        return n, md5.digest(), crc

    def drain(self):
        """Reads and drops an unread request body of up to DRAIN_MAX bytes, so an error
        answer keeps the connection and the client is not reset mid-send."""
        if self.body_read or self.header("transfer-encoding"):
            return
        v = self.header("content-length") or ""
        if v.isdigit() and int(v) <= DRAIN_MAX:
            try:
                self.no_body()
            except OciError:
                pass

    def crc_wanted(self):
        """The opc-content-crc32c to check the body against (None: none sent), and whether
        the server computes and answers one: only with opc-checksum-algorithm: CRC32C, as
        OCI documents (a CRC sent without it would not be checked there, so it is refused
        here)."""
        alg = (self.header("opc-checksum-algorithm") or "").strip().upper() or None
        if alg not in (None, "CRC32C"):
            raise OciError(400, "InvalidParameter", "opc-checksum-algorithm %s is not supported "
                           "by this test server (CRC32C only)" % alg)
        want = self.header("opc-content-crc32c")
        if want is not None and alg != "CRC32C":
            raise OciError(400, "InvalidParameter", "opc-content-crc32c applies only with "
                           "opc-checksum-algorithm: CRC32C")
        return want, alg == "CRC32C"

    def send_json(self, status, body, headers=()):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("opc-request-id", self.request_id)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers:
            self.send_header(k, v)
        self.finish_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def send_empty(self, status, headers=()):
        self.send_response(status)
        self.send_header("opc-request-id", self.request_id)
        for k, v in headers:
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Length", "0")
        self.finish_headers()

    def finish_headers(self):
        cid = self.header("opc-client-request-id")
        if cid:
            self.send_header("opc-client-request-id", cid)
        if not self.body_read:
            # A body we did not read would be taken for the next request.
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def send_error_json(self, e):
        if e.close:
            self.close_connection = True
        body = {"code": e.code, "message": e.message}
        self.log_message("error %d %s: %s", e.status, e.code, e.message)
        try:
            self.drain()
            self.send_json(e.status, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # ---- pre-authenticated requests (oci_par.py) ------------------------------------

    def op_CreatePreauthenticatedRequest(self, ns, b_name):
        body = self.read_json()
        with self.state.lock:
            self.bucket(ns, b_name)
        try:
            par = PARS.create(ns, b_name, body, self.state.now(b_name), iso)
        except oci_par.ParError as e:
            raise OciError(e.status, e.code, e.message)
        self.send_json(200, par)

    def op_GetPreauthenticatedRequest(self, ns, b_name, par_id):
        try:
            self.send_json(200, PARS.get(ns, b_name, par_id))
        except oci_par.ParError as e:
            raise OciError(e.status, e.code, e.message)

    def op_DeletePreauthenticatedRequest(self, ns, b_name, par_id):
        try:
            PARS.delete(ns, b_name, par_id)
        except oci_par.ParError as e:
            raise OciError(e.status, e.code, e.message)
        self.send_empty(204)

    def par_request(self, raw_path):
        """GET/HEAD/PUT through a PAR: no signature, the PAR's checks instead."""
        try:
            ns, b_name, name = PARS.access(raw_path, self.command, self.state.now())
        except oci_par.ParError as e:
            raise OciError(e.status, e.code, e.message)
        self.bucket_name = b_name
        self.state.count(b_name, "requests")
        self.state.count(b_name, "PreauthenticatedRequest")
        op = {"GET": self.op_GetObject, "HEAD": self.op_HeadObject,
              "PUT": self.op_PutObject}[self.command]
        return op(ns, b_name, name)

    # ---- helpers over state ---------------------------------------------------------

    def check_ns(self, ns):
        if ns != NAMESPACE:
            raise OciError(404, "NamespaceNotFound", "namespace %r not found" % ns)

    def bucket(self, ns, name):
        self.check_ns(ns)
        b = self.state.buckets.get(name)
        if b is None:
            raise OciError(404, "BucketNotFound", "Either the bucket named '%s' does not exist "
                           "in the namespace '%s' or you are not authorized to access it"
                           % (name, ns))
        return b

    def limit(self, default=DEFAULT_LIMIT, maximum=1000):
        v = self.query.get("limit")
        if v is None:
            n = default
        elif not v.isdigit() or not 1 <= int(v) <= maximum:
            raise OciError(400, "InvalidParameter", "limit must be 1..%d" % maximum)
        else:
            n = int(v)
        cap = self.state.setting(self.bucket_name, "page_size")
        if cap:
            n = min(n, cap)
        return n

    def page_of(self, items, key):
        """items sorted by key(); the page token is the key of the first item of a page."""
        n = self.limit()
        page = self.query.get("page")
        if page is not None:
            items = [i for i in items if key(i) >= page]
        nxt = key(items[n]) if len(items) > n else None
        return items[:n], ([("opc-next-page", nxt)] if nxt is not None else [])

    def object_headers(self, v):
        h = [("ETag", v.etag), ("last-modified", email.utils.formatdate(v.modified, usegmt=True)),
             ("version-id", v.version_id), ("storage-tier", "Standard")]
        if v.multipart_md5:
            h.append(("opc-multipart-md5", v.multipart_md5))
        else:
            h.append(("Content-MD5", v.md5))
        h.append(("opc-content-crc32c", v.crc32c))
        h.append(("Content-Type", v.headers.get("content-type", "application/octet-stream")))
        for k in CONTENT_HEADERS[1:]:
            if k in v.headers:
                h.append((k, v.headers[k]))
        h += sorted(v.meta.items())
        return h

    def conditions(self, current):
        """if-match / if-none-match for writes against the current version."""
        im, inm = self.header("if-match"), self.header("if-none-match")
        if inm is not None:
            if inm.strip() != "*":
                raise OciError(400, "InvalidParameter", "if-none-match on writes takes only '*'")
            if current is not None:
                raise OciError(409, "IfNoneMatchFailed", "The If-None-Match header is '*' but "
                               "there is an existing entity")
        if im is not None and (current is None or current.etag != im.strip()):
            raise OciError(412, "IfMatchFailed", "The If-Match header value '%s' does not match "
                           "the current entity tag" % im)

    def install(self, b, name, v):
        """Makes v the current version of b/name (caller holds the lock). Without versioning
        (Disabled or Suspended) it replaces the version written that way, keeping those
        from a time versioning was Enabled."""
        versions = b.objects.setdefault(name, [])
        v.replaceable = b.versioning != "Enabled"
        if v.replaceable:
            for old in [x for x in versions if x.replaceable]:
                unlink_quiet(old.path)
                versions.remove(old)
        versions.append(v)

    # ---- namespace and buckets ------------------------------------------------------

    def op_GetNamespace(self):
        self.no_body()
        self.send_json(200, NAMESPACE)

    def op_GetNamespaceMetadata(self, ns):
        self.no_body()
        self.check_ns(ns)
        self.send_json(200, {"namespace": NAMESPACE, "defaultS3CompartmentId": TENANCY,
                             "defaultSwiftCompartmentId": TENANCY})

    def bucket_json(self, b, summary):
        j = {"namespace": NAMESPACE, "name": b.name, "compartmentId": b.compartment,
             "createdBy": USER, "timeCreated": iso(b.created), "etag": b.etag}
        if not summary:
            j.update({"metadata": b.metadata, "publicAccessType": "NoPublicAccess",
                      "storageTier": "Standard", "objectEventsEnabled": False,
                      "freeformTags": {}, "definedTags": {}, "replicationEnabled": False,
                      "isReadOnly": False, "id": b.id, "versioning": b.versioning,
                      "autoTiering": "Disabled"})
            fields = self.query.get("fields", "").split(",")
            if "approximateCount" in fields or "approximateSize" in fields:
                cur = [v for v in (b.current(n) for n in b.objects) if v]
                j["approximateCount"] = len(cur)
                j["approximateSize"] = sum(v.size for v in cur)
        return j

    def op_ListBuckets(self, ns):
        self.no_body()
        self.check_ns(ns)
        comp = self.query.get("compartmentId")
        if not comp:
            raise OciError(400, "MissingParameter", "compartmentId is required")
        with self.state.lock:
            items = sorted((b for b in self.state.buckets.values() if b.compartment == comp),
                           key=lambda b: b.name)
            page, hdr = self.page_of(items, lambda b: b.name)
            body = [self.bucket_json(b, True) for b in page]
        self.send_json(200, body, hdr)

    def op_CreateBucket(self, ns):
        body = self.read_json()
        self.check_ns(ns)
        name, comp = body.get("name"), body.get("compartmentId")
        if not name or not comp:
            raise OciError(400, "MissingParameter", "name and compartmentId are required")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,256}", name):
            raise OciError(400, "InvalidBucketName", "bucket name %r is invalid" % name)
        if comp != TENANCY and not comp.startswith("ocid1.compartment."):
            raise OciError(404, "RelatedResourceNotAuthorizedOrNotFound", "compartment %r not "
                           "found or not authorized" % comp)
        versioning = body.get("versioning", "Disabled")
        if versioning not in ("Enabled", "Disabled"):
            raise OciError(400, "InvalidParameter", "versioning must be Enabled or Disabled")
        meta = body.get("metadata") or {}
        with self.state.lock:
            if name in self.state.buckets:
                raise OciError(409, "BucketAlreadyExists", "Either the bucket '%s' in namespace "
                               "'%s' already exists or you are not authorized to create it"
                               % (name, ns))
            b = Bucket(name, comp, meta, versioning)
            self.state.buckets[name] = b
            j = self.bucket_json(b, False)
        self.send_json(200, j, [("ETag", b.etag), ("Location", "/n/%s/b/%s" % (ns, name))])

    def op_GetBucket(self, ns, name):
        self.no_body()
        with self.state.lock:
            b = self.bucket(ns, name)
            j = self.bucket_json(b, False)
        self.send_json(200, j, [("ETag", b.etag)])

    def op_HeadBucket(self, ns, name):
        self.no_body()
        with self.state.lock:
            b = self.bucket(ns, name)
        self.send_empty(200, [("ETag", b.etag)])

    def op_UpdateBucket(self, ns, name):
        body = self.read_json()
        with self.state.lock:
            b = self.bucket(ns, name)
            if "versioning" in body:
                if body["versioning"] not in ("Enabled", "Suspended"):
                    raise OciError(400, "InvalidParameter", "versioning can be set to Enabled "
                                   "or Suspended")
                b.versioning = body["versioning"]
            if "metadata" in body:
                b.metadata = body["metadata"] or {}
            b.etag = str(uuid.uuid4())
            j = self.bucket_json(b, False)
        self.send_json(200, j, [("ETag", b.etag)])

    def op_DeleteBucket(self, ns, name):
        self.no_body()
        with self.state.lock:
            b = self.bucket(ns, name)
            im = self.header("if-match")
            if im is not None and im.strip() != b.etag:
                raise OciError(412, "IfMatchFailed", "bucket etag does not match If-Match")
            if any(b.objects.values()) or b.uploads:
                raise OciError(409, "BucketNotEmpty", "Bucket named '%s' is not empty. Delete "
                               "all objects first." % name)
            del self.state.buckets[name]
        self.send_empty(204)

    # ---- objects --------------------------------------------------------------------

    def op_PutObject(self, ns, b_name, name):
        with self.state.lock:
            b = self.bucket(ns, b_name)
            self.conditions(b.current(name))
        want_crc, answer_crc = self.crc_wanted()
        v = Version(name)
        path = self.state.new_file()
        v.size, md5, crc = self.stream_body(path, self.header("content-md5"), want_crc)
        v.path, v.md5, v.crc32c = path, b64(md5), crc_b64(crc)
        for k in CONTENT_HEADERS:
            if self.header(k):
                v.headers[k] = self.header(k)
        v.meta = {k.lower(): val for k, val in self.headers.items()
                  if k.lower().startswith("opc-meta-")}
        try:
            with self.state.lock:
                b = self.bucket(ns, b_name)
                self.conditions(b.current(name))   # again: another writer may have won
                self.install(b, name, v)
        except OciError:
            unlink_quiet(path)
            raise
        hdr = [("ETag", v.etag), ("opc-content-md5", v.md5),
               ("last-modified", email.utils.formatdate(v.modified, usegmt=True)),
               ("version-id", v.version_id)]
        if answer_crc:
            hdr.append(("opc-content-crc32c", v.crc32c))
        self.send_empty(200, hdr)

    def find_version(self, ns, b_name, name):
        b = self.bucket(ns, b_name)
        vid = self.query.get("versionId")
        versions = b.objects.get(name) or []
        if vid:
            for v in versions:
                if v.version_id == vid and not v.delete_marker:
                    return v
            raise OciError(404, "ObjectNotFound", "The object '%s' version '%s' was not found "
                           "in the bucket '%s'" % (name, vid, b_name))
        v = b.current(name)
        if v is None:
            raise OciError(404, "ObjectNotFound", "The object '%s' was not found in the bucket "
                           "'%s'" % (name, b_name))
        return v

    def read_conditions(self, v):
        im, inm = self.header("if-match"), self.header("if-none-match")
        if im is not None and im.strip() != v.etag:
            raise OciError(412, "IfMatchFailed", "The If-Match header value '%s' does not match "
                           "the entity tag '%s'" % (im, v.etag))
        return inm is not None and inm.strip() in (v.etag, "*")

    def op_HeadObject(self, ns, b_name, name):
        self.no_body()
        with self.state.lock:
            v = self.find_version(ns, b_name, name)
        if self.read_conditions(v):
            return self.send_empty(304, [("ETag", v.etag)])
        self.send_response(200)
        self.send_header("opc-request-id", self.request_id)
        for k, val in self.object_headers(v):
            self.send_header(k, val)
        self.send_header("Content-Length", str(v.size))
        self.send_header("Accept-Ranges", "bytes")
        self.finish_headers()

    def op_GetObject(self, ns, b_name, name):
        self.no_body()
        with self.state.lock:
            v = self.find_version(ns, b_name, name)
            f = open(v.path, "rb")   # an open file survives a concurrent replace
        with f:
            if self.read_conditions(v):
                return self.send_empty(304, [("ETag", v.etag)])
            start, end, status = 0, v.size - 1, 200
            rng = self.header("range")
            if rng:
                m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", rng)
                if not m or (m.group(1) == "" and m.group(2) == ""):
                    raise OciError(400, "InvalidParameter", "bad Range header %r" % rng)
                if m.group(1) == "":
                    start, end = max(0, v.size - int(m.group(2))), v.size - 1
                else:
                    start = int(m.group(1))
                    end = min(int(m.group(2)), v.size - 1) if m.group(2) else v.size - 1
                if start >= v.size or start > end:
                    raise OciError(416, "InvalidRange", "The requested range %s is not "
                                   "satisfiable for an object of %d bytes" % (rng, v.size))
                status = 206
            n = max(0, end - start + 1)
            self.send_response(status)
            self.send_header("opc-request-id", self.request_id)
            for k, val in self.object_headers(v):
                self.send_header(k, val)
            self.send_header("Content-Length", str(n))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, v.size))
            self.finish_headers()
            f.seek(start)
            while n:
                chunk = f.read(min(CHUNK, n))
                if not chunk:
                    break
                self.wfile.write(chunk)
                n -= len(chunk)

    def op_DeleteObject(self, ns, b_name, name):
        self.no_body()
        with self.state.lock:
            b = self.bucket(ns, b_name)
            versions = b.objects.get(name) or []
            vid = self.query.get("versionId")
            if vid:
                hit = [v for v in versions if v.version_id == vid]
                if not hit:
                    raise OciError(404, "ObjectNotFound", "The object '%s' version '%s' was not "
                                   "found in the bucket '%s'" % (name, vid, b_name))
                v = hit[0]
                im = self.header("if-match")
                if im is not None and im.strip() != v.etag:
                    raise OciError(412, "IfMatchFailed", "If-Match does not match")
                versions.remove(v)
                unlink_quiet(v.path)
                marker = v.delete_marker
            else:
                cur = b.current(name)
                if cur is None:
                    raise OciError(404, "ObjectNotFound", "The object '%s' was not found in the "
                                   "bucket '%s'" % (name, b_name))
                self.conditions(cur)
                if b.versioning == "Disabled":
                    for old in versions:
                        unlink_quiet(old.path)
                    versions.clear()
                    v = cur
                else:
                    v = Version(name)
                    v.delete_marker = True
                    self.install(b, name, v)
                marker = v.delete_marker
            if not versions:
                b.objects.pop(name, None)
        self.send_empty(204, [("last-modified", email.utils.formatdate(time.time(),
                                                                       usegmt=True)),
                              ("version-id", v.version_id),
                              ("is-delete-marker", "true" if marker else "false")])

    def list_entries(self, names, delimiter, prefix):
        """Yields (sort key, kind, value): objects and, with a delimiter, common prefixes,
        honouring start/end/startAfter."""
        start, end = self.query.get("start"), self.query.get("end")
        after = self.query.get("startAfter")
        seen = set()
        for n in names:
            if not n.startswith(prefix):
                continue
            if start is not None and n < start or after is not None and n <= after:
                continue
            if end is not None and n >= end:
                continue
            if delimiter:
                i = n.find(delimiter, len(prefix))
                if i >= 0:
                    p = n[:i + 1]
                    if p not in seen:
                        seen.add(p)
                        yield n, "prefix", p
                    continue
            yield n, "object", n

    def list_params(self):
        delimiter = self.query.get("delimiter")
        if delimiter not in (None, "/"):
            raise OciError(400, "InvalidParameter", "delimiter must be '/'")
        # Case-insensitive, as OCI documents; mapped to the JSON spelling.
        known = {f.lower(): f for f in ("name", "size", "etag", "md5", "timeCreated",
                                        "timeModified", "storageTier", "archivalState")}
        fields = []
        for f in self.query.get("fields", "name").split(","):
            if not f.strip():
                continue
            if f.strip().lower() not in known:
                raise OciError(400, "InvalidParameter", "unknown field %r in fields" % f)
            fields.append(known[f.strip().lower()])
        return self.query.get("prefix", ""), delimiter, fields

    def summary(self, v, fields, versions=False):
        j = {"name": v.name}
        for f in fields:
            if f == "size" and not v.delete_marker:
                j["size"] = v.size
            elif f == "etag":
                j["etag"] = v.etag
            elif f == "md5" and not v.delete_marker:
                j["md5"] = v.list_md5()
            elif f == "timeCreated":
                j["timeCreated"] = iso(v.created)
            elif f == "timeModified":
                j["timeModified"] = iso(v.modified)
            elif f == "storageTier":
                j["storageTier"] = "Standard"
        if versions:
            j.update({"versionId": v.version_id, "isDeleteMarker": v.delete_marker,
                      "timeModified": iso(v.modified)})
        return j

    def op_ListObjects(self, ns, b_name):
        self.no_body()
        prefix, delimiter, fields = self.list_params()
        n = self.limit()
        objects, prefixes, nxt = [], [], None
        with self.state.lock:
            b = self.bucket(ns, b_name)
            names = sorted(k for k in b.objects if b.current(k))
            count = 0
            for key, kind, val in self.list_entries(names, delimiter, prefix):
                if count == n:
                    nxt = key
                    break
                count += 1
                if kind == "prefix":
                    prefixes.append(val)
                else:
                    objects.append(self.summary(b.current(val), fields))
        body = {"objects": objects}
        if delimiter:
            body["prefixes"] = prefixes
        if nxt is not None:
            body["nextStartWith"] = nxt
        self.send_json(200, body)

    def op_ListObjectVersions(self, ns, b_name):
        self.no_body()
        prefix, delimiter, fields = self.list_params()
        n = self.limit()
        items, prefixes, nxt = [], [], None
        # The page token: base64url of the JSON [name, versionId] of the first item
        # of the page (a header value: no raw newline or byte of a name in it).
        page = self.query.get("page")
        with self.state.lock:
            b = self.bucket(ns, b_name)
            flat = []
            for key, kind, val in self.list_entries(sorted(b.objects), delimiter, prefix):
                if kind == "prefix":
                    flat.append((key, "", "prefix", val))
                else:
                    for v in reversed(b.objects[val]):    # newest first
                        flat.append((key, v.version_id, "object", v))
            if page is not None:
                try:
                    pname, pvid = json.loads(base64.urlsafe_b64decode(page.encode()))
                except (ValueError, TypeError):
                    raise OciError(400, "InvalidParameter", "page: not a token this server gave")
                i = next((i for i, e in enumerate(flat) if (e[0], e[1]) == (pname, pvid)), None)
                flat = flat[i:] if i is not None else [e for e in flat if e[0] > pname]
            for e in flat[:n]:
                if e[2] == "prefix":
                    prefixes.append(e[3])
                else:
                    items.append(self.summary(e[3], fields, versions=True))
            if len(flat) > n:
                nxt = base64.urlsafe_b64encode(
                    json.dumps([flat[n][0], flat[n][1]]).encode()).decode()
        body = {"items": items}
        if delimiter:
            body["prefixes"] = prefixes
        self.send_json(200, body, [("opc-next-page", nxt)] if nxt else [])

    # ---- multipart ------------------------------------------------------------------

    def upload_json(self, u):
        return {"namespace": NAMESPACE, "bucket": u.bucket, "object": u.object,
                "uploadId": u.id, "timeCreated": iso(u.created), "storageTier": u.storage_tier}

    def op_CreateMultipartUpload(self, ns, b_name):
        body = self.read_json()
        obj = body.get("object")
        if not obj:
            raise OciError(400, "MissingParameter", "object is required")
        meta = body.get("metadata") or {}
        bad = [k for k in meta if not k.lower().startswith("opc-meta-")]
        if bad:
            raise OciError(400, "InvalidParameter", "metadata keys must be opc-meta-*: %s"
                           % ", ".join(bad))
        headers = {}
        for k, jk in (("content-type", "contentType"), ("content-language", "contentLanguage"),
                      ("content-encoding", "contentEncoding"),
                      ("content-disposition", "contentDisposition"),
                      ("cache-control", "cacheControl")):
            if body.get(jk):
                headers[k] = body[jk]
        self.crc_wanted()   # the algorithm, checked as on a PUT
        with self.state.lock:
            b = self.bucket(ns, b_name)
            self.conditions(b.current(obj))
            u = Upload(b_name, obj, headers, {k.lower(): v for k, v in meta.items()},
                       body.get("storageTier", "Standard"))
            u.if_none_match = self.header("if-none-match")
            u.if_match = self.header("if-match")
            b.uploads[u.id] = u
            j = self.upload_json(u)
        self.send_json(200, j, [("Location", "/n/%s/b/%s/u/%s" % (ns, b_name,
                                                                   urllib.parse.quote(obj, "")))])

    def upload(self, ns, b_name, name):
        b = self.bucket(ns, b_name)
        uid = self.query.get("uploadId")
        if not uid:
            raise OciError(400, "MissingParameter", "uploadId is required")
        u = b.uploads.get(uid)
        if u is None or u.object != name:
            raise OciError(404, "NoSuchUpload", "The upload %s for object '%s' in bucket '%s' "
                           "does not exist" % (uid, name, b_name))
        return b, u

    def op_UploadPart(self, ns, b_name, name):
        with self.state.lock:
            self.upload(ns, b_name, name)
        pn = self.query.get("uploadPartNum", "")
        if not pn.isdigit() or not 1 <= int(pn) <= 10000:
            raise OciError(400, "InvalidParameter", "uploadPartNum must be 1..10000")
        want_crc, answer_crc = self.crc_wanted()
        path = self.state.new_file()
        size, md5, crc = self.stream_body(path, self.header("content-md5"), want_crc)
        part = {"path": path, "size": size, "md5": md5, "crc": crc, "etag": str(uuid.uuid4())}
        try:
            with self.state.lock:
                _, u = self.upload(ns, b_name, name)
                old = u.parts.get(int(pn))
                u.parts[int(pn)] = part
        except OciError:
            unlink_quiet(path)
            raise
        if old:
            unlink_quiet(old["path"])
        hdr = [("ETag", part["etag"]), ("opc-content-md5", b64(md5))]
        if answer_crc:
            hdr.append(("opc-content-crc32c", crc_b64(crc)))
        self.send_empty(200, hdr)

    def op_CommitMultipartUpload(self, ns, b_name, name):
        body = self.read_json()
        commit = body.get("partsToCommit")
        if not isinstance(commit, list) or not commit:
            raise OciError(400, "MissingParameter", "partsToCommit is required")
        exclude = set(body.get("partsToExclude") or [])
        with self.state.lock:
            b, u = self.upload(ns, b_name, name)
            parts, seen = [], set()
            for p in commit:
                num, etag = p.get("partNum"), p.get("etag")
                part = u.parts.get(num)
                if part is None or part["etag"] != etag:
                    raise OciError(400, "InvalidParameter", "part %r with etag %r was not "
                                   "uploaded to %s" % (num, etag, u.id))
                if num in seen:
                    raise OciError(400, "InvalidParameter", "part %r listed twice" % num)
                seen.add(num)
                parts.append((num, part))
            missing = set(u.parts) - seen - exclude
            if missing:
                raise OciError(400, "InvalidParameter", "uploaded parts %s are neither committed "
                               "nor excluded" % sorted(missing))
            parts.sort()
            cur = b.current(name)
            self.conditions(cur)
            if u.if_none_match is not None and cur is not None:
                raise OciError(409, "IfNoneMatchFailed", "an object '%s' exists" % name)
            if u.if_match is not None and (cur is None or cur.etag != u.if_match.strip()):
                raise OciError(412, "IfMatchFailed", "If-Match given at upload creation no "
                               "longer matches")
            del b.uploads[u.id]
        # Concatenate outside the lock; the upload is ours alone now.
        v = Version(name)
        v.path = self.state.new_file()
        crc, size = 0, 0
        with open(v.path, "wb") as out:
            for _, part in parts:
                with open(part["path"], "rb") as f:
                    while True:
                        chunk = f.read(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        crc = crc32c.crc32c(chunk, crc)
                size += part["size"]
        mm = hashlib.md5(b"".join(p["md5"] for _, p in parts)).digest()
        v.size, v.crc32c = size, crc_b64(crc)
        v.multipart_md5 = "%s-%d" % (b64(mm), len(parts))
        v.headers, v.meta = u.headers, u.meta
        for part in u.parts.values():
            unlink_quiet(part["path"])
        with self.state.lock:
            b = self.state.buckets.get(b_name)
            if b is None:
                unlink_quiet(v.path)
                raise OciError(404, "BucketNotFound", "bucket '%s' vanished" % b_name)
            self.install(b, name, v)
        self.send_empty(200, [("ETag", v.etag), ("opc-multipart-md5", v.multipart_md5),
                              ("opc-content-crc32c", v.crc32c),
                              ("last-modified", email.utils.formatdate(v.modified, usegmt=True)),
                              ("version-id", v.version_id)])

    def op_AbortMultipartUpload(self, ns, b_name, name):
        self.no_body()
        with self.state.lock:
            b, u = self.upload(ns, b_name, name)
            del b.uploads[u.id]
        for part in u.parts.values():
            unlink_quiet(part["path"])
        self.send_empty(204)

    def op_ListMultipartUploads(self, ns, b_name):
        self.no_body()
        with self.state.lock:
            b = self.bucket(ns, b_name)
            # The page token goes into a header: the object name quoted
            # (no control bytes), then the id after a space, which sorts
            # before every byte of a quoted name.
            token = lambda u: urllib.parse.quote(u.object, safe="") + " " + u.id
            items = sorted(b.uploads.values(), key=token)
            page, hdr = self.page_of(items, token)
            body = [self.upload_json(u) for u in page]
        self.send_json(200, body, hdr)

    def op_ListMultipartUploadParts(self, ns, b_name, name):
        self.no_body()
        with self.state.lock:
            _, u = self.upload(ns, b_name, name)
            items = sorted(u.parts.items())
            page, hdr = self.page_of(items, lambda p: "%05d" % p[0])
            body = [{"partNumber": num, "etag": p["etag"], "md5": b64(p["md5"]),
                     "size": p["size"]} for num, p in page]
        self.send_json(200, body, hdr)

    # ---- copy and work requests -----------------------------------------------------

    def op_CopyObject(self, ns, b_name):
        body = self.read_json()
        for k in ("sourceObjectName", "destinationRegion", "destinationNamespace",
                  "destinationBucket", "destinationObjectName"):
            if not body.get(k):
                raise OciError(400, "MissingParameter", "%s is required" % k)
        if body["destinationRegion"] != REGION:
            raise OciError(400, "InvalidParameter", "this test server is region %s only; "
                           "destinationRegion %r" % (REGION, body["destinationRegion"]))
        meta = body.get("destinationObjectMetadata")
        # OCI's reference: "Keys must be in opc-meta-* format"; CopyObjectDetails has no
        # field for the content headers, which the copy keeps from its source.
        if meta is not None and (not isinstance(meta, dict) or any(
                not isinstance(k, str) or not k.lower().startswith("opc-meta-") or
                not isinstance(x, str) for k, x in meta.items())):
            raise OciError(400, "InvalidParameter", "destinationObjectMetadata: keys must be "
                           "in opc-meta-* format, values strings")
        with self.state.lock:
            src_b = self.bucket(ns, b_name)
            saved = self.query
            self.query = {"versionId": body.get("sourceVersionId")} \
                if body.get("sourceVersionId") else {}
            try:
                src = self.find_version(ns, b_name, body["sourceObjectName"])
            finally:
                self.query = saved
            if body.get("sourceObjectIfMatchETag") not in (None, src.etag):
                raise OciError(412, "IfMatchFailed", "sourceObjectIfMatchETag does not match")
            self.bucket(body["destinationNamespace"], body["destinationBucket"])
            f = open(src.path, "rb")   # the bytes as of now, whatever happens to src later
            wr = WorkRequest(b_name, src_b.compartment, [
                {"actionType": "READ", "entityType": "object", "identifier":
                 "%s/%s/%s" % (ns, b_name, src.name), "metadata": {}},
                {"actionType": "WRITTEN", "entityType": "object", "identifier":
                 "%s/%s/%s" % (body["destinationNamespace"], body["destinationBucket"],
                               body["destinationObjectName"]), "metadata": {}}])
            self.state.work_requests[wr.id] = wr
        threading.Thread(target=self.copy_worker, args=(wr, f, src, body, meta),
                         daemon=True).start()
        self.send_empty(202, [("opc-work-request-id", wr.id)])

    def copy_worker(self, wr, f, src, body, meta):
        st = self.state
        time.sleep(st.setting(wr.bucket, "work_request_delay"))
        with st.lock:
            wr.status, wr.started = "IN_PROGRESS", time.time()
        v = Version(body["destinationObjectName"])
        v.path = st.new_file()
        try:
            with f, open(v.path, "wb") as out:
                shutil.copyfileobj(f, out, CHUNK)
            v.size, v.md5, v.multipart_md5, v.crc32c = src.size, src.md5, src.multipart_md5, \
                src.crc32c
            # Metadata given replaces the source's; none (or {}) inherits it.
            v.meta = {k.lower(): x for k, x in meta.items()} if meta else dict(src.meta)
            v.headers = dict(src.headers)
            with st.lock:
                b = st.buckets.get(body["destinationBucket"])
                if b is None:
                    raise OciError(404, "BucketNotFound", "destination bucket vanished")
                cur = b.current(v.name)
                im, inm = body.get("destinationObjectIfMatchETag"), \
                    body.get("destinationObjectIfNoneMatchETag")
                if inm == "*" and cur is not None:
                    raise OciError(409, "IfNoneMatchFailed", "destination object exists")
                if im is not None and (cur is None or cur.etag != im):
                    raise OciError(412, "IfMatchFailed", "destination etag does not match")
                self.install(b, v.name, v)
                wr.status = "COMPLETED"
        except Exception as e:   # the request must end FAILED, whatever went wrong
            unlink_quiet(v.path)
            with st.lock:
                wr.status = "FAILED"
                wr.error = {"code": getattr(e, "code", "InternalServerError"),
                            "message": str(e), "timestamp": iso(time.time())}
        with st.lock:
            wr.finished = time.time()

    def op_GetWorkRequest(self, wid):
        self.no_body()
        with self.state.lock:
            wr = self.state.work_requests.get(wid)
            if wr is None:
                raise OciError(404, "NotFound", "work request %s not found" % wid)
            wr.polls += 1
            # The first poll always sees the request still ACCEPTED, as a real copy would.
            status = "ACCEPTED" if wr.polls == 1 else wr.status
            done = status in ("COMPLETED", "FAILED")
            j = {"operationType": "COPY_OBJECT", "status": status, "id": wr.id,
                 "compartmentId": wr.compartment, "resources": wr.resources,
                 "percentComplete": 100.0 if done else 0.0, "timeAccepted": iso(wr.accepted)}
            if wr.started and status != "ACCEPTED":
                j["timeStarted"] = iso(wr.started)
            if done:
                j["timeFinished"] = iso(wr.finished or time.time())
        self.send_json(200, j, [("retry-after", "1")] if not done else [])

    def op_ListWorkRequestErrors(self, wid):
        self.no_body()
        with self.state.lock:
            wr = self.state.work_requests.get(wid)
            if wr is None:
                raise OciError(404, "NotFound", "work request %s not found" % wid)
            body = [wr.error] if wr.error and wr.polls > 1 else []
        self.send_json(200, body)

    # ---- test hooks (no auth) -------------------------------------------------------

    def test_hook(self, path):
        st = self.state
        bucket = self.query.get("bucket", "")
        if path == "/_test/config" and self.command in ("PUT", "POST"):
            n = self.content_length()
            raw = self.rfile.read(n)
            self.body_read = True
            try:
                cfg = json.loads(raw or b"{}")
                new = {k: (max(0, int(cfg[k])) if k == "page_size" else float(cfg[k]))
                       for k in cfg if k in HOOK_DEFAULTS}
                if len(new) != len(cfg):
                    raise ValueError("known settings: %s" % ", ".join(HOOK_DEFAULTS))
            except (ValueError, TypeError, AttributeError) as e:
                raise OciError(400, "InvalidParameter", "bad hook config: %s" % e)
            with st.lock:
                st.settings.setdefault(bucket, {}).update(new)
        elif path == "/_test/config" and self.command == "DELETE":
            self.no_body()
            with st.lock:
                if bucket:
                    st.settings.pop(bucket, None)
                else:
                    st.settings = {"": dict(HOOK_DEFAULTS)}
            return self.send_empty(204)
        elif path == "/_test/counters" and self.command == "DELETE":
            self.no_body()
            with st.lock:
                if bucket:
                    st.counters.pop(bucket, None)
                else:
                    st.counters = {}
            return self.send_empty(204)
        elif path in ("/_test/config", "/_test/counters") and self.command == "GET":
            self.no_body()
        else:
            raise OciError(404, "NotFound", "no such test hook: %s %s" % (self.command, path))
        with st.lock:
            if path == "/_test/counters":
                body = dict(st.counters.get(bucket, {}))
            else:
                body = dict(st.settings[""])
                body.update(st.settings.get(bucket, {}))
        self.send_json(200, body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128        # clients open many connections at once


def write_private(path, data):
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def make_credentials(root):
    """Writes a fresh RSA-2048 key pair and an ~/.oci/config-style file; returns
    (keyId, public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key()
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    fp = ":".join("%02x" % c for c in hashlib.md5(der).digest())
    # key.pem: PKCS#8, as the OCI console's "Generate API key pair" downloads it;
    # key-enc.pem: traditional PKCS#1 with DEK-Info, as `openssl genrsa -aes256` writes it.
    write_private(os.path.join(root, "key.pem"), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    write_private(os.path.join(root, "key-enc.pem"), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    write_private(os.path.join(root, "passphrase"), (PASSPHRASE + "\n").encode())
    with open(os.path.join(root, "public.pem"), "wb") as f:
        f.write(pub.public_bytes(serialization.Encoding.PEM,
                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    common = "user=%s\nfingerprint=%s\ntenancy=%s\nregion=%s\n" % (USER, fp, TENANCY, REGION)
    config = ("[DEFAULT]\n%skey_file=key.pem\n\n"
              "[DATAFLOW]\n%skey_file=key.pem\n\n"
              "[ENCRYPTED]\n%skey_file=key-enc.pem\npass_phrase=%s\n"
              % (common, common, common, PASSPHRASE))
    write_private(os.path.join(root, "config"), config.encode())
    return "%s/%s/%s" % (TENANCY, USER, fp), pub


def main():
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        sys.exit("usage: oci_server.py STATE_DIR PORT")
    root = os.path.abspath(sys.argv[1])
    key_id, pub = make_credentials(root)
    Handler.state = State(root, key_id, pub)
    srv = Server(("127.0.0.1", int(sys.argv[2])), Handler)
    print("oci test server on http://127.0.0.1:%s keyId %s" % (sys.argv[2], key_id), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
