#include "common.cuh"
#include "pixel_deflection.hpp"

namespace mlsec {
namespace {
template <class T> struct CopyOp {
  const T* x;
  T* out;
  __device__ void operator()(i64 i) const { out[i] = x[i]; }
};

// One thread per (image, channel) plane, its deflections in order; plane t of the call is
// plane first + t of the whole batch (first = s0 * c).
template <class T> struct PlaneOp {
  T* out;
  i64 c, h, w;
  bool nchw;
  i64 deflections, window;
  Philox p;
  i64 first;
  __device__ void operator()(i64 t) const {
    const i64 r = t / c, ch = t - r * c;
    T* plane = out + r * c * h * w + (nchw ? ch * h * w : ch);
    const u64 b0 = u64((first + t) * deflections);
    for (i64 k = 0; k < deflections; ++k) deflect(plane, nchw ? 1 : c, p.block(b0 + u64(k)), h, w, window);
  }
};
}  // namespace

template <class T> void pixel_deflection_cuda(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, bool nchw,
                                              i64 deflections, i64 window, Philox p, i64 s0, void* stream) {
  if (x != out) launch_flat(n * c * h * w, CopyOp<T>{x, out}, stream);
  launch_flat(n * c, PlaneOp<T>{out, c, h, w, nchw, deflections, window, p, s0 * c}, stream);
}

#define MLSEC_INSTANTIATE(T) \
  template void pixel_deflection_cuda<T>(const T*, T*, i64, i64, i64, i64, bool, i64, i64, Philox, i64, void*);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
