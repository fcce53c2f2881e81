"""OAuth2 for the GCS test server: the service account's key pair, the token endpoint's
grants (JWT bearer, refresh token) and the bearer tokens it accepts.

Google's token endpoint answers errors as {"error": CODE, "error_description": TEXT}
(400 for a bad grant, 401 for an unknown client); the checks below follow what it
enforces: RS256 signature by the registered key, iss, aud = the token URI, a scope,
iat/exp no more than an hour apart and within 5 minutes of skew.
"""
import base64
import json
import secrets
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SKEW_S = 300
MAX_LIFETIME_S = 3600
STORAGE_SCOPES = (
    "https://www.googleapis.com/auth/devstorage.read_write",
    "https://www.googleapis.com/auth/devstorage.full_control",
    "https://www.googleapis.com/auth/cloud-platform",
)
READ_SCOPES = ("https://www.googleapis.com/auth/devstorage.read_only",)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_EMAIL = "xt-test@xt-test.iam.gserviceaccount.com"
PROJECT_ID = "xt-test"
PROJECT_NUMBER = "123456789012"


class GrantError(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def b64url_decode(s):
    s = s.encode() if isinstance(s, str) else s
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


class Auth:
    """Keys, issued tokens and the two grants. Thread-safe."""

    def __init__(self, token_uri, endpoint):
        self.lock = threading.Lock()
        self.token_uri = token_uri
        self.endpoint = endpoint
        self.ttl = 3600
        self.tokens = {}  # opaque token -> expiry (epoch s)
        self.grants = 0
        # The clock hook (POST /_test/clock): the seconds the server's clock
        # (the grant's iat/exp check, its Date) is moved by, and the grants
        # refused for their times since it was last set.
        self.clock_skew = 0
        self.clock_refusals = 0
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(20)
        self.public_keys = {CLIENT_EMAIL: (self.key_id, self.key.public_key())}
        self.client_id = "%d" % (10 ** 20 + secrets.randbelow(10 ** 20))
        self.user_client_id = "%s.apps.googleusercontent.com" % secrets.token_hex(16)
        self.user_client_secret = secrets.token_urlsafe(18)
        self.user_refresh_token = "1//" + secrets.token_urlsafe(48)

    def service_account_json(self):
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": PROJECT_ID,
            "private_key_id": self.key_id,
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + CLIENT_EMAIL.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }

    def authorized_user_json(self):
        return {
            "client_id": self.user_client_id,
            "client_secret": self.user_client_secret,
            "refresh_token": self.user_refresh_token,
            "type": "authorized_user",
        }

    # -- tokens --------------------------------------------------------------
    def _issue(self):
        tok = "ya29.xt-" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[tok] = time.time() + self.ttl
            self.grants += 1
            ttl = self.ttl
        return {"access_token": tok, "expires_in": ttl, "token_type": "Bearer"}

    def expire(self, token=None, after=0.0):
        """Expire one token (None: every token issued so far) after that many seconds.
        False if token is not one we issued."""
        when = time.time() + after
        with self.lock:
            if token is not None:
                if token not in self.tokens:
                    return False
                self.tokens[token] = when
                return True
            for t in self.tokens:
                self.tokens[t] = when
            return True

    def check_bearer(self, token):
        """None if the token is live (one we issued, or a self-signed JWT of the
        service account, as Google's APIs accept), else why not."""
        with self.lock:
            exp = self.tokens.get(token)
        if exp is not None:
            return None if exp > time.time() else "expired"
        if token.count(".") == 2 and token.startswith("ey"):
            try:
                claims = self._verify_jwt(token)
            except GrantError as e:
                return e.description
            aud = claims.get("aud")
            scope = claims.get("scope")
            if scope is not None:
                if not _has_scope(scope, STORAGE_SCOPES + READ_SCOPES):
                    return "self-signed JWT without a storage scope"
            elif aud not in ("https://storage.googleapis.com/", self.endpoint + "/",
                             self.endpoint):
                return "self-signed JWT for another audience"
            return None
        return "unknown"

    def read_only(self, token):
        """True if the token is a self-signed JWT whose scopes only read (the
        tokens we issue always carry a read/write scope)."""
        if token.count(".") != 2 or not token.startswith("ey"):
            return False
        try:
            scope = self._verify_jwt(token).get("scope")
        except GrantError:
            return False
        return scope is not None and not _has_scope(scope, STORAGE_SCOPES)

    # -- grants --------------------------------------------------------------
    def grant(self, form):
        gt = form.get("grant_type", "")
        if gt == JWT_BEARER:
            assertion = form.get("assertion")
            if not assertion:
                raise GrantError(400, "invalid_request", "Missing required parameter: assertion")
            claims = self._verify_jwt(assertion)
            aud = claims.get("aud")
            if aud != self.token_uri:
                raise GrantError(400, "invalid_grant",
                                 "Invalid JWT: Failed audience check. The right audience is %s"
                                 % self.token_uri)
            scope = claims.get("scope")
            if not isinstance(scope, str) or not scope:
                raise GrantError(400, "invalid_scope",
                                 "Invalid OAuth scope or ID token audience provided.")
            if not _has_scope(scope, STORAGE_SCOPES):
                raise GrantError(400, "invalid_scope",
                                 "The scope does not grant storage read/write access.")
            return self._issue()
        if gt == "refresh_token":
            if form.get("client_id") != self.user_client_id or not secrets.compare_digest(
                    form.get("client_secret", ""), self.user_client_secret):
                raise GrantError(401, "invalid_client", "The OAuth client was not found.")
            if not secrets.compare_digest(form.get("refresh_token", ""),
                                          self.user_refresh_token):
                raise GrantError(400, "invalid_grant", "Bad Request")
            return self._issue()
        raise GrantError(400, "unsupported_grant_type", "Invalid grant_type: %s" % gt)

    def _verify_jwt(self, jwt):
        parts = jwt.split(".")
        if len(parts) != 3:
            raise GrantError(400, "invalid_grant", "Invalid JWT: malformed.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except (ValueError, TypeError):
            raise GrantError(400, "invalid_grant", "Invalid JWT: malformed.")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise GrantError(400, "invalid_grant", "Invalid JWT: malformed.")
        if header.get("alg") != "RS256":
            raise GrantError(400, "invalid_grant", "Invalid JWT: unsupported algorithm.")
        iss = claims.get("iss")
        known = self.public_keys.get(iss)
        if known is None:
            raise GrantError(400, "invalid_grant", "Invalid JWT: unknown issuer.")
        kid, pub = known
        if "kid" in header and header["kid"] != kid:
            raise GrantError(400, "invalid_grant", "Invalid JWT Signature.")
        try:
            pub.verify(sig, (parts[0] + "." + parts[1]).encode(),
                       padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise GrantError(400, "invalid_grant", "Invalid JWT Signature.")
        iat, exp = claims.get("iat"), claims.get("exp")
        now = time.time() + self.clock_skew
        if (not isinstance(iat, (int, float)) or not isinstance(exp, (int, float))
                or exp <= iat or exp - iat > MAX_LIFETIME_S
                or iat > now + SKEW_S or exp < now - SKEW_S):
            with self.lock:
                self.clock_refusals += 1
            raise GrantError(400, "invalid_grant",
                             "Invalid JWT: Token must be a short-lived token (60 minutes) and "
                             "in a reasonable timeframe. Check your iat and exp values in the "
                             "JWT claim.")
        return claims


def _has_scope(scope, wanted):
    return any(s in wanted for s in scope.split())
