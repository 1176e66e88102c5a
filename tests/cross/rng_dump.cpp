// Prints the random stream as one tier's build computes it (the Philox generator's SIMD
// path, the vectorised uniform and Box-Muller loops): raw words, uniform and normal bits,
// in hex, one value per line. tests/test_cross.py builds it for a CPU this machine does
// not have (aarch64, with Debian's cross compiler), runs it under qemu and compares the
// lines with what the installed module computes here: the same bits on every ISA.
#include <cstdio>
#include <cstring>
#include <vector>

#include "rng.hpp"

using namespace mlsec;

int main() {
  const i64 n = 4099;  // odd, crosses several philox_span pieces
  const Philox p = Philox::make(0x0123456789abcdefull, (u64(1) << 40) + 3);
  const StreamPos at{(u64(1) << 32) - 5, 3};  // a block counter about to carry into word 1
  std::vector<u32> raw(n);
  std::vector<float> uni(n), nor(n);
  random_raw_cpu(raw.data(), n, p, at);
  uniform_cpu<float>(uni.data(), n, p, at);
  normal_cpu<float>(nor.data(), n, p, at);
  std::printf("isa %s\n", philox_isa());
  for (i64 i = 0; i < n; ++i) {
    u32 u, z;
    std::memcpy(&u, &uni[i], 4);
    std::memcpy(&z, &nor[i], 4);
    std::printf("%08x %08x %08x\n", raw[i], u, z);
  }
  return 0;
}
