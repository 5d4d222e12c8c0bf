// The confidentiality matrix: every RPC cohorted registers, reads and
// writes, called through the real transport (an in-process gRPC server and
// the callers' real bearer tokens, re-resolved at each call) as each of 14
// kinds of caller (Callers()), with exactly what comes back (Rows()). The
// RPCs are taken from the descriptors of the services
// transport::GrpcServices registers: one without a row fails
// EveryRegisteredRpcHasARow. To write a row, leave its expectations empty
// and run with COHORTE_MATRIX_PRINT=1: it prints what each caller gets.
//
// The world (BuildWorld): cohort `occitanie` (territories `petr`, `coteaux`)
// and cohort `autre` (territory `ailleurs`). What the élus group of
// occitanie says is planted with a marker (kMarker) in every text field: an
// exchange's title, message bodies, an edit, a hidden message and its hide
// reason, a deleted message, a flag's note, a GROUP report's title,
// narrative fields and themes, and a GROUP draft. Then one of its élus
// moves to the other cohort. The administrator has made a link
// (`links/normandie`, never started: the matrix runs no replicator) whose
// peer token secret and mTLS key are marked too (kLinkSecrets). For every
// cell:
//  - no response and no error for a caller other than the élu in the group
//    holds the marker, nor a name of the group's content they did not give;
//  - no response and no error for any caller, the administrator included,
//    holds a link's secrets;
//  - a caller who may not see the named resource gets the same code and
//    message for an absent name (Row::absent);
//  - the outcome agrees with the row of the policy table (policy_table.h)
//    the RPC answers to: OK only if it allows the caller, PERMISSION_DENIED
//    or UNAUTHENTICATED only if it does not.
//
// Writes mutate: a write cell expected to succeed runs on a fresh copy of
// the world (the store's directory copied from a template built once, on
// tmpfs where there is one), so no cell depends on another's order; a
// refused write runs on the shared world and must leave its revision
// unchanged.

#include <array>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "server/service/access/policy_table.h"
#include "server/service/access/tokens.h"
#include "server/service/records/content_check.h"
#include "server/transport/call_handler.h"
#include "server/transport/services.h"
#include "server/transport/worker_pool.h"
#include "tests/testing/principals.h"
#include "tests/testing/services.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::service {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::MethodDescriptor;

// Every text planted in the élus group contains this.
constexpr char kMarker[] = "ELUSMARK";

// The secrets the world's link holds (its peer's service token and its mTLS
// client key), and what of them nobody may ever be shown.
constexpr char kLinkToken[] =
    "coh_0bad5ec70bad5ec70bad5ec70bad5ec70bad5ec70bad5ec70bad5ec70bad5ec7";
constexpr char kLinkKeyMarker[] = "LINKKEYMARK";
const std::vector<std::string>& LinkSecrets() {
  static const auto* secrets =
      new std::vector<std::string>{"0bad5ec70bad5ec7", kLinkKeyMarker};
  return *secrets;
}

// The kinds of caller, in the order of every expectation row.
struct Caller {
  const char* kind;    // short name used in the rows
  const char* member;  // member id, "" for tokens without a member
};
const std::vector<Caller>& Callers() {
  static const auto* callers = new std::vector<Caller>{
      {"elu", "elu-petr"},           // ELU of petr, in the élus group
      {"agent", "agent-petr"},       // AGENT of petr, in the club
      {"etat", "etat-petr"},         // ETAT_TERRITORIAL of petr
      {"acteur", "acteur-petr"},     // ACTEUR_SOCIO_ECONOMIQUE, in the club
      {"facil", "facil-coteaux"},    // AGENT of coteaux, the club's facilitator
      {"author", "author-coteaux"},  // ACTEUR of coteaux, a report's author
      {"coord", "coordinator"},      // coordinates occitanie, in no group
      {"ally", "ally"},              // serves occitanie, in no group
      {"svc-r", ""},                 // READ service token of occitanie
      {"svc-rw", ""},                // READ_WRITE service token of occitanie
      {"admin", "admin"},            // the administrator
      {"other", "elu-ailleurs"},     // an élu of the other cohort
      {"removed", "elu-removed"},    // an élu who wrote in the group, then
                                     // moved to the other cohort
      {"anon", ""},                  // no token at all
  };
  return *callers;
}

// The callers who may read the élus group's content.
bool InElusGroup(const std::string& kind) { return kind == "elu"; }

// What one call gave.
struct Result {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  std::unique_ptr<Message> response;
};

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// A store, every service over it and the gRPC services cohorted registers,
// served in process. Calls go through the transport as bearer tokens do.
class World {
 public:
  // Over the store in `dir`, which it owns (and removes when it goes).
  explicit World(std::unique_ptr<::cohorte::testing::TempDir> dir)
      : World(dir->path()) {
    dir_ = std::move(dir);
  }
  // Over the store in `dir`.
  explicit World(const std::string& dir)
      : services_(dir),
        authenticator_(services_.store.get()),
        pool_(2),
        calls_(&authenticator_, &pool_),
        grpc_(&calls_, services_.all.get()) {
    grpc::ServerBuilder builder;
    grpc_.Register(builder);
    server_ = builder.BuildAndStart();
    services_.all->watches.Start();
    stub_ = std::make_unique<grpc::GenericStub>(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World() {
    stub_.reset();
    services_.all->watches.Shutdown();
    server_->Shutdown();
  }

  ::cohorte::testing::Services& services() { return services_; }
  int64_t revision() const { return services_.store->revision(); }

  // Calls `method` with `request`, with `secret` as bearer token (none if
  // empty).
  Result Call(const MethodDescriptor& method, const Message& request,
              const std::string& secret) {
    if (method.server_streaming()) return CallStream(method, request, secret);
    grpc::ClientContext context;
    if (!secret.empty()) {
      context.AddMetadata("authorization", "Bearer " + secret);
    }
    grpc::Slice slice(request.SerializeAsString());
    grpc::ByteBuffer in(&slice, 1), out;
    // On this thread, through a completion queue of its own: nothing of the
    // call outlives this function.
    grpc::CompletionQueue queue;
    grpc::Status status;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
        stub_->PrepareUnaryCall(&context,
                                absl::StrCat("/", method.service()->full_name(),
                                             "/", method.name()),
                                in, &queue);
    call->StartCall();
    call->Finish(&out, &status, &queue);
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(queue.Next(&tag, &ok) && ok && tag == &queue);
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
    Result result;
    result.code = status.error_code();
    result.message = status.error_message();
    if (status.ok()) {
      std::vector<grpc::Slice> slices;
      (void)out.Dump(&slices);
      std::string bytes;
      for (const grpc::Slice& s : slices) {
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      result.response.reset(
          google::protobuf::MessageFactory::generated_factory()
              ->GetPrototype(method.output_type())
              ->New());
      EXPECT_TRUE(result.response->ParseFromString(bytes)) << method.name();
    }
    return result;
  }

  // A server-streaming call, its responses merged into one. Watch: the
  // responses up to the first whose cursor is at the revision of the
  // call's start (events appended, the last cursor), then the call is
  // cancelled. Others (ReadRecordVersion): every response to the end.
  Result CallStream(const MethodDescriptor& method, const Message& request,
                    const std::string& secret) {
    const int64_t target = revision();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    if (!secret.empty()) {
      context.AddMetadata("authorization", "Bearer " + secret);
    }
    grpc::CompletionQueue queue;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
        stub_->PrepareCall(&context,
                           absl::StrCat("/", method.service()->full_name(), "/",
                                        method.name()),
                           &queue);
    void* tag = nullptr;
    bool ok = false;
    auto step = [&](void* t) {
      return queue.Next(&tag, &ok) && tag == t && ok;
    };
    int tags[5];
    call->StartCall(&tags[0]);
    EXPECT_TRUE(step(&tags[0]));
    grpc::Slice slice(request.SerializeAsString());
    grpc::ByteBuffer in(&slice, 1);
    call->Write(in, &tags[1]);
    EXPECT_TRUE(step(&tags[1]));
    call->WritesDone(&tags[2]);
    EXPECT_TRUE(step(&tags[2]));
    Result result;
    std::unique_ptr<Message> merged(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(method.output_type())
            ->New());
    const bool watch = method.output_type() == v1::WatchResponse::descriptor();
    bool caught_up = false;
    while (!caught_up) {
      grpc::ByteBuffer out;
      call->Read(&out, &tags[3]);
      if (!step(&tags[3])) break;
      std::vector<grpc::Slice> slices;
      (void)out.Dump(&slices);
      std::string bytes;
      for (const grpc::Slice& s : slices) {
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      merged->MergeFromString(bytes);
      if (!watch) continue;
      v1::WatchResponse response;
      EXPECT_TRUE(response.ParseFromString(bytes));
      caught_up = response.cursor().revision() >= target;
    }
    if (caught_up) context.TryCancel();
    grpc::Status status;
    call->Finish(&status, &tags[4]);
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
    if (caught_up || (!watch && status.ok())) {
      result.code = grpc::StatusCode::OK;
      result.response = std::move(merged);
    } else {
      result.code = status.error_code();
      result.message = status.error_message();
    }
    return result;
  }

 private:
  // Declared first: removed after the store is closed.
  std::unique_ptr<::cohorte::testing::TempDir> dir_;
  ::cohorte::testing::Services services_;
  Authenticator authenticator_;
  transport::WorkerPool pool_;
  transport::CallHandler calls_;
  transport::GrpcServices grpc_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

// `Service.Method` (e.g. "ExchangeService.PostMessage") as registered.
const MethodDescriptor* FindMethod(const std::string& rpc) {
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      "cohorte.v1." + rpc);
}

// The values at `path` in `m` ("exchanges.name", "members"): a string,
// number, enum or bool as text, repeated values joined by ','; a path
// ending in '#' counts the repeated field instead.
std::string Show(const Message& m, absl::string_view path) {
  const bool count = absl::EndsWith(path, "#");
  if (count) path.remove_suffix(1);
  const std::vector<std::string> parts = absl::StrSplit(path, '.');
  std::vector<const Message*> at = {&m};
  std::vector<std::string> values;
  int counted = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<const Message*> next;
    for (const Message* msg : at) {
      const FieldDescriptor* f =
          msg->GetDescriptor()->FindFieldByName(parts[i]);
      if (f == nullptr) return absl::StrCat("?", parts[i]);
      const auto* r = msg->GetReflection();
      const bool last = i + 1 == parts.size();
      if (last && count) {  // summed over `at`; a singular field counts 1
        counted += f->is_repeated() ? r->FieldSize(*msg, f)
                   : f->cpp_type() == FieldDescriptor::CPPTYPE_STRING
                       ? !r->GetString(*msg, f).empty()
                       : r->HasField(*msg, f);
        continue;
      }
      const int n = f->is_repeated() ? r->FieldSize(*msg, f) : 1;
      for (int j = 0; j < n; ++j) {
        const bool rep = f->is_repeated();
        switch (f->cpp_type()) {
          case FieldDescriptor::CPPTYPE_MESSAGE:
            next.push_back(rep ? &r->GetRepeatedMessage(*msg, f, j)
                               : &r->GetMessage(*msg, f));
            break;
          case FieldDescriptor::CPPTYPE_STRING:
            values.push_back(rep ? r->GetRepeatedString(*msg, f, j)
                                 : r->GetString(*msg, f));
            break;
          case FieldDescriptor::CPPTYPE_ENUM:
            values.push_back(rep ? r->GetRepeatedEnum(*msg, f, j)->name()
                                 : r->GetEnum(*msg, f)->name());
            break;
          case FieldDescriptor::CPPTYPE_BOOL:
            values.push_back(
                (rep ? r->GetRepeatedBool(*msg, f, j) : r->GetBool(*msg, f))
                    ? "true"
                    : "false");
            break;
          case FieldDescriptor::CPPTYPE_INT32:
            values.push_back(std::to_string(
                rep ? r->GetRepeatedInt32(*msg, f, j) : r->GetInt32(*msg, f)));
            break;
          case FieldDescriptor::CPPTYPE_INT64:
            values.push_back(std::to_string(
                rep ? r->GetRepeatedInt64(*msg, f, j) : r->GetInt64(*msg, f)));
            break;
          default:
            values.push_back("?");
        }
      }
    }
    at = std::move(next);
  }
  if (count) return absl::StrCat(path, "#=", counted);
  return absl::StrCat(path, "=", absl::StrJoin(values, ","));
}

// One row of the matrix: an RPC called with one request by every caller.
struct Row {
  // `Service.Method`, and a variant's label (after a space) if the RPC has
  // several rows.
  std::string rpc;
  // The request, in text format, with {placeholders} of the world's names.
  std::string request;
  // What each caller of Callers() gets, in order: "OK" plus the `show`
  // fields of the response, or the status code's name.
  std::vector<std::string> expected;
  // Response fields shown after "OK" (see Show).
  std::vector<std::string> show = {};
  // If set, {from, to}: the request with `from` replaced by the absent name
  // `to` must give every caller outside the group who is refused the
  // existing resource the same code and the same message (modulo the name).
  std::pair<std::string, std::string> absent = {};
  // The caller kinds who may see the named resource (the probe above does
  // not apply to them): the élus group's members unless said otherwise.
  std::set<std::string> readers = {"elu"};

  // The row of the policy table (access/policy_table.h) the RPC answers to,
  // and what its relations mean here: the group concerned, the report's
  // authors, who "self" is (empty: every caller acting as a member), and
  // whether the resource is in cohort occitanie.
  std::string resource = {};
  std::string action = {};
  std::string group = "elus";
  std::set<std::string> authors = {"elu"};
  std::set<std::string> self = {};
  bool in_cohort = true;

  Row& Policy(std::string r, std::string a) {
    resource = std::move(r);
    action = std::move(a);
    return *this;
  }
  Row& Group(std::string g) {
    group = std::move(g);
    return *this;
  }
  Row& Authors(std::set<std::string> a) {
    authors = std::move(a);
    return *this;
  }
  Row& Self(std::set<std::string> s) {
    self = std::move(s);
    return *this;
  }
  Row& Readers(std::set<std::string> r) {
    readers = std::move(r);
    return *this;
  }
  Row& NoCohort() {
    in_cohort = false;
    return *this;
  }
};

// Whether `kind` stands in `relation` to the resource of `row` (the facts of
// BuildWorld).
bool Holds(const std::string& kind, Relation relation, const Row& row) {
  static const std::set<std::string> kMembers = {
      "elu",   "agent", "etat",  "acteur", "facil",  "author",
      "coord", "ally",  "admin", "other",  "removed"};
  static const std::set<std::string> kParticipants = {
      "elu", "agent", "etat", "acteur", "facil", "author", "coord", "ally"};
  static const std::set<std::string> kPetr = {"elu", "agent", "etat", "acteur"};
  const std::set<std::string> group_members =
      row.group == "club" ? std::set<std::string>{"agent", "acteur", "facil"}
                          : std::set<std::string>{"elu"};
  const std::set<std::string> facilitators =
      row.group == "club" ? std::set<std::string>{"facil"}
                          : std::set<std::string>{};
  const std::set<std::string>& self = row.self.empty() ? kMembers : row.self;
  switch (relation) {
    case Relation::kAnyone:
      return true;
    case Relation::kAuthenticated:
      return kind != "anon";
    case Relation::kAdmin:
      return kind == "admin";
    case Relation::kCoordinator:
      return row.in_cohort && kind == "coord";
    case Relation::kParticipant:
      return row.in_cohort && kParticipants.count(kind) > 0;
    case Relation::kServiceToken:
      return row.in_cohort && (kind == "svc-r" || kind == "svc-rw");
    case Relation::kReadWriteServiceToken:
      return row.in_cohort && kind == "svc-rw";
    case Relation::kDelegation:
      return kPetr.count(kind) > 0;
    case Relation::kSelf:
      return self.count(kind) > 0;
    case Relation::kGroupMember:
      return group_members.count(kind) > 0;
    case Relation::kFacilitator:
      return facilitators.count(kind) > 0;
    case Relation::kAuthor:
      return row.authors.count(kind) > 0;
    case Relation::kReader:
      return row.readers.count(kind) > 0;
    case Relation::kCoordinatorReader:
      return row.in_cohort && kind == "coord" && row.readers.count(kind) > 0;
    case Relation::kSelfReader:
      return self.count(kind) > 0 && row.readers.count(kind) > 0;
  }
  return false;
}

// Checks that `outcome` of `row` as `kind` agrees with the policy table: an
// OK (except from a List, which filters what it returns) only for a caller
// the row allows; PERMISSION_DENIED or UNAUTHENTICATED only for one it does
// not. Other codes are state or validation errors, after the policy.
void ExpectAgreesWithPolicy(const Row& row, const std::string& kind,
                            const std::string& outcome) {
  const PolicyRow* policy = FindPolicyRow(row.resource, row.action);
  ASSERT_NE(policy, nullptr)
      << row.rpc << ": no policy row " << row.resource << " / " << row.action;
  bool allowed = false;
  for (Relation r : policy->allowed) allowed = allowed || Holds(kind, r, row);
  const std::string method = row.rpc.substr(row.rpc.find('.') + 1);
  if (absl::StartsWith(outcome, "OK") && !absl::StartsWith(method, "List")) {
    EXPECT_TRUE(allowed) << row.rpc << " as " << kind
                         << " succeeds, yet the policy row \"" << row.resource
                         << " | " << row.action << " | " << policy->who
                         << "\" does not allow it";
  }
  if (outcome == "PERMISSION_DENIED" || outcome == "UNAUTHENTICATED") {
    EXPECT_FALSE(allowed) << row.rpc << " as " << kind << " is refused, yet "
                          << "the policy row \"" << row.resource << " | "
                          << row.action << " | " << policy->who
                          << "\" allows it";
  }
}

bool IsWrite(const std::string& method) {
  return !absl::StartsWith(method, "Get") &&
         !absl::StartsWith(method, "List") && method != "Watch";
}

class ConfidentialityMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::error_code error;
    template_ = std::filesystem::is_directory("/dev/shm", error)
                    ? new ::cohorte::testing::TempDir("/dev/shm")
                    : new ::cohorte::testing::TempDir();
    names_ = new std::map<std::string, std::string>();
    secrets_ = new std::map<std::string, std::string>();
    auto world = std::make_unique<World>(template_->path());
    BuildWorld(*world);
  }
  static void TearDownTestSuite() {
    delete template_;
    delete names_;
    delete secrets_;
  }

  void SetUp() override { shared_ = FreshWorld(); }

  // A world with the template's content, in a directory of its own.
  std::unique_ptr<World> FreshWorld() {
    // On tmpfs where there is one: a world is made for each write cell
    // that succeeds, and their fsyncs are not what this test is about.
    std::error_code error;
    auto dir = std::filesystem::is_directory("/dev/shm", error)
                   ? std::make_unique<::cohorte::testing::TempDir>("/dev/shm")
                   : std::make_unique<::cohorte::testing::TempDir>();
    for (const char* sub : {"/db", "/backups"}) {
      std::filesystem::copy(template_->path() + sub, dir->path() + sub,
                            std::filesystem::copy_options::recursive);
    }
    return std::make_unique<World>(std::move(dir));
  }

  // Replaces the {placeholders} of `text` with the world's names.
  static std::string Fill(std::string text) {
    std::vector<std::pair<std::string, std::string>> subs;
    for (const auto& [k, v] : *names_) subs.emplace_back("{" + k + "}", v);
    return absl::StrReplaceAll(text, subs);
  }

  static std::unique_ptr<Message> Parse(const MethodDescriptor& method,
                                        const std::string& text) {
    std::unique_ptr<Message> request(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(method.input_type())
            ->New());
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(Fill(text),
                                                              request.get()))
        << method.full_name() << ": " << Fill(text);
    return request;
  }

  // Calls `rpc` on `world` as `who` (a caller kind, or a member id whose
  // token the world holds); fails the test unless OK.
  static std::unique_ptr<Message> Do(World& world, const std::string& who,
                                     const std::string& rpc,
                                     const std::string& text) {
    const MethodDescriptor* method = FindMethod(rpc);
    EXPECT_NE(method, nullptr) << rpc;
    if (method == nullptr) return nullptr;
    Result r = world.Call(*method, *Parse(*method, text), secrets_->at(who));
    EXPECT_EQ(r.code, grpc::StatusCode::OK)
        << rpc << " as " << who << ": " << r.message << "\n"
        << Fill(text);
    return std::move(r.response);
  }

  static void BuildWorld(World& world);

  // Runs `row` for every caller; returns the outcomes.
  std::vector<std::string> RunRow(const Row& row);

  static ::cohorte::testing::TempDir* template_;
  // Names of the world's resources ({placeholders} of the rows) and the
  // bearer secrets of each caller kind and member.
  static std::map<std::string, std::string>* names_;
  static std::map<std::string, std::string>* secrets_;

  std::unique_ptr<World> shared_;
  // Prints each row's outcomes instead of checking them (to write a row).
  const bool print_ = std::getenv("COHORTE_MATRIX_PRINT") != nullptr;
};

::cohorte::testing::TempDir* ConfidentialityMatrixTest::template_ = nullptr;
std::map<std::string, std::string>* ConfidentialityMatrixTest::names_ = nullptr;
std::map<std::string, std::string>* ConfidentialityMatrixTest::secrets_ =
    nullptr;

void ConfidentialityMatrixTest::BuildWorld(World& world) {
  using ::cohorte::testing::IsOk;
  ::cohorte::testing::Services& s = world.services();
  const Principal admin =
      ::cohorte::testing::MakePrincipal("members/admin", v1::Member::ADMIN);
  {
    v1::CreateMemberRequest req;
    req.set_member_id("admin");
    req.mutable_member()->set_given_name("Ada");
    req.mutable_member()->set_family_name("Admin");
    req.mutable_member()->set_email("admin@example.org");
    req.mutable_member()->set_role(v1::Member::ADMIN);
    ASSERT_THAT(s.members->CreateMember(admin, req), IsOk());
    v1::CreateTokenRequest token;
    token.set_parent("members/admin");
    absl::StatusOr<v1::CreateTokenResponse> t =
        s.members->CreateToken(admin, token);
    ASSERT_THAT(t, IsOk());
    (*secrets_)["admin"] = t->secret();
  }
  auto as = [&](const std::string& who, const std::string& rpc,
                const std::string& text) { return Do(world, who, rpc, text); };
  auto name_of = [](const std::unique_ptr<Message>& m) {
    if (m == nullptr) return std::string("?");
    const FieldDescriptor* f = m->GetDescriptor()->FindFieldByName("name");
    return m->GetReflection()->GetString(*m, f);
  };

  for (const char* c : {"occitanie", "autre", "ancienne", "archivee"}) {
    as("admin", "CohortService.CreateCohort",
       absl::StrCat("cohort_id: '", c, "' cohort { display_name: '", c, "' }"));
  }
  as("admin", "CohortService.DeleteCohort", "name: 'cohorts/ancienne'");
  as("admin", "CohortService.ArchiveCohort", "name: 'cohorts/archivee'");
  for (const auto& [parent, id] :
       std::vector<std::pair<std::string, std::string>>{
           {"occitanie", "petr"},
           {"occitanie", "coteaux"},
           {"autre", "ailleurs"}}) {
    as("admin", "TerritoryService.CreateTerritory",
       absl::StrCat("parent: 'cohorts/", parent, "' territory_id: '", id,
                    "' territory { display_name: '", id, "' kind: COMMUNE }"));
  }
  struct M {
    std::string id, role, college, delegation, cohort;
  };
  for (const M& m : std::vector<M>{
           {"elu-petr", "MEMBER", "ELU", "occitanie/territories/petr", ""},
           {"elu-coteaux", "MEMBER", "ELU", "occitanie/territories/coteaux",
            ""},
           {"elu-removed", "MEMBER", "ELU", "occitanie/territories/coteaux",
            ""},
           {"agent-petr", "MEMBER", "AGENT", "occitanie/territories/petr", ""},
           {"etat-petr", "MEMBER", "ETAT_TERRITORIAL",
            "occitanie/territories/petr", ""},
           {"acteur-petr", "MEMBER", "ACTEUR_SOCIO_ECONOMIQUE",
            "occitanie/territories/petr", ""},
           {"facil-coteaux", "MEMBER", "AGENT", "occitanie/territories/coteaux",
            ""},
           {"author-coteaux", "MEMBER", "ACTEUR_SOCIO_ECONOMIQUE",
            "occitanie/territories/coteaux", ""},
           {"coordinator", "COORDINATOR", "", "", "occitanie"},
           {"ally", "ALLY", "", "", "occitanie"},
           {"elu-ailleurs", "MEMBER", "ELU", "autre/territories/ailleurs",
            ""}}) {
    std::string text = absl::StrCat(
        "member_id: '", m.id, "' member { given_name: '", m.id,
        "' family_name: 'Test' email: '", m.id, "@example.org' role: ", m.role);
    if (!m.college.empty()) absl::StrAppend(&text, " college: ", m.college);
    if (!m.delegation.empty()) {
      absl::StrAppend(&text, " delegations: 'cohorts/", m.delegation, "'");
    }
    if (!m.cohort.empty()) {
      absl::StrAppend(&text, " cohorts: 'cohorts/", m.cohort, "'");
    }
    as("admin", "MemberService.CreateMember", text + " }");
    std::unique_ptr<Message> token =
        as("admin", "MemberService.CreateToken",
           absl::StrCat("parent: 'members/", m.id, "'"));
    ASSERT_NE(token, nullptr);
    const std::string secret =
        static_cast<v1::CreateTokenResponse&>(*token).secret();
    (*secrets_)[m.id] = secret;
    (*names_)["token:" + m.id] = name_of(token);
  }
  for (const Caller& c : Callers()) {
    if (*c.member != '\0') (*secrets_)[c.kind] = secrets_->at(c.member);
  }
  // A personal token of elu-petr other than the one they call with.
  (*names_)["elu_token"] = name_of(as("admin", "MemberService.CreateToken",
                                      "parent: 'members/elu-petr' "
                                      "display_name: 'second'"));
  (*secrets_)["anon"] = "";
  for (const auto& [kind, access] :
       std::vector<std::pair<std::string, std::string>>{
           {"svc-r", "READ"}, {"svc-rw", "READ_WRITE"}}) {
    std::unique_ptr<Message> t = as(
        "admin", "TokenService.CreateServiceToken",
        absl::StrCat("token { display_name: '", kind,
                     "' cohorts: 'cohorts/occitanie' access: ", access, " }"));
    ASSERT_NE(t, nullptr);
    (*secrets_)[kind] = static_cast<v1::TokenSecret&>(*t).secret();
    (*names_)["token:" + kind] =
        static_cast<v1::TokenSecret&>(*t).token().name();
  }
  // A webhook of the READ service token, made by the coordinator.
  std::unique_ptr<Message> hook =
      as("coordinator", "WebhookService.CreateWebhook",
         Fill("webhook { token: '{token:svc-r}' url: "
              "'http://127.0.0.1:9/hook' }"));
  ASSERT_NE(hook, nullptr);
  (*names_)["webhook"] =
      static_cast<v1::WebhookSecret&>(*hook).webhook().name();

  // Groups: the club (agent-petr, acteur-petr; facilitated by
  // facil-coteaux), elu-coteaux facilitates the élus group.
  as("admin", "GroupService.CreateGroup",
     "parent: 'cohorts/occitanie' group_id: 'club' group { display_name: "
     "'Club sobriété' kind: THEMATIC members: 'members/agent-petr' members: "
     "'members/acteur-petr' facilitators: 'members/facil-coteaux' }");
  as("admin", "GroupService.SetGroupMembers",
     "name: 'cohorts/occitanie/groups/elus' add_facilitators: "
     "'members/elu-coteaux'");
  as("admin", "TerritoryService.CreateChantier",
     "parent: 'cohorts/occitanie/territories/petr' chantier_id: "
     "'alimentation' chantier { display_name: 'Alimentation locale' "
     "carriers: 'members/acteur-petr' }");

  // The élus group's content, every text field marked.
  std::unique_ptr<Message> x =
      as("elu-petr", "ExchangeService.CreateExchange",
         "parent: 'cohorts/occitanie/groups/elus' exchange { title: "
         "'ELUSMARK exchange title' kind: QUESTION } first_message: "
         "'ELUSMARK first message, @agent-petr ne doit pas le lire'");
  const std::string elus_x = name_of(x);
  (*names_)["elus_x"] = elus_x;
  std::unique_ptr<Message> first =
      as("elu-petr", "ExchangeService.ListMessages",
         absl::StrCat("parent: '", elus_x, "'"));
  ASSERT_NE(first, nullptr);
  const std::string m1 =
      static_cast<v1::ListMessagesResponse&>(*first).messages(0).name();
  (*names_)["elus_m1"] = m1;
  (*names_)["elus_reply"] =
      name_of(as("elu-coteaux", "ExchangeService.PostMessage",
                 absl::StrCat("parent: '", elus_x,
                              "' message { body: 'ELUSMARK "
                              "reply body' reply_to: '",
                              m1, "' }")));
  (*names_)["elus_removed_msg"] =
      name_of(as("elu-removed", "ExchangeService.PostMessage",
                 absl::StrCat("parent: '", elus_x,
                              "' message { body: 'ELUSMARK body of the "
                              "member removed later' }")));
  as("elu-petr", "ExchangeService.EditMessage",
     absl::StrCat("name: '", m1, "' body: 'ELUSMARK edited body'"));
  const std::string hidden =
      name_of(as("elu-petr", "ExchangeService.PostMessage",
                 absl::StrCat("parent: '", elus_x,
                              "' message { body: 'ELUSMARK hidden body' }")));
  (*names_)["elus_hidden"] = hidden;
  as("elu-coteaux", "ModerationService.HideContent",
     absl::StrCat("target: '", hidden, "' reason: 'ELUSMARK hide reason'"));
  const std::string deleted =
      name_of(as("elu-petr", "ExchangeService.PostMessage",
                 absl::StrCat("parent: '", elus_x,
                              "' message { body: 'ELUSMARK deleted body' }")));
  (*names_)["elus_deleted"] = deleted;
  as("elu-petr", "ExchangeService.DeleteMessage",
     absl::StrCat("name: '", deleted, "'"));
  (*names_)["elus_flag"] = name_of(as(
      "elu-petr", "ModerationService.FlagContent",
      absl::StrCat("parent: 'cohorts/occitanie' flag { target: '",
                   (*names_)["elus_reply"],
                   "' reason: CONFIDENTIALITY note: 'ELUSMARK flag note' }")));
  const std::string narrative =
      "title: 'ELUSMARK report title' territory: "
      "'cohorts/occitanie/territories/petr' visibility: GROUP group: "
      "'cohorts/occitanie/groups/elus' context: 'ELUSMARK context' actions: "
      "'ELUSMARK actions' results: 'ELUSMARK results' what_worked: 'ELUSMARK "
      "what worked' what_failed: 'ELUSMARK what failed' lessons: 'ELUSMARK "
      "lessons' themes: 'ELUSMARK theme' balises: 'engagement-6'";
  as("elu-petr", "ReportService.CreateReport",
     "parent: 'cohorts/occitanie' report_id: 'groupe' report { " + narrative +
         " }");
  as("elu-petr", "ReportService.PublishReport",
     "name: 'cohorts/occitanie/reports/groupe'");
  as("elu-petr", "ReportService.CreateReport",
     "parent: 'cohorts/occitanie' report_id: 'groupe-brouillon' report { " +
         narrative + " }");

  // What the cohort shares: the club's exchange, reports of the other
  // visibilities (one a draft), a session, a flag on a shared report, a
  // pending invitation.
  (*names_)["club_x"] = name_of(
      as("agent-petr", "ExchangeService.CreateExchange",
         "parent: 'cohorts/occitanie/groups/club' exchange { title: 'Club : "
         "achats groupés' kind: QUESTION } first_message: 'Qui en est ?'"));
  std::unique_ptr<Message> club_messages = as(
      "agent-petr", "ExchangeService.ListMessages", Fill("parent: '{club_x}'"));
  ASSERT_NE(club_messages, nullptr);
  (*names_)["club_m1"] =
      static_cast<v1::ListMessagesResponse&>(*club_messages).messages(0).name();
  (*names_)["club_hidden"] =
      name_of(as("acteur-petr", "ExchangeService.PostMessage",
                 Fill("parent: '{club_x}' message { body: 'Pub' }")));
  as("facil-coteaux", "ModerationService.HideContent",
     Fill("target: '{club_hidden}' reason: 'Publicité'"));
  (*names_)["club_flag"] = name_of(
      as("agent-petr", "ModerationService.FlagContent",
         Fill("parent: 'cohorts/occitanie' flag { target: '{club_m1}' reason: "
              "SPAM }")));
  for (const auto& [id, who, territory, visibility] :
       std::vector<std::array<std::string, 4>>{
           {"cohort", "author-coteaux", "coteaux", "COHORT"},
           {"draft", "author-coteaux", "coteaux", "COHORT"},
           {"network", "elu-petr", "petr", "NETWORK"}}) {
    as(who, "ReportService.CreateReport",
       absl::StrCat("parent: 'cohorts/occitanie' report_id: '", id,
                    "' report { title: 'REX ", id,
                    "' territory: 'cohorts/occitanie/territories/", territory,
                    "' visibility: ", visibility,
                    " what_failed: 'deux échecs' balises: 'engagement-6' }"));
    if (id != "draft") {
      as(who, "ReportService.PublishReport",
         "name: 'cohorts/occitanie/reports/" + id + "'");
    }
  }
  const absl::Time start = absl::Now() + absl::Hours(240);
  (*names_)["start"] = std::to_string(absl::ToUnixSeconds(start));
  (*names_)["end"] =
      std::to_string(absl::ToUnixSeconds(start + absl::Hours(24)));
  as("coordinator", "SessionService.CreateSession",
     Fill("parent: 'cohorts/occitanie' session_id: 'voyage' session { kind: "
          "VOYAGE_ETUDE title: 'Voyage d étude' start_time { seconds: "
          "{start} } end_time { seconds: {end} } }"));
  as("elu-petr", "SessionService.Register",
     "session: 'cohorts/occitanie/sessions/voyage'");
  as("agent-petr", "SessionService.Register",
     "session: 'cohorts/occitanie/sessions/voyage'");
  (*names_)["cohort_flag"] =
      name_of(as("agent-petr", "ModerationService.FlagContent",
                 "parent: 'cohorts/occitanie' flag { target: "
                 "'cohorts/occitanie/reports/cohort' reason: OTHER }"));
  std::unique_ptr<Message> invited =
      as("coordinator", "InvitationService.CreateInvitation",
         "parent: 'cohorts/occitanie' invitation { email: "
         "'nouvelle@example.org' role: MEMBER college: AGENT territory: "
         "'cohorts/occitanie/territories/coteaux' }");
  ASSERT_NE(invited, nullptr);
  const auto& inv = static_cast<v1::CreateInvitationResponse&>(*invited);
  (*names_)["invitation"] = inv.invitation().name();
  (*names_)["invitation_secret"] = inv.secret();
  (*names_)["cursor0"] =
      absl::StrCat(s.store->instance_id(), ".", s.store->epoch(), ".0");

  // Shared records: one of the élus group, marked in its title,
  // description and content, with a version and an upload in progress; one
  // of the cohort, likewise.
  for (const auto& [key, who, visibility, text] :
       std::vector<std::array<std::string, 4>>{
           {"elus", "elu-petr", "GROUP", "ELUSMARK record content"},
           {"cohort", "agent-petr", "COHORT", "Compte-rendu de la journée"}}) {
    const std::string title =
        key == "elus" ? "ELUSMARK record title" : "Journée commune";
    std::string create = absl::StrCat(
        "parent: 'cohorts/occitanie' record_id: '",
        key == "elus" ? "groupe" : "partage", "' record { title: '", title,
        "' kind: COMPTE_RENDU visibility: ", visibility);
    if (key == "elus") {
      absl::StrAppend(&create,
                      " group: 'cohorts/occitanie/groups/elus' description: "
                      "'ELUSMARK record description'");
    }
    const std::string record =
        name_of(as(who, "RecordService.CreateRecord", create + " }"));
    (*names_)[key + "_record"] = record;
    for (const std::string& content : {text, text + " (en cours)"}) {
      std::unique_ptr<Message> upload =
          as(who, "RecordService.StartUpload",
             absl::StrCat("parent: '", record, "' size_bytes: ", content.size(),
                          " sha256: '", Sha256Hex(content),
                          "' file_name: 'cr.txt'"));
      (*names_)[key + "_upload"] = name_of(upload);
      if (content != text) break;  // the second stays in progress
      std::unique_ptr<Message> done = as(
          who, "RecordService.WriteUpload",
          absl::StrCat("name: '", name_of(upload), "' data: '", content, "'"));
      ASSERT_NE(done, nullptr);
      (*names_)[key + "_version"] = static_cast<v1::Upload&>(*done).version();
    }
  }

  // The removed member: moved to the other cohort, so out of the élus group
  // of occitanie. Their token now resolves to an élu of `autre`.
  as("admin", "MemberService.UpdateMember",
     "member { name: 'members/elu-removed' delegations: "
     "'cohorts/autre/territories/ailleurs' } update_mask { paths: "
     "'delegations' }");

  // A link to another instance, made by the administrator, with mTLS: its
  // peer token and client key are secrets no response may carry. No
  // replicator runs here, so it stays SNAPSHOTTING and calls nobody.
  (*names_)["link"] = name_of(
      as("admin", "LinkService.CreateLink",
         absl::StrCat(
             "link_id: 'normandie' link { display_name: 'Normandie' endpoint: "
             "'127.0.0.1:9' cohorts: 'cohorts/normandie' tls_ca_pem: "
             "'-----BEGIN CERTIFICATE-----\\nCA\\n-----END "
             "CERTIFICATE-----\\n' tls_client_cert_pem: '-----BEGIN "
             "CERTIFICATE-----\\nCLIENT\\n-----END CERTIFICATE-----\\n' } "
             "client_key_pem: '-----BEGIN PRIVATE KEY-----\\n",
             kLinkKeyMarker, "\\n-----END PRIVATE KEY-----\\n' token: '",
             kLinkToken, "'")));

  // A backup of all of it, closed groups included (backups/1).
  as("admin", "AdminService.CreateBackup", "");
}

std::vector<std::string> ConfidentialityMatrixTest::RunRow(const Row& row) {
  const std::string rpc = row.rpc.substr(0, row.rpc.find(' '));
  const MethodDescriptor* method = FindMethod(rpc);
  EXPECT_NE(method, nullptr) << row.rpc;
  if (method == nullptr) return {};
  const bool write = IsWrite(method->name());
  std::vector<std::string> outcomes;
  for (size_t i = 0; i < Callers().size(); ++i) {
    const std::string kind = Callers()[i].kind;
    const std::string& secret = secrets_->at(kind);
    const bool expect_ok =
        i < row.expected.size() && absl::StartsWith(row.expected[i], "OK");
    std::unique_ptr<World> fresh;
    World* world = shared_.get();
    if (write && (expect_ok || print_)) {
      fresh = FreshWorld();
      world = fresh.get();
    }
    const int64_t before = world->revision();
    Result r = world->Call(*method, *Parse(*method, row.request), secret);
    std::string outcome;
    if (r.code == grpc::StatusCode::OK) {
      outcome = "OK";
      for (const std::string& path : row.show) {
        absl::StrAppend(&outcome, " ", Show(*r.response, path));
      }
    } else {
      outcome = CodeName(r.code);
      if (world == shared_.get()) {
        EXPECT_EQ(world->revision(), before)
            << row.rpc << " as " << kind << " was refused but wrote";
      }
    }
    outcomes.push_back(outcome);
    ExpectAgreesWithPolicy(row, kind, outcome);
    {
      const std::string bytes =
          r.response != nullptr ? r.response->SerializeAsString() : "";
      for (const std::string& secret : LinkSecrets()) {
        EXPECT_FALSE(absl::StrContains(bytes, secret) ||
                     absl::StrContains(r.message, secret))
            << "LEAK: " << row.rpc << " as " << kind
            << " returns a link's secret:\n"
            << (r.response != nullptr ? r.response->DebugString() : r.message);
      }
    }
    if (!InElusGroup(kind)) {
      const std::string bytes =
          r.response != nullptr ? r.response->SerializeAsString() : "";
      EXPECT_FALSE(absl::StrContains(bytes, kMarker) ||
                   absl::StrContains(r.message, kMarker))
          << "LEAK: " << row.rpc << " as " << kind
          << " returns the élus group's content:\n"
          << (r.response != nullptr ? r.response->DebugString() : r.message);
    }
    // Nor the names of its content, unless the caller named it.
    if (!InElusGroup(kind) && r.response != nullptr) {
      const std::string bytes = r.response->SerializeAsString();
      for (const std::string& name :
           {Fill("{elus_x}"), std::string("cohorts/occitanie/reports/groupe"),
            Fill("{elus_record}")}) {
        EXPECT_TRUE(!absl::StrContains(bytes, name) ||
                    absl::StrContains(Fill(row.request), name))
            << "LEAK: " << row.rpc << " as " << kind << " names " << name
            << ":\n"
            << r.response->DebugString();
      }
    }
    if (!row.absent.first.empty() && row.readers.count(kind) == 0 &&
        r.code != grpc::StatusCode::OK) {
      const std::string present = Fill(row.absent.first);
      const std::string absent = Fill(row.absent.second);
      const std::string text =
          absl::StrReplaceAll(Fill(row.request), {{present, absent}});
      Result a = world->Call(*method, *Parse(*method, text), secret);
      EXPECT_EQ(world->revision(), before) << row.rpc << " as " << kind;
      // NOT_FOUND for the absent name: the caller may know what exists there.
      const bool may_know_absent =
          a.code == grpc::StatusCode::NOT_FOUND &&
          r.code != grpc::StatusCode::PERMISSION_DENIED &&
          r.code != grpc::StatusCode::NOT_FOUND;
      if (!may_know_absent) {
        EXPECT_EQ(CodeName(a.code), CodeName(r.code))
            << "EXISTENCE LEAK: " << row.rpc << " as " << kind
            << " answers differently for an absent name: " << a.message
            << " vs " << r.message;
        EXPECT_EQ(absl::StrReplaceAll(a.message, {{absent, present}}),
                  r.message)
            << "EXISTENCE LEAK: " << row.rpc << " as " << kind;
      }
    }
    // A read may write too (listing messages marks them read): what it
    // wrote is dropped, so that no cell sees another's effects.
    if (world == shared_.get() && world->revision() != before) {
      shared_ = FreshWorld();
    }
  }
  return outcomes;
}

constexpr char kD[] = "PERMISSION_DENIED";
constexpr char kU[] = "UNAUTHENTICATED";

// Who reads a COHORT record of occitanie.
std::set<std::string> kCohortReaders() {
  return {"elu",   "agent", "etat",  "acteur", "facil", "author",
          "coord", "ally",  "svc-r", "svc-rw", "admin"};
}

// The rows. Names in braces are the world's (BuildWorld).
std::vector<Row> Rows() {
  return {
      // Cohorts.
      Row{"CohortService.CreateCohort",
          "cohort_id: 'nouvelle' cohort { display_name: 'Nouvelle' }",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=cohorts/nouvelle",
           kD, kD, kU},
          {"name"}}
          .Policy("cohort", "create, update, delete, archive"),
      Row{"CohortService.GetCohort",
          "name: 'cohorts/occitanie'",
          {"OK name=cohorts/occitanie", "OK name=cohorts/occitanie",
           "OK name=cohorts/occitanie", "OK name=cohorts/occitanie",
           "OK name=cohorts/occitanie", "OK name=cohorts/occitanie",
           "OK name=cohorts/occitanie", "OK name=cohorts/occitanie",
           "OK name=cohorts/occitanie", "OK name=cohorts/occitanie",
           "OK name=cohorts/occitanie", "OK name=cohorts/occitanie",
           "OK name=cohorts/occitanie", kU},
          {"name"},
          {"cohorts/occitanie", "cohorts/absente"}}
          .Policy("cohort", "read"),
      Row{"CohortService.ListCohorts",
          "",
          {"OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           "OK cohorts.name=cohorts/archivee,cohorts/autre,cohorts/occitanie",
           kU},
          {"cohorts.name"}}
          .Policy("cohort", "read"),
      Row{"CohortService.UpdateCohort",
          "cohort { name: 'cohorts/occitanie' description: 'Neuf' } "
          "update_mask { paths: 'description' }",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK description=Neuf", kD,
           kD, kU},
          {"description"},
          {"cohorts/occitanie", "cohorts/absente"}}
          .Policy("cohort", "create, update, delete, archive"),
      Row{"CohortService.DeleteCohort",
          "name: 'cohorts/occitanie'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=cohorts/occitanie",
           kD, kD, kU},
          {"name"},
          {"cohorts/occitanie", "cohorts/absente"}}
          .Policy("cohort", "create, update, delete, archive"),
      Row{"CohortService.UndeleteCohort",
          "name: 'cohorts/ancienne'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=cohorts/ancienne",
           kD, kD, kU},
          {"name"},
          {"cohorts/ancienne", "cohorts/absente"}}
          .Policy("cohort", "create, update, delete, archive"),
      Row{"CohortService.ArchiveCohort",
          "name: 'cohorts/occitanie'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=cohorts/occitanie",
           kD, kD, kU},
          {"name"},
          {"cohorts/occitanie", "cohorts/absente"}}
          .Policy("cohort", "create, update, delete, archive"),
      Row{"CohortService.UnarchiveCohort",
          "name: 'cohorts/archivee'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=cohorts/archivee",
           kD, kD, kU},
          {"name"},
          {"cohorts/archivee", "cohorts/absente"}}
          .Policy("cohort", "create, update, delete, archive"),
      // Members.
      Row{"MemberService.CreateMember",
          "member_id: 'nouveau' member { given_name: 'N' family_name: 'N' "
          "email: 'n@example.org' role: MEMBER college: AGENT delegations: "
          "'cohorts/occitanie/territories/petr' }",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=members/nouveau",
           kD, kD, kU},
          {"name"}}
          .Policy("member", "create, update"),
      Row{"MemberService.GetMember",
          "name: 'members/elu-petr'",
          {"OK name=members/elu-petr email=elu-petr@example.org",
           "OK name=members/elu-petr email=", "OK name=members/elu-petr email=",
           "OK name=members/elu-petr email=", "OK name=members/elu-petr email=",
           "OK name=members/elu-petr email=",
           "OK name=members/elu-petr email=elu-petr@example.org",
           "OK name=members/elu-petr email=", "OK name=members/elu-petr email=",
           "OK name=members/elu-petr email=",
           "OK name=members/elu-petr email=elu-petr@example.org", kD, kD, kU},
          {"name", "email"},
          {"members/elu-petr", "members/absent"}}
          .Policy("member", "read")
          .Self({"elu"}),
      Row{"MemberService.ListMembers",
          "",
          {"OK members#=9 members.email#=1", "OK members#=9 members.email#=1",
           "OK members#=9 members.email#=1", "OK members#=9 members.email#=1",
           "OK members#=9 members.email#=1", "OK members#=9 members.email#=1",
           "OK members#=9 members.email#=9", "OK members#=9 members.email#=1",
           "OK members#=9 members.email#=0", "OK members#=9 members.email#=0",
           "OK members#=12 members.email#=12", "OK members#=2 members.email#=1",
           "OK members#=2 members.email#=1", kU},
          {"members#", "members.email#"}}
          .Policy("member", "read"),
      Row{"MemberService.UpdateMember",
          "member { name: 'members/agent-petr' organisation: 'Mairie' } "
          "update_mask { paths: 'organisation' }",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK organisation=Mairie", kD,
           kD, kU},
          {"organisation"},
          {"members/agent-petr", "members/absent"}}
          .Policy("member", "create, update"),
      Row{"MemberService.CreateToken",
          "parent: 'members/elu-petr'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK", kD, kD, kU},
          {},
          {"members/elu-petr", "members/absent"}}
          .Policy("token", "create (personal, service)"),
      // Territories and chantiers.
      Row{"TerritoryService.CreateTerritory",
          "parent: 'cohorts/occitanie' territory_id: 'nouveau' territory { "
          "display_name: 'Nouveau' kind: COMMUNE }",
          {kD, kD, kD, kD, kD, kD,
           "OK name=cohorts/occitanie/territories/nouveau", kD, kD, kD,
           "OK name=cohorts/occitanie/territories/nouveau", kD, kD, kU},
          {"name"}}
          .Policy("territory, group", "create, update"),
      Row{"TerritoryService.GetTerritory",
          "name: 'cohorts/occitanie/territories/petr'",
          {"OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr",
           "OK name=cohorts/occitanie/territories/petr", kD, kD, kU},
          {"name"},
          {"territories/petr", "territories/absent"}}
          .Policy("territory, group metadata, chantier", "read"),
      Row{"TerritoryService.ListTerritories",
          "parent: 'cohorts/occitanie'",
          {"OK territories#=2", "OK territories#=2", "OK territories#=2",
           "OK territories#=2", "OK territories#=2", "OK territories#=2",
           "OK territories#=2", "OK territories#=2", "OK territories#=2",
           "OK territories#=2", "OK territories#=2", kD, kD, kU},
          {"territories#"}}
          .Policy("territory, group metadata, chantier", "read"),
      Row{"TerritoryService.UpdateTerritory",
          "territory { name: 'cohorts/occitanie/territories/petr' "
          "display_name: "
          "'PETR' } update_mask { paths: 'display_name' }",
          {kD, kD, kD, kD, kD, kD, "OK display_name=PETR", kD, kD, kD,
           "OK display_name=PETR", kD, kD, kU},
          {"display_name"},
          {"territories/petr", "territories/absent"}}
          .Policy("territory, group", "create, update"),
      Row{"TerritoryService.ChangeTerritoryPhase",
          "name: 'cohorts/occitanie/territories/petr' phase: EMERGENCE note: "
          "'go'",
          {"OK phase=EMERGENCE", "OK phase=EMERGENCE", "OK phase=EMERGENCE",
           "OK phase=EMERGENCE", kD, kD, "OK phase=EMERGENCE", kD, kD,
           "OK phase=EMERGENCE", "OK phase=EMERGENCE", kD, kD, kU},
          {"phase"},
          {"territories/petr", "territories/absent"}}
          .Policy("territory phase, chantier", "create, update"),
      Row{"TerritoryService.CreateChantier",
          "parent: 'cohorts/occitanie/territories/petr' chantier_id: "
          "'mobilite' "
          "chantier { display_name: 'Mobilité' }",
          {"OK name=cohorts/occitanie/territories/petr/chantiers/mobilite",
           "OK name=cohorts/occitanie/territories/petr/chantiers/mobilite",
           "OK name=cohorts/occitanie/territories/petr/chantiers/mobilite",
           "OK name=cohorts/occitanie/territories/petr/chantiers/mobilite", kD,
           kD, "OK name=cohorts/occitanie/territories/petr/chantiers/mobilite",
           kD, kD,
           "OK name=cohorts/occitanie/territories/petr/chantiers/mobilite",
           "OK name=cohorts/occitanie/territories/petr/chantiers/mobilite", kD,
           kD, kU},
          {"name"}}
          .Policy("territory phase, chantier", "create, update"),
      Row{"TerritoryService.GetChantier",
          "name: 'cohorts/occitanie/territories/petr/chantiers/alimentation'",
          {"OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           "OK name=cohorts/occitanie/territories/petr/chantiers/alimentation",
           kD, kD, kU},
          {"name"},
          {"chantiers/alimentation", "chantiers/absent"}}
          .Policy("territory, group metadata, chantier", "read"),
      Row{"TerritoryService.ListChantiers",
          "parent: 'cohorts/occitanie/territories/petr'",
          {"OK chantiers#=1", "OK chantiers#=1", "OK chantiers#=1",
           "OK chantiers#=1", "OK chantiers#=1", "OK chantiers#=1",
           "OK chantiers#=1", "OK chantiers#=1", "OK chantiers#=1",
           "OK chantiers#=1", "OK chantiers#=1", kD, kD, kU},
          {"chantiers#"}}
          .Policy("territory, group metadata, chantier", "read"),
      Row{"TerritoryService.UpdateChantier",
          "chantier { name: "
          "'cohorts/occitanie/territories/petr/chantiers/alimentation' status: "
          "EN_ACTION } update_mask { paths: 'status' }",
          {"OK status=EN_ACTION", "OK status=EN_ACTION", "OK status=EN_ACTION",
           "OK status=EN_ACTION", kD, kD, "OK status=EN_ACTION", kD, kD,
           "OK status=EN_ACTION", "OK status=EN_ACTION", kD, kD, kU},
          {"status"},
          {"chantiers/alimentation", "chantiers/absent"}}
          .Policy("territory phase, chantier", "create, update"),
      // Groups.
      Row{"GroupService.CreateGroup",
          "parent: 'cohorts/occitanie' group_id: 'atelier' group { "
          "display_name: 'Atelier' kind: THEMATIC }",
          {kD, kD, kD, kD, kD, kD, "OK name=cohorts/occitanie/groups/atelier",
           kD, kD, kD, "OK name=cohorts/occitanie/groups/atelier", kD, kD, kU},
          {"name"}}
          .Policy("territory, group", "create, update"),
      // (Facilitators: see FacilitatorsOfAGroupAreHiddenFromNonMembers.)
      Row{"GroupService.GetGroup",
          "name: 'cohorts/occitanie/groups/elus'",
          {"OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=",
           "OK name=cohorts/occitanie/groups/elus members=", kD, kD, kU},
          {"name", "members"},
          {"groups/elus", "groups/absent"}}
          .Policy("territory, group metadata, chantier", "read"),
      Row{"GroupService.GetGroup (club)",
          "name: 'cohorts/occitanie/groups/club'",
          {"OK members=", "OK members=members/acteur-petr,members/agent-petr",
           "OK members=", "OK members=members/acteur-petr,members/agent-petr",
           "OK members=members/acteur-petr,members/agent-petr",
           "OK members=", "OK members=", "OK members=", "OK members=",
           "OK members=", "OK members=", kD, kD, kU},
          {"members"},
          {"groups/club", "groups/absent"}}
          .Policy("territory, group metadata, chantier", "read"),
      Row{"GroupService.ListGroups",
          "parent: 'cohorts/occitanie'",
          {"OK groups#=5 groups.members#=0", "OK groups#=5 groups.members#=2",
           "OK groups#=5 groups.members#=0", "OK groups#=5 groups.members#=2",
           "OK groups#=5 groups.members#=2", "OK groups#=5 groups.members#=0",
           "OK groups#=5 groups.members#=0", "OK groups#=5 groups.members#=0",
           "OK groups#=5 groups.members#=0", "OK groups#=5 groups.members#=0",
           "OK groups#=5 groups.members#=0", kD, kD, kU},
          {"groups#", "groups.members#"}}
          .Policy("territory, group metadata, chantier", "read"),
      Row{"GroupService.SetGroupMembers",
          "name: 'cohorts/occitanie/groups/club' add_members: "
          "'members/etat-petr'",
          {kD, kD, kD, kD, kD, kD, "OK members=", kD, kD, kD, "OK members=", kD,
           kD, kU},
          {"members"},
          {"groups/club", "groups/absent"}}
          .Policy("territory, group", "create, update"),
      Row{"GroupService.SetGroupMembers (elus facilitator)",
          "name: 'cohorts/occitanie/groups/elus' add_facilitators: "
          "'members/elu-petr'",
          {kD, kD, kD, kD, kD, kD, "OK members=", kD, kD, kD, "OK members=", kD,
           kD, kU},
          {"members"},
          {"groups/elus", "groups/absent"}}
          .Policy("territory, group", "create, update"),
      // Nobody makes themself a reader of a college group by role.
      Row{"GroupService.SetGroupMembers (elus, the coordinator as facilitator)",
          "name: 'cohorts/occitanie/groups/elus' add_facilitators: "
          "'members/coordinator'",
          {kD, kD, kD, kD, kD, kD, "INVALID_ARGUMENT", kD, kD, kD,
           "INVALID_ARGUMENT", kD, kD, kU},
          {"members"},
          {"groups/elus", "groups/absent"}}
          .Policy("territory, group", "create, update"),
      Row{"GroupService.SetGroupMembers (elus, an agent as facilitator)",
          "name: 'cohorts/occitanie/groups/elus' add_facilitators: "
          "'members/agent-petr'",
          {kD, kD, kD, kD, kD, kD, "INVALID_ARGUMENT", kD, kD, kD,
           "INVALID_ARGUMENT", kD, kD, kU},
          {"members"},
          {"groups/elus", "groups/absent"}}
          .Policy("territory, group", "create, update"),
      Row{"GroupService.SetGroupMembers (club, the coordinator as member)",
          "name: 'cohorts/occitanie/groups/club' add_members: "
          "'members/coordinator'",
          {kD, kD, kD, kD, kD, kD,
           "OK "
           "members=members/acteur-petr,members/agent-petr,members/coordinator",
           kD, kD, kD, "OK members=", kD, kD, kU},
          {"members"},
          {"groups/club", "groups/absent"}}
          .Policy("territory, group", "create, update"),
      // Nobody joins a group by role, nor from another cohort.
      Row{"GroupService.SetGroupMembers (club, the administrator as member)",
          "name: 'cohorts/occitanie/groups/club' add_members: 'members/admin'",
          {kD, kD, kD, kD, kD, kD, "INVALID_ARGUMENT", kD, kD, kD,
           "INVALID_ARGUMENT", kD, kD, kU},
          {"members"},
          {"groups/club", "groups/absent"}}
          .Policy("territory, group", "create, update"),
      Row{"GroupService.SetGroupMembers (club, an élu of another cohort)",
          "name: 'cohorts/occitanie/groups/club' add_members: "
          "'members/elu-ailleurs'",
          {kD, kD, kD, kD, kD, kD, "INVALID_ARGUMENT", kD, kD, kD,
           "INVALID_ARGUMENT", kD, kD, kU},
          {"members"},
          {"groups/club", "groups/absent"}}
          .Policy("territory, group", "create, update"),
      Row{"GroupService.ListGroupMembers",
          "name: 'cohorts/occitanie/groups/elus'",
          {"OK members=members/elu-coteaux,members/elu-petr", kD, kD, kD, kD,
           kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"members"},
          {"groups/elus", "groups/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"GroupService.ListGroupMembers (club)",
          "name: 'cohorts/occitanie/groups/club'",
          {kD,
           "OK "
           "members=members/acteur-petr,members/agent-petr,members/"
           "facil-coteaux",
           kD,
           "OK "
           "members=members/acteur-petr,members/agent-petr,members/"
           "facil-coteaux",
           "OK "
           "members=members/acteur-petr,members/agent-petr,members/"
           "facil-coteaux",
           kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"members"},
          {"groups/club", "groups/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write")
          .Group("club"),
      // Tokens.
      Row{"TokenService.CreateServiceToken",
          "token { display_name: 'outil' cohorts: 'cohorts/occitanie' access: "
          "READ }",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK token.access=READ", kD,
           kD, kU},
          {"token.access"}}
          .Policy("token", "create (personal, service)"),
      Row{"TokenService.GetToken",
          "name: '{elu_token}'",
          {"OK member=members/elu-petr", kD, kD, kD, kD, kD, kD, kD, kD, kD,
           "OK member=members/elu-petr", kD, kD, kU},
          {"member"},
          {"{elu_token}", "tokens/absent"}}
          .Policy("token", "read, revoke, rotate")
          .Self({"elu"}),
      Row{"TokenService.ListTokens",
          "",
          {"OK tokens#=2", "OK tokens#=1", "OK tokens#=1", "OK tokens#=1",
           "OK tokens#=1", "OK tokens#=1", "OK tokens#=1", "OK tokens#=1", kD,
           kD, "OK tokens#=15", "OK tokens#=1", "OK tokens#=1", kU},
          {"tokens#"}}
          .Policy("token", "read, revoke, rotate"),
      Row{"TokenService.RevokeToken",
          "name: '{elu_token}'",
          {"OK member=members/elu-petr", kD, kD, kD, kD, kD, kD, kD, kD, kD,
           "OK member=members/elu-petr", kD, kD, kU},
          {"member"},
          {"{elu_token}", "tokens/absent"}}
          .Policy("token", "read, revoke, rotate")
          .Self({"elu"}),
      Row{"TokenService.RotateToken",
          "name: '{elu_token}'",
          {"OK", kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK", kD, kD, kU},
          {},
          {"{elu_token}", "tokens/absent"}}
          .Policy("token", "read, revoke, rotate")
          .Self({"elu"}),
      // Invitations.
      Row{"InvitationService.CreateInvitation",
          "parent: 'cohorts/occitanie' invitation { email: 'autre@example.org' "
          "role: MEMBER college: ELU territory: "
          "'cohorts/occitanie/territories/petr' }",
          {kD, kD, kD, kD, kD, kD, "OK invitation.email=autre@example.org", kD,
           kD, kD, "OK invitation.email=autre@example.org", kD, kD, kU},
          {"invitation.email"}}
          .Policy("invitation", "create, read, revoke"),
      Row{"InvitationService.GetInvitation",
          "name: '{invitation}'",
          {kD, kD, kD, kD, kD, kD, "OK email=nouvelle@example.org", kD, kD, kD,
           "OK email=nouvelle@example.org", kD, kD, kU},
          {"email"},
          {"{invitation}", "cohorts/occitanie/invitations/absent"}}
          .Policy("invitation", "create, read, revoke"),
      Row{"InvitationService.ListInvitations",
          "parent: 'cohorts/occitanie'",
          {kD, kD, kD, kD, kD, kD, "OK invitations#=1", kD, kD, kD,
           "OK invitations#=1", kD, kD, kU},
          {"invitations#"}}
          .Policy("invitation", "create, read, revoke"),
      Row{"InvitationService.RevokeInvitation",
          "name: '{invitation}'",
          {kD, kD, kD, kD, kD, kD, "OK state=REVOKED", kD, kD, kD,
           "OK state=REVOKED", kD, kD, kU},
          {"state"},
          {"{invitation}", "cohorts/occitanie/invitations/absent"}}
          .Policy("invitation", "create, read, revoke"),
      Row{"InvitationService.AcceptInvitation",
          "secret: '{invitation_secret}' given_name: 'Nadia' family_name: "
          "'Haddad'",
          {"OK member.college=AGENT", "OK member.college=AGENT",
           "OK member.college=AGENT", "OK member.college=AGENT",
           "OK member.college=AGENT", "OK member.college=AGENT",
           "OK member.college=AGENT", "OK member.college=AGENT",
           "OK member.college=AGENT", "OK member.college=AGENT",
           "OK member.college=AGENT", "OK member.college=AGENT",
           "OK member.college=AGENT", "OK member.college=AGENT"},
          {"member.college"}}
          .Policy("invitation", "accept"),
      // Audit.
      Row{"AuditService.ListAuditEvents",
          "parent: 'cohorts/occitanie'",
          {kD, kD, kD, kD, kD, kD, "OK events#=29", kD, kD, kD, "OK events#=29",
           kD, kD, kU},
          {"events#"}}
          .Policy("audit log", "read"),
      Row{"AuditService.ListAuditEvents (instance)",
          "",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK events#=37", kD, kD, kU},
          {"events#"}}
          .Policy("audit log", "read")
          .NoCohort(),
      // The change feed, from the first revision: every caller's whole
      // history of the world, through the gate (the marker checks above
      // apply to every event).
      Row{"ChangeService.ListChanges",
          "page_size: 1000",
          {"OK events#=62", "OK events#=46", "OK events#=37", "OK events#=43",
           "OK events#=43", "OK events#=38", "OK events#=70", "OK events#=37",
           "OK events#=34", "OK events#=34", "OK events#=106", "OK events#=17",
           "OK events#=18", "UNAUTHENTICATED"},
          {"events#"}}
          .Policy("change feed", "read")
          .NoCohort(),
      Row{"ChangeService.ListChanges (cohort filter)",
          "page_size: 1000 filter { cohorts: 'cohorts/occitanie' "
          "resource_types: 'ExperienceReport' }",
          {"OK events#=6", "OK events#=2", "OK events#=2", "OK events#=2",
           "OK events#=2", "OK events#=4", "OK events#=2", "OK events#=2",
           "OK events#=2", "OK events#=2", "OK events#=2", "OK events#=1",
           "OK events#=1", "UNAUTHENTICATED"},
          {"events#"}}
          .Policy("change feed", "read")
          .NoCohort(),
      Row{"ChangeService.Watch",
          "since: '{cursor0}'",
          {"OK events#=62", "OK events#=46", "OK events#=37", "OK events#=43",
           "OK events#=43", "OK events#=38", "OK events#=70", "OK events#=37",
           "OK events#=34", "OK events#=34", "OK events#=106", "OK events#=17",
           "OK events#=18", "UNAUTHENTICATED"},
          {"events#"}}
          .Policy("change feed", "read")
          .NoCohort(),
      Row{"ChangeService.ListSnapshot",
          "page_size: 1000 filter { cohorts: 'cohorts/occitanie' }",
          {"OK events#=26", "OK events#=20", "OK events#=14", "OK events#=17",
           "OK events#=18", "OK events#=15", "OK events#=18", "OK events#=14",
           "OK events#=14", "OK events#=14", "OK events#=17", "OK events#=2",
           "OK events#=2", "UNAUTHENTICATED"},
          {"events#"}}
          .Policy("change feed", "read")
          .NoCohort(),
      Row{"ChangeService.ListSnapshot (messages)",
          "page_size: 1000 filter { cohorts: 'cohorts/occitanie' "
          "resource_types: 'Message' }",
          {"OK events#=5", "OK events#=2", "OK events#=0", "OK events#=2",
           "OK events#=2", "OK events#=0", "OK events#=0", "OK events#=0",
           "OK events#=0", "OK events#=0", "OK events#=0", "OK events#=0",
           "OK events#=0", "UNAUTHENTICATED"},
          {"events#"}}
          .Policy("change feed", "read")
          .NoCohort(),
      Row{"ReferentielService.GetReferentiel",
          "",
          {"OK fundamentals#=4", "OK fundamentals#=4", "OK fundamentals#=4",
           "OK fundamentals#=4", "OK fundamentals#=4", "OK fundamentals#=4",
           "OK fundamentals#=4", "OK fundamentals#=4", "OK fundamentals#=4",
           "OK fundamentals#=4", "OK fundamentals#=4", "OK fundamentals#=4",
           "OK fundamentals#=4", kU},
          {"fundamentals#"}}
          .Policy("référentiel", "read"),
      // Exchanges: the élus group's.
      Row{"ExchangeService.CreateExchange",
          "parent: 'cohorts/occitanie/groups/elus' exchange { title: 'Neuf' "
          "kind: QUESTION } first_message: 'Bonjour'",
          {"OK title=Neuf", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"title"},
          {"groups/elus", "groups/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.GetExchange",
          "name: '{elus_x}'",
          {"OK title=ELUSMARK exchange title message_count=5", kD, kD, kD, kD,
           kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"title", "message_count"},
          {"{elus_x}", "{elus_x}9"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.ListExchanges",
          "parent: 'cohorts/occitanie/groups/elus'",
          {"OK exchanges.title=ELUSMARK exchange title "
           "exchanges.unread_count=5",
           kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"exchanges.title", "exchanges.unread_count"},
          {"groups/elus", "groups/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.ListExchanges (club)",
          "parent: 'cohorts/occitanie/groups/club'",
          {kD, "OK exchanges#=1", kD, "OK exchanges#=1", "OK exchanges#=1", kD,
           kD, kD, kD, kD, kD, kD, kD, kU},
          {"exchanges#"},
          {"groups/club", "groups/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write")
          .Group("club"),
      Row{"ExchangeService.UpdateExchange",
          "exchange { name: '{elus_x}' state: RESOLVED } update_mask { paths: "
          "'state' }",
          {"OK state=RESOLVED", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"{elus_x}", "{elus_x}9"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.PostMessage",
          "parent: '{elus_x}' message { body: 'Bonjour' }",
          {"OK body=Bonjour", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"body"},
          {"{elus_x}", "{elus_x}9"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.PostMessage (club)",
          "parent: '{club_x}' message { body: 'Bonjour' }",
          {kD, "OK body=Bonjour", kD, "OK body=Bonjour", "OK body=Bonjour", kD,
           kD, kD, kD, kD, kD, kD, kD, kU},
          {"body"},
          {"{club_x}", "{club_x}9"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write")
          .Group("club"),
      Row{"ExchangeService.GetMessage",
          "name: '{elus_reply}'",
          {"OK author=members/elu-coteaux", kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kD, kU},
          {"author"},
          {"{elus_reply}", "{elus_x}/messages/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.GetMessage (the removed member's own)",
          "name: '{elus_removed_msg}'",
          {"OK author=members/elu-removed", kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kD, kU},
          {"author"},
          {"{elus_removed_msg}", "{elus_x}/messages/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.GetMessage (hidden)",
          "name: '{elus_hidden}'",
          {"OK hidden=true hidden_reason=ELUSMARK hide reason", kD, kD, kD, kD,
           kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"hidden", "hidden_reason"},
          {"{elus_hidden}", "{elus_x}/messages/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.ListMessages",
          "parent: '{elus_x}' show_deleted: true",
          {"OK messages#=5", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"messages#"},
          {"{elus_x}", "{elus_x}9"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.EditMessage",
          "name: '{elus_m1}' body: 'Corrigé'",
          {"OK body=Corrigé edits#=2", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kU},
          {"body", "edits#"},
          {"{elus_m1}", "{elus_x}/messages/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.DeleteMessage",
          "name: '{elus_m1}'",
          {"OK body=", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"body"},
          {"{elus_m1}", "{elus_x}/messages/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.UndeleteMessage",
          "name: '{elus_deleted}'",
          {"OK author=members/elu-petr", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kU},
          {"author"},
          {"{elus_deleted}", "{elus_x}/messages/absent"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      Row{"ExchangeService.MarkExchangeRead",
          "name: '{elus_x}'",
          {"OK exchange.unread_count=0", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kU},
          {"exchange.unread_count"},
          {"{elus_x}", "{elus_x}9"}}
          .Policy("a group's members and content (exchanges, messages)",
                  "read, write"),
      // Inbox and follows.
      Row{"InboxService.ListInbox",
          "",
          {"OK "
           "items.kind=SESSION_OPEN,REPORT_PUBLISHED,REPLY,GROUP_READER_ADDED,"
           "GROUP_READER_ADDED unread_count=5",
           "OK "
           "items.kind=SESSION_OPEN,REPORT_PUBLISHED,REPORT_PUBLISHED,GROUP_"
           "READER_ADDED unread_count=4",
           "OK items.kind=SESSION_OPEN,REPORT_PUBLISHED,REPORT_PUBLISHED "
           "unread_count=3",
           "OK "
           "items.kind=SESSION_OPEN,REPORT_PUBLISHED,REPORT_PUBLISHED,GROUP_"
           "READER_ADDED unread_count=4",
           "OK items.kind=SESSION_OPEN,REPORT_PUBLISHED,REPORT_PUBLISHED "
           "unread_count=3",
           "OK items.kind=SESSION_OPEN,REPORT_PUBLISHED unread_count=2",
           "OK items.kind=REPORT_PUBLISHED,REPORT_PUBLISHED unread_count=2",
           "OK items.kind=SESSION_OPEN,REPORT_PUBLISHED,REPORT_PUBLISHED "
           "unread_count=3",
           kD, kD, "OK items.kind= unread_count=0",
           "OK items.kind=GROUP_READER_ADDED unread_count=1",
           "OK items.kind=REPORT_PUBLISHED unread_count=1", kU},
          {"items.kind", "unread_count"}}
          .Policy("inbox, follows, one's upcoming sessions",
                  "read, mark read, unfollow"),
      Row{"InboxService.MarkInboxRead",
          "all: true",
          {"OK marked=5", "OK marked=4", "OK marked=3", "OK marked=4",
           "OK marked=3", "OK marked=2", "OK marked=2", "OK marked=3", kD, kD,
           "OK marked=0", "OK marked=1", "OK marked=1", kU},
          {"marked"}}
          .Policy("inbox, follows, one's upcoming sessions",
                  "read, mark read, unfollow"),
      Row{"InboxService.Follow",
          "target: '{elus_x}'",
          {"OK target=cohorts/occitanie/groups/elus/exchanges/e000000000001",
           kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"target"},
          {"{elus_x}", "{elus_x}9"}}
          .Policy("follows", "follow"),
      Row{"InboxService.Follow (the élus group)",
          "target: 'cohorts/occitanie/groups/elus'",
          {"OK target=cohorts/occitanie/groups/elus", kD, kD, kD, kD, kD, kD,
           kD, kD, kD, kD, kD, kD, kU},
          {"target"},
          {"groups/elus", "groups/absent"}}
          .Policy("follows", "follow"),
      // (Reports are not followed: every caller's request is invalid.)
      Row{"InboxService.Follow (a GROUP report)",
          "target: 'cohorts/occitanie/reports/groupe'",
          {"INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT",
           "INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT",
           "INVALID_ARGUMENT", "INVALID_ARGUMENT", kD, kD, "INVALID_ARGUMENT",
           "INVALID_ARGUMENT", "INVALID_ARGUMENT", kU},
          {"target"},
          {"reports/groupe", "reports/absent"}}
          .Policy("follows", "follow"),
      Row{"InboxService.Unfollow",
          "target: '{elus_x}'",
          {"NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND",
           "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", kD, kD, "NOT_FOUND",
           "NOT_FOUND", "NOT_FOUND", kU},
          {"target"},
          {"{elus_x}", "{elus_x}9"}}
          .Policy("inbox, follows, one's upcoming sessions",
                  "read, mark read, unfollow"),
      Row{"InboxService.ListFollows",
          "",
          {"OK targets=", "OK targets=", "OK targets=", "OK targets=",
           "OK targets=", "OK targets=", "OK targets=", "OK targets=", kD, kD,
           "OK targets=", "OK targets=", "OK targets=", kU},
          {"targets"}}
          .Policy("inbox, follows, one's upcoming sessions",
                  "read, mark read, unfollow"),
      // Reports.
      Row{"ReportService.CreateReport",
          "parent: 'cohorts/occitanie' report_id: 'neuf' report { title: "
          "'Neuf' "
          "territory: 'cohorts/occitanie/territories/petr' visibility: GROUP "
          "group: 'cohorts/occitanie/groups/elus' }",
          {"OK state=DRAFT", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"groups/elus", "groups/absent"}}
          .Policy("GROUP report", "create"),
      Row{"ReportService.CreateReport (COHORT)",
          "parent: 'cohorts/occitanie' report_id: 'neuf' report { title: "
          "'Neuf' territory: 'cohorts/occitanie/territories/petr' "
          "visibility: COHORT }",
          {"OK state=DRAFT", "OK state=DRAFT", "OK state=DRAFT",
           "OK state=DRAFT", kD, kD, "OK state=DRAFT", kD, kD, kD, kD, kD, kD,
           kU},
          {"state"}}
          .Policy("experience report", "create"),
      Row{"ReportService.GetReport",
          "name: 'cohorts/occitanie/reports/groupe'",
          {"OK state=PUBLISHED", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"reports/groupe", "reports/absent"}}
          .Policy("published GROUP report", "read"),
      Row{"ReportService.GetReport (group draft)",
          "name: 'cohorts/occitanie/reports/groupe-brouillon'",
          {"OK state=DRAFT", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"reports/groupe-brouillon", "reports/absent"}}
          .Policy("draft report", "read"),
      Row{"ReportService.GetReport (cohort)",
          "name: 'cohorts/occitanie/reports/cohort'",
          {"OK state=PUBLISHED", "OK state=PUBLISHED", "OK state=PUBLISHED",
           "OK state=PUBLISHED", "OK state=PUBLISHED", "OK state=PUBLISHED",
           "OK state=PUBLISHED", "OK state=PUBLISHED", "OK state=PUBLISHED",
           "OK state=PUBLISHED", "OK state=PUBLISHED", kD, kD, kU},
          {"state"},
          {"reports/cohort", "reports/absent"}}
          .Policy("published COHORT report", "read"),
      Row{"ReportService.GetReport (draft)",
          "name: 'cohorts/occitanie/reports/draft'",
          {kD, kD, kD, kD, kD, "OK state=DRAFT", kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"reports/draft", "reports/absent"},
          {"author"}}
          .Policy("draft report", "read")
          .Authors({"author"}),
      Row{"ReportService.GetReport (network)",
          "name: 'cohorts/occitanie/reports/network'",
          {"OK state=PUBLISHED", "OK state=PUBLISHED", "OK state=PUBLISHED",
           "OK state=PUBLISHED", "OK state=PUBLISHED", "OK state=PUBLISHED",
           "OK state=PUBLISHED", "OK state=PUBLISHED", "OK state=PUBLISHED",
           "OK state=PUBLISHED", "OK state=PUBLISHED", "OK state=PUBLISHED",
           "OK state=PUBLISHED", kU},
          {"state"},
          {"reports/network", "reports/absent"}}
          .Policy("published NETWORK, PUBLIC report", "read"),
      Row{"ReportService.ListReports",
          "parent: 'cohorts/occitanie'",
          {"OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/groupe,cohorts/occitanie/reports/groupe-brouillon,cohorts/"
           "occitanie/reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/draft,cohorts/occitanie/reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK reports.name=cohorts/occitanie/reports/network",
           "OK reports.name=cohorts/occitanie/reports/network", kU},
          {"reports.name"}}
          .Policy("published NETWORK, PUBLIC report", "read"),
      Row{"ReportService.ListReports (every cohort, by balise)",
          "parent: 'cohorts/-' balise: 'engagement-6'",
          {"OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/groupe,cohorts/occitanie/reports/groupe-brouillon,cohorts/"
           "occitanie/reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/draft,cohorts/occitanie/reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK "
           "reports.name=cohorts/occitanie/reports/cohort,cohorts/occitanie/"
           "reports/network",
           "OK reports.name=cohorts/occitanie/reports/network",
           "OK reports.name=cohorts/occitanie/reports/network", kU},
          {"reports.name"}}
          .Policy("published NETWORK, PUBLIC report", "read"),
      // A filter that only the élus group's report matches: outsiders get
      // nothing, not even a next page.
      Row{"ReportService.ListReports (by the élus report's theme)",
          "parent: 'cohorts/occitanie' theme: 'ELUSMARK theme' page_size: 1",
          {"OK reports.name=cohorts/occitanie/reports/groupe "
           "next_page_token#=1",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0",
           "OK reports.name= next_page_token#=0", kU},
          {"reports.name", "next_page_token#"}}
          .Policy("published NETWORK, PUBLIC report", "read"),
      Row{"ReportService.UpdateReport",
          "report { name: 'cohorts/occitanie/reports/groupe' title: 'Titre' } "
          "update_mask { paths: 'title' }",
          {"OK title=Titre", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"title"},
          {"reports/groupe", "reports/absent"}}
          .Policy("experience report", "update, publish"),
      Row{"ReportService.PublishReport",
          "name: 'cohorts/occitanie/reports/groupe-brouillon'",
          {"OK state=PUBLISHED", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"reports/groupe-brouillon", "reports/absent"}}
          .Policy("experience report", "update, publish"),
      Row{"ReportService.ArchiveReport",
          "name: 'cohorts/occitanie/reports/groupe'",
          {"OK state=ARCHIVED", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"reports/groupe", "reports/absent"}}
          .Policy("experience report", "archive"),
      Row{"ReportService.ArchiveReport (draft)",
          "name: 'cohorts/occitanie/reports/draft'",
          {kD, kD, kD, kD, kD, "FAILED_PRECONDITION", kD, kD, kD, kD, kD, kD,
           kD, kU},
          {"state"},
          {"reports/draft", "reports/absent"},
          {"author"}}
          .Policy("experience report", "archive")
          .Authors({"author"}),
      // Sessions.
      Row{"SessionService.CreateSession",
          "parent: 'cohorts/occitanie' session_id: 'atelier' session { kind: "
          "ATELIER title: 'Atelier' start_time { seconds: {start} } end_time { "
          "seconds: {end} } }",
          {kD, kD, kD, kD, kD, kD, "OK name=cohorts/occitanie/sessions/atelier",
           kD, kD, kD, "OK name=cohorts/occitanie/sessions/atelier", kD, kD,
           kU},
          {"name"}}
          .Policy("session", "create, update; registrations, attendance"),
      Row{"SessionService.GetSession",
          "name: 'cohorts/occitanie/sessions/voyage'",
          {"OK registered_count=2", "OK registered_count=2",
           "OK registered_count=2", "OK registered_count=2",
           "OK registered_count=2", "OK registered_count=2",
           "OK registered_count=2", "OK registered_count=2",
           "OK registered_count=2", "OK registered_count=2",
           "OK registered_count=2", kD, kD, kU},
          {"registered_count"},
          {"sessions/voyage", "sessions/absent"}}
          .Policy("session", "read"),
      Row{"SessionService.ListSessions",
          "parent: 'cohorts/occitanie'",
          {"OK sessions#=1", "OK sessions#=1", "OK sessions#=1",
           "OK sessions#=1", "OK sessions#=1", "OK sessions#=1",
           "OK sessions#=1", "OK sessions#=1", "OK sessions#=1",
           "OK sessions#=1", "OK sessions#=1", kD, kD, kU},
          {"sessions#"}}
          .Policy("session", "read"),
      Row{"SessionService.ListUpcomingSessions",
          "",
          {"OK sessions#=1 registrations#=1", "OK sessions#=1 registrations#=1",
           "OK sessions#=1 registrations#=0", "OK sessions#=1 registrations#=0",
           "OK sessions#=1 registrations#=0", "OK sessions#=1 registrations#=0",
           "OK sessions#=1 registrations#=0", "OK sessions#=1 registrations#=0",
           kD, kD, "OK sessions#=0 registrations#=0",
           "OK sessions#=0 registrations#=0", "OK sessions#=0 registrations#=0",
           kU},
          {"sessions#", "registrations#"}}
          .Policy("inbox, follows, one's upcoming sessions",
                  "read, mark read, unfollow"),
      Row{"SessionService.UpdateSession",
          "session { name: 'cohorts/occitanie/sessions/voyage' place: 'Mens' } "
          "update_mask { paths: 'place' }",
          {kD, kD, kD, kD, kD, kD, "OK place=Mens", kD, kD, kD, "OK place=Mens",
           kD, kD, kU},
          {"place"},
          {"sessions/voyage", "sessions/absent"}}
          .Policy("session", "create, update; registrations, attendance"),
      Row{"SessionService.Register",
          "session: 'cohorts/occitanie/sessions/voyage'",
          {"ALREADY_EXISTS", "ALREADY_EXISTS", "OK state=REGISTERED",
           "OK state=REGISTERED", "OK state=REGISTERED", "OK state=REGISTERED",
           "OK state=REGISTERED", "OK state=REGISTERED", kD, kD,
           "FAILED_PRECONDITION", kD, kD, kU},
          {"state"},
          {"sessions/voyage", "sessions/absent"}}
          .Policy("session", "register, cancel"),
      Row{"SessionService.CancelRegistration",
          "session: 'cohorts/occitanie/sessions/voyage'",
          {"OK state=CANCELLED", "OK state=CANCELLED", "FAILED_PRECONDITION",
           "FAILED_PRECONDITION", "FAILED_PRECONDITION", "FAILED_PRECONDITION",
           "FAILED_PRECONDITION", "FAILED_PRECONDITION", "FAILED_PRECONDITION",
           "FAILED_PRECONDITION", "FAILED_PRECONDITION", kD, kD, kU},
          {"state"},
          {"sessions/voyage", "sessions/absent"}}
          .Policy("session", "register, cancel"),
      Row{"SessionService.ListRegistrations",
          "session: 'cohorts/occitanie/sessions/voyage'",
          {kD, kD, kD, kD, kD, kD,
           "OK registrations.member=members/agent-petr,members/elu-petr", kD,
           kD, kD,
           "OK registrations.member=members/agent-petr,members/elu-petr", kD,
           kD, kU},
          {"registrations.member"},
          {"sessions/voyage", "sessions/absent"}}
          .Policy("session", "create, update; registrations, attendance"),
      Row{"SessionService.RecordAttendance",
          "session: 'cohorts/occitanie/sessions/voyage' member: "
          "'members/elu-petr' attended: true",
          {kD, kD, kD, kD, kD, kD, "OK attended=true", kD, kD, kD,
           "OK attended=true", kD, kD, kU},
          {"attended"},
          {"sessions/voyage", "sessions/absent"}}
          .Policy("session", "create, update; registrations, attendance"),
      // Moderation of the élus group's content.
      Row{"ModerationService.FlagContent",
          "parent: 'cohorts/occitanie' flag { target: '{elus_reply}' reason: "
          "SPAM }",
          {"OK state=OPEN", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"state"},
          {"{elus_reply}", "{elus_x}/messages/absent"}}
          .Policy("moderation", "flag"),
      Row{"ModerationService.ListFlags",
          "parent: 'cohorts/occitanie'",
          {"OK flags.target=", "OK flags.target=", "OK flags.target=",
           "OK flags.target=",
           "OK "
           "flags.target=cohorts/occitanie/groups/club/exchanges/e000000000001/"
           "messages/m000001",
           "OK flags.target=",
           "OK flags.target=cohorts/occitanie/reports/cohort",
           "OK flags.target=", kD, kD, kD, kD, kD, kU},
          {"flags.target"}}
          .Policy("moderation", "queue, hide, unhide, dismiss"),
      Row{"ModerationService.HideContent",
          "target: '{elus_reply}' reason: 'Hors sujet'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"resolved_flags"},
          {"{elus_reply}", "{elus_x}/messages/absent"}}
          .Policy("moderation", "queue, hide, unhide, dismiss"),
      Row{"ModerationService.UnhideContent",
          "target: '{elus_hidden}'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"target"},
          {"{elus_hidden}", "{elus_x}/messages/absent"}}
          .Policy("moderation", "queue, hide, unhide, dismiss"),
      Row{"ModerationService.DismissFlag",
          "name: '{elus_flag}'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"state"},
          {"{elus_flag}", "cohorts/occitanie/flags/absent"}}
          .Policy("moderation", "queue, hide, unhide, dismiss"),
      // Moderation of the club's content, by its facilitator.
      Row{"ModerationService.HideContent (club)",
          "target: '{club_m1}' reason: 'Hors sujet'",
          {kD, kD, kD, kD, "OK resolved_flags=1", kD, kD, kD, kD, kD, kD, kD,
           kD, kU},
          {"resolved_flags"},
          {"{club_m1}", "{club_x}/messages/absent"},
          {"agent", "acteur", "facil"}}
          .Policy("moderation", "queue, hide, unhide, dismiss")
          .Group("club"),
      Row{"ModerationService.UnhideContent (club)",
          "target: '{club_hidden}'",
          {kD, kD, kD, kD,
           "OK "
           "target=cohorts/occitanie/groups/club/exchanges/e000000000001/"
           "messages/"
           "m000002",
           kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"target"},
          {"{club_hidden}", "{club_x}/messages/absent"},
          {"agent", "acteur", "facil"}}
          .Policy("moderation", "queue, hide, unhide, dismiss")
          .Group("club"),
      Row{"ModerationService.DismissFlag (club)",
          "name: '{club_flag}'",
          {kD, kD, kD, kD, "OK state=RESOLVED", kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"{club_flag}", "cohorts/occitanie/flags/absent"},
          {"agent", "acteur", "facil"}}
          .Policy("moderation", "queue, hide, unhide, dismiss")
          .Group("club"),
      Row{"ModerationService.DismissFlag (shared report)",
          "name: '{cohort_flag}'",
          {kD, kD, kD, kD, kD, kD, "OK state=RESOLVED", kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"{cohort_flag}", "cohorts/occitanie/flags/absent"}}
          .Policy("moderation", "queue, hide, unhide, dismiss")
          // The flagged report is a COHORT one.
          .Readers({"elu", "agent", "etat", "acteur", "facil", "author",
                    "coord", "ally", "svc-r", "svc-rw", "admin"}),
      // Backups: the administrator only; they describe, never show, what
      // they hold.
      Row{"AdminService.CreateBackup",
          "",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=backups/2 epoch=1",
           kD, kD, kU},
          {"name", "epoch"}}
          .Policy("backup", "create, list, verify, delete")
          .Readers({"admin"})
          .NoCohort(),
      Row{"AdminService.ListBackups",
          "",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK backups.name=backups/1",
           kD, kD, kU},
          {"backups.name"}}
          .Policy("backup", "create, list, verify, delete")
          .Readers({"admin"})
          .NoCohort(),
      Row{"AdminService.VerifyBackup",
          "name: 'backups/1'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK name=backups/1", kD, kD,
           kU},
          {"name"},
          {"backups/1", "backups/9"}}
          .Policy("backup", "create, list, verify, delete")
          .Readers({"admin"})
          .NoCohort(),
      Row{"AdminService.DeleteBackup",
          "name: 'backups/1'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "OK", kD, kD, kU},
          {},
          {"backups/1", "backups/9"}}
          .Policy("backup", "create, list, verify, delete")
          .Readers({"admin"})
          .NoCohort(),
      // Webhooks: the administrator and the coordinators of the token's
      // cohorts; never the token itself.
      Row{"WebhookService.CreateWebhook",
          "webhook { token: '{token:svc-r}' url: 'http://127.0.0.1:9/h' }",
          {kD, kD, kD, kD, kD, kD, "OK", kD, kD, kD, "OK", kD, kD, kU}}
          .Policy("webhook", "create"),
      Row{"WebhookService.GetWebhook",
          "name: '{webhook}'",
          {kD, kD, kD, kD, kD, kD, "OK state=ACTIVE", kD, kD, kD,
           "OK state=ACTIVE", kD, kD, kU},
          {"state"},
          {"{webhook}", "webhooks/absent"}}
          .Policy("webhook", "read, pause, resume, delete; its delivery log")
          .Readers({"coord", "admin"}),
      Row{"WebhookService.ListWebhooks",
          "",
          {"OK webhooks#=0", "OK webhooks#=0", "OK webhooks#=0",
           "OK webhooks#=0", "OK webhooks#=0", "OK webhooks#=0",
           "OK webhooks#=1", "OK webhooks#=0", "OK webhooks#=0",
           "OK webhooks#=0", "OK webhooks#=1", "OK webhooks#=0",
           "OK webhooks#=0", kU},
          {"webhooks#"}}
          .Policy("webhook", "read, pause, resume, delete; its delivery log"),
      Row{"WebhookService.PauseWebhook",
          "name: '{webhook}'",
          {kD, kD, kD, kD, kD, kD, "OK state=PAUSED", kD, kD, kD,
           "OK state=PAUSED", kD, kD, kU},
          {"state"},
          {"{webhook}", "webhooks/absent"}}
          .Policy("webhook", "read, pause, resume, delete; its delivery log")
          .Readers({"coord", "admin"}),
      Row{"WebhookService.ResumeWebhook",
          "name: '{webhook}'",
          {kD, kD, kD, kD, kD, kD, "FAILED_PRECONDITION", kD, kD, kD,
           "FAILED_PRECONDITION", kD, kD, kU},
          {"state"},
          {"{webhook}", "webhooks/absent"}}
          .Policy("webhook", "read, pause, resume, delete; its delivery log")
          .Readers({"coord", "admin"}),
      Row{"WebhookService.DeleteWebhook",
          "name: '{webhook}'",
          {kD, kD, kD, kD, kD, kD, "OK state=ACTIVE", kD, kD, kD,
           "OK state=ACTIVE", kD, kD, kU},
          {"state"},
          {"{webhook}", "webhooks/absent"}}
          .Policy("webhook", "read, pause, resume, delete; its delivery log")
          .Readers({"coord", "admin"}),
      Row{"WebhookService.ListWebhookDeliveries",
          "parent: '{webhook}'",
          {kD, kD, kD, kD, kD, kD, "OK deliveries#=0", kD, kD, kD,
           "OK deliveries#=0", kD, kD, kU},
          {"deliveries#"},
          {"{webhook}", "webhooks/absent"}}
          .Policy("webhook", "read, pause, resume, delete; its delivery log")
          .Readers({"coord", "admin"}),
      // Links: the administrator only.
      Row{"LinkService.CreateLink",
          "link_id: 'bretagne' link { display_name: 'Bretagne' endpoint: "
          "'127.0.0.1:9' cohorts: 'cohorts/bretagne' } token: 'coh_"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           "OK name=links/bretagne state=SNAPSHOTTING", kD, kD, kU},
          {"name", "state"}}
          .Policy("link (following another instance's cohorts)",
                  "create, read, pause, resume, delete")
          .NoCohort(),
      Row{"LinkService.GetLink",
          "name: '{link}'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           "OK name=links/normandie state=SNAPSHOTTING", kD, kD, kU},
          {"name", "state"},
          {"{link}", "links/absent"}}
          .Policy("link (following another instance's cohorts)",
                  "create, read, pause, resume, delete")
          .Readers({"admin"})
          .NoCohort(),
      Row{"LinkService.ListLinks",
          "",
          {"OK links#=0", "OK links#=0", "OK links#=0", "OK links#=0",
           "OK links#=0", "OK links#=0", "OK links#=0", "OK links#=0",
           "OK links#=0", "OK links#=0", "OK links#=1", "OK links#=0",
           "OK links#=0", kU},
          {"links#"}}
          .Policy("link (following another instance's cohorts)",
                  "create, read, pause, resume, delete")
          .NoCohort(),
      Row{"LinkService.PauseLink",
          "name: '{link}'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           "OK name=links/normandie state=PAUSED", kD, kD, kU},
          {"name", "state"},
          {"{link}", "links/absent"}}
          .Policy("link (following another instance's cohorts)",
                  "create, read, pause, resume, delete")
          .Readers({"admin"})
          .NoCohort(),
      // Not paused, not in ERROR: nothing to resume.
      Row{"LinkService.ResumeLink",
          "name: '{link}'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "FAILED_PRECONDITION", kD,
           kD, kU},
          {"name", "state"},
          {"{link}", "links/absent"}}
          .Policy("link (following another instance's cohorts)",
                  "create, read, pause, resume, delete")
          .Readers({"admin"})
          .NoCohort(),
      Row{"LinkService.DeleteLink",
          "name: '{link}'",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           "OK name=links/normandie state=SNAPSHOTTING", kD, kD, kU},
          {"name", "state"},
          {"{link}", "links/absent"}}
          .Policy("link (following another instance's cohorts)",
                  "create, read, pause, resume, delete")
          .Readers({"admin"})
          .NoCohort(),
      // A bundle whose events.pb is missing: the administrator learns it is
      // corrupt, anyone else is denied before the manifest is read.
      Row{"LinkService.ImportCohort",
          "manifest { format_version: 1 source_instance_id: "
          "'0123456789abcdef0123456789abcdef' cohort: 'cohorts/bretagne' "
          "event_count: 1 files { path: 'events.pb' size_bytes: 10 sha256: "
          "'0000000000000000000000000000000000000000000000000000000000000000'"
          " } }",
          {kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, "INVALID_ARGUMENT", kD, kD,
           kU},
          {"cohort"}}
          .Policy("cohort bundle",
                  "import (export is a client of ListSnapshot and "
                  "ReadRecordVersion)")
          .NoCohort(),
      // Shared records.
      Row{"RecordService.CreateRecord",
          "parent: 'cohorts/occitanie' record_id: 'neuf' record { title: "
          "'Neuf' kind: DIAGNOSTIC visibility: GROUP group: "
          "'cohorts/occitanie/groups/elus' }",
          {"OK name=cohorts/occitanie/records/neuf", kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kD, kD, kD, kU},
          {"name"},
          {"groups/elus", "groups/absent"}}
          .Policy("GROUP shared record", "create, upload a version"),
      Row{"RecordService.CreateRecord (COHORT)",
          "parent: 'cohorts/occitanie' record_id: 'neuf' record { title: "
          "'Neuf' kind: DIAGNOSTIC visibility: COHORT }",
          {"OK name=cohorts/occitanie/records/neuf",
           "OK name=cohorts/occitanie/records/neuf",
           "OK name=cohorts/occitanie/records/neuf",
           "OK name=cohorts/occitanie/records/neuf",
           "OK name=cohorts/occitanie/records/neuf",
           "OK name=cohorts/occitanie/records/neuf",
           "OK name=cohorts/occitanie/records/neuf",
           "OK name=cohorts/occitanie/records/neuf", kD, kD, kD, kD, kD, kU},
          {"name"}}
          .Policy("COHORT, NETWORK, PUBLIC shared record",
                  "create, upload a version"),
      Row{"RecordService.GetRecord",
          "name: '{elus_record}'",
          {"OK latest_version=1", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kU},
          {"latest_version"},
          {"records/groupe", "records/absent"}}
          .Policy("GROUP shared record, its versions and content", "read"),
      Row{"RecordService.GetRecord (cohort)",
          "name: '{cohort_record}'",
          {"OK latest_version=1", "OK latest_version=1", "OK latest_version=1",
           "OK latest_version=1", "OK latest_version=1", "OK latest_version=1",
           "OK latest_version=1", "OK latest_version=1", "OK latest_version=1",
           "OK latest_version=1", "OK latest_version=1", kD, kD, kU},
          {"latest_version"},
          {"records/partage", "records/absent"}}
          .Policy("COHORT shared record, its versions and content", "read")
          .Readers(kCohortReaders()),
      Row{"RecordService.ListRecords",
          "parent: 'cohorts/occitanie' show_deleted: true",
          {"OK "
           "records.name=cohorts/occitanie/records/groupe,cohorts/occitanie/"
           "records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=cohorts/occitanie/records/partage",
           "OK records.name=", "OK records.name=", kU},
          {"records.name"}}
          .Policy("NETWORK, PUBLIC shared record, its versions and content",
                  "read"),
      Row{"RecordService.UpdateRecord",
          "record { name: '{elus_record}' title: 'Titre' } update_mask { "
          "paths: 'title' }",
          {"OK title=Titre", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"title"},
          {"records/groupe", "records/absent"}}
          .Policy("shared record", "update, delete, undelete"),
      Row{"RecordService.UpdateRecord (cohort)",
          "record { name: '{cohort_record}' title: 'Titre' } update_mask { "
          "paths: 'title' }",
          {kD, "OK title=Titre", kD, kD, kD, kD, "OK title=Titre", kD, kD, kD,
           kD, kD, kD, kU},
          {"title"},
          {"records/partage", "records/absent"}}
          .Policy("shared record", "update, delete, undelete")
          .Authors({"agent"})
          .Readers(kCohortReaders()),
      Row{"RecordService.DeleteRecord",
          "name: '{elus_record}'",
          {"OK delete_time#=1", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"delete_time#"},
          {"records/groupe", "records/absent"}}
          .Policy("shared record", "update, delete, undelete"),
      Row{"RecordService.UndeleteRecord",
          "name: '{elus_record}'",
          {"FAILED_PRECONDITION", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kU},
          {"title"},
          {"records/groupe", "records/absent"}}
          .Policy("shared record", "update, delete, undelete"),
      Row{"RecordService.ListRecordVersions",
          "parent: '{elus_record}'",
          {"OK versions.name#=1", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kU},
          {"versions.name#"},
          {"records/groupe", "records/absent"}}
          .Policy("GROUP shared record, its versions and content", "read"),
      Row{"RecordService.StartUpload",
          "parent: '{elus_record}' size_bytes: 10 sha256: "
          "'0000000000000000000000000000000000000000000000000000000000000000'",
          {"OK state=ACTIVE", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kU},
          {"state"},
          {"records/groupe", "records/absent"}}
          .Policy("GROUP shared record", "create, upload a version"),
      Row{"RecordService.StartUpload (cohort)",
          "parent: '{cohort_record}' size_bytes: 10 sha256: "
          "'0000000000000000000000000000000000000000000000000000000000000000'",
          {"OK state=ACTIVE", "OK state=ACTIVE", "OK state=ACTIVE",
           "OK state=ACTIVE", "OK state=ACTIVE", "OK state=ACTIVE",
           "OK state=ACTIVE", "OK state=ACTIVE", kD, kD, kD, kD, kD, kU},
          {"state"}}
          .Policy("COHORT, NETWORK, PUBLIC shared record",
                  "create, upload a version"),
      Row{"RecordService.WriteUpload",
          "name: '{elus_upload}' write_offset: 0 data: 'ELUSMARK'",
          {"OK committed_size=8", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kU},
          {"committed_size"},
          {"{elus_upload}", "{elus_record}/uploads/uabsent"}}
          .Policy("upload session", "read, write, resume")
          .Self({"elu"}),
      Row{"RecordService.WriteUpload (cohort)",
          "name: '{cohort_upload}' write_offset: 0 data: 'Compte'",
          {kD, "OK committed_size=6", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kU},
          {"committed_size"},
          {"{cohort_upload}", "{cohort_record}/uploads/uabsent"}}
          .Policy("upload session", "read, write, resume")
          .Self({"agent"})
          .Readers({"agent"}),
      Row{"RecordService.QueryUpload",
          "name: '{elus_upload}'",
          {"OK committed_size=0 state=ACTIVE", kD, kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kD, kD, kU},
          {"committed_size", "state"},
          {"{elus_upload}", "{elus_record}/uploads/uabsent"}}
          .Policy("upload session", "read, write, resume")
          .Self({"elu"}),
      Row{"RecordService.QueryUpload (cohort)",
          "name: '{cohort_upload}'",
          {kD, "OK committed_size=0 state=ACTIVE", kD, kD, kD, kD, kD, kD, kD,
           kD, kD, kD, kD, kU},
          {"committed_size", "state"},
          {"{cohort_upload}", "{cohort_record}/uploads/uabsent"}}
          .Policy("upload session", "read, write, resume")
          .Self({"agent"})
          .Readers({"agent"}),
      Row{"RecordService.ReadRecordVersion",
          "name: '{elus_version}'",
          {"OK data#=1", kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kD, kU},
          {"data#"},
          {"records/groupe", "records/absent"}}
          .Policy("GROUP shared record, its versions and content", "read"),
      Row{"RecordService.ReadRecordVersion (cohort)",
          "name: '{cohort_version}' read_offset: 3 read_limit: 5",
          {"OK data=pte-r", "OK data=pte-r", "OK data=pte-r", "OK data=pte-r",
           "OK data=pte-r", "OK data=pte-r", "OK data=pte-r", "OK data=pte-r",
           "OK data=pte-r", "OK data=pte-r", "OK data=pte-r", kD, kD, kU},
          {"data"},
          {"records/partage", "records/absent"}}
          .Policy("COHORT shared record, its versions and content", "read")
          .Readers(kCohortReaders()),
  };
}

// The scan of the matrix can only see what is there: every marked text is
// read by someone inside the group (the élu, or the élus group's
// facilitator elu-coteaux), so a leak of any of them would show. (The
// bodies of the hidden and the deleted message, "ELUSMARK hidden body" and
// "ELUSMARK deleted body", are shown to nobody, and scanned all the same.)
TEST_F(ConfidentialityMatrixTest, EveryMarkedTextIsReadInsideTheGroup) {
  const std::vector<std::string> planted = {
      "ELUSMARK exchange title",
      "ELUSMARK first message",  // the edited message's previous body
      "ELUSMARK edited body",
      "ELUSMARK reply body",
      "ELUSMARK body of the member removed later",
      "ELUSMARK hide reason",
      "ELUSMARK flag note",
      "ELUSMARK report title",
      "ELUSMARK context",
      "ELUSMARK actions",
      "ELUSMARK results",
      "ELUSMARK what worked",
      "ELUSMARK what failed",
      "ELUSMARK lessons",
      "ELUSMARK theme",
      "ELUSMARK record title",
      "ELUSMARK record description",
      "ELUSMARK record content",
  };
  std::string seen;
  for (const auto& [who, rpc, request] :
       std::vector<std::array<std::string, 3>>{
           {"elu-petr", "ExchangeService.GetExchange", "name: '{elus_x}'"},
           {"elu-petr", "ExchangeService.ListMessages",
            "parent: '{elus_x}' show_deleted: true"},
           {"elu-coteaux", "ExchangeService.ListMessages",
            "parent: '{elus_x}' show_deleted: true"},
           {"elu-coteaux", "ModerationService.ListFlags",
            "parent: 'cohorts/occitanie' show_resolved: true"},
           {"elu-petr", "ReportService.GetReport",
            "name: 'cohorts/occitanie/reports/groupe'"},
           {"elu-petr", "RecordService.GetRecord", "name: '{elus_record}'"},
           {"elu-petr", "RecordService.ReadRecordVersion",
            "name: '{elus_version}'"},
       }) {
    std::unique_ptr<Message> r = Do(*shared_, who, rpc, request);
    if (r != nullptr) seen += r->SerializeAsString();
  }
  for (const std::string& text : planted) {
    EXPECT_TRUE(absl::StrContains(seen, text))
        << "\"" << text << "\" is read by nobody in the group";
  }
}

// Paging one item at a time through every List row, as every caller outside
// the élus group: no page and no page token (base64 of the last key) holds
// a marker or the name of the group's content.
TEST_F(ConfidentialityMatrixTest, PagingOneByOneRevealsNothingOfTheGroup) {
  const std::vector<std::string> secrets = {kMarker, Fill("{elus_x}"),
                                            "cohorts/occitanie/reports/groupe",
                                            Fill("{elus_record}")};
  int tokens = 0;  // pages that had a next one
  for (const Row& row : Rows()) {
    const std::string rpc = row.rpc.substr(0, row.rpc.find(' '));
    const MethodDescriptor* method = FindMethod(rpc);
    ASSERT_NE(method, nullptr) << rpc;
    const FieldDescriptor* page_size =
        method->input_type()->FindFieldByName("page_size");
    const FieldDescriptor* page_token =
        method->input_type()->FindFieldByName("page_token");
    if (page_size == nullptr || page_token == nullptr) continue;
    for (const Caller& caller : Callers()) {
      if (InElusGroup(caller.kind)) continue;
      std::unique_ptr<Message> request = Parse(*method, row.request);
      request->GetReflection()->SetInt32(request.get(), page_size, 1);
      for (int page = 0; page < 100; ++page) {
        Result r = shared_->Call(*method, *request, secrets_->at(caller.kind));
        if (r.code != grpc::StatusCode::OK) break;
        const std::string token =
            Show(*r.response, "next_page_token").substr(16);
        std::string key;
        EXPECT_TRUE(absl::WebSafeBase64Unescape(token, &key)) << token;
        const std::string bytes = r.response->SerializeAsString() + key;
        for (const std::string& secret : secrets) {
          EXPECT_FALSE(absl::StrContains(bytes, secret) &&
                       !absl::StrContains(Fill(row.request), secret))
              << "LEAK: " << row.rpc << " as " << caller.kind << ", page "
              << page << ", shows " << secret << ":\n"
              << r.response->DebugString() << "token key: " << key;
        }
        if (token.empty()) break;
        ++tokens;
        request->GetReflection()->SetString(request.get(), page_token, token);
      }
    }
  }
  EXPECT_GT(tokens, 100);  // the lists were paged
}

// Membership of a college group follows the member's college and
// delegation at once: the agent made an élu reads the élus group, and once
// their delegation moves to the other cohort, no longer; the group's
// members see them come and go.
TEST_F(ConfidentialityMatrixTest, CollegeGroupFollowsCollegeAndDelegation) {
  const std::string members = "name: 'cohorts/occitanie/groups/elus'";
  const MethodDescriptor* list = FindMethod("GroupService.ListGroupMembers");
  ASSERT_NE(list, nullptr);
  auto members_as = [&](const std::string& who) {
    Result r = shared_->Call(*list, *Parse(*list, members), secrets_->at(who));
    return r.code == grpc::StatusCode::OK ? Show(*r.response, "members")
                                          : CodeName(r.code);
  };
  EXPECT_EQ(members_as("agent"), "PERMISSION_DENIED");
  Do(*shared_, "admin", "MemberService.UpdateMember",
     "member { name: 'members/agent-petr' college: ELU } update_mask { "
     "paths: 'college' }");
  EXPECT_EQ(members_as("agent"),
            "members=members/agent-petr,members/elu-coteaux,members/elu-petr");
  EXPECT_EQ(members_as("elu"), members_as("agent"));
  Do(*shared_, "admin", "MemberService.UpdateMember",
     "member { name: 'members/agent-petr' delegations: "
     "'cohorts/autre/territories/ailleurs' } update_mask { paths: "
     "'delegations' }");
  EXPECT_EQ(members_as("agent"), "PERMISSION_DENIED");
  EXPECT_EQ(members_as("elu"), "members=members/elu-coteaux,members/elu-petr");
}

// A group's facilitators read it (they are its members, IsGroupMember), so
// they are hidden from non-members like its members: GetGroup and ListGroups
// once showed them to every participant (RedactGroup cleared `members`
// only), telling the whole cohort who besides the college reads the élus
// group, and who sits in a club.
TEST_F(ConfidentialityMatrixTest, GroupFacilitatorsAreHiddenFromNonMembers) {
  const MethodDescriptor* get = FindMethod("GroupService.GetGroup");
  ASSERT_NE(get, nullptr);
  for (const char* group : {"elus", "club"}) {
    for (const char* kind :
         {"agent", "etat", "author", "coord", "ally", "svc-r", "admin"}) {
      if (std::string(group) == "club" && std::string(kind) == "agent") {
        continue;  // a member of the club
      }
      Result r = shared_->Call(
          *get,
          *Parse(*get,
                 absl::StrCat("name: 'cohorts/occitanie/groups/", group, "'")),
          secrets_->at(kind));
      ASSERT_EQ(r.code, grpc::StatusCode::OK) << group << " as " << kind;
      EXPECT_EQ(Show(*r.response, "facilitators"), "facilitators=")
          << "GetGroup shows the " << group << " group's facilitators to "
          << kind;
    }
  }
  const MethodDescriptor* list = FindMethod("GroupService.ListGroups");
  ASSERT_NE(list, nullptr);
  for (const char* kind : {"etat", "author", "coord", "ally", "admin"}) {
    Result r =
        shared_->Call(*list, *Parse(*list, "parent: 'cohorts/occitanie'"),
                      secrets_->at(kind));
    ASSERT_EQ(r.code, grpc::StatusCode::OK) << kind;
    EXPECT_EQ(Show(*r.response, "groups.facilitators#"),
              "groups.facilitators#=0")
        << "ListGroups shows facilitators to " << kind;
  }
}

// Found by this matrix and fixed: a retry with the same request_id is
// answered from the idempotency record (access/commit.h,
// CommitForResponse: when Store::Commit replays, `apply` does not run), and
// was returned as it was presented to the caller when they first wrote,
// not as they may see it now; a replay is now presented again. A member who
// has left the élus group replays an UpdateReport they made on a co-written
// GROUP report while in it, and reads the report again: its title and
// every narrative field, their co-author's included — though, the report
// now published, GetReport refuses it to them (a GROUP report: the group's
// members).
TEST_F(ConfidentialityMatrixTest,
       ARemovedMemberReplayingARequestIdReadsNothingOfTheGroup) {
  const std::string move =
      "member { name: 'members/elu-removed' delegations: "
      "'cohorts/{cohort}' } update_mask { paths: 'delegations' }";
  Do(*shared_, "admin", "MemberService.UpdateMember",
     absl::StrReplaceAll(move,
                         {{"{cohort}", "occitanie/territories/coteaux"}}));
  Do(*shared_, "elu-petr", "ReportService.CreateReport",
     "parent: 'cohorts/occitanie' report_id: 'coecrit' report { title: "
     "'ELUSMARK co-written title' territory: "
     "'cohorts/occitanie/territories/petr' visibility: GROUP group: "
     "'cohorts/occitanie/groups/elus' authors: 'members/elu-petr' authors: "
     "'members/elu-removed' lessons: 'ELUSMARK lessons of elu-petr' }");
  const std::string update =
      "report { name: 'cohorts/occitanie/reports/coecrit' context: 'Notre "
      "contexte' } update_mask { paths: 'context' } request_id: "
      "'rid-coecrit'";
  std::unique_ptr<Message> first =
      Do(*shared_, "elu-removed", "ReportService.UpdateReport", update);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(absl::StrContains(first->SerializeAsString(), kMarker));
  Do(*shared_, "elu-petr", "ReportService.PublishReport",
     "name: 'cohorts/occitanie/reports/coecrit'");
  Do(*shared_, "admin", "MemberService.UpdateMember",
     absl::StrReplaceAll(move, {{"{cohort}", "autre/territories/ailleurs"}}));

  const MethodDescriptor* get = FindMethod("ReportService.GetReport");
  const MethodDescriptor* replay = FindMethod("ReportService.UpdateReport");
  ASSERT_NE(get, nullptr);
  ASSERT_NE(replay, nullptr);
  EXPECT_EQ(CodeName(shared_
                         ->Call(*get,
                                *Parse(*get,
                                       "name: "
                                       "'cohorts/occitanie/reports/coecrit'"),
                                secrets_->at("removed"))
                         .code),
            "PERMISSION_DENIED");
  Result r =
      shared_->Call(*replay, *Parse(*replay, update), secrets_->at("removed"));
  EXPECT_EQ(CodeName(r.code), "PERMISSION_DENIED");
  EXPECT_FALSE(r.response != nullptr &&
               absl::StrContains(r.response->SerializeAsString(), kMarker))
      << "the replay shows the élus group's report to a former member:\n"
      << r.response->DebugString();
}

// Found by this matrix and fixed: revoking the token one calls with
// answered UNAUTHENTICATED and revoked nothing. CommitForResponse
// (access/commit.h) presents the response through Reader::InTxn again after
// the write, and InTxn refuses a caller whose token the transaction shows
// revoked: so the mutation that revokes the caller's own token always rolls
// back. A member whose token leaked cannot revoke it with itself.
TEST_F(ConfidentialityMatrixTest, RevokingTheTokenInUseRevokesIt) {
  const MethodDescriptor* revoke = FindMethod("TokenService.RevokeToken");
  const MethodDescriptor* get = FindMethod("TokenService.GetToken");
  ASSERT_NE(revoke, nullptr);
  ASSERT_NE(get, nullptr);
  const std::string request = Fill("name: '{token:elu-petr}'");
  Result r =
      shared_->Call(*revoke, *Parse(*revoke, request), secrets_->at("elu"));
  EXPECT_EQ(CodeName(r.code), "OK") << r.message;
  Result after =
      shared_->Call(*get, *Parse(*get, request), secrets_->at("admin"));
  ASSERT_EQ(CodeName(after.code), "OK") << after.message;
  EXPECT_TRUE(after.response->GetDescriptor() != nullptr &&
              static_cast<const v1::Token&>(*after.response).has_revoke_time())
      << "the token in use was not revoked";
}

// The world's link is the administrator's alone: they read it (in GetLink,
// ListLinks, the change feed and the audit log), nobody else learns it
// exists, and its peer token and client key reach no one, the
// administrator included. (RunRow checks every cell for the secrets too;
// this test makes sure that the administrator's reads hold the link, so
// that the check has something to find.)
TEST_F(ConfidentialityMatrixTest,
       ALinkIsTheAdministratorsAndItsSecretsNobodys) {
  const std::string link = Fill("{link}");
  ASSERT_EQ(link, "links/normandie");
  const std::vector<std::array<std::string, 2>> reads = {
      {"LinkService.GetLink", "name: '{link}'"},
      {"LinkService.ListLinks", ""},
      {"ChangeService.ListChanges", "page_size: 1000"},
      {"AuditService.ListAuditEvents", "page_size: 1000"},
  };
  for (const Caller& caller : Callers()) {
    const std::string kind = caller.kind;
    for (const auto& [rpc, request] : reads) {
      const MethodDescriptor* method = FindMethod(rpc);
      ASSERT_NE(method, nullptr) << rpc;
      Result r =
          shared_->Call(*method, *Parse(*method, request), secrets_->at(kind));
      const std::string bytes =
          r.response != nullptr ? r.response->SerializeAsString() : "";
      for (const std::string& secret : LinkSecrets()) {
        EXPECT_FALSE(absl::StrContains(bytes, secret) ||
                     absl::StrContains(r.message, secret))
            << "LEAK: " << rpc << " as " << kind << " shows " << secret;
      }
      if (kind == "admin") {
        EXPECT_EQ(CodeName(r.code), "OK") << rpc << ": " << r.message;
        EXPECT_TRUE(absl::StrContains(bytes, link))
            << rpc << " as the administrator does not show " << link;
      } else {
        EXPECT_FALSE(absl::StrContains(bytes, link))
            << "LEAK: " << rpc << " as " << kind << " shows " << link;
      }
    }
  }
}

// Every registered RPC as every kind of caller: the outcome, no marker
// outside the group, one answer for absent and hidden.
TEST_F(ConfidentialityMatrixTest,
       EveryRpcAsEveryCallerReturnsExactlyWhatItMay) {
  for (const Row& row : Rows()) {
    const std::vector<std::string> got = RunRow(row);
    if (print_) {
      std::string line = "      {";
      for (const std::string& g : got) line += "\"" + g + "\", ";
      std::cout << row.rpc << "\n" << line << "}\n";
      continue;
    }
    ASSERT_EQ(row.expected.size(), Callers().size()) << row.rpc;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], row.expected[i])
          << row.rpc << " as " << Callers()[i].kind;
    }
  }
}

// Every RPC of every service cohorted registers has a row.
TEST(ConfidentialityMatrixCoverageTest, EveryRegisteredRpcHasARow) {
  std::set<std::string> rows;
  for (const Row& row : Rows())
    rows.insert(row.rpc.substr(0, row.rpc.find(' ')));
  int rpcs = 0;
  for (const std::string& name : transport::GrpcServices::Names()) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string rpc =
          absl::StrCat(service->name(), ".", service->method(i)->name());
      ++rpcs;
      EXPECT_EQ(rows.count(rpc), 1u)
          << rpc << " is registered but has no row in the confidentiality "
          << "matrix: add what every kind of caller gets";
      rows.erase(rpc);
    }
  }
  EXPECT_GE(rpcs, 75);
  // And every row of the policy table is held to what some RPC does.
  std::set<std::pair<std::string, std::string>> policies;
  for (const Row& row : Rows()) policies.emplace(row.resource, row.action);
  for (const PolicyRow& p : PolicyTable()) {
    EXPECT_EQ(policies.count({std::string(p.resource), std::string(p.action)}),
              1u)
        << "policy row " << p.resource << " | " << p.action
        << " is the rule of no row of the matrix";
  }
  EXPECT_TRUE(rows.empty())
      << "rows of unregistered RPCs: " << absl::StrJoin(rows, ", ");
}

}  // namespace
}  // namespace cohorte::service
