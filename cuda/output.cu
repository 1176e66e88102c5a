// One thread per row runs the whole step program, with the header's row functions: the
// same code, hence the same bits, as the CPU. Rows are independent and the steps are
// sequential within a row (top-k and renormalisation need the whole row), so a thread
// per row is the simple mapping; wide rows would want a block per row.
#include "common.cuh"
#include "output.hpp"

namespace mlsec {
template <class T> __global__ void output_kernel(const T* p, T* out, i64 n, i64 c, Program prog) {
  for (i64 r = blockIdx.x * i64(blockDim.x) + threadIdx.x; r < n; r += i64(gridDim.x) * blockDim.x)
    run_row(prog, p + r * c, out + r * c, c, r);
}

template <class T> void output_cuda(const T* p, T* out, i64 n, i64 c, const Program& prog, void* stream) {
  if (n <= 0 || c <= 0) return;
  constexpr int kRowThreads = 64;
  const i64 blocks = std::min((n + kRowThreads - 1) / kRowThreads, kMaxBlocks);
  output_kernel<T><<<static_cast<unsigned>(blocks), kRowThreads, 0, as_stream(stream)>>>(p, out, n, c, prog);
  cuda_check(cudaGetLastError(), "kernel launch");
}

template void output_cuda<float>(const float*, float*, i64, i64, const Program&, void*);
template void output_cuda<double>(const double*, double*, i64, i64, const Program&, void*);
}  // namespace mlsec
