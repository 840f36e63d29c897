// The loader: windows of T+1 tokens across shard boundaries, targets shifted by one, seeded and
// resumable order, and a global batch that is the same for any data-parallel size.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "datasets/loader.h"
#include "datasets/manifest.h"
#include "tests/unit/test_support.h"

namespace fs = std::filesystem;
using namespace tessera::datasets;
using namespace tessera::testing_support;

namespace {

constexpr uint64_t kVocab = 1000;

// Shards whose stream token at position p is p % kVocab, so every window's content is known.
std::vector<std::string> make_shards(const TempDir& dir, const std::vector<size_t>& sizes,
                                     const std::string& hash = "tok") {
  std::vector<std::string> paths;
  uint64_t p = 0;
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::vector<TokenId> tokens(sizes[s]);
    for (auto& t : tokens) t = static_cast<TokenId>(p++ % kVocab);
    paths.push_back((dir.path / shard_name("train", s)).string());
    write_shard(paths.back(), {kVocab, kVocab - 1, hash, "train"}, tokens, std::vector<int64_t>{0});
  }
  return paths;
}

LoaderOptions options(size_t b, size_t t, uint64_t seed = 7, int dp_rank = 0, int dp_size = 1, bool shuffle = true) {
  LoaderOptions o;
  o.batch_size = b;
  o.seq_len = t;
  o.seed = seed;
  o.dp_rank = dp_rank;
  o.dp_size = dp_size;
  o.shuffle = shuffle;
  return o;
}

// The window a row of inputs came from (rows start at w*T).
uint64_t window_of(const Batch& batch, size_t row, size_t t) {
  return static_cast<uint64_t>(batch.inputs[row * batch.seq_len]) / t;
}


}  // namespace

TEST(Loader, SequentialWindowsAcrossShardsAndShiftedTargets) {
  TempDir dir;
  const auto shards = make_shards(dir, {7, 13, 50});  // 70 tokens
  const size_t b = 2, t = 4;
  Loader loader(shards, options(b, t, 0, 0, 1, false));
  EXPECT_EQ(loader.num_tokens(), 70u);
  EXPECT_EQ(loader.num_windows(), 17u);  // (70 - 1) / 4
  EXPECT_EQ(loader.batches_per_epoch(), 8u);
  for (uint64_t g = 0; g < 8; ++g) {
    const Batch batch = loader.next();
    ASSERT_EQ(batch.inputs.size(), b * t);
    for (size_t row = 0; row < b; ++row) {
      const uint64_t w = g * b + row;
      for (size_t i = 0; i < t; ++i) {
        EXPECT_EQ(batch.inputs[row * t + i], static_cast<int32_t>(w * t + i));
        EXPECT_EQ(batch.targets[row * t + i], static_cast<int32_t>(w * t + i + 1));
      }
    }
  }
  EXPECT_EQ(loader.position(), (LoaderPosition{0, 8}));
  const Batch wrapped = loader.next();  // the next epoch starts over
  EXPECT_EQ(wrapped.inputs[0], 0);
  EXPECT_EQ(loader.position(), (LoaderPosition{1, 1}));
}

TEST(Loader, ShuffledEpochVisitsEveryWindowOnce) {
  TempDir dir;
  const auto shards = make_shards(dir, {500, 301});  // 801 tokens, T = 8: 100 windows
  Loader loader(shards, options(5, 8));
  ASSERT_EQ(loader.num_windows(), 100u);
  ASSERT_EQ(loader.batches_per_epoch(), 20u);
  std::vector<uint64_t> epoch0, epoch1;
  for (int g = 0; g < 20; ++g) {
    const Batch batch = loader.next();
    for (size_t row = 0; row < 5; ++row) {
      epoch0.push_back(window_of(batch, row, 8));
      for (size_t i = 1; i < 8; ++i) EXPECT_EQ(batch.targets[row * 8 + i - 1], batch.inputs[row * 8 + i]);
    }
  }
  for (int g = 0; g < 20; ++g) {
    const Batch batch = loader.next();
    for (size_t row = 0; row < 5; ++row) epoch1.push_back(window_of(batch, row, 8));
  }
  std::vector<uint64_t> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  for (uint64_t w = 0; w < 100; ++w) EXPECT_EQ(sorted[w], w);
  EXPECT_NE(epoch0, sorted);  // shuffled
  EXPECT_NE(epoch0, epoch1);  // a new order per epoch
}

TEST(Loader, SameSeedSameBatchesOtherSeedOtherOrder) {
  TempDir dir;
  const auto shards = make_shards(dir, {1000});
  Loader a(shards, options(4, 16, 42)), b(shards, options(4, 16, 42)), c(shards, options(4, 16, 43));
  bool differs = false;
  for (int i = 0; i < 10; ++i) {
    const Batch x = a.next(), y = b.next(), z = c.next();
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.targets, y.targets);
    differs = differs || x.inputs != z.inputs;
  }
  EXPECT_TRUE(differs);
}

TEST(Loader, RestoredPositionGivesIdenticalBatches) {
  TempDir dir;
  const auto shards = make_shards(dir, {300, 300});  // 600 tokens, T = 10: 59 windows, 7 batches of 8
  Loader loader(shards, options(8, 10, 3));
  for (int i = 0; i < 5; ++i) loader.next();
  const std::string saved = loader.position().to_json().dump();
  std::vector<Batch> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(loader.next());  // crosses into epochs 1 and 2

  Loader resumed(shards, options(8, 10, 3));
  resumed.restore(LoaderPosition::from_json(nlohmann::json::parse(saved)));
  EXPECT_EQ(resumed.position(), (LoaderPosition{0, 5}));
  for (const auto& e : expected) {
    const Batch got = resumed.next();
    EXPECT_EQ(got.inputs, e.inputs);
    EXPECT_EQ(got.targets, e.targets);
  }
  EXPECT_EQ(resumed.position(), loader.position());

  // reset() and restore() to an earlier epoch reproduce the start.
  Loader fresh(shards, options(8, 10, 3));
  const Batch first = fresh.next();
  resumed.reset();
  EXPECT_EQ(resumed.next().inputs, first.inputs);
  EXPECT_THROW(resumed.restore({0, 8}), tessera::Error);
  EXPECT_THROW(LoaderPosition::from_json(nlohmann::json{{"epoch", 1}}), tessera::Error);
}

TEST(Loader, GlobalBatchIsTheSameForAnyDataParallelSize) {
  TempDir dir;
  const auto shards = make_shards(dir, {700, 333, 999});
  const size_t b = 3, t = 12;
  for (int dp : {2, 3, 4}) {
    Loader whole(shards, options(b * static_cast<size_t>(dp), t, 11));
    std::vector<Loader> ranks;
    for (int r = 0; r < dp; ++r) ranks.emplace_back(shards, options(b, t, 11, r, dp));
    ASSERT_EQ(whole.batches_per_epoch(), ranks[0].batches_per_epoch());
    for (uint64_t g = 0; g < whole.batches_per_epoch() + 2; ++g) {
      const Batch global = whole.next();
      std::vector<int32_t> inputs, targets;
      for (auto& r : ranks) {
        const Batch part = r.next();
        ASSERT_EQ(part.inputs.size(), b * t);
        inputs.insert(inputs.end(), part.inputs.begin(), part.inputs.end());
        targets.insert(targets.end(), part.targets.begin(), part.targets.end());
      }
      EXPECT_EQ(inputs, global.inputs) << "dp " << dp << " batch " << g;
      EXPECT_EQ(targets, global.targets) << "dp " << dp << " batch " << g;
    }
  }
}

TEST(Loader, MicroBatchesOfAStepCoverTheSameWindowsAsOneBatch) {
  TempDir dir;
  const auto shards = make_shards(dir, {700, 333, 999});  // 169 windows of T=12: epochs leave some out
  const size_t t = 12;
  Loader whole(shards, options(8, t, 5));
  LoaderOptions split = options(2, t, 5);
  split.grad_accum = 4;
  Loader micro(shards, split);
  EXPECT_EQ(micro.batches_per_epoch(), 4 * whole.batches_per_epoch());
  for (uint64_t step = 0; step < 3 * whole.batches_per_epoch(); ++step) {  // across epoch boundaries
    const Batch global = whole.next();
    std::vector<int32_t> inputs;
    for (int m = 0; m < 4; ++m) {
      const Batch part = micro.next();
      inputs.insert(inputs.end(), part.inputs.begin(), part.inputs.end());
    }
    ASSERT_EQ(inputs, global.inputs) << "step " << step;
  }
}

TEST(Loader, ForSplitReadsTheManifest) {
  TempDir dir;
  const auto shards = make_shards(dir, {100, 100});
  Manifest m;
  m.shards = {{"train_00000.h5", "train", 100, 1, "x"}, {"train_00001.h5", "train", 100, 1, "y"}};
  save_manifest(m, dir.path.string());
  Loader loader = Loader::for_split(dir.path.string(), "train", options(2, 8, 1, 0, 1, false));
  EXPECT_EQ(loader.num_tokens(), 200u);
  EXPECT_EQ(loader.meta().vocab_size, kVocab);
  EXPECT_NE(error_of([&] { Loader::for_split(dir.path.string(), "val", options(2, 8)); }).find("no 'val' shards"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Loader::for_split((dir.path / "nowhere").string(), "train", options(2, 8)); })
                .find("manifest.json"),
            std::string::npos);
}

TEST(Loader, Errors) {
  TempDir dir;
  const auto shards = make_shards(dir, {50});
  EXPECT_NE(error_of([] { Loader({}, options(1, 8)); }).find("no token shards"), std::string::npos);
  std::string msg = error_of([&] { Loader(shards, options(1, 50)); });  // T+1 = 51 > 50 tokens
  EXPECT_NE(msg.find("fewer than one window"), std::string::npos) << msg;
  msg = error_of([&] { Loader(shards, options(4, 10, 0, 0, 2)); });  // 4 windows < B*dp = 8
  EXPECT_NE(msg.find("fewer than one optimizer step"), std::string::npos) << msg;
  EXPECT_THROW(Loader(shards, options(1, 8, 0, 2, 2)), tessera::Error);
  EXPECT_THROW(Loader(shards, options(0, 8)), tessera::Error);
  TempDir other;
  const auto foreign = make_shards(other, {50}, "another-tokenizer");
  msg = error_of([&] { Loader({shards[0], foreign[0]}, options(1, 8)); });
  EXPECT_NE(msg.find("another tokenizer"), std::string::npos) << msg;
}
