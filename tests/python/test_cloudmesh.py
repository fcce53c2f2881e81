"""xtstore.cloudmesh.Provider: cloudmesh's storage verbs and dicts."""
import pytest

import xtstore
from xtstore.cloudmesh import Provider


@pytest.fixture
def p(ctx, container):
    return Provider("t", container=container, context=ctx)


def names(dicts):
    return sorted(d["cm"]["name"] for d in dicts)


def test_verbs(p, tmp):
    src = tmp / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("one")
    (src / "sub" / "b.txt").write_text("two")

    d = p.create_dir("/d1")
    assert d["cm"]["kind"] == "storage" and d["cm"]["cloud"] == "t"
    assert d["cm"]["name"] == "/d1"
    r = p.put(str(src / "a.txt"), "/d1")          # no "." -> a directory
    assert names(r) == ["/d1/a.txt"] and r[0]["cm"]["size"] == 3
    assert r[0]["cm"]["status"] == "exists"
    assert names(p.put(str(src), "/tree", recursive=True)) == [
        "/tree/a.txt", "/tree/sub/b.txt"]
    with pytest.raises(xtstore.InvalidError):
        p.put(str(src), "/tree2")

    assert names(p.list("/", recursive=True)) == [
        "/d1/a.txt", "/tree/a.txt", "/tree/sub/b.txt"]
    assert names(p.list("/tree")) == ["/tree/a.txt"]
    assert names(p.list("/", dir_only=True, recursive=True)) == [
        "/d1", "/tree", "/tree/sub"]

    assert names(p.search("/tree", "b.txt", recursive=True)) == [
        "/tree/sub/b.txt"]
    assert p.search("/tree", "b.txt") == []
    assert names(p.search("/tree", "a.txt")) == ["/tree/a.txt"]

    out = tmp / "out"
    assert names(p.get("/d1/a.txt", str(out))) == ["/d1/a.txt"]
    assert (out / "a.txt").read_text() == "one"
    assert names(p.get("/tree", str(tmp / "t2"), recursive=True)) == [
        "/tree/a.txt", "/tree/sub/b.txt"]
    assert (tmp / "t2" / "sub" / "b.txt").read_text() == "two"

    with pytest.raises(xtstore.NotEmptyError, match="child objects"):
        p.delete("/tree")
    r = p.delete("/tree", recursive=True)
    assert {d["cm"]["status"] for d in r} == {"deleted"} and len(r) == 2
    assert names(p.delete("/d1/a.txt")) == ["/d1/a.txt"]
    assert p.list("/", recursive=True) == []
    with pytest.raises(xtstore.NotFoundError):
        p.delete("/nothing")


def test_container_from_path(ctx, container, tmp):
    p = Provider("t", context=ctx)
    f = tmp / "x.csv"
    f.write_text("1,2")
    r = p.put(str(f), "/%s/data/x.csv" % container)
    assert names(r) == ["/%s/data/x.csv" % container]
    assert names(p.list("/%s/data" % container)) == [
        "/%s/data/x.csv" % container]
