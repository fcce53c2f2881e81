#!/usr/bin/env python3
"""report.py OUT_DIR BIG_BYTES SMALL_COUNT: the comparison table of
bench/run.sh, in the columns of the peer baseline (bench/peers.csv, from the
project's notes/testbed.md), as Markdown on stdout.

Reads OUT_DIR/xt-SERVICE-big-RUN.csv and xt-SERVICE-small-RUN.csv (the CSV
of `xtstore bench`) and OUT_DIR/peers-measured.csv (TOOL,SERVER,WORKLOAD,
RUN,WALL_S,CPU_S,MAX_RSS_MIB, one line per timed peer run). Each figure is
the median over the runs; RSS is shown as the range of the runs' peaks."""
import csv
import glob
import os
import re
import statistics
import sys

SERVERS = {"local": "local", "s3rver": "s3rver", "azurite": "Azurite"}
HEAD = ("| tool → server | big up MB/s | big down MB/s | small up files/s "
        "| small down files/s | client CPU s (big up / big down) "
        "| client max RSS MiB | source |")


def med(values, fmt):
    return fmt.format(statistics.median(values)) if values else "–"


def rss_range(values):
    if not values:
        return "–"
    lo, hi = min(values), max(values)
    return f"{lo:.0f}" if round(lo) == round(hi) else f"{lo:.0f}–{hi:.0f}"


def row(who, server, f, source):
    return (f"| {who} → {server} | {med(f['big_up'], '{:.0f}')} "
            f"| {med(f['big_down'], '{:.0f}')} "
            f"| {med(f['small_up'], '{:.0f}')} "
            f"| {med(f['small_down'], '{:.0f}')} "
            f"| {med(f['cpu_up'], '{:.2f}')} / {med(f['cpu_down'], '{:.2f}')} "
            f"| {rss_range(f['rss'])} | {source} |")


def figures():
    return {k: [] for k in ("big_up", "big_down", "small_up", "small_down",
                            "cpu_up", "cpu_down", "rss")}


def xtstore_rows(out):
    found = {}
    for path in sorted(glob.glob(os.path.join(out, "xt-*-*-*.csv"))):
        m = re.match(r"xt-(.+)-(big|small)-\d+\.csv$", os.path.basename(path))
        if not m:
            continue
        svc, load = m.groups()
        f = found.setdefault(svc, figures())
        peak = 0.0
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                peak = max(peak, float(r["max_rss_mib"]))
                if load == "big" and r["op"] in ("put", "get"):
                    up = r["op"] == "put"
                    f["big_up" if up else "big_down"].append(float(r["mb_per_s"]))
                    f["cpu_up" if up else "cpu_down"].append(float(r["cpu_seconds"]))
                elif load == "small" and r["op"] in ("put", "get"):
                    f["small_up" if r["op"] == "put" else "small_down"].append(
                        float(r["ops_per_s"]))
        f["rss"].append(peak)
    return [row("xtstore", SERVERS.get(s, s), f, "measured")
            for s, f in found.items()]


def peer_rows(out, big_bytes, small_count):
    path = os.path.join(out, "peers-measured.csv")
    if not os.path.exists(path):
        return []
    found = {}
    with open(path, newline="") as fh:
        for tool, server, load, _run, wall, cpu, rss in csv.reader(fh):
            f = found.setdefault((tool, server), figures())
            wall, cpu, rss = float(wall), float(cpu), float(rss)
            if load.startswith("big"):
                f[load].append(big_bytes / 1e6 / wall)
                f["cpu_up" if load == "big_up" else "cpu_down"].append(cpu)
            else:
                f[load].append(small_count / wall)
            f["rss"].append(rss)
    return [row(t, s, f, "measured") for (t, s), f in found.items()]


def baseline_rows():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers.csv")
    rows = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                f"| {r['tool']} → {r['server']} | {r['big_up_mb_s']} "
                f"| {r['big_down_mb_s']} | {r['small_up_files_s']} "
                f"| {r['small_down_files_s']} "
                f"| {r['cpu_big_up_s']} / {r['cpu_big_down_s']} "
                f"| {r['max_rss_mib']} | baseline (testbed.md) |")
    return rows


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out, big_bytes, small_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(HEAD)
    print("|---|---|---|---|---|---|---|---|")
    for line in (xtstore_rows(out) + peer_rows(out, big_bytes, small_count)
                 + baseline_rows()):
        print(line)


if __name__ == "__main__":
    main()
