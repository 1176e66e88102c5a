// Binding-side checks for device arrays, read from __cuda_array_interface__ (CuPy, a
// CUDA torch tensor, Numba device arrays). Same rules and messages as host.hpp.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "common.hpp"
#include "host.hpp"
#include "runtime.hpp"

namespace mlsec {
struct Dev {
  void* ptr;
  Dt dt;
  i64 n, d;
  std::vector<i64> shape;
  int itemsize;
  int device;
  void* data() const { return ptr; }
  i64 bytes() const { return n * d * itemsize; }
};

inline Dt dt_from_typestr(const std::string& t, int* itemsize) {
  *itemsize = t.size() >= 3 ? std::stoi(t.substr(2)) : 0;
  if (t == "<f4") return Dt::f32;
  if (t == "<f8") return Dt::f64;
  if (t == "|u1" || t == "<u1") return Dt::u8;
  if (t == "<u4") return Dt::u32;
  return Dt::other;
}

inline Dev dev(const py::handle& h, const char* name, bool writable = false) {
  if (!py::hasattr(h, "__cuda_array_interface__")) type_error(std::string(name) + " must be a device array (with __cuda_array_interface__)");
  py::dict cai = h.attr("__cuda_array_interface__");
  Dev a;
  a.dt = dt_from_typestr(py::cast<std::string>(cai["typestr"]), &a.itemsize);
  py::tuple data = cai["data"];
  a.ptr = reinterpret_cast<void*>(py::cast<std::uintptr_t>(data[0]));
  if (writable && py::cast<bool>(data[1])) value_error(std::string(name) + " is read-only");
  for (auto s : py::tuple(cai["shape"])) a.shape.push_back(py::cast<i64>(s));
  if (a.shape.empty()) value_error(std::string(name) + " must have at least one axis (samples first), got a 0-d array");
  a.n = a.shape[0];
  a.d = 1;
  for (size_t k = 1; k < a.shape.size(); ++k) a.d *= a.shape[k];
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    py::tuple st = cai["strides"];
    i64 expect = a.itemsize;
    for (size_t k = a.shape.size(); k-- > 0;) {
      if (a.shape[k] > 1 && py::cast<i64>(st[k]) != expect) throw Fallback();
      expect *= a.shape[k];
    }
  }
  a.device = a.n * a.d == 0 ? -2 : cuda_pointer_device(a.ptr);
  if (a.device == -1) value_error(std::string(name) + " is not in device memory");
  return a;
}

inline void require_float(const Dev& a, const char* name) {
  if (a.dt != Dt::f32 && a.dt != Dt::f64) type_error(std::string(name) + " must be float32 or float64");
}

inline void require_like(const Dev& a, const char* an, const Dev& b, const char* bn) {
  if (a.shape != b.shape) value_error(std::string(bn) + " must have the shape of " + an);
  if (a.dt != b.dt) type_error(std::string(bn) + " must have the dtype of " + an + " (" + dt_name(a.dt) + ")");
  if (a.device >= 0 && b.device >= 0 && a.device != b.device) value_error(std::string(bn) + " is on another device than " + an);
}

inline void require_no_partial_overlap(const Dev& out, const Dev& in, const char* in_name) {
  const char *o = static_cast<const char*>(out.ptr), *i = static_cast<const char*>(in.ptr);
  if (o != i && o < i + in.bytes() && i < o + out.bytes())
    value_error(std::string("out overlaps ") + in_name + " in part; it may only alias it exactly");
}

// A scalar, or a float64 device array with one value per sample (values already checked
// by the Python layer, which holds them before they are moved to the device).
inline PerSample per_sample(const py::handle& h, const char* name, const Dev& like) {
  if (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr())) {
    const double v = py::cast<double>(h);
    require_param(v, name);
    return PerSample{nullptr, v};
  }
  Dev a = dev(h, name);
  if (a.dt != Dt::f64 || a.shape.size() != 1 || a.n != like.n) value_error(std::string(name) + " must be a scalar or a float64 array with one value per sample");
  if (a.device >= 0 && like.device >= 0 && a.device != like.device) value_error(std::string(name) + " is on another device than the data");
  return PerSample{static_cast<const double*>(a.ptr), 0.0};
}

inline void* as_stream(const py::handle& s) { return reinterpret_cast<void*>(py::cast<std::uintptr_t>(s)); }
}  // namespace mlsec
