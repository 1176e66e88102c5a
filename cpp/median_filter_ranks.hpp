// The median filter for any window and dtype on the CPU, by ranks within tiles (Suomela's
// method: J. Suomela, "Median filtering is equivalent to sorting", arXiv:1406.1717, 2014,
// in 2-D as in his mf2d): the outputs are cut into tiles of R x C; the (R + h - 1) x
// (C + w - 1) input pixels a tile's windows read (edge-extended) are sorted once by key
// (median_filter.hpp's order_key, so one radix sort serves every dtype) and replaced by
// their ranks, distinct integers 0..B-1. A window is then a set of ranks, kept as a bit
// vector, and its median the set bit with (h*w)/2 set bits below it. The window snakes
// through the tile (right along one row, down one, left along the next), so each step
// swaps one column or row of h or w ranks, and the median moves by at most that many set
// bits from where it was: O(h + w) per output plus the tile's sort, for every window size.
// Keys of NaN are the largest, so a window holds a NaN exactly when it holds one of the
// tile's top ranks; its output is then NaN.
#pragma once
#include <utility>
#include <vector>

#include "median_filter.hpp"

namespace mlsec {
template <class T> class RankTiles {
  using K = key_of<T>;
  static constexpr K kNanKey = K(~K(0));

 public:
  RankTiles(const Planes& g, Window win) : g_(g), win_(win) {
    // Tiles about twice the window, at least 32 outputs a side: the sort (about 2.25x the
    // outputs at twice the window) and the bit vector (a quarter of it set) both stay small.
    // Windows far larger than the image make tiles mostly edge: they shrink to 2^21 ranks.
    rows_ = std::min<i64>(g.H, std::max(32, 2 * win.h));
    cols_ = std::min<i64>(g.W, std::max(32, 2 * win.w));
    auto ranks = [&] { return (rows_ + win.h - 1) * (cols_ + win.w - 1); };
    while (ranks() > (i64(1) << 21) && (rows_ > 1 || cols_ > 1))
      (rows_ >= cols_ ? rows_ : cols_) = (std::max(rows_, cols_) + 1) / 2;
    const i64 cap = ranks();
    key_.resize(cap), key2_.resize(cap), pos_.resize(cap), pos2_.resize(cap), rank_.resize(cap);
    bits_.resize(cap / 64 + 2);
    colmap_.resize(cols_ + win.w - 1);
  }

  // Output rows [i0, i1) of plane p.
  void rows(const T* x, T* out, i64 p, i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; i += rows_)
      for (i64 j = 0; j < g_.W; j += cols_) tile(x, out, p, i, std::min(rows_, i1 - i), j, std::min(cols_, g_.W - j));
  }

 private:
  void tile(const T* x, T* out, i64 p, i64 i0, i64 R, i64 j0, i64 C) {
    const int h = win_.h, w = win_.w;
    const i64 TW = C + w - 1, TH = R + h - 1, B = TH * TW, step = g_.step();
    for (i64 s = 0; s < TW; ++s) colmap_[s] = edge_index(j0 - w / 2 + s, g_.W, win_.edge) * step;
    const T* plane = x + g_.base(p);
    for (i64 t = 0; t < TH; ++t) {
      const T* src = plane + edge_index(i0 - h / 2 + t, g_.H, win_.edge) * g_.W * step;
      K* dst = key_.data() + t * TW;
      for (i64 s = 0; s < TW; ++s) dst[s] = order_key(src[colmap_[s]]);
    }
    const K* sorted = sort(B);
    for (i64 r = 0; r < B; ++r) rank_[pos_[r]] = u32(r);
    i64 nan_from = B;  // ranks from here up are NaN
    if (std::is_floating_point<T>::value)
      while (nan_from > 0 && sorted[nan_from - 1] == kNanKey) --nan_from;

    std::fill(bits_.begin(), bits_.end(), u64(0));
    // m: a rank; below: the set bits under it. The median is the set m with below == k.
    u32 m = 0;
    i64 below = 0;
    const i64 k = i64(h) * w / 2;
    auto flip = [&](i64 at, bool add) {
      const u32 q = rank_[at];
      bits_[q >> 6] ^= u64(1) << (q & 63);
      if (q < m) below += add ? 1 : -1;
    };
    auto median = [&]() {
      while (below > k) m = prev_set(m), --below;
      for (;;) {
        if (!(bits_[m >> 6] >> (m & 63) & 1)) m = next_set(m);
        if (below == k) break;
        ++below, m = next_set(m + 1);
      }
      if constexpr (std::is_floating_point<T>::value)
        if (nan_from < B && any_set(u32(nan_from), B)) return quiet_nan<T>();
      return from_key<T>(sorted[m]);
    };
    for (i64 t = 0; t < h; ++t)
      for (i64 s = 0; s < w; ++s) flip(t * TW + s, true);
    T* dst = out + g_.base(p);
    i64 c = 0;
    for (i64 r = 0; r < R; ++r) {
      if (r > 0)  // down one row at column c
        for (i64 s = c; s < c + w; ++s) flip((r - 1) * TW + s, false), flip((r + h - 1) * TW + s, true);
      const i64 dir = r % 2 ? -1 : 1;
      for (i64 n = 0; n < C; ++n) {
        if (n > 0) {  // one column along, the way this row goes
          const i64 gone = dir > 0 ? c - 1 : c + w, come = dir > 0 ? c + w - 1 : c;
          for (i64 t = r; t < r + h; ++t) flip(t * TW + gone, false), flip(t * TW + come, true);
        }
        dst[((i0 + r) * g_.W + j0 + c) * step] = median();
        if (n + 1 < C) c += dir;
      }
    }
  }

  // Stable LSD radix sort of key_[0..n) with positions 0..n-1, a byte a pass; passes where
  // every key has the same byte are skipped. Leaves positions by rank in pos_, returns the
  // sorted keys.
  const K* sort(i64 n) {
    constexpr int D = sizeof(K);
    u32 count[D][256] = {};
    for (i64 i = 0; i < n; ++i)
      for (int d = 0; d < D; ++d) ++count[d][(key_[i] >> (8 * d)) & 255];
    K *a = key_.data(), *b = key2_.data();
    u32 *pa = pos_.data(), *pb = pos2_.data();
    for (i64 i = 0; i < n; ++i) pa[i] = u32(i);
    for (int d = 0; d < D; ++d) {
      if (count[d][(a[0] >> (8 * d)) & 255] == u32(n)) continue;
      u32 at[256], sum = 0;
      for (int v = 0; v < 256; ++v) at[v] = sum, sum += count[d][v];
      for (i64 i = 0; i < n; ++i) {
        const u32 to = at[(a[i] >> (8 * d)) & 255]++;
        b[to] = a[i], pb[to] = pa[i];
      }
      std::swap(a, b), std::swap(pa, pb);
    }
    if (pa != pos_.data()) pos_.swap(pos2_);
    return a;
  }

  u32 next_set(u32 q) const {  // the lowest set bit >= q (one exists)
    u32 wi = q >> 6;
    u64 word = bits_[wi] & (~u64(0) << (q & 63));
    while (!word) word = bits_[++wi];
    return wi * 64 + u32(__builtin_ctzll(word));
  }
  u32 prev_set(u32 q) const {  // the highest set bit < q (one exists)
    u32 wi = q >> 6;
    u64 word = bits_[wi] & ((u64(1) << (q & 63)) - 1);
    while (!word) word = bits_[--wi];
    return wi * 64 + 63 - u32(__builtin_clzll(word));
  }
  bool any_set(u32 from, i64 end) const {
    u32 wi = from >> 6;
    if (bits_[wi] & (~u64(0) << (from & 63))) return true;
    for (++wi; i64(wi) * 64 < end; ++wi)
      if (bits_[wi]) return true;
    return false;
  }

  Planes g_;
  Window win_;
  i64 rows_, cols_;
  std::vector<K> key_, key2_;
  std::vector<u32> pos_, pos2_, rank_;
  std::vector<u64> bits_;
  std::vector<i64> colmap_;
};
}  // namespace mlsec
