// CPU driver for per-sample ops (projections, PGD steps): a sample's work is reductions
// over the sample followed by elementwise passes. Samples are shared among threads; when
// there are fewer samples than threads, each sample's passes are split among them instead.
// Both ways give the same bits: sums follow reduce.hpp's canonical chunk order either way.
#pragma once
#include <atomic>
#include <vector>

#include "reduce.hpp"

// On a function that calls chunk_sum: inlines chunk_sum and the caller's term into it, so
// that the lane loop sees the loads it sums and vectorises (out of line it does not).
#if defined(__GNUC__) && !defined(__CUDACC__)
#define MLSEC_FLATTEN __attribute__((flatten))
#else
#define MLSEC_FLATTEN
#endif

namespace mlsec {
class Inner {
 public:
  explicit Inner(int nt) : nt_(nt) {}
  bool parallel() const { return nt_ > 1; }

  // The canonical row sum over [0, d), from chunk(j0, j1) = chunk_sum over one chunk
  // (the callers' chunk functions carry MLSEC_FLATTEN).
  template <int K, class F> Sums<K> sum(i64 d, const F& chunk) const {
    const i64 nchunks = (d + kChunk - 1) / kChunk;
    Sums<K> total;
    for (int k = 0; k < K; ++k) total.v[k] = 0.0;
    auto add = [&](const Sums<K>& s) {
      for (int k = 0; k < K; ++k) total.v[k] += s.v[k];
    };
    if (nt_ <= 1) {
      for (i64 c = 0; c < nchunks; ++c) add(chunk(c * kChunk, std::min(d, (c + 1) * kChunk)));
      return total;
    }
    std::vector<Sums<K>> part(static_cast<size_t>(nchunks));
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt_) schedule(static)
#endif
    for (i64 c = 0; c < nchunks; ++c) part[c] = chunk(c * kChunk, std::min(d, (c + 1) * kChunk));
    for (const Sums<K>& s : part) add(s);
    return total;
  }

  // span(j0, j1) over contiguous pieces of [0, d).
  template <class F> void spans(i64 d, const F& span) const {
    if (nt_ <= 1) return span(i64(0), d);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt_)
    {
      const i64 p = omp_get_thread_num(), np = omp_get_num_threads();
      span(d * p / np, d * (p + 1) / np);
    }
#endif
  }

 private:
  int nt_;
};

// f(row, inner) for every sample.
template <class F> void for_each_sample(i64 n, i64 d, F&& f) {
  const int nt = num_threads(n * d);
  if (nt > 1 && n < nt) {
    for (i64 r = 0; r < n; ++r) f(r, Inner(nt));
    return;
  }
  // Samples handed out one at a time: L1 samples differ in cost, and a thread delayed by
  // the rest of the machine then does fewer of them. Each sample's result is the same on
  // any thread.
  std::atomic<i64> next{0};
  run_parallel(n * d, [&](int, int) {
    for (i64 r = next++; r < n; r = next++) f(r, Inner(1));
  });
}

// A per-thread scratch array of at least `count` T, grown on demand and kept for the
// thread's lifetime (a PGD loop then allocates nothing after its first step).
template <class T, int Slot> T* scratch(i64 count) {
  thread_local std::vector<T> buf;
  if (buf.size() < static_cast<size_t>(count)) buf.resize(static_cast<size_t>(count));
  return buf.data();
}
}  // namespace mlsec
