// File: client/csv.h
//
// A small RFC 4180 reader for the CSV files people export from spreadsheets
// (`cohorte invitations import`): comma or semicolon separated (French
// spreadsheets write semicolons), fields optionally in double quotes with
// "" for a quote, quoted fields may hold separators and line breaks; CRLF
// or LF line ends; a UTF-8 byte-order mark is skipped; blank lines are
// skipped. Thread-compatible (pure functions).
#ifndef COHORTE_CLIENT_CSV_H_
#define COHORTE_CLIENT_CSV_H_

#include <string>
#include <vector>

namespace cohorte::client {

struct CsvRow {
  // 1-based line number where the row starts, for error messages.
  int line = 0;
  std::vector<std::string> fields;
};

struct CsvParse {
  std::vector<CsvRow> rows;
  // Empty if the text parsed; otherwise "line N: what is wrong", or, for
  // text that is not UTF-8, a message saying so (no line: the whole file
  // is refused).
  std::string error;
};

// Parses `text`. The separator is the first of ',' or ';' found outside
// quotes on the first line (',' if neither). Refuses text that is not
// UTF-8, an unterminated quote, and a quote in the middle of an unquoted
// field.
CsvParse ParseCsv(const std::string& text);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_CSV_H_
