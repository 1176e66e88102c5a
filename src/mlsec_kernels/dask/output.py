"""The output post-processors on dask arrays: :mod:`mlsec_kernels.output`'s names."""

from ._output import class_labels, gaussian_noise, high_confidence, reverse_sigmoid, round, top_k  # noqa: A004

__all__ = ["reverse_sigmoid", "gaussian_noise", "round", "high_confidence", "top_k", "class_labels"]
