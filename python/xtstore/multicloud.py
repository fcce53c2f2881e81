"""Sunbird ml-analytics' MultiCloud.upload_to_cloud on xtstore: one call
uploads one local file to every configured cloud.

    from xtstore.multicloud import upload_to_cloud
    upload_to_cloud("reports/2026", "/tmp/out", "a.csv")   # Sunbird's call

The file `local_path/file_name` goes to `blob_path/file_name` (joined with
exactly one "/", whatever slashes the parts have: Sunbird's providers each
joined differently) in a container of every service named in `services`
(None: every configured storage service), reading the file once per
container. The container is `container` (a name for all, or a dict
service -> name); None, as in Sunbird, takes each service's own from its
config entry: the first of the keys container_name (Sunbird's [AZURE]),
bucket_name (its [AWS], [GCP], [ORACLE]), container, bucket. The providers
do not read these keys, so the library warns that they are unknown to
them; a service with none of them is an InvalidError naming it.

A service that fails does not stop the others, and a requested service the
upload does not report on counts as failed; a call that fails as a whole
(no storage service configured, services=[]) raises. Returns, per service:

    {"success": bool, "target": "svc:container/key", "error": str | None}
"""
import os

from . import errors
from .core import Context

CONTAINER_KEYS = ("container_name", "bucket_name", "container", "bucket")


def _configured_containers(ctx, services):
    """service -> container from the config entries (see the module)."""
    entries = {e["name"]: e for e in ctx.services()}
    if services is None:
        services = [n for n, e in entries.items() if e["type"] == "storage"]
    out = {}
    for svc in services:
        e = entries.get(svc)
        if e is None:
            raise errors.ConfigError(
                "upload_to_cloud: service '%s' is not configured" % svc)
        c = next((e["keys"][k] for k in CONTAINER_KEYS
                  if e["keys"].get(k)), None)
        if c is None:
            raise errors.InvalidError(
                "upload_to_cloud: service '%s' names no container (set %s in "
                "its entry, or pass container=)"
                % (svc, " or ".join(CONTAINER_KEYS[:2])))
        out[svc] = c
    return out


def upload_to_cloud(blob_path, local_path, file_name, *, container=None,
                    services=None, context=None, config=None):
    ctx = context or Context(config)
    key = "/".join(p.strip("/") for p in (blob_path or "", file_name)
                   if p.strip("/"))
    src = os.path.join(local_path, file_name)
    if container is None:
        container = _configured_containers(ctx, services)
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
        failure = None
        with open(src, "rb") as f:
            try:
                stats = ctx.put_fanout(c, key, f, services=names,
                                       source_name=src)
            except errors.XtstoreError as e:
                stats = getattr(e, "stats", None)
                # No result at all: the call itself failed, not a service.
                if stats is None or not stats.results:
                    raise
                failure = str(e)
        for svc, ev in stats.results.items():
            out[svc] = {"success": ev.status != "failed",
                        "target": ev.target, "error": ev.error}
        for svc in names or ():
            if svc not in stats.results:
                out[svc] = {"success": False,
                            "target": "%s:%s/%s" % (svc, c, key),
                            "error": failure or "upload_to_cloud: the "
                            "upload reported nothing for service '%s'" % svc}
    return out
