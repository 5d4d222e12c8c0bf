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
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base ? base : "/tmp") +
        "/cohorte-test-XXXXXX";
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
  std::string path_;
};

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_TEMP_DIR_H_
