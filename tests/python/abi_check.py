#!/usr/bin/env python3
"""abi_check.py LAYOUT: the ctypes mirrors of python/xtstore/_native.py
against the C headers. LAYOUT is abi_layout.c's program; it prints each
mirrored struct's sizeof and its fields' offsetof. Every Structure of
_native.py must be printed, with the same size and, field by field, the
same offset: a field appended to a header (a bigger sizeof) or a mirror
out of step fails here, naming the struct and the field."""
import ctypes
import subprocess
import sys

from xtstore import _native as N

c = {}
for line in subprocess.run([sys.argv[1]], check=True, capture_output=True,
                           text=True).stdout.splitlines():
    name, value = line.split()
    c[name] = int(value)

bad = []
mirrors = {n: v for n, v in vars(N).items() if isinstance(v, type) and
           issubclass(v, ctypes.Structure) and v is not ctypes.Structure}
for n, cls in sorted(mirrors.items()):
    if n not in c:
        bad.append("%s: not in abi_layout.c (add its fields)" % n)
        continue
    if ctypes.sizeof(cls) != c[n]:
        bad.append("%s: sizeof %d in Python, %d in C" %
                   (n, ctypes.sizeof(cls), c[n]))
    for f in cls._fields_:
        key = "%s.%s" % (n, f[0])
        off = getattr(cls, f[0]).offset
        if key not in c:
            bad.append("%s: not in abi_layout.c" % key)
        elif off != c[key]:
            bad.append("%s: offset %d in Python, %d in C" % (key, off, c[key]))
for key in c:
    if key.split(".")[0] not in mirrors:
        bad.append("%s: in abi_layout.c but not a mirror in _native.py" % key)
    elif "." in key and not any(f[0] == key.split(".")[1] for f in
                                mirrors[key.split(".")[0]]._fields_):
        bad.append("%s: in abi_layout.c but not in the mirror" % key)
for b in bad:
    print("python/abi: " + b)
print("python/abi: %d structs, %d fields checked" %
      (len(mirrors), sum(len(m._fields_) for m in mirrors.values())))
sys.exit(1 if bad else 0)
