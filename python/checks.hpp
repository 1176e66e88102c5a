// The binding-side rules, written once for host and device arrays (A: Host or Dev, see
// array.hpp) with one message per rule; the Python layer's own checks use the same words.
// Rules only one op has live in its ops/<op>.hpp. Messages are built only on failure: these
// run on every call of the fast path.
#pragma once
#include <cmath>
#include <initializer_list>
#include <string>

#include <pybind11/numpy.h>

#include "array.hpp"
#include "image.hpp"
#include "philox.hpp"
#include "random_resize_pad.hpp"

namespace mlsec {
template <class A> void require_dtype(const A& a, const char* name, std::initializer_list<Dt> ok) {
  for (Dt d : ok)
    if (a.dt == d) return;
  std::string m = std::string(name) + " must be ";
  for (Dt d : ok) m += (d == *ok.begin() ? "" : " or ") + std::string(dt_name(d));
  type_error(m + ", got " + a.dtype_str());
}
template <class A> void require_float(const A& a, const char* name) { require_dtype(a, name, {Dt::f32, Dt::f64}); }
// float32, float64 or any real integer dtype (the Python layer's REALS, same words).
template <class A> void require_real(const A& a, const char* name) {
  if (a.dt == Dt::other)
    type_error(std::string(name) + " must be float32, float64 or an integer dtype, got " + a.dtype_str());
}

template <class A> void require_same_device(const A& a, const char* an, const A& b, const char* bn) {
  if (a.device >= 0 && b.device >= 0 && a.device != b.device)
    value_error(std::string(bn) + " is on another device than " + an);
}

// b must match a in shape, dtype and device.
template <class A> void require_like(const A& a, const char* an, const A& b, const char* bn) {
  if (a.shape() != b.shape())
    value_error(std::string(bn) + " must have the shape of " + an + ": " + b.shape().str() + " vs " + a.shape().str());
  if (a.dt != b.dt)
    type_error(std::string(bn) + " must have the dtype of " + an + " (" + dt_name(a.dt) + "), got " + b.dtype_str());
  require_same_device(a, an, b, bn);
}

// out must have x's shape and device and dtype dt (the op's result type, x's by default,
// float64 for integer data where an op computes in floating point); the Python layer's
// words (it checks out alike for every op, whatever the result's shape).
template <class A> void require_out(const A& x, const A& out, Dt dt) {
  if (x.shape() != out.shape()) value_error("out must have shape " + x.shape().str() + ", got " + out.shape().str());
  if (out.dt != dt) type_error(std::string("out must have dtype ") + dt_name(dt) + ", got " + out.dtype_str());
  require_same_device(x, "x", out, "out");
}
template <class A> void require_out(const A& x, const A& out) { require_out(x, out, x.dt); }

template <class A> bool overlap(const A& a, const A& b) {
  const char *p = static_cast<const char*>(a.data()), *q = static_cast<const char*>(b.data());
  return p < q + b.bytes() && q < p + a.bytes();
}
// Elementwise ops may write over an input exactly (same dtype), never over part of one.
template <class A> void require_no_partial_overlap(const A& out, const A& in, const char* in_name) {
  if (!(out.data() == in.data() && out.dt == in.dt) && overlap(out, in))
    value_error(std::string("out overlaps ") + in_name + " in part; it may only alias it exactly");
}
// Ops that read a neighbourhood of each pixel must not write over their input at all.
template <class A> void require_disjoint(const A& out, const A& x) {
  if (overlap(out, x)) value_error("out must not overlap x (this op reads neighbouring pixels)");
}

template <class A> struct Named {
  const A& a;
  const char* name;
};
// A float input x, the inputs that must match it and the out they are written to, which
// may alias each of them exactly or not at all.
template <class A> void require_float_out(Named<A> x, std::initializer_list<Named<A>> like, const A& out) {
  require_float(x.a, x.name);
  for (const auto& i : like) require_like(x.a, x.name, i.a, i.name);
  require_out(x.a, out);
  require_no_partial_overlap(out, x.a, x.name);
  for (const auto& i : like) require_no_partial_overlap(out, i.a, i.name);
}

// A double as Python's repr writes it (the Python layer's messages show the same value).
inline std::string float_repr(double v) { return std::string(py::repr(py::float_(v))); }

// A Python float or int as a double, an int beyond double's range as +-infinity (as the
// Python layer's _float_or_inf reads it; pybind11's cast would raise its own dump).
inline double double_of(const py::handle& h) {
  const double v = PyFloat_Check(h.ptr()) ? PyFloat_AS_DOUBLE(h.ptr()) : PyLong_AsDouble(h.ptr());
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    return py::int_(py::reinterpret_borrow<py::int_>(h)) > py::int_(0) ? INFINITY : -INFINITY;
  }
  return v;
}

inline void require_param(double v, const char* name) {
  if (!(v >= 0.0) || std::isinf(v)) value_error(std::string(name) + " must be finite and >= 0, got " + float_repr(v));
}

// A scalar (Python number) or an array of one float64 value per sample, each finite and
// >= 0. Host arrays of another layout raise Fallback (Python converts them) and have their
// values checked here; device values were checked by the Python layer, which holds them
// before they move to the device.
// float32 data (like's dtype) computes in float32: a value beyond its range would be inf
// there (NaN in x + inf * 0), finite in the float64 reference, so it is refused.
template <class A> PerSample per_sample(const py::handle& h, const char* name, const A& like) {
  if (PyBool_Check(h.ptr())) type_error(std::string(name) + " must be a number or one per sample, got bool");
  const bool f32 = like.dt == Dt::f32;
  if (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr())) {
    const double v = double_of(h);
    require_param(v, name);
    if (f32 && std::isinf(float(v)))
      value_error(std::string(name) + " must be finite in the data's dtype (float32), got " + float_repr(v));
    return PerSample{nullptr, v};
  }
  if constexpr (A::on_host) {
    if (!py::isinstance<py::array>(h) || py::reinterpret_borrow<py::array>(h).ndim() != 1) throw Fallback();
  }
  const A a(h, name);
  if (a.shape().size() != 1 || a.dt != Dt::f64) {
    if constexpr (A::on_host) throw Fallback();
    value_error(std::string(name) + " must be a scalar or a float64 array with one value per sample");
  }
  if (a.n != like.n)
    value_error(std::string(name) + " must be a scalar or have one value per sample (" + std::to_string(like.n) +
                "), got shape (" + std::to_string(a.n) + ",)");
  require_same_device(like, "the data", a, name);
  const double* p = ptr<const double>(a);
  // The message names the sample, never its value: arrays' contents stay out of messages.
  if constexpr (A::on_host)
    for (i64 i = 0; i < a.n; ++i)
      if (!(p[i] >= 0.0) || std::isinf(p[i]) || (f32 && std::isinf(float(p[i]))))
        value_error(std::string(name) + " must be finite and >= 0 for every sample" +
                    (f32 ? " (in the data's dtype, float32)" : "") + "; sample " + std::to_string(i) + " is not");
  return PerSample{p, 0.0};
}

inline void require_clip(double lo, double hi) {
  if (std::isnan(lo) || std::isnan(hi) || lo > hi)
    value_error("clip must be (low, high) with low <= high, got (" + float_repr(lo) + ", " + float_repr(hi) + ")");
}

inline void require_unit(double v, const char* name) {
  if (!(v >= 0.0 && v <= 1.0)) value_error(std::string(name) + " must be in [0, 1], got " + float_repr(v));
}

// The norm code the Python layer passes: 0 (inf), 1 or 2.
inline Norm norm_code(int norm) {
  if (norm != 0 && norm != 1 && norm != 2)
    value_error("norm must be 'inf' (code 0), 1 or 2, got code " + std::to_string(norm));
  return static_cast<Norm>(norm);
}

inline std::string type_name(const py::handle& h) { return std::string(py::str(py::type::of(h).attr("__name__"))); }

// A Python int in [0, 2^64) (seeds, substreams, stream offsets).
inline u64 u64_arg(const py::handle& h, const char* name) {
  if (!PyLong_Check(h.ptr()) || PyBool_Check(h.ptr()))
    type_error(std::string(name) + " must be an int, got " + type_name(h));
  const unsigned long long v = PyLong_AsUnsignedLongLong(h.ptr());
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();
    value_error(std::string(name) + " must be in [0, 2**64), got " + std::string(py::str(h)));
  }
  return static_cast<u64>(v);
}

inline Philox philox_arg(const py::handle& seed, const py::handle& substream) {
  return Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
}

// The stream element a fill of `count` elements starts at: an int in [0, 2^66 - count]
// (a substream holds 2^64 blocks of 4 words).
inline StreamPos offset_arg(const py::handle& h, i64 count) {
  if (!PyLong_Check(h.ptr()) || PyBool_Check(h.ptr())) type_error("offset must be an int, got " + type_name(h));
  py::int_ o = py::reinterpret_borrow<py::int_>(h);
  if (o < py::int_(0) || py::int_(o + py::int_(count)) > (py::int_(1).attr("__lshift__")(66)))
    value_error("offset must be >= 0 with offset + size <= 2**66, got " + std::string(py::str(h)));
  if (count == 0) return StreamPos{0, 0};  // nothing drawn: 2**66 is the end, not past it (its block is not a u64)
  return StreamPos{u64_arg(o.attr("__rshift__")(2), "offset"), py::cast<u32>(o.attr("__and__")(3))};
}

// sample_start (the global index of a batch's first sample, for ops run on pieces of a
// batch): a Python int >= 0 with (sample_start + n) * per * per2 <= 2^63, the i64 counters
// of the kernels that take it (per * per2 stream units a sample, a product of two that may
// not fit an i64; 0 counts as 1); other types raise Fallback. The messages of
// _seeds.check_sample_start.
inline i64 sample_start_arg(const py::handle& h, i64 n, i64 per, i64 per2 = 1) {
  if (!PyLong_Check(h.ptr()) || PyBool_Check(h.ptr())) throw Fallback();
  int over = 0;
  const long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &over);
  if (over < 0 || (over == 0 && v < 0)) value_error("sample_start must be >= 0, got " + std::string(py::str(h)));
  // floor(floor(2^63 / a) / b) = floor(2^63 / (a*b)), without the product
  const u64 limit = per <= 0 || per2 <= 0 ? u64(1) << 63 : (u64(1) << 63) / u64(per) / u64(per2);
  bool fits = over == 0 && u64(n) <= limit && u64(v) <= limit - u64(n);
  if (over > 0) {  // beyond 2^63 - 1: within the limit only as 2^63 itself, with n = 0
    const unsigned long long big = PyLong_AsUnsignedLongLong(h.ptr());
    if (PyErr_Occurred()) PyErr_Clear();
    fits = n == 0 && limit == (u64(1) << 63) && big == limit;
  }
  if (!fits)
    value_error("sample_start + N must be <= " + std::to_string(limit) + " for this op and sample size, got " +
                std::string(py::str(h)) + " + " + std::to_string(n));
  return over > 0 ? 0 : i64(v);  // over > 0 only with n = 0: nothing is drawn
}

// A Python float or int (not a bool) that is finite and > 0 (positive) or >= 0; other
// types (NumPy scalars) raise Fallback for the Python layer to convert or refuse.
inline double real_arg(const py::handle& h, const char* name, bool positive) {
  if (!(PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr())) || PyBool_Check(h.ptr())) throw Fallback();
  const double v = double_of(h);
  if (!(positive ? v > 0.0 : v >= 0.0) || std::isinf(v))
    value_error(std::string(name) + " must be finite and " + (positive ? "> 0" : ">= 0") + ", got " +
                (std::isinf(v) ? float_repr(v) : std::string(py::str(h))));  // (the Python layer's words)
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

// A string argument as the Python layer's describe() shows it: its repr, or its length when
// the repr is over 60 characters (a message, and a log, stays short).
inline std::string shown(const std::string& s) {
  const py::str v(s);
  const std::string r = py::repr(v);
  return r.size() <= 60 ? r : "str of length " + std::to_string(py::len(v));
}

inline void require_layout(const std::string& layout) {
  if (layout != "NCHW" && layout != "NHWC") value_error("layout must be 'NCHW' or 'NHWC', got " + shown(layout));
}

// The image ops' view (median_filter, non_local_means): (N, C, H, W) / (N, T, C, H, W) for
// "NCHW", (N, H, W, C) / (N, T, H, W, C) for "NHWC".
inline Planes planes_of(const Shape& s, const std::string& layout) {
  require_layout(layout);
  const int nd = s.size();
  if (nd != 4 && nd != 5)
    value_error("x must be 4-D (N, C, H, W) / (N, H, W, C) or 5-D (N, T, ...) video, got " + std::to_string(nd) + "-D");
  const i64 outer = nd == 5 ? s[0] * s[1] : s[0];
  if (layout == "NCHW") return Planes{outer, s[nd - 3], s[nd - 2], s[nd - 1], false};
  return Planes{outer, s[nd - 1], s[nd - 3], s[nd - 2], true};
}

// The checks median_filter and non_local_means share: layout, dtype, out.
template <class A>
Planes image_args(const A& x, const A& out, const std::string& layout, std::initializer_list<Dt> dts) {
  const Planes g = planes_of(x.shape(), layout);
  require_dtype(x, "x", dts);
  require_out(x, out);
  require_disjoint(out, x);
  return g;
}

// The randomised transforms' view (random_resize_pad, pixel_deflection): a batch of images.
struct ImageDims {
  i64 n, c, h, w;
  Layout layout;
};
inline ImageDims image_dims(const Shape& s, const std::string& layout, const char* name) {
  require_layout(layout);
  if (s.size() != 4)
    value_error(std::string(name) + " must be a batch of images, 4 axes (" + layout + "), got " +
                std::to_string(s.size()));
  return layout == "NCHW" ? ImageDims{s[0], s[1], s[2], s[3], Layout::nchw}
                          : ImageDims{s[0], s[3], s[1], s[2], Layout::nhwc};
}
}  // namespace mlsec
