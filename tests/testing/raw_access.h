// File: tests/testing/raw_access.h
//
// RawAccess: the committed state of a Store for tests, which check what was
// written underneath the read gate (storage/view.h lists it as a friend of
// CommittedReadKey). Never linked into cohorted.
#ifndef COHORTE_TESTS_TESTING_RAW_ACCESS_H_
#define COHORTE_TESTS_TESTING_RAW_ACCESS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/store.h"
#include "storage/view.h"

namespace cohorte::storage::testing {

class RawAccess {
 public:
  static const View& Committed(const Store& store) {
    return store.committed(CommittedReadKey());
  }
  static absl::StatusOr<std::vector<v1::ChangeRecord>> ReadChanges(
      const Store& store, int64_t from_revision, int limit) {
    return store.ReadChanges(CommittedReadKey(), from_revision, limit);
  }
};

}  // namespace cohorte::storage::testing

#endif  // COHORTE_TESTS_TESTING_RAW_ACCESS_H_
