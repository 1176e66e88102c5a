"""Randomized-smoothing certification and prediction of a dask array of inputs on a
``dask.distributed`` cluster, and the per-worker model cache that attacks share.

Each task is a pure function of (block, seed, the block's global start): input i of the
dataset draws from its own substreams of the seed (2i and 2i+1 for certify, i for predict;
:mod:`mlsec_kernels.smoothing`'s ``sample_start``). A task that runs twice (a retry, or a
rerun after its worker died) returns the same certificates, and the result does not depend
on the chunking or the number of workers.
"""

from __future__ import annotations

import threading

import dask
import numpy as np

from .. import smoothing as _smoothing
from ..rng import Generator
from ._blocks import check_array, fixed_seed, one_chunk, sample_axes

_MODELS: dict = {}
_LOCK = threading.Lock()


def model_token(model_factory):
    if not callable(model_factory):
        raise TypeError(f"model_factory must be a callable that builds the model, got {type(model_factory).__name__}")
    return f"mk-model-{dask.base.tokenize(model_factory)}"


def cached_model(token, model_factory):
    """The model of this worker process: built by the first task that needs it, then
    reused by every later task (and thread) of the process; never pickled."""
    m = _MODELS.get(token)
    if m is None:
        with _LOCK:
            m = _MODELS.get(token)
            if m is None:
                m = _MODELS[token] = model_factory()
    return m


def _client():
    try:
        from distributed import default_client
    except ImportError as e:  # pragma: no cover
        raise ImportError('certify needs dask.distributed: pip install "mlsec-kernels[dask]"') from e
    try:
        return default_client()
    except ValueError:
        raise RuntimeError(
            "mlsec_kernels.dask.certify runs on a dask.distributed cluster and found no client: "
            "create one first, e.g. distributed.Client(distributed.LocalCluster()) or Client('tcp://scheduler:8786')"
        ) from None


def _certify_block(block, token, factory, start, seed, base, passes, kw):
    model = cached_model(token, factory)
    kw = dict(kw)
    fn = kw.pop("fn")
    if base is not None:  # a Generator's substreams: positioned at this block's first input
        res = fn(model, block, seed=Generator(seed, substream=base + passes * start), progress=False, **kw)
    else:
        res = fn(model, block, seed=seed, sample_start=start, progress=False, **kw)
    return res if isinstance(res, tuple) else (res,)


def _run(fn, passes, model_factory, x, kw, seed, progress, retries):
    x = check_array(x, "x")
    one_chunk(x, sample_axes(x), "x", "each input is certified whole")
    token = model_token(model_factory)
    if isinstance(seed, Generator):
        # the whole dataset's substreams, in input order, as the in-memory call takes them
        taken = [seed.next_substream() for _ in range(passes * x.shape[0])]  # none for no input
        base = taken[0] if taken else 0
        key = seed.seed
    else:
        key, base = fixed_seed(seed)[0], None
    client = _client()
    tasks, start = [], 0
    kw = dict(kw, fn=fn)
    for blk, size in zip(x.to_delayed().reshape(-1), x.chunks[0]):
        task = dask.delayed(_certify_block, pure=True)(blk, token, model_factory, start, key, base, passes, kw)
        tasks.append(task)
        start += size
    futures = client.compute(tasks, retries=retries)
    if progress:
        from distributed import progress as _progress

        _progress(futures)
    parts = client.gather(futures)
    outs = tuple(np.concatenate([p[j] for p in parts]) for j in range(len(parts[0]))) if parts else ()
    return outs


def certify(
    model_factory,
    x,
    *,
    sigma,
    n0,
    n,
    alpha=0.001,
    batch_size=1000,
    seed=None,
    num_classes=None,
    progress=True,
    retries=3,
    backend="auto",
):
    """Cohen et al.'s CERTIFY (:func:`mlsec_kernels.smoothing.certify`) for every input of
    the dask array ``x`` (N, ...), one task per batch chunk, on the current
    ``dask.distributed`` client. Returns (labels int64 (N,), radii float64 (N,)) as NumPy
    arrays, equal bit for bit to ``smoothing.certify(model_factory(), x.compute(), ...)``
    with the same seed, whatever the chunking, the number of workers or the retries.

    ``model_factory()`` builds the model (a callable, as smoothing takes); each worker
    process builds it once and reuses it for every task. ``seed``: an int, a Generator
    (takes 2N substreams, as the in-memory call) or None (one secret seed for the run).
    ``progress``: distributed's progress bar. ``retries``: reruns of a task that raised;
    tasks lost with a dying worker are rerun elsewhere by the scheduler (its
    ``distributed.scheduler.allowed-failures``).
    """
    kw = dict(sigma=sigma, n0=n0, n=n, alpha=alpha, batch_size=batch_size, num_classes=num_classes, backend=backend)
    _smoothing._check(sigma, alpha, batch_size, num_classes)
    labels, radii = _run(_smoothing.certify, 2, model_factory, x, kw, seed, progress, retries) or (
        np.empty(0, np.int64),
        np.empty(0),
    )
    return labels, radii


def predict(
    model_factory,
    x,
    *,
    sigma,
    n,
    alpha=0.001,
    batch_size=1000,
    seed=None,
    num_classes=None,
    progress=True,
    retries=3,
    backend="auto",
):
    """Cohen et al.'s PREDICT (:func:`mlsec_kernels.smoothing.predict`) for every input of
    ``x`` on the cluster, as :func:`certify` runs (input i draws from substream i).
    Returns int64 labels (N,), NumPy."""
    kw = dict(sigma=sigma, n=n, alpha=alpha, batch_size=batch_size, num_classes=num_classes, backend=backend)
    _smoothing._check(sigma, alpha, batch_size, num_classes)
    (labels,) = _run(_smoothing.predict, 1, model_factory, x, kw, seed, progress, retries) or (np.empty(0, np.int64),)
    return labels
