#include "client/names.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cohorte::client {
namespace {

// How a kind's name is built: its collection under its parent's name.
struct Shape {
  const char* collection;  // "territories"
  NameKind parent;         // meaningful only when has_parent
  bool has_parent;
  const char* parent_flag;  // the flag that names the parent
  const char* example;      // a full name, for messages
};

Shape ShapeOf(NameKind kind) {
  switch (kind) {
    case NameKind::kCohort:
      return {"cohorts", kind, false, "", "cohorts/occitanie"};
    case NameKind::kMember:
      return {"members", kind, false, "", "members/marie-dubois"};
    case NameKind::kToken:
      return {"tokens", kind, false, "", "tokens/t1"};
    case NameKind::kTerritory:
      return {"territories", NameKind::kCohort, true, "--cohort",
              "cohorts/occitanie/territories/petr-vallees"};
    case NameKind::kGroup:
      return {"groups", NameKind::kCohort, true, "--cohort",
              "cohorts/occitanie/groups/elus"};
    case NameKind::kChantier:
      return {"chantiers", NameKind::kTerritory, true, "--territory",
              "cohorts/occitanie/territories/petr-vallees/chantiers/x"};
    case NameKind::kExchange:
      return {"exchanges", NameKind::kGroup, true, "--group",
              "cohorts/occitanie/groups/elus/exchanges/e1"};
    case NameKind::kMessage:
      return {"messages", NameKind::kExchange, true, "--exchange",
              "cohorts/occitanie/groups/elus/exchanges/e1/messages/m000001"};
    case NameKind::kReport:
      return {"reports", NameKind::kCohort, true, "--cohort",
              "cohorts/occitanie/reports/r1"};
    case NameKind::kSession:
      return {"sessions", NameKind::kCohort, true, "--cohort",
              "cohorts/occitanie/sessions/s1"};
    case NameKind::kInvitation:
      return {"invitations", NameKind::kCohort, true, "--cohort",
              "cohorts/occitanie/invitations/i1"};
    case NameKind::kFlag:
      return {"flags", NameKind::kCohort, true, "--cohort",
              "cohorts/occitanie/flags/f1"};
    case NameKind::kRecord:
      return {"records", NameKind::kCohort, true, "--cohort",
              "cohorts/occitanie/records/compte-rendu"};
  }
  return {"", kind, false, "", ""};
}

// The number of '/'-separated segments of a full name of `kind`.
int Segments(NameKind kind) {
  const Shape s = ShapeOf(kind);
  return 2 + (s.has_parent ? Segments(s.parent) : 0);
}

bool IsId(const std::string& value) {
  return !value.empty() && value.find('/') == std::string::npos;
}

const std::string& ContextValue(NameKind kind, const NameContext& c) {
  static const std::string kEmpty;
  switch (kind) {
    case NameKind::kCohort:
      return c.cohort;
    case NameKind::kGroup:
      return c.group;
    case NameKind::kTerritory:
      return c.territory;
    case NameKind::kExchange:
      return c.exchange;
    default:
      return kEmpty;
  }
}

}  // namespace

absl::StatusOr<std::string> ResolveName(NameKind kind, const std::string& value,
                                        const std::string& flag,
                                        const NameContext& context) {
  const Shape shape = ShapeOf(kind);
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " is empty"));
  }
  if (!IsId(value)) {
    // A full name: the right collection at the right depth.
    int segments = 1;
    for (char ch : value) segments += ch == '/';
    const std::string tail = absl::StrCat("/", shape.collection, "/");
    const bool right_kind =
        segments == Segments(kind) &&
        (shape.has_parent ? absl::StrContains(value, tail)
                          : absl::StartsWith(value, tail.substr(1)));
    if (!right_kind) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": '", value, "' is not a name such as ",
                       shape.example, " (or a short id)"));
    }
    return value;
  }
  if (!shape.has_parent) return absl::StrCat(shape.collection, "/", value);
  const std::string& parent_value = ContextValue(shape.parent, context);
  if (parent_value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": '", value, "' is a short id: give ", shape.parent_flag,
        " too, or the full name (", shape.example, ")"));
  }
  absl::StatusOr<std::string> parent =
      ResolveName(shape.parent, parent_value, shape.parent_flag, context);
  if (!parent.ok()) return parent.status();
  return absl::StrCat(*parent, "/", shape.collection, "/", value);
}

}  // namespace cohorte::client
