// CPU non-local means: one offset at a time over a band of output rows, each step a
// vectorisable row loop: squared differences, column sums, row sums, weights, accumulation
// (the order of non_local_means.hpp, so the per-pixel CUDA kernel gets the same bits).
#include <vector>

#include "non_local_means.hpp"

namespace mlsec {
namespace {
constexpr i64 kBand = 32;  // output rows per work item

// All buffers share the pitch pw of the padded band, so every step is one flat loop over
// rows * pw lanes (the lanes past a row's end compute values nobody reads).
struct Band {
  i64 rows, pw, M;  // output rows, pitch (W + 2M), pad = rs + rt
  int t;
};

// One offset's contribution. pad holds the mirrored band, (rows + 2M + 1) x pw.
void accumulate(const float* pad, const Band& b, int rs, int dy, int dx, float c, float* __restrict d,
                float* __restrict v, float* __restrict s, float* __restrict num, float* __restrict den) {
  const i64 pw = b.pw, nd = (b.rows + b.t - 1) * pw, nv = b.rows * pw + b.t, n = b.rows * pw;
  const float* a = pad + rs * pw + rs;
  const float* q = pad + (rs + dy) * pw + rs + dx;
  for (i64 i = 0; i < nd; ++i) {
    const float e = a[i] - q[i];
    d[i] = e * e;
  }
  for (i64 i = 0; i < nv; ++i) v[i] = d[i];  // column sums of the template, rows in order
  for (int k = 1; k < b.t; ++k)
    for (i64 i = 0; i < nv; ++i) v[i] += d[i + k * pw];
  for (i64 i = 0; i < n; ++i) s[i] = v[i];  // then their sum along the row
  for (int k = 1; k < b.t; ++k)
    for (i64 i = 0; i < n; ++i) s[i] += v[i + k];
  const float* src = pad + (b.M + dy) * pw + b.M + dx;
  for (i64 i = 0; i < n; ++i) {
    const float w = exp_f32(-(s[i] * c));
    num[i] += w * src[i];
    den[i] += w;
  }
}

template <class T> void filter_band(const T* x, T* out, const Planes& g, const NlmParams& prm, i64 p, i64 i0, i64 i1) {
  const int t = 2 * prm.rt + 1;
  const i64 M = prm.rs + prm.rt, W = g.W, pw = W + 2 * M, rows = i1 - i0, step = g.step();
  const Band b{rows, pw, M, t};
  thread_local std::vector<float> pad, d, v, s, num, den;
  pad.assign((rows + 2 * M + 1) * pw, 0.0f);
  d.assign((rows + t) * pw, 0.0f);
  v.assign(rows * pw + t, 0.0f);
  s.assign(rows * pw, 0.0f);
  num.assign(rows * pw, 0.0f);
  den.assign(rows * pw, 0.0f);
  const T* src = x + g.base(p);
  for (i64 r = 0; r < rows + 2 * M; ++r) {
    const T* in = src + edge_index(i0 - M + r, g.H, Edge::mirror) * W * step;
    for (i64 j = 0; j < pw; ++j) pad[r * pw + j] = float(in[edge_index(j - M, W, Edge::mirror) * step]);
  }
  for (int dy = -prm.rs; dy <= prm.rs; ++dy)
    for (int dx = -prm.rs; dx <= prm.rs; ++dx)
      accumulate(pad.data(), b, prm.rs, dy, dx, prm.c, d.data(), v.data(), s.data(), num.data(), den.data());
  T* o = out + g.base(p);
  for (i64 r = 0; r < rows; ++r)
    for (i64 j = 0; j < W; ++j) o[((i0 + r) * W + j) * step] = nlm_store<T>(num[r * pw + j], den[r * pw + j]);
}
}  // namespace

template <class T> void non_local_means_cpu(const T* x, T* out, Planes g, NlmParams prm) {
  if (g.count() == 0 || g.H == 0 || g.W == 0) return;  // no pixel: nothing to pad or filter
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
