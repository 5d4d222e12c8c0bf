// File: client/output.h
//
// What `cohorte` prints on stdout: JSON (`-o json`, field names as in the
// protos) or aligned tables for people (`-o table`, the default).
#ifndef COHORTE_CLIENT_OUTPUT_H_
#define COHORTE_CLIENT_OUTPUT_H_

#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace cohorte::client {

enum class OutputFormat { kTable, kJson };

// One message as indented JSON, followed by a newline.
void PrintJson(const google::protobuf::Message& message);

// Rows under a header, columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// "field: value" lines for one resource, in `fields` order.
void PrintFields(
    const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_OUTPUT_H_
