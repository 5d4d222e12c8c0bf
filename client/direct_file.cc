#include "client/direct_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cohorte::client {
namespace {

// O_DIRECT's alignment of offsets, lengths and memory (the logical block
// size of common disks is 512 or 4096 bytes).
constexpr size_t kAlign = 4096;
// The staging buffer: whole buffers are written directly.
constexpr size_t kStageBytes = 4 << 20;

char* AllocateStage() {
  void* p = nullptr;
  if (posix_memalign(&p, kAlign, kStageBytes) != 0) return nullptr;
  return static_cast<char*>(p);
}

// pwrite of all of [data, data + n) at `at`; the errno of a failure, or 0.
int WriteAll(int fd, const char* data, size_t n, int64_t at) {
  while (n > 0) {
    const ssize_t w = pwrite(fd, data, n, static_cast<off_t>(at));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    data += w;
    n -= static_cast<size_t>(w);
    at += w;
  }
  return 0;
}

}  // namespace

DirectFileBuf::DirectFileBuf(const std::string& path, bool keep)
    : staged_(nullptr, &std::free) {
  fd_ = open(path.c_str(),
             O_WRONLY | O_CREAT | O_CLOEXEC | (keep ? 0 : O_TRUNC), 0644);
  if (fd_ < 0) return;
  if (keep) {
    const off_t end = lseek(fd_, 0, SEEK_END);
    if (end < 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    pos_ = end;
  }
  staged_.reset(AllocateStage());
  if (staged_ != nullptr) {
    direct_fd_ = open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  }
}

DirectFileBuf::~DirectFileBuf() { Close(); }

bool DirectFileBuf::Close() {
  if (fd_ < 0) return !failed_;
  sync();
  if (direct_fd_ >= 0 && close(direct_fd_) != 0) failed_ = true;
  direct_fd_ = -1;
  if (close(fd_) != 0) failed_ = true;
  fd_ = -1;
  return !failed_;
}

bool DirectFileBuf::WriteBuffered(const char* data, size_t n) {
  if (WriteAll(fd_, data, n, pos_) != 0) {
    failed_ = true;
    return false;
  }
  pos_ += static_cast<int64_t>(n);
  return true;
}

bool DirectFileBuf::WriteStaged(bool all) {
  const int64_t start = pos_ - static_cast<int64_t>(staged_bytes_);
  const size_t aligned = staged_bytes_ & ~(kAlign - 1);
  size_t done = 0;
  if (aligned > 0 && direct_fd_ >= 0) {
    const int error = WriteAll(direct_fd_, staged_.get(), aligned, start);
    if (error == 0) {
      done = aligned;
    } else if (error != EINVAL) {
      failed_ = true;
      return false;
    } else {
      // Refused (alignment, or the file system): the page cache from here.
      close(direct_fd_);
      direct_fd_ = -1;
    }
  }
  const size_t rest = (all || direct_fd_ < 0) ? staged_bytes_ - done : 0;
  if (rest > 0 && WriteAll(fd_, staged_.get() + done, rest,
                           start + static_cast<int64_t>(done)) != 0) {
    failed_ = true;
    return false;
  }
  done += rest;
  std::memmove(staged_.get(), staged_.get() + done, staged_bytes_ - done);
  staged_bytes_ -= done;
  return true;
}

std::streamsize DirectFileBuf::xsputn(const char* data, std::streamsize n) {
  if (fd_ < 0 || failed_) return 0;
  size_t left = static_cast<size_t>(n);
  while (left > 0) {
    if (direct_fd_ < 0) {
      if (staged_bytes_ > 0 && !WriteStaged(true)) return 0;
      if (!WriteBuffered(data, left)) return 0;
      return n;
    }
    if (staged_bytes_ == 0 && pos_ % static_cast<int64_t>(kAlign) != 0) {
      // Up to the next aligned offset through the page cache.
      const size_t head = std::min(
          left,
          kAlign - static_cast<size_t>(pos_ % static_cast<int64_t>(kAlign)));
      if (!WriteBuffered(data, head)) return 0;
      data += head;
      left -= head;
      continue;
    }
    const size_t take = std::min(left, kStageBytes - staged_bytes_);
    std::memcpy(staged_.get() + staged_bytes_, data, take);
    staged_bytes_ += take;
    pos_ += static_cast<int64_t>(take);
    data += take;
    left -= take;
    if (staged_bytes_ == kStageBytes && !WriteStaged(false)) return 0;
  }
  return n;
}

DirectFileBuf::int_type DirectFileBuf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) {
    return traits_type::not_eof(c);
  }
  const char ch = traits_type::to_char_type(c);
  return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
}

int DirectFileBuf::sync() {
  if (fd_ < 0) return failed_ ? -1 : 0;
  if (staged_bytes_ > 0) WriteStaged(true);
  return failed_ ? -1 : 0;
}

DirectFileOutput::DirectFileOutput(const std::string& path, bool keep)
    : std::ostream(nullptr), buf_(path, keep) {
  rdbuf(&buf_);
  if (!buf_.is_open()) setstate(std::ios::failbit);
}

DirectFileOutput::~DirectFileOutput() { buf_.Close(); }

}  // namespace cohorte::client
