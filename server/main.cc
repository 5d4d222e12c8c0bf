// cohorted: the Cohorte server. Opens the store under --data-dir, makes the
// administrator on first start, serves gRPC on --listen until SIGINT or
// SIGTERM, then drains: health goes NOT_SERVING, in-flight calls finish
// under --shutdown-grace, the store closes.
//
// A new instance is made only in a missing or empty --data-dir; anything
// else must be a complete instance, or cohorted refuses to start (it never
// makes a new store or a new admin.token over what is there).
// `cohorted recover --data-dir=...` opens a store whose WAL is corrupt
// before its end at its last good revision, for an operator who accepts
// losing the rest (kept aside), bumps the epoch and exits.
// `cohorted restore --from=BACKUP_DIR --data-dir=...` makes the instance
// from a backup (offline), bumps the epoch and exits; it refuses a data
// directory that holds anything unless --replace (the store it replaces is
// kept aside, never deleted).
//
// Backups (AdminService) go to --backup-dir, by default the data
// directory's sibling `<data-dir>-backups`; never inside the store.
//
// Exit codes: 0 clean stop, 64 bad usage, 65 the data directory holds
// something that is not a complete instance, 66 a TLS file cannot be read,
// 69 cannot listen, 73 the data directory cannot be created or written (or
// the disk is full), 74 the store is corrupt (e.g. its WAL, before its last
// record), 75 the data directory is locked by another cohorted, 70 anything
// else.

#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/demo/demo.h"
#include "server/service/access/tokens.h"
#include "server/service/audit/audit.h"
#include "server/service/content/exchange_service.h"
#include "server/service/content/moderation_service.h"
#include "server/service/content/referentiel.h"
#include "server/service/content/report_service.h"
#include "server/service/core/limits.h"
#include "server/service/identity/bootstrap.h"
#include "server/service/identity/invitation_service.h"
#include "server/service/identity/token_service.h"
#include "server/service/inbox/inbox.h"
#include "server/service/records/content_intake.h"
#include "server/service/services.h"
#include "server/service/sessions/session_service.h"
#include "server/service/structure/group_service.h"
#include "server/service/structure/member_service.h"
#include "server/service/structure/territory_service.h"
#include "server/service/webhooks/dispatcher.h"
#include "server/service/webhooks/http_poster.h"
#include "server/service/webhooks/url_guard.h"
#include "server/transport/call_handler.h"
#include "server/transport/call_log.h"
#include "server/transport/peer_client.h"
#include "server/transport/request_decoding.h"
#include "server/transport/services.h"
#include "server/transport/worker_pool.h"
#include "storage/backup.h"
#include "storage/store.h"

#ifdef COHORTE_JEMALLOC
// jemalloc's options, read at its first allocation (MALLOC_CONF in the
// environment still overrides them): two arenas instead of four per CPU,
// which bounds what freed 1 MiB stream buffers keep (see
// TuneMallocForRecordStreams).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "narenas:2";
}
#endif

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitDataErr = 65;
constexpr int kExitNoInput = 66;
constexpr int kExitUnavailable = 69;
constexpr int kExitSoftware = 70;
constexpr int kExitCantCreate = 73;
constexpr int kExitIoErr = 74;
constexpr int kExitTempFail = 75;

// The health entry that says whether writes are accepted: NOT_SERVING while
// the store refuses writes after a storage fault or free space is below
// --min-free-mb. Reads go on, so the overall health stays SERVING.
constexpr char kWritesHealth[] = "cohorte.v1.Writes";

struct Flags {
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "data";
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  int max_message_bytes = 4 * 1024 * 1024;
  int workers = 64;
  int max_queued_calls =
      static_cast<int>(cohorte::transport::WorkerPool::kDefaultMaxQueued);
  double shutdown_grace_seconds = 10;
  bool seed_demo = false;
  int64_t min_free_mb = 256;
  double changes_retention_hours = 24 * 30;
  int64_t changes_retention_count = 0;
  double watch_progress_seconds = 10;
  int64_t watch_max_lag = 10000;
  // Empty: `<data_dir>-backups`.
  std::string backup_dir;
  int backup_keep = 7;
  // `cohorted restore`.
  std::string restore_from;
  uint32_t restore_backup_id = 0;
  bool restore_replace = false;
  std::vector<std::string> webhook_allow;
  int64_t webhook_pause_after_seconds =
      cohorte::service::kWebhookPauseAfterSeconds;
  int64_t max_record_mb = cohorte::service::kDefaultMaxRecordBytes >> 20;
  int64_t cohort_quota_mb = cohorte::service::kDefaultCohortQuotaBytes >> 20;
  double record_gc_interval_seconds = 600;
  // What this instance calls itself to the instances that follow it.
  std::string instance_name;
  bool links_enabled = true;
};

int Fail(int code, const std::string& message) {
  std::cerr << "cohorted: " << message << "\n";
  return code;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

// Server credentials from the flags: plaintext without --tls-cert; TLS
// with it; mutual TLS when --tls-client-ca is set too.
int MakeCredentials(const Flags& flags,
                    std::shared_ptr<grpc::ServerCredentials>* creds) {
  if (flags.tls_cert.empty() && flags.tls_key.empty()) {
    if (!flags.tls_client_ca.empty()) {
      return Fail(kExitUsage, "--tls-client-ca needs --tls-cert and --tls-key");
    }
    *creds = grpc::InsecureServerCredentials();
    return 0;
  }
  if (flags.tls_cert.empty() || flags.tls_key.empty()) {
    return Fail(kExitUsage, "--tls-cert and --tls-key go together");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  if (!ReadFile(flags.tls_key, &pair.private_key)) {
    return Fail(kExitNoInput, "cannot read --tls-key " + flags.tls_key);
  }
  if (!ReadFile(flags.tls_cert, &pair.cert_chain)) {
    return Fail(kExitNoInput, "cannot read --tls-cert " + flags.tls_cert);
  }
  options.pem_key_cert_pairs.push_back(pair);
  if (!flags.tls_client_ca.empty()) {
    if (!ReadFile(flags.tls_client_ca, &options.pem_root_certs)) {
      return Fail(kExitNoInput,
                  "cannot read --tls-client-ca " + flags.tls_client_ca);
    }
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  *creds = grpc::SslServerCredentials(options);
  return 0;
}

// True if `path` is missing or an empty directory (but for lost+found): the
// only places where a new instance is made. Sets *error (and returns false) if
// it cannot be read.
bool IsMissingOrEmpty(const std::string& path, std::string* error) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return true;
    *error = std::strerror(errno);
    return false;
  }
  bool empty = true;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    // lost+found: what a freshly formatted volume holds.
    if (name != "." && name != ".." && name != "lost+found") {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

void LogLine(const std::string& level, const std::string& fields) {
  const std::string line = absl::StrCat(
      "ts=",
      absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()),
      " level=", level, " ", fields, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// Whether writes can go on: the store's write status and the free space of
// the data directory. Check() turns kWritesHealth NOT_SERVING and logs one
// line on each change. Not thread-safe: one thread checks.
class WriteWatch {
 public:
  WriteWatch(const Flags& flags, cohorte::storage::Store* store,
             grpc::HealthCheckServiceInterface* health)
      : flags_(flags), store_(store), health_(health) {}

  void Check() {
    struct statvfs fs;
    if (::statvfs(flags_.data_dir.c_str(), &fs) == 0) {
      const uint64_t free_bytes =
          static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
      const bool low = free_bytes < static_cast<uint64_t>(flags_.min_free_mb)
                                        << 20;
      if (low != low_space_) {
        LogLine(low ? "warn" : "info",
                absl::StrFormat("msg=%s free_mb=%d min_free_mb=%d",
                                low ? "low_disk_space" : "disk_space_ok",
                                free_bytes >> 20, flags_.min_free_mb));
        low_space_ = low;
      }
    }
    // Writes stopped by a fault resume once it clears, even with no client
    // writing (a balancer routing by this health entry would send none).
    const absl::Status fault = store_->ResumeWrites();
    if (fault.code() != last_fault_.code()) {
      if (fault.ok()) {
        LogLine("info", "msg=writes_resumed");
      } else {
        LogLine("error",
                absl::StrFormat("msg=writes_suspended code=%s detail=\"%s\"",
                                absl::StatusCodeToString(fault.code()),
                                absl::CEscape(fault.message())));
      }
      last_fault_ = fault;
    }
    const bool writable = fault.ok() && !low_space_;
    if (writable != writable_) {
      health_->SetServingStatus(kWritesHealth, writable);
      writable_ = writable;
    }
  }

  // Checks once a second until `stop` is notified.
  void Run(absl::Notification* stop) {
    while (!stop->WaitForNotificationWithTimeout(absl::Seconds(1))) Check();
  }

 private:
  const Flags& flags_;
  cohorte::storage::Store* const store_;
  grpc::HealthCheckServiceInterface* const health_;
  bool writable_ = true;  // as the health entry says
  bool low_space_ = false;
  absl::Status last_fault_;
};

// One pass of the shared records' garbage collector, logged when it did
// something or failed.
void CollectRecordGarbage(cohorte::service::RecordService& records) {
  absl::StatusOr<cohorte::service::RecordGarbageStats> stats =
      records.CollectGarbage(absl::Now());
  if (!stats.ok()) {
    LogLine("warn",
            absl::StrFormat("msg=record_gc_failed code=%s",
                            absl::StatusCodeToString(stats.status().code())));
    return;
  }
  if (stats->expired_uploads + stats->purged_records + stats->deleted_blobs >
      0) {
    LogLine("info",
            absl::StrFormat("msg=record_gc expired_uploads=%d "
                            "purged_records=%d freed_contents=%d "
                            "deleted_blobs=%d",
                            stats->expired_uploads, stats->purged_records,
                            stats->freed_contents, stats->deleted_blobs));
  }
}

// The threads that lead CommitAsync's groups once serving starts. Never the
// handlers' pool: a handler blocked in Commit waits for the leadership, so
// a leader's task queued behind enough of them would never run (with
// --workers=1, one sync write and one post froze the server).
std::atomic<cohorte::transport::WorkerPool*> g_async_pool{nullptr};
// Two: one group applied while the one before is written (and answered).
// A third group's task waits for one of them; four threads let it start
// sooner, but on two cores the extra runnable threads cost more than they
// pipeline (post, 64 clients, 10 A/B pairs: 2 threads ahead in 9, +7 % in
// posts/s over the ten, p99 lower in 5 of the 6 pairs where it was noted;
// tests/bench/NOTES.md, eighth pass). Any count is live: nothing a leader
// waits for needs another leader task (Store::CommitAsync refuses Commit
// from its callbacks).
constexpr int kCommitLeaderThreads = 2;

// Opens the instance under --data-dir, or makes one if the directory is
// missing or empty (unless `wal_copy_dir` is set: then it recovers a WAL
// corrupt before its end, see StoreOptions); fails with the exit code and
// message to give.
int OpenInstance(const Flags& flags, const std::string& wal_copy_dir,
                 std::unique_ptr<cohorte::storage::Store>* store,
                 bool* is_new) {
  std::string error;
  *is_new = IsMissingOrEmpty(flags.data_dir, &error);
  if (!error.empty()) {
    return Fail(kExitCantCreate, absl::StrCat("cannot read data directory ",
                                              flags.data_dir, ": ", error));
  }
  if (*is_new && !wal_copy_dir.empty()) {
    return Fail(kExitDataErr, absl::StrCat("data directory ", flags.data_dir,
                                           " holds no instance to recover"));
  }
  if (*is_new && ::mkdir(flags.data_dir.c_str(), 0700) != 0 &&
      errno != EEXIST) {
    return Fail(kExitCantCreate,
                absl::StrCat("cannot create data directory ", flags.data_dir,
                             ": ", std::strerror(errno)));
  }
  cohorte::storage::StoreOptions store_options;
  store_options.path = flags.data_dir + "/store";
  store_options.create_if_missing = *is_new;
  store_options.wal_copy_dir = wal_copy_dir;
  store_options.async_leader = [](std::function<void()> task) {
    cohorte::transport::WorkerPool* pool = g_async_pool.load();
    if (pool != nullptr) {
      pool->Schedule(std::move(task));
    } else {
      task();
    }
  };
  absl::StatusOr<std::unique_ptr<cohorte::storage::Store>> opened =
      cohorte::storage::Store::Open(store_options);
  if (!opened.ok()) {
    const absl::Status& s = opened.status();
    if (absl::IsFailedPrecondition(s)) {
      return Fail(kExitTempFail,
                  absl::StrCat("data directory ", flags.data_dir,
                               " is locked: another cohorted is using it"));
    }
    if (absl::IsNotFound(s)) {
      return Fail(
          kExitDataErr,
          absl::StrCat("data directory ", flags.data_dir,
                       " is not empty but holds no complete Cohorte "
                       "instance: ",
                       s.message(),
                       ". Refusing to start: a new instance is made only in "
                       "a missing or empty directory (restore a backup, or "
                       "point --data-dir elsewhere)"));
    }
    if (absl::IsDataLoss(s)) {
      return Fail(kExitIoErr, absl::StrCat("refusing to start: ", s.message(),
                                           " (restore a backup)"));
    }
    if (absl::IsUnavailable(s) || absl::IsResourceExhausted(s)) {
      return Fail(kExitCantCreate,
                  absl::StrCat("cannot use data directory ", flags.data_dir,
                               ": ", s.message()));
    }
    return Fail(kExitSoftware,
                absl::StrCat("cannot open the store: ", s.ToString()));
  }
  *store = *std::move(opened);
  // The administrator is the first revision of every instance. An older
  // instance without it was tampered with: making a new administrator
  // would overwrite admin.token. (Read in a mutation that writes nothing:
  // main has no other way to the committed state.)
  if (!*is_new && (*store)->revision() > 0) {
    cohorte::storage::Mutation check;
    check.actor = std::string(cohorte::service::kAdminMember);
    check.method = "CheckAdministrator";
    check.apply =
        [](cohorte::storage::Txn& txn) -> absl::StatusOr<std::string> {
      absl::StatusOr<bool> exists =
          txn.EntityExists<cohorte::v1::Member>(cohorte::service::kAdminMember);
      if (!exists.ok()) return exists.status();
      // Never commit: this mutation only looks.
      return *exists ? absl::CancelledError("checked")
                     : absl::NotFoundError("no administrator");
    };
    absl::Status checked = (*store)->Commit(std::move(check)).status();
    if (absl::IsNotFound(checked)) {
      return Fail(kExitDataErr,
                  absl::StrCat("the instance in ", flags.data_dir,
                               " has no administrator; refusing to make a "
                               "new one over it"));
    }
  }
  return 0;
}

// `cohorted recover`: opens a store whose WAL is corrupt before its end at
// its last good revision, dropping what follows, after copying the WAL
// files as they are beside the store; bumps the epoch; says what it did.
int Recover(const Flags& flags) {
  const std::string copy_dir = absl::StrCat(
      flags.data_dir, "/wal-before-recovery-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()));
  std::unique_ptr<cohorte::storage::Store> store;
  bool is_new = false;
  if (int rc = OpenInstance(flags, copy_dir, &store, &is_new); rc != 0) {
    return rc;
  }
  if (!store->dropped_wal_tail()) {
    std::cout << "cohorted: the store opens without loss at revision "
              << store->revision() << ": nothing to recover\n";
    return 0;
  }
  std::cout << "cohorted: recovered instance " << store->instance_id()
            << " at revision " << store->revision()
            << ": what the write-ahead log held after its corruption is "
               "dropped (revisions after "
            << store->revision() << ", reused from now on); epoch "
            << store->epoch() - 1 << " -> " << store->epoch()
            << ".\ncohorted: the write-ahead logs as they were are kept in "
            << copy_dir << "\ncohorted: start cohorted as usual.\n";
  return 0;
}

// --data-dir without trailing slashes (so that its sibling is a sibling).
std::string TrimmedDataDir(const Flags& flags) {
  std::string dir = flags.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// --backup-dir, or its default beside the data directory.
std::string BackupDir(const Flags& flags) {
  return flags.backup_dir.empty() ? TrimmedDataDir(flags) + "-backups"
                                  : flags.backup_dir;
}

// True if `path` is `dir` or inside it, both made absolute, with symbolic
// links of what exists resolved.
bool IsWithin(const std::string& path, const std::string& dir) {
  auto resolved = [](const std::string& p) {
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(p, ec);
    return std::filesystem::weakly_canonical(absolute, ec).lexically_normal();
  };
  const std::filesystem::path relative =
      resolved(path).lexically_relative(resolved(dir));
  return !relative.empty() && *relative.begin() != "..";
}

// Opens the backup directory. Backups are an option, not a condition of
// serving: if it cannot be opened, cohorted serves and says why, and
// AdminService answers FAILED_PRECONDITION with the reason.
std::unique_ptr<cohorte::storage::Backups> OpenBackups(const Flags& flags,
                                                       std::string* why) {
  const std::string dir = BackupDir(flags);
  absl::StatusOr<std::unique_ptr<cohorte::storage::Backups>> backups =
      cohorte::storage::Backups::Open({.dir = dir, .keep = flags.backup_keep});
  if (backups.ok()) return *std::move(backups);
  *why = absl::StrCat("the backup directory ", dir,
                      " cannot be used: ", backups.status().message());
  LogLine("error", absl::StrFormat("msg=backups_unavailable detail=\"%s\"",
                                   absl::CEscape(*why)));
  return nullptr;
}

// `cohorted restore`: makes the instance of --data-dir from a backup in
// --from (the newest, or --backup-id), bumps its epoch and says what it did.
// The data directory must be missing or empty, unless --replace: then its
// store is moved aside (never deleted) once the new one is complete.
int Restore(const Flags& flags) {
  const std::string data_dir = TrimmedDataDir(flags);
  const std::string store_path = data_dir + "/store";
  std::string error;
  const bool empty = IsMissingOrEmpty(data_dir, &error);
  if (!error.empty()) {
    return Fail(kExitCantCreate, absl::StrCat("cannot read data directory ",
                                              data_dir, ": ", error));
  }
  if (!empty && !flags.restore_replace) {
    return Fail(kExitDataErr,
                absl::StrCat("data directory ", data_dir,
                             " is not empty; refusing to restore over it "
                             "(restore into a new directory, or pass "
                             "--replace to keep its store aside and replace "
                             "it)"));
  }
  if (IsWithin(flags.restore_from, data_dir)) {
    return Fail(kExitUsage, "--from must not be inside --data-dir");
  }
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(kExitCantCreate,
                absl::StrCat("cannot create data directory ", data_dir, ": ",
                             std::strerror(errno)));
  }
  // Restored beside the store it may replace: nothing is touched until the
  // new store is complete.
  const std::string stamp =
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone());
  const std::string staging =
      absl::StrCat(data_dir, "/store.restoring-", stamp);
  int64_t replaced_epoch = 0;
  if (!empty) {
    // Refuses while a cohorted uses the data directory (its store is
    // locked); a store too damaged to open is replaced all the same. The
    // new epoch is above the replaced store's, which its followers know.
    cohorte::storage::StoreOptions probe;
    probe.path = store_path;
    probe.create_if_missing = false;
    absl::StatusOr<std::unique_ptr<cohorte::storage::Store>> opened =
        cohorte::storage::Store::Open(probe);
    if (absl::IsFailedPrecondition(opened.status())) {
      return Fail(kExitTempFail,
                  absl::StrCat("data directory ", data_dir,
                               " is locked: stop the cohorted using it "
                               "first"));
    }
    if (opened.ok()) replaced_epoch = (*opened)->epoch();
  }
  absl::StatusOr<cohorte::storage::RestoreResult> restored =
      cohorte::storage::RestoreBackup({.backup_dir = flags.restore_from,
                                       .backup_id = flags.restore_backup_id,
                                       .store_path = staging,
                                       .min_epoch = replaced_epoch});
  if (!restored.ok()) {
    std::error_code ignored;
    std::filesystem::remove_all(staging, ignored);
    const absl::Status& s = restored.status();
    const int code = absl::IsNotFound(s)   ? kExitNoInput
                     : absl::IsDataLoss(s) ? kExitIoErr
                                           : kExitCantCreate;
    return Fail(code, absl::StrCat("restore failed: ", s.message()));
  }
  std::string aside;
  std::error_code ec;
  if (std::filesystem::exists(store_path, ec)) {
    aside = absl::StrCat(data_dir, "/store.replaced-", stamp);
    std::filesystem::rename(store_path, aside, ec);
    if (ec) {
      return Fail(
          kExitCantCreate,
          absl::StrCat("cannot move ", store_path, " aside: ", ec.message(),
                       " (the restored store is in ", staging, ")"));
    }
  }
  std::filesystem::rename(staging, store_path, ec);
  if (ec) {
    return Fail(kExitCantCreate,
                absl::StrCat("cannot move the restored store into place: ",
                             ec.message(), " (it is in ", staging, ")"));
  }
  std::cout << "cohorted: restored backup " << restored->backup_id << " of "
            << flags.restore_from << " into " << data_dir << ": instance "
            << restored->instance_id << " at revision " << restored->revision
            << "; epoch " << restored->backup_epoch << " -> " << restored->epoch
            << " (followers re-read what they follow).\n";
  if (!aside.empty()) {
    std::cout << "cohorted: the store it replaces is kept in " << aside << "\n";
  }
  if (!std::filesystem::exists(data_dir + "/admin.token", ec)) {
    std::cout << "cohorted: " << data_dir
              << "/admin.token is not there: copy the instance's admin.token "
                 "into it (a backup holds only the token's hash)\n";
  }
  std::cout << "cohorted: start cohorted as usual.\n";
  return 0;
}

int Run(const Flags& flags, const sigset_t& stop_signals) {
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (int rc = MakeCredentials(flags, &creds); rc != 0) return rc;

  std::unique_ptr<cohorte::storage::Store> store;
  bool is_new = false;
  if (int rc = OpenInstance(flags, /*wal_copy_dir=*/"", &store, &is_new);
      rc != 0) {
    return rc;
  }

  const std::string token_path = flags.data_dir + "/admin.token";
  absl::StatusOr<cohorte::service::BootstrapResult> boot =
      cohorte::service::BootstrapAdmin(*store, token_path);
  if (!boot.ok()) {
    return Fail(kExitCantCreate, std::string(boot.status().message()));
  }

  std::string backups_unavailable;
  std::unique_ptr<cohorte::storage::Backups> backups =
      OpenBackups(flags, &backups_unavailable);
  absl::StatusOr<cohorte::service::WebhookAllowList> webhook_allow =
      cohorte::service::WebhookAllowList::Parse(flags.webhook_allow);
  if (!webhook_allow.ok()) {
    return Fail(kExitUsage, std::string(webhook_allow.status().message()));
  }

  cohorte::service::BuiltInReferentiel();  // parsed now, not on a call
  cohorte::service::ServicesOptions options;
  options.feed.retention_age = absl::Hours(flags.changes_retention_hours);
  options.feed.retention_count = flags.changes_retention_count;
  options.watch.progress_interval = absl::Seconds(flags.watch_progress_seconds);
  options.watch.max_lag = flags.watch_max_lag;
  options.backups = backups.get();
  options.backups_unavailable = backups_unavailable;
  options.webhook_allow = *std::move(webhook_allow);
  options.webhook_dispatch.pause_after =
      absl::Seconds(flags.webhook_pause_after_seconds);
  options.records.max_file_bytes = flags.max_record_mb << 20;
  options.records.max_cohort_bytes = flags.cohort_quota_mb << 20;
  options.instance_name = flags.instance_name;
  options.peer_connector = cohorte::transport::GrpcPeerConnector();
  options.replication.log = [](absl::string_view level,
                               absl::string_view fields) {
    LogLine(std::string(level), std::string(fields));
  };
  cohorte::service::Services services(store.get(), std::move(options));
  // Notifications a stop left undelivered (their announcement committed,
  // some batches not): delivered before serving.
  if (absl::Status pending = services.fan_out.DeliverPending(); !pending.ok()) {
    LogLine("error", absl::StrFormat("msg=notifications_pending detail=\"%s\"",
                                     pending.ToString()));
  }
  // Record contents a stop left half received (a link's, an import's):
  // their bytes become garbage for the collector, before anything receives.
  if (absl::StatusOr<int64_t> discarded =
          cohorte::service::DiscardPendingBlobs(*store);
      !discarded.ok()) {
    LogLine("error",
            absl::StrFormat("msg=pending_contents_not_discarded detail=\"%s\"",
                            discarded.status().ToString()));
  } else if (*discarded > 0) {
    LogLine("info", absl::StrFormat("msg=pending_contents_discarded blobs=%d",
                                    *discarded));
  }
  if (boot->created && flags.seed_demo) {
    absl::Status seeded =
        cohorte::demo::SeedDemo(services, boot->admin, flags.data_dir);
    if (!seeded.ok()) {
      return Fail(kExitSoftware,
                  absl::StrCat("seeding the demo failed: ", seeded.ToString()));
    }
  }

  cohorte::service::Authenticator authenticator(store.get());
  auto leaders =
      std::make_unique<cohorte::transport::WorkerPool>(kCommitLeaderThreads);
  g_async_pool.store(leaders.get());
  auto pool = std::make_unique<cohorte::transport::WorkerPool>(
      flags.workers, static_cast<size_t>(flags.max_queued_calls));
  cohorte::transport::CallHandler calls(&authenticator, pool.get());
  cohorte::transport::GrpcServices grpc_services(&calls, &services);

  // Protobuf's complaints about undecodable requests go to their callers.
  cohorte::transport::InstallProtobufLogHandler();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a
  // port already in use without error; refuse that instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(flags.listen, creds, &port);
  grpc_services.Register(builder);
  builder.SetMaxReceiveMessageSize(flags.max_message_bytes);
  builder.SetMaxSendMessageSize(flags.max_message_bytes);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(kExitUnavailable,
                absl::StrCat("cannot listen on ", flags.listen,
                             " (address in use, or not a host:port)"));
  }
  services.watches.Start();
  services.webhook_dispatcher.Start();
  services.changes.StartCompaction();
  if (flags.links_enabled) {
    if (absl::Status s = services.replicator.Start(); !s.ok()) {
      LogLine("warn", absl::StrCat("msg=links_not_started code=",
                                   absl::StatusCodeToString(s.code())));
    }
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus("", true);
  for (const std::string& service : cohorte::transport::GrpcServices::Names()) {
    health->SetServingStatus(service, true);
  }
  health->SetServingStatus(kWritesHealth, true);
  WriteWatch write_watch(flags, store.get(), health);
  write_watch.Check();  // before the port is printed: tests and balancers
  absl::Notification stop_watching;
  std::thread watcher([&] { write_watch.Run(&stop_watching); });
  // Shared records' garbage: at start (what a crash left), then at each
  // interval.
  std::thread collector([&] {
    if (flags.record_gc_interval_seconds <= 0) return;
    do {
      CollectRecordGarbage(services.records);
    } while (!stop_watching.WaitForNotificationWithTimeout(
        absl::Seconds(flags.record_gc_interval_seconds)));
  });

  const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  const std::string address = absl::StrCat(host, ":", port);
  std::cout << "cohorted: listening on " << address << "\n"
            << "cohorted: instance " << store->instance_id() << " epoch "
            << store->epoch() << ", revision " << store->revision() << "\n";
  if (boot->created) {
    std::cout << "cohorted: first start: admin token written to " << token_path
              << " (mode 0600)\n"
              << "Try:\n"
              << "  export COHORTE_SERVER=" << address << "\n"
              << "  export COHORTE_TOKEN_FILE=" << token_path << "\n"
              << "  build/cohorte health\n"
              << "  build/cohorte cohorts list\n"
              << "  build/cohorte cohorts get occitanie\n";
  }
  std::cout.flush();

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "cohorted: " << strsignal(signal_number) << ": draining (grace "
            << flags.shutdown_grace_seconds << "s)\n";
  std::cout.flush();

  const absl::Time drain_start = absl::Now();
  stop_watching.Notify();
  watcher.join();
  collector.join();
  health->Shutdown();           // NOT_SERVING first, so balancers move away
  services.watches.Shutdown();  // watchers end now, with their cursor
  services.webhook_dispatcher.Stop();  // after its current POST
  services.replicator.Stop();          // its calls to peers are cancelled
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(
                       flags.shutdown_grace_seconds * 1000)));
  server->Wait();
  const absl::Duration drained = absl::Now() - drain_start;
  g_async_pool.store(nullptr);  // commits lead on their own thread from now
  pool.reset();                 // runs what was scheduled, then joins
  leaders.reset();              // the same
  cohorte::transport::CallLog::Get()
      .Flush();  // every call's line, before the end
  const int64_t revision = store->revision();
  store.reset();
  std::cout << "cohorted: calls drained in " << drained << ", store closed in "
            << (absl::Now() - drain_start - drained)
            << "\ncohorted: stopped cleanly at revision " << revision << "\n";
  return 0;
}

// Before any thread starts: glibc's malloc as the record streams need it.
// Each shared record's bytes pass through 1 MiB buffers (a parsed chunk,
// a RocksDB block, a serialized message) allocated on one thread and
// freed on another.
//
// With jemalloc (the default build, cohorte_allocator): two arenas, as
// `malloc_conf` below says; small allocations are served by per-thread
// caches anyway. Measured with tests/bench/run_records.sh: the server's
// CPU per pushed or pulled GiB as with glibc's tuned malloc, its peak RSS
// after the streams 246-264 MiB with jemalloc's default 8 arenas, 219
// MiB with 2 (glibc: 171-184); posts/s unchanged.
//
// With glibc's malloc (sanitizer builds, or -DCOHORTE_JEMALLOC=OFF): by
// default glibc gives every thread an arena of its own (up to 16 here),
// gives each freed 1 MiB back to the kernel at once (its trim threshold
// follows the largest block freed, about 2 MiB) and faults fresh zeroed
// pages in for the next: under `perf`, page faults and madvise were 37 %
// of the server's CPU during a pull. Two arenas, blocks under 8 MiB from
// the arenas (gRPC's receive buffers grow to 4 MiB), and up to 16 MiB
// kept free at the top of each: the buffers are reused, and the memory
// kept is bounded (measured: a pull's server CPU 0.84 → 0.5 s per GiB, a
// push's 1.55 → 1.4 s; the peak RSS after a push and two pulls 139 → 124
// MiB, and 252 → 221 MiB at the records bench's point).
void TuneMallocForRecordStreams() {
#ifndef COHORTE_JEMALLOC
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so that every gRPC and
  // RocksDB thread inherits the mask and only sigwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  TuneMallocForRecordStreams();
#ifdef NDEBUG
  // Debian builds Abseil without NDEBUG, so every Mutex::Lock would keep
  // a lock-order graph for deadlock detection: a debugging aid (left on in
  // our Debug builds and tests) that costs each call of a release server
  // about 1 % of its CPU.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif

  Flags flags;
  CLI::App app{"cohorted: the Cohorte server"};
  app.add_option("--listen", flags.listen,
                 "host:port to serve on; port 0 picks a free port and prints "
                 "it")
      ->capture_default_str();
  app.add_option("--data-dir", flags.data_dir,
                 "directory of the store and of the admin token file")
      ->capture_default_str();
  app.add_option("--tls-cert", flags.tls_cert, "PEM certificate chain");
  app.add_option("--tls-key", flags.tls_key, "PEM private key");
  app.add_option("--tls-client-ca", flags.tls_client_ca,
                 "PEM CA bundle: require client certificates (mTLS)");
  app.add_option("--max-message-bytes", flags.max_message_bytes,
                 "largest message received or sent")
      ->check(CLI::Range(1024, 64 * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--workers", flags.workers,
                 "threads running handlers (durable writes wait on them)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--max-queued-calls", flags.max_queued_calls,
                 "calls waiting for a worker (and posts waiting for their "
                 "commit) beyond which new calls get RESOURCE_EXHAUSTED "
                 "(SERVER_BUSY)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--shutdown-grace", flags.shutdown_grace_seconds,
                 "seconds in-flight calls get to finish on SIGINT/SIGTERM")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--min-free-mb", flags.min_free_mb,
                 "below this free space (MiB) on the data directory's disk, "
                 "health of cohorte.v1.Writes turns NOT_SERVING and a line "
                 "is logged; 0 turns the check off")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--changes-retention-hours", flags.changes_retention_hours,
                 "the change feed keeps changes younger than this; older "
                 "ones are compacted (a cursor below gets OUT_OF_RANGE); 0 "
                 "keeps them whatever their age")
      ->check(CLI::Range(0.0, 24.0 * 3660))
      ->capture_default_str();
  app.add_option("--changes-retention-count", flags.changes_retention_count,
                 "the change feed keeps at most this many newest changes; 0: "
                 "no limit by count")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50))
      ->capture_default_str();
  app.add_option("--watch-progress-seconds", flags.watch_progress_seconds,
                 "an idle Watch stream gets a progress notification (its "
                 "cursor at the current revision) this often")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  app.add_option("--instance-name", flags.instance_name,
                 "the name this instance gives itself to the instances that "
                 "follow its cohorts (shown as their replicas' home), e.g. "
                 "\"Occitanie\"; default: none (its id is shown)")
      ->check([](const std::string& v) {
        return v.size() <= 100 ? std::string()
                               : std::string("at most 100 bytes");
      });
  app.add_flag("!--no-links", flags.links_enabled,
               "do not run the links that follow other instances (they can "
               "still be managed)");
  app.add_option("--watch-max-lag", flags.watch_max_lag,
                 "a Watch stream whose client does not read is ended with "
                 "RESOURCE_EXHAUSTED (and its cursor) once it is this many "
                 "revisions behind")
      ->check(CLI::Range(int64_t{100}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-record-mb", flags.max_record_mb,
                 "largest content of one shared record's version (MiB)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--cohort-quota-mb", flags.cohort_quota_mb,
                 "most bytes of shared records one cohort holds (MiB)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--record-gc-interval", flags.record_gc_interval_seconds,
                 "seconds between passes of the shared records' garbage "
                 "collector (expired uploads, purged records, unreferenced "
                 "content); 0 turns it off")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  app.add_flag("--seed-demo", flags.seed_demo,
               "on first start, create the demo cohorts");
  app.add_option("--backup-dir", flags.backup_dir,
                 "directory of the backups AdminService takes (default: "
                 "<data-dir>-backups); never inside the data directory's "
                 "store");
  app.add_option("--backup-keep", flags.backup_keep,
                 "after each backup, only the newest this many stay")
      ->check(CLI::Range(1, cohorte::service::kMaxBackupsKept))
      ->capture_default_str();
  app.add_option("--webhook-allow", flags.webhook_allow,
                 "where webhooks may be sent: host names, addresses and "
                 "networks (a.b.c.d/n), comma-separated; default none (every "
                 "webhook refused)")
      ->delimiter(',');
  app.add_option("--webhook-pause-after", flags.webhook_pause_after_seconds,
                 "seconds a webhook may fail before it is paused")
      ->check(CLI::Range(int64_t{1}, int64_t{365} * 24 * 3600))
      ->capture_default_str();
  CLI::App* recover = app.add_subcommand(
      "recover",
      "open a store whose write-ahead log is corrupt before its end at its "
      "last good revision, dropping the rest (kept aside), and bump the "
      "epoch; then exit");
  recover->fallthrough();  // `cohorted recover --data-dir=...`
  CLI::App* restore = app.add_subcommand(
      "restore",
      "make the instance of --data-dir from a backup (offline) and bump its "
      "epoch; then exit");
  restore->fallthrough();
  restore->add_option("--from", flags.restore_from, "the backup directory")
      ->required();
  restore->add_option("--backup-id", flags.restore_backup_id,
                      "the backup to restore (default: the newest)");
  restore->add_flag("--replace", flags.restore_replace,
                    "restore even though --data-dir holds an instance: its "
                    "store is moved aside to store.replaced-<time>, not "
                    "deleted");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (recover->parsed()) return Recover(flags);
  if (restore->parsed()) return Restore(flags);
  if (IsWithin(BackupDir(flags), TrimmedDataDir(flags) + "/store")) {
    return Fail(kExitUsage, "--backup-dir must not be inside the store (" +
                                TrimmedDataDir(flags) + "/store)");
  }
  return Run(flags, stop_signals);
}
