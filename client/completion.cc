#include "client/completion.h"

#include <string>
#include <utility>
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

// Every command under `app` with its path ("" for the root), depth first.
void CollectPaths(const CLI::App& app, const std::string& path,
                  std::vector<std::pair<std::string, const CLI::App*>>* out) {
  out->emplace_back(path, &app);
  for (const CLI::App* sub : app.get_subcommands({})) {
    CollectPaths(*sub,
                 path.empty() ? sub->get_name() : path + " " + sub->get_name(),
                 out);
  }
}

// `text` between single quotes for zsh (' as '\'').
std::string ZshQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// `text` between single quotes for fish (' and \ escaped).
std::string FishQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// A command's key in the zsh tables: "cohorte" and its path (an empty
// key is not one every zsh accepts).
std::string ZshKey(const std::string& path) {
  return path.empty() ? "cohorte" : "cohorte " + path;
}

// The first line of a help text, for a one-line description.
std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// The fish `complete` arguments of `option`: -l/-s names, -r when it takes
// a value, its description.
std::string FishOption(const CLI::Option& option) {
  std::string out;
  for (const std::string& l : option.get_lnames()) out += " -l " + l;
  for (const std::string& s : option.get_snames()) out += " -s " + s;
  if (option.get_items_expected_min() > 0) out += " -r";
  if (!option.get_description().empty()) {
    out += " -d " + FishQuoted(FirstLine(option.get_description()));
  }
  return out;
}

}  // namespace

std::string ZshCompletion(const CLI::App& app) {
  std::vector<std::pair<std::string, const CLI::App*>> paths;
  CollectPaths(app, "", &paths);
  std::string commands, options;
  for (const auto& [path, command] : paths) {
    std::string described;
    for (const CLI::App* sub : command->get_subcommands({})) {
      std::string d = FirstLine(sub->get_description());
      std::string escaped;
      for (char c : d)
        escaped += c == ':' ? std::string("\\:") : std::string(1, c);
      described +=
          (described.empty() ? "" : "\n") + sub->get_name() + ":" + escaped;
    }
    if (!described.empty()) {
      commands +=
          "  " + ZshQuoted(ZshKey(path)) + " " + ZshQuoted(described) + "\n";
    }
    if (!path.empty()) {
      const std::string words = Options(*command);
      if (!words.empty()) {
        options += "  " + ZshQuoted(ZshKey(path)) + " " +
                   ZshQuoted(words.substr(1)) + "\n";
      }
    }
  }
  // A command's subcommands are one "name:description" a line (inside
  // single quotes), split again with ${(ps:\n:)…}.
  return "#compdef cohorte\n"
         "# zsh completion for cohorte, generated from its command tree:\n"
         "#   source <(cohorte completion zsh)   (after compinit)\n"
         "typeset -gA _cohorte_commands _cohorte_options\n"
         "_cohorte_commands=(\n" +
         commands +
         ")\n"
         "_cohorte_options=(\n" +
         options +
         ")\n"
         "typeset -g _cohorte_global=" +
         ZshQuoted(Options(app).substr(1)) +
         "\n"
         "_cohorte() {\n"
         "  local cmdpath=cohorte w next i\n"
         "  local -a cmds opts\n"
         "  for ((i = 2; i < CURRENT; i++)); do\n"
         "    w=${words[i]}\n"
         "    [[ $w == -* ]] && continue\n"
         "    next=\"$cmdpath $w\"\n"
         "    (( ${+_cohorte_commands[$next]} + ${+_cohorte_options[$next]} ))"
         " && cmdpath=$next\n"
         "  done\n"
         "  opts=(${=_cohorte_options[$cmdpath]} ${=_cohorte_global})\n"
         "  if [[ $PREFIX == -* || -z ${_cohorte_commands[$cmdpath]} ]]; then\n"
         "    compadd -- $opts\n"
         "  else\n"
         "    cmds=(\"${(@ps:\\n:)_cohorte_commands[$cmdpath]}\")\n"
         "    _describe -t commands 'cohorte command' cmds\n"
         "  fi\n"
         "}\n"
         "if [[ ${funcstack[1]} == _cohorte ]]; then\n"
         "  _cohorte \"$@\"\n"
         "else\n"
         "  compdef _cohorte cohorte\n"
         "fi\n";
}

std::string FishCompletion(const CLI::App& app) {
  std::vector<std::pair<std::string, const CLI::App*>> paths;
  CollectPaths(app, "", &paths);
  std::string known;
  for (const auto& [path, command] : paths) {
    if (!path.empty()) known += " " + FishQuoted(path);
  }
  std::string out =
      "# fish completion for cohorte, generated from its command tree:\n"
      "#   cohorte completion fish | source\n"
      "set -g __cohorte_paths" +
      known +
      "\n"
      "function __cohorte_path\n"
      "    set -l path ''\n"
      "    for w in (commandline -opc)[2..-1]\n"
      "        string match -q -- '-*' $w; and continue\n"
      "        set -l next (string trim -- \"$path $w\")\n"
      "        contains -- $next $__cohorte_paths; and set path $next\n"
      "    end\n"
      "    echo $path\n"
      "end\n"
      "complete -c cohorte -f\n";
  for (const CLI::Option* option : app.get_options()) {
    if (!option->get_positional()) {
      out += "complete -c cohorte" + FishOption(*option) + "\n";
    }
  }
  for (const auto& [path, command] : paths) {
    const std::string when =
        " -n " + FishQuoted("test (__cohorte_path) = " + FishQuoted(path));
    for (const CLI::App* sub : command->get_subcommands({})) {
      out += "complete -c cohorte" + when + " -a " +
             FishQuoted(sub->get_name()) + " -d " +
             FishQuoted(FirstLine(sub->get_description())) + "\n";
    }
    if (path.empty()) continue;
    for (const CLI::Option* option : command->get_options()) {
      if (option->get_positional()) continue;
      out += "complete -c cohorte" + when + FishOption(*option) + "\n";
    }
  }
  return out;
}

std::string CompletionScript(const CLI::App& app, const std::string& shell) {
  if (shell == "bash") return BashCompletion(app);
  if (shell == "zsh") return ZshCompletion(app);
  if (shell == "fish") return FishCompletion(app);
  return "";
}

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
