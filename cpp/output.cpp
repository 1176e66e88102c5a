#include "output.hpp"

namespace mlsec {
// flatten: the whole step program (row sums, fmath, the lambdas) is inlined into one
// function, so its loops vectorise with the data they read in view.
template <class T>
__attribute__((flatten)) static void output_block(const T* p, T* out, i64 r0, i64 r1, i64 c, const Program& prog) {
  run_block(prog, p, out, r0, r1, c);
}

// Contiguous pieces of rows per thread, cut into blocks of about kChunk elements.
template <class T> static void output_rows(const T* p, T* out, i64 r0, i64 r1, i64 c, const Program& prog) {
  const i64 rows = c >= kChunk ? 1 : kChunk / c;
  for (i64 r = r0; r < r1; r += rows) output_block(p, out, r, r + rows < r1 ? r + rows : r1, c, prog);
}

template <class T> void output_cpu(const T* p, T* out, i64 n, i64 c, const Program& prog) {
  if (n * c == 0) return;
  if (n * c < kParallelMin) return output_rows(p, out, 0, n, c, prog);  // the server's one-row call: no team
  run_parallel(n * c,
               [&](int part, int nparts) { output_rows(p, out, n * part / nparts, n * (part + 1) / nparts, c, prog); });
}

template void output_cpu<float>(const float*, float*, i64, i64, const Program&);
template void output_cpu<double>(const double*, double*, i64, i64, const Program&);
}  // namespace mlsec
