// Checkpoint bandwidth: saving and loading the full training state (weights, m, v) of a model of
// about PARAMS_M million parameters at dp = ranks / TP, against a raw sequential write of the same
// bytes (one process, 64 MiB writes, then fsync: what `dd conv=fsync` does) measured in the same run.
//   mpirun -np 4 ckpt_bench DIR [PARAMS_M=120] [TP=1] [ZERO=1]
// ZERO 1: the moments are ZeRO-1 shards (each dp rank holds 1/dp of them), as a dp > 1 run holds
// them. The raw write is measured before and after the save; the faster one is the reference.
// Load rates count the bytes the ranks receive (replicated weights are read by every dp rank).
// Each operation's phases follow its line (checkpoint/timings.h). OpenMP threads per rank: cores /
// ranks on the node, as `tessera` sets them.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "core/log.h"
#include "core/threads.h"
#include "parallel/guard.h"

namespace fs = std::filesystem;
using namespace tessera;
using namespace tessera::checkpoint;
using Clock = std::chrono::steady_clock;

namespace {

// A GPT-2-like registry: d_model C, 12 blocks, vocab 50304; C chosen for about `millions` parameters.
std::vector<core::ParamInfo> gpt_infos(double millions) {
  const int64_t layers = 12, vocab = 50304;
  int64_t c = 64;
  while (static_cast<double>(12 * layers * (c + 64) * (c + 64) + vocab * (c + 64)) < millions * 1e6) c += 64;
  auto p = [](std::string name, core::Shape shape, core::TpSplit split) {
    core::ParamInfo i;
    i.name = std::move(name);
    i.shape = std::move(shape);
    i.split = split;
    return i;
  };
  std::vector<core::ParamInfo> out{p("embed.tokens.weight", {vocab, c}, core::TpSplit::vocab)};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    out.push_back(p(b + "attn_norm.weight", {c}, core::TpSplit::replicated));
    out.push_back(p(b + "attn.qkv.weight", {3 * c, c}, core::TpSplit::column));
    out.back().segments = {c, c, c};
    out.push_back(p(b + "attn.out.weight", {c, c}, core::TpSplit::row));
    out.push_back(p(b + "mlp_norm.weight", {c}, core::TpSplit::replicated));
    out.push_back(p(b + "mlp.up.weight", {4 * c, c}, core::TpSplit::column));
    out.push_back(p(b + "mlp.down.weight", {c, 4 * c}, core::TpSplit::row));
  }
  out.push_back(p("final_norm.weight", {c}, core::TpSplit::replicated));
  return out;
}

double raw_write_seconds(const fs::path& path, size_t bytes) {
  std::vector<char> block(size_t{64} << 20, 1);
  const auto t0 = Clock::now();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  TESSERA_CHECK(fd >= 0, "cannot create {}", path.string());
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(block.size(), bytes - done);
    TESSERA_CHECK(::write(fd, block.data(), n) == static_cast<ssize_t>(n), "write failed");
    done += n;
  }
  TESSERA_CHECK(::fsync(fd) == 0, "fsync failed");
  ::close(fd);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  fs::remove(path);
  return s;
}

int run(const parallel::World& world, int argc, char** argv) {
  TESSERA_CHECK(argc >= 2, "usage: ckpt_bench DIR [PARAMS_M] [TP]");
  const fs::path dir = argv[1];
  const double millions = argc > 2 ? std::atof(argv[2]) : 120;
  const int tp = argc > 3 ? std::atoi(argv[3]) : 1;
  const bool zero = argc > 4 ? std::atoi(argv[4]) != 0 : true;
  const auto infos = gpt_infos(millions);
  const auto topo = parallel::Topology::make(world.size(), world.rank(), tp, tp, tp);
  int64_t total = 0;
  for (const auto& i : infos) total += i.numel();
  const int64_t local = local_numel(infos, tp);
  const auto share = zero ? parallel::shard_range(static_cast<size_t>(local), topo.dp, topo.dp_rank)
                          : parallel::Range{0, static_cast<size_t>(local)};
  std::vector<float> w(static_cast<size_t>(local), 0.5f), m(share.count, 0.25f), v(share.count, 0.125f);
  const auto moments = [&](std::vector<float>& buf) {
    return Holding{{{static_cast<int64_t>(share.begin), static_cast<int64_t>(share.count), buf.data()}}, zero};
  };
  if (world.is_root()) fs::create_directories(dir);
  world.barrier();
  const double bytes = static_cast<double>(total) * 3 * 4;

  double raw = 0;
  if (world.is_root()) raw = raw_write_seconds(dir / "raw.bin", static_cast<size_t>(bytes));
  world.barrier();
  // Bytes every rank receives when loading, all ranks together.
  double received = 0;
  for (const auto& r : world.all_gather(std::to_string((local + 2 * static_cast<int64_t>(share.count)) * 4))) {
    received += std::stod(r);
  }

  SaveRequest req;
  req.infos = infos;
  req.params = Holding::whole(w.data(), local);
  req.m = moments(m);
  req.v = moments(v);
  req.meta.config_json = Config().to_json();
  req.meta.config_toml = Config().to_toml();
  Timings save_phases, verified_phases, plain_phases;
  auto t0 = Clock::now();
  const fs::path file = save_checkpoint(world, topo, dir, req, {.keep = 1, .timings = &save_phases});
  const double save = std::chrono::duration<double>(Clock::now() - t0).count();

  LoadRequest load;
  load.infos = infos;
  load.params = req.params;
  load.m = req.m;
  load.v = req.v;
  load.timings = &verified_phases;
  world.barrier();
  t0 = Clock::now();
  load_training_state(world, topo, file.string(), Config(), load);
  const double load_verified = std::chrono::duration<double>(Clock::now() - t0).count();
  load.verify = false;
  load.timings = &plain_phases;
  world.barrier();
  t0 = Clock::now();
  load_training_state(world, topo, file.string(), Config(), load);
  const double load_plain = std::chrono::duration<double>(Clock::now() - t0).count();
  if (world.is_root()) raw = std::min(raw, raw_write_seconds(dir / "raw.bin", static_cast<size_t>(bytes)));

  auto mbps = [&](double s) { return bytes / s / 1e6; };
  log::info("ckpt bench: {} ranks (dp {} x tp {}{}), {:.1f} M parameters, {:.0f} MB of weights + m + v; the ranks "
            "receive {:.0f} MB when loading", world.size(), topo.dp, topo.tp, zero ? ", ZeRO-1" : "",
            static_cast<double>(total) / 1e6, bytes / 1e6, received / 1e6);
  log::info("  raw sequential write + fsync: {:.2f} s  {:.0f} MB/s", raw, mbps(raw));
  log::info("  save (write, hash, commit):   {:.2f} s  {:.0f} MB/s  {:.2f} of raw", save, mbps(save), raw / save);
  log::info("    {}", save_phases.summary());
  const double raw_rate = mbps(raw);
  log::info("  load, verified:               {:.2f} s  {:.0f} MB/s received  {:.2f} of raw", load_verified,
            received / load_verified / 1e6, received / load_verified / 1e6 / raw_rate);
  log::info("    {}", verified_phases.summary());
  log::info("  load, unverified:             {:.2f} s  {:.0f} MB/s received  {:.2f} of raw", load_plain,
            received / load_plain / 1e6, received / load_plain / 1e6 / raw_rate);
  log::info("    {}", plain_phases.summary());
  if (world.is_root()) fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto& world = parallel::World::init(&argc, &argv);
  log::set_rank(world.rank(), world.size());
  configure_threads(world.local_size());
  return parallel::run_guarded(world, [&] { return run(world, argc, argv); });
}
