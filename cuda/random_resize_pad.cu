#include "common.cuh"
#include "random_resize_pad.hpp"

namespace mlsec {
namespace {
// One thread per output element; taps computed on the spot (cheap next to the loads).
template <class T> struct ResizePadOp {
  const T* x;
  T* out;
  i64 c, h, w, side;
  const int* params;
  bool nchw, bilinear;
  __device__ void operator()(i64 e) const {
    i64 ch, y, q, r;
    if (nchw) {
      q = e % side;
      y = (e / side) % side;
      ch = (e / (side * side)) % c;
      r = e / (side * side * c);
    } else {
      ch = e % c;
      q = (e / c) % side;
      y = (e / (c * side)) % side;
      r = e / (c * side * side);
    }
    const i64 size = params[3 * r], iy = y - params[3 * r + 1], ix = q - params[3 * r + 2];
    if (iy < 0 || iy >= size || ix < 0 || ix >= size) {
      out[e] = T(0);
      return;
    }
    const T* xs = x + r * c * h * w + (nchw ? ch * h * w : ch);
    const i64 xr = nchw ? w : w * c, xq = nchw ? 1 : c;
    const double step_x = resize_step(w, size), step_y = resize_step(h, size);
    if (!bilinear) {
      out[e] = xs[nearest_src(iy, step_y, h) * xr + nearest_src(ix, step_x, w) * xq];
      return;
    }
    const Taps tc = linear_taps(ix, step_x, w, true), tr = linear_taps(iy, step_y, h, false);
    const T* r0 = xs + tr.s0 * xr;
    const T* r1 = xs + tr.s1 * xr;
    using C = float_result<T>;
    const C h0 = mix2<T>(C(r0[tc.s0 * xq]), C(r0[tc.s1 * xq]), tc.a0, tc.a1),
            h1 = mix2<T>(C(r1[tc.s0 * xq]), C(r1[tc.s1 * xq]), tc.a0, tc.a1);
    out[e] = resize_store<T>(mix2<T>(h0, h1, tr.a0, tr.a1));
  }
};
}  // namespace

template <class T> void random_resize_pad_cuda(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, i64 out_size,
                                               const int* params, Layout layout, bool bilinear, void* stream) {
  launch_flat(n * c * out_size * out_size,
              ResizePadOp<T>{x, out, c, h, w, out_size, params, layout == Layout::nchw, bilinear}, stream);
}

#define MLSEC_INSTANTIATE(T) \
  template void random_resize_pad_cuda<T>(const T*, T*, i64, i64, i64, i64, i64, const int*, Layout, bool, void*);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
