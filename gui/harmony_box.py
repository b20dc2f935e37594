"""The Compose panel's Harmony group: the 4-part model, the harmony actions, the voices to regenerate, and the
harmony jobs' own settings (how many results, bars for a new chorale, temperature and seed), kept apart from the
melody settings above it so that harmonizing never silently uses the melody's temperature or count.

The group only collects choices; :class:`gui.jobs.harmony.HarmonyJobs` reads them through
:meth:`HarmonyBox.choices` and :meth:`HarmonyBox.chorale_bars`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from gui.settings import AppSettings

VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
# composer.harmony.inference.DEFAULT_TEMPERATURE, written out (as composer/cli/harmony.py does) because that module
# imports torch, which the window must not wait for; tests/gui/test_startup.py keeps them equal
DEFAULT_TEMPERATURE = 0.4
DEFAULT_COUNT = 4
DEFAULT_BARS = 8


def harmony_default_temperature() -> float:
    """The library's harmony temperature (:data:`DEFAULT_TEMPERATURE`, chosen on validation data)."""
    return DEFAULT_TEMPERATURE


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


class HarmonyBox(QGroupBox):
    """The "Harmony (4 parts)" group.

    Signals:
        harmonizeRequested(), regenerateRequested(), choraleRequested(): its buttons.
    """

    harmonizeRequested = Signal()  # noqa: N815 (Qt naming)
    regenerateRequested = Signal()  # noqa: N815
    choraleRequested = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Harmony (4 parts)", parent)
        self.default_temperature = harmony_default_temperature()
        layout = QVBoxLayout(self)
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        self.harmony_combo = QComboBox()
        self.harmony_combo.setToolTip("The 4-part harmony model (trained on Bach chorales)")
        model_row.addWidget(self.harmony_combo, 1)
        layout.addLayout(model_row)
        layout.addLayout(self._build_settings())
        layout.addLayout(self._build_buttons())
        layout.addLayout(self._build_voices())
        self.harmony_status = QLabel("")
        self.harmony_status.setWordWrap(True)
        layout.addWidget(self.harmony_status)

    def _build_settings(self) -> QFormLayout:
        form = QFormLayout()
        self.count_spin = _spin(1, 16, DEFAULT_COUNT, "How many harmonizations (or chorales) to write at once (1-16)")
        form.addRow("Results", self.count_spin)
        self.bars_spin = _spin(1, 64, DEFAULT_BARS, "Length of a new chorale, in bars (1-64)")
        form.addRow("Chorale bars", self.bars_spin)
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.1, 2.0)
        self.temperature_spin.setSingleStep(0.05)
        self.temperature_spin.setDecimals(2)
        self.temperature_spin.setValue(self.default_temperature)
        self.temperature_spin.setToolTip(f"Harmony temperature (default {self.default_temperature:g}, chosen on "
                                         "validation chorales): lower is safer, higher more adventurous")
        form.addRow("Temperature", self.temperature_spin)
        seed_row = QHBoxLayout()
        self.random_seed_check = QCheckBox("Random")
        self.random_seed_check.setChecked(True)
        self.random_seed_check.setToolTip("A new seed every time; untick to keep the seed shown (the last one used)")
        self.seed_spin = _spin(0, 2**31 - 1, 1, "The harmony seed: the same seed and settings give the same parts")
        self.seed_spin.setEnabled(False)
        self.random_seed_check.toggled.connect(lambda random: self.seed_spin.setEnabled(not random))
        seed_row.addWidget(self.random_seed_check)
        seed_row.addWidget(self.seed_spin, 1)
        form.addRow("Seed", seed_row)
        return form

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.harmonize_button = QPushButton("Harmonize melody")
        self.harmonize_button.setToolTip("Write alto, tenor and bass under the current melody (Ctrl+H)")
        self.harmonize_button.clicked.connect(self.harmonizeRequested)
        self.regenerate_button = QPushButton("Regenerate selection")
        self.regenerate_button.setToolTip("Write the selected bars again in the ticked voices\n"
                                          "(select notes with shift+drag: alto, tenor and bass are ticked for\n"
                                          "the voices you selected; the Soprano only if you tick it)")
        self.regenerate_button.clicked.connect(self.regenerateRequested)
        self.chorale_button = QPushButton("New chorale")
        self.chorale_button.setToolTip("Write a 4-part chorale from scratch, as many bars as Chorale bars says")
        self.chorale_button.clicked.connect(self.choraleRequested)
        for button in (self.harmonize_button, self.regenerate_button, self.chorale_button):
            row.addWidget(button)
        return row

    def _build_voices(self) -> QHBoxLayout:
        voices = QHBoxLayout()
        self.voice_checks: list[QCheckBox] = []
        for index, name in enumerate(VOICE_NAMES):
            check = QCheckBox(name)
            check.setToolTip(f"Regenerate the {name.lower()} in the selected region")
            check.setChecked(index > 0)
            self.voice_checks.append(check)
            voices.addWidget(check)
        return voices

    # -- the harmony jobs' choices -------------------------------------------------------------
    def choices(self) -> tuple[int, float, int | None]:
        """(count, temperature, seed or None for a random one) for a harmony job."""
        seed = None if self.random_seed_check.isChecked() else self.seed_spin.value()
        return self.count_spin.value(), self.temperature_spin.value(), seed

    def chorale_bars(self) -> int:
        """How many bars a new chorale has."""
        return self.bars_spin.value()

    def show_seed(self, seed: int) -> None:
        """Show the seed a harmony job used (untick Random to make the same parts again)."""
        self.seed_spin.setValue(seed)

    # -- remembered choices ----------------------------------------------------------------------
    def restore_choices(self, settings: AppSettings) -> None:
        """Set the harmony choices remembered from the last session."""
        self.count_spin.setValue(settings.value("harmony/count", DEFAULT_COUNT, int))
        self.bars_spin.setValue(settings.value("harmony/bars", DEFAULT_BARS, int))
        self.temperature_spin.setValue(settings.value("harmony/temperature", self.default_temperature, float))
        self.random_seed_check.setChecked(settings.value("harmony/random_seed", True, bool))
        self.seed_spin.setValue(settings.value("harmony/seed", 1, int))

    def save_choices(self, settings: AppSettings) -> None:
        """Remember the harmony choices for the next session."""
        settings.set_value("harmony/count", self.count_spin.value())
        settings.set_value("harmony/bars", self.bars_spin.value())
        settings.set_value("harmony/temperature", self.temperature_spin.value())
        settings.set_value("harmony/random_seed", self.random_seed_check.isChecked())
        settings.set_value("harmony/seed", self.seed_spin.value())
