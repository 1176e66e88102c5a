import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import cpu_module, dev, host, peer

CASES = [((1, 1, 1, 1), 3, 1), ((2, 3, 7, 5), 20, 2), ((3, 1, 16, 16), 200, 10), ((2, 3, 40, 33), 50, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("case", CASES)
def test_matches_reference(backend, rng, dtype, layout, case):
    shape, k, win = case
    x = rng.random(shape).astype(dtype)
    if layout == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    got = host(mk.pixel_deflection(dev(x, backend), k, win, seed=6, layout=layout, backend=backend))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, ref.transforms.pixel_deflection(x, k, win, seed=6, layout=layout))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_integers_match_reference(backend, rng, dtype, layout):
    # pixels are copied, so every dtype is exact (64-bit values beyond 2^53 included)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (2, 3, 7, 5), dtype=dtype, endpoint=True)
    if layout == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    got = host(mk.pixel_deflection(dev(x, backend), 20, 2, seed=6, layout=layout, backend=backend))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, ref.transforms.pixel_deflection(x, 20, 2, seed=6, layout=layout))


def test_backends_bit_identical(backend, rng):
    x = rng.random((4, 3, 64, 64)).astype(np.float32)  # large enough to run threaded
    want = mk.pixel_deflection(x, 300, 5, seed=2, backend=peer(backend))
    np.testing.assert_array_equal(host(mk.pixel_deflection(dev(x, backend), 300, 5, seed=2, backend=backend)), want)


def test_order_and_window(rng):
    # distinct values: every changed pixel holds a value from its window, of its channel,
    # and sequential semantics (a later deflection may copy an already deflected value)
    n, c, h, w, win = 1, 2, 12, 12, 2
    x = np.arange(n * c * h * w, dtype=np.float64).reshape(n, c, h, w)
    y = mk.pixel_deflection(x, 500, win, seed=3)
    changed = np.argwhere(y != x)
    assert len(changed) > 0
    for r, ch, py, px in changed:
        src = int(y[r, ch, py, px])
        sch, rem = divmod(src, h * w)
        sy, sx = divmod(rem, w)
        assert sch == ch
        assert abs(sy - py) <= win * 500 and abs(sx - px) <= win * 500
    one = mk.pixel_deflection(x, 1, win, seed=3)
    for r, ch, py, px in np.argwhere(one != x):
        sy, sx = divmod(int(one[r, ch, py, px]) - ch * h * w, w)
        assert abs(sy - py) <= win and abs(sx - px) <= win


def test_neighbour_distribution():
    # one deflection per image on a 1 x 3 x 3 grid, window 1: the source is uniform on the
    # clipped window of the destination (the reference's rejection loop's distribution)
    n = 40000
    x = np.tile(np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3), (n, 1, 1, 1))
    blk = ref.rng.blocks(7, 0, 0, n)
    y = mk.pixel_deflection(x, 1, 1, seed=7).reshape(n, 9)
    dst = ref.rng.below(blk[:, 0], 3).astype(int) * 3 + ref.rng.below(blk[:, 1], 3).astype(int)
    src = y[np.arange(n), dst].astype(int)
    corner = dst == 0  # window {0,1} x {0,1}: four sources, equally likely
    counts = np.bincount(src[corner], minlength=9)
    assert set(np.nonzero(counts)[0]) == {0, 1, 3, 4}
    assert counts[[0, 1, 3, 4]].min() > 0.9 * corner.sum() / 4


def test_in_place_zero_and_torch(host_backend, rng):
    x = rng.random((2, 3, 9, 9)).astype(np.float32)
    want = mk.pixel_deflection(x, 10, 2, seed=1)
    y = x.copy()
    assert mk.pixel_deflection(y, 10, 2, seed=1, out=y, backend=host_backend) is y
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(mk.pixel_deflection(x, 0, 2, seed=1, backend=host_backend), x)
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    got = mk.pixel_deflection(torch.from_numpy(x), 10, 2, seed=1, backend=host_backend)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(window=0), ValueError, "window must be >= 1"),
        (dict(deflections=-1), ValueError, "deflections must be >= 0"),
        (dict(window=1.5), TypeError, "window must be an int"),
        (dict(layout="HWC"), ValueError, "layout must be one of"),
        (dict(x=np.zeros((8, 8), np.float32)), ValueError, "4 axes"),
        (dict(out=np.zeros((2, 1, 8, 9), np.float32)), ValueError, "out must have shape"),
        (dict(x=np.zeros((2, 1, 8, 8), bool)), TypeError, "x must be float32, float64 or an integer dtype, got bool"),
        (dict(x=np.zeros((2, 1, 8, 8), np.float16)), TypeError, "x must be .* integer dtype, got float16"),
        (dict(x=np.zeros((2, 1, 8, 8), np.int16), out=np.zeros((2, 1, 8, 8))), TypeError, "out must have.*dtype"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x=np.zeros((2, 1, 8, 8), np.float32), deflections=5, window=2, seed=1, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.pixel_deflection(args.pop("x"), args.pop("deflections"), args.pop("window"), **args)


def test_binding_checks():
    cpu = cpu_module()
    x = np.zeros((2, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match="window must be >= 1"):
        cpu.pixel_deflection(x, 3, 0, "NCHW", 1, 0, 0, x)
    with pytest.raises(ValueError, match="layout must be"):
        cpu.pixel_deflection(x, 3, 1, "CHW", 1, 0, 0, x)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    k=st.integers(0, 30),
    window=st.integers(1, 9),
    layout=st.sampled_from(["NCHW", "NHWC"]),
    seed=st.integers(0, 2**64 - 1),
)
def test_property_matches_reference(n, c, h, w, k, window, layout, seed):
    shape = (n, c, h, w) if layout == "NCHW" else (n, h, w, c)
    x = np.random.default_rng(seed % 1000).random(shape)
    np.testing.assert_array_equal(
        mk.pixel_deflection(x, k, window, seed=seed, layout=layout),
        ref.transforms.pixel_deflection(x, k, window, seed=seed, layout=layout),
    )
