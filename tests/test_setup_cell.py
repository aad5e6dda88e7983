"""Every notebook starts with the generated Colab setup cell (booktools/setup_cell.py).

When this fails, run `make setup-cells`: it writes the cell from its one template into every
chapter and solution notebook and regenerates exercises/.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from booktools import setup_cell

ROOT = Path(__file__).resolve().parent.parent
EVERY_NOTEBOOK = setup_cell.notebooks() + setup_cell.notebooks(setup_cell.PAIRED_DIRS, ".md")


def test_every_kind_of_notebook_is_checked():
    kinds = {(p.parent.name, p.suffix) for p in EVERY_NOTEBOOK}
    assert kinds == {
        ("notebooks", ".ipynb"),
        ("notebooks", ".md"),
        ("solutions", ".ipynb"),
        ("solutions", ".md"),
        ("exercises", ".ipynb"),
    }


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_starts_with_the_generated_setup_cell(path):
    assert setup_cell.problem(path, setup_cell.setup_source()) is None, setup_cell.problem(
        path, setup_cell.setup_source()
    )


def fake_project(folder: Path, url="https://example.org/fork/course", version="2.3.4") -> Path:
    """A project root with only the two files the setup cell is made from."""
    folder.mkdir(exist_ok=True)
    (folder / "_config.yml").write_text(f"title: x\nrepository:\n  url: {url}\n")
    (folder / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "{version}"\n')
    return folder


def test_cell_installs_the_release_of_the_configured_repository(tmp_path):
    source = setup_cell.setup_source(fake_project(tmp_path))
    assert '"git+https://example.org/fork/course@v2.3.4"' in source
    assert "requirements.lock" not in source and "torch" not in source
    assert source.startswith("# ")  # it says what it is for


@pytest.mark.parametrize(
    "url", ["", "http://example.org/x", "https://example.org/x y", "git@github.com:a/b"]
)
def test_a_repository_url_that_cannot_be_installed_is_refused(tmp_path, url):
    with pytest.raises(ValueError, match="repository.url must be an https:// address"):
        setup_cell.setup_source(fake_project(tmp_path, url=repr(url)))


def setup_notebook(path: Path, source: str) -> Path:
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell"]})
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_a_changed_repository_url_or_an_edited_cell_is_caught(tmp_path):
    """A notebook whose cell was made for another repository, or edited, fails the check."""
    today = setup_cell.setup_source()
    path = setup_notebook(tmp_path / "nb.ipynb", today)
    assert setup_cell.problem(path, today) is None
    moved = setup_cell.setup_source(fake_project(tmp_path / "fork"))
    message = setup_cell.problem(path, moved)
    assert "not the generated setup cell" in message and "make setup-cells" in message
    setup_notebook(path, today + "\nprint('edited')")
    assert "make setup-cells" in setup_cell.problem(path, today)
    untagged = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(today)])
    nbformat.write(untagged, path)
    assert "make setup-cells" in setup_cell.problem(path, today)


def test_writing_the_cell_inserts_once_and_replaces_an_old_one(tmp_path):
    shutil.copy(ROOT / "jupytext.toml", tmp_path)  # pairs nb.md with nb.ipynb
    md = tmp_path / "nb.md"
    title = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    jupytext.write(title, md, fmt="md:myst")
    old = setup_cell.setup_source(fake_project(tmp_path / "fork"))
    assert setup_cell.write_cell(md, old)
    assert not setup_cell.write_cell(md, old)  # already there: the file is left alone
    new = setup_cell.setup_source()
    assert setup_cell.write_cell(md, new)
    for path in (md, md.with_suffix(".ipynb")):  # the pair is kept in sync
        cells = jupytext.read(path).cells
        assert [c.cell_type for c in cells] == ["code", "markdown"]
        assert setup_cell.is_setup_cell(cells[0], new)


def run_cell(monkeypatch, importable: bool) -> list:
    """Execute the setup cell here with course_lib (un)importable; return the commands it ran."""
    import importlib.util

    ran = []
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "course_lib" and not importable else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: ran.append((cmd, kw)))
    exec(setup_cell.setup_source(), {})
    return ran


def test_the_cell_does_nothing_where_course_lib_is_importable(monkeypatch):
    assert run_cell(monkeypatch, importable=True) == []


def test_the_cell_pip_installs_the_release_or_the_override(monkeypatch):
    monkeypatch.delenv("COURSE_LIB_SOURCE", raising=False)
    url, ref = setup_cell.repository_url(), setup_cell.release_ref()
    ((cmd, kw),) = run_cell(monkeypatch, importable=False)
    assert cmd == [sys.executable, "-m", "pip", "install", "-q", f"course_lib @ git+{url}@{ref}"]
    assert kw == {"check": True}
    monkeypatch.setenv("COURSE_LIB_SOURCE", os.fspath(Path("dist/course_lib.whl")))
    ((cmd, _),) = run_cell(monkeypatch, importable=False)
    assert cmd[-1] == os.fspath(Path("dist/course_lib.whl"))
