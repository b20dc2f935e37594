"""Where the bar lines of a piece fall: its bar length, beat and pickup.

A piece with a pickup (anacrusis) is written as notation programs export it: a short opening bar in its own
time signature at tick 0 (``1/4`` for a one-beat pickup into 4/4), then the tune's time signature at the
first full bar. :func:`metre_of` reads that back.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.music.notes import Piece, TimeSignature

COMPOUND_NUMERATORS = (6, 9, 12)


@dataclass(frozen=True)
class Metre:
    """Bar lines on a tick grid.

    Attributes:
        bar_ticks: length of a bar.
        beat_ticks: length of the felt beat (a dotted quarter in 6/8, a quarter in 3/4).
        phase: tick of the first full bar's downbeat (0 without a pickup; else the pickup's length, below
            ``bar_ticks``).
    """

    bar_ticks: int
    beat_ticks: int
    phase: int = 0

    def bar_index(self, tick: int) -> int:
        """Bar number of ``tick``: 0 for the first full bar, -1 for the pickup."""
        return (tick - self.phase) // self.bar_ticks

    def bar_start(self, index: int) -> int:
        """Tick of bar ``index``'s downbeat (it may be negative for the pickup bar)."""
        return self.phase + index * self.bar_ticks

    def position(self, tick: int) -> int:
        """Ticks since the last downbeat."""
        return (tick - self.phase) % self.bar_ticks


def beat_ticks(signature: TimeSignature, ticks_per_beat: int) -> int:
    """The felt beat of a time signature: three of its units in compound metres (6/8, 9/8, 12/8), else one."""
    unit = max(1, ticks_per_beat * 4 // signature.denominator)
    return 3 * unit if signature.numerator in COMPOUND_NUMERATORS and signature.denominator >= 8 else unit


def metre_of(piece: Piece) -> Metre:
    """The bar lines of ``piece`` from its time signatures (4/4 from tick 0 when it has none).

    A first time signature that lasts exactly one bar, shorter than the next one's bar, is a pickup.
    """
    signatures = piece.time_signatures or (TimeSignature(0, 4, 4),)
    first = signatures[0]
    tpb = piece.ticks_per_beat
    if len(signatures) > 1:
        second = signatures[1]
        pickup = first.ticks_per_bar(tpb)
        if second.tick == pickup and pickup < second.ticks_per_bar(tpb):
            return Metre(second.ticks_per_bar(tpb), beat_ticks(second, tpb), pickup)
    return Metre(first.ticks_per_bar(tpb), beat_ticks(first, tpb), 0)


def pickup_signatures(signature: TimeSignature, pickup_ticks: int, ticks_per_beat: int) -> tuple[TimeSignature, ...]:
    """The time signatures of a piece in ``signature`` that opens with a pickup of ``pickup_ticks``.

    The pickup bar gets a signature of its own (in the tune's denominator, or a finer one when needed).

    Raises:
        ValueError: a pickup that no signature can hold on this grid (not a whole number of 64ths).
    """
    bar = signature.ticks_per_bar(ticks_per_beat)
    if pickup_ticks <= 0 or pickup_ticks >= bar:
        return (TimeSignature(0, signature.numerator, signature.denominator),)
    denominator = signature.denominator
    while (pickup_ticks * denominator) % (4 * ticks_per_beat) and denominator < 64:
        denominator *= 2
    if (pickup_ticks * denominator) % (4 * ticks_per_beat):
        raise ValueError(f"a pickup of {pickup_ticks} ticks is not a whole number of 64ths")
    numerator = pickup_ticks * denominator // (4 * ticks_per_beat)
    return (TimeSignature(0, numerator, denominator),
            TimeSignature(pickup_ticks, signature.numerator, signature.denominator))


def parse_time_signature(text: str) -> tuple[int, int]:
    """(numerator, denominator) of ``"6/8"``.

    Raises:
        ValueError: not N/D with N 1..32 and D a power of two up to 32.
    """
    parts = str(text).strip().split("/")
    if len(parts) == 2 and parts[0].strip().isdigit() and parts[1].strip().isdigit():
        numerator, denominator = int(parts[0]), int(parts[1])
        if 1 <= numerator <= 32 and denominator in (1, 2, 4, 8, 16, 32):
            return numerator, denominator
    raise ValueError(f"a time signature is N/D such as 4/4, 3/4 or 6/8, got {text!r}")
