#pragma once
// MPI_CHECK(call): throws tessera::Error with MPI's own error string. Communicators use
// MPI_ERRORS_RETURN so that failures surface here instead of aborting inside the library.
#include <mpi.h>

#include "core/error.h"

#define MPI_CHECK(call)                                                          \
  do {                                                                           \
    const int mpi_check_rc_ = (call);                                            \
    if (mpi_check_rc_ != MPI_SUCCESS) {                                          \
      char mpi_check_msg_[MPI_MAX_ERROR_STRING];                                 \
      int mpi_check_len_ = 0;                                                    \
      MPI_Error_string(mpi_check_rc_, mpi_check_msg_, &mpi_check_len_);          \
      TESSERA_FAIL("{} failed: {}", #call, std::string(mpi_check_msg_, mpi_check_len_)); \
    }                                                                            \
  } while (0)
