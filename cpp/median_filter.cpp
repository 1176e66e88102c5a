// CPU median filter: sorting networks across rows of pixels for small windows
// (median_filter_networks.hpp); past them, histograms for one-byte dtypes
// (median_filter_histogram.hpp) and ranks within tiles for every other dtype
// (median_filter_ranks.hpp), the choice per window and dtype measured (method_for).
// Networks select with min/max, which NaN would throw off: rows whose windows hold a NaN
// are filtered by ranks, which give them NaN.
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "median_filter_histogram.hpp"
#include "median_filter_networks.hpp"
#include "median_filter_ranks.hpp"

namespace mlsec {
const Net* table_for(int h, int w) {
  static std::once_flag built[kNetMax + 1][kNetMax + 1];
  static std::unique_ptr<Net[]> nets[kNetMax + 1][kNetMax + 1];
  std::call_once(built[h][w], [&] { nets[h][w].reset(new Net[2]{column_sort(h), selection(h, w)}); });
  return nets[h][w].get();
}

namespace {
constexpr i64 kBlock = 64;  // output pixels per pass of a table-driven network

enum class Method { networks, histogram, ranks };

// The fastest method for the window and dtype (one thread, (1, 3, 224, 224),
// benchmarks/squeeze_notes.md): networks for square windows up to kFixed (unrolled), and
// from the table up to 64 pixels for one-byte dtypes (64 lanes of AVX-512), 50 for two-
// and four-byte ones, 32 for eight-byte ones; beyond, histograms (one-byte, about 25 ns a
// pixel whatever the window) or ranks (O(h + w) a pixel).
template <class T> Method method_for(int h, int w) {
  if ((h == w && h <= kFixed) || (h <= kNetMax && w <= kNetMax &&
                                  h * w <= (sizeof(T) == 1   ? 64
                                            : sizeof(T) == 8 ? 32
                                                             : 50)))
    return Method::networks;
  return sizeof(T) == 1 && i64(h) * w <= kHistogramMaxWindow ? Method::histogram : Method::ranks;
}

template <class T> bool has_nan(const T* r, i64 n, i64 step) {
  int any = 0;
  for (i64 j = 0; j < n; ++j) any |= r[j * step] != r[j * step];
  return any;
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

// One thread's network filter and its buffers; with a compiled network, two output rows at a time.
template <class T> class NetworkRows {
 public:
  NetworkRows(const Planes& g, Window win, const Net* table)
      : g_(g), win_(win), table_(table), fixed_(kernels_for<T>(win.h, win.w)) {
    const i64 W = g.W, Wp = W + win.w - 1;
    stride_ = (Wp + kBlock + 63) / 64 * 64;
    left_ = win.w / 2, right_ = Wp - left_ - W;
    rows_.resize((win.h + 1) * stride_), col_.resize(2 * win.h * stride_), row_.resize(2 * (W + kBlock));
    if (!fixed_.select) work_.resize(win.h * win.w * kBlock);
    for (i64 j = 0; j < left_ + right_; ++j)  // input offsets of the edge columns
      edge_at_.push_back(edge_index(j < left_ ? j - left_ : W + j - left_, W, win.edge) * g.step());
    nan_row_.resize(std::is_floating_point<T>::value ? g.H : 0);
  }

  // Output rows [i0, i1) of plane p; those whose windows hold a NaN go to nan_rows(p, a, b).
  template <class F> void rows(const T* x, T* out, i64 p, i64 i0, i64 i1, F&& nan_rows) {
    const int h = win_.h;
    const i64 W = g_.W, step = g_.step();
    const T* src = x + g_.base(p);
    std::fill(nan_row_.begin(), nan_row_.end(), -1);
    const T* rp[kNetMax + 1];
    for (i64 i = i0; i < i1;) {
      const int k = fixed_.select && h > 2 && i + 1 < i1 ? 2 : 1;  // output rows this pass
      bool nan = false;
      for (int r = 0; r < h + k - 1; ++r) {
        const i64 at = edge_index(i - h / 2 + r, g_.H, win_.edge);
        rp[r] = src + at * W * step;
        if constexpr (std::is_floating_point<T>::value) {
          if (nan_row_[at] < 0) nan_row_[at] = has_nan(rp[r], W, step);
          nan = nan || nan_row_[at];
        }
      }
      if (nan) {
        nan_rows(p, i, i + k);
      } else {
        // Each output row brings in one new input row, first read at its edges: fetch it a
        // few rows ahead, or every row starts with a wait on memory.
        for (i64 ahead = i - h / 2 + h + 2; ahead < i - h / 2 + h + 2 + k && ahead < g_.H; ++ahead) {
          const char* a = reinterpret_cast<const char*>(src + ahead * W * step);
          for (i64 b = 0; b < W * step * i64(sizeof(T)); b += 64) __builtin_prefetch(a + b);
        }
        pass(rp, out, p, i, k);
      }
      i += k;
    }
  }

 private:
  void pass(const T** rp, T* out, i64 p, i64 i, int k) {
    const int h = win_.h, w = win_.w;
    const i64 W = g_.W, Wp = W + w - 1, step = g_.step(), stride = stride_, left = left_, right = right_;
    T* dst[2];
    for (int o = 0; o < k; ++o) dst[o] = step == 1 ? out + g_.base(p) + (i + o) * W : row_.data() + o * (W + kBlock);
    if (fixed_.select) {
      // Interior columns straight from the input rows; the few edge columns through rows_.
      T* edge = rows_.data();
      for (int r = 0; r < h + k - 1; ++r) {
        T* e = edge + r * stride;
        for (i64 j = 0; j < left + right; ++j) e[j] = rp[r][edge_at_[j]];
        if (step != 1) {
          fill_row(e + kBlock, rp[r], W, 0, W, step, win_.edge);
          rp[r] = e + kBlock;
        }
      }
      T *ca = col_.data(), *cb = ca + h * stride;
      auto columns = [&](i64 at, i64 len) {
        if (k == 2)
          fixed_.pair(rp, ca + at, cb + at, stride, len);
        else
          fixed_.columns(rp, ca + at, stride, len);
      };
      columns(left, W);
      for (int r = 0; r < h + k - 1; ++r) rp[r] = edge + r * stride;
      columns(0, left);
      for (int r = 0; r < h + k - 1; ++r) rp[r] += left;
      columns(left + W, right);
      fixed_.select(ca, stride, dst[0], W);
      if (k == 2) fixed_.select(cb, stride, dst[1], W);
    } else {
      for (int r = 0; r < h; ++r) fill_row(rows_.data() + r * stride, rp[r], W, left, Wp, step, win_.edge);
      const Net &cols = table_[0], &sel = table_[1];
      table_net(rows_.data(), stride, Wp, cols);
      for (i64 j0 = 0; j0 < W; j0 += kBlock) {
        for (int r = 0; r < h; ++r)
          for (int c = 0; c < w; ++c)
            std::memcpy(work_.data() + (r * w + c) * kBlock, rows_.data() + r * stride + j0 + c, kBlock * sizeof(T));
        table_net(work_.data(), kBlock, kBlock, sel);
        std::memcpy(dst[0] + j0, work_.data() + sel.target * kBlock, std::min(kBlock, W - j0) * sizeof(T));
      }
    }
    for (int o = 0; step != 1 && o < k; ++o) {
      T* to = out + g_.base(p) + (i + o) * W * step;
      for (i64 j = 0; j < W; ++j) to[j * step] = dst[o][j];
    }
  }

  Planes g_;
  Window win_;
  const Net* table_;
  Kernels<T> fixed_;
  i64 stride_, left_, right_;
  std::vector<T> rows_, col_, row_, work_;
  std::vector<i64> edge_at_;
  std::vector<signed char> nan_row_;  // per input row of the plane: -1 not looked at yet
};
}  // namespace

template <class T> void median_filter_cpu(const T* x, T* out, Planes g, Window win) {
  const i64 rows = g.count() * g.H;
  if (rows == 0 || g.W == 0) return;
  const Method method = method_for<T>(win.h, win.w);
  const bool nets = method == Method::networks;
  const Net* table = nets && !kernels_for<T>(win.h, win.w).select ? table_for(win.h, win.w) : nullptr;
  run_parallel(rows * g.W * std::min(win.h, 16), [&](int part, int nparts) {
    std::optional<RankTiles<T>> ranks;  // made on first use: networks need it only for NaN
    auto by_ranks = [&](i64 p, i64 i0, i64 i1) {
      if (!ranks) ranks.emplace(g, win);
      ranks->rows(x, out, p, i0, i1);
    };
    std::optional<NetworkRows<T>> net;
    if (nets) net.emplace(g, win, table);
    auto by_histograms = [&](i64 p, i64 i0, i64 i1) {
      if constexpr (sizeof(T) == 1) HistogramRows<T>(g, win).rows(x, out, p, i0, i1);
    };
    const i64 begin = rows * part / nparts, end = rows * (part + 1) / nparts;
    for (i64 q = begin; q < end;) {
      const i64 p = q / g.H, i = q - p * g.H, i1 = std::min(g.H, i + (end - q));
      if (nets)
        net->rows(x, out, p, i, i1, by_ranks);
      else if (method == Method::histogram)
        by_histograms(p, i, i1);
      else
        by_ranks(p, i, i1);
      q += i1 - i;
    }
  });
}

#define MLSEC_MEDIAN_CPU(T) template void median_filter_cpu<T>(const T*, T*, Planes, Window);
MLSEC_REAL_TYPES(MLSEC_MEDIAN_CPU)
#undef MLSEC_MEDIAN_CPU
}  // namespace mlsec
