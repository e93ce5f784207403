//===- MpiCollectives.cpp -------------------------------------------------===//
#include "runtime/dist/MpiCollectives.h"
#include "runtime/Error.h"

#include <mpi.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

namespace mm::dist {

namespace {

MPI_Datatype mpiType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return MPI_FLOAT;
  case DType::F64:
    return MPI_DOUBLE;
  case DType::I64:
    return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

MPI_Op mpiOp(Reduction op) {
  switch (op) {
  case Reduction::Sum:
    return MPI_SUM;
  case Reduction::Max:
    return MPI_MAX;
  case Reduction::Min:
    return MPI_MIN;
  case Reduction::Product:
    return MPI_PROD;
  }
  return MPI_OP_NULL;
}

std::string listRanks(const std::vector<int> &group) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < group.size(); ++i)
    os << (i ? "," : "") << group[i];
  os << "]";
  return os.str();
}

class MpiCollectives final : public Collectives {
public:
  explicit MpiCollectives(double timeoutSeconds) : timeout(timeoutSeconds) {
    MPI_Comm_rank(MPI_COMM_WORLD, &myRank);
    MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
  }
  ~MpiCollectives() override {
    for (auto &[group, comm] : comms)
      MPI_Comm_free(&comm);
  }
  int rank() const override { return myRank; }
  int size() const override { return worldSize; }

  void allReduce(void *data, int64_t count, DType dtype, Reduction op,
                 const std::vector<int> &group, const std::string &what) override {
    if (count == 0)
      return; // every rank holds the same count
    MPI_Comm comm = commFor(group, what);
    // MPI counts are int: large tensors go in slices.
    auto *bytes = static_cast<char *>(data);
    for (int64_t done = 0; done < count;) {
      int n = static_cast<int>(std::min<int64_t>(count - done, INT_MAX / 2));
      MPI_Request request;
      check(MPI_Iallreduce(MPI_IN_PLACE, bytes + done * dtypeSize(dtype), n, mpiType(dtype),
                           mpiOp(op), comm, &request),
            "all_reduce", what, group);
      wait(request, "all_reduce", what, group);
      done += n;
    }
  }

  void allGather(const void *in, void *out, int64_t count, DType dtype,
                 const std::vector<int> &group, const std::string &what) override {
    if (count > INT_MAX)
      throw makeError(what, ": an all_gather of ", count, " elements per rank (more than MPI's ",
                      INT_MAX, ")");
    MPI_Comm comm = commFor(group, what);
    MPI_Request request;
    check(MPI_Iallgather(in, static_cast<int>(count), mpiType(dtype), out,
                         static_cast<int>(count), mpiType(dtype), comm, &request),
          "all_gather", what, group);
    wait(request, "all_gather", what, group);
  }

  void reduceScatter(const void *in, void *out, int64_t count, DType dtype, Reduction op,
                     const std::vector<int> &group, const std::string &what) override {
    if (count > INT_MAX)
      throw makeError(what, ": a reduce_scatter of ", count, " elements per rank (more than MPI's ",
                      INT_MAX, ")");
    MPI_Comm comm = commFor(group, what);
    MPI_Request request;
    check(MPI_Ireduce_scatter_block(in, out, static_cast<int>(count), mpiType(dtype), mpiOp(op),
                                    comm, &request),
          "reduce_scatter", what, group);
    wait(request, "reduce_scatter", what, group);
  }

  void broadcast(void *data, int64_t count, DType dtype, int root,
                 const std::string &what) override {
    if (count > INT_MAX)
      throw makeError(what, ": a broadcast of ", count, " elements (more than MPI's ", INT_MAX, ")");
    std::vector<int> all = everyone();
    MPI_Request request;
    check(MPI_Ibcast(data, static_cast<int>(count), mpiType(dtype), root, MPI_COMM_WORLD,
                     &request),
          "broadcast", what, all);
    wait(request, "broadcast", what, all);
  }

  void barrier(const std::string &what) override {
    MPI_Request request;
    std::vector<int> all = everyone();
    check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "barrier", what, all);
    wait(request, "barrier", what, all);
  }

private:
  int myRank = 0, worldSize = 1;
  double timeout;
  int64_t sequence = 0; // collectives started by this rank
  std::map<std::vector<int>, MPI_Comm> comms;

  std::vector<int> everyone() const {
    std::vector<int> all(worldSize);
    for (int i = 0; i < worldSize; ++i)
      all[i] = i;
    return all;
  }

  /// The communicator of a group. Every rank of the world reaches the same
  /// collective at the same point of the same program (SPMD), so each
  /// creates its group's communicator there together: MPI_Comm_split over the
  /// world, after a watched barrier so a dead rank times out rather than
  /// hanging the split.
  MPI_Comm commFor(const std::vector<int> &group, const std::string &what) {
    auto found = comms.find(group);
    if (found != comms.end())
      return found->second;
    int position = -1, color = INT_MAX;
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i] < 0 || group[i] >= worldSize)
        throw makeError(what, ": rank ", group[i], " is outside the world of ", worldSize);
      if (group[i] == myRank)
        position = static_cast<int>(i);
      color = std::min(color, group[i]);
    }
    if (position < 0)
      throw makeError(what, ": rank ", myRank, " runs a collective over ", listRanks(group),
                      ", a group without it");
    barrier(what + " (forming the group " + listRanks(group) + ")");
    MPI_Comm comm;
    check(MPI_Comm_split(MPI_COMM_WORLD, color, position, &comm), "comm_split", what, group);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    comms[group] = comm;
    return comm;
  }

  void check(int code, const char *kind, const std::string &what, const std::vector<int> &group) {
    if (code == MPI_SUCCESS)
      return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    std::fprintf(stderr, "mm: rank %d of %d: %s #%lld (%s) over ranks %s failed: %.*s\n", myRank,
                 worldSize, kind, static_cast<long long>(sequence), what.c_str(),
                 listRanks(group).c_str(), length, text);
    abortRun(1);
  }

  /// Polls `request` until done or the deadline. A short spin keeps small
  /// collectives fast; past it the rank sleeps between polls.
  void wait(MPI_Request &request, const char *kind, const std::string &what,
            const std::vector<int> &group) {
    ++sequence;
    auto start = std::chrono::steady_clock::now();
    for (int64_t polls = 0;; ++polls) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), kind, what, group);
      if (done)
        return;
      double waited =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout) {
        std::fprintf(stderr,
                     "mm: rank %d of %d: collective timeout: %s #%lld (%s) over ranks %s did not "
                     "complete in %g s (--collective-timeout); another rank of the group died "
                     "or stalled. Exiting.\n",
                     myRank, worldSize, kind, static_cast<long long>(sequence), what.c_str(),
                     listRanks(group).c_str(), timeout);
        abortRun(124);
      }
      if (polls > 2000)
        std::this_thread::sleep_for(std::chrono::microseconds(polls > 20000 ? 1000 : 50));
    }
  }
};

bool mpiActive() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

} // namespace

bool launchedByMpi() {
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name))
      return true;
  return false;
}

void initializeMpi(int *argc, char ***argv, double timeoutSeconds) {
  if (!(timeoutSeconds > 0))
    throw makeError("--collective-timeout must be positive, got ", timeoutSeconds);
  int provided = 0;
  // Kernels run OpenMP threads; only the main thread calls MPI.
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw makeError("MPI_Init_thread failed");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  setWorld(std::make_unique<MpiCollectives>(timeoutSeconds));
  shareCoresAmongLocalRanks();
}

void shareCoresAmongLocalRanks() {
#ifdef _OPENMP
  if (std::getenv("OMP_NUM_THREADS") || world().size() == 1)
    return;
  // OpenMP would start one thread per core in every rank; ranks sharing a
  // node then oversubscribe it, and spinning threads starve the others.
  MPI_Comm node;
  int local = 1;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
      MPI_SUCCESS) {
    MPI_Comm_size(node, &local);
    MPI_Comm_free(&node);
  }
  omp_set_num_threads(std::max(1, omp_get_num_procs() / std::max(1, local)));
#endif
}

void finalizeMpi() {
  if (!mpiActive())
    return;
  setWorld(std::make_unique<SingleProcess>());
  MPI_Finalize();
}

void abortRun(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (mpiActive() && world().size() > 1)
    std::_Exit(code); // no Finalize: it would wait for the ranks that failed
  finalizeMpi();
  std::exit(code);
}

} // namespace mm::dist
