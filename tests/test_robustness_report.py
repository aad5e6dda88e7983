"""The robustness report is current, complete and passing; the sweep's bookkeeping works.

When this fails after a change to a notebook or to a course_lib file it loads, rerun the sweep
for the notebooks it names: `make robustness` (or `python benchmarks/robustness.py NB ...`).
"""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("robustness", ROOT / "benchmarks" / "robustness.py")
robustness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(robustness)

NOTEBOOKS = [p.relative_to(ROOT).as_posix() for p in robustness.notebook_list()]


@pytest.fixture(scope="module")
def data():
    if not robustness.DATA.is_file():
        pytest.fail("benchmarks/robustness.json is missing: run `make robustness`")
    return json.loads(robustness.DATA.read_text())


@pytest.mark.parametrize("rel", NOTEBOOKS, ids=lambda r: Path(r).stem)
def test_every_notebook_passed_every_run_of_the_current_code(data, rel):
    entry = data["notebooks"].get(rel)
    assert entry, f"{rel} is not in the sweep: run `make robustness`"
    assert entry["hash"] == robustness.source_hash(Path(rel), entry["modules"]), (
        f"{rel} or a course_lib file it loads changed since its sweep: rerun "
        f"`python benchmarks/robustness.py {rel}`"
    )
    runs = {(r["seed"], r["threads"]): r for r in entry["runs"]}
    grid = robustness.common_grid(data)
    assert not [c for c in grid if c not in runs], f"{rel}: runs missing from the sweep"
    failed = {c: runs[c]["error"] for c in grid if not runs[c]["passed"]}
    assert not failed, f"{rel} failed in the sweep: {failed}"
    wrong = {c: runs[c]["threads_seen"] for c in grid if runs[c]["threads_seen"] != c[1]}
    assert not wrong, f"{rel}: runs that computed with other thread counts than asked: {wrong}"


def test_the_sweep_covers_every_seed_and_thread_count(data):
    """Every notebook ran the whole grid: each seed at each thread count."""
    grid = robustness.common_grid(data)
    missing = sorted({(s, t) for s in robustness.SEEDS for t in robustness.THREADS} - grid)
    assert not missing, f"(seed, threads) runs that some notebook lacks: {missing}"


def test_report_is_rendered_from_the_data(data):
    assert robustness.REPORT.read_text() == robustness.render(data), (
        "benchmarks/robustness.md is out of date: `python benchmarks/robustness.py --render`"
    )


def test_hash_follows_the_loaded_modules(tmp_path, monkeypatch):
    monkeypatch.setattr(robustness, "ROOT", tmp_path)
    (tmp_path / "course_lib").mkdir()
    (tmp_path / "course_lib" / "used.py").write_text("A = 1\n")
    (tmp_path / "course_lib" / "unused.py").write_text("B = 1\n")
    (tmp_path / "nb.ipynb").write_text(notebook_json("x = 1"))
    before = robustness.source_hash(Path("nb.ipynb"), ["course_lib/used.py"])
    (tmp_path / "course_lib" / "unused.py").write_text("B = 2\n")
    assert robustness.source_hash(Path("nb.ipynb"), ["course_lib/used.py"]) == before
    (tmp_path / "course_lib" / "used.py").write_text("A = 2\n")
    assert robustness.source_hash(Path("nb.ipynb"), ["course_lib/used.py"]) != before


def notebook_json(code: str, prose: str = "Some prose.") -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(prose), nbformat.v4.new_code_cell(code)]
    return nbformat.writes(nb)


def test_hash_follows_code_not_prose(tmp_path, monkeypatch):
    """Mending a sentence keeps the sweep current; any change to a code cell makes it stale."""
    monkeypatch.setattr(robustness, "ROOT", tmp_path)
    (tmp_path / "nb.ipynb").write_text(notebook_json("x = 1"))
    before = robustness.source_hash(Path("nb.ipynb"), [])
    (tmp_path / "nb.ipynb").write_text(notebook_json("x = 1", prose="Mended prose."))
    assert robustness.source_hash(Path("nb.ipynb"), []) == before
    (tmp_path / "nb.ipynb").write_text(notebook_json("x = 2"))
    assert robustness.source_hash(Path("nb.ipynb"), []) != before


def test_hash_leaves_out_the_generated_setup_cell_only(tmp_path, monkeypatch):
    """The Colab setup cell does nothing where course_lib is installed: adding it keeps a
    notebook's sweep current. A cell that is not exactly it (edited, or untagged) is code."""
    import nbformat

    from booktools.setup_cell import TAG, setup_source

    monkeypatch.setattr(robustness, "ROOT", tmp_path)
    (tmp_path / "nb.ipynb").write_text(notebook_json("x = 1"))
    without = robustness.source_hash(Path("nb.ipynb"), [])

    def with_first_cell(source, tags):
        nb = nbformat.reads(notebook_json("x = 1"), as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(source, metadata={"tags": tags}))
        (tmp_path / "nb.ipynb").write_text(nbformat.writes(nb))
        return robustness.source_hash(Path("nb.ipynb"), [])

    assert with_first_cell(setup_source(), [TAG]) == without
    assert with_first_cell(setup_source() + "\nx = 2", [TAG]) != without
    assert with_first_cell(setup_source().replace("-q", "-U"), [TAG]) != without
    assert with_first_cell(setup_source(), []) != without
    assert with_first_cell("x = 0", [TAG]) != without


def test_render_reports_spread_and_margin():
    runs = [
        {
            "seed": s,
            "threads": 1,
            "passed": True,
            "seconds": 10.0 + s,
            "error": None,
            "claims": [{"name": "acc", "value": v, "at_least": 0.9, "at_most": None}],
        }
        for s, v in enumerate([0.95, 0.97, 0.99])
    ]
    text = robustness.render({"notebooks": {"notebooks/01_x.ipynb": {"runs": runs}}})
    assert "| 01_x | 3 / 3 | 12 | 11 |" in text
    assert "holds 3 of those 15 runs per notebook:** seeds 0, 1, 2 at 1 thread." in text
    assert "| 01_x | acc | ≥ 0.9 | 3 | 0.95 | 0.97 | 0.99 | 0.05 |" in text


def test_scheduler_never_runs_more_threads_than_cores(monkeypatch):
    import threading
    import time

    busy, peak, lock = [0], [0], threading.Lock()

    def fake_launch(notebook, seed, threads, timeout):
        with lock:
            busy[0] += min(threads, 2)
            peak[0] = max(peak[0], busy[0])
        time.sleep(0.02)
        with lock:
            busy[0] -= min(threads, 2)
        return {"passed": True}

    monkeypatch.setattr(robustness, "launch", fake_launch)
    jobs = [(Path(f"n{i}.ipynb"), s, t) for i in range(3) for s in range(2) for t in (1, 2, 4)]
    done = []
    robustness.sweep(jobs, 2, 60, lambda job, result: done.append(job))
    assert sorted(done) == sorted(jobs)
    assert peak[0] <= 2


def test_runs_recorded_at_once_are_all_kept(tmp_path, monkeypatch):
    """Two sweeps may run at once (say, on different notebooks): neither loses the other's runs."""
    import threading

    monkeypatch.setattr(robustness, "ROOT", tmp_path)
    monkeypatch.setattr(robustness, "DATA", tmp_path / "robustness.json")
    monkeypatch.setattr(robustness, "REPORT", tmp_path / "robustness.md")
    names = [f"nb{i}.ipynb" for i in range(4)]
    for name in names:
        (tmp_path / name).write_text(notebook_json(f"name = {name!r}"))

    def record(name, seed):
        result = {"passed": True, "error": None, "seconds": 1.0, "claims": [], "modules": [name]}
        robustness.record(name, seed, 1, result, {})

    threads = [threading.Thread(target=record, args=(n, s)) for n in names for s in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = json.loads(robustness.DATA.read_text())
    assert sorted(data["notebooks"]) == names
    assert all(len(data["notebooks"][n]["runs"]) == 5 for n in names)


def test_notebook_list_takes_a_lettered_chapter_in_order():
    """A chapter inserted as NNx_name (07b_dense_vision) is swept, between NN_ and NN+1_."""
    names = [p.stem for p in robustness.notebook_list()]
    assert "07b_dense_vision" in names and "90_scaling_out" in names
    assert (
        names.index("07_modern_cnns")
        < names.index("07b_dense_vision")
        < names.index("08_adversarial")
    )
