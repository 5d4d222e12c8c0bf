// Long texts in the user's editor: what is kept of the edited file, which
// editor runs, and that nothing is sent when it fails or leaves no text.

#include "client/editor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "client/fields.h"
#include "cohorte/v1/reports.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace cohorte::client {
namespace {

using ::testing::HasSubstr;

// The editor's files go to a directory of the test's; VISUAL is cleared
// after each test.
class EditorTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("TMPDIR", dir_.c_str(), 1); }
  void TearDown() override {
    ::unsetenv("VISUAL");
    ::unsetenv("TMPDIR");
  }
  ::cohorte::testing::TempDir temp_;
  const std::string dir_ = temp_.path();
};

TEST_F(EditorTest, TheTextIsWhatLiesAboveTheScissorsHeadingsIncluded) {
  EXPECT_EQ(TextAboveScissors(std::string("# Titre\n\nUn texte.\n\n") +
                              kScissors + "\n# aide\nignoré\n"),
            "# Titre\n\nUn texte.");
  EXPECT_EQ(TextAboveScissors("Sans ciseaux  \n\n"), "Sans ciseaux");
}

TEST_F(EditorTest, VisualWinsOverEditorAndViIsTheLastResort) {
  ::setenv("EDITOR", "nano", 1);
  ::setenv("VISUAL", "emacs -nw", 1);
  EXPECT_EQ(EditorCommand(), "emacs -nw");
  ::unsetenv("VISUAL");
  EXPECT_EQ(EditorCommand(), "nano");
  ::unsetenv("EDITOR");
  EXPECT_EQ(EditorCommand(), "vi");
}

TEST_F(EditorTest, TheEditedTextIsReturnedWithoutTheHelp) {
  ::setenv("VISUAL", "sed -i 1s/^/Bonjour/", 1);
  absl::StatusOr<std::string> text = EditText("", "# aide: Bonjour");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "Bonjour");
}

TEST_F(EditorTest, TheEditorStartsFromTheCurrentText) {
  ::setenv("VISUAL", "sed -i s/Ancien/Nouveau/", 1);
  absl::StatusOr<std::string> text = EditText("Ancien texte\n# Titre", "");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "Nouveau texte\n# Titre");
}

TEST_F(EditorTest, TheFileIsPrivateAndRemovedAfterwards) {
  const std::string log = dir_ + "/log";
  // The editor records the file's mode and path.
  ::setenv("VISUAL", ("stat -c '%a %n' >" + log).c_str(), 1);
  absl::StatusOr<std::string> text = EditText("Un texte", "");
  ASSERT_TRUE(text.ok()) << text.status();
  std::ifstream in(log);
  std::string mode, path;
  in >> mode >> path;
  EXPECT_EQ(mode, "600");
  EXPECT_EQ(path.rfind(dir_ + "/cohorte-", 0), 0u) << path;
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << path << " was left behind";
}

TEST_F(EditorTest, AFailedEditorOrAnEmptyTextSendsNothing) {
  ::setenv("VISUAL", "false", 1);
  absl::StatusOr<std::string> text = EditText("Un texte", "");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(text.status().message()),
              HasSubstr("(false) did not exit cleanly (exit 1)"));
  ::setenv("VISUAL", "true", 1);
  text = EditText("", "# aide");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()),
              HasSubstr("nothing was sent"));
}

TEST_F(EditorTest, NoEditorWhenTheTextWasGivenOrStdinIsNoTerminal) {
  EXPECT_FALSE(ShouldOpenEditor(/*text_given=*/true));
  if (::isatty(STDIN_FILENO) != 1) {
    EXPECT_FALSE(ShouldOpenEditor(/*text_given=*/false));
  }
}

TEST_F(EditorTest, AReportsNarrativeIsOneDocumentOfSections) {
  const std::vector<FieldFlag> fields = {
      {"title", "title", FieldType::kString, ""},
      {"context", "context", FieldType::kLongText, ""},
      {"lessons", "lessons", FieldType::kLongText, ""}};
  v1::ExperienceReport report;
  report.set_context("Un PETR rural.\n# Titre gardé");
  const std::string document = LongTextsDocument(fields, report);
  EXPECT_EQ(document,
            "=== context ===\nUn PETR rural.\n# Titre gardé\n\n"
            "=== lessons ===\n\n");
  // A line like a section that names no text stays in the text.
  const std::map<std::string, std::string> texts =
      ParseLongTextsDocument(fields, document + "Écouter.\n=== title ===\n");
  EXPECT_EQ(texts.at("context"), "Un PETR rural.\n# Titre gardé");
  EXPECT_EQ(texts.at("lessons"), "Écouter.\n=== title ===");
}

}  // namespace
}  // namespace cohorte::client
