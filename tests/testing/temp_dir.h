// File: tests/testing/temp_dir.h
//
// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its
// content when the object goes away. Not thread-safe.
#ifndef COHORTE_TESTS_TESTING_TEMP_DIR_H_
#define COHORTE_TESTS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace cohorte::testing {

class TempDir {
 public:
  TempDir() : TempDir(DefaultBase()) {}
  // A fresh directory under `base` (e.g. /dev/shm, where fsync is free).
  explicit TempDir(const std::string& base) {
    std::string pattern = base + "/cohorte-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }

 private:
  static std::string DefaultBase() {
    const char* base = std::getenv("TMPDIR");
    return base != nullptr && *base ? base : "/tmp";
  }

  std::string path_;
};

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_TEMP_DIR_H_
