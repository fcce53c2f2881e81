"""libxtstore through ctypes: where the library is found, and the C types.

The library is searched for, first hit wins:

1. ``$XTSTORE_LIB``: the library file itself, or a directory holding it
   (a build tree's ``lib/``, an install's ``lib/``), or a build tree or
   install prefix (``DIR/lib/``). Nothing else is tried when it is set.
2. The build tree of the checkout this package was imported from
   (``<repo>/build/lib``, what ``scripts/demo.sh`` builds).
3. An install prefix: the dynamic linker's own search (``LD_LIBRARY_PATH``,
   ``ld.so.cache``), then ``sys.prefix/lib`` and ``/usr/local/lib`` (and
   their multiarch subdirectory).

The plugins need no search of their own: libxtstore finds them next to
itself (``<build>/plugins``, ``<libdir>/xtstore/plugins``), after
``$XTSTORE_PLUGIN_PATH`` and the configuration's ``plugin-path``.

ctypes.CDLL releases the GIL around every foreign call, and its callbacks
take it again, so blocking calls let other Python threads run.
"""
import ctypes
import os
import sys
import sysconfig
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double,
                    c_int, c_int32, c_int64, c_size_t, c_uint8, c_uint32,
                    c_uint64, c_void_p)

SONAME = "libxtstore.so.0"


def _in_dir(d):
    for name in (SONAME, "libxtstore.so"):
        for sub in ("", "lib"):
            p = os.path.join(d, sub, name)
            if os.path.isfile(p):
                return p
    return None


def find_library():
    """The path (or soname) of libxtstore to load, by the order above."""
    env = os.environ.get("XTSTORE_LIB")
    if env:
        if os.path.isfile(env):
            return env
        hit = _in_dir(env) if os.path.isdir(env) else None
        if not hit:
            raise OSError("XTSTORE_LIB=%s: no %s there" % (env, SONAME))
        return hit
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    hit = _in_dir(os.path.join(repo, "build"))
    if hit:
        return hit
    try:
        ctypes.CDLL(SONAME)
        return SONAME
    except OSError:
        pass
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for prefix in (sys.prefix, "/usr/local"):
        for lib in ("lib", os.path.join("lib", multiarch)):
            hit = _in_dir(os.path.join(prefix, lib))
            if hit:
                return hit
    raise OSError("libxtstore not found: set XTSTORE_LIB to the library, "
                  "its directory or a build tree")


# --- store_interface.h ---------------------------------------------------

STORE_ERR_MSG_SIZE = 256
STORE_ID_SIZE = 256


class StoreError(Structure):
    _fields_ = [("struct_size", c_uint32), ("code", c_int32),
                ("http_status", c_int32), ("flags", c_uint32),
                ("sys_errno", c_int32), ("retry_after_ms", c_uint32),
                ("provider_code", c_char * 64), ("request_id", c_char * 64),
                ("message", c_char * STORE_ERR_MSG_SIZE)]


class StoreKv(Structure):
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class StoreEntry(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("name", c_char_p), ("size", c_uint64), ("mtime_ns", c_int64),
                ("etag", c_char_p), ("content_type", c_char_p),
                ("snapshot_id", c_char_p), ("content_md5", c_char_p),
                ("metadata", POINTER(StoreKv)), ("nmetadata", c_size_t),
                ("checksums", c_uint32), ("crc32c", c_uint32)]


class StoreLimits(Structure):
    _fields_ = [("struct_size", c_uint32), ("max_parts", c_uint32),
                ("min_part_size", c_uint64), ("max_part_size", c_uint64),
                ("max_object_size", c_uint64), ("max_put_size", c_uint64),
                ("list_page_size", c_uint32),
                ("equal_parts_required", c_uint32),
                ("max_key_length", c_uint32), ("reserved", c_uint32)]


class StorePutOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("content_length", c_int64), ("content_type", c_char_p),
                ("metadata", POINTER(StoreKv)), ("nmetadata", c_size_t),
                ("if_match", c_char_p), ("checksums", c_uint32),
                ("crc32c", c_uint32), ("md5", c_uint8 * 16),
                ("trailer_checksums", c_uint32), ("reserved1", c_uint32)]


class StorePutResult(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32),
                ("size", c_uint64), ("etag", c_char * 128),
                ("version_id", c_char * 128), ("checksums", c_uint32),
                ("crc32c", c_uint32), ("md5", c_uint8 * 16)]


ENTRY_FN = CFUNCTYPE(c_int32, c_void_p, POINTER(StoreEntry))
READ_FN = CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t, POINTER(c_size_t))
WRITE_FN = CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t)


class StoreGetOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("offset", c_uint64), ("length", c_uint64),
                ("snapshot_id", c_char_p), ("if_match", c_char_p),
                ("on_entry", ENTRY_FN), ("on_entry_ctx", c_void_p)]


class StoreHeadOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32),
                ("snapshot_id", c_char_p)]


class StoreDeleteOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("snapshot_id", c_char_p), ("if_match", c_char_p)]


class StoreListOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("prefix", c_char_p), ("delimiter", c_char_p),
                ("start_after", c_char_p), ("page_size", c_uint32),
                ("reserved", c_uint32)]


class StoreCopyOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("src_snapshot_id", c_char_p), ("content_type", c_char_p),
                ("metadata", POINTER(StoreKv)), ("nmetadata", c_size_t)]


class StorePresignOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("method", c_uint32),
                ("expires_s", c_uint32), ("reserved", c_uint32),
                ("content_type", c_char_p)]


STORE_PRESIGN_HEADERS_SIZE = 256


class StorePresignResult(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32),
                ("expires_at", c_int64), ("id", c_char * STORE_ID_SIZE),
                ("headers", c_char * STORE_PRESIGN_HEADERS_SIZE)]


class StoreAppendOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32),
                ("content_length", c_int64), ("content_type", c_char_p)]


# --- xtstore.h -----------------------------------------------------------

LOG_FN = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)


class CtxOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("config_path", c_char_p), ("log", LOG_FN),
                ("log_ud", c_void_p), ("log_level", c_int32),
                ("reserved", c_uint32)]


class ServiceInfo(Structure):
    _fields_ = [("struct_size", c_uint32), ("is_default", c_uint32),
                ("name", c_char_p), ("type", c_char_p),
                ("provider", c_char_p), ("file", c_char_p), ("line", c_int32),
                ("reserved", c_int32), ("kv", POINTER(StoreKv)),
                ("nkv", c_size_t), ("kv_file", POINTER(c_char_p)),
                ("kv_line", POINTER(c_int32))]


SERVICE_FN = CFUNCTYPE(c_int32, c_void_p, POINTER(ServiceInfo))
BYTES_FN = CFUNCTYPE(None, c_void_p, c_uint64)
BATCH_FN = CFUNCTYPE(c_int32, c_void_p, c_size_t, c_int32, POINTER(StoreError))
REWIND_FN = CFUNCTYPE(c_int32, c_void_p)
TYPE_FN = CFUNCTYPE(c_void_p, c_void_p, c_char_p)  # left NULL here

OBJ_NSTATUS = 6


class Progress(Structure):
    _fields_ = [("struct_size", c_uint32), ("event", c_uint32),
                ("objects_total", c_uint64), ("objects_done", c_uint64),
                ("objects_failed", c_uint64), ("bytes_total", c_uint64),
                ("bytes_done", c_uint64), ("totals_final", c_uint32),
                ("reserved", c_uint32), ("source", c_char_p),
                ("target", c_char_p), ("size", c_uint64),
                ("status", c_uint32), ("dry_run", c_uint32),
                ("code", c_int32), ("error", c_char_p)]


PROGRESS_FN = CFUNCTYPE(None, c_void_p, POINTER(Progress))
STOP_FN = CFUNCTYPE(c_int, c_void_p)


class WfOpts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("transfers", c_uint32), ("reserved", c_uint32),
                ("max_delete", c_uint64), ("progress", PROGRESS_FN),
                ("progress_ud", c_void_p), ("content_type", TYPE_FN),
                ("content_type_ud", c_void_p), ("log_path", c_char_p),
                ("log_svc", c_void_p), ("log_container", c_char_p),
                ("log_key", c_char_p), ("shard_index", c_uint32),
                ("shard_count", c_uint32), ("run_id", c_char_p),
                ("stop", STOP_FN), ("stop_ud", c_void_p)]


class WfStats(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32),
                ("objects", c_uint64), ("count", c_uint64 * OBJ_NSTATUS),
                ("bytes", c_uint64), ("extra", c_uint64),
                ("seconds", c_double)]


class Tree(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32),
                ("svc", c_void_p), ("container", c_char_p),
                ("prefix", c_char_p), ("path", c_char_p)]


class Addr(Structure):
    _fields_ = [("kind", c_uint32), ("reserved", c_uint32),
                ("service", c_char_p), ("container", c_char_p),
                ("key", c_char_p), ("path", c_char_p)]


_E = POINTER(StoreError)
_P = c_void_p           # xtstore_ctx *, xtstore_svc *
_S = c_char_p

# name: (restype, argtypes)
_PROTOS = {
    "xtstore_version": (c_char_p, []),
    "xtstore_ctx_open": (c_int, [POINTER(CtxOpts), POINTER(c_void_p), _E]),
    "xtstore_ctx_close": (None, [_P]),
    "xtstore_ctx_cancel": (None, [_P]),
    "xtstore_ctx_set_memory": (c_int, [_P, _S, _E]),
    "xtstore_ctx_memory": (c_uint64, [_P]),
    "xtstore_default_service": (c_char_p, [_P]),
    "xtstore_services_foreach": (c_int, [_P, SERVICE_FN, c_void_p, _E]),
    "xtstore_capability_name": (c_char_p, [c_uint64]),
    "xtstore_service_open": (c_int, [_P, _S, POINTER(c_void_p), _E]),
    "xtstore_service_name": (c_char_p, [_P]),
    "xtstore_service_caps": (c_uint64, [_P]),
    "xtstore_service_limits": (POINTER(StoreLimits), [_P]),
    "xtstore_container_create": (c_int, [_P, _S, POINTER(StoreKv), c_size_t,
                                         _E]),
    "xtstore_container_delete": (c_int, [_P, _S, c_uint32, _E]),
    "xtstore_container_exists": (c_int, [_P, _S, POINTER(c_int), _E]),
    "xtstore_container_list": (c_int, [_P, _S, ENTRY_FN, c_void_p, _E]),
    "xtstore_container_head": (c_int, [_P, _S, ENTRY_FN, c_void_p, _E]),
    "xtstore_container_set_metadata": (c_int, [_P, _S, POINTER(StoreKv),
                                               c_size_t, _E]),
    "xtstore_blob_put": (c_int, [_P, _S, _S, POINTER(StorePutOpts), READ_FN,
                                 c_void_p, REWIND_FN, POINTER(StorePutResult),
                                 _E]),
    "xtstore_blob_put_fd_progress": (c_int, [_P, _S, _S, POINTER(StorePutOpts),
                                             c_int, BYTES_FN, c_void_p,
                                             POINTER(StorePutResult), _E]),
    "xtstore_blob_get": (c_int, [_P, _S, _S, POINTER(StoreGetOpts), WRITE_FN,
                                 c_void_p, _E]),
    "xtstore_blob_get_file_progress": (c_int, [_P, _S, _S,
                                               POINTER(StoreGetOpts), _S,
                                               BYTES_FN, c_void_p, _E]),
    "xtstore_blob_head": (c_int, [_P, _S, _S, POINTER(StoreHeadOpts),
                                  ENTRY_FN, c_void_p, _E]),
    "xtstore_blob_exists": (c_int, [_P, _S, _S, POINTER(c_int), _E]),
    "xtstore_blob_delete": (c_int, [_P, _S, _S, POINTER(StoreDeleteOpts), _E]),
    "xtstore_blob_delete_many": (c_int, [_P, _S, POINTER(c_char_p), c_size_t,
                                         BATCH_FN, c_void_p, _E]),
    "xtstore_blob_list": (c_int, [_P, _S, POINTER(StoreListOpts), ENTRY_FN,
                                  c_void_p, _E]),
    "xtstore_blob_set_metadata": (c_int, [_P, _S, _S, POINTER(StoreKv),
                                          c_size_t, _E]),
    "xtstore_blob_copy_progress": (c_int, [_P, _S, _S, _P, _S, _S,
                                           POINTER(StoreCopyOpts), BYTES_FN,
                                           c_void_p, _E]),
    "xtstore_blob_append": (c_int, [_P, _S, _S, POINTER(StoreAppendOpts),
                                    READ_FN, c_void_p, _E]),
    "xtstore_blob_snapshot": (c_int, [_P, _S, _S, c_char_p, c_size_t, _E]),
    "xtstore_shard_of": (c_uint32, [_S, c_uint32]),
    "xtstore_blob_presign": (c_int, [_P, _S, _S, POINTER(StorePresignOpts),
                                     c_char_p, c_size_t,
                                     POINTER(StorePresignResult), _E]),
    "xtstore_addr_parse": (c_int, [_S, POINTER(Addr), _E]),
    "xtstore_addr_free": (None, [POINTER(Addr)]),
    "xtstore_dir_create": (c_int, [_P, _S, _S, _E]),
    "xtstore_object_status_name": (c_char_p, [c_uint32]),
    "xtstore_default_transfers": (c_uint32, []),
    "xtstore_copy_tree": (c_int, [_P, POINTER(Tree), POINTER(Tree),
                                  POINTER(WfOpts), POINTER(WfStats), _E]),
    "xtstore_migrate": (c_int, [_P, POINTER(Tree), POINTER(Tree),
                                POINTER(WfOpts), POINTER(WfStats), _E]),
    "xtstore_sync": (c_int, [_P, POINTER(Tree), POINTER(Tree),
                             POINTER(WfOpts), POINTER(WfStats), _E]),
    "xtstore_put_fanout": (c_int, [_P, POINTER(c_char_p), c_size_t, _S, _S,
                                   POINTER(StorePutOpts), READ_FN, c_void_p,
                                   _S, POINTER(WfOpts), POINTER(WfStats),
                                   _E]),
    "xtstore_find": (c_int, [_P, _S, _S, _S, _S, ENTRY_FN, c_void_p, _E]),
}


def _load():
    lib = ctypes.CDLL(find_library())
    for name, (res, args) in _PROTOS.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    return lib


lib = _load()
