"""Command line: ``python -m course_lib.grading release|grade ...``."""

import argparse
import sys
import tempfile

from .batch import collect, grade_batch
from .grade import format_table, write_csv, write_json
from .release import release
from .selfcheck import format_self_check, self_check


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
        help="feedback for a student: run your own notebook and show which visible checks pass",
    )
    gr.add_argument(
        "--notebook-timeout", type=int, default=600, help="seconds allowed for a whole notebook"
    )
    gr.add_argument(
        "--jobs", type=int, default=None, help="submissions graded at once (default: CPU cores)"
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

    if args.visible_only:
        for path in collect(args.submissions):
            print(format_self_check(path, self_check(path, timeout=args.notebook_timeout)))
        return 0

    source = args.source
    limits = {
        "notebook_timeout": args.notebook_timeout,
        "memory_mb": args.memory_mb,
        "isolate": False if args.no_isolation else None,
    }
    # Without --report the batch's resume file and secret live in a private temporary folder.
    with tempfile.TemporaryDirectory(prefix="grading-") as scratch:
        results = grade_batch(
            args.submissions,
            report_dir=args.report or scratch,
            source_dir=source,
            assignment=args.assignment,
            jobs=args.jobs,
            **limits,
        )
    if args.report:
        print(f"report written to {args.report}/report.html")
    print(format_table(results))
    if args.csv:
        write_csv(results, args.csv)
    if args.json:
        write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
