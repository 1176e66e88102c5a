"""Every op appears in every layer. The C++ registry (python/ops/registry.def) is the list of
kernels; each kernel must have its CPU driver, CUDA driver (unless host-only), binding, Numba
port and test file, be bound in the built modules, and map to public ops (PUBLIC below) that
exist in the API, the float64 reference, the bench cases and the docs. Adding an op and
forgetting a layer fails here, naming the layer."""

import importlib
import pathlib
import re

import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend, reference
from mlsec_kernels.cli import bench

ROOT = pathlib.Path(__file__).resolve().parents[1]
REGISTRY = re.findall(r"^MLSEC_(HOST_)?OP\((\w+), (\w+)\)", (ROOT / "python/ops/registry.def").read_text(), re.M)
KERNELS = {name: (unit, not host) for host, unit, name in REGISTRY}  # name -> (unit, has a CUDA driver)

# Kernel -> the public ops it serves (module-qualified where not top-level) and its reference.
# Helpers behind no public op of their own map to ().
PUBLIC = {
    "fgsm": ("fgsm",),
    "project": ("project",),
    "pgd_step": ("pgd_step",),
    "random_start": ("random_start",),
    "random_raw": ("rng.random_raw",),
    "uniform": ("rng.uniform",),
    "normal": ("rng.normal",),
    "bit_depth": ("bit_depth",),
    "median_filter": ("median_filter",),
    "non_local_means": ("non_local_means",),
    "noise": ("gaussian_noise", "uniform_noise"),
    "random_resize_pad": ("random_resize_pad",),
    "pixel_deflection": ("pixel_deflection",),
    "output": (
        "output.reverse_sigmoid",
        "output.gaussian_noise",
        "output.round",
        "output.high_confidence",
        "output.top_k",
        "output.class_labels",
    ),
    "class_counts": (),  # smoothing.certify's vote count: tested through test_smoothing
    "memcopy": (),  # the bench's bandwidth floor
    "hmac_sha256": (),  # output.Watermark's keyed hash: tested through test_watermark
}
NOT_BENCHED = {"rng.random_raw", "uniform_noise", "random_resize_pad"}  # timed elsewhere: docs/transforms.md
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _attr(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part, None)
    return root


def test_registry_and_public_map_agree():
    assert REGISTRY, "python/ops/registry.def lists no op"
    assert set(KERNELS) == set(PUBLIC), "an op is in registry.def but not in PUBLIC here, or the reverse"


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_layers(name):
    unit, on_device = KERNELS[name]
    assert (ROOT / f"cpp/{unit}.cpp").is_file(), f"cpp/{unit}.cpp (CPU driver) missing"
    assert (ROOT / f"python/ops/{unit}.hpp").is_file(), f"python/ops/{unit}.hpp (binding) missing"
    assert (ROOT / f"cuda/{unit}.cu").is_file() == on_device, f"cuda/{unit}.cu and registry.def disagree"
    if _backend._cpu is not None:
        assert hasattr(_backend._cpu, name), f"the CPU module does not bind {name}"
    if _backend._cuda is not None:
        assert hasattr(_backend._cuda, name) == on_device, f"the CUDA module and registry.def disagree on {name}"
    if on_device:
        port = importlib.import_module(f"mlsec_kernels._numba.{unit}")
        assert hasattr(port, name), f"mlsec_kernels/_numba/{unit}.py has no {name}"
    tested = PUBLIC[name] and any((ROOT / f"tests/test_{t}.py").is_file() for t in (unit, name))
    assert tested or not PUBLIC[name], f"no tests/test_{unit}.py"


@pytest.mark.parametrize("op", sorted({op for ops in PUBLIC.values() for op in ops}))
def test_public_op_layers(op):
    assert callable(_attr(mk, op)), f"mlsec_kernels.{op} missing"
    short = op.rpartition(".")[2]
    refs = [_attr(reference, op), _attr(reference, short)] + [
        getattr(getattr(reference, m), short, None) for m in ("perturb", "squeeze", "transforms", "output", "rng")
    ]
    assert any(callable(r) for r in refs), f"no float64 reference for {op} in mlsec_kernels.reference"
    if op not in NOT_BENCHED:
        assert op in {c.op for c in bench.cases()}, f"{op} has no case in the bench (cli/bench.py)"
    assert re.search(rf"\b{re.escape(short)}\b", DOCS), f"{op} is not mentioned in README.md or docs/"
