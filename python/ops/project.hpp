// project(delta, eps, norm, out): delta projected onto the norm ball of radius eps (a scalar or
// one value per sample), norm code 0 (inf), 1 or 2.
#pragma once
#include "cpp/project.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
template <class A> void project(const Go<A>& go, py::handle d_, py::handle eps_, int norm, py::handle out_) {
  const A d(d_, "delta"), out(out_, "out", true);
  require_float_out<A>({d, "delta"}, {}, out);
  const Norm nm = norm_code(norm);
  const PerSample eps = per_sample(eps_, "eps", d);
  go.run(d, kFloats, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(project), ptr<T>(d), ptr<T>(out), d.n, d.d, eps, nm);
  });
}
}  // namespace mlsec::ops
