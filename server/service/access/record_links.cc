#include "server/service/access/record_links.h"

#include "absl/strings/str_cat.h"
#include "server/service/core/errors.h"

namespace cohorte::service {
namespace {

// How widely a visibility reads: GROUP < COHORT < NETWORK < PUBLIC.
int Width(v1::Visibility v) {
  switch (v) {
    case v1::GROUP:
      return 1;
    case v1::COHORT:
      return 2;
    case v1::NETWORK:
      return 3;
    case v1::PUBLIC:
      return 4;
    default:
      return 0;
  }
}

}  // namespace

absl::Status CheckRecordLinks(
    const Reader& reader, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& records,
    v1::Visibility audience, absl::string_view group) {
  for (const std::string& name : records) {
    absl::StatusOr<v1::Record> r = reader.Load<v1::Record>(name);
    if (!r.ok()) {
      if (!absl::IsPermissionDenied(r.status()) &&
          !absl::IsNotFound(r.status())) {
        return r.status();
      }
      return InvalidField(
          field, absl::StrCat(name.substr(0, 200),
                              " does not exist or you may not read it"));
    }
    if (r->has_delete_time()) {
      return InvalidField(field, absl::StrCat(name, " is deleted"));
    }
    const bool same_group = r->visibility() == v1::GROUP &&
                            audience == v1::GROUP && r->group() == group;
    const bool wider = r->visibility() != v1::GROUP &&
                       Width(r->visibility()) >= Width(audience);
    if (!same_group && !wider) {
      return InvalidField(
          field,
          absl::StrCat(name, " is ", v1::Visibility_Name(r->visibility()),
                       ": not every reader of this ",
                       v1::Visibility_Name(audience), " content may read it"));
    }
  }
  return absl::OkStatus();
}

}  // namespace cohorte::service
