"""Seconds each notebook takes to execute, in a fresh kernel, one notebook at a time.

    python benchmarks/notebook_times.py notebooks/*.ipynb [--repeat 3] [--markdown out.md]

Prints one row per notebook with the median (and each run's) wall-clock seconds, and flags
notebooks over the 90 s budget. Run it on an otherwise idle machine: other load inflates
the numbers.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import nbclient
import nbformat

BUDGET_S = 90.0


def run_once(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook (median shown)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)

    rows, over = [], []
    print(f"{'notebook':<36} {'median s':>9}  runs")
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"{path}: no such notebook")
        times = [run_once(path, args.timeout) for _ in range(args.repeat)]
        median = statistics.median(times)
        runs = ", ".join(f"{t:.1f}" for t in times)
        flag = "  OVER BUDGET" if median > BUDGET_S else ""
        print(f"{path.stem:<36} {median:9.1f}  {runs}{flag}", flush=True)
        rows.append((path.stem, median, runs))
        if median > BUDGET_S:
            over.append(path.stem)

    medians = [m for _, m, _ in rows]
    print(
        f"\ntotal {sum(medians):.0f} s; median notebook {statistics.median(medians):.1f} s; "
        f"{os.cpu_count()} CPUs"
    )
    if args.markdown:
        lines = ["| notebook | seconds (median) | runs |", "|---|---:|---|"]
        lines += [f"| {name} | {m:.1f} | {runs} |" for name, m, runs in rows]
        args.markdown.write_text("\n".join(lines) + "\n")
    if over:
        print(f"over the {BUDGET_S:.0f} s budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
