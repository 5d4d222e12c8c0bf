// File: storage/codec.h
//
// Value and number encodings of the store (grammar in storage/FORMAT.md).
// Every stored value is a version byte followed by a serialized proto, so
// that a future format can be told apart from this one.
#ifndef COHORTE_STORAGE_CODEC_H_
#define COHORTE_STORAGE_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"

namespace cohorte::storage {

// The version byte of values written by this code. Never reuse a value.
inline constexpr char kValueFormatProto3 = 0x01;

// Returns kValueFormatProto3 followed by `message` serialized.
std::string EncodeValue(const google::protobuf::MessageLite& message);

// Parses a value written by EncodeValue into `message`. DATA_LOSS if the
// version byte is unknown or the proto does not parse.
absl::Status DecodeValue(absl::string_view value,
                         google::protobuf::MessageLite* message);

// 8-byte big-endian, so that byte order is numeric order.
std::string EncodeUint64BigEndian(uint64_t value);
// False unless `bytes` is exactly 8 bytes.
bool DecodeUint64BigEndian(absl::string_view bytes, uint64_t* value);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_CODEC_H_
