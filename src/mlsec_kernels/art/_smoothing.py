"""ART's randomized-smoothing estimator, certifying with :mod:`mlsec_kernels.smoothing`."""

from __future__ import annotations

import warnings

import numpy as np
from art.config import ART_NUMPY_DTYPE
from art.estimators.certification.randomized_smoothing import NumpyRandomizedSmoothing
from art.estimators.estimator import NeuralNetworkMixin

from .. import smoothing, transforms
from .._stats import clopper_pearson_lower
from ._common import _FLOATS, global_seed
from ._preprocessors import GaussianAugmentation


class RandomizedSmoothing(NumpyRandomizedSmoothing):
    """Randomized smoothing (Cohen, Rosenfeld & Kolter, "Certified adversarial robustness
    via randomized smoothing", ICML 2019) around any ART classifier, as ART's
    ``NumpyRandomizedSmoothing(classifier, sample_size, scale=0.1, alpha=0.001)``.

    ``predict`` and ``certify`` are :func:`mlsec_kernels.smoothing.predict` and
    :func:`~mlsec_kernels.smoothing.certify`: the smoothed class is the top class of
    ``sample_size`` votes of the classifier on ``x + scale * z``, withheld (a zero row) when
    a two-sided binomial test of the top two counts gives a p-value above ``alpha``;
    ``certify(x, n)`` selects with ``sample_size`` votes, estimates with ``n``, and returns
    (class or -1, radius ``scale * Phi^-1(p_A)``) with p_A the one-sided (1 - alpha)
    Clopper-Pearson bound, without statsmodels. Noisy copies are made a batch at a time
    (``batch_size``) in one reusable buffer, not all n at once.

    Any ART classifier: neural-network ones (Keras, PyTorch, TensorFlow, black box) as in
    ART, and scikit-learn ones too (which ART's constructor refuses for want of a
    ``channels_first``). Draws are the Philox stream's, seeded per call from NumPy's global
    RandomState (see docs/art.md).
    """

    def __init__(self, classifier, sample_size: int, scale: float = 0.1, alpha: float = 0.001):
        if classifier.preprocessing_defences is not None:
            warnings.warn(
                "\n The classifier's preprocessing defences run after the smoothing noise is added "
                "(as in ART's NumpyRandomizedSmoothing). Please ensure this conforms to your use case.\n"
            )
        # NumpyRandomizedSmoothing's constructor reads classifier.channels_first, which only
        # neural-network classifiers have; its bases take the same arguments without it.
        super(NumpyRandomizedSmoothing, self).__init__(
            model=classifier.model,
            channels_first=getattr(classifier, "channels_first", False),
            clip_values=classifier.clip_values,
            preprocessing_defences=classifier.preprocessing_defences,
            postprocessing_defences=classifier.postprocessing_defences,
            preprocessing=classifier.preprocessing,
            sample_size=sample_size,
            scale=scale,
            alpha=alpha,
        )
        self._input_shape = classifier.input_shape
        self.nb_classes = classifier.nb_classes
        self.classifier = classifier

    def _votes_of(self, batch_size):
        return lambda b: self._predict_classifier(b, batch_size=batch_size, training_mode=False)

    @staticmethod
    def _inputs(x):
        x = np.asarray(x)
        return x if x.dtype in _FLOATS else x.astype(ART_NUMPY_DTYPE)

    def predict(self, x: np.ndarray, batch_size: int = 128, verbose: bool = False, **kwargs) -> np.ndarray:
        """One-hot smoothed classes (N, nb_classes); a withheld prediction is a zero row,
        unless ``is_abstain=False``, which returns the top class of the votes always."""
        is_abstain = kwargs.get("is_abstain")
        if is_abstain is not None and not isinstance(is_abstain, bool):
            raise ValueError("The argument is_abstain needs to be of type bool.")
        x = self._inputs(x)
        if is_abstain is False:
            labels = np.array([np.argmax(self._prediction_counts(xi, batch_size=batch_size)) for xi in x], np.int64)
        else:
            labels = smoothing.predict(
                self._votes_of(batch_size),
                x,
                self.scale,
                self.sample_size,
                alpha=self.alpha,
                batch_size=batch_size,
                seed=global_seed(),
                progress=bool(verbose),
            )
        out = np.zeros((len(x), self.nb_classes))
        kept = labels >= 0
        out[np.flatnonzero(kept), labels[kept]] = 1.0
        return out

    def certify(self, x: np.ndarray, n: int, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """(classes, radii): per input the certified class (-1: abstain) and L2 radius."""
        return smoothing.certify(
            self._votes_of(batch_size),
            self._inputs(x),
            self.scale,
            self.sample_size,
            n,
            alpha=self.alpha,
            batch_size=batch_size,
            seed=global_seed(),
            progress=False,
        )

    def _noisy_samples(self, x: np.ndarray, n: int | None = None) -> np.ndarray:
        n = self.sample_size if n is None else n
        copies = np.repeat(self._inputs(x)[None], n, axis=0)
        return transforms.gaussian_noise(copies, self.scale, seed=global_seed(), out=copies)

    def _lower_confidence_bound(self, n_class_samples: int, n_total_samples: int) -> float:
        return clopper_pearson_lower(int(n_class_samples), int(n_total_samples), self.alpha)

    def _fit_classifier(self, x: np.ndarray, y: np.ndarray, batch_size: int, nb_epochs: int, **kwargs) -> None:
        noise = GaussianAugmentation(sigma=self.scale, augmentation=False)
        # Only neural-network classifiers take batch_size and nb_epochs (scikit-learn's fit does not).
        nn = dict(batch_size=batch_size, nb_epochs=1) if isinstance(self.classifier, NeuralNetworkMixin) else {}
        for _ in range(nb_epochs):
            x_rs, _ = noise(x)
            self.classifier.fit(x_rs.astype(ART_NUMPY_DTYPE), y, **nn, **kwargs)
