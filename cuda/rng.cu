#include "common.cuh"
#include "rng.hpp"

namespace mlsec {
namespace {
// Thread t computes block start.block + t once and stores its words that fall in the call.
template <class T, class Conv> struct Fill {
  T* out;
  i64 n;
  Philox p;
  StreamPos start;
  Conv conv;
  __device__ void operator()(i64 t) const {
    T v[4];
    conv(p.block(start.block + u64(t)), v);
    const i64 base = 4 * t - i64(start.lane);
    for (int k = 0; k < 4; ++k)
      if (base + k >= 0 && base + k < n) out[base + k] = v[k];
  }
};

template <class T, class Conv> void fill(T* out, i64 n, Philox p, StreamPos start, Conv conv, void* stream) {
  launch_flat((i64(start.lane) + n + 3) / 4, Fill<T, Conv>{out, n, p, start, conv}, stream);
}

struct Raw {
  __device__ void operator()(const Block& b, u32 v[4]) const {
    for (int k = 0; k < 4; ++k) v[k] = b.w[k];
  }
};
template <class T> struct Uniform {
  __device__ void operator()(const Block& b, T v[4]) const {
    for (int k = 0; k < 4; ++k) v[k] = uniform_as<T>(b.w[k]);
  }
};
template <class T> struct Normal {
  __device__ void operator()(const Block& b, T v[4]) const {
    float z[4];
    normals_of(b, z);
    for (int k = 0; k < 4; ++k) v[k] = T(z[k]);
  }
};
}  // namespace

void random_raw_cuda(u32* out, i64 n, Philox p, StreamPos offset, void* stream) {
  fill(out, n, p, offset, Raw{}, stream);
}
template <class T> void uniform_cuda(T* out, i64 n, Philox p, StreamPos offset, void* stream) {
  fill(out, n, p, offset, Uniform<T>{}, stream);
}
template <class T> void normal_cuda(T* out, i64 n, Philox p, StreamPos offset, void* stream) {
  fill(out, n, p, offset, Normal<T>{}, stream);
}

template void uniform_cuda<float>(float*, i64, Philox, StreamPos, void*);
template void uniform_cuda<double>(double*, i64, Philox, StreamPos, void*);
template void normal_cuda<float>(float*, i64, Philox, StreamPos, void*);
template void normal_cuda<double>(double*, i64, Philox, StreamPos, void*);
}  // namespace mlsec
