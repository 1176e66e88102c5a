"""The neighbourhood squeezers on dask arrays: spatial chunks allowed, through
``map_overlap`` with the exact depth the op reads.

Each block is filtered together with ``depth`` real pixels of its neighbours on every side
that has one, and no padding at the array's true edges (``boundary="none"``): there the op
extends the image itself (reflect or mirror), exactly as on the whole array, because a block
at a true edge starts at that edge and holds at least ``depth`` pixels. The margin's outputs,
which saw the block's cut edge, are trimmed. So every kept pixel read the same values as in
one in-memory call, and the result is bit for bit that call's.
"""

from __future__ import annotations

from .. import squeeze as _squeeze
from ._blocks import check_array, no_out, probe


def _spatial_axes(x, layout):
    if x.ndim not in (4, 5):
        raise ValueError(f"x must be 4-D (N, C, H, W) / (N, H, W, C) or 5-D (N, T, ...) video, got {x.ndim}-D")
    if layout == "NHWC":
        return x.ndim - 3, x.ndim - 2
    return x.ndim - 2, x.ndim - 1  # NCHW (a bad layout is the probe's error)


def _overlapped(fn, x, reach, meta):
    """fn over x with ``reach[axis]`` neighbouring pixels on each side of every block."""
    depth = {}
    for ax, d in reach.items():
        if d == 0 or len(x.chunks[ax]) == 1:
            continue
        if d >= x.shape[ax]:  # a window wider than the image folds its extension again: one block
            x = x.rechunk({ax: -1})
            continue
        depth[ax] = d  # dask merges chunks smaller than d, so an edge block holds >= d pixels
    if not depth:
        return x.map_blocks(fn, meta=meta[:0])
    return x.map_overlap(fn, depth=depth, boundary="none", trim=True, meta=meta[:0])


def median_filter(x, size, *, layout="NCHW", mode="reflect", out=None, backend="auto"):
    """:func:`mlsec_kernels.median_filter` on dask arrays: any chunking, spatial axes
    included. The window of output (i, j) reaches ``h // 2`` rows above and
    ``h - 1 - h // 2`` below (SciPy's anchoring), so blocks overlap by ``h // 2`` rows and
    ``w // 2`` columns."""
    no_out(out)
    x = check_array(x, "x")
    kw = dict(layout=layout, mode=mode, backend=backend)
    meta = probe(_squeeze.median_filter, x, (x, size), kw)
    h, w = _squeeze._window(size)
    rows, cols = _spatial_axes(x, layout)

    def fn(block):
        return _squeeze.median_filter(block, (h, w), **kw)

    return _overlapped(fn, x, {rows: h // 2, cols: w // 2}, meta)


def non_local_means(x, *, h, template_size=3, search_size=13, layout="NCHW", out=None, backend="auto"):
    """:func:`mlsec_kernels.non_local_means` on dask arrays: any chunking (it works per
    channel), spatial axes included; blocks overlap by ``template_size // 2 +
    search_size // 2`` pixels, the farthest pixel the weights of one output read."""
    no_out(out)
    x = check_array(x, "x")
    kw = dict(h=h, template_size=template_size, search_size=search_size, layout=layout, backend=backend)
    meta = probe(_squeeze.non_local_means, x, (x,), kw)
    m = template_size // 2 + search_size // 2
    rows, cols = _spatial_axes(x, layout)

    def fn(block):
        return _squeeze.non_local_means(block, **kw)

    return _overlapped(fn, x, {rows: m, cols: m}, meta)
