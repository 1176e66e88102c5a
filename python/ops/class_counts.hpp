// class_counts(pred, k, counts): adds each row's vote to counts (int64, k + 1 slots, the
// last for labels outside [0, k)); pred is (N,) int32/int64 labels or (N, k) float logits
// (argmax, first maximum).
#pragma once
#include "cpp/class_counts.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
template <class A> void class_counts(const Go<A>& go, py::handle pred_, i64 k, py::handle counts_) {
  const A pred(pred_, "pred"), counts(counts_, "counts", true);
  const bool logits = pred.dt == Dt::f32 || pred.dt == Dt::f64;
  if (!logits && pred.dt != Dt::i32 && pred.dt != Dt::i64)
    type_error("the model's output must be float32/float64 logits or int32/int64 labels");
  if (k < 1) value_error("the number of classes must be >= 1, got " + std::to_string(k));
  const Shape s = pred.shape();
  if (logits ? (s.size() != 2 || s[1] != k) : s.size() != 1)
    value_error("the model's output must be labels (batch,) or logits (batch, " + std::to_string(k) + ")");
  if (counts.dt != Dt::i64 || counts.shape() != std::initializer_list<i64>{k + 1})
    value_error("counts must be int64 of k + 1 slots");
  require_same_device(pred, "pred", counts, "counts");
  go.run(pred, Types<float, double, std::int32_t, std::int64_t>{}, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(class_counts), ptr<T>(pred), pred.n, k, logits, ptr<i64>(counts));
  });
}
}  // namespace mlsec::ops
