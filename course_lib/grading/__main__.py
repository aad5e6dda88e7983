"""Command line: ``python -m course_lib.grading release|grade ...``."""

import argparse
import sys

from .grade import main_grade
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

    gr = sub.add_parser("grade", help="grade submitted notebooks")
    gr.add_argument("submissions", nargs="+", help="submitted .ipynb files")
    gr.add_argument(
        "--source", help="folder of solution notebooks (default: the repo's solutions/)"
    )
    gr.add_argument(
        "--visible-only",
        action="store_true",
        help="run only the tests in the submission itself (a student's self-check)",
    )
    gr.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell")
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
    main_grade(
        args.submissions,
        source_dir=args.source,
        visible_only=args.visible_only,
        cell_timeout=args.timeout,
        csv_path=args.csv,
        json_path=args.json,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
