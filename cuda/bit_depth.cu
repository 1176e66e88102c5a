#include "bit_depth.hpp"
#include "common.cuh"

namespace mlsec {
template <class T> struct BitDepthOp {
  const T* x;
  T* out;
  BitDepth<T> f;
  __device__ void operator()(i64 i) const { out[i] = f(x[i]); }
};

template <class T> void bit_depth_cuda(const T* x, T* out, i64 total, int bits, double lo, double hi, void* stream) {
  launch_flat(total, BitDepthOp<T>{x, out, BitDepth<T>(bits, lo, hi)}, stream);
}

template void bit_depth_cuda<float>(const float*, float*, i64, int, double, double, void*);
template void bit_depth_cuda<double>(const double*, double*, i64, int, double, double, void*);
template void bit_depth_cuda<std::uint8_t>(const std::uint8_t*, std::uint8_t*, i64, int, double, double, void*);
}  // namespace mlsec
