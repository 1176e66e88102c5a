// Sorting networks for small windows on the CPU: rows of sorted columns, then a selection
// network applied across a row of output pixels at once, so every step is a vector min/max
// (64 uint8 lanes, 16 float32 lanes of AVX-512).
//
// For output row i, each column of its windows' h input rows is sorted by Batcher's
// network and stored: a sorted column then serves the w outputs that share it. A pixel's
// window is then a grid sorted along its columns; sorting its rows too leaves only a few
// cells able to hold rank k (cell (r, c) has (r+1)(c+1) cells at or below it and (h-r)(w-c)
// at or above), and a small network selects among them. The network is pruned backwards to
// the steps the result depends on. Square windows up to kFixed are compiled with the
// network unrolled, so the whole selection runs in vector registers; other sizes up to
// kNetMax run the same network from a table.
#pragma once
#include <utility>

#include "median_filter.hpp"

namespace mlsec {
constexpr int kNetMax = 15;  // the largest window side a network is built for
constexpr int kFixed = 7;    // beyond, unrolled networks cost more to compile than they gain

struct Step {
  int a, b;     // a takes min(a, b), b takes max(a, b)
  bool lo, hi;  // which of the two results later steps read
};
struct Net {
  static constexpr int kCap = 4096;  // 15x15 needs 2879 steps before pruning
  Step s[kCap] = {};
  int len = 0, target = 0;
};

// Appends Batcher's odd-even merge sort of idx[0..n) (ascending) to net.
constexpr void batcher(const int* idx, int n, Net& net) {
  for (int p = 1; p < n; p <<= 1)
    for (int k = p; k >= 1; k >>= 1)
      for (int j = k % p; j + k < n; j += 2 * k)
        for (int i = 0; i < (k < n - j - k ? k : n - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p))
            net.s[net.len++] = Step{idx[i + j], idx[i + j + k], true, true};
}

constexpr Net column_sort(int h) {
  Net net;
  int idx[kNetMax] = {};
  for (int r = 0; r < h; ++r) idx[r] = r;
  batcher(idx, h, net);
  return net;
}

// Cell r * w + c of a window whose columns are sorted: row sorts, then a selection among
// the cells that can hold rank k, pruned to the steps the result (at .target) depends on.
constexpr Net selection(int h, int w) {
  const int n = h * w, k = n / 2;
  Net net;
  int idx[kNetMax * kNetMax] = {};
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) idx[c] = r * w + c;
    batcher(idx, w, net);
  }
  int m = 0, below = 0;
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      if (n - (h - r) * (w - c) < k)
        ++below;
      else if ((r + 1) * (c + 1) - 1 <= k)
        idx[m++] = r * w + c;
    }
  batcher(idx, m, net);
  Net kept;
  kept.target = idx[k - below];
  bool need[kNetMax * kNetMax] = {};
  need[kept.target] = true;
  for (int s = net.len - 1; s >= 0; --s) {
    const Step t = net.s[s];
    if (!need[t.a] && !need[t.b]) continue;
    kept.s[kept.len++] = Step{t.a, t.b, need[t.a], need[t.b]};
    need[t.a] = need[t.b] = true;
  }
  for (int i = 0; i < kept.len / 2; ++i) {
    const Step t = kept.s[i];
    kept.s[i] = kept.s[kept.len - 1 - i];
    kept.s[kept.len - 1 - i] = t;
  }
  return kept;
}

// Evaluated at compile time: an overflowing network would not compile.
static_assert(selection(kNetMax, kNetMax).len > 0 && selection(kNetMax, kNetMax - 1).len > 0);

template <int H, int W> struct Fixed { static constexpr Net columns = column_sort(H), select = selection(H, W); };
template <int A, int B, bool LO, bool HI, class T> __attribute__((always_inline)) inline void fixed_step(T* v) {
  if constexpr (LO && HI)
    sort2(v[A], v[B]);
  else if constexpr (LO)
    v[A] = minv(v[A], v[B]);
  else
    v[B] = maxv(v[A], v[B]);
}
template <const Net& N, class T, size_t... I>
__attribute__((always_inline)) inline void unrolled(T* v, std::index_sequence<I...>) {
  (void)v;  // an empty network uses nothing
  (fixed_step<N.s[I].a, N.s[I].b, N.s[I].lo, N.s[I].hi>(v), ...);
}

// Fixed window: sorted columns col[r * stride + j], outputs dst[0..Wout).
template <class T, int H, int W> void fixed_select(const T* __restrict col, i64 stride, T* __restrict dst, i64 Wout) {
  using F = Fixed<H, W>;
  for (i64 j = 0; j < Wout; ++j) {
    T v[H * W];
    for (int r = 0; r < H; ++r)
      for (int c = 0; c < W; ++c) v[r * W + c] = col[r * stride + j + c];
    unrolled<F::select>(v, std::make_index_sequence<F::select.len>{});
    dst[j] = v[F::select.target];
  }
}
// Fixed window: column j of rows[0..H) sorted into col[r * stride + j], j < len.
template <class T, int H> void fixed_columns(const T* const* rows, T* __restrict col, i64 stride, i64 len) {
  using F = Fixed<H, H>;
  const T* in[H];
  for (int r = 0; r < H; ++r) in[r] = rows[r];
  for (i64 j = 0; j < len; ++j) {
    T v[H];
    for (int r = 0; r < H; ++r) v[r] = in[r][j];
    unrolled<F::columns>(v, std::make_index_sequence<F::columns.len>{});
    for (int r = 0; r < H; ++r) col[r * stride + j] = v[r];
  }
}

// Fixed window, two output rows at once: rows[1..H-1] are shared, so their columns are
// sorted once and rows[0] and rows[H] are inserted into copies (into a and b).
template <class T, int H> void fixed_pair(const T* const* rows, T* __restrict a, T* __restrict b, i64 stride, i64 len) {
  using F = Fixed<H - 1, H - 1>;
  const T* in[H + 1];
  for (int r = 0; r <= H; ++r) in[r] = rows[r];
// Outputs never alias inputs (too many pointers for the compilers' runtime alias check).
#if defined(__clang__)
#pragma clang loop vectorize(assume_safety)
#else
#pragma GCC ivdep
#endif
  for (i64 j = 0; j < len; ++j) {  // a lane per column
    T u[H], v[H];
    for (int r = 0; r < H - 1; ++r) u[r] = in[r + 1][j];
    unrolled<F::columns>(u, std::make_index_sequence<F::columns.len>{});
    for (int r = 0; r < H - 1; ++r) v[r] = u[r];
    u[H - 1] = in[0][j];
    v[H - 1] = in[H][j];
#pragma GCC unroll 16
    for (int k = H - 2; k >= 0; --k) {
      sort2(u[k], u[k + 1]);
      sort2(v[k], v[k + 1]);
    }
    for (int r = 0; r < H; ++r) {
      a[r * stride + j] = u[r];
      b[r * stride + j] = v[r];
    }
  }
}

// Table-driven: the network over `count` lanes of arrays v[index * stride + t].
template <class T> void table_net(T* v, i64 stride, i64 count, const Net& net) {
  for (int s = 0; s < net.len; ++s) {
    T* __restrict a = v + net.s[s].a * stride;
    T* __restrict b = v + net.s[s].b * stride;
    if (net.s[s].lo && net.s[s].hi) {
      for (i64 t = 0; t < count; ++t) {
        const T x = a[t], y = b[t];
        a[t] = minv(x, y);
        b[t] = maxv(x, y);
      }
    } else if (net.s[s].lo) {
      for (i64 t = 0; t < count; ++t) a[t] = minv(a[t], b[t]);
    } else {
      for (i64 t = 0; t < count; ++t) b[t] = maxv(a[t], b[t]);
    }
  }
}

template <class T> struct Kernels {
  void (*columns)(const T* const*, T*, i64, i64);
  void (*select)(const T*, i64, T*, i64);
  void (*pair)(const T* const*, T*, T*, i64, i64);
};
template <class T, int S> constexpr Kernels<T> fixed_kernels() {
  return {fixed_columns<T, S>, fixed_select<T, S, S>, fixed_pair<T, S>};
}
template <class T> Kernels<T> kernels_for(int h, int w) {
  if (h != w || h < 2 || h > kFixed) return {nullptr, nullptr, nullptr};
  constexpr Kernels<T> k[] = {fixed_kernels<T, 2>(), fixed_kernels<T, 3>(), fixed_kernels<T, 4>(),
                              fixed_kernels<T, 5>(), fixed_kernels<T, 6>(), fixed_kernels<T, 7>()};
  return k[h - 2];
}

// The table-driven networks of an h x w window (column sort, selection), built on first use
// (about 100 KB each, and slower to build than to run on a small image).
const Net* table_for(int h, int w);
}  // namespace mlsec
