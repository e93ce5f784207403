//===- ThreadsOption.h - --threads for mm-run and AOT binaries --*- C++ -*-===//
#ifndef MM_TOOLS_COMMON_THREADSOPTION_H
#define MM_TOOLS_COMMON_THREADSOPTION_H

namespace CLI {
class App;
}

namespace mm {

/// --threads N on `command`: the OpenMP threads the kernels run on (0, the
/// default: OpenMP's own choice, every core or OMP_NUM_THREADS).
void addThreadsOption(CLI::App &command, int &threads);

/// Applies a --threads value; returns the threads the kernels will use (1
/// in a build without OpenMP).
int useThreads(int threads);

} // namespace mm

#endif // MM_TOOLS_COMMON_THREADSOPTION_H
