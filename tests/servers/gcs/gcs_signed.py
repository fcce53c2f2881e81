"""V4 signed URLs (GOOG4-RSA-SHA256) for the GCS test server: the checks GCS makes on
a request whose query carries X-Goog-Signature, following Google's "V4 signing
process" document: the algorithm, a credential scope of a known service account
(CLIENT_EMAIL/DATE/LOCATION/storage/goog4_request), X-Goog-Date within the scope's
day, X-Goog-Expires from 1 to 604800 seconds and not past, every signed header
present (host without its port, as the signer leaves it out), and the RSA-SHA256
signature over the string to sign with the account's public key.

check() returns None when the request may go on, else (status, code, message) for an
XML error, as the XML API answers.
"""
import binascii
import calendar
import hashlib
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

ALGORITHM = "GOOG4-RSA-SHA256"
MAX_EXPIRES = 604800
SKEW_S = 300


def _enc(s, safe):
    return urllib.parse.quote(s, safe=safe)


def canonical_request(method, raw_path, query, headers, signed):
    """The canonical request of Google's document: the path and the query
    re-encoded (RFC 3986 unreserved characters kept), X-Goog-Signature left out."""
    path = _enc(urllib.parse.unquote(raw_path), "/~")
    q = sorted((_enc(k, "~"), _enc(v, "~")) for k, v in query if k != "X-Goog-Signature")
    cq = "&".join("%s=%s" % kv for kv in q)
    ch = "".join("%s:%s\n" % (n, " ".join(headers[n].split())) for n in signed)
    payload = headers.get("x-goog-content-sha256", "UNSIGNED-PAYLOAD")
    return "\n".join([method, path, cq, ch, ";".join(signed), payload])


def check(method, raw_path, query, req_headers, public_keys, now=None):
    """query: the (name, value) pairs as sent; req_headers: the request's headers
    (a mapping, case-insensitive get); public_keys: client_email -> (kid, key)."""
    now = time.time() if now is None else now
    q = dict(query)

    def bad(why):
        return (400, "AuthorizationQueryParametersError", why)

    if q.get("X-Goog-Algorithm") != ALGORITHM:
        return bad("X-Goog-Algorithm must be %s." % ALGORITHM)
    cred = q.get("X-Goog-Credential", "").split("/")
    if len(cred) != 5 or cred[3] != "storage" or cred[4] != "goog4_request":
        return bad("X-Goog-Credential is malformed.")
    known = public_keys.get(cred[0])
    if known is None:
        return (403, "InvalidAccessKeyId", "The service account does not exist.")
    date = q.get("X-Goog-Date", "")
    try:
        t0 = calendar.timegm(time.strptime(date, "%Y%m%dT%H%M%SZ"))
        expires = int(q.get("X-Goog-Expires", ""))
    except ValueError:
        return bad("X-Goog-Date or X-Goog-Expires is malformed.")
    if date[:8] != cred[1]:
        return bad("X-Goog-Date is not the credential scope's day.")
    if not 1 <= expires <= MAX_EXPIRES:
        return bad("X-Goog-Expires must be 1 to %d seconds." % MAX_EXPIRES)
    if t0 > now + SKEW_S:
        return bad("X-Goog-Date is in the future.")
    if now > t0 + expires:
        return (400, "ExpiredToken", "Invalid argument: the request has expired.")
    signed = q.get("X-Goog-SignedHeaders", "").split(";")
    if "host" not in signed or signed != sorted(signed):
        return bad("X-Goog-SignedHeaders must be sorted and include host.")
    headers = {}
    for n in signed:
        v = req_headers.get(n)
        if v is None:
            return (403, "SignatureDoesNotMatch", "Signed header %s is missing." % n)
        headers[n] = v.rsplit(":", 1)[0] if n == "host" and v.count(":") == 1 else v
    creq = canonical_request(method, raw_path, query, headers, signed)
    sts = "\n".join([ALGORITHM, date, "/".join(cred[1:]),
                     hashlib.sha256(creq.encode()).hexdigest()])
    try:
        sig = binascii.unhexlify(q.get("X-Goog-Signature", ""))
        known[1].verify(sig, sts.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return (403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided.")
    return None
