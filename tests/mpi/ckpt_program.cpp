// Checkpoint layouts and crashes under mpirun (driven by ckpt_layouts.sh and ckpt_crash.sh):
//   save DIR TP ZERO        save step 100 at dp = ranks / tp (ZERO 1: moments as ZeRO-1 spans)
//   load DIR TP ZERO        load at dp = ranks / tp and check every element against its source
//   crash DIR POINT         save step 1, then die (SIGKILL) at POINT of step 2's save (begin, written,
//                           synced, digest_stored, renamed, pointed: commit.h's SavePoint)
//   resume DIR [SCALE]      the newest checkpoint that verifies must be loadable and exact
//   loop DIR N SCALE        save steps 1..N of a bigger model (an outside kill interrupts it)
// Exit 0 on success; a failed check prints what differs and exits 1.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "checkpoint/checkpoint.h"
#include "checkpoint/reference.h"
#include "core/log.h"
#include "parallel/guard.h"
#include "tests/support/ckpt_fixture.h"

namespace fs = std::filesystem;
using namespace tessera;
using namespace tessera::checkpoint;

namespace {

Config config() {
  Config c;
  c.model.d_model = 8;
  return c;
}

// What one rank holds of one set (weights or a moment) and the values it must hold.
struct Held {
  std::vector<float> buffer, expected;
  Holding holding;
};

// ZeRO-1 style: the local flat layout cut into two buckets, each split evenly over the dp ranks.
Held make_held(const std::vector<core::ParamInfo>& infos, const parallel::Topology& topo, int which, bool zero) {
  Held h;
  const auto local = ckpt_fixture::local_flat(infos, topo.tp_rank, topo.tp, which);
  if (!zero) {
    h.expected = local;
    h.buffer.assign(local.size(), 0);
    h.holding = Holding::whole(h.buffer.data(), static_cast<int64_t>(local.size()));
    return h;
  }
  const size_t n = local.size(), cut = n / 2 + 3;
  const size_t bucket_begin[2] = {0, cut}, bucket_size[2] = {cut, n - cut};
  std::vector<std::pair<size_t, size_t>> ranges;
  for (int b = 0; b < 2; ++b) {
    const auto r = parallel::shard_range(bucket_size[b], topo.dp, topo.dp_rank);
    ranges.push_back({bucket_begin[b] + r.begin, r.count});
    h.expected.insert(h.expected.end(), local.begin() + static_cast<long>(bucket_begin[b] + r.begin),
                      local.begin() + static_cast<long>(bucket_begin[b] + r.begin + r.count));
  }
  h.buffer.assign(h.expected.size(), 0);
  size_t offset = 0;
  for (const auto& [begin, count] : ranges) {
    h.holding.spans.push_back({static_cast<int64_t>(begin), static_cast<int64_t>(count), h.buffer.data() + offset});
    offset += count;
  }
  h.holding.partitioned_over_dp = true;
  return h;
}

bool check(const Held& h, const char* what, const parallel::World& world) {
  for (size_t i = 0; i < h.buffer.size(); ++i) {
    if (std::memcmp(&h.buffer[i], &h.expected[i], 4) != 0) {
      std::fprintf(stderr, "rank %d: %s element %zu of %zu is %g, expected %g\n", world.rank(), what, i, h.buffer.size(),
                   static_cast<double>(h.buffer[i]), static_cast<double>(h.expected[i]));
      return false;
    }
  }
  return true;
}

SaveRequest request(const std::vector<core::ParamInfo>& infos, Held& w, Held& m, Held& v, int64_t step) {
  w.buffer = w.expected;
  m.buffer = m.expected;
  v.buffer = v.expected;
  SaveRequest r;
  r.infos = infos;
  r.params = w.holding;
  r.m = m.holding;
  r.v = v.holding;
  r.optim_step = step;
  r.loader = {1, static_cast<uint64_t>(step)};
  r.rng = {{"seed", 7}, {"step", step}};
  r.meta.config_json = config().to_json();
  r.meta.config_toml = config().to_toml();
  r.meta.step = step;
  r.meta.tokens_seen = static_cast<uint64_t>(step) * 64;
  return r;
}

int run(const parallel::World& world, int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ckpt_program save|load|crash|resume|loop DIR ...\n");
    return 2;
  }
  const std::string mode = argv[1];
  const fs::path dir = argv[2];
  const int tp = argc > 3 && (mode == "save" || mode == "load") ? std::atoi(argv[3]) : 1;
  const bool zero = argc > 4 && (mode == "save" || mode == "load") && std::atoi(argv[4]) != 0;
  int64_t scale = 1;
  if (mode == "loop" && argc > 4) scale = std::atoll(argv[4]);
  if (mode == "resume" && argc > 3) scale = std::atoll(argv[3]);
  const auto infos = ckpt_fixture::infos(scale);
  const auto topo = parallel::Topology::make(world.size(), world.rank(), tp, tp, tp);
  Held w = make_held(infos, topo, 0, false), m = make_held(infos, topo, 1, zero), v = make_held(infos, topo, 2, zero);
  const fs::path ckpts = dir / "checkpoints";
  if (world.is_root()) fs::create_directories(ckpts);
  world.barrier();

  if (mode == "save") {
    save_checkpoint(world, topo, ckpts, request(infos, w, m, v, 100));
    return 0;
  }
  if (mode == "crash") {
    // Step 1 saved whole, then step 2 killed at one moment of its save: a rank for the moments
    // every rank passes, rank 0 (the only one there) for the commit's.
    const std::map<std::string, SavePoint> points{
        {"begin", SavePoint::begin},           {"written", SavePoint::written}, {"synced", SavePoint::synced},
        {"digest_stored", SavePoint::digest_stored}, {"renamed", SavePoint::renamed}, {"pointed", SavePoint::pointed}};
    const auto point = points.find(argc > 3 ? argv[3] : "synced");
    if (point == points.end()) return 2;
    save_checkpoint(world, topo, ckpts, request(infos, w, m, v, 1));
    SaveOptions opts;
    opts.at = [&](SavePoint at) {
      const bool every_rank = at == SavePoint::begin || at == SavePoint::written || at == SavePoint::synced;
      if (at == point->second && world.rank() == (every_rank ? world.size() - 1 : 0)) std::raise(SIGKILL);
    };
    save_checkpoint(world, topo, ckpts, request(infos, w, m, v, 2), opts);
    return 3;  // never reached: the job dies with its killed rank
  }
  if (mode == "loop") {
    const int64_t n = std::atoll(argv[3]);
    for (int64_t step = 1; step <= n; ++step) save_checkpoint(world, topo, ckpts, request(infos, w, m, v, step), {.keep = 2});
    return 0;
  }
  std::string ref = dir.string();
  if (mode == "resume") {
    const auto found = find_resumable(world, dir).file;
    if (!found) {
      std::fprintf(stderr, "no checkpoint verifies in %s\n", dir.c_str());
      return 1;
    }
    ref = found->string();
    log::info("resuming from {}", ref);
  }
  LoadRequest req;
  req.infos = infos;
  req.params = w.holding;
  req.m = m.holding;
  req.v = v.holding;
  std::fill(w.buffer.begin(), w.buffer.end(), NAN);
  std::fill(m.buffer.begin(), m.buffer.end(), NAN);
  std::fill(v.buffer.begin(), v.buffer.end(), NAN);
  const TrainingState st = load_training_state(world, topo, ref, config(), req);
  bool ok = check(w, "weights", world) && check(m, "m", world) && check(v, "v", world);
  ok = ok && st.optim_step == st.meta.step && st.loader.batch == static_cast<uint64_t>(st.meta.step);
  const auto all = world.all_gather(ok ? "1" : "0");
  for (const auto& r : all) ok = ok && r == "1";
  log::info("{} at dp {} x tp {}{} from {} (saved at dp {} x tp {}{}): {}", mode, topo.dp, topo.tp, zero ? " ZeRO" : "",
            st.file.filename().string(), st.meta.layout.dp, st.meta.layout.tp, st.meta.layout.zero ? " ZeRO" : "",
            ok ? "every element equal" : "MISMATCH");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto& world = parallel::World::init(&argc, &argv);
  log::set_rank(world.rank(), world.size());
  return parallel::run_guarded(world, [&] { return run(world, argc, argv); });
}
