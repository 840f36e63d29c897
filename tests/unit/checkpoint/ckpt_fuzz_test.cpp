// Mutation fuzz of the checkpoint reader: damaged copies of a small checkpoint (bit flips, byte
// overwrites, zeroed blocks, truncation, appended garbage) must be rejected with a tessera::Error
// or, when verification passes, load exactly the original weights. Never a crash or a hang.
//
// CI setting: 1000 mutations (TESSERA_CKPT_FUZZ_ITERS), seed TESSERA_CKPT_FUZZ_SEED (default 1).
// Longer manual run: TESSERA_CKPT_FUZZ_ITERS=100000 ./ckpt_fuzz_test (docs/checkpoint.md).
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "checkpoint/checkpoint.h"
#include "checkpoint/commit.h"
#include "checkpoint/verify.h"
#include "tests/support/ckpt_fixture.h"

namespace fs = std::filesystem;
using namespace tessera;
using namespace tessera::checkpoint;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::stoull(v) : fallback;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string mutate(std::string bytes, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % std::max<size_t>(n, 1)); };
  switch (rng() % 5) {
    case 0:  // flip 1 to 4 bits
      for (size_t k = 0, n = 1 + pick(4); k < n; ++k) bytes[pick(bytes.size())] ^= static_cast<char>(1 << pick(8));
      break;
    case 1: {  // overwrite 1 to 16 bytes with random values
      const size_t at = pick(bytes.size());
      for (size_t k = 0, n = 1 + pick(16); k < n && at + k < bytes.size(); ++k) bytes[at + k] = static_cast<char>(rng());
      break;
    }
    case 2: {  // zero an aligned block of 64 bytes
      const size_t at = pick(bytes.size()) & ~size_t{63};
      for (size_t k = 0; k < 64 && at + k < bytes.size(); ++k) bytes[at + k] = 0;
      break;
    }
    case 3:  // truncate
      bytes.resize(pick(bytes.size()));
      break;
    default:  // append garbage
      for (size_t k = 0, n = 1 + pick(4096); k < n; ++k) bytes.push_back(static_cast<char>(rng()));
  }
  return bytes;
}

}  // namespace

TEST(CheckpointFuzz, DamagedFilesAreRejectedOrLoadExactly) {
  const uint64_t iters = env_or("TESSERA_CKPT_FUZZ_ITERS", 1000), seed = env_or("TESSERA_CKPT_FUZZ_SEED", 1);
  const fs::path dir = fs::temp_directory_path() / ("tessera_ckpt_fuzz_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto infos = ckpt_fixture::infos();
  auto w = ckpt_fixture::local_flat(infos, 0, 1, 0), m = ckpt_fixture::local_flat(infos, 0, 1, 1);
  SaveRequest req;
  req.infos = infos;
  req.params = Holding::whole(w.data(), static_cast<int64_t>(w.size()));
  req.m = Holding::whole(m.data(), static_cast<int64_t>(m.size()));
  req.v = req.m;
  req.meta.config_json = Config().to_json();
  req.meta.config_toml = Config().to_toml();
  const fs::path original = save_checkpoint(parallel::World::init(nullptr, nullptr), parallel::Topology{}, dir, req);
  const std::string bytes = read_bytes(original);
  const fs::path victim = dir / "victim.h5";
  // A committed checkpoint has its whole-file digest beside it: damaged bytes are refused before
  // HDF5 parses them (HDF5 itself is not hardened against corrupt metadata).
  fs::copy_file(digest_path(original), digest_path(victim), fs::copy_options::overwrite_existing);

  std::mt19937_64 rng(seed);
  uint64_t rejected = 0, accepted = 0;
  for (uint64_t i = 0; i < iters; ++i) {
    write_bytes(victim, mutate(bytes, rng));
    const VerifyResult r = verify_file(victim.string());
    try {
      const Weights loaded = load_weights(victim.string(), /*verify=*/true);
      ASSERT_TRUE(r.ok()) << "iteration " << i << ": loaded a file that verify rejects";
      ASSERT_EQ(std::memcmp(loaded.params.flat().data<float>(), w.data(), w.size() * 4), 0)
          << "iteration " << i << ": a file that verifies loaded different weights";
      ++accepted;
    } catch (const Error& e) {
      ASSERT_FALSE(r.ok()) << "iteration " << i << ": verify passed but loading failed: " << e.what();
      ASSERT_NE(std::string(e.what()).find(victim.string()), std::string::npos) << "error does not name the file: " << e.what();
      ++rejected;
    }
    try {  // the unverified read path must not crash either
      load_weights(victim.string(), /*verify=*/false);
    } catch (const Error&) {
    }
    ASSERT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0) << "iteration " << i << ": HDF5 objects left open";
  }
  std::printf("checkpoint fuzz: %llu mutations, %llu rejected, %llu harmless (seed %llu)\n",
              static_cast<unsigned long long>(iters), static_cast<unsigned long long>(rejected),
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(seed));
  EXPECT_GT(rejected, iters / 2);
  fs::remove_all(dir);
}
