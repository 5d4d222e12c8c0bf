#include "client/link_commands.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/call.h"
#include "client/labels.h"
#include "client/output.h"
#include "client/times.h"
#include "cohorte/v1/links.grpc.pb.h"

namespace cohorte::client {
namespace {

// Every flag of these commands; one instance per process.
struct Flags {
  std::string name, id, display_name, endpoint, token_file, ca_file, cert_file,
      key_file, peer_instance, record_contents, etag, request_id;
  std::vector<std::string> cohorts;
  bool keep_copies = false;
  PageFlags page;
};

// `occitanie` → `links/occitanie`; a full name is kept.
std::string LinkName(const std::string& s) {
  return s.rfind("links/", 0) == 0 ? s : "links/" + s;
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::string Lag(const v1::Link& l) {
  if (l.cursor().token().empty()) return "";
  std::ostringstream out;
  out << l.lag_revisions() << " rev, " << l.lag_seconds() << " s";
  return out.str();
}

void ShowLink(const v1::Link& l) {
  PrintFields(
      {{"name", l.name()},
       {"display_name", l.display_name()},
       {"endpoint", l.endpoint()},
       {"tls", l.tls_ca_pem().empty()
                   ? "no (plaintext)"
                   : (l.tls_client_cert_pem().empty() ? "yes" : "yes, mTLS")},
       {"cohorts", Join(l.cohorts())},
       {"peer_instance_id", l.peer_instance_id()},
       {"peer_instance_name", l.peer_instance_name()},
       {"record_contents", Label(l.record_contents())},
       {"state", Label(l.state())},
       {"error_reason", l.error_reason()},
       {"error_message", l.error_message()},
       {"next_retry_time", ShowTime(l.next_retry_time())},
       {"cursor", l.cursor().token()},
       {"lag", Lag(l)},
       {"applied_changes", std::to_string(l.applied_changes())},
       {"refused_changes", std::to_string(l.refused_changes())},
       {"last_applied_time", ShowTime(l.last_applied_time())},
       {"create_time", ShowTime(l.create_time())},
       {"etag", l.etag()}});
}

// The whole content of `path` (`-`: standard input), or false after a
// usage error naming `flag`.
bool ReadAll(const std::string& flag, const std::string& path,
             std::string* out) {
  if (path == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    UsageError(flag, "cannot read " + path);
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(in), {});
  return true;
}

std::string Trimmed(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

void AddLinkCommands(CLI::App& app, const CommandEnv& env,
                     CommandRegistry& registry) {
  auto f = std::make_shared<Flags>();
  CLI::App* root = app.add_subcommand(
      "links",
      "Follow cohorts of another Cohorte instance (admin): read-only copies "
      "kept in sync from its change feed");
  root->require_subcommand(1);
  auto stub = [&env] {
    return v1::LinkService::NewStub(env.connection()->channel());
  };

  CLI::App* create = root->add_subcommand(
      "create",
      "Follow cohorts of another instance with a SERVICE token it issued");
  create->add_option("--id", f->id, "the link's id, e.g. occitanie");
  create
      ->add_option("--display-name", f->display_name,
                   "what the link follows, 1..100 characters")
      ->required();
  create->add_option("--endpoint", f->endpoint, "the peer's host:port")
      ->required();
  create
      ->add_option("--cohort", f->cohorts,
                   "a cohort of the peer to follow (repeatable)")
      ->required();
  create
      ->add_option("--peer-token-file", f->token_file,
                   "file holding the peer's service token secret (- for "
                   "standard input)")
      ->required();
  create->add_option("--ca-file", f->ca_file,
                     "PEM CA of the peer's TLS certificate (none: plaintext)");
  create->add_option("--client-cert-file", f->cert_file,
                     "PEM certificate for mTLS");
  create->add_option("--client-key-file", f->key_file,
                     "PEM private key for mTLS");
  create->add_option("--peer-instance", f->peer_instance,
                     "the peer's instance id, if known (checked on every "
                     "answer)");
  create->add_option("--record-contents", f->record_contents,
                     "eager (default: copied with their versions) or lazy "
                     "(copied on a first download here)");
  create->add_option("--request-id", f->request_id,
                     "makes a retry safe (AIP-155)");
  registry.Register(create, [=, &env] {
    v1::CreateLinkRequest req;
    v1::Link::RecordContents contents = v1::Link::EAGER;
    if (!f->record_contents.empty() &&
        !ParseEnumFlag("--record-contents", f->record_contents, &contents)) {
      return kExitUsage;
    }
    req.mutable_link()->set_record_contents(contents);
    req.set_link_id(f->id);
    req.set_request_id(f->request_id);
    v1::Link* l = req.mutable_link();
    l->set_display_name(f->display_name);
    l->set_endpoint(f->endpoint);
    l->set_peer_instance_id(f->peer_instance);
    for (const std::string& c : f->cohorts) l->add_cohorts(CohortName(c));
    std::string token;
    if (!ReadAll("--peer-token-file", f->token_file, &token)) {
      return kExitUsage;
    }
    req.set_token(Trimmed(token));
    if (!f->ca_file.empty() &&
        !ReadAll("--ca-file", f->ca_file, l->mutable_tls_ca_pem())) {
      return kExitUsage;
    }
    if (!f->cert_file.empty() && !ReadAll("--client-cert-file", f->cert_file,
                                          l->mutable_tls_client_cert_pem())) {
      return kExitUsage;
    }
    if (!f->key_file.empty() && !ReadAll("--client-key-file", f->key_file,
                                         req.mutable_client_key_pem())) {
      return kExitUsage;
    }
    return Call<v1::Link>(
        env,
        [&](auto* ctx, auto* resp) {
          return stub()->CreateLink(ctx, req, resp);
        },
        ShowLink);
  });

  CLI::App* list =
      root->add_subcommand("list", "Links, with their state and lag");
  AddPageFlags(list, &f->page);
  registry.Register(list, [=, &env] {
    v1::ListLinksRequest req;
    return CallList<v1::ListLinksRequest, v1::ListLinksResponse>(
        env, f->page, req,
        [&](auto* ctx, const auto& r, auto* resp) {
          return stub()->ListLinks(ctx, r, resp);
        },
        [](const v1::ListLinksResponse& r) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& l : r.links()) {
            rows.push_back({l.name(), l.endpoint(), Join(l.cohorts()),
                            Label(l.state()), Lag(l),
                            std::to_string(l.applied_changes()),
                            l.error_reason()});
          }
          PrintTable({"NAME", "ENDPOINT", "COHORTS", "STATE", "LAG", "APPLIED",
                      "ERROR"},
                     rows);
        });
  });

  CLI::App* get = root->add_subcommand(
      "get", "Show a link: state, cursor, lag, last error (never its token)");
  get->add_option("name", f->name, "link id or links/{l}")->required();
  registry.Register(get, [=, &env] {
    v1::GetLinkRequest req;
    req.set_name(LinkName(f->name));
    return Call<v1::Link>(
        env,
        [&](auto* ctx, auto* resp) { return stub()->GetLink(ctx, req, resp); },
        ShowLink);
  });

  struct Verb {
    const char* name;
    const char* help;
  };
  for (const Verb& v :
       {Verb{"pause", "Stop pulling (the copies stay, read-only)"},
        Verb{"resume", "Pull again from where it stopped; retry an error now"},
        Verb{"delete",
             "Stop and delete a link, and its copies unless "
             "--keep-copies"}}) {
    CLI::App* cmd = root->add_subcommand(v.name, v.help);
    cmd->add_option("name", f->name, "link id or links/{l}")->required();
    cmd->add_option("--etag", f->etag,
                    "fail with a conflict if the link changed since");
    const std::string verb = v.name;
    if (verb == "delete") {
      cmd->add_flag("--keep-copies", f->keep_copies,
                    "keep the followed cohorts' copies (read-only, naming "
                    "their home)");
    }
    registry.Register(cmd, [=, &env] {
      const std::string name = LinkName(f->name);
      return Call<v1::Link>(
          env,
          [&](auto* ctx, auto* resp) {
            if (verb == "pause") {
              v1::PauseLinkRequest req;
              req.set_name(name);
              req.set_etag(f->etag);
              return stub()->PauseLink(ctx, req, resp);
            }
            if (verb == "resume") {
              v1::ResumeLinkRequest req;
              req.set_name(name);
              req.set_etag(f->etag);
              return stub()->ResumeLink(ctx, req, resp);
            }
            v1::DeleteLinkRequest req;
            req.set_name(name);
            req.set_etag(f->etag);
            req.set_keep_copies(f->keep_copies);
            return stub()->DeleteLink(ctx, req, resp);
          },
          ShowLink);
    });
  }
}

}  // namespace cohorte::client
