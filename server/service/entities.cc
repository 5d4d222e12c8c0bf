#include "server/service/entities.h"

#include "storage/random.h"

namespace cohorte::service {

absl::Status CheckCohortLinks(
    const storage::Txn& txn, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& names,
    absl::string_view collection, absl::string_view what,
    absl::string_view cohort, storage::EntityKind kind, bool must_exist) {
  for (const std::string& name : names) {
    absl::StatusOr<std::string> c =
        ParseCohortChildName(field, name, collection);
    bool ok = c.ok() && *c == cohort;
    if (ok && must_exist) {
      absl::StatusOr<bool> exists =
          txn.Exists(storage::Table::kEntities, storage::EntityKey(kind, name));
      if (!exists.ok()) return exists.status();
      ok = *exists;
    }
    if (!ok) {
      return InvalidField(field, absl::StrCat(name.substr(0, 200), " is not a ",
                                              what, " of ", cohort));
    }
  }
  return absl::OkStatus();
}

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
