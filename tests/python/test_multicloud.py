"""xtstore.multicloud.upload_to_cloud: Sunbird's fan-out, a result per
service."""
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
