#include "random_start.hpp"

#include "reduce.hpp"
#include "rng.hpp"

namespace mlsec {
namespace {
// Writes row `row`'s elements [j0, j1) from their stream elements, draws times scale.
template <Norm N, class T>
void write_span(const Philox& p, const T* x, T* out, i64 row, i64 d, i64 j0, i64 j1, T scale, T lo, T hi) {
  const i64 o = row * d + j0;
  const T* xs = x + o;
  T* os = out + o;
  philox_span(p, StreamPos{u64(o) >> 2, u32(o & 3)}, j1 - j0, [=](i64 pos, const Block& b, int k0, int k1) {
    for (int k = k0; k < k1; ++k) os[pos + k] = start_elem(xs[pos + k], start_draw<N>(b, k), scale, lo, hi);
  });
}

template <Norm N, class T>
void run(const T* x, T* out, i64 n, i64 d, PerSample eps, const Philox& p, T lo, T hi) {
  if (N == Norm::inf) {
    for_each_span(n, d, [&](i64 row, i64 j0, i64 j1) { write_span<N>(p, x, out, row, d, j0, j1, T(eps[row]), lo, hi); });
    return;
  }
  for_each_row(n, d, [&](i64 row) {
    const u64 f0 = u64(row * d);
    const double sum = row_sum<1>(d, [&](i64 j) { return Sums<1>{{start_term<N>(start_draw_at<N>(p, f0 + u64(j)))}}; }).v[0];
    write_span<N>(p, x, out, row, d, 0, d, T(start_scale<N>(p, row, d, sum, eps[row])), lo, hi);
  });
}
}  // namespace

template <class T>
void random_start_cpu(const T* x, T* out, i64 n, i64 d, PerSample eps, Norm norm, Philox p, T lo, T hi) {
  if (norm == Norm::inf) run<Norm::inf>(x, out, n, d, eps, p, lo, hi);
  else if (norm == Norm::l1) run<Norm::l1>(x, out, n, d, eps, p, lo, hi);
  else run<Norm::l2>(x, out, n, d, eps, p, lo, hi);
}

template void random_start_cpu<float>(const float*, float*, i64, i64, PerSample, Norm, Philox, float, float);
template void random_start_cpu<double>(const double*, double*, i64, i64, PerSample, Norm, Philox, double, double);
}  // namespace mlsec
