// File: server/service/access/record_links.h
//
// Links to shared records from what others read (a message's attachments,
// a report's or a session's records): each must name a record the writer
// may read, not deleted, whose readers include every reader of the
// linking resource — so that a link never points a reader at a record
// they cannot open, and a GROUP record is never linked where its group's
// outsiders read. Thread-compatible (a Reader's rules).
#ifndef COHORTE_SERVER_SERVICE_ACCESS_RECORD_LINKS_H_
#define COHORTE_SERVER_SERVICE_ACCESS_RECORD_LINKS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cohorte/v1/reports.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/service/access/reader.h"

namespace cohorte::service {

// OK if every name of `records` is a record `reader`'s caller may read,
// not deleted, and readable by whoever reads a resource of `audience`
// (for GROUP, the members of `group`): a GROUP record of that group, or a
// record of a visibility at least as wide. INVALID_ARGUMENT naming `field`
// otherwise; an absent record and one the caller may not read get the same
// message.
absl::Status CheckRecordLinks(
    const Reader& reader, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& records,
    v1::Visibility audience, absl::string_view group);

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_ACCESS_RECORD_LINKS_H_
