// Binding-side checks for host arrays. The Python layer calls the C++ entry points
// directly on its fast path, so every check a kernel relies on is made here, with the
// message naming the argument. Layouts the kernels do not take (non-contiguous arrays,
// per-sample parameters given as lists) raise Fallback: the Python layer then
// normalises them and calls again.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "common.hpp"
#include "random_start.hpp"

namespace py = pybind11;

namespace mlsec {
struct Fallback : std::exception {
  const char* what() const noexcept override { return "needs normalisation in Python"; }
};

[[noreturn]] inline void value_error(const std::string& m) { throw py::value_error(m); }
[[noreturn]] inline void type_error(const std::string& m) { throw py::type_error(m); }

enum class Dt { f32, f64, u8, u32, other };

inline Dt dtype_of(const py::array& a) {
  const auto k = a.dtype().kind();
  const auto s = a.itemsize();
  if (k == 'f' && s == 4) return Dt::f32;
  if (k == 'f' && s == 8) return Dt::f64;
  if (k == 'u' && s == 1) return Dt::u8;
  if (k == 'u' && s == 4) return Dt::u32;
  return Dt::other;
}

// A C-contiguous array seen as (n, d): n = shape[0], d = product of the rest.
struct Host {
  py::array arr;
  Dt dt;
  i64 n, d;
  void* data() const { return const_cast<void*>(arr.data()); }
  i64 bytes() const { return n * d * static_cast<i64>(arr.itemsize()); }
};

inline Host host(const py::handle& h, const char* name, bool writable = false) {
  if (!py::isinstance<py::array>(h)) throw Fallback();
  auto a = py::reinterpret_borrow<py::array>(h);
  if (!(a.flags() & py::array::c_style) || a.dtype().byteorder() == '>') throw Fallback();
  if (a.ndim() < 1) value_error(std::string(name) + " must have at least one axis (samples first), got a 0-d array");
  if (writable && !a.writeable()) value_error(std::string(name) + " is read-only");
  const i64 n = a.shape(0);
  i64 d = 1;
  for (py::ssize_t k = 1; k < a.ndim(); ++k) d *= a.shape(k);
  return Host{a, dtype_of(a), n, d};
}

inline const char* dt_name(Dt dt) {
  switch (dt) {
    case Dt::f32: return "float32";
    case Dt::f64: return "float64";
    case Dt::u8: return "uint8";
    case Dt::u32: return "uint32";
    default: return "an unsupported dtype";
  }
}

inline void require_float(const Host& a, const char* name) {
  if (a.dt != Dt::f32 && a.dt != Dt::f64)
    type_error(std::string(name) + " must be float32 or float64, got " + std::string(py::str(a.arr.dtype())));
}

// b must match a in shape and dtype; an output may alias an input exactly, never in part.
inline void require_like(const Host& a, const char* an, const Host& b, const char* bn) {
  bool same = a.arr.ndim() == b.arr.ndim();
  for (py::ssize_t k = 0; same && k < a.arr.ndim(); ++k) same = a.arr.shape(k) == b.arr.shape(k);
  if (!same) value_error(std::string(bn) + " must have the shape of " + an + ": " + std::string(py::str(b.arr.attr("shape"))) + " vs " + std::string(py::str(a.arr.attr("shape"))));
  if (a.dt != b.dt) type_error(std::string(bn) + " must have the dtype of " + an + " (" + dt_name(a.dt) + "), got " + std::string(py::str(b.arr.dtype())));
}

inline void require_no_partial_overlap(const Host& out, const Host& in, const char* in_name) {
  const char *o = static_cast<const char*>(out.data()), *i = static_cast<const char*>(in.data());
  if (o != i && o < i + in.bytes() && i < o + out.bytes())
    value_error(std::string("out overlaps ") + in_name + " in part; it may only alias it exactly");
}

inline void require_param(double v, const char* name) {
  if (!(v >= 0.0) || std::isinf(v)) value_error(std::string(name) + " must be finite and >= 0, got " + std::to_string(v));
}

// A scalar (Python number) or a C-contiguous float64 array of one value per sample,
// each finite and >= 0.
inline PerSample per_sample(const py::handle& h, const char* name, i64 n) {
  if (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr())) {
    const double v = py::cast<double>(h);
    require_param(v, name);
    return PerSample{nullptr, v};
  }
  if (!py::isinstance<py::array>(h)) throw Fallback();
  auto a = py::reinterpret_borrow<py::array>(h);
  if (a.ndim() != 1 || dtype_of(a) != Dt::f64 || !(a.flags() & py::array::c_style)) throw Fallback();
  if (a.shape(0) != n) value_error(std::string(name) + " must be a scalar or have one value per sample (" + std::to_string(n) + "), got " + std::to_string(a.shape(0)));
  const double* p = static_cast<const double*>(a.data());
  for (i64 i = 0; i < n; ++i) require_param(p[i], name);
  return PerSample{p, 0.0};
}

inline void require_clip(double lo, double hi) {
  if (std::isnan(lo) || std::isnan(hi) || lo > hi) value_error("clip must be (low, high) with low <= high, got (" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
}

// a.dt must be one of `ok`; got() names the dtype found (host and device arrays alike). The
// message is built only on failure: this runs on every call of the fast path.
template <class A, class G> void require_dtype(const A& a, const char* name, std::initializer_list<Dt> ok, G&& got) {
  for (Dt d : ok)
    if (a.dt == d) return;
  std::string m = std::string(name) + " must be ";
  for (Dt d : ok) m += (d == *ok.begin() ? "" : " or ") + std::string(dt_name(d));
  type_error(m + ", got " + got());
}
inline void require_dtype(const Host& a, const char* name, std::initializer_list<Dt> ok) {
  require_dtype(a, name, ok, [&] { return std::string(py::str(a.arr.dtype())); });
}

// Runs f(T{}) for float32, float64 or uint8 data (callers check the dtype first).
template <class F> void dtype_switch(Dt dt, F&& f) {
  if (dt == Dt::f32) f(float{});
  else if (dt == Dt::f64) f(double{});
  else if (dt == Dt::u8) f(std::uint8_t{});
  else type_error("unsupported dtype");
}

// A Python int in [0, 2^64) (seeds, substreams, stream offsets).
inline u64 u64_arg(const py::handle& h, const char* name) {
  if (!PyLong_Check(h.ptr()) || PyBool_Check(h.ptr())) type_error(std::string(name) + " must be an int, got " + std::string(py::str(py::type::of(h).attr("__name__"))));
  const unsigned long long v = PyLong_AsUnsignedLongLong(h.ptr());
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    value_error(std::string(name) + " must be in [0, 2**64), got " + std::string(py::str(h)));
  }
  return static_cast<u64>(v);
}

// The stream element a fill of `count` elements starts at: an int in [0, 2^66 - count]
// (a substream holds 2^64 blocks of 4 words).
inline StreamPos offset_arg(const py::handle& h, i64 count) {
  if (!PyLong_Check(h.ptr()) || PyBool_Check(h.ptr())) type_error("offset must be an int, got " + std::string(py::str(py::type::of(h).attr("__name__"))));
  py::int_ o = py::reinterpret_borrow<py::int_>(h);
  if (o < py::int_(0) || py::int_(o + py::int_(count)) > (py::int_(1).attr("__lshift__")(66)))
    value_error("offset must be >= 0 with offset + size <= 2**66, got " + std::string(py::str(h)));
  return StreamPos{u64_arg(o.attr("__rshift__")(2), "offset"), py::cast<u32>(o.attr("__and__")(3))};
}

// The norm code the Python layer passes: 0 (inf), 1 or 2.
inline Norm norm_code(int norm) {
  if (norm != 0 && norm != 1 && norm != 2) value_error("norm must be 'inf' (code 0), 1 or 2, got code " + std::to_string(norm));
  return static_cast<Norm>(norm);
}

inline void require_unit(double v, const char* name) {
  if (!(v >= 0.0 && v <= 1.0)) value_error(std::string(name) + " must be in [0, 1], got " + std::to_string(v));
}

// A float input and the out it is written to (same shape and dtype, aliasing it exactly or
// not at all), for host (Host) and device (Dev) arrays alike.
template <class A> void require_float_out(const A& x, const char* name, const A& out) {
  require_float(x, name);
  require_like(x, name, out, "out");
  require_no_partial_overlap(out, x, name);
}

// The checks of an fgsm call, for host and device arrays alike.
template <class A> void require_fgsm(const A& x, const A& g, const A& out, double lo, double hi) {
  require_float(x, "x");
  require_like(x, "x", g, "grad");
  require_like(x, "x", out, "out");
  require_no_partial_overlap(out, x, "x");
  require_no_partial_overlap(out, g, "grad");
  require_clip(lo, hi);
}

// The checks of a pgd_step call, for host (Host) and device (Dev) arrays alike; returns the norm.
template <class A>
Norm require_pgd_step(const A& x, const A& x0, const A& g, const A& out, int norm, double l1_sparsity, double lo,
                      double hi) {
  require_float(x, "x");
  require_like(x, "x", x0, "x0");
  require_like(x, "x", g, "grad");
  require_like(x, "x", out, "out");
  require_no_partial_overlap(out, x, "x");
  require_no_partial_overlap(out, x0, "x0");
  require_no_partial_overlap(out, g, "grad");
  const Norm nm = norm_code(norm);
  require_unit(l1_sparsity, "l1_sparsity");
  require_clip(lo, hi);
  return nm;
}

// A Python float or int (not a bool) that is finite and > 0 (positive) or >= 0; other
// types (NumPy scalars) raise Fallback for the Python layer to convert or refuse.
inline double real_arg(const py::handle& h, const char* name, bool positive) {
  if (!(PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr())) || PyBool_Check(h.ptr())) throw Fallback();
  const double v = py::cast<double>(h);
  if (!(positive ? v > 0.0 : v >= 0.0) || std::isinf(v))
    value_error(std::string(name) + " must be finite and " + (positive ? "> 0" : ">= 0") + ", got " + std::string(py::str(h)));
  return v;
}

// A Python int (not a bool); other types raise Fallback, as in real_arg.
inline i64 int_arg(const py::handle& h, const char* name) {
  if (!PyLong_Check(h.ptr()) || PyBool_Check(h.ptr())) throw Fallback();
  const long long v = PyLong_AsLongLong(h.ptr());
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    value_error(std::string(name) + " is out of range: " + std::string(py::str(h)));
  }
  return i64(v);
}

// Runs f(T{}) for the array's float dtype.
template <class F> void float_switch(Dt dt, F&& f) {
  if (dt == Dt::f32) f(float{});
  else f(double{});
}
}  // namespace mlsec
