#!/usr/bin/env python3
"""Check that host/'s layers depend on each other one way only.

    scripts/check-layers.py [HOST_DIR]    check a tree (default: this repo's host/)
    scripts/check-layers.py --selftest    show that the checks catch what they claim

The layers, lowest first: config, plugin, core, engine, workflow, then cli.
A file in one layer may include the header of its own layer and of the
layers below it, and call the functions they define; never one above. cli/
is on the public host/include/xtstore.h alone: it includes no layer header
and calls no st_ function. Inside a layer, no two files call each other
(one of them is the lower room; what both need moves there).

Functions are found by name (st_* and xtstore_*, non-static, defined at the
start of a line), comments and strings ignored: enough for code written in
the project's style, and a miss is a line to fix, not a guess to trust.
Prints one line per problem and exits 1; prints nothing and exits 0 when
the tree is clean.
"""
import os
import re
import sys
import tempfile

LAYERS = ["config", "plugin", "core", "engine", "workflow", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}

DEF_RE = re.compile(r"^(?!static\b)[A-Za-z][^\n;=(]*?\b((?:st|xtstore)_\w+)\(",
                    re.M)
USE_RE = re.compile(r"\b((?:st|xtstore)_\w+)\s*\(")
INC_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def strip(src):
    """Comments and string literals blanked, line numbers kept."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', blank, src,
                  flags=re.S)


def sources(host):
    for layer in LAYERS:
        d = os.path.join(host, layer)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                yield layer, os.path.join(d, name)


def check(host, top):
    problems = []
    files = list(sources(host))
    text = {}
    defs = {}  # function -> (layer, path)
    for layer, path in files:
        with open(path, encoding="utf-8") as f:
            text[path] = f.read()
        if path.endswith(".c"):
            for m in DEF_RE.finditer(strip(text[path])):
                defs.setdefault(m.group(1), (layer, path))

    def rel(p):
        return os.path.relpath(p, top)

    calls = {}  # path -> {callee path: first line}
    for layer, path in files:
        src = text[path]
        for m in INC_RE.finditer(src):
            inc = m.group(1)
            line = src.count("\n", 0, m.start()) + 1
            where = "%s:%d" % (rel(path), line)
            first = inc.split("/")[0] if "/" in inc else None
            if layer == "cli":
                if first is not None and first in RANK:
                    problems.append("%s: includes %s: cli/ uses only the public "
                                    "xtstore.h" % (where, inc))
                continue
            if first is not None and first in RANK and RANK[first] > RANK[layer]:
                problems.append("%s: includes %s: %s/ is above %s/"
                                % (where, inc, first, layer))
        body = strip(src)
        seen = calls.setdefault(path, {})
        for m in USE_RE.finditer(body):
            fn = m.group(1)
            if fn not in defs:
                continue
            dlayer, dpath = defs[fn]
            if dpath == path:
                continue
            line = body.count("\n", 0, m.start()) + 1
            where = "%s:%d" % (rel(path), line)
            if layer == "cli" and fn.startswith("st_"):
                problems.append("%s: calls %s (%s): cli/ uses only the public "
                                "xtstore.h" % (where, fn, rel(dpath)))
            elif RANK[dlayer] > RANK[layer]:
                problems.append("%s: calls %s, defined in %s: %s/ is above %s/"
                                % (where, fn, rel(dpath), dlayer, layer))
            seen.setdefault(dpath, (line, fn))
    for a in sorted(calls):
        for b in sorted(calls[a]):
            if a < b and a in calls.get(b, {}):
                la, fa = calls[a][b]
                lb, fb = calls[b][a]
                problems.append("%s:%d: calls %s while %s:%d calls %s: two "
                                "files that call each other"
                                % (rel(a), la, fa, rel(b), lb, fb))
    return problems


def selftest():
    """A clean tree passes; each kind of back-edge is caught."""
    cases = {
        "clean": ({}, []),
        "include": ({"core/a.c": '#include "engine/engine.h"\n'},
                    ["includes engine/engine.h: engine/ is above core/"]),
        "call": ({"config/c.c": "void f(void)\n{\n  st_svc_open();\n}\n"},
                 ["calls st_svc_open, defined in core/s.c: core/ is above config/"]),
        "cycle": ({"core/t.c": "int st_t(void)\n{\n  return st_svc_open();\n}\n",
                   "core/s.c": "int st_svc_open(void)\n{\n  return st_t();\n}\n"},
                  ["two files that call each other"]),
        "cli": ({"cli/m.c": "int main(void)\n{\n  return st_svc_open();\n}\n"},
                ["cli/ uses only the public xtstore.h"]),
    }
    base = {"core/s.c": "int st_svc_open(void)\n{\n  return 0;\n}\n",
            "core/core.h": '#include "config/config.h"\n'}
    failed = 0
    for name, (extra, want) in cases.items():
        with tempfile.TemporaryDirectory() as d:
            tree = dict(base)
            tree.update(extra)
            for p, src in tree.items():
                os.makedirs(os.path.join(d, os.path.dirname(p)), exist_ok=True)
                with open(os.path.join(d, p), "w") as f:
                    f.write(src)
            got = check(d, d)
            ok = (not got) if not want else all(
                any(w in g for g in got) for w in want)
            if not ok:
                failed += 1
                print("selftest %s: got %r, want %r" % (name, got, want))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    host = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "host")
    if not os.path.isdir(os.path.join(host, "core")):
        print("check-layers: %s: no core/ folder: not a host tree" % host)
        return 1
    problems = check(host, top)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
