"""Reference for the random stream (docs/design.md): Philox4x32-10 in plain NumPy.

Written independently of the kernels: uint64 arithmetic vectorised over counters, the
spec's word-to-number conversions, and Box-Muller in float64 NumPy (so kernels' float32
normals agree with it to float32 rounding, not to the bit; kernels agree with each other
to the bit). Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC 2011.
"""

import numpy as np

_M = np.uint64(0xFFFFFFFF)
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85


def philox4x32_10(counter, key):
    """Blocks for counters of shape (..., 4) (uint32 words) under key (k0, k1): (..., 4) uint32."""
    c = [np.asarray(counter, dtype=np.uint64)[..., i] for i in range(4)]
    k0, k1 = int(key[0]), int(key[1])
    for r in range(10):
        if r:
            k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [
            (p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0),
            p1 & _M,
            (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1),
            p0 & _M,
        ]
    return np.stack(c, axis=-1).astype(np.uint32)


def blocks(seed, substream, first_block, count):
    """`count` consecutive blocks of a (seed, substream) from `first_block`: (count, 4) uint32."""
    b = (np.arange(count, dtype=np.uint64) + np.uint64(first_block % 2**64)) if count else np.zeros(0, np.uint64)
    ctr = np.stack(
        [b & _M, b >> np.uint64(32), np.full_like(b, substream & 0xFFFFFFFF), np.full_like(b, substream >> 32)], axis=-1
    )
    return philox4x32_10(ctr, (seed & 0xFFFFFFFF, seed >> 32))


def random_raw(n, *, seed, substream=0, offset=0):
    """Stream elements offset .. offset+n-1: element e is word e % 4 of block e // 4."""
    first = offset // 4
    nb = (offset + n + 3) // 4 - first
    w = blocks(seed, substream, first, nb).reshape(-1)
    return w[offset - 4 * first : offset - 4 * first + n]


def uniform_co(w):
    """uniform in [0, 1): (w >> 8) * 2^-24."""
    return (np.asarray(w, np.uint32) >> 8).astype(np.float64) * 2.0**-24


def uniform_oc(w):
    """uniform in (0, 1]: ((w >> 8) + 1) * 2^-24."""
    return ((np.asarray(w, np.uint32) >> 8).astype(np.float64) + 1.0) * 2.0**-24


def below(w, n):
    """integer in [0, n) by multiply-shift."""
    return (np.asarray(w, np.uint64) * np.uint64(n)) >> np.uint64(32)


def uniform(shape, *, seed, substream=0, offset=0):
    n = int(np.prod(shape, dtype=np.int64))
    return uniform_co(random_raw(n, seed=seed, substream=substream, offset=offset)).reshape(shape)


def box_muller(w_even, w_odd):
    """The spec's pair: (r cos 2 pi u2, r sin 2 pi u2), r = sqrt(-2 log u1), in float64."""
    r = np.sqrt(-2.0 * np.log(uniform_oc(w_even)))
    a = 2.0 * np.pi * uniform_co(w_odd)
    return r * np.cos(a), r * np.sin(a)


def normals_of_blocks(blk):
    """The four normals of each block (elements 4b .. 4b+3): (count, 4) float64."""
    z = np.empty(blk.shape, dtype=np.float64)
    z[:, 0], z[:, 1] = box_muller(blk[:, 0], blk[:, 1])
    z[:, 2], z[:, 3] = box_muller(blk[:, 2], blk[:, 3])
    return z


def normal(shape, *, seed, substream=0, offset=0):
    n = int(np.prod(shape, dtype=np.int64))
    first = offset // 4
    nb = (offset + n + 3) // 4 - first
    z = normals_of_blocks(blocks(seed, substream, first, nb)).reshape(-1)
    return z[offset - 4 * first : offset - 4 * first + n].reshape(shape)


def random_start(x0, eps, *, norm="inf", seed, substream=0, sample_start=0, clip=(0.0, 1.0)):
    """clip(x0 + u), u uniform in the eps-ball of the norm, with the word mapping of
    docs/rng.md, in float64 (Madry et al. 2018; L1: Dirichlet(1, ..., 1) by normalised
    exponentials with random signs). Row r draws as sample sample_start + r."""
    x = np.asarray(x0, dtype=np.float64)
    n = x.shape[0]
    d = int(np.prod(x.shape[1:], dtype=np.int64))
    s = sample_start
    w = random_raw(n * d, seed=seed, substream=substream, offset=s * d).reshape(n, d)
    eps = np.broadcast_to(np.asarray(eps, dtype=np.float64), (n,))[:, None]
    extra = blocks(seed, substream, (1 << 63) + s, n)[:, 0]  # word 0 of block 2^63 + s + row
    if norm == "inf":
        u = eps * (2.0 * uniform_co(w) - 1.0)
    elif norm == "2":
        z = normal(n * d, seed=seed, substream=substream, offset=s * d).reshape(n, d)
        r = uniform_oc(extra) ** (1.0 / d)
        nz = np.sqrt((z * z).sum(axis=1))
        u = z * (eps[:, 0] * r / np.where(nz > 0, nz, np.inf))[:, None]
    elif norm == "1":
        e = -np.log(uniform_oc(w))
        s = e.sum(axis=1) - np.log(uniform_oc(extra))
        u = np.where(w & 1, -e, e) * (eps[:, 0] / s)[:, None]
    else:
        raise ValueError(f"norm must be 'inf', '1' or '2', got {norm!r}")
    y = (x.reshape(n, d) + u).reshape(x.shape)
    return y if clip is None else np.clip(y, clip[0], clip[1])
