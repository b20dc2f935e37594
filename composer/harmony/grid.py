"""Four-part (SATB) music as a grid of 16th-note frames: the representation of the harmony model.

Each frame holds one token per voice (Soprano, Alto, Tenor, Bass)::

    REST   the voice is silent
    HOLD   the note sounding in the previous frame goes on (no new attack)
    pitch  a note starts: PITCH_OFFSET + (pitch - MIN_PITCH)
    MASK   "unknown": only ever an input, for the parts the model must write

A piece becomes ``frames`` int64 [T, 4] plus ``positions`` int64 [T] (the frame's place in its bar), and
back again; the round trip is exact for music on the 16th-note grid with one note at a time per voice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.music.notes import Note, Piece, TimeSignature, Voice

FRAMES_PER_BEAT = 4            # 16th notes
REST, HOLD, MASK = 0, 1, 2
PITCH_OFFSET = 3
MIN_PITCH, MAX_PITCH = 24, 96  # C1..C7: Bach's voices (36..81) transposed either way, with room to spare
VOCAB_SIZE = PITCH_OFFSET + MAX_PITCH - MIN_PITCH + 1
NUM_VOICES = 4
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
MAX_POSITIONS = 48             # frames into the bar that have their own embedding (a 3/2 or 12/8 bar is 24)
NUM_KEYS = 25                  # 12 major keys, 12 minor keys, and "unknown"
UNKNOWN_KEY = 24

# Comfortable ranges of each voice (textbook SATB, generous at the top and bottom), used to count notes out
# of range in evaluations. The model's own sampling limits are learnt from its training data.
VOICE_RANGES = ((60, 81), (55, 74), (48, 69), (40, 62))


class HarmonyError(ValueError):
    """Music the harmony model cannot work with; the message says what is wrong and what to do."""


def pitch_token(pitch: int) -> int:
    """The token of a note starting at MIDI ``pitch`` (MIN_PITCH..MAX_PITCH)."""
    if not MIN_PITCH <= pitch <= MAX_PITCH:
        raise HarmonyError(f"pitch {pitch} is outside the harmony model's range {MIN_PITCH}..{MAX_PITCH}")
    return PITCH_OFFSET + pitch - MIN_PITCH


def token_pitch(token: int) -> int | None:
    """The MIDI pitch a token starts, or None for REST, HOLD and MASK."""
    return int(token) - PITCH_OFFSET + MIN_PITCH if token >= PITCH_OFFSET else None


def frame_ticks(ticks_per_beat: int) -> float:
    """Length of one 16th-note frame in ``ticks_per_beat`` ticks (may be fractional)."""
    return ticks_per_beat / FRAMES_PER_BEAT


def to_frame(tick: int, ticks_per_beat: int) -> int:
    """The frame nearest to ``tick``."""
    return int(round(tick * FRAMES_PER_BEAT / ticks_per_beat))


def to_tick(frame: int, ticks_per_beat: int) -> int:
    """The tick where ``frame`` starts (rounded when a frame is not a whole number of ticks)."""
    return int(round(frame * ticks_per_beat / FRAMES_PER_BEAT))


def num_frames(piece: Piece) -> int:
    """Frames needed to hold the whole piece."""
    return max((to_frame(n.end, piece.ticks_per_beat) for n in piece.notes), default=0)


def voice_frames(notes, ticks_per_beat: int, length: int) -> np.ndarray:
    """One voice's tokens, int64 [length]. Overlapping notes: the later attack wins."""
    tokens = np.full(length, REST, dtype=np.int64)
    for note in sorted(notes, key=lambda n: (n.start, n.pitch)):
        start = to_frame(note.start, ticks_per_beat)
        end = max(start + 1, to_frame(note.end, ticks_per_beat))
        if start >= length:
            continue
        tokens[start] = pitch_token(note.pitch)
        tokens[start + 1:min(end, length)] = HOLD
    return tokens


def piece_to_frames(piece: Piece, length: int | None = None) -> np.ndarray:
    """The four voices (voice indices 0..3) of ``piece`` as tokens, int64 [T, 4]."""
    length = num_frames(piece) if length is None else length
    frames = np.full((length, NUM_VOICES), REST, dtype=np.int64)
    for voice in range(NUM_VOICES):
        frames[:, voice] = voice_frames(piece.voice_notes(voice), piece.ticks_per_beat, length)
    return frames


def frames_to_notes(frames: np.ndarray, ticks_per_beat: int, voices=range(NUM_VOICES),
                    offset_frames: int = 0, velocity: int = 90) -> list[Note]:
    """Notes of the given voices of ``frames`` [T, 4]; a HOLD with nothing sounding counts as a rest.

    Args:
        frames: tokens [T, 4].
        ticks_per_beat: resolution of the notes returned.
        voices: which columns to read.
        offset_frames: frame 0 of ``frames`` sits at this frame of the output.
        velocity: velocity of every note.
    """
    notes = []
    for voice in voices:
        start = pitch = None
        for frame, token in enumerate(list(frames[:, voice]) + [REST]):
            if token == HOLD and pitch is not None:
                continue
            if pitch is not None:
                notes.append(Note(to_tick(start + offset_frames, ticks_per_beat),
                                  to_tick(frame + offset_frames, ticks_per_beat), pitch, velocity, voice))
            pitch, start = token_pitch(token), frame
    return notes


def frames_to_piece(frames: np.ndarray, ticks_per_beat: int = 12, template: Piece | None = None,
                    name: str = "") -> Piece:
    """A four-voice piece from tokens [T, 4], with tempo, metre and key taken from ``template``."""
    notes = frames_to_notes(frames, ticks_per_beat)
    voices = tuple(Voice(n, 52) for n in VOICE_NAMES)   # GM 53: choir aahs
    if template is None:
        return Piece(tuple(notes), ticks_per_beat, voices, name=name)
    return Piece(tuple(notes), ticks_per_beat, voices, template.tempos, template.time_signatures,
                 template.key, name or template.name)


def bar_positions(piece: Piece, length: int) -> np.ndarray:
    """Each frame's place in its bar, int64 [length], following the piece's time signatures.

    Positions past MAX_POSITIONS - 1 (very long bars) share the last embedding.
    """
    return positions_for(piece.time_signatures, piece.ticks_per_beat, length)


def positions_for(time_signatures, ticks_per_beat: int, length: int) -> np.ndarray:
    """Frame positions in the bar for a list of :class:`TimeSignature` (the first at tick 0), int64 [length].

    Work and memory are bounded by ``length`` (the piece's frames): a signature change at or past the end,
    however far (a hostile file may put one hours after the last note), changes nothing.
    """
    positions = np.zeros(length, dtype=np.int64)
    signatures = list(time_signatures) or [TimeSignature(0, 4, 4)]
    for index, signature in enumerate(signatures):
        start = min(length, to_frame(signature.tick, ticks_per_beat))
        following = signatures[index + 1].tick if index + 1 < len(signatures) else None
        end = length if following is None else min(length, to_frame(following, ticks_per_beat))
        bar = max(1, round(signature.ticks_per_bar(ticks_per_beat) * FRAMES_PER_BEAT / ticks_per_beat))
        positions[start:end] = np.arange(max(0, end - start)) % bar
    return np.minimum(positions, MAX_POSITIONS - 1)


def compound_beats(time_signatures, ticks_per_beat: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the music is in a compound metre (6/8, 9/8, 12/8), and its felt beats (the dotted quarters,
    counted from each signature's bar lines, as :func:`positions_for` counts).

    Work and memory are bounded by ``length``, as in :func:`positions_for`.

    Returns:
        bool [length] the frames on a compound metre's felt beat, and bool [length] the frames in a
        compound metre at all.
    """
    from composer.music.metre import beat_ticks

    beats = np.zeros(length, dtype=bool)
    compound = np.zeros(length, dtype=bool)
    signatures = list(time_signatures) or [TimeSignature(0, 4, 4)]
    for index, signature in enumerate(signatures):
        felt = beat_ticks(signature, ticks_per_beat)
        if felt * signature.denominator == ticks_per_beat * 4:             # the felt beat is one unit: simple
            continue
        start = min(length, to_frame(signature.tick, ticks_per_beat))
        following = signatures[index + 1].tick if index + 1 < len(signatures) else None
        end = length if following is None else min(length, to_frame(following, ticks_per_beat))
        step = max(1, round(felt * FRAMES_PER_BEAT / ticks_per_beat))
        beats[start:end] = np.arange(max(0, end - start)) % step == 0
        compound[start:end] = True
    return beats, compound


def transpose_frames(frames: np.ndarray, semitones: int) -> np.ndarray:
    """A transposed copy of tokens [T, 4] (the caller keeps pitches within range)."""
    out = frames.copy()
    pitched = out >= PITCH_OFFSET
    out[pitched] += semitones
    if pitched.any() and (out[pitched].min() < PITCH_OFFSET or out[pitched].max() >= VOCAB_SIZE):
        raise HarmonyError(f"transposing by {semitones} semitones leaves the range {MIN_PITCH}..{MAX_PITCH}")
    return out


def sounding_pitches(frames: np.ndarray) -> np.ndarray:
    """The pitch sounding in each frame and voice, int64 [T, 4], -1 for silence (HOLD resolved)."""
    out = np.full(frames.shape, -1, dtype=np.int64)
    for voice in range(frames.shape[1]):
        current = -1
        for t, token in enumerate(frames[:, voice]):
            if token >= PITCH_OFFSET:
                current = int(token) - PITCH_OFFSET + MIN_PITCH
            elif token != HOLD:
                current = -1
            out[t, voice] = current
    return out


def key_index(key: str | None) -> int:
    """The model's index of a key: tonic + 12 for minor-like modes; UNKNOWN_KEY for None.

    Church modes count as major (Ionian, Lydian, Mixolydian) or minor (the others).

    Raises:
        ValueError: a key name :func:`composer.music.keys.parse_key` does not read.
    """
    if key is None:
        return UNKNOWN_KEY
    from composer.music.keys import MINOR_MODES, parse_key

    tonic, mode = parse_key(key)
    return tonic + 12 * (mode in MINOR_MODES)


def key_of_index(index: int) -> str | None:
    """The key name of a key index ("C", "Am", ...), or None for UNKNOWN_KEY."""
    if index == UNKNOWN_KEY:
        return None
    from composer.music.keys import key_name

    return key_name(index % 12, "minor" if index >= 12 else "major")


def transpose_key_index(index: int, semitones: int) -> int:
    """The key index after a transposition (UNKNOWN_KEY stays unknown)."""
    if index == UNKNOWN_KEY:
        return index
    return (index % 12 + semitones) % 12 + 12 * (index // 12)


def piece_key_index(piece: Piece) -> int:
    """The key of a piece: its key signature, else a Krumhansl-Schmuckler estimate, else unknown."""
    if piece.key is not None:
        try:
            return key_index(piece.key)
        except ValueError:
            pass
    from composer.music.analysis import estimate_key

    estimate = estimate_key(piece)
    return key_index(estimate.key) if estimate is not None else UNKNOWN_KEY


@dataclass(frozen=True)
class Chorale:
    """A four-part piece ready for the model."""

    frames: np.ndarray      # int64 [T, 4]
    positions: np.ndarray   # int64 [T]
    name: str = ""
    key: int = UNKNOWN_KEY  # see key_index


def chorale_from_piece(piece: Piece) -> Chorale:
    """The model's view of a four-part piece (voices 0..3 = S, A, T, B).

    Raises:
        HarmonyError: fewer than four voices, no notes, or pitches out of range.
    """
    used = {n.voice for n in piece.notes}
    if len(piece.voices) < NUM_VOICES or not set(range(NUM_VOICES)) <= used:
        raise HarmonyError(f"needs four parts (Soprano, Alto, Tenor, Bass); it has {len(used)} voice(s) with notes")
    four = piece.replace(notes=tuple(n for n in piece.notes if n.voice < NUM_VOICES))
    frames = piece_to_frames(four)
    return Chorale(frames, bar_positions(piece, len(frames)), piece.name, piece_key_index(four))
