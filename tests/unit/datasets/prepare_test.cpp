// tessera prepare, through the library and the command line: counts, checksums, token streams,
// the content-decided split, dtype choice, clean failure, and errors that name the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/sha256.h"
#include "datasets/doc_split.h"
#include "datasets/documents.h"
#include "datasets/prepare.h"
#include "datasets/shard.h"
#include "datasets/tokenizer.h"
#include "tests/unit/test_support.h"

namespace fs = std::filesystem;
using namespace tessera::datasets;
using namespace tessera::testing_support;

namespace {

const std::string kCorpus = std::string(TESSERA_TEST_DATA) + "/corpus";

tessera::parallel::World& world() {
  int argc = 0;
  char** argv = nullptr;
  return tessera::parallel::World::init(&argc, &argv);
}

PrepareOptions trained(std::vector<std::string> inputs, std::string out) {
  PrepareOptions o;
  o.inputs = std::move(inputs);
  o.out_dir = std::move(out);
  o.train_tokenizer = true;
  o.vocab_size = 300;
  o.val_fraction = 0.3;
  o.seed = 5;
  o.shard_tokens = 250;
  o.tessera_version = "test";
  return o;
}

// The token stream of one split: its shards concatenated.
std::vector<int32_t> split_stream(const Manifest& m, const std::string& dir, const std::string& split) {
  std::vector<int32_t> all;
  for (const auto& path : m.shard_paths(dir, split)) {
    const auto tokens = ShardReader(path).read_all_tokens();
    all.insert(all.end(), tokens.begin(), tokens.end());
  }
  return all;
}

// The documents of one split, decoded: the stream cut at its end-of-text tokens.
std::multiset<std::string> split_documents_of(const Manifest& m, const std::string& dir, const std::string& split) {
  const Tokenizer tok = Tokenizer::load(dir + "/tokenizer.json");
  std::multiset<std::string> docs;
  std::vector<TokenId> current;
  for (int32_t id : split_stream(m, dir, split)) {
    if (static_cast<TokenId>(id) == tok.eot_id()) {
      docs.insert(tok.decode(current));
      current.clear();
    } else {
      current.push_back(static_cast<TokenId>(id));
    }
  }
  EXPECT_TRUE(current.empty()) << "the stream of " << split << " does not end with end-of-text";
  return docs;
}

std::string prepare_command(const std::string& args) { return std::string(TESSERA_BIN) + " prepare " + args; }

}  // namespace

TEST(Prepare, CountsChecksumsAndTokenStreams) {
  TempDir out;
  const Manifest m = prepare(trained({kCorpus}, out.path.string()), world());

  // Inputs: the directory's files in name order, with their bytes, SHA-256 and documents.
  ASSERT_EQ(m.inputs.size(), 3u);
  const std::vector<std::string> names = {"articles.jsonl", "fortunes", "notes.txt"};
  const std::vector<std::string> formats = {"jsonl", "fortune", "text"};
  const std::vector<uint64_t> docs = {7, 14, 1};
  for (size_t i = 0; i < 3; ++i) {
    const std::string path = kCorpus + "/" + names[i];
    EXPECT_EQ(fs::path(m.inputs[i].path).filename(), names[i]);
    EXPECT_EQ(m.inputs[i].format, formats[i]);
    EXPECT_EQ(m.inputs[i].bytes, fs::file_size(path));
    EXPECT_EQ(m.inputs[i].sha256, tessera::sha256_file(path));
    EXPECT_EQ(m.inputs[i].documents, docs[i]);
  }
  // 22 documents: two repeats inside the fortune file, one fortune repeated in the JSONL file.
  EXPECT_EQ(m.counts.documents_read, 22u);
  EXPECT_EQ(m.counts.duplicates_removed, 3u);
  EXPECT_EQ(m.counts.train_documents + m.counts.val_documents, 19u);
  EXPECT_GT(m.counts.val_documents, 0u);

  // The same documents, deduplicated and split here, encoded with the saved tokenizer: each
  // split's stream is its documents' tokens, each followed by end-of-text.
  const Tokenizer tok = Tokenizer::load(out / "tokenizer.json");
  EXPECT_EQ(m.tokenizer_hash, tok.hash());
  EXPECT_EQ(m.vocab_size, 300u);
  EXPECT_EQ(m.eot_id, tok.eot_id());
  EXPECT_TRUE(m.tokenizer_trained);
  EXPECT_EQ(m.dtype, "uint16");
  std::vector<int32_t> expected[2];
  uint64_t expected_docs[2] = {0, 0};
  Deduplicator dedup;
  for (const auto& f : expand_inputs({kCorpus}, InputFormat::Auto)) {
    for (const auto& doc : split_documents(read_file_bytes(f.path), InputFormat::Auto, f.path)) {
      const std::string hash = tessera::sha256_hex(doc);
      if (!dedup.first_occurrence(hash)) continue;
      const int s = is_val_document(hash, 5, 0.3) ? 1 : 0;
      for (TokenId id : tok.encode(doc)) expected[s].push_back(static_cast<int32_t>(id));
      expected[s].push_back(static_cast<int32_t>(tok.eot_id()));
      ++expected_docs[s];
    }
  }
  EXPECT_EQ(split_stream(m, out.path.string(), "train"), expected[0]);
  EXPECT_EQ(split_stream(m, out.path.string(), "val"), expected[1]);
  EXPECT_EQ(m.counts.train_tokens, expected[0].size());
  EXPECT_EQ(m.counts.val_tokens, expected[1].size());
  EXPECT_EQ(m.counts.train_documents, expected_docs[0]);
  EXPECT_EQ(m.counts.val_documents, expected_docs[1]);

  // Shards: full ones of shard_tokens, the manifest's checksums, metadata and document starts.
  uint64_t documents = 0;
  for (const auto& s : m.shards) {
    const std::string path = out / s.file;
    EXPECT_EQ(s.sha256, tessera::sha256_file(path));
    ShardReader r(path);
    EXPECT_EQ(r.num_tokens(), s.tokens);
    EXPECT_LE(s.tokens, 250u);
    EXPECT_EQ(r.num_documents(), s.documents);
    EXPECT_EQ(r.meta().split, s.split);
    EXPECT_EQ(r.meta().tokenizer_hash, tok.hash());
    EXPECT_EQ(r.meta().eot_id, tok.eot_id());
    EXPECT_EQ(r.dtype(), TokenDtype::U16);
    documents += s.documents;
  }
  EXPECT_EQ(documents, 19u);
  EXPECT_GT(m.shard_paths(out.path.string(), "train").size(), 1u);  // cut at 250 tokens

  // The manifest on disk is the one returned.
  EXPECT_EQ(load_manifest(out.path.string()).to_json(), m.to_json());
}

TEST(Prepare, SplitIsDecidedByContentNotByFileOrOrder) {
  TempDir out1, out2, moved;
  const Manifest a = prepare(trained({kCorpus}, out1.path.string()), world());
  // The same documents in other files and another order: notes.txt becomes a JSONL line, and the
  // JSONL documents move into a fortune file read first.
  std::string fortune;
  for (const auto& doc : split_documents(read_file_bytes(kCorpus + "/articles.jsonl"), InputFormat::Jsonl, "a")) {
    fortune += doc + "\n%\n";
  }
  moved.write("first", fortune);
  nlohmann::json line = {{"text", read_file_bytes(kCorpus + "/notes.txt")}};
  moved.write("notes.jsonl", line.dump() + "\n");
  PrepareOptions o = trained({moved / "first", kCorpus + "/fortunes", moved / "notes.jsonl"}, out2.path.string());
  o.train_tokenizer = false;
  o.tokenizer_path = out1 / "tokenizer.json";  // the same tokenizer, so the decoded texts compare
  const Manifest b = prepare(o, world());
  EXPECT_EQ(b.counts.documents_read, a.counts.documents_read);
  EXPECT_EQ(b.counts.duplicates_removed, a.counts.duplicates_removed);
  EXPECT_EQ(b.counts.val_documents, a.counts.val_documents);
  EXPECT_EQ(split_documents_of(a, out1.path.string(), "val"), split_documents_of(b, out2.path.string(), "val"));
  EXPECT_EQ(split_documents_of(a, out1.path.string(), "train"), split_documents_of(b, out2.path.string(), "train"));
  EXPECT_FALSE(b.tokenizer_trained);
}

TEST(Prepare, LargeVocabularyUsesUint32) {
  TempDir dir, out;
  BpeParts parts;
  for (int b = 0; b < 256; ++b) parts.tokens.emplace_back(1, static_cast<char>(b));
  for (int i = 0; i < 65400; ++i) parts.tokens.push_back("<filler " + std::to_string(i) + ">");
  parts.tokens.push_back("<|endoftext|>");
  parts.specials = {static_cast<TokenId>(parts.tokens.size() - 1)};
  const Tokenizer big = Tokenizer::from_parts(parts, "test");
  ASSERT_GT(big.vocab_size(), 65536u);
  big.save(dir / "big.json");
  PrepareOptions o = trained({kCorpus + "/notes.txt", kCorpus + "/fortunes"}, out.path.string());
  o.train_tokenizer = false;
  o.tokenizer_path = dir / "big.json";
  o.val_fraction = 0.0;
  const Manifest m = prepare(o, world());
  EXPECT_EQ(m.dtype, "uint32");
  EXPECT_EQ(m.counts.val_documents, 0u);
  EXPECT_TRUE(m.shard_paths(out.path.string(), "val").empty());
  const auto stream = split_stream(m, out.path.string(), "train");
  EXPECT_EQ(stream.back(), static_cast<int32_t>(big.eot_id()));  // an id above 65535 survives
  EXPECT_EQ(ShardReader(m.shard_paths(out.path.string(), "train")[0]).dtype(), TokenDtype::U32);
}

TEST(Prepare, RerunReplacesStaleShardsAndFailureLeavesNoManifest) {
  TempDir out, in;
  PrepareOptions o = trained({kCorpus}, out.path.string());
  o.shard_tokens = 100;
  const size_t many = prepare(o, world()).shards.size();
  o.shard_tokens = 1000;
  const Manifest m = prepare(o, world());
  ASSERT_LT(m.shards.size(), many);
  size_t h5 = 0;
  for (const auto& e : fs::directory_iterator(out.path)) h5 += e.path().extension() == ".h5";
  EXPECT_EQ(h5, m.shards.size());

  // A run that fails after it has started on the directory leaves no manifest behind.
  in.write("good.txt", "fine text");
  in.write("bad.jsonl", "{\"text\": \"ok\"}\n{broken\n");
  o.inputs = {in / "good.txt", in / "bad.jsonl"};
  EXPECT_THROW(prepare(o, world()), tessera::Error);
  EXPECT_FALSE(fs::exists(out / "manifest.json"));
}

TEST(Prepare, BadInputsAreErrorsThatNameTheProblem) {
  TempDir in, out;
  const std::string dir = out.path.string();
  auto message = [&](PrepareOptions o) { return error_of([&] { prepare(o, world()); }); };
  std::string msg = message(trained({in / "missing.txt"}, dir));
  EXPECT_NE(msg.find("missing.txt does not exist"), std::string::npos) << msg;

  msg = message(trained({in.write("empty.txt", ""), in.write("blank.txt", "  \n\n")}, dir));
  EXPECT_NE(msg.find("no documents"), std::string::npos) << msg;

  msg = message(trained({in.write("garbage.bin", std::string("\x7f" "ELF\0\0\x01\x02", 8))}, dir));
  EXPECT_NE(msg.find("garbage.bin looks binary"), std::string::npos) << msg;

  msg = message(trained({in.write("bad.jsonl", "{\"text\": \"a\"}\n\n{\"txt\": \"b\"}\n")}, dir));
  EXPECT_NE(msg.find("bad.jsonl:3"), std::string::npos) << msg;

  PrepareOptions o = trained({kCorpus}, dir);
  o.val_fraction = 1.0;
  EXPECT_NE(message(o).find("--val-fraction"), std::string::npos);
  o.val_fraction = -0.5;
  EXPECT_NE(message(o).find("--val-fraction"), std::string::npos);

  o = trained({kCorpus}, dir);
  o.vocab_size = (uint64_t{1} << 32) + 1;
  msg = message(o);
  EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;

  o = trained({kCorpus}, dir);
  o.tokenizer_path = in / "tok.json";  // and --train-tokenizer
  EXPECT_NE(message(o).find("exactly one of"), std::string::npos);
  o.train_tokenizer = false;
  o.tokenizer_path.clear();
  EXPECT_NE(message(o).find("exactly one of"), std::string::npos);
  o.tokenizer_path = in / "no-such-tokenizer.json";
  EXPECT_NE(message(o).find("no-such-tokenizer.json"), std::string::npos);

  o = trained({kCorpus}, dir);
  o.shard_tokens = 0;
  EXPECT_NE(message(o).find("--shard-tokens"), std::string::npos);
}

TEST(PrepareCli, WritesTheOutputDirectory) {
  TempDir out;
  const CommandResult r =
      run_command(prepare_command("--input " + kCorpus + "/fortunes " + kCorpus + "/notes.txt --out " +
                                  out.path.string() +
                                  " --train-tokenizer --vocab-size 280 --val-fraction 0.2 --seed 9"
                                  " --shard-tokens 300"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("removed 2 duplicates"), std::string::npos) << r.output;
  const Manifest m = load_manifest(out.path.string());
  EXPECT_EQ(m.counts.documents_read, 15u);
  EXPECT_EQ(m.vocab_size, 280u);
  EXPECT_EQ(m.seed, 9u);
  EXPECT_EQ(m.val_fraction, 0.2);
  EXPECT_EQ(m.shard_tokens, 300u);
  EXPECT_TRUE(fs::exists(out / "tokenizer.json"));
  for (const auto& s : m.shards) EXPECT_TRUE(fs::exists(out / s.file)) << s.file;
}

TEST(PrepareCli, FailuresExitNonZeroWithAMessage) {
  TempDir in, out;
  const std::string o = " --out " + out.path.string();
  struct Case {
    std::string args, expected;
  };
  const std::vector<Case> cases = {
      {"--input /no/such/file.txt" + o + " --train-tokenizer --vocab-size 300", "/no/such/file.txt does not exist"},
      {"--input " + in.write("x.jsonl", "{oops}\n") + o + " --train-tokenizer --vocab-size 300", "x.jsonl:1"},
      {"--input " + in.write("e.txt", "") + o + " --train-tokenizer --vocab-size 300", "no documents"},
      {"--input " + in.write("g.bin", std::string("\0\1\2\3", 4)) + o + " --train-tokenizer --vocab-size 300",
       "looks binary"},
      {"--input " + kCorpus + o + " --train-tokenizer --vocab-size 300 --val-fraction 1.5", "--val-fraction"},
      {"--input " + kCorpus + o + " --train-tokenizer --vocab-size 5000000000", "does not fit"},
      {"--input " + kCorpus + o + " --tokenizer t.json --train-tokenizer", "excludes"},
      {"--input " + kCorpus + " --train-tokenizer --vocab-size 300", "--out"},
      {"--input " + kCorpus + o + " --train-tokenizer --vocab-size 300 --format csv", "csv"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_command(prepare_command(c.args));
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
  }
  EXPECT_FALSE(fs::exists(out / "manifest.json"));
  const CommandResult help = run_command(prepare_command("--help"));
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("--shard-tokens"), std::string::npos);
}
