// File: server/service/core/errors.h
//
// Errors the service layer returns: an absl::Status with the most specific
// code, an English message naming the field, and payloads the transport
// turns into google.rpc.ErrorInfo (a stable `reason`) and
// google.rpc.BadRequest (the field). No gRPC here.
#ifndef COHORTE_SERVER_SERVICE_CORE_ERRORS_H_
#define COHORTE_SERVER_SERVICE_CORE_ERRORS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cohorte::service {

inline constexpr absl::string_view kErrorDomain = "cohorte.v1";
inline constexpr absl::string_view kErrorInfoTypeUrl =
    "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kBadRequestTypeUrl =
    "type.googleapis.com/google.rpc.BadRequest";

// Stable reasons (the API's contract: never change their spelling).
inline constexpr absl::string_view kReasonFieldInvalid = "FIELD_INVALID";
inline constexpr absl::string_view kReasonEtagMismatch = "ETAG_MISMATCH";
inline constexpr absl::string_view kReasonNotFound = "RESOURCE_NOT_FOUND";
inline constexpr absl::string_view kReasonAlreadyExists = "ALREADY_EXISTS";
inline constexpr absl::string_view kReasonRequestIdReused = "REQUEST_ID_REUSED";
inline constexpr absl::string_view kReasonDeleted = "RESOURCE_DELETED";
inline constexpr absl::string_view kReasonWrongState = "WRONG_STATE";
inline constexpr absl::string_view kReasonTokenMissing = "TOKEN_MISSING";
inline constexpr absl::string_view kReasonTokenInvalid = "TOKEN_INVALID";
inline constexpr absl::string_view kReasonInvitationUnknown =
    "INVITATION_UNKNOWN";
inline constexpr absl::string_view kReasonInvitationExpired =
    "INVITATION_EXPIRED";
inline constexpr absl::string_view kReasonInvitationRevoked =
    "INVITATION_REVOKED";
inline constexpr absl::string_view kReasonInvitationUsed = "INVITATION_USED";
inline constexpr absl::string_view kReasonPermissionDenied =
    "PERMISSION_DENIED";
// The change feed's cursors (metadata: `compacted_through`, `cursor`).
inline constexpr absl::string_view kReasonCursorInstance = "CURSOR_INSTANCE";
inline constexpr absl::string_view kReasonCursorEpoch = "CURSOR_EPOCH";
inline constexpr absl::string_view kReasonChangesCompacted =
    "CHANGES_COMPACTED";
inline constexpr absl::string_view kReasonWatcherTooSlow = "WATCHER_TOO_SLOW";
inline constexpr absl::string_view kReasonQuotaExceeded = "QUOTA_EXCEEDED";
inline constexpr absl::string_view kReasonUploadExpired = "UPLOAD_EXPIRED";
inline constexpr absl::string_view kReasonWrongOffset = "WRONG_OFFSET";
inline constexpr absl::string_view kReasonDigestMismatch = "DIGEST_MISMATCH";
// Links (links.proto): a write to a replica (metadata: `home_instance_id`,
// `home_instance_name`), and a followed cohort whose name is taken here.
inline constexpr absl::string_view kReasonReplicaReadOnly = "REPLICA_READ_ONLY";
inline constexpr absl::string_view kReasonNameConflict = "NAME_CONFLICT";
// A cohort bundle (ImportCohort) that does not match its manifest.
inline constexpr absl::string_view kReasonBundleCorrupt = "BUNDLE_CORRUPT";
// A replicated version's content not copied yet (a LAZY link's).
inline constexpr absl::string_view kReasonContentAtHome = "CONTENT_AT_HOME";
// A flag nobody could read in the moderation queue (a college group with no
// facilitator, whose cohort's coordinators are not members).
inline constexpr absl::string_view kReasonNoModerator = "NO_MODERATOR";
inline constexpr absl::string_view kReasonServerBusy = "SERVER_BUSY";

// INVALID_ARGUMENT "<field>: <description>", reason FIELD_INVALID, with a
// BadRequest naming `field` (a request path such as "cohort.display_name").
absl::Status InvalidField(absl::string_view field,
                          absl::string_view description);

// Like InvalidField with another code and reason (a quota, an offset).
absl::Status FieldError(absl::StatusCode code, absl::string_view reason,
                        absl::string_view field, absl::string_view description);

// PERMISSION_DENIED "the caller may not <what>", reason PERMISSION_DENIED.
absl::Status PermissionDenied(absl::string_view what);

// FAILED_PRECONDITION with `message`, reason WRONG_STATE.
absl::Status WrongState(absl::string_view message);

// `code` with `message` and an ErrorInfo carrying `reason`.
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message);

// Like ErrorWithReason, with ErrorInfo metadata (e.g. the cursor to resume
// from).
absl::Status ErrorWithReason(
    absl::StatusCode code, absl::string_view reason, absl::string_view message,
    const std::vector<std::pair<std::string, std::string>>& metadata);

// The ErrorInfo metadata value `key` of `status`, or "".
std::string ErrorMetadata(const absl::Status& status, absl::string_view key);

// The ErrorInfo reason of `status`, or "" if it has none.
std::string ErrorReason(const absl::Status& status);
// The first BadRequest field of `status`, or "" if it has none.
std::string ErrorField(const absl::Status& status);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CORE_ERRORS_H_
