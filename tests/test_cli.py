"""The ``mlsec-kernels`` command: arguments, the table, the JSON document. Tiny sizes
(the hidden ``--size-scale``) keep it quick; no timing is asserted."""

import json
import math
import subprocess
import sys

import pytest

import mlsec_kernels as mk
from mlsec_kernels.__main__ import main
from mlsec_kernels.cli import bench

TINY = ["--size-scale", "0.02"]  # 1-sample batches


def test_bench_quick_writes_table_and_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--ops", "fgsm", "--peers", "numpy", "--json", str(path), *TINY]) == 0
    printed = capsys.readouterr().out
    for column in ("op", "backend", "median", "GB/s", "x floor", "vs numpy"):
        assert column in printed
    doc = json.loads(path.read_text())
    assert {"machine", "settings", "results", "skipped", "calibration", "notes"} <= doc.keys()
    assert {
        "cpu_model",
        "cpu_count",
        "threads",
        "versions",
        "backends",
        "command",
        "cpu_simd_flags",
        "cpu_capability",
        "cpu_tiers_here",
    } <= doc["machine"].keys()
    assert f"cpu: {doc['machine']['cpu_model']}" in printed and "simd: " in printed
    assert doc["machine"]["versions"]["numpy"]
    assert doc["machine"]["command"].startswith("mlsec-kernels bench --quick")
    assert {r["op"] for r in doc["results"]} == {"fgsm"}
    ran = {r["backend"] for r in doc["results"] if r["kind"] == "mlsec"}
    assert ran == {b for b in ("cpp", "numba") if mk.backends()[b].startswith("ok")}
    for r in doc["results"]:
        assert r["median_ms"] > 0 and r["GBps"] > 0 and r["x_floor"] > 0
        assert r["bytes"] == 3 * 4 * math.prod(r["shape"])  # x and grad read, out written
        if r["kind"] == "mlsec":
            assert set(r["speedup"]) == {"numpy"}
            assert r["max_abs_diff_vs_numpy"] <= 1e-6  # the peer computes the same thing
    assert {c["side"] for c in doc["calibration"]} == {"host"}
    assert any(r["label"] == "latency" and r["shape"] == [1, 1000] for r in doc["results"])


def test_missing_op_is_skipped_with_reason(monkeypatch, capsys):
    monkeypatch.delattr(mk, "fgsm")
    assert main(["bench", "--quick", "--ops", "fgsm", "--peers", "numpy", *TINY]) == 0
    out = capsys.readouterr().out
    assert "mlsec_kernels.fgsm is not in this build" in out


def test_every_case_names_an_op_and_its_arguments():
    for case in bench.cases():
        assert case.op in {
            "fgsm",
            "pgd_step",
            "project",
            "random_start",
            "rng.uniform",
            "rng.normal",
            "bit_depth",
            "median_filter",
            "non_local_means",
            "gaussian_noise",
            "pixel_deflection",
        } | {f"output.{op}" for op, _ in bench.OUTPUT_OPS}
        assert set(case.inputs) <= set(case.pos)
        assert set(case.pos) - set(case.inputs) <= set(case.kw) | {"shape"}
    quick = {c.id: c for c in bench.cases(quick=True)}
    assert quick["project-norm1-8x150528"].notes  # the smaller sort-based case says so


def test_bad_arguments(capsys):
    assert main(["bench", "--ops", "nosuchop"]) == 2
    assert "unknown op" in capsys.readouterr().err
    assert main(["bench", "--backend", "gpu"]) == 2
    assert main(["bench", "--peers", "jax"]) == 2
    assert "--peers: choose from" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])


needs_cpp = pytest.mark.skipif(not bench.cpu_tiers(), reason="the C++ backend is not built here")


@needs_cpp
def test_cpu_capability_all_times_every_tier_side_by_side(tmp_path, capsys):
    path = tmp_path / "tiers.json"
    args = ["bench", "--quick", "--ops", "fgsm", "--backend", "cpp", "--peers", "numpy", "--cpu-capability", "all"]
    assert main([*args, "--json", str(path), *TINY]) == 0
    printed = capsys.readouterr().out
    doc = json.loads(path.read_text())
    timed = doc["machine"]["cpu_tiers_timed"]
    assert len(timed) == len(bench.cpu_tiers())  # named as the runs call them: "neon" for aarch64's default
    names = {f"cpp[{t}]" for t in timed}
    for case in {(r["params"], tuple(r["shape"])) for r in doc["results"]}:
        rows = [r for r in doc["results"] if (r["params"], tuple(r["shape"])) == case]
        assert {r["backend"] for r in rows if r["kind"] == "mlsec"} == names  # one row per tier, no plain "cpp"
        assert all(r["x_floor"] > 0 and set(r["speedup"]) == {"numpy"} for r in rows if r["kind"] == "mlsec")
    # each tier against the floor of its own run; the peers and this process's tier: "main"
    runs = {c["run"] for c in doc["calibration"]}
    assert runs == {"main"} | {f"cpp[{t}]" for t in timed if t != doc["machine"]["cpu_capability"]}
    for name in names:
        assert name in printed
    assert f"timed: {', '.join(timed)}" in printed


@needs_cpp
def test_cpu_capability_this_cpu_lacks_exits_2(monkeypatch, capsys):
    assert main(["bench", "--cpu-capability", "sse9"]) == 2
    assert "--cpu-capability: choose from default, avx2, avx512, all" in capsys.readouterr().err
    monkeypatch.setattr(bench, "cpu_tiers", lambda: ["default"])  # a CPU without AVX2
    assert main(["bench", "--quick", "--cpu-capability", "avx512", "default", *TINY]) == 2
    err = capsys.readouterr().err
    assert "avx512: not a tier this CPU and build run; available: default" in err
    assert "Traceback" not in err


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="--plot draws with matplotlib, which is not installed")
    png = tmp_path / "bench.png"
    assert main(["bench", "--quick", "--ops", "fgsm", "--peers", "numpy", "--plot", str(png), *TINY]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure: {png}" in capsys.readouterr().out


def test_plot_without_matplotlib_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    assert (
        main(["bench", "--quick", "--ops", "fgsm", "--peers", "numpy", "--plot", str(tmp_path / "b.png"), *TINY]) == 1
    )
    assert "--plot needs matplotlib" in capsys.readouterr().err


def test_backends_subcommand_and_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "mlsec_kernels", "backends"], capture_output=True, text=True, check=True)
    for name in ("cpp", "numba", "cuda"):
        assert name in r.stdout
