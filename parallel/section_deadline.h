#pragma once
// A deadline for collective work that has none of its own (a parallel HDF5 checkpoint write: MPI-IO
// collectives block in MPI): a peer rank that dies or hangs meanwhile would leave this rank waiting
// for ever. A SectionDeadline watches the scope it lives in from a thread of its own; a scope still
// running after budget_s is reported, naming the job's other ranks and hosts, and, after
// kDeadlineGrace (guard.h), the job is stopped with World::abort.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "parallel/world.h"

namespace tessera::parallel {

class SectionDeadline {
 public:
  SectionDeadline(const World& world, std::string what, double budget_s);
  ~SectionDeadline();  // the section ended in time: the watch ends
  SectionDeadline(const SectionDeadline&) = delete;
  SectionDeadline& operator=(const SectionDeadline&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread watch_;
};

}  // namespace tessera::parallel
