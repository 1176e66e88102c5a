"""The README's tour runs as written (at a smaller image size), so it stays true."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_tour_runs():
    text = README.read_text()
    code = re.search(r"## A short tour\n\n```python\n(.*?)```", text, re.S).group(1)
    code = code.replace("(64, 3, 224, 224)", "(4, 3, 64, 64)").replace("248", "72")
    ns = {}
    exec(compile(code, str(README), "exec"), ns)
    x0, x = ns["x0"], ns["x"]
    assert x.dtype == x0.dtype and abs(x - x0).max() <= 8 / 255 + 1e-6
    assert ns["xr"].shape == (4, 3, 72, 72) and ns["q"].shape == (1, 1000)
