// One CPU tier's module, _cpu_<tier>: the shared bindings (module_cpu.cpp, compiled once for
// the baseline ISA) over this tier's build of the kernels (CMakeLists.txt, MLSEC_TIERS).
#include <pybind11/pybind11.h>

void bind_cpu(pybind11::module_& m);

PYBIND11_MODULE(MLSEC_MODULE, m) {
  m.attr("capability") = MLSEC_TIER;
  bind_cpu(m);
}
