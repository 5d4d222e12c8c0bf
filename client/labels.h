// File: client/labels.h
//
// Enum values as people read them in tables: French (`Élus`,
// `Gouvernance et mise en œuvre`) when the locale is French (LC_ALL,
// LC_MESSAGES or LANG starting with "fr"), English when it is English,
// the canonical proto names otherwise (and always in JSON). Reading the
// locale is the only state; thread-compatible.
#ifndef COHORTE_CLIENT_LABELS_H_
#define COHORTE_CLIENT_LABELS_H_

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace cohorte::client {

enum class LabelLanguage { kCanonical, kFrench, kEnglish };

// The language of the process's locale.
LabelLanguage LocaleLanguage();

// The label of `value` in `language`; its proto name when none is known.
std::string LabelOf(const google::protobuf::EnumValueDescriptor* value,
                    LabelLanguage language);

// The label of `value` in the locale's language; "" for the unset value
// (`COLLEGE_UNSPECIFIED` is nothing to show).
template <typename Enum>
std::string Label(Enum value) {
  if (static_cast<int>(value) == 0) return "";
  const auto* type = google::protobuf::GetEnumDescriptor<Enum>();
  const auto* v = type->FindValueByNumber(static_cast<int>(value));
  return v == nullptr ? std::to_string(static_cast<int>(value))
                      : LabelOf(v, LocaleLanguage());
}

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_LABELS_H_
