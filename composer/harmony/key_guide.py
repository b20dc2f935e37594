"""The harmony key guide: a soft pull of the lower voices toward the notes of the key (issue 15).

Sampled freely, the inner voices sometimes wander off the key (a D flat in the alto of a G minor tune) where
Bach would not. :func:`key_bias` lowers the log-probability of pitches outside the key's usual notes by a
few tenths of a nat to a nat: the diatonic scale and the chromatic notes Bach's chorales use most, so a
secondary dominant or a Picardy third stays as likely as the model finds it:

* major: the major scale, the raised fourth (the leading tone of the dominant) and the raised tonic (of the
  supertonic);
* minor: the natural minor scale, the raised sixth and seventh (melodic and harmonic minor) and the raised
  fourth.

Everything else (a flat second, a flat fifth in major...) is still possible, just less likely. The soprano is
given and never touched. Chosen on the validation chorales (``midi_data/models/README.md``).
"""

from __future__ import annotations

import numpy as np

from composer.harmony.grid import MIN_PITCH, NUM_VOICES, PITCH_OFFSET, UNKNOWN_KEY

DEFAULT_KEY_GUIDE = 1.0                                   # nats off pitches outside the key's usual notes
MAJOR_DEGREES = frozenset({0, 2, 4, 5, 7, 9, 11, 6, 1})   # major scale, raised 4th, raised tonic
MINOR_DEGREES = frozenset({0, 2, 3, 5, 7, 8, 10, 9, 11, 6})  # natural minor, raised 6th and 7th, raised 4th


def key_bias(key: int, vocab: int, strength: float = DEFAULT_KEY_GUIDE) -> np.ndarray | None:
    """float32 [4, V]: ``-strength`` on the pitch tokens outside the usual notes of ``key`` in the alto, tenor and
    bass, 0 elsewhere; None when the key is unknown or ``strength`` is 0.

    Args:
        key: the key index the model is told (see :func:`composer.harmony.grid.key_index`).
        vocab: the model's vocabulary size.
        strength: nats taken off (0: no guide).

    Raises:
        ValueError: a negative strength.
    """
    if strength < 0:
        raise ValueError(f"the key guide's strength must be 0 or more nats, got {strength}")
    if key == UNKNOWN_KEY or strength == 0:
        return None
    tonic, degrees = key % 12, MINOR_DEGREES if key >= 12 else MAJOR_DEGREES
    tokens = np.arange(vocab)
    degree = (tokens - PITCH_OFFSET + MIN_PITCH - tonic) % 12
    outside = (tokens >= PITCH_OFFSET) & ~np.isin(degree, list(degrees))                       # [V]
    bias = np.zeros((NUM_VOICES, vocab), dtype=np.float32)
    bias[1:, outside] = -strength
    return bias
