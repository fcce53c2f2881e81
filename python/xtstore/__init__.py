"""xtstore: Python bindings (ctypes) for libxtstore, the xtstore storage
plugin host -- the same C library and plugins as the `xtstore` CLI.

    import xtstore
    with xtstore.Context(config="xt_config.yaml") as ctx:
        svc = ctx.service("scratch")
        svc.put("photos", "2026/cat.txt", b"meow")
        print(svc.get_bytes("photos", "2026/cat.txt"))

Where libxtstore is found: see xtstore._native. Errors are XtstoreError
subclasses, one per STORE_E_* code (xtstore.errors). XT's StoreInterface is
xtstore.xt.XtStore, cloudmesh's storage Provider xtstore.cloudmesh.Provider,
Sunbird's fan-out upload xtstore.multicloud.upload_to_cloud.
"""
from .core import (Context, Entry, ProgressEvent, PutResult, Service, Stats,
                   parse_address, shard_of, version, LOG_ERROR, LOG_WARN,
                   LOG_INFO, LOG_DEBUG)
from .errors import *  # noqa: F401,F403 -- the exception classes
from .errors import XtstoreError

__all__ = ["Context", "Service", "Entry", "PutResult", "ProgressEvent",
           "Stats", "parse_address", "shard_of", "version", "XtstoreError",
           "LOG_ERROR", "LOG_WARN", "LOG_INFO", "LOG_DEBUG"]
__version__ = "0.1.0"
