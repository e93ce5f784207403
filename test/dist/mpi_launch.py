"""mpirun for the tests: CPU ranks, oversubscribed, allowed as root (CI runs as root)."""
import os
import subprocess
import time


def mpirun(n, argv, timeout, env=None):
    """Runs argv on n ranks; returns (exit code, stdout, stderr, seconds).
    A run past `timeout` is a hang: its process group is killed and the
    code is None."""
    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(n),
           "--mca", "btl", "self,vader", "--bind-to", "none"] + list(argv)
    full_env = dict(os.environ)
    full_env.update(env or {})
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, env=full_env)
    try:
        out, err = p.communicate(timeout=timeout)
        code = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, err = p.communicate()
        code = None
    return code, out, err, time.monotonic() - start
