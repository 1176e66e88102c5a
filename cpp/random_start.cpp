#include "random_start.hpp"

#include "reduce.hpp"
#include "rng.hpp"
#include "samples.hpp"

namespace mlsec {
namespace {
constexpr i64 kPiece = 4096;  // inf: draws buffered per piece (16 KiB, stays in L1)

// The draws of stream elements f .. f+len-1 into draws[0 .. len).
template <Norm N> void draw_into(const Philox& p, i64 f, i64 len, float* draws) {
  philox_span(p, StreamPos{u64(f) >> 2, u32(f & 3)}, len,
              [=](i64 pos, const u32* w, int a, int b) { start_draws_span<N>(w, a, b, draws + pos); });
}

// x may be out (in place): element j is read before it is written, so the vectorised loop
// is right; __restrict spares it the aliasing check that would send it to the scalar path.
template <class T>
void write_row(const T* __restrict x, T* out, const float* __restrict draws, i64 d, T scale, T lo, T hi) {
  for (i64 j = 0; j < d; ++j) out[j] = start_elem(x[j], draws[j], scale, lo, hi);
}

// Row `row` is sample s0 + row of the batch: its draws are stream elements (s0 + row)*d + j.
template <Norm N, class T>
void run(const T* x, T* out, i64 n, i64 d, PerSample eps, const Philox& p, i64 s0, T lo, T hi) {
  if (N == Norm::inf) {
    for_each_span(n, d, [&](i64 row, i64 j0, i64 j1) {
      float draws[kPiece];
      for (i64 j = j0; j < j1; j += kPiece) {
        const i64 f = row * d + j, len = std::min(kPiece, j1 - j);
        draw_into<N>(p, s0 * d + f, len, draws);
        write_row(x + f, out + f, draws, len, T(eps[row]), lo, hi);
      }
    });
    return;
  }
  for_each_row(n, d, [&](i64 row) {
    // The row's draws, once, into this thread's buffer; the canonical sum and the writes
    // read them from there.
    float* draws = scratch<float, 0>(d);
    const i64 f = row * d;
    draw_into<N>(p, s0 * d + f, d, draws);
    const double sum = row_sum<1>(d, [&](i64 j) { return Sums<1>{{start_term<N>(draws[j])}}; }).v[0];
    write_row(x + f, out + f, draws, d, T(start_scale<N>(p, s0 + row, d, sum, eps[row])), lo, hi);
  });
}
}  // namespace

template <class T>
void random_start_cpu(const T* x, T* out, i64 n, i64 d, PerSample eps, Norm norm, Philox p, i64 s0, T lo, T hi) {
  if (norm == Norm::inf)
    run<Norm::inf>(x, out, n, d, eps, p, s0, lo, hi);
  else if (norm == Norm::l1)
    run<Norm::l1>(x, out, n, d, eps, p, s0, lo, hi);
  else
    run<Norm::l2>(x, out, n, d, eps, p, s0, lo, hi);
}

template void random_start_cpu<float>(const float*, float*, i64, i64, PerSample, Norm, Philox, i64, float, float);
template void random_start_cpu<double>(const double*, double*, i64, i64, PerSample, Norm, Philox, i64, double, double);
}  // namespace mlsec
