// File: client/yaml.h
//
// `-o yaml`: the same document as `-o json` (protobuf's canonical JSON,
// lowerCamelCase names in declaration order, every field present), written
// as block-style YAML 1.2 for people and tools that read YAML. Strings that
// could read as another type (`true`, `5`, `null`, a leading `-`…) or that
// hold anything but plain characters are double-quoted with the JSON
// escapes, which YAML shares; numbers, booleans and null stay as they are.
// Pure functions; thread-safe.
#ifndef COHORTE_CLIENT_YAML_H_
#define COHORTE_CLIENT_YAML_H_

#include <string>

namespace cohorte::client {

// `json` (one JSON value, as protobuf's printer writes it) as YAML, ending
// with a line break. Key order is kept. REQUIRES: `json` is well-formed
// JSON; on anything else the result is "" (never a partial document).
std::string JsonToYaml(const std::string& json);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_YAML_H_
