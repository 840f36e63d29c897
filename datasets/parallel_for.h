#pragma once
// body(i) for i in [0, n) on this rank's OpenMP threads. An exception must not escape an OpenMP
// region, so the first one is carried out and rethrown here.
#include <omp.h>

#include <cstddef>
#include <exception>

namespace tessera::datasets {

template <typename F>
void parallel_for(size_t n, F&& body) {
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 16)
  for (size_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical(tessera_parallel_for_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace tessera::datasets
