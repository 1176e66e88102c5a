// The few CUDA runtime services the bindings need, behind a plain C++ interface so that
// no binding source includes CUDA headers and no pybind11 header meets nvcc.
#pragma once
#include <cstddef>
#include <string>

namespace mlsec {
// Number of usable devices; 0 with the reason in *why when there is none.
int cuda_device_count(std::string* why);
std::string cuda_device_name(int device);
// Device that owns p, or -1 for host memory.
int cuda_pointer_device(const void* p);
void cuda_synchronize(void* stream);
// Copies device memory to the host in `stream`'s order and waits for it.
void cuda_copy_to_host(void* dst, const void* src, std::size_t bytes, void* stream);

// Makes `device` current for the scope of the guard.
class CudaDeviceGuard {
 public:
  explicit CudaDeviceGuard(int device);
  ~CudaDeviceGuard();
  CudaDeviceGuard(const CudaDeviceGuard&) = delete;
  CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

 private:
  int previous_;
};
}  // namespace mlsec
