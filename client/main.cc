// cohorte: the command-line client of a Cohorte server.
//
//   cohorte [global flags] <resource> <verb> [args]
//
// Data goes to stdout (-o table|json|name), errors to stderr; the exit
// code tells the failure class (client/connection.h). The command tree is
// in client/app.h.

#include "client/app.h"

int main(int argc, char** argv) { return cohorte::client::RunCli(argc, argv); }
