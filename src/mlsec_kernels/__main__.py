"""``python -m mlsec_kernels``: the ``mlsec-kernels`` command, :mod:`mlsec_kernels.cli`."""

import sys

from .cli.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
