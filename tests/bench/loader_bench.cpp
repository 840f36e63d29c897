// Loader throughput: (B, T) batches from HDF5 token shards, shuffled (training) and sequential
// (validation) windows; and shard writing. Items are tokens.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "datasets/loader.h"

namespace fs = std::filesystem;
using namespace tessera::datasets;

namespace {

constexpr uint64_t kVocab = 50257;
constexpr size_t kShardTokens = size_t{1} << 21;  // 2M tokens per shard
constexpr size_t kShards = 4;

std::vector<TokenId> random_tokens(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<TokenId> tokens(n);
  for (auto& t : tokens) t = static_cast<TokenId>(rng() % kVocab);
  return tokens;
}

// Shards written once per process, removed at exit.
struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("tessera_loader_bench_" + std::to_string(::getpid()));
  std::vector<std::string> shards;
  Fixture() {
    fs::create_directories(dir);
    for (size_t s = 0; s < kShards; ++s) {
      shards.push_back((dir / shard_name("train", s)).string());
      write_shard(shards.back(), {kVocab, kVocab - 1, "bench", "train"}, random_tokens(kShardTokens, uint32_t(s)),
                  std::vector<int64_t>{0});
    }
  }
  ~Fixture() { fs::remove_all(dir); }
};

const Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_LoaderNext(benchmark::State& state) {
  LoaderOptions o;
  o.batch_size = static_cast<size_t>(state.range(0));
  o.seq_len = static_cast<size_t>(state.range(1));
  o.shuffle = state.range(2) != 0;
  o.seed = 1;
  Loader loader(fixture().shards, o);
  Batch batch;
  for (auto _ : state) {
    loader.next(batch);
    benchmark::DoNotOptimize(batch.inputs.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(1));
}
BENCHMARK(BM_LoaderNext)
    ->ArgNames({"B", "T", "shuffle"})
    ->Args({8, 1024, 1})
    ->Args({8, 1024, 0})
    ->Args({32, 256, 1})
    ->Unit(benchmark::kMicrosecond);

void BM_WriteShard(benchmark::State& state) {
  const auto tokens = random_tokens(static_cast<size_t>(state.range(0)), 7);
  const std::string path = (fixture().dir / "write_bench.h5").string();
  for (auto _ : state) write_shard(path, {kVocab, kVocab - 1, "bench", "train"}, tokens, std::vector<int64_t>{0});
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 2);
}
BENCHMARK(BM_WriteShard)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
