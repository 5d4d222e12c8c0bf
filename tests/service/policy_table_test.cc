// The README's policy table is the code's (access/policy_table.h): the same
// rows, the same words, so that neither can change without the other. The
// confidentiality matrix holds every observed outcome to these rows.

#include "server/service/access/policy_table.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace cohorte::service {
namespace {

// The lines of the README's table under "Who may do what": from its header
// line to the last line starting with '|'.
std::string ReadmePolicyTable() {
  std::ifstream in(std::string(COHORTE_SOURCE_DIR) + "/README.md");
  std::string line, table;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "| resource | action | who |") inside = true;
    if (!inside) continue;
    if (!absl::StartsWith(line, "|")) break;
    table += line + "\n";
  }
  return table;
}

// COHORTE_PRINT_POLICY_TABLE=1 prints the table to paste into the README.
TEST(PolicyTableTest, ReadmeShowsExactlyThePolicyTableOfTheCode) {
  if (std::getenv("COHORTE_PRINT_POLICY_TABLE") != nullptr) {
    std::cout << PolicyTableMarkdown();
  }
  const std::string readme = ReadmePolicyTable();
  ASSERT_FALSE(readme.empty()) << "README.md has no policy table";
  EXPECT_EQ(readme, PolicyTableMarkdown())
      << "README.md's policy table differs from "
      << "server/service/access/policy_table.cc: change both together (the "
      << "expected text is the code's table rendered)";
}

TEST(PolicyTableTest, EveryRowIsOneResourceAndActionAndAllowsSomebody) {
  std::set<std::string> seen;
  for (const PolicyRow& row : PolicyTable()) {
    const std::string key =
        std::string(row.resource) + " / " + std::string(row.action);
    EXPECT_TRUE(seen.insert(key).second) << "twice: " << key;
    EXPECT_FALSE(row.allowed.empty()) << key;
    EXPECT_FALSE(absl::StrContains(row.who, "|")) << key;
    EXPECT_EQ(FindPolicyRow(row.resource, row.action), &row) << key;
  }
}

}  // namespace
}  // namespace cohorte::service
