#include <cstdint>

#include "class_counts.hpp"
#include "common.cuh"

namespace mlsec {
namespace {
template <class T> struct VoteOp {
  const T* pred;
  i64 k;
  bool is_logits;
  i64* counts;
  __device__ void operator()(i64 i) const {
    const i64 slot = is_logits ? argmax_first(pred + i * k, k) : vote_slot(i64(pred[i]), k);
    atomicAdd(reinterpret_cast<unsigned long long*>(counts + slot), 1ull);
  }
};
}  // namespace

template <class T> void class_counts_cuda(const T* pred, i64 n, i64 k, bool is_logits, i64* counts, void* stream) {
  launch_flat(n, VoteOp<T>{pred, k, is_logits, counts}, stream);
}

template void class_counts_cuda<float>(const float*, i64, i64, bool, i64*, void*);
template void class_counts_cuda<double>(const double*, i64, i64, bool, i64*, void*);
template void class_counts_cuda<std::int32_t>(const std::int32_t*, i64, i64, bool, i64*, void*);
template void class_counts_cuda<std::int64_t>(const std::int64_t*, i64, i64, bool, i64*, void*);
}  // namespace mlsec
