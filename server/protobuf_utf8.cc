#include "server/protobuf_utf8.h"

#include <cstdint>
#include <cstring>

#include "google/protobuf/stubs/stringpiece.h"
#include "google/protobuf/wire_format_lite.h"

namespace cohorte {
namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

bool IsValidUtf8(const char* data, size_t size) {
  const auto* s = reinterpret_cast<const unsigned char*>(data);
  const unsigned char* const end = s + size;
  while (s < end) {
    // ASCII, 16 then 8 bytes at a time.
    while (end - s >= 16) {
      uint64_t a;
      uint64_t b;
      std::memcpy(&a, s, 8);
      std::memcpy(&b, s + 8, 8);
      if (((a | b) & kHighBits) != 0) break;
      s += 16;
    }
    if (end - s >= 8) {
      uint64_t a;
      std::memcpy(&a, s, 8);
      if ((a & kHighBits) == 0) {
        s += 8;
        continue;
      }
    }
    if (s == end) break;  // the ASCII strides ended exactly at the end
    const unsigned char c = *s;
    const ptrdiff_t left = end - s;
    if (c < 0x80) {
      ++s;
    } else if (c < 0xC2) {  // a continuation byte, or an overlong lead
      return false;
    } else if (c < 0xE0) {
      if (left < 2 || !IsContinuation(s[1])) return false;
      s += 2;
    } else if (c < 0xF0) {
      if (left < 3 || !IsContinuation(s[1]) || !IsContinuation(s[2])) {
        return false;
      }
      if (c == 0xE0 && s[1] < 0xA0) return false;  // overlong
      if (c == 0xED && s[1] > 0x9F) return false;  // a surrogate
      s += 3;
    } else if (c < 0xF5) {
      if (left < 4 || !IsContinuation(s[1]) || !IsContinuation(s[2]) ||
          !IsContinuation(s[3])) {
        return false;
      }
      if (c == 0xF0 && s[1] < 0x90) return false;  // overlong
      if (c == 0xF4 && s[1] > 0x8F) return false;  // above U+10FFFF
      s += 4;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace cohorte

// The interposed definition (see the header). Same signature as
// protobuf 3.21's google/protobuf/stubs/structurally_valid.cc.
namespace google::protobuf::internal {

bool IsStructurallyValidUTF8(const char* buf, int len) {
  return len <= 0 || cohorte::IsValidUtf8(buf, static_cast<size_t>(len));
}

}  // namespace google::protobuf::internal

// The interposed definition of the check generated code runs on each
// proto3 string field it serializes (see the header). Serializing never
// fails on a string that is not UTF-8: protobuf only logs it and writes the
// bytes anyway. Every string `cohorted` serializes was checked when it was
// parsed (a request, a stored value) or is built by its own code from
// those, so in a release build the serializing side skips the scan (a
// post's answer, stored value and change record are three scans of its 1 KiB
// body). Debug builds, and every parse, check and log as protobuf does.
namespace google::protobuf::internal {

// Protobuf's own log line for a string that is not UTF-8 (exported by the
// library, declared in no public header).
void PrintUTF8ErrorLog(stringpiece_internal::StringPiece message_name,
                       stringpiece_internal::StringPiece field_name,
                       const char* operation_str, bool emit_stacktrace);

bool WireFormatLite::VerifyUtf8String(const char* data, int size, Operation op,
                                      const char* field_name) {
#ifdef NDEBUG
  if (op == SERIALIZE) return true;
#endif
  if (IsStructurallyValidUTF8(data, size)) return true;
  PrintUTF8ErrorLog("", field_name, op == PARSE ? "parsing" : "serializing",
                    false);
  return false;
}

}  // namespace google::protobuf::internal
