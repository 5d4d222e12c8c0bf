// DirectFileOutput (`records pull`'s file): what is written is the file,
// byte for byte, whatever the sizes of the writes and wherever a resumed
// pull starts; O_DIRECT is used where the file system takes it.

#include "client/direct_file.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::client {
namespace {

std::string Bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes `data` in pieces of the given sizes, cycling.
void WriteInPieces(std::ostream& out, const std::string& data,
                   const std::vector<size_t>& sizes) {
  size_t at = 0;
  for (size_t i = 0; at < data.size(); ++i) {
    const size_t n = std::min(sizes[i % sizes.size()], data.size() - at);
    out.write(data.data() + at, static_cast<std::streamsize>(n));
    at += n;
  }
}

void CheckRoundTrip(const std::string& base) {
  testing::TempDir dir(base);
  const std::string path = dir.path() + "/pulled.part";
  const std::string data = Bytes((9 << 20) + 12345, 1);
  {
    DirectFileOutput out(path, /*keep=*/false);
    ASSERT_TRUE(out);
    WriteInPieces(out, data, {1 << 20, 1, 4095, 777, 3 << 20});
    out.flush();
    ASSERT_TRUE(out);
  }
  EXPECT_TRUE(ReadAll(path) == data)
      << "the file differs from what was written";
}

TEST(DirectFileTest, WritesTheBytesWhateverTheSizesOfTheWrites) {
  CheckRoundTrip("/tmp");
}

TEST(DirectFileTest, WritesTheBytesOnTmpfsToo) { CheckRoundTrip("/dev/shm"); }

TEST(DirectFileTest, BypassesThePageCacheOnExt4) {
  testing::TempDir dir("/tmp");
  DirectFileOutput out(dir.path() + "/f", /*keep=*/false);
  const std::string data = Bytes(8 << 20, 2);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.flush();
  ASSERT_TRUE(out);
  // Where O_DIRECT is refused, the bytes still arrive (the test above);
  // this only says which path ran.
  if (!out.direct()) GTEST_SKIP() << "O_DIRECT refused by /tmp's file system";
  EXPECT_TRUE(ReadAll(dir.path() + "/f") == data);
}

TEST(DirectFileTest, ContinuesAKeptFileAtItsEndFromAnUnalignedOffset) {
  testing::TempDir dir("/tmp");
  const std::string path = dir.path() + "/pulled.part";
  const std::string head = Bytes(5000, 3);
  const std::string tail = Bytes((5 << 20) + 3, 4);
  {
    std::ofstream first(path, std::ios::binary);
    first.write(head.data(), static_cast<std::streamsize>(head.size()));
  }
  {
    DirectFileOutput out(path, /*keep=*/true);
    ASSERT_TRUE(out);
    WriteInPieces(out, tail, {1 << 20, 100});
    out.flush();
    ASSERT_TRUE(out);
    // A flush in the middle leaves an unaligned end; writing goes on.
    const std::string more = Bytes(3 << 20, 5);
    out.write(more.data(), static_cast<std::streamsize>(more.size()));
    out.flush();
    ASSERT_TRUE(out);
    EXPECT_TRUE(ReadAll(path) == head + tail + more)
        << "the file differs from what was written";
  }
}

TEST(DirectFileTest, AFileThatCannotBeOpenedFailsTheStream) {
  DirectFileOutput out("/nonexistent-dir/x", /*keep=*/false);
  EXPECT_FALSE(out);
}

}  // namespace
}  // namespace cohorte::client
