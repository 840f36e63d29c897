// tessera prepare, through the library and the command line: counts, checksums, token streams,
// the content-decided split, dtype choice, clean failure, errors that name the problem, and data
// governance: filters and PII masking counted, lineage in the manifest and every shard, older
// manifests still read, and the same bytes for any thread count.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/sha256.h"
#include "datasets/doc_split.h"
#include "datasets/documents.h"
#include "datasets/lineage.h"
#include "datasets/prepare.h"
#include "datasets/quality.h"
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
  // Kept per file: the JSONL file is read first, so the fortune it repeats goes from the fortunes.
  EXPECT_EQ(m.inputs[0].documents_kept, 7u);
  EXPECT_EQ(m.inputs[1].documents_kept, 11u);
  EXPECT_EQ(m.inputs[2].documents_kept, 1u);
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
      if (!dedup.first_occurrence(tessera::sha256_hex(normalise_for_dedup(doc)))) continue;
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

namespace {

// `n` words drawn from a 3000-word vocabulary by a fixed LCG started at `seed`, joined by spaces.
std::string prose(size_t n, uint64_t seed, size_t changed_every = 0) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    const bool change = changed_every > 0 && i % changed_every == changed_every / 2;
    s += (i ? " " : "") + (change ? std::string("edited") : "w" + std::to_string((seed >> 33) % 3000));
  }
  return s;
}

// Inputs that every filter has work on: PII, a short document, ASCII art, an exact duplicate
// (other case and spacing), a near copy (3 of 300 words changed), and ordinary documents.
std::vector<std::string> governance_inputs(const TempDir& in) {
  std::string upper = prose(300, 1);
  for (char& c : upper) c = c == 'w' ? 'W' : c == ' ' ? '\n' : c;
  const std::string fortunes = "Contact Jane at jane.doe@example.com or +44 20 7946 0958 for the keys.\n%\ntiny\n%\n" +
                               prose(300, 1) + "\n%\n" + prose(300, 1, 100) + "\n%\n" + upper + "\n%\n" +
                               "|||| //// \\\\\\\\ ---- #### ==== ++++ ~~~~ ||||\n%\n" + prose(80, 2) + "\n";
  std::string jsonl;
  for (uint64_t seed : {3, 4, 5, 6, 7, 8}) jsonl += nlohmann::json{{"text", prose(60, seed)}}.dump() + "\n";
  return {in.write("people", fortunes), in.write("more.jsonl", jsonl)};
}

PrepareOptions governed(std::vector<std::string> inputs, std::string out) {
  PrepareOptions o = trained(std::move(inputs), std::move(out));
  o.filters.mask_pii = true;
  o.filters.min_chars = 20;
  o.filters.max_non_text = 0.3;
  o.filters.near_dedup = 0.8;
  o.shard_tokens = 400;
  return o;
}

}  // namespace

TEST(PrepareGovernance, LineageFiltersAndMaskingInManifestAndShards) {
  TempDir in, out;
  const PrepareOptions o = governed(governance_inputs(in), out.path.string());
  const Manifest m = prepare(o, world());

  EXPECT_EQ(m.counts.documents_read, 13u);  // 7 in the fortune file, 6 in the JSONL file
  EXPECT_EQ(m.counts.too_short_removed, 1u);
  EXPECT_EQ(m.counts.non_text_removed, 1u);
  EXPECT_EQ(m.counts.duplicates_removed, 1u);
  EXPECT_EQ(m.counts.near_duplicates_removed, 1u);
  EXPECT_EQ(m.counts.train_documents + m.counts.val_documents, 9u);
  EXPECT_EQ(m.inputs.at(0).documents_kept, 3u);  // of 7: the contact, the first long text, the last
  EXPECT_EQ(m.inputs.at(1).documents_kept, 6u);
  const std::map<std::string, uint64_t> pii = {{"card", 0}, {"email", 1}, {"ipv4", 0}, {"ipv6", 0}, {"phone", 1}};
  EXPECT_EQ(m.counts.pii_masked, pii);
  EXPECT_EQ(m.filters, filters_json(o.filters));
  EXPECT_EQ(m.filters["near_dedup"]["threshold"], 0.8);
  EXPECT_EQ(m.filters["near_dedup"]["rows"], 4);

  // Every shard names the inputs its tokens came from, in the manifest and in its /lineage.
  std::set<uint64_t> all_sources;
  ASSERT_GT(m.shards.size(), 2u);
  for (const auto& s : m.shards) {
    ASSERT_FALSE(s.sources.empty()) << s.file;
    const auto lineage = nlohmann::json::parse(ShardReader(out / s.file).meta().lineage);
    ASSERT_EQ(lineage["sources"].size(), s.sources.size()) << s.file;
    for (size_t k = 0; k < s.sources.size(); ++k) {
      const ManifestInput& input = m.inputs.at(s.sources[k]);
      EXPECT_EQ(lineage["sources"][k]["path"], input.path);
      EXPECT_EQ(lineage["sources"][k]["bytes"], input.bytes);
      EXPECT_EQ(lineage["sources"][k]["sha256"], input.sha256);
      all_sources.insert(s.sources[k]);
    }
    EXPECT_EQ(lineage["filters"], m.filters);
  }
  EXPECT_EQ(all_sources, (std::set<uint64_t>{0, 1}));

  // The shards hold the masked text.
  auto docs = split_documents_of(m, out.path.string(), "train");
  const auto val = split_documents_of(m, out.path.string(), "val");
  docs.insert(val.begin(), val.end());
  EXPECT_EQ(docs.count("Contact Jane at <EMAIL> or <PHONE> for the keys."), 1u);
  for (const auto& d : docs) EXPECT_EQ(d.find("jane.doe"), std::string::npos);

  const auto lines = describe_lineage(m);
  const std::string text = fmt::format("{}", fmt::join(lines, "\n"));
  EXPECT_NE(text.find("PII masked: card 0, email 1, ipv4 0, ipv6 0, phone 1"), std::string::npos) << text;
  EXPECT_NE(text.find(m.inputs[0].sha256), std::string::npos) << text;
  EXPECT_NE(text.find("near dedup Jaccard >= 0.8"), std::string::npos) << text;
}

TEST(PrepareGovernance, ManifestWithoutTheNewFieldsStillLoads) {
  TempDir out;
  const Manifest m = prepare(trained({kCorpus}, out.path.string()), world());
  nlohmann::json old = m.to_json();
  old.erase("filters");
  for (const char* key : {"documents_kept", "too_short_removed", "non_text_removed", "near_duplicates_removed",
                          "pii_masked"}) {
    old["counts"].erase(key);
  }
  for (auto& s : old["shards"]) s.erase("sources");
  for (auto& in : old["inputs"]) in.erase("documents_kept");
  const Manifest back = Manifest::from_json(old, "old.json");
  EXPECT_TRUE(back.filters.is_null());
  EXPECT_EQ(back.counts.near_duplicates_removed, 0u);
  EXPECT_TRUE(back.counts.pii_masked.empty());
  EXPECT_TRUE(back.shards.at(0).sources.empty());
  EXPECT_EQ(back.inputs.at(0).documents_kept, 0u);
  EXPECT_EQ(back.counts.duplicates_removed, m.counts.duplicates_removed);
  EXPECT_EQ(back.shard_paths(out.path.string(), "train"), m.shard_paths(out.path.string(), "train"));
  EXPECT_NE(describe_lineage(back).at(4).find("filters: not recorded"), std::string::npos);

  // A shard naming an input that is not there is an error naming it.
  nlohmann::json bad = m.to_json();
  bad["shards"][0]["sources"] = {7};
  EXPECT_NE(error_of([&] { Manifest::from_json(bad, "bad.json"); }).find("names source 7"), std::string::npos);
}

TEST(PrepareCli, FilteredOutputIsByteIdenticalForAnyThreadCount) {
  TempDir in, one, two;
  const auto inputs = governance_inputs(in);
  const std::string args = " prepare --input " + kCorpus + " " + inputs[0] + " " + inputs[1] +
                           " --train-tokenizer --vocab-size 300 --val-fraction 0.3 --shard-tokens 300 --mask-pii"
                           " --min-chars 20 --max-non-text 0.3 --near-dedup 0.8 --shingle-words 4 --out ";
  for (const auto& [threads, dir] : {std::pair{"1", &one}, std::pair{"2", &two}}) {
    const CommandResult r =
        run_command("OMP_NUM_THREADS=" + std::string(threads) + " " + TESSERA_BIN + args + dir->path.string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("masked 1 e-mail addresses, 1 phone numbers"), std::string::npos) << r.output;
  }
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(one.path)) {
    EXPECT_EQ(slurp(e.path().string()), slurp(two / e.path().filename().string())) << e.path().filename();
    ++files;
  }
  EXPECT_GE(files, 5u);
  EXPECT_EQ(load_manifest(one.path.string()).filters["near_dedup"]["shingle_words"], 4);
}

TEST(PrepareCli, BadFilterSettingsAndUnreadableInputsAreClearErrors) {
  TempDir out;
  const std::string base = prepare_command("--input " + kCorpus + " --out " + out.path.string() +
                                           " --train-tokenizer --vocab-size 300 ");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--min-chars -5", "--min-chars must be 0 or more characters, got -5"},
      {"--max-non-text 1.5", "--max-non-text must be a share in [0, 1], got 1.5"},
      {"--max-non-text -0.1", "--max-non-text must be a share in [0, 1]"},
      {"--near-dedup 0", "--near-dedup must be a Jaccard similarity threshold in (0, 1], got 0"},
      {"--near-dedup 1.2", "--near-dedup must be a Jaccard similarity threshold in (0, 1], got 1.2"},
      {"--near-dedup 0.8 --shingle-words 0", "--shingle-words must be 1 or more"},
      {"--shingle-words 3", "--shingle-words requires --near-dedup"},
      {"--input /proc/self/mem", "cannot read input /proc/self/mem"},
      {"--min-chars 100000", "the filters dropped all 22 documents (22 too short, 0 non-text, 0 duplicates"},
  };
  for (const auto& [args, expected] : cases) {
    const CommandResult r = run_command(base + args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << "\n" << r.output;
  }
  EXPECT_FALSE(fs::exists(out / "manifest.json"));
}

TEST(PrepareCli, NoDedupKeepsEveryDocument) {
  TempDir out;
  const CommandResult r = run_command(prepare_command("--input " + kCorpus + " --out " + out.path.string() +
                                                      " --train-tokenizer --vocab-size 300 --no-dedup"));
  ASSERT_EQ(r.status, 0) << r.output;
  const Manifest m = load_manifest(out.path.string());
  EXPECT_EQ(m.counts.duplicates_removed, 0u);
  EXPECT_EQ(m.counts.train_documents + m.counts.val_documents, 22u);
  EXPECT_EQ(m.filters["dedup"], "off");
}
