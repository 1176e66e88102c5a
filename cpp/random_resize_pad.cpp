#include "random_resize_pad.hpp"

#include <vector>

namespace mlsec {
namespace {
// One output row of one channel: zeros, the resampled span [left, left + size), zeros.
// ds / ss: element strides of out and x along a row (1 for NCHW, c for NHWC).
template <class T>
MLSEC_CLONES void linear_row(T* d, i64 ds, const T* r0, const T* r1, i64 ss, const Taps* cols, i64 size, i64 left, i64 side,
                             float b0, float b1) {
  for (i64 i = 0; i < left; ++i) d[i * ds] = T(0);
  T* dd = d + left * ds;
  for (i64 j = 0; j < size; ++j) {
    const Taps t = cols[j];
    const T h0 = lerp2(r0[t.s0 * ss], r0[t.s1 * ss], t.a0, t.a1), h1 = lerp2(r1[t.s0 * ss], r1[t.s1 * ss], t.a0, t.a1);
    dd[j * ds] = lerp2(h0, h1, b0, b1);
  }
  for (i64 i = left + size; i < side; ++i) d[i * ds] = T(0);
}

template <class T>
MLSEC_CLONES void nearest_row(T* d, i64 ds, const T* r0, i64 ss, const Taps* cols, i64 size, i64 left, i64 side) {
  for (i64 i = 0; i < left; ++i) d[i * ds] = T(0);
  T* dd = d + left * ds;
  for (i64 j = 0; j < size; ++j) dd[j * ds] = r0[cols[j].s0 * ss];
  for (i64 i = left + size; i < side; ++i) d[i * ds] = T(0);
}
}  // namespace

template <class T>
void random_resize_pad_cpu(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, i64 out_size, const int* params, Layout layout,
                           bool bilinear) {
  const i64 side = out_size, plane = side * side;
  const bool nchw = layout == Layout::nchw;
  // strides of (channel, row, column) in x and in out
  const i64 xc = nchw ? h * w : 1, xr = nchw ? w : w * c, xq = nchw ? 1 : c;
  const i64 oc = nchw ? plane : 1, orow = nchw ? side : side * c, oq = nchw ? 1 : c;
  for_each_row(n, c * plane, [&](i64 r) {
    const i64 size = params[3 * r], top = params[3 * r + 1], left = params[3 * r + 2];
    const T* xs = x + r * c * h * w;
    T* os = out + r * c * plane;
    const double step_x = resize_step(w, size), step_y = resize_step(h, size);
    std::vector<Taps> cols(size);
    for (i64 j = 0; j < size; ++j) {
      const i64 s = nearest_src(j, step_x, w);
      cols[j] = bilinear ? linear_taps(j, step_x, w, true) : Taps{s, s, 1.0f, 0.0f};
    }
    for (i64 y = 0; y < side; ++y) {
      const i64 iy = y - top;
      if (iy < 0 || iy >= size) {
        for (i64 ch = 0; ch < c; ++ch)
          for (i64 i = 0; i < side; ++i) os[ch * oc + y * orow + i * oq] = T(0);
        continue;
      }
      const i64 sy = nearest_src(iy, step_y, h);
      const Taps rt = bilinear ? linear_taps(iy, step_y, h, false) : Taps{sy, sy, 1.0f, 0.0f};
      for (i64 ch = 0; ch < c; ++ch) {
        T* d = os + ch * oc + y * orow;
        const T* r0 = xs + ch * xc + rt.s0 * xr;
        if (bilinear) linear_row(d, oq, r0, xs + ch * xc + rt.s1 * xr, xq, cols.data(), size, left, side, rt.a0, rt.a1);
        else nearest_row(d, oq, r0, xq, cols.data(), size, left, side);
      }
    }
  });
}

template void random_resize_pad_cpu<float>(const float*, float*, i64, i64, i64, i64, i64, const int*, Layout, bool);
template void random_resize_pad_cpu<double>(const double*, double*, i64, i64, i64, i64, i64, const int*, Layout, bool);
}  // namespace mlsec
