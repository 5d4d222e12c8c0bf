#include "storage/info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rocksdb/env.h"

namespace cohorte::storage {
namespace {

constexpr off_t kRotateBytes = 16 << 20;

class InfoLog final : public rocksdb::Logger {
 public:
  // Takes `fd` (or -1: drop every line).
  explicit InfoLog(int fd) : fd_(fd) {}
  InfoLog(const InfoLog&) = delete;
  InfoLog& operator=(const InfoLog&) = delete;
  ~InfoLog() override {
    if (fd_ >= 0) ::close(fd_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    char line[4096];
    const std::string time = absl::FormatTime("%Y/%m/%d-%H:%M:%E6S ",
                                              absl::Now(), absl::UTCTimeZone());
    int n = std::snprintf(line, sizeof(line), "%s", time.c_str());
    va_list copy;
    va_copy(copy, ap);
    const int body =
        std::vsnprintf(line + n, sizeof(line) - n - 1, format, copy);
    va_end(copy);
    if (body < 0) return;
    n += body;
    if (n > static_cast<int>(sizeof(line)) - 2) n = sizeof(line) - 2;
    if (line[n - 1] != '\n') line[n++] = '\n';
    // One write per line (O_APPEND keeps lines whole); a refused or short
    // write loses the line, never the server.
    [[maybe_unused]] ssize_t ignored = ::write(fd_, line, n);
  }

 private:
  const int fd_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir) {
  const std::string path = dir + "/LOG";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_size > kRotateBytes) {
    ::rename(path.c_str(), (path + ".old").c_str());
  }
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  return std::make_shared<InfoLog>(fd);
}

}  // namespace cohorte::storage
