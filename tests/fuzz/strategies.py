"""Hypothesis strategies for fuzz cases: every public op with arguments drawn from the
pools of pools.py (mostly ordinary, sometimes odd or wrong), arrays in every layout and
dtype, zero-size and huge (zero-stride) shapes, and ``out`` in every form."""

from hypothesis import strategies as st

from . import pools as P
from .case import Case
from .ops import OPS

F = ["float32", "float64"]
R = F + ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]  # valid.REALS

# op -> (array names, positional names, keyword names, the data's dtypes, shape kind)
SIGS = {
    "fgsm": (("x", "grad"), ("x", "grad", "eps"), ("targeted", "clip"), F, "batch"),
    "project": (("delta",), ("delta", "eps"), ("norm", "lo", "hi"), F, "batch"),
    "pgd_step": (
        ("x", "x0", "grad"),
        ("x", "x0", "grad", "step", "eps"),
        ("norm", "targeted", "clip", "l1_sparsity", "projection"),
        F,
        "batch",
    ),
    "random_start": (("x0",), ("x0", "eps"), ("norm", "seed", "clip"), F, "batch"),
    "bit_depth": (("x",), ("x", "bits"), ("clip",), R, "batch"),
    "median_filter": (("x",), ("x", "size"), ("layout", "mode"), R, "image45"),
    "non_local_means": (
        ("x",),
        ("x",),
        ("h", "template_size", "search_size", "layout"),
        ["float32", "uint8"],
        "image45",
    ),
    "gaussian_noise": (("x",), ("x", "sigma"), ("seed", "clip"), R, "batch"),
    "uniform_noise": (("x",), ("x", "eps"), ("seed", "clip"), R, "batch"),
    "random_resize_pad": (
        ("x",),
        ("x", "out_size"),
        ("min_size", "seed", "interpolation", "per_sample", "layout", "return_params"),
        R,
        "image4",
    ),
    "pixel_deflection": (("x",), ("x", "deflections", "window"), ("seed", "layout"), R, "image4"),
    "random_raw": ((), ("n",), ("seed", "substream", "offset"), [], "rng"),
    "uniform": ((), ("shape",), ("seed", "substream", "offset", "dtype"), [], "rng"),
    "normal": ((), ("shape",), ("seed", "substream", "offset", "dtype"), [], "rng"),
    "reverse_sigmoid": (("p",), ("p",), ("beta", "gamma"), F, "probs"),
    "output_noise": (("p",), ("p",), ("scale", "seed", "renormalize"), F, "probs"),
    "round": (("p",), ("p",), ("decimals",), F, "probs"),
    "high_confidence": (("p",), ("p",), ("cutoff",), F, "probs"),
    "top_k": (("p",), ("p", "k"), ("one_hot",), F, "probs"),
    "class_labels": (("p",), ("p",), (), F, "probs"),
}
# Always passed: required keywords, and the seed of randomised ops (without it the draws are
# unpredictable, and only their shape can be checked).
REQUIRED_KW = {"non_local_means": ("h",)}
REQUIRED_KW.update({op: ("seed",) for op, s in OPS.items() if s.random})
assert set(SIGS) == set(OPS)


_STRATEGIES = {}


def one(draw, seq):
    """One element of seq (shrinking towards the first), by an index whose strategy is
    built once per length: building strategies is most of a draw's cost."""
    n = len(seq)
    s = _STRATEGIES.get(n)
    if s is None:
        s = _STRATEGIES[n] = st.integers(0, n - 1)
    return seq[draw(s)]


def chance(draw, percent):
    return one(draw, range(100)) < percent


def pick(draw, pool, p_bad):
    """A value from pool = (ordinary, odd), an odd one with probability p_bad (percent), in
    one draw: the ordinary values repeat so that they are the rest (and the first of them
    is what hypothesis shrinks to)."""
    ok, bad = pool
    if not bad:
        return one(draw, ok)
    k = max(1, round(len(bad) * (100 - p_bad) / (p_bad * len(ok))))
    return one(draw, list(ok) * k + list(bad))


def dims(draw, kind):
    """A shape of the op's kind: (N, ...), images (N, C, H, W) or video, (N, K) scores."""
    n = one(draw, [2, 1, 3, 0, 5])
    if kind == "batch":
        return (n,) + tuple(one(draw, [3, 1, 2, 4, 0, 7]) for _ in range(one(draw, [1, 0, 2, 3])))
    if kind == "probs":
        return (n, one(draw, [3, 2, 1, 5, 10, 0]))
    hw = tuple(one(draw, [5, 8, 1, 2, 3, 0, 9]) for _ in range(2))
    c = one(draw, [3, 1, 2, 0])
    video = kind == "image45" and chance(draw, 10)
    return (n,) + ((2,) if video else ()) + (c,) + hw


def odd_ndim(draw, shape):
    """Sometimes a shape with the wrong number of axes (0-d included)."""
    k = one(draw, range(100))
    if k >= 10:
        return shape
    return () if k < 3 else (shape[:-1] if k < 7 else shape + (2,))


FILLS = ["unit", "normal", "nan", "inf", "huge", "tiny", "ties", "zeros", "negzero"]


def fill_of(draw, kind):
    usual = "probs" if kind == "probs" else ("pixels" if kind.startswith("image") else "unit")
    return one(draw, [usual] * 3 + FILLS)


HUGE = {"batch": (2**21, 2**21), "probs": (2**21, 2**21), "image4": (2**12, 3, 2**13, 2**13)}
HUGE["image45"] = HUGE["image4"]


@st.composite
def cases(draw, op=None, p_bad=8):
    """One case of op (any op when None): arrays, parameters and out drawn from pools.py."""
    op = one(draw, sorted(SIGS)) if op is None else op
    arrays, pos, kw, dtypes, kind = SIGS[op]
    lines, g = {}, dict(n=0)
    if arrays:
        shape = odd_ndim(draw, dims(draw, kind))
        layout_name = one(draw, ["NCHW", "NHWC"])
        if kind.startswith("image") and layout_name == "NHWC" and len(shape) >= 4:
            shape = shape[:-3] + shape[-2:] + shape[-3:-2]
        dtype = pick(draw, (dtypes, P.OTHER_DTYPES), p_bad)
        n = shape[0] if shape else 1
        huge, overlap = chance(draw, 2), chance(draw, 3)
        seed, fill = one(draw, range(1 << 16)), fill_of(draw, kind)
        for i, name in enumerate(arrays):
            if huge:  # zero strides: terabytes declared, one element held
                lines[name] = f"huge({HUGE[kind]!r}, {dtype!r})"
                continue
            s, d = shape, dtype
            if i and chance(draw, 4):  # a second array that does not match the first
                other = "float64" if d != "float64" else "float32"
                s, d = one(draw, [(shape + (1,), d), (shape[:-1], d), (shape, other)])
            base = f"data({s!r}, {d!r}, {seed + i}, {fill!r})"
            if overlap and i == 0:  # x in a buffer that out may overlap in part
                lines["_buf"] = f"np.zeros({2 * _size(s) + 8}, {d!r})"
                lines[name] = f"in_buffer(_buf, {s!r}, 0, {base})"
                continue
            layout = one(draw, P.LAYOUTS) if chance(draw, 35) else "plain"
            lines[name] = P.wrap(base, layout, d, n)
        n = HUGE[kind][0] if huge else n
        g = dict(shape=shape, dtype=dtype, n=n, layout=layout_name)
    params = _params(draw, op, g, p_bad)
    lines.update(params)
    out = _out(draw, op, arrays, g, lines, p_bad)
    chosen_kw = [k for k in kw if k in params and (k in REQUIRED_KW.get(op, ()) or chance(draw, 75))]
    if out is not None:
        lines["out"] = out
        chosen_kw.append("out")
    names = set(pos) | set(chosen_kw)
    kept = tuple((k, v) for k, v in lines.items() if k in names or k.startswith("_"))
    return Case(op, kept, tuple(pos), tuple(chosen_kw))


def _size(shape):
    s = 1
    for v in shape:
        s *= v
    return s


def _params(draw, op, g, p_bad):
    n = g.get("n", 1)
    ps = P.per_sample(n)
    sample = (P.NUMBERS + ps[0][:4], P.EXTREME + P.NOT_NUMBERS + ps[1] + ps[0][4:])
    shape = g.get("shape", (1,))
    h, w = (shape[-2], shape[-1]) if len(shape) >= 2 else (1, 1)
    if g.get("layout") == "NHWC" and len(shape) >= 3:
        h, w = shape[-3], shape[-2]
    empty = _size(shape) == 0
    pools = {
        "eps": sample,
        "step": sample,
        "sigma": sample,
        "targeted": P.STRICT_BOOL,
        "clip": P.CLIP,
        "norm": P.NORM,
        "l1_sparsity": P.UNIT,
        "seed": P.SEED,
        "bits": (P.ints(8, 1, 16, 5, 17, 64)[0], ["0", "65", "-1"] + P.INTS_BAD),
        "size": (
            ["3", "1", "(3, 2)", "2", "[1, 3]", "5", str(max(h, 1)), f"({max(h, 1)}, {max(w, 1)})", "16", "(3, 16)"],
            ["(3,)", "(3, 3, 3)", "(0, 3)", "'3'", "3.0", "None", "(3, 2.0)", "1025", "(1, 2**20 + 1)"] + P.INTS_BAD,
        ),
        "projection": (["'exact'", "'ball_then_clip'"], ["'Exact'", "None", "1", "'clip'", "b'exact'"]),
        "lo": _bound_pool(g, "-", 1),
        "hi": _bound_pool(g, "", 2),
        "layout": (
            [repr(g.get("layout", "NCHW"))],
            P.LAYOUT_BAD + [repr("NHWC" if g.get("layout") == "NCHW" else "NCHW")],
        ),
        "mode": P.MODE,
        "h": P.POSITIVE,
        "template_size": P.ints(3, 1, 5, 7, 15, 2, 17),
        "search_size": P.ints(5, 1, 3, 7, 13, 21, 45, 4, 47),
        "out_size": P.ints(max(h, w, 1) + 3, max(h, w, 1), 2 * max(h, w, 1) + 1, 12),
        "min_size": (["None", "1", str(max(h, w, 1))], ["0", "-1", "10**6", "1.0", "'2'", "True"]),
        "interpolation": P.INTERP,
        "per_sample": P.TRUTHY,
        "return_params": P.TRUTHY,
        "deflections": (
            ["3", "0", "10", "np.int64(4)"] + (["2**40", "2**62"] if empty else []),
            ["-1", "2**63", "10**30", "2.0", "True", "'3'", "None"],
        ),
        "window": P.ints(2, 1, 5, 100),
        "n": (
            ["5", "0", "(2, 3)", "17", "np.int64(8)", "[3, 1]", "()"],
            ["-1", "(2, -1)", "2.5", "'5'", "None", "10**20", "(2**40, 2**40)", "True"],
        ),
        "substream": P.ints(0, 1, 2**64 - 1),
        "offset": (["0", "3", "2**66 - 100", "np.int64(9)"], ["-1", "2**66", "1.5", "True", "None", "'0'"]),
        "dtype": P.DTYPE,
        "beta": P.POSITIVE,
        "gamma": P.POSITIVE,
        "scale": P.SCALAR,
        "renormalize": P.RENORM,
        "decimals": P.ints(3, 0, 1, 8, 9, 15, 400),
        "cutoff": P.SCALAR,
        "k": P.ints(1, 2, 3, 10),
        "one_hot": P.TRUTHY,
    }
    pools["shape"] = pools["n"]
    arrays, pos, kw, _, _ = SIGS[op]
    out = {}
    for name in pos + kw:
        if name in arrays:
            continue
        out[name] = pick(draw, pools[name], p_bad)
    return out


def _bound_pool(g, sign, k):
    """project's lo or hi: None, numbers, an array like delta (sign "-": below 0); odd ones."""
    s, d = g.get("shape", (1,)), g.get("dtype", "float32")
    other = "float64" if d != "float64" else "float32"

    def arr(shape, dtype, fill=""):
        a = f"data({shape!r}, {dtype!r}, {k}{fill})"
        return f"negated({a})" if sign else a

    return (
        ["None", "None", f"{sign}0.5", f"{sign}1.0", f"{sign}0.0", f"np.float32({sign}0.25)", arr(s, d, ", 'unit'")],
        ["float('nan')", "True", "'0'", "10**400", arr(s + (1,), d), arr(s, other), f"{sign}float('inf')", "[0.5]"],
    )


def _out(draw, op, arrays, g, lines, p_bad):
    """None mostly; else an out of the right or a wrong kind."""
    if not chance(draw, 25):
        return None
    if not arrays:
        shape = "(5,)" if lines.get("n", lines.get("shape")) == "5" else None
        if shape is None:
            return None
        dt = "'uint32'" if op == "random_raw" else "'float32'"
        e = f"np.empty({shape}, {dt})"
        other = "'float64'" if op != "random_raw" else "'float32'"
        return one(
            draw,
            [
                e,
                f"noncontig({e})",
                f"readonly({e})",
                f"np.empty({shape}, {other})",
                f"np.empty((6,), {dt})",
                "[0] * 5",
                f"swapped({e})",
            ],
        )
    first = arrays[0]
    if "_buf" in lines and _size(g["shape"]) >= 2 and g["dtype"] != "object":
        k = one(draw, range(_size(g["shape"])))
        return f"in_buffer(_buf, {g['shape']!r}, {k})"
    if op == "random_resize_pad":
        return None  # its result shape depends on out_size; the exactness of out is checked elsewhere
    s, d = g["shape"], g["dtype"]
    z = f"np.zeros({s!r}, {d!r})"
    ok = [
        f"np.empty({s!r}, {d!r})",
        first,
        f"noncontig({z})",
        f"as_torch({z})" if d not in P.NO_TORCH else z,
        f"memoryview({z})",
    ]
    bad = [f"{z}.tolist()", f"readonly({z})", f"swapped({z})", f"np.empty({s + (1,)!r}, {d!r})"]
    bad += [f"unaligned({z})"] if d != "object" else []  # (no object array from a raw buffer)
    bad.append(f"np.empty({s!r}, {'float64' if d == 'float32' else 'float32'!r})")
    return pick(draw, (ok, bad), 50)
