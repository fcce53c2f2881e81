"""Errors: the exception class of each STORE_E_* code, its message the
host's one line (naming the service and the object, never a secret)."""
import os
import subprocess
import sys

import pytest

import xtstore
from conftest import AZ_KEY, BACKEND
from xtstore import errors


def test_one_class_per_code():
    assert len(errors.BY_CODE) == 16
    for code, cls in errors.BY_CODE.items():
        assert issubclass(cls, xtstore.XtstoreError) and cls.code == code
        assert cls.name.startswith("STORE_E_")
    assert errors.from_code(99, "m").__class__ is xtstore.InternalError


def test_not_found(svc, container):
    with pytest.raises(xtstore.NotFoundError) as ei:
        svc.get_bytes(container, "no/such")
    e = ei.value
    assert e.code == 1 and "\n" not in str(e)
    assert "'t'" in str(e) and "no/such" in str(e)
    with pytest.raises(xtstore.NotFoundError):
        svc.head(container, "no/such")
    with pytest.raises(xtstore.NotFoundError, match="no-such-container"):
        svc.list("no-such-container")


def test_message_is_the_hosts(svc, container, config_path, tmp):
    """The CLI prints the same host message for the same failure."""
    with pytest.raises(xtstore.NotFoundError) as ei:
        svc.get_file(container, "missing", str(tmp / "x"))
    cli = os.path.join(os.path.dirname(os.environ["XTSTORE_LIB"]), "bin",
                       "xtstore")
    if not os.path.exists(cli):
        pytest.skip("no CLI beside the library")
    r = subprocess.run([cli, "--config", config_path, "get",
                        "t:%s/missing" % container, str(tmp / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 4
    assert str(ei.value) in r.stderr
    assert not os.path.exists(tmp / "x")


def test_exists_if_none_match(svc, container):
    svc.put(container, "k", b"1")
    if BACKEND == "s3rver":
        pytest.skip("s3rver ignores If-None-Match on PUT (testbed.md)")
    with pytest.raises(xtstore.ExistsError, match="k"):
        svc.put(container, "k", b"2", if_none_match=True)
    assert svc.get_bytes(container, "k") == b"1"


def test_config_errors(ctx, tmp):
    with pytest.raises(xtstore.ConfigError, match="unknown service 'nope'"):
        ctx.service("nope")
    bad = tmp / "bad.yaml"
    bad.write_text("external-services: {a: [\n")
    with pytest.raises(xtstore.ConfigError) as ei:
        xtstore.Context(str(bad), system_config=False, user_config=False,
                        cwd_config=False)
    assert str(bad) in str(ei.value)
    with pytest.raises(xtstore.ConfigError, match="cannot read"):
        xtstore.Context(str(tmp / "absent.yaml"))


def test_bad_secret_is_not_shown(tmp):
    if BACKEND != "azurite":
        pytest.skip("needs a server that checks credentials")
    from conftest import service_entry
    import json
    entry = dict(service_entry()[0], key=AZ_KEY[:-8] + "AAAAAAA=",
                 retry={"attempts": 1})
    p = tmp / "wrong.yaml"
    p.write_text(json.dumps({"external-services": {"w": entry}}))
    c = xtstore.Context(str(p), system_config=False, user_config=False,
                        cwd_config=False)
    with pytest.raises(xtstore.AuthError) as ei:
        c.service("w").list_containers()
    assert "AAAAAAA" not in str(ei.value) and AZ_KEY[:20] not in str(ei.value)
    assert ei.value.http_status == 403
    c.close()


def test_invalid_address():
    with pytest.raises(xtstore.InvalidError):
        xtstore.parse_address("svc:/k")


def test_callback_exception_propagates(svc, container):
    def body():
        yield b"part"
        raise ValueError("the source broke")
    with pytest.raises(ValueError, match="the source broke"):
        svc.put(container, "broken", body())
    assert not svc.exists(container, "broken")
    with pytest.raises(ZeroDivisionError):
        svc.get(container, "x", lambda b: 1 / 0) if svc.put(
            container, "x", b"data") else None
    with pytest.raises(KeyError):
        svc.list(container, fn=lambda e: {}["stop"])


def test_cancel(config_path):
    c = xtstore.Context(config_path, system_config=False, user_config=False,
                        cwd_config=False)
    s = c.service("loc")
    s.create_container("cancelled")
    c.cancel()
    with pytest.raises(xtstore.AbortedError):
        s.put("cancelled", "k", iter([b"a"] * 10))
    c.close()
    with pytest.raises(xtstore.InvalidError, match="closed"):
        c.service("loc")
    with pytest.raises(xtstore.InvalidError, match="closed"):
        s.list("cancelled")      # its service died with it: refused, not used


def test_log_lines_reach_the_callback(tmp):
    import json
    p = tmp / "warn.yaml"
    p.write_text(json.dumps({"external-services": {"w": {
        "type": "storage", "provider": "local", "path": str(tmp / "w"),
        "bogus-key": "1"}}}))
    lines = []
    c = xtstore.Context(str(p), system_config=False, user_config=False,
                        cwd_config=False,
                        log=lambda level, msg: lines.append((level, msg)))
    c.service("w")
    c.close()
    assert any(lvl == xtstore.LOG_WARN and "bogus-key" in msg
               for lvl, msg in lines), lines


def test_library_not_found_is_one_line(tmp):
    r = subprocess.run([sys.executable, "-c", "import xtstore"],
                       env=dict(os.environ, XTSTORE_LIB=str(tmp)),
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "OSError: XTSTORE_LIB=%s: no libxtstore.so.0 there" % tmp \
        in r.stderr
