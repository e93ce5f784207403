//===- CollectiveProbe.cpp - the collectives and their watchdog, on CPU ranks ===//
//
// mpirun -np N mm-collective-probe [--collective-timeout S] [--fail-rank R --fail MODE]
//
// Checks every collective's result exactly (all_reduce, all_gather,
// reduce_scatter, broadcast) (small integers in float), over
// the world and over each axis of a 2-d grid when N is even, then, with
// --fail, makes rank R die (kill), stall (stop: SIGSTOP, hang: sleep) or
// leave (exit) before the next collective: the others must exit non-zero
// within the timeout, naming themselves and the collective.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/dist/MpiCollectives.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace mm;

namespace {
void expect(bool ok, const std::string &what) {
  if (!ok)
    throw makeError("probe: wrong result of ", what);
}

void checkGroup(dist::Collectives &w, const std::vector<int> &group, const std::string &name) {
  // all_reduce: element i of rank r is r + i; the sum is known.
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(w.rank() + i);
  w.allReduce(x.data(), x.size(), DType::F32, dist::Reduction::Sum, group, name + " sum");
  int rankSum = 0;
  for (int r : group)
    rankSum += r;
  for (size_t i = 0; i < x.size(); ++i)
    expect(x[i] == static_cast<float>(rankSum + group.size() * i), name + " all_reduce sum");
  std::vector<int64_t> m{w.rank()};
  w.allReduce(m.data(), 1, DType::I64, dist::Reduction::Max, group, name + " max");
  int most = 0;
  for (int r : group)
    most = std::max(most, r);
  expect(m[0] == most, name + " all_reduce max");
  // all_gather: each rank's two values, in group order.
  std::vector<double> mine{double(w.rank()), -double(w.rank())}, all(2 * group.size());
  w.allGather(mine.data(), all.data(), 2, DType::F64, group, name + " gather");
  for (size_t i = 0; i < group.size(); ++i)
    expect(all[2 * i] == group[i] && all[2 * i + 1] == -group[i], name + " all_gather");
  // reduce_scatter: piece p of rank r holds r + p + j; position q keeps the
  // sum over the group of piece q.
  std::vector<float> pieces(3 * group.size()), kept(3);
  for (size_t p = 0; p < group.size(); ++p)
    for (int j = 0; j < 3; ++j)
      pieces[3 * p + j] = static_cast<float>(w.rank() + p + j);
  w.reduceScatter(pieces.data(), kept.data(), 3, DType::F32, dist::Reduction::Sum, group,
                  name + " reduce_scatter");
  size_t q = std::find(group.begin(), group.end(), w.rank()) - group.begin();
  for (int j = 0; j < 3; ++j)
    expect(kept[j] == static_cast<float>(rankSum + group.size() * (q + j)),
           name + " reduce_scatter");
}
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mm-collective-probe: the collectives and their timeout on CPU ranks"};
  double timeout = 60;
  int failRank = -1;
  std::string fail;
  app.add_option("--collective-timeout", timeout, "seconds a collective may wait");
  app.add_option("--fail-rank", failRank, "the rank that fails");
  app.add_option("--fail", fail, "how it fails")->check(CLI::IsMember({"kill", "stop", "hang", "exit"}));
  CLI11_PARSE(app, argc, argv);
  try {
    dist::initializeMpi(&argc, &argv, timeout);
    dist::Collectives &w = dist::world();
    std::vector<int> all;
    for (int r = 0; r < w.size(); ++r)
      all.push_back(r);
    checkGroup(w, all, "world");
    if (w.size() % 2 == 0) {
      std::vector<int64_t> grid{2, w.size() / 2};
      checkGroup(w, dist::gridGroup(grid, {0}, w.rank(), w.size()), "grid axis 0");
      checkGroup(w, dist::gridGroup(grid, {1}, w.rank(), w.size()), "grid axis 1");
      checkGroup(w, dist::gridGroup(grid, {1, 0}, w.rank(), w.size()), "grid axes 1,0");
    }
    std::vector<float> b{w.rank() == 0 ? 7.5f : 0.f};
    w.broadcast(b.data(), 1, DType::F32, 0, "broadcast");
    expect(b[0] == 7.5f, "broadcast");
    w.barrier("checks done");
    if (w.rank() == 0)
      std::printf("probe: %d ranks, every collective exact\n", w.size());
    std::fflush(stdout);
    if (w.rank() == failRank) {
      std::fprintf(stderr, "probe: rank %d fails (%s)\n", failRank, fail.c_str());
      if (fail == "kill")
        ::raise(SIGKILL);
      if (fail == "stop")
        ::raise(SIGSTOP);
      if (fail == "exit")
        std::_Exit(0);
      if (fail == "hang")
        std::this_thread::sleep_for(std::chrono::hours(1));
    }
    std::vector<float> g(4096, 1.f);
    w.allReduce(g.data(), g.size(), DType::F32, dist::Reduction::Sum, all, "gradients after the failure point");
    expect(g[0] == static_cast<float>(w.size()), "the last all_reduce");
    dist::finalizeMpi();
  } catch (const Error &e) {
    std::fprintf(stderr, "mm-collective-probe: %s\n", e.what());
    dist::abortRun(1);
  }
  return 0;
}
