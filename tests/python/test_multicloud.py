"""xtstore.multicloud.upload_to_cloud: Sunbird's fan-out, a result per
service."""
import pytest

import xtstore
from xtstore.multicloud import upload_to_cloud


def test_upload_to_every_service(ctx, svc, container, tmp):
    loc = ctx.service("loc")
    loc.create_container(container)
    (tmp / "a.csv").write_text("x,y\n")
    try:
        r = upload_to_cloud("reports/2026/", str(tmp), "a.csv",
                            container=container, services=["t", "loc"],
                            context=ctx)
        assert r == {
            "t": {"success": True, "error": None,
                  "target": "t:%s/reports/2026/a.csv" % container},
            "loc": {"success": True, "error": None,
                    "target": "loc:%s/reports/2026/a.csv" % container}}
        for s in (svc, loc):
            assert s.get_bytes(container, "reports/2026/a.csv") == b"x,y\n"
        # One container per service; a failing one does not stop the rest.
        r = upload_to_cloud("/r", str(tmp), "a.csv", context=ctx,
                            container={"t": container, "loc": container,
                                       "loc2": "missing"})
        assert r["t"]["success"] and r["loc"]["success"]
        assert not r["loc2"]["success"] and "missing" in r["loc2"]["error"]
        assert svc.get_bytes(container, "r/a.csv") == b"x,y\n"
    finally:
        loc.delete_container(container, recursive=True)


def test_sunbird_call_shape(tmp, monkeypatch):
    """Sunbird calls upload_to_cloud(blob_path, local_path, file_name) with
    nothing else: the services and their containers come from the config
    (container_name as its [AZURE], bucket_name as its [AWS])."""
    import json
    conf = tmp / "sb.yaml"
    conf.write_text(json.dumps({"external-services": {
        "az": {"type": "storage", "provider": "local",
               "path": str(tmp / "az"), "container_name": "ml"},
        "aws": {"type": "storage", "provider": "local",
                "path": str(tmp / "aws"), "bucket_name": "ml-bucket"},
        "db": {"type": "mongo"}}}))
    (tmp / "az" / "ml").mkdir(parents=True)
    (tmp / "aws" / "ml-bucket").mkdir(parents=True)
    (tmp / "out").mkdir()
    (tmp / "out" / "a.csv").write_text("1,2\n")
    monkeypatch.setenv("XTSTORE_CONFIG", str(conf))
    r = upload_to_cloud("reports/2026", str(tmp / "out"), "a.csv")
    assert r == {
        "az": {"success": True, "error": None,
               "target": "az:ml/reports/2026/a.csv"},
        "aws": {"success": True, "error": None,
                "target": "aws:ml-bucket/reports/2026/a.csv"}}
    assert (tmp / "aws" / "ml-bucket" / "reports" / "2026" /
            "a.csv").read_text() == "1,2\n"
    assert (tmp / "az" / "ml" / "reports" / "2026" /
            "a.csv").read_text() == "1,2\n"
    # The shape: services= and still no container.
    r = upload_to_cloud("r", str(tmp / "out"), "a.csv", services=["aws"])
    assert list(r) == ["aws"] and r["aws"]["success"]


def test_service_without_container_is_named(ctx, tmp):
    (tmp / "a.csv").write_text("x")
    with pytest.raises(xtstore.InvalidError, match="service 'loc'"):
        upload_to_cloud("r", str(tmp), "a.csv", services=["loc"],
                        context=ctx)


def test_whole_call_failure_raises(ctx, tmp, container):
    (tmp / "a.csv").write_text("x")
    with pytest.raises(xtstore.XtstoreError):
        upload_to_cloud("r", str(tmp), "a.csv", container=container,
                        services=[], context=ctx)
    empty = tmp / "empty.yaml"
    empty.write_text('{"external-services": {"db": {"type": "mongo"}}}')
    with xtstore.Context(str(empty), system_config=False, user_config=False,
                         cwd_config=False) as c:
        with pytest.raises(xtstore.XtstoreError):
            upload_to_cloud("r", str(tmp), "a.csv", container="x", context=c)


def test_unknown_service_is_failed(ctx, svc, tmp, container):
    (tmp / "a.csv").write_text("x")
    r = upload_to_cloud("r", str(tmp), "a.csv", container=container,
                        services=["t", "nosuch"], context=ctx)
    assert r["t"]["success"]
    assert not r["nosuch"]["success"] and "nosuch" in r["nosuch"]["error"]
