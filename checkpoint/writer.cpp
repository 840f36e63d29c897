#include "checkpoint/writer.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "checkpoint/agree.h"
#include "checkpoint/attributes.h"
#include "checkpoint/h5io.h"
#include "checkpoint/schedule.h"
#include "core/sha256.h"

namespace tessera::checkpoint {

namespace {

// The pieces this rank writes of one set, tensor by tensor.
std::vector<std::vector<Piece>> pieces_to_write(const FileContent& c, const TensorSet& set,
                                                const parallel::Topology& topo) {
  std::vector<std::vector<Piece>> by_tensor(c.infos.size());
  for (const Piece& p : pieces_of(c.infos, topo.tp_rank, topo.tp, set.holding.spans)) {
    const bool replicated = c.infos[p.tensor].split == core::TpSplit::replicated;
    int parts = 1, index = 0;
    if (!set.holding.partitioned_over_dp) {
      parts = replicated ? topo.world_size : topo.dp;
      index = replicated ? topo.rank : topo.dp_rank;
    } else if (replicated) {
      parts = topo.tp;
      index = topo.tp_rank;
    }
    for (const Piece& q : split_piece(p, parts, index)) {
      if (q.numel() > 0) by_tensor[p.tensor].push_back(q);
    }
  }
  return by_tensor;
}

// Every element of every tensor written exactly once, counted over all ranks.
void check_coverage(const parallel::World& world, const FileContent& c,
                    const std::vector<std::vector<std::vector<Piece>>>& pieces) {
  std::vector<int64_t> mine;
  for (const auto& set : pieces) {
    for (const auto& tensor : set) {
      int64_t n = 0;
      for (const Piece& p : tensor) n += p.numel();
      mine.push_back(n);
    }
  }
  std::string bytes(mine.size() * sizeof(int64_t), '\0');
  std::memcpy(bytes.data(), mine.data(), bytes.size());
  std::vector<int64_t> total(mine.size(), 0);
  for (const std::string& r : world.all_gather(bytes)) {
    TESSERA_CHECK(r.size() == bytes.size(), "checkpoint save: ranks disagree on the tensors to write");
    for (size_t i = 0; i < total.size(); ++i) {
      int64_t v;
      std::memcpy(&v, r.data() + i * sizeof(int64_t), sizeof v);
      total[i] += v;
    }
  }
  size_t k = 0;
  for (const TensorSet& set : c.sets) {
    for (const auto& info : c.infos) {
      TESSERA_CHECK(total[k] == info.numel(),
                    "checkpoint save: the ranks hold {} elements of /{}/{}, which has {}: the holdings do not "
                    "cover the tensor exactly once",
                    total[k], set.group, info.name, info.numel());
      ++k;
    }
  }
}

// Every dataset of the file with its size, in a fixed order.
std::vector<Job> hash_jobs(const FileContent& c) {
  std::vector<Job> jobs;
  for (const TensorSet& set : c.sets) {
    for (const auto& info : c.infos) jobs.push_back({"/" + set.group + "/" + info.name, static_cast<uint64_t>(info.numel()) * 4});
  }
  if (c.optim_step) jobs.push_back({"/optim/step", 8});
  jobs.push_back({"/state/loader", c.loader_json.size()});
  jobs.push_back({"/state/rng", c.rng_json.size()});
  return jobs;
}

// This rank's share of the datasets (assign), each one's bytes hashed in place: lines
// "INDEX SHA256 OFFSET LENGTH".
std::vector<std::string> hash_share(const parallel::World& world, const std::string& path, const std::vector<Job>& jobs) {
  const std::vector<size_t> share = assign(jobs, world.size(), world.rank());
  std::vector<ByteRange> extents;
  {
    h5::QuietErrors quiet;
    const auto file = h5io::open_file(path, false, nullptr);
    for (size_t j : share) {
      const std::string what = path + ": " + jobs[j].name;
      auto dset = h5::checked(H5Dopen2(file.get(), jobs[j].name.c_str(), H5P_DEFAULT), H5Dclose, what);
      const auto extent = h5io::contiguous_extent(dset.get(), what);
      TESSERA_CHECK(extent.has_value(), "{} is not stored as one contiguous block", what);
      extents.push_back(*extent);
    }
  }
  const std::vector<std::string> digests = sha256_file_ranges(path, extents);
  std::vector<std::string> lines;
  for (size_t k = 0; k < share.size(); ++k) {
    lines.push_back(fmt::format("{} {} {} {}", share[k], digests[k], extents[k].offset, extents[k].length));
  }
  return lines;
}

void close_checked(h5io::Handle& file, const std::string& path) {
  h5::check(H5Fclose(file.release()), fmt::format("cannot close {} (disk full?)", path));
}

}  // namespace

void write_file(const parallel::World& world, const parallel::Topology& topo, const std::string& path,
                const FileContent& c) {
  std::vector<std::vector<std::vector<Piece>>> pieces;
  agree(&world, [&] {
    for (const TensorSet& set : c.sets) pieces.push_back(pieces_to_write(c, set, topo));
  });
  agree(&world, [&] { check_coverage(world, c, pieces); });

  const parallel::World* w = world.uses_mpi() ? &world : nullptr;
  {
    h5::QuietErrors quiet;
    auto file = h5io::create_file(path, w);
    attributes::write_meta(file.get(), c.meta, path);
    std::map<std::string, h5io::Handle> groups;
    for (const std::string g : {"model", "optim", "optim/m", "optim/v", "state"}) {
      const bool needed = g == "state" || (g == "optim" && c.optim_step) ||
                          std::any_of(c.sets.begin(), c.sets.end(), [&](const TensorSet& s) { return s.group == g; });
      if (needed) groups[g] = h5io::create_group(file.get(), g, path);
    }
    for (size_t s = 0; s < c.sets.size(); ++s) {
      TESSERA_CHECK(groups.count(c.sets[s].group), "checkpoint save: unknown tensor set '{}'", c.sets[s].group);
      const hid_t group = groups.at(c.sets[s].group).get();
      for (size_t i = 0; i < c.infos.size(); ++i) {
        const std::string what = fmt::format("{}: /{}/{}", path, c.sets[s].group, c.infos[i].name);
        auto dset = h5io::create_tensor(group, c.infos[i].name, c.infos[i].shape, what);
        attributes::write_tensor(dset.get(), c.infos[i], what);
        h5io::write_pieces(dset.get(), c.infos[i].shape, pieces[s][i], h5io::io_for(w, c.infos[i], topo.tp), what);
      }
    }
    if (c.optim_step) h5io::write_int_dataset(groups.at("optim").get(), "step", *c.optim_step, w, path);
    h5io::write_string_dataset(groups.at("state").get(), "loader", c.loader_json, w, path);
    h5io::write_string_dataset(groups.at("state").get(), "rng", c.rng_json, w, path);
    groups.clear();
    close_checked(file, path);
  }
  world.barrier();
}

std::vector<DigestRange> record_checksums(const parallel::World& world, const std::string& path, const FileContent& c) {
  // Digests of the bytes as they lie in the file, whatever layout wrote them.
  const std::vector<Job> jobs = hash_jobs(c);
  std::vector<std::string> mine;
  agree(&world, [&] { mine = hash_share(world, path, jobs); });
  std::vector<DigestRange> ranges;
  for (const std::string& result : gather_results(world, mine, jobs.size())) {
    DigestRange r;
    std::istringstream(result) >> r.sha256 >> r.offset >> r.length;
    r.label = jobs[ranges.size()].name;
    ranges.push_back(std::move(r));
  }
  {
    h5::QuietErrors quiet;
    auto file = h5io::open_file(path, true, world.uses_mpi() ? &world : nullptr);
    for (size_t j = 0; j < jobs.size(); ++j) {
      auto dset = h5::checked(H5Dopen2(file.get(), jobs[j].name.c_str(), H5P_DEFAULT), H5Dclose, jobs[j].name);
      h5io::write_attr(dset.get(), "sha256", ranges[j].sha256, path + ": " + jobs[j].name);
    }
    close_checked(file, path);
  }
  return ranges;
}

}  // namespace tessera::checkpoint
