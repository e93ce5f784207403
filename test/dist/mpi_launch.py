"""mpirun for the tests: CPU ranks, oversubscribed, allowed as root (CI runs as root)."""
import os
import signal
import subprocess
import time


def rank_env(extra=None):
    """The ranks' environment. Under AddressSanitizer, leak detection is off
    for MPI ranks: OpenMPI leaks at MPI_Init in components it dlopens and
    unloads again, where no suppression can name them. Every other
    sanitizer check stays on, and mmc's own code is leak-checked by the
    single-process tests."""
    env = dict(os.environ)
    env.update(extra or {})
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return env


def mpirun(n, argv, timeout, env=None):
    """Runs argv on n ranks; returns (exit code, stdout, stderr, seconds).
    A run past `timeout` is a hang: its process group is killed and the
    code is None."""
    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(n),
           "--mca", "btl", "self,vader", "--bind-to", "none"] + list(argv)
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, env=rank_env(env))
    try:
        out, err = p.communicate(timeout=timeout)
        code = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, err = p.communicate()
        code = None
    return code, out, err, time.monotonic() - start


def stall_rank_one(argv, ready, marker, timeout, grace=30):
    """Runs argv on 2 ranks, waits until ready() (the run is past its
    compile) and one more second, then SIGSTOPs rank 1 (the process whose
    command line holds `marker`). Returns (exit code, stderr, seconds from
    the stop to the end); code None: the run hung past timeout + grace and
    was killed; stderr None: rank 1 was never found."""
    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "--mca", "btl",
           "self,vader", "--bind-to", "none"] + list(argv)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, env=rank_env())
    victim, deadline = None, time.monotonic() + 300
    try:
        while victim is None and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.5)
            if not ready():
                continue
            for pid in os.listdir("/proc"):
                try:
                    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
                    cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
                except OSError:
                    continue
                if b"OMPI_COMM_WORLD_RANK=1" in env and marker.encode() in cmdline:
                    victim = int(pid)
        if victim is None:
            return None, None, 0.0
        time.sleep(1)  # in the middle of the run
        os.kill(victim, signal.SIGSTOP)
        start = time.monotonic()
        try:
            _, err = p.communicate(timeout=timeout + grace + 30)
            code = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
            code = None
        return code, err, time.monotonic() - start
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
