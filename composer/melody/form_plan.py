"""Forms a user can ask for (``--form AABB``): sections of equal length, repeated sections copied.

A form is a string of section letters (``AABB``, ``AABA``, ``ABAC``...; ``through`` or ``""`` for
through-composed). The requested bars are shared equally among the sections; the pickup bar, if any, goes
with the first. A section whose letter came before is a repeat: its bars are the earlier section's bars,
note for note, except its last bar, which is composed afresh (a new ending: the first A may close on the
dominant, the last on the tonic). A letter seen for the first time is composed afresh; with form inputs the
model sees what it wrote one, two, four and eight bars back, so a B contrasts or answers rather than ignores.

No note is held across a section boundary or past the end, so every section starts on its own downbeat and
a copy starts with its source's first event. The sampler (:class:`composer.melody.sample.Sampler`) carries
this out: :class:`FormPlan` says, per tick, where each section ends and what tick a repeat copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.music.metre import Metre

THROUGH_COMPOSED = ("", "through", "through-composed", "none")
MAX_SECTIONS = 16


@dataclass(frozen=True)
class Section:
    """One section of a form, in ticks.

    Attributes:
        label: its letter.
        start: first tick (0 for the first section, which holds the pickup).
        downbeat: its first bar's downbeat.
        end: one past its last tick.
        source: for a repeat, the downbeat of the section it repeats; else -1.
    """

    label: str
    start: int
    downbeat: int
    end: int
    source: int = -1


def parse_form(text: str) -> str:
    """The section letters of a form name (upper case; ``""`` for through-composed).

    Raises:
        ValueError: not letters, or too many sections.
    """
    cleaned = (text or "").strip()
    if cleaned.lower() in THROUGH_COMPOSED:
        return ""
    letters = cleaned.replace(" ", "").replace("-", "").upper()
    if not letters.isalpha() or not letters.isascii():
        raise ValueError(f"a form is section letters such as AABB, AABA or ABAC (or 'through'), got {text!r}")
    if len(letters) > MAX_SECTIONS:
        raise ValueError(f"a form has at most {MAX_SECTIONS} sections, got {len(letters)}")
    return letters


@dataclass(frozen=True)
class FormPlan:
    """The sections of a piece and what the sampler must do at each tick.

    Attributes:
        sections: in order; the last ends at the piece's end.
        copy_source: int64 [end + 1], per tick of a repeated stretch the tick it copies, else -1.
        boundary: int64 [end + 1], per tick the next section boundary after it (the end for the last).
    """

    sections: tuple[Section, ...]
    copy_source: np.ndarray
    boundary: np.ndarray

    @property
    def end(self) -> int:
        return self.sections[-1].end

    @classmethod
    def build(cls, form: str, bars: int, metre: Metre) -> FormPlan:
        """The plan of ``form`` over ``bars`` full bars (after the pickup, if ``metre`` has one).

        Raises:
            ValueError: a bad form, or bars that do not share equally among its sections.
        """
        letters = parse_form(form) or "A"
        if bars < 1 or bars % len(letters):
            raise ValueError(f"{bars} bars do not divide into the {len(letters)} equal sections of {letters}: "
                             f"ask for a multiple of {len(letters)} bars")
        per_section = bars // len(letters)
        first_seen: dict[str, int] = {}
        sections = []
        for index, label in enumerate(letters):
            downbeat = metre.bar_start(index * per_section)
            end = metre.bar_start((index + 1) * per_section)
            source = first_seen.get(label, -1)
            first_seen.setdefault(label, downbeat)
            sections.append(Section(label, 0 if index == 0 else downbeat, downbeat, end, source))
        return cls(tuple(sections), *_tables(sections, metre))


def _tables(sections: list[Section], metre: Metre) -> tuple[np.ndarray, np.ndarray]:
    """(copy_source, boundary) of the sections (see :class:`FormPlan`)."""
    end = sections[-1].end
    copy_source = np.full(end + 1, -1, dtype=np.int64)
    boundary = np.full(end + 1, end, dtype=np.int64)
    for section in sections:
        boundary[section.start:section.end] = section.end
        if section.source >= 0:
            copied_end = section.end - metre.bar_ticks           # the last bar is composed afresh
            ticks = np.arange(section.downbeat, copied_end)
            copy_source[ticks] = section.source + (ticks - section.downbeat)
    return copy_source, boundary
