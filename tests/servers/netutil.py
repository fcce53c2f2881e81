#!/usr/bin/env python3
"""Small helpers for server.sh (Python 3 stdlib only).

  netutil.py freeport              print a port the OS says is free on 127.0.0.1
  netutil.py listens PID PORT      exit 0 if PID owns a socket listening on PORT
  netutil.py watchdog PID OWNER S  kill PID when OWNER (a pid, 0 = none) is gone
                                   or after S seconds; exits when PID is gone
  netutil.py marker PID VALUE      exit 0 if PID's environment has
                                   XTSTORE_TEST_SERVER=VALUE (guards pid reuse)
"""
import os
import signal
import socket
import sys
import time


def freeport():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    print(port)
    return 0


def _listening_inodes(port):
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state, inode = parts[1], parts[3], parts[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(inode)
        except OSError:
            pass
    return inodes


def _descendants(pid):
    """pid and its descendants (from /proc/*/stat)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def listens(pid, port):
    inodes = _listening_inodes(port)
    if not inodes:
        return 1
    for p in _descendants(pid):
        try:
            for fd in os.listdir(f"/proc/{p}/fd"):
                try:
                    link = os.readlink(f"/proc/{p}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return 0
        except OSError:
            pass
    return 1


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_tree(pid):
    procs = _descendants(pid)
    for p in procs:
        try:
            os.kill(p, signal.SIGTERM)
        except OSError:
            pass
    for _ in range(50):
        if not any(_alive(p) for p in procs):
            return
        time.sleep(0.1)
    for p in procs:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def watchdog(pid, owner, seconds):
    # Detach from the caller's stdio and signals so it outlives the start script.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if owner > 0 and not _alive(owner):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    if _alive(pid):
        _kill_tree(pid)
    return 0


def marker(pid, value):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return 1
    return 0 if ("XTSTORE_TEST_SERVER=" + value).encode() in env else 1


def main(argv):
    if len(argv) >= 2 and argv[1] == "freeport":
        return freeport()
    if len(argv) == 4 and argv[1] == "listens":
        return listens(int(argv[2]), int(argv[3]))
    if len(argv) == 5 and argv[1] == "watchdog":
        return watchdog(int(argv[2]), int(argv[3]), float(argv[4]))
    if len(argv) == 4 and argv[1] == "marker":
        return marker(int(argv[2]), argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
