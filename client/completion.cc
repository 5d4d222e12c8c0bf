#include "client/completion.h"

#include <string>
#include <vector>

namespace cohorte::client {
namespace {

// The options of `app` as typed: `--name` (and `-o` for short ones).
std::string Options(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_positional()) continue;
    for (const std::string& l : option->get_lnames()) out += " --" + l;
    for (const std::string& s : option->get_snames()) out += " -" + s;
  }
  return out;
}

void AddPaths(const CLI::App& app, const std::string& path, std::string* out) {
  std::string words;
  for (const CLI::App* sub : app.get_subcommands({})) {
    words += " " + sub->get_name();
  }
  if (!path.empty()) words += Options(app);
  *out += "  [\"" + path + "\"]=\"" + (words.empty() ? "" : words.substr(1)) +
          "\"\n";
  for (const CLI::App* sub : app.get_subcommands({})) {
    AddPaths(*sub,
             path.empty() ? sub->get_name() : path + " " + sub->get_name(),
             out);
  }
}

}  // namespace

std::string BashCompletion(const CLI::App& app) {
  std::string table;
  AddPaths(app, "", &table);
  return "# bash completion for cohorte, generated from its command tree:\n"
         "#   source <(cohorte completion bash)\n"
         "declare -gA _cohorte_words=(\n" +
         table +
         ")\n"
         "_cohorte_global=\"" +
         Options(app).substr(1) +
         "\"\n"
         "_cohorte() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" w i next\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    w=\"${COMP_WORDS[i]}\"\n"
         "    [[ \"$w\" == -* ]] && continue\n"
         "    next=\"${path:+$path }$w\"\n"
         "    [[ -n \"${_cohorte_words[$next]+x}\" ]] && path=\"$next\"\n"
         "  done\n"
         "  COMPREPLY=($(compgen -W \"${_cohorte_words[$path]} "
         "$_cohorte_global\" -- \"$cur\"))\n"
         "}\n"
         "complete -F _cohorte cohorte\n";
}

}  // namespace cohorte::client
