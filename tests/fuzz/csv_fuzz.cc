// Fuzzes the CLI's CSV reader (`cohorte invitations import` reads files
// people export from spreadsheets): it never crashes, and either parses or
// says which line is wrong (or that the file is not UTF-8).

#include <cstddef>
#include <cstdint>
#include <string>

#include "client/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const cohorte::client::CsvParse parse = cohorte::client::ParseCsv(text);
  if (!parse.error.empty() && parse.error.rfind("line ", 0) != 0 &&
      parse.error.find("not UTF-8") == std::string::npos) {
    __builtin_trap();
  }
  for (const cohorte::client::CsvRow& row : parse.rows) {
    if (row.line < 1) __builtin_trap();
  }
  return 0;
}
