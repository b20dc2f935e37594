"""The voice legend: a strip above the piano roll naming the shown piece's voices in their roll colours, each with
M (mute), S (solo) and an eye (hide) toggle, like a DAW's track header.

The toggles set a :class:`~gui.voice_mix.VoiceMix` (the model); :func:`attach_voice_legend` puts the strip in a
window and connects the mix to what it governs: the transport plays ``mix.for_playback(piece)``, the piano
roll leaves hidden voices out of its painting and hit-testing, a new or opened piece starts the mix afresh, and
a hidden voice that gains notes is shown again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QToolButton, QWidget

from composer.music.notes import Piece
from gui.document import Document
from gui.piano_roll import RollCanvas
from gui.roll_grid import voice_colour
from gui.voice_mix import HIDE, MUTE, SOLO, VoiceMix

if TYPE_CHECKING:
    from gui.main_window import MainWindow

STRIP_HEIGHT = 30   # px
TOGGLES = ((MUTE, "M", "Mute {name}: it is not played"),
           (SOLO, "S", "Solo {name}: only soloed voices are played"),
           (HIDE, "", "Hide {name} in the piano roll (its notes are kept)"))
EYE_COLOUR = QColor("#7a808a")   # reads on light and dark themes


class VoiceLegend(QScrollArea):
    """The strip of voices (it scrolls sideways when there are more than fit).

    Args:
        canvas: the piano roll: its shown piece's voices are listed.
        mix: the model the toggles set.
        parent: Qt parent.

    Attributes:
        buttons: (kind, voice) -> its toggle, kind being MUTE, SOLO or HIDE (tests click them).
        swatches: voice -> (its colour swatch, its name label).
    """

    def __init__(self, canvas: RollCanvas, mix: VoiceMix, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.mix = mix
        self.buttons: dict[tuple[str, int], QToolButton] = {}
        self.swatches: dict[int, tuple[QLabel, QLabel]] = {}
        self._names: tuple[str, ...] | None = None
        self.setFrameShape(QFrame.NoFrame)
        self.setWidgetResizable(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFixedHeight(STRIP_HEIGHT)
        self.setToolTip("The voices: M mutes one, S solos it (only soloed voices play), the eye hides it")
        canvas.viewChanged.connect(self.refresh)
        mix.changed.connect(self._show_mix)
        self.refresh()

    def refresh(self) -> None:
        """List the shown piece's voices again when they changed."""
        names = tuple(v.name or f"Voice {i + 1}" for i, v in enumerate(self.canvas.piece.voices))
        if names == self._names:
            return
        self._names = names
        self.buttons.clear()
        self.swatches.clear()
        strip = QWidget()
        layout = QHBoxLayout(strip)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(3)
        layout.addWidget(QLabel("Voices "))
        for voice, name in enumerate(names):
            self._add_voice(layout, voice, name)
        layout.addStretch(1)
        self.setWidget(strip)
        self._show_mix()

    def _add_voice(self, layout: QHBoxLayout, voice: int, name: str) -> None:
        """One voice: a swatch of its colour, its name and its three toggles."""
        swatch = QLabel()
        swatch.setFixedSize(12, 12)
        swatch.setStyleSheet(f"background:{voice_colour(voice).name()}; border:1px solid #222;")
        layout.addSpacing(8)
        label = QLabel(name)
        layout.addWidget(swatch)
        layout.addWidget(label)
        self.swatches[voice] = (swatch, label)
        for kind, text, tip in TOGGLES:
            button = QToolButton()
            button.setText(text)
            if kind == HIDE:
                button.setIcon(eye_icon())
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(tip.format(name=name))
            button.toggled.connect(lambda on, kind=kind, voice=voice: self.mix.set(kind, voice, on))
            layout.addWidget(button)
            self.buttons[kind, voice] = button

    def _show_mix(self) -> None:
        """Tick the toggles as the mix says (it may have been reset)."""
        for (kind, voice), button in self.buttons.items():
            button.blockSignals(True)
            button.setChecked(self.mix.is_on(kind, voice))
            button.blockSignals(False)


def eye_icon(size: int = 16) -> QIcon:
    """An eye (a voice shown), struck through when the toggle is on (the voice hidden).

    Args:
        size: the icon's side in pixels.

    Returns:
        The icon, with its "on" pixmap struck through.
    """
    def draw(struck: bool) -> QPixmap:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(EYE_COLOUR, 1.4))
        painter.drawEllipse(QRectF(1, size * 0.25, size - 2, size * 0.5))
        painter.setBrush(EYE_COLOUR)
        painter.drawEllipse(QPointF(size / 2, size / 2), size * 0.16, size * 0.16)
        if struck:
            painter.setPen(QPen(QColor("#e04848"), 1.8))
            painter.drawLine(QPointF(2, size - 2), QPointF(size - 2, 2))
        painter.end()
        return pixmap

    icon = QIcon(draw(False))
    icon.addPixmap(draw(True), QIcon.Normal, QIcon.On)
    return icon


class MixFollowsDocument:
    """Keeps the mix in step with the document: it starts afresh when the document starts over (New, Open, a
    restored autosave; not on a save), and a hidden voice that gains notes (drawn, pasted, undone or written by a
    job into it) is shown again, so new notes never land unseen.

    A document starts over through :meth:`Document.reset`, which leaves an empty undo history and a piece of its
    own and then announces the path; a save announces the path too, but keeps the piece.
    """

    def __init__(self, document: Document, mix: VoiceMix) -> None:
        self.document, self.mix = document, mix
        self._piece = document.piece
        self._notes = set(document.piece.notes)
        document.pathChanged.connect(self._path_changed)
        document.pieceChanged.connect(self._piece_changed)

    def _path_changed(self, _path: str) -> None:
        document = self.document
        if document.undo_stack.count() == 0 and document.piece is not self._piece:
            self.mix.reset()
        self._piece = document.piece

    def _piece_changed(self, piece: Piece) -> None:
        notes = set(piece.notes)
        hidden = self.mix.hidden
        for voice in sorted({n.voice for n in notes - self._notes} & hidden) if hidden else ():
            self.mix.set(HIDE, voice, False)
        self._notes = notes


def attach_voice_legend(window: MainWindow) -> VoiceLegend:
    """Build the window's voice mix and legend, put the legend above the piano roll, and connect the mix.

    Args:
        window: a :class:`~gui.main_window.MainWindow` whose ``document``, ``canvas``, ``transport`` and central
            layout exist.

    Returns:
        The legend (its ``mix`` is the window's voice mix).
    """
    mix = VoiceMix(window)
    legend = VoiceLegend(window.canvas, mix)
    layout = window.centralWidget().layout()
    layout.insertWidget(layout.indexOf(window.piano_roll), legend)
    mix.changed.connect(lambda: window.canvas.set_hidden_voices(mix.hidden))
    window.transport.set_voice_mix(mix)
    legend.follower = MixFollowsDocument(window.document, mix)
    return legend
