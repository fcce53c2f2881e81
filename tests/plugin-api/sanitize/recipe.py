"""recipe.py GUIDE -- the sanitizer recipe of PLUGIN_GUIDE.md ("Testing"),
taken from the guide's text so the test runs what the guide says, as shell
templates over SAN_CC (the compiler), SAN_EXTRA (extra flags), SAN_OUT, SAN_SRCS
and SAN_XT (the xtstore binary). Prints four lines, each NAME=TEMPLATE:
BUILD and RUN (gcc), CLANG_FLAG and CLANG_RT (what the guide says to add for
clang). Exit 1 with a line on stderr when the guide no longer has the recipe."""
import re
import sys

guide = open(sys.argv[1]).read()
try:
    sec = guide[guide.index("- **Sanitizers.**"):guide.index("## 10.")]
    block = re.search(r"```sh\n(.*?)```", sec, re.S).group(1)
    build, run = (ln.strip() for ln in
                  re.sub(r"\\\n\s*", "", block).strip().split("\n"))
    flag = re.search(r"With clang add `([^`]+)` to the build", sec).group(1)
    rt = re.search(r"preload\s+`\$\((clang -print-file-name=[^`]+)\)`",
                   sec).group(1)
except (ValueError, AttributeError) as e:
    sys.exit("recipe.py: PLUGIN_GUIDE.md has no sanitizer recipe: %s" % e)
if not (build.startswith("cc ") and "store-acme.so" in build
        and re.search(r"\bacme\.c\b", build)
        and run.startswith("LD_PRELOAD=$(cc ") and " xtstore " in run):
    sys.exit("recipe.py: PLUGIN_GUIDE.md's recipe changed shape: " + build)
build = re.sub(r"\bacme\.c\b", '$SAN_SRCS',
               build.replace("store-acme.so", '"$SAN_OUT"'))
build = '"$SAN_CC" $SAN_EXTRA' + build[len("cc"):]
run = run.replace("$(cc ", '$("$SAN_CC" ').replace(" xtstore ", ' "$SAN_XT" ')
print("BUILD=" + build)
print("RUN=" + run)
print("CLANG_FLAG=" + flag)
print("CLANG_RT=" + rt.replace("clang ", '"$SAN_CC" ', 1))
