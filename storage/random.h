// File: storage/random.h
//
// Cryptographically secure random bytes from the kernel (getrandom(2)), for
// instance ids, generated resource ids and bearer tokens. Thread-safe.
#ifndef COHORTE_STORAGE_RANDOM_H_
#define COHORTE_STORAGE_RANDOM_H_

#include <cstddef>
#include <string>

namespace cohorte::storage {

// `n` random bytes. Aborts the process if the kernel cannot provide them:
// there is no safe fallback for secrets.
std::string SecureRandomBytes(size_t n);

// Lowercase hex of `bytes`.
std::string HexEncode(const std::string& bytes);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_RANDOM_H_
