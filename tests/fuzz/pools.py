"""The values the fuzz cases draw their arguments from, as source text: for each kind of
argument an ordinary pool (first: what hypothesis shrinks to) and a pool of the odd,
extreme and wrong values of issue 10's bad-input classes. Whether a value is valid is not
decided here but by valid.py."""

NUMBERS = ["0.1", "0.0", "1", "0.5", "2.5", "np.float32(0.25)", "np.float64(0.3)", "np.int64(1)", "np.float16(0.5)"]
EXTREME = ["1e-300", "5e-324", "1e-45", "1e30", "3.4e38", "1e39", "1e300", "2**63", "-0.0", "np.float32(1e38)"]
NOT_NUMBERS = [
    "-0.1",
    "-1",
    "float('nan')",
    "float('inf')",
    "-float('inf')",
    "True",
    "False",
    "np.bool_(True)",
    "'0.1'",
    "None",
    "1j",
    "10**400",
    "[0.1]",
    "np.array(0.1)",
    "object()",
    "np.float64('nan')",
]


def per_sample(n):
    """One value per sample in every form an array can take, right and wrong."""
    ok = [
        f"np.full({n}, 0.1)",
        f"[0.2] * {n}",
        f"np.linspace(0, 1, {n})",
        f"np.full({n}, 0.3, '>f8')",
        f"np.full({n}, 0.3, np.float32)",
        f"torch.full(({n},), 0.2, dtype=torch.float64)",
        f"np.arange({n})",
        f"noncontig(np.full({n}, 0.1))",
        f"unaligned(np.full({n}, 0.1))",
        f"np.full({n}, 1e30)",
    ]
    bad = [
        f"np.full({n + 1}, 0.1)",
        f"np.full(({n}, 1), 0.1)",
        f"np.full({n}, -0.1)",
        f"np.full({n}, np.nan)",
        f"np.full({n}, np.inf)",
        f"np.full({n}, True)",
        f"np.full({n}, 1j)",
        f"np.array(['0.1'] * {n})",
        f"np.full({n}, 0.1).astype(object)",
        f"np.full({max(n - 1, 0)}, 0.1)",
        f"torch.full(({n},), -1.0)",
        f"np.full({n}, 0.1)[None]",
    ]
    return ok, bad


SCALAR = (NUMBERS, EXTREME + NOT_NUMBERS)
POSITIVE = (["1.0", "0.8", "2.5", "0.1", "np.float32(3.0)", "3"], ["0.0", "0", "1e-300", "1e300"] + NOT_NUMBERS)
UNIT = (
    ["0.99", "0.5", "0.0", "1.0", "1", "np.float32(0.9)"],
    ["1.5", "-0.1", "float('nan')", "'0.5'", "None", "True", "[0.5]"],
)

INTS_BAD = [
    "-1",
    "0",
    "2**31",
    "2**63",
    "2**64",
    "10**30",
    "-(2**63) - 1",
    "3.0",
    "float('nan')",
    "True",
    "'3'",
    "None",
    "np.float64(3)",
    "np.uint64(2**64 - 1)",
    "[3]",
    "np.array([3])",
]


def ints(*ok):
    return [str(v) for v in ok] + [f"np.int64({ok[0]})", f"np.uint8({ok[0]})", f"np.array({ok[0]})"], INTS_BAD


CLIP = (
    ["(0.0, 1.0)", "None", "(0, 1)", "[-1.0, 2.0]", "(-float('inf'), float('inf'))", "(0.5, 0.5)"]
    + ["(np.float32(0), np.float32(1))", "np.array([0.0, 1.0])", "(-1e300, 1e300)", "(0.25, 0.75)"],
    ["(1.0, 0.0)", "(float('nan'), 1.0)", "(0.0,)", "(0.0, 1.0, 2.0)", "'01'", "1.0", "(None, 1.0)"]
    + ["('0', '1')", "(True, False)", "(0.0, 1j)", "(0, 10**400)", "np.array([[0.0, 1.0]])"],
)
SEED = (
    ["0", "1", "2**64 - 1", "np.uint64(5)", "mk.rng.Generator(3)", "None", "np.int64(7)", "12345"],
    ["-1", "2**64", "1.5", "True", "'1'", "np.int64(-1)", "[1]", "float('nan')", "b'1'"],
)
NORM = (
    ["'inf'", "2", "1", "np.inf", "'2'", "'1'", "'l1'", "'L2'", "'linf'", "2.0", "np.int64(1)", "' inf '"],
    ["3", "0", "-1", "None", "True", "'l3'", "float('nan')", "[2]", "b'inf'", "''", "np.float32(2.5)"],
)
STRICT_BOOL = (["False", "True", "np.bool_(True)"], ["1", "0", "'yes'", "None", "[True]", "np.array([True, False])"])
TRUTHY = (["True", "False", "np.bool_(False)"], ["1", "'no'", "None", "np.array([1, 2])", "[]"])
LAYOUT_BAD = ["'nchw'", "b'NCHW'", "None", "0", "''", "'NCHW '", "['NCHW']", "'x' * 300", "'ΝCHW'"]
MODE = (["'reflect'", "'mirror'"], ["'nearest'", "None", "b'reflect'", "'REFLECT'", "1"])
INTERP = (["'nearest'", "'bilinear'"], ["'cubic'", "None", "b'nearest'", "0"])
RENORM = (["'auto'", "True", "False", "np.bool_(True)"], ["'yes'", "1", "None", "'AUTO'", "np.array([True])"])
DTYPE = (
    ["None", "np.float32", "'float64'", "np.dtype('float32')"],
    ["np.float16", "'int32'", "'f8x'", "np.uint32", "3", "object"],
)

# Array dtypes: the ordinary ones of an op come first; the rest are bad-input classes.
OTHER_DTYPES = ["int32", "int64", "uint8", "int8", "uint16", "bool", "complex64", "complex128", "object", "float16"]
LAYOUTS = ["plain", "noncontig", "fortran", "unaligned", "swapped", "readonly", "torch", "torch_nc", "list", "bcast"]
NO_TORCH = {"object", "uint16"}


def wrap(base, layout, dtype, n):
    """base (a source expression for an array) in one of the LAYOUTS."""
    if layout == "noncontig":
        return f"noncontig({base})"
    if layout == "fortran":
        return f"np.asfortranarray({base})"
    if layout == "unaligned" and dtype != "object":
        return f"unaligned({base})"
    if layout == "swapped":
        return f"swapped({base})"
    if layout == "readonly":
        return f"readonly({base})"
    if layout in ("torch", "torch_nc") and dtype not in NO_TORCH:
        return f"as_torch({base}{', True' if layout == 'torch_nc' else ''})"
    if layout == "list":
        return f"{base}.tolist()"
    if layout == "bcast" and n > 0:
        return f"rows_broadcast({base}, {n})"
    return base
