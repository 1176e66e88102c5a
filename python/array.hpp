// What host arrays (host.hpp) and device arrays (device.hpp) share: the dtypes the kernels
// take, shapes, and the messages of the rules every array meets as it comes in. An array
// kind A provides: A(handle, name, writable), shape(), dt, n, d (the array as (n, d):
// n = shape[0], d = product of the rest), itemsize, data(), bytes(), device (-1 on the
// host), on_host, and dtype_str() and shape().str() to describe it in messages.
// checks.hpp and every ops/<op>.hpp are written once against that interface.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "common.hpp"

namespace py = pybind11;

namespace mlsec {
// Raised by host bindings for layouts the kernels do not take (non-contiguous or byte-swapped
// arrays, lists): the Python layer normalises them and calls again.
struct Fallback : std::exception {
  const char* what() const noexcept override { return "needs normalisation in Python"; }
};

[[noreturn]] inline void value_error(const std::string& m) { throw py::value_error(m); }
[[noreturn]] inline void type_error(const std::string& m) { throw py::type_error(m); }

enum class Dt { f32, f64, u8, u32, i32, i64, i8, i16, u16, u64, other };

// The C++ type of each Dt, for the ops' dtype dispatch (Go::run).
template <class T> constexpr Dt dt_of = Dt::other;
template <> inline constexpr Dt dt_of<float> = Dt::f32;
template <> inline constexpr Dt dt_of<double> = Dt::f64;
template <> inline constexpr Dt dt_of<std::uint8_t> = Dt::u8;
template <> inline constexpr Dt dt_of<std::uint32_t> = Dt::u32;
template <> inline constexpr Dt dt_of<std::int32_t> = Dt::i32;
template <> inline constexpr Dt dt_of<std::int64_t> = Dt::i64;
template <> inline constexpr Dt dt_of<std::int8_t> = Dt::i8;
template <> inline constexpr Dt dt_of<std::int16_t> = Dt::i16;
template <> inline constexpr Dt dt_of<std::uint16_t> = Dt::u16;
template <> inline constexpr Dt dt_of<std::uint64_t> = Dt::u64;

inline Dt dt_from(char kind, i64 itemsize) {
  if (kind == 'f' && itemsize == 4) return Dt::f32;
  if (kind == 'f' && itemsize == 8) return Dt::f64;
  if (kind == 'u' && itemsize == 1) return Dt::u8;
  if (kind == 'u' && itemsize == 4) return Dt::u32;
  if (kind == 'i' && itemsize == 4) return Dt::i32;
  if (kind == 'i' && itemsize == 8) return Dt::i64;
  if (kind == 'i' && itemsize == 1) return Dt::i8;
  if (kind == 'i' && itemsize == 2) return Dt::i16;
  if (kind == 'u' && itemsize == 2) return Dt::u16;
  if (kind == 'u' && itemsize == 8) return Dt::u64;
  return Dt::other;
}

inline const char* dt_name(Dt dt) {
  switch (dt) {
    case Dt::f32:
      return "float32";
    case Dt::f64:
      return "float64";
    case Dt::u8:
      return "uint8";
    case Dt::u32:
      return "uint32";
    case Dt::i32:
      return "int32";
    case Dt::i64:
      return "int64";
    case Dt::i8:
      return "int8";
    case Dt::i16:
      return "int16";
    case Dt::u16:
      return "uint16";
    case Dt::u64:
      return "uint64";
    default:
      return "an unsupported dtype";
  }
}

// A view of an array's dimensions (NumPy's for host arrays: no copy on the fast path).
struct Shape {
  const i64* dims;
  int nd;
  i64 operator[](int k) const { return dims[k]; }
  int size() const { return nd; }
  bool operator==(const Shape& o) const {
    if (nd != o.nd) return false;
    for (int k = 0; k < nd; ++k)
      if (dims[k] != o.dims[k]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  bool operator==(std::initializer_list<i64> o) const { return *this == Shape{o.begin(), int(o.size())}; }
  bool operator!=(std::initializer_list<i64> o) const { return !(*this == o); }
  // As NumPy prints the shape tuple: (), (5,), (2, 3).
  std::string str() const {
    std::string s = "(";
    for (int k = 0; k < nd; ++k) s += (k ? ", " : "") + std::to_string(dims[k]);
    return s + (nd == 1 ? ",)" : ")");
  }
};

// The rules every incoming array meets, one message each for both kinds.
inline void require_axes(int nd, const char* name) {
  if (nd < 1) value_error(std::string(name) + " must have at least one axis (samples first), got a 0-d array");
}
inline void require_writable(bool writable, const char* name) {
  if (!writable) value_error(std::string(name) + " is read-only");
}
// n = shape[0], d = the product of the others.
inline void flatten(const Shape& s, i64& n, i64& d) {
  n = s[0];
  d = 1;
  for (int k = 1; k < s.nd; ++k) d *= s[k];
}

// Where a call runs, the one difference between an op's host and device bindings: Go<Host>
// (host.hpp) and Go<Dev> (device.hpp, which holds the caller's stream) each provide
// run(on, types, body) (dispatch on on's dtype, GIL or device set up), operator()(
// MLSEC_DRIVERS(op), args...) (the driver call), readable() and def<F>() (the binding).
template <class A> struct Go;

template <class... T> struct Types {};
inline constexpr Types<float, double> kFloats{};
inline constexpr Types<float, double, std::uint8_t> kFloatsAndBytes{};
// Every real dtype (floats and integers of every width), as types and as the dtype list
// checks.hpp's require_dtype takes, in the same order (its message lists them so).
inline constexpr Types<float, double, std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t,
                       std::uint16_t, std::uint32_t, std::uint64_t>
    kReals{};
inline const std::initializer_list<Dt> kRealDts = {Dt::f32, Dt::f64, Dt::i8,  Dt::i16, Dt::i32,
                                                   Dt::i64, Dt::u8,  Dt::u16, Dt::u32, Dt::u64};

// Calls body(T{}) for the T of `types` whose dtype is dt (callers check the dtype first).
template <class B, class T, class... More> void dtype_switch(Dt dt, Types<T, More...>, B&& body) {
  if (dt == dt_of<T>) return body(T{});
  if constexpr (sizeof...(More) > 0)
    dtype_switch(dt, Types<More...>{}, body);
  else
    type_error("unsupported dtype");
}

template <class T, class A> T* ptr(const A& a) { return static_cast<T*>(a.data()); }

// The pair of drivers of an op (cpp/<op>.hpp): <op>_cpu for host arrays, <op>_cuda (with the
// stream, last) for device arrays. Go calls one; the other lambda is never instantiated, so
// each module references only its own drivers.
#define MLSEC_DRIVERS(op) [](auto&&... a) { op##_cpu(a...); }, [](auto&&... a) { op##_cuda(a...); }

// A docstring for an op's binding, where it has one (specialised in ops/<op>.hpp).
template <auto F> inline constexpr const char* doc = nullptr;
}  // namespace mlsec
