"""The book's PDF: a small staged book printed in headless Chromium, then read back.

The real book's PDF is built and checked by `make test` (`python -m booktools.pdf`) after the
site is built; these tests print a three-document book with the real _config.yml, which is
enough to see every check pass, and then break the sources to see each check fail.
"""

import base64
import copy
import io
import re
import shutil

import nbformat
import pytest

from booktools import book, pdf

pytest.importorskip("playwright")
pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="needs Chromium (Debian's chromium package; `make browser` installs it)",
)

INTRO = """# Demo book

A formula in the text, $a^2 + b^2 = c^2$, and one on its own line:

$$
\\begin{aligned} f(x) &= \\frac{1}{1 + e^{-x}} \\end{aligned}
$$

The perceptron {cite}`rosenblatt1958perceptron` comes first.
"""
TOC = """format: jb-book
root: book/intro
parts:
  - caption: The only part
    chapters:
      - file: notebooks/demo
      - file: book/bibliography
"""


def png(colour: str) -> str:
    """A small PNG of one colour, base64-encoded as a notebook stores it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1], color=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def demo_notebook() -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell("# 99 A demo chapter\n\nIts weights $\\mathbf{w}$.")]
    for colour in ("red", "blue"):
        cell = nbformat.v4.new_code_cell(f"plot('{colour}')")
        cell.outputs = [
            nbformat.v4.new_output(
                "display_data", data={"image/png": png(colour), "text/plain": "<Figure>"}
            )
        ]
        cells.append(cell)
    cells.append(nbformat.v4.new_markdown_cell("## Exercises\n\nNone."))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture(scope="module")
def printed(tmp_path_factory, browser):
    """A staged book (a page with math and a citation, a notebook with two figures, the
    bibliography) built and printed; returns (sources, PDF, problems seen in print)."""
    root = tmp_path_factory.mktemp("pdf-book")
    src = root / "site-src"
    (src / "book").mkdir(parents=True)
    (src / "notebooks").mkdir()
    shutil.copy(book.ROOT / "_config.yml", src / "_config.yml")
    for folder in ("_ext", "_static"):
        shutil.copytree(book.ROOT / "book" / folder, src / "book" / folder)
    for name in ("references.bib", "bibliography.md"):
        shutil.copy(book.ROOT / "book" / name, src / "book" / name)
    (src / "book" / "intro.md").write_text(INTRO)
    (src / "_toc.yml").write_text(TOC)
    nbformat.write(demo_notebook(), src / "notebooks" / "demo.ipynb")
    page = pdf.build_html(src, build_root=root)
    problems = pdf.print_pdf(page, root / "book.pdf", pdf.toc_parts(src), chromium=browser)
    return src, root / "book.pdf", problems


def test_small_book_prints_and_passes_every_check(printed):
    src, path, problems = printed
    assert problems == []
    problems, facts = pdf.check_pdf(path, src)
    assert problems == []
    assert facts["images"] == facts["image_outputs"] == 2
    assert facts["cited_works"] == 1
    pages = facts["chapter_pages"]
    assert pages["book/intro"] < pages["notebooks/demo"] < pages["book/bibliography"]
    assert 3 <= facts["pages"] <= 10


def test_bookmarks_follow_the_parts_of_the_toc(printed):
    import pypdf

    reader = pypdf.PdfReader(printed[1])
    titles = [title for title, _ in pdf.outline_entries(reader)]
    assert titles == [
        "Contents",
        "Demo book",
        "The only part",
        "99 A demo chapter",
        "Exercises",
        "Bibliography",
    ]


def staged_copy(printed, tmp_path):
    src = tmp_path / "site-src"
    shutil.copytree(printed[0], src)
    return src


def test_check_finds_a_chapter_that_is_not_printed(printed, tmp_path):
    src = staged_copy(printed, tmp_path)
    (src / "book" / "extra.md").write_text("# An extra chapter\n\nText.\n")
    toc = (src / "_toc.yml").read_text()
    (src / "_toc.yml").write_text(toc.replace("- file: book/bibliography", "- file: book/extra"))
    problems, _ = pdf.check_pdf(printed[1], src)
    assert any("no bookmark for book/extra" in p for p in problems)
    assert any("contents list lacks 'An extra chapter'" in p for p in problems)


def test_check_finds_a_missing_figure(printed, tmp_path):
    src = staged_copy(printed, tmp_path)
    nb = nbformat.read(src / "notebooks" / "demo.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("plot('green')"))
    nb.cells[-1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": png("g")})]
    nbformat.write(nb, src / "notebooks" / "demo.ipynb")
    problems, _ = pdf.check_pdf(printed[1], src)
    assert problems == ["2 images in the PDF, fewer than the notebooks' 3 image outputs"]


def test_check_finds_a_citation_missing_from_the_bibliography(printed, tmp_path):
    src = staged_copy(printed, tmp_path)
    intro = src / "book" / "intro.md"
    intro.write_text(intro.read_text() + "\nAnd Adam {cite}`kingma2015adam`.\n")
    problems, facts = pdf.check_pdf(printed[1], src)
    assert facts["cited_works"] == 2
    assert len(problems) == 1 and "bibliography lacks kingma2015adam" in problems[0]


def test_raw_math_is_tex_source_left_in_the_text():
    assert pdf.raw_math("where $$x = \\frac{1}{2}$$ holds") == ["$$", "\\frac"]
    assert pdf.raw_math("f(x) = 1/(1 + e−x) costs $5") == []


def test_titles_come_from_the_first_level_one_heading(tmp_path):
    (tmp_path / "page.md").write_text(
        "(label)=\n```text\n# not a heading\n```\n# The title\n## Sub\n"
    )
    assert pdf.document_title(tmp_path, "page") == "The title"
    with pytest.raises(SystemExit, match="neither"):
        pdf.document_title(tmp_path, "absent")


def test_an_image_drawn_twice_is_expected_once(tmp_path):
    nb = demo_notebook()
    again = nbformat.v4.new_code_cell("plot('red')")  # the red figure again
    again.outputs = copy.deepcopy(nb.cells[1].outputs)
    nb.cells.append(again)
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "demo.ipynb")
    assert pdf.expected_images(tmp_path, ["notebooks/demo", "book/intro"]) == 2


def test_the_contents_list_prints_each_chapter_s_page_number(printed):
    import pypdf

    reader = pypdf.PdfReader(printed[1])
    starts = dict(pdf.outline_entries(reader))
    contents = reader.pages[starts["Contents"]].extract_text(extraction_mode="layout")
    for title in ("99 A demo chapter", "Bibliography"):
        assert re.search(rf"^{title} +{starts[title] + 1}$", contents, flags=re.M), contents
        assert pdf.normalise(title) in pdf.normalise(reader.pages[starts[title]].extract_text())
