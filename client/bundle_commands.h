// File: client/bundle_commands.h
//
// `cohorte cohorts export COHORT --to DIR` and `cohorte cohorts import DIR`
// (links.proto, BundleManifest). Export is a client of the read gate only:
// the pages of ChangeService.ListSnapshot for the cohort (the types a link
// follows, without what an importer refuses: GROUP visibility, drafts,
// group member lists) written varint-length-delimited to events.pb, each
// readable record version's content to contents/{sha256}, and
// manifest.json (format, source instance, epoch, cursor, counts, each
// file's size and SHA-256), written last. Import checks every file against
// the manifest before sending anything, then streams the manifest and
// events.pb to LinkService.ImportCohort, which checks them again.
// Not thread-safe (prints; reads and writes files).
#ifndef COHORTE_CLIENT_BUNDLE_COMMANDS_H_
#define COHORTE_CLIENT_BUNDLE_COMMANDS_H_

#include "client/commands.h"

namespace cohorte::client {

// Adds `export` and `import` under `cohorts`. `env` must outlive the
// registered actions.
void AddBundleCommands(CLI::App* cohorts, const CommandEnv& env,
                       CommandRegistry& registry);

}  // namespace cohorte::client

#endif  // COHORTE_CLIENT_BUNDLE_COMMANDS_H_
