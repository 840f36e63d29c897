#include "parallel/world.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <numeric>
#include <thread>

#include <unistd.h>

#include "parallel/mpi_check.h"

namespace tessera::parallel {

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(var)) return true;
  }
  const char* ntasks = std::getenv("SLURM_STEP_NUM_TASKS");
  return std::getenv("SLURM_STEP_ID") && ntasks && std::atoi(ntasks) > 1;
}

namespace {
std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("?");
}
}  // namespace

World& World::init(int* argc, char*** argv) {
  static World world;
  if (world.hosts_.empty()) world.hosts_ = {host_name()};
  if (world.uses_mpi_ || !launched_by_mpi()) return world;
  int provided = 0;
  // Communicators run their collectives on worker threads beside the main thread.
  MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
  TESSERA_CHECK(provided == MPI_THREAD_MULTIPLE, "the MPI library does not support MPI_THREAD_MULTIPLE");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  world.uses_mpi_ = true;
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world.rank_));
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world.size_));
  MPI_Comm node;
  MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank_, MPI_INFO_NULL, &node));
  MPI_CHECK(MPI_Comm_rank(node, &world.local_rank_));
  MPI_CHECK(MPI_Comm_size(node, &world.local_size_));
  MPI_Comm_free(&node);
  world.hosts_ = world.all_gather(world.hosts_[0]);
  return world;
}

World::~World() {
  int finalized = 0;
  if (uses_mpi_ && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) MPI_Finalize();
}

void World::barrier() const {
  if (uses_mpi_) MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

void World::idle_barrier(double poll_s) const {
  if (!uses_mpi_) return;
  MPI_Request request;
  MPI_CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &request));
  for (int done = 0;;) {
    MPI_CHECK(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) return;
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
  }
}

void World::broadcast(std::string& bytes, int root) const {
  if (!uses_mpi_) return;
  long long size = static_cast<long long>(bytes.size());
  MPI_CHECK(MPI_Bcast(&size, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD));
  TESSERA_CHECK(size <= INT_MAX, "broadcast of {} bytes exceeds the 2 GiB message limit", size);
  bytes.resize(static_cast<size_t>(size));
  MPI_CHECK(MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, root, MPI_COMM_WORLD));
}

namespace {
// Concatenated bytes and per-rank counts -> one string per rank.
std::vector<std::string> split(const std::vector<char>& all, const std::vector<int>& counts) {
  std::vector<std::string> parts;
  size_t offset = 0;
  for (int c : counts) {
    parts.emplace_back(all.data() + offset, static_cast<size_t>(c));
    offset += static_cast<size_t>(c);
  }
  return parts;
}

std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> displs(counts.size(), 0);
  long long total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    TESSERA_CHECK(total <= INT_MAX, "gather of more than 2 GiB");
    displs[i] = static_cast<int>(total);
    total += counts[i];
  }
  TESSERA_CHECK(total <= INT_MAX, "gather of more than 2 GiB");
  return displs;
}
}  // namespace

std::vector<std::string> World::gather(const std::string& bytes, int root) const {
  if (!uses_mpi_) return {bytes};
  TESSERA_CHECK(bytes.size() <= INT_MAX, "gather of {} bytes exceeds the 2 GiB message limit", bytes.size());
  const int mine = static_cast<int>(bytes.size());
  std::vector<int> counts(rank_ == root ? size_ : 0);
  MPI_CHECK(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, root, MPI_COMM_WORLD));
  std::vector<int> displs = rank_ == root ? displacements(counts) : std::vector<int>{};
  std::vector<char> all(rank_ == root ? std::accumulate(counts.begin(), counts.end(), size_t{0}) : 0);
  MPI_CHECK(MPI_Gatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                        root, MPI_COMM_WORLD));
  return rank_ == root ? split(all, counts) : std::vector<std::string>{};
}

std::vector<std::string> World::all_gather(const std::string& bytes) const {
  if (!uses_mpi_) return {bytes};
  TESSERA_CHECK(bytes.size() <= INT_MAX, "all_gather of {} bytes exceeds the 2 GiB message limit", bytes.size());
  const int mine = static_cast<int>(bytes.size());
  std::vector<int> counts(size_);
  MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD));
  const std::vector<int> displs = displacements(counts);
  std::vector<char> all(std::accumulate(counts.begin(), counts.end(), size_t{0}));
  MPI_CHECK(MPI_Allgatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                           MPI_COMM_WORLD));
  return split(all, counts);
}

std::string World::agree(const std::string& error) const {
  if (size_ == 1) return error;
  const std::vector<std::string> all = all_gather(error);
  const auto failed = std::find_if(all.begin(), all.end(), [](const std::string& e) { return !e.empty(); });
  if (failed == all.end()) return "";
  const bool everyone = std::none_of(all.begin(), all.end(), [](const std::string& e) { return e.empty(); });
  if (everyone) return all.front();
  const int rank = static_cast<int>(failed - all.begin());
  return fmt::format("rank {} on {}: {}", rank, host(rank), *failed);
}

std::string World::describe(const std::vector<int>& ranks) const {
  constexpr size_t kListed = 8;  // a long list names its first ranks and counts the rest
  std::string out;
  for (size_t i = 0; i < ranks.size() && i < kListed; ++i) {
    out += fmt::format("{}rank {} on {}", i ? ", " : "", ranks[i], host(ranks[i]));
  }
  if (ranks.size() > kListed) out += fmt::format(" and {} more", ranks.size() - kListed);
  return out;
}

void World::abort(int code) const {
  if (uses_mpi_) {
    // MPI_Abort asks the launcher to end every rank. A launcher that cannot reach a host (a cut
    // link) may never get to this rank: it leaves on its own after a bounded wait.
    constexpr auto kAbortGrace = std::chrono::seconds(5);
    std::thread([code, kAbortGrace] {
      std::this_thread::sleep_for(kAbortGrace);
      std::_Exit(code);
    }).detach();
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  std::_Exit(code);
}

}  // namespace tessera::parallel
