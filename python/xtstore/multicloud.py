"""Sunbird ml-analytics' MultiCloud.upload_to_cloud on xtstore: one call
uploads one local file to every configured cloud.

    from xtstore.multicloud import upload_to_cloud
    upload_to_cloud("reports/2026", "/tmp/out", "a.csv", container="ml")

The file `local_path/file_name` goes to `blob_path/file_name` (joined with
exactly one "/", whatever slashes the parts have: Sunbird's providers each
joined differently) in `container` (or, as a dict, the container of each
service) of every service named in `services` (None: every configured
storage service), reading the file once per container. A service that
fails does not stop the others. Returns, per service:

    {"success": bool, "target": "svc:container/key", "error": str | None}
"""
import os

from . import errors
from .core import Context


def upload_to_cloud(blob_path, local_path, file_name, *, container,
                    services=None, context=None, config=None):
    ctx = context or Context(config)
    key = "/".join(p.strip("/") for p in (blob_path or "", file_name)
                   if p.strip("/"))
    src = os.path.join(local_path, file_name)
    if isinstance(container, dict):
        groups = {}
        for svc in services if services is not None else container:
            if svc not in container:
                raise errors.InvalidError(
                    "upload_to_cloud: no container for service '%s'" % svc)
            groups.setdefault(container[svc], []).append(svc)
    else:
        groups = {container: services}
    out = {}
    for c, names in groups.items():
        with open(src, "rb") as f:
            try:
                stats = ctx.put_fanout(c, key, f, services=names,
                                       source_name=src)
            except errors.XtstoreError as e:
                stats = getattr(e, "stats", None)
                if stats is None:
                    raise
        for svc, ev in stats.results.items():
            out[svc] = {"success": ev.status != "failed",
                        "target": ev.target, "error": ev.error}
    return out
