"""Drop-in replacements for ART's defences (the Adversarial Robustness Toolbox, 1.20),
running on mlsec_kernels' kernels: change the import and keep the code.

``from art.defences.preprocessor import SpatialSmoothing`` becomes
``from mlsec_kernels.art import SpatialSmoothing``. Each class subclasses ART's own base
(``Preprocessor``, ``Postprocessor``; ``NumpyRandomizedSmoothing`` for the smoothing
estimator), so ART's classifiers, attacks and ``set_params`` take it, and it has ART's
constructor arguments, defaults, validation messages and results. Where the results
differ (noise drawn from the Philox stream instead of NumPy's global state, ART's batch bug
in ClassLabels, a binary GaussianNoise clipped at 1) docs/art.md says so and why.

ART is an optional dependency: ``pip install "mlsec-kernels[art]"``.
"""

try:
    import art as _art
    from art.defences.postprocessor import Postprocessor as _Postprocessor  # noqa: F401
    from art.defences.preprocessor import Preprocessor as _Preprocessor  # noqa: F401
except ImportError as e:
    raise ImportError(
        'mlsec_kernels.art needs the Adversarial Robustness Toolbox: pip install "mlsec-kernels[art]"'
    ) from e


def _version(v: str) -> tuple:
    parts = []
    for p in v.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


if _version(getattr(_art, "__version__", "0")) < (1, 20):
    raise ImportError(
        f'mlsec_kernels.art needs ART >= 1.20, found {_art.__version__}: pip install "mlsec-kernels[art]"'
    )

from ._postprocessors import ClassLabels, GaussianNoise, HighConfidence, ReverseSigmoid, Rounded  # noqa: E402
from ._preprocessors import FeatureSqueezing, GaussianAugmentation, SpatialSmoothing  # noqa: E402
from ._smoothing import RandomizedSmoothing  # noqa: E402

__all__ = [
    "SpatialSmoothing",
    "FeatureSqueezing",
    "GaussianAugmentation",
    "ReverseSigmoid",
    "Rounded",
    "HighConfidence",
    "ClassLabels",
    "GaussianNoise",
    "RandomizedSmoothing",
]
