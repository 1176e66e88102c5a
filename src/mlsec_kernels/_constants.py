"""The constants the kernels define in C++ and Python needs too (median_filter's window
limit, the output steps' codes, the small-call threshold).

They come from the C++ extension's ``constants`` dict (python/constants.hpp) where it is
built, so that C++ is their one source; the copies below serve only installs without the
extension, and tests/test_constants.py checks them against it. Numba compiles the values
into its kernels (and caches them on disk), so a changed constant wants the cache cleared.
"""

_COPIES = {
    "MAX_WINDOW_PIXELS": 1 << 20,  # cpp/median_filter.hpp kMaxWindowPixels
    "PARALLEL_MIN": 1 << 16,  # cpp/common.hpp kParallelMin
    "MAX_STEPS": 8,  # cpp/output.hpp kMaxSteps
    "NORM_INF": 0,  # cpp/common.hpp Norm
    "NORM_L1": 1,
    "NORM_L2": 2,
    "PROJECTION_EXACT": 0,  # cpp/project.hpp Projection
    "PROJECTION_BALL_THEN_CLIP": 1,
    # cpp/output.hpp StepKind and Renorm: the codes of the Python layer's encoded steps
    "REVERSE_SIGMOID": 0,
    "GAUSSIAN_NOISE": 1,
    "ROUND": 2,
    "HIGH_CONFIDENCE": 3,
    "TOP_K": 4,
    "CLASS_LABELS": 5,
    "RENORM_NEVER": 0,
    "RENORM_ALWAYS": 1,
    "RENORM_AUTO": 2,
}

try:
    from ._cpu_default import constants as _built  # the baseline tier: loads on any CPU
except ImportError:  # not built, or built before it exported them
    _built = None

FROM_EXTENSION = _built is not None
VALUES = dict(_built if FROM_EXTENSION else _COPIES)

# Each as a module attribute (MAX_WINDOW_PIXELS, PARALLEL_MIN, ...), named as in _COPIES.
globals().update(VALUES)
__all__ = sorted(VALUES)
