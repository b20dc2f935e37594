"""Hand-built 4-part grids for the harmony tests."""

from __future__ import annotations

import numpy as np

from composer.harmony.grid import HOLD, REST, pitch_token


def grid(*columns) -> np.ndarray:
    """Frames [T, 4] from four lists of MIDI pitches (None: rest, '-': hold)."""
    frames = np.full((len(columns[0]), 4), REST)
    for voice, column in enumerate(columns):
        for t, value in enumerate(column):
            frames[t, voice] = REST if value is None else HOLD if value == "-" else pitch_token(value)
    return frames
