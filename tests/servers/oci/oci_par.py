"""Pre-authenticated requests (PARs) for the OCI test server: what CreatePreauthenticatedRequest
keeps, and the checks a request through /p/{token}/n/{ns}/b/{bucket}/o/{object} passes,
as Object Storage documents them:

- accessType ObjectRead (GET, HEAD), ObjectWrite (PUT) or ObjectReadWrite on the one
  objectName given (the bucket-wide Any* types are not implemented: 400);
- timeExpires (RFC 3339) must be in the future when created; a request after it, or
  with a token never issued or deleted, is refused 404 NotAuthorizedOrNotFound, as a
  method the access type does not allow;
- a PAR's token is shown once, in accessUri, when it is created; its id (not the token)
  names it for GetPreauthenticatedRequest and DeletePreauthenticatedRequest.
"""
import calendar
import secrets
import threading
import time
import urllib.parse

ACCESS = {"ObjectRead": ("GET", "HEAD"), "ObjectWrite": ("PUT",),
          "ObjectReadWrite": ("GET", "HEAD", "PUT")}


class ParError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def parse_time(s):
    """RFC 3339 UTC ("2026-12-06T21:00:00Z", fractions allowed) to epoch seconds."""
    if not isinstance(s, str) or not s.endswith("Z"):
        raise ValueError(s)
    main, _, frac = s[:-1].partition(".")
    t = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
    return t + (float("0." + frac) if frac.isdigit() else 0.0)


class Pars:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_id = {}
        self.by_token = {}

    def create(self, ns, bucket, body, now, iso):
        name, kind = body.get("name"), body.get("accessType")
        obj, expires = body.get("objectName"), body.get("timeExpires")
        if not isinstance(name, str) or not name:
            raise ParError(400, "MissingParameter", "name is required")
        if kind not in ACCESS:
            raise ParError(400, "InvalidParameter",
                           "accessType %r is not implemented by this server" % kind)
        if not isinstance(obj, str) or not obj:
            raise ParError(400, "MissingParameter", "objectName is required for %s" % kind)
        try:
            until = parse_time(expires)
        except ValueError:
            raise ParError(400, "InvalidParameter", "timeExpires %r is not RFC 3339" % expires)
        if until <= now:
            raise ParError(400, "InvalidParameter", "timeExpires must be in the future")
        token = secrets.token_urlsafe(48)
        par = {"id": "par-" + secrets.token_hex(16), "name": name, "objectName": obj,
               "accessType": kind, "timeCreated": iso(now), "timeExpires": iso(until),
               "bucketListingAction": "Deny"}
        with self.lock:
            self.by_id[par["id"]] = (token, ns, bucket, until, par)
            self.by_token[token] = par["id"]
        out = dict(par)
        out["accessUri"] = "/p/%s/n/%s/b/%s/o/%s" % (
            token, ns, urllib.parse.quote(bucket, safe=""), urllib.parse.quote(obj, safe=""))
        return out

    def get(self, ns, bucket, par_id):
        with self.lock:
            e = self.by_id.get(par_id)
        if e is None or e[1] != ns or e[2] != bucket:
            raise ParError(404, "NotAuthorizedOrNotFound", "no PAR %r in this bucket" % par_id)
        return e[4]

    def delete(self, ns, bucket, par_id):
        self.get(ns, bucket, par_id)
        with self.lock:
            token = self.by_id.pop(par_id)[0]
            self.by_token.pop(token, None)

    def access(self, path, method, now):
        """The (ns, bucket, object) a /p/ path may reach with method, or ParError."""
        parts = path.split("/")
        # ["", "p", TOKEN, "n", NS, "b", BUCKET, "o", OBJECT...]
        if len(parts) < 9 or parts[3] != "n" or parts[5] != "b" or parts[7] != "o":
            raise ParError(404, "NotAuthorizedOrNotFound", "not a PAR object path")
        ns, bucket = urllib.parse.unquote(parts[4]), urllib.parse.unquote(parts[6])
        obj = urllib.parse.unquote("/".join(parts[8:]))
        with self.lock:
            e = self.by_id.get(self.by_token.get(parts[2], ""))
        refused = ParError(404, "NotAuthorizedOrNotFound",
                           "Either the PAR does not exist, has expired or does not allow "
                           "this request")
        if e is None or now >= e[3] or (e[1], e[2], e[4]["objectName"]) != (ns, bucket, obj):
            raise refused
        if method not in ACCESS[e[4]["accessType"]]:
            raise refused
        return ns, bucket, obj
