"""Feature squeezing (Xu et al.): bit_depth 5, median_filter 2/3/5 on (64, 3, 224, 224)
float32 with --bench-full, against the copy floor, the NumPy/PyTorch/Numba expressions,
SciPy's median_filter (what ART's SpatialSmoothing runs), OpenCV's medianBlur per plane and
ART where installed; non_local_means 13-3, h=2 on (64, 3, 32, 32) uint8 against OpenCV's
fastNlMeansDenoising per plane. The cases are those of ``mlsec-kernels bench``.

SciPy's median takes seconds per full batch: ``-k "not scipy"`` leaves it out. On a busy
shared machine, ``--benchmark-timer time.process_time`` times this process's CPU seconds
(all threads) instead of wall-clock, which other processes disturb less.
"""

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend

CLI_OPS = ("bit_depth", "median_filter", "non_local_means")


def test_case(cli_call, measure):
    measure(*cli_call)


# median_filter by window size and dtype (benchmarks/RESULTS.md, "median_filter windows"):
# float32 and uint16 (16-bit images) on (16, 3, 224, 224) with --bench-full, one image
# otherwise, against SciPy, OpenCV's medianBlur per plane (uint16 and float32 only with
# ksize 3 or 5) and the copy floor of the same bytes. SciPy takes about 20 s per call at
# 31x31 on the full batch: --benchmark-min-rounds 3 keeps the run to minutes.
MEDIAN_DTYPES = ("float32", "uint16")
MEDIAN_SIZES = (3, 5, 7, 15, 31)
_median_inputs = {}


def _median_input(shape, dtype):
    key = (shape, dtype)
    if key not in _median_inputs:
        rng = np.random.default_rng(0)
        x = (
            rng.random(shape, dtype=np.float32)
            if dtype == "float32"
            else rng.integers(0, 65536, shape, dtype=np.uint16)
        )
        _median_inputs[key] = x
    return _median_inputs[key]


@pytest.mark.parametrize("contender", ["cpp", "numba", "scipy", "opencv", "copy"])
@pytest.mark.parametrize("size", MEDIAN_SIZES)
@pytest.mark.parametrize("dtype", MEDIAN_DTYPES)
def test_median_window(dtype, size, contender, full, measure, need_backend):
    x = _median_input((16, 3, 224, 224) if full else (1, 3, 224, 224), dtype)
    out = np.empty_like(x)
    if contender in ("cpp", "numba"):
        need_backend(contender)
        fn = lambda: mk.median_filter(x, size, out=out, backend=contender)
    elif contender == "scipy":
        from scipy import ndimage

        fn = lambda: ndimage.median_filter(x, size=(1, 1, size, size), mode="reflect", output=out)
    elif contender == "opencv":
        cv2 = pytest.importorskip("cv2", reason="OpenCV (cv2) is not installed")
        if size not in (3, 5):
            pytest.skip("cv2.medianBlur takes uint16 and float32 only with ksize 3 or 5")
        planes, dst = x.reshape((-1,) + x.shape[-2:]), out.reshape((-1,) + x.shape[-2:])
        fn = lambda: [cv2.medianBlur(p, size, dst=d) for p, d in zip(planes, dst)]
    else:
        need_backend("cpp")  # the parallel copy of the same bytes: the bandwidth floor
        fn = lambda: _backend._cpu.memcopy(x, out)
    measure(fn, f"median_filter-{dtype}-size{size}-{'x'.join(map(str, x.shape))}", nbytes=2 * x.nbytes)
