//===- MpiCollectives.h - ranks over MPI, with a watchdog -------*- C++ -*-===//
//
// CPU ranks launched by mpirun (or srun through OpenMPI). Every collective is
// MPI's nonblocking form, polled against a deadline: when a peer dies or stalls
// (killed, SIGSTOPped, stuck), the waiting rank prints which rank it is, the
// collective, its sequence number and what it carried, and exits non-zero
// within the timeout, as NCCL's and PyTorch's watchdogs do. The launcher then
// takes the rest of the job down. No hang, ever.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_DIST_MPICOLLECTIVES_H
#define MM_RUNTIME_DIST_MPICOLLECTIVES_H

#include "runtime/dist/Collectives.h"

namespace mm::dist {

/// True when this process was started by an MPI launcher (OpenMPI's or
/// PMI's environment), so a tool should bring up MPI.
bool launchedByMpi();

/// Initializes MPI and installs it as `world()`. `timeoutSeconds` bounds
/// every collective. Exits through `abortRun` rather than MPI_Finalize when
/// the process fails, so a failing rank cannot hang in Finalize either.
void initializeMpi(int *argc, char ***argv, double timeoutSeconds);

/// Unless OMP_NUM_THREADS says otherwise, gives each rank its share of the
/// node's cores as OpenMP threads (initializeMpi calls it; a tool's
/// --threads still overrides it).
void shareCoresAmongLocalRanks();

/// Ends MPI normally (all ranks reach this).
void finalizeMpi();

/// A rank failed: prints nothing itself, ends the process with `code` without
/// a collective Finalize (the launcher tears the other ranks down). In a
/// single-process run it is std::exit.
[[noreturn]] void abortRun(int code);

} // namespace mm::dist

#endif // MM_RUNTIME_DIST_MPICOLLECTIVES_H
