import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import mlsec_kernels as mk
from mlsec_kernels import reference as ref
from mlsec_kernels import rng as krng

from .helpers import cpu_module, host, peer, skip_unless

# docs/design.md: (seed, substream, block) -> block words
KAT = [
    (0, 0, 0, [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    (2**64 - 1, 2**64 - 1, 2**64 - 1, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (0x299F31D0A4093822, 0x0370734413198A2E, 0x85A308D3243F6A88, [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


def bits(a):
    a = host(a)
    return a.view(np.uint8).copy()


@pytest.mark.parametrize("seed, sub, blk, want", KAT)
def test_known_answers(backend, seed, sub, blk, want):
    got = krng.random_raw(4, seed=seed, substream=sub, offset=4 * blk, backend=backend)
    assert host(got).tolist() == want
    assert host(got).dtype == np.uint32


@pytest.mark.parametrize("seed, sub, blk, want", KAT)
def test_known_answers_reference(seed, sub, blk, want):
    ctr = [blk & 0xFFFFFFFF, blk >> 32, sub & 0xFFFFFFFF, sub >> 32]
    assert ref.rng.philox4x32_10(np.array([ctr], np.uint32), (seed & 0xFFFFFFFF, seed >> 32))[0].tolist() == want
    assert ref.rng.random_raw(4, seed=seed, substream=sub, offset=4 * blk).tolist() == want


def test_raw_stream_matches_reference(backend, rng):
    for _ in range(12):
        n = int(rng.integers(0, 3000)) if rng.random() < 0.8 else 70001
        big = [int(v) for v in rng.integers(0, 2**62, 4)]
        off = (big[0] << 4 | big[1] & 15) % (2**66 - n) if rng.random() < 0.5 else int(rng.integers(0, 9))
        seed, sub = big[2] << 2 | 3, big[3] << 2
        got = host(krng.random_raw(n, seed=seed, substream=sub, offset=off, backend=backend))
        np.testing.assert_array_equal(got, ref.rng.random_raw(n, seed=seed, substream=sub, offset=off))


@pytest.mark.parametrize("be", ["cpp", "numba"])
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 700),
    cut=st.integers(0, 700),
    off=st.integers(0, 2**66 - 700),
    seed=st.integers(0, 2**64 - 1),
    sub=st.integers(0, 2**64 - 1),
)
def test_property_stream_any_offset_and_split(be, n, cut, off, seed, sub):
    skip_unless(be)
    cut = min(cut, n)
    want = ref.rng.random_raw(n, seed=seed, substream=sub, offset=off)
    a = krng.random_raw(cut, seed=seed, substream=sub, offset=off, backend=be)
    b = krng.random_raw(n - cut, seed=seed, substream=sub, offset=off + cut, backend=be)
    np.testing.assert_array_equal(np.concatenate([a, b]), want)
    u = krng.uniform(n, seed=seed, substream=sub, offset=off, backend=be)
    np.testing.assert_array_equal(u, ref.rng.uniform_co(want))


def test_stream_end():
    # the last elements of a substream: offset + n = 2**66 is allowed, one more is not
    got = krng.random_raw(6, seed=3, substream=4, offset=2**66 - 6)
    np.testing.assert_array_equal(got, ref.rng.random_raw(6, seed=3, substream=4, offset=2**66 - 6))
    with pytest.raises(ValueError, match="offset"):
        krng.random_raw(6, seed=3, offset=2**66 - 5)


@pytest.mark.parametrize("op", ["random_raw", "uniform", "normal"])
def test_split_calls_equal_one_call(backend, rng, op):
    n = 1037
    whole = host(getattr(krng, op)(n, seed=11, substream=5, offset=3, backend=backend))
    cuts = sorted(int(c) for c in rng.integers(0, n, 4))
    parts = [
        host(getattr(krng, op)(b - a, seed=11, substream=5, offset=3 + a, backend=backend))
        for a, b in zip([0] + cuts, cuts + [n])
    ]
    np.testing.assert_array_equal(bits(np.concatenate(parts)), bits(whole))


@pytest.mark.parametrize("op", ["uniform", "normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, off", [(1, 0), (13, 3), (70001, 5), (200003, 2**40 + 1)])
def test_backends_bit_identical(backend, op, dtype, n, off):
    want = getattr(krng, op)(n, seed=2024, substream=7, offset=off, dtype=dtype, backend=peer(backend))
    got = getattr(krng, op)(n, seed=2024, substream=7, offset=off, dtype=dtype, backend=backend)
    assert host(got).dtype == dtype
    np.testing.assert_array_equal(bits(got), bits(want))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_against_reference(host_backend, dtype):
    u = krng.uniform((7, 301), seed=5, substream=2, offset=9, dtype=dtype, backend=host_backend)
    np.testing.assert_array_equal(u, ref.rng.uniform((7, 301), seed=5, substream=2, offset=9))
    z = krng.normal((7, 301), seed=5, substream=2, offset=9, dtype=dtype, backend=host_backend)
    # own float32 log/sincos vs float64 NumPy: a few float32 ulp
    np.testing.assert_allclose(z, ref.rng.normal((7, 301), seed=5, substream=2, offset=9), rtol=4e-7, atol=1e-6)
    assert np.array_equal(
        z.astype(np.float32), krng.normal((7, 301), seed=5, substream=2, offset=9, backend=host_backend)
    )


def test_float64_is_float32_widened():
    a = krng.normal(1001, seed=1, dtype=np.float64)
    b = krng.normal(1001, seed=1, dtype=np.float32)
    np.testing.assert_array_equal(a, b.astype(np.float64))


def test_ks_uniform():
    u = krng.uniform(10**6, seed=12345)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_ks_normal():
    z = krng.normal(10**6, seed=12345, substream=1)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.mean()) < 5e-3 and abs(z.std() - 1) < 5e-3


def test_ks_normal_pairs_independent():
    # the two halves of every Box-Muller pair are independent standard normals
    z = krng.normal(2 * 10**5, seed=9).reshape(-1, 2)
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 1e-2
    assert stats.kstest(z[:, 1], "norm").pvalue > 1e-3


def test_out_and_shapes(host_backend):
    out = np.full((3, 4), -1.0, np.float64)
    got = krng.uniform((3, 4), seed=1, out=out, backend=host_backend)
    assert got is out
    np.testing.assert_array_equal(out, krng.uniform((3, 4), seed=1, dtype=np.float64))
    strided = np.zeros((3, 8), np.float32)[:, ::2]
    krng.normal(None, seed=2, out=strided, backend=host_backend)
    np.testing.assert_array_equal(strided, krng.normal((3, 4), seed=2))
    assert krng.uniform((), seed=1).shape == ()
    assert krng.normal((0, 5), seed=1).shape == (0, 5)
    assert krng.random_raw(0, seed=1).shape == (0,)


def test_generator_hands_out_substreams():
    g = mk.Generator(77)
    a, b = g.uniform(10), g.normal(10)
    np.testing.assert_array_equal(a, krng.uniform(10, seed=77, substream=0))
    np.testing.assert_array_equal(b, krng.normal(10, seed=77, substream=1))
    assert g.next_substream() == 2
    np.testing.assert_array_equal(g.random_raw(5), krng.random_raw(5, seed=77, substream=3))
    assert mk.Generator(77, substream=3).next_substream() == 3


def test_seed_none_is_unpredictable():
    a, b = krng.random_raw(8, seed=None), krng.random_raw(8, seed=None)
    assert not np.array_equal(a, b)
    g = mk.Generator()
    assert 0 <= g.seed < 2**64 and g.seed != mk.Generator().seed


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(seed=-1), ValueError, "seed must be in"),
        (dict(seed=2**64), ValueError, "seed must be in"),
        (dict(seed=1.0), TypeError, "seed must be an int"),
        (dict(seed=True), TypeError, "seed must be an int"),
        (dict(seed="1"), TypeError, "seed must be an int"),
        (dict(substream=-3), ValueError, "substream must be in"),
        (dict(substream=2.5), TypeError, "substream must be an int"),
        (dict(offset=-1), ValueError, "offset must be >= 0"),
        (dict(offset=1.5), TypeError, "offset must be an int"),
        (dict(dtype=np.int32), TypeError, "dtype must be float32 or float64"),
        (dict(out=np.zeros(4, np.float32)), ValueError, "out must have shape"),
        (dict(out=np.zeros((2, 3), np.int64)), TypeError, "out must have dtype"),
        (dict(out=np.zeros((2, 3), np.float64), dtype=np.float32), TypeError, "out must have dtype float32"),
        (dict(backend="gpu"), ValueError, "backend must be one of"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(seed=1, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        krng.uniform((2, 3), **args)


def test_bindings_check_too():
    cpu = cpu_module()
    with pytest.raises(TypeError, match="out must be uint32"):
        cpu.random_raw(np.zeros(4, np.float32), 1, 0, 0)
    with pytest.raises(TypeError, match="out must be float32 or float64"):
        cpu.uniform(np.zeros(4, np.uint32), 1, 0, 0)
    with pytest.raises(ValueError, match="seed must be in"):
        cpu.normal(np.zeros(4, np.float32), -1, 0, 0)
    with pytest.raises(TypeError, match="substream must be an int"):
        cpu.normal(np.zeros(4, np.float32), 1, 0.5, 0)
    with pytest.raises(ValueError, match="offset must be >= 0"):
        cpu.normal(np.zeros(4, np.float32), 1, 0, 2**66 - 3)
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        cpu.uniform(ro, 1, 0, 0)
