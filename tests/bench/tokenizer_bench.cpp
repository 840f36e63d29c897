// Tokenizer throughput on English text: Debian's fortunes (about 2.5 MB; `apt-get install
// fortunes`), or the golden test texts repeated to 2 MB when they are missing.
//   encode with GPT-2's vocabulary (warm cache, and a fresh tokenizer per pass), word counting
//   (pre-tokenisation), and BPE training on the counted words.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "datasets/tokenizer.h"
#include "datasets/tokenizer_train.h"

namespace {

using tessera::datasets::Tokenizer;
using tessera::datasets::WordCounts;
namespace fs = std::filesystem;

const std::string kData = TESSERA_TEST_DATA;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string& corpus() {
  static const std::string text = [] {
    std::string out;
    const fs::path dir = "/usr/share/games/fortunes";
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && ext != ".dat" && ext != ".u8") files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) out += read_all(f);
    }
    if (out.size() < 1'000'000) {
      const auto golden = nlohmann::json::parse(read_all(kData + "/tokenizer/gpt2_golden.json"));
      while (out.size() < 2'000'000)
        for (const auto& c : golden.at("cases")) out += c.at("text").get<std::string>() + "\n";
    }
    return out;
  }();
  return text;
}

const Tokenizer& gpt2() {
  static const Tokenizer tok = Tokenizer::load_gpt2(kData + "/gpt2/encoder.json", kData + "/gpt2/vocab.bpe");
  return tok;
}

void BM_EncodeGpt2Warm(benchmark::State& state) {
  const auto& text = corpus();
  benchmark::DoNotOptimize(gpt2().encode(text));  // fills the cache
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = gpt2().encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeGpt2Warm)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EncodeGpt2Cold(benchmark::State& state) {
  const auto& text = corpus();
  for (auto _ : state) {
    state.PauseTiming();
    const Tokenizer fresh = Tokenizer::from_parts(gpt2().parts(), "gpt2");  // an empty cache
    state.ResumeTiming();
    benchmark::DoNotOptimize(fresh.encode(text).data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_EncodeGpt2Cold)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CountWords(benchmark::State& state) {
  const auto& text = corpus();
  for (auto _ : state) {
    WordCounts counts;
    counts.add_text(text);
    benchmark::DoNotOptimize(counts.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CountWords)->Unit(benchmark::kMillisecond)->UseRealTime();

// Training alone (the words are counted once, outside the timing); bytes are the corpus's.
void BM_TrainBpe(benchmark::State& state) {
  const auto& text = corpus();
  WordCounts counts;
  counts.add_text(text);
  for (auto _ : state) {
    const Tokenizer tok = tessera::datasets::train_bpe(counts, static_cast<size_t>(state.range(0)));
    benchmark::DoNotOptimize(tok.vocab_size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["words"] = static_cast<double>(counts.size());
}
BENCHMARK(BM_TrainBpe)->Arg(1024)->Arg(8192)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
