// File: tests/testing/status_matchers.h
//
// gMock matchers for absl::Status and absl::StatusOr (Abseil 20220623 has
// none):
//   EXPECT_THAT(store->Commit(m), IsOk());
//   EXPECT_THAT(service.GetCohort(caller, req),
//               StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(result, InvalidFieldIs("cohort.display_name"));
#ifndef COHORTE_TESTS_TESTING_STATUS_MATCHERS_H_
#define COHORTE_TESTS_TESTING_STATUS_MATCHERS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "server/service/core/errors.h"

namespace cohorte::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code,
          "has code " +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, reason,
           "has code " +
               absl::StatusCodeToString(static_cast<absl::StatusCode>(code)) +
               " and reason " + std::string(reason)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s << " with reason "
                   << service::ErrorReason(s);
  return s.code() == code && service::ErrorReason(s) == reason;
}

// INVALID_ARGUMENT naming `field` in its BadRequest and its message.
MATCHER_P(InvalidFieldIs, field,
          "is INVALID_ARGUMENT for field " + std::string(field)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s << " with field "
                   << service::ErrorField(s);
  return s.code() == absl::StatusCode::kInvalidArgument &&
         service::ErrorField(s) == field &&
         s.message().substr(0, std::string(field).size()) == field;
}

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_STATUS_MATCHERS_H_
