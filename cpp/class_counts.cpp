#include "class_counts.hpp"

#include <cstdint>

namespace mlsec {
// One thread: a batch of votes costs far less than the model call that produced it.
template <class T> void class_counts_cpu(const T* pred, i64 n, i64 k, bool is_logits, i64* counts) {
  for (i64 i = 0; i < n; ++i) ++counts[is_logits ? argmax_first(pred + i * k, k) : vote_slot(i64(pred[i]), k)];
}

template void class_counts_cpu<float>(const float*, i64, i64, bool, i64*);
template void class_counts_cpu<double>(const double*, i64, i64, bool, i64*);
template void class_counts_cpu<std::int32_t>(const std::int32_t*, i64, i64, bool, i64*);
template void class_counts_cpu<std::int64_t>(const std::int64_t*, i64, i64, bool, i64*);
}  // namespace mlsec
