// File: client/token.h
//
// The bearer token as `cohorte` reads it (COHORTE_TOKEN or --token-file),
// checked for form before anything is sent: a token with a line break or
// a byte gRPC refuses in a header would make gRPC abort and print the
// header, that is the secret. Pure functions, thread-compatible.
#ifndef COHORTE_CLIENT_TOKEN_H_
#define COHORTE_CLIENT_TOKEN_H_

#include <string>

namespace cohorte::client {

// `text` without the blanks and line breaks that surround it (files end
// with a line break); what is inside is kept as is.
std::string TrimToken(const std::string& text);

// "" if `token` is "coh_" followed by 64 lowercase hex digits; otherwise
// what is wrong with it, in words that never quote any of its characters
// (its length, the position of the first wrong byte, what kind of byte).
std::string TokenFormProblem(const std::string& token);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_TOKEN_H_
