"""Command line: ``python -m course_lib.grading release|grade ...``."""

import argparse
import sys

from .batch import collect, grade_batch
from .grade import default_source_dir, format_table, grade_one, write_csv, write_json
from .release import release


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading")
    sub = parser.add_subparsers(dest="command", required=True)

    rel = sub.add_parser("release", help="write exercises/ from solutions/")
    rel.add_argument("--solutions", default="solutions")
    rel.add_argument("--exercises", default="exercises")
    rel.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any exercise is stale"
    )

    gr = sub.add_parser("grade", help="grade submitted notebooks (files or folders)")
    gr.add_argument("submissions", nargs="+", help="submitted .ipynb files or folders of them")
    gr.add_argument(
        "--source", help="folder of solution notebooks (default: the repo's solutions/)"
    )
    gr.add_argument("--assignment", help="expected assignment, e.g. 02_perceptron")
    gr.add_argument(
        "--visible-only",
        action="store_true",
        help="run only the tests in the submission itself (a student's self-check)",
    )
    gr.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell")
    gr.add_argument(
        "--notebook-timeout", type=int, default=600, help="seconds allowed for a whole notebook"
    )
    gr.add_argument("--memory-mb", type=int, default=8192, help="memory limit per submission")
    gr.add_argument(
        "--no-isolation",
        action="store_true",
        help="grade without the bubblewrap sandbox (submissions may use the network and files)",
    )
    gr.add_argument("--report", help="folder for results.jsonl, scores.csv and report.html")
    gr.add_argument("--csv", help="also write the scores to this CSV file")
    gr.add_argument("--json", help="also write the scores to this JSON file")

    args = parser.parse_args(argv)
    if args.command == "release":
        changed = release(args.solutions, args.exercises, check_only=args.check)
        verb = "stale" if args.check else "written"
        for path in changed:
            print(f"{verb}: {path}")
        if args.check and changed:
            print("exercises/ is out of date: run `make exercises`", file=sys.stderr)
            return 1
        return 0

    source = None if args.visible_only else (args.source or default_source_dir())
    limits = {
        "cell_timeout": args.timeout,
        "notebook_timeout": args.notebook_timeout,
        "memory_mb": args.memory_mb,
        "isolate": False if args.no_isolation else None,
    }
    if args.report:
        results = grade_batch(
            args.submissions,
            report_dir=args.report,
            source_dir=source,
            assignment=args.assignment,
            **limits,
        )
        print(f"report written to {args.report}/report.html")
    else:
        results = [grade_one(p, source_dir=source, **limits) for p in collect(args.submissions)]
    print(format_table(results))
    if args.csv:
        write_csv(results, args.csv)
    if args.json:
        write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
