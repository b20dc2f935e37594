"""The restructured code gives the same notes and the same scores as before (see ``cases.py``)."""

from __future__ import annotations

import json
import math

import pytest

from tests.golden.cases import CASES, EXPECTED

TOLERANCE = 1e-6


def _compare(got, want, where: str) -> None:
    """Equal structure; strings, ints and note hashes exactly; floats within TOLERANCE (relative or absolute)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), f"{where}: keys {sorted(got)} != {sorted(want)}"
        for key in want:
            _compare(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got!r} != {want!r}"
        for index, (g, w) in enumerate(zip(got, want)):
            _compare(g, w, f"{where}[{index}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (int, float)), f"{where}: {got!r} is not a number"
        if math.isnan(want):
            assert math.isnan(got), f"{where}: {got} != nan"
        else:
            assert math.isclose(got, want, rel_tol=TOLERANCE, abs_tol=TOLERANCE), f"{where}: {got!r} != {want!r}"
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads(EXPECTED.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_golden(name: str, expected: dict) -> None:
    _compare(json.loads(json.dumps(CASES[name]())), expected[name], name)


def test_compare_catches_a_changed_note_and_a_drifted_score() -> None:
    _compare({"a": [1.0, {"sha": "x"}]}, {"a": [1.0 + 1e-9, {"sha": "x"}]}, "same")
    with pytest.raises(AssertionError):
        _compare({"a": [1.0, {"sha": "y"}]}, {"a": [1.0, {"sha": "x"}]}, "note")
    with pytest.raises(AssertionError):
        _compare({"a": [1.00001]}, {"a": [1.0]}, "score")
