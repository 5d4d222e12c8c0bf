#include "client/commands.h"

#include <string>
#include <vector>

namespace cohorte::client {
namespace {

// The option of `command` called `--name`, or its positional `name`;
// nullptr if none.
const CLI::Option* OptionNamed(const CLI::App& command,
                               const std::string& name) {
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& l : option->get_lnames()) {
      if (l == name) return option;
    }
    if (option->get_positional() && option->get_name() == name) return option;
  }
  return nullptr;
}

std::string Shown(const CLI::Option& option) {
  return option.get_positional() ? "<" + option.get_name() + ">"
                                 : "--" + option.get_lnames().front();
}

std::string Dashed(std::string s) {
  for (char& c : s) c = c == '_' ? '-' : c;
  return s;
}

}  // namespace

std::string FlagForField(const CLI::App& command,
                         const std::string& field_path) {
  std::string field = field_path.substr(field_path.rfind('.') + 1);
  const size_t bracket = field.find('[');
  if (bracket != std::string::npos) field = field.substr(0, bracket);
  std::vector<std::string> candidates;
  if (field == "parent") {
    // The parent's flag: the deepest one the command has.
    candidates = {"exchange", "group", "territory", "cohort", "member"};
  } else if (field == "name" || field == "session" || field == "target") {
    // Request-level `name`: the positional argument.
    for (const CLI::Option* option : command.get_options()) {
      if (option->get_positional()) return Shown(*option);
    }
  } else {
    const std::string dashed = Dashed(field);
    candidates.push_back(dashed);
    if (dashed.size() > 1 && dashed.back() == 's') {
      candidates.push_back(dashed.substr(0, dashed.size() - 1));
    }
    for (const char* suffix : {"-time", "-id"}) {
      const std::string s = suffix;
      if (dashed.size() > s.size() &&
          dashed.compare(dashed.size() - s.size(), s.size(), s) == 0) {
        candidates.push_back(dashed.substr(0, dashed.size() - s.size()));
        if (s == "-id") candidates.push_back("id");
      }
    }
    if (field == "first_message") candidates.push_back("body");
    if (field == "audience_colleges") candidates.push_back("college");
    if (field == "audience_territories") candidates.push_back("territory");
    if (field == "delegations") candidates.push_back("delegation");
    if (field == "cohorts") candidates.push_back("serves");
    if (field == "official_code") candidates.push_back("code");
  }
  for (const std::string& c : candidates) {
    if (const CLI::Option* option = OptionNamed(command, c)) {
      return Shown(*option);
    }
  }
  return "";
}

}  // namespace cohorte::client
