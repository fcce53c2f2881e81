"""A 256 MiB body streamed up from an iterator and back down as one, in a
child process whose peak RSS is measured: memory stays bounded."""
import json
import os
import subprocess
import sys

MIB = 256
# The whole process, Python and the provider's libraries included: far
# below the body, whatever the body's size.
LIMIT_MIB = 64


def test_256_mib_stream_bounded_memory(svc, container, config_path):
    r = subprocess.run([sys.executable,
                        os.path.join(os.path.dirname(__file__),
                                     "bigstream.py"),
                        config_path, container, str(MIB)],
                       capture_output=True, text=True, timeout=500)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["same"] and out["size"] == out["stored"] == MIB << 20
    print("peak RSS %d KiB (%d KiB before the transfers)"
          % (out["peak_kib"], out["base_kib"]))
    assert out["peak_kib"] < LIMIT_MIB * 1024, out
