"""cloudmesh-storage's Provider verbs on an xtstore service.

    from xtstore.cloudmesh import Provider
    p = Provider("scratch", container="photos")     # an xtstore service
    p.put("~/cat.jpg", "/2026")                     # -> /2026/cat.jpg
    p.list("/2026", recursive=True)

Paths are cloudmesh's: "/dir/file" inside the service's bucket, which is
`container`; without one, a path's first component is the container. Each
verb returns a list of cloudmesh-shaped dicts, one per object:

    {"cm": {"kind": "storage", "cloud": SERVICE, "name": "/dir/file",
            "created": ISO-8601, "updated": ISO-8601, "size": N,
            "status": "exists" | "deleted"}}

(create_dir returns one dict.) As in cloudmesh, a destination whose last
component has no "." is a directory (put and get), recursive copies whole
trees, list gives every file under the source (recursive) or the files
and the directories ("size" 0) directly under it, search matches the
file name exactly, a non-recursive delete of a directory fails when it
holds objects, deleting a directory removes its marker too, and directory
markers are otherwise hidden. Unlike cloudmesh, failures raise xtstore's exceptions instead of
printing and returning None.
"""
import datetime
import os

from . import errors
from .core import Context


class Provider:
    def __init__(self, service=None, *, container=None, context=None,
                 config=None):
        self._ctx = context or Context(config)
        self.service = self._ctx.service(service)
        self.kind = "storage"
        self.container = container

    def _split(self, path):
        """(container, key) of a cloudmesh path."""
        path = (path or "").replace("\\", "/").lstrip("/")
        if self.container:
            return self.container, path
        c, _, key = path.partition("/")
        if not c:
            raise errors.InvalidError(
                "service '%s': '%s': no container in the path (give the "
                "Provider a container, or start the path with one)"
                % (self.service.name, "/" + path))
        return c, key

    def _name(self, container, key):
        key = key.rstrip("/")
        return "/" + key if self.container else "/%s/%s" % (container, key)

    def _dict(self, container, e, status="exists"):
        t = e.last_modified if e is not None else None
        iso = t.isoformat() if t else \
            datetime.datetime.now(datetime.timezone.utc).isoformat()
        return {"cm": {"kind": "storage", "cloud": self.service.name,
                       "name": self._name(container, e.name),
                       "created": iso, "updated": iso, "size": e.size,
                       "status": status}}

    def _under(self, container, key):
        d = key.rstrip("/") + "/" if key else ""
        return self.service.list(container, d or None)

    def _marker(self, container, key):
        """The directory marker of key (create_dir's), or None."""
        if not key.rstrip("/"):
            return None
        try:
            return self.service.head(container, key.rstrip("/") + "/")
        except errors.NotFoundError:
            return None

    # --- the verbs -------------------------------------------------------

    def create_dir(self, directory):
        c, key = self._split(directory)
        self.service.mkdir(c, key)
        return self._dict(c, self.service.head(c, key.rstrip("/") + "/"))

    def list(self, source="/", dir_only=False, recursive=False):
        c, key = self._split(source)
        d = key.rstrip("/") + "/" if key else None
        entries = self.service.list(c, d, recursive=recursive)
        files = [self._dict(c, e) for e in entries if not e.is_prefix]
        if recursive and not dir_only:
            return files
        if recursive:
            dirs = sorted({e.name[:e.name.rindex("/") + 1]
                           for e in entries if "/" in e.name[len(d or ""):]})
        else:
            dirs = [e.name for e in entries if e.is_prefix]
        return [self._dict(c, _Dir(n)) for n in dirs] + \
            ([] if dir_only else files)

    def put(self, source, destination, recursive=False):
        src = os.path.abspath(os.path.expanduser(source))
        c, key = self._split(destination)
        if os.path.isdir(src):
            if not recursive:
                raise errors.InvalidError(
                    "'%s' is a directory: put it with recursive=True" % source)
            target = (self.service, c, key.rstrip("/") + "/" if key else "")
            done = []
            self._ctx.copy_tree(src, target, progress=_objects(done))
            return [self._dict(c, self.service.head(c, _key(ev.target)))
                    for ev in done]
        if not key or "." not in key.rsplit("/", 1)[-1]:
            key = (key.rstrip("/") + "/" if key else "") + \
                os.path.basename(src)
        self.service.put_file(c, key, src)
        return [self._dict(c, self.service.head(c, key))]

    def get(self, source, destination, recursive=False):
        c, key = self._split(source)
        dest = os.path.abspath(os.path.expanduser(destination))
        if recursive and (not key or key.endswith("/") or
                          not self.service.exists(c, key)):
            prefix = key.rstrip("/") + "/" if key else ""
            done = []
            os.makedirs(dest, exist_ok=True)
            self._ctx.copy_tree((self.service, c, prefix), dest,
                                progress=_objects(done))
            return [self._dict(c, self.service.head(c, prefix + ev.target[
                len(dest) + 1:])) for ev in done]
        if os.path.isdir(dest) or "." not in os.path.basename(dest):
            os.makedirs(dest, exist_ok=True)
            dest = os.path.join(dest, os.path.basename(key))
        e = self.service.head(c, key)
        self.service.get_file(c, key, dest)
        return [self._dict(c, e)]

    def delete(self, source, recursive=False):
        """A file, or a directory: its marker and (recursive) its objects;
        a dict per object deleted, the marker's named as the directory."""
        c, key = self._split(source)
        if key and not key.endswith("/") and self.service.exists(c, key):
            e = self.service.head(c, key)
            self.service.delete(c, key)
            return [self._dict(c, e, "deleted")]
        entries = self._under(c, key)
        marker = self._marker(c, key)
        if not entries and marker is None:
            raise errors.NotFoundError(
                "service '%s': '%s': no such file or directory"
                % (self.service.name, source))
        if entries and not recursive:
            raise errors.NotEmptyError(
                "service '%s': '%s': Source has child objects (delete it with "
                "recursive=True)" % (self.service.name, source))
        failed = [(k, e) for k, e in self.service.delete_many(
            c, [e.name for e in entries]).items() if e is not None]
        if failed:
            raise failed[0][1]
        out = [self._dict(c, e, "deleted") for e in entries]
        if marker is not None and marker.name not in (e.name for e in
                                                      entries):
            try:
                self.service.delete(c, marker.name)
            except errors.NotFoundError:
                pass  # a store whose directories go with their last object
            out.insert(0, self._dict(c, marker, "deleted"))
        return out

    def search(self, directory, filename, recursive=False):
        """recursive: every object under directory whose basename is
        filename (exactly: no glob, as cloudmesh); otherwise
        directory/filename itself."""
        c, key = self._split(directory)
        d = key.rstrip("/") + "/" if key else ""
        if not recursive:
            if not self.service.exists(c, d + filename):
                return []
            return [self._dict(c, self.service.head(c, d + filename))]
        return [self._dict(c, e) for e in self._under(c, key)
                if e.name.rsplit("/", 1)[-1] == filename]


class _Dir:
    """A directory as an entry."""
    size, last_modified = 0, None

    def __init__(self, name):
        self.name = name


def _key(target):
    """The key of a "svc:container/key" progress target."""
    return target.split(":", 1)[1].split("/", 1)[1]


def _objects(out):
    def on(ev):
        if ev.event == "object" and ev.status != "failed":
            out.append(ev)
    return on
