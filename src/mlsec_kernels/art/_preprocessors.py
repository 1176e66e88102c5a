"""ART's input preprocessors on mlsec_kernels' squeezers and noise kernel.

Each is an ``art.defences.preprocessor.Preprocessor`` with ART 1.20's constructor,
``params`` and messages, and ``__call__(x, y=None) -> (x', y)``.
"""

from __future__ import annotations

import numpy as np
from art.config import ART_NUMPY_DTYPE
from art.defences.preprocessor import Preprocessor

from .. import rng, squeeze, transforms
from ._common import _FLOATS, check_clip_values, global_seed, scalar_clip


class SpatialSmoothing(Preprocessor):
    """Median smoothing over a ``window_size`` x ``window_size`` window per channel and
    frame (Xu, Evans & Qi, "Feature Squeezing", NDSS 2018; ART's SpatialSmoothing), edges
    reflected, even windows anchored as SciPy anchors them: bit for bit
    ``scipy.ndimage.median_filter``, as ART computes it. Images (N, H, W, C) or, with
    ``channels_first``, (N, C, H, W); videos (N, F, H, W, C) or (N, C, F, H, W). The
    result keeps x's dtype and is clipped to ``clip_values`` when given.
    See :func:`mlsec_kernels.median_filter`.
    """

    params = ["window_size", "channels_first", "clip_values"]

    def __init__(
        self,
        window_size: int = 3,
        channels_first: bool = False,
        clip_values=None,
        apply_fit: bool = False,
        apply_predict: bool = True,
    ):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.channels_first = channels_first
        self.window_size = window_size
        self.clip_values = clip_values
        self._check_params()

    def __call__(self, x: np.ndarray, y=None):
        if x.ndim not in (4, 5):
            raise ValueError(
                "Unrecognized input dimension. Spatial smoothing can only be applied to image and video data."
            )
        # The window covers the last two axes (channels first) or the two before the
        # channels: in 5-D, frames and channels are both per-plane axes, in either order.
        layout = "NCHW" if self.channels_first else "NHWC"
        result = squeeze.median_filter(x, self.window_size, layout=layout)
        if self.clip_values is not None:
            np.clip(result, self.clip_values[0], self.clip_values[1], out=result)
        return result, y

    def _check_params(self) -> None:
        if not (isinstance(self.window_size, int) and self.window_size > 0):
            raise ValueError("Sliding window size must be a positive integer.")
        check_clip_values(
            self.clip_values,
            "'clip_values' should be a tuple of 2 floats or arrays containing the allowed data range.",
            "Invalid 'clip_values': min >= max.",
        )


class FeatureSqueezing(Preprocessor):
    """Bit-depth reduction (Xu, Evans & Qi, NDSS 2018; ART's FeatureSqueezing):
    ``lo + (hi-lo) * rint((x-lo)/(hi-lo) * (2**bit_depth - 1)) / (2**bit_depth - 1)`` with
    ``(lo, hi) = clip_values``, rint half to even, values outside not clipped.

    Float32 and float64 keep their dtype; other dtypes (integers, float16) come out as
    float64, as ART's arithmetic promotes them. ``clip_values`` must be two scalars (the
    kernel's range), where ART would also broadcast per-feature arrays.
    See :func:`mlsec_kernels.bit_depth`.
    """

    params = ["clip_values", "bit_depth"]

    def __init__(self, clip_values, bit_depth: int = 8, apply_fit: bool = False, apply_predict: bool = True):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.clip_values = clip_values
        self.bit_depth = bit_depth
        self._check_params()

    def __call__(self, x: np.ndarray, y=None):
        x = np.asarray(x)
        if x.dtype not in _FLOATS:
            x = x.astype(np.float64)
        return squeeze.bit_depth(x, self.bit_depth, clip=scalar_clip(self.clip_values)), y

    def _check_params(self) -> None:
        if not isinstance(self.bit_depth, int) or self.bit_depth <= 0 or self.bit_depth > 64:
            raise ValueError("The bit depth must be between 1 and 64.")
        check_clip_values(
            self.clip_values,
            "`clip_values` should be a tuple of 2 floats containing the allowed data range.",
            "Invalid `clip_values`: min >= max.",
        )
        if scalar_clip(self.clip_values) is None:
            raise ValueError("mlsec_kernels.art.FeatureSqueezing takes `clip_values` as 2 scalars, not arrays.")


class GaussianAugmentation(Preprocessor):
    """Gaussian data augmentation (Zantedeschi, Nicolae & Rawat, "Efficient defenses
    against adversarial attacks", AISec 2017; ART's GaussianAugmentation).

    ``augmentation=True``: the batch followed by ``int(N * ratio)`` noisy copies of samples
    drawn uniformly with replacement (labels follow); otherwise every sample replaced by a
    noisy copy. Noisy samples are ``float32(x) + sigma * z`` (float32, as ART casts them),
    then everything is clipped to ``clip_values`` when given.

    Draws come from the Philox stream, seeded per call from NumPy's global RandomState
    (where ART draws): with augmentation, the sample indices are substream 0 (index
    ``(w * N) >> 32`` of word w) and the noise substream 1; without, the noise substream 0.
    See :func:`mlsec_kernels.gaussian_noise`.
    """

    params = ["sigma", "augmentation", "ratio", "clip_values", "_apply_fit", "_apply_predict"]

    def __init__(
        self,
        sigma: float = 1.0,
        augmentation: bool = True,
        ratio: float = 1.0,
        clip_values=None,
        apply_fit: bool = True,
        apply_predict: bool = False,
    ):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        if augmentation and apply_predict and not apply_fit:
            raise ValueError(
                "If `augmentation` is `True`, then `apply_fit` must be `True` and `apply_predict` must be `False`."
            )
        if augmentation and not (apply_fit or apply_predict):
            raise ValueError("If `augmentation` is `True`, then `apply_fit` and `apply_predict` can't be both `False`.")
        self.sigma = sigma
        self.augmentation = augmentation
        self.ratio = ratio
        self.clip_values = clip_values
        self._check_params()

    def _noisy(self, x, gen, clip):
        return transforms.gaussian_noise(np.asarray(x, dtype=ART_NUMPY_DTYPE), self.sigma, seed=gen, clip=clip)

    def __call__(self, x: np.ndarray, y=None):
        x = np.asarray(x)
        gen = rng.Generator(global_seed())
        clip = scalar_clip(self.clip_values)
        if not self.augmentation:
            x_aug = self._noisy(x, gen, clip)
            if self.clip_values is not None and clip is None:  # per-feature bounds: NumPy's clip
                x_aug = np.clip(x_aug, self.clip_values[0], self.clip_values[1])
            return x_aug, y
        n, size = x.shape[0], int(x.shape[0] * self.ratio)
        words = gen.random_raw(size) if n else np.zeros(0, np.uint32)
        idx = ((words.astype(np.uint64) * np.uint64(n)) >> np.uint64(32)).astype(np.intp)
        x_aug = np.vstack((x, self._noisy(x[idx], gen, None)))
        if self.clip_values is not None:  # the original samples are clipped too, as in ART
            x_aug = np.clip(x_aug, self.clip_values[0], self.clip_values[1])
        return x_aug, (np.concatenate((y, y[idx])) if y is not None else y)

    def _check_params(self) -> None:
        if self.augmentation and self.ratio <= 0:
            raise ValueError("The augmentation ratio must be positive.")
        check_clip_values(
            self.clip_values,
            "`clip_values` should be a tuple of 2 floats or arrays containing the allowed data range.",
            "Invalid `clip_values`: min >= max.",
        )
