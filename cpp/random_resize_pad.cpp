#include "random_resize_pad.hpp"

#include <vector>

namespace mlsec {
namespace {
// OpenCV's two passes: a source row's horizontal pass (size * cin values, channels
// interleaved when cin > 1) is computed once and kept while output rows use it; an output
// row is then the vertical mix of two such rows, a contiguous loop that vectorises.
// Column taps as separate arrays, so that the gathers vectorise.
struct Cols {
  std::vector<int> s0, s1;
  std::vector<float> a0, a1;
  Cols(i64 size, i64 w, double step, bool bilinear) : s0(size), s1(size), a0(size), a1(size) {
    for (i64 j = 0; j < size; ++j) {
      const i64 s = nearest_src(j, step, w);
      const Taps t = bilinear ? linear_taps(j, step, w, true) : Taps{int(s), int(s), 1.0f, 0.0f};
      s0[j] = t.s0, s1[j] = t.s1, a0[j] = t.a0, a1[j] = t.a1;
    }
  }
};

// A source row's horizontal pass, into float_result<T> (integer data mixes in double).
template <class T, class C = float_result<T>>
void horizontal_pass(C* __restrict dst, const T* src, const Cols& cols, i64 size, i64 cin) {
  const int *s0 = cols.s0.data(), *s1 = cols.s1.data();
  const float *a0 = cols.a0.data(), *a1 = cols.a1.data();
  if (cin == 1) {  // NCHW: a loop of gathers the compiler can vectorise
    for (i64 j = 0; j < size; ++j) dst[j] = mix2<T>(C(src[s0[j]]), C(src[s1[j]]), a0[j], a1[j]);
    return;
  }
  for (i64 j = 0; j < size; ++j)
    for (i64 q = 0; q < cin; ++q)
      dst[j * cin + q] = mix2<T>(C(src[s0[j] * cin + q]), C(src[s1[j] * cin + q]), a0[j], a1[j]);
}

template <class T, class C = float_result<T>>
void vertical_pass(T* __restrict d, const C* h0, const C* h1, i64 len, float b0, float b1) {
  for (i64 i = 0; i < len; ++i) d[i] = resize_store<T>(mix2<T>(h0[i], h1[i], b0, b1));
}

template <class T> void nearest_pass(T* __restrict d, const T* src, const Cols& cols, i64 size, i64 cin) {
  const int* s0 = cols.s0.data();
  for (i64 j = 0; j < size; ++j)
    for (i64 q = 0; q < cin; ++q) d[j * cin + q] = src[s0[j] * cin + q];
}

template <class T> void zeros(T* d, i64 len) {
  for (i64 i = 0; i < len; ++i) d[i] = T(0);
}

// Two source rows' horizontal passes; output rows walk down, so a row once evicted is
// never asked for again.
template <class T> struct RowPair {
  std::vector<T> buf;
  i64 len, held[2] = {-1, -1};
  explicit RowPair(i64 n) : buf(2 * n), len(n) {}
  int find(i64 row) const { return held[0] == row ? 0 : (held[1] == row ? 1 : -1); }
  template <class F> int load(int slot, i64 row, F& fill) {
    held[slot] = row;
    fill(buf.data() + slot * len, row);
    return slot;
  }
  template <class F> void get(i64 a, i64 b, F&& fill, const T** pa, const T** pb) {
    int ia = find(a);
    if (ia < 0) ia = load(held[0] == b ? 1 : 0, a, fill);
    int ib = find(b);
    if (ib < 0) ib = load(1 - ia, b, fill);
    *pa = buf.data() + ia * len;
    *pb = buf.data() + ib * len;
  }
};

// One (image, channel group) plane set: NCHW runs each channel with cin = 1, NHWC all
// channels at once with cin = c. xs / os point at the group's first element; rows are
// xr / orow elements apart.
template <class T> void resize_plane(const T* xs, i64 xr, i64 h, T* os, i64 orow, i64 side, i64 cin, i64 size, i64 top,
                                     i64 left, const Cols& cols, double step_y, bool bilinear) {
  using C = float_result<T>;
  RowPair<C> rows(size * cin);
  auto fill = [&](C* dst, i64 row) { horizontal_pass(dst, xs + row * xr, cols, size, cin); };
  for (i64 y = 0; y < side; ++y) {
    T* d = os + y * orow;
    const i64 iy = y - top;
    if (iy < 0 || iy >= size) {
      zeros(d, side * cin);
      continue;
    }
    zeros(d, left * cin);
    if (bilinear) {
      const Taps rt = linear_taps(iy, step_y, h, false);
      const C *h0, *h1;
      rows.get(rt.s0, rt.s1, fill, &h0, &h1);
      vertical_pass(d + left * cin, h0, h1, size * cin, rt.a0, rt.a1);
    } else {
      nearest_pass(d + left * cin, xs + nearest_src(iy, step_y, h) * xr, cols, size, cin);
    }
    zeros(d + (left + size) * cin, (side - left - size) * cin);
  }
}
}  // namespace

template <class T> void random_resize_pad_cpu(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, i64 out_size,
                                              const int* params, Layout layout, bool bilinear) {
  const i64 side = out_size, plane = side * side;
  const bool nchw = layout == Layout::nchw;
  const i64 groups = nchw ? c : 1, cin = nchw ? 1 : c;
  for_each_row(n, c * plane, [&](i64 r) {
    const i64 size = params[3 * r], top = params[3 * r + 1], left = params[3 * r + 2];
    const double step_x = resize_step(w, size), step_y = resize_step(h, size);
    const Cols cols(size, w, step_x, bilinear);
    for (i64 g = 0; g < groups; ++g)
      resize_plane(x + r * c * h * w + g * h * w, w * cin, h, out + r * c * plane + g * plane, side * cin, side, cin,
                   size, top, left, cols, step_y, bilinear);
  });
}

#define MLSEC_INSTANTIATE(T) \
  template void random_resize_pad_cpu<T>(const T*, T*, i64, i64, i64, i64, i64, const int*, Layout, bool);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
