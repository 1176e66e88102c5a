// pgd_step(x, x0, grad, step, eps, norm, targeted, l1_sparsity, lo, hi, projection, out): one
// projected gradient step from x, projected back into the eps-ball around x0 and the box.
#pragma once
#include "cpp/pgd_step.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
// The projection code the Python layer passes: 0 (exact) or 1 (ball_then_clip).
inline Projection projection_code(int p) {
  if (p != int(Projection::exact) && p != int(Projection::ball_then_clip))
    value_error("projection must be 'exact' (code 0) or 'ball_then_clip' (code 1), got code " + std::to_string(p));
  return static_cast<Projection>(p);
}

template <class A> void pgd_step(const Go<A>& go, py::handle x_, py::handle x0_, py::handle g_, py::handle step_,
                                 py::handle eps_, int norm, bool targeted, double l1_sparsity, double lo, double hi,
                                 int projection, py::handle out_) {
  const A x(x_, "x"), x0(x0_, "x0"), g(g_, "grad"), out(out_, "out", true);
  require_float_out<A>({x, "x"}, {{x0, "x0"}, {g, "grad"}}, out);
  const Norm nm = norm_code(norm);
  require_unit(l1_sparsity, "l1_sparsity");
  require_clip(lo, hi);
  const Projection pr = projection_code(projection);
  const PerSample step = per_sample(step_, "step", x), eps = per_sample(eps_, "eps", x);
  go.run(x, kFloats, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(pgd_step), ptr<T>(x), ptr<T>(x0), ptr<T>(g), ptr<T>(out), x.n, x.d, step, eps, nm, targeted,
       l1_sparsity, T(lo), T(hi), pr);
  });
}
}  // namespace mlsec::ops
