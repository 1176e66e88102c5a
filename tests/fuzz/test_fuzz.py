"""The fuzz suite: every public op, every bad-input class, on every host backend.

Each example is one case of strategies.py run on the fast C++ path, the C++ general path
and Numba, judged by oracle.py against valid.py's table and the float64 references. The
number of examples comes from the hypothesis profile ("ci", the default: a quick pass in
the normal test run; "long": ``pytest -m fuzz --hypothesis-profile long``). For millions
of cases, with crashes and hangs caught in worker processes: ``python -m tests.fuzz.run``.
"""

import faulthandler
import sys
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from . import oracle
from .ops import OPS
from .strategies import cases

HANG_S = 120  # a case this slow is hung: dump every thread's stack and stop the run


@pytest.mark.fuzz
@pytest.mark.parametrize("op", sorted(OPS))
@given(data=st.data())
def test_fuzz(op, data):
    case = data.draw(cases(op), label="case")
    # the real stderr: under --capture=sys (benchmarks/sanitize.sh) sys.stderr has no fileno
    faulthandler.dump_traceback_later(HANG_S, exit=True, file=sys.__stderr__)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy's warnings on NaN data and odd casts
            findings = oracle.check(case)
    finally:
        faulthandler.cancel_dump_traceback_later()
    bad = oracle.failures(findings)
    assert not bad, "\n".join(f"{k}: {d}" for k, d, _ in bad) + "\n\n" + case.text()
