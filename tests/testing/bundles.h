// File: tests/testing/bundles.h
//
// What tests of cohort bundles build: events.pb's bytes (each ChangeEvent
// varint-length-prefixed, as `cohorte cohorts export` writes them) and the
// manifest that opens an ImportCohort stream. Pure functions; thread-safe.
#ifndef COHORTE_TESTS_TESTING_BUNDLES_H_
#define COHORTE_TESTS_TESTING_BUNDLES_H_

#include <string>
#include <vector>

#include "cohorte/v1/changes.pb.h"
#include "cohorte/v1/links.pb.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "server/service/records/content_check.h"

namespace cohorte::testing {

// The bytes of an events.pb holding `events` in order.
inline std::string DelimitedEvents(const std::vector<v1::ChangeEvent>& events) {
  std::string bytes;
  google::protobuf::io::StringOutputStream out(&bytes);
  for (const v1::ChangeEvent& e : events) {
    if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(e, &out)) {
      return "";
    }
  }
  return bytes;
}

// The first message of an ImportCohort stream: the manifest of a bundle of
// `cohort` exported by instance `source` ("Occitanie (AREC)") whose
// events.pb is `events_pb`, declaring `count` events and `size_bytes`
// bytes (`events_pb`'s size when negative).
inline v1::ImportCohortRequest ManifestOf(const std::string& events_pb,
                                          const std::string& source,
                                          const std::string& cohort,
                                          int64_t count,
                                          int64_t size_bytes = -1) {
  v1::ImportCohortRequest first;
  v1::BundleManifest& m = *first.mutable_manifest();
  m.set_format_version(1);
  m.set_source_instance_id(source);
  m.set_source_instance_name("Occitanie (AREC)");
  m.set_cohort(cohort);
  m.set_event_count(count);
  v1::BundleFile* f = m.add_files();
  f->set_path("events.pb");
  f->set_size_bytes(size_bytes >= 0 ? size_bytes
                                    : static_cast<int64_t>(events_pb.size()));
  f->set_sha256(service::Sha256Hex(events_pb));
  return first;
}

}  // namespace cohorte::testing

#endif  // COHORTE_TESTS_TESTING_BUNDLES_H_
