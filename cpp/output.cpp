#include "output.hpp"

namespace mlsec {
// flatten: the whole step program (row sums, fmath, the lambdas) is inlined into one
// function, so its loops vectorise with the data they read in view.
template <class T> __attribute__((flatten)) static void output_rows(const T* p, T* out, i64 r0, i64 r1, i64 stride,
                                                                    i64 c, const Program& prog) {
  for (i64 r = r0; r < r1; r += stride) run_row(prog, p + r * c, out + r * c, c, r);
}

template <class T>
__attribute__((flatten)) static void output_flat(const T* p, T* out, i64 e0, i64 e1, const Program& prog) {
  run_flat(prog, p, out, e0, e1);
}

template <class T> void output_cpu(const T* p, T* out, i64 n, i64 c, const Program& prog) {
  if (elementwise(prog, c)) {  // contiguous pieces of the flat array, each step a vector loop
    const i64 m = n * c;
    return run_parallel(
        m, [&](int part, int nparts) { output_flat(p, out, m * part / nparts, m * (part + 1) / nparts, prog); });
  }
  if (n * c < kParallelMin) return output_rows(p, out, 0, n, 1, c, prog);  // the server's one-row call: no team
  run_parallel(n * c, [&](int part, int nparts) { output_rows(p, out, part, n, nparts, c, prog); });
}

template void output_cpu<float>(const float*, float*, i64, i64, const Program&);
template void output_cpu<double>(const double*, double*, i64, i64, const Program&);
}  // namespace mlsec
