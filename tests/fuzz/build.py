"""What a fuzz case's argument expressions call: data, layouts and buffers.

A case holds its arguments as Python source (``data((2, 3), 'float32', 7, 'nan')``,
``swapped(x)``, ``np.broadcast_to(...)``) evaluated in ``namespace()``, so that the
reproducer of a failing case is this file's source plus the case's lines. Imports only
NumPy, torch (when installed) and mlsec_kernels.
"""

import numpy as np

import mlsec_kernels as mk  # noqa: F401 (the cases name it: mk.rng.Generator)

try:
    import torch
except ImportError:  # torch cases are then not generated
    torch = None

FILLS = ("unit", "normal", "pixels", "nan", "inf", "huge", "tiny", "ties", "zeros", "probs", "negzero")


def data(shape, dtype="float32", seed=0, fill="unit"):
    """An array of `shape` and `dtype` with values of kind `fill`, reproducible from seed."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    n = int(np.prod(shape, dtype=np.int64))
    kind = np.dtype(dtype).kind if isinstance(dtype, str) and dtype != "object" else "f"
    if kind in "iu" and fill in ("huge", "normal"):  # the dtype's whole range, or small signed values
        info = np.iinfo(dtype)
        lo, hi = (info.min, info.max) if fill == "huge" else (max(info.min, -100), min(info.max, 100))
        return rng.integers(lo, hi, n, dtype=dtype, endpoint=True).reshape(shape)
    if fill == "probs" and len(shape) == 2 and shape[1] > 0:
        v = rng.dirichlet(np.full(shape[1], 0.3), size=shape[0]).reshape(-1)
    elif fill == "normal":
        v = rng.standard_normal(n) * 3
    elif fill == "pixels":
        v = rng.integers(0, 256, n).astype(np.float64)
    elif fill in ("nan", "inf"):
        v = rng.random(n)
        hit = rng.random(n) < 0.3
        v[hit] = np.nan if fill == "nan" else np.where(rng.random(hit.sum()) < 0.5, np.inf, -np.inf)
    elif fill == "huge":
        v = rng.standard_normal(n) * 1e30
    elif fill == "tiny":
        v = rng.random(n) * 1e-40
    elif fill == "ties":
        v = rng.integers(0, 3, n) / 2
    elif fill == "zeros":
        v = np.zeros(n)
    elif fill == "negzero":
        v = np.where(rng.random(n) < 0.5, -0.0, 0.0)
    else:
        v = rng.random(n)
    with np.errstate(invalid="ignore", over="ignore"):
        return v.astype(dtype).reshape(shape)


def negated(a):
    """-a for float and signed data (project's lo below 0); other dtypes as they are (bool
    has no negative, unsigned ints would wrap)."""
    a = np.asarray(a)
    return -a if a.dtype.kind in "fi" else a


def noncontig(a):
    """The same values as a, every other element of a buffer twice as wide."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a
    wide = np.repeat(a, 2, axis=-1)
    return wide[..., ::2]


def unaligned(a):
    """The same values at a byte offset of 1 from an aligned buffer (np.frombuffer)."""
    a = np.asarray(a)
    buf = bytearray(a.nbytes + 1)
    u = np.frombuffer(buf, a.dtype, a.size, 1).reshape(a.shape)
    u[...] = a
    return u


def swapped(a):
    """The same values in the other byte order (">f4" on a little-endian machine)."""
    a = np.asarray(a)
    return a.astype(a.dtype.newbyteorder("S"))


def readonly(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def as_torch(a, noncontiguous=False):
    """A CPU torch tensor with a's values (every other element of a wider one)."""
    a = np.asarray(a)
    if noncontiguous and a.ndim:
        return torch.from_numpy(np.repeat(a, 2, axis=-1))[..., ::2]
    return torch.from_numpy(np.array(a))


def rows_broadcast(a, n):
    """a's first sample repeated n times by a zero stride (read-only, no copy)."""
    a = np.asarray(a)
    return np.broadcast_to(a[:1], (n,) + a.shape[1:]) if a.ndim else a


def huge(shape, dtype="float32"):
    """An array of `shape` that holds one element: every stride is 0. Copying it, or
    allocating a result like it, cannot succeed (terabytes)."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def in_buffer(buf, shape, start, values=None):
    """The view of buf's flat elements start .. start + prod(shape) - 1 as shape, holding
    values (when given): two such views of one buffer overlap in part."""
    n = int(np.prod(shape, dtype=np.int64))
    v = buf.reshape(-1)[start : start + n].reshape(shape)
    if values is not None:
        v[...] = values
    return v


def namespace():
    """What the case's expressions may name."""
    ns = {k: v for k, v in globals().items() if not k.startswith("__")}
    return ns
