"""Conventions every notebook obeys: jupytext pairs in sync, no stored outputs."""

import json
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAIRED = sorted((ROOT / "notebooks").glob("*.md")) + sorted((ROOT / "solutions").glob("*.md"))
ALL_IPYNB = sorted(
    p for d in ("notebooks", "solutions", "exercises") for p in (ROOT / d).glob("*.ipynb")
)


def _code(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("md", PAIRED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pair_exists_and_is_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{md.name} has no paired .ipynb: run `jupytext --sync {md}`"
    from_md = jupytext.read(md)
    from_ipynb = jupytext.read(ipynb)
    assert _code(from_md) == _code(from_ipynb), (
        f"{md.name} and {ipynb.name} differ: run `jupytext --sync {md}`"
    )


@pytest.mark.parametrize("ipynb", ALL_IPYNB, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_stored_outputs(ipynb):
    nb = json.loads(ipynb.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{ipynb.name} cell {i} has stored outputs"
            assert cell.get("execution_count") is None, f"{ipynb.name} cell {i} has a count"


@pytest.mark.parametrize(
    "ipynb", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name
)
def test_chapter_is_in_the_toc_and_paired(ipynb):
    assert ipynb.with_suffix(".md").exists(), f"{ipynb.name} must be paired with a .md file"
    toc = (ROOT / "_toc.yml").read_text()
    assert f"notebooks/{ipynb.stem}" in toc, f"{ipynb.stem} is missing from _toc.yml"


def test_every_solution_has_exercise_and_is_never_in_the_book():
    toc = (ROOT / "_toc.yml").read_text()
    for sol in (ROOT / "solutions").glob("*.ipynb"):
        assert (ROOT / "exercises" / sol.name).exists(), f"no exercises/{sol.name}: make exercises"
        assert f"solutions/{sol.stem}" not in toc, "solutions must not be published in the book"


@pytest.mark.parametrize("md", sorted((ROOT / "notebooks").glob("*.md")), ids=lambda p: p.name)
def test_chapter_states_its_prerequisites(md):
    # The book appends the measured run time to this paragraph (booktools.book.add_run_time).
    assert "**Builds on:**" in md.read_text(), f"{md.name} needs a '**Builds on:**' paragraph"
