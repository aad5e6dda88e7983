"""The environment descriptions agree with each other."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _lock() -> dict:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.lock line {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_conda_environment_installs_the_lock_file():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.lock" in pip_section and "-e ." in pip_section
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.startswith("python=3.")


def test_lock_satisfies_every_declared_dependency():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _lock()
    declared = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    for text in declared:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned in the lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in requirements.lock violates {text!r} in pyproject.toml"
        )


def test_torch_is_the_cpu_pin_and_jupyter_book_is_1x():
    pins = _lock()
    assert pins["torch"] == "2.13.0"
    assert re.match(r"1\.", pins["jupyter-book"])
