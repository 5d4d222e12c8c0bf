#include "client/domain_flags.h"

#include <string>

#include "absl/time/time.h"
#include "client/times.h"

namespace cohorte::client {

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& list,
                 const char* sep) {
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string SessionTime(const google::protobuf::Timestamp& t,
                        const std::string& zone) {
  absl::TimeZone tz;
  if (!LoadZone(zone, &tz)) tz = absl::UTCTimeZone();
  return FormatUserTime(t, tz);
}

bool ReadBody(const CLI::App& cmd, const DomainFlags& f, bool required,
              std::string* out, const std::string& initial) {
  if (required) {
    return ReadRequiredText(
        cmd, "body", f.body, initial,
        "# Write the message above (Markdown; `# Heading` lines are kept).\n"
        "# Save and quit to send it; leave it empty to send nothing.",
        out);
  }
  return ReadLongText(cmd, "body", f.body, out);
}

}  // namespace cohorte::client
