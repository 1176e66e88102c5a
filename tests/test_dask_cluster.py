"""mlsec_kernels.dask.certify, predict and attack on a real distributed.LocalCluster (2 worker
processes, loopback): independent of the partitioning, one model per worker, and the same
certificates after a busy worker is killed mid-run."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import mlsec_kernels as mk

from .dask_cluster import REASON, cluster_client, data, lazy

dask = pytest.importorskip("dask", reason=REASON)
mkd = pytest.importorskip("mlsec_kernels.dask", reason=REASON)
client = pytest.fixture(scope="module")(cluster_client)


# A linear model whose rows are independent of the batch they come in (no BLAS blocking):
# the same bits for a sample alone or in any block.
_W = np.random.default_rng(9).standard_normal((3 * 4 * 4, 4)).astype(np.float32)


def linear_factory():
    return lambda b: (np.asarray(b).reshape(len(b), -1)[:, :, None] * _W).sum(axis=1)


def _slow_factory(marker_dir):
    def build():
        def model(b):
            with open(os.path.join(marker_dir, f"{os.getpid()}-{time.monotonic_ns()}"), "w"):
                pass
            time.sleep(0.03)  # so that a worker can be killed while the run is under way
            return linear_factory()(b)

        return model

    return build


def test_certify_partitionings_and_cache(client):
    x = data((9, 3, 4, 4))
    kw = dict(sigma=0.4, n0=16, n=160, batch_size=50)
    ref = mk.smoothing.certify(linear_factory(), x, seed=21, **kw)
    assert (ref[0] >= 0).any()  # some certificates, not all abstentions
    for ch in [(4, 3, 4, 4), ((1, 6, 2), 3, 4, 4)]:
        got = mkd.certify(linear_factory, lazy(x, ch), seed=21, progress=False, **kw)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    g1, g2 = mk.Generator(4, substream=7), mk.Generator(4, substream=7)
    got = mkd.certify(linear_factory, lazy(x, (2, 3, 4, 4)), seed=g1, progress=False, **kw)
    ref = mk.smoothing.certify(linear_factory(), x, seed=g2, **kw)
    np.testing.assert_array_equal(got[1], ref[1])
    assert g1.position == g2.position == 7 + 2 * 9
    labels = mkd.predict(linear_factory, lazy(x, (2, 3, 4, 4)), sigma=0.4, n=100, seed=5, progress=False)
    np.testing.assert_array_equal(labels, mk.smoothing.predict(linear_factory(), x, 0.4, 100, seed=5))
    # one model per worker process, whatever the number of tasks it ran
    sizes = client.run(lambda: len(__import__("mlsec_kernels.dask._cluster", fromlist=["_MODELS"])._MODELS))
    assert 1 <= max(sizes.values()) <= 2  # linear_factory, and the slow test's may come later


def test_certify_survives_a_killed_worker(client, tmp_path):
    x = data((16, 3, 4, 4), 3)
    kw = dict(sigma=0.4, n0=8, n=40, batch_size=40)
    ref = mk.smoothing.certify(linear_factory(), x, seed=33, **kw)
    factory = _slow_factory(str(tmp_path))
    pids = client.run(os.getpid)  # worker address -> process id
    killed = {}

    def kill():  # once the first model calls are made, SIGKILL one busy worker's process
        deadline = time.monotonic() + 60
        while len(os.listdir(tmp_path)) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        busy = [w for w, tasks in client.processing().items() if tasks]
        killed["worker"], killed["calls"] = busy[0], len(os.listdir(tmp_path))
        os.kill(pids[busy[0]], signal.SIGKILL)

    t = threading.Thread(target=kill, daemon=True)
    t.start()
    got = mkd.certify(factory, lazy(x, (2, 3, 4, 4)), seed=33, progress=False, **kw)
    t.join(timeout=60)
    total = 16 * 2  # two model calls per input (selection, estimation) when none is lost
    assert killed["calls"] < total, "the worker was killed after the run"
    assert len(os.listdir(tmp_path)) >= total  # the dead worker's tasks ran again elsewhere
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    client.wait_for_workers(2, timeout=60)  # the nanny starts a new worker process
    assert pids[killed["worker"]] not in client.run(os.getpid).values()


def _per_sample_reference(driver, model, x, y, seed, **kw):
    outs = [
        driver(model, x[i : i + 1], y[i : i + 1], seed=mkd._attack.sample_generator(seed, 0, i), **kw)
        for i in range(len(x))
    ]
    return (
        np.concatenate([o.x_adv for o in outs]),
        np.concatenate([o.success for o in outs]),
        np.concatenate([o.queries for o in outs]),
    )


ATTACK_CHUNKS = [(7, 3, 4, 4), (3, 3, 4, 4), ((1, 4, 2), 3, 4, 4)]


@pytest.mark.parametrize(
    "driver,kw",
    [
        (mk.attacks.square_attack, dict(eps=0.1, n_queries=15)),
        (mk.attacks.simba, dict(eps=0.2, max_queries=20)),
    ],
)
def test_attack_random_drivers(client, driver, kw):
    x = data((7, 3, 4, 4), 4)
    y = linear_factory()(x).argmax(1)
    ref = _per_sample_reference(driver, linear_factory(), x, y, 8, **kw)
    for ch in ATTACK_CHUNKS:
        r = mkd.attack(driver, linear_factory, lazy(x, ch), y, seed=8, **kw)
        got = client.compute([r.x_adv, r.success, r.queries], sync=True)
        for g, w in zip(got, ref):
            np.testing.assert_array_equal(g, w)


def _loss_grad(b, y):  # minus the true class's score, its gradient, and the scores
    s = linear_factory()(b)
    return -s[np.arange(len(b)), y], -_W.T[y].reshape(b.shape), s


def lg_factory():
    return _loss_grad


def test_attack_white_box(client):
    x = data((7, 3, 4, 4), 5)
    y = linear_factory()(x).argmax(1)
    eps = np.linspace(0.05, 0.3, 7)
    want = mk.attacks.fgsm(_loss_grad, x, y, eps, norm=2)  # no randomness: one call per block
    for ch in ATTACK_CHUNKS:
        r = mkd.attack(mk.attacks.fgsm, lg_factory, lazy(x, ch), y, eps=eps, norm=2)
        np.testing.assert_array_equal(client.compute(r.x_adv).result(), want.x_adv)
        np.testing.assert_array_equal(r.queries.compute(), want.queries)
        with pytest.raises(ValueError, match="could not tell success"):
            r.success.compute()
    ref = _per_sample_reference(mk.attacks.pgd, _loss_grad, x, y, 3, eps=0.1, n_steps=3)  # random starts: per sample
    for ch in ATTACK_CHUNKS:
        r = mkd.attack(mk.attacks.pgd, lambda: {"loss_grad": _loss_grad}, lazy(x, ch), y, eps=0.1, n_steps=3, seed=3)
        got = dask.compute(r.x_adv, r.success, r.queries)
        for g, w in zip(got, ref):
            np.testing.assert_array_equal(g, w)
