"""The demo end to end in its reduced mode: every section present, numbers in range."""

import json

import pytest

pytest.importorskip("sklearn", reason="scikit-learn is not installed here")

from mlsec_kernels.__main__ import main
from mlsec_kernels.cli import demo


def test_demo_quick_json(tmp_path, capsys):
    path = tmp_path / "demo.json"
    assert main(["demo", "--quick", "--json", str(path)]) == 0
    rep = json.loads(path.read_text())
    for name in (*demo.SECTIONS, "runtime"):
        assert name in rep
    a = rep["attacks"]
    assert 0.8 < a["clean_accuracy"] <= 1.0
    for key, eps in (("fgsm", demo.EPS_INF), ("pgd_inf", demo.EPS_INF), ("pgd_l2", demo.EPS_L2)):
        accs = [a[key][str(e)] for e in eps]
        assert accs == sorted(accs, reverse=True) and all(0 <= v <= a["clean_accuracy"] for v in accs)
    for e in demo.EPS_INF:
        assert a["pgd_inf"][str(e)] <= a["fgsm"][str(e)]
    assert 0 <= a["square"]["success_rate"] <= 1
    for d in rep["squeeze"]["detectors"].values():
        assert 0 <= d["detection_rate"] <= 1
    for name in ("smoothing", "extraction"):  # either measured or saying why not
        assert rep[name].get("available", True) is True or rep[name]["reason"]
    assert set(rep["runtime"]["seconds"]) >= {"train", *demo.SECTIONS}
    out = capsys.readouterr().out
    assert "1. Attacks" in out and "5. Runtime" in out


def test_demo_plot_message_or_file(tmp_path, capsys):
    path = tmp_path / "demo.png"
    status = main(["demo", "--quick", "--plot", str(path)])
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert status == 1 and "matplotlib" in capsys.readouterr().err
    else:
        assert status == 0 and path.stat().st_size > 0
