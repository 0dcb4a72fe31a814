"""The declared floors are the tested versions: pyproject.toml equals .ci/min-versions.txt."""

from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _floors():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["nn"])
    floors = {}
    for req in map(Requirement, reqs):
        lower = [s.version for s in req.specifier if s.operator == ">="]
        floors[req.name] = lower[0] if lower else None
    return floors


def _pins():
    pins = {}
    for line in (ROOT / ".ci" / "min-versions.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            pins[req.name] = next(iter(req.specifier)).version
    return pins


@pytest.mark.skipif(not (ROOT / ".ci" / "min-versions.txt").exists(), reason="no CI folder")
def test_declared_floors_are_the_pinned_minimum_versions():
    floors, pins = _floors(), _pins()
    assert set(pins) == {"numpy", "scipy", "scikit-learn", "imbalanced-learn", "torch", "skorch"}
    for name, pin in pins.items():
        assert floors[name] is not None, f"{name} has no floor in pyproject.toml"
        # ">=1.7" declares 1.7.0
        assert tuple(map(int, pin.split("."))) == tuple(
            map(int, (floors[name] + ".0.0").split(".")[:3])
        ), f"{name}: pyproject floor {floors[name]} but CI tests {pin}"
