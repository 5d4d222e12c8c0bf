// File: server/protobuf_utf8.h
//
// A faster UTF-8 check for protobuf, linked into `cohorted` only.
//
// Protobuf 3.21 (Debian 12's) checks every proto3 `string` field it parses
// or serializes with google::protobuf::internal::IsStructurallyValidUTF8, a
// table-driven scan that leaves its ASCII fast path at the first accented
// letter and goes on byte by byte. French text has one every few words: the
// two scans of a 4 KiB experience report (parsed from the store, then
// serialized for the answer) were 37 % of the server's CPU per GetReport
// (perf, tests/bench/NOTES.md).
//
// protobuf_utf8.cc defines that function in the executable. Every call to
// it, the library's own included, goes through the PLT and so binds to the
// executable's definition (ELF symbol interposition, as a malloc
// replacement does). Ours accepts exactly the same byte strings: checked
// against the library's over every string of up to three bytes, the
// four-byte ranges and random mixes (tests/server/protobuf_utf8_test.cc),
// and by a differential fuzz target (tests/fuzz/utf8_fuzz.cc). If a
// protobuf upgrade renamed the symbol, the override would simply never be
// called: slower, never different.
//
// Thread-safe (pure functions).
#ifndef COHORTE_SERVER_PROTOBUF_UTF8_H_
#define COHORTE_SERVER_PROTOBUF_UTF8_H_

#include <cstddef>

namespace cohorte {

// True if `data[0, size)` is well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF, no truncated sequence).
// NUL bytes are valid. Reads 16 bytes at a time while they are ASCII and
// returns to that pace after each multi-byte sequence.
bool IsValidUtf8(const char* data, size_t size);

}  // namespace cohorte

#endif  // COHORTE_SERVER_PROTOBUF_UTF8_H_
