"""Which backends this installation has, probed once at import, and which one a call uses.

Host arrays run the C++ kernels (``cpp``), or the Numba ports (``numba``) where the
extension is absent; device arrays run the CUDA kernels (``cuda``). ``backend="auto"``
follows the data; the ``MLSEC_BACKEND`` environment variable, read at import, sets what
``"auto"`` means for host data (``cpp`` or ``numba``).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

NAMES = ("cpp", "numba", "cuda")

_why: dict[str, str] = {}


def _not_loaded(name: str, err: ImportError) -> str:
    built = any(Path(__file__).parent.glob(f"{name}.*"))
    return f"extension failed to load ({err})" if built else "extension not built"

try:
    from . import _cpu
except ImportError as e:  # no compiler at install time: Numba carries the host side
    _cpu = None
    _why["cpp"] = _not_loaded("_cpu", e) + " (no C++ compiler at install time?)"

try:
    from . import _cuda

    _count, _devices, _reason = _cuda.probe()
    if _count == 0:
        _why["cuda"] = f"built, no device ({_reason})"
except ImportError as e:
    _cuda, _devices = None, []
    _why["cuda"] = _not_loaded("_cuda", e) + " (no CUDA compiler at install time, or MLSEC_CUDA=OFF)"

if importlib.util.find_spec("numba") is None:
    _why["numba"] = "numba is not installed"

DEFAULT = os.environ.get("MLSEC_BACKEND", "auto").strip().lower() or "auto"
if DEFAULT not in NAMES + ("auto",):
    raise ImportError(f"MLSEC_BACKEND must be one of auto, cpp, numba, cuda; got {DEFAULT!r}")

# The backend names whose NumPy calls go straight to the C++ binding (the fast path):
# "cpp", and "auto" unless MLSEC_BACKEND points it elsewhere.
FAST = frozenset() if _cpu is None else frozenset(("auto", "cpp") if DEFAULT in ("auto", "cpp") else ("cpp",))


def available(name: str) -> bool:
    return name not in _why


def backends() -> dict[str, str]:
    """Each backend and whether it can run here: ``"ok"`` (with the device for cuda) or why not."""
    out = {}
    for name in NAMES:
        if name in _why:
            out[name] = _why[name]
        elif name == "cuda":
            out[name] = "ok: " + ", ".join(_devices)
        else:
            out[name] = "ok"
    return out


def resolve(backend: str | None, on_device: bool, what: str = "x") -> str:
    """The backend a call runs on, or a ValueError saying why the requested one cannot."""
    b = DEFAULT if backend in (None, "auto") else backend
    if b not in NAMES + ("auto",):
        raise ValueError(f"backend must be one of 'auto', 'cpp', 'numba', 'cuda'; got {backend!r}")
    if on_device:
        if b not in ("auto", "cuda"):
            raise ValueError(f"backend={b!r} runs on host arrays, but {what} is a device array (nothing is copied silently)")
        b = "cuda"
    elif b == "cuda":
        raise ValueError(f"backend='cuda' needs device arrays, but {what} is a host array (nothing is copied silently)")
    elif b == "auto":
        b = "cpp" if _cpu is not None else "numba"
    if b in _why:
        raise RuntimeError(f"backend {b!r} is not usable here: {_why[b]}")
    return b


def kernel(backend: str, op: str, module: str | None = None):
    """The kernel of `op` for a resolved backend; all three take the same arguments (the
    CUDA one also the stream, last). Numba kernels live in _numba/<module or op>.py."""
    if backend == "cpp":
        return getattr(_cpu, op)
    if backend == "cuda":
        return getattr(_cuda, op)
    from importlib import import_module

    return getattr(import_module(f"mlsec_kernels._numba.{module or op}"), op)
