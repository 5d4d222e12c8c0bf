// File: storage/info_log.h
//
// RocksDB's diagnostic log (the LOG file in the store's directory), written
// so that it can never stop the server. RocksDB's own file logger asserts
// (and Debian's build aborts) on the first line it writes after one failed
// write, so a full disk used to abort cohorted from inside a log call. This
// logger appends with plain write(2) and drops a line the disk refuses.
// Thread-safe: RocksDB logs from all its threads.
#ifndef COHORTE_STORAGE_INFO_LOG_H_
#define COHORTE_STORAGE_INFO_LOG_H_

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}  // namespace rocksdb

namespace cohorte::storage {

// A logger appending to `dir`/LOG (after moving a LOG over 16 MiB to
// LOG.old); one that drops every line if the file cannot be opened.
std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir);

}  // namespace cohorte::storage

#endif  // COHORTE_STORAGE_INFO_LOG_H_
