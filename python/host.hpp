// Host arrays (NumPy) and how a call runs on them. The Python layer calls the C++ entry
// points directly on its fast path, so every check a kernel relies on is made here (see
// checks.hpp); layouts the kernels do not take raise Fallback for Python to normalise.
#pragma once
#include <pybind11/numpy.h>

#include <optional>
#include <vector>

#include "array.hpp"

namespace mlsec {
static_assert(sizeof(py::ssize_t) == sizeof(i64), "NumPy's dimensions are read as i64");

// A C-contiguous, aligned NumPy array in native byte order.
struct Host {
  static constexpr bool on_host = true;
  py::array arr;
  Dt dt;
  i64 n, d;
  int itemsize;
  int device = -1;  // host memory

  Host(const py::handle& h, const char* name, bool writable = false) : arr(native(h)) {
    require_axes(int(arr.ndim()), name);
    if (writable) require_writable(arr.writeable(), name);
    if (!(arr.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) {
      if (writable) require_aligned_out(false, name);
      throw Fallback();
    }
    flatten(shape(), n, d);
    itemsize = int(arr.itemsize());
    dt = dt_from(arr.dtype().kind(), itemsize);
  }
  Shape shape() const { return Shape{reinterpret_cast<const i64*>(arr.shape()), int(arr.ndim())}; }
  std::string dtype_str() const { return std::string(py::str(arr.dtype())); }
  void* data() const { return const_cast<void*>(arr.data()); }
  i64 bytes() const { return n * d * itemsize; }

 private:
  static py::array native(const py::handle& h) {
    if (!py::isinstance<py::array>(h)) throw Fallback();
    auto a = py::reinterpret_borrow<py::array>(h);
    if (!(a.flags() & py::array::c_style) || a.dtype().byteorder() == '>') throw Fallback();
    return a;
  }
};

template <> struct Go<Host> {
  // Runs body(T{}), T the C++ type of on's dtype, with the GIL released unless the call is
  // shorter than handing the GIL over and back (release_gil false).
  template <class... T, class B> void run(const Host& on, Types<T...> types, B&& body, bool release_gil = true) const {
    std::optional<py::gil_scoped_release> nogil;
    if (release_gil) nogil.emplace();
    dtype_switch(on.dt, types, body);
  }
  // Calls the op's CPU driver.
  template <class Cpu, class Cuda, class... X> void operator()(Cpu&& cpu, Cuda&&, X&&... x) const { cpu(x...); }
  // A small array's elements where the host can read them (random_resize_pad's params): in
  // place here; device arrays are copied into buf.
  template <class T> const T* readable(const Host& a, std::vector<T>&) const { return ptr<const T>(a); }

  // Binds F(Go<Host>, args...) as name(args...).
  template <auto F, class... Args> static void def(py::module_& m, const char* name, void (*)(const Go&, Args...)) {
    m.def(
        name, [](Args... a) { F(Go{}, a...); }, doc<F>);
  }
};
}  // namespace mlsec
