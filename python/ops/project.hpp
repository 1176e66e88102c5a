// project(delta, eps, norm, lo, hi, out): delta projected onto the norm ball of radius eps (a
// scalar or one value per sample), norm code 0 (inf), 1 or 2, intersected with the box
// [lo, hi] (None: unbounded; a number; or an array like delta).
#pragma once
#include <optional>

#include "cpp/project.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
constexpr const char* kBoxOrder = "lo must be <= hi everywhere, and neither may be NaN";

template <class A> struct BoundArg {
  std::optional<A> arr;
  double value;
  template <class T> Bound<T> as() const { return Bound<T>{arr ? ptr<const T>(*arr) : nullptr, T(value)}; }
};

// None (the bound `none`), a Python number, or an array like delta; host arrays of another
// layout raise Fallback, as do NumPy scalars (Python converts them).
template <class A> BoundArg<A> bound_arg(const py::handle& h, const char* name, const A& delta, double none) {
  if (h.is_none()) return {std::nullopt, none};
  if (PyBool_Check(h.ptr())) type_error(std::string(name) + " must be None, a number or an array like delta, got bool");
  if (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr())) {
    const double v = double_of(h);
    if (std::isnan(v)) value_error(kBoxOrder);
    return {std::nullopt, v};
  }
  if constexpr (A::on_host) {
    if (!py::isinstance<py::array>(h)) throw Fallback();
  }
  BoundArg<A> b{A(h, name), 0.0};
  require_like(delta, "delta", *b.arr, name);
  return b;
}

// lo <= hi at every element, no NaN (host arrays; the Python layer checks device ones).
template <class T> void require_box(const Bound<T>& lo, const Bound<T>& hi, i64 count) {
  const i64 m = lo.p || hi.p ? count : 1;
  bool ok = true;
  for (i64 i = 0; i < m; ++i) ok &= lo[i] <= hi[i];
  if (!ok) value_error(kBoxOrder);
}

template <class A> void project(const Go<A>& go, py::handle d_, py::handle eps_, int norm, py::handle lo_,
                                py::handle hi_, py::handle out_) {
  const A d(d_, "delta"), out(out_, "out", true);
  require_float_out<A>({d, "delta"}, {}, out);
  const Norm nm = norm_code(norm);
  const PerSample eps = per_sample(eps_, "eps", d);
  const BoundArg<A> lo = bound_arg(lo_, "lo", d, -INFINITY), hi = bound_arg(hi_, "hi", d, INFINITY);
  if (lo.arr) require_no_partial_overlap(out, *lo.arr, "lo");
  if (hi.arr) require_no_partial_overlap(out, *hi.arr, "hi");
  go.run(d, kFloats, [&](auto t) {
    using T = decltype(t);
    const Bound<T> l = lo.template as<T>(), h = hi.template as<T>();
    if constexpr (A::on_host) require_box(l, h, d.n * d.d);
    go(MLSEC_DRIVERS(project), ptr<T>(d), ptr<T>(out), d.n, d.d, eps, nm, l, h);
  });
}
}  // namespace mlsec::ops
