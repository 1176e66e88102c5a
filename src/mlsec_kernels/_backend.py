"""Which backends this installation has, probed once at import, and which one a call uses.

Host arrays run the C++ kernels (``cpp``), or the Numba ports (``numba``) where the
extension is absent; device arrays run the CUDA kernels (``cuda``). ``backend="auto"``
follows the data; the ``MLSEC_BACKEND`` environment variable, read at import, sets what
``"auto"`` means for host data (``cpp`` or ``numba``).

The C++ kernels are built once per CPU tier (``default``: baseline x86-64 or aarch64
NEON; ``avx2``: x86-64-v3; ``avx512``: x86-64-v4), each in its own module ``_cpu_<tier>``.
The highest tier this CPU runs is loaded at import; ``MLSEC_CPU_CAPABILITY`` forces a
lower one (PyTorch's ``ATEN_CPU_CAPABILITY`` convention), for tests and benchmarks.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

NAMES = ("cpp", "numba", "cuda")

_why: dict[str, str] = {}


def _not_loaded(name: str, err: ImportError) -> str:
    built = any(Path(__file__).parent.glob(f"{name}.*"))
    return f"extension failed to load ({err})" if built else "extension not built"


TIERS = ("default", "avx2", "avx512")  # CPU tiers, lowest first: the kernels' ISA builds


def pick_tier(forced: str | None, supported: list[str], built: list[str]) -> str:
    """The CPU tier to load: the highest one both this CPU (``supported``, from CPUID and
    XGETBV) and this build (``built``) have, or the one ``MLSEC_CPU_CAPABILITY`` forces.
    Forcing a tier the CPU lacks is an error, never an illegal instruction later."""
    usable = [t for t in TIERS if t in supported and t in built]
    if not forced:
        return usable[-1]
    want = forced.strip().lower()
    if want not in TIERS:
        raise ImportError(
            f"MLSEC_CPU_CAPABILITY must be one of {', '.join(TIERS)}; got {forced!r} "
            f"(this machine runs: {', '.join(usable)})"
        )
    if want not in usable:
        why = "this build has no such module" if want in supported else "this CPU (or its OS, per XGETBV) lacks it"
        raise ImportError(f"MLSEC_CPU_CAPABILITY={want} cannot run here: {why}; tiers available: {', '.join(usable)}")
    return want


def _load_cpu():
    """The C++ module of the chosen tier; the baseline build (safe on any CPU of the
    architecture) answers what the CPU supports."""
    from importlib import import_module

    base = import_module(f"{__name__.rpartition('.')[0]}._cpu_default")
    built = [t for t in TIERS if any(Path(__file__).parent.glob(f"_cpu_{t}.*"))]
    tier = pick_tier(os.environ.get("MLSEC_CPU_CAPABILITY"), list(base.cpu_tiers()), built)
    return base if tier == "default" else import_module(f"{__name__.rpartition('.')[0]}._cpu_{tier}")


try:
    _cpu = _load_cpu()
except ImportError as e:
    if "MLSEC_CPU_CAPABILITY" in str(e):
        raise
    _cpu = None  # no compiler at install time: Numba carries the host side
    _why["cpp"] = _not_loaded("_cpu_default", e) + " (no C++ compiler at install time?)"

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
_Fallback = _cpu.Fallback if _cpu is not None else ()
GENERAL = object()  # what fast() returns when the call must take the general path


def fast(backend, x, op, *args, out=None, dtype=None):
    """``op(x, *args, out)`` on the C++ binding, straight from NumPy data (``out``, when
    None, made like x, of ``dtype`` when given), or GENERAL. The binding makes the general
    path's checks itself, with its messages, so a small call pays for no Python checks; it
    raises Fallback where Python
    must first normalise what it was given (non-contiguous arrays, array-likes, NumPy
    scalars). GENERAL also for other backends and array types, and for a non-contiguous
    x, which the binding would hand back anyway: out made like it first could be terabytes
    (a zero-stride view of one element) before any argument is checked."""
    if type(backend) is not str or backend not in FAST:  # (an unhashable backend= fails later, clearly)
        return GENERAL
    if type(x) is not np.ndarray and sys.modules.get("torch") is not None:
        return _fast_torch(x, op, args, out, dtype)
    if type(x) is np.ndarray and x.flags.c_contiguous:
        o = out if out is not None else (np.empty_like(x) if dtype is None else np.empty(x.shape, dtype))
        try:
            getattr(_cpu, op)(x, *args, o)
        except _Fallback:
            return GENERAL
        except (TypeError, RuntimeError) as e:
            # pybind11's own refusals (an argument of a type the signature does not take)
            # print the whole call: the general path's checks say which argument is wrong
            if not str(e).startswith((f"{op}(): incompatible function arguments", "Unable to cast")):
                raise
            return GENERAL
        return o
    return GENERAL


def _np_view(t, torch):
    """A NumPy view of a float CPU tensor's memory (zero-copy), or None."""
    if type(t) is not torch.Tensor or not t.is_cpu or t.dtype not in (torch.float32, torch.float64):
        return None
    return (t.detach() if t.requires_grad else t).numpy()


def _fast_torch(x, op, args, out, dtype=None):
    """The fast path for contiguous float CPU tensors: NumPy views of their memory
    (``Tensor.numpy``, zero-copy) for the binding, the result made by ``torch.empty_like``
    (or of ``dtype``). What the views cannot express (a gradient-tracking ``out``, tensor
    arguments or results that are not plain float CPU tensors) takes the general path."""
    torch = sys.modules["torch"]
    if not isinstance(x, torch.Tensor) or not x.is_contiguous():
        return GENERAL
    if out is not None and (not isinstance(out, torch.Tensor) or out.requires_grad):
        return GENERAL
    try:  # numpy() refuses a tensor with its negative bit set: the general path copes
        xv = _np_view(x, torch)
        if xv is None:
            return GENERAL
        views = []
        for a in args:
            if isinstance(a, torch.Tensor):
                a = _np_view(a, torch)
                if a is None:
                    return GENERAL
            views.append(a)
        if out is not None:
            o = out
        elif dtype is None:
            o = torch.empty_like(x)
        else:
            o = torch.empty(x.shape, dtype=getattr(torch, np.dtype(dtype).name))
        ov = _np_view(o, torch)
    except RuntimeError:
        return GENERAL
    if ov is None:
        return GENERAL
    return GENERAL if fast("cpp", xv, op, *views, out=ov) is GENERAL else o


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
        elif name == "cpp":
            out[name] = f"ok ({cpu_capability()})"
        else:
            out[name] = "ok"
    return out


def cpu_capability() -> str | None:
    """The CPU tier the C++ kernels run at: "avx512", "avx2" or "default" (on aarch64,
    "neon", which is its baseline); None without the C++ module."""
    if _cpu is None:
        return None
    return "neon" if _cpu.capability == "default" and _cpu.philox_isa == "neon" else _cpu.capability


def resolve(backend: str | None, on_device: bool, what: str = "x") -> str:
    """The backend a call runs on, or a ValueError saying why the requested one cannot."""
    if backend is not None and type(backend) is not str:
        raise TypeError(f"backend must be a str (or None), got {type(backend).__name__}")
    b = DEFAULT if backend in (None, "auto") else backend
    if b not in NAMES + ("auto",):
        raise ValueError(f"backend must be one of 'auto', 'cpp', 'numba', 'cuda'; got {backend!r}")
    if on_device:
        if b not in ("auto", "cuda"):
            raise ValueError(
                f"backend={b!r} runs on host arrays, but {what} is a device array (nothing is copied silently)"
            )
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
