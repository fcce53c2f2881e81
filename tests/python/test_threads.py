"""One Context from several threads at once, and the GIL released while
the library works."""
import os
import threading
import time

import xtstore


def _run(n, fn):
    failures = []

    def wrap(i):
        try:
            fn(i)
        except BaseException as e:  # reported below, per thread
            failures.append((i, e))
    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures


def test_one_context_many_threads(ctx, svc, container):
    def work(i):
        for j in range(10):
            key = "t%d/%d" % (i, j)
            data = os.urandom(1000 + 97 * i + j)
            svc.put(container, key, data)
            assert svc.get_bytes(container, key) == data
            assert svc.head(container, key).size == len(data)
        assert len(svc.list(container, "t%d/" % i)) == 10
        assert ctx.service("t") is svc
    _run(8, work)
    assert len(svc.list(container)) == 80


def test_services_opened_from_many_threads(config_path):
    c = xtstore.Context(config_path, system_config=False, user_config=False,
                        cwd_config=False)
    got = []
    _run(8, lambda i: got.append(c.service("loc2" if i % 2 else "t")))
    assert len({id(s) for s in got}) == 2
    c.close()


def test_gil_released_during_calls(svc, container, tmp):
    src = tmp / "big"
    with open(src, "wb") as f:
        for _ in range(64):
            f.write(os.urandom(1 << 20))
    span = {}

    def upload():
        span["t0"] = time.monotonic()
        svc.put_file(container, "big", str(src))   # no Python callback
        span["t1"] = time.monotonic()
    t = threading.Thread(target=upload)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.monotonic())
    t.join()
    t0, t1 = span["t0"], span["t1"]
    assert t1 - t0 > 0.005
    # Had the call held the GIL, this thread would not have run inside it.
    middle = [x for x in ticks if t0 + (t1 - t0) / 4 < x < t1 - (t1 - t0) / 4]
    assert len(middle) > 10
