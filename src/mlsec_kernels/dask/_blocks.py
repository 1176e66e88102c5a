"""What every lazy op shares: argument checks, chunking rules, per-sample parameters
aligned with the batch chunks, seeds fixed at graph-build time, and the blockwise call that
hands each block its samples' global position."""

from __future__ import annotations

import uuid

import dask.array as da
import numpy as np

from .._seeds import Substreams, check_u64, new_seed
from ..rng import Generator


def check_array(x, name):
    """x itself when it is a dask array; a TypeError naming the argument otherwise."""
    if not isinstance(x, da.Array):
        raise TypeError(
            f"{name} must be a dask.array.Array (wrap NumPy or CuPy data with dask.array.from_array), "
            f"got {type(x).__module__}.{type(x).__name__}"
        )
    if x.ndim < 1:
        raise ValueError(f"{name} must have a batch axis (axis 0), got a 0-d array")
    return x


def no_out(out):
    if out is not None:
        raise TypeError(
            "out= is not supported on dask arrays: the result is a new lazy array; "
            "store it with dask.array.store or .to_zarr to write into existing memory"
        )


def one_chunk(x, axes, name, why):
    """A ValueError unless x is a single chunk along every axis of ``axes``."""
    split = [ax for ax in axes if len(x.chunks[ax]) > 1]
    if split:
        spec = ", ".join(f"{ax}: -1" for ax in split)
        raise ValueError(
            f"{name} must be one chunk along axis {', '.join(map(str, split))} ({why}); "
            f"chunk along the batch axis only, e.g. {name}.rechunk({{{spec}}})"
        )


def sample_axes(x):
    return tuple(range(1, x.ndim))


def per_sample(value, x, name):
    """A scalar as it is; one value per sample (NumPy or dask, shape (N,)) as a dask array
    of shape (N, 1, ..., 1) chunked like x's batch axis, so that map_blocks hands each block
    its samples' values."""
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)) or (
        not isinstance(value, da.Array) and np.ndim(value) == 0
    ):
        return value
    v = value if isinstance(value, da.Array) else da.from_array(np.asarray(value), chunks=-1)
    if v.ndim != 1 or v.shape[0] != x.shape[0]:
        raise ValueError(f"{name} must be a scalar or have one value per sample ({x.shape[0]}), got shape {v.shape}")
    v = v.rechunk((x.chunks[0],))
    return v[(slice(None),) + (None,) * (x.ndim - 1)]


def fixed_seed(seed):
    """(seed, substream) fixed when the graph is built: an int (substream 0), a Generator
    (one next_substream() for the whole lazy call), None (one secret seed from the
    operating system's CSPRNG)."""
    if isinstance(seed, Substreams):
        return seed.seed, seed.next_substream()
    return (new_seed() if seed is None else check_u64(seed, "seed")), 0


def name_for(op, secret):
    """A graph key: dask's token of the arguments, or a random one when they hold a
    secret seed (a token is a hash of its inputs, and keys are visible in dashboards)."""
    return f"mk-{op}-{uuid.uuid4().hex}" if secret else None


def _row(v):
    """A per-sample block (b, 1, ..., 1) as (b,), scalars as they are."""
    return v.reshape(-1) if hasattr(v, "reshape") and getattr(v, "ndim", 0) > 0 else v


def probe(fn, x, args, kwargs, arrays=(0,)):
    """fn on a one-sample zero batch (per-sample parameters as 0), for dask's meta and to
    refuse bad arguments when the graph is built rather than in a worker. ``arrays`` are
    the positions of the arrays shaped like a batch."""
    a = [
        np.zeros_like(v._meta, shape=(1,) + v.shape[1:]) if i in arrays else (0.0 if isinstance(v, da.Array) else v)
        for i, v in enumerate(args)
    ]
    kw = {k: (0.0 if isinstance(v, da.Array) else v) for k, v in kwargs.items()}
    return fn(*a, **kw)


def blockwise(fn, x, args, kwargs, *, arrays=(0,), start=None, name=None, meta=None, **map_kw):
    """fn(*args, **kwargs) on each block, lazily. ``arrays`` are the positions in args of
    arrays chunked like x (x included); dask arrays among the other args and kwargs are
    per-sample parameters from :func:`per_sample`. ``start`` names the keyword that
    receives the block's first sample's global index."""
    dargs = [(i, v) for i, v in enumerate(args) if isinstance(v, da.Array)]
    dkw = [(k, v) for k, v in kwargs.items() if isinstance(v, da.Array)]
    pos = [i for i, _ in dargs]
    keys = [k for k, _ in dkw]
    static = [None if isinstance(v, da.Array) else v for v in args]
    skw = {k: v for k, v in kwargs.items() if not isinstance(v, da.Array)}

    def call(blocks, first):
        a = list(static)
        for i, b in zip(pos, blocks):
            a[i] = b if i in arrays else _row(b)
        kw = dict(skw, **{k: _row(b) for k, b in zip(keys, blocks[len(pos) :])})
        if first is not None:
            kw[start] = first
        return fn(*a, **kw)

    if start is None:  # dask builds block_info only for functions that take it

        def run(*blocks):
            return call(blocks, None)

    else:

        def run(*blocks, block_info=None):
            return call(blocks, int(block_info[None]["array-location"][0][0]))

    if name is not None:
        map_kw["name"] = name
    if meta is not None:
        map_kw["meta"] = meta[:0]
    return da.map_blocks(run, *[v for _, v in dargs], *[v for _, v in dkw], **map_kw)


def seeded(fn, seed, substream):
    """fn with ``seed=`` a fresh Generator at (seed, substream) in every block (a
    Generator shared by blocks would hand each block another substream)."""

    def call(*args, **kwargs):
        return fn(*args, seed=Generator(seed, substream=substream), **kwargs)

    return call
