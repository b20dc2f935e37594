"""The take: what the transport hands a player for a loop region, the metronome and the count-in.

The players loop in one simple way: a looping piece wraps back to tick 0 at the bar line after its last note
(:func:`gui.playback.loop_end_tick`). :func:`build_take` makes the piece they are given fit that:

- a **loop region** (dragged on the ruler, ``(start, end)`` ticks) with Loop on: the notes inside it, cut at
  its edges and moved to start at tick 0, with the tempo in force at its start, and one "bar" as long as the
  region (so the players wrap exactly at its end; the clicks were placed by the piece's real metre first);
- the **metronome**: click notes on a drum voice of their own (:mod:`gui.metronome`);
- the **count-in** (Loop off): one bar of clicks, in the metre and tempo at the start, then the music from the
  start, moved one bar later.

:class:`Take` maps the player's ticks back to the piece's (``canvas_tick``), so the playhead is drawn where the
music is; during the count-in it waits at the start. No Qt in here.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.music.notes import Note, Piece, TempoChange, TimeSignature
from gui.metronome import click_notes, click_ticks, click_voice_index, count_in_bar, signature_at, with_clicks
from gui.playback import loop_end_tick


@dataclass(frozen=True)
class Take:
    """What a player is given, and where its ticks are in the piece shown.

    Attributes:
        piece: what the player plays.
        start: where it starts, in the take's ticks.
        loop: whether the player loops it.
        offset: a take tick ``t`` (from ``lead_in`` on) is the piece's tick ``t + offset``.
        lead_in: the count-in's length at the take's start (the playhead waits at the start meanwhile).
    """

    piece: Piece
    start: int
    loop: bool
    offset: int = 0
    lead_in: int = 0

    def canvas_tick(self, tick: int) -> int:
        """The piece's tick for the player's ``tick``."""
        return max(tick, self.lead_in) + self.offset


def normalized_region(region: tuple[int, int] | None) -> tuple[int, int] | None:
    """``region`` as (start, end) with start < end, at or after tick 0; None for none or an empty one."""
    if region is None:
        return None
    start, end = sorted((max(0, int(region[0])), max(0, int(region[1]))))
    return (start, end) if end > start else None


def cut(piece: Piece, begin: int, end: int, at: int = 0) -> Piece:
    """The part of ``piece`` from ``begin`` to ``end``, moved to start at tick ``at``: notes cut at the edges, the
    tempo and time signature in force at ``begin`` from tick 0, later changes moved with the notes."""
    shift = at - begin
    notes = tuple(Note(max(n.start, begin) + shift, min(n.end, end) + shift, n.pitch, n.velocity, n.voice)
                  for n in piece.notes if n.end > begin and n.start < end)
    opening = [t for t in piece.tempos if t.tick <= begin][-1:] or [piece.tempos[0]]
    tempos = (TempoChange(0, opening[0].qpm),) + tuple(TempoChange(t.tick + shift, t.qpm) for t in piece.tempos
                                                        if begin < t.tick < end)
    metre = signature_at(piece, begin)
    later = tuple(TimeSignature(s.tick + shift, s.numerator, s.denominator) for s in piece.time_signatures
                  if begin < s.tick < end)
    signatures = (TimeSignature(0, metre.numerator, metre.denominator),) + later
    return piece.replace(notes=notes, tempos=tempos, time_signatures=signatures)


def build_take(piece: Piece, start: int, loop: bool = False, region: tuple[int, int] | None = None,
               metronome: bool = False, count_in: bool = False) -> Take:
    """What to hand a player to play ``piece`` from ``start`` (see the module docstring).

    Args:
        piece: the piece as heard (the voice mix applied).
        start: where to start, in the piece's ticks (outside a looped region: the region's start).
        loop: Loop is on.
        region: the loop region (start, end), or None: with Loop on, the whole piece loops.
        metronome: add the clicks.
        count_in: one bar of clicks before the music (only when not looping: a loop starts at once).

    Returns:
        The take. Without region, metronome or count-in, its piece is ``piece`` itself.
    """
    tpb = piece.ticks_per_beat
    region = normalized_region(region)
    if loop and region is not None:
        begin, end = region
        body = cut(piece, begin, end)
        if metronome:
            body = with_clicks(body, click_notes(click_ticks(piece, begin, end), tpb, click_voice_index(body),
                                                 end - begin, shift=-begin))
        # one "bar" as long as the region: the players wrap exactly at its end
        body = body.replace(time_signatures=(TimeSignature(0, end - begin, 4 * tpb),))
        return Take(body, start - begin if begin <= start < end else 0, True, offset=begin)
    if loop:
        if metronome:
            end = loop_end_tick(piece)
            piece = with_clicks(piece, click_notes(click_ticks(piece, 0, end), tpb, click_voice_index(piece), end))
        return Take(piece, start, True)
    if count_in:
        bar, lead = count_in_bar(piece, start)
        body = cut(piece, start, max(piece.end, start), at=bar)
        index = click_voice_index(body)
        clicks = click_notes(lead, tpb, index, bar)
        if metronome:
            clicks += click_notes(click_ticks(piece, start, piece.end), tpb, index, body.end, shift=bar - start)
        return Take(with_clicks(body, clicks), 0, False, offset=start - bar, lead_in=bar)
    if metronome:
        piece = with_clicks(piece, click_notes(click_ticks(piece, 0, piece.end), tpb, click_voice_index(piece),
                                               piece.end))
    return Take(piece, start, False)
