// Differential fuzzing of the UTF-8 check cohorted interposes in protobuf
// (server/protobuf_utf8.h): on any bytes, it must give the same answer as
// protobuf's own, reached with dlsym(RTLD_NEXT).

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>

#include "server/protobuf_utf8.h"

namespace {

using Check = bool (*)(const char*, int);

Check Library() {
  static Check library = reinterpret_cast<Check>(dlsym(
      RTLD_NEXT, "_ZN6google8protobuf8internal23IsStructurallyValidUTF8EPKci"));
  return library;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (Library() == nullptr) __builtin_trap();
  const char* bytes = reinterpret_cast<const char*>(data);
  if (Library()(bytes, static_cast<int>(size)) !=
      cohorte::IsValidUtf8(bytes, size)) {
    __builtin_trap();
  }
  return 0;
}
