"""Output defences against model extraction: post-processors for the scores an API returns,
a fused Guard for inference servers, DAWN watermarking and the PRADA extraction monitor.

The post-processors take p of shape (N, C) (probabilities or logits), float32 or float64,
on the host or on a device, and return the caller's array type and dtype; ``out=`` may
alias p. Each is a one-step program of the kernel that runs a Guard: the row is read
once and every step rewrites it in place in the data's dtype, so ``Guard(steps)(p)`` is
bit for bit the steps applied one by one. Float32 results are the same bits on every
backend; float64 ``reverse_sigmoid`` uses the platform's exp and log and agrees across
backends to a tolerance (a few ulp) only.

Randomness (``gaussian_noise``, ``GaussianNoise``) comes from the project's Philox stream
(docs/design.md): stream element ``r*C + j`` of the call's substream for entry (r, j).
Seeds follow :mod:`mlsec_kernels.rng`: an int (substream 0), a :class:`~mlsec_kernels.rng.Generator`
(its next substream) or None: unpredictable (noise an attacker can predict is no
defence), drawn from a per-process secret seed from the OS's CSPRNG with a fresh
substream per call (redrawn in forked workers), which saves a system call per request.
"""

from ._monitor import ExtractionMonitor, shapiro_wilk
from ._postprocess import (
    ClassLabels,
    GaussianNoise,
    Guard,
    HighConfidence,
    ReverseSigmoid,
    Round,
    TopK,
    class_labels,
    gaussian_noise,
    high_confidence,
    reverse_sigmoid,
    round,
    top_k,
)
from ._watermark import Watermark

__all__ = [
    "reverse_sigmoid",
    "gaussian_noise",
    "round",
    "high_confidence",
    "top_k",
    "class_labels",
    "Guard",
    "ReverseSigmoid",
    "GaussianNoise",
    "Round",
    "HighConfidence",
    "TopK",
    "ClassLabels",
    "Watermark",
    "ExtractionMonitor",
    "shapiro_wilk",
]
