#include "bit_depth.hpp"
#include "common.cuh"

namespace mlsec {
template <class T> struct BitDepthOp {
  const T* x;
  float_result<T>* out;
  BitDepth<T> f;
  __device__ void operator()(i64 i) const { out[i] = f(x[i]); }
};

template <class T>
void bit_depth_cuda(const T* x, float_result<T>* out, i64 total, int bits, double lo, double hi, void* stream) {
  launch_flat(total, BitDepthOp<T>{x, out, BitDepth<T>(bits, lo, hi)}, stream);
}

#define MLSEC_INSTANTIATE(T) \
  template void bit_depth_cuda<T>(const T*, float_result<T>*, i64, int, double, double, void*);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
