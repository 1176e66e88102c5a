#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (H200, CUDA 13, Python with CuPy, Numba,
# PyTorch, pybind11, scikit-build-core, CMake, nvcc; no network). From the repository root:
#
#     OUT=/some/dir bash benchmarks/gpu_check.sh        # $OUT defaults to ./gpu_out
#
# 1. installs the package with the CUDA module built for sm_90 only (short build),
# 2. runs the CUDA tests (pytest -m cuda),
# 3. runs `mlsec-kernels bench --backend cuda` (copy floor: a CuPy device-to-device copy;
#    peers: the CuPy expression, PyTorch eager, torch.compile): --quick first ($OUT/gpu_quick.json),
#    then the full suite in the time left ($OUT/gpu.json),
# 4. prints a short table last (from the full run, else the quick one).
# Every step is time-boxed so the whole script ends within BUDGET_S (default 450 s, < 8 min).
set -uo pipefail
OUT=${OUT:-$PWD/gpu_out}
BUDGET_S=${BUDGET_S:-450}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
T0=$SECONDS
left() { echo $((BUDGET_S - (SECONDS - T0))); }
step() { echo "== $1 [$((SECONDS - T0)) s]"; }
status=0

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
nvcc --version | tail -n 1 || true
python - <<'EOF' || true
import importlib
for m in ("numpy", "numba", "cupy", "torch"):
    try:
        print(m, importlib.import_module(m).__version__)
    except Exception as e:
        print(m, "unavailable:", e)
EOF

step "install: pip install --no-build-isolation . (CUDA, sm_90)"
if ! CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=90" MLSEC_CUDA=ON CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    timeout 240 python -m pip install --no-build-isolation --no-deps --no-input . >"$OUT/install.log" 2>&1; then
  echo "install failed or timed out; last lines of $OUT/install.log:"
  tail -n 40 "$OUT/install.log"
  exit 1
fi
# Run from outside the tree so that the installed package (with _cuda) is the one imported.
( cd / && python -c "import mlsec_kernels as mk; print(mk.backends())" ) || status=1

step "CUDA tests: pytest -m cuda"
t=$(( $(left) - 200 )); [ "$t" -gt 150 ] && t=150; [ "$t" -lt 30 ] && t=30
timeout "$t" python -m pytest tests -m cuda -q -p no:cacheprovider >"$OUT/pytest_cuda.log" 2>&1
rc=$?
tail -n 25 "$OUT/pytest_cuda.log"
[ "$rc" -eq 0 ] || { echo "pytest -m cuda: exit $rc"; status=1; }

MK="mlsec-kernels"
command -v mlsec-kernels >/dev/null || MK="python -m mlsec_kernels"
step "bench: $MK bench --quick --backend cuda (first, so some numbers always come back)"
timeout 90 $MK bench --quick --backend cuda --json "$OUT/gpu_quick.json" >"$OUT/bench_quick.txt" 2>"$OUT/bench.err" \
  || { echo "quick bench failed:"; tail -n 20 "$OUT/bench.err"; status=1; }
SUMMARY="$OUT/gpu_quick.json"

step "bench: $MK bench --backend cuda (full, with torch.compile)"
t=$(( $(left) - 20 ))
if [ "$t" -lt 60 ]; then
  echo "skipped: only $t s left"
elif timeout "$t" $MK bench --backend cuda --peers numpy torch torch.compile --json "$OUT/gpu.json" \
    >"$OUT/bench.txt" 2>>"$OUT/bench.err"; then
  SUMMARY="$OUT/gpu.json"
else
  echo "full bench failed or ran out of its $t s (see $OUT/bench.err); the summary is the quick run's"
  tail -n 5 "$OUT/bench.err"
fi

step "summary"
echo "from $SUMMARY (full tables: $OUT/bench*.txt)"
python - "$SUMMARY" <<'EOF' || status=1
import json, sys

doc = json.load(open(sys.argv[1]))
print("device:", doc["machine"]["backends"].get("cuda"))
for c in doc["calibration"]:
    print(f"floor: {c['side']} copy {'x'.join(map(str, c['shape']))}: {c['GBps']:.0f} GB/s")
print(f"{'op':13} {'params':24} {'backend':14} {'median':>10} {'GB/s':>7} {'x floor':>7}  vs fastest peer")
for r in doc["results"]:
    sp = r.get("speedup") or {}
    best = min(sp.items(), key=lambda kv: kv[1]) if sp else None
    t = f"{r['median_ms'] * 1e3:.1f} us" if r["median_ms"] < 1 else f"{r['median_ms']:.3f} ms"
    print(f"{r['op']:13} {r['params'][:24]:24} {r['backend']:14} {t:>10} {r['GBps']:7.0f} {r['x_floor']:7.2f}"
          + (f"  {best[1]:.2f}x vs {best[0]}" if best else ""))
for s in doc["skipped"]:
    print("skipped:", s["op"], s["params"], s["who"], "-", s["reason"][:100])
EOF
step "done (exit $status)"
exit $status
