"""Building the book from the notebooks that the test run executed.

``python -m booktools.book build`` assembles ``_build/site-src`` (the Jupyter Book config, the
``book/`` pages and the *executed* notebooks) and runs Jupyter Book on it with warnings as
errors. Executed notebooks come from ``_build/executed``, written by the nbval run
(``conftest.py``); each records a hash of its source and of ``course_lib``, so an executed
copy made before a change to either is never used.
"""

import argparse
import hashlib
import html as html_text
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from .setup_cell import TEMPLATE as SETUP_TEMPLATE

ROOT = Path(__file__).resolve().parent.parent
EXECUTED_DIR = ROOT / "_build" / "executed"
SITE_SRC = ROOT / "_build" / "site-src"
# Widget views need a live kernel (or a CDN) to draw anything: the static book leaves them out.
DROPPED_MIME = "application/vnd.jupyter.widget-view+json"
# BertViz loads require.js, d3 and jQuery from a CDN. The book serves copies from its own
# _static/vendor (book/_static/vendor), so its views draw with no network.
CDN_COPIES = {
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js": "require.js",
    "https://cdnjs.cloudflare.com/ajax/libs/d3/5.7.0/d3.min": "d3.min",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/2.0.0/jquery.min": "jquery.min",
}


def source_hash(notebook: Path) -> str:
    """sha256 over the notebook file and every course_lib source file a notebook may use."""
    h = hashlib.sha256(Path(notebook).read_bytes())
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def run_config() -> dict:
    """The settings a notebook's results may depend on besides its code: seed and threads."""
    return {name: os.environ.get(name, "") for name in ("COURSE_SEED", "OMP_NUM_THREADS")}


def executed_path(notebook: Path) -> Path:
    return EXECUTED_DIR / Path(notebook).resolve().relative_to(ROOT)


def is_fresh(notebook: Path, for_book: bool = False) -> bool:
    """Whether the executed copy ran the current code under this process's seed and threads.

    ``for_book``: whether it ran the current code under the default seed, whatever the threads:
    the book shows the default random draw, and the build itself runs with no thread setting.
    """
    target = executed_path(notebook)
    if not target.is_file():
        return False
    meta = nbformat.read(target, as_version=4).metadata.get("course_lib", {})
    if meta.get("source_hash") != source_hash(notebook):
        return False
    if for_book:
        return meta.get("config", {}).get("COURSE_SEED", "") in ("", "0")
    return meta.get("config") == run_config()


def localise_cdn(text: str, static: str) -> str:
    """Point every CDN address in ``CDN_COPIES`` at the book's copy under ``static``/vendor."""
    for url, name in CDN_COPIES.items():
        text = text.replace(url, f"{static}/vendor/{name}")
    return text


def add_run_time(nb) -> None:
    """Append the measured run time to the paragraph that names the chapter's prerequisites."""
    seconds = nb.metadata.get("course_lib", {}).get("seconds")
    for cell in nb.cells:
        if seconds and cell.cell_type == "markdown" and "**Builds on:**" in cell.source:
            cell.source += (
                f"\n\n**Run time:** {seconds:.0f} s in the test run that built this page "
                "(2-core CPU; see {doc}`/book/run-times`)."
            )
            return


# String literals a plotting cell passes as a title: title="...", set_title("..."), suptitle("...").
TITLE_LITERAL = re.compile(r"""(?:title|suptitle)\s*[=(]\s*[rf]?(["'])(.+?)\1""")


def add_figure_alt(nb) -> None:
    """Give the figures of each code cell an alt text: the titles its code sets (when they are
    plain strings) and the chapter section the figure belongs to."""
    chapter = section = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for heading in re.findall(r"^(#+)\s+(.+)$", cell.source, flags=re.M):
                chapter = chapter or heading[1].strip()
                section = heading[1].strip()
            continue
        if not any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
            continue
        titles = [t for _, t in TITLE_LITERAL.findall(cell.source) if "{" not in t][:3]
        where = f"figure in section {section!r} of chapter {chapter!r}"
        alt = f"{'; '.join(titles)} ({where})" if titles else where[0].upper() + where[1:]
        options = cell.metadata.setdefault("mystnb", {}).setdefault("image", {})
        options.setdefault("alt", alt)


def highlight_source_listings(nb) -> None:
    """Render the printed output of cells that print library code (``inspect.getsource``) as
    highlighted Python, so the page shows the code a chapter teaches as code, not plain text."""
    for cell in nb.cells:
        if cell.cell_type != "code" or not _prints_source_only(cell.source):
            continue
        outputs = cell.get("outputs", [])
        # Only cells whose whole output is the printed code: a printed result or a progress bar
        # is not Python, and Pygments' failure to lex it is a build warning.
        if outputs and all(
            o.get("output_type") == "stream" and o.get("name") == "stdout" for o in outputs
        ):
            cell.metadata.setdefault("mystnb", {})["text_lexer"] = "python"


def _prints_source_only(source: str) -> bool:
    lines = [ln.strip() for ln in source.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    return bool(lines) and all(
        ln.startswith("print(inspect.getsource(") and ln.endswith("))") for ln in lines
    )


def copy_for_site(executed: Path, target: Path) -> None:
    """Copy an executed notebook into the site sources: its CDN scripts served by the book, its
    measured run time under its prerequisites, alt text on its figures, and its printed library
    code highlighted."""
    nb = nbformat.read(executed, as_version=4)
    add_run_time(nb)
    add_figure_alt(nb)
    highlight_source_listings(nb)
    static = Path(os.path.relpath(SITE_SRC / "_static", target.parent)).as_posix()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for mime, value in out.get("data", {}).items():
                if isinstance(value, str):
                    out["data"][mime] = localise_cdn(value, static)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def _clean_outputs(outputs) -> list:
    """Merge consecutive stream outputs (keeping only what a terminal would show after \\r)
    and drop widget views."""
    cleaned = []
    for out in outputs:
        out = nbformat.from_dict(dict(out))
        if out.output_type in ("display_data", "execute_result"):
            out.data = {k: v for k, v in out.data.items() if k != DROPPED_MIME}
            if not out.data or set(out.data) == {"text/plain"} and "Box(" in out.data["text/plain"]:
                continue
            out.setdefault("metadata", {})
        if (
            out.output_type == "stream"
            and cleaned
            and cleaned[-1].output_type == "stream"
            and cleaned[-1].name == out.name
        ):
            cleaned[-1].text += out.text
            continue
        cleaned.append(out)
    for out in cleaned:
        if out.output_type == "stream":
            out.text = "\n".join(line.rsplit("\r", 1)[-1] for line in out.text.split("\n"))
    return cleaned


def write_executed(notebook: Path, cell_outputs: dict, seconds: float | None = None) -> Path:
    """Save ``notebook`` with the outputs nbval collected, keyed by code-cell number."""
    nb = nbformat.read(notebook, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=0):
        cell.outputs = _clean_outputs(cell_outputs.get(number, []))
        cell.execution_count = number + 1 if number in cell_outputs else None
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = cell.execution_count
    nb.metadata["course_lib"] = {
        "source_hash": source_hash(notebook),
        "config": run_config(),
        "seconds": seconds,
    }
    target = executed_path(notebook)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def toc_files(toc_path: Path) -> list[str]:
    """Every ``file:`` entry of a Jupyter Book _toc.yml, in reading order (the root aside)."""
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(Path(toc_path).read_text()))
    return files


def toc_notebooks() -> list[Path]:
    """The notebooks listed in _toc.yml (files under notebooks/)."""
    files = toc_files(ROOT / "_toc.yml")
    return [ROOT / f"{f}.ipynb" for f in files if f.startswith("notebooks/")]


def robustness_section() -> list[str]:
    """The robustness sweep's report (benchmarks/robustness.md), its headings one level down."""
    report = ROOT / "benchmarks" / "robustness.md"
    if not report.is_file():
        return ["## Robustness sweep", "", "No sweep has been run yet (`make robustness`).", ""]
    return [
        ("#" + line if line.startswith("#") else line) for line in report.read_text().splitlines()
    ]


def run_times_page() -> str:
    """A page with each chapter's execution time in the run that produced this site, and the
    robustness sweep: every claim's spread over seeds and thread counts."""
    rows = []
    for nb in toc_notebooks():
        meta = nbformat.read(executed_path(nb), as_version=4).metadata.get("course_lib", {})
        seconds = meta.get("seconds")
        rows.append(f"| {nb.stem} | {seconds:.0f} |" if seconds else f"| {nb.stem} | - |")
    return "\n".join(
        [
            "# Run times and robustness",
            "",
            "Seconds each chapter notebook took to execute in the test run that built this site",
            "(the sum of its cells' times, measured by `make test`). That run executes as many",
            "notebooks at a time as there are cores (at most four), with the cores shared out as",
            "threads, so a notebook alone on the same machine is usually faster. `make timings`",
            "measures each notebook alone.",
            "",
            "| notebook | seconds |",
            "|---|---:|",
            *rows,
            "",
            *robustness_section(),
        ]
    )


def stage() -> Path:
    """Assemble _build/site-src; fail if any notebook lacks a fresh executed copy."""
    stale = [nb for nb in toc_notebooks() if not is_fresh(nb, for_book=True)]
    if stale:
        names = ", ".join(p.name for p in stale)
        raise SystemExit(
            f"no up-to-date executed copy of: {names}. Run `make book` (it executes "
            "them) or `make test`."
        )
    # A clean Sphinx build each time: its incremental mode re-adds extension scripts.
    for old in (SITE_SRC, ROOT / "_build" / ".doctrees", ROOT / "_build" / "html"):
        if old.exists():
            shutil.rmtree(old)
    SITE_SRC.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, SITE_SRC / name)
    shutil.copytree(ROOT / "book", SITE_SRC / "book")
    (SITE_SRC / "book" / "run-times.md").write_text(run_times_page())
    for nb in toc_notebooks():
        copy_for_site(executed_path(nb), SITE_SRC / nb.relative_to(ROOT))
    return SITE_SRC


def build() -> Path:
    """Stage the sources and build the HTML site into _build/html (warnings are errors)."""
    src = stage()
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(src),
        "--path-output",
        str(ROOT),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)
    index = ROOT / "_build" / "html" / "index.html"
    print(f"\nThe book is built. Open {index}")
    return index


def site_pages() -> list[str]:
    """Every page a reader can reach: the landing page, book/ pages and the chapters."""
    html = ROOT / "_build" / "html"
    pages = ["index.html"] + sorted(
        p.relative_to(html).as_posix() for p in (html / "book").glob("*.html")
    )
    return pages + [f"notebooks/{nb.stem}.html" for nb in toc_notebooks()]


def shows_setup_cell(page: str) -> bool:
    """Whether an HTML page shows the Colab setup cell, which its tag ``remove-cell`` keeps
    off the book's pages (the notebooks Colab opens have it)."""
    text = html_text.unescape(re.sub(r"<[^>]+>", "", page))
    return SETUP_TEMPLATE.splitlines()[0] in text


def check(browser=None) -> int:
    """Open every page in headless Chromium; print and count what is broken.

    ``browser`` is a Playwright Browser to use (the tests pass theirs); without one, the
    system's Chromium is started.
    """
    from .browser import check_site, check_site_with_chromium

    html = ROOT / "_build" / "html"
    pages = site_pages()
    missing = [p for p in pages if not (html / p).is_file()]
    present = [p for p in pages if p not in missing]
    shots = ROOT / "_build" / "screenshots"
    if browser is None:
        report = check_site_with_chromium(html, present, shots)
    else:
        report = check_site(html, present, shots, browser)
    for page, problems in report.items():
        if shows_setup_cell((html / page).read_text(errors="replace")):
            problems.append("shows the Colab setup cell: its tag remove-cell was lost")
    failures = 0
    for page in missing:
        print(f"MISSING  {page}: the chapter is in _toc.yml but has no page")
        failures += 1
    for page, problems in report.items():
        print(f"{'ok     ' if not problems else 'BROKEN '}  {page}")
        for problem in problems:
            print(f"           {problem}")
        failures += bool(problems)
    print(f"site check: {len(pages) - failures} pages ok, {failures} broken")
    print(f"screenshots (desktop and phone width) in {shots}")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.book")
    parser.add_argument(
        "command",
        choices=["stage", "build", "check"],
        help="stage the sources, build the site, or check it in a browser",
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        return check()
    (stage if args.command == "stage" else build)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
