"""The book is built from executed copies that are never stale."""

from pathlib import Path

import nbformat
import pytest

from booktools import book


def test_hash_changes_with_the_notebook(tmp_path, monkeypatch):
    nb_path = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, nb_path)
    first = book.source_hash(nb_path)
    nb.cells[0].source = "x = 2"
    nbformat.write(nb, nb_path)
    assert book.source_hash(nb_path) != first


def test_hash_changes_with_course_lib(tmp_path, monkeypatch):
    fake_root = tmp_path / "repo"
    (fake_root / "course_lib").mkdir(parents=True)
    module = fake_root / "course_lib" / "helper.py"
    module.write_text("VALUE = 1\n")
    nb_path = fake_root / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), nb_path)
    monkeypatch.setattr(book, "ROOT", fake_root)
    before = book.source_hash(nb_path)
    module.write_text("VALUE = 2\n")
    assert book.source_hash(nb_path) != before


@pytest.fixture
def demo_book(tmp_path, monkeypatch):
    """A project root in tmp_path with an empty course_lib; returns the path of a notebook."""
    monkeypatch.setattr(book, "ROOT", tmp_path)
    monkeypatch.setattr(book, "EXECUTED_DIR", tmp_path / "_build" / "executed")
    (tmp_path / "course_lib").mkdir()
    (tmp_path / "notebooks").mkdir()
    return tmp_path / "notebooks" / "demo.ipynb"


def test_executed_copy_is_fresh_until_its_source_changes(demo_book):
    nb_path = demo_book
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]), nb_path)
    assert not book.is_fresh(nb_path)
    outputs = {0: [nbformat.v4.new_output("stream", name="stdout", text="1\n")]}
    target = book.write_executed(nb_path, outputs)
    assert book.is_fresh(nb_path)
    assert nbformat.read(target, as_version=4).cells[0].outputs[0].text == "1\n"
    (book.ROOT / "course_lib" / "new.py").write_text("# a library change\n")
    assert not book.is_fresh(nb_path)


def test_clean_outputs_merges_streams_and_drops_widget_views():
    outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="epoch 1\r"),
        nbformat.v4.new_output("stream", name="stdout", text="epoch 2\ndone\n"),
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                "text/plain": "HBox(children=(IntSlider(value=1),))",
            },
        ),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "fig"}),
    ]
    cleaned = book._clean_outputs(outputs)
    assert [o.output_type for o in cleaned] == ["stream", "display_data"]
    assert cleaned[0].text == "epoch 2\ndone\n"
    assert "image/png" in cleaned[1].data


def test_site_copy_serves_bertviz_scripts_from_the_book(tmp_path, monkeypatch):
    import bertviz

    from booktools.book import CDN_COPIES

    sources = "".join(
        p.read_text()
        for p in Path(bertviz.__file__).parent.glob("*_view.*")
        if p.suffix in (".py", ".js")
    )
    for url in CDN_COPIES:
        assert url in sources, f"bertviz no longer loads {url}: update CDN_COPIES"
    vendor = book.ROOT / "book" / "_static" / "vendor"
    for name in CDN_COPIES.values():
        assert (vendor / (name if name.endswith(".js") else name + ".js")).is_file()

    monkeypatch.setattr(book, "SITE_SRC", tmp_path / "site")
    html = "".join(f'<script src="{url}"></script>' for url in CDN_COPIES)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("view()")])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"text/html": html})]
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nb, executed)
    target = tmp_path / "site" / "notebooks" / "13.ipynb"
    book.copy_for_site(executed, target)
    out = nbformat.read(target, as_version=4).cells[0].outputs[0].data["text/html"]
    assert "https://" not in out
    assert 'src="../_static/vendor/require.js"' in out


def test_site_copy_shows_the_measured_run_time_under_the_prerequisites():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 99 Topic"),
            nbformat.v4.new_markdown_cell("**Builds on:** chapter 98."),
        ]
    )
    nb.metadata["course_lib"] = {"seconds": 41.6}
    book.add_run_time(nb)
    assert nb.cells[0].source == "# 99 Topic"
    assert "**Run time:** 42 s in the test run" in nb.cells[1].source
    nb.metadata["course_lib"] = {"seconds": None}  # not measured: nothing is claimed
    nb.cells[1].source = "**Builds on:** chapter 98."
    book.add_run_time(nb)
    assert nb.cells[1].source == "**Builds on:** chapter 98."


def test_site_copy_gives_every_figure_alt_text():
    png = {"image/png": "iVBOR", "text/plain": "<Figure>"}
    plot = nbformat.v4.new_code_cell('ax.set(title="Training loss")\nplt.show()')
    plot.outputs = [nbformat.v4.new_output("display_data", data=png)]
    untitled = nbformat.v4.new_code_cell('ax.set_title(f"epoch {n}")')
    untitled.outputs = [nbformat.v4.new_output("display_data", data=png)]
    text_only = nbformat.v4.new_code_cell("print(1)")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 99 Topic\n\n## 1 Curves"),
            plot,
            nbformat.v4.new_markdown_cell("## 2 More"),
            untitled,
            text_only,
        ]
    )
    book.add_figure_alt(nb)
    assert plot.metadata["mystnb"]["image"]["alt"] == (
        "Training loss (figure in section '1 Curves' of chapter '99 Topic')"
    )
    assert untitled.metadata["mystnb"]["image"]["alt"] == (
        "Figure in section '2 More' of chapter '99 Topic'"
    )
    assert "mystnb" not in text_only.metadata


def test_executed_copy_is_fresh_only_for_the_same_seed_and_threads(demo_book, monkeypatch):
    nb_path = demo_book
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), nb_path)
    monkeypatch.setenv("COURSE_SEED", "0")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    book.write_executed(nb_path, {0: []})
    assert book.is_fresh(nb_path)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert not book.is_fresh(nb_path)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("COURSE_SEED", "1")
    assert not book.is_fresh(nb_path)
    # The build (no thread setting of its own) takes any copy of the default draw.
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.delenv("COURSE_SEED")
    assert book.is_fresh(nb_path, for_book=True)
    monkeypatch.setenv("COURSE_SEED", "1")
    book.write_executed(nb_path, {0: []})
    assert not book.is_fresh(nb_path, for_book=True)


def test_site_check_opens_every_page_and_counts_a_missing_chapter(demo_book, browser, capsys):
    root = book.ROOT
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n- file: notebooks/demo\n"
    )
    html = root / "_build" / "html"
    (html / "book").mkdir(parents=True)
    page = '<!doctype html><meta name="viewport" content="width=device-width"><title>t</title>ok'
    (html / "index.html").write_text(page.replace("ok", "<script>oops()</script>"))
    (html / "book" / "intro.html").write_text(page)
    assert book.check(browser) == 1
    out = capsys.readouterr().out
    assert "MISSING  notebooks/demo.html" in out
    assert "BROKEN   index.html" in out and "oops is not defined" in out
    assert "ok       book/intro.html" in out
    assert "site check: 1 pages ok, 2 broken" in out
    (html / "index.html").write_text(page)
    (html / "notebooks").mkdir()
    (html / "notebooks" / "demo.html").write_text(page)
    assert book.check(browser) == 0
    assert "site check: 3 pages ok, 0 broken" in capsys.readouterr().out
    shots = root / "_build" / "screenshots"
    assert {p.name for p in shots.glob("notebooks_demo-*.png")} == {
        "notebooks_demo-desktop.png",
        "notebooks_demo-phone.png",
    }


def test_site_check_spots_a_page_that_shows_the_setup_cell():
    """The Colab setup cell is tagged remove-cell; a page that still shows it is reported."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    from booktools.setup_cell import setup_source

    shown = highlight(setup_source(), PythonLexer(), HtmlFormatter())
    assert book.shows_setup_cell(f"<html><body><h1>02</h1>{shown}</body></html>")
    other = highlight(
        "from course_lib import device\nDEVICE = device()", PythonLexer(), HtmlFormatter()
    )
    assert not book.shows_setup_cell(f"<html><body><h1>02</h1>{other}</body></html>")


def test_make_book_after_make_test_runs_nothing_and_succeeds():
    """With every executed copy current, the `--reuse-fresh` run collects nothing: that is
    success (pytest's own exit code 5 would fail `make book` after `make test`)."""
    import subprocess
    import sys

    def run(*extra):
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-k", "no_such_test_x"]
        return subprocess.run(
            [*cmd, *extra, "tests/test_validation.py"], cwd=book.ROOT, capture_output=True
        )

    assert run().returncode == pytest.ExitCode.NO_TESTS_COLLECTED
    quiet = run("--reuse-fresh")
    assert quiet.returncode == 0, quiet.stdout.decode()[-500:]
    assert b"nothing to run" in quiet.stdout


def test_site_copy_highlights_printed_library_code():
    listing = nbformat.v4.new_code_cell("print(inspect.getsource(optim.SGD.update))")
    listing.outputs = [nbformat.v4.new_output("stream", name="stdout", text="def update(p):\n")]
    silent = nbformat.v4.new_code_cell("src = inspect.getsource(f)")
    other = nbformat.v4.new_code_cell("print(1)")
    other.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    mixed = nbformat.v4.new_code_cell("print(inspect.getsource(f))\nprint(f(1))")
    mixed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="def f(x):\n≤ 1\n")]
    nb = nbformat.v4.new_notebook(cells=[listing, silent, other, mixed])
    book.highlight_source_listings(nb)
    assert listing.metadata["mystnb"]["text_lexer"] == "python"
    assert all("mystnb" not in c.metadata for c in (silent, other, mixed))
