"""Shared benchmark plumbing: run a command, measure wall time and peak memory (ru_maxrss of the
child, via wait4), alternate implementations, report medians."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared")


def bullseye_binary():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    path = os.path.join(target, "release", "bullseye")
    if not os.path.exists(path):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    return path


def ensure_data(data_dir, customers, avg_orders=20, seed=42):
    """Generates the synthetic data set once (../shared/bench/gen_transactions.py)."""
    out = os.path.join(data_dir, f"syn{customers}")
    if not os.path.exists(os.path.join(out, "params.json")):
        gen = os.path.join(SHARED, "bench", "gen_transactions.py")
        subprocess.run([sys.executable, gen, "--customers", str(customers), "--avg-orders",
                        str(avg_orders), "--seed", str(seed), "--out", out], check=True)
    return out


class ChildFailed(RuntimeError):
    """A child that exited non-zero (or was killed), with what it used until then."""

    def __init__(self, message, wall, rss):
        super().__init__(message)
        self.wall = wall
        self.rss = rss


def measure(cmd, env=None):
    """(wall seconds, peak RSS in MiB, stdout) of one child process via wait4; raises on failure.

    stdout goes through a temporary file, so a chatty child cannot block on a full pipe."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode() if proc.stderr else ""
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise ChildFailed(f"{' '.join(cmd)} failed ({code}):\n{err}", wall, usage.ru_maxrss / 1024.0)
        out.seek(0)
        return wall, usage.ru_maxrss / 1024.0, out.read().decode()


def alternate(impls, rounds):
    """Runs {name: cmd} round-robin `rounds` times; returns {name: (median wall, median RSS)}."""
    runs = {name: [] for name in impls}
    for r in range(rounds):
        for name, cmd in impls.items():
            wall, rss, _ = measure(cmd)
            runs[name].append((wall, rss))
            print(f"  round {r + 1} {name:<10} {wall:8.2f} s {rss:9.0f} MiB", flush=True)
    return {n: (statistics.median(w for w, _ in v), statistics.median(m for _, m in v)) for n, v in runs.items()}


def python():
    return os.environ.get("BENCH_PYTHON", shutil.which("python3") or sys.executable)


def write_section(path, name, text):
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->` in `path` (appending the
    section when the markers are absent), so each benchmark script rewrites only its own part of
    BENCHMARKS.md and the others' sections and hand-written notes survive. Written atomically."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = f"{start}\n{text.rstrip()}\n{end}\n"
    old = open(path).read() if os.path.exists(path) else ""
    if start in old and end in old:
        rest = old[old.index(end) + len(end):].lstrip("\n")
        new = old[: old.index(start)] + section + ("\n" + rest if rest else "")
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "") + section
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)
