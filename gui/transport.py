"""The transport: play/stop, loop, metronome, count-in, tempo, the playhead, and the output (built-in synth or a
MIDI port).

:class:`Transport` owns the players (the built-in synth's :class:`~gui.playback.Player` and the MIDI-out
:class:`~gui.midi_ports.MidiOutPlayer`, or fakes from tests), its actions (Play, Loop, Metronome, Count-in,
Clear loop region, Refresh MIDI ports) and its toolbar boxes (tempo, output); the window places them in its menus
and toolbar. With a voice mix (:meth:`Transport.set_voice_mix`, the legend's mute and solo) the players are handed
only the voices heard. A loop region (dragged on the ruler), the metronome's clicks and the count-in are built
into the take the player is given (:func:`gui.loop_region.build_take`), so they sound through the same output as
the notes; the player's ticks are mapped back to the piece's for the playhead. A change of the piece's tempo or
time signature while the piece plays (the Piece bar's BPM) takes effect at once, from where the playhead is.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QToolBar

from composer.music.notes import Piece
from gui.actions import make_action, make_combo, set_checked_quietly
from gui.loop_region import Take, build_take
from gui.messages import Messages
from gui.optional import optional, optional_instance
from gui.piano_roll import PianoRoll
from gui.settings import AppSettings

BUILT_IN_SYNTH = "Built-in synth"


class Transport(QObject):
    """Plays what the piano roll shows through the chosen output and moves its playhead.

    Args:
        piano_roll: what is played (its canvas's piece), from where (the ruler's start marker), and
            where the playhead is drawn and followed.
        messages: where messages go.
        parent: Qt parent.
        player: the built-in synth's player; default a real :class:`gui.playback.Player` that, without an
            audio device, still moves the playhead silently and says so in one line (None where audio is missing
            from the build).
        midi_out: the MIDI output player; default a real :class:`gui.midi_ports.MidiOutPlayer`.
    """

    def __init__(self, piano_roll: PianoRoll, messages: Messages, parent: QObject | None = None,
                 player=None, midi_out=None) -> None:
        super().__init__(parent)
        self.piano_roll = piano_roll
        self.canvas = piano_roll.canvas
        self.messages = messages
        player_class = optional("playback", "Player") if player is None else None
        # without an audio device the playhead still moves, on a timer-driven clock (visual_fallback)
        self.player = player if player is not None else (player_class(self, visual_fallback=True)
                                                         if player_class is not None else None)
        self.midi_out = midi_out if midi_out is not None else optional_instance("midi_ports", "MidiOutPlayer", self)
        self._now_playing: Piece | None = None    # what the last play() started, for tempo/loop changes
        self._follows_document = False            # it was the document's piece (its tempo edits replay it)
        self._take: Take | None = None            # what the player was handed (maps its ticks to the piece's)
        self._playhead_tick = 0
        self.voice_mix = None    # a gui.voice_mix.VoiceMix: which voices are played (set_voice_mix); None: all
        self._build_controls()
        self._connect_players()
        self.refresh_ports()
        self.canvas.loopRegionChanged.connect(lambda _region: self._loop_settings_changed())
        self.canvas.document.pieceChanged.connect(self._document_changed)

    def _build_controls(self) -> None:
        self.play_action = make_action(self, "&Play", self.set_playing, "Space", "Play or stop (Space)",
                                       checkable=True)
        self.loop_action = make_action(self, "&Loop", lambda _on: self._loop_settings_changed(), ["L", "Ctrl+L"],
                                       "Loop playback: the loop region dragged on the ruler, else the whole piece "
                                       "(L or Ctrl+L)", checkable=True)
        self.metronome_action = make_action(self, "&Metronome", lambda _on: self._replay_with_new_settings(), "C",
                                            "Click on the beats while playing, the bar's first beat accented (C)",
                                            checkable=True)
        self.count_in_action = make_action(self, "Cou&nt-in", lambda _on: None, None,
                                           "Count one bar of clicks before the music starts (not when looping)",
                                           checkable=True)
        self.clear_loop_action = self.canvas.loop.clear_action
        self.refresh_ports_action = make_action(self, "Refresh MIDI &ports", lambda: self.refresh_ports(report=True),
                                                None, "Look again for MIDI outputs (synths, DAWs) and keyboards")
        self.tempo_spin = QSpinBox()
        self.tempo_spin.setRange(25, 400)
        self.tempo_spin.setSuffix(" %")
        self.tempo_spin.setValue(100)
        self.tempo_spin.setToolTip("Playback tempo, as a percentage of the piece's tempo")
        self.tempo_spin.valueChanged.connect(lambda _value: self._replay_with_new_settings())
        self.output_combo: QComboBox = make_combo([BUILT_IN_SYNTH], "Play through the built-in synth, or send "
                                                  "MIDI to an external synth or DAW port")

    def _connect_players(self) -> None:
        for source in (self.player, self.midi_out):
            if source is None:
                continue
            source.positionChanged.connect(self._playhead_moved)
            source.stateChanged.connect(self._playing_changed)
            source.message.connect(self.messages.show_message)

    def restore_settings(self, settings: AppSettings) -> None:
        """Set the tempo and loop remembered from the last session."""
        self.tempo_spin.setValue(settings.value("play/tempo_percent", 100, int))
        self.loop_action.setChecked(settings.value("play/loop", False, bool))
        self.metronome_action.setChecked(settings.value("play/metronome", False, bool))
        self.count_in_action.setChecked(settings.value("play/count_in", False, bool))

    def save_settings(self, settings: AppSettings) -> None:
        """Remember the tempo and loop for the next session."""
        settings.set_value("play/tempo_percent", self.tempo_spin.value())
        settings.set_value("play/loop", self.loop_action.isChecked())
        settings.set_value("play/metronome", self.metronome_action.isChecked())
        settings.set_value("play/count_in", self.count_in_action.isChecked())

    def actions(self) -> list[QAction]:
        """Play, Loop, Refresh MIDI ports, Metronome, Count-in, Clear loop region."""
        return [self.play_action, self.loop_action, self.refresh_ports_action, *self.click_actions()]

    def click_actions(self) -> list[QAction]:
        """Metronome, Count-in and Clear loop region (the Play menu's entries after Loop)."""
        return [self.metronome_action, self.count_in_action, self.clear_loop_action]

    def add_to(self, bar: QToolBar) -> None:
        """Put Play, Loop, Metronome, and the Tempo and Output boxes (each with its label) on ``bar``."""
        bar.addActions([self.play_action, self.loop_action, self.metronome_action])
        for label, widget in (("Tempo", self.tempo_spin), ("Output", self.output_combo)):
            bar.addWidget(QLabel(f" {label} "))
            bar.addWidget(widget)

    def menu_entries(self, record_action: QAction) -> list[QAction | None]:
        """The Play menu: Play, Loop, Metronome, Count-in, Clear loop region, then ``record_action`` and Refresh
        MIDI ports (None: a separator)."""
        return [self.play_action, self.loop_action, *self.click_actions(), None, record_action,
                self.refresh_ports_action]

    # -- output --------------------------------------------------------------------------------
    def refresh_ports(self, report: bool = False) -> None:
        """List the MIDI output ports in the Output box (after the built-in synth); ``report`` says what was found."""
        names: list[str] = []
        reason = "MIDI ports are not available in this build"
        output_names = optional("midi_ports", "output_names")
        if output_names is not None:
            names, reason = output_names()
        if report:
            self.messages.show_message(f"MIDI outputs: {', '.join(names)}" if names else f"No MIDI outputs: {reason}")
        current = self.output_combo.currentText()
        self.output_combo.clear()
        self.output_combo.addItems([BUILT_IN_SYNTH] + list(names))
        self.output_combo.setCurrentText(current if current in names else BUILT_IN_SYNTH)

    def set_output_port(self, name: str) -> None:
        """Send playback to MIDI output ``name`` (or BUILT_IN_SYNTH)."""
        if self.output_combo.findText(name) < 0:
            self.output_combo.addItem(name)
        self.output_combo.setCurrentText(name)

    def set_voice_mix(self, mix) -> None:
        """Play only the voices ``mix`` lets through (a :class:`~gui.voice_mix.VoiceMix`: mute and solo); a change
        while the music plays takes effect at once, from where the playhead is."""
        self.voice_mix = mix
        mix.changed.connect(self._replay_with_new_settings)

    def _active_player(self):
        return self.player if self.output_combo.currentText() == BUILT_IN_SYNTH else self.midi_out

    # -- playing -------------------------------------------------------------------------------
    def play(self, piece: Piece | None = None, start: int | None = None, count_in: bool = True) -> None:
        """Play ``piece`` (default: what the piano roll shows) through the chosen output, from ``start``
        (default: the start marker set on the ruler). The player gets only the voices the voice mix lets through,
        with the loop region, the metronome and (when ``count_in`` and Count-in is ticked) the count-in built in."""
        piece = piece or self.canvas.piece
        heard = self.voice_mix.for_playback(piece) if self.voice_mix is not None else piece
        player = self._active_player()
        if player is None:
            return self._refuse("Playback is not available in this build")
        if not piece.notes:
            return self._refuse("Nothing to play: the piece has no notes")
        if not heard.notes:
            return self._refuse("Nothing to play: the voices with notes are muted (M) or not soloed (S)")
        set_checked_quietly(self.play_action, True)
        tempo = self.tempo_spin.value() / 100
        loop = self.loop_action.isChecked()
        region = self.canvas.loop.region if loop else None
        if start is None:
            start = self.canvas.play_start if self.canvas.play_start < heard.end or region else 0
        take = build_take(heard, start, loop, region, self.metronome_action.isChecked(),
                          count_in and self.count_in_action.isChecked())
        if not take.piece.notes:
            return self._refuse("Nothing to play in the loop region (drag another on the ruler, or clear it)")
        self._now_playing, self._playhead_tick = piece, start
        self._follows_document = piece is self.canvas.document.piece
        self._take = take
        if player is self.player:
            player.play(take.piece, take.start, take.loop, tempo)
        else:
            player.play(take.piece, self.output_combo.currentText(), take.start, take.loop, tempo)

    def _refuse(self, text: str) -> None:
        self.messages.show_message(text)
        set_checked_quietly(self.play_action, False)

    def stop(self) -> None:
        """Stop whichever output is playing and hide the playhead."""
        for player in (self.player, self.midi_out):
            if player is not None and player.is_playing():
                player.stop()
        set_checked_quietly(self.play_action, False)
        self.canvas.set_playhead(None)

    def set_playing(self, on: bool) -> None:
        """The Play action: play when ticked, stop when unticked."""
        if on:
            self.play()
        else:
            self.stop()

    def audition(self, piece: Piece) -> None:
        """Play ``piece`` (a result) from where the start marker is, stopping whatever plays."""
        self.stop()
        self.play(piece)

    def _replay_with_new_settings(self) -> None:
        """A tempo, loop or voice mix change while playing takes effect at once: play on from where the playhead
        is (or stop, when every voice with notes is now silent)."""
        player = self._active_player()
        if player is None or not player.is_playing() or self._now_playing is None:
            return
        if self.voice_mix is not None and not self.voice_mix.for_playback(self._now_playing).notes:
            return self.stop()
        self.play(self._now_playing, min(self._playhead_tick, self._now_playing.end), count_in=False)

    def _loop_settings_changed(self) -> None:
        """Loop toggled or the loop region changed: the ruler shows it, and playing music follows it."""
        self.canvas.loop.set_enabled(self.loop_action.isChecked())
        self._replay_with_new_settings()

    def _document_changed(self, piece: Piece) -> None:
        """The document's piece changed while it plays: a new tempo or time signature (the Piece bar's BPM and
        Time: the same notes) takes effect at once, from the playhead; other edits are heard the next time it
        plays (another piece opened meanwhile is not played from the old one's playhead)."""
        if not self._follows_document or self._now_playing is None or piece is self._now_playing:
            return
        before, self._now_playing = self._now_playing, piece
        if (piece.tempos, piece.time_signatures) != (before.tempos, before.time_signatures) \
                and piece.notes == before.notes:
            self._replay_with_new_settings()

    def _playhead_moved(self, tick: int) -> None:
        if self._take is not None:
            tick = self._take.canvas_tick(tick)
        self._playhead_tick = tick
        self.canvas.set_playhead(tick)
        self.piano_roll.follow(tick)

    def _playing_changed(self, playing: bool) -> None:
        set_checked_quietly(self.play_action, playing)
        if not playing:
            self.canvas.set_playhead(None)

