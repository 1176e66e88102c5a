"""No error message shows an array's contents: a server logs its exceptions, and the data
(queries, images, a model's scores) may be private. Every public op is called with bad
arguments next to arrays filled with a sentinel value, and with arrays of that value
where a scalar, a pair or a string belongs; the sentinel must appear nowhere in the
exception's text or in the exceptions chained to it. Shapes, dtypes, types and the
caller's own scalars may appear (a 1-element array given for a scalar is read as that
scalar, as NumPy's float() reads it, so it is not used here).
"""

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import output as O
from mlsec_kernels import rng, smoothing

S = 1234.5  # exact in float16, float32, float64; 1234 in integer dtypes
SHOWS = ("1234", "1.234", "1,234")  # as printed by repr, str, %e, C++ to_string


def full(shape, dtype=np.float32, value=S):
    return np.full(shape, value, dtype)


X = full((2, 3, 8, 8))
XI = full((2, 3, 8, 8), np.int32)
P = full((2, 5))
A3 = full((3,))
NEG = full((2,), np.float64, -S)


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _cases(b):
    """(description, call) for a host backend b."""
    return {
        # wrong dtype
        "fgsm int data": lambda: mk.fgsm(XI, XI, 0.1, backend=b),
        "bit_depth float16": lambda: mk.bit_depth(X.astype(np.float16), 4, backend=b),
        "median_filter bool": lambda: mk.median_filter(X > 0, 3, backend=b),
        "non_local_means float64": lambda: mk.non_local_means(X.astype(np.float64), h=1.0, backend=b),
        "gaussian_noise complex": lambda: mk.gaussian_noise(X.astype(np.complex64), 0.1, seed=0, backend=b),
        "pixel_deflection float16": lambda: mk.pixel_deflection(X.astype(np.float16), 2, 1, seed=0, backend=b),
        "random_resize_pad bool": lambda: mk.random_resize_pad(X > 0, 9, seed=0, backend=b),
        "reverse_sigmoid int": lambda: O.reverse_sigmoid(P.astype(np.int32), backend=b),
        "grad of another dtype": lambda: mk.pgd_step(X, X, X.astype(np.float64), 0.1, 0.1, backend=b),
        # arrays where a scalar, a pair or a string belongs
        "eps 2-D": lambda: mk.fgsm(X, X, full((2, 2)), backend=b),
        "eps of 3 for 2 samples": lambda: mk.fgsm(X, X, A3, backend=b),
        "eps negative per sample": lambda: mk.fgsm(X, X, NEG, backend=b),
        "step negative per sample": lambda: mk.pgd_step(X, X, X, NEG, 0.1, backend=b),
        "sigma negative per sample": lambda: mk.gaussian_noise(X, NEG, seed=0, backend=b),
        "targeted array": lambda: mk.fgsm(X, X, 0.1, targeted=A3, backend=b),
        "norm array": lambda: mk.project(X, 0.1, norm=A3, backend=b),
        "l1_sparsity array": lambda: mk.pgd_step(X, X, X, 0.1, 0.1, norm=1, l1_sparsity=A3, backend=b),
        "seed array": lambda: mk.random_start(X, 0.1, seed=A3, backend=b),
        "bits array": lambda: mk.bit_depth(X, A3, backend=b),
        "size array": lambda: mk.median_filter(X, A3, backend=b),
        "size pair of arrays": lambda: mk.median_filter(X, (A3, A3), backend=b),
        "h array": lambda: mk.non_local_means(X, h=A3, backend=b),
        "template_size array": lambda: mk.non_local_means(X, h=1.0, template_size=A3, backend=b),
        "out_size array": lambda: mk.random_resize_pad(X, A3, seed=0, backend=b),
        "min_size array": lambda: mk.random_resize_pad(X, 12, min_size=A3, seed=0, backend=b),
        "deflections array": lambda: mk.pixel_deflection(X, A3, 1, seed=0, backend=b),
        "window array": lambda: mk.pixel_deflection(X, 2, A3, seed=0, backend=b),
        "beta array": lambda: O.reverse_sigmoid(P, beta=A3, backend=b),
        "scale array": lambda: O.gaussian_noise(P, scale=A3, backend=b),
        "renormalize array": lambda: O.gaussian_noise(P, renormalize=A3, backend=b),
        "decimals array": lambda: O.round(P, decimals=A3, backend=b),
        "cutoff array": lambda: O.high_confidence(P, cutoff=A3, backend=b),
        "k array": lambda: O.top_k(P, A3, backend=b),
        "rng shape array": lambda: rng.normal(full((2, 2)), seed=0, backend=b),
        "rng offset array": lambda: rng.uniform(4, seed=0, offset=A3, backend=b),
        "rng substream array": lambda: rng.random_raw(4, seed=0, substream=A3, backend=b),
        # bad clip
        "clip array of 3": lambda: mk.fgsm(X, X, 0.1, clip=A3, backend=b),
        "clip reversed array": lambda: mk.fgsm(X, X, 0.1, clip=np.array([S, -S]), backend=b),
        "clip pair of arrays": lambda: mk.uniform_noise(X, 0.1, seed=0, clip=(A3, A3), backend=b),
        "clip list of data": lambda: mk.pgd_step(X, X, X, 0.1, 0.1, clip=list(A3) * 3, backend=b),
        "bit_depth clip array": lambda: mk.bit_depth(X, 4, clip=A3, backend=b),
        "bit_depth clip reversed": lambda: mk.bit_depth(X, 4, clip=np.array([S, -S]), backend=b),
        # bad layout, mode, interpolation
        "layout array": lambda: mk.median_filter(X, 3, layout=A3, backend=b),
        "layout unknown": lambda: mk.non_local_means(X, h=1.0, layout="NCWH", backend=b),
        "layout bytes": lambda: mk.pixel_deflection(X, 2, 1, layout=b"NCHW", seed=0, backend=b),
        "mode array": lambda: mk.median_filter(X, 3, mode=A3, backend=b),
        "interpolation array": lambda: mk.random_resize_pad(X, 12, interpolation=A3, seed=0, backend=b),
        "rrp layout array": lambda: mk.random_resize_pad(X, 12, layout=A3, seed=0, backend=b),
        "image of 3 axes": lambda: mk.median_filter(full((2, 8, 8)), 3, backend=b),
        # bad out
        "out dtype": lambda: mk.fgsm(X, X, 0.1, out=full(X.shape, np.float64), backend=b),
        "out shape": lambda: mk.bit_depth(X, 4, out=full((2, 3, 8, 7)), backend=b),
        "out a list": lambda: mk.project(X, 0.1, out=X.tolist(), backend=b),
        "out read-only": lambda: mk.random_start(X, 0.1, seed=0, out=_read_only(X), backend=b),
        "out overlapping x": lambda: mk.median_filter(X, 3, out=X, backend=b),
        "out of rng": lambda: rng.uniform(3, seed=0, out=full((4,)), backend=b),
        "out of output": lambda: O.class_labels(P, out=full((2, 5), np.float64), backend=b),
        # bad shapes
        "grad shape": lambda: mk.fgsm(X, full((2, 3, 8, 7)), 0.1, backend=b),
        "p 1-D": lambda: O.top_k(full((5,)), 2, backend=b),
        "k above C": lambda: O.top_k(P, 9, backend=b),
        "Guard k above C": lambda: O.Guard([O.TopK(9)])(P, backend=b),
        "class_labels 3-D": lambda: O.class_labels(full((3, 2, 2)), backend=b),
    }


BACKENDS = ["auto", "cpp", "numba"]
CASE_NAMES = sorted(_cases("auto"))


def _chain(e):
    """The text of an exception and of every exception chained to it (a traceback prints them all)."""
    seen = []
    while e is not None and e not in seen:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return " | ".join(f"{type(x).__name__}: {x}" for x in seen)


def _check(call):
    with pytest.raises((TypeError, ValueError)) as e:
        call()
    text = _chain(e.value)
    assert not any(s in text for s in SHOWS), f"the message shows the data: {text}"
    assert "incompatible function arguments" not in text


@pytest.mark.parametrize("case", CASE_NAMES)
def test_no_array_contents_in_messages(case, host_backend):
    _check(_cases(host_backend)[case])


def _model(batch):
    return np.full((len(batch), 2), S)


OBJECT_CASES = {
    "Guard of an array": lambda: O.Guard([A3]),
    "Watermark key array": lambda: O.Watermark(A3),
    "Watermark rate array": lambda: O.Watermark(b"k", rate=A3),
    "Watermark p 1-D": lambda: O.Watermark(b"k").apply(full((3, 4)), full((3,))),
    "Watermark counts differ": lambda: O.Watermark(b"k").apply(full((3, 4)), full((2, 5))),
    "Watermark device array": lambda: O.Watermark(b"k").digests(type("D", (), {"__cuda_array_interface__": {}})()),
    "verify shape": lambda: O.Watermark(b"k").verify(lambda q: full((5,)), full((3, 4)), full((3,)), num_classes=3),
    "monitor labels": lambda: O.ExtractionMonitor().observe(1, full((3, 4)), full((2,))),
    "monitor strings": lambda: O.ExtractionMonitor().observe(1, full((3, 4)).astype(str), full((3,))),
    "monitor delta array": lambda: O.ExtractionMonitor(delta=A3),
    "monitor budget array": lambda: O.ExtractionMonitor(max_bytes=A3),
    "shapiro_wilk of 2": lambda: O.shapiro_wilk(full((2,))),
    "squeeze_score shapes": lambda: mk.squeeze_score(P, full((2, 4))),
    "SqueezeDetector item": lambda: mk.SqueezeDetector([A3]),
    "smoothing sigma array": lambda: smoothing.predict(_model, X, A3, 10),
    "smoothing n array": lambda: smoothing.certify(_model, X, 0.1, 10, A3),
    "smoothing labels out of range": lambda: smoothing.predict(
        lambda z: np.full(len(z), 1234, np.int64), X, 0.1, 4, num_classes=3
    ),
    "Generator seed array": lambda: rng.Generator(A3),
}


@pytest.mark.parametrize("case", sorted(OBJECT_CASES))
def test_no_array_contents_in_object_messages(case):
    _check(OBJECT_CASES[case])
