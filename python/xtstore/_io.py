"""Bodies as the C callbacks want them: a read source for puts (bytes, str,
file objects, iterators of bytes) and a write sink for gets (file objects,
callables), each chunk handed over as it streams -- nothing is held whole.

A Python exception inside a callback is kept on the _Call and the callback
returns non-zero, which stops the C operation (STORE_E_ABORTED); _Call.check
then raises the original exception instead.
"""
import ctypes

from . import errors
from ._native import StoreError


class _Call:
    """The store_error of one C call and an exception a callback raised."""

    def __init__(self):
        self.err = StoreError()
        self.err.struct_size = ctypes.sizeof(StoreError)
        self.exc = None

    def guard(self, fn, fail=1):
        """fn wrapped for C: an exception is kept and `fail` returned."""
        def wrapped(*args):
            if self.exc is not None:
                return fail
            try:
                r = fn(*args)
                return 0 if r is None else r
            except BaseException as e:  # re-raised by check()
                self.exc = e
                return fail
        return wrapped

    def error(self, rc):
        e = self.err
        return errors.from_code(
            rc, e.message.decode("utf-8", "replace"),
            http_status=e.http_status,
            provider_code=e.provider_code.decode("utf-8", "replace"),
            request_id=e.request_id.decode("utf-8", "replace"),
            sys_errno=e.sys_errno)

    def check(self, rc):
        # A progress or log callback cannot stop its op: what it raised is
        # raised once the op is over, whatever the op returned.
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc
        if rc:
            raise self.error(rc)


def _cbuf(addr, n):
    return memoryview((ctypes.c_char * n).from_address(addr)).cast("B")


class Source:
    """A put body: bytes-like, str (UTF-8), a binary file object (read from
    its current position; rewound there for a retry when seekable), or an
    iterable of bytes chunks (not replayable: tried once)."""

    def __init__(self, data):
        self.length = -1
        self._mem = self._file = self._iter = None
        self._start = None
        if isinstance(data, str):
            data = data.encode("utf-8")
        if isinstance(data, (bytes, bytearray, memoryview)):
            self._mem = memoryview(data).cast("B")
            self._pos = 0
            self.length = len(self._mem)
        elif hasattr(data, "read"):
            self._file = data
            try:
                if data.seekable():
                    self._start = data.tell()
            except (AttributeError, OSError):
                self._start = None
        else:
            self._iter = iter(data)
            self._left = memoryview(b"")

    @property
    def replayable(self):
        return self._mem is not None or self._start is not None

    def read(self, _ud, buf, cap, out_n):
        if self._mem is not None:
            n = min(cap, len(self._mem) - self._pos)
            ctypes.memmove(buf, bytes(self._mem[self._pos:self._pos + n]), n)
            self._pos += n
        elif self._file is not None:
            if hasattr(self._file, "readinto"):
                n = self._file.readinto(_cbuf(buf, cap)) or 0
            else:
                chunk = self._file.read(cap) or b""
                n = len(chunk)
                ctypes.memmove(buf, chunk, n)
        else:
            while not len(self._left):
                chunk = next(self._iter, None)
                if chunk is None:
                    break
                if isinstance(chunk, str):
                    chunk = chunk.encode("utf-8")
                self._left = memoryview(chunk).cast("B")
            n = min(cap, len(self._left))
            _cbuf(buf, n)[:] = self._left[:n] if n else b""
            self._left = self._left[n:]
        out_n[0] = n
        return 0

    def rewind(self, _ud):
        if self._mem is not None:
            self._pos = 0
        else:
            self._file.seek(self._start)
        return 0


class Sink:
    """A get body's destination: a binary file object (write) or a
    callable taking each chunk as bytes."""

    def __init__(self, target):
        self._write = target.write if hasattr(target, "write") else target
        self.bytes = 0

    def write(self, _ud, buf, n):
        self._write(ctypes.string_at(buf, n))
        self.bytes += n
        return 0
