"""Context, services, containers, blobs and workflows over libxtstore.

Threads: one Context may be used from several threads at once (the library
opens each service once under the context's lock and serialises the calls
to a plugin that is not thread-safe); close it only when no call is
running. Every C call releases the GIL; callbacks (bodies, progress, logs)
run with it, on the calling thread or on a library worker thread.
"""
import ctypes
import datetime
import os
import queue
import threading
from ctypes import byref, c_char_p, c_int, c_void_p, sizeof

from . import _native as N
from . import errors
from ._io import Sink, Source, _Call

LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG = 0, 1, 2, 3
STATUS_NAMES = ("copied", "new", "update", "equal", "deleted", "failed")

_ENTRY_PREFIX, _ENTRY_SNAPSHOT, _ENTRY_DIR_MARKER, _ENTRY_CONTAINER = 1, 2, 4, 8
_CKSUM_CRC32C = 1
_PUT_IF_NONE_MATCH = 1
_GET_RANGE = 1
_DELETE_SNAPSHOTS = 1
_LIST_SNAPSHOTS, _LIST_METADATA = 1, 2
_CONTAINER_DELETE_RECURSIVE = 1
_COPY_REPLACE_METADATA = 1
_ENTRY_CKSUM_END = N.StoreEntry.crc32c.offset + sizeof(ctypes.c_uint32)
_WF_DRY_RUN, _WF_CHECKSUM, _WF_DELETE, _WF_ALLOW_EMPTY = 1, 2, 4, 8
_EV_OBJECT = 2


def version():
    """The library's version ("0.1.0")."""
    return N.lib.xtstore_version().decode()


def _b(s):
    if s is None:
        return None
    return os.fsencode(s) if isinstance(s, os.PathLike) else s.encode("utf-8")


def _s(b):
    return None if b is None else b.decode("utf-8", "replace")


def _kvs(d):
    """A store_kv array for a dict (None: NULL, 0)."""
    if not d:
        return None, 0
    arr = (N.StoreKv * len(d))()
    for i, (k, v) in enumerate(d.items()):
        arr[i].key, arr[i].value = _b(k), _b(str(v))
    return arr, len(d)


class Entry:
    """One listing entry, or the properties of a blob or container."""
    __slots__ = ("name", "size", "mtime_ns", "etag", "content_type",
                 "snapshot_id", "content_md5", "metadata", "crc32c", "flags")

    def __init__(self, e):
        self.name = _s(e.name)
        self.size = e.size
        self.mtime_ns = None if e.mtime_ns == -2**63 else e.mtime_ns
        self.etag = _s(e.etag)
        self.content_type = _s(e.content_type)
        self.snapshot_id = _s(e.snapshot_id)
        self.content_md5 = _s(e.content_md5)
        self.metadata = {_s(e.metadata[i].key): _s(e.metadata[i].value)
                         for i in range(e.nmetadata)} if e.metadata else {}
        has = e.struct_size >= _ENTRY_CKSUM_END and e.checksums & _CKSUM_CRC32C
        self.crc32c = e.crc32c if has else None
        self.flags = e.flags

    is_prefix = property(lambda self: bool(self.flags & _ENTRY_PREFIX))
    is_snapshot = property(lambda self: bool(self.flags & _ENTRY_SNAPSHOT))
    is_dir_marker = property(lambda self: bool(self.flags & _ENTRY_DIR_MARKER))
    is_container = property(lambda self: bool(self.flags & _ENTRY_CONTAINER))

    @property
    def last_modified(self):
        """The modification time as an aware UTC datetime, or None."""
        if self.mtime_ns is None:
            return None
        return datetime.datetime.fromtimestamp(self.mtime_ns / 1e9,
                                               datetime.timezone.utc)

    def __repr__(self):
        return "Entry(%r, size=%d)" % (self.name, self.size)


class PutResult:
    """What the store reports it stored."""
    __slots__ = ("size", "etag", "version_id", "crc32c")

    def __init__(self, r):
        self.size = r.size
        self.etag = _s(r.etag) or None
        self.version_id = _s(r.version_id) or None
        self.crc32c = r.crc32c if r.checksums & _CKSUM_CRC32C else None


class ProgressEvent:
    """A workflow's progress (xtstore_progress): event is one of "start",
    "bytes", "object", "listed", "done"; source, target, size, status,
    code and error describe the object of an "object" event."""
    __slots__ = ("event", "objects_total", "objects_done", "objects_failed",
                 "bytes_total", "bytes_done", "totals_final", "source",
                 "target", "size", "status", "dry_run", "code", "error")
    EVENTS = ("start", "bytes", "object", "listed", "done")

    def __init__(self, p):
        self.event = self.EVENTS[p.event] if p.event < 5 else str(p.event)
        for f in ("objects_total", "objects_done", "objects_failed",
                  "bytes_total", "bytes_done", "size", "code"):
            setattr(self, f, getattr(p, f))
        self.totals_final = bool(p.totals_final)
        self.dry_run = bool(p.dry_run)
        obj = p.event == _EV_OBJECT
        self.source = _s(p.source) if obj else None
        self.target = _s(p.target) if obj else None
        self.status = STATUS_NAMES[p.status] if obj and p.status < 6 else None
        self.error = _s(p.error) if obj else None


class Stats:
    """A workflow's outcome: objects handled, count per status name,
    bytes copied, extra (sync: target objects the source lacks), seconds;
    put_fanout adds results: service -> ProgressEvent of its upload."""

    def __init__(self, st, results=None):
        self.objects = st.objects
        self.count = {STATUS_NAMES[i]: st.count[i] for i in range(6)}
        self.bytes = st.bytes
        self.extra = st.extra
        self.seconds = st.seconds
        self.results = results

    def __repr__(self):
        return "Stats(objects=%d, %r)" % (self.objects, self.count)


def _bytes_progress(call, progress, total):
    """A BYTES_FN reporting progress(done, total) (total may be None)."""
    state = {"done": 0, "total": total}

    def on_bytes(_ud, n):
        state["done"] += n
        progress(state["done"], state["total"])
    return N.BYTES_FN(call.guard(on_bytes, fail=None)), state


class Context:
    """A libxtstore context: the layered configuration and its services.

    config: a config file (--config), else $XTSTORE_CONFIG; the other
    layers (/etc, the user's, ./xt_config.yaml) are read unless turned
    off. memory: the transfer memory budget ("64M"). log: a callable
    (level, message) for the library's log lines (default: warnings and
    errors to stderr), log_level its most verbose level.
    """

    def __init__(self, config=None, *, system_config=True, user_config=True,
                 cwd_config=True, trust_cwd_config=False, memory=None,
                 log=None, log_level=LOG_WARN):
        self._h = None
        self._services = {}
        self._lock = threading.Lock()
        opts = N.CtxOpts()
        opts.struct_size = sizeof(N.CtxOpts)
        opts.flags = ((0 if system_config else 1) | (0 if user_config else 2) |
                      (0 if cwd_config else 4) | (8 if trust_cwd_config else 0))
        opts.config_path = _b(config)
        call = _Call()
        if log is not None:
            self._log = N.LOG_FN(call.guard(
                lambda _ud, lvl, msg: log(lvl, _s(msg)), fail=None))
            opts.log = self._log
        opts.log_level = log_level
        h = c_void_p()
        call.check(N.lib.xtstore_ctx_open(byref(opts), byref(h), byref(call.err)))
        self._h = h
        if memory is not None:
            self.set_memory(memory)

    def _handle(self):
        if not self._h:
            raise errors.InvalidError("xtstore context is closed")
        return self._h

    def close(self):
        """Close every service and the context (no call may be running)."""
        h, self._h = self._h, None
        self._services.clear()
        if h:
            N.lib.xtstore_ctx_close(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None):
            self.close()

    def cancel(self):
        """Ask running operations to stop (they raise AbortedError).
        Permanent: every later operation of this context is refused as
        aborted too, so open a new Context to go on. Safe from another
        thread or a signal handler; the one way to stop a call that takes
        no Python callback (put_file, get_file, copy, the workflows
        without progress), since Ctrl-C's KeyboardInterrupt only arrives
        once the C call returns."""
        N.lib.xtstore_ctx_cancel(self._handle())

    def set_memory(self, size):
        call = _Call()
        call.check(N.lib.xtstore_ctx_set_memory(self._handle(), _b(str(size)),
                                                byref(call.err)))

    @property
    def memory(self):
        """The transfer memory budget in bytes."""
        return N.lib.xtstore_ctx_memory(self._handle())

    @property
    def default_service(self):
        """The name of xt-services.storage, or None."""
        return _s(N.lib.xtstore_default_service(self._handle()))

    def services(self):
        """Every external-services entry, in config order, as dicts: name,
        type, provider, default, file, line, keys (secrets redacted)."""
        out = []
        call = _Call()

        def each(_ud, p):
            s = p.contents
            out.append({"name": _s(s.name), "type": _s(s.type),
                        "provider": _s(s.provider),
                        "default": bool(s.is_default), "file": _s(s.file),
                        "line": s.line,
                        "keys": {_s(s.kv[i].key): _s(s.kv[i].value)
                                 for i in range(s.nkv)}})
        fn = N.SERVICE_FN(call.guard(each))
        call.check(N.lib.xtstore_services_foreach(self._handle(), fn, None,
                                                  byref(call.err)))
        return out

    def service(self, name=None):
        """The service `name` (None: the default service), opened once."""
        call = _Call()
        h = c_void_p()
        call.check(N.lib.xtstore_service_open(self._handle(), _b(name),
                                              byref(h), byref(call.err)))
        with self._lock:
            svc = self._services.get(h.value)
            if svc is None:
                svc = self._services[h.value] = Service(self, h)
        return svc

    # --- workflows ------------------------------------------------------

    def _tree(self, spec, keep):
        """An xtstore_tree for an address "SVC:CONTAINER[/PREFIX]" (":C/P":
        the default service), a (service, container[, prefix]) tuple, or a
        local directory (str or path-like)."""
        t = N.Tree()
        t.struct_size = sizeof(N.Tree)
        if isinstance(spec, tuple):
            svc, container = spec[0], spec[1]
            prefix = spec[2] if len(spec) > 2 else None
        elif isinstance(spec, os.PathLike):
            t.path = _b(spec)
            keep.append(t.path)
            return t
        else:
            a = parse_address(spec)
            if a["service"] is False:
                t.path = _b(a["path"])
                keep.append(t.path)
                return t
            if not a["container"]:
                raise errors.InvalidError("'%s': no container" % spec)
            svc, container, prefix = a["service"], a["container"], a["key"]
            # The CLI's rule: "dir" means "dir/", "name*" is a raw prefix.
            if prefix and prefix.endswith("*"):
                prefix = prefix[:-1]
            elif prefix and not prefix.endswith("/"):
                prefix += "/"
        if not isinstance(svc, Service):
            svc = self.service(svc)
        keep.append(svc)
        t.svc = svc._h
        t.container, t.prefix = _b(container), _b(prefix)
        keep.extend((t.container, t.prefix))
        return t

    def _wf_opts(self, call, keep, progress, transfers, flags, events=None):
        o = N.WfOpts()
        o.struct_size = sizeof(N.WfOpts)
        o.flags = flags
        o.transfers = transfers
        if progress is not None or events is not None:
            # The library serialises the calls; a Python lock is not needed.
            def on(_ud, p):
                ev = ProgressEvent(p.contents)
                if events is not None and ev.event == "object":
                    events.append(ev)
                if progress is not None:
                    progress(ev)
            fn = N.PROGRESS_FN(call.guard(on, fail=None))
            keep.append(fn)
            o.progress = fn
        return o

    def _run(self, cfn, src, dst, progress, transfers, flags, shard=None,
             stop=None, **extra):
        call, keep = _Call(), []
        s, d = self._tree(src, keep), self._tree(dst, keep)
        o = self._wf_opts(call, keep, progress, transfers, flags)
        for k, v in extra.items():
            setattr(o, k, v)
        if shard is not None:
            try:
                i, n = (int(x) for x in shard)
            except (TypeError, ValueError):
                i, n = -1, 0
            if not 0 <= i < n <= 65536:
                raise errors.InvalidError(
                    "shard %r: expected (I, N) with 0 <= I < N" % (shard,))
            if n > 1 and cfn is N.lib.xtstore_migrate and \
                    not extra.get("run_id"):
                raise errors.InvalidError(
                    "shard %d/%d: a sharded migrate needs run_id (the "
                    "shards of one run share it)" % (i, n))
            o.shard_index, o.shard_count = i, n
        if stop is not None:
            # Called from the library's threads; ctypes takes the GIL.
            sfn = N.STOP_FN(lambda _ud: 1 if stop() else 0)
            keep.append(sfn)
            o.stop = sfn
        st = N.WfStats()
        st.struct_size = sizeof(N.WfStats)
        rc = cfn(self._handle(), byref(s), byref(d), byref(o), byref(st),
                 byref(call.err))
        return self._finish(call, rc, Stats(st))

    @staticmethod
    def _finish(call, rc, stats):
        try:
            call.check(rc)
        except errors.XtstoreError as e:
            e.stats = stats
            raise
        return stats

    @staticmethod
    def _flags(dry_run, checksum, allow_empty_source, delete=False):
        return ((_WF_DRY_RUN if dry_run else 0) |
                (_WF_CHECKSUM if checksum else 0) |
                (_WF_ALLOW_EMPTY if allow_empty_source else 0) |
                (_WF_DELETE if delete else 0))

    def copy_tree(self, src, dst, *, progress=None, transfers=0,
                  dry_run=False, allow_empty_source=False, shard=None,
                  stop=None):
        """Copy every object of the tree src to dst (see _tree for what a
        tree is). Returns Stats; a failure raises with .stats set.

        Every workflow also takes shard=(I, N): only the objects whose
        name relative to the tree hashes to shard I of N (shard_of;
        docs/sharding.md), and stop: a callable polled from the library's
        threads; once it returns true no new object starts, those in
        flight finish, and the call raises AbortedError ("stopped")."""
        return self._run(N.lib.xtstore_copy_tree, src, dst, progress,
                         transfers, self._flags(dry_run, False,
                                                allow_empty_source),
                         shard=shard, stop=stop)

    def migrate(self, src, dst, *, log=None, progress=None, transfers=0,
                checksum=False, dry_run=False, allow_empty_source=False,
                shard=None, run_id=None, stop=None):
        """Copy what is new or different; log (a local file, or an address
        "SVC:CONTAINER/KEY") gets one JSON record per object; run_id: the
        id every record carries (the shards of one run share it)."""
        extra = {"run_id": _b(run_id)} if run_id is not None else {}
        if log is not None:
            a = parse_address(log) if isinstance(log, str) else None
            if a and a["service"] is not False and a["key"]:
                svc = self.service(a["service"])
                extra.update({"log_svc": svc._h, "log_container":
                              _b(a["container"]), "log_key": _b(a["key"])})
            else:
                extra["log_path"] = _b(log)
        return self._run(N.lib.xtstore_migrate, src, dst, progress,
                         transfers, self._flags(dry_run, checksum,
                                                allow_empty_source),
                         shard=shard, stop=stop, **extra)

    def sync(self, src, dst, *, delete=False, max_delete=1000, progress=None,
             transfers=0, checksum=False, dry_run=False,
             allow_empty_source=False, shard=None, stop=None):
        """migrate without a log; with delete, target objects the source
        lacks go too (none when more than max_delete would: per shard with
        shard=)."""
        return self._run(N.lib.xtstore_sync, src, dst, progress, transfers,
                         self._flags(dry_run, checksum, allow_empty_source,
                                     delete), max_delete=max_delete,
                         shard=shard, stop=stop)

    def put_fanout(self, container, key, data, *, services=None,
                   source_name=None, progress=None, transfers=0,
                   content_type=None, metadata=None):
        """Upload one body (see put) to container/key of every named
        service (None: every storage service), reading it once. Returns
        Stats whose .results maps each service to its "object" event
        (status "copied" or "failed", error); when one failed the
        exception carries them as .stats."""
        call, keep, events = _Call(), [], []
        src = Source(data)
        rd = N.READ_FN(call.guard(src.read))
        names = None
        n = 0
        if services is not None:
            n = len(services)
            names = (c_char_p * max(n, 1))(*[_b(s) for s in services])
        popts = self._put_opts(src, content_type, metadata, False, None)
        o = self._wf_opts(call, keep, progress, transfers, 0, events)
        st = N.WfStats()
        st.struct_size = sizeof(N.WfStats)
        rc = N.lib.xtstore_put_fanout(
            self._handle(), names, n, _b(container), _b(key), byref(popts),
            rd, None, _b(source_name), byref(o), byref(st), byref(call.err))
        results = {ev.target.split(":", 1)[0]: ev for ev in events}
        return self._finish(call, rc, Stats(st, results))

    @staticmethod
    def _put_opts(src, content_type, metadata, if_none_match, if_match):
        o = N.StorePutOpts()
        o.struct_size = sizeof(N.StorePutOpts)
        o.content_length = src.length if src is not None else -1
        o.content_type = _b(content_type)
        md, o.nmetadata = _kvs(metadata)
        if md is not None:
            o.metadata = md       # the struct keeps the array alive
        o.flags = _PUT_IF_NONE_MATCH if if_none_match else 0
        o.if_match = _b(if_match)
        return o


def shard_of(name, count):
    """The shard (0..count-1) of an object named `name` relative to its
    tree, as every workflow's shard=(I, N) and `--shard I/N` compute it:
    the 32-bit FNV-1a of the name's bytes, modulo count."""
    return N.lib.xtstore_shard_of(_b(name), int(count))


def parse_address(text):
    """Split "SVC:CONTAINER/KEY" (service None: the default, ":C/K") into
    a dict service/container/key; a local path gives service False and
    path."""
    call = _Call()
    a = N.Addr()
    call.check(N.lib.xtstore_addr_parse(_b(str(text)), byref(a),
                                        byref(call.err)))
    try:
        if a.kind == 0:
            return {"service": False, "path": _s(a.path)}
        return {"service": _s(a.service), "container": _s(a.container),
                "key": _s(a.key)}
    finally:
        N.lib.xtstore_addr_free(byref(a))


class Service:
    """One opened service of a Context (ctx.service(name))."""

    def __init__(self, ctx, handle):
        self._ctx = ctx          # keeps the context open while we live
        self._handle = handle

    @property
    def _h(self):
        """The C handle; it dies with its context, so a closed context is
        refused here rather than used after its close."""
        self._ctx._handle()
        return self._handle

    @property
    def name(self):
        return _s(N.lib.xtstore_service_name(self._h))

    @property
    def capabilities(self):
        """The provider's capability names ("append", "snapshot", ...)."""
        caps = N.lib.xtstore_service_caps(self._h)
        return {_s(N.lib.xtstore_capability_name(1 << i))
                for i in range(64) if caps >> i & 1 and
                N.lib.xtstore_capability_name(1 << i)}

    def __repr__(self):
        return "<xtstore.Service %r>" % self.name

    def _entries(self, cfn, *args, fn=None):
        """Run a C op that reports entries: a list of them, or fn(entry)
        for each (a true return from fn stops)."""
        call = _Call()
        out = []
        stopped = []

        def each(_ud, p):
            e = Entry(p.contents)
            if fn is None:
                out.append(e)
            elif fn(e):
                stopped.append(e)
                return 1
        cb = N.ENTRY_FN(call.guard(each))
        rc = cfn(self._h, *args, cb, None, byref(call.err))
        if not (stopped and rc == errors.AbortedError.code):
            call.check(rc)
        return out

    def _simple(self, cfn, *args):
        call = _Call()
        call.check(cfn(self._h, *args, byref(call.err)))

    # --- containers -----------------------------------------------------

    def create_container(self, container, metadata=None):
        md, n = _kvs(metadata)
        self._simple(N.lib.xtstore_container_create, _b(container), md, n)

    def delete_container(self, container, recursive=False):
        self._simple(N.lib.xtstore_container_delete, _b(container),
                     _CONTAINER_DELETE_RECURSIVE if recursive else 0)

    def container_exists(self, container):
        v = c_int()
        self._simple(N.lib.xtstore_container_exists, _b(container), byref(v))
        return bool(v.value)

    def list_containers(self, prefix=None):
        return self._entries(N.lib.xtstore_container_list, _b(prefix))

    def container_properties(self, container):
        return self._entries(N.lib.xtstore_container_head, _b(container))[0]

    def set_container_metadata(self, container, metadata):
        md, n = _kvs(metadata)
        self._simple(N.lib.xtstore_container_set_metadata, _b(container),
                     md, n)

    # --- blobs ----------------------------------------------------------

    def put(self, container, key, data, *, content_type=None, metadata=None,
            if_none_match=False, if_match=None):
        """Create or replace a blob from bytes, str, a binary file object
        or an iterable of bytes chunks, streamed. Returns PutResult."""
        call = _Call()
        src = Source(data)
        opts = Context._put_opts(src, content_type, metadata, if_none_match,
                                 if_match)
        rd = N.READ_FN(call.guard(src.read))
        rw = N.REWIND_FN(call.guard(src.rewind)) if src.replayable else \
            N.REWIND_FN()
        res = N.StorePutResult()
        res.struct_size = sizeof(N.StorePutResult)
        call.check(N.lib.xtstore_blob_put(self._h, _b(container), _b(key),
                                          byref(opts), rd, None, rw,
                                          byref(res), byref(call.err)))
        return PutResult(res)

    def put_file(self, container, key, path, *, progress=None,
                 content_type=None, metadata=None, if_none_match=False):
        """Upload a local file (in parts, several at once, where the
        service can); progress(done, total) as bytes go."""
        call = _Call()
        opts = Context._put_opts(None, content_type, metadata,
                                 if_none_match, None)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            total = os.fstat(fd).st_size
            fn = _bytes_progress(call, progress, total)[0] if progress \
                else N.BYTES_FN()
            res = N.StorePutResult()
            res.struct_size = sizeof(N.StorePutResult)
            call.check(N.lib.xtstore_blob_put_fd_progress(
                self._h, _b(container), _b(key), byref(opts), fd, fn, None,
                byref(res), byref(call.err)))
        finally:
            os.close(fd)
        return PutResult(res)

    @staticmethod
    def _get_opts(snapshot, offset, length, if_match=None):
        o = N.StoreGetOpts()
        o.struct_size = sizeof(N.StoreGetOpts)
        o.snapshot_id = _b(snapshot)
        o.if_match = _b(if_match)
        if offset is not None or length is not None:
            o.flags = _GET_RANGE
            o.offset = offset or 0
            o.length = length or 0
        return o

    def get(self, container, key, sink, *, snapshot=None, offset=None,
            length=None, if_match=None):
        """Stream a blob (or a range) into sink: a binary file object or
        a callable taking each chunk. Returns the bytes written. if_match:
        only while its etag is this (else PreconditionError)."""
        call = _Call()
        out = Sink(sink)
        o = self._get_opts(snapshot, offset, length, if_match)
        wr = N.WRITE_FN(call.guard(out.write))
        call.check(N.lib.xtstore_blob_get(self._h, _b(container), _b(key),
                                          byref(o), wr, None, byref(call.err)))
        return out.bytes

    def get_bytes(self, container, key, **kw):
        """A (small) blob's body as bytes."""
        parts = []
        self.get(container, key, parts.append, **kw)
        return b"".join(parts)

    def iter_get(self, container, key, *, snapshot=None, offset=None,
                 length=None, queue_chunks=4):
        """The body as an iterator of bytes chunks: the get runs on a
        thread and at most queue_chunks chunks wait for the reader.
        Leaving the loop early stops the get."""
        q = queue.Queue(maxsize=queue_chunks)
        stop = threading.Event()
        end = object()

        def put(item):
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    pass
            return False

        def sink(chunk):
            if not put(chunk):
                raise errors.AbortedError("iter_get: the reader stopped")

        def run():
            try:
                self.get(container, key, sink, snapshot=snapshot,
                         offset=offset, length=length)
                put(end)
            except BaseException as e:
                put(e)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is end:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            t.join()

    def get_file(self, container, key, path, *, snapshot=None,
                 progress=None):
        """Download into a local file atomically (a directory marker
        creates none); progress(done, total) as bytes arrive."""
        call = _Call()
        o = self._get_opts(snapshot, None, None)
        fn, on_entry = N.BYTES_FN(), None
        if progress:
            fn, state = _bytes_progress(call, progress, None)

            def size(_ud, p):  # the properties arrive before any byte
                state["total"] = p.contents.size
            on_entry = N.ENTRY_FN(call.guard(size))
            o.on_entry = on_entry
        call.check(N.lib.xtstore_blob_get_file_progress(
            self._h, _b(container), _b(key), byref(o), _b(path), fn, None,
            byref(call.err)))

    def head(self, container, key, *, snapshot=None):
        """The blob's properties and metadata as an Entry."""
        o = N.StoreHeadOpts()
        o.struct_size = sizeof(N.StoreHeadOpts)
        o.snapshot_id = _b(snapshot)
        return self._entries(N.lib.xtstore_blob_head, _b(container), _b(key),
                             byref(o))[0]

    def exists(self, container, key):
        v = c_int()
        self._simple(N.lib.xtstore_blob_exists, _b(container), _b(key),
                     byref(v))
        return bool(v.value)

    def delete(self, container, key, *, snapshot=None, snapshots=False,
               if_match=None):
        """Delete a blob; with snapshot, only that snapshot; snapshots:
        its snapshots too. if_match: only while the blob's etag is this
        (PreconditionError otherwise; UnsupportedError where the provider
        lacks the delete-if-match capability)."""
        o = N.StoreDeleteOpts()
        o.struct_size = sizeof(N.StoreDeleteOpts)
        o.snapshot_id = _b(snapshot)
        o.flags = _DELETE_SNAPSHOTS if snapshots else 0
        o.if_match = _b(if_match)
        self._simple(N.lib.xtstore_blob_delete, _b(container), _b(key),
                     byref(o))

    def delete_many(self, container, keys):
        """Delete keys (in batches where the provider can): a dict key ->
        None (deleted) or the XtstoreError of that key."""
        keys = list(keys)
        arr = (c_char_p * max(len(keys), 1))(*[_b(k) for k in keys])
        out = {}
        call = _Call()

        def each(_ud, i, code, perr):
            if code == 0:
                out[keys[i]] = None
            else:
                c = _Call()
                ctypes.pointer(c.err)[0] = perr.contents
                out[keys[i]] = c.error(code)
        fn = N.BATCH_FN(call.guard(each))
        call.check(N.lib.xtstore_blob_delete_many(
            self._h, _b(container), arr, len(keys), fn, None,
            byref(call.err)))
        return out

    def list(self, container, prefix=None, *, recursive=True,
             metadata=False, snapshots=False, start_after=None, fn=None):
        """Entries under prefix, in name order: every key (recursive), or
        the keys directly under it and one "dir/" prefix entry per deeper
        level. With fn, each entry goes to fn as the listing streams (a
        true return stops it) and nothing is collected."""
        o = N.StoreListOpts()
        o.struct_size = sizeof(N.StoreListOpts)
        o.prefix = _b(prefix)
        o.delimiter = None if recursive else b"/"
        o.start_after = _b(start_after)
        o.flags = ((_LIST_METADATA if metadata else 0) |
                   (_LIST_SNAPSHOTS if snapshots else 0))
        return self._entries(N.lib.xtstore_blob_list, _b(container),
                             byref(o), fn=fn)

    def find(self, container, prefix=None, *, name=None, path=None):
        """Blobs whose last component matches the glob name and whose key
        matches the glob path (find(1)'s -name and -path)."""
        return self._entries(N.lib.xtstore_find, _b(container), _b(prefix),
                             _b(name), _b(path))

    def set_metadata(self, container, key, metadata):
        md, n = _kvs(metadata)
        self._simple(N.lib.xtstore_blob_set_metadata, _b(container), _b(key),
                     md, n)

    def copy(self, container, key, dst=None, dst_container=None,
             dst_key=None, *, snapshot=None, progress=None,
             content_type=None, metadata=None):
        """Copy to dst (a Service or its name; None: this one), server-side
        where it can, else streamed; progress(done, total) as bytes go."""
        if dst is None:
            dst = self
        elif not isinstance(dst, Service):
            dst = self._ctx.service(dst)
        call = _Call()
        o = N.StoreCopyOpts()
        o.struct_size = sizeof(N.StoreCopyOpts)
        o.src_snapshot_id = _b(snapshot)
        if content_type is not None or metadata is not None:
            o.flags = _COPY_REPLACE_METADATA
            o.content_type = _b(content_type)
            md, o.nmetadata = _kvs(metadata)
            if md is not None:
                o.metadata = md
        fn = N.BYTES_FN()
        if progress:   # total: the source's size, one HEAD
            size = self.head(container, key, snapshot=snapshot).size
            fn = _bytes_progress(call, progress, size)[0]
        call.check(N.lib.xtstore_blob_copy_progress(
            self._h, _b(container), _b(key), dst._h,
            _b(dst_container or container), _b(dst_key or key), byref(o), fn,
            None, byref(call.err)))

    def append(self, container, key, data, *, content_type=None):
        """Append data (see put) to the blob, creating it if missing."""
        call = _Call()
        src = Source(data)
        o = N.StoreAppendOpts()
        o.struct_size = sizeof(N.StoreAppendOpts)
        o.content_length = src.length
        o.content_type = _b(content_type)
        rd = N.READ_FN(call.guard(src.read))
        call.check(N.lib.xtstore_blob_append(self._h, _b(container), _b(key),
                                             byref(o), rd, None,
                                             byref(call.err)))

    def snapshot(self, container, key):
        """Freeze the blob; returns the snapshot id."""
        buf = ctypes.create_string_buffer(N.STORE_ID_SIZE)
        self._simple(N.lib.xtstore_blob_snapshot, _b(container), _b(key), buf,
                     N.STORE_ID_SIZE)
        return _s(buf.value)

    def mkdir(self, container, directory):
        """Create the directory marker of directory (idempotent)."""
        self._simple(N.lib.xtstore_dir_create, _b(container), _b(directory))

    def presign(self, container, key, *, expires=3600, method="GET",
                content_type=None):
        """A URL that plain HTTP clients can use for `method` ("GET" or
        "PUT") until `expires` seconds from now (`xtstore presign`).
        Returns a dict: url, expires_at (Unix seconds), id (the store's
        grant id to revoke it, OCI; "" otherwise) and headers (a dict of
        the headers a request through the URL must send). `expires` is an
        int, 1 to 10 years (InvalidError otherwise). A provider without
        presigned URLs raises UnsupportedError."""
        m = {"GET": 0, "PUT": 1}.get(str(method).upper())
        if m is None:
            raise errors.InvalidError(
                "service '%s': presign: method '%s' is neither GET nor PUT"
                % (self.name, method))
        o = N.StorePresignOpts()
        o.struct_size = sizeof(N.StorePresignOpts)
        o.method = m
        # ctypes would wrap a value outside uint32 (-1 into a 136-year
        # SAS) before the core, which caps the lifetime, could see it.
        if (isinstance(expires, bool) or not isinstance(expires, int)
                or not 1 <= expires <= 0xFFFFFFFF):
            raise errors.InvalidError(
                "service '%s': presign '%s/%s': the lifetime must be 1 second to "
                "10 years, not %r" % (self.name, container, key, expires))
        o.expires_s = expires
        o.content_type = _b(content_type)
        r = N.StorePresignResult()
        r.struct_size = sizeof(N.StorePresignResult)
        url = ctypes.create_string_buffer(8192)
        self._simple(N.lib.xtstore_blob_presign, _b(container), _b(key),
                     byref(o), url, sizeof(url), byref(r))
        headers = {}
        for line in _s(r.headers).splitlines():
            name, _, value = line.partition(":")
            if name:
                headers[name.strip()] = value.strip()
        return {"url": _s(url.value), "expires_at": r.expires_at,
                "id": _s(r.id), "headers": headers}
