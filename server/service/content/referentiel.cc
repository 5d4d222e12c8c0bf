#include "server/service/content/referentiel.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "cohorte/internal/v1/referentiel_file.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/service/core/errors.h"

namespace cohorte::service {

extern const char kReferentielJson[];

absl::StatusOr<std::unique_ptr<Referentiel>> Referentiel::Parse(
    absl::string_view json) {
  internal::v1::ReferentielFile file;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                            &file, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the référentiel does not parse: ", parsed.ToString()));
  }
  std::unique_ptr<Referentiel> r(new Referentiel());
  r->proto_.set_source(file.source());
  auto add = [&](const std::string& id, const std::string& fundamental) {
    return r->fundamental_of_.emplace(id, fundamental).second;
  };
  for (const auto& axis : file.axes()) {
    if (axis.id().empty() || !add(axis.id(), axis.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("référentiel: fundamental id '", axis.id(),
                       "' is empty or repeated"));
    }
    v1::Referentiel::Fundamental* f = r->proto_.add_fundamentals();
    f->set_id(axis.id());
    f->set_title(axis.title());
    for (const auto& b : axis.balises()) {
      if (b.id().empty() || !add(b.id(), axis.id())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "référentiel: balise id '", b.id(), "' is empty or repeated"));
      }
      r->fundamental_of_balise_.emplace(b.id(), axis.id());
      v1::Referentiel::Item* item = f->add_balises();
      item->set_id(b.id());
      item->set_title(b.title());
    }
    int n = 0;
    for (const std::string& title : axis.modes_de_faire()) {
      v1::Referentiel::Item* item = f->add_modes_de_faire();
      item->set_id(absl::StrCat(axis.id(), "-mf-", ++n));
      item->set_title(title);
      add(item->id(), axis.id());
    }
    n = 0;
    for (const std::string& title : axis.dispositifs()) {
      v1::Referentiel::Item* item = f->add_dispositifs();
      item->set_id(absl::StrCat(axis.id(), "-d-", ++n));
      item->set_title(title);
      add(item->id(), axis.id());
    }
  }
  if (r->proto_.fundamentals().empty()) {
    return absl::InvalidArgumentError("the référentiel has no fundamental");
  }
  return r;
}

bool Referentiel::IsFundamental(absl::string_view id) const {
  auto it = fundamental_of_.find(id);
  return it != fundamental_of_.end() && it->second == id;
}

std::string Referentiel::FundamentalOfBalise(absl::string_view id) const {
  auto it = fundamental_of_balise_.find(id);
  return it == fundamental_of_balise_.end() ? "" : it->second;
}

bool Referentiel::Contains(absl::string_view id) const {
  return fundamental_of_.find(id) != fundamental_of_.end();
}

const Referentiel& BuiltInReferentiel() {
  static const Referentiel* const built_in = [] {
    absl::StatusOr<std::unique_ptr<Referentiel>> r =
        Referentiel::Parse(kReferentielJson);
    if (!r.ok()) {
      std::fprintf(stderr, "the built-in référentiel is broken: %s\n",
                   r.status().ToString().c_str());
      std::abort();
    }
    return r->release();
  }();
  return *built_in;
}

absl::StatusOr<v1::Referentiel> ReferentielService::GetReferentiel(
    const Principal& caller, const v1::GetReferentielRequest&) const {
  if (!caller.authenticated()) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                           kReasonPermissionDenied,
                           "the caller may not read the référentiel");
  }
  return BuiltInReferentiel().proto();
}

}  // namespace cohorte::service
