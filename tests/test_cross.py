"""The random stream on a CPU this machine does not have: cpp/rng.cpp built for aarch64
(NEON Philox, the vectorised uniform and Box-Muller loops) with Debian's cross compiler,
run under qemu, gives the same bits as the module loaded here (tests/cross/rng_dump.cpp)."""

import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend

ROOT = pathlib.Path(__file__).resolve().parents[1]
CXX, QEMU = "aarch64-linux-gnu-g++", "qemu-aarch64-static"
# The build's flags (CMakeLists.txt): no contraction (GCC contracts by default on aarch64).
FLAGS = ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-static"]


@pytest.mark.skipif(
    shutil.which(CXX) is None or shutil.which(QEMU) is None,
    reason=f"needs {CXX} and {QEMU} (Debian: g++-aarch64-linux-gnu, qemu-user-static)",
)
def test_aarch64_stream_matches(tmp_path):
    if _backend._cpu is None:
        pytest.skip(f"the C++ extension is not built: {mk.backends()['cpp']}")
    exe = tmp_path / "rng_dump"
    subprocess.run(
        [
            CXX,
            *FLAGS,
            f"-I{ROOT / 'cpp'}",
            str(ROOT / "tests/cross/rng_dump.cpp"),
            str(ROOT / "cpp/rng.cpp"),
            "-o",
            str(exe),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    lines = subprocess.run([QEMU, str(exe)], check=True, capture_output=True, text=True, timeout=120).stdout.split("\n")
    assert lines[0] == "isa neon"
    got = np.array([[int(v, 16) for v in ln.split()] for ln in lines[1:] if ln], np.uint32)
    n, seed, sub, offset = 4099, 0x0123456789ABCDEF, 2**40 + 3, 4 * (2**32 - 5) + 3
    kw = dict(seed=seed, substream=sub, offset=offset, backend="cpp")
    np.testing.assert_array_equal(got[:, 0], mk.rng.random_raw(n, **kw))
    np.testing.assert_array_equal(got[:, 1], mk.rng.uniform(n, dtype=np.float32, **kw).view(np.uint32))
    np.testing.assert_array_equal(got[:, 2], mk.rng.normal(n, dtype=np.float32, **kw).view(np.uint32))
