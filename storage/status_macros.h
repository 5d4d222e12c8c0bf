// File: storage/status_macros.h
//
// Early-return helpers for absl::Status and absl::StatusOr, which Abseil
// 20220623 does not ship. Used by every layer.
//
//   COHORTE_RETURN_IF_ERROR(store.Get(...));
//   COHORTE_ASSIGN_OR_RETURN(Cohort cohort, ReadCohort(name));
#ifndef COHORTE_STORAGE_STATUS_MACROS_H_
#define COHORTE_STORAGE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define COHORTE_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status cohorte_status_ = (expr);           \
    if (!cohorte_status_.ok()) return cohorte_status_; \
  } while (0)

#define COHORTE_STATUS_CONCAT_INNER_(a, b) a##b
#define COHORTE_STATUS_CONCAT_(a, b) COHORTE_STATUS_CONCAT_INNER_(a, b)

#define COHORTE_ASSIGN_OR_RETURN(lhs, expr) \
  COHORTE_ASSIGN_OR_RETURN_IMPL_(           \
      COHORTE_STATUS_CONCAT_(cohorte_statusor_, __LINE__), lhs, expr)

#define COHORTE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // COHORTE_STORAGE_STATUS_MACROS_H_
