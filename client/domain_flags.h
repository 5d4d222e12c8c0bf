// File: client/domain_flags.h
//
// What the commands of exchanges, messages, reports, sessions, the inbox
// and moderation share: one set of flags (one command runs per process)
// and a few ways of showing things. Not thread-safe.
#ifndef COHORTE_CLIENT_DOMAIN_FLAGS_H_
#define COHORTE_CLIENT_DOMAIN_FLAGS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "client/call.h"
#include "client/fields.h"
#include "client/names.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"

namespace cohorte::client {

// Every flag of these commands; one instance per process.
struct DomainFlags {
  std::string name, parent, cohort, group, territory, title, kind, state;
  std::string reply_to, etag, since, visibility, fundamental, balise;
  std::string theme, time_zone, exchange;
  std::string member, reason, note, target;
  LongText body;
  std::vector<std::string> tags, attachments, items;
  PageFlags page;
  FieldValues fields;
  bool newest_first = false, unread_only = false, show_deleted = false;
  bool no_mark_read = false;
  bool edit = false;
  bool upcoming = false, all = false, attended = true, show_resolved = false;

  NameContext Names() const { return {cohort, group, territory, exchange}; }
};

// `list` joined with `sep`.
std::string Join(const google::protobuf::RepeatedPtrField<std::string>& list,
                 const char* sep = " ");

// `t` in a session's time zone (Europe/Paris when empty), e.g.
// "2026-12-13 09:30 CET".
std::string SessionTime(const google::protobuf::Timestamp& t,
                        const std::string& zone);

// The text of `--body`/`--body-file`; when neither is given and
// `required`, the editor on a terminal (call.h ReadRequiredText, starting
// from `initial`), a usage error in a script. False after a usage message.
bool ReadBody(const CLI::App& cmd, const DomainFlags& f, bool required,
              std::string* out, const std::string& initial = "");

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_DOMAIN_FLAGS_H_
