// _cuda: the device kernels, the ops of ops/registry.def bound for device arrays. Arrays
// arrive as objects with __cuda_array_interface__; every kernel runs on the caller's stream
// (each op's last argument), on the device that holds the data.
#include "bind_ops.hpp"
#include "constants.hpp"
#include "device.hpp"

using namespace mlsec;

static py::object probe() {
  std::string why;
  const int n = cuda_device_count(&why);
  py::list names;
  for (int i = 0; i < n; ++i) names.append(cuda_device_name(i));
  return py::make_tuple(n, names, why);
}

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "mlsec_kernels device kernels (CUDA)";
  py::register_local_exception<Fallback>(m, "Fallback");
  m.def("probe", &probe, "(device count, device names, reason when there is none)");
  m.def("synchronize", [](py::handle s) { cuda_synchronize(as_stream(s)); });
  m.attr("constants") = constants();
  bind_ops<Dev>(m);
}
