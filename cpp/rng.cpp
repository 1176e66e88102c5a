#include "rng.hpp"

namespace mlsec {
namespace {
// Splits [0, n) among threads; each piece runs philox_span from its own stream element.
template <class F> void fill(i64 n, StreamPos offset, const Philox& p, F&& f) {
  for_each_span(1, n, [&](i64, i64 j0, i64 j1) {
    philox_span(p, offset.plus(u64(j0)), j1 - j0, [&](i64 pos, const Block& b, int k0, int k1) { f(j0 + pos, b, k0, k1); });
  });
}
}  // namespace

void random_raw_cpu(u32* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const Block& b, int k0, int k1) {
    for (int k = k0; k < k1; ++k) out[pos + k] = b.w[k];
  });
}

template <class T> void uniform_cpu(T* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const Block& b, int k0, int k1) {
    for (int k = k0; k < k1; ++k) out[pos + k] = uniform_as<T>(b.w[k]);
  });
}

template <class T> void normal_cpu(T* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const Block& b, int k0, int k1) {
    float z[4];
    normals_of(b, z);
    for (int k = k0; k < k1; ++k) out[pos + k] = T(z[k]);
  });
}

template void uniform_cpu<float>(float*, i64, Philox, StreamPos);
template void uniform_cpu<double>(double*, i64, Philox, StreamPos);
template void normal_cpu<float>(float*, i64, Philox, StreamPos);
template void normal_cpu<double>(double*, i64, Philox, StreamPos);
}  // namespace mlsec
