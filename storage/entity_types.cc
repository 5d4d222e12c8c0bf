#include "storage/entity_types.h"

#include <utility>

namespace cohorte::storage {
namespace {

template <typename... T>
uint8_t KindOf(absl::string_view full_name, std::tuple<T...>*) {
  uint8_t kind = 0;
  ((T::descriptor()->full_name() == full_name
        ? (kind = static_cast<uint8_t>(EntityTraits<T>::kKind))
        : 0),
   ...);
  return kind;
}

}  // namespace

uint8_t EntityKindOfTypeName(absl::string_view full_name) {
  return KindOf(full_name, static_cast<AllEntityTypes*>(nullptr));
}

}  // namespace cohorte::storage
