// non_local_means(x, h, template_size, search_size, layout, out): OpenCV's fastNlMeansDenoising
// per channel (float32 or uint8).
#pragma once
#include "cpp/non_local_means.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
inline NlmParams nlm_params(double h, int template_size, int search_size) {
  if (!(h > 0.0) || std::isinf(h)) value_error("h must be finite and > 0, got " + float_repr(h));
  if (template_size < 1 || template_size > 15 || template_size % 2 == 0)
    value_error("template_size must be odd, in 1..15, got " + std::to_string(template_size));
  if (search_size < 1 || search_size > 45 || search_size % 2 == 0)
    value_error("search_size must be odd, in 1..45, got " + std::to_string(search_size));
  return NlmParams{nlm_c(template_size, h), template_size / 2, search_size / 2};
}

template <class A> void non_local_means(const Go<A>& go, py::handle x_, double h, int template_size, int search_size,
                                        const std::string& layout, py::handle out_) {
  const A x(x_, "x"), out(out_, "out", true);
  const Planes g = image_args(x, out, layout, {Dt::f32, Dt::u8});
  const NlmParams prm = nlm_params(h, template_size, search_size);
  go.run(x, Types<float, std::uint8_t>{}, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(non_local_means), ptr<T>(x), ptr<T>(out), g, prm);
  });
}
}  // namespace mlsec::ops
