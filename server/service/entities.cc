#include "server/service/entities.h"

#include "storage/random.h"

namespace cohorte::service {

std::string GenerateId(absl::string_view prefix) {
  return absl::StrCat(prefix,
                      storage::HexEncode(storage::SecureRandomBytes(5)));
}

}  // namespace cohorte::service
