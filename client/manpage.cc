#include "client/manpage.h"

#include <string>
#include <vector>

namespace cohorte::client {
namespace {

// "\fB\-\-cohort\fR \fITEXT\fR" (or "\fB\-o\fR, \fB\-\-output\fR …").
std::string OptionHeading(const CLI::Option& option) {
  std::string out;
  for (const std::string& s : option.get_snames()) {
    out += (out.empty() ? "" : ", ") + std::string("\\fB\\-") + RoffEscape(s) +
           "\\fR";
  }
  for (const std::string& l : option.get_lnames()) {
    out += (out.empty() ? "" : ", ") + std::string("\\fB\\-\\-") +
           RoffEscape(l) + "\\fR";
  }
  if (option.get_items_expected_min() > 0) {
    std::string type = option.get_type_name();
    if (type.empty()) type = "VALUE";
    out += " \\fI" + RoffEscape(type) + "\\fR";
  }
  return out;
}

void Options(const CLI::App& app, std::string* out) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_positional()) continue;
    *out += ".TP\n" + OptionHeading(*option) + "\n" +
            RoffEscape(option->get_description());
    if (!option->get_envname().empty()) {
      *out +=
          " (environment: \\fB" + RoffEscape(option->get_envname()) + "\\fR)";
    }
    *out += "\n";
  }
}

void Commands(const CLI::App& app, const std::string& path, std::string* out) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    const std::string here = path + " " + sub->get_name();
    std::string usage = "\\fBcohorte" + RoffEscape(here) + "\\fR";
    for (const CLI::Option* option : sub->get_options()) {
      if (!option->get_positional()) continue;
      const std::string arg = "\\fI" + RoffEscape(option->get_name()) + "\\fR";
      usage += option->get_required() ? " " + arg : " [" + arg + "]";
    }
    if (!sub->get_subcommands({}).empty()) usage += " \\fIcommand\\fR";
    *out += ".SS \"" + RoffEscape("cohorte" + here) + "\"\n" + usage +
            "\n.br\n" + RoffEscape(sub->get_description()) + "\n";
    for (const CLI::Option* option : sub->get_options()) {
      if (!option->get_positional()) continue;
      *out += ".TP\n\\fI" + RoffEscape(option->get_name()) + "\\fR\n" +
              RoffEscape(option->get_description()) + "\n";
    }
    std::string options;
    for (const CLI::Option* option : sub->get_options()) {
      if (option->get_positional() || option->get_name() == "-h,--help") {
        continue;
      }
      options += ".TP\n" + OptionHeading(*option) + "\n" +
                 RoffEscape(option->get_description()) + "\n";
    }
    *out += options;
    Commands(*sub, here, out);
  }
}

}  // namespace

std::string RoffEscape(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  return out;
}

std::string ManPage(const CLI::App& app, const std::string& version) {
  std::string out =
      ".\\\" Generated from cohorte's command tree by `cohorte help --man`.\n"
      ".TH COHORTE 1 \"\" \"cohorte " +
      RoffEscape(version) +
      "\" \"User Commands\"\n"
      ".SH NAME\n"
      "cohorte \\- the command\\-line client of a Cohorte server\n"
      ".SH SYNOPSIS\n"
      "\\fBcohorte\\fR [\\fIglobal options\\fR] \\fIresource\\fR "
      "\\fIverb\\fR [\\fIarguments\\fR] [\\fIoptions\\fR]\n"
      ".SH DESCRIPTION\n"
      "\\fBcohorte\\fR reads and writes the life of a cohort of territories "
      "(its territories, members, closed peer groups, exchanges, experience "
      "reports, shared records and sessions) on a \\fBcohorted\\fR server. "
      "Data goes to standard output (tables, or with \\fB\\-o json\\fR, "
      "\\fB\\-o yaml\\fR or \\fB\\-o name\\fR documents for scripts); "
      "errors go to standard error as \\fBError: \\fICODE\\fB: "
      "\\fImessage\\fR, or as JSON objects under \\fB\\-o json\\fR and "
      "\\fB\\-o yaml\\fR. Global options are accepted before or after the "
      "command. A short id is resolved against the flags that name its "
      "parents; a full resource name is always accepted.\n"
      ".PP\n"
      "The token is never read from the command line: it comes from "
      "\\fBCOHORTE_TOKEN\\fR, \\fB\\-\\-token\\-file\\fR, or the context "
      "saved by \\fBcohorte login\\fR, and is never printed.\n"
      ".SH GLOBAL OPTIONS\n";
  Options(app, &out);
  out += ".SH COMMANDS\n";
  Commands(app, "", &out);
  out +=
      ".SH ENVIRONMENT\n"
      ".TP\n\\fBCOHORTE_TOKEN\\fR\nthe bearer token (wins over "
      "\\fB\\-\\-token\\-file\\fR and contexts)\n"
      ".TP\n\\fBVISUAL\\fR, \\fBEDITOR\\fR\nthe editor opened for a long text "
      "(a message, minutes) that no flag gave, when standard input is a "
      "terminal\n"
      ".TP\n\\fBTZ\\fR\nthe time zone times are typed and shown in "
      "(default Europe/Paris)\n"
      ".TP\n\\fBLC_ALL\\fR, \\fBLC_MESSAGES\\fR, \\fBLANG\\fR\nFrench or "
      "English labels in tables\n"
      ".TP\n\\fBXDG_CONFIG_HOME\\fR\nwhere the contexts live (default "
      "~/.config)\n"
      ".SH FILES\n"
      ".TP\n\\fI$XDG_CONFIG_HOME/cohorte/config\\fR\nthe contexts (server, "
      "TLS files, token file), mode 0600; never a token\n"
      ".TP\n\\fI$XDG_CONFIG_HOME/cohorte/tokens/\\fR\nthe token files "
      "\\fBcohorte login\\fR writes, mode 0600\n"
      ".SH EXIT STATUS\n";
  const std::vector<std::pair<const char*, const char*>> exits = {
      {"0", "success"},
      {"1", "other failure"},
      {"3", "health: NOT_SERVING"},
      {"4", "NOT_FOUND"},
      {"5", "ALREADY_EXISTS"},
      {"6", "conflict: ABORTED (stale etag), FAILED_PRECONDITION"},
      {"64",
       "bad usage (unknown flag, bad date, unknown word, short id "
       "without its parent)"},
      {"65", "INVALID_ARGUMENT, OUT_OF_RANGE"},
      {"69", "UNAVAILABLE, DEADLINE_EXCEEDED"},
      {"77", "UNAUTHENTICATED, PERMISSION_DENIED, a malformed token"},
      {"130",
       "interrupted (Ctrl\\-C) during an import; its result file says "
       "what was sent"}};
  for (const auto& [code, meaning] : exits) {
    out += ".TP\n\\fB" + std::string(code) + "\\fR\n" + meaning + "\n";
  }
  out +=
      ".SH SEE ALSO\n"
      "\\fBcohorted\\fR(8); \\fBcohorte completion bash|zsh|fish\\fR\n";
  return out;
}

}  // namespace cohorte::client
