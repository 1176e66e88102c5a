"""CPU tiers: the probe (CPUID + XGETBV), the choice and its override (MLSEC_CPU_CAPABILITY),
and the same bits from every tier this machine runs."""

import os
import pathlib
import platform
import subprocess
import sys

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend

HERE = pathlib.Path(__file__).parent
needs_cpp = pytest.mark.skipif(_backend._cpu is None, reason="the C++ extension is not built")


def bit(*i):
    return sum(1 << k for k in i)


# CPUID words of an x86-64-v4 core (leaf 1 ECX, leaf 7 EBX, leaf 0x80000001 ECX)
L1 = bit(0, 9, 12, 13, 19, 20, 22, 23, 26, 27, 28, 29)
L7 = bit(3, 5, 8, 16, 17, 28, 30, 31)
X1 = bit(0, 5)


@needs_cpp
@pytest.mark.parametrize(
    "words, xcr0, want",
    [
        ((L1, L7, X1), 0xE7, ["default", "avx2", "avx512"]),
        ((L1, L7, X1), 0x07, ["default", "avx2"]),  # AVX-512 in the core, ZMM state not enabled by the OS
        ((L1, L7, X1), 0x03, ["default"]),  # AVX in the core, YMM state not enabled by the OS
        ((L1 & ~bit(27), L7, X1), 0xE7, ["default"]),  # no OSXSAVE: XCR0 cannot be trusted
        ((L1 & ~bit(12), L7, X1), 0xE7, ["default"]),  # no FMA: not x86-64-v3
        ((L1, L7 & ~bit(8), X1), 0xE7, ["default"]),  # no BMI2
        ((L1, L7, X1 & ~bit(5)), 0xE7, ["default"]),  # no LZCNT
        ((L1, L7 & ~bit(30), X1), 0xE7, ["default", "avx2"]),  # AVX512F without BW (Knights Landing)
    ],
)
def test_tiers_from_cpuid(words, xcr0, want):
    assert _backend._cpu.tiers_from_cpuid(*words, xcr0) == want


@needs_cpp
@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or not os.path.exists("/proc/cpuinfo"),
    reason="the kernel's CPU flags to compare with are read from Linux's /proc/cpuinfo on x86-64",
)
def test_probe_agrees_with_the_kernel():
    flags = set(next(ln for ln in open("/proc/cpuinfo") if ln.startswith("flags")).split(":")[1].split())
    v3 = {"avx", "avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "f16c", "sse4_2", "popcnt", "cx16"} <= flags
    v4 = v3 and {"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"} <= flags
    assert _backend._cpu.cpu_tiers() == ["default"] + ["avx2"] * v3 + ["avx512"] * v4


def test_pick_tier():
    assert _backend.pick_tier(None, ["default", "avx2"], list(_backend.TIERS)) == "avx2"
    assert _backend.pick_tier("", ["default", "avx2", "avx512"], ["default", "avx2"]) == "avx2"
    assert _backend.pick_tier(" AVX2 ", ["default", "avx2", "avx512"], list(_backend.TIERS)) == "avx2"
    with pytest.raises(
        ImportError, match=r"MLSEC_CPU_CAPABILITY must be one of default, avx2, avx512; got 'sse4'.*default, avx2"
    ):
        _backend.pick_tier("sse4", ["default", "avx2"], list(_backend.TIERS))
    with pytest.raises(ImportError, match=r"MLSEC_CPU_CAPABILITY=avx512 .*lacks it; tiers available: default, avx2"):
        _backend.pick_tier("avx512", ["default", "avx2"], list(_backend.TIERS))


def _python(code, tier, **kw):
    env = dict(os.environ, MLSEC_CPU_CAPABILITY=tier)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, **kw)


@needs_cpp
def test_a_bad_value_fails_at_import():
    r = _python("import mlsec_kernels", "avx1024")
    assert r.returncode != 0 and "MLSEC_CPU_CAPABILITY must be one of default, avx2, avx512; got 'avx1024'" in r.stderr


@needs_cpp
@pytest.mark.parametrize("tier", _backend.TIERS)
def test_forced_tier_is_reported(tier):
    if tier not in _backend._cpu.cpu_tiers():
        r = _python("import mlsec_kernels", tier)
        assert r.returncode != 0 and f"MLSEC_CPU_CAPABILITY={tier} cannot run here" in r.stderr
        return
    r = _python("import mlsec_kernels as mk; print(mk.backends()['cpp'])", tier, check=True)
    assert r.stdout.strip() in (f"ok ({tier})", "ok (neon)")


@pytest.fixture(scope="module")
def here_outputs():
    sys.path.insert(0, str(HERE))
    try:
        import tier_outputs
    finally:
        sys.path.remove(str(HERE))
    return tier_outputs.outputs()


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(f"u{a.itemsize}") if a.dtype.kind == "f" else a


@needs_cpp
@pytest.mark.parametrize("tier", _backend.TIERS)
def test_every_tier_gives_the_same_bits(tier, here_outputs, tmp_path):
    if tier not in _backend._cpu.cpu_tiers():
        pytest.skip(f"this CPU does not run the {tier} tier (it runs {_backend._cpu.cpu_tiers()})")
    if tier == mk._backend._cpu.capability:
        pytest.skip(f"{tier} is the tier this process runs: the other tiers are compared with it")
    path = tmp_path / f"{tier}.npz"
    _python(
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import tier_outputs; "
        f"tier_outputs.np.savez({str(path)!r}, **tier_outputs.outputs())",
        tier,
        check=True,
    )
    theirs = np.load(path)
    assert str(theirs["_tier"]) in (tier, "neon")
    assert set(theirs.files) == set(here_outputs)
    for name, mine in here_outputs.items():
        if name != "_tier":
            np.testing.assert_array_equal(
                _bits(theirs[name]), _bits(mine), err_msg=f"{name}: {tier} vs {mk._backend._cpu.capability}"
            )
