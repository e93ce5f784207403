"""`mpirun -np N mm-train pretrain --parallel dp=N` gives the single-process
run, up to float32 reduction order; checkpoints move between world sizes; a
stalled rank ends the run within --collective-timeout; bad layouts are refused.

Usage: check_data_parallel.py MM_TRAIN MODEL_DIR

Tolerances: train_runs.py.
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from mpi_launch import mpirun, stall_rank_one  # noqa: E402
from train_runs import TrainRuns  # noqa: E402

runs = TrainRuns(sys.argv[1], sys.argv[2], tempfile.mkdtemp(prefix="mm-dp-"))
work, failures, check, args, single, same_run = (runs.work, runs.failures, runs.check, runs.args,
                                                 runs.single, runs.same_run)


code, _, err = single(args("one"))
check(code == 0, "one process trains" + ("" if code == 0 else ": " + err[-2000:]))
for n in (2, 4):
    code, out, err, _ = mpirun(n, args(f"dp{n}", extra=["--parallel", f"dp={n}"]), timeout=600)
    check(code == 0, f"{n} ranks train" + ("" if code == 0 else ": " + (out + err)[-3000:]))
    if code == 0:
        same_run("one", f"dp{n}", f"dp={n} (ZeRO-1) against one process")
        check(err.count("mm-train: 6 steps") == 1, f"dp={n}: only rank 0 reports")
        # ZeRO-1 keeps about 1/n of the moments per rank (weights whose rows
        # do not split stay whole: the norm gains of width 64 do split here).
        m = re.search(r"AdamW moments: (\d+) KiB per rank of (\d+) KiB \(ZeRO-1\)", err)
        check(m is not None and int(m.group(1)) * n <= int(m.group(2)) * 1.05,
              f"dp={n}: the moments per rank are 1/{n} of the whole" + (f" ({m.group(0)})" if m else err[-1500:]))
code, out, err, _ = mpirun(2, args("dp2none", extra=["--parallel", "dp=2", "--optimizer-sharding", "none"]),
                           timeout=600)
check(code == 0, "2 ranks train with replicated moments" + ("" if code == 0 else ": " + (out + err)[-3000:]))
if code == 0:
    same_run("one", "dp2none", "dp=2 (replicated moments) against one process")

# The reference executor runs the partitioned graph too (the oracle).
code, _, err = single(args("ref1", steps=2, backend="reference"))
check(code == 0, "one process trains on the reference executor" + ("" if code == 0 else err[-2000:]))
code, out, err, _ = mpirun(2, args("ref2", steps=2, backend="reference", extra=["--parallel", "dp=2"]),
                           timeout=600)
check(code == 0, "2 ranks on the reference executor" + ("" if code == 0 else (out + err)[-3000:]))
if code == 0:
    same_run("ref1", "ref2", "reference, dp=2 against one process")

# Checkpoints written by N ranks load on M ranks: resume from step 3.
for src, n, dst in (("dp2", 1, "from2to1"), ("one", 2, "from1to2")):
    shutil.copytree(os.path.join(work, src), os.path.join(work, dst))
    for name in ("step-00000006", ):
        shutil.rmtree(os.path.join(work, dst, "checkpoints", name))
    os.remove(os.path.join(work, dst, "model.safetensors"))
    extra = ["--resume"] + (["--parallel", f"dp={n}"] if n > 1 else [])
    if n == 1:
        code, _, err = single(args(dst, extra=extra))
    else:
        code, out, err, _ = mpirun(n, args(dst, extra=extra), timeout=600)
    check(code == 0 and "resuming from" in err, f"a checkpoint of {src} resumes on {n} rank(s)"
          + ("" if code == 0 else err[-2000:]))
    if code == 0:
        same_run("one", dst, f"{src} resumed on {n} rank(s)")

# Refusals name the flag.
for n, extra, batch, want in (
        (2, ["--parallel", "ep=2"], 4, "experts split across data-parallel replicas"),
        (2, ["--parallel", "dp=2"], 3, "--batch-size 3 does not split evenly over dp=2"),
        (2, ["--parallel", "dp=3"], 4, "dp=3"),
        (1, ["--parallel", "dp=2"], 4, "dp=2")):
    argv = args(f"bad{len(failures)}-{n}-{batch}-{extra[1]}", batch=batch, extra=extra)
    if n == 1:
        code, out, err = single(argv)
    else:
        code, out, err, _ = mpirun(n, argv, timeout=120)
    check(code not in (0, None) and want in err,
          f"{n} rank(s), {' '.join(extra)}, --batch-size {batch}: refused naming '{want}'"
          + ("" if want in err else "\n" + err[-1500:]))

# A stalled rank: the other exits within the timeout, naming the collective.
TIMEOUT = 5
code, err, seconds = stall_rank_one(
    args("stall", steps=100000, extra=["--parallel", "dp=2", "--collective-timeout", str(TIMEOUT)]),
    lambda: os.path.exists(os.path.join(work, "stall", "checkpoints")),  # past the compile
    "stall", TIMEOUT)
if err is None:
    check(False, "found rank 1 of the stalled run")
else:
    check(code not in (0, None), f"rank 1 stopped: the run exits non-zero (exit {code})")
    check(seconds < TIMEOUT + 30, f"rank 1 stopped: within {TIMEOUT + 30} s ({seconds:.1f} s)")
    named = re.search(r"rank 0 of 2: collective timeout: (all_reduce|reduce_scatter|all_gather) #\d+ "
                      r"\(\S+", err)
    check(named is not None, "rank 0 names itself and the collective"
          + (": " + named.group(0) if named else "\n" + err[-2000:]))

if failures:
    print(f"{len(failures)} check(s) failed; work directory {work}")
    sys.exit(1)
shutil.rmtree(work, ignore_errors=True)
print("data-parallel training checks passed")
