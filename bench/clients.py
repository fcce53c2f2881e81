#!/usr/bin/env python3
"""clients.py OUT_DIR BIG_BYTES SMALL_COUNT LS_KEYS: the tables of
bench/clients.sh, as Markdown on stdout.

Reads OUT_DIR/results.csv (tool,workload,run,wall_s,cpu_s,max_rss_mib,
server_cpu_s,load1; one line per timed run) and OUT_DIR/meta.txt. Each
figure is the median over the runs (MB/s and files/s from the median wall
time); RSS is the largest peak of the runs. MB is 10^6 bytes; CPU is the
client's user + system time (every thread and child), by GNU time."""
import csv
import os
import statistics
import sys
from collections import defaultdict

TOOLS = ["xtstore", "rclone", "aws", "s3cmd", "curl"]
NAMES = {"aws": "aws v2"}
DASH = "–"


def load(out):
    runs = defaultdict(list)
    with open(os.path.join(out, "results.csv")) as f:
        for r in csv.DictReader(f):
            runs[(r["tool"], r["workload"])].append(
                {k: float(r[k]) for k in ("wall_s", "cpu_s", "max_rss_mib",
                                          "server_cpu_s", "load1")})
    return runs


class Figures:
    def __init__(self, runs, big, small, keys):
        self.runs, self.big, self.small, self.keys = runs, big, small, keys

    def med(self, tool, load, field):
        rs = self.runs.get((tool, load))
        return statistics.median(r[field] for r in rs) if rs else None

    def rss(self, tool, loads):
        v = [r["max_rss_mib"] for ld in loads
             for r in self.runs.get((tool, ld), [])]
        return max(v) if v else None

    def mbps(self, tool, load):
        w = self.med(tool, load, "wall_s")
        return self.big / 1e6 / w if w else None

    def cpu_gib(self, tool, load):
        c = self.med(tool, load, "cpu_s")
        return c / (self.big / 2**30) if c is not None else None

    def files_s(self, tool, load):
        w = self.med(tool, load, "wall_s")
        return self.small / w if w else None

    def ms_obj(self, tool, load):
        c = self.med(tool, load, "cpu_s")
        return c * 1000 / self.small if c is not None else None


def fmt(v, f):
    return DASH if v is None else f.format(v)


def tables(fig, tools):
    gib = fig.big / 2**30
    size = f"{gib:g} GiB" if gib >= 1 else f"{fig.big / 2**20:g} MiB"
    out = [f"Big object ({size}): MB/s (client CPU s/GiB)", "",
           "| client | PUT | GET → /dev/null | GET → file "
           "| peak RSS MiB |",
           "|---|---|---|---|---|"]
    for t in tools:
        cells = [f"{fmt(fig.mbps(t, ld), '{:.0f}')} "
                 f"({fmt(fig.cpu_gib(t, ld), '{:.2f}')})"
                 if (t, ld) in fig.runs else DASH
                 for ld in ("put", "get_null", "get_file")]
        out.append(f"| {NAMES.get(t, t)} | " + " | ".join(cells) +
                   f" | {fmt(fig.rss(t, ['put', 'get_null', 'get_file']), '{:.0f}')} |")
    out += ["", f"{fig.small} × 4 KiB objects: files/s (client CPU ms per "
            f"object); `ls -r` of {fig.keys} keys: seconds, CPU s, peak RSS",
            "",
            "| client | PUT | GET → files | peak RSS MiB | ls -r wall s "
            "| ls -r CPU s | ls -r peak RSS MiB |",
            "|---|---|---|---|---|---|---|"]
    for t in tools:
        cells = [f"{fmt(fig.files_s(t, ld), '{:.0f}')} "
                 f"({fmt(fig.ms_obj(t, ld), '{:.2f}')})"
                 if (t, ld) in fig.runs else DASH
                 for ld in ("put_small", "get_small")]
        out.append(f"| {NAMES.get(t, t)} | " + " | ".join(cells) +
                   f" | {fmt(fig.rss(t, ['put_small', 'get_small']), '{:.0f}')}"
                   f" | {fmt(fig.med(t, 'ls', 'wall_s'), '{:.1f}')}"
                   f" | {fmt(fig.med(t, 'ls', 'cpu_s'), '{:.1f}')}"
                   f" | {fmt(fig.rss(t, ['ls']), '{:.0f}')} |")
    loads = ["put", "get_null", "get_file", "put_small", "get_small", "ls"]
    out += ["", "Server (s3discard.py) CPU seconds during each workload "
            "(median): where it nears the wall time, the server was the "
            "limit", "",
            "| client | " + " | ".join(loads) + " |",
            "|---|" + "---|" * len(loads)]
    for t in tools:
        out.append(f"| {NAMES.get(t, t)} | " + " | ".join(
            fmt(fig.med(t, ld, "server_cpu_s"), "{:.2f}") for ld in loads)
            + " |")
    return out


def ratio(a, b):
    return a / b if a is not None and b else None


def targets(fig):
    x = "xtstore"
    rows = []

    def add(what, value, ok):
        met = DASH if ok is None else ("**met**" if ok else "missed")
        rows.append(f"| {what} | {value} | {met} |")

    c = fig.cpu_gib(x, "put")
    add("PUT ≤ 0.6 CPU s/GiB, with integrity", fmt(c, "{:.2f} s/GiB"),
        None if c is None else c <= 0.6)
    r = ratio(fig.mbps(x, "put"), fig.mbps("rclone", "put"))
    add("PUT ≥ 2× rclone's MB/s", fmt(r, "{:.2f}×"),
        None if r is None else r >= 2)
    c = fig.cpu_gib(x, "get_null")
    # s3discard reports every generated object's CRC-32C, which xtstore
    # checks a whole download against (README.md: how that was verified).
    add("GET → /dev/null ≤ 0.3 CPU s/GiB, verified (CRC-32C)",
        fmt(c, "{:.2f} s/GiB"), None if c is None else c <= 0.3)
    r = ratio(fig.mbps(x, "get_null"), fig.mbps("curl", "get_null"))
    add("GET → /dev/null ≥ curl's MB/s", fmt(r, "{:.2f}×"),
        None if r is None else r >= 1)
    r = ratio(fig.mbps(x, "get_file"), fig.mbps("rclone", "get_file"))
    add(f"GET {fig.big / 2**30:g} GiB → file faster than rclone",
        fmt(r, "{:.2f}×"), None if r is None else r > 1)
    r = ratio(fig.files_s(x, "get_small"), fig.files_s("rclone", "get_small"))
    add(f"{fig.small} × 4 KiB GET ≥ 2× rclone's files/s", fmt(r, "{:.2f}×"),
        None if r is None else r >= 2)
    m = fig.rss(x, ["ls"])
    add(f"`ls -r` of {fig.keys} keys ≤ 16 MiB RSS", fmt(m, "{:.1f} MiB"),
        None if m is None else m <= 16)
    return ["", "Targets, xtstore against the peers of this run:",
            "", "| target | xtstore | |", "|---|---|---|", *rows]


def main():
    out, big, small, keys = sys.argv[1], *map(int, sys.argv[2:5])
    runs = load(out)
    tools = [t for t in TOOLS if any(k[0] == t for k in runs)]
    meta = open(os.path.join(out, "meta.txt")).read().strip().splitlines()
    loads = [r["load1"] for rs in runs.values() for r in rs]
    counts = sorted({len(rs) for rs in runs.values()})
    lines = ["# bench/clients.sh against bench/s3discard.py", ""]
    lines += [f"- {m}" for m in meta]
    lines += [f"- runs per workload: {'/'.join(map(str, counts))} (median); "
              f"1-min load average after the runs: {min(loads):.1f}–"
              f"{max(loads):.1f}", ""]
    fig = Figures(runs, big, small, keys)
    lines += tables(fig, tools) + targets(fig)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
