#include "server/service/access/principal.h"

namespace cohorte::service {

Principal Principal::FromMember(const v1::Member& member, std::string token) {
  Principal p;
  p.member = member.name();
  p.role = member.role();
  p.token = std::move(token);
  p.college = member.college();
  p.delegations.assign(member.delegations().begin(),
                       member.delegations().end());
  p.cohorts.assign(member.cohorts().begin(), member.cohorts().end());
  return p;
}

Principal Principal::ForService(std::string token,
                                std::vector<std::string> cohorts,
                                bool read_write) {
  Principal p;
  p.token = std::move(token);
  p.cohorts = std::move(cohorts);
  p.service = true;
  p.read_write = read_write;
  return p;
}

absl::string_view CohortOf(absl::string_view name) {
  constexpr absl::string_view kPrefix = "cohorts/";
  if (name.substr(0, kPrefix.size()) != kPrefix) return absl::string_view();
  size_t slash = name.find('/', kPrefix.size());
  return slash == absl::string_view::npos ? name : name.substr(0, slash);
}

}  // namespace cohorte::service
