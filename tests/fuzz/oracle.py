"""The fuzz oracle: runs a case on every host backend and classifies what happened.

Findings (kind, detail), kinds:
- "wrong": a valid call whose result differs from the float64 reference (beyond the
  op's test tolerance), has NaN where the reference has none, has the wrong shape, dtype
  or array type, leaves ``out`` unwritten, or (randomised ops) differs between backends;
- "unclear": a refusal that is not a TypeError/ValueError, does not name the argument at
  fault, shows pybind11's dump or array contents; a MemoryError for an invalid argument
  (the data was copied before the arguments were checked);
- "disagree": the backends differ on accept/refuse or on the exception's type or message
  ("order" when the call has several faults and each backend names one of them clearly:
  reported, not failing);
- "refused": valid by valid.py's table, refused by every backend;
- "accepted": invalid by the table, accepted.
A finding touching an argument whose contract other work is changing carries that area
(valid.PENDING) and does not fail the test suite. Crashes and hangs are the runner's
(run.py): a case that kills the process or outlives its time.
"""

import re

import numpy as np

from . import predicates, valid
from .build import torch
from .ops import OPS, clip_of, defaults, result_spec

BACKENDS = ("auto", "cpp", "numba")
PYBIND = ("incompatible function arguments", "Unable to cast", "arg0", "Invoked with")
CONTENTS = re.compile(r"array\(|tensor\(|\[\s*-?\d[\d.e+-]*\s+-?\d[\d.e+-]*\s")
FAILING = ("wrong", "unclear", "disagree", "refused", "accepted")  # "order" is reported only


def outcome(case, backend):
    v = case.values()
    try:
        return "ok", case.call(backend, v), v
    except Exception as e:  # noqa: BLE001 (classifying every exception is the point)
        return "err", e, v


def context(case):
    """The arguments as the op sees them: defaults filled in, built afresh."""
    c = defaults(case.op)
    c.update(case.values())
    return c


def named(msg, words):
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}(?![A-Za-z0-9_])", msg) for w in words)


def clarity(e, words, too_big):
    """Why an exception is not a clear refusal, or None."""
    msg = str(e)
    if isinstance(e, MemoryError):
        return None if too_big and not words else f"MemoryError before the arguments were checked: {msg[:200]}"
    if not isinstance(e, (TypeError, ValueError)):
        return f"{type(e).__name__} (not TypeError/ValueError): {msg[:300]}"
    if any(p in msg for p in PYBIND):
        return f"pybind11's dump: {msg[:300]}"
    if "\n" in msg or len(msg) > 500 or CONTENTS.search(msg):
        return f"array contents or a dump in the message: {msg[:300]}"
    if words and not named(msg, words):
        return f"{type(e).__name__} does not name {sorted(words)}: {msg[:300]}"
    return None


def host(r):
    if torch is not None and isinstance(r, torch.Tensor):
        return r.detach().numpy()
    return np.asarray(r)


def same_bits(a, b):
    a, b = host(a), host(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def compare(got, want, tol, dtype, ctx, op):
    """Why got (the op's result) is not the reference want, or None."""
    got = host(got)
    if want.dtype.kind == "f" and got.dtype.kind == "f":
        nan = np.isnan(got) & ~np.isnan(want)
        if nan.any():
            return f"NaN where the reference has none ({int(nan.sum())} of {got.size})"
    with np.errstate(over="ignore", invalid="ignore"):
        w = want.astype(dtype) if dtype.kind == "f" else want
        g64, w64 = got.astype(np.float64), np.asarray(w, np.float64)
    same = (g64 == w64) | (np.isnan(g64) & np.isnan(w64))
    if tol == "exact":
        ok = same
    elif tol == "pixel":
        ok = same | (np.abs(g64 - w64) <= 1)
    elif tol == "level":  # bit_depth: one level, where x * m rounds onto a half in float32
        x = predicates.as_array(ctx["x"])
        ints = x.dtype.kind in "iu"
        lo, hi = (0.0, 1.0) if ctx["clip"] is None else clip_of(ctx)
        if ctx["clip"] is None and ints:
            lo, hi = float(np.iinfo(x.dtype).min), float(np.iinfo(x.dtype).max)
        step = (hi - lo) / (2.0 ** int(ctx["bits"]) - 1)
        # (and float32's rounding of values far outside the clip range: a few ulp of them)
        near = np.abs(g64 - w64) <= step * (1 + 1e-6) + 2.0**-21 * np.abs(w64)
        ok = same | near if dtype == np.float32 else same
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            ok = same | (np.abs(g64 - w64) <= tol["atol"] + tol["rtol"] * np.abs(w64))
    if not ok.all():
        i = np.flatnonzero(~ok.reshape(-1))[0]
        return (
            f"differs from the reference at {int((~ok).sum())} of {ok.size} elements; first at flat {i}: "
            f"{g64.reshape(-1)[i]!r} vs {w64.reshape(-1)[i]!r} (tolerance {tol})"
        )
    return None


def reference(case, ctx):
    """The reference result (or (result, params)); None where there is no value to check
    (an unpredictable seed, NaN in a median window); an exception the reference raised."""
    try:
        return OPS[case.op].ref(ctx)
    except Exception as e:  # noqa: BLE001
        return e


def check_result(case, ctx, r, vals, spec, want):
    """Why a valid call's result is wrong, or None."""
    op = OPS[case.op]
    if isinstance(r, tuple):  # random_resize_pad(..., return_params=True)
        r, params = r
    out = vals.get("out")
    if out is not None and r is not out:
        return "the result is not the out given"
    first = vals.get(op.arrays[0]) if op.arrays else None
    if out is None and torch is not None and isinstance(first, torch.Tensor) != isinstance(r, torch.Tensor):
        return f"a {type(first).__name__} in, a {type(r).__name__} out"
    a = host(r)
    if a.shape != tuple(spec[0]) or predicates.native(a.dtype) != spec[1]:
        return f"result {a.shape} {a.dtype}, expected {tuple(spec[0])} {spec[1]}"
    if a.size == 0:
        return None  # nothing to compare (the references need not take empty arrays)
    if isinstance(want, Exception):
        return f"the reference failed: {want!r}"
    if want is None:
        return None
    if isinstance(want, tuple):
        want, want_params = want
        if not np.array_equal(params, want_params):
            return "params differ from the reference"
    return compare(a, np.asarray(want), op.tol(ctx, spec[1]), spec[1], ctx, case.op)


def check(case, backends=BACKENDS):
    """The findings [(kind, detail, area)] of one case (empty: all is well)."""
    op = OPS[case.op]
    res = {b: outcome(case, b) for b in backends}
    ctx = context(case)
    bad, words = valid.bad_args(case.op, ctx)
    area = None
    pend = valid.PENDING.get(case.op, {})
    if "*" in pend or bad & set(pend):
        area = pend.get("*") or pend[sorted(bad & set(pend))[0]]
    try:
        spec = result_spec(case.op, ctx)
    except Exception:  # noqa: BLE001 (arguments too wrong to say what the result would be)
        spec = None
    out_is_bad, out_area = predicates.out_bad(ctx, op.arrays, *spec, rule=op.out) if spec else (False, None)
    if out_is_bad:
        bad, words = bad | {"out"}, words | {"out"}
    spec = None if bad else spec
    area = area or out_area
    sizes = [predicates.nbytes(ctx[a]) for a in op.arrays] + (
        [np.prod(spec[0], dtype=float) * spec[1].itemsize] if spec else []
    )
    too_big = max(sizes, default=0) > valid.TOO_BIG
    found = []

    kinds = {b: r[0] for b, r in res.items()}
    # (objects' addresses in a message differ between the backends' fresh arguments)
    errs = {b: (type(r[1]).__name__, re.sub(r"0x[0-9a-f]+", "0x.", str(r[1]))) for b, r in res.items() if r[0] == "err"}
    if len(set(kinds.values())) > 1:
        said = {b: ": ".join(errs[b])[:150] if b in errs else "ok" for b in backends}
        found.append(("disagree", "accept/refuse: " + ", ".join(f"{b}: {said[b]}" for b in backends)))
    elif len(set(errs.values())) > 1:
        # Several faults: each backend may report another one first (a softer finding).
        clear = all(clarity(res[b][1], words, too_big) is None for b in errs)
        kind = "order" if clear and len(bad) > 1 else "disagree"
        found.append((kind, "; ".join(f"{b}: {t}: {m[:150]}" for b, (t, m) in errs.items())))
    for b, r in res.items():
        if r[0] == "err":
            why = clarity(r[1], words, too_big)
            if why:
                found.append(("unclear", f"{b}: {why}"))
                break
    if bad:
        if any(k == "ok" for k in kinds.values()):
            found.append(
                ("accepted", f"invalid {sorted(bad)} accepted by {[b for b, k in kinds.items() if k == 'ok']}")
            )
    elif all(k == "err" for k in kinds.values()):
        e = res[backends[0]][1]
        if not (too_big and isinstance(e, (MemoryError, ValueError))):
            found.append(("refused", f"{type(e).__name__}: {str(e)[:300]}"))
    elif spec is not None:
        oks = [b for b, r in res.items() if r[0] == "ok"]
        # (no reference for an empty result: nothing to compare, and a reference may loop
        # over a huge count for nothing, as pixel_deflection's over 2**40 deflections)
        want = reference(case, ctx) if np.prod(spec[0], dtype=float) > 0 else None
        for b in oks:
            why = check_result(case, ctx, res[b][1], res[b][2], spec, want)
            if why:
                found.append(("wrong", f"{b}: {why}"))
                break
        seeded = not op.random or ctx.get("seed") is not None
        if seeded and "auto" in oks and "cpp" in oks and not _bits(res, "auto", "cpp"):
            found.append(("wrong", "auto (fast path) and cpp differ in bits"))
        if op.random and seeded and "cpp" in oks and "numba" in oks and not _bits(res, "cpp", "numba"):
            found.append(("wrong", "cpp and numba differ in bits (randomised op)"))
    return [(k, d, area or _known(case.op, d, ctx)) for k, d in found]


def _known(op, detail, ctx):
    """The area of a finding of a known cause (valid.KNOWN), or None."""
    for o, pattern, a, when in valid.KNOWN:
        if o in (None, op) and re.search(pattern, detail) and when(ctx):
            return a
    return None


def _bits(res, a, b):
    ra, rb = res[a][1], res[b][1]
    if isinstance(ra, tuple):
        return all(same_bits(x, y) for x, y in zip(ra, rb))
    return same_bits(ra, rb)


def failures(findings):
    """The findings that fail the suite: those outside the pending areas."""
    return [f for f in findings if f[0] in FAILING and f[2] is None]
