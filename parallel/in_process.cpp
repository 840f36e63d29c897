#include "parallel/in_process.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "parallel/reduce.h"
#include "parallel/topology.h"

namespace tessera::parallel {

// The rendezvous: a generation-counted barrier plus every rank's buffer pointers.
namespace {

struct Shared {
  int size;
  std::string name;
  double timeout_s;
  InjectedFailure failure;
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  long generation = 0;
  std::vector<const void*> inputs;

  Shared(int n, std::string group_name, double timeout, InjectedFailure f)
      : size(n), name(std::move(group_name)), timeout_s(timeout), failure(f), inputs(static_cast<size_t>(n)) {}

  // Waits until every rank has arrived, or throws naming the operation when the deadline passes.
  void arrive(int rank, const char* op) {
    std::unique_lock<std::mutex> lock(mutex);
    const long my_generation = generation;
    if (++arrived == size) {
      arrived = 0;
      ++generation;
      cv.notify_all();
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    if (!cv.wait_until(lock, deadline, [&] { return generation != my_generation; })) {
      throw DeadlineError(fmt::format("{} on group '{}' (rank {} of {}) did not complete within {:.1f} s: a peer "
                                      "rank failed or hung", op, name, rank, size, timeout_s));
    }
  }
};

class InProcessCommunicator final : public Communicator {
 public:
  InProcessCommunicator(std::shared_ptr<Shared> shared, int rank)
      : shared_(std::move(shared)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return shared_->size; }
  const std::string& name() const override { return shared_->name; }

  std::unique_ptr<Work> all_reduce(void* data, size_t count, core::DType dtype, ReduceOp op) override {
    if (size() == 1) {  // a group of one (a single-process run): data is already the result
      collective("all_reduce", data, [] {});
      return std::make_unique<DoneWork>();
    }
    // Peers read `data` until the second rendezvous, so the result is built aside.
    const size_t bytes = count * core::dtype_size(dtype);
    const auto result = std::make_unique_for_overwrite<char[]>(bytes);
    collective("all_reduce", data, [&] {
      std::memcpy(result.get(), shared_->inputs[0], bytes);
      for (int r = 1; r < size(); ++r) reduce_into(result.get(), shared_->inputs[r], count, dtype, op);
    });
    std::memcpy(data, result.get(), bytes);
    return std::make_unique<DoneWork>();
  }

  std::unique_ptr<Work> reduce_scatter(const void* send, void* recv, size_t count, core::DType dtype,
                                       ReduceOp op) override {
    const size_t elem = core::dtype_size(dtype);
    const Range mine = shard_range(count, size(), rank_);
    collective("reduce_scatter", send, [&] {
      std::memcpy(recv, static_cast<const char*>(shared_->inputs[0]) + mine.begin * elem, mine.count * elem);
      for (int r = 1; r < size(); ++r) {
        reduce_into(recv, static_cast<const char*>(shared_->inputs[r]) + mine.begin * elem, mine.count, dtype, op);
      }
    });
    return std::make_unique<DoneWork>();
  }

  std::unique_ptr<Work> all_gather(const void* send, void* recv, size_t count, core::DType dtype) override {
    const size_t elem = core::dtype_size(dtype);
    collective("all_gather", send, [&] {
      for (int r = 0; r < size(); ++r) {
        const Range part = shard_range(count, size(), r);
        std::memcpy(static_cast<char*>(recv) + part.begin * elem, shared_->inputs[r], part.count * elem);
      }
    });
    return std::make_unique<DoneWork>();
  }

  std::unique_ptr<Work> broadcast(void* data, size_t count, core::DType dtype, int root) override {
    TESSERA_CHECK(root >= 0 && root < size(), "broadcast root {} is outside group '{}' of {}", root, name(), size());
    const size_t bytes = count * core::dtype_size(dtype);
    std::vector<char> result(bytes);
    collective("broadcast", data, [&] { std::memcpy(result.data(), shared_->inputs[root], bytes); });
    std::memcpy(data, result.data(), bytes);
    return std::make_unique<DoneWork>();
  }

  void barrier() override {
    collective("barrier", nullptr, [] {});
  }

 private:
  // Publish this rank's input, meet every rank, compute this rank's result from all inputs, and
  // meet again so that no rank changes its buffers while a peer may still read them.
  template <typename Compute>
  void collective(const char* op, const void* input, Compute&& compute) {
    const InjectedFailure& f = shared_->failure;
    if (f.kind != InjectedFailure::Kind::none && f.rank == rank_ && f.operation == operations_) {
      if (f.kind == InjectedFailure::Kind::throw_error) {
        TESSERA_FAIL("injected failure in {} on group '{}' (rank {})", op, name(), rank_);
      }
      return;  // hang: never arrive, so that the peers' deadline passes
    }
    ++operations_;
    shared_->inputs[rank_] = input;
    shared_->arrive(rank_, op);
    compute();
    shared_->arrive(rank_, op);
  }

  std::shared_ptr<Shared> shared_;
  int rank_;
  int operations_ = 0;
};

}  // namespace

std::vector<std::unique_ptr<Communicator>> make_in_process_group(int size, const std::string& name, double timeout_s,
                                                                 InjectedFailure failure) {
  TESSERA_CHECK(size >= 1, "a group needs at least one rank, got {}", size);
  auto shared = std::make_shared<Shared>(size, name, timeout_s, failure);
  std::vector<std::unique_ptr<Communicator>> ranks;
  for (int r = 0; r < size; ++r) ranks.push_back(std::make_unique<InProcessCommunicator>(shared, r));
  return ranks;
}

}  // namespace tessera::parallel
