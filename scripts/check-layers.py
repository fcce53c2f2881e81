#!/usr/bin/env python3
"""Check that host/'s layers depend on each other one way only.

    scripts/check-layers.py [HOST_DIR]    check a tree (default: this repo's host/)
    scripts/check-layers.py --selftest    show that the checks catch what they claim

The layers, lowest first: config, plugin, core, engine, workflow, then cli.
A file in one layer may include the headers of its own layer and of the
layers below it, and use the functions and data they define; never one
above. cli/ is on the public host/include/xtstore.h alone: it includes no
other layer's header and uses no name that xtstore.h does not declare.
No two files use each other, inside a layer as across it (one of them is
the lower room; what both need moves there).

Includes, quoted or <angled>, are resolved as the compiler does: against
the including file's folder (quoted only), then host/ and host/include/,
the include roots; an include that resolves outside host/ is not a layer's.
Definitions are the non-static functions and data at the top level of the
.c files, whatever their prefix and wherever the return type stands; a use
is any mention of a defined name (a call, &fn, fn passed as a callback, a
data object), comments, strings and member names (.x, ->x) ignored. Enough
for code written in the project's style; a miss is a line to fix, not a
guess to trust. Prints one line per problem and exits 1; prints nothing and
exits 0 when the tree is clean.
"""
import os
import re
import sys
import tempfile

LAYERS = ["config", "plugin", "core", "engine", "workflow", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}
PUBLIC = "include"  # host/include/: the public header, anyone's to include

INC_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*(["<])([^">]+)[">]', re.M)
IDENT_RE = re.compile(r"[A-Za-z_]\w*")
ATTR_RE = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")
NOT_DEF = ("static", "extern", "typedef")


def strip(src):
    """Comments, string and char literals blanked, line numbers kept."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\""
                  r"|'(?:\\.|[^'\\\n])*'", blank, src, flags=re.S)


def no_cpp(body):
    """Preprocessor lines (with their continuations) blanked."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", blank, body, flags=re.M)


def definitions(body):
    """Names of the non-static functions and data a C file defines.

    The file is cut, at brace depth 0, into declarations ending in ';' or
    in a '{' that opens a function body, an initializer or a type body; a
    declaration that starts with static, extern or typedef defines nothing
    outside its file."""
    names = []
    depth = 0
    head = ""       # the declaration read so far, at depth 0
    after = None    # a type body or initializer closed: what its ';' ends
    for ch in no_cpp(body):
        if depth:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            continue
        if ch == "{":
            depth = 1
            decl = ATTR_RE.sub(" ", head)
            head = ""
            if after is not None:
                continue           # a second initializer in one declaration
            local = (IDENT_RE.findall(decl) or [""])[0] in NOT_DEF
            if "=" in decl:        # NAME = { ... }: data
                names += [] if local else declarators(decl)
                after = "init"
            elif "(" in decl:      # NAME(...) { ... }: a function
                m = re.search(r"([A-Za-z_]\w*)\s*\(", decl)
                if m and not local:
                    names.append(m.group(1))
            else:                  # struct/union/enum { ... } NAMES;
                after = "local" if local else "type"
        elif ch == ";":
            decl = ATTR_RE.sub(" ", head)
            head = ""
            if after == "type":
                names += declarators("int " + decl)
            elif after is None:
                local = (IDENT_RE.findall(decl) or [""])[0] in NOT_DEF
                # A prototype, or a pointer to a function, defines nothing.
                if not local and "(" not in decl.split("=")[0]:
                    names += declarators(decl)
            after = None
        else:
            head += ch
    return names


def declarators(decl):
    """The names a data declaration defines: 'T a, *b = 1, c[2]'."""
    out = []
    parts = re.sub(r"=[^,]*", "", decl).split(",")
    for i, part in enumerate(parts):
        words = IDENT_RE.findall(part.split("[")[0])
        if words and (i or len(words) > 1):
            out.append(words[-1])
    return out


USE_RE = re.compile(r"(?<![\w.])(?<!->)[A-Za-z_]\w*")


def uses(body):
    """(name, offset) of each identifier, member names (.x, ->x) left out."""
    for m in USE_RE.finditer(body):
        yield m.group(0), m.start()


def sources(host):
    for layer in LAYERS:
        d = os.path.join(host, layer)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                yield layer, os.path.join(d, name)


def layer_of(host, path):
    """The layer a file of host/ is in, PUBLIC, or None outside host/."""
    rel = os.path.relpath(path, host)
    first = rel.split(os.sep)[0]
    if rel.startswith("..") or os.sep not in rel:
        return None
    if first in RANK or first == PUBLIC:
        return first
    return None


def resolve(host, path, inc, quoted):
    """The file an include names, or None when host/ does not hold it."""
    roots = ([os.path.dirname(path)] if quoted else []) + \
        [host, os.path.join(host, PUBLIC)]
    for r in roots:
        cand = os.path.normpath(os.path.join(r, inc))
        if os.path.isfile(cand):
            return cand
    return None


def check(host, top):
    problems = []
    files = list(sources(host))
    text = {}
    body = {}
    defs = {}  # name -> (layer, path)
    for layer, path in files:
        with open(path, encoding="utf-8") as f:
            text[path] = f.read()
        body[path] = strip(text[path])
        if path.endswith(".c"):
            for name in definitions(body[path]):
                defs.setdefault(name, (layer, path))
    public = set()
    pubdir = os.path.join(host, PUBLIC)
    if os.path.isdir(pubdir):
        for name in sorted(os.listdir(pubdir)):
            if name.endswith(".h"):
                with open(os.path.join(pubdir, name), encoding="utf-8") as f:
                    public |= set(IDENT_RE.findall(strip(f.read())))

    def rel(p):
        return os.path.relpath(p, top)

    used = {}  # path -> {defining path: (first line, name)}
    for layer, path in files:
        src = text[path]
        for m in INC_RE.finditer(src):
            if body[path][src.index("#", m.start())] != "#":
                continue           # inside a comment
            quoted, inc = m.group(1) == '"', m.group(2)
            line = src.count("\n", 0, m.start()) + 1
            where = "%s:%d" % (rel(path), line)
            target = resolve(host, path, inc, quoted)
            ilayer = layer_of(host, target) if target else None
            if target is None and quoted and inc.split("/")[0] in RANK:
                ilayer = inc.split("/")[0]   # a layer's header, missing
            if ilayer is None or ilayer == PUBLIC:
                continue
            if layer == "cli" and ilayer != "cli":
                problems.append("%s: includes %s (%s/): cli/ uses only the "
                                "public xtstore.h" % (where, inc, ilayer))
            elif RANK[ilayer] > RANK[layer]:
                problems.append("%s: includes %s: %s/ is above %s/"
                                % (where, inc, ilayer, layer))
        b = body[path]
        seen = used.setdefault(path, {})
        for name, at in uses(b):
            if name not in defs:
                continue
            dlayer, dpath = defs[name]
            if dpath == path:
                continue
            line = b.count("\n", 0, at) + 1
            where = "%s:%d" % (rel(path), line)
            if layer == "cli" and dlayer != "cli":
                if name not in public:
                    problems.append("%s: uses %s (%s): cli/ uses only the "
                                    "public xtstore.h" % (where, name,
                                                          rel(dpath)))
            elif RANK[dlayer] > RANK[layer]:
                problems.append("%s: uses %s, defined in %s: %s/ is above %s/"
                                % (where, name, rel(dpath), dlayer, layer))
            seen.setdefault(dpath, (line, name))
    for a in sorted(used):
        for b in sorted(used[a]):
            if a < b and a in used.get(b, {}):
                la, fa = used[a][b]
                lb, fb = used[b][a]
                problems.append("%s:%d: uses %s while %s:%d uses %s: two "
                                "files that use each other"
                                % (rel(a), la, fa, rel(b), lb, fb))
    return problems


def selftest():
    """A clean tree passes; each kind of back-edge is caught."""
    cases = {
        "clean": ({}, []),
        "include": ({"core/a.c": '#include "engine/engine.h"\n'},
                    ["includes engine/engine.h: engine/ is above core/"]),
        "include-relative": ({"core/call.c": '#include "../engine/engine.h"\n'},
                             ["core/call.c:1: includes ../engine/engine.h: "
                              "engine/ is above core/"]),
        "include-cli": ({"cli/m.c": '#include "cli.h"\n'
                                    '#include "../core/core.h"\n'
                                    '#include "xtstore.h"\n'},
                        ["cli/m.c:2: includes ../core/core.h (core/): cli/ "
                         "uses only the public xtstore.h"]),
        "call": ({"config/c.c": "void f(void)\n{\n  st_svc_open();\n}\n"},
                 ["config/c.c:3: uses st_svc_open, defined in core/s.c: "
                  "core/ is above config/"]),
        "address": ({"core/c.c": "void *f(void)\n{\n"
                                 "  return (void *)&st_wf_now_ns;\n}\n"},
                    ["core/c.c:3: uses st_wf_now_ns, defined in workflow/w.c: "
                     "workflow/ is above core/"]),
        "callback": ({"engine/e.c": "int f(void)\n{\n"
                                    "  return st_run(xtstore_sync);\n}\n"},
                     ["engine/e.c:3: uses xtstore_sync, defined in "
                      "workflow/w.c: workflow/ is above engine/"]),
        "own-line": ({"core/o.c": "int\nst_late(void)\n{\n  return 0;\n}\n",
                      "config/c.c": "int f(void)\n{\n  return st_late();\n}\n"},
                     ["config/c.c:3: uses st_late, defined in core/o.c: "
                      "core/ is above config/"]),
        "cycle": ({"core/t.c": "int st_t(void)\n{\n  return st_svc_open();\n}\n",
                   "core/s.c": "int st_svc_open(void)\n{\n  return st_t();\n}\n"},
                  ["two files that use each other"]),
        "cli-cycle": ({"cli/a.c": "int cli_a(void)\n{\n  return cli_b();\n}\n",
                       "cli/b.c": "int\ncli_b(void)\n{\n  return cli_a();\n}\n"},
                      ["cli/a.c:3: uses cli_b while cli/b.c:4 uses cli_a: "
                       "two files that use each other"]),
        "cli-table": ({"cli/main.c": "int cli_stop;\n"
                                     "const void *t[] = { &cli_cmd_x };\n",
                       "cli/cmd_x.c": "const struct c cli_cmd_x = { 0 };\n"
                                      "int f(void)\n{\n"
                                      "  return cli_stop;\n}\n"},
                      ["cli/cmd_x.c:4: uses cli_stop while cli/main.c:2 uses "
                       "cli_cmd_x: two files that use each other"]),
        "cli-one-way": ({"cli/main.c": "int cli_stop;\n"
                                       "const void *t[] = { &cli_cmd_x };\n",
                         "cli/cmd_x.c": "const struct c cli_cmd_x = { 0 };\n"},
                        []),
        "cli": ({"cli/m.c": "int main(void)\n{\n  return st_svc_open();\n}\n"},
                ["cli/ uses only the public xtstore.h"]),
        "cli-public": ({"cli/m.c": "int main(void)\n{\n"
                                   "  return xtstore_open() + st_svc_open;\n}\n",
                        "core/x.c": "int\nxtstore_open(void)\n{\n"
                                    "  return 0;\n}\n",
                        "include/xtstore.h": "int xtstore_open(void);\n"},
                       ["cli/m.c:3: uses st_svc_open (core/s.c): cli/ uses "
                        "only the public xtstore.h"]),
    }
    base = {"core/s.c": "int st_svc_open(void)\n{\n  return 0;\n}\n",
            "core/core.h": '#include "config/config.h"\n'
                           '/* #include "engine/engine.h" */\n',
            "config/config.h": "",
            "engine/engine.h": "",
            "cli/cli.h": '#include "xtstore.h"\n',
            "include/xtstore.h": "",
            "workflow/w.c": "static int st_wf_hidden(void);\n"
                            "long long st_wf_now_ns(void)\n{\n  return 0;\n}\n"
                            "int xtstore_sync(void)\n{\n  return 0;\n}\n"}
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
            ok = (not got) if not want else (len(got) == len(want) and all(
                any(w in g for g in got) for w in want))
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
