// The GPU's median filter on the CPU: median_at (cpp/median_filter.hpp), the work of one
// thread of cuda/median_filter.cu, for every pixel of a batch of planes, so that the
// device arithmetic (closed form, local selection, radix selection, NaN) is tested where no
// GPU is (tests/test_median_filter.py builds and runs this with the host compiler).
// stdin: seven int64 (dtype code, planes, H, W, h, w, edge), then the planes' values;
// stdout: the filtered values. Dtype codes index f4 f8 i1 i2 i4 i8 u1 u2 u4 u8.
#include <cstdio>
#include <vector>

#include "median_filter.hpp"

using namespace mlsec;

template <class T> int run(const i64* hd) {
  const Planes g{hd[1], 1, hd[2], hd[3], false};
  const Window win{int(hd[4]), int(hd[5]), Edge(hd[6])};
  std::vector<T> x(size_t(g.count() * g.H * g.W)), out(x.size());
  if (std::fread(x.data(), sizeof(T), x.size(), stdin) != x.size()) return 2;
  for (i64 p = 0; p < g.count(); ++p)
    for (i64 i = 0; i < g.H; ++i)
      for (i64 j = 0; j < g.W; ++j) out[size_t(g.offset(p, i, j))] = median_at(x.data(), g, win, p, i, j);
  return std::fwrite(out.data(), sizeof(T), out.size(), stdout) == out.size() ? 0 : 3;
}

int main() {
  i64 hd[7];
  if (std::fread(hd, sizeof(i64), 7, stdin) != 7) return 1;
  switch (hd[0]) {
    case 0:
      return run<float>(hd);
    case 1:
      return run<double>(hd);
    case 2:
      return run<std::int8_t>(hd);
    case 3:
      return run<std::int16_t>(hd);
    case 4:
      return run<std::int32_t>(hd);
    case 5:
      return run<std::int64_t>(hd);
    case 6:
      return run<std::uint8_t>(hd);
    case 7:
      return run<std::uint16_t>(hd);
    case 8:
      return run<std::uint32_t>(hd);
    case 9:
      return run<std::uint64_t>(hd);
  }
  return 1;
}
