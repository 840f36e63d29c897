#pragma once
// World: this process's place in the job. Started by mpirun or srun (the launcher's environment
// says so), it initialises MPI; started alone, it is a world of one and never touches MPI, so
// single-process commands need no MPI set-up at all.
//
// The byte messages below are the rank-0 master's control plane (configs, plans, small results);
// tensor collectives live in the communicator. Collectives are called in the same order on every
// rank.
#include <string>
#include <vector>

namespace tessera::parallel {

class World {
 public:
  // Reads the launcher's environment; initialises MPI when launched by one.
  static World& init(int* argc, char*** argv);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // among ranks on this node
  int local_size() const { return local_size_; }
  bool is_root() const { return rank_ == 0; }
  bool uses_mpi() const { return uses_mpi_; }
  // The host each rank runs on (gathered once at start), and "rank R on HOST, ..." for ranks
  // (the first 8, then how many more).
  const std::string& host(int rank) const { return hosts_.at(static_cast<size_t>(rank)); }
  std::string describe(const std::vector<int>& ranks) const;

  void barrier() const;
  // A barrier whose ranks sleep between polls (every poll_s) instead of spinning in MPI: for ranks
  // that wait long while others work (replicas that do not serve), so they leave the cores free.
  void idle_barrier(double poll_s = 0.01) const;
  // root's bytes replace every other rank's `bytes`.
  void broadcast(std::string& bytes, int root = 0) const;
  // Every rank's bytes, in rank order, at root (other ranks get an empty vector).
  std::vector<std::string> gather(const std::string& bytes, int root = 0) const;
  // Every rank's bytes, in rank order, at every rank.
  std::vector<std::string> all_gather(const std::string& bytes) const;
  // Every rank's outcome of one step done on each rank (error: empty when it succeeded), the same
  // at every rank: empty when all succeeded; else the error of the lowest failing rank, naming it
  // and its host unless every rank failed. A step followed by collectives agrees first, so one
  // rank's failure cannot leave the others waiting in collectives it never joins.
  std::string agree(const std::string& error) const;

  // Stops every rank of the job now (MPI_Abort; this rank exits after 5 s at most, even when the
  // launcher cannot be reached); a world of one just exits.
  [[noreturn]] void abort(int code) const;

 private:
  World() = default;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool uses_mpi_ = false;
  std::vector<std::string> hosts_;
};

// True when the environment shows an MPI or Slurm launcher started this process.
bool launched_by_mpi();

}  // namespace tessera::parallel
