// The median filter for one-byte dtypes (uint8, int8) and windows past the networks, by
// histograms in constant time per pixel (S. Perreault and P. Hebert, "Median filtering in
// constant time", IEEE Trans. Image Processing 16(9), 2007): a 256-bin histogram per padded
// column of the h input rows under the current output row, moved down a row by one removal
// and one addition each; the window's histogram slides along the row by adding one column's
// histogram and subtracting another's (whole-histogram vector adds), and its median is
// found through 16 coarse bins of 16. Keys (order_key) make int8 count like uint8.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "median_filter.hpp"

namespace mlsec {
// 16-bit counts: windows up to 65535 pixels.
constexpr i64 kHistogramMaxWindow = 65535;

template <class T> class HistogramRows {  // T: uint8 or int8 (256 keys)
  using C = std::uint16_t;

 public:
  HistogramRows(const Planes& g, Window win) : g_(g), win_(win) {
    const i64 Wp = g.W + win.w - 1;
    fine_.resize(Wp * 256), coarse_.resize(Wp * 16);
    for (i64 s = 0; s < Wp; ++s) colmap_.push_back(edge_index(s - win.w / 2, g.W, win.edge) * g.step());
  }

  // Output rows [i0, i1) of plane p.
  void rows(const T* x, T* out, i64 p, i64 i0, i64 i1) {
    const int h = win_.h, w = win_.w;
    const i64 W = g_.W, Wp = W + w - 1, step = g_.step(), k = i64(h) * w / 2;
    const T* src = x + g_.base(p);
    auto row = [&](i64 i) { return src + edge_index(i, g_.H, win_.edge) * W * step; };
    auto count = [&](const T* r, C d) {  // every padded column's histogram takes row r in or out
      for (i64 s = 0; s < Wp; ++s) {
        const int v = order_key(r[colmap_[s]]);
        fine_[s * 256 + v] += d, coarse_[s * 16 + (v >> 4)] += d;
      }
    };
    std::fill(fine_.begin(), fine_.end(), C(0));
    std::fill(coarse_.begin(), coarse_.end(), C(0));
    for (int r = 0; r < h; ++r) count(row(i0 - h / 2 + r), C(1));
    alignas(64) C hist[256], hc[16];
    for (i64 i = i0; i < i1; ++i) {
      if (i > i0) count(row(i - 1 - h / 2), C(0xffff)), count(row(i - 1 - h / 2 + h), C(1));
      std::fill(hist, hist + 256, C(0));
      std::fill(hc, hc + 16, C(0));
      for (int s = 0; s < w; ++s) slide(hist, hc, s, -1);
      T* dst = out + g_.base(p) + i * W * step;
      for (i64 j = 0; j < W; ++j) {
        if (j > 0) slide(hist, hc, j + w - 1, j - 1);
        // The coarse bin, then the bin, holding rank k: fixed loops without branches (an
        // early exit would mispredict once per pixel).
        i64 below = 0;
        const int c = bin_of(hc, k, below);
        const int b = bin_of(hist + 16 * c, k, below);
        dst[j * step] = from_key<T>(std::uint8_t(16 * c + b));
      }
    }
  }

 private:
  // Index of the bin of bins[0..16) where the counts, added to `below`, pass k; `below`
  // becomes the count before it.
  static int bin_of(const C* bins, i64 k, i64& below) {
    i64 acc = below, at = below;
    int n = 0;
    for (int t = 0; t < 16; ++t) {
      acc += bins[t];
      const bool under = acc <= k;
      n += under;
      at = under ? acc : at;
    }
    below = at;
    return n;
  }

  // The window's histograms take column `in` and lose column `gone` (none if negative).
  void slide(C* __restrict hist, C* __restrict hc, i64 in, i64 gone) const {
    const C *a = fine_.data() + in * 256, *ac = coarse_.data() + in * 16;
    if (gone < 0) {
      for (int b = 0; b < 256; ++b) hist[b] += a[b];
      for (int b = 0; b < 16; ++b) hc[b] += ac[b];
      return;
    }
    const C *d = fine_.data() + gone * 256, *dc = coarse_.data() + gone * 16;
    for (int b = 0; b < 256; ++b) hist[b] += C(a[b] - d[b]);
    for (int b = 0; b < 16; ++b) hc[b] += C(ac[b] - dc[b]);
  }

  Planes g_;
  Window win_;
  std::vector<C> fine_, coarse_;  // per padded column: 256 bins, 16 coarse bins
  std::vector<i64> colmap_;
};
}  // namespace mlsec
