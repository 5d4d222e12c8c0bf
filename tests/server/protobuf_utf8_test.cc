// The interposed UTF-8 check (server/protobuf_utf8.h) against the one it
// replaces, protobuf's own, reached with dlsym(RTLD_NEXT): both must accept
// exactly the same byte strings.

#include "server/protobuf_utf8.h"

#include <dlfcn.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/wire_format_lite.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"

namespace google::protobuf::internal {
bool IsStructurallyValidUTF8(const char* buf, int len);
}  // namespace google::protobuf::internal

namespace cohorte {
namespace {

using Check = bool (*)(const char*, int);

constexpr char kSymbol[] =
    "_ZN6google8protobuf8internal23IsStructurallyValidUTF8EPKci";

// Protobuf's own check, the one this binary's definition hides.
Check Library() {
  static Check library = reinterpret_cast<Check>(dlsym(RTLD_NEXT, kSymbol));
  return library;
}

class Utf8Test : public testing::Test {
 protected:
  // Records a disagreement (at most a few are printed).
  void Compare(const std::string& bytes) {
    ++compared_;
    const bool theirs = Library()(bytes.data(), static_cast<int>(bytes.size()));
    const bool ours = IsValidUtf8(bytes.data(), bytes.size());
    if (theirs != ours && ++differences_ <= 5) {
      std::string hex;
      for (unsigned char c : bytes) {
        static const char kDigits[] = "0123456789abcdef";
        hex += kDigits[c >> 4];
        hex += kDigits[c & 15];
        hex += ' ';
      }
      ADD_FAILURE() << "protobuf says " << theirs << ", ours " << ours
                    << " for " << hex;
    }
  }

  int64_t compared_ = 0;
  int64_t differences_ = 0;
};

TEST_F(Utf8Test, ProtobufCallsOursAndTheLibrarysIsStillThere) {
  ASSERT_NE(Library(), nullptr) << dlerror();
  // What the library's PLT binds to is what the global scope finds first.
  void* first = dlsym(RTLD_DEFAULT, kSymbol);
  const Check ours =
      static_cast<Check>(&google::protobuf::internal::IsStructurallyValidUTF8);
  EXPECT_EQ(first, reinterpret_cast<void*>(ours));
  EXPECT_NE(first, reinterpret_cast<void*>(Library()));

  // And protobuf's parser still refuses what is not UTF-8 in a string.
  google::protobuf::StringValue value;
  value.set_value("Retour d'expérience : la démarche €");
  google::protobuf::StringValue parsed;
  EXPECT_TRUE(parsed.ParseFromString(value.SerializeAsString()));
  std::string bad = value.SerializeAsString();
  bad[bad.size() - 2] = '\xff';
  EXPECT_FALSE(parsed.ParseFromString(bad));
}

// The serializing side's check (WireFormatLite::VerifyUtf8String) is ours
// too: a parse still refuses what is not UTF-8; a release build's
// serialization no longer scans (protobuf only logged and wrote the bytes).
TEST_F(Utf8Test, OnlyTheParsingSideScansInARelease) {
  using google::protobuf::internal::WireFormatLite;
  void* first = dlsym(
      RTLD_DEFAULT,
      "_ZN6google8protobuf8internal14WireFormatLite16VerifyUtf8StringEPKciNS2_"
      "9OperationES4_");
  ASSERT_NE(first, nullptr) << dlerror();
  EXPECT_EQ(first, reinterpret_cast<void*>(&WireFormatLite::VerifyUtf8String));

  const std::string good = "d\xc3\xa9marche";
  const std::string bad = "d\xc3marche";
  EXPECT_TRUE(WireFormatLite::VerifyUtf8String(
      good.data(), static_cast<int>(good.size()), WireFormatLite::PARSE, "f"));
  EXPECT_FALSE(WireFormatLite::VerifyUtf8String(
      bad.data(), static_cast<int>(bad.size()), WireFormatLite::PARSE, "f"));
  EXPECT_TRUE(WireFormatLite::VerifyUtf8String(good.data(),
                                               static_cast<int>(good.size()),
                                               WireFormatLite::SERIALIZE, "f"));
#ifdef NDEBUG
  EXPECT_TRUE(WireFormatLite::VerifyUtf8String(bad.data(),
                                               static_cast<int>(bad.size()),
                                               WireFormatLite::SERIALIZE, "f"));
#else
  EXPECT_FALSE(
      WireFormatLite::VerifyUtf8String(bad.data(), static_cast<int>(bad.size()),
                                       WireFormatLite::SERIALIZE, "f"));
#endif
}

TEST_F(Utf8Test, AgreesOnEveryStringOfUpToTwoBytesAndTheThreeByteEdges) {
  const std::vector<int> edges = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                  0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
                                  0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
  Compare("");
  for (int a = 0; a < 256; ++a) {
    Compare(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) {
      const std::string two = {static_cast<char>(a), static_cast<char>(b)};
      Compare(two);
      for (int c : edges) Compare(two + static_cast<char>(c));
    }
  }
  for (int a = 0xe0; a < 256; ++a) {
    for (int b : edges) {
      for (int c : edges) {
        for (int d : edges) {
          Compare({static_cast<char>(a), static_cast<char>(b),
                   static_cast<char>(c), static_cast<char>(d)});
        }
      }
    }
  }
  EXPECT_EQ(differences_, 0) << "of " << compared_;
}

TEST_F(Utf8Test, AgreesWhereverTheFastPathStopsAndStarts) {
  // A bad or multi-byte sequence at every offset around the 8- and 16-byte
  // strides, and cut at the end.
  const std::vector<std::string> pieces = {"é",
                                           "€",
                                           "\xf0\x9d\x84\x9e",
                                           "\x80",
                                           "\xc3",
                                           "\xe2\x82",
                                           "\xf0\x9d\x84",
                                           "\xed\xa0\x80",
                                           "\xc0\xaf",
                                           "\xf4\x90\x80\x80",
                                           std::string(1, '\0')};
  for (const std::string& piece : pieces) {
    for (int before = 0; before < 40; ++before) {
      for (int after = 0; after < 20; ++after) {
        Compare(std::string(before, 'a') + piece + std::string(after, 'b'));
      }
    }
  }
  std::mt19937 random(20261130);
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    const int count = static_cast<int>(random() % 48);
    for (int j = 0; j < count; ++j) {
      text += random() % 3 == 0 ? std::string("la démarche ")
                                : pieces[random() % pieces.size()];
    }
    Compare(text);
  }
  EXPECT_EQ(differences_, 0) << "of " << compared_;
}

TEST_F(Utf8Test, NeverReadsPastTheEnd) {
  // ASCII that ends exactly where a 16- or 8-byte stride ends, followed in
  // memory by a lead byte that is not part of the string: reading it would
  // refuse valid text. (Found by utf8_fuzz under ASan.)
  for (int length = 0; length <= 48; ++length) {
    const std::string buffer = std::string(length, 'a') + "\xc3";
    EXPECT_TRUE(IsValidUtf8(buffer.data(), static_cast<size_t>(length)))
        << length;
    Compare(buffer.substr(0, static_cast<size_t>(length)));
  }
  EXPECT_EQ(differences_, 0) << "of " << compared_;
}

}  // namespace
}  // namespace cohorte
