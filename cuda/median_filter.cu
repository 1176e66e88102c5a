// CUDA median filter: one thread per output pixel, each running median_at
// (median_filter.hpp): a 3x3 closed form, a selection in thread-local memory up to
// kLocalWindow pixels, a radix selection straight from the image beyond.
#include "common.cuh"
#include "median_filter.hpp"

namespace mlsec {
template <class T> struct MedianOp {
  const T* x;
  T* out;
  Planes g;
  Window win;
  __device__ void operator()(i64 idx) const {
    const Pixel q = pixel_of(g, idx);
    out[g.offset(q.p, q.i, q.j)] = median_at(x, g, win, q.p, q.i, q.j);
  }
};

template <class T> void median_filter_cuda(const T* x, T* out, Planes g, Window win, void* stream) {
  launch_flat(g.count() * g.H * g.W, MedianOp<T>{x, out, g, win}, stream);
}

#define MLSEC_MEDIAN_CUDA(T) template void median_filter_cuda<T>(const T*, T*, Planes, Window, void*);
MLSEC_REAL_TYPES(MLSEC_MEDIAN_CUDA)
#undef MLSEC_MEDIAN_CUDA
}  // namespace mlsec
