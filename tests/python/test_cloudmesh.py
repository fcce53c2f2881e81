"""xtstore.cloudmesh.Provider: cloudmesh's storage verbs and dicts."""
import pytest

import xtstore
from conftest import BACKEND
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
    assert names(p.list("/tree")) == ["/tree/a.txt", "/tree/sub"]
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
    assert {d["cm"]["status"] for d in r} == {"deleted"}
    # The local provider's directories count as markers; other stores
    # have none here.
    assert [n for n in names(r) if n != "/tree"] == [
        "/tree/a.txt", "/tree/sub/b.txt"]
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


def test_create_dir_then_delete(p):
    p.create_dir("/empty")
    r = p.delete("/empty")                      # non-recursive: only a marker
    assert names(r) == ["/empty"] and r[0]["cm"]["status"] == "deleted"
    with pytest.raises(xtstore.NotFoundError):
        p.delete("/empty")
    p.create_dir("/full")
    p.service.put(p.container, "full/x.txt", b"x")
    with pytest.raises(xtstore.NotEmptyError):
        p.delete("/full")
    r = p.delete("/full", recursive=True)
    assert names(r) == ["/full", "/full/x.txt"]
    assert {d["cm"]["status"] for d in r} == {"deleted"}
    assert p.list("/", recursive=True) == []
    with pytest.raises(xtstore.NotFoundError):
        p.delete("/full", recursive=True)


def test_get_root_recursive(p, tmp):
    p.service.put(p.container, "a.txt", b"1")
    p.service.put(p.container, "d/b.txt", b"2")
    r = p.get("/", str(tmp / "all"), recursive=True)
    assert names(r) == ["/a.txt", "/d/b.txt"]
    assert (tmp / "all" / "d" / "b.txt").read_bytes() == b"2"


def test_list_gives_directories(p):
    p.service.put(p.container, "x/1.txt", b"1")
    # s3rver reports no CommonPrefix for a key two levels down (aws s3api
    # list-objects-v2 --delimiter / shows the same): y holds a file there.
    p.service.put(p.container, "y/2.txt" if BACKEND == "s3rver" else
                  "y/z/2.txt", b"2")
    r = p.list("/")
    assert names(r) == ["/x", "/y"] and {d["cm"]["size"] for d in r} == {0}
    p.service.put(p.container, "top.txt", b"t")
    assert names(p.list("/")) == ["/top.txt", "/x", "/y"]
    assert names(p.list("/", dir_only=True)) == ["/x", "/y"]


def test_search_is_exact(p):
    p.service.put(p.container, "d/a.txt", b"1")
    p.service.put(p.container, "d/e/a.txt", b"2")
    p.service.put(p.container, "d/ab.txt", b"3")
    assert names(p.search("/d", "a.txt", recursive=True)) == [
        "/d/a.txt", "/d/e/a.txt"]
    assert p.search("/d", "a*.txt", recursive=True) == []
    assert p.search("/d", "?.txt", recursive=True) == []


def test_no_container_names_the_service(ctx):
    with pytest.raises(xtstore.InvalidError, match="service 't'.*no container"):
        Provider("t", context=ctx).list("/")
