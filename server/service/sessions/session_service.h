// File: server/service/sessions/session_service.h
//
// SessionService: the cohort's sessions (common days, webinars, workshops,
// study trips, intersessions), registrations with a waiting list, and
// attendance. Seats are counted inside the mutation that takes them, so
// concurrent registrations for the last seats never exceed the capacity:
// the ones past it go to the waiting list, and a cancellation gives its
// seat to the first of that list. No gRPC. Thread-safe; `store` must
// outlive it.
#ifndef COHORTE_SERVER_SERVICE_SESSIONS_SESSION_SERVICE_H_
#define COHORTE_SERVER_SERVICE_SESSIONS_SESSION_SERVICE_H_

#include "absl/status/statusor.h"
#include "cohorte/v1/sessions.pb.h"
#include "server/service/access/principal.h"
#include "server/service/inbox/fan_out.h"
#include "storage/store.h"

namespace cohorte::service {

class SessionService {
 public:
  // Sets the fan-out's audience of SESSION_OPEN; `store` and `fan_out` must
  // outlive it.
  SessionService(storage::Store* store, NotificationFanOut* fan_out);
  SessionService(const SessionService&) = delete;
  SessionService& operator=(const SessionService&) = delete;

  // INVALID_ARGUMENT naming the field for a bad kind, title, time (end not
  // after start, longer than kMaxSessionDays), time zone, link, audience or
  // capacity. A session still to come is announced to its audience after
  // it commits, before this returns (NotificationFanOut).
  absl::StatusOr<v1::Session> CreateSession(
      const Principal& caller, const v1::CreateSessionRequest& req);
  absl::StatusOr<v1::Session> GetSession(const Principal& caller,
                                         const v1::GetSessionRequest& req);
  // By start time.
  absl::StatusOr<v1::ListSessionsResponse> ListSessions(
      const Principal& caller, const v1::ListSessionsRequest& req);
  absl::StatusOr<v1::ListUpcomingSessionsResponse> ListUpcomingSessions(
      const Principal& caller, const v1::ListUpcomingSessionsRequest& req);
  // A capacity below the registered count: INVALID_ARGUMENT; a larger one
  // gives seats to the waiting list.
  absl::StatusOr<v1::Session> UpdateSession(
      const Principal& caller, const v1::UpdateSessionRequest& req);
  // With `member` set, a coordinator (or the administrator) registers
  // someone else, even after the session; otherwise the caller registers
  // before it ends.
  absl::StatusOr<v1::Registration> Register(const Principal& caller,
                                            const v1::RegisterRequest& req);
  // FAILED_PRECONDITION (WRONG_STATE) if the caller holds no seat or place
  // on the waiting list.
  absl::StatusOr<v1::Registration> CancelRegistration(
      const Principal& caller, const v1::CancelRegistrationRequest& req);
  absl::StatusOr<v1::ListRegistrationsResponse> ListRegistrations(
      const Principal& caller, const v1::ListRegistrationsRequest& req);
  absl::StatusOr<v1::Registration> RecordAttendance(
      const Principal& caller, const v1::RecordAttendanceRequest& req);

 private:
  storage::Store& store_;
  NotificationFanOut& fan_out_;
};

// OK if `caller` may read `session`'s cohort content (admin, participants).
absl::Status AuthorizeSessionRead(const Principal& caller,
                                  absl::string_view session_name);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_SESSIONS_SESSION_SERVICE_H_
