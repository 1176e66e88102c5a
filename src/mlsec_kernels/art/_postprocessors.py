"""ART's output post-processors on the kernels of :mod:`mlsec_kernels.output`.

Each is an ``art.defences.postprocessor.Postprocessor`` with ART 1.20's constructor,
``params`` and messages; ``__call__(preds)`` runs one kernel call (float32 stays float32).
One column is a binary model's P(positive), as in ART.
"""

from __future__ import annotations

import numpy as np
from art.defences.postprocessor import Postprocessor

from .. import output
from ._common import global_seed, scores


class ReverseSigmoid(Postprocessor):
    """Reverse sigmoid perturbation (Lee et al., "Defending against NN model stealing
    attacks using deceptive perturbations", IEEE S&P Workshops 2019; ART's ReverseSigmoid).

    ``q = clip(p - beta*(sigmoid(-gamma*log((1-pc)/pc)) - 1/2), 0, 1)`` with
    ``pc = clip(p, 1e-9, 1-1e-9)``, renormalised per row; one column is computed on the
    two-class row ``[p, 1 - p]`` and returns p's share. See
    :func:`mlsec_kernels.output.reverse_sigmoid`.
    """

    params = ["beta", "gamma"]

    def __init__(self, beta: float = 1.0, gamma: float = 0.1, apply_fit: bool = False, apply_predict: bool = True):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.beta = beta
        self.gamma = gamma
        self._check_params()

    def __call__(self, preds: np.ndarray) -> np.ndarray:
        return output.reverse_sigmoid(scores(preds), beta=self.beta, gamma=self.gamma)

    def _check_params(self) -> None:
        if self.beta <= 0:
            raise ValueError("Magnitude parameter must be positive.")
        if self.gamma <= 0:
            raise ValueError("Convergence parameter must be positive.")


class Rounded(Postprocessor):
    """Scores rounded to ``decimals`` places, half to even: bit for bit ``np.around``
    (ART's Rounded). See :func:`mlsec_kernels.output.round`."""

    params = ["decimals"]

    def __init__(self, decimals: int = 3, apply_fit: bool = False, apply_predict: bool = True):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.decimals = decimals
        self._check_params()

    def __call__(self, preds: np.ndarray) -> np.ndarray:
        return output.round(scores(preds), decimals=self.decimals)

    def _check_params(self) -> None:
        if not isinstance(self.decimals, int) or self.decimals <= 0:
            raise ValueError("Number of decimal places must be a positive integer.")


class HighConfidence(Postprocessor):
    """Scores below ``cutoff`` set to 0 (ART's HighConfidence). See
    :func:`mlsec_kernels.output.high_confidence`."""

    params = ["cutoff"]

    def __init__(self, cutoff: float = 0.25, apply_fit: bool = False, apply_predict: bool = True):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.cutoff = cutoff
        self._check_params()

    def __call__(self, preds: np.ndarray) -> np.ndarray:
        return output.high_confidence(scores(preds), cutoff=self.cutoff)

    def _check_params(self) -> None:
        if self.cutoff <= 0:
            raise ValueError("Minimal value must be positive.")


class ClassLabels(Postprocessor):
    """The one-hot label of each row's argmax; one column: 1 where P(positive) > 1/2.

    Right for batches: ART 1.20's ClassLabels marks, in every row, the argmax column of
    every row of the batch (it indexes ``[:, argmaxes]``); this one marks each row's own.
    See :func:`mlsec_kernels.output.class_labels`.
    """

    def __init__(self, apply_fit: bool = False, apply_predict: bool = True):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)

    def __call__(self, preds: np.ndarray) -> np.ndarray:
        return output.class_labels(scores(preds))


def _all_probability(p: np.ndarray) -> bool:
    """ART's test, for the whole batch: every row sums to 1 within a relative 1e-3
    (math.isclose) and every entry lies in [0, 1]."""
    if p.size == 0:
        return True
    s = p.sum(axis=1).astype(np.float64)  # summed in p's dtype, as ART sums each row
    close = np.abs(s - 1.0) <= 1e-3 * np.maximum(np.abs(s), 1.0)
    return bool(np.all(close) and p.min() >= 0.0 and p.max() <= 1.0)


class GaussianNoise(Postprocessor):
    """Additive Gaussian noise of standard deviation ``scale`` on the scores (ART's
    GaussianNoise): when every row of the batch is a probability vector, negatives are
    zeroed and rows renormalised; one column (P(positive)) is clipped to [0, 1].

    The noise is the Philox stream's (:func:`mlsec_kernels.output.gaussian_noise`), seeded
    per call from NumPy's global RandomState, where ART draws ``np.random.normal``: runs are
    reproducible under ``np.random.seed`` / ART's ``master_seed``, but the numbers are not
    ART's. ART lets a binary score above 1 through; this one clips it (docs/art.md).
    """

    params = ["scale"]

    def __init__(self, scale: float = 0.2, apply_fit: bool = False, apply_predict: bool = True):
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.scale = scale
        self._check_params()

    def __call__(self, preds: np.ndarray) -> np.ndarray:
        p = scores(preds)
        renorm = p.ndim != 2 or p.shape[1] < 2 or _all_probability(p)
        return output.gaussian_noise(p, scale=self.scale, seed=global_seed(), renormalize=renorm)

    def _check_params(self) -> None:
        if self.scale <= 0:
            raise ValueError("Standard deviation must be positive.")
