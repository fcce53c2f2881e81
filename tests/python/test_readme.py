"""The Python snippets of README.md and python/README.md run as written,
against local services of the names they use (the services and files
they assume are made here first)."""
import io
import json
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def snippets(md):
    text = (ROOT / md).read_text()
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def local_config(tmp, names, **extra):
    return {"external-services": {
        n: dict({"type": "storage", "provider": "local",
                 "path": str(tmp / n)}, **extra) for n in names},
        "xt-services": {"storage": names[0]}}


@pytest.fixture
def home(tmp, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp / "home"))
    (tmp / "home").mkdir()
    monkeypatch.chdir(tmp)
    return tmp / "home"


def test_top_readme(tmp, home, monkeypatch):
    (code,) = snippets("README.md")
    conf = tmp / "user.yaml"
    conf.write_text(json.dumps(local_config(tmp, ["scratch"],
                                            container_name="photos")))
    monkeypatch.setenv("XTSTORE_CONFIG", str(conf))
    (tmp / "scratch" / "photos").mkdir(parents=True)
    (home / "cat.jpg").write_bytes(b"jpg")
    (tmp / "out").mkdir()
    (tmp / "out" / "a.csv").write_text("1,2\n")
    exec(compile(code, "README.md", "exec"), {})
    assert (home / ".xt" / "file_store" / "jobs" / "job1" /
            "info.txt").read_text() == "hello"
    assert (tmp / "scratch" / "photos" / "2026" / "cat.jpg").read_bytes() \
        == b"jpg"
    assert (tmp / "scratch" / "photos" / "reports" / "2026" /
            "a.csv").read_text() == "1,2\n"


def test_python_readme(tmp, home):
    (code,) = snippets("python/README.md")
    names = ["scratch", "lake", "archive", "a", "b"]
    (tmp / "xt_config.yaml").write_text(json.dumps(local_config(tmp, names)))
    for d in ("scratch/www", "lake/raw/2024", "archive/raw", "a/releases",
              "b/releases", "site"):
        (tmp / d).mkdir(parents=True)
    (tmp / "lake" / "raw" / "2024" / "x.txt").write_text("x")
    (tmp / "site" / "index.html").write_text("<p>")
    for f in ("big.bin", "f.iso", "build.tar"):
        (tmp / f).write_bytes(os.urandom(1000))
    sink = io.BytesIO()
    exec(compile(code, "python/README.md", "exec"),
         {"source": lambda: iter([b"a", b"b"]), "sink": sink})
    assert sink.getvalue() == (tmp / "big.bin").read_bytes()
    assert (tmp / "scratch" / "photos" / "gen.bin").read_bytes() == b"ab"
    assert (tmp / "archive" / "raw" / "2024" / "x.txt").read_text() == "x"
    assert (tmp / "scratch" / "www" / "index.html").read_text() == "<p>"
    for s in ("a", "b"):
        assert (tmp / s / "releases" / "build.tar").read_bytes() == \
            (tmp / "build.tar").read_bytes()
    assert (tmp / "migrate.jsonl").stat().st_size > 0
