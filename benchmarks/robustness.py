"""The robustness sweep: every notebook under several seeds and thread counts.

    python benchmarks/robustness.py                      # every stale notebook, the full grid
    python benchmarks/robustness.py notebooks/12_rnn.ipynb --seeds 0,1 --threads 1
    python benchmarks/robustness.py --render             # rewrite the report from the data

Each run executes one notebook in a fresh kernel with ``COURSE_SEED`` = seed and
``OMP_NUM_THREADS`` = threads, and collects the claims its ``course_lib.claim`` calls record.
Results go to ``benchmarks/robustness.json`` (the data) and ``benchmarks/robustness.md`` (the
report the book shows): per notebook, runs passed and the slowest run; per claim, the minimum,
median and maximum over the runs against its bound.

Each notebook's entry records a hash of the notebook and of every course_lib file its kernel had
loaded, so a change that could move a result makes the entry stale:
``tests/test_robustness_report.py`` fails until the sweep is rerun. Without notebook arguments
the sweep reruns only stale or incomplete entries.

Runs go in parallel while their threads fit the cores, so that no run is oversubscribed.
"""

import argparse
import fcntl
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for booktools when this file runs as a script
from booktools.setup_cell import is_setup_cell, setup_source  # noqa: E402

DATA = ROOT / "benchmarks" / "robustness.json"
REPORT = ROOT / "benchmarks" / "robustness.md"
LOCK = Path(tempfile.gettempdir()) / "course-lib-robustness.lock"
SEEDS = (0, 1, 2, 3, 4)
THREADS = (1, 2, 4)
# Run before the notebook's own cells: torch takes the run's thread count even where it exceeds
# the cores (by default torch caps it at the cores, so a 4-thread run on 2 cores would repeat
# the 2-thread order of operations), and prints what it starts with. Some notebooks then pin
# torch to one thread for their small models; numpy's BLAS keeps the environment's count.
START = """import os as _o, torch as _t
_t.set_num_threads(int(_o.environ["OMP_NUM_THREADS"]))
print(f"ROBUSTNESS_THREADS={_t.get_num_threads()}")"""
# Run after them: which course_lib files the kernel used.
PROBE = """import json as _j, sys as _s, torch as _t
print("ROBUSTNESS_PROBE=" + _j.dumps({"threads_end": _t.get_num_threads(), "modules": sorted(
    {m.__file__ for n, m in list(_s.modules.items())
     if n.split(".")[0] == "course_lib" and getattr(m, "__file__", None)})}))"""


def _printed(cell, prefix: str):
    for out in cell.outputs:
        for line in out.get("text", "").splitlines():
            if line.startswith(prefix):
                return line.split("=", 1)[1]
    return None


def notebook_list() -> list:
    return sorted(ROOT.glob("notebooks/[0-9][0-9]*_*.ipynb"))  # 07b_... sorts between 07_ and 08_


def source_hash(notebook: Path, modules, notebook_bytes: bytes | None = None) -> str:
    """sha256 over what can move a result: the code cells of the notebook file (or of the bytes
    it had when run), in order, and the course_lib files (repo-relative) it loaded.

    Prose and cell metadata are left out, so mending a sentence does not call for an hour of
    sweep; any change to code does. So is the generated setup cell (booktools/setup_cell.py),
    recognised by its tag and its exact source: where course_lib is installed it does nothing.
    An edited setup cell is hashed like any code."""
    if notebook_bytes is None:
        notebook_bytes = (ROOT / notebook).read_bytes()
    setup = setup_source()
    h = hashlib.sha256()
    for cell in json.loads(notebook_bytes)["cells"]:
        if cell["cell_type"] == "code" and not is_setup_cell(cell, setup):
            source = cell["source"]
            h.update(("".join(source) if isinstance(source, list) else source).encode())
            h.update(b"\0")
    for rel in sorted(modules):
        path = ROOT / rel
        h.update(rel.encode())
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
    return h.hexdigest()


# ---------------------------------------------------------------- one run (in a child process)


def run_one(notebook: Path, timeout: int) -> dict:
    """Execute ``notebook`` in a fresh kernel; return pass/fail, seconds, claims and modules."""
    import nbclient
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    count = len(nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    start_cell = nbformat.v4.new_code_cell(START)
    nb.cells.append(start_cell)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    error, probe = None, {}
    start = time.perf_counter()
    with client.setup_kernel():
        client.execute_cell(start_cell, count + 1)
        started = _printed(start_cell, "ROBUSTNESS_THREADS=")
        for index, cell in enumerate(nb.cells[:count]):
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as exc:
                error = f"cell {index}: {exc.ename}: {exc.evalue}"[:500]
                break
            except nbclient.exceptions.CellTimeoutError:
                error = f"cell {index}: timed out after {timeout} s"
                break
        seconds = time.perf_counter() - start
        if error is None or "timed out" not in error:
            client.execute_cell(nb.cells[count], count)
            probe = json.loads(_printed(nb.cells[count], "ROBUSTNESS_PROBE=") or "{}")
    modules = [Path(m).resolve().relative_to(ROOT).as_posix() for m in probe.get("modules", [])]
    return {
        "passed": error is None,
        "error": error,
        "seconds": round(seconds, 1),
        "threads_seen": int(started) if started else None,
        "threads_end": probe.get("threads_end"),
        "modules": modules,
    }


def child_main(args) -> int:
    result = run_one(Path(args.one).resolve(), args.timeout)
    claims_file = os.environ.get("COURSE_CLAIMS_FILE")
    has_claims = claims_file and Path(claims_file).is_file()
    lines = Path(claims_file).read_text().splitlines() if has_claims else []
    result["claims"] = [json.loads(line) for line in lines if line.strip()]
    Path(args.out).write_text(json.dumps(result))
    return 0


def launch(notebook: Path, seed: int, threads: int, timeout: int) -> dict:
    """Run one (notebook, seed, threads) in a child process with its own environment."""
    as_run = notebook.read_bytes()  # the notebook may be edited while it runs
    with tempfile.TemporaryDirectory() as tmp:
        out, claims = Path(tmp) / "result.json", Path(tmp) / "claims.jsonl"
        env = dict(
            os.environ,
            COURSE_SEED=str(seed),
            OMP_NUM_THREADS=str(threads),
            MKL_NUM_THREADS=str(threads),
            COURSE_CLAIMS_FILE=str(claims),
        )
        # Idle OpenMP threads sleep instead of spinning: with more threads than free cores (4
        # threads on 2 cores, or beside other work) spinning threads slow a run down tenfold.
        # This changes the speed, never the arithmetic.
        env["OMP_WAIT_POLICY"] = "PASSIVE"
        cmd = [
            sys.executable,
            __file__,
            "--one",
            str(notebook),
            "--out",
            str(out),
            "--timeout",
            str(timeout),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.is_file():
            return {
                "passed": False,
                "error": f"runner failed: {proc.stderr[-400:]}",
                "seconds": None,
                "claims": [],
                "modules": [],
                "threads_seen": None,
            }
        return dict(json.loads(out.read_text()), notebook_bytes=as_run)


# ---------------------------------------------------------------- the sweep


def load_data() -> dict:
    if DATA.is_file():
        return json.loads(DATA.read_text())
    return {"notebooks": {}}


def is_complete(entry: dict, seeds, threads) -> bool:
    have = {(r["seed"], r["threads"]) for r in entry.get("runs", [])}
    return all((s, t) in have for s in seeds for t in threads)


def is_stale(rel: str, entry) -> bool:
    return not entry or entry.get("hash") != source_hash(Path(rel), entry.get("modules", []))


def sweep(jobs: list, cores: int, timeout: int, on_result) -> None:
    """Run the (notebook, seed, threads) jobs, as many at once as their threads fit ``cores``."""
    free = [cores]
    lock = threading.Condition()

    def worker(job):
        notebook, seed, threads = job
        cost = min(threads, cores)
        result = launch(notebook, seed, threads, timeout)
        with lock:
            on_result(job, result)
            free[0] += cost
            lock.notify_all()

    workers = []
    for job in sorted(jobs, key=lambda j: (j[2], j[0].name, j[1])):
        cost = min(job[2], cores)
        with lock:
            lock.wait_for(lambda c=cost: free[0] >= c)
            free[0] -= cost
        t = threading.Thread(target=worker, args=(job,))
        t.start()
        workers.append(t)
    for t in workers:
        t.join()


def cpu_model() -> str:
    """The processor's name and the vector instructions torch's CPU kernels use (say "AMD EPYC,
    AVX512"). Floating-point results differ between processors, so a run records which one."""
    import torch

    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {torch.backends.cpu.get_cpu_capability()}"


def machine() -> dict:
    import torch

    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


# ---------------------------------------------------------------- the report


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.4g}"


def common_grid(data: dict) -> set:
    """The (seed, threads) pairs that every notebook in the data has run."""
    grids = [{(r["seed"], r["threads"]) for r in e["runs"]} for e in data["notebooks"].values()]
    return set.intersection(*grids) if grids else set()


def _grid_text(grid: set) -> str:
    by_threads = {}
    for s, t in sorted(grid):
        by_threads.setdefault(t, []).append(s)
    return "; ".join(
        f"seeds {', '.join(map(str, seeds))} at {t} thread{'s' if t > 1 else ''}"
        for t, seeds in sorted(by_threads.items())
    )


def render(data: dict) -> str:
    """The Markdown report: runs per notebook, then every claim's spread against its bound."""
    m = data.get("machine", {})
    lines = [
        "# Robustness sweep",
        "",
        "`make robustness` (`benchmarks/robustness.py`) executes every notebook under "
        f"`COURSE_SEED` {', '.join(map(str, SEEDS))} and {', '.join(map(str, THREADS))} threads "
        f"({len(SEEDS) * len(THREADS)} runs each)"
        + (
            f"; this run: {m['cores']} cores ({m['cpu']}), torch {m['torch']}, {m['date']}."
            if m
            else "."
        ),
        "",
    ]
    grid = common_grid(data)
    full = {(s, t) for s in SEEDS for t in THREADS}
    if data["notebooks"] and grid != full:
        lines += [
            f"**This report holds {len(grid)} of those {len(full)} runs per notebook:** "
            f"{_grid_text(grid)}.",
            "",
        ]
    lines += [
        "## Runs",
        "",
        "Seconds are each run's wall-clock time as it ran, sharing the cores with the sweep's "
        "other runs, so they are longer than a notebook alone (`make timings` measures that).",
        "",
        "| notebook | runs passed | slowest run (s) | median run (s) |",
        "|---|---:|---:|---:|",
    ]
    claims: dict = {}
    for rel, entry in sorted(data["notebooks"].items()):
        runs = entry.get("runs", [])
        secs = [r["seconds"] for r in runs if r.get("seconds") is not None]
        passed = sum(r["passed"] for r in runs)
        slow = max(secs) if secs else None
        med = statistics.median(secs) if secs else None
        lines.append(f"| {Path(rel).stem} | {passed} / {len(runs)} | {_fmt(slow)} | {_fmt(med)} |")
        for r in runs:
            for c in r.get("claims", []):
                key = (Path(rel).stem, c["name"])
                claims.setdefault(key, {"bound": (c["at_least"], c["at_most"]), "values": []})
                claims[key]["values"].append(c["value"])
    pinned = sorted(
        Path(rel).stem
        for rel, entry in data["notebooks"].items()
        if any(
            (r.get("threads_seen") or 1) > 1 and r.get("threads_end") == 1 for r in entry["runs"]
        )
    )
    if pinned:
        lines += [
            "",
            "The thread count is the kernel's at start (`OMP_NUM_THREADS`). These notebooks then "
            "pin torch to one thread on a CPU, for their small models, so there it moves only "
            f"numpy's BLAS: {', '.join(pinned)}. For their torch results the independent "
            "draws are the seeds, and the processors below.",
        ]
    cpus: dict = {}
    for entry in data["notebooks"].values():
        for r in entry.get("runs", []):
            name = r.get("cpu") or "not recorded (runs from before processors were recorded)"
            cpus[name] = cpus.get(name, 0) + 1
    if cpus:
        lines += [
            "",
            "Processors the runs ran on (floating-point results differ between them, so a claim "
            "must hold on each): "
            + "; ".join(f"{name}: {n} runs" for name, n in sorted(cpus.items()))
            + ".",
        ]
    lines += [
        "",
        "## Claims",
        "",
        "Each asserted quantity over the runs that reached it. The margin is the worst run's "
        "distance from the bound (positive: every run passed).",
        "",
        "| notebook | claim | bound | runs | min | median | max | margin |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for (stem, name), c in sorted(claims.items()):
        lo, hi = c["bound"]
        v = c["values"]
        bound = " and ".join(
            b for b in (lo is not None and f"≥ {lo:g}", hi is not None and f"≤ {hi:g}") if b
        )
        margins = [x - lo for x in v if lo is not None] + [hi - x for x in v if hi is not None]
        name = name.replace("|", "\\|")  # a claim named |a − b| must not split the table
        lines.append(
            f"| {stem} | {name} | {bound} | {len(v)} | {_fmt(min(v))} | "
            f"{_fmt(statistics.median(v))} | {_fmt(max(v))} | {_fmt(min(margins))} |"
        )
    return "\n".join(lines) + "\n"


def write(data: dict) -> None:
    DATA.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    REPORT.write_text(render(data))


def parse_ints(text: str) -> tuple:
    return tuple(int(x) for x in text.split(",") if x.strip())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--seeds", type=parse_ints, default=SEEDS)
    parser.add_argument("--threads", type=parse_ints, default=THREADS)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    parser.add_argument("--render", action="store_true", help="only rewrite the report")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and stop")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return child_main(args)

    data = load_data()
    if args.render:
        write(data)
        return 0
    entries = data["notebooks"]
    chosen = [p.resolve() for p in args.notebooks] or [
        p
        for p in notebook_list()
        if is_stale(p.relative_to(ROOT).as_posix(), entries.get(p.relative_to(ROOT).as_posix()))
        or not is_complete(entries[p.relative_to(ROOT).as_posix()], args.seeds, args.threads)
    ]
    for p in chosen:
        if not p.is_file():
            parser.error(f"{p}: no such notebook")
    jobs = []
    for p in chosen:
        rel = p.relative_to(ROOT).as_posix()
        entry = entries.get(rel)
        done = set() if is_stale(rel, entry) else {(r["seed"], r["threads"]) for r in entry["runs"]}
        jobs += [(p, s, t) for s in args.seeds for t in args.threads if (s, t) not in done]
    print(f"{len(jobs)} runs of {len(chosen)} notebooks on {args.cores} cores", flush=True)
    if args.dry_run:
        for p, s, t in jobs:
            print(f"  {p.name} seed {s} threads {t}")
        return 0

    host = machine()
    failures = []

    def on_result(job, result):
        notebook, seed, threads = job
        record(notebook.relative_to(ROOT).as_posix(), seed, threads, result, host)
        status = "ok" if result["passed"] else f"FAILED {result['error']}"
        print(
            f"{notebook.stem} seed {seed} threads {threads}: {result['seconds']} s {status}",
            flush=True,
        )
        if not result["passed"]:
            failures.append((notebook.stem, seed, threads))

    sweep(jobs, args.cores, args.timeout, on_result)
    print(f"{len(jobs) - len(failures)} of {len(jobs)} runs passed")
    return 1 if failures else 0


def record(rel: str, seed: int, threads: int, result: dict, host: dict) -> None:
    """Add one run to the data on disk, under a lock: several sweeps may run at once."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load_data()
        data["machine"] = host
        entries = data["notebooks"]
        entry = entries.get(rel)
        modules = result.pop("modules")
        as_run = result.pop("notebook_bytes", None)
        if modules:
            new_hash = source_hash(Path(rel), modules, as_run)
            if not entry or entry.get("hash") != new_hash:
                entry = entries[rel] = {"hash": new_hash, "modules": modules, "runs": []}
        elif entry is None:
            entry = entries[rel] = {"hash": None, "modules": [], "runs": []}
        entry["runs"] = [r for r in entry["runs"] if (r["seed"], r["threads"]) != (seed, threads)]
        entry["runs"].append(dict(result, seed=seed, threads=threads, cpu=host.get("cpu_model")))
        entry["runs"].sort(key=lambda r: (r["seed"], r["threads"]))
        write(data)


if __name__ == "__main__":
    sys.exit(main())
