"""Issue 16, defect 9: the harmony jobs have settings of their own (the Compose panel's Harmony group), not the
melody's Variations, Temperature, Seed and Bars; "New chorale" is in the Compose menu beside the other harmony
actions."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
inference = pytest.importorskip("composer.harmony.inference")

from composer.melody.generate import GenerationRequest  # noqa: E402
from gui.harmony_box import harmony_default_temperature  # noqa: E402
from job_wait import run_job as _run  # noqa: E402
from test_settings_saved import WAIT_MS, on_disk  # noqa: E402


def _record(monkeypatch, name: str) -> list[dict]:
    """Wrap ``composer.harmony.inference.NAME`` to record the keyword arguments each call gets."""
    calls: list[dict] = []
    real = getattr(inference, name)

    def recording(*args, **kwargs):
        calls.append(dict(kwargs, args=args))
        return real(*args, **kwargs)

    monkeypatch.setattr(inference, name, recording)
    return calls


def test_the_harmony_temperature_defaults_to_the_librarys_not_the_melodys(window):
    box = window.panel.harmony_box
    expected = getattr(inference, "DEFAULT_TEMPERATURE", 0.4)
    assert box.temperature_spin.value() == pytest.approx(harmony_default_temperature()) == pytest.approx(expected)
    assert window.panel.temperature_spin.value() == pytest.approx(GenerationRequest.temperature)
    assert box.count_spin is not window.panel.count_spin and box.seed_spin is not window.panel.seed_spin


def test_new_chorale_uses_the_harmony_groups_settings(harmony_window, qtbot, monkeypatch):
    window = harmony_window
    panel, box = window.panel, window.panel.harmony_box
    panel.count_spin.setValue(7)                   # the melody's choices: not used by harmony
    panel.bars_spin.setValue(9)
    panel.temperature_spin.setValue(1.7)
    panel.random_seed_check.setChecked(False)
    panel.seed_spin.setValue(11)
    box.count_spin.setValue(1)
    box.bars_spin.setValue(2)
    box.temperature_spin.setValue(0.55)
    box.random_seed_check.setChecked(False)
    box.seed_spin.setValue(5)
    calls = _record(monkeypatch, "generate_chorale")
    assert _run(qtbot, window, window.new_chorale) == "succeeded"
    (call,) = calls
    assert call["count"] == 1 and call["temperature"] == pytest.approx(0.55) and call["seed"] == 5
    assert call["args"][1] == 2                    # bars
    assert len(panel.results.variations()) == 1
    assert panel.seed_spin.value() == 11           # the melody's seed is left alone


def test_harmonize_uses_the_harmony_temperature(harmony_window, qtbot, monkeypatch, folk_file):
    window = harmony_window
    window.open_file(folk_file)
    piece = window.document.piece
    window.document.apply(piece.replace(notes=tuple(n for n in piece.notes if n.end <= 2 * piece.ticks_per_bar)),
                          "Crop")
    window.panel.temperature_spin.setValue(1.9)
    window.panel.harmony_box.count_spin.setValue(1)
    calls = _record(monkeypatch, "harmonize")
    assert _run(qtbot, window, window.harmonize) == "succeeded"
    assert calls[0]["temperature"] == pytest.approx(harmony_default_temperature()) and calls[0]["count"] == 1


def test_the_harmony_settings_are_saved_as_they_change(window_factory, qtbot, tmp_path):
    window = window_factory()
    box = window.panel.harmony_box
    box.count_spin.setValue(3)
    box.temperature_spin.setValue(0.65)
    box.bars_spin.setValue(12)
    qtbot.waitUntil(lambda: on_disk(window, tmp_path).value("harmony/count", 0, int) == 3, timeout=WAIT_MS)
    saved = on_disk(window, tmp_path)
    assert saved.value("harmony/temperature", 0.0, float) == pytest.approx(0.65)
    assert saved.value("harmony/bars", 0, int) == 12
    window.close()
    again = window_factory().panel.harmony_box          # a new session with the same settings file
    assert again.count_spin.value() == 3 and again.bars_spin.value() == 12
    assert again.temperature_spin.value() == pytest.approx(0.65)


def test_new_chorale_is_in_the_compose_menu_beside_the_harmony_actions(harmony_window, qtbot):
    window = harmony_window
    (compose,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&Compose"]
    texts = [a.text() for a in compose.actions()]
    chorale = texts.index("New &chorale")
    assert texts[chorale - 2:chorale] == ["&Harmonize melody", "&Regenerate selection"]
    window.panel.harmony_box.count_spin.setValue(1)
    window.panel.harmony_box.bars_spin.setValue(2)
    action = compose.actions()[chorale]
    assert _run(qtbot, window, lambda: action.trigger() or True) == "succeeded"
    (result,) = window.panel.results.variations()
    assert len(result.piece.voices) == 4
