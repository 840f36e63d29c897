#include "parallel/mpi_communicator.h"

#include <chrono>
#include <climits>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "parallel/mpi_check.h"
#include "parallel/reduce.h"
#include "parallel/topology.h"

namespace tessera::parallel {

MPI_Datatype mpi_datatype(core::DType dtype) {
  switch (dtype) {
    case core::DType::f32: return MPI_FLOAT;
    case core::DType::f64: return MPI_DOUBLE;
    case core::DType::i32: return MPI_INT32_T;
    case core::DType::i8: return MPI_INT8_T;
    case core::DType::bf16:
    case core::DType::f16: return MPI_UINT16_T;
  }
  TESSERA_FAIL("no MPI datatype for dtype {}", static_cast<int>(dtype));
}

namespace {

// User-defined MPI reductions for the 16-bit float types (MPI has no bf16).
template <core::DType D, ReduceOp Op>
void reduce_16bit(void* in, void* inout, int* len, MPI_Datatype*) {
  reduce_into(inout, in, static_cast<size_t>(*len), D, Op);
}

// One pending collective: done or failed, observed by Work::wait with a deadline.
struct Pending {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;

  void finish(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex);
    error = std::move(e);
    done = true;
    cv.notify_all();
  }
};

// Starts a collective's nonblocking MPI calls (a large buffer is several calls, in order). It owns
// the calls' count arrays, which MPI reads until completion, so it lives until then.
using Start = std::function<std::vector<MPI_Request>()>;

struct Queued {
  Start start;
  std::shared_ptr<Pending> pending;
};

struct InFlight {
  Start start;
  std::vector<MPI_Request> requests;
  std::shared_ptr<Pending> pending;
};

// How long the worker sleeps between progress polls while no thread waits on the group. Polling
// instead of blocking in MPI leaves the cores to computation while collectives run behind it.
constexpr auto kIdlePoll = std::chrono::microseconds(50);

class MpiCommunicator;

class MpiWork final : public Work {
 public:
  MpiWork(std::shared_ptr<Pending> pending, MpiCommunicator* comm, const char* op)
      : pending_(std::move(pending)), comm_(comm), op_(op) {}
  void wait() override;

 private:
  std::shared_ptr<Pending> pending_;
  MpiCommunicator* comm_;
  const char* op_;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm parent, int color, int key, std::string name, double timeout_s, std::string peers)
      : name_(std::move(name)), peers_(std::move(peers)), timeout_s_(timeout_s) {
    int level = 0;
    MPI_CHECK(MPI_Query_thread(&level));
    TESSERA_CHECK(level == MPI_THREAD_MULTIPLE, "MPI communicators need MPI_THREAD_MULTIPLE");
    MPI_CHECK(MPI_Comm_split(parent, color, key, &comm_));
    MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    MPI_CHECK(MPI_Comm_size(comm_, &size_));
    MPI_CHECK(MPI_Op_create(&reduce_16bit<core::DType::bf16, ReduceOp::sum>, 1, &bf16_sum_));
    MPI_CHECK(MPI_Op_create(&reduce_16bit<core::DType::bf16, ReduceOp::max>, 1, &bf16_max_));
    MPI_CHECK(MPI_Op_create(&reduce_16bit<core::DType::f16, ReduceOp::sum>, 1, &f16_sum_));
    MPI_CHECK(MPI_Op_create(&reduce_16bit<core::DType::f16, ReduceOp::max>, 1, &f16_max_));
    worker_ = std::thread([this] { run_worker(); });
  }

  ~MpiCommunicator() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
    if (abandoned_) return;  // its collective never completes: MPI_Abort follows, nothing to free
    for (MPI_Op* op : {&bf16_sum_, &bf16_max_, &f16_sum_, &f16_max_}) MPI_Op_free(op);
    MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& name() const override { return name_; }
  const std::string& peers() const { return peers_; }
  double timeout_s() const { return timeout_s_; }
  void abandon() {
    std::lock_guard<std::mutex> lock(mutex_);
    abandoned_ = true;
  }

  // A thread blocks in Work::wait: the worker polls without sleeping until it leaves.
  void waiting(int delta) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      waiters_ += delta;
    }
    cv_.notify_all();
  }

  std::unique_ptr<Work> all_reduce(void* data, size_t count, core::DType dtype, ReduceOp op) override {
    return submit("all_reduce", [=, this] {
      std::vector<MPI_Request> requests;
      const size_t elem = core::dtype_size(dtype);
      for (size_t done = 0; done < count;) {  // MPI counts are ints: large buffers go in chunks
        const int n = static_cast<int>(std::min<size_t>(count - done, INT_MAX / 2));
        MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, static_cast<char*>(data) + done * elem, n, mpi_datatype(dtype),
                                 mpi_op(dtype, op), comm_, &requests.emplace_back()));
        done += static_cast<size_t>(n);
      }
      return requests;
    });
  }

  std::unique_ptr<Work> reduce_scatter(const void* send, void* recv, size_t count, core::DType dtype,
                                       ReduceOp op) override {
    TESSERA_CHECK(count <= INT_MAX, "reduce_scatter of {} elements exceeds MPI's int counts", count);
    return submit("reduce_scatter", [=, this, counts = shard_counts(count)] {
      std::vector<MPI_Request> requests(1);
      MPI_CHECK(MPI_Ireduce_scatter(send, recv, counts.data(), mpi_datatype(dtype), mpi_op(dtype, op), comm_,
                                    &requests[0]));
      return requests;
    });
  }

  std::unique_ptr<Work> all_gather(const void* send, void* recv, size_t count, core::DType dtype) override {
    TESSERA_CHECK(count <= INT_MAX, "all_gather of {} elements exceeds MPI's int counts", count);
    std::vector<int> displs(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) displs[r] = static_cast<int>(shard_range(count, size_, r).begin);
    return submit("all_gather", [=, this, counts = shard_counts(count), displs = std::move(displs)] {
      std::vector<MPI_Request> requests(1);
      MPI_CHECK(MPI_Iallgatherv(send, counts[rank_], mpi_datatype(dtype), recv, counts.data(), displs.data(),
                                mpi_datatype(dtype), comm_, &requests[0]));
      return requests;
    });
  }

  std::unique_ptr<Work> broadcast(void* data, size_t count, core::DType dtype, int root) override {
    TESSERA_CHECK(root >= 0 && root < size_, "broadcast root {} is outside group '{}' of {}", root, name_, size_);
    return submit("broadcast", [=, this] {
      std::vector<MPI_Request> requests;
      const size_t elem = core::dtype_size(dtype);
      for (size_t done = 0; done < count;) {
        const int n = static_cast<int>(std::min<size_t>(count - done, INT_MAX / 2));
        MPI_CHECK(MPI_Ibcast(static_cast<char*>(data) + done * elem, n, mpi_datatype(dtype), root, comm_,
                             &requests.emplace_back()));
        done += static_cast<size_t>(n);
      }
      return requests;
    });
  }

  void barrier() override {
    submit("barrier", [this] {
      std::vector<MPI_Request> requests(1);
      MPI_CHECK(MPI_Ibarrier(comm_, &requests[0]));
      return requests;
    })->wait();
  }

 private:
  std::unique_ptr<Work> submit(const char* op, Start start) {
    auto pending = std::make_shared<Pending>();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back({std::move(start), pending});
    }
    cv_.notify_all();
    return std::make_unique<MpiWork>(std::move(pending), this, op);
  }

  // Starts queued collectives in call order and polls those in flight until they complete.
  void run_worker() {
    std::vector<InFlight> in_flight;
    for (;;) {
      std::deque<Queued> started;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        const auto woken = [this] { return stopping_ || !queue_.empty() || waiters_ > 0; };
        if (in_flight.empty()) {
          cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
          if (queue_.empty()) return;  // stopping with nothing left to do
        } else if (stopping_ && abandoned_) {
          return;  // the collectives in flight never complete: leave them to MPI_Abort
        } else if (waiters_ == 0) {
          cv_.wait_for(lock, kIdlePoll, woken);
        }
        started.swap(queue_);
      }
      for (Queued& q : started) start(q, in_flight);
      std::erase_if(in_flight, [](InFlight& f) { return poll(f); });
    }
  }

  void start(Queued& q, std::vector<InFlight>& in_flight) {
    try {
      std::vector<MPI_Request> requests = q.start();
      in_flight.push_back({std::move(q.start), std::move(requests), q.pending});
    } catch (...) {
      q.pending->finish(std::current_exception());
    }
  }

  // True once f's requests have completed (or failed); its waiter is then told.
  static bool poll(InFlight& f) {
    int flag = 0;
    try {
      MPI_CHECK(MPI_Testall(static_cast<int>(f.requests.size()), f.requests.data(), &flag, MPI_STATUSES_IGNORE));
    } catch (...) {
      f.pending->finish(std::current_exception());
      return true;
    }
    if (flag) f.pending->finish(nullptr);
    return flag != 0;
  }

  std::vector<int> shard_counts(size_t count) const {
    std::vector<int> counts(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) counts[r] = static_cast<int>(shard_range(count, size_, r).count);
    return counts;
  }

  MPI_Op mpi_op(core::DType dtype, ReduceOp op) const {
    if (dtype == core::DType::bf16) return op == ReduceOp::sum ? bf16_sum_ : bf16_max_;
    if (dtype == core::DType::f16) return op == ReduceOp::sum ? f16_sum_ : f16_max_;
    return op == ReduceOp::sum ? MPI_SUM : MPI_MAX;
  }

  std::string name_;
  std::string peers_;
  double timeout_s_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  MPI_Op bf16_sum_ = MPI_OP_NULL, bf16_max_ = MPI_OP_NULL, f16_sum_ = MPI_OP_NULL, f16_max_ = MPI_OP_NULL;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  int waiters_ = 0;
  bool stopping_ = false;
  bool abandoned_ = false;
};

void MpiWork::wait() {
  comm_->waiting(+1);
  std::unique_lock<std::mutex> lock(pending_->mutex);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(comm_->timeout_s());
  const bool done = pending_->cv.wait_until(lock, deadline, [&] { return pending_->done; });
  lock.unlock();
  comm_->waiting(-1);
  if (!done) {
    comm_->abandon();
    // MPI's collectives do not say which rank is missing; a group of two has only one suspect.
    throw DeadlineError(fmt::format(
        "{} on group '{}' (rank {} of {}) did not complete within {:.1f} s: {} failed, hung or cannot be reached: {}",
        op_, comm_->name(), comm_->rank(), comm_->size(), comm_->timeout_s(),
        comm_->size() == 2 ? "its other rank" : "one of its other ranks (MPI does not tell which)",
        comm_->peers().empty() ? "?" : comm_->peers()));
  }
  if (pending_->error) std::rethrow_exception(pending_->error);
}

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm parent, int color, int key, std::string name,
                                                    double timeout_s, std::string peers) {
  return std::make_unique<MpiCommunicator>(parent, color, key, std::move(name), timeout_s, std::move(peers));
}

}  // namespace tessera::parallel
