"""The ``mlsec-kernels`` command: ``bench``, ``demo`` and ``backends`` (``__main__``), and
what they need that the library does not: the benchmark suite and its peers, the demo, its
model and its report. Nothing in the library imports from here."""
