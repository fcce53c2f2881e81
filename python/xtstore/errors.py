"""One exception class per STORE_E_* code of store_interface.h.

Every error of the library is an XtstoreError; its message is the host's
one-line error (it names the service and the object, never a secret), and
its attributes carry the rest of the C store_error.
"""


class XtstoreError(Exception):
    """An operation failed; ``code`` is its STORE_E_* value."""
    code = 12
    name = "STORE_E_INTERNAL"

    def __init__(self, message, http_status=0, provider_code="",
                 request_id="", sys_errno=0):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.provider_code = provider_code
        self.request_id = request_id
        self.sys_errno = sys_errno


def _cls(name, code, doc):
    return type(name, (XtstoreError,),
                {"code": code, "name": "STORE_E_" + doc[0], "__doc__": doc[1]})


NotFoundError = _cls("NotFoundError", 1, ("NOT_FOUND",
                     "Container, blob or snapshot missing."))
ExistsError = _cls("ExistsError", 2, ("EXISTS", "Already exists."))
PermissionDeniedError = _cls("PermissionDeniedError", 3, ("PERMISSION",
                             "Authenticated but not allowed (403)."))
InvalidError = _cls("InvalidError", 4, ("INVALID",
                    "Malformed name, key or argument."))
UnsupportedError = _cls("UnsupportedError", 5, ("UNSUPPORTED",
                        "Operation or option not offered by this store."))
PreconditionError = _cls("PreconditionError", 6, ("PRECONDITION",
                         "If-match failed, wrong blob type, ..."))
ThrottledError = _cls("ThrottledError", 7, ("THROTTLED",
                      "429, 503 SlowDown, ServerBusy."))
TimedOutError = _cls("TimedOutError", 8, ("TIMEOUT",
                     "Request or connection timed out."))
StoreIOError = _cls("StoreIOError", 9, ("IO",
                    "Local I/O or network failure, or a checksum mismatch."))
NoMemoryError = _cls("NoMemoryError", 10, ("NOMEM", "Allocation failed."))
AbortedError = _cls("AbortedError", 11, ("ABORTED",
                    "A callback asked to stop, or the context was cancelled."))
InternalError = _cls("InternalError", 12, ("INTERNAL",
                     "A bug, or an unexpected server reply."))
AuthError = _cls("AuthError", 13, ("AUTH",
                 "Bad or missing credentials (401, signature)."))
ConfigError = _cls("ConfigError", 14, ("CONFIG", "Bad configuration."))
NotEmptyError = _cls("NotEmptyError", 15, ("NOT_EMPTY",
                     "Container not empty, or blob has snapshots."))
ServerError = _cls("ServerError", 16, ("SERVER",
                   "Server-side failure (5xx)."))

BY_CODE = {c.code: c for c in (
    NotFoundError, ExistsError, PermissionDeniedError, InvalidError,
    UnsupportedError, PreconditionError, ThrottledError, TimedOutError,
    StoreIOError, NoMemoryError, AbortedError, InternalError, AuthError,
    ConfigError, NotEmptyError, ServerError)}


def from_code(code, message, **kw):
    """The exception for a STORE_E_* code (an unknown one is INTERNAL, as
    the ABI says)."""
    return BY_CODE.get(code, InternalError)(message, **kw)

__all__ = ["XtstoreError"] + [c.__name__ for c in BY_CODE.values()]
