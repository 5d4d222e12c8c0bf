// File: tests/testing/pseudo_random.h
//
// Test content that is the same at every run and differs by seed
// (xorshift32): files for uploads, compressible by nothing. Thread-safe
// (a pure function).
#ifndef COHORTE_TESTS_TESTING_PSEUDO_RANDOM_H_
#define COHORTE_TESTS_TESTING_PSEUDO_RANDOM_H_

#include <cstdint>
#include <string>

namespace cohorte::testing {

// `size` bytes of the sequence of `seed`.
inline std::string PseudoRandomBytes(int64_t size, uint32_t seed) {
  std::string bytes(static_cast<size_t>(size), '\0');
  uint32_t x = 2463534242u + seed;
  for (char& c : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return bytes;
}

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_PSEUDO_RANDOM_H_
