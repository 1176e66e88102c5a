"""The demo end to end in its reduced mode: every section present, numbers in range."""

import json

import pytest

pytest.importorskip("sklearn", reason="scikit-learn is not installed here")

from mlsec_kernels.__main__ import main
from mlsec_kernels.cli import demo

from .helpers import run_without_torch


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
    for name in ("smoothing", "extraction", "adaptive"):  # either measured or saying why not
        assert rep[name].get("available", True) is True or rep[name]["reason"]
    if rep["adaptive"].get("available", True):
        _check_adaptive(rep["adaptive"])
    assert set(rep["runtime"]["seconds"]) >= {"train", *demo.SECTIONS}
    out = capsys.readouterr().out
    assert "1. Attacks" in out and "6. Runtime" in out and "5. Adaptive evaluation" in out


def test_demo_plot_message_or_file(tmp_path, capsys):
    path = tmp_path / "demo.png"
    status = main(["demo", "--quick", "--plot", str(path)])
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert status == 1 and "matplotlib" in capsys.readouterr().err
    else:
        assert status == 0 and path.stat().st_size > 0


def _check_adaptive(r):
    """Attacking the defended model beats attacking the undefended one and hoping it
    transfers, by a wide margin where the defence's gradient differs from the identity's
    (the median filter and resize-and-pad, attacked through their exact gradients). Both
    example sets are classified by the same defended model with the same random draws, so
    the comparison is exact (no tolerance). Where a defence barely changes its input the
    BPDA gradient is nearly the undefended one and the two attacks tie to within an image
    or two either way (measured over seeds 0-3), so there only the per-image worst case is
    checked, against the rows' own numbers."""
    assert 0.8 < r["clean_accuracy"] <= 1.0 and r["undefended_pgd"] < r["clean_accuracy"]
    assert len(r["defences"]) >= 5
    for name, d in r["defences"].items():
        assert 0 <= d["adaptive"] <= min(d["plain"], d["bpda_eot"]), name
        # inclusion-exclusion: survivors of both >= survivors of one + of the other - all
        assert d["adaptive"] >= d["plain"] + d["bpda_eot"] - 1 - 1e-9, name
        assert d["adaptive"] < d["clean"], name
    for name in ("median filter 2x2", "random resize-pad 8-9"):
        d = r["defences"][name]
        assert d["bpda_eot"] < d["plain"] - 0.05, name


def test_demo_adaptive_says_it_needs_torch():
    """Without PyTorch the section reports why it did not run (before touching any data)."""
    out = run_without_torch(
        "from mlsec_kernels.cli import demo, _demo_adaptive, _demo_defences as D\n"
        "try:\n    _demo_adaptive.section_adaptive(None, None, True, 0, None)\n"
        "except D.Missing as e:\n    print(demo._missing(*e.args)['reason'])\n"
    )
    assert out.returncode == 0, out.stderr
    assert "mlsec_kernels.torch is not in this installation" in out.stdout and "PyTorch" in out.stdout
