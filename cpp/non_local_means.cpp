// CPU non-local means: one offset at a time over a band of output rows, each step a
// vectorisable row loop: squared differences, column sums, row sums, weights, accumulation
// (the order of non_local_means.hpp, so the per-pixel CUDA kernel gets the same bits).
#include <vector>

#include "non_local_means.hpp"

namespace mlsec {
namespace {
constexpr i64 kBand = 32;  // output rows per work item

struct Band {
  i64 rows, W, Wt, M;  // output rows, width, width + template margin, pad = rs + rt
  int t;
};

// One offset's contribution: pad holds the mirrored band (rows + 2M) x (W + 2M).
MLSEC_CLONES void accumulate(const float* pad, i64 pw, const Band& b, int rs, int dy, int dx, float c,
                             float* __restrict d, float* __restrict v, float* __restrict num, float* __restrict den) {
  const i64 tr = b.rows + b.t - 1;
  for (i64 r = 0; r < tr; ++r) {
    const float* a = pad + (r + rs) * pw + rs;
    const float* q = pad + (r + rs + dy) * pw + rs + dx;
    for (i64 j = 0; j < b.Wt; ++j) {
      const float e = a[j] - q[j];
      d[r * b.Wt + j] = e * e;
    }
  }
  for (i64 r = 0; r < b.rows; ++r) {
    float* vr = v + r * b.Wt;
    for (i64 j = 0; j < b.Wt; ++j) vr[j] = d[r * b.Wt + j];
    for (int k = 1; k < b.t; ++k)
      for (i64 j = 0; j < b.Wt; ++j) vr[j] += d[(r + k) * b.Wt + j];
  }
  for (i64 r = 0; r < b.rows; ++r) {
    const float* vr = v + r * b.Wt;
    const float* src = pad + (r + b.M + dy) * pw + b.M + dx;
    float* nr = num + r * b.W;
    float* dr = den + r * b.W;
    for (i64 j = 0; j < b.W; ++j) {
      float s = vr[j];
      for (int k = 1; k < b.t; ++k) s += vr[j + k];
      const float w = exp_neg(-(s * c));
      nr[j] += w * src[j];
      dr[j] += w;
    }
  }
}

template <class T> void filter_band(const T* x, T* out, const Planes& g, const NlmParams& prm, i64 p, i64 i0, i64 i1) {
  const int t = 2 * prm.rt + 1;
  const i64 M = prm.rs + prm.rt, W = g.W, pw = W + 2 * M, rows = i1 - i0, step = g.step();
  const Band b{rows, W, W + t - 1, M, t};
  thread_local std::vector<float> pad, d, v, num, den;
  pad.assign((rows + 2 * M) * pw, 0.0f);
  d.assign((rows + t - 1) * b.Wt, 0.0f);
  v.assign(rows * b.Wt, 0.0f);
  num.assign(rows * W, 0.0f);
  den.assign(rows * W, 0.0f);
  const T* src = x + g.base(p);
  for (i64 r = 0; r < rows + 2 * M; ++r) {
    const T* s = src + edge_index(i0 - M + r, g.H, Edge::mirror) * W * step;
    for (i64 j = 0; j < pw; ++j) pad[r * pw + j] = float(s[edge_index(j - M, W, Edge::mirror) * step]);
  }
  for (int dy = -prm.rs; dy <= prm.rs; ++dy)
    for (int dx = -prm.rs; dx <= prm.rs; ++dx)
      accumulate(pad.data(), pw, b, prm.rs, dy, dx, prm.c, d.data(), v.data(), num.data(), den.data());
  T* o = out + g.base(p);
  for (i64 r = 0; r < rows; ++r)
    for (i64 j = 0; j < W; ++j) o[((i0 + r) * W + j) * step] = nlm_store<T>(num[r * W + j], den[r * W + j]);
}
}  // namespace

template <class T> void non_local_means_cpu(const T* x, T* out, Planes g, NlmParams prm) {
  const i64 bands = (g.H + kBand - 1) / kBand, items = g.count() * bands;
  const i64 s = 2 * prm.rs + 1;
  run_parallel(g.count() * g.H * g.W * s * s, [&](int part, int nparts) {
    for (i64 it = part; it < items; it += nparts) {
      const i64 p = it / bands, i0 = (it - p * bands) * kBand;
      filter_band(x, out, g, prm, p, i0, std::min(g.H, i0 + kBand));
    }
  });
}

template void non_local_means_cpu<float>(const float*, float*, Planes, NlmParams);
template void non_local_means_cpu<std::uint8_t>(const std::uint8_t*, std::uint8_t*, Planes, NlmParams);
}  // namespace mlsec
