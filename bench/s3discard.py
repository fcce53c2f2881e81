#!/usr/bin/env python3
"""s3discard.py -- an S3-compatible server that stores nothing, so that a
client's own cost can be measured (bench/clients.sh). Not a test server:
it accepts any credentials and any signature.

    python3 bench/s3discard.py [--port P] [--port-file F] [--warm SIZE,...]

Prints the port on stdout (and into F), serves until killed. Path-style
only (http://127.0.0.1:P/BUCKET/KEY); every bucket exists.

Uploads (PutObject, UploadPart) read the body to the end and discard it,
decoding aws-chunked (STREAMING-*-PAYLOAD, with or without trailers) and
HTTP chunked framing, and answer with the ETag a real S3 gives: the MD5 of
the decoded body (hashlib, OpenSSL: ~1.4 CPU s/GiB here, on the server's
own thread, so one stream is capped near 700 MB/s by it). A body whose
length differs from Content-Length / x-amz-decoded-content-length is
refused (400 IncompleteBody). Checksums as AWS S3 treats them: the
CRC-32C of every body is taken (ISA-L's crc32_iscsi through ctypes, the
library xtstore uses: ~0.02 CPU s/GiB); an x-amz-checksum-crc32c sent as a
header or as an aws-chunked trailer is checked against the decoded body
and a mismatch refused with AWS's 400 BadDigest (so is a wrong
Content-MD5), else echoed in the PutObject / UploadPart response.
CreateMultipartUpload with x-amz-checksum-algorithm CRC32C declares the
upload's checksum: CompleteMultipartUpload then answers the object's
CRC-32C, FULL_OBJECT (combined from the parts' CRCs) when
x-amz-checksum-type says so, else COMPOSITE ("-N"), checks a
x-amz-checksum-crc32c sent with it (BadDigest) and each part's
<ChecksumCRC32C> (InvalidPart). CompleteMultipartUpload answers the
multipart ETag (MD5 of the parts' MD5s, "-N"). What was uploaded is
remembered as key -> (size, ETag, CRC-32C if one was declared) only, for
HeadObject; reading such a key back is NoSuchKey (the bytes are gone).

Downloads are generated. A key whose last path segment contains
`size-N` (e.g. `big/size-1073741824`) is an object of N bytes; a segment
`N-keys` or `N-keys-of-S` (e.g. `1000000-keys/`, `2000-keys-of-4096/`)
holds N objects of S bytes (default 0) named by 8 digits
(`2000-keys-of-4096/00000000` ... `00001999`), listed by ListObjectsV2
and V1 (1000 a page, any prefix, delimiter, start-after, continuation)
and readable by GET. Byte i of every generated object is byte i mod 1 MiB
of one pseudo-random 1 MiB pattern (seed 9), so bodies do not compress
and any range is two memoryview slices. GET honours Range (bytes=A-B,
A-, -N; 206/416); the ETag of a generated object is the MD5 of its bytes,
computed once per size (1.4 s for 1 GiB: --warm SIZE,... computes it at
start-up, before anything is timed), and so is its CRC-32C, which HEAD and
a whole-object GET report (x-amz-checksum-crc32c, FULL_OBJECT) when asked
with x-amz-checksum-mode: ENABLED, as S3 does for an object uploaded with
one (a ranged GET reports none).

Also: HeadBucket, CreateBucket, DeleteBucket, GetBucketLocation,
ListBuckets, DeleteObject(s), ListParts, AbortMultipartUpload,
ListMultipartUploads (empty). Anything else is 501 NotImplemented.
"""
import argparse
import base64
import ctypes
import hashlib
import os
import random
import re
import socket
import socketserver
import sys
import threading
from email.utils import formatdate
from urllib.parse import parse_qsl, quote, unquote

PATTERN_SIZE = 1 << 20
PATTERN = random.Random(9).randbytes(PATTERN_SIZE)
DOUBLE = memoryview(PATTERN + PATTERN)
READ_CHUNK = 1 << 20
PAGE = 1000
LAST_MODIFIED = "Wed, 02 Dec 2026 00:00:00 GMT"
LAST_MODIFIED_ISO = "2026-12-02T00:00:00.000Z"
SIZE_RE = re.compile(r"size-(\d+)")
KEYS_RE = re.compile(r"^(\d+)-keys(?:-of-(\d+))?$")
DIGITS = 8
REMEMBER = 200000

lock = threading.Lock()
md5_of_size = {}        # size -> hex MD5 of the generated object
crc_of_size = {}        # size -> CRC-32C of the generated object
uploaded = {}           # (bucket, key) -> (size, etag, checksum headers)
uploads = {}            # upload id -> Upload
next_upload = [0]


def load_isal():
    """ISA-L's crc32_iscsi (xtstore's own CRC-32C): hardware speed, and a
    ctypes call releases the GIL. The crc32c module Debian ships is a
    software one here, 25 times the CPU, taken from the cores the client
    being measured runs on."""
    try:
        lib = ctypes.CDLL("libisal.so.2")
    except OSError as e:
        sys.exit(f"s3discard: cannot load ISA-L ({e}): apt-get install "
                 "libisal2 (scripts/setup.sh installs it with libisal-dev)")
    fn = lib.crc32_iscsi
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    fn.restype = ctypes.c_uint32
    return fn


ISCSI = load_isal()
ZEROS = bytes(READ_CHUNK)
PATTERN_ADDR = ctypes.cast(ctypes.c_char_p(PATTERN), ctypes.c_void_p).value
ZEROS_ADDR = ctypes.cast(ctypes.c_char_p(ZEROS), ctypes.c_void_p).value


def crc32c_at(addr, n, crc=0):
    """The standard CRC-32C (crc(0, "123456789") = 0xe3069283) of the n
    bytes at addr, continuing crc (crc32_iscsi neither pre- nor
    post-inverts)."""
    return ISCSI(addr, n, crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def crc32c_bytes(b):
    return crc32c_at(ctypes.cast(ctypes.c_char_p(b), ctypes.c_void_p).value,
                     len(b))


def crc32c_combine(crc1, crc2, len2):
    """The CRC-32C of A+B from crc1 = CRC(A), crc2 = CRC(B), len2 = |B|:
    continuing a CRC over len2 zero bytes is linear in the CRC it starts
    from, so CRC(A+B) = CRC(zeros, from crc1) ^ CRC(zeros, from 0) ^ crc2."""
    a, z = crc1, 0
    while len2:
        n = min(len2, READ_CHUNK)
        a = crc32c_at(ZEROS_ADDR, n, a)
        z = crc32c_at(ZEROS_ADDR, n, z)
        len2 -= n
    return a ^ z ^ crc2


def b64_crc(crc):
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


def parse_crc(value, what):
    """A base64 CRC-32C as sent, or 400 InvalidRequest as AWS says it."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 4:
        raise BadRequest(400, "InvalidRequest",
                         f"Value for x-amz-checksum-crc32c {what} is "
                         "invalid.")
    return int.from_bytes(raw, "big")


class Upload:
    """A multipart upload: its parts (number -> (size, MD5 digest,
    CRC-32C)) and the checksum type CreateMultipartUpload declared
    (None, "FULL_OBJECT" or "COMPOSITE")."""
    def __init__(self, crc_type):
        self.parts = {}
        self.crc_type = crc_type


def generated_md5(size):
    """The MD5 of the generated object of `size` bytes, computed once."""
    with lock:
        if size in md5_of_size:
            return md5_of_size[size]
    h = hashlib.md5()
    whole, rest = divmod(size, PATTERN_SIZE)
    for _ in range(whole):
        h.update(PATTERN)
    h.update(PATTERN[:rest])
    with lock:
        md5_of_size[size] = h.hexdigest()
    return md5_of_size[size]


def generated_crc(size):
    """The CRC-32C of the generated object of `size` bytes, computed
    once."""
    with lock:
        if size in crc_of_size:
            return crc_of_size[size]
    crc = 0
    whole, rest = divmod(size, PATTERN_SIZE)
    for _ in range(whole):
        crc = crc32c_at(PATTERN_ADDR, PATTERN_SIZE, crc)
    crc = crc32c_at(PATTERN_ADDR, rest, crc)
    with lock:
        crc_of_size[size] = crc
    return crc


def key_set(key_or_prefix):
    """(base, count, size) of the synthetic key set a key or prefix is in:
    base is everything up to and including the `N-keys[-of-S]/` segment."""
    parts = key_or_prefix.split("/")
    for i, seg in enumerate(parts[:-1]):
        m = KEYS_RE.match(seg)
        if m:
            return ("/".join(parts[:i + 1]) + "/", int(m.group(1)),
                    int(m.group(2) or 0))
    return None


def object_size(bucket, key):
    """The size of an object that exists, else None."""
    ks = key_set(key)
    if ks:
        base, count, size = ks
        rest = key[len(base):]
        if len(rest) == DIGITS and rest.isdigit() and int(rest) < count:
            return size
        return None
    m = None
    for m in SIZE_RE.finditer(key.rsplit("/", 1)[-1]):
        pass
    return int(m.group(1)) if m else None


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


class BadRequest(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.request.makefile("rb", buffering=1 << 16)
        self.buf = bytearray(READ_CHUNK)
        self.view = memoryview(self.buf)
        self.cbuf = (ctypes.c_char * READ_CHUNK).from_buffer(self.buf)
        self.addr = ctypes.addressof(self.cbuf)

    def handle(self):
        try:
            while self.one_request():
                pass
        except (ConnectionError, BrokenPipeError, TimeoutError):
            pass

    # ---- HTTP ----------------------------------------------------------
    def one_request(self):
        line = self.rfile.readline(65537)
        if not line:
            return False
        if line in (b"\r\n", b"\n"):
            return True
        try:
            method, target, _ = line.decode("latin-1").split(" ", 2)
        except ValueError:
            return False
        headers = {}
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        self.method, self.headers = method, headers
        self.keep = headers.get("connection", "").lower() != "close"
        self.body_left = True
        path, _, query = target.partition("?")
        self.q = dict(parse_qsl(query, keep_blank_values=True))
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        try:
            self.route(method, bucket, key)
        except BadRequest as e:
            self.error(e.status, e.code, e.message)
        if self.body_left:      # a body nobody read: read it, keep in sync
            try:
                self.consume(hashlib.md5)
            except BadRequest:
                return False
        return self.keep

    def send(self, status, headers=(), body=b"", length=None):
        reason = {200: "OK", 204: "No Content", 206: "Partial Content",
                  400: "Bad Request", 404: "Not Found",
                  416: "Range Not Satisfiable",
                  501: "Not Implemented"}.get(status, "X")
        out = [f"HTTP/1.1 {status} {reason}",
               f"Date: {formatdate(usegmt=True)}",
               "x-amz-request-id: 0", "Server: s3discard"]
        out += [f"{k}: {v}" for k, v in headers]
        if length is None:
            length = len(body)
        out.append(f"Content-Length: {length}")
        if not self.keep:
            out.append("Connection: close")
        head = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
        if self.method == "HEAD":
            body = b""
        if len(body) < 65536:
            self.request.sendall(head + body)
        else:
            self.request.sendall(head)
            self.request.sendall(body)

    def xml(self, status, body, headers=()):
        self.send(status, [("Content-Type", "application/xml"), *headers],
                  ('<?xml version="1.0" encoding="UTF-8"?>\n' + body)
                  .encode("utf-8"))

    def error(self, status, code, message):
        self.xml(status, f"<Error><Code>{code}</Code><Message>"
                 f"{xml_escape(message)}</Message><RequestId>0</RequestId>"
                 "</Error>")

    def read_exact(self, n, md, crc):
        """Read n body bytes into the scratch buffer, feeding `md`; the
        CRC-32C continued from crc."""
        while n:
            got = self.rfile.readinto(self.view[:min(n, READ_CHUNK)])
            if not got:
                raise BadRequest(400, "IncompleteBody",
                                 "the body ended early")
            md.update(self.view[:got])
            crc = crc32c_at(self.addr, got, crc)
            n -= got
        return crc

    def read_line(self):
        line = self.rfile.readline(4096)
        if not line.endswith(b"\n"):
            raise BadRequest(400, "IncompleteBody", "bad chunk framing")
        return line

    def consume(self, new_hash):
        """Read the request body to its end, decoded; its (size, digest,
        CRC-32C, {trailer name: value}). Answers 100-continue first when
        the client waits for it."""
        self.body_left = False
        h = self.headers
        if h.get("expect", "").lower() == "100-continue":
            self.request.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        md = new_hash()
        sha = h.get("x-amz-content-sha256", "")
        chunked = (sha.startswith("STREAMING-") or
                   "aws-chunked" in h.get("content-encoding", "") or
                   "chunked" in h.get("transfer-encoding", "").lower())
        if not chunked:
            n = int(h.get("content-length", "0"))
            return n, md, self.read_exact(n, md, 0), {}
        # hex-size[;chunk-signature=...]\r\n DATA \r\n ... 0;...\r\n
        # [trailer: value\r\n ...] \r\n
        total, crc, trailers = 0, 0, {}
        while True:
            size = int(self.read_line().split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            crc = self.read_exact(size, md, crc)
            total += size
            self.read_line()
        while True:
            line = self.read_line().strip()
            if not line:
                break
            k, _, v = line.decode("latin-1").partition(":")
            trailers[k.strip().lower()] = v.strip()
        want = h.get("x-amz-decoded-content-length")
        if want is not None and int(want) != total:
            raise BadRequest(400, "IncompleteBody",
                             f"decoded {total} bytes, header says {want}")
        return total, md, crc, trailers

    def checked_body(self):
        """consume() of a PutObject / UploadPart body, checked as S3 does:
        a Content-MD5 and an x-amz-checksum-crc32c (header or trailer)
        that do not match the decoded body are 400 BadDigest. (size, MD5
        digest, CRC-32C, the CRC-32C sent or None)."""
        size, md, crc, trailers = self.consume(hashlib.md5)
        content_md5 = self.headers.get("content-md5")
        if content_md5 is not None and \
                content_md5 != base64.b64encode(md.digest()).decode():
            raise BadRequest(400, "BadDigest", "The Content-MD5 you "
                             "specified did not match what we received.")
        sent = self.headers.get("x-amz-checksum-crc32c")
        what = "header"
        if sent is None:
            sent, what = trailers.get("x-amz-checksum-crc32c"), "trailer"
        if sent is None:
            return size, md.digest(), crc, None
        if parse_crc(sent, what) != crc:
            raise BadRequest(400, "BadDigest", "The CRC32C you specified "
                             "did not match the calculated checksum.")
        return size, md.digest(), crc, crc

    # ---- S3 ------------------------------------------------------------
    def route(self, method, bucket, key):
        q = self.q
        if not bucket:
            if method == "GET":
                return self.xml(200, "<ListAllMyBucketsResult><Owner><ID>0"
                                "</ID></Owner><Buckets><Bucket><Name>bench"
                                "</Name><CreationDate>" + LAST_MODIFIED_ISO +
                                "</CreationDate></Bucket></Buckets>"
                                "</ListAllMyBucketsResult>")
        elif not key:
            if method in ("HEAD", "PUT"):
                return self.send(200)
            if method == "DELETE":
                return self.send(204)
            if method == "GET" and "location" in q:
                return self.xml(200, "<LocationConstraint/>")
            if method == "GET" and "uploads" in q:
                return self.xml(200, "<ListMultipartUploadsResult><Bucket>"
                                f"{bucket}</Bucket><IsTruncated>false"
                                "</IsTruncated></ListMultipartUploadsResult>")
            if method == "GET" and not (set(q) - {
                    "list-type", "prefix", "delimiter", "max-keys",
                    "continuation-token", "start-after", "marker",
                    "encoding-type", "fetch-owner"}):
                return self.list_objects(bucket)
            if method == "POST" and "delete" in q:
                return self.delete_objects()
        else:
            if "x-amz-copy-source" in self.headers:
                pass    # CopyObject, UploadPartCopy: 501 below
            elif method == "PUT" and "uploadId" in q:
                return self.upload_part(q["uploadId"], int(q["partNumber"]))
            elif method == "PUT":
                return self.put_object(bucket, key)
            elif method in ("GET", "HEAD") and "uploadId" in q:
                return self.list_parts(bucket, key, q["uploadId"])
            elif method in ("GET", "HEAD") and not (set(q) - {
                    "versionId", "partNumber"}):
                return self.get_object(bucket, key)
            elif method == "POST" and "uploads" in q:
                return self.create_upload(bucket, key)
            elif method == "POST" and "uploadId" in q:
                return self.complete_upload(bucket, key, q["uploadId"])
            elif method == "DELETE" and "uploadId" in q:
                with lock:
                    uploads.pop(q["uploadId"], None)
                return self.send(204)
            elif method == "DELETE":
                with lock:
                    uploaded.pop((bucket, key), None)
                return self.send(204)
        raise BadRequest(501, "NotImplemented",
                         f"s3discard does not do {method} {bucket}/{key} "
                         f"{sorted(q)}")

    def remember(self, bucket, key, size, etag, cksum):
        """cksum: the x-amz-checksum-* headers a HEAD with the checksum
        mode reports (empty: none was declared)."""
        with lock:
            uploaded.pop((bucket, key), None)
            uploaded[(bucket, key)] = (size, etag, cksum)
            if len(uploaded) > REMEMBER:
                del uploaded[next(iter(uploaded))]

    def put_object(self, bucket, key):
        size, digest, _, sent = self.checked_body()
        etag = f'"{digest.hex()}"'
        cksum = [] if sent is None else [
            ("x-amz-checksum-crc32c", b64_crc(sent)),
            ("x-amz-checksum-type", "FULL_OBJECT")]
        self.remember(bucket, key, size, etag, cksum)
        self.send(200, [("ETag", etag), *cksum])

    def upload_part(self, upload_id, number):
        with lock:
            if upload_id not in uploads:
                raise BadRequest(404, "NoSuchUpload", upload_id)
        size, digest, crc, sent = self.checked_body()
        with lock:
            if upload_id in uploads:
                uploads[upload_id].parts[number] = (size, digest, crc)
        self.send(200, [("ETag", f'"{digest.hex()}"')] + (
            [] if sent is None else [("x-amz-checksum-crc32c",
                                      b64_crc(sent))]))

    def create_upload(self, bucket, key):
        h = self.headers
        algo = h.get("x-amz-checksum-algorithm", "").upper()
        if algo not in ("", "CRC32C"):
            raise BadRequest(501, "NotImplemented",
                             f"s3discard keeps no {algo} checksums")
        crc_type = None
        if algo:
            crc_type = h.get("x-amz-checksum-type", "COMPOSITE").upper()
            if crc_type not in ("FULL_OBJECT", "COMPOSITE"):
                raise BadRequest(400, "InvalidRequest",
                                 f"bad x-amz-checksum-type {crc_type}")
        with lock:
            next_upload[0] += 1
            upload_id = f"u{next_upload[0]}"
            uploads[upload_id] = Upload(crc_type)
        self.xml(200, "<InitiateMultipartUploadResult><Bucket>"
                 f"{xml_escape(bucket)}</Bucket><Key>{xml_escape(key)}</Key>"
                 f"<UploadId>{upload_id}</UploadId>"
                 "</InitiateMultipartUploadResult>")

    def complete_upload(self, bucket, key, upload_id):
        _, body, _, _ = self.consume(bytearray_sink)
        listed = [(int(n), c) for n, c in re.findall(
            rb"<Part>.*?<PartNumber>\s*(\d+)\s*</PartNumber>"
            rb"(?:.*?<ChecksumCRC32C>\s*([^<]*?)\s*</ChecksumCRC32C>)?"
            rb".*?</Part>", bytes(body.data), re.S)]
        with lock:
            up = uploads.get(upload_id)
        if up is None:
            raise BadRequest(404, "NoSuchUpload", upload_id)
        parts = up.parts
        if not listed or any(n not in parts for n, _ in listed):
            raise BadRequest(400, "InvalidPart", "a part was not uploaded")
        for n, c in listed:
            if c and parse_crc(c.decode("latin-1"), "ChecksumCRC32C") != \
                    parts[n][2]:
                raise BadRequest(400, "InvalidPart", f"part {n}'s "
                                 "ChecksumCRC32C is not the part's")
        size = sum(parts[n][0] for n, _ in listed)
        etag = '"%s-%d"' % (hashlib.md5(b"".join(
            parts[n][1] for n, _ in listed)).hexdigest(), len(listed))
        cksum, extra = [], ""
        if up.crc_type == "FULL_OBJECT":
            crc = 0
            for n, _ in listed:
                crc = crc32c_combine(crc, parts[n][2], parts[n][0])
            sent = self.headers.get("x-amz-checksum-crc32c")
            if sent is not None and parse_crc(sent, "header") != crc:
                raise BadRequest(400, "BadDigest", "The CRC32C you "
                                 "specified did not match the calculated "
                                 "checksum.")
            value = b64_crc(crc)
        elif up.crc_type == "COMPOSITE":
            value = "%s-%d" % (b64_crc(crc32c_bytes(b"".join(
                parts[n][2].to_bytes(4, "big") for n, _ in listed))),
                len(listed))
        if up.crc_type:
            cksum = [("x-amz-checksum-crc32c", value),
                     ("x-amz-checksum-type", up.crc_type)]
            extra = (f"<ChecksumCRC32C>{value}</ChecksumCRC32C>"
                     f"<ChecksumType>{up.crc_type}</ChecksumType>")
        with lock:
            uploads.pop(upload_id, None)
        self.remember(bucket, key, size, etag, cksum)
        self.xml(200, "<CompleteMultipartUploadResult><Location>/"
                 f"{xml_escape(bucket)}/{xml_escape(key)}</Location><Bucket>"
                 f"{xml_escape(bucket)}</Bucket><Key>{xml_escape(key)}</Key>"
                 f"<ETag>{xml_escape(etag)}</ETag>{extra}"
                 "</CompleteMultipartUploadResult>")

    def list_parts(self, bucket, key, upload_id):
        with lock:
            up = uploads.get(upload_id)
            parts = dict(up.parts) if up else {}
        items = "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>&quot;{d.hex()}&quot;"
            f"</ETag><Size>{s}</Size><LastModified>{LAST_MODIFIED_ISO}"
            "</LastModified></Part>" for n, (s, d, _) in sorted(parts.items()))
        self.xml(200, f"<ListPartsResult><Bucket>{xml_escape(bucket)}"
                 f"</Bucket><Key>{xml_escape(key)}</Key><UploadId>{upload_id}"
                 f"</UploadId><IsTruncated>false</IsTruncated>{items}"
                 "</ListPartsResult>")

    def delete_objects(self):
        _, body, _, _ = self.consume(bytearray_sink)
        keys = re.findall(rb"<Key>(.*?)</Key>", bytes(body.data), re.S)
        self.xml(200, "<DeleteResult>" + "".join(
            f"<Deleted><Key>{k.decode('utf-8')}</Key></Deleted>"
            for k in keys) + "</DeleteResult>")

    def get_object(self, bucket, key):
        size = object_size(bucket, key)
        if size is None:
            with lock:
                known = uploaded.get((bucket, key))
            if known and self.method == "HEAD":
                return self.send(200, [
                    ("ETag", known[1]), ("Last-Modified", LAST_MODIFIED),
                    ("Content-Type", "application/octet-stream"),
                    *(known[2] if self.checksum_mode() else [])],
                    length=known[0])
            raise BadRequest(404, "NoSuchKey",
                             "The specified key does not exist.")
        first, last = 0, size - 1
        status, extra = 200, []
        rng = self.headers.get("range")
        if rng:
            m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", rng)
            if not m or not (m.group(1) or m.group(2)):
                raise BadRequest(400, "InvalidRange", rng)
            if m.group(1):
                first = int(m.group(1))
                if m.group(2):
                    last = min(int(m.group(2)), size - 1)
            else:
                first = max(0, size - int(m.group(2)))
            if first >= size or first > last:
                self.send(416, [("Content-Range", f"bytes */{size}")])
                return
            status = 206
            extra = [("Content-Range", f"bytes {first}-{last}/{size}")]
        length = last - first + 1 if size else 0
        if status == 200 and self.checksum_mode():
            extra = [("x-amz-checksum-crc32c", b64_crc(generated_crc(size))),
                     ("x-amz-checksum-type", "FULL_OBJECT")]
        self.send(status, [
            ("ETag", f'"{generated_md5(size)}"'),
            ("Last-Modified", LAST_MODIFIED), ("Accept-Ranges", "bytes"),
            ("Content-Type", "application/octet-stream"), *extra],
            length=length)
        if self.method == "HEAD":
            return
        pos, end = first, first + length
        send = self.request.sendall
        while pos < end:
            off = pos % PATTERN_SIZE
            n = min(PATTERN_SIZE, end - pos)
            send(DOUBLE[off:off + n])
            pos += n

    def checksum_mode(self):
        return self.headers.get("x-amz-checksum-mode", "").upper() == \
            "ENABLED"

    def list_objects(self, bucket):
        q = self.q
        v2 = q.get("list-type") == "2"
        prefix = q.get("prefix", "")
        delimiter = q.get("delimiter", "")
        max_keys = min(int(q.get("max-keys", PAGE) or PAGE), PAGE)
        after = (q.get("continuation-token") or q.get("start-after", "")
                 if v2 else q.get("marker", ""))
        url = q.get("encoding-type") == "url"
        keys, prefixes, truncated = self.synthetic(prefix, delimiter, after,
                                                   max_keys)
        enc = (lambda s: quote(s, safe="/")) if url else xml_escape
        body = []
        for k, size in keys:
            body.append(f"<Contents><Key>{enc(k)}</Key><LastModified>"
                        f"{LAST_MODIFIED_ISO}</LastModified><ETag>&quot;"
                        f"{generated_md5(size)}&quot;</ETag><Size>{size}"
                        "</Size><StorageClass>STANDARD</StorageClass>"
                        "</Contents>")
        for p in prefixes:
            body.append(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix>"
                        "</CommonPrefixes>")
        last = (keys[-1][0] if keys else "")
        if prefixes and prefixes[-1] > last:
            last = prefixes[-1]
        if v2:
            head = (f"<KeyCount>{len(keys) + len(prefixes)}</KeyCount>" +
                    (f"<NextContinuationToken>{enc(last)}"
                     "</NextContinuationToken>" if truncated else ""))
        else:
            head = (f"<Marker>{enc(q.get('marker', ''))}</Marker>" +
                    (f"<NextMarker>{enc(last)}</NextMarker>"
                     if truncated else ""))
        self.xml(200, "<ListBucketResult><Name>" + xml_escape(bucket) +
                 f"</Name><Prefix>{enc(prefix)}</Prefix><MaxKeys>{max_keys}"
                 f"</MaxKeys>" + (f"<Delimiter>{enc(delimiter)}</Delimiter>"
                                  if delimiter else "") +
                 ("<EncodingType>url</EncodingType>" if url else "") +
                 f"<IsTruncated>{'true' if truncated else 'false'}"
                 f"</IsTruncated>{head}{''.join(body)}</ListBucketResult>")

    @staticmethod
    def synthetic(prefix, delimiter, after, max_keys):
        """One page of the key set the prefix names: ([(key, size)],
        [common prefix], truncated). Keys are base + 8 digits, so the
        ones under a prefix are a range of numbers and no delimiter
        ever makes a common prefix of them."""
        ks = key_set(prefix + "\0")   # the segment before the last counts
        if not ks:      # above the key sets: an empty listing
            return [], [], False
        base, count, size = ks
        rest = prefix[len(base):]
        if not (rest == "" or (rest.isdigit() and len(rest) <= DIGITS)):
            return [], [], False
        lo = int(rest.ljust(DIGITS, "0")) if rest else 0
        hi = min(count, int(rest.ljust(DIGITS, "9")) + 1 if rest else count)
        if after:
            if after.startswith(base):
                tail = after[len(base):]
                if tail[:DIGITS].isdigit():
                    n = int(tail[:DIGITS])
                    lo = max(lo, n + 1 if len(tail) >= DIGITS else n)
                elif tail > "9" * DIGITS:
                    lo = hi
            elif after > base:
                lo = hi
        stop = min(hi, lo + max_keys)
        keys = [(f"{base}{i:0{DIGITS}d}", size) for i in range(lo, stop)]
        return keys, [], stop < hi


class bytearray_sink:
    """A `hashlib`-like sink that keeps what it is fed (small XML bodies)."""
    def __init__(self):
        self.data = bytearray()

    def update(self, b):
        self.data += b


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--warm", default="",
                    help="sizes whose MD5 and CRC-32C to compute at start, "
                    "e.g. 4096,1G")
    a = ap.parse_args()
    for s in filter(None, a.warm.split(",")):
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1].upper())
        size = int(s[:-1]) * mult if mult else int(s)
        generated_md5(size)
        generated_crc(size)
    srv = Server(("127.0.0.1", a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.rename(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
