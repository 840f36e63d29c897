#include "datasets/prepare.h"

#include <omp.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "run/progress.h"
#include "core/sha256.h"
#include "datasets/doc_split.h"
#include "datasets/filters.h"
#include "datasets/parallel_for.h"
#include "datasets/shard_writer.h"
#include "datasets/tokenizer.h"
#include "datasets/tokenizer_train.h"

namespace tessera::datasets {

namespace fs = std::filesystem;

namespace {

// Documents are handed on in blocks of about this much text: large enough that a gather per block
// costs little, small enough that a block's tokens are a small message.
constexpr size_t kBlockBytes = size_t{4} << 20;

struct Doc {
  std::string text;
  bool val = false;
  uint64_t source = 0;  // index of the input file it came from
};

struct ScanResult {
  std::vector<ManifestInput> inputs;
  uint64_t documents_read = 0, train = 0, val = 0;
  FilterCounts filtered;
};

uint64_t total_bytes(const std::vector<InputFile>& files) {
  uint64_t total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    const auto size = fs::file_size(f.path, ec);
    if (!ec) total += size;
  }
  return total;
}

// One pass over the inputs in order: reads each file, filters its documents (masking PII,
// dropping short, non-text and duplicate ones), assigns each kept document its split, and hands
// the documents to on_block in blocks. Every rank scans alike. `r` (empty on entry) fills as the
// files are read, so on_block may look at the inputs read so far.
void scan_corpus(const std::vector<InputFile>& files, const PrepareOptions& o, const std::string& label,
                 ScanResult& r, const std::function<void(std::vector<Doc>&)>& on_block) {
  Progress progress(label, static_cast<double>(total_bytes(files)) / 1e6, "MB");
  DocumentFilter filter(o.filters);
  std::vector<Doc> block;
  size_t block_bytes = 0;
  for (const auto& f : files) {
    const std::string content = read_file_bytes(f.path);
    check_text(content, f.path);
    const InputFormat format = f.format == InputFormat::Auto ? detect_format(f.path, content) : f.format;
    std::vector<std::string> docs = split_documents(content, format, f.path);
    const uint64_t source = r.inputs.size();
    r.inputs.push_back({f.path, std::string(format_name(format)), content.size(), sha256_hex(content), docs.size()});
    r.documents_read += docs.size();
    std::vector<KeptDocument> kept_documents = filter.apply(std::move(docs));
    r.inputs.back().documents_kept = kept_documents.size();
    for (auto& kept : kept_documents) {
      const bool val = is_val_document(kept.sha256, o.seed, o.val_fraction);
      ++(val ? r.val : r.train);
      block_bytes += kept.text.size();
      block.push_back({std::move(kept.text), val, source});
      if (block_bytes >= kBlockBytes) {
        on_block(block);
        block.clear();
        block_bytes = 0;
      }
    }
    progress.note(fmt::format("kept {}, dropped {}", r.train + r.val, filter.counts().dropped()));
    progress.advance(static_cast<double>(content.size()) / 1e6);
  }
  if (!block.empty()) on_block(block);
  progress.finish();
  r.filtered = filter.counts();
  TESSERA_CHECK(r.documents_read > 0, "the inputs hold no documents (every file is empty or blank)");
  TESSERA_CHECK(r.train + r.val > 0, "the filters dropped all {} documents ({} too short, {} non-text, {} duplicates, "
                "{} near duplicates); relax them", r.documents_read, r.filtered.too_short, r.filtered.non_text,
                r.filtered.duplicates, r.filtered.near_duplicates);
  TESSERA_CHECK(r.train > 0, "all {} documents went to the validation split; lower --val-fraction", r.val);
}

// The tokenizer every rank uses: trained at root from the word counts of all ranks, or loaded at
// root; either way root's JSON is broadcast so that every rank encodes alike.
Tokenizer shared_tokenizer(const PrepareOptions& o, const std::vector<InputFile>& files,
                           const parallel::World& world) {
  std::optional<Tokenizer> tokenizer;
  std::string json;
  if (o.train_tokenizer) {
    WordCounts counts;
    uint64_t k = 0;  // index among the kept training documents
    ScanResult scan;
    scan_corpus(files, o, "count words", scan, [&](std::vector<Doc>& block) {
      std::vector<const std::string*> mine;  // this rank's share of the block's training documents
      for (const auto& d : block) {
        if (d.val) continue;
        if (k++ % static_cast<uint64_t>(world.size()) == static_cast<uint64_t>(world.rank())) mine.push_back(&d.text);
      }
      // Counts are sums, so how the threads share the documents does not change the result.
      std::vector<WordCounts> local(static_cast<size_t>(omp_get_max_threads()));
      parallel_for(mine.size(), [&](size_t i) { local[static_cast<size_t>(omp_get_thread_num())].add_text(*mine[i]); });
      for (const auto& l : local) counts.merge(l);
    });
    const auto parts = world.gather(counts.serialize());
    if (world.is_root()) {
      WordCounts merged;
      for (const auto& p : parts) merged.merge(WordCounts::deserialize(p));
      log::info("training a {}-token BPE tokenizer on {} distinct words", o.vocab_size, merged.size());
      tokenizer = train_bpe(merged, o.vocab_size);
      json = tokenizer->to_json();
    }
  } else if (world.is_root()) {
    tokenizer = Tokenizer::load(o.tokenizer_path);
    json = tokenizer->to_json();
  }
  world.broadcast(json);
  if (!tokenizer) tokenizer = Tokenizer::from_json(json, "the tokenizer broadcast by rank 0");
  return std::move(*tokenizer);
}

void append_tokens(std::string& out, const std::vector<TokenId>& ids) {
  const uint64_t n = ids.size();
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(TokenId));
}

std::vector<TokenId> take_tokens(const std::string& in, size_t& cursor) {
  uint64_t n = 0;
  TESSERA_CHECK(cursor + sizeof n <= in.size(), "truncated token message");
  std::memcpy(&n, in.data() + cursor, sizeof n);
  cursor += sizeof n;
  TESSERA_CHECK(n <= (in.size() - cursor) / sizeof(TokenId), "truncated token message");
  std::vector<TokenId> ids(n);
  std::memcpy(ids.data(), in.data() + cursor, n * sizeof(TokenId));
  cursor += n * sizeof(TokenId);
  return ids;
}

// Shard files of an earlier run that this run did not rewrite: removed so that the directory holds
// exactly what the manifest lists.
void remove_stale_shards(const std::string& dir, const std::vector<ManifestShard>& written) {
  static const std::regex shard_pattern(R"((train|val)_[0-9]{5}\.h5)");
  std::set<std::string> keep;
  for (const auto& s : written) keep.insert(s.file);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, shard_pattern) && !keep.count(name)) fs::remove(entry.path(), ec);
  }
}

}  // namespace

void validate(const PrepareOptions& o) {
  TESSERA_CHECK(!o.inputs.empty(), "no inputs: give --input PATH");
  TESSERA_CHECK(!o.out_dir.empty(), "no output directory: give --out DIR");
  TESSERA_CHECK(o.train_tokenizer != !o.tokenizer_path.empty(),
                "give exactly one of --tokenizer FILE and --train-tokenizer");
  TESSERA_CHECK(!o.train_tokenizer || o.vocab_size > 256,
                "--vocab-size must exceed the 256 byte tokens when training a tokenizer (got {})", o.vocab_size);
  if (o.train_tokenizer) dtype_for_vocab(o.vocab_size);
  check_val_fraction(o.val_fraction);
  TESSERA_CHECK(o.shard_tokens > 0, "--shard-tokens must be positive");
  validate(o.filters);
}

Manifest prepare(const PrepareOptions& o, const parallel::World& world) {
  validate(o);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<InputFile> files = expand_inputs(o.inputs, o.format);
  if (world.is_root()) {
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    TESSERA_CHECK(fs::is_directory(o.out_dir), "cannot create the output directory {}: {}", o.out_dir, ec.message());
    // Until this run's manifest is written, the directory claims nothing.
    fs::remove(fs::path(o.out_dir) / kManifestFile, ec);
    TESSERA_CHECK(!ec, "cannot remove the old manifest in {}: {}", o.out_dir, ec.message());
  }

  const Tokenizer tokenizer = shared_tokenizer(o, files, world);
  const uint64_t vocab = tokenizer.vocab_size();
  const TokenDtype dtype = dtype_for_vocab(vocab);
  const ShardMeta train_meta{vocab, tokenizer.eot_id(), tokenizer.hash(), "train"};
  ShardMeta val_meta = train_meta;
  val_meta.split = "val";
  const nlohmann::json filters = filters_json(o.filters);
  ScanResult scan;
  std::optional<SplitWriter> train, val;
  if (world.is_root()) {
    train.emplace(o.out_dir, train_meta, o.shard_tokens, scan.inputs, filters);
    val.emplace(o.out_dir, val_meta, o.shard_tokens, scan.inputs, filters);
  }

  const auto size = static_cast<size_t>(world.size()), rank = static_cast<size_t>(world.rank());
  scan_corpus(files, o, "tokenize", scan, [&](std::vector<Doc>& block) {
    // This rank's documents j = rank, rank + size, ...; encoded by its threads, kept in order.
    std::vector<std::vector<TokenId>> encoded((block.size() + size - 1 - rank) / size);
    parallel_for(encoded.size(), [&](size_t i) { encoded[i] = tokenizer.encode(block[rank + i * size].text); });
    std::string mine;
    for (const auto& ids : encoded) append_tokens(mine, ids);
    const auto parts = world.gather(mine);
    if (!world.is_root()) return;
    std::vector<size_t> cursor(size, 0);
    for (size_t j = 0; j < block.size(); ++j) {
      const std::vector<TokenId> ids = take_tokens(parts[j % size], cursor[j % size]);
      (block[j].val ? *val : *train).add_document(ids, block[j].source);
    }
  });

  std::string manifest_json;
  if (world.is_root()) {
    train->finish();
    val->finish();
    if (o.val_fraction > 0 && scan.val == 0) {
      log::warn("no document went to the validation split; raise --val-fraction");
    }
    tokenizer.save((fs::path(o.out_dir) / kTokenizerFile).string());

    Manifest m;
    m.tessera_version = o.tessera_version;
    m.inputs = scan.inputs;
    m.counts.documents_read = scan.documents_read;
    m.counts.duplicates_removed = scan.filtered.duplicates;
    m.counts.too_short_removed = scan.filtered.too_short;
    m.counts.non_text_removed = scan.filtered.non_text;
    m.counts.near_duplicates_removed = scan.filtered.near_duplicates;
    if (o.filters.mask_pii) {
      for (size_t k = 0; k < kPiiKinds; ++k) {
        m.counts.pii_masked[std::string(pii_name(static_cast<PiiKind>(k)))] = scan.filtered.pii.n[k];
      }
    }
    m.counts.train_documents = train->documents();
    m.counts.val_documents = val->documents();
    m.counts.train_tokens = train->tokens();
    m.counts.val_tokens = val->tokens();
    m.filters = filters;
    m.tokenizer_hash = tokenizer.hash();
    m.vocab_size = vocab;
    m.eot_id = tokenizer.eot_id();
    m.tokenizer_trained = o.train_tokenizer;
    m.dtype = std::string(dtype_name(dtype));
    m.val_fraction = o.val_fraction;
    m.seed = o.seed;
    m.shard_tokens = o.shard_tokens;
    m.shards = train->shards();
    m.shards.insert(m.shards.end(), val->shards().begin(), val->shards().end());
    remove_stale_shards(o.out_dir, m.shards);
    save_manifest(m, o.out_dir);  // last: it names only files that are complete
    manifest_json = m.to_json().dump();

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double mb = static_cast<double>(total_bytes(files)) / 1e6;
    log::info("read {} documents from {} files; removed {} duplicates", scan.documents_read, files.size(),
              scan.filtered.duplicates);
    if (scan.filtered.dropped() > scan.filtered.duplicates) {
      log::info("filters also removed {} too short, {} non-text, {} near duplicates", scan.filtered.too_short,
                scan.filtered.non_text, scan.filtered.near_duplicates);
    }
    if (o.filters.mask_pii) {
      const PiiCounts& p = scan.filtered.pii;
      log::info("masked {} e-mail addresses, {} phone numbers, {} IPv4 and {} IPv6 addresses, {} card numbers",
                p[PiiKind::Email], p[PiiKind::Phone], p[PiiKind::Ipv4], p[PiiKind::Ipv6], p[PiiKind::Card]);
    }
    log::info("train: {} documents, {} tokens; val: {} documents, {} tokens; {} shards ({})", m.counts.train_documents,
              m.counts.train_tokens, m.counts.val_documents, m.counts.val_tokens, m.shards.size(), m.dtype);
    log::info("prepared {:.3f} MB in {:.2f} s ({:.2f} MB/s, ranks: {}) into {}", mb, seconds,
              seconds > 0 ? mb / seconds : 0.0, world.size(), o.out_dir);
  }
  // Every rank returns once root has written everything (and fails with it otherwise).
  world.broadcast(manifest_json);
  return Manifest::from_json(nlohmann::json::parse(manifest_json), "the manifest broadcast by rank 0");
}

}  // namespace tessera::datasets
