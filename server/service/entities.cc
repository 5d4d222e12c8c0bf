#include "server/service/entities.h"

#include "storage/random.h"

namespace cohorte::service {

std::string GenerateId(absl::string_view prefix) {
  return absl::StrCat(prefix,
                      storage::HexEncode(storage::SecureRandomBytes(5)));
}

absl::StatusOr<PageStart> StartPage(const google::protobuf::Message& request,
                                    int page_size,
                                    absl::string_view page_token) {
  PageStart page;
  COHORTE_ASSIGN_OR_RETURN(page.size,
                           EffectivePageSize("page_size", page_size));
  page.query = RequestFingerprint(request, {"page_size", "page_token"});
  COHORTE_ASSIGN_OR_RETURN(
      page.after, DecodePageToken("page_token", page_token, page.query));
  return page;
}

}  // namespace cohorte::service
