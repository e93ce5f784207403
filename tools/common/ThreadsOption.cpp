//===- ThreadsOption.cpp --------------------------------------------------===//
#include "tools/common/ThreadsOption.h"
#include "runtime/Error.h"

#include <CLI/CLI.hpp>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace mm {

void addThreadsOption(CLI::App &command, int &threads) {
  command.add_option("--threads", threads, "OpenMP threads (default: all, or OMP_NUM_THREADS)")
      ->check(CLI::Range(0, 4096));
}

int useThreads(int threads) {
#ifdef _OPENMP
  if (threads > 0)
    omp_set_num_threads(threads);
  return omp_get_max_threads();
#else
  (void)threads;
  return 1;
#endif
}

} // namespace mm
