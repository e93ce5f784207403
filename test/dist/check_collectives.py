"""The collectives over MPI ranks are exact, and a dead or stalled rank never
hangs the others: they exit non-zero within --collective-timeout, naming
themselves and the collective they waited in."""
import sys

from mpi_launch import mpirun

probe = sys.argv[1]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


for n in (1, 2, 4):
    code, out, err, _ = mpirun(n, [probe], timeout=120)
    check(code == 0 and f"probe: {n} ranks, every collective exact" in out,
          f"{n} ranks: all_reduce, all_gather over the world and over grid axes, broadcast"
          + ("" if code == 0 else f" (exit {code}: {err[-2000:]})"))

TIMEOUT = 3
# Launch and MPI setup take a few seconds on two shared cores; the bound is
# the timeout plus that, far below a hang.
BOUND = TIMEOUT + 25
for n, rank, mode in ((2, 1, "stop"), (2, 1, "kill"), (4, 2, "hang"), (2, 0, "exit"), (4, 3, "stop")):
    code, out, err, seconds = mpirun(
        n, [probe, "--collective-timeout", str(TIMEOUT), "--fail-rank", str(rank), "--fail", mode],
        timeout=120)
    what = f"{n} ranks, rank {rank} {mode}s: "
    check(code is not None and code != 0, what + f"mpirun exits non-zero (exit {code})")
    check(seconds < BOUND, what + f"within {BOUND} s ({seconds:.1f} s)")
    if mode in ("stop", "hang"):
        # A live rank's watchdog fired: it names itself and the collective.
        named = any(f"rank {r} of {n}: collective timeout: all_reduce" in err and
                    "gradients after the failure point" in err for r in range(n) if r != rank)
        check(named, what + "a waiting rank names itself and the collective"
              + ("" if named else "\n" + err[-3000:]))

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all collective checks passed")
