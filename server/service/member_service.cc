#include "server/service/member_service.h"

#include "absl/strings/str_cat.h"
#include "server/service/errors.h"
#include "server/service/policy.h"
#include "server/service/validation.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace cohorte::service {

absl::StatusOr<v1::Member> MemberService::GetMember(
    const Principal& caller, const v1::GetMemberRequest& req) {
  const std::string name =
      req.name() == "members/me" ? caller.member : req.name();
  COHORTE_RETURN_IF_ERROR(
      Authorize(caller, Resource::kMember, Action::kRead, name));
  COHORTE_RETURN_IF_ERROR(
      ParseTopLevelName("name", name, "members").status());
  v1::Member member;
  absl::Status s = store_.GetProto(
      storage::Table::kEntities,
      storage::EntityKey(storage::EntityKind::kMember, name), &member);
  if (absl::IsNotFound(s)) {
    return ErrorWithReason(absl::StatusCode::kNotFound, kReasonNotFound,
                           absl::StrCat(name, " does not exist"));
  }
  COHORTE_RETURN_IF_ERROR(s);
  return member;
}

}  // namespace cohorte::service
