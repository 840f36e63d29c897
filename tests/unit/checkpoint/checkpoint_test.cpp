// Checkpoints in one process: pieces, round trip, commit/keep/latest, tags and references,
// corruption and mismatch errors, and the `tessera ckpt` exit codes.
#include "checkpoint/checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "checkpoint/commit.h"
#include "checkpoint/inspect.h"
#include "checkpoint/reference.h"
#include "checkpoint/rotation.h"
#include "checkpoint/tags.h"
#include "checkpoint/verify.h"
#include "tests/support/ckpt_fixture.h"
#include "tests/unit/test_support.h"

namespace fs = std::filesystem;
using namespace tessera;
using namespace tessera::checkpoint;
using testing_support::flip_byte;

namespace {

parallel::World& world() { return parallel::World::init(nullptr, nullptr); }

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("tessera_ckpt_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "checkpoints");
  return dir;
}

Config test_config() {
  Config c;
  c.model.d_model = 8;
  return c;
}

struct Source {
  std::vector<core::ParamInfo> infos = ckpt_fixture::infos();
  std::vector<float> w = ckpt_fixture::local_flat(infos, 0, 1, 0);
  std::vector<float> m = ckpt_fixture::local_flat(infos, 0, 1, 1);
  std::vector<float> v = ckpt_fixture::local_flat(infos, 0, 1, 2);

  SaveRequest request(int64_t step) {
    SaveRequest r;
    r.infos = infos;
    r.params = Holding::whole(w.data(), static_cast<int64_t>(w.size()));
    r.m = Holding::whole(m.data(), static_cast<int64_t>(m.size()));
    r.v = Holding::whole(v.data(), static_cast<int64_t>(v.size()));
    r.optim_step = step;
    r.loader = {3, static_cast<uint64_t>(step) * 2};
    r.rng = {{"seed", 1337}, {"step", step}};
    r.meta.config_json = test_config().to_json();
    r.meta.config_toml = test_config().to_toml();
    r.meta.step = step;
    r.meta.tokens_seen = static_cast<uint64_t>(step) * 1024;
    r.meta.tokenizer_hash = "abc123";
    r.meta.lineage = {"f00d", "beef"};
    return r;
  }
};

fs::path save(Source& s, const fs::path& run, int64_t step, int64_t keep = 3) {
  return save_checkpoint(world(), parallel::Topology{}, run / "checkpoints", s.request(step), {.keep = keep});
}


// Offset of the first occurrence of `value` (as f32 bytes) in the file: a tensor's data.
uintmax_t find_float(const fs::path& path, float value) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  char pattern[4];
  std::memcpy(pattern, &value, 4);
  const size_t at = bytes.find(std::string(pattern, 4));
  EXPECT_NE(at, std::string::npos);
  return at;
}

int run_cli(const std::string& args) {
  const int rc = std::system((std::string(TESSERA_BIN) + " " + args + " > /dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST(CheckpointPieces, EveryRankLayoutCoversEachTensorExactlyOnce) {
  const auto infos = ckpt_fixture::infos();
  for (int tp : {1, 2, 4}) {
    std::vector<std::vector<int>> hits(infos.size());
    for (size_t t = 0; t < infos.size(); ++t) hits[t].assign(static_cast<size_t>(infos[t].numel()), 0);
    for (int r = 0; r < tp; ++r) {
      auto local = ckpt_fixture::local_flat(infos, r, tp, 0);
      ASSERT_EQ(static_cast<int64_t>(local.size()), local_numel(infos, tp));
      // Two spans that cut tensors in the middle of rows, as ZeRO bucket shards do.
      const int64_t half = static_cast<int64_t>(local.size()) / 2 + 3;
      const std::vector<FlatSpan> spans{{0, half, local.data()},
                                        {half, static_cast<int64_t>(local.size()) - half, local.data() + half}};
      for (const Piece& p : pieces_of(infos, r, tp, spans)) {
        const int64_t cols = dims2(infos[p.tensor].shape).cols;
        for (int64_t i = 0; i < p.rows; ++i) {
          for (int64_t j = 0; j < p.cols; ++j) {
            const int64_t index = (p.row + i) * cols + p.col + j;
            ++hits[p.tensor][static_cast<size_t>(index)];
            EXPECT_EQ(p.data[i * p.pitch + j], ckpt_fixture::value(p.tensor, index, 0)) << infos[p.tensor].name;
          }
        }
      }
    }
    for (size_t t = 0; t < infos.size(); ++t) {
      for (size_t i = 0; i < hits[t].size(); ++i) {
        // Replicated tensors are held whole by every tp rank.
        const int expected = infos[t].split == core::TpSplit::replicated ? tp : 1;
        ASSERT_EQ(hits[t][i], expected) << infos[t].name << " element " << i << " tp " << tp;
      }
    }
  }
}

TEST(CheckpointPieces, SplitPieceDividesElementsEvenly) {
  std::vector<float> data(7 * 5);
  const Piece whole{0, 2, 1, 7, 5, data.data(), 9};
  std::map<std::pair<int64_t, int64_t>, int> seen;
  for (int k = 0; k < 3; ++k) {
    int64_t n = 0;
    for (const Piece& p : split_piece(whole, 3, k)) {
      n += p.numel();
      for (int64_t i = 0; i < p.rows; ++i)
        for (int64_t j = 0; j < p.cols; ++j) {
          ++seen[{p.row + i, p.col + j}];
          EXPECT_EQ(p.data + i * p.pitch + j, whole.data + (p.row + i - whole.row) * 9 + (p.col + j - whole.col));
        }
    }
    EXPECT_EQ(n, k < 2 ? 12 : 11);  // 35 elements: the first 35 % 3 parts hold one more
  }
  EXPECT_EQ(seen.size(), 35u);
  for (const auto& [at, count] : seen) EXPECT_EQ(count, 1);
}

TEST(Checkpoint, RoundTripIsBitExact) {
  const fs::path run = fresh_dir("roundtrip");
  Source s;
  const fs::path file = save(s, run, 100);
  EXPECT_EQ(file.filename(), "step-00000100.h5");
  EXPECT_TRUE(fs::is_regular_file(file));
  EXPECT_FALSE(fs::exists(run / "checkpoints" / "step-00000100.h5.tmp"));
  EXPECT_EQ(read_latest(run / "checkpoints"), "step-00000100.h5");

  std::vector<float> w(s.w.size(), NAN), m(s.m.size(), NAN), v(s.v.size(), NAN);
  LoadRequest req;
  req.infos = s.infos;
  req.params = Holding::whole(w.data(), static_cast<int64_t>(w.size()));
  req.m = Holding::whole(m.data(), static_cast<int64_t>(m.size()));
  req.v = Holding::whole(v.data(), static_cast<int64_t>(v.size()));
  const TrainingState st = load_training_state(world(), parallel::Topology{}, run.string(), test_config(), req);
  EXPECT_EQ(std::memcmp(w.data(), s.w.data(), w.size() * 4), 0);
  EXPECT_EQ(std::memcmp(m.data(), s.m.data(), m.size() * 4), 0);
  EXPECT_EQ(std::memcmp(v.data(), s.v.data(), v.size() * 4), 0);
  EXPECT_EQ(st.optim_step, 100);
  EXPECT_EQ(st.loader, (datasets::LoaderPosition{3, 200}));
  EXPECT_EQ(st.rng["seed"], 1337);
  EXPECT_EQ(st.meta.step, 100);
  EXPECT_EQ(st.meta.tokens_seen, 102400u);
  EXPECT_EQ(st.meta.tokenizer_hash, "abc123");
  EXPECT_EQ(st.meta.lineage, (std::vector<std::string>{"f00d", "beef"}));
  EXPECT_EQ(st.meta.layout, (Layout{1, 1, false}));
  EXPECT_EQ(st.meta.created_at.size(), 20u);

  const Weights weights = load_weights(file.string());
  ASSERT_EQ(weights.params.size(), s.infos.size());
  EXPECT_EQ(weights.config.model.d_model, 8);
  EXPECT_EQ(weights.params.info(2).segments, s.infos[2].segments);
  EXPECT_EQ(weights.params.info(2).split, core::TpSplit::column);
  EXPECT_EQ(std::memcmp(weights.params.flat().data<float>(), s.w.data(), s.w.size() * 4), 0);
  EXPECT_TRUE(verify_file(file.string()).ok());
  fs::remove_all(run);
}

TEST(Checkpoint, KeepsTheNewestAndTaggedAndResolvesReferences) {
  const fs::path run = fresh_dir("keep");
  Source s;
  save(s, run, 1, 2);
  set_tag(run / "checkpoints", "best", file_name_for_step(1));
  for (int64_t step = 2; step <= 5; ++step) save(s, run, step, 2);
  std::vector<int64_t> steps;
  for (const auto& l : list_checkpoints(run / "checkpoints")) steps.push_back(l.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 4, 5}));  // 1 is tagged
  EXPECT_EQ(resolve(run.string()).filename(), "step-00000005.h5");
  EXPECT_EQ(resolve(run.string() + ":best").filename(), "step-00000001.h5");
  EXPECT_EQ(resolve(run.string() + ":4").filename(), "step-00000004.h5");
  EXPECT_EQ(resolve(run.string() + ":latest").filename(), "step-00000005.h5");
  EXPECT_EQ(resolve((run / "checkpoints").string()).filename(), "step-00000005.h5");
  try {
    resolve(run.string() + ":nope");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no tag 'nope'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("best"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve(run.string() + ":3"), Error);
  EXPECT_THROW(set_tag(run / "checkpoints", "latest", file_name_for_step(4)), Error);
  EXPECT_THROW(set_tag(run / "checkpoints", "x", file_name_for_step(3)), Error);
  const auto versions = list_versions(run);
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0].tags, (std::vector<std::string>{"best"}));
  EXPECT_TRUE(versions[2].latest);
  EXPECT_EQ(versions[2].tokens_seen, 5u * 1024);
  fs::remove_all(run);
}

// The steps of a checkpoints directory's committed files.
std::vector<int64_t> steps_in(const fs::path& dir) {
  std::vector<int64_t> steps;
  for (const auto& l : list_checkpoints(dir)) steps.push_back(l.step);
  return steps;
}

TEST(Checkpoint, RotationKeepsTheNewestValidOnesAndQuarantinesCorruptOnes) {
  const fs::path run = fresh_dir("rotation");
  const fs::path dir = run / "checkpoints";
  Source s;
  for (int64_t step = 1; step <= 3; ++step) save(s, run, step, 2);
  EXPECT_EQ(steps_in(dir), (std::vector<int64_t>{2, 3}));
  // The newest is truncated; the next save must keep the older good one (2), not the bad one.
  fs::resize_file(dir / file_name_for_step(3), 4096);
  save(s, run, 4, 2);
  EXPECT_EQ(steps_in(dir), (std::vector<int64_t>{2, 4}));
  EXPECT_TRUE(fs::exists(dir / "quarantine" / file_name_for_step(3)));
  EXPECT_TRUE(fs::exists(dir / "quarantine" / (file_name_for_step(3) + ".sha256")));
  // Every file corrupt but the one just written: nothing valid is deleted for them.
  flip_byte(dir / file_name_for_step(2), find_float(dir / file_name_for_step(2), ckpt_fixture::value(6, 17, 0)));
  save(s, run, 5, 2);
  EXPECT_EQ(steps_in(dir), (std::vector<int64_t>{4, 5}));
  save(s, run, 6, 2);
  EXPECT_EQ(steps_in(dir), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(read_latest(dir), file_name_for_step(6));
  fs::remove_all(run);
}

TEST(Checkpoint, ReferencesToARunFindTheNewestValidCheckpointWithoutLatest) {
  const fs::path run = fresh_dir("resolve");
  const fs::path dir = run / "checkpoints";
  Source s;
  for (int64_t step = 1; step <= 3; ++step) save(s, run, step, 3);
  fs::remove(dir / "latest");
  EXPECT_EQ(resolve(run.string()).filename(), file_name_for_step(3));
  EXPECT_EQ(resolve(run.string() + ":latest").filename(), file_name_for_step(3));
  fs::resize_file(dir / file_name_for_step(3), 4096);
  const Resolved r = resolve_checked(run.string());
  EXPECT_EQ(r.file.filename(), file_name_for_step(2));
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(load_weights(run.string()).meta.step, 2);
  EXPECT_TRUE(fs::exists(dir / file_name_for_step(3)));  // a reader never moves files
  // `latest` naming a damaged file: the same fallback.
  std::ofstream(dir / "latest") << file_name_for_step(3) << "\n";
  EXPECT_EQ(resolve(run.string()).filename(), file_name_for_step(2));
  EXPECT_EQ(find_resumable(world(), run).file, dir / file_name_for_step(2));
  // Nothing valid at all: an error that says so.
  fs::resize_file(dir / file_name_for_step(2), 4096);
  fs::resize_file(dir / file_name_for_step(1), 4096);
  try {
    resolve(run.string());
    FAIL() << "no error";
  } catch (const Error& e) {
    // (3 went into quarantine at find_resumable)
  EXPECT_NE(std::string(e.what()).find("none of its 2 checkpoints verifies"), std::string::npos) << e.what();
  }
  fs::remove_all(run);
}

TEST(Checkpoint, CorruptFilesAreRejectedAndResumeFallsBack) {
  const fs::path run = fresh_dir("corrupt");
  Source s;
  const fs::path good = save(s, run, 10);
  const fs::path bad = save(s, run, 20);
  ASSERT_TRUE(fs::exists(digest_path(bad)));
  // A flipped byte inside a tensor's data: the file digest refuses it before HDF5 reads it, naming
  // the bytes and the tensor they hold.
  flip_byte(bad, find_float(bad, ckpt_fixture::value(6, 17, 0)));
  const auto r = verify_file(bad.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.summary().find("(/model/blocks.0.mlp.up.weight) do not match the SHA-256 recorded in"), std::string::npos)
      << r.summary();
  // Resume takes the older good one and moves the bad one into quarantine, never deleting it.
  const auto found = find_resumable(world(), run);
  EXPECT_EQ(found.file, good);
  const fs::path moved = run / "checkpoints" / "quarantine" / bad.filename();
  EXPECT_EQ(found.quarantined, std::vector<fs::path>{moved});
  EXPECT_TRUE(fs::exists(moved) && fs::exists(digest_path(moved)));
  EXPECT_FALSE(fs::exists(bad));
  // Without its digest file (a copy made elsewhere), the per-dataset checksums name the tensor.
  save(s, run, 20);
  flip_byte(bad, find_float(bad, ckpt_fixture::value(6, 17, 0)));
  fs::remove(digest_path(bad));
  const auto r1 = verify_file(bad.string());
  EXPECT_NE(r1.summary().find("blocks.0.mlp.up.weight: checksum mismatch"), std::string::npos) << r1.summary();
  EXPECT_EQ(find_resumable(world(), run).file, good);
  // Truncated.
  save(s, run, 20);
  fs::resize_file(bad, fs::file_size(bad) / 2);
  EXPECT_FALSE(verify_file(bad.string()).ok());
  EXPECT_EQ(find_resumable(world(), run).file, good);
  EXPECT_EQ(fs::file_size(good), fs::file_size(run / "checkpoints" / good.filename()));
  // Not HDF5 at all.
  save(s, run, 20);
  fs::remove(digest_path(bad));
  std::ofstream(bad, std::ios::trunc) << "hello";
  const auto r2 = verify_file(bad.string());
  EXPECT_NE(r2.summary().find("not a readable HDF5 file"), std::string::npos) << r2.summary();
  EXPECT_THROW(load_weights(bad.string()), Error);
  fs::remove_all(run);
}

TEST(Checkpoint, MismatchesAreClearErrors) {
  const fs::path run = fresh_dir("mismatch");
  Source s;
  const fs::path file = save(s, run, 7);
  std::vector<float> w(s.w.size());
  LoadRequest req;
  req.infos = s.infos;
  req.params = Holding::whole(w.data(), static_cast<int64_t>(w.size()));
  Config other = test_config();
  other.model.d_model = 16;
  try {
    load_training_state(world(), parallel::Topology{}, file.string(), other, req);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.d_model: checkpoint 8, config 16"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
  req.infos[4].shape = {8, 4};
  try {
    load_training_state(world(), parallel::Topology{}, file.string(), test_config(), req);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'blocks.0.attn.out.weight' has shape (8, 8) in the checkpoint"), std::string::npos)
        << e.what();
  }
  req.infos = s.infos;
  req.infos.pop_back();
  EXPECT_THROW(load_training_state(world(), parallel::Topology{}, file.string(), test_config(), req), Error);
  fs::remove_all(run);
}

TEST(CheckpointCli, VerifyExitCodesAndRegistry) {
  const fs::path run = fresh_dir("cli");
  Source s;
  const fs::path file = save(s, run, 3);
  save(s, run, 4);
  EXPECT_EQ(run_cli("ckpt verify " + file.string()), 0);
  EXPECT_EQ(run_cli("ckpt verify " + run.string()), 0);
  EXPECT_EQ(run_cli("ckpt tag " + run.string() + " 3 first"), 0);
  EXPECT_EQ(run_cli("ckpt verify " + run.string() + ":first"), 0);
  EXPECT_EQ(run_cli("ckpt ls " + run.string()), 0);
  EXPECT_EQ(run_cli("ckpt show " + run.string() + ":first"), 0);
  EXPECT_EQ(run_cli("ckpt diff " + run.string() + ":first " + run.string()), 0);
  flip_byte(file, find_float(file, ckpt_fixture::value(0, 5, 1)));
  EXPECT_EQ(run_cli("ckpt verify " + run.string() + ":first"), 1);
  fs::resize_file(file, 1000);
  EXPECT_EQ(run_cli("ckpt verify " + file.string()), 1);
  EXPECT_EQ(run_cli("ckpt verify " + run.string() + ":nope"), 1);
  fs::remove_all(run);
}
