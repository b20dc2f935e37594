"""Musical constraints the sampler keeps while it harmonizes a given melody (see :func:`composer.harmony.sampler.fill`).

A :class:`Guide` says, per frame and voice, which pitch classes a voice may sound and whether it must sound:

    cadence   over the melody's last note, the lower voices sound the tonic triad of the key the model is
              told (the bass the tonic itself: root position; in minor a Picardy third, the major third,
              as Bach ends 78 of the 86 minor-key chorales of the bundled train and valid splits that close on
              the tonic, unless the melody itself sounds the minor third), unless the melody's last note is not
              a tone of that triad (the melody forbids the tonic chord: the end is left free)
    clashes   on beats, no lower voice sounds a minor second, major seventh or minor ninth (1 or 11 semitones
              mod 12) against the given soprano

Cells are constrained through :meth:`Guide.forbidden`; the sampler drops a constraint on a cell where it
leaves nothing to draw.
"""

from __future__ import annotations

import numpy as np

from composer.harmony.grid import FRAMES_PER_BEAT, HOLD, MASK, MIN_PITCH, NUM_VOICES, PITCH_OFFSET, REST, UNKNOWN_KEY

MAJOR_TRIAD = (0, 4, 7)
MINOR_TRIAD = (0, 3, 7)
PICARDY = 4                      # the major third, allowed over a minor key's final chord
CLASH_STEPS = (1, 11)            # pitch-class distances from the soprano refused on beats

__all__ = ["Guide", "melody_guide", "soprano_pitches", "final_span", "tonic_chord", "beat_frames"]


class Guide:
    """Per-cell limits on the pitch classes a voice may sound, for the sampler.

    Attributes:
        allowed: bool [T, 4, 12], the pitch classes each voice may sound in each frame.
        sound: bool [T, 4], the voice must sound (REST refused).
        beats: bool [T], the felt beats of a compound metre (6/8...): a lower voice may not hold a note that
            began off such a beat across it (no quarter notes against a jig's dotted quarters).
    """

    def __init__(self, length: int):
        self.allowed = np.ones((length, NUM_VOICES, 12), dtype=bool)
        self.sound = np.zeros((length, NUM_VOICES), dtype=bool)
        self.beats = np.zeros(length, dtype=bool)
        self._off_beat: np.ndarray | None = None        # [B, 4]: the sounding note began off a felt beat

    def active(self, t: int, voice: int) -> bool:
        return bool(self.sound[t, voice] or not self.allowed[t, voice].all() or (self.beats[t] and voice > 0))

    def record(self, t: int, voice: int, tokens: np.ndarray) -> None:
        """Note the tokens [B] ``voice`` took at frame ``t`` (where its notes began)."""
        if not self.beats.any():
            return
        if self._off_beat is None or len(self._off_beat) != len(tokens):
            self._off_beat = np.zeros((len(tokens), NUM_VOICES), dtype=bool)
        attacks = np.asarray(tokens) >= PITCH_OFFSET
        self._off_beat[attacks, voice] = not self.beats[t]

    def forbidden(self, t: int, voice: int, before: np.ndarray, now: np.ndarray) -> np.ndarray | None:
        """bool [B, V]: the tokens ``voice`` may not write at frame ``t`` (None: no limit here).

        Args:
            before: [B, 4] pitches sounding in frame t-1 (-1 silent): HOLD is judged by the held pitch.
            now: [B, 4] pitches of frame t for the voices decided so far (-1 silent or not yet decided).
        """
        if not self.active(t, voice):
            return None
        allowed = self.allowed[t, voice]
        held = np.asarray(before)[:, voice]
        bad = np.repeat(self._static(t, voice)[None], len(held), axis=0)                       # [B, V]
        hold_bad = (held >= 0) & ~allowed[np.maximum(held, 0) % 12]
        if self.beats[t] and voice > 0 and self._off_beat is not None:
            hold_bad |= self._off_beat[:, voice]                                # no syncopation over the beat
        bad[:, HOLD] = hold_bad | ((held < 0) & self.sound[t, voice])
        return bad

    def _static(self, t: int, voice: int) -> np.ndarray:
        """bool [V]: the tokens refused at (t, voice) whatever came before: pitch tokens of classes not
        allowed, MASK, and REST where the voice must sound."""
        key = (t, voice)
        if key not in self._cache:
            row = np.zeros(len(self._token_class), dtype=bool)
            row[PITCH_OFFSET:] = ~self.allowed[t, voice][self._token_class[PITCH_OFFSET:]]
            row[MASK] = True
            row[REST] = bool(self.sound[t, voice])
            self._cache[key] = row
        return self._cache[key]

    def with_vocab(self, vocab: int) -> Guide:
        """Fit the guide to a model's vocabulary of ``vocab`` tokens; returns itself."""
        self._token_class = np.zeros(vocab, dtype=np.int64)
        self._token_class[PITCH_OFFSET:] = (np.arange(vocab - PITCH_OFFSET) + MIN_PITCH) % 12
        self._cache: dict[tuple[int, int], np.ndarray] = {}
        self._off_beat = None
        return self


def soprano_pitches(column: np.ndarray) -> np.ndarray:
    """int64 [T]: the soprano pitch sounding in each frame of a token column (-1: silent or unknown)."""
    out = np.full(len(column), -1, dtype=np.int64)
    current = -1
    for t, token in enumerate(column):
        if token >= PITCH_OFFSET:
            current = int(token) - PITCH_OFFSET + MIN_PITCH
        elif token != HOLD:                                              # REST, or MASK: not known
            current = -1
        out[t] = current
    return out


def final_span(column: np.ndarray) -> tuple[int, int] | None:
    """Frames [start, end) of the melody's last note in a soprano token column; None if it has none."""
    attacks = np.flatnonzero(column >= PITCH_OFFSET)
    if not len(attacks):
        return None
    start = int(attacks[-1])
    end = start + 1
    while end < len(column) and column[end] == HOLD:
        end += 1
    return start, end


def tonic_chord(key: int) -> tuple[int, tuple[int, ...]] | None:
    """(tonic pitch class, the pitch classes of its final chord) for a key index; None for an unknown key.
    A minor key's chord lists both thirds (the major one a Picardy third)."""
    if key == UNKNOWN_KEY or key < 0:
        return None
    tonic = key % 12
    steps = (*MINOR_TRIAD, PICARDY) if key >= 12 else MAJOR_TRIAD
    return tonic, tuple((tonic + s) % 12 for s in steps)


def beat_frames(positions: np.ndarray) -> np.ndarray:
    """bool [T]: frames on a quarter-note beat, counted from the piece's start or from the bar line."""
    frames = np.arange(len(positions))
    return (frames % FRAMES_PER_BEAT == 0) | (np.asarray(positions) % FRAMES_PER_BEAT == 0)


def melody_guide(given: np.ndarray, positions: np.ndarray, key: int, vocab: int, cadence: bool = True,
                 clashes: bool = True, compound: tuple[np.ndarray, np.ndarray] | None = None,
                 closing_key: int | None = None) -> Guide | None:
    """The :class:`Guide` for harmonizing a given soprano (``given[:, 0]``) in ``key``; None if it limits nothing.

    Args:
        given: int64 [T, 4] tokens, the soprano given, MASK where the model writes.
        positions: int64 [T] frame positions in the bar.
        key: the key index the model is told (UNKNOWN_KEY: no cadence).
        vocab: the model's vocabulary size.
        cadence: close on the tonic chord over the melody's last note (see the module docstring).
        clashes: refuse m2/M7/m9 against the soprano on beats.
        compound: the felt beats of compound metres and where those metres are (bool [T] each, see
            :func:`composer.harmony.grid.compound_beats`): there the beats are the dotted quarters, for the
            clashes, and a lower voice may not hold a note begun off a beat across the next one.
        closing_key: the key index the cadence closes in (default ``key``), e.g. the key on the melody's last
            note (:func:`composer.music.analysis.closing_key`).
    """
    guide = Guide(len(given)).with_vocab(vocab)
    lower = [v for v in range(1, NUM_VOICES) if (given[:, v] == MASK).any()]
    used = False
    beats = beat_frames(positions)
    if compound is not None and compound[1].any() and lower:
        beats = np.where(compound[1], compound[0], beats)
        guide.beats = compound[0].copy()
        used = True
    if clashes and lower:
        soprano = soprano_pitches(given[:, 0])
        for t in np.flatnonzero(beats & (soprano >= 0)):
            for step in CLASH_STEPS:
                guide.allowed[t, lower, (soprano[t] + step) % 12] = False
            used = True
    span, chord = final_span(given[:, 0]), tonic_chord(key if closing_key is None else closing_key)
    if cadence and lower and span is not None and chord is not None:
        tonic, classes = chord
        last = int(given[span[0], 0]) - PITCH_OFFSET + MIN_PITCH
        if last % 12 in classes:
            start, end = span
            allowed = np.zeros(12, dtype=bool)
            allowed[list(classes)] = True
            if len(classes) == 4:                 # minor: the melody's third decides, else a Picardy third
                third_minor, third_major = (tonic + 3) % 12, (tonic + 4) % 12
                allowed[third_major if last % 12 == third_minor else third_minor] = False
            bass = np.zeros(12, dtype=bool)
            bass[tonic] = True
            for voice in lower:
                guide.allowed[start:end, voice] = bass if voice == NUM_VOICES - 1 else allowed
                guide.sound[start:end, voice] = True
            used = True
    return guide if used else None
