// File: server/service/content/referentiel.h
//
// The référentiel of the programme: built in at compile time from
// server/service/data/referentiel.json (a copy of the programme's own
// file), parsed once, read-only. Reports and exchanges validate their tags
// against it. Thread-safe (immutable after construction).
#ifndef COHORTE_SERVER_SERVICE_CONTENT_REFERENTIEL_H_
#define COHORTE_SERVER_SERVICE_CONTENT_REFERENTIEL_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/referentiel.pb.h"
#include "server/service/access/principal.h"

namespace cohorte::service {

class Referentiel {
 public:
  // Parses a referentiel.json text. INVALID_ARGUMENT if it does not parse,
  // or if an id is missing or repeated.
  static absl::StatusOr<std::unique_ptr<Referentiel>> Parse(
      absl::string_view json);

  Referentiel(const Referentiel&) = delete;
  Referentiel& operator=(const Referentiel&) = delete;

  const v1::Referentiel& proto() const { return proto_; }
  bool IsFundamental(absl::string_view id) const;
  // The fundamental a balise belongs to, or "" if `id` is no balise.
  std::string FundamentalOfBalise(absl::string_view id) const;
  // Whether `id` is any id of it (fundamental, balise, mode, dispositif).
  bool Contains(absl::string_view id) const;

 private:
  Referentiel() = default;
  v1::Referentiel proto_;
  // Every id → its fundamental's id.
  std::map<std::string, std::string, std::less<>> fundamental_of_;
  std::map<std::string, std::string, std::less<>> fundamental_of_balise_;
};

// The built-in référentiel. Its JSON is checked by a test; a build whose
// embedded file does not parse aborts at first use.
const Referentiel& BuiltInReferentiel();

// ReferentielService: serves it. No gRPC. Thread-safe.
class ReferentielService {
 public:
  ReferentielService() = default;
  ReferentielService(const ReferentielService&) = delete;
  ReferentielService& operator=(const ReferentielService&) = delete;

  // Every authenticated caller; PERMISSION_DENIED otherwise.
  absl::StatusOr<v1::Referentiel> GetReferentiel(
      const Principal& caller, const v1::GetReferentielRequest& req) const;
};

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CONTENT_REFERENTIEL_H_
