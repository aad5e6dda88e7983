"""Slides per chapter: the slide convention, and a deck stepped through in headless Chromium."""

import base64
import io
import re
import shutil

import nbformat
import pytest

from booktools import book, slides

LONG_PARAGRAPH = "A sentence of some length that fills a good part of a line on a slide. " * 2


def slide_types(nb) -> list[str]:
    return [c.metadata["slideshow"]["slide_type"] for c in nb.cells]


def figure_cell(source: str) -> nbformat.NotebookNode:
    """A code cell with a real PNG output (a tiny matplotlib figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    cell = nbformat.v4.new_code_cell(source)
    data = {"image/png": base64.b64encode(buffer.getvalue()).decode(), "text/plain": "<Figure>"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    return cell


def test_headings_start_slides_and_sub_slides_and_code_is_a_fragment():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("(chap-topic)=\n# 99 Topic\n\nIntro."),
            nbformat.v4.new_markdown_cell("A short paragraph."),
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_markdown_cell("## A section"),
            nbformat.v4.new_markdown_cell("### A detail"),
            figure_cell("\n".join(f"line_{i} = {i}" for i in range(10))),
            nbformat.v4.new_raw_cell("raw cells are not shown"),
        ]
    )
    original = [c.source for c in nb.cells]
    out = slides.slide_notebook(nb)
    assert slide_types(out) == ["slide", "-", "fragment", "slide", "subslide", "subslide"]
    assert [c.source for c in nb.cells] == original  # the notebook itself is not changed
    assert "(chap-topic)=" not in out.cells[0].source
    assert out.cells[5].outputs == nb.cells[5].outputs


def test_a_long_markdown_cell_is_split_into_slides_that_fit():
    blocks = [LONG_PARAGRAPH] * 12 + ["$$\na = b\n\nc = d\n$$"] + [LONG_PARAGRAPH] * 6
    text = "## Long section\n\n" + "\n\n".join(blocks)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    out = slides.slide_notebook(nb)
    types = slide_types(out)
    assert len(types) > 1 and types[0] == "slide" and set(types[1:]) == {"subslide"}
    assert all(slides.markdown_lines(c.source) <= slides.SLIDE_LINES for c in out.cells)
    assert "\n\n".join(c.source for c in out.cells) == text  # nothing lost, nothing added
    assert any("$$\na = b\n\nc = d\n$$" in c.source for c in out.cells)  # math kept whole
    assert out.cells[0].source.startswith("## Long section\n\n" + LONG_PARAGRAPH)


def test_myst_references_become_text():
    authors = slides.cite_labels([book.ROOT / "book" / "references.bib"])
    assert authors["rosenblatt1958perceptron"] == "Rosenblatt 1958"
    text = (
        "As {cite}`rosenblatt1958perceptron,minsky1969perceptrons` showed (see "
        "{doc}`the bibliography <../book/bibliography>` and {doc}`02_perceptron`)."
    )
    assert slides.plain_markdown(text, authors) == (
        "As (Rosenblatt 1958; Minsky and Papert 1969) showed (see the bibliography and "
        "02_perceptron)."
    )


needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="needs Chromium (Debian's chromium package; `make browser` installs it)",
)


def demo_deck(tmp_path, extra_html: str = ""):
    cells = [
        nbformat.v4.new_markdown_cell("# 99 Topic\n\nThe loss $L(\\mathbf{w})$ falls."),
        nbformat.v4.new_markdown_cell(
            "## Its formula\n\n$$\n\\begin{aligned} L &= x^2 \\end{aligned}\n$$"
        ),
        figure_cell("plot()"),
        nbformat.v4.new_markdown_cell("## Next\n\nMore text."),
        nbformat.v4.new_markdown_cell("### Deeper\n\nStill more."),
        nbformat.v4.new_markdown_cell("## Last\n\nThe end."),
    ]
    if extra_html:
        cell = nbformat.v4.new_code_cell("view()")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": extra_html})]
        cells.append(cell)
    slides.copy_assets(tmp_path)
    return slides.write_deck(nbformat.v4.new_notebook(cells=cells), tmp_path / "99.slides.html", {})


@needs_chromium
def test_a_deck_steps_forward_offline_with_typeset_math(tmp_path, browser):
    pytest.importorskip("playwright")
    deck = demo_deck(tmp_path)
    head = deck.read_text().split("<body")[0]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", head)  # nothing from a CDN
    assert 'alt="Figure in section' in deck.read_text()
    shot = tmp_path / "screenshots" / "99.png"
    problems, facts = slides.check_deck(deck, shot, steps=3, chromium=browser)
    assert problems == []
    assert facts["slides"] == 5 and facts["math"] >= 2
    steps = facts["indices"]
    assert len(steps) == 4 and all(a != b for a, b in zip(steps, steps[1:], strict=False))
    assert shot.stat().st_size > 5000


@needs_chromium
def test_the_deck_check_reports_a_script_from_off_the_machine(tmp_path, browser):
    pytest.importorskip("playwright")
    deck = demo_deck(tmp_path, '<script src="https://cdn.invalid/lib.js"></script>')
    problems, _ = slides.check_deck(deck, tmp_path / "shot.png", steps=1, chromium=browser)
    assert any(
        "request off this machine (refused): https://cdn.invalid/lib.js" in p for p in problems
    )
