"""Child of test_big_stream.py: puts MIB MiB generated chunk by chunk into
t:CONTAINER/big and reads it back as an iterator, then prints its peak RSS
before any transfer and at the end (KiB) and whether the bytes came back."""
import hashlib
import json
import sys

import xtstore


def peak_kib():
    """This process's peak RSS: VmHWM, which starts afresh at exec (unlike
    getrusage's ru_maxrss, which keeps the forking parent's)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])


conf, container, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = xtstore.Context(conf, system_config=False, user_config=False,
                      cwd_config=False)
svc = ctx.service("t")
block = bytes(range(256)) * 4096          # 1 MiB
base = peak_kib()
sent = hashlib.sha256()


def body():
    for i in range(mib):
        chunk = i.to_bytes(4, "little") + block[4:]
        sent.update(chunk)
        yield chunk


r = svc.put(container, "big", body())
got = hashlib.sha256()
n = 0
for chunk in svc.iter_get(container, "big"):
    got.update(chunk)
    n += len(chunk)
peak = peak_kib()
print(json.dumps({"base_kib": base, "peak_kib": peak, "size": n,
                  "stored": r.size, "same": got.digest() == sent.digest()}))
