// Reading documents: each format, auto-detection, directory expansion, and clear errors for
// missing, unreadable, binary and malformed inputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "datasets/documents.h"
#include "tests/unit/test_support.h"

namespace fs = std::filesystem;
using namespace tessera::datasets;
using namespace tessera::testing_support;

namespace {

using Docs = std::vector<std::string>;
const std::string kCorpus = std::string(TESSERA_TEST_DATA) + "/corpus";

}  // namespace

TEST(Documents, FortuneSplitsOnPercentLinesAndTrimsTheNewline) {
  EXPECT_EQ(split_documents("one\n%\ntwo\nlines\n%\n%\n  \n%\nlast", InputFormat::Fortune, "f"),
            (Docs{"one", "two\nlines", "last"}));
  EXPECT_EQ(split_documents("a\r\n%\r\nb\r\n", InputFormat::Fortune, "f"), (Docs{"a", "b"}));
  EXPECT_EQ(split_documents("100% sure\n%%\nnot a separator\n", InputFormat::Fortune, "f"),
            (Docs{"100% sure\n%%\nnot a separator"}));
}

TEST(Documents, TextFileIsOneDocument) {
  EXPECT_EQ(split_documents("line 1\n%\nline 3\n", InputFormat::Text, "t"), (Docs{"line 1\n%\nline 3\n"}));
  EXPECT_EQ(split_documents(" \n\t\n", InputFormat::Text, "t"), Docs{});
}

TEST(Documents, JsonlTakesTextAndSkipsBlankLines) {
  const std::string content =
      "{\"text\": \"a\\nb\", \"id\": 1}\n\n   \n{\"text\":\"caf\\u00e9\"}\r\n{\"text\": \" \"}\n";
  EXPECT_EQ(split_documents(content, InputFormat::Jsonl, "x.jsonl"), (Docs{"a\nb", "caf\xc3\xa9"}));
}

TEST(Documents, MalformedJsonlNamesFileAndLine) {
  std::string msg = error_of(
      [] { split_documents("{\"text\": \"ok\"}\n\n{\"text\": oops}\n", InputFormat::Jsonl, "in.jsonl"); });
  EXPECT_NE(msg.find("in.jsonl:3"), std::string::npos) << msg;
  msg = error_of([] { split_documents("{\"body\": \"no text\"}\n", InputFormat::Jsonl, "in.jsonl"); });
  EXPECT_NE(msg.find("in.jsonl:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"text\""), std::string::npos) << msg;
  msg = error_of([] { split_documents("[1, 2]\n", InputFormat::Jsonl, "in.jsonl"); });
  EXPECT_NE(msg.find("in.jsonl:1"), std::string::npos) << msg;
  msg = error_of([] { split_documents("{\"text\": 5}\n", InputFormat::Jsonl, "in.jsonl"); });
  EXPECT_NE(msg.find("in.jsonl:1"), std::string::npos) << msg;
}

TEST(Documents, AutoDetection) {
  EXPECT_EQ(detect_format("a.jsonl", "%\n"), InputFormat::Jsonl);
  EXPECT_EQ(detect_format("dir/a.json", ""), InputFormat::Jsonl);
  EXPECT_EQ(detect_format("quotes", "one\n%\ntwo\n"), InputFormat::Fortune);
  EXPECT_EQ(detect_format("quotes", "one\r\n%\r\ntwo\r\n"), InputFormat::Fortune);
  EXPECT_EQ(detect_format("notes.txt", "50%\n %\n%%\n"), InputFormat::Text);
  EXPECT_EQ(split_documents("one\n%\ntwo\n", InputFormat::Auto, "quotes"), (Docs{"one", "two"}));
}

TEST(Documents, FormatNames) {
  for (auto f : {InputFormat::Auto, InputFormat::Text, InputFormat::Jsonl, InputFormat::Fortune}) {
    EXPECT_EQ(parse_input_format(format_name(f)), f);
  }
  EXPECT_NE(error_of([] { parse_input_format("csv"); }).find("csv"), std::string::npos);
}

TEST(Documents, CommittedCorpus) {
  const auto fortunes = read_file_bytes(kCorpus + "/fortunes");
  EXPECT_EQ(detect_format("fortunes", fortunes), InputFormat::Fortune);
  const Docs f = split_documents(fortunes, InputFormat::Auto, "fortunes");
  EXPECT_EQ(f.size(), 14u);
  EXPECT_EQ(f[0], "A program that compiles on the first try has a bug you have not found yet.");
  EXPECT_EQ(f[0], f[5]);
  const Docs j = split_documents(read_file_bytes(kCorpus + "/articles.jsonl"), InputFormat::Auto, "articles.jsonl");
  EXPECT_EQ(j.size(), 7u);
  EXPECT_EQ(j[2], f[7]);  // a document shared by two files
  EXPECT_EQ(split_documents(read_file_bytes(kCorpus + "/notes.txt"), InputFormat::Auto, "notes.txt").size(), 1u);
}

TEST(Documents, DirectoryExpandsToSortedRegularFiles) {
  TempDir dir;
  dir.write("b.txt", "b");
  dir.write("a.jsonl", "{\"text\": \"a\"}\n");
  dir.write("quotes", "q\n%\nr\n");
  dir.write("quotes.dat", std::string("\0\0\0\2index", 9));
  dir.write("orphan.dat", "no fortune file beside me");
  dir.write("table", "a text file, not a fortune file");
  dir.write("table.dat", "its data, an input of its own");
  dir.write(".hidden", "skip");
  fs::create_directories(dir.path / "sub");
  fs::create_symlink(dir.path / "quotes", dir.path / "quotes.u8");
  const std::string root = dir.path.string();
  std::vector<std::string> names;
  for (const auto& f : expand_inputs({root}, InputFormat::Auto)) names.push_back(fs::path(f.path).filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"a.jsonl", "b.txt", "orphan.dat", "quotes", "table", "table.dat"}));
  // With an explicit text format every .dat file is an ordinary input.
  EXPECT_EQ(expand_inputs({root}, InputFormat::Text).size(), 7u);
  // Files keep the order given; a directory's entries keep the directory's spelling.
  const auto files = expand_inputs({root + "/b.txt", root}, InputFormat::Auto);
  ASSERT_EQ(files.size(), 7u);
  EXPECT_EQ(files[0].path, root + "/b.txt");
  EXPECT_EQ(files[1].path, (fs::path(root) / "a.jsonl").string());
}

TEST(Documents, MissingInput) {
  const std::string msg = error_of([] { expand_inputs({"/no/such/input.txt"}, InputFormat::Auto); });
  EXPECT_NE(msg.find("/no/such/input.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { read_file_bytes("/no/such/input.txt"); }).find("does not exist"), std::string::npos);
  EXPECT_NE(error_of([] { expand_inputs({}, InputFormat::Auto); }).find("no input"), std::string::npos);
}

TEST(Documents, UnreadableInput) {
  // A file that opens but fails to read (even for root): reading /proc/self/mem at offset 0 fails.
  std::string msg = error_of([] { read_file_bytes("/proc/self/mem"); });
  EXPECT_NE(msg.find("cannot read input /proc/self/mem"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { read_file_bytes(TESSERA_TEST_DATA); }).find("is a directory"), std::string::npos);
  TempDir dir;
  const std::string path = dir.write("secret.txt", "hidden text");
  fs::permissions(path, fs::perms::none);
  if (std::ifstream(path).good()) return;  // root reads any file: no permission error to see
  msg = error_of([&] { read_file_bytes(path); });
  EXPECT_NE(msg.find("cannot read input"), std::string::npos) << msg;
  EXPECT_NE(msg.find("secret.txt"), std::string::npos) << msg;
}

TEST(Documents, BinaryGarbageIsRejected) {
  const std::string msg = error_of([] { check_text(std::string("text\0more", 9), "blob.bin"); });
  EXPECT_NE(msg.find("blob.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("binary"), std::string::npos) << msg;
  std::string high;
  for (int i = 0; i < 400; ++i) high.push_back(static_cast<char>(0x80 + (i * 37) % 128));
  EXPECT_NE(error_of([&] { check_text(high, "high.bin"); }).find("not valid UTF-8"), std::string::npos);
  // Valid UTF-8 and text with a few stray Latin-1 bytes are text.
  EXPECT_NO_THROW(check_text("na\xc3\xafve caf\xc3\xa9 \xf0\x9f\x99\x82 \xe6\x97\xa5", "u.txt"));
  EXPECT_NO_THROW(check_text("caf\xe9 au lait, cr\xe8me br\xfbl\xe9" "e", "latin1.txt"));
}
