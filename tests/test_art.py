"""mlsec_kernels.art against ART 1.20 itself.

The cases of ART's own unit tests for these classes (their inputs and expected values:
tests/defences/test_*.py, tests/defences/preprocessor/test_spatial_smoothing.py and
tests/estimators/certification/test_randomized_smoothing.py of ART 1.20.1, and two cases of
ART's earlier test_spatial_smoothing.py) run on ART's class and on ours, parametrised by
``impl``. Values ART draws from NumPy's global random state are the one known difference
(ours draw from the Philox stream): those tests check reproducibility and distributions.
Beyond ART's cases, ours is compared with ART's output on random data.
"""

import importlib
import importlib.util
import sys
import types
import warnings

import numpy as np
import pytest

try:
    import art
    from art.defences import postprocessor as art_post
    from art.defences import preprocessor as art_pre
    from art.estimators.certification.randomized_smoothing import NumpyRandomizedSmoothing
except ImportError:
    art = None

NO_ART = "ART is not installed (pip install '.[test]' or '.[art]')"
# The scores of ART's test classifiers on MNIST's first test image, the input of ART's
# post-processor tests (10 classes; the binary model's P(positive)).
PREDS = np.array(
    [
        [
            0.12109935,
            0.0498215,
            0.0993958,
            0.06410096,
            0.11366928,
            0.04645343,
            0.06419807,
            0.30685693,
            0.07616714,
            0.05823757,
        ]
    ],
    np.float32,
)
BINARY = np.array([[0.5301345]], np.float32)


@pytest.fixture
def impl(request):
    """The module of classes under test: ART's own ("art") or mlsec_kernels.art ("ours")."""
    if art is None:
        pytest.skip(NO_ART)
    if request.param == "art":
        names = ("SpatialSmoothing", "FeatureSqueezing", "GaussianAugmentation")
        ns = {n: getattr(art_pre, n) for n in names}
        names = ("ReverseSigmoid", "Rounded", "HighConfidence", "ClassLabels", "GaussianNoise")
        ns.update({n: getattr(art_post, n) for n in names})
        return types.SimpleNamespace(name="art", RandomizedSmoothing=NumpyRandomizedSmoothing, **ns)
    ours = importlib.import_module("mlsec_kernels.art")
    return types.SimpleNamespace(name="ours", **{n: getattr(ours, n) for n in ours.__all__})


def both(*ours_marks):
    """Parametrise ``impl`` over ART's classes and ours (ours with the given marks)."""
    return pytest.mark.parametrize("impl", ["art", pytest.param("ours", marks=ours_marks)], indirect=True)


def cases(params):
    """impl x params: each case on ART's class and on ours."""
    return [(impl, *(p if isinstance(p, tuple) else (p,))) for p in params for impl in ("art", "ours")]


# ---------------------------------------------------------------- the module itself


def test_import_without_art_names_the_extra(monkeypatch):
    for name in list(sys.modules):
        if name.split(".")[0] == "art" or name.startswith("mlsec_kernels.art"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "art", None)  # import art raises ImportError
    with pytest.raises(ImportError, match=r'pip install "mlsec-kernels\[art\]"'):
        importlib.import_module("mlsec_kernels.art")


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_an_older_art_is_refused(monkeypatch):
    for name in list(sys.modules):
        if name.startswith("mlsec_kernels.art"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(art, "__version__", "1.19.2")
    with pytest.raises(ImportError, match=r"needs ART >= 1.20, found 1.19.2"):
        importlib.import_module("mlsec_kernels.art")


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_classes_are_arts():
    ours = importlib.import_module("mlsec_kernels.art")
    for name in ("SpatialSmoothing", "FeatureSqueezing", "GaussianAugmentation"):
        assert issubclass(getattr(ours, name), art_pre.Preprocessor)
        assert getattr(ours, name).params == getattr(art_pre, name).params
    for name in ("ReverseSigmoid", "Rounded", "HighConfidence", "ClassLabels", "GaussianNoise"):
        assert issubclass(getattr(ours, name), art_post.Postprocessor)
        assert getattr(ours, name).params == getattr(art_post, name).params
    assert issubclass(ours.RandomizedSmoothing, NumpyRandomizedSmoothing)


# ---------------------------------------------------------------- SpatialSmoothing


def _image_batch(channels_first, dtype):
    x = np.repeat(np.arange(6).reshape(6, 1), 24, axis=1).reshape((2, 3, 4, 6)).astype(dtype)
    return x if channels_first else np.transpose(x, (0, 2, 3, 1))


def _video_batch(channels_first, dtype):
    x = np.repeat(np.arange(6).reshape(6, 1), 24, axis=1).reshape((1, 3, 2, 4, 6)).astype(dtype)
    return x if channels_first else np.transpose(x, (0, 2, 3, 4, 1))


@pytest.mark.parametrize("impl, dtype", cases([np.int64, np.float32]), indirect=["impl"])
def test_spatial_smoothing_median_filter_call(impl, dtype):
    x = np.array([[[[1, 2], [3, 4]]]], dtype)
    got = impl.SpatialSmoothing(channels_first=True, window_size=2)(x)[0]
    np.testing.assert_array_equal(got, np.array([[[[1, 2], [3, 3]]]]))
    assert got.dtype == dtype


@pytest.mark.parametrize(
    "impl, channels_first, window, dtype",
    cases([(c, w, d) for c in (True, False) for w in (1, 2, 10) for d in (np.int64, np.float32)]),
    indirect=["impl"],
)
def test_spatial_smoothing_image_data(impl, channels_first, window, dtype):
    x = _image_batch(channels_first, dtype)
    np.testing.assert_array_equal(impl.SpatialSmoothing(channels_first=channels_first, window_size=window)(x)[0], x)
    clipped = impl.SpatialSmoothing(channels_first=channels_first, window_size=window, clip_values=(0, 1))(x)[0]
    np.testing.assert_array_equal(clipped, np.clip(x, 0, 1))


@pytest.mark.parametrize(
    "impl, channels_first, dtype",
    cases([(c, d) for c in (True, False) for d in (np.int64, np.float32)]),
    indirect=["impl"],
)
def test_spatial_smoothing_video_data(impl, channels_first, dtype):
    x = _video_batch(channels_first, dtype)
    np.testing.assert_array_equal(impl.SpatialSmoothing(channels_first=channels_first, window_size=2)(x)[0], x)


@both()
def test_spatial_smoothing_errors(impl):
    with pytest.raises(ValueError, match="Unrecognized input dimension. Spatial smoothing can only be applied"):
        impl.SpatialSmoothing(channels_first=True)(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Sliding window size must be a positive integer."):
        impl.SpatialSmoothing(window_size=0)
    with pytest.raises(ValueError, match="'clip_values' should be a tuple of 2 floats or arrays"):
        impl.SpatialSmoothing(clip_values=(0, 1, 2))
    with pytest.raises(ValueError, match="Invalid 'clip_values': min >= max."):
        impl.SpatialSmoothing(clip_values=(1, 0))


@pytest.mark.parametrize("impl, window", cases([1, 2, 3, 5, 10, 15, 16, 19]), indirect=["impl"])
def test_spatial_smoothing_ones(impl, window):
    """ART's earlier test_ones: constant (10, 2) images stay constant, any window."""
    x = np.ones((1, 10, 2, 3))
    assert (impl.SpatialSmoothing(window_size=window)(x)[0] == 1).all()


@both()
def test_spatial_smoothing_fix(impl):
    """ART's earlier test_fix: a 3 x 3 image, windows 3, 1 and 2 (even: the upper median)."""
    x = np.array([[[[0.1], [0.2], [0.3]], [[0.7], [0.8], [0.9]], [[0.4], [0.5], [0.6]]]], np.float32)
    want3 = np.array([[[[0.2], [0.3], [0.3]], [[0.4], [0.5], [0.6]], [[0.5], [0.6], [0.6]]]], np.float32)
    want2 = np.array([[[[0.1], [0.2], [0.3]], [[0.7], [0.7], [0.8]], [[0.7], [0.7], [0.8]]]], np.float32)
    np.testing.assert_array_equal(impl.SpatialSmoothing(window_size=3)(x)[0], want3)
    np.testing.assert_array_equal(impl.SpatialSmoothing(window_size=1)(x)[0], x)
    np.testing.assert_array_equal(impl.SpatialSmoothing(window_size=2)(x)[0], want2)


@pytest.mark.skipif(art is None, reason=NO_ART)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize(
    "shape, channels_first", [((3, 3, 9, 11), True), ((3, 9, 11, 3), False), ((2, 3, 4, 9, 7), True)]
)
@pytest.mark.parametrize("window", [2, 3, 5])
def test_spatial_smoothing_is_arts(rng, dtype, shape, channels_first, window):
    ours = importlib.import_module("mlsec_kernels.art")
    x = (rng.random(shape) * 255).astype(dtype)
    clip = (10, 200)
    for kw in ({}, {"clip_values": clip}):
        want = art_pre.SpatialSmoothing(window_size=window, channels_first=channels_first, **kw)(x)[0]
        got, y = ours.SpatialSmoothing(window_size=window, channels_first=channels_first, **kw)(x, "y")
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype and y == "y"


# ---------------------------------------------------------------- FeatureSqueezing


@pytest.mark.parametrize("impl, depth", cases(list(range(1, 50))), indirect=["impl"])
def test_feature_squeezing_ones(impl, depth):
    x = np.ones((10, 2))
    assert (impl.FeatureSqueezing(clip_values=(0, 1), bit_depth=depth)(x)[0] == 1).all()


@both()
def test_feature_squeezing_random(impl):
    x = np.random.default_rng(1234).random((1000, 20))
    original = x.copy()
    got = impl.FeatureSqueezing(clip_values=(0, 1), bit_depth=1)(x)[0]
    assert (got[x < 0.5] == 0.0).all() and (got[x >= 0.5] == 1.0).all()
    got = impl.FeatureSqueezing(clip_values=(0, 1), bit_depth=2)(x)[0]
    for a, b in [(0.0, 0.33), (0.34, 0.66), (0.67, 1.0)]:
        assert not np.logical_and(a < got, got < b).any()
    np.testing.assert_array_equal(x, original)


@both()
def test_feature_squeezing_data_range(impl):
    x = np.arange(5)
    got = impl.FeatureSqueezing(clip_values=(0, 4), bit_depth=2)(x)[0]
    np.testing.assert_array_equal(x, np.arange(5))
    np.testing.assert_allclose(got, [0, 1.33, 2.67, 2.67, 4], atol=1e-1)
    assert got.dtype == np.float64  # ART's arithmetic promotes integers to float64


@both()
def test_feature_squeezing_check_params(impl):
    with pytest.raises(ValueError, match="The bit depth must be between 1 and 64."):
        impl.FeatureSqueezing(clip_values=(0, 4), bit_depth=-1)
    with pytest.raises(ValueError, match="`clip_values` should be a tuple of 2 floats containing the allowed"):
        impl.FeatureSqueezing(clip_values=(0, 4, 8))
    with pytest.raises(ValueError, match="Invalid `clip_values`: min >= max."):
        impl.FeatureSqueezing(clip_values=(4, 0))


@pytest.mark.skipif(art is None, reason=NO_ART)
@pytest.mark.parametrize("dtype", [np.float64, np.uint8, np.int32])
@pytest.mark.parametrize("clip, depth", [((0, 1), 8), ((0, 1), 3), ((-1.5, 3.0), 5), ((0, 255), 4)])
def test_feature_squeezing_is_arts(rng, dtype, clip, depth):
    """Float64 and integer data: ART's values and dtype exactly (integers compute in float64)."""
    ours = importlib.import_module("mlsec_kernels.art")
    scale = 255 if clip[1] == 255 else 1
    x = (rng.uniform(clip[0], clip[1], (7, 3, 5, 4)) * (1 if dtype == np.float64 else scale)).astype(dtype)
    want = art_pre.FeatureSqueezing(clip_values=clip, bit_depth=depth)(x)[0]
    got = ours.FeatureSqueezing(clip_values=clip, bit_depth=depth)(x)[0]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_feature_squeezing_float32_is_arts_rounded():
    """Float32: ART (NumPy 2) finishes in float64; ours keeps float32, ART's value rounded.
    Inputs at and next to the halves of 255 levels, where float32 arithmetic rounds apart."""
    ours = importlib.import_module("mlsec_kernels.art")
    half = ((np.arange(255) + 0.5) / 255).astype(np.float32)
    x = np.stack([half, np.nextafter(half, np.float32(0)), np.nextafter(half, np.float32(1))])
    want = art_pre.FeatureSqueezing(clip_values=(0, 1))(x)[0].astype(np.float32)
    np.testing.assert_array_equal(ours.FeatureSqueezing(clip_values=(0, 1))(x)[0], want)


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_feature_squeezing_refuses_array_bounds():
    ours = importlib.import_module("mlsec_kernels.art")
    with pytest.raises(ValueError, match="takes `clip_values` as 2 scalars"):
        ours.FeatureSqueezing(clip_values=(np.zeros(3), np.ones(3)))


# ---------------------------------------------------------------- GaussianAugmentation


@both()
def test_gaussian_augmentation_sizes_and_labels(impl):
    np.random.seed(1234)
    x = np.arange(15).reshape((5, 3))
    assert impl.GaussianAugmentation(ratio=0.4, clip_values=(0, 15))(x)[0].shape == (7, 3)
    x = np.arange(12).reshape((4, 3))
    original = x.copy()
    assert impl.GaussianAugmentation()(x)[0].shape[0] == 2 * x.shape[0]
    assert impl.GaussianAugmentation(ratio=3.5)(x)[0].shape[0] == int(4.5 * x.shape[0])
    np.testing.assert_array_equal(x, original)
    y = np.arange(8).reshape((4, 2))
    x_new, y_new = impl.GaussianAugmentation()(x, y)
    assert x_new.shape[0] == y_new.shape[0] == 8
    assert x_new.shape[1:] == x.shape[1:] and y_new.shape[1:] == y.shape[1:]


@both()
def test_gaussian_augmentation_no_augmentation(impl):
    np.random.seed(1234)
    x = np.arange(12).reshape((4, 3))
    x_new, _ = impl.GaussianAugmentation(augmentation=False)(x)
    assert x.shape == x_new.shape
    assert not (x == x_new).all()


@both()
def test_gaussian_augmentation_errors(impl):
    with pytest.raises(ValueError, match="then `apply_fit` must be `True` and `apply_predict` must be `False`."):
        impl.GaussianAugmentation(augmentation=True, apply_fit=False, apply_predict=True)
    with pytest.raises(ValueError, match="then `apply_fit` and `apply_predict` can't be both `False`."):
        impl.GaussianAugmentation(augmentation=True, apply_fit=False, apply_predict=False)
    with pytest.raises(ValueError, match="The augmentation ratio must be positive."):
        impl.GaussianAugmentation(augmentation=True, ratio=-1)
    with pytest.raises(ValueError, match="`clip_values` should be a tuple of 2 floats or arrays"):
        impl.GaussianAugmentation(clip_values=(0, 1, 2))
    with pytest.raises(ValueError, match="Invalid `clip_values`: min >= max."):
        impl.GaussianAugmentation(clip_values=(1, 0))


@both()
@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_gaussian_augmentation_layout_dtype_and_seed(impl, dtype):
    """ART's result layout and dtype: originals first, then noisy float32 copies of drawn
    samples with their labels; np.random.seed (ART's master_seed) makes a call repeatable."""
    x = (np.arange(40 * 6).reshape(40, 6) % 17).astype(dtype)
    y = np.arange(40)
    ga = impl.GaussianAugmentation(sigma=0.01, ratio=0.5)
    np.random.seed(7)
    x_new, y_new = ga(x, y)
    np.random.seed(7)
    again, _ = ga(x, y)
    np.testing.assert_array_equal(x_new, again)
    assert x_new.dtype == np.result_type(dtype, np.float32) and x_new.shape == (60, 6)
    np.testing.assert_array_equal(x_new[:40], x)
    np.testing.assert_array_equal(y_new[:40], y)
    source = x[y_new[40:]].astype(np.float32)  # each noisy copy is close to the sample its label names
    assert np.abs(x_new[40:] - source).max() < 0.1
    assert len(np.unique(y_new[40:])) > 5  # drawn, not the first rows
    noisy, _ = impl.GaussianAugmentation(sigma=0.5, augmentation=False, clip_values=(0, 3))(x)
    assert noisy.dtype == np.float32 and noisy.min() >= 0 and noisy.max() <= 3


@both()
def test_gaussian_augmentation_noise_statistics(impl):
    stats = pytest.importorskip("scipy.stats", reason="SciPy is not installed here")
    np.random.seed(3)
    x = np.zeros((200, 1000), np.float32)
    noisy, _ = impl.GaussianAugmentation(sigma=0.3, augmentation=False)(x)
    z = noisy.reshape(-1) / 0.3
    assert abs(float(z.mean())) < 0.01 and abs(float(z.std()) - 1) < 0.01
    assert stats.kstest(z[:100000], "norm").pvalue > 1e-4


# ---------------------------------------------------------------- post-processors


RS_CASES = [
    (PREDS, 1.0, 0.1, [0.10733664, 0.07743666, 0.09712707, 0.08230411, 0.10377649, 0.0764482, 0.08234023, 0.20600921, 0.08703023, 0.08019119]),
    (PREDS, 0.75, 0.1, [0.1097239, 0.07264659, 0.09752058, 0.07914664, 0.10549247, 0.07124537, 0.07919333, 0.22350204, 0.08514594, 0.07638316]),
    (PREDS, 1.0, 0.5, [0.09699764, 0.10062696, 0.09689676, 0.09873781, 0.0968849, 0.10121989, 0.0987279, 0.11275949, 0.09774373, 0.09940492]),
    (BINARY, 1.0, 0.1, [0.52711743]),
    (BINARY, 0.75, 0.1, [0.5278717]),
    (BINARY, 1.0, 0.5, [0.51505363]),
]  # fmt: skip


@both()
@pytest.mark.parametrize("preds, beta, gamma, want", RS_CASES)
def test_reverse_sigmoid(impl, preds, beta, gamma, want):
    got = impl.ReverseSigmoid(beta=beta, gamma=gamma)(preds=preds)
    np.testing.assert_array_almost_equal(got, np.array([want], np.float32), decimal=4)
    assert got.dtype == np.float32


@both()
def test_reverse_sigmoid_check_params(impl):
    with pytest.raises(ValueError, match="Magnitude parameter must be positive."):
        impl.ReverseSigmoid(beta=-1.0, gamma=0.5)
    with pytest.raises(ValueError, match="Magnitude parameter must be positive."):
        impl.ReverseSigmoid(beta=-1.0, gamma=-0.5)
    with pytest.raises(ValueError, match="Convergence parameter must be positive."):
        impl.ReverseSigmoid(beta=1.0, gamma=0.0)


@both()
@pytest.mark.parametrize(
    "preds, want", [(PREDS, [[0, 0, 0, 0, 0, 0, 0, 1, 0, 0]]), (BINARY, [[1.0]]), (np.array([[0.5]]), [[0.0]])]
)
def test_class_labels(impl, preds, want):
    np.testing.assert_array_equal(impl.ClassLabels()(preds=preds), want)


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_class_labels_one_label_per_row():
    """ART 1.20 marks every row's argmax column in every row; ours marks each row's own."""
    ours = importlib.import_module("mlsec_kernels.art")
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]], np.float32)
    np.testing.assert_array_equal(art_post.ClassLabels()(p), [[1, 0, 1], [1, 0, 1]])
    np.testing.assert_array_equal(ours.ClassLabels()(p), [[1, 0, 0], [0, 0, 1]])


@both()
@pytest.mark.parametrize(
    "preds, cutoff, want",
    [
        (PREDS, 0.1, [0.12109935, 0, 0, 0, 0.11366928, 0, 0, 0.30685693, 0, 0]),
        (PREDS, 0.2, [0, 0, 0, 0, 0, 0, 0, 0.30685693, 0, 0]),
        (BINARY, 0.5, [0.5301345]),
        (BINARY, 0.6, [0.0]),
    ],
)
def test_high_confidence(impl, preds, cutoff, want):
    np.testing.assert_array_almost_equal(impl.HighConfidence(cutoff=cutoff)(preds=preds), [want], decimal=4)


@both()
def test_high_confidence_check_params(impl):
    with pytest.raises(ValueError, match="Minimal value must be positive."):
        impl.HighConfidence(cutoff=-0.6)


@both()
@pytest.mark.parametrize(
    "decimals, want",
    [
        (2, [0.12, 0.05, 0.1, 0.06, 0.11, 0.05, 0.06, 0.31, 0.08, 0.06]),
        (3, [0.121, 0.05, 0.099, 0.064, 0.114, 0.046, 0.064, 0.307, 0.076, 0.058]),
    ],
)
def test_rounded(impl, decimals, want):
    np.testing.assert_array_equal(impl.Rounded(decimals=decimals)(preds=PREDS), np.array([want], np.float32))


@both()
def test_rounded_check_params(impl):
    with pytest.raises(ValueError, match="Number of decimal places must be a positive integer."):
        impl.Rounded(decimals=-3)


@pytest.mark.skipif(art is None, reason=NO_ART)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_deterministic_postprocessors_are_arts(rng, dtype):
    ours = importlib.import_module("mlsec_kernels.art")
    p = rng.dirichlet(np.full(10, 0.3), size=64).astype(dtype)
    binary = rng.random((64, 1)).astype(dtype)
    for x in (p, binary):
        for make in (
            lambda m: m.ReverseSigmoid(beta=0.8, gamma=0.3),
            lambda m: m.Rounded(decimals=2),
            lambda m: m.HighConfidence(cutoff=0.1),
        ):
            got, want = make(ours)(x), make(art_post)(x)
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=0, atol=3e-7 if dtype == np.float32 else 1e-15)
    for x in (p[:1], p[1:2], binary):  # ClassLabels: one row at a time, and the binary threshold
        np.testing.assert_array_equal(ours.ClassLabels()(x), art_post.ClassLabels()(x))


@both()
def test_gaussian_noise_params(impl):
    with pytest.raises(ValueError, match="Standard deviation must be positive."):
        impl.GaussianNoise(scale=-0.1)
    gn = impl.GaussianNoise(scale=0.1)
    gn.set_params(scale=0.2)
    assert gn.scale == 0.2
    assert gn.is_fitted and not gn._apply_fit and gn._apply_predict
    gn.fit(preds=np.array([0.1, 0.2, 0.3]))


@both()
def test_gaussian_noise_seeded_and_shaped(impl):
    """ART's test cases' outputs come from NumPy's global stream (ours: Philox), so their
    numbers are not ported; their rules are: under master_seed a call repeats, a
    probability batch stays probabilities, and a binary score stays >= 0."""
    gn = impl.GaussianNoise(scale=0.1)
    np.random.seed(1234)
    a = gn(preds=PREDS)
    np.random.seed(1234)
    np.testing.assert_array_equal(gn(preds=PREDS), a)
    assert not np.array_equal(gn(preds=PREDS), a)
    assert a.min() >= 0
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-5)
    logits = np.array([[2.0, -1.0, 0.5], [0.3, 0.3, 0.4]], np.float32)  # one logit row: no renormalisation at all
    np.random.seed(5)
    noisy = gn(preds=logits)
    assert noisy[0, 1] < 0 and abs(noisy[1].sum() - 1) > 1e-6
    b = np.concatenate([BINARY, [[0.02], [0.98]]]).astype(np.float32)
    for _ in range(20):
        assert gn(preds=b).min() >= 0


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_gaussian_noise_binary_clips_at_one():
    """The one rule we change: ART lets P(positive) + noise above 1 through; ours clips."""
    ours = importlib.import_module("mlsec_kernels.art")
    b = np.full((2000, 1), 0.98, np.float32)
    np.random.seed(0)
    assert art_post.GaussianNoise(scale=0.1)(b).max() > 1
    got = ours.GaussianNoise(scale=0.1)(b)
    assert got.max() == 1 and got.min() >= 0 and (got < 0.98).any()


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_gaussian_noise_renormalises_as_art_decides():
    """ART renormalises only when every row of the batch is a probability vector."""
    ours = importlib.import_module("mlsec_kernels.art")
    p = np.random.default_rng(1).dirichlet(np.ones(5), size=50).astype(np.float32)
    np.random.seed(2)
    np.testing.assert_allclose(ours.GaussianNoise(scale=0.05)(p).sum(axis=1), 1.0, rtol=1e-5)
    p[7] = [0.5, 0.5, 0.5, -0.2, 0.1]  # one row that is not: no row is renormalised
    got = ours.GaussianNoise(scale=0.05)(p)
    assert got.min() < 0 and not np.allclose(got.sum(axis=1), 1.0, rtol=1e-4)


# ---------------------------------------------------------------- RandomizedSmoothing


@pytest.fixture(scope="module")
def digits():
    """Digits (8 x 8, 10 classes, from scikit-learn) scaled to [0, 1], a fitted logistic
    regression, and ten test samples it classifies with confidence."""
    sk = pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed here")
    from sklearn.linear_model import LogisticRegression

    x, y = sk.load_digits(return_X_y=True)
    x = (x / 16).astype(np.float32)
    model = LogisticRegression(max_iter=500).fit(x[:1500], y[:1500])
    confident = np.flatnonzero(model.predict_proba(x[1500:]).max(axis=1) > 0.99)[:10] + 1500
    return x, y, model, x[confident], np.eye(10)[y[confident]]


def _blackbox(model):
    """A neural-network ART classifier (ART's NumpyRandomizedSmoothing takes no other)."""
    from art.estimators.classification import BlackBoxClassifierNeuralNetwork

    return BlackBoxClassifierNeuralNetwork(
        lambda b: model.predict_proba(b.reshape(len(b), -1)), (64,), 10, clip_values=(0, 1)
    )


@both()
def test_randomized_smoothing_predict(impl, digits):
    _, _, model, x, _ = digits
    classifier = _blackbox(model)
    rs = impl.RandomizedSmoothing(classifier=classifier, sample_size=100, scale=0.01, alpha=0.001)
    np.random.seed(1234)
    base, smooth = classifier.predict(x), rs.predict(x=x)
    assert smooth.shape == base.shape
    np.testing.assert_array_almost_equal(smooth.sum(axis=1), np.ones(len(x)))
    np.testing.assert_array_equal(smooth.argmax(axis=1), base.argmax(axis=1))
    np.testing.assert_array_equal(rs.predict(x=x, is_abstain=False), smooth)
    with pytest.raises(ValueError, match="The argument is_abstain needs to be of type bool."):
        rs.predict(x=x, is_abstain=1)


@both()
def test_randomized_smoothing_abstains_on_a_boundary(impl):
    """Inputs on a decision boundary split the votes: predict withholds (zero rows) unless
    is_abstain=False, and certify abstains (-1, radius 0)."""
    from art.estimators.classification import BlackBoxClassifierNeuralNetwork

    def side(b):
        up = b.reshape(len(b), -1)[:, 0] > 0.5
        return np.stack([~up, up], axis=1).astype(np.float32)

    classifier = BlackBoxClassifierNeuralNetwork(side, (4,), 2)
    rs = impl.RandomizedSmoothing(classifier=classifier, sample_size=200, scale=0.1, alpha=0.001)
    x = np.full((3, 4), 0.5, np.float32)
    np.random.seed(1)
    np.testing.assert_array_equal(rs.predict(x=x), np.zeros((3, 2)))
    np.testing.assert_array_equal(rs.predict(x=x, is_abstain=False).sum(axis=1), 1)
    if impl.name == "ours" or importlib.util.find_spec("statsmodels"):  # ART's certify needs statsmodels
        pred, radius = rs.certify(x=x, n=200)
        np.testing.assert_array_equal(pred, -1)
        np.testing.assert_array_equal(radius, 0.0)


@both()
def test_randomized_smoothing_certify(impl, digits):
    stats = pytest.importorskip("scipy.stats", reason="SciPy is not installed here")
    if impl.name == "art":
        pytest.importorskip("statsmodels", reason="ART's certify needs statsmodels, not installed here")
    _, _, model, x, y = digits
    rs = impl.RandomizedSmoothing(classifier=_blackbox(model), sample_size=100, scale=0.01, alpha=0.001)
    np.random.seed(1234)
    pred, radius = rs.certify(x=x, n=250)
    assert pred.shape == radius.shape
    np.testing.assert_array_less(radius, 1)
    np.testing.assert_array_less(pred, y.shape[1])
    # Every vote for the true class (noise 0.01 on confident samples): the radius is
    # scale * Phi^-1 of the Clopper-Pearson bound alpha ** (1 / n).
    np.testing.assert_array_equal(pred, y.argmax(axis=1))
    np.testing.assert_allclose(radius, 0.01 * stats.norm.ppf(0.001 ** (1 / 250)), rtol=1e-9)


@pytest.fixture(scope="module")
def torch_classifier(digits):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    from art.estimators.classification import PyTorchClassifier

    x, y, _, _, _ = digits
    torch.manual_seed(0)
    net = torch.nn.Linear(64, 10)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    clf = PyTorchClassifier(net, torch.nn.CrossEntropyLoss(), (64,), 10, optimizer=opt, clip_values=(0, 1))
    clf.fit(x[:1500], np.eye(10)[y[:1500]], batch_size=256, nb_epochs=20, verbose=False)
    return clf


@both()
def test_randomized_smoothing_fit_gradients_fgsm(impl, digits, torch_classifier):
    from art.attacks.evasion import FastGradientMethod
    from art.utils import random_targets

    x, y, _, x_test, y_test = digits
    rs = impl.RandomizedSmoothing(classifier=torch_classifier, sample_size=100, scale=0.01, alpha=0.001)
    np.random.seed(1234)
    assert rs.loss_gradient(x=x_test, y=y_test, sampling=True).shape == x_test.shape
    targets = random_targets(y_test, 10)
    adv = FastGradientMethod(estimator=torch_classifier, targeted=True).generate(x_test, y=targets)
    adv_rs = FastGradientMethod(estimator=rs, targeted=True).generate(x_test, y=targets)
    assert adv.shape == adv_rs.shape
    np.testing.assert_array_less(np.abs(adv - adv_rs), 0.75)
    rs.fit(x=x_test, y=y_test)


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_randomized_smoothing_takes_scikit_learn(digits):
    """Any ART classifier: a scikit-learn one, which ART's own constructor refuses."""
    from art.estimators.classification import SklearnClassifier
    from sklearn.linear_model import LogisticRegression

    ours = importlib.import_module("mlsec_kernels.art")
    x, y, model, x_test, y_test = digits
    classifier = SklearnClassifier(model=model, clip_values=(0, 1))
    with pytest.raises(AttributeError, match="channels_first"):
        NumpyRandomizedSmoothing(classifier, sample_size=100)
    rs = ours.RandomizedSmoothing(classifier, sample_size=100, scale=0.01)
    np.random.seed(0)
    np.testing.assert_array_equal(rs.predict(x_test), y_test)
    pred, radius = rs.certify(x_test, n=250)
    np.testing.assert_array_equal(pred, y_test.argmax(axis=1))
    assert (radius > 0).all()
    fresh = SklearnClassifier(model=LogisticRegression(max_iter=300), clip_values=(0, 1))
    fresh.fit(x[:200], np.eye(10)[y[:200]])
    rs = ours.RandomizedSmoothing(fresh, sample_size=50, scale=0.05)
    before = fresh.model.coef_.copy()
    rs.fit(x[:300], np.eye(10)[y[:300]], nb_epochs=1)  # trained on noisy copies, through our noise
    assert not np.array_equal(before, fresh.model.coef_)


@pytest.mark.skipif(art is None, reason=NO_ART)
def test_randomized_smoothing_warns_about_preprocessing(digits):
    ours = importlib.import_module("mlsec_kernels.art")
    from art.estimators.classification import BlackBoxClassifierNeuralNetwork

    model = digits[2]
    clf = BlackBoxClassifierNeuralNetwork(
        lambda b: model.predict_proba(b), (64,), 10, preprocessing_defences=[ours.FeatureSqueezing((0, 1), 4)]
    )
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ours.RandomizedSmoothing(clf, sample_size=10)
    assert any("preprocessing defences" in str(m.message) for m in w)
