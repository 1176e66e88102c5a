"""PRADA extraction monitor and the NumPy Shapiro-Wilk statistic."""

from collections import deque

import numpy as np
import pytest

from mlsec_kernels.output import ExtractionMonitor, shapiro_wilk


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 11, 50, 211, 1000, 4999])
def test_shapiro_wilk_matches_scipy(n):
    stats = pytest.importorskip("scipy.stats", reason="SciPy is not installed here")
    rng = np.random.default_rng(n)
    for x in (
        rng.standard_normal(n),
        rng.exponential(size=n),
        rng.uniform(size=n),
        np.r_[rng.standard_normal(n - 1), 40.0],
    ):
        assert abs(shapiro_wilk(x) - stats.shapiro(x).statistic) < 2e-5


def _labels(x, w):
    return np.argmax(x.reshape(len(x), -1) @ w, axis=1)


def test_flags_synthetic_extraction_stream_not_natural_one():
    rng = np.random.default_rng(0)
    d = 3 * 8 * 8
    w = rng.standard_normal((d, 10))
    mon = ExtractionMonitor()
    natural = rng.random((1500, 3, 8, 8)).astype(np.float32)
    for i in range(0, len(natural), 100):
        mon.observe("alice", natural[i : i + 100], _labels(natural[i : i + 100], w))
    assert not mon.is_suspicious("alice") and mon.stats("alice")["w"] > 0.9
    # Jacobian-based augmentation (Papernot et al. 2017): seeds, then x + lambda*sign(grad) rounds.
    seeds = rng.random((30, d)).astype(np.float32)
    batch = seeds
    queries = [seeds]
    for _ in range(5):
        step = 0.1 * np.sign(rng.standard_normal(batch.shape)).astype(np.float32)
        batch = np.clip(np.concatenate([batch, batch + step]), 0, 1)[: 30 * 2**5]
        queries.append(batch)
    q = np.concatenate(queries)[:1500]
    for i in range(0, len(q), 100):
        mon.observe("mallory", q[i : i + 100], _labels(q[i : i + 100], w))
    st = mon.stats("mallory")
    assert mon.is_suspicious("mallory") and st["w"] < 0.9
    assert not mon.is_suspicious("alice") and not mon.is_suspicious("nobody")


def test_batches_equal_one_by_one_and_memory_cap():
    rng = np.random.default_rng(1)
    x = rng.random((300, 16))
    y = rng.integers(0, 4, 300)
    a, b = ExtractionMonitor(max_set_size=40), ExtractionMonitor(max_set_size=40)
    a.observe(0, x, y)
    for i in range(300):
        b.observe(0, x[i : i + 1], y[i : i + 1])
    sa, sb = a.stats(0), b.stats(0)
    assert sa["stored"] == sb["stored"] == 40 and sa["distances"] == sb["distances"] == 296
    np.testing.assert_allclose(_distances(a, 0), _distances(b, 0), rtol=1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="delta must be in"):
        ExtractionMonitor(delta=1.5)
    with pytest.raises(ValueError, match="one label per query"):
        ExtractionMonitor().observe(1, np.zeros((3, 4)), [0, 1])
    with pytest.raises(ValueError, match="at least 3 values"):
        shapiro_wilk([1.0, 2.0])


def _distances(mon, client):
    return np.concatenate([c.distances() for c in mon._clients[client].classes.values()])


def _prada(queries, labels, *, delta=0.9, min_distances=100, min_class=10, check_every=10, max_set=5000, max_dist=5000):
    """PRADA one query at a time, brute force (Juuti et al. 2019, the reference code's
    rules): (stored, per-class distances, last W, flag)."""
    stats = pytest.importorskip("scipy.stats", reason="SciPy is not installed here")
    sets, joined, thr, dists = {}, {}, {}, {}
    stored, w, flag = 0, None, False
    for n, (v, y) in enumerate(zip(queries, labels), 1):
        if y not in sets:
            sets[y], joined[y], thr[y], dists[y] = [], [], 0.0, deque(maxlen=max_dist)
        if not sets[y]:
            if stored < max_set:
                sets[y].append(v)
                joined[y].append(0.0)
                stored += 1
        else:
            d = float(np.min(np.linalg.norm(np.array(sets[y]) - v, axis=1)))
            dists[y].append(d)
            if d > thr[y] and stored < max_set:
                sets[y].append(v)
                joined[y].append(d)
                stored += 1
                thr[y] = max(float(np.mean(joined[y]) - np.std(joined[y])), thr[y])
        if n % check_every == 0:
            pooled = [np.array(v) for v in dists.values() if len(v) >= min_class]
            if pooled:
                d = np.concatenate(pooled)
                d = d[np.abs(d - d.mean()) < 3.0 * d.std()] if d.std() > 0 else d
                if d.size > min_distances:
                    w = float(stats.shapiro(d).statistic)
                    flag = w < delta
    return stored, {y: list(v) for y, v in dists.items()}, w, flag


def _streams(rng, d=48):
    natural = rng.random((600, d))
    seeds = rng.random((20, d))
    batch, synth = seeds, [seeds]
    while sum(map(len, synth)) < 600:
        batch = np.clip(np.concatenate([batch, batch + 0.1 * np.sign(rng.standard_normal(batch.shape))]), 0, 1)[:160]
        synth.append(batch)
    w = rng.standard_normal((d, 5))
    return {
        name: (q, np.argmax(q @ w, axis=1))
        for name, q in (("natural", natural), ("synthetic", np.concatenate(synth)[:600]))
    }


@pytest.mark.parametrize("max_set_size, max_distances", [(5000, 5000), (60, 25)])
def test_equals_brute_force_prada_under_a_budget(max_set_size, max_distances):
    rng = np.random.default_rng(7)
    streams = _streams(rng)
    kw = dict(max_set_size=max_set_size, max_distances=max_distances, min_distances=50)
    mon = ExtractionMonitor(max_clients=len(streams), max_bytes=1 << 24, **kw)
    for i in range(0, 600, 50):  # batches end on check points, so both test at the same queries
        for name, (q, y) in streams.items():
            mon.observe(name, q[i : i + 50], y[i : i + 50])
    assert mon.evictions == 0
    for name, (q, y) in streams.items():
        stored, dists, w, flag = _prada(q, y.tolist(), min_distances=50, max_set=max_set_size, max_dist=max_distances)
        st = mon.stats(name)
        assert st["stored"] == stored and st["suspicious"] == flag
        assert st["w"] == pytest.approx(w, abs=2e-5)
        np.testing.assert_allclose(_distances(mon, name), np.concatenate(list(dists.values())), rtol=1e-9)
    assert mon.is_suspicious("synthetic") and not mon.is_suspicious("natural")


def _array_bytes(mon):
    return sum(
        a.nbytes
        for cl in mon._clients.values()
        for c in cl.classes.values()
        for a in (c.rows, c.norms, c.joined, c.ring)
    )


def test_client_budget_evicts_least_recently_observed():
    seen = []
    mon = ExtractionMonitor(max_clients=3, max_bytes=None, on_evict=lambda cid, st: seen.append((cid, st)))
    x, y = np.random.default_rng(8).random((4, 6)), np.array([0, 1, 0, 1])
    for cid in "abc":
        mon.observe(cid, x, y)
    mon.observe("a", x, y)  # a is now the most recent: b, then c, are next out
    assert mon.stats("b")["queries"] == 4 and not mon.is_suspicious("c")  # reads do not refresh
    mon.observe("d", x, y)
    mon.observe("e", x[:1], y[:1])
    assert [cid for cid, _ in seen] == ["b", "c"] and mon.evictions == 2
    assert seen[0][1]["queries"] == 4 and seen[0][1]["nbytes"] > 0  # the client's last stats
    assert list(mon._clients) == ["a", "d", "e"] and len(mon) == 3
    assert mon.stats("b") == dict(queries=0, stored=0, distances=0, w=None, suspicious=False, nbytes=0)
    mon.observe("b", x, y)  # b comes back with a new history; a, the oldest, goes
    assert mon.stats("b")["queries"] == 4 and [cid for cid, _ in seen][-1] == "a"
    assert mon.nbytes == _array_bytes(mon)


def test_byte_budget_holds_after_every_call():
    rng = np.random.default_rng(9)
    budget = 60_000
    evicted = []
    mon = ExtractionMonitor(max_clients=None, max_bytes=budget, on_evict=lambda cid, st: evicted.append(cid))
    last_seen = {}
    for step in range(300):
        cid = int(rng.integers(0, 12))
        b = int(rng.integers(1, 30))
        mon.observe(cid, rng.random((b, 20)), rng.integers(0, 3, b))
        last_seen[cid] = step
        assert mon.nbytes == _array_bytes(mon) <= budget
        assert mon.nbytes == sum(mon.stats(c)["nbytes"] for c in mon._clients)
        # the clients kept are the most recently observed ones, in that order
        kept = list(mon._clients)
        assert kept == sorted(kept, key=last_seen.get)
        assert all(last_seen[c] > last_seen[e] for c in kept for e in set(last_seen) - set(kept))
    assert len(evicted) == mon.evictions > 0


def test_nbytes_is_what_the_arrays_take(monkeypatch):
    # an independent count: what tracemalloc sees NumPy allocate for the monitor's state
    import tracemalloc

    rng = np.random.default_rng(10)
    x, y = rng.random((400, 64)).astype(np.float32), rng.integers(0, 4, 400)
    mon = ExtractionMonitor(max_clients=None, max_bytes=None, min_distances=10**6)  # no W test
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for cid in range(20):
            mon.observe(cid, x[cid * 20 : cid * 20 + 20], y[cid * 20 : cid * 20 + 20])
        grown = tracemalloc.get_traced_memory()[0] - before
        for cid in range(20):
            mon.forget(cid)
        freed = grown - (tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()
    assert mon.nbytes == 0 and len(mon) == 0
    # the arrays, plus Python's objects: under 4 KB per client (a dict, the class objects)
    for amount in (grown, freed):
        assert 0 <= amount - _nbytes_once(x, y) < 20 * 4096


def _nbytes_once(x, y):
    mon = ExtractionMonitor(max_clients=None, max_bytes=None, min_distances=10**6)
    for cid in range(20):
        mon.observe(cid, x[cid * 20 : cid * 20 + 20], y[cid * 20 : cid * 20 + 20])
    return mon.nbytes


def test_a_client_over_the_whole_budget_is_evicted_after_its_call():
    seen = []
    mon = ExtractionMonitor(max_bytes=2000, on_evict=lambda cid, st: seen.append((cid, st)))
    x = np.random.default_rng(11).random((30, 40))
    mon.observe("small", x[:1], [0])
    assert mon.observe("big", x, np.zeros(30, int)) is False  # its flag, from its own test
    assert [cid for cid, _ in seen] == ["small", "big"] and seen[1][1]["queries"] == 30
    assert len(mon) == 0 and mon.nbytes == 0


def test_rotating_identities_past_the_budget_resets_detection():
    # the cost of eviction, documented: an extraction stream spread over more identities
    # than max_clients, in round robin, is never tested; within the budget it is caught
    q, y = _streams(np.random.default_rng(12))["synthetic"]
    flagged = {}
    for max_clients in (4, 3):
        mon = ExtractionMonitor(max_clients=max_clients, min_distances=50)
        hits = False
        for i in range(0, 600, 10):
            hits |= mon.observe(f"key{(i // 10) % 4}", q[i : i + 10], y[i : i + 10])
        flagged[max_clients] = (hits, mon.evictions)
    assert flagged[4] == (True, 0)
    assert flagged[3] == (False, 57)  # every call after the third evicted a key


def test_pickle_keeps_state_and_bounds():
    import pickle

    rng = np.random.default_rng(13)
    mon = ExtractionMonitor(max_clients=5)
    for cid in range(3):
        mon.observe(cid, rng.random((40, 8)), rng.integers(0, 2, 40))
    copy = pickle.loads(pickle.dumps(mon))
    assert [copy.stats(c) for c in range(3)] == [mon.stats(c) for c in range(3)]
    assert copy.max_clients == 5 and copy.nbytes == mon.nbytes
    copy.observe(0, rng.random((5, 8)), [0] * 5)  # its lock works


def test_budget_arguments():
    for kw, err, msg in [
        (dict(max_clients=0), ValueError, "max_clients must be >= 1"),
        (dict(max_bytes=-5), ValueError, "max_bytes must be >= 1"),
        (dict(max_clients=2.5), TypeError, "max_clients must be an int or None"),
        (dict(on_evict=3), TypeError, "on_evict must be callable"),
        (dict(delta=np.ones(3)), TypeError, "delta must be a number"),
        (dict(max_set_size=None), TypeError, "max_set_size must be an int"),
    ]:
        with pytest.raises(err, match=msg):
            ExtractionMonitor(**kw)
    mon = ExtractionMonitor()
    assert (mon.max_clients, mon.max_bytes) == (10_000, 1 << 30)
    mon.observe(0, np.zeros((2, 5)), [0, 1])
    with pytest.raises(ValueError, match="queries of 5 values"):
        mon.observe(0, np.zeros((2, 6)), [0, 1])
