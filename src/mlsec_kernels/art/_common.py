"""What the ART adapters share: the seed they take from NumPy's global state, and the
checks of ART's clip_values."""

from __future__ import annotations

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def global_seed() -> int:
    """A 64-bit Philox seed drawn from NumPy's global RandomState, where ART draws its
    noise: ``np.random.seed`` (ART's ``master_seed``) makes a run reproducible, as it does
    ART's, and an unseeded process gets NumPy's entropy-seeded state."""
    return int.from_bytes(np.random.bytes(8), "little")


def check_clip_values(clip_values, length_message: str, order_message: str) -> None:
    """ART's two checks of clip_values, with the calling class's messages."""
    if clip_values is None:
        return
    if len(clip_values) != 2:
        raise ValueError(length_message)
    if np.array(clip_values[0] >= clip_values[1]).any():
        raise ValueError(order_message)


def scalar_clip(clip_values):
    """(lo, hi) as floats when both are scalars (the kernels' clip), else None."""
    if clip_values is None or np.size(clip_values[0]) != 1 or np.size(clip_values[1]) != 1:
        return None
    return float(np.asarray(clip_values[0]).reshape(())), float(np.asarray(clip_values[1]).reshape(()))


def scores(preds) -> np.ndarray:
    """Model outputs as the kernels take them: float32 and float64 as they are, other
    dtypes as float64."""
    p = np.asarray(preds)
    return p if p.dtype in _FLOATS else p.astype(np.float64)
