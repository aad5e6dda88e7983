"""The whole book as one PDF, built offline.

``python -m booktools.pdf build`` builds the staged sources in ``_build/site-src`` (assembled by
``python -m booktools.book build``) with Sphinx's ``singlehtml`` builder, one HTML page holding
every chapter in _toc.yml order, and prints that page to ``_build/pdf/book.pdf`` in headless
Chromium once MathJax has typeset it. The PDF has bookmarks (parts, chapters, sections) and a
printed contents list whose entries link to their chapters and show their page numbers. ``python -m booktools.pdf check`` reads the PDF back and
checks that nothing went missing on the way; ``python -m booktools.pdf`` does both.
"""

import argparse
import contextlib
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import nbformat
import yaml

from . import book, headless

# pypdf logs harmless quirks of Chromium's PDFs (an object count past the trailer's size).
logging.getLogger("pypdf").setLevel(logging.ERROR)
PDF_PATH = book.ROOT / "_build" / "pdf" / "book.pdf"
# The printed page sits at the root of the singlehtml output, where its relative links
# (_static/, _images/) resolve; Sphinx writes the root document under its own folder.
PRINT_PAGE = "print.html"

# Paper gets the theme's printed title and contents list, then the article; no navbar, sidebars,
# buttons or heading anchors (PAPER_ONLY). Every chapter starts on a new page.
PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html, body { font-size: 10.5pt; background: white !important; margin: 0; padding: 0; }
.headerlink, .copybtn, .toggle-button, #pst-back-to-top { display: none !important; }
#jb-print-docs-body { display: block !important; }
#jb-print-docs-body > h1 { margin-top: 35%; text-align: center; font-size: 2.6em; }
#jb-print-toc { break-before: page; }
#jb-print-toc .caption { font-weight: bold; margin: 0.7em 0 0.1em; }
#jb-print-toc ul { margin: 0; } #jb-print-toc li { margin: 0; line-height: 1.3; }
section.book-chapter, article.bd-article { break-before: page; }
h1, h2, h3, h4 { break-after: avoid; }
img, figure, .cell_output .output.image, table { break-inside: avoid; }
img { max-width: 100% !important; height: auto; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; max-height: none !important; }
"""
# Mark each chapter's top section (Sphinx puts an empty <span id="document-NAME"> before it,
# the target of the contents list's links).
MARK_CHAPTERS = """() => {
  const starts = Array.from(document.querySelectorAll('span[id^="document-"]'));
  for (const span of starts) {
    const section = span.nextElementSibling;
    if (section && section.tagName === 'SECTION') {
      section.classList.add('book-chapter');
      section.dataset.doc = span.id.slice('document-'.length);
      section.prepend(span);  // links to the chapter then land on its first page, not before
    }
  }
  for (const img of document.images) img.loading = 'eager';
  return starts.length;
}"""
# Resolves once MathJax (if the page loads it) has typeset the page and every image has loaded.
PAGE_READY = """async () => {
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; })));
  await document.fonts.ready;
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    math: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
    brokenImages: Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src),
  };
}"""
# Keep only what goes on paper (the scripts have run by then, and their styles stay), and list
# the article's headings for the PDF's bookmarks. Chromium writes a named destination for every
# element an in-page link points to, and each Sphinx heading holds such a link (its hidden "#").
PAPER_ONLY = """() => {
  const keep = ['#jb-print-docs-body', 'article.bd-article'].map(s => document.querySelector(s));
  document.body.replaceChildren(...keep.filter(Boolean));
  const headings = [];
  for (const h of document.querySelectorAll('article h1, article h2, article h3')) {
    const link = h.querySelector('a.headerlink[href^="#"]');
    if (!link) continue;
    const copy = h.cloneNode(true);
    copy.querySelectorAll('.headerlink').forEach(a => a.remove());
    const section = h.parentElement;
    headings.push({level: Number(h.tagName[1]), title: copy.textContent.trim(),
                   dest: decodeURIComponent(link.getAttribute('href').slice(1)),
                   doc: section.classList.contains('book-chapter') ? section.dataset.doc : null});
  }
  const contents = document.querySelector('#jb-print-toc');
  if (contents) {  // a link to it, so that the PDF gets a destination for its bookmark
    const link = document.createElement('a');
    link.href = '#jb-print-toc';
    link.style.display = 'none';
    document.body.append(link);
  }
  return {kept: keep.filter(Boolean).length, headings, contents: contents ? 'jb-print-toc' : null};
}"""
FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


def toc_parts(src: Path) -> list[tuple[str | None, list[str]]]:
    """The parts of the staged _toc.yml: (caption or None, [document names])."""
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    parts = toc.get("parts") or [{"caption": None, "chapters": toc.get("chapters", [])}]
    return [
        (part.get("caption"), [c["file"] for c in part.get("chapters", []) if "file" in c])
        for part in parts
    ]


def build_html(src: Path = book.SITE_SRC, build_root: Path = book.ROOT) -> Path:
    """Build ``src`` (staged Jupyter Book sources) into one HTML page under
    ``build_root``/_build/singlehtml; return the path of that page."""
    if not (src / "_toc.yml").is_file():
        raise SystemExit(
            f"no staged book in {src}: run `python -m booktools.book build` (or `make book`) first"
        )
    out = build_root / "_build" / "singlehtml"
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(src),
        "--builder",
        "singlehtml",
        "--path-output",
        str(build_root),
        "--keep-going",
        "--quiet",
    ]
    subprocess.run(cmd, check=True, cwd=src, stdout=subprocess.DEVNULL)
    root = yaml.safe_load((src / "_toc.yml").read_text())["root"]
    page = out / PRINT_PAGE
    # singlehtml writes no search index; the page's request for one would only fail.
    html = re.sub(
        r'<script[^>]*src="searchindex\.js"[^>]*></script>', "", (out / f"{root}.html").read_text()
    )
    page.write_text(html)
    return page


def print_pdf(
    page: Path, pdf: Path, parts: list, timeout_s: float = 300, chromium=None
) -> list[str]:
    """Print ``page`` (inside a singlehtml build) to ``pdf`` with bookmarks after ``parts``
    (see :func:`toc_parts`); return the problems seen while loading and printing it.
    ``chromium``: a browser to reuse (else one starts)."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(headless.serve(page.parent))
        chromium = chromium or stack.enter_context(headless.browser())
        tab = chromium.new_page()
        tab.set_default_timeout(timeout_s * 1000)
        watcher = headless.Watcher(tab)
        tab.goto(f"{base}/{page.name}", wait_until="load")
        chapters = tab.evaluate(MARK_CHAPTERS)
        state = tab.evaluate(PAGE_READY)
        paper = tab.evaluate(PAPER_ONLY)
        tab.add_style_tag(content=PRINT_CSS)
        # Untagged: Chromium's own outline needs a tagged PDF, which takes twice as long to
        # print; add_outline builds the bookmarks from the named destinations instead.
        tab.pdf(
            path=str(pdf),
            prefer_css_page_size=True,
            print_background=True,
            display_header_footer=True,
            header_template="<div></div>",
            footer_template=FOOTER,
        )
    problems = list(watcher.problems)
    if chapters == 0:
        problems.append(
            "the page holds no chapters (no document-* anchors): not a singlehtml build?"
        )
    if paper["kept"] < 2:
        problems.append("the page lacks the theme's print contents or article: another theme?")
    problems += [f"math not typeset: {m!r}" for m in state["untypeset"]]
    problems += [f"image did not load: {src}" for src in state["brokenImages"]]
    problems += add_outline(pdf, paper["headings"], parts, paper["contents"])
    return problems


def add_outline(pdf: Path, headings: list[dict], parts: list, contents: str | None) -> list[str]:
    """Give ``pdf`` bookmarks: the printed contents list (destination ``contents``), the root
    page, then each part of the book with its chapters and their sections. ``headings`` come
    from PAPER_ONLY; return the problems met."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pdf)
    pages = {
        str(name).lstrip("/"): writer.get_destination_page_number(dest)
        for name, dest in writer.named_destinations.items()
    }
    problems = [
        f"heading {h['title']!r} has no place in the PDF"
        for h in headings
        if h["dest"] not in pages
    ]
    headings = [h for h in headings if h["dest"] in pages]
    chapters = {h["doc"]: i for i, h in enumerate(headings) if h["doc"]}
    if contents in pages:
        writer.add_outline_item(title="Contents", page_number=pages[contents])
    if headings and headings[0]["level"] == 1:  # the root page, before any part
        writer.add_outline_item(title=headings[0]["title"], page_number=pages[headings[0]["dest"]])
    for caption, docs in parts:
        present = [d for d in docs if d in chapters]
        problems += [f"chapter {d} has no heading in the page" for d in docs if d not in chapters]
        if not present:
            continue
        first = pages[headings[chapters[present[0]]]["dest"]]
        parent = writer.add_outline_item(title=caption, page_number=first) if caption else None
        for doc in present:
            start = chapters[doc]
            item = writer.add_outline_item(
                title=headings[start]["title"],
                page_number=pages[headings[start]["dest"]],
                parent=parent,
                is_open=False,
            )
            chapter_level = headings[start]["level"]
            for h in headings[start + 1 :]:
                if h["doc"] or h["level"] <= chapter_level:
                    break
                if h["level"] == chapter_level + 1:
                    writer.add_outline_item(
                        title=h["title"], page_number=pages[h["dest"]], parent=item
                    )
    if contents in pages and headings:
        number_contents(writer, pages, pages[contents], pages[headings[0]["dest"]])
    writer.page_mode = "/UseOutlines"
    writer.write(pdf)
    return problems


def number_contents(writer, pages: dict[str, int], first: int, end: int) -> None:
    """Print, at the right end of each entry of the contents list (its links on pages
    ``first`` to ``end`` - 1), the number of the page the entry links to. Chromium cannot
    number pages in a document's text, so the numbers go in after printing."""
    from pypdf.generic import DictionaryObject, NameObject

    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    size = 9
    for page in writer.pages[first:end]:
        ops = []
        for annot in page.get("/Annots", []):
            link = annot.get_object()
            target = pages.get(str(link.get("/Dest", "")).lstrip("/"))
            if link.get("/Subtype") != "/Link" or target is None:
                continue
            left, bottom, right, top = (float(v) for v in link["/Rect"])
            number = str(target + 1)
            x = right - 0.556 * size * len(number)  # Helvetica's digits are 0.556 em wide
            y = bottom + (top - bottom - 0.7 * size) / 2
            ops.append(f"BT /ContentsPageNo {size} Tf {x:.2f} {y:.2f} Td ({number}) Tj ET")
        if not ops:
            continue
        page["/Resources"].get_object().setdefault(NameObject("/Font"), DictionaryObject())
        page["/Resources"]["/Font"][NameObject("/ContentsPageNo")] = font
        contents = page.get_contents()
        # Chromium's drawing leaves its own coordinate transform in force: q ... Q undoes it.
        numbers = "\nq 0.2 g " + " ".join(ops) + " Q\n"
        contents.set_data(b"q\n" + contents.get_data() + b"\nQ" + numbers.encode())
        page.replace_contents(contents)


def normalise(text: str) -> str:
    """Lower-case letters and digits only, accents dropped: text as a PDF's words compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    return re.sub(
        r"[^a-z0-9]", "", "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    )


def _first_heading(markdown: str) -> str | None:
    """The first level-1 heading of a MyST text, outside code fences."""
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("# "):
            return line[2:].strip()
    return None


def toc_documents(src: Path) -> list[str]:
    """The documents of the staged book in reading order: the root, then _toc.yml's files."""
    root = yaml.safe_load((src / "_toc.yml").read_text())["root"]
    return [root, *book.toc_files(src / "_toc.yml")]


def document_title(src: Path, doc: str) -> str:
    """The title of a staged document: the first ``#`` heading of its page or notebook."""
    md, ipynb = src / f"{doc}.md", src / f"{doc}.ipynb"
    if md.is_file():
        title = _first_heading(md.read_text())
    elif ipynb.is_file():
        cells = nbformat.read(ipynb, as_version=4).cells
        title = next(
            (t for c in cells if c.cell_type == "markdown" if (t := _first_heading(c.source))),
            None,
        )
    else:
        raise SystemExit(f"_toc.yml lists {doc}, but {src} has neither {doc}.md nor {doc}.ipynb")
    if not title:
        raise SystemExit(f"{doc} has no '# ' heading to title its chapter")
    return title


IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif")


def expected_images(src: Path, docs: list[str]) -> int:
    """How many distinct images the book shows: the image outputs of its staged notebooks,
    an image drawn twice counted once (the PDF embeds it once)."""
    images = set()
    for doc in docs:
        path = src / f"{doc}.ipynb"
        if path.is_file():
            for cell in nbformat.read(path, as_version=4).cells:
                for out in cell.get("outputs", []):
                    data = out.get("data", {})
                    images.update(str(data[m]).strip() for m in IMAGE_MIMES if m in data)
    return len(images)


CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def cited_titles(src: Path, docs: list[str]) -> dict[str, str]:
    """{key: title} of every bibliography entry the staged documents cite."""
    import pybtex.database

    text = ""
    for doc in docs:
        md, ipynb = src / f"{doc}.md", src / f"{doc}.ipynb"
        if md.is_file():
            text += md.read_text()
        elif ipynb.is_file():
            text += "".join(c.source for c in nbformat.read(ipynb, as_version=4).cells)
    keys = {k.strip() for group in CITE.findall(text) for k in group.split(",")}
    config = yaml.safe_load((src / "_config.yml").read_text())
    entries = {}
    for bib in config.get("bibtex_bibfiles", []):
        entries.update(pybtex.database.parse_file(src / bib).entries)
    missing = sorted(keys - set(entries))
    if missing:
        raise SystemExit(f"cited but not in the bibliography files: {', '.join(missing)}")
    # Braces only protect capitals and a backslash starts a LaTeX command: neither is printed.
    return {k: re.sub(r"\\[a-zA-Z]+|[{}\\]", "", entries[k].fields["title"]) for k in keys}


def _texts_of(pdf: Path, first: int, last: int) -> list[str]:
    import pypdf

    reader = pypdf.PdfReader(pdf)
    return [reader.pages[i].extract_text() for i in range(first, last)]


def page_texts(pdf: Path, n_pages: int) -> list[str]:
    """The text of every page, extracted by pypdf in one process per core."""
    from concurrent.futures import ProcessPoolExecutor

    workers = max(1, min(os.cpu_count() or 1, 4, n_pages // 20))
    bounds = [round(i * n_pages / workers) for i in range(workers + 1)]
    if workers == 1:
        return _texts_of(pdf, 0, n_pages)
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(_texts_of, [pdf] * workers, bounds[:-1], bounds[1:])
        return [text for part in parts for text in part]


def outline_entries(reader) -> list[tuple[str, int]]:
    """The PDF's bookmarks, depth first: (title, 0-based page)."""
    entries = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                entries.append((str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline)
    return entries


def count_images(reader) -> int:
    """Distinct image objects drawn on the pages (inside form objects too)."""
    seen, stack = set(), [page.get("/Resources") for page in reader.pages]
    visited = set()
    while stack:
        resources = stack.pop()
        resources = resources.get_object() if resources is not None else None
        if not resources or "/XObject" not in resources:
            continue
        for ref in resources["/XObject"].get_object().values():
            key = getattr(ref, "idnum", id(ref))
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                seen.add(key)
            elif obj.get("/Subtype") == "/Form" and key not in visited:
                visited.add(key)
                stack.append(obj.get("/Resources"))
    return len(seen)


# TeX that MathJax should have turned into typeset math.
RAW_MATH = ("$$", "\\begin{", "\\end{", "\\(", "\\)", "\\[", "\\]", "\\frac", "\\mathbf")
MAX_PAGES_PER_DOCUMENT = 40


def raw_math(text: str) -> list[str]:
    """The pieces of TeX source (see RAW_MATH) that ``text`` prints."""
    return sorted({tex for tex in RAW_MATH if tex in text})


def bibliography_doc(src: Path, docs: list[str]) -> str | None:
    """The document that holds the ``{bibliography}`` directive."""
    for doc in docs:
        md = src / f"{doc}.md"
        if md.is_file() and "```{bibliography}" in md.read_text():
            return doc
    return None


def check_pdf(pdf: Path = PDF_PATH, src: Path = book.SITE_SRC) -> tuple[list[str], dict]:
    """Read ``pdf`` back against the staged sources ``src``; return (problems, facts).

    Checks: a page count in a sane range; a bookmark for every document of _toc.yml, in
    order, on a page that prints its title; a printed contents list naming every chapter
    in order; at least as many embedded images as the notebooks have image outputs; no TeX
    left untypeset; every cited work in the bibliography.
    """
    import pypdf

    if not pdf.is_file():
        raise SystemExit(f"no PDF at {pdf}: run `python -m booktools.pdf build` first")
    reader = pypdf.PdfReader(pdf)
    docs = toc_documents(src)
    titles = [document_title(src, doc) for doc in docs]
    n_pages = len(reader.pages)
    raw = page_texts(pdf, n_pages)
    texts = [normalise(t) for t in raw]
    problems = []
    facts = {"pages": n_pages, "documents": len(docs)}

    if not len(docs) <= n_pages <= MAX_PAGES_PER_DOCUMENT * len(docs):
        problems.append(
            f"{n_pages} pages for {len(docs)} documents: expected between {len(docs)} "
            f"(one page each at least) and {MAX_PAGES_PER_DOCUMENT * len(docs)}"
        )

    # Chapters: each title a bookmark, in _toc.yml order, printed on the bookmarked page.
    outline = outline_entries(reader)
    starts, position = {}, 0
    for doc, title in zip(docs, titles, strict=True):
        found = next(
            (
                i
                for i in range(position, len(outline))
                if normalise(outline[i][0]) == normalise(title)
            ),
            None,
        )
        if found is None:
            problems.append(f"no bookmark for {doc} ({title!r}) after the previous chapter's")
            continue
        position, page = found + 1, outline[found][1]
        starts[doc] = page
        if normalise(title) not in texts[page]:
            problems.append(f"{title!r} is bookmarked on page {page + 1}, which does not print it")
    pages_in_order = [starts[d] for d in docs if d in starts]
    if pages_in_order != sorted(pages_in_order):
        problems.append(f"chapters start on pages out of order: {pages_in_order}")
    facts["chapter_pages"] = {d: p + 1 for d, p in starts.items()}

    # The printed contents list, in the front matter before the first chapter.
    front = "".join(texts[: starts.get(docs[1], 0) if len(docs) > 1 else 1])
    at = front.find("contents")
    if at < 0:
        problems.append("no printed contents list before the first chapter")
    for title in titles[1:]:
        found = front.find(normalise(title), at + 1)
        if found < 0:
            problems.append(f"the printed contents list lacks {title!r} (or lists it out of order)")
        else:
            at = found

    # Figures: every image output of the notebooks is embedded.
    facts["images"], facts["image_outputs"] = count_images(reader), expected_images(src, docs)
    if facts["images"] < facts["image_outputs"]:
        problems.append(
            f"{facts['images']} images in the PDF, fewer than the notebooks' "
            f"{facts['image_outputs']} image outputs"
        )

    # Math: MathJax typeset every formula, so no TeX source is left in the text.
    for number, text in enumerate(raw, start=1):
        left = raw_math(text)
        if left:
            problems.append(f"page {number} prints TeX source {' '.join(left)}: untypeset math")

    # Bibliography: every cited work is listed on the bibliography's pages.
    cited = cited_titles(src, docs)
    facts["cited_works"] = len(cited)
    bib = bibliography_doc(src, docs)
    if cited and (bib is None or bib not in starts):
        problems.append(f"{len(cited)} works are cited but the PDF has no bibliography")
    elif cited:
        later = [p for p in starts.values() if p > starts[bib]]
        bib_text = "".join(texts[starts[bib] : min(later, default=n_pages)])
        for key, title in sorted(cited.items()):
            if normalise(title) not in bib_text:
                problems.append(f"the bibliography lacks {key} ({title!r})")
    return problems, facts


def build(src: Path = book.SITE_SRC, pdf: Path = PDF_PATH) -> Path:
    """The staged book as one HTML page, printed to ``pdf``; fails on any problem in print."""
    start = time.time()
    page = build_html(src)
    built = time.time()
    problems = print_pdf(page, pdf, toc_parts(src))
    for problem in problems:
        print(f"PRINT PROBLEM  {problem}")
    print(f"singlehtml {built - start:.0f} s, print {time.time() - built:.0f} s: {pdf}")
    if problems:
        raise SystemExit(f"{len(problems)} problems while printing the book")
    return pdf


def check(pdf: Path = PDF_PATH, src: Path = book.SITE_SRC) -> int:
    """Check the PDF and print what is wrong; 0 when nothing is."""
    start = time.time()
    problems, facts = check_pdf(pdf, src)
    for problem in problems:
        print(f"BROKEN  {problem}")
    print(
        f"pdf check: {facts['pages']} pages, {facts['documents']} documents, "
        f"{facts['images']} images for {facts['image_outputs']} image outputs, "
        f"{facts['cited_works']} cited works; {len(problems)} problems "
        f"({time.time() - start:.0f} s)"
    )
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.pdf")
    parser.add_argument(
        "command",
        nargs="?",
        default="all",
        choices=["build", "check", "all"],
        help="print the staged book to _build/pdf/book.pdf, check that PDF, or both (default)",
    )
    args = parser.parse_args(argv)
    if args.command in ("build", "all"):
        build()
    return check() if args.command in ("check", "all") else 0


if __name__ == "__main__":
    sys.exit(main())
