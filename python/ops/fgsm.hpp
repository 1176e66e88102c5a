// fgsm(x, grad, eps, targeted, lo, hi, out): out = clip(x + s * sign(grad), lo, hi), s = eps
// (-eps when targeted), eps a scalar or one value per sample.
#pragma once
#include "python/checks.hpp"
#include "cpp/fgsm.hpp"

namespace mlsec::ops {
template <class A> void fgsm(const Go<A>& go, py::handle x_, py::handle g_, py::handle eps_, bool targeted, double lo,
                             double hi, py::handle out_) {
  const A x(x_, "x"), g(g_, "grad"), out(out_, "out", true);
  require_float_out<A>({x, "x"}, {{g, "grad"}}, out);
  require_clip(lo, hi);
  const PerSample eps = per_sample(eps_, "eps", x);
  go.run(x, kFloats, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(fgsm), ptr<T>(x), ptr<T>(g), ptr<T>(out), x.n, x.d, eps, targeted, T(lo), T(hi));
  });
}
}  // namespace mlsec::ops
