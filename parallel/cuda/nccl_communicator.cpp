#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/cuda/cuda_check.h"
#include "core/log.h"
#include "parallel/mpi_check.h"
#include "parallel/nccl_communicator.h"
#include "parallel/topology.h"

#define NCCL_CHECK(call)                                                               \
  do {                                                                                 \
    const ncclResult_t nccl_rc_ = (call);                                              \
    TESSERA_CHECK(nccl_rc_ == ncclSuccess, "{} failed: {}", #call, ncclGetErrorString(nccl_rc_)); \
  } while (0)

namespace tessera::parallel {

bool built_with_nccl() { return true; }

namespace {

ncclDataType_t nccl_type(core::DType dtype) {
  switch (dtype) {
    case core::DType::f32: return ncclFloat32;
    case core::DType::f64: return ncclFloat64;
    case core::DType::bf16: return ncclBfloat16;
    case core::DType::f16: return ncclFloat16;
    case core::DType::i32: return ncclInt32;
    case core::DType::i8: return ncclInt8;
  }
  TESSERA_FAIL("no NCCL type for dtype {}", static_cast<int>(dtype));
}

ncclRedOp_t nccl_op(ReduceOp op) { return op == ReduceOp::sum ? ncclSum : ncclMax; }

class NcclCommunicator;

// A CUDA event shared by the watchdog and the Work handles that refer to it.
struct Event {
  cudaEvent_t event = nullptr;
  Event() { CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming)); }
  ~Event() { cudaEventDestroy(event); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
};

// Completion of one collective on the communicator's stream.
class NcclWork final : public Work {
 public:
  NcclWork(NcclCommunicator* comm, std::shared_ptr<Event> done) : comm_(comm), done_(std::move(done)) {}
  void wait() override;

 private:
  NcclCommunicator* comm_;
  std::shared_ptr<Event> done_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(MPI_Comm parent, int color, int key, std::string name, double timeout_s, cudaStream_t compute)
      : name_(std::move(name)), timeout_s_(timeout_s), compute_(compute) {
    MPI_Comm group;
    MPI_CHECK(MPI_Comm_split(parent, color, key, &group));
    MPI_CHECK(MPI_Comm_rank(group, &rank_));
    MPI_CHECK(MPI_Comm_size(group, &size_));
    ncclUniqueId id;
    if (rank_ == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    MPI_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, group));
    MPI_Comm_free(&group);
    NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    watchdog_ = std::thread([this] { watch(); });
  }

  ~NcclCommunicator() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    watchdog_.join();
    if (!aborted_) ncclCommDestroy(comm_);
    pending_.clear();
    if (scratch_) cudaFreeAsync(scratch_, stream_);
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& name() const override { return name_; }
  cudaStream_t compute_stream() const { return compute_; }

  std::unique_ptr<Work> all_reduce(void* data, size_t count, core::DType dtype, ReduceOp op) override {
    return launch("all_reduce", [&] {
      NCCL_CHECK(ncclAllReduce(data, data, count, nccl_type(dtype), nccl_op(op), comm_, stream_));
    });
  }

  // NCCL's reduce-scatter and all-gather need equal parts: uneven counts go through a padded
  // buffer of size * ceil(count / size) elements.
  std::unique_ptr<Work> reduce_scatter(const void* send, void* recv, size_t count, core::DType dtype,
                                       ReduceOp op) override {
    const Range mine = shard_range(count, size_, rank_);
    if (count % static_cast<size_t>(size_) == 0) {
      return launch("reduce_scatter", [&] {
        NCCL_CHECK(ncclReduceScatter(send, recv, mine.count, nccl_type(dtype), nccl_op(op), comm_, stream_));
      });
    }
    const size_t part = (count + size_ - 1) / size_, elem = core::dtype_size(dtype);
    char* padded = scratch((part * size_ + part) * elem);
    char* out = padded + part * size_ * elem;
    return launch("reduce_scatter", [&] {
      CUDA_CHECK(cudaMemsetAsync(padded, 0, part * size_ * elem, stream_));
      for (int r = 0; r < size_; ++r) {
        const Range range = shard_range(count, size_, r);
        CUDA_CHECK(cudaMemcpyAsync(padded + r * part * elem, static_cast<const char*>(send) + range.begin * elem,
                                          range.count * elem, cudaMemcpyDeviceToDevice, stream_));
      }
      NCCL_CHECK(ncclReduceScatter(padded, out, part, nccl_type(dtype), nccl_op(op), comm_, stream_));
      CUDA_CHECK(cudaMemcpyAsync(recv, out, mine.count * elem, cudaMemcpyDeviceToDevice, stream_));
    });
  }

  std::unique_ptr<Work> all_gather(const void* send, void* recv, size_t count, core::DType dtype) override {
    const Range mine = shard_range(count, size_, rank_);
    if (count % static_cast<size_t>(size_) == 0) {
      return launch("all_gather", [&] {
        NCCL_CHECK(ncclAllGather(send, recv, mine.count, nccl_type(dtype), comm_, stream_));
      });
    }
    const size_t part = (count + size_ - 1) / size_, elem = core::dtype_size(dtype);
    char* padded = scratch((part * size_ + part) * elem);
    char* in = padded + part * size_ * elem;
    return launch("all_gather", [&] {
      CUDA_CHECK(cudaMemcpyAsync(in, send, mine.count * elem, cudaMemcpyDeviceToDevice, stream_));
      NCCL_CHECK(ncclAllGather(in, padded, part, nccl_type(dtype), comm_, stream_));
      for (int r = 0; r < size_; ++r) {
        const Range range = shard_range(count, size_, r);
        CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(recv) + range.begin * elem, padded + r * part * elem,
                                          range.count * elem, cudaMemcpyDeviceToDevice, stream_));
      }
    });
  }

  std::unique_ptr<Work> broadcast(void* data, size_t count, core::DType dtype, int root) override {
    TESSERA_CHECK(root >= 0 && root < size_, "broadcast root {} is outside group '{}' of {}", root, name_, size_);
    return launch("broadcast", [&] {
      NCCL_CHECK(ncclBroadcast(data, data, count, nccl_type(dtype), root, comm_, stream_));
    });
  }

  void barrier() override {
    float* one = reinterpret_cast<float*>(scratch(sizeof(float)));
    launch("barrier", [&] { NCCL_CHECK(ncclAllReduce(one, one, 1, ncclFloat32, ncclSum, comm_, stream_)); })->wait();
    CUDA_CHECK(cudaStreamSynchronize(compute_));
  }

  void raise_if_failed() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_.empty()) TESSERA_FAIL("{}", failure_);
  }

 private:
  struct Pending {
    std::shared_ptr<Event> done;
    const char* op;
    std::chrono::steady_clock::time_point deadline;
  };

  // Orders the collective after the compute stream's queued work, enqueues it on the
  // communicator's stream and hands the completion event to the watchdog.
  template <typename Enqueue>
  std::unique_ptr<Work> launch(const char* op, Enqueue&& enqueue) {
    raise_if_failed();
    CUDA_CHECK(cudaEventRecord(ready_.event, compute_));
    CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_.event, 0));
    enqueue();
    auto done = std::make_shared<Event>();
    CUDA_CHECK(cudaEventRecord(done->event, stream_));
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(timeout_s_));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back({done, op, deadline});
    }
    cv_.notify_all();
    return std::make_unique<NcclWork>(this, done);
  }

  // Device scratch memory of at least `bytes`, reused across calls; the stream orders its uses.
  char* scratch(size_t bytes) {
    if (bytes > scratch_bytes_) {
      if (scratch_) CUDA_CHECK(cudaFreeAsync(scratch_, stream_));
      CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&scratch_), bytes, stream_));
      scratch_bytes_ = bytes;
    }
    return scratch_;
  }

  // Polls the oldest pending collective; past its deadline, aborts the communicator.
  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (pending_.empty() || aborted_) {
        cv_.wait(lock);
        continue;
      }
      Pending& oldest = pending_.front();
      const cudaError_t state = cudaEventQuery(oldest.done->event);
      if (state == cudaSuccess) {
        pending_.pop_front();
        continue;
      }
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm_, &async);
      const bool late = std::chrono::steady_clock::now() > oldest.deadline;
      if (late || async != ncclSuccess || state != cudaErrorNotReady) {
        failure_ = fmt::format("{} on group '{}' (rank {} of {}) {}: a peer rank failed or hung", oldest.op, name_,
                               rank_, size_,
                               late ? fmt::format("did not complete within {:.1f} s", timeout_s_)
                                    : fmt::format("failed: {}", async != ncclSuccess ? ncclGetErrorString(async)
                                                                                     : cudaGetErrorString(state)));
        log::error("{}", failure_);
        ncclCommAbort(comm_);  // releases kernels blocked in this communicator
        aborted_ = true;
        continue;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(1));
    }
  }

  std::string name_;
  double timeout_s_;
  cudaStream_t compute_;
  int rank_ = 0, size_ = 1;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  Event ready_;  // marks the compute stream's queued work
  char* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  std::thread watchdog_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;
  std::string failure_;
  bool stopping_ = false, aborted_ = false;
};

void NcclWork::wait() {
  comm_->raise_if_failed();
  CUDA_CHECK(cudaStreamWaitEvent(comm_->compute_stream(), done_->event, 0));
}

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm parent, int color, int key, std::string name,
                                                     double timeout_s, void* compute_stream) {
  return std::make_unique<NcclCommunicator>(parent, color, key, std::move(name), timeout_s,
                                            static_cast<cudaStream_t>(compute_stream));
}

}  // namespace tessera::parallel
