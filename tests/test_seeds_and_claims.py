"""COURSE_SEED moves every random draw; claim() asserts, prints and records."""

import json
import re
from pathlib import Path

import pytest
import torch

from course_lib import claim, generator, rng, seeded, set_seed
from course_lib.data import load_digits, toy_2d

ROOT = Path(__file__).resolve().parent.parent


def test_seeded_adds_course_seed(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert seeded(5) == 5
    monkeypatch.setenv("COURSE_SEED", "3")
    assert seeded(5) == 8
    monkeypatch.setenv("COURSE_SEED", "minus one")
    with pytest.raises(ValueError, match="COURSE_SEED"):
        seeded(0)
    monkeypatch.setenv("COURSE_SEED", "0")
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match="seed"):
            seeded(bad)


def test_set_seed_generator_and_rng_follow_course_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "0")
    set_seed(2)
    expected = torch.rand(3)
    from_generator = torch.rand(3, generator=generator(2))
    from_rng = rng(2).normal(size=3)
    monkeypatch.setenv("COURSE_SEED", "2")
    set_seed(0)
    assert torch.equal(torch.rand(3), expected)
    assert torch.equal(torch.rand(3, generator=generator(0)), from_generator)
    assert (rng(0).normal(size=3) == from_rng).all()


def test_data_generators_and_splits_follow_course_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "0")
    split0, X0 = load_digits()[0], toy_2d("moons", 50)[0]
    monkeypatch.setenv("COURSE_SEED", "1")
    split1, X1 = load_digits()[0], toy_2d("moons", 50)[0]
    assert not torch.equal(split0.X, split1.X)
    assert not torch.equal(X0, X1)


def test_claim_passes_prints_and_records(tmp_path, monkeypatch, capsys):
    record = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS_FILE", str(record))
    assert claim("accuracy", torch.tensor(0.97), at_least=0.95) == pytest.approx(0.97)
    claim("gap", 0.5, at_least=0.2, at_most=0.8)
    assert "claim: accuracy = 0.97  (asserted ≥ 0.95)" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="error = 0.2, expected ≤ 0.1"):
        claim("error", 0.2, at_most=0.1)
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(c["name"], c["at_least"], c["at_most"]) for c in lines] == [
        ("accuracy", 0.95, None),
        ("gap", 0.2, 0.8),
        ("error", None, 0.1),  # failing values are recorded too
    ]


def test_claim_rejects_nan_and_missing_bounds():
    with pytest.raises(AssertionError):
        claim("loss", float("nan"), at_most=1.0)
    with pytest.raises(ValueError, match="needs a bound"):
        claim("loss", 0.1)
    with pytest.raises(TypeError, match="must be a number"):
        claim("loss", "low", at_most=1.0)


# Random state made without course_lib's generator/rng/seeded ignores COURSE_SEED.
BYPASS = re.compile(
    r"manual_seed\((?!seeded\()|default_rng\(|np\.random\.|RandomState\(|random\.seed\("
    r"|random_state=\d"
)


def code_cells(path: Path):
    text = path.read_text()
    yield from re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("path", sorted(ROOT.glob("notebooks/*.md")), ids=lambda p: p.stem)
def test_notebooks_make_random_state_through_course_seed(path):
    bad = [
        line.strip()
        for cell in code_cells(path)
        for line in cell.splitlines()
        if BYPASS.search(line)
    ]
    assert not bad, f"{path.name}: random state that ignores COURSE_SEED: {bad}"
