"""Microsoft XT's StoreInterface (xtlib/storage/store_interface.py) on
xtstore, so that an XT user names it in the XT config:

    providers:
        storage: {"xtstore": "xtstore.xt.XtStore", }
    external-services:
        phoenixstorage: {type: "storage", provider: "xtstore", key: "$vault"}

XT constructs the class with the service's resolved creds dict (its keys
plus "name", the service name). XT's config schema allows only `key`,
`path` and `name` (besides type and provider) in a storage service, so:
a `path` selects xtstore's local provider and a `key` Azure (the service
name being the storage account, as in XT); with neither, XtStore opens the
xtstore service of the same name from the user's xtstore configuration
(the system's, the user's and $XTSTORE_CONFIG; not ./xt_config.yaml, which
in an XT job is XT's own), which is where an S3, GCS or OCI service of XT
is configured. Creds made
outside XT's schema may also name an xtstore provider (local, s3, azure,
gcs, oci, or XT's store-file, azure-blob-21, azure-blob-210) and carry its
keys (endpoint, access-key, ...), which go to it as they are.

Retries are the library's: a failed request is retried as the service's
retry.attempts says; set_retries(n) sets it to n+1 for a service made from
the creds (one from the xtstore config keeps its own). XT's set_retry(f)
is recorded for get_retry() only: xtstore does not call f.

Semantics are XT's (the Azure provider's where XT's providers differ):
create_container returns False when the container exists; create_blob
overwrites unless fail_if_exists; list_blobs takes XT's path rules;
get_blob_text returns "" for an empty blob without a body GET;
get_blob_to_path creates no file for a directory marker; delete_blob
with a snapshot deletes only that snapshot, without one the blob and its
snapshots. Errors are xtstore's exceptions (xtstore.errors), whose
messages name the service and the object.
"""
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time

from . import errors
from .core import LOG_ERROR, Context

_PROVIDERS = {"local", "s3", "azure", "gcs", "oci", "store-file",
              "azure-blob-21", "azure-blob-210",
              "xtlib.storage.store_file.FileStore",
              "xtlib.storage.store_azure_blob21.AzureBlobStore21",
              "xtlib.storage.store_azure_blob210.AzureBlobStore210"}
_LOCAL = {"local", "store-file", "xtlib.storage.store_file.FileStore"}
# Values of these keys go to the library through "$file:" (never in a
# config file's text); the rest are written as they are.
_SECRET = re.compile(r"key|secret|token|pass|connection", re.I)


def make_retry_func(n):
    """XT's retry policy (xtlib utils.make_retry_func, handed to
    set_retry): a function of the Azure SDK's retry context (its .count,
    the retries so far; a plain int is taken too) that says how long to
    back off -- min(16, 2**count) seconds -- or None once count > n.
    xtstore itself never calls it (see the module: retry.attempts)."""
    def retry(context):
        count = getattr(context, "count", context)
        return None if count > n else min(16, 2 ** count)
    return retry


def _reraise(e, message):
    """Raise e's class again with message (and e's details)."""
    raise type(e)(message, http_status=e.http_status,
                  provider_code=e.provider_code, request_id=e.request_id,
                  sys_errno=e.sys_errno) from None


class _Props:
    __slots__ = ("content_length", "last_modified", "etag", "content_type")

    def __init__(self, e):
        self.content_length = e.size
        self.last_modified = e.last_modified
        self.etag = e.etag
        self.content_type = e.content_type


class BlobInfo:
    """A blob as XT's callers read it: .name, .properties.content_length
    (and .last_modified, .etag, .content_type), .modified_ns,
    .last_modified, .metadata; .snapshot for snapshot_blob()."""

    def __init__(self, e, snapshot=None):
        self.name = e.name
        self.properties = _Props(e)
        self.modified_ns = e.mtime_ns
        self.last_modified = e.last_modified
        self.metadata = dict(e.metadata)
        self.snapshot = snapshot or e.snapshot_id


class _Snapshot:
    def __init__(self, sid):
        self.snapshot = sid


class XtStore:
    """XT's StoreInterface over one xtstore service (see the module)."""

    def __init__(self, storage_creds_dict, retries=10):
        creds = dict(storage_creds_dict)
        provider = creds.get("provider")
        if provider not in _PROVIDERS:
            if "path" in creds:
                provider = "local"
            elif "key" in creds:
                provider = "azure"
            else:
                provider = None     # the xtstore service of that name
        self._provider = provider
        self._creds = creds
        name = str(creds.get("name") or "xt")
        self._name = name if re.fullmatch(r"[A-Za-z0-9_.-]+", name) else "xt"
        self._retry = None
        self._ctx = self._svc = None
        # Contexts replaced by set_retries: another thread may still be in
        # a call on their service, so they close with this object.
        self._old = []
        self._lock = threading.Lock()
        if provider is None:
            self._retry = make_retry_func(retries)
            self._open_configured(creds.get("name"))
        else:
            self.set_retries(retries)

    def _open_configured(self, name):
        if not name:
            raise errors.ConfigError(
                "XT storage service: provider '%s' is not xtstore's, the "
                "creds have neither 'path' nor 'key', and no 'name' to look "
                "up in the xtstore config" % self._creds.get("provider"))
        ctx = Context(cwd_config=False)
        try:
            svc = ctx.service(name)
        except BaseException as e:
            ctx.close()
            if isinstance(e, errors.XtstoreError):
                _reraise(e, "XT service '%s' (neither 'path' nor 'key': the "
                         "xtstore config's service of that name): %s"
                         % (name, e))
            raise
        self._ctx, self._svc = ctx, svc

    def _open(self, attempts):
        """A context with our one service (creds written to a private temp
        dir, secrets as $file: references, removed once it is open). An
        error names the XT service, not the temp files, which are gone."""
        tmp = tempfile.mkdtemp(prefix="xtstore-xt-")
        try:
            entry = {"type": "storage", "provider": self._provider,
                     "retry": {"attempts": attempts}}
            for k, v in self._creds.items():
                if k in ("type", "provider", "retry"):
                    continue
                if isinstance(v, str) and _SECRET.search(k):
                    p = os.path.join(tmp, "s%d" % len(entry))
                    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as f:
                        f.write(v)
                    v = "$file:" + p
                entry[k] = v if isinstance(v, (str, dict)) else str(v)
            conf = os.path.join(tmp, "xt_config.yaml")
            with open(conf, "w") as f:
                json.dump({"external-services": {self._name: entry},
                           "xt-services": {"storage": self._name}}, f)
            where = re.compile(re.escape(tmp) + r"[^\s:'\"]*(:\d+)*")
            ours = "XT service '%s'" % self._name

            def log(level, msg):
                sys.stderr.write("xtstore: %s: %s\n" % (
                    "error" if level == LOG_ERROR else "warning",
                    where.sub(ours, msg)))
            ctx = None
            try:
                ctx = Context(conf, system_config=False, user_config=False,
                              cwd_config=False, log=log)
                svc = ctx.service(self._name)
            except BaseException as e:
                if ctx is not None:
                    ctx.close()
                if isinstance(e, errors.XtstoreError):
                    _reraise(e, where.sub(ours, str(e)))
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        with self._lock:
            if self._ctx is not None:
                self._old.append(self._ctx)
            self._ctx, self._svc = ctx, svc

    def close(self):
        """Close the service (no call may be running)."""
        with self._lock:
            for c in self._old + [self._ctx]:
                if c is not None:
                    c.close()
            self._old = []
            self._ctx = self._svc = None

    # --- identity and retries --------------------------------------------

    def get_service_name(self):
        """The account name; for local files "store_file://" + path."""
        if self._provider in _LOCAL:
            return "store_file://" + os.path.expanduser(self._creds["path"])
        return self._creds.get("account") or self._creds.get("name") or \
            self._name

    def get_retry(self):
        return self._retry

    def set_retry(self, f):
        """Record XT's retry function for get_retry(); the library retries
        by the service's retry.attempts (set_retries), never calling f."""
        self._retry = f

    def set_retries(self, n):
        """n retries of a failed request (the library's backoff); 0 lets a
        failure surface at once. A service made from the creds is reopened
        with retry.attempts n+1 (safe while other threads use the old one:
        it stays open until close()); one from the xtstore config keeps
        its configured retry.attempts."""
        self._retry = make_retry_func(n)
        if self._provider is not None:
            self._open(n + 1)

    # --- containers ------------------------------------------------------

    def does_container_exist(self, container):
        return self._svc.container_exists(container)

    def list_containers(self):
        return [e.name for e in self._svc.list_containers()]

    def create_container(self, container):
        """True when created, False when it already exists."""
        try:
            self._svc.create_container(container)
        except errors.ExistsError:
            return False
        return True

    def delete_container(self, container):
        self._svc.delete_container(container, recursive=True)
        return True

    def get_container_properties(self, container):
        return self._svc.container_properties(container)

    def get_container_metadata(self, container):
        return dict(self._svc.container_properties(container).metadata)

    # --- blobs -----------------------------------------------------------

    def does_blob_exist(self, container, blob_path):
        return self._svc.exists(container, blob_path)

    def create_blob(self, container, blob_path, text, fail_if_exists=False):
        self._svc.put(container, blob_path, text,
                      if_none_match=fail_if_exists)

    def create_blob_from_path(self, container, blob_path, source_fn,
                              progress_callback=None):
        self._svc.put_file(container, blob_path, source_fn,
                           progress=progress_callback)

    def append_blob(self, container, blob_path, text,
                    append_with_rewrite=False):
        if not append_with_rewrite and "append" in self._svc.capabilities:
            self._svc.append(container, blob_path, text)
            return
        self._append_with_rewrite(container, blob_path, text)

    def _append_with_rewrite(self, container, blob_path, text):
        """Read, concatenate, write back only if nobody wrote in between
        (If-Match on the etag read; If-None-Match for a new blob); up to
        20 tries with 0-4 s random sleeps, as XT."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        for _ in range(20):
            try:
                etag = self._svc.head(container, blob_path).etag
                old = self._svc.get_bytes(container, blob_path,
                                          if_match=etag)
                self._svc.put(container, blob_path, old + text,
                              if_match=etag)
                return
            except errors.NotFoundError:
                try:
                    self._svc.put(container, blob_path, text,
                                  if_none_match=True)
                    return
                except (errors.ExistsError, errors.PreconditionError):
                    pass
            except errors.PreconditionError:
                pass
            time.sleep(random.uniform(0, 4))
        raise errors.PreconditionError(
            "_append_blob_with_rewrite failed (too many retries)")

    @staticmethod
    def _prefix(path):
        """XT's list path rules: a leading '/' goes; a trailing '*' makes
        the rest a raw prefix; anything else is a directory ('/' added)."""
        path = (path or "").lstrip("/")
        if path.endswith("*"):
            return path[:-1]
        return path + "/" if path and not path.endswith("/") else path

    def list_blobs(self, container, path=None, return_names=True,
                   recursive=True):
        """recursive: every blob's full name (no directories); otherwise
        the blobs directly under path and its subdirectories as "dir/".
        return_names=False gives BlobInfo objects instead of names."""
        entries = self._svc.list(container, self._prefix(path),
                                 recursive=recursive)
        if return_names:
            return [e.name for e in entries]
        return [BlobInfo(e) for e in entries]

    def get_blob_text(self, container, blob_path):
        if self._svc.head(container, blob_path).size == 0:
            return ""
        return self._svc.get_bytes(container, blob_path).decode("utf-8")

    def get_blob_to_path(self, container, blob_path, dest_fn, snapshot=None,
                         progress_callback=None):
        parent = os.path.dirname(dest_fn)
        if parent:
            os.makedirs(parent, exist_ok=True)
        self._svc.get_file(container, blob_path, dest_fn, snapshot=snapshot,
                           progress=progress_callback)

    def get_blob_properties(self, container, blob_path):
        return BlobInfo(self._svc.head(container, blob_path))

    def get_blob_metadata(self, container, blob_path):
        return dict(self._svc.head(container, blob_path).metadata)

    def copy_blob(self, source_container, source_blob_path, dest_container,
                  dest_blob_path):
        self._svc.copy(source_container, source_blob_path, None,
                       dest_container, dest_blob_path)

    def snapshot_blob(self, container, blob_path):
        """An object whose .snapshot is the new snapshot's id."""
        return _Snapshot(self._svc.snapshot(container, blob_path))

    def delete_blob(self, container, blob_path, snapshot=None):
        if snapshot:
            self._svc.delete(container, blob_path, snapshot=snapshot)
        else:
            self._svc.delete(container, blob_path,
                             snapshots="snapshot" in self._svc.capabilities)
        return True
