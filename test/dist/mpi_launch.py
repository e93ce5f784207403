"""mpirun for the tests: CPU ranks, oversubscribed, allowed as root (CI runs as root)."""
import os
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
