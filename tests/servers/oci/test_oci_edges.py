#!/usr/bin/python3
"""The OCI test server's byte-level behaviour the SDK tests do not reach: chunked and
mismatched uploads, CRC32C, ranges, conditions, listing bounds with prefixes, delete
markers, multipart commit checks, CopyObject's metadata rules, and keep-alive after a refused upload. Signs requests
itself (the same scheme oci-common uses; test_oci_auth.js proves the two agree).

  test_oci_edges.py STATE_DIR      (the state dir of `server.sh start oci`)
"""
import base64
import email.utils
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse

import crc32c
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

DIR = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ["XTSTORE_OCI_DIR"])
ENDPOINT = open(os.path.join(DIR, "endpoint")).read().strip()
HOST = urllib.parse.urlsplit(ENDPOINT).netloc
KEY = serialization.load_pem_private_key(open(os.path.join(DIR, "key.pem"), "rb").read(), None)
CONF = dict(line.split("=", 1) for line in open(os.path.join(DIR, "config")).read()
            .split("\n\n")[0].splitlines()[1:])
KEY_ID = "%s/%s/%s" % (CONF["tenancy"], CONF["user"], CONF["fingerprint"])
B = "edges-%d" % os.getpid()


def b64(raw):
    return base64.b64encode(raw).decode()


def crc_b64(data):
    return b64(crc32c.crc32c(data).to_bytes(4, "big"))


def request(method, path, body=None, headers=None, conn=None, object_body=False, chunked=False):
    """Signs and sends one request; returns (status, headers dict lowercased, body bytes)."""
    h = {"host": HOST, "x-date": email.utils.formatdate(usegmt=True)}
    h.update({k.lower(): v for k, v in (headers or {}).items()})
    signed = ["x-date", "(request-target)", "host"]
    if body is not None and not chunked:
        h.setdefault("content-length", str(len(body)))
    if method in ("PUT", "POST") and not object_body:
        h.setdefault("content-type", "application/json")
        h["x-content-sha256"] = b64(hashlib.sha256(body or b"").digest())
        h.setdefault("content-length", str(len(body or b"")))
        signed += ["content-length", "content-type", "x-content-sha256"]
    lines = ["(request-target): %s %s" % (method.lower(), path) if n == "(request-target)"
             else "%s: %s" % (n, h[n]) for n in signed]
    sig = KEY.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    h["authorization"] = ('Signature version="1",keyId="%s",algorithm="rsa-sha256",'
                          'headers="%s",signature="%s"' % (KEY_ID, " ".join(signed), b64(sig)))
    c = conn or http.client.HTTPConnection(HOST, timeout=30)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in h.items():
        c.putheader(k, v)
    if chunked:
        c.putheader("transfer-encoding", "chunked")
    c.endheaders()
    if body is not None:
        c.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if chunked else body)
    r = c.getresponse()
    data = r.read()
    assert r.getheader("opc-request-id"), (method, path, "no opc-request-id")
    if not conn:
        c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def check(cond, what):
    if not cond:
        sys.exit("FAIL: %s" % what)


def expect(res, status, code=None, what=""):
    st, _, data = res
    got = json.loads(data).get("code") if data and st >= 400 else None
    check(st == status and (code is None or got == code),
          "%s: want %d %s, got %d %s" % (what, status, code or "", st, data[:200]))
    return res


def o(name):
    return "/n/xtns/b/%s/o/%s" % (B, urllib.parse.quote(name, safe=""))


def put(name, data, **kw):
    return request("PUT", o(name), data, object_body=True, **kw)


def main():
    expect(request("GET", "/n/xtns/b/"), 400, "MissingParameter", "ListBuckets needs a compartment")
    expect(request("POST", "/n/xtns/b/", json.dumps(
        {"name": B, "compartmentId": "ocid1.bogus..x"}).encode()), 404,
        "RelatedResourceNotAuthorizedOrNotFound", "unknown compartment")
    expect(request("POST", "/n/xtns/b/", json.dumps(
        {"name": B, "compartmentId": CONF["tenancy"], "versioning": "Enabled"}).encode()), 200,
        what="create bucket")
    expect(request("GET", "/n/other/b/%s" % B), 404, what="wrong namespace")
    expect(request("POST", "/n/xtns/b/", json.dumps(
        {"name": B + "-2", "compartmentId": CONF["tenancy"]}).encode()), 200)

    # ListBuckets pages by opc-next-page (other tests' buckets may come and go meanwhile).
    seen, page = [], None
    while True:
        q = "/n/xtns/b/?" + urllib.parse.urlencode(dict(
            {"compartmentId": CONF["tenancy"], "limit": 1}, **({"page": page} if page else {})))
        _, h, data = expect(request("GET", q), 200)
        names = [b["name"] for b in json.loads(data)]
        check(len(names) <= 1, "ListBuckets limit 1: %r" % names)
        seen += names
        page = h.get("opc-next-page")
        if not page:
            break
    check(seen.count(B) == 1 and seen.count(B + "-2") == 1, "ListBuckets paging %r" % seen)
    expect(request("DELETE", "/n/xtns/b/%s-2" % B), 204)

    # Uploads: chunked refused; a bad CRC32C or MD5 stores nothing; CRC32C echoed on request.
    expect(put("x", b"abc", chunked=True), 411, "LengthRequired", "chunked PutObject")
    crc = {"opc-checksum-algorithm": "CRC32C"}
    expect(put("x", b"abc", headers=dict(crc, **{"opc-content-crc32c": crc_b64(b"abd")})), 400,
           "InvalidContentCrc32c", "bad CRC32C")
    expect(put("x", b"abc", headers={"opc-content-crc32c": crc_b64(b"abc")}), 400,
           "InvalidParameter", "a CRC32C without opc-checksum-algorithm")
    expect(put("x", b"abc", headers={"opc-checksum-algorithm": "SHA256"}), 400,
           "InvalidParameter", "an algorithm the server lacks")
    expect(put("x", b"abc", headers={"content-md5": b64(hashlib.md5(b"abd").digest())}), 400,
           "InvalidContentMd5", "bad MD5")
    expect(request("HEAD", o("x")), 404, what="a refused upload left an object")
    _, h, _ = expect(put("x", b"abc", headers=dict(crc, **{"opc-content-crc32c": crc_b64(b"abc")})),
                     200)
    check(h.get("opc-content-crc32c") == crc_b64(b"abc"), "PUT's opc-content-crc32c")
    check(h.get("opc-content-md5") == b64(hashlib.md5(b"abc").digest()), "PUT's opc-content-md5")
    _, h, _ = expect(put("x", b"abc"), 200)
    check("opc-content-crc32c" not in h, "opc-content-crc32c unasked")
    _, h, _ = expect(put("x", b"abcdefghij", headers={"opc-checksum-algorithm": "CRC32C"}), 200)
    check(h.get("opc-content-crc32c") == crc_b64(b"abcdefghij"), "opc-checksum-algorithm")
    etag = h["etag"]

    # Ranges and conditions.
    for rng, want in (("bytes=-3", b"hij"), ("bytes=5-", b"fghij"), ("bytes=2-4", b"cde"),
                      ("bytes=8-100", b"ij")):
        st, h, data = request("GET", o("x"), headers={"range": rng})
        check(st == 206 and data == want, "range %s: %d %r" % (rng, st, data))
        check(h["content-range"].endswith("/10"), "content-range of %s" % rng)
    expect(request("GET", o("x"), headers={"range": "bytes=10-"}), 416, "InvalidRange", "range")
    expect(put("x", b"new", headers={"if-none-match": "*"}), 409, "IfNoneMatchFailed", "inm")
    expect(put("x", b"new", headers={"if-match": "nope"}), 412, "IfMatchFailed", "if-match")
    expect(request("GET", o("x"), headers={"if-none-match": etag}), 304, what="GET inm")
    expect(request("GET", o("x"), headers={"if-match": "nope"}), 412, "IfMatchFailed", "GET im")
    expect(request("DELETE", o("x"), headers={"if-match": "nope"}), 412, "IfMatchFailed",
           "DELETE im")
    check(request("GET", o("x"))[2] == b"abcdefghij", "kept after a refused DELETE im")
    _, h, _ = expect(request("HEAD", o("x")), 200)
    check(h.get("content-md5") == b64(hashlib.md5(b"abcdefghij").digest()) and
          "opc-multipart-md5" not in h and h.get("content-length") == "10" and
          h.get("opc-content-crc32c") == crc_b64(b"abcdefghij"), "HEAD headers %r" % h)

    # Keep-alive: a refused 1 MiB upload is drained; the connection serves the next request.
    conn = http.client.HTTPConnection(HOST, timeout=30)
    expect(request("PUT", "/n/xtns/b/no-such-bucket/o/x", b"z" * (1 << 20), conn=conn,
                   object_body=True), 404, "BucketNotFound", "PUT to a missing bucket")
    expect(request("GET", "/n/", conn=conn), 200, what="same connection after a refusal")
    conn.close()

    # Listing: prefixes count toward the limit; start/end/startAfter bounds.
    for n in ("a/1", "a/2", "b", "c/x", "d"):
        expect(put(n, n.encode()), 200)
    q = "/n/xtns/b/%s/o?" % B

    def ls(**kw):
        return json.loads(expect(request("GET", q + urllib.parse.urlencode(kw)), 200)[2])
    check(ls(delimiter="/", limit=2) == {"objects": [{"name": "b"}], "prefixes": ["a/"],
                                         "nextStartWith": "c/x"}, "delimiter page 1")
    check(ls(delimiter="/", limit=2, start="c/x") == {"objects": [{"name": "d"}],
                                                      "prefixes": ["c/"],
                                                      "nextStartWith": "x"}, "page 2")
    check([x["name"] for x in ls(start="b", end="d")["objects"]] == ["b", "c/x"], "start/end")
    check([x["name"] for x in ls(startAfter="b", end="x")["objects"]] == ["c/x", "d"],
          "startAfter")
    expect(request("GET", q + "limit=1001"), 400, "InvalidParameter", "limit 1001")

    # Versions: a delete marker hides the object; the old version stays readable.
    _, h, _ = expect(request("DELETE", o("b")), 204)
    check(h.get("is-delete-marker") == "true", "delete marker")
    expect(request("GET", o("b")), 404, "ObjectNotFound", "GET behind a delete marker")
    vs = json.loads(request("GET", "/n/xtns/b/%s/objectversions?prefix=b&fields=Name,SIZE"
                            % B)[2])["items"]
    check([v["isDeleteMarker"] for v in vs] == [True, False] and vs[1]["size"] == 1,
          "versions %r" % vs)
    st, _, data = request("GET", o("b") + "?versionId=" + vs[1]["versionId"])
    check(st == 200 and data == b"b", "old version")

    # Suspended: a write replaces the version written while suspended, not the older ones.
    expect(request("POST", "/n/xtns/b/%s/" % B, b'{"versioning": "Suspended"}'), 200)
    expect(put("b", b"s1"), 200)
    expect(put("b", b"s2"), 200)
    vs = json.loads(request("GET", "/n/xtns/b/%s/objectversions?prefix=b" % B)[2])["items"]
    check([v["isDeleteMarker"] for v in vs] == [False, True, False], "suspended %r" % vs)
    check(request("GET", o("b"))[2] == b"s2", "suspended current")

    # Versions paged: the opc-next-page token is a header value (no raw newline), and
    # following it walks every version once.
    seen, page = [], None
    for _ in range(10):
        qs = "limit=1" + ("&page=" + urllib.parse.quote(page) if page else "")
        _, h, data = expect(request("GET", "/n/xtns/b/%s/objectversions?prefix=b&%s"
                                    % (B, qs)), 200)
        seen += [(v["name"], v["versionId"]) for v in json.loads(data)["items"]]
        page = h.get("opc-next-page")
        if not page:
            break
        check("\n" not in page and "\r" not in page, "a header-safe page token %r" % page)
    check(len(seen) == 3 and len(set(seen)) == 3, "versions paged one by one: %r" % seen)

    # Multipart: etags must match; every part committed or excluded; opc-multipart-md5.
    st, _, data = request("POST", "/n/xtns/b/%s/u" % B, json.dumps(
        {"object": "mp", "metadata": {"opc-meta-k": "v"}}).encode())
    uid = json.loads(data)["uploadId"]
    up = o("mp").replace("/o/", "/u/") + "?uploadId=" + uid
    etags = {}
    for i, part in ((1, b"one"), (2, b"two"), (3, b"three")):
        _, h, _ = expect(request("PUT", up + "&uploadPartNum=%d" % i, part, object_body=True), 200)
        check(h["opc-content-md5"] == b64(hashlib.md5(part).digest()), "part md5")
        etags[i] = h["etag"]

    def commit(parts, exclude=()):
        return request("POST", up, json.dumps({
            "partsToCommit": [{"partNum": n, "etag": e} for n, e in parts],
            "partsToExclude": list(exclude)}).encode())
    expect(commit([(1, etags[1]), (2, "bad"), (3, etags[3])]), 400, "InvalidParameter", "etag")
    expect(commit([(1, etags[1]), (3, etags[3])]), 400, "InvalidParameter", "part 2 forgotten")
    _, h, _ = expect(commit([(1, etags[1]), (3, etags[3])], exclude=[2]), 200)
    want = b64(hashlib.md5(hashlib.md5(b"one").digest() + hashlib.md5(b"three").digest())
               .digest()) + "-2"
    check(h.get("opc-multipart-md5") == want, "commit opc-multipart-md5 %r" % h)
    st, h, data = request("GET", o("mp"))
    check(data == b"onethree" and "content-md5" not in h and h.get("opc-multipart-md5") == want
          and h.get("opc-meta-k") == "v" and h.get("opc-content-crc32c") == crc_b64(b"onethree"),
          "multipart GET %r" % h)
    expect(commit([(1, etags[1])]), 404, "NoSuchUpload", "commit twice")

    # CopyObject: destinationObjectMetadata holds opc-meta-* keys only (OCI's reference); the
    # copy keeps the source's content headers; metadata given replaces, none inherits.
    hdrs = {"content-type": "text/x-src", "content-encoding": "gzip", "content-language": "fr",
            "content-disposition": "attachment", "cache-control": "no-store", "opc-meta-a": "1"}
    expect(put("cp", b"copied", headers=hdrs), 200)

    def copy(dst, meta=None):
        body = {"sourceObjectName": "cp", "destinationRegion": "us-ashburn-1",
                "destinationNamespace": "xtns", "destinationBucket": B,
                "destinationObjectName": dst}
        if meta is not None:
            body["destinationObjectMetadata"] = meta
        return request("POST", "/n/xtns/b/%s/actions/copyObject" % B, json.dumps(body).encode())

    def landed(res):
        wid = res[1]["opc-work-request-id"]
        for _ in range(100):
            st = json.loads(request("GET", "/workRequests/" + wid)[2])["status"]
            if st in ("COMPLETED", "FAILED"):
                return st
            time.sleep(0.05)
        return "still running"
    expect(copy("cp2", {"content-type": "text/x-other", "opc-meta-b": "2"}), 400,
           "InvalidParameter", "content-type in destinationObjectMetadata")
    for dst, meta, want_md in (("cp2", {"opc-meta-b": "2"}, {"opc-meta-b": "2"}),
                               ("cp3", None, {"opc-meta-a": "1"}),
                               ("cp4", {}, {"opc-meta-a": "1"})):
        check(landed(expect(copy(dst, meta), 202)) == "COMPLETED", "copy to %s" % dst)
        _, h, data = request("GET", o(dst))
        got = {k: v for k, v in h.items() if k in hdrs and not k.startswith("opc-meta-")}
        check(data == b"copied" and got == {k: v for k, v in hdrs.items()
                                            if not k.startswith("opc-meta-")},
              "copy to %s kept the content headers: %r" % (dst, h))
        check({k: v for k, v in h.items() if k.startswith("opc-meta-")} == want_md,
              "copy to %s metadata: %r" % (dst, h))

    # Cleanup: every version, then the bucket.
    vs = json.loads(request("GET", "/n/xtns/b/%s/objectversions" % B)[2])["items"]
    for v in vs:
        expect(request("DELETE", o(v["name"]) + "?versionId=" + v["versionId"]), 204)
    expect(request("DELETE", "/n/xtns/b/%s/" % B), 204, what="delete bucket")
    print("ok: OCI test server edges against", ENDPOINT)


if __name__ == "__main__":
    main()
