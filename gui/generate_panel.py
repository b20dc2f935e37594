"""The Generate panel: model and sampling choices, the variations list, and the harmony actions.

The panel only collects choices and shows results; the jobs of :mod:`gui.jobs` do the work.
Each result in the list is a :class:`~gui.results_list.Variation`; the list (:class:`~gui.results_list.VariationList`)
keeps every run's results, newest first, until Clear. Items can be dragged out of the list as ``.mid`` files
(into a DAW or a file manager).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from gui.harmony_box import VOICE_NAMES, HarmonyBox  # noqa: F401 (VOICE_NAMES: as before)
from gui.results_list import (LABEL_BUDGET_S, Variation, VariationList, safe_file_name,  # noqa: F401 (as before)
                              variation_label)
from gui.settings import AppSettings

if TYPE_CHECKING:   # composer.melody.generate imports torch: request() imports it when first called
    from composer.melody.generate import GenerationRequest

ANY_KEY = "Any key"
KEYS = (ANY_KEY, "C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F",
        "Am", "Em", "Bm", "F#m", "C#m", "G#m", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm",
        "D dorian", "A dorian", "E dorian", "G mixolydian", "D mixolydian", "A mixolydian")
FORMS = (("Through-composed", ""), ("AABB", "AABB"), ("AABA", "AABA"), ("ABAC", "ABAC"), ("ABAB", "ABAB"),
         ("AB", "AB"))
TIME_SIGNATURES = ("4/4", "3/4", "2/4", "6/8", "9/8", "12/8")
ADD_MODEL = "__add_model__"
# The library's defaults (GenerationRequest.temperature, .top_p), as the command line's; written out so the panel can
# be built without importing torch (tests/gui/test_startup.py keeps them equal)
DEFAULT_TEMPERATURE = 0.9
DEFAULT_TOP_P = 1.0


class GeneratePanel(QWidget):
    """Choices for generation and harmonization, and the list of results.

    Signals:
        generateRequested(): the Generate button.
        cancelRequested(): the Cancel button.
        harmonizeRequested(), regenerateRequested(), choraleRequested(): the harmony buttons.
        useRequested(): "Use this one" (or a double-click on a result).
        auditionRequested(): play the selected result.
        previewChanged(object): a Variation to preview, or None to show the document again.
        addModelRequested(): "Add model file..." was picked in the model list.
    """

    generateRequested = Signal()
    cancelRequested = Signal()
    harmonizeRequested = Signal()
    regenerateRequested = Signal()
    choraleRequested = Signal()
    useRequested = Signal()
    auditionRequested = Signal()
    previewChanged = Signal(object)
    addModelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_generate_box())
        layout.addWidget(self._build_harmony_box())
        layout.addWidget(self._build_results_box(), 1)
        self.set_busy(False)

    # -- construction ----------------------------------------------------------------------------
    def _build_generate_box(self) -> QGroupBox:
        box = QGroupBox("Generate melodies")
        form = QFormLayout(box)
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("The melody model that writes the variations (shipped, added or trained)")
        self.model_combo.activated.connect(self._model_activated)
        form.addRow("Model", self.model_combo)
        self.count_spin = self._spin(1, 16, 8, "How many variations to write at once (1-16)")
        form.addRow("Variations", self.count_spin)
        self.bars_spin = self._spin(1, 64, 8, "Length of the new music, in bars (1-64)")
        form.addRow("Bars", self.bars_spin)
        self._add_form_rows(form)
        self.temperature_spin = self._double(0.1, 2.0, DEFAULT_TEMPERATURE, 0.05,
                                             "Temperature: below 1 is safer and more repetitive, above 1 wilder")
        form.addRow("Temperature", self.temperature_spin)
        self.top_p_spin = self._double(0.05, 1.0, DEFAULT_TOP_P, 0.05,
                                       "Top-p (nucleus): sample only from the most likely notes adding up to p")
        form.addRow("Top-p", self.top_p_spin)
        self.key_combo = QComboBox()
        self.key_combo.addItems(KEYS)
        self.key_combo.setToolTip("Keep the melody in this key (notes outside the scale are never drawn);\n"
                                  "Harmony uses it too (Any key: the melody's own key)")
        form.addRow("Key", self.key_combo)
        seed_row = QHBoxLayout()
        self.random_seed_check = QCheckBox("Random")
        self.random_seed_check.setChecked(True)
        self.random_seed_check.setToolTip("A new seed every time; untick to keep the seed shown (the last one used),\n"
                                          "which makes the same music again with the same settings")
        self.seed_spin = self._spin(0, 2**31 - 1, 1, "The seed: the same seed and settings give the same music")
        self.seed_spin.setEnabled(False)
        self.random_seed_check.toggled.connect(lambda random: self.seed_spin.setEnabled(not random))
        seed_row.addWidget(self.random_seed_check)
        seed_row.addWidget(self.seed_spin, 1)
        form.addRow("Seed", seed_row)
        self.chords_edit = QLineEdit()
        self.chords_edit.setPlaceholderText("e.g. C G Am F (one chord per bar)")
        self.chords_edit.setToolTip("Chords to follow, one per bar (only for models trained with chords)")
        self.chords_label = QLabel("Chords")
        form.addRow(self.chords_label, self.chords_edit)
        self.set_chords_supported(False)
        self._add_continue_row(form)
        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Write the variations (Ctrl+G)")
        self.generate_button.clicked.connect(self.generateRequested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        self.cancel_button.clicked.connect(self.cancelRequested)
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self.progress_bar = QProgressBar()
        self.progress_bar.setToolTip("Progress of the running job")
        self.progress_bar.setTextVisible(True)
        form.addRow(self.progress_bar)
        return box

    def _add_form_rows(self, form: QFormLayout) -> None:
        """The Form and Time choices."""
        self.form_combo = QComboBox()
        for label, letters in FORMS:
            self.form_combo.addItem(label, letters)
        self.form_combo.setToolTip("The tune's form: equal sections, a repeated letter repeats its music\n"
                                   "with a new last bar (AABB: 16 bars give 4 of each).\n"
                                   "With a primer, the form spans the primer too, so its phrases come back.")
        form.addRow("Form", self.form_combo)
        self.time_combo = QComboBox()
        self.time_combo.addItems(TIME_SIGNATURES)
        self.time_combo.setToolTip("Metre of new music (a primer keeps its own)")
        form.addRow("Time", self.time_combo)
        self.cadence_check = QCheckBox("End on the tonic")
        self.cadence_check.setChecked(True)
        self.cadence_check.setToolTip("Close every variation on the key's tonic (the last note);\n"
                                      "untick to leave the ending to the model")
        form.addRow(self.cadence_check)

    def _build_harmony_box(self) -> HarmonyBox:
        """The Harmony group (:class:`gui.harmony_box.HarmonyBox`), its widgets reachable from the panel as before."""
        self.harmony_box = box = HarmonyBox()
        for name in ("harmony_combo", "harmonize_button", "regenerate_button", "chorale_button", "voice_checks",
                     "harmony_status"):
            setattr(self, name, getattr(box, name))
        box.harmonizeRequested.connect(self.harmonizeRequested)
        box.regenerateRequested.connect(self.regenerateRequested)
        box.choraleRequested.connect(self.choraleRequested)
        return box

    def _build_results_box(self) -> QGroupBox:
        box = QGroupBox("Results")
        layout = QVBoxLayout(box)
        self.results = VariationList()
        self.results.currentRowChanged.connect(self._result_selected)
        self.results.itemDoubleClicked.connect(lambda _item: self.useRequested.emit())
        layout.addWidget(self.results, 1)
        row = QHBoxLayout()
        self.audition_button = QPushButton("Audition")
        self.audition_button.setToolTip("Play the selected result")
        self.audition_button.clicked.connect(self.auditionRequested)
        self.use_button = QPushButton("Use this one")
        self.use_button.setToolTip("Make the selected result the piece you edit (undoable)")
        self.use_button.clicked.connect(self.useRequested)
        self.back_button = QPushButton("Back to my piece")
        self.back_button.setToolTip("Stop previewing and show the piece you are editing")
        self.back_button.clicked.connect(self.clear_preview)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every run's results from the list, except the pinned ones")
        self.clear_button.clicked.connect(self.clear_results)
        for button in (self.audition_button, self.use_button, self.back_button, self.clear_button):
            row.addWidget(button)
        layout.addLayout(row)
        self._result_selected(-1)
        return box

    @staticmethod
    def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    @staticmethod
    def _double(low: float, high: float, value: float, step: float, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(2)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    # -- models ----------------------------------------------------------------------------------
    def set_models(self, models: list[tuple[str, str]], current: str | None = None) -> None:
        """Fill the model list with (label, path) pairs, then "Add model file...".

        Args:
            models: the melody models that can be used.
            current: path to select, when present.
        """
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for label, path in models:
            self.model_combo.addItem(label, path)
            self.model_combo.setItemData(self.model_combo.count() - 1, path, Qt.ToolTipRole)
        self.model_combo.addItem("Add model file...", ADD_MODEL)
        index = self.model_combo.findData(current) if current else -1
        self.model_combo.setCurrentIndex(index if index >= 0 else 0)
        self.model_combo.blockSignals(False)

    def set_harmony_models(self, models: list[tuple[str, str]]) -> None:
        """Fill the harmony model list with (label, path) pairs; without any, the harmony buttons are off."""
        current = self.harmony_combo.currentData()
        self.harmony_combo.clear()
        for label, path in models:
            self.harmony_combo.addItem(label, path)
        index = self.harmony_combo.findData(current)
        self.harmony_combo.setCurrentIndex(max(index, 0))
        if not models:
            self.harmony_combo.setPlaceholderText("no harmony model found")
        self._update_buttons()

    def harmony_model_path(self) -> str | None:
        data = self.harmony_combo.currentData()
        return str(data) if data else None

    def model_path(self) -> str | None:
        data = self.model_combo.currentData()
        return None if data in (None, ADD_MODEL) else str(data)

    def _model_activated(self, index: int) -> None:
        if self.model_combo.itemData(index) == ADD_MODEL:
            self.model_combo.setCurrentIndex(0)
            self.addModelRequested.emit()

    def set_chords(self, text: str) -> None:
        """Put a progression into the chords field (the chord lane's edits), so the next generation uses it."""
        self.chords_edit.setText(text)

    def set_chords_supported(self, supported: bool) -> None:
        """Show the chords field only for a model trained with chords."""
        self.chords_supported = supported
        self.chords_edit.setVisible(supported)
        self.chords_label.setVisible(supported)

    def _add_continue_row(self, form: QFormLayout) -> None:
        """The "Continue from the current piece" choice (it greys the Time choice: a primer keeps its metre)."""
        self.continue_check = QCheckBox("Continue from the current piece")
        self.continue_check.setToolTip("Use the piece in the piano roll as the start (primer) of every variation;\n"
                                       "untick to start from scratch")
        form.addRow(self.continue_check)
        self.continue_check.toggled.connect(self._show_whose_metre)
        self._show_whose_metre(self.continue_check.isChecked())

    def _show_whose_metre(self, continuing: bool) -> None:
        """The Time choice is for new music: greyed while continuing a piece, which keeps its own metre."""
        self.time_combo.setEnabled(not continuing)
        continuing_tip = ("Continuing the current piece: its own time signature is used\n"
                          "(see the piece's Time above the roll)")
        self.time_combo.setToolTip(continuing_tip if continuing else "Metre of new music (a primer keeps its own)")

    # -- the request -----------------------------------------------------------------------------
    def key(self) -> str | None:
        text = self.key_combo.currentText()
        return None if text == ANY_KEY else text

    def request(self) -> GenerationRequest:
        """The choices as a generation request (raises ValueError naming a bad choice)."""
        values = dict(count=self.count_spin.value(), bars=self.bars_spin.value(),
                      temperature=self.temperature_spin.value(), top_p=self.top_p_spin.value(), key=self.key(),
                      seed=None if self.random_seed_check.isChecked() else self.seed_spin.value(),
                      form=self.form_combo.currentData() or "", time_signature=self.time_combo.currentText(),
                      cadence=self.cadence_check.isChecked())
        chords = self.chords_edit.text().split()
        if self.chords_supported and chords:
            values["chords"] = tuple(chords)
        from composer.melody.generate import GenerationRequest

        return GenerationRequest(**values)

    def selected_voices(self) -> list[int]:
        return [i for i, check in enumerate(self.voice_checks) if check.isChecked()]

    def set_selected_voices(self, voices: list[int]) -> None:
        for index, check in enumerate(self.voice_checks):
            check.setChecked(index in voices)

    # -- remembered choices ----------------------------------------------------------------------
    def restore_choices(self, settings: AppSettings) -> None:
        """Set the generation choices remembered from the last session."""
        self.count_spin.setValue(settings.value("generate/count", 8, int))
        self.bars_spin.setValue(settings.value("generate/bars", 8, int))
        self.temperature_spin.setValue(settings.value("generate/temperature", DEFAULT_TEMPERATURE, float))
        self.top_p_spin.setValue(settings.value("generate/top_p", DEFAULT_TOP_P, float))
        self.key_combo.setCurrentText(settings.value("generate/key", self.key_combo.itemText(0), str))
        self.continue_check.setChecked(settings.value("generate/continue", False, bool))
        self.form_combo.setCurrentText(settings.value("generate/form", self.form_combo.itemText(0), str))
        self.time_combo.setCurrentText(settings.value("generate/time", "4/4", str))
        self.cadence_check.setChecked(settings.value("generate/cadence", True, bool))
        self.harmony_box.restore_choices(settings)

    def save_choices(self, settings: AppSettings) -> None:
        """Remember the generation choices for the next session."""
        settings.set_value("generate/count", self.count_spin.value())
        settings.set_value("generate/bars", self.bars_spin.value())
        settings.set_value("generate/temperature", self.temperature_spin.value())
        settings.set_value("generate/top_p", self.top_p_spin.value())
        settings.set_value("generate/key", self.key_combo.currentText())
        settings.set_value("generate/continue", self.continue_check.isChecked())
        settings.set_value("generate/form", self.form_combo.currentText())
        settings.set_value("generate/time", self.time_combo.currentText())
        settings.set_value("generate/cadence", self.cadence_check.isChecked())
        self.harmony_box.save_choices(settings)

    # -- state -----------------------------------------------------------------------------------
    def set_busy(self, busy: bool, text: str = "") -> None:
        """Enable Cancel (and disable starting more work) while a job runs."""
        self._busy = busy
        self._update_buttons()
        if busy:
            self.progress_bar.setRange(0, 0)
            self.progress_bar.setFormat(text)
        else:
            self.progress_bar.setRange(0, 100)
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat(text or "Ready")

    def _update_buttons(self) -> None:
        busy = getattr(self, "_busy", False)
        harmony = self.harmony_combo.count() > 0
        self.generate_button.setEnabled(not busy)
        for button in (self.harmonize_button, self.regenerate_button, self.chorale_button):
            button.setEnabled(not busy and harmony)
        self.cancel_button.setEnabled(busy)

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(round(1000 * done / total))

    def show_results(self, variations: list[Variation], title: str = "") -> None:
        """List a run's ``variations`` as a new group at the top of the results (earlier runs' stay below) and
        select its first.

        Args:
            variations: the run's results.
            title: what the run was, for the group's header (default: the first result's label, unnumbered).
        """
        if self.results.add_group(variations, title):
            self.results.scrollToTop()
            self.results.setCurrentRow(self.results.newest_row())   # below the pinned results

    def clear_results(self) -> None:
        """Remove every run's results and show the piece again."""
        self.results.clear()
        self.clear_preview()

    def clear_preview(self) -> None:
        self.results.setCurrentRow(-1)
        self.results.clearSelection()
        self.previewChanged.emit(None)

    def _result_selected(self, row: int) -> None:
        has = row >= 0
        for button in (self.audition_button, self.use_button, self.back_button):
            button.setEnabled(has)
        self.previewChanged.emit(self.results.variation(row) if has else None)
