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
#include <type_traits>

#include "common.hpp"

namespace py = pybind11;

namespace mlsec {
// Raised by host bindings for layouts the kernels do not take (non-contiguous, unaligned or
// byte-swapped arrays, lists): the Python layer normalises them and calls again.
struct Fallback : std::exception {
  const char* what() const noexcept override { return "needs normalisation in Python"; }
};

[[noreturn]] inline void value_error(const std::string& m) { throw py::value_error(m); }
[[noreturn]] inline void type_error(const std::string& m) { throw py::type_error(m); }

// The dtypes the kernels take: float32, float64 and every real integer type (bool,
// float16, complex and the rest are `other`).
enum class Dt { f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, other };

// The Dt of a C++ type, for the ops' dtype dispatch (Go::run): floats by size, integers by
// signedness and size, so that long and long long are both int64 where both are 8 bytes.
template <class T> constexpr Dt dt_of_type() {
  constexpr int k = sizeof(T) == 1 ? 0 : sizeof(T) == 2 ? 1 : sizeof(T) == 4 ? 2 : 3;
  if constexpr (std::is_same_v<T, float>) return Dt::f32;
  if constexpr (std::is_same_v<T, double>) return Dt::f64;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return Dt(int(std::is_signed_v<T> ? Dt::i8 : Dt::u8) + k);
  return Dt::other;
}
template <class T> inline constexpr Dt dt_of = dt_of_type<T>();

// NumPy's (kind, itemsize) of an array to its Dt.
inline Dt dt_from(char kind, i64 itemsize) {
  const int k = itemsize == 1 ? 0 : itemsize == 2 ? 1 : itemsize == 4 ? 2 : itemsize == 8 ? 3 : -1;
  if (k < 0) return Dt::other;
  if (kind == 'i') return Dt(int(Dt::i8) + k);
  if (kind == 'u') return Dt(int(Dt::u8) + k);
  if (kind == 'f' && k >= 2) return k == 2 ? Dt::f32 : Dt::f64;
  return Dt::other;
}

inline const char* dt_name(Dt dt) {
  static const char* const names[] = {"float32", "float64", "int8",   "int16",  "int32",
                                      "int64",   "uint8",   "uint16", "uint32", "uint64"};
  return dt == Dt::other ? "an unsupported dtype" : names[int(dt)];
}
inline bool is_integer(Dt dt) { return dt != Dt::f32 && dt != Dt::f64 && dt != Dt::other; }
// The dtype an op computing in floating point returns (cpp/common.hpp float_result).
inline Dt float_result_dt(Dt dt) { return is_integer(dt) ? Dt::f64 : dt; }

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
// The kernels load and store whole elements through typed pointers, which must be aligned
// to the dtype (an array NumPy made at an odd byte offset of a buffer is not). An input is
// then copied, like a strided one (Fallback on the host); an out is refused, the Python
// layer's words.
inline void require_aligned_out(bool aligned, const char* name) {
  if (!aligned)
    value_error(std::string(name) + " must be aligned for its dtype (flags.aligned), got an unaligned buffer");
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
template <class... T, class... U> constexpr Types<T..., U...> operator+(Types<T...>, Types<U...>) { return {}; }
inline constexpr Types<float, double> kFloats{};
inline constexpr Types<float, double, std::uint8_t> kFloatsAndBytes{};
// Every real integer type (cpp/common.hpp's MLSEC_INTEGER_TYPES, the one list), and the reals.
// clang-format off
#define MLSEC_PLUS_TYPES(T) + Types<T>{}
inline constexpr auto kIntegers = Types<>{} MLSEC_INTEGER_TYPES(MLSEC_PLUS_TYPES);
// clang-format on
#undef MLSEC_PLUS_TYPES
inline constexpr auto kReals = kFloats + kIntegers;

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
