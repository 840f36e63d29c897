// The per-document work of prepare's filters on English text (Debian's fortunes, about 2.5 MB, or
// the test corpus repeated to 2 MB when they are missing), beside SHA-256 of the same bytes (which
// prepare computes for every document anyway) as the yardstick: PII masking, the non-text share,
// normalisation for exact deduplication, and MinHash signatures for near-duplicate detection.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "core/sha256.h"
#include "datasets/documents.h"
#include "datasets/near_dup.h"
#include "datasets/pii.h"
#include "datasets/quality.h"

namespace {

using namespace tessera::datasets;

const std::string& corpus() {
  static const std::string text = [] {
    std::error_code ec;
    const std::string fortunes = "/usr/share/games/fortunes";
    const std::string dir = std::filesystem::is_directory(fortunes, ec) ? fortunes : TESSERA_TEST_DATA "/corpus";
    std::string all;
    while (all.size() < (size_t{2} << 20)) {
      for (const auto& f : expand_inputs({dir}, InputFormat::Auto)) all += read_file_bytes(f.path);
      if (dir == fortunes) break;
    }
    return all;
  }();
  return text;
}

template <typename F>
void run(benchmark::State& state, F&& f) {
  const std::string& text = corpus();
  for (auto _ : state) f(text);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_Sha256(benchmark::State& s) { run(s, [](const std::string& t) { benchmark::DoNotOptimize(tessera::sha256_hex(t)); }); }

void BM_MaskPii(benchmark::State& s) {
  run(s, [](const std::string& t) {
    PiiCounts counts;
    benchmark::DoNotOptimize(mask_pii(t, counts));
  });
}

void BM_NonTextShare(benchmark::State& s) { run(s, [](const std::string& t) { benchmark::DoNotOptimize(non_text_share(t)); }); }

void BM_NormaliseAndHash(benchmark::State& s) {
  run(s, [](const std::string& t) { benchmark::DoNotOptimize(tessera::sha256_hex(normalise_for_dedup(t))); });
}

void BM_MinHash(benchmark::State& s) {
  run(s, [&](const std::string& t) {
    bool empty = false;
    benchmark::DoNotOptimize(minhash(t, static_cast<size_t>(s.range(0)), 1, empty));
  });
}

BENCHMARK(BM_Sha256)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaskPii)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NonTextShare)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NormaliseAndHash)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MinHash)->Arg(5)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
