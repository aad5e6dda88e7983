"""reveal.js slides of every chapter, for class, from the notebooks the test run executed.

``python -m booktools.slides build`` writes ``_build/slides/NN_name.slides.html`` for every
chapter in _toc.yml with nbconvert's slides exporter, next to local copies of reveal.js (from
the sphinx-revealjs package), MathJax (from sphinx-mathjax-offline) and the book's vendored
scripts, so the decks need no network. ``check`` opens every deck in headless Chromium, steps
through a few slides and saves a screenshot of each; ``python -m booktools.slides`` does both.

The chapter notebooks carry no slide metadata: :func:`slide_notebook` gives every cell its
slide type by one convention (book/instructors.md describes it):

- a markdown cell that opens with a ``#`` or ``##`` heading starts a new slide;
- one that opens with a deeper heading starts a sub-slide (below the current slide);
- any other cell stays on the current slide, code cells as a fragment (the code and its
  output appear on the next key press), unless it would overflow the slide (more than
  SLIDE_LINES lines), in which case it starts a sub-slide of its own;
- a markdown cell longer than a slide is split at blank lines into slide-sized pieces;
- MyST markup that plain Markdown lacks becomes text: ``{cite}`key``` the author and year,
  ``{doc}`` and ``{eq}`` references their text, ``(label)=`` targets nothing.
"""

import argparse
import contextlib
import copy
import math
import re
import shutil
import sys
from pathlib import Path

import nbformat

from . import book, headless

SLIDES_DIR = book.ROOT / "_build" / "slides"
# Lines of running text that fit on a 960x700 slide at the template's font size.
SLIDE_LINES = 20
CHARS_PER_LINE = 85
IMAGE_LINES = 12  # a matplotlib figure, scaled to the slide
HEADING = re.compile(r"^(#{1,6})\s+\S")
TARGET = re.compile(r"^\([\w:-]+\)=\s*$", re.M)
ROLE = re.compile(r"\{(cite|doc|eq|ref|numref)(?::\w+)?\}`([^`]+)`")


# --- the slide convention -------------------------------------------------------------------


def heading_level(markdown: str) -> int | None:
    """The level of the heading a markdown cell opens with, or None."""
    for line in markdown.splitlines():
        if line.strip():
            match = HEADING.match(line)
            return len(match.group(1)) if match else None
    return None


def markdown_lines(markdown: str) -> int:
    """How many lines of a slide a piece of markdown fills: its paragraphs wrapped at
    CHARS_PER_LINE, list items, headings, table rows and display math line by line."""
    total, paragraph = 0.0, 0

    def flush():
        nonlocal total, paragraph
        total += math.ceil(paragraph / CHARS_PER_LINE)
        paragraph = 0

    for line in markdown.strip().splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
            total += 0.5  # the space between paragraphs
        elif re.match(r"([-*+]|\d+\.|#+|\||\$\$|```)(\s|$)", stripped) or line.startswith("    "):
            flush()
            paragraph = len(stripped)
        else:
            paragraph += len(stripped) + 1
    flush()
    return math.ceil(total)


def code_lines(cell) -> int:
    """How many lines a code cell with its outputs fills."""
    total = len(cell.source.splitlines())
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(m.startswith("image/") for m in data):
            total += IMAGE_LINES
        elif out.get("output_type") == "stream":
            total += min(len(out.get("text", "").splitlines()), 12)
        else:
            total += min(len(str(data.get("text/plain", "")).splitlines()) or 4, 10)
    return total


def split_markdown(markdown: str, limit: int = SLIDE_LINES) -> list[str]:
    """Split markdown at blank lines (never inside a fenced block or display math) into
    pieces of at most ``limit`` lines where possible; a heading stays with what follows."""
    blocks, current, fenced = [], [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        for fence in ("```", "~~~", "$$"):
            if stripped.startswith(fence) and (fenced is None or fenced == fence):
                if not (fence == "$$" and len(stripped) > 2 and stripped.endswith("$$")):
                    fenced = None if fenced == fence else fence
                break
        if not stripped and fenced is None:
            if current:
                blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    pieces: list[str] = []
    for block in blocks:
        joinable = pieces and (
            heading_level(pieces[-1]) is not None
            and "\n" not in pieces[-1].strip()
            or markdown_lines(pieces[-1]) + markdown_lines(block) <= limit
        )
        if joinable:
            pieces[-1] += "\n\n" + block
        else:
            pieces.append(block)
    return pieces


def plain_markdown(markdown: str, authors: dict[str, str]) -> str:
    """MyST markup that nbconvert's Markdown lacks, as text (see the module's docstring)."""

    def role(match):
        name, text = match.group(1), match.group(2)
        if name == "cite":
            keys = [k.strip() for k in text.split(",")]
            return "(" + "; ".join(authors.get(k, k) for k in keys) + ")"
        label = re.match(r"(.*?)\s*<[^>]+>$", text)  # {doc}`shown text <target>`
        return label.group(1) if label else text.rsplit("/", 1)[-1]

    return ROLE.sub(role, TARGET.sub("", markdown))


def slide_notebook(nb, authors: dict[str, str] | None = None):
    """A copy of ``nb`` with every cell's slide type set by the convention above."""
    authors = authors or {}
    nb = copy.deepcopy(nb)
    cells, used = [], SLIDE_LINES  # nothing open yet: the first cell starts a slide
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = plain_markdown(cell.source, authors)
            pieces = split_markdown(text) if text.strip() else []
            for number, piece in enumerate(pieces):
                level, lines = heading_level(piece), markdown_lines(piece)
                if level in (1, 2):
                    kind = "slide"
                elif level or used + lines > SLIDE_LINES:
                    kind = "subslide"
                else:
                    kind = "-"
                part = nbformat.v4.new_markdown_cell(piece, metadata=dict(cell.metadata))
                if number == 0 and "attachments" in cell:
                    part.attachments = cell.attachments
                cells.append(_typed(part, kind))
                used = lines if kind != "-" else used + lines
        elif cell.cell_type == "code":
            lines = code_lines(cell)
            kind = "subslide" if used + lines > SLIDE_LINES else "fragment"
            cells.append(_typed(cell, kind))
            used = lines if kind == "subslide" else used + lines
    nb.cells = cells
    return nb


def _typed(cell, kind: str):
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def cite_labels(bib_files: list[Path]) -> dict[str, str]:
    """{key: "Author Year"} (or "Author et al. Year") for every entry of the .bib files."""
    import pybtex.database

    labels = {}
    for path in bib_files:
        for key, entry in pybtex.database.parse_file(path).entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(p.last_names) for p in people]
            who = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}"
            if len(names) > 2:
                who = f"{names[0]} et al."
            labels[key] = f"{who} {entry.fields.get('year', '')}".strip() if names else key
    return labels


# --- the decks ------------------------------------------------------------------------------

# nbconvert's reveal template, with every script served from the deck's folder: reveal.js
# loads before require.js (an anonymous AMD module would otherwise clash with it), MathJax 3
# instead of the template's MathJax 2, no jQuery, mermaid or widget manager from a CDN; and
# figures keep the alt text the site gives them.
TEMPLATE = r"""{%- extends 'reveal/index.html.j2' -%}
{%- block html_head_js -%}
<script src="reveal.js/dist/reveal.js"></script>
<script src="reveal.js/plugin/notes/notes.js"></script>
<script src="vendor/require.js"></script>
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, tags: 'ams'},
  options: {ignoreHtmlClass: 'tex2jax_ignore', processHtmlClass: 'tex2jax_process'}
};
</script>
<script src="mathjax/tex-chtml.js"></script>
<style>
.reveal .slides section.tall { height: 100%; overflow-y: auto; }
.reveal .jp-OutputArea-output img { max-height: 420px; }
</style>
{%- endblock html_head_js_mathjax -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ cell.metadata.get('mystnb', {}).get('image', {}).get('alt', 'A figure') | escape_html }}">
</div>
{%- endblock data_png -%}
{%- block footer_js -%}
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, hash: true, center: false,
  navigationMode: 'linear',  // the arrow keys walk every slide, sub-slides included
  transition: "{{ reveal_transition }}", slideNumber: "c/t",
  width: {{ reveal_width }}, height: {{ reveal_height }}, plugins: [RevealNotes],
});
// A slide taller than the frame scrolls instead of being cut off.
function markTall() {
  const slide = Reveal.getCurrentSlide();
  if (slide && slide.scrollHeight > Reveal.getConfig().height) slide.classList.add('tall');
}
Reveal.on('ready', markTall);
Reveal.on('slidechanged', markTall);
</script>
{%- endblock footer_js -%}
"""
TEMPLATE_NAME = "course_slides.html.j2"


def reveal_dir() -> Path:
    """reveal.js as the sphinx-revealjs package ships it (dist/ and plugin/)."""
    import sphinx_revealjs

    path = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"
    if not (path / "dist" / "reveal.js").is_file():
        raise SystemExit(f"no reveal.js in {path}: reinstall sphinx-revealjs (make install)")
    return path


def mathjax_dir() -> Path:
    """MathJax 3 as the sphinx-mathjax-offline package ships it."""
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    path = Path(spec.origin).parent / "static" / "mathjax" if spec else None
    if path is None or not (path / "tex-chtml.js").is_file():
        raise SystemExit("no MathJax found: reinstall sphinx-mathjax-offline (make install)")
    return path


def copy_assets(out: Path) -> None:
    """Put reveal.js, MathJax and the book's vendored scripts in ``out``, beside the decks."""
    out.mkdir(parents=True, exist_ok=True)
    reveal = reveal_dir()
    for part in ("dist", "plugin"):
        shutil.copytree(reveal / part, out / "reveal.js" / part, dirs_exist_ok=True)
    shutil.copytree(mathjax_dir(), out / "mathjax", dirs_exist_ok=True)
    shutil.copytree(book.ROOT / "book" / "_static" / "vendor", out / "vendor", dirs_exist_ok=True)


def exporter():
    """nbconvert's slides exporter with TEMPLATE."""
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter

    slides = SlidesExporter(extra_loaders=[DictLoader({TEMPLATE_NAME: TEMPLATE})])
    slides.template_file = TEMPLATE_NAME
    slides.reveal_theme = "white"
    slides.reveal_url_prefix = "reveal.js"
    return slides


def write_deck(nb, target: Path, authors: dict[str, str], slides=None) -> Path:
    """Write ``nb`` (an executed notebook) as a deck at ``target``; assets must be beside it."""
    nb = slide_notebook(nb, authors)
    book.add_figure_alt(nb)  # the alt text the site gives each figure
    for cell in nb.cells:  # the BertViz views load their scripts from the deck's vendor/
        for out in cell.get("outputs", []):
            for mime, value in out.get("data", {}).items():
                if isinstance(value, str):
                    out["data"][mime] = book.localise_cdn(value, ".")
    body, _ = (slides or exporter()).from_notebook_node(nb)
    target.write_text(body)
    return target


def build(out: Path = SLIDES_DIR) -> list[Path]:
    """A deck per chapter notebook of _toc.yml, from its executed copy."""
    notebooks = book.toc_notebooks()
    stale = [nb.name for nb in notebooks if not book.is_fresh(nb, for_book=True)]
    if stale:
        raise SystemExit(
            f"no up-to-date executed copy of: {', '.join(stale)}. Run `make slides` (it "
            "executes them) or `make test`."
        )
    copy_assets(out)
    authors = cite_labels([book.ROOT / "book" / "references.bib"])
    slides = exporter()
    decks = []
    for nb in notebooks:
        executed = nbformat.read(book.executed_path(nb), as_version=4)
        decks.append(write_deck(executed, out / f"{nb.stem}.slides.html", authors, slides))
    print(f"{len(decks)} decks in {out}")
    return decks


# --- the browser check ----------------------------------------------------------------------

DECK_STATE = """() => ({
  ready: typeof Reveal !== 'undefined' && Reveal.isReady(),
  indices: typeof Reveal !== 'undefined' ? Reveal.getIndices() : null,
  slides: typeof Reveal !== 'undefined' ? Reveal.getTotalSlides() : 0,
  math: document.querySelectorAll('mjx-container').length,
  rawMath: document.querySelectorAll('.jp-MarkdownOutput').length > 0 &&
           Array.from(document.querySelectorAll('.jp-MarkdownOutput'))
             .some(e => /\\$\\$|\\\\begin\\{/.test(e.innerText)),
})"""


def check_deck(deck: Path, screenshot: Path, steps: int = 4, chromium=None) -> tuple[list, dict]:
    """Open ``deck`` (served from 127.0.0.1), press the right arrow ``steps`` times and save a
    screenshot; return (problems, facts). ``chromium``: a browser to reuse (else one starts)."""
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(headless.serve(deck.parent))
        chromium = chromium or stack.enter_context(headless.browser())
        tab = chromium.new_page(viewport={"width": 1280, "height": 800})
        tab.set_default_timeout(60_000)
        watcher = headless.Watcher(tab)
        tab.goto(f"{base}/{deck.name}", wait_until="load")
        tab.wait_for_function("typeof Reveal !== 'undefined' && Reveal.isReady()")
        tab.evaluate("async () => { if (window.MathJax) await MathJax.startup.promise; }")
        start = tab.evaluate(DECK_STATE)
        seen = [start["indices"]]
        for _ in range(steps):
            tab.keyboard.press("ArrowRight")
            tab.wait_for_timeout(150)
            seen.append(tab.evaluate(DECK_STATE)["indices"])
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        tab.wait_for_timeout(1000)  # the slide transition's end
        tab.screenshot(path=str(screenshot))
        tab.close()
    problems = list(watcher.problems)
    moves = sum(a != b for a, b in zip(seen, seen[1:], strict=False))
    if moves < min(steps, start["slides"] - 1):
        problems.append(f"the right arrow moved {moves} times in {steps} presses: {seen}")
    if start["rawMath"]:
        problems.append("TeX source left on a slide: MathJax did not typeset it")
    facts = {"slides": start["slides"], "math": start["math"], "indices": seen}
    return problems, facts


def check(out: Path = SLIDES_DIR) -> int:
    """Check every deck in ``out``; print what is broken; 0 when nothing is."""
    decks = sorted(out.glob("*.slides.html"))
    if not decks:
        raise SystemExit(f"no decks in {out}: run `python -m booktools.slides build` first")
    failures = 0
    with headless.browser() as chromium:
        for deck in decks:
            shot = out / "screenshots" / deck.name.replace(".slides.html", ".png")
            problems, facts = check_deck(deck, shot, chromium=chromium)
            status = "ok     " if not problems else "BROKEN "
            print(f"{status} {deck.name}: {facts['slides']} slides, {facts['math']} formulas")
            for problem in problems:
                print(f"           {problem}")
            failures += bool(problems)
    print(
        f"slides check: {len(decks) - failures} decks ok, {failures} broken; screenshots "
        f"(the slide after 4 presses of the right arrow) in {out / 'screenshots'}"
    )
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.slides")
    parser.add_argument(
        "command",
        nargs="?",
        default="all",
        choices=["build", "check", "all"],
        help="write the decks into _build/slides, check them in a browser, or both (default)",
    )
    args = parser.parse_args(argv)
    if args.command in ("build", "all"):
        build()
    return check() if args.command in ("check", "all") else 0


if __name__ == "__main__":
    sys.exit(main())
