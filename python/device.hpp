// Device arrays, read from __cuda_array_interface__ (CuPy, a CUDA torch tensor, Numba device
// arrays), and how a call runs on them: on the device that holds the data, on the caller's
// stream. The CUDA runtime is reached through runtime.hpp only, so no CUDA header meets
// pybind11 and nvcc never sees this file.
#pragma once
#include <pybind11/numpy.h>

#include <cstdint>
#include <vector>

#include "array.hpp"
#include "runtime.hpp"

namespace mlsec {
struct Dev {
  static constexpr bool on_host = false;
  void* addr;
  Dt dt;
  i64 n, d;
  int itemsize;
  int device;  // -2 for an empty array (no memory to ask about)
  std::vector<i64> dims;
  std::string typestr;

  Dev(const py::handle& h, const char* name, bool writable = false) {
    if (!py::hasattr(h, "__cuda_array_interface__"))
      type_error(std::string(name) + " must be a device array (with __cuda_array_interface__)");
    py::dict cai = h.attr("__cuda_array_interface__");
    typestr = py::cast<std::string>(cai["typestr"]);
    itemsize = typestr.size() >= 3 ? std::stoi(typestr.substr(2)) : 0;
    dt = itemsize > 0 && typestr[0] != '>' ? dt_from(typestr[1], itemsize) : Dt::other;  // '>': byte-swapped
    py::tuple data = cai["data"];
    addr = reinterpret_cast<void*>(py::cast<std::uintptr_t>(data[0]));
    if (writable) require_writable(!py::cast<bool>(data[1]), name);
    for (auto s : py::tuple(cai["shape"])) dims.push_back(py::cast<i64>(s));
    require_axes(int(dims.size()), name);
    flatten(shape(), n, d);
    if (cai.contains("strides") && !cai["strides"].is_none()) {
      py::tuple st = cai["strides"];
      i64 expect = itemsize;
      for (size_t k = dims.size(); k-- > 0;) {
        if (dims[k] > 1 && py::cast<i64>(st[k]) != expect) throw Fallback();
        expect *= dims[k];
      }
    }
    // Typed loads need element alignment (array.hpp); Python copies CuPy inputs to aligned
    // buffers first, so what arrives unaligned here comes from another producer.
    if (n * d > 0 && itemsize > 0 && reinterpret_cast<std::uintptr_t>(addr) % itemsize != 0) {
      if (writable) require_aligned_out(false, name);
      value_error(std::string(name) + " must be aligned for its dtype, got a device pointer at an unaligned address");
    }
    device = n * d == 0 ? -2 : cuda_pointer_device(addr);
    if (device == -1) value_error(std::string(name) + " is not in device memory");
  }
  Shape shape() const { return Shape{dims.data(), int(dims.size())}; }
  // NumPy's name for the typestr ("float16"), the typestr itself where NumPy has none.
  std::string dtype_str() const {
    try {
      return std::string(py::str(py::dtype(typestr)));
    } catch (const py::error_already_set&) {
      return typestr;
    }
  }
  void* data() const { return addr; }
  i64 bytes() const { return n * d * itemsize; }
};

inline void* as_stream(const py::handle& s) { return reinterpret_cast<void*>(py::cast<std::uintptr_t>(s)); }

template <> struct Go<Dev> {
  py::handle stream;  // read when a kernel is launched: empty calls never look at it

  // Runs body(T{}), T the C++ type of on's dtype, on on's device; an empty on launches nothing.
  template <class... T, class B> void run(const Dev& on, Types<T...> types, B&& body, bool = true) const {
    if (on.n * on.d == 0) return;
    CudaDeviceGuard guard(on.device);
    dtype_switch(on.dt, types, body);
  }
  // Calls the op's CUDA driver on the caller's stream.
  template <class Cpu, class Cuda, class... X> void operator()(Cpu&&, Cuda&& cuda, X&&... x) const {
    cuda(x..., as_stream(stream));
  }
  // A small array's elements where the host can read them (random_resize_pad's params):
  // copied into buf, in stream order (the caller checks a's dtype is T).
  template <class T> const T* readable(const Dev& a, std::vector<T>& buf) const {
    buf.resize(size_t(a.n * a.d));
    if (!buf.empty()) {
      CudaDeviceGuard guard(a.device);
      cuda_copy_to_host(buf.data(), a.addr, buf.size() * sizeof(T), as_stream(stream));
    }
    return buf.data();
  }

  // Binds F(Go<Dev>{stream}, args...) as name(args..., stream).
  template <auto F, class... Args> static void def(py::module_& m, const char* name, void (*)(const Go&, Args...)) {
    m.def(
        name, [](Args... a, py::handle stream) { F(Go{stream}, a...); }, doc<F>);
  }
};
}  // namespace mlsec
