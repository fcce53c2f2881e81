"""Fixtures of the Python package's tests (run by ctest: CMakeLists.txt).

XTSTORE_PY_BACKEND says which service the tests run against: "local" (a
directory), "azurite" or "s3rver" (the ctest fixture servers, whose state
dirs arrive as XTSTORE_AZURITE_DIR / XTSTORE_S3RVER_DIR). The library comes
from XTSTORE_LIB (the build tree's lib/). The config has the service "t"
(the backend) and two local services, "loc" and "loc2".
"""
import itertools
import os
import tempfile

import pytest

BACKEND = os.environ.get("XTSTORE_PY_BACKEND", "local")
AZ_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
          "K1SZFPTOtr/KBHBeksoGMGw==")
_TMP = tempfile.mkdtemp(prefix="xtstore-py-")
_names = itertools.count()


def _endpoint(server):
    d = os.environ.get("XTSTORE_%s_DIR" % server.upper())
    if not d or not os.path.isfile(os.path.join(d, "endpoint")):
        pytest.exit("skip: no %s fixture (run through ctest)" % server, 77)
    with open(os.path.join(d, "endpoint")) as f:
        return f.read().strip()


def pytest_configure(config):
    # No user or working-directory config leaks in; the library's own
    # state (upload journals) stays in the test's directory.
    os.environ["HOME"] = os.path.join(_TMP, "home")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(_TMP, "home", ".config")
    os.environ["XDG_STATE_HOME"] = os.path.join(_TMP, "home", ".state")
    os.environ.pop("XTSTORE_CONFIG", None)
    os.makedirs(os.environ["HOME"], exist_ok=True)


def service_entry():
    """The backend's external-services entry (a dict) and XT creds."""
    if BACKEND == "local":
        path = os.path.join(_TMP, "t")
        return ({"type": "storage", "provider": "local", "path": path},
                {"type": "storage", "provider": "store-file", "name":
                 "filestorage", "path": os.path.join(_TMP, "xtfile")})
    if BACKEND == "azurite":
        e = _endpoint("azurite")
        return ({"type": "storage", "provider": "azure", "account":
                 "devstoreaccount1", "key": AZ_KEY, "endpoint": e},
                {"type": "storage", "provider": "azure-blob-21", "name":
                 "devstoreaccount1", "key": AZ_KEY, "endpoint": e})
    if BACKEND == "s3rver":
        e = _endpoint("s3rver")
        s3 = {"type": "storage", "provider": "s3", "endpoint": e,
              "access-key": "S3RVER", "secret-key": "S3RVER",
              "addressing": "path", "region": "us-east-1"}
        return s3, dict(s3, name="s3x")
    raise ValueError("XTSTORE_PY_BACKEND=%s" % BACKEND)


@pytest.fixture(scope="session")
def config_path():
    import json
    entry, _ = service_entry()
    conf = {"external-services": {
        "t": dict(entry, retry={"attempts": 2}),
        "loc": {"type": "storage", "provider": "local",
                "path": os.path.join(_TMP, "loc")},
        "loc2": {"type": "storage", "provider": "local",
                 "path": os.path.join(_TMP, "loc2")}},
        "xt-services": {"storage": "t"}}
    p = os.path.join(_TMP, "xt_config.yaml")
    with open(p, "w") as f:
        json.dump(conf, f)   # JSON is YAML
    return p


@pytest.fixture(scope="session")
def ctx(config_path):
    import xtstore
    c = xtstore.Context(config_path, system_config=False, user_config=False,
                        cwd_config=False)
    yield c
    c.close()


@pytest.fixture(scope="session")
def svc(ctx):
    return ctx.service("t")


@pytest.fixture(scope="session")
def xt_creds():
    return service_entry()[1]


def new_name(tag="c"):
    """A container name of this run: [a-z0-9-], 3..63."""
    return "xtpy-%s-%d-%d" % (tag, os.getpid(), next(_names))


@pytest.fixture
def container(svc):
    name = new_name()
    svc.create_container(name)
    yield name
    svc.delete_container(name, recursive=True)


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


def pytest_unconfigure(config):
    import shutil
    shutil.rmtree(_TMP, ignore_errors=True)
