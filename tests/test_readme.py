"""The README's tour runs as written (at a smaller image size), so it stays true."""

import pathlib
import re

import numpy as np
from scipy import ndimage

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_tour_runs():
    text = README.read_text()
    code = re.search(r"## A short tour\n\n```python\n(.*?)```", text, re.S).group(1)
    for big, small in [("(64, 3, 224, 224)", "(4, 3, 64, 64)"), ("248", "72")]:
        assert code.count(big) == 1, f"the tour no longer says {big}: update this test"
        code = code.replace(big, small)
    ns = {}
    exec(compile(code, str(README), "exec"), ns)
    x0, x = ns["x0"], ns["x"]
    assert x.dtype == x0.dtype and abs(x - x0).max() <= 8 / 255 + 1e-6
    assert ns["xr"].shape == (4, 3, 72, 72) and ns["q"].shape == (1, 1000)
    # what the tour's comments claim
    assert ns["x_fgsm"].dtype == np.float32
    assert np.abs(ns["d"]).reshape(4, -1).sum(1).max() <= 10.0 * (1 + 1e-5)
    np.testing.assert_array_equal(ns["xm"], ndimage.median_filter(x0, size=(1, 1, 3, 3), mode="reflect"))
    assert ns["xn"].min() >= 0 and ns["xn"].max() <= 1
