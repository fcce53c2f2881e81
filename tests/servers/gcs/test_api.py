#!/usr/bin/env python3
"""The GCS test server's refusals and protocol edges, with raw HTTP (stdlib http.client):
the token endpoint's checks (signature, aud, iss, scope, iat/exp, grant types), 401s
for missing/unknown/expired bearer tokens, public buckets, error JSON, preconditions,
upload checksums, the resumable protocol (308 + Range, 256 KiB alignment, a body cut
short, status queries, cancel), compose, rewrite tokens, listings and ranged reads,
batches (each call authorized on its own, the 100-call limit) and temporary holds.

  XTSTORE_GCS_DIR=STATE_DIR test_api.py       (ctest servers/gcs-api; fixture gcs)
Run with a python3 that has the cryptography module (/usr/bin/python3 here).
"""
import base64
import gzip
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import crc32c

STATE = os.environ.get("XTSTORE_GCS_DIR") or sys.exit("XTSTORE_GCS_DIR is not set")
ENDPOINT = open(os.path.join(STATE, "endpoint")).read().strip()
SA = json.load(open(os.path.join(STATE, "sa.json")))
USER = json.load(open(os.path.join(STATE, "user.json")))
HOST, PORT = urllib.parse.urlsplit(ENDPOINT).hostname, urllib.parse.urlsplit(ENDPOINT).port
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RW = "https://www.googleapis.com/auth/devstorage.read_write"
KEY = serialization.load_pem_private_key(SA["private_key"].encode(), None)
CHUNK = 256 * 1024

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   - %s" % name)
    else:
        failed += 1
        print("FAIL - %s%s" % (name, (": " + str(detail)) if detail else ""))


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def jwt(key=None, **over):
    key = key or KEY
    now = int(time.time())
    claims = {"iss": SA["client_email"], "aud": SA["token_uri"], "scope": RW,
              "iat": now, "exp": now + 3600}
    claims.update(over)
    claims = {k: v for k, v in claims.items() if v is not None}
    head = b64u(json.dumps({"alg": "RS256", "typ": "JWT",
                            "kid": SA["private_key_id"]}).encode())
    si = head + b"." + b64u(json.dumps(claims).encode())
    return (si + b"." + b64u(key.sign(si, padding.PKCS1v15(), hashes.SHA256()))).decode()


def req(method, path, body=b"", headers=None, token=None):
    c = http.client.HTTPConnection(HOST, PORT, timeout=30)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r, data


def js(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def grant(form):
    st, _, data = req("POST", "/token", urllib.parse.urlencode(form).encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    return st, js(data) or {}


def reason(data):
    e = (js(data) or {}).get("error", {})
    return e.get("code"), (e.get("errors") or [{}])[0].get("reason")


def q(s):
    return urllib.parse.quote(s, safe="")


def test_token_endpoint():
    st, j = grant({"grant_type": JWT_BEARER, "assertion": jwt()})
    check("JWT grant: 200 with an opaque bearer token",
          st == 200 and j.get("token_type") == "Bearer" and j.get("expires_in") == 3600
          and j.get("access_token"), (st, j))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = [
        ("a bad signature", {"key": other}, "invalid_grant", "Invalid JWT Signature."),
        ("a wrong aud", {"aud": "https://oauth2.googleapis.com/token"}, "invalid_grant",
         "Failed audience check"),
        ("an expired JWT", {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
         "invalid_grant", "iat and exp"),
        ("a JWT from the future (past the 5 min skew)",
         {"iat": int(time.time()) + 600, "exp": int(time.time()) + 1200},
         "invalid_grant", "iat and exp"),
        ("a lifetime over an hour", {"exp": int(time.time()) + 7200}, "invalid_grant",
         "iat and exp"),
        ("an unknown issuer", {"iss": "eve@xt-test.iam.gserviceaccount.com"},
         "invalid_grant", "issuer"),
        ("no storage scope", {"scope": "https://www.googleapis.com/auth/bigquery"},
         "invalid_scope", None),
        ("no scope", {"scope": None}, "invalid_scope", None),
    ]
    for name, over, err, text in cases:
        st, j = grant({"grant_type": JWT_BEARER, "assertion": jwt(**over)})
        check("JWT grant refuses %s: 400 %s" % (name, err),
              st == 400 and j.get("error") == err and
              (text is None or text in j.get("error_description", "")), (st, j))
    now = int(time.time())
    st, j = grant({"grant_type": JWT_BEARER,
                   "assertion": jwt(iat=now - 250, exp=now + 3350)})
    check("JWT grant accepts iat 250 s in the past (skew window)", st == 200, (st, j))
    st, j = grant({"grant_type": "password", "username": "x"})
    check("unsupported grant_type: 400 unsupported_grant_type",
          st == 400 and j.get("error") == "unsupported_grant_type", (st, j))
    base = {"grant_type": "refresh_token", "client_id": USER["client_id"],
            "client_secret": USER["client_secret"], "refresh_token": USER["refresh_token"]}
    st, j = grant(base)
    check("refresh-token grant (authorized_user): 200", st == 200 and j.get("access_token"),
          (st, j))
    basic = base64.b64encode(("%s:%s" % (USER["client_id"], USER["client_secret"]))
                             .encode()).decode()
    st, _, data = req("POST", "/token", urllib.parse.urlencode(
        {"grant_type": "refresh_token", "refresh_token": USER["refresh_token"]}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded",
         "Authorization": "Basic " + basic})
    check("refresh-token grant with the client in HTTP Basic: 200", st == 200, (st, data))
    st, j = grant(dict(base, client_secret="wrong"))
    check("refresh grant with a wrong client secret: 401 invalid_client",
          st == 401 and j.get("error") == "invalid_client", (st, j))
    st, j = grant(dict(base, refresh_token="1//wrong"))
    check("refresh grant with a wrong refresh token: 400 invalid_grant",
          st == 400 and j.get("error") == "invalid_grant", (st, j))


def token():
    st, j = grant({"grant_type": JWT_BEARER, "assertion": jwt()})
    assert st == 200, (st, j)
    return j["access_token"]


def test_bearer(tok, bucket):
    st, r, data = req("GET", "/storage/v1/b/%s/o" % bucket)
    check("no Authorization: 401 reason required",
          st == 401 and reason(data) == (401, "required") and
          "Bearer" in (r.getheader("WWW-Authenticate") or ""), (st, data[:200]))
    st, _, data = req("GET", "/storage/v1/b/%s/o" % bucket, token="ya29.forged")
    check("an unknown token: 401 reason authError", st == 401 and
          reason(data) == (401, "authError"), (st, data[:200]))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    st, _, data = req("GET", "/storage/v1/b/%s/o" % bucket, token=jwt(key=other, aud=None))
    check("a self-signed JWT with another key: 401", st == 401, st)
    st, _, _ = req("GET", "/storage/v1/b/%s/o" % bucket, token=jwt(aud=None))
    check("a self-signed JWT of the service account (scope claim): 200", st == 200, st)
    ro = jwt(aud=None, scope="https://www.googleapis.com/auth/devstorage.read_only")
    st, _, _ = req("GET", "/storage/v1/b/%s/o" % bucket, token=ro)
    st2, _, data = media(ro, bucket, "ro.txt", b"x")
    check("a read_only self-signed JWT reads (200), is refused writes: 403 "
          "insufficientPermissions", st == 200 and
          reason(data) == (403, "insufficientPermissions"), (st, st2, data[:200]))
    # Expiry by time, of this test's own tokens only: the fixture is shared, and the
    # hooks without token= (every token, the TTL) would hit other tests' clients too.
    short = token()
    req("POST", "/_test/expire-tokens?after=1&token=" + q(short))
    st1, _, _ = req("GET", "/storage/v1/b/%s/o" % bucket, token=short)
    time.sleep(1.2)
    st2, _, data = req("GET", "/storage/v1/b/%s/o" % bucket, token=short)
    check("a token past its expiry: 401 authError", st1 == 200 and st2 == 401 and
          reason(data) == (401, "authError"), (st1, st2))
    live = token()
    st, _, _ = req("POST", "/_test/expire-tokens?token=" + q(live))
    st2, _, _ = req("GET", "/storage/v1/b/%s/o" % bucket, token=live)
    check("/_test/expire-tokens?token=: that token gets 401", (st, st2) == (200, 401),
          (st, st2))
    st, _, _ = req("POST", "/_test/expire-tokens?token=ya29.unknown")
    check("/_test/expire-tokens of an unknown token: 404", st == 404, st)


def test_buckets(tok):
    bucket = "api-%d" % os.getpid()
    st, _, data = req("POST", "/storage/v1/b", json.dumps({"name": bucket}).encode(),
                      {"Content-Type": "application/json"}, tok)
    check("bucket insert without project: 400 required",
          st == 400 and reason(data) == (400, "required"), (st, data[:200]))
    body = json.dumps({"name": bucket, "versioning": {"enabled": True},
                       "labels": {"a": "1"}}).encode()
    st, _, data = req("POST", "/storage/v1/b?project=xt-test", body,
                      {"Content-Type": "application/json"}, tok)
    j = js(data) or {}
    check("bucket insert: 200 storage#bucket, versioning, labels",
          st == 200 and j.get("kind") == "storage#bucket" and
          j.get("versioning") == {"enabled": True} and j.get("labels") == {"a": "1"}, data[:300])
    st, _, data = req("POST", "/storage/v1/b?project=xt-test", body,
                      {"Content-Type": "application/json"}, tok)
    check("bucket insert again: 409 conflict", (st, reason(data)) == (409, (409, "conflict")),
          (st, data[:200]))
    st, _, data = req("POST", "/storage/v1/b?project=xt-test",
                      json.dumps({"name": "Bad_Name!"}).encode(),
                      {"Content-Type": "application/json"}, tok)
    check("bucket insert with a bad name: 400 invalid", st == 400, st)
    st, _, data = req("PATCH", "/storage/v1/b/" + bucket,
                      json.dumps({"labels": {"a": None, "b": "2"}}).encode(),
                      {"Content-Type": "application/json"}, tok)
    j = js(data) or {}
    check("bucket patch: labels merged, metageneration 2",
          st == 200 and j.get("labels") == {"b": "2"} and j.get("metageneration") == "2",
          data[:300])
    names = []
    for proj in ("xt-test", "123456789012", "other-project"):
        st, _, data = req("GET", "/storage/v1/b?project=" + proj, token=tok)
        names.append(bucket in [b["name"] for b in (js(data) or {}).get("items", [])])
    check("buckets list: by project id or number, not another project's",
          names == [True, True, False], names)
    st, _, data = req("GET", "/storage/v1/b", token=tok)
    check("buckets list without project: 400 required", st == 400, st)
    st, _, data = req("GET", "/storage/v1/b?project=xt-test", token=tok)
    every = [b["name"] for b in (js(data) or {}).get("items", [])]
    seen, ptok, pages = [], None, 0
    while pages <= len(every):
        st, _, data = req("GET", "/storage/v1/b?project=xt-test&maxResults=1" +
                          ("&pageToken=" + q(ptok) if ptok else ""), token=tok)
        j = js(data) or {}
        seen += [b["name"] for b in j.get("items", [])]
        pages += 1
        ptok = j.get("nextPageToken")
        if not ptok:
            break
    check("buckets list paged by 1: every bucket once", seen == every and
          pages == len(every), (pages, seen, every))
    st, _, data = req("GET", "/storage/v1/b/nope-%d" % os.getpid(), token=tok)
    check("bucket get of a missing bucket: 404 notFound",
          (st, reason(data)) == (404, (404, "notFound")), st)
    return bucket


def media(tok, bucket, name, data, headers=None, query=""):
    h = {"Content-Type": "application/octet-stream"}
    h.update(headers or {})
    return req("POST", "/upload/storage/v1/b/%s/o?uploadType=media&name=%s%s"
               % (bucket, q(name), query), data, h, tok)


def crc_b64(d):
    return base64.b64encode(crc32c.crc32c(d).to_bytes(4, "big")).decode()


def md5_b64(d):
    return base64.b64encode(hashlib.md5(d).digest()).decode()


def test_objects(tok, bucket):
    data = os.urandom(100000)
    st, _, body = media(tok, bucket, "a/b c.bin", data,
                        {"X-Goog-Hash": "crc32c=%s,md5=%s" % (crc_b64(data), md5_b64(data))})
    o = js(body) or {}
    check("media upload with X-Goog-Hash: 200, fields as GCS types it",
          st == 200 and o.get("size") == "100000" and o.get("md5Hash") == md5_b64(data)
          and o.get("crc32c") == crc_b64(data) and isinstance(o.get("generation"), str)
          and o.get("metageneration") == "1" and o.get("name") == "a/b c.bin"
          and o.get("id") == "%s/a/b c.bin/%s" % (bucket, o.get("generation")), body[:400])
    gen1 = o.get("generation")
    st, _, body = media(tok, bucket, "bad", data, {"X-Goog-Hash": "crc32c=AAAAAA=="})
    e = (js(body) or {}).get("error", {})
    check("media upload with a wrong crc32c: 400 invalid, GCS's message",
          st == 400 and reason(body) == (400, "invalid") and
          "doesn't match calculated CRC32C" in e.get("message", ""), body[:300])
    st, _, _ = req("GET", "/storage/v1/b/%s/o/bad" % bucket, token=tok)
    check("... and nothing stored", st == 404, st)
    boundary = "xtb0undary"
    meta = {"name": "multi", "contentType": "text/plain", "metadata": {"k": "v"},
            "md5Hash": md5_b64(b"other")}
    mp = ("--%s\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n%s\r\n--%s\r\n"
          "Content-Type: text/plain\r\n\r\n" % (boundary, json.dumps(meta), boundary)).encode() \
        + b"hello" + ("\r\n--%s--\r\n" % boundary).encode()
    ctype = {"Content-Type": 'multipart/related; boundary="%s"' % boundary}
    st, _, body = req("POST", "/upload/storage/v1/b/%s/o?uploadType=multipart" % bucket, mp,
                      ctype, tok)
    check("multipart upload with a wrong md5Hash: 400 invalid",
          st == 400 and "doesn't match calculated MD5" in body.decode(), body[:300])
    meta["md5Hash"] = md5_b64(b"hello")
    mp = mp.replace(md5_b64(b"other").encode(), meta["md5Hash"].encode())
    st, _, body = req("POST", "/upload/storage/v1/b/%s/o?uploadType=multipart" % bucket, mp,
                      ctype, tok)
    o = js(body) or {}
    check("multipart upload: metadata and bytes", st == 200 and o.get("size") == "5" and
          o.get("metadata") == {"k": "v"} and o.get("contentType") == "text/plain", body[:300])

    path = "/storage/v1/b/%s/o/%s" % (bucket, q("a/b c.bin"))
    st, r, body = req("GET", path + "?alt=media", headers={"Range": "bytes=10-19"}, token=tok)
    check("ranged download: 206, Content-Range, x-goog-* headers",
          st == 206 and body == data[10:20] and
          r.getheader("Content-Range") == "bytes 10-19/100000" and
          r.getheader("x-goog-hash") == "crc32c=%s,md5=%s" % (crc_b64(data), md5_b64(data))
          and r.getheader("x-goog-generation") == gen1 and
          r.getheader("x-goog-stored-content-length") == "100000", (st, r.getheaders()))
    st, r, body = req("GET", path + "?alt=media", headers={"Range": "bytes=-5"}, token=tok)
    check("suffix range: the last 5 bytes", st == 206 and body == data[-5:], st)
    st, r, body = req("GET", "/download" + path + "?alt=media",
                      headers={"Range": "bytes=100000-"}, token=tok)
    check("unsatisfiable range: 416", st == 416, st)

    st, _, body = media(tok, bucket, "a/b c.bin", b"x", query="&ifGenerationMatch=0")
    check("ifGenerationMatch=0 on an existing object: 412 conditionNotMet",
          (st, reason(body)) == (412, (412, "conditionNotMet")), (st, body[:200]))
    st, _, body = req("PATCH", path + "?ifMetagenerationMatch=7",
                      json.dumps({"metadata": {"x": "1"}}).encode(),
                      {"Content-Type": "application/json"}, tok)
    check("patch with a wrong ifMetagenerationMatch: 412", st == 412, st)
    st, _, _ = req("GET", path + "?ifGenerationNotMatch=" + gen1, token=tok)
    check("get with ifGenerationNotMatch = its generation: 304", st == 304, st)
    st, _, _ = req("PATCH", path + "?ifGenerationNotMatch=" + gen1, b"{}",
                   {"Content-Type": "application/json"}, tok)
    check("patch with ifGenerationNotMatch = its generation: 412", st == 412, st)
    st, _, body = media(tok, bucket, "x" * 1025, b"x")
    check("an object name over 1024 bytes: 400 invalid", st == 400, (st, body[:100]))
    st, _, body = req("POST", "/storage/v1/b/%s/o/%s/copyTo/b/%s/o/%s" % (
        bucket, q("a/b c.bin"), bucket, q("copied")), b"", {}, tok)
    o = js(body) or {}
    check("copyTo: the object resource, same md5Hash",
          st == 200 and o.get("name") == "copied" and o.get("md5Hash") == md5_b64(data),
          (st, body[:200]))

    # Versions: overwrite, then delete; both generations stay as noncurrent.
    st, _, body = media(tok, bucket, "a/b c.bin", b"second", query="&ifGenerationMatch=" + gen1)
    gen2 = (js(body) or {}).get("generation")
    # Delete preconditions hold against the live generation, a generation named or not.
    st1, _, body = req("DELETE", path + "?ifGenerationMatch=" + gen1, token=tok)
    st2, _, _ = req("DELETE", path + "?generation=%s&ifGenerationMatch=%s" % (gen1, gen1),
                    token=tok)
    st3, _, _ = req("GET", path + "?generation=" + gen1, token=tok)
    st4, _, _ = req("GET", path, token=tok)
    check("delete with ifGenerationMatch of a replaced generation: 412 conditionNotMet, "
          "with or without generation=, and both generations stay",
          (st1, reason(body), st2, st3, st4) == (412, (412, "conditionNotMet"), 412, 200, 200),
          (st1, body[:200], st2, st3, st4))
    st, _, _ = req("DELETE", path, token=tok)
    st2, _, _ = req("GET", path, token=tok)
    st3, _, body = req("GET", path + "?alt=media&generation=" + gen1, token=tok)
    check("versioned bucket: overwrite + delete, the old generation still readable",
          st == 204 and st2 == 404 and st3 == 200 and body == data, (st, st2, st3))
    st, _, body = req("GET", "/storage/v1/b/%s/o?versions=true&prefix=a/" % bucket, token=tok)
    items = (js(body) or {}).get("items", [])
    check("list versions=true: both generations, with timeDeleted",
          [(i["generation"], "timeDeleted" in i) for i in items] ==
          [(gen1, True), (gen2, True)], body[:500])
    st, _, _ = req("DELETE", path + "?generation=" + gen1, token=tok)
    st2, _, _ = req("GET", path + "?generation=" + gen1, token=tok)
    check("delete by generation: gone for good", st == 204 and st2 == 404, (st, st2))
    st, _, body = req("DELETE", "/storage/v1/b/" + bucket, token=tok)
    check("delete of a non-empty bucket: 409 conflict", st == 409, st)


def test_lists(tok, bucket):
    for n in ("l/a", "l/b/", "l/b/1", "l/b/2", "l/c", "l/d/x"):
        media(tok, bucket, n, b"z")

    def page(query):
        st, _, body = req("GET", "/storage/v1/b/%s/o?%s" % (bucket, query), token=tok)
        j = js(body) or {}
        return ([i["name"] for i in j.get("items", [])], j.get("prefixes", []),
                j.get("nextPageToken"))

    def names(query):
        """Every page (another test may have set a small page size)."""
        items, prefixes, ptok = [], [], None
        for _ in range(20):
            got = page(query + ("&pageToken=" + q(ptok) if ptok else ""))
            items += got[0]
            prefixes += got[1]
            ptok = got[2]
            if not ptok:
                break
        return items, prefixes
    got = names("prefix=l/&delimiter=/")
    check("delimiter: items and prefixes", got == (["l/a", "l/c"], ["l/b/", "l/d/"]), got)
    got = names("prefix=l/&delimiter=/&includeTrailingDelimiter=true")
    check("includeTrailingDelimiter: l/b/ also an item",
          got[0] == ["l/a", "l/b/", "l/c"] and got[1] == ["l/b/", "l/d/"], got)
    got = names("prefix=l/&startOffset=l/b/1&endOffset=l/d")
    check("startOffset/endOffset", got[0] == ["l/b/1", "l/b/2", "l/c"], got)
    seen, tok_, pages = [], None, 0
    while True:
        got = page("prefix=l/&delimiter=/&maxResults=1" +
                   ("&pageToken=" + q(tok_) if tok_ else ""))
        seen += got[0] + got[1]
        pages += 1
        tok_ = got[2]
        if not tok_ or pages > 10:
            break
    check("paging by 1 with a delimiter: 4 pages, each entry once",
          pages == 4 and seen == ["l/a", "l/b/", "l/c", "l/d/"], (pages, seen))
    st, _, body = req("POST", "/_test/config", json.dumps({"page_size": 3}).encode())
    st2, _, body2 = req("GET", "/_test/config")
    req("POST", "/_test/config", json.dumps({"page_size": None}).encode())
    check("/_test/config sets the page size", st == 200 and
          (js(body2) or {}).get("page_size") == 3, body2)
    st, _, body = req("GET", "/storage/v1/b/%s/o?pageToken=garbage!" % bucket, token=tok)
    check("a bad pageToken: 400", st == 400, st)


def test_compose_rewrite(tok, bucket):
    parts = [os.urandom(1000 + i) for i in range(3)]
    gens = []
    for i, p in enumerate(parts):
        _, _, body = media(tok, bucket, "c/%d" % i, p)
        gens.append((js(body) or {}).get("generation"))
    src = [{"name": "c/%d" % i, "generation": gens[i],
            "objectPreconditions": {"ifGenerationMatch": gens[i]}} for i in range(3)]
    body = json.dumps({"sourceObjects": src, "destination": {"contentType": "x/y"}}).encode()
    st, _, out = req("POST", "/storage/v1/b/%s/o/%s/compose" % (bucket, q("c/all")), body,
                     {"Content-Type": "application/json"}, tok)
    o = js(out) or {}
    whole = b"".join(parts)
    check("compose: componentCount 3, crc32c of the whole, no md5Hash",
          st == 200 and o.get("componentCount") == 3 and o.get("crc32c") == crc_b64(whole)
          and "md5Hash" not in o and o.get("size") == str(len(whole)), out[:400])
    st, _, got = req("GET", "/storage/v1/b/%s/o/%s?alt=media" % (bucket, q("c/all")), token=tok)
    check("compose: the bytes", got == whole, len(got))
    src[1]["objectPreconditions"]["ifGenerationMatch"] = "1"
    st, _, out = req("POST", "/storage/v1/b/%s/o/x/compose" % bucket,
                     json.dumps({"sourceObjects": src}).encode(),
                     {"Content-Type": "application/json"}, tok)
    check("compose with a failed source precondition: 412", st == 412, st)
    many = [{"name": "c/0"}] * 33
    st, _, out = req("POST", "/storage/v1/b/%s/o/x/compose" % bucket,
                     json.dumps({"sourceObjects": many}).encode(),
                     {"Content-Type": "application/json"}, tok)
    check("compose of 33 sources: 400 invalid", (st, reason(out)) == (400, (400, "invalid")),
          (st, out[:200]))

    big = os.urandom(3 * 1024 * 1024 + 7)
    media(tok, bucket, "r/src", big)
    req("POST", "/_test/config", json.dumps({"rewrite_threshold": 1 << 20}).encode())
    calls, rtok, o = 0, None, None
    while calls < 10:
        path = "/storage/v1/b/%s/o/%s/rewriteTo/b/%s/o/%s" % (bucket, q("r/src"), bucket,
                                                              q("r/dst"))
        if rtok:
            path += "?rewriteToken=" + q(rtok)
        st, _, out = req("POST", path, b"", {"Content-Type": "application/json"}, tok)
        j = js(out) or {}
        calls += 1
        if st != 200 or j.get("done"):
            o = j.get("resource")
            break
        rtok = j.get("rewriteToken")
    req("POST", "/_test/config", json.dumps({"rewrite_threshold": None}).encode())
    check("rewrite past the threshold: done=false with a token 3 times, then the resource",
          calls == 4 and o and o.get("md5Hash") == md5_b64(big), (calls, st))


def test_transcoding(tok, bucket):
    text = b"".join(b"%d\n" % i for i in range(20000))
    gz = gzip.compress(text)
    st, _, body = media(tok, bucket, "t/text.gz", gz, {"Content-Type": "text/plain"},
                        "&contentEncoding=gzip")
    check("media upload with contentEncoding=gzip: stored as sent",
          st == 200 and (js(body) or {}).get("contentEncoding") == "gzip"
          and (js(body) or {}).get("size") == str(len(gz)), body[:300])
    path = "/storage/v1/b/%s/o/%s?alt=media" % (bucket, q("t/text.gz"))
    st, r, got = req("GET", path, token=tok)
    check("alt=media without Accept-Encoding: gzip: decompressed, no Content-Encoding, "
          "x-goog-hash of the stored bytes", st == 200 and got == text and
          not r.getheader("Content-Encoding") and
          "crc32c=%s" % crc_b64(gz) in (r.getheader("x-goog-hash") or ""), (st, len(got)))
    st, r, got = req("GET", path, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"},
                     token=tok)
    check("... with Accept-Encoding: gzip: the stored bytes (Range applies), "
          "Content-Encoding: gzip", st == 206 and got == gz[:10] and
          r.getheader("Content-Encoding") == "gzip", (st, got[:10]))


def test_many_components(tok, bucket):
    media(tok, bucket, "m/one", b"x")
    def compose(dest, srcs):
        body = json.dumps({"sourceObjects": [{"name": s} for s in srcs]}).encode()
        st, _, out = req("POST", "/storage/v1/b/%s/o/%s/compose" % (bucket, q(dest)), body,
                         {"Content-Type": "application/json"}, tok)
        return st, js(out) or {}
    compose("m/32", ["m/one"] * 32)
    compose("m/1024", ["m/32"] * 32)
    st, o = compose("m/1025", ["m/1024", "m/one"])
    check("compose past 1024 components (GCS has no cap now): componentCount 1025",
          st == 200 and o.get("componentCount") == 1025 and o.get("size") == "1025",
          (st, o))


def test_resumable(tok, bucket):
    data = os.urandom(3 * CHUNK + 1000)
    meta = json.dumps({"name": "res", "contentType": "x/res", "crc32c": crc_b64(data)})
    st, r, _ = req("POST", "/upload/storage/v1/b/%s/o?uploadType=resumable" % bucket,
                   meta.encode(), {"Content-Type": "application/json",
                                   "X-Upload-Content-Length": str(len(data))}, tok)
    loc = r.getheader("Location") or ""
    check("resumable start: 200 + Location with upload_id", st == 200 and "upload_id=" in loc,
          (st, loc))
    sess = loc[len(ENDPOINT):]
    uid = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["upload_id"][0]

    def put(first, chunk, total="*", extra=None):
        h = {"Content-Range": "bytes %d-%d/%s" % (first, first + len(chunk) - 1, total)}
        h.update(extra or {})
        return req("PUT", sess, chunk, h, tok)
    st, r, _ = put(0, data[:CHUNK])
    check("chunk 1: 308, Range bytes=0-262143",
          st == 308 and r.getheader("Range") == "bytes=0-262143", (st, r.getheaders()))
    st, r, _ = put(CHUNK, data[CHUNK:CHUNK + 300000])
    check("an unaligned non-final chunk: only a multiple of 256 KiB kept",
          st == 308 and r.getheader("Range") == "bytes=0-524287", r.getheader("Range"))
    st, r, _ = req("PUT", sess, b"", {"Content-Range": "bytes */*"}, tok)
    check("status query: 308 with the same Range",
          st == 308 and r.getheader("Range") == "bytes=0-524287", (st, r.getheader("Range")))
    st, r, _ = req("PUT", sess, b"", {"Content-Range": "bytes */*",
                                      "X-GUploader-No-308": "yes"}, tok)
    check("X-GUploader-No-308: 200 + X-HTTP-Status-Code-Override: 308",
          st == 200 and r.getheader("X-HTTP-Status-Code-Override") == "308", st)
    st, _, body = put(3 * CHUNK, data[3 * CHUNK:3 * CHUNK + 10])
    check("a chunk past the stored offset: 400", st == 400, (st, body[:200]))

    # A body cut short: headers for a whole chunk, 600 KiB sent, connection closed.
    s = socket.create_connection((HOST, PORT))
    first, n = 2 * CHUNK, 1000 + CHUNK
    head = ("PUT %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
            "Content-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n"
            % (sess, HOST, PORT, tok, first, first + n - 1, len(data), n)).encode()
    s.sendall(head + data[first:first + 100000])
    s.close()
    time.sleep(0.3)
    st, r, _ = req("PUT", sess, b"", {"Content-Range": "bytes */%d" % len(data)}, tok)
    check("after a body cut short: what arrived, rounded down to 256 KiB",
          st == 308 and r.getheader("Range") == "bytes=0-524287", (st, r.getheader("Range")))
    # A stalled request (connection open, body unfinished) does not hold the session:
    # the status query answers at once, and the stalled request is dropped.
    s = socket.create_connection((HOST, PORT))
    s.sendall(head + data[first:first + CHUNK + 5])
    time.sleep(0.3)
    t0 = time.time()
    st, r, _ = req("PUT", sess, b"", {"Content-Range": "bytes */%d" % len(data)}, tok)
    check("status query during a stalled request: at once, its data kept to 256 KiB",
          st == 308 and r.getheader("Range") == "bytes=0-786431" and time.time() - t0 < 5,
          (st, r.getheader("Range"), time.time() - t0))
    s.sendall(data[first + CHUNK + 5:first + CHUNK + 100])
    s.settimeout(5)
    try:
        dropped = s.recv(100) == b""
    except OSError:
        dropped = True
    s.close()
    check("... and the stalled request is closed without an answer", dropped)
    # Resume overlapping what the server has: the overlap is skipped.
    st, _, body = put(CHUNK, data[CHUNK:], total=str(len(data)))
    o = js(body) or {}
    check("final chunk (overlapping): 200 with the object, crc32c verified",
          st == 200 and o.get("size") == str(len(data)) and o.get("md5Hash") == md5_b64(data)
          and o.get("contentType") == "x/res", (st, body[:300]))
    st, _, body = req("PUT", sess, b"", {"Content-Range": "bytes */*"})
    check("status query after the end, without a token (the session URI is the "
          "credential): 200 with the object", st == 200, st)
    _, _, body = req("GET", "/_test/uploads")
    u = (js(body) or {}).get(uid, {})
    check("/_test/uploads counts the bytes received",
          u.get("done") and u.get("bytes_received") >= len(data) and u.get("puts") >= 6, u)

    # A checksum mismatch fails the session; cancel answers 499.
    for what in ("mismatch", "cancel"):
        st, r, _ = req("POST", "/upload/storage/v1/b/%s/o?uploadType=resumable&name=res2"
                       % bucket, json.dumps({"md5Hash": md5_b64(b"nope")}).encode(),
                       {"Content-Type": "application/json"}, tok)
        sess = r.getheader("Location")[len(ENDPOINT):]
        if what == "mismatch":
            st, _, body = req("PUT", sess, b"abc", {"Content-Range": "bytes 0-2/3"}, tok)
            st2, _, _ = req("GET", "/storage/v1/b/%s/o/res2" % bucket, token=tok)
            check("resumable with a wrong md5Hash: 400, nothing stored",
                  st == 400 and st2 == 404, (st, st2))
        else:
            st, _, _ = req("DELETE", sess, token=tok)
            st2, _, _ = req("PUT", sess, b"abc", {"Content-Range": "bytes 0-2/3"}, tok)
            check("cancel: DELETE 499, then the session refuses chunks",
                  st == 499 and st2 in (404, 410, 499), (st, st2))


def test_public(tok, bucket):
    path = "/storage/v1/b/%s/o/%s?alt=media" % (bucket, q("multi"))
    st0, _, _ = req("GET", path)
    req("POST", "/_test/public?bucket=" + bucket)
    st1, _, body = req("GET", path)
    st2, _, _ = media(None, bucket, "anon", b"x")
    req("POST", "/_test/public?bucket=%s&public=false" % bucket)
    st3, _, _ = req("GET", path)
    check("public bucket: anonymous read allowed, write refused, then private again",
          (st0, st1, body, st2, st3) == (401, 200, b"hello", 401, 401),
          (st0, st1, st2, st3))


def test_global_hooks():
    """token_ttl and expire-tokens without token= reach every client: on a server of
    this test's own."""
    global ENDPOINT, SA, KEY, HOST, PORT
    saved = ENDPOINT, SA, KEY, HOST, PORT
    own = tempfile.mkdtemp(prefix="gcs-api-")
    sh = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server.sh")
    try:
        subprocess.run([sh, "start", "gcs", own], check=True)
        ENDPOINT = open(os.path.join(own, "endpoint")).read().strip()
        SA = json.load(open(os.path.join(own, "sa.json")))
        KEY = serialization.load_pem_private_key(SA["private_key"].encode(), None)
        HOST, PORT = "127.0.0.1", int(open(os.path.join(own, "port")).read())
        st, _, _ = req("POST", "/_test/config", json.dumps({"token_ttl": 1}).encode())
        st2, j = grant({"grant_type": JWT_BEARER, "assertion": jwt()})
        short = j.get("access_token")
        st3, _, _ = req("GET", "/storage/v1/b?project=xt-test", token=short)
        time.sleep(1.2)
        st4, _, _ = req("GET", "/storage/v1/b?project=xt-test", token=short)
        check("token_ttl 1: expires_in 1, and 401 a second later",
              (st, st2, j.get("expires_in"), st3, st4) == (200, 200, 1, 200, 401),
              (st, st2, j, st3, st4))
        req("POST", "/_test/config", json.dumps({"token_ttl": None}).encode())
        toks = [token() for _ in range(2)]
        st = req("POST", "/_test/expire-tokens")[0]
        sts = [req("GET", "/storage/v1/b?project=xt-test", token=t)[0] for t in toks]
        st5, j = grant({"grant_type": JWT_BEARER, "assertion": jwt()})
        st6 = req("GET", "/storage/v1/b?project=xt-test", token=j.get("access_token"))[0]
        check("expire-tokens: every token 401, a new grant works",
              (st, sts, st5, st6) == (200, [401, 401], 200, 200), (st, sts, st5, st6))
    finally:
        subprocess.run([sh, "stop", "gcs", own])
        shutil.rmtree(own, ignore_errors=True)
        ENDPOINT, SA, KEY, HOST, PORT = saved


def batch_body(boundary, calls, cid="<%d>"):
    """A multipart/mixed body of (method, path, headers) calls."""
    out = ""
    for i, (m, path, h) in enumerate(calls):
        out += "--%s\r\nContent-Type: application/http\r\nContent-ID: %s\r\n\r\n" % (
            boundary, cid % i)
        out += "%s %s HTTP/1.1\r\n" % (m, path)
        out += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n\r\n"
    return (out + "--%s--\r\n" % boundary).encode()


def batch_parts(r, data):
    """[(content_id, status, body_json)] of a batch answer."""
    ct = r.getheader("Content-Type", "")
    b = ct.split("boundary=", 1)[1].strip('"')
    out = []
    for piece in data.split(b"--" + b.encode())[1:]:
        if piece.startswith(b"--"):
            break
        mime, _, http = piece.strip(b"\r\n").partition(b"\r\n\r\n")
        cid = [l.split(b":", 1)[1].strip().decode() for l in mime.split(b"\r\n")
               if l.lower().startswith(b"content-id:")]
        status = int(http.split(b" ", 2)[1])
        body = http.partition(b"\r\n\r\n")[2]
        out.append((cid[0] if cid else None, status, js(body)))
    return out


def test_batch(tok, bucket):
    names = ["bat/%d" % i for i in range(3)]
    for n in names:
        media(tok, bucket, n, b"x")
    # Each call carries its own Authorization and is judged on it: a bogus
    # token fails its call only; calls answer in order, Content-ID echoed.
    auth = {"Authorization": "Bearer " + tok}
    calls = [("DELETE", "/storage/v1/b/%s/o/%s" % (bucket, q(names[0])), auth),
             ("DELETE", "/storage/v1/b/%s/o/%s" % (bucket, q(names[1])),
              {"Authorization": "Bearer bogus"}),
             ("DELETE", "/storage/v1/b/%s/o/%s" % (bucket, q("bat/none")), auth),
             ("GET", "/storage/v1/b/%s/o/%s" % (bucket, q(names[2])), auth)]
    st, r, data = req("POST", "/batch/storage/v1", batch_body("b=x", calls),
                      {"Content-Type": 'multipart/mixed; boundary="b=x"'})
    parts = batch_parts(r, data) if st == 200 else []
    check("batch: 200 multipart/mixed", st == 200 and
          r.getheader("Content-Type", "").startswith("multipart/mixed; boundary="), (st, data))
    check("batch: one response per call, in order, Content-ID <response-N>",
          [p[0] for p in parts] == ["<response-%d>" % i for i in range(4)], parts)
    check("batch: statuses 204, 401 (its own bad token), 404, 200",
          [p[1] for p in parts] == [204, 401, 404, 200], parts)
    check("batch: the GET's resource", len(parts) == 4 and
          (parts[3][2] or {}).get("name") == names[2], parts)
    st, _, _ = req("GET", "/storage/v1/b/%s/o/%s" % (bucket, q(names[1])), token=tok)
    check("batch: the call refused 401 deleted nothing", st == 200, st)
    # The outer request's Authorization applies to calls without their own.
    st, r, data = req("POST", "/batch/storage/v1", batch_body("B", [
        ("DELETE", "/storage/v1/b/%s/o/%s" % (bucket, q(names[1])), {})]),
        {"Content-Type": "multipart/mixed; boundary=B"}, token=tok)
    parts = batch_parts(r, data) if st == 200 else []
    check("batch: the outer Authorization serves calls without one",
          [p[1] for p in parts] == [204], (st, parts))
    # 100 calls at most; a body that is not multipart/mixed; a call that is not
    # the JSON API; a body without its close delimiter.
    many = [("DELETE", "/storage/v1/b/%s/o/x%d" % (bucket, i), auth) for i in range(101)]
    st, _, data = req("POST", "/batch/storage/v1", batch_body("B", many),
                      {"Content-Type": "multipart/mixed; boundary=B"})
    check("batch: 101 calls refused 400", st == 400 and b"at most 100" in data, (st, data))
    st, r, data = req("POST", "/batch/storage/v1", batch_body("B", many[:100]),
                      {"Content-Type": "multipart/mixed; boundary=B"})
    check("batch: 100 calls answered", st == 200 and len(batch_parts(r, data)) == 100,
          st)
    st, _, data = req("POST", "/batch/storage/v1", b"{}",
                      {"Content-Type": "application/json"})
    check("batch: not multipart/mixed refused 400", st == 400, (st, data))
    st, r, data = req("POST", "/batch/storage/v1", batch_body("B", [
        ("GET", "/upload/storage/v1/b/%s/o" % bucket, auth)]),
        {"Content-Type": "multipart/mixed; boundary=B"})
    parts = batch_parts(r, data) if st == 200 else []
    check("batch: a call outside the JSON API is its own 400",
          [p[1] for p in parts] == [400], (st, parts))
    st, _, data = req("POST", "/batch/storage/v1", batch_body("B", calls[:1])[:-10],
                      {"Content-Type": "multipart/mixed; boundary=B"})
    check("batch: no close delimiter refused 400", st == 400, (st, data))
    # temporaryHold refuses a delete (403 forbidden) until released.
    st, _, data = req("PATCH", "/storage/v1/b/%s/o/%s" % (bucket, q(names[2])),
                      b'{"temporaryHold": true}', {"Content-Type": "application/json"},
                      token=tok)
    check("hold: set", st == 200 and (js(data) or {}).get("temporaryHold") is True,
          (st, data))
    st, _, data = req("DELETE", "/storage/v1/b/%s/o/%s" % (bucket, q(names[2])), token=tok)
    check("hold: delete refused 403 forbidden", (st, reason(data)) == (403, (403, "forbidden")),
          (st, data))
    req("PATCH", "/storage/v1/b/%s/o/%s" % (bucket, q(names[2])),
        b'{"temporaryHold": false}', {"Content-Type": "application/json"}, token=tok)
    st, _, _ = req("DELETE", "/storage/v1/b/%s/o/%s" % (bucket, q(names[2])), token=tok)
    check("hold: released, deleted", st == 204, st)


def cleanup(tok, bucket):
    st, _, body = req("GET", "/storage/v1/b/%s/o?versions=true" % bucket, token=tok)
    for i in (js(body) or {}).get("items", []):
        req("DELETE", "/storage/v1/b/%s/o/%s?generation=%s" % (bucket, q(i["name"]),
                                                               i["generation"]), token=tok)
    st, _, _ = req("DELETE", "/storage/v1/b/" + bucket, token=tok)
    check("cleanup: bucket deleted", st == 204, st)


def main():
    test_token_endpoint()
    tok = token()
    bucket = test_buckets(tok)
    test_objects(tok, bucket)
    test_lists(tok, bucket)
    test_compose_rewrite(tok, bucket)
    test_transcoding(tok, bucket)
    test_many_components(tok, bucket)
    test_resumable(tok, bucket)
    test_public(tok, bucket)
    test_bearer(tok, bucket)
    test_batch(tok, bucket)
    cleanup(tok, bucket)
    test_global_hooks()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
