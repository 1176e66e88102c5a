#!/usr/bin/env bash
# The test suite (and the fuzz suite, where tests/ has one) over CPU modules built with
# AddressSanitizer and UndefinedBehaviorSanitizer (docs/sanitizers.md).
#
#   benchmarks/sanitize.sh [pytest args...]
#
# Builds every CPU tier with -DMLSEC_SANITIZE into build/sanitize/cmake, runs the tests
# against a copy of the package in build/sanitize/src (the modules in src/mlsec_kernels and
# build/dev are left alone), and exits non-zero when a test fails or any sanitizer reports,
# in the test process or in a subprocess it starts. GCC only (the runtimes are found with
# g++ -print-file-name). Environment:
#   MLSEC_SANITIZE   the -fsanitize= list (default address,undefined,float-cast-overflow:
#                    GCC leaves float-to-int overflow out of "undefined")
#   SANITIZE_DIR     where to build and copy (default build/sanitize)
#   JOBS             parallel compile jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
san=${MLSEC_SANITIZE:-address,undefined,float-cast-overflow}
dir=${SANITIZE_DIR:-build/sanitize}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
cxx=${CXX:-g++}
start=$SECONDS

echo "+ build: -fsanitize=$san -> $dir/cmake"
CXX=$cxx cmake -S . -B "$dir/cmake" -DMLSEC_SANITIZE="$san" -DMLSEC_CUDA=OFF -DMLSEC_INPLACE=OFF \
  -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" >"$dir/cmake.log"
cmake --build "$dir/cmake" -j"${JOBS:-2}" >>"$dir/cmake.log" || { tail -50 "$dir/cmake.log"; exit 1; }

# The package, with the instrumented modules in place of the normal ones.
pkg=$dir/src/mlsec_kernels
rm -rf "$pkg" && mkdir -p "$dir/src" && cp -a src/mlsec_kernels "$pkg"
find "$pkg" \( -name '*.so' -o -name __pycache__ \) -prune -exec rm -rf {} +
cp "$dir"/cmake/_cpu_*.so "$pkg/"

# The runtimes go first into the process (ASan must precede every library it intercepts):
# python itself is not instrumented. libstdc++ is preloaded as well so that ASan's
# __cxa_throw interceptor finds the real one (C++ exceptions become Python exceptions).
preload=
case ",$san," in *,address,*) preload+="$($cxx -print-file-name=libasan.so) " ;; esac
[ -z "$(tr , '\n' <<<"$san" | grep -vx address)" ] || preload+="$($cxx -print-file-name=libubsan.so) "
preload+="$($cxx -print-file-name=libstdc++.so)"
reports=$dir/reports
rm -rf "$reports" && mkdir -p "$reports"
# detect_leaks=0: CPython keeps interned objects, module state and its allocator's arenas
# until exit without freeing them, so LeakSanitizer would report thousands of blocks
# that no code of ours allocated. ASan writes its reports to files (log_path), so that one
# from a subprocess whose output a test swallows is still counted; GCC's UBSan ignores
# log_path when ASan is loaded, and prints to the test process's stderr, which pytest
# must then not capture at the fd level (--capture=sys), or it dies with the report
# unread. Its exit code, 86, tells its death from a failed test.
export LD_PRELOAD=$preload
# allocator_may_return_null=1: the fuzz suite asks NumPy for outputs of terabytes (shapes of
# zero-stride inputs), which must fail as MemoryError, as they do without ASan (whose
# default is to abort on an allocation above its maximum).
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:log_path=$reports/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
# Numba's cache outlives the copy (cp -a keeps the sources' times, which key it).
export PYTHONPATH=$dir/src MLSEC_CUDA=OFF NUMBA_CACHE_DIR=$dir/numba-cache

# A cpp backend that failed to load would fall back to Numba and the run would check nothing.
python - "$pkg" <<'EOF'
import sys, mlsec_kernels as mk
assert mk.__file__.startswith(sys.argv[1]), f"imported {mk.__file__}, not the instrumented copy"
cpp = mk.backends()["cpp"]
assert cpp.startswith("ok"), f"the instrumented C++ modules did not load: {cpp}"
print(f"sanitize: mlsec_kernels from {sys.argv[1]}, cpp {cpp}")
EOF

status=0
log=$dir/pytest.log
: >"$log"
pytest() {
  echo "+ python -m pytest -q -p no:cacheprovider --capture=sys $*" | tee -a "$log"
  set +e
  python -m pytest -q -p no:cacheprovider --capture=sys "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || status=$rc
}
# The fuzz suite, where one is registered, in a run of its own after the rest (a -m in
# the arguments given here overrides both selections).
if python -m pytest -p no:cacheprovider --markers | grep -q '^@pytest.mark.fuzz:'; then
  pytest -m "not fuzz" "$@"
  pytest -m fuzz "$@"
else
  echo "sanitize: no fuzz marker registered; running the test suite only"
  pytest "$@"
fi

unset LD_PRELOAD
# A report is a file with an error in it: with allocator_may_return_null ASan also logs a
# WARNING for each refused allocation, which NumPy turns into a MemoryError.
found=0
for f in "$reports"/*; do
  [ -f "$f" ] || continue
  if grep -q -E 'ERROR: |runtime error: ' "$f"; then
    echo "=== $f" && cat "$f" && found=$((found + 1))
  else
    echo "sanitize: $f: $(grep -c 'failed to allocate' "$f") refused allocation(s), no error"
  fi
done
found=$((found + $(grep -c -E 'runtime error: |ERROR: AddressSanitizer' "$log" || true)))
[ "$found" -eq 0 ] || [ "$status" -ne 0 ] || status=1
echo "sanitize: pytest status $status, $found sanitizer report(s), $((SECONDS - start)) s (build included)"
exit "$status"
