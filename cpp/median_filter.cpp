// CPU median filter: rows of sorted columns, then a selection network applied across a
// row of output pixels at once, so every step is a vector min/max.
//
// For output row i, each column of its windows' h input rows is sorted by Batcher's
// network and stored: a sorted column then serves the w outputs that share it. A pixel's
// window is then a grid sorted along its columns; sorting its rows too leaves only a few
// cells able to hold rank k (cell (r, c) has (r+1)(c+1) cells at or below it and (h-r)(w-c)
// at or above), and a small network selects among them. The network is pruned backwards to
// the steps the result depends on (for 3x3 it is the classic closed form of the header).
// Square windows up to kFixed are compiled with the network unrolled, so the whole
// selection runs in vector registers; other sizes run the same network from a table.
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "median_filter.hpp"

namespace mlsec {
namespace {
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
  int idx[kMaxWindow] = {};
  for (int r = 0; r < h; ++r) idx[r] = r;
  batcher(idx, h, net);
  return net;
}

// Cell r * w + c of a window whose columns are sorted: row sorts, then a selection among
// the cells that can hold rank k, pruned to the steps the result (at .target) depends on.
constexpr Net selection(int h, int w) {
  const int n = h * w, k = n / 2;
  Net net;
  int idx[kMaxWindow * kMaxWindow] = {};
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
  bool need[kMaxWindow * kMaxWindow] = {};
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
static_assert(selection(kMaxWindow, kMaxWindow).len > 0 && selection(kMaxWindow, kMaxWindow - 1).len > 0);

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
  for (i64 j = 0; j < len; ++j) {
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

constexpr int kFixed = 7;   // beyond, unrolled networks cost more to compile than they gain
constexpr i64 kBlock = 64;  // output pixels per pass of a table-driven network

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

// c[0..Wp) = row s extended by `left` samples on the left and the rest on the right.
template <class T> void fill_row(T* __restrict c, const T* s, i64 W, i64 left, i64 Wp, i64 step, Edge e) {
  for (i64 j = 0; j < left; ++j) c[j] = s[edge_index(j - left, W, e) * step];
  if (step == 1)
    std::memcpy(c + left, s, W * sizeof(T));
  else
    for (i64 j = 0; j < W; ++j) c[left + j] = s[j * step];
  for (i64 j = left + W; j < Wp; ++j) c[j] = s[edge_index(j - left, W, e) * step];
}

// One thread's share: output rows [begin, end) of the flattened (plane, row) space; with a
// compiled network, two rows of a plane at a time.
template <class T>
void filter_rows(const T* x, T* out, const Planes& g, Window win, const Net* table, i64 begin, i64 end) {
  const int h = win.h, w = win.w, n = h * w;
  const i64 W = g.W, Wp = W + w - 1, stride = (Wp + kBlock + 63) / 64 * 64, step = g.step();
  const Kernels<T> fixed = kernels_for<T>(h, w);
  std::vector<T> rows(static_cast<size_t>((h + 1) * stride)), col(2 * h * stride), row(2 * (W + kBlock));
  std::vector<T> work(fixed.select ? 0 : static_cast<size_t>(n * kBlock));
  const T* rp[kMaxWindow + 1];
  const i64 left = w / 2, right = Wp - left - W;
  i64 edge_at[2 * kMaxWindow];  // input offsets of the edge columns, in the row
  for (i64 j = 0; j < left + right; ++j)
    edge_at[j] = edge_index(j < left ? j - left : W + j - left, W, win.edge) * step;
  for (i64 q = begin; q < end;) {
    const i64 p = q / g.H, i = q - p * g.H;
    const int k = fixed.select && h > 2 && q + 1 < end && i + 1 < g.H ? 2 : 1;  // output rows this pass
    const T* src = x + g.base(p);
    for (int r = 0; r < h + k - 1; ++r) rp[r] = src + edge_index(i - h / 2 + r, g.H, win.edge) * W * step;
    // Each output row brings in one new input row, first read at its edges: fetch it a few
    // rows ahead, or every row starts with a wait on memory.
    for (i64 ahead = i - h / 2 + h + 2; ahead < i - h / 2 + h + 2 + k && ahead < g.H; ++ahead) {
      const char* a = reinterpret_cast<const char*>(src + ahead * W * step);
      for (i64 b = 0; b < W * step * i64(sizeof(T)); b += 64) __builtin_prefetch(a + b);
    }
    T* dst[2];
    for (int o = 0; o < k; ++o) dst[o] = step == 1 ? out + g.base(p) + (i + o) * W : row.data() + o * (W + kBlock);
    if (fixed.select) {
      // Interior columns straight from the input rows; the few edge columns through `rows`.
      T* edge = rows.data();
      for (int r = 0; r < h + k - 1; ++r) {
        T* e = edge + r * stride;
        for (i64 j = 0; j < left + right; ++j) e[j] = rp[r][edge_at[j]];
        if (step != 1) {
          fill_row(e + kBlock, rp[r], W, 0, W, step, win.edge);
          rp[r] = e + kBlock;
        }
      }
      T *ca = col.data(), *cb = ca + h * stride;
      auto columns = [&](i64 at, i64 len) {
        if (k == 2)
          fixed.pair(rp, ca + at, cb + at, stride, len);
        else
          fixed.columns(rp, ca + at, stride, len);
      };
      columns(left, W);
      for (int r = 0; r < h + k - 1; ++r) rp[r] = edge + r * stride;
      columns(0, left);
      for (int r = 0; r < h + k - 1; ++r) rp[r] += left;
      columns(left + W, right);
      fixed.select(ca, stride, dst[0], W);
      if (k == 2) fixed.select(cb, stride, dst[1], W);
    } else {
      for (int r = 0; r < h; ++r) fill_row(rows.data() + r * stride, rp[r], W, left, Wp, step, win.edge);
      const Net &cols = table[0], &sel = table[1];
      table_net(rows.data(), stride, Wp, cols);
      for (i64 j0 = 0; j0 < W; j0 += kBlock) {
        for (int r = 0; r < h; ++r)
          for (int c = 0; c < w; ++c)
            std::memcpy(work.data() + (r * w + c) * kBlock, rows.data() + r * stride + j0 + c, kBlock * sizeof(T));
        table_net(work.data(), kBlock, kBlock, sel);
        std::memcpy(dst[0] + j0, work.data() + sel.target * kBlock, std::min(kBlock, W - j0) * sizeof(T));
      }
    }
    for (int o = 0; step != 1 && o < k; ++o) {
      T* to = out + g.base(p) + (i + o) * W * step;
      for (i64 j = 0; j < W; ++j) to[j * step] = dst[o][j];
    }
    q += k;
  }
}

// The table-driven networks of an h x w window (column sort, selection), built on first use
// (about 100 KB each, and slower to build than to run on a small image).
const Net* table_for(int h, int w) {
  static std::once_flag built[kMaxWindow + 1][kMaxWindow + 1];
  static std::unique_ptr<Net[]> nets[kMaxWindow + 1][kMaxWindow + 1];
  std::call_once(built[h][w], [&] { nets[h][w].reset(new Net[2]{column_sort(h), selection(h, w)}); });
  return nets[h][w].get();
}
}  // namespace

template <class T> void median_filter_cpu(const T* x, T* out, Planes g, Window win) {
  const Net* table = kernels_for<T>(win.h, win.w).select ? nullptr : table_for(win.h, win.w);
  const i64 rows = g.count() * g.H;
  run_parallel(rows * g.W * win.h, [&](int part, int nparts) {
    filter_rows(x, out, g, win, table, rows * part / nparts, rows * (part + 1) / nparts);
  });
}

template void median_filter_cpu<float>(const float*, float*, Planes, Window);
template void median_filter_cpu<double>(const double*, double*, Planes, Window);
template void median_filter_cpu<std::uint8_t>(const std::uint8_t*, std::uint8_t*, Planes, Window);
}  // namespace mlsec
