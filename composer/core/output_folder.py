"""Generated pieces to a folder: ``PREFIX_NN.mid`` files and one ``manifest.json``, the same shape for
every model family (melodies from :func:`composer.melody.generate.generate_to_folder`, four-part chorales
that :func:`composer.harmony.inference.generate_chorale` wrote from :func:`write_chorales_to_folder`). Like
all of ``composer.core`` it imports no model family: it takes the loaded model and the generated pieces.

The manifest::

    parameters          what was asked for, as the family's request names it, with the seed used
    model               {path, kind, sha256, metrics, epoch} of the model file
    primer_ticks        where new music starts in each file (0: no primer kept, or a family without one)
    key_token           the key the model was told to write in (None: it chose)
    chords              the chords asked for: [{chord, start_beat, beats}] ([] without chords)
    ticks_per_beat      the grid of the pieces
    generation_seconds  time spent generating (not writing)
    files               per file: file, notes, bars, beats, seconds, voices, pitch_range [lowest, highest],
                        estimated_key and in_scale (the key estimate), and chord_tone_fraction with chords

Files are numbered from 1 with at least two digits (``variation_01.mid``); each runs to the requested
length (a closing rest included), with the chords as marker events.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from composer.core.atomic import write_atomically
from composer.music.analysis import estimate_key
from composer.music.metre import metre_of
from composer.music.chords import ChordSpan, chord_tone_fraction
from composer.music.midi_io import write_midi
from composer.music.notes import Piece


def write_pieces(out_dir: str | os.PathLike, pieces: list[Piece], *, model, parameters: dict, length_ticks: int,
                 ticks_per_beat: int, generation_seconds: float, prefix: str = "variation", primer_ticks: int = 0,
                 key_token: str | None = None, chord_spans: list[ChordSpan] = ()) -> dict:
    """Write ``pieces`` as ``PREFIX_NN.mid`` and ``manifest.json`` into ``out_dir`` (created if missing).

    Args:
        out_dir: the folder.
        pieces: the generated pieces, all ``length_ticks`` long.
        model: the loaded model that wrote them (``path`` and ``checkpoint``, as load_model_file returns).
        parameters: the request, with the seed used (the manifest's ``parameters``).
        length_ticks: where every file ends.
        ticks_per_beat: the pieces' grid.
        generation_seconds: time spent generating.
        prefix: file name prefix.
        primer_ticks, key_token: see the module docstring.
        chord_spans: the chords asked for, in the pieces' ticks (written as markers, listed in the manifest).

    Returns:
        The manifest (also written as JSON).
    """
    folder = PieceFolder(out_dir, len(pieces), length_ticks, prefix, chord_spans)
    folder.add(pieces)
    return folder.finish(model=model, parameters=parameters, ticks_per_beat=ticks_per_beat,
                         generation_seconds=generation_seconds, primer_ticks=primer_ticks, key_token=key_token)


class PieceFolder:
    """Writes generated pieces into a folder as they are ready, batch by batch, then the manifest: what a long
    run has written is on disk (and out of memory) while the rest is still being generated.

    Args:
        out_dir: the folder (created if missing).
        count: how many pieces the run writes in all (numbers the files: ``PREFIX_01.mid`` ...).
        length_ticks: where every file ends.
        prefix: file name prefix.
        chord_spans: the chords asked for, in the pieces' ticks (written as markers, listed in the manifest).
    """

    def __init__(self, out_dir: str | os.PathLike, count: int, length_ticks: int, prefix: str = "variation",
                 chord_spans: list[ChordSpan] = ()) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.names = output_names(count, prefix)[:-1]
        self.length_ticks = length_ticks
        self.chord_spans = list(chord_spans)
        self.files: list[dict] = []

    def add(self, pieces: list[Piece]) -> list[dict]:
        """Write the next pieces (numbered after those already written).

        Returns:
            Their manifest entries.

        Raises:
            ValueError: more pieces than ``count``.
        """
        if len(self.files) + len(pieces) > len(self.names):
            raise ValueError(f"{len(self.files) + len(pieces)} pieces for a folder of {len(self.names)}")
        markers = tuple((span.start, span.chord.name) for span in self.chord_spans)
        entries = []
        for piece, name in zip(pieces, self.names[len(self.files):]):
            write_midi(piece, self.out_dir / name, end_tick=self.length_ticks, markers=markers)
            entry = piece_entry(piece, name, self.length_ticks)
            if self.chord_spans:
                entry["chord_tone_fraction"] = round(chord_tone_fraction(piece, self.chord_spans), 4)
            entries.append(entry)
        self.files.extend(entries)
        return entries

    def finish(self, *, model, parameters: dict, ticks_per_beat: int, generation_seconds: float,
               primer_ticks: int = 0, key_token: str | None = None) -> dict:
        """Write ``manifest.json`` (atomically) for the pieces written; see :func:`write_pieces` for the arguments.

        Returns:
            The manifest.
        """
        manifest = {
            "parameters": parameters,
            "model": model_entry(model),
            "primer_ticks": primer_ticks,
            "key_token": key_token,
            "chords": [{"chord": s.chord.name, "start_beat": s.start / ticks_per_beat,
                        "beats": (s.end - s.start) / ticks_per_beat} for s in self.chord_spans],
            "ticks_per_beat": ticks_per_beat,
            "generation_seconds": generation_seconds,
            "files": self.files,
        }
        text = json.dumps(manifest, indent=2, default=float).encode()
        write_atomically(self.out_dir / "manifest.json", lambda handle: handle.write(text))
        return manifest


def output_names(count: int, prefix: str = "variation") -> list[str]:
    """The names :func:`write_pieces` gives ``count`` pieces (``PREFIX_01.mid`` ...), then ``manifest.json``."""
    digits = max(2, len(str(count)))
    return [f"{prefix}_{index:0{digits}d}.mid" for index in range(1, count + 1)] + ["manifest.json"]


def piece_entry(piece: Piece, name: str, length_ticks: int) -> dict:
    """A manifest's entry for one written piece that runs ``length_ticks`` (its bars in the tune's own bar
    length: a pickup counts as the fraction of a bar it is)."""
    estimate = estimate_key(piece)
    pitches = [n.pitch for n in piece.notes]
    return {"file": name, "notes": len(piece.notes), "bars": length_ticks / metre_of(piece).bar_ticks,
            "beats": length_ticks / piece.ticks_per_beat, "seconds": piece.seconds(length_ticks),
            "voices": len(piece.voices), "pitch_range": [min(pitches, default=0), max(pitches, default=0)],
            "estimated_key": estimate.key if estimate else None,
            "in_scale": round(estimate.in_scale, 4) if estimate else None}


def model_entry(model) -> dict:
    """A manifest's ``model``: the file's path, kind, SHA-256 (None without a file), scores and epochs."""
    checkpoint = model.checkpoint
    path = Path(model.path) if model.path else None
    return {"path": str(model.path), "kind": checkpoint.get("kind"),
            "sha256": file_sha256(path) if path is not None and path.is_file() else None,
            "metrics": checkpoint.get("metrics", {}), "epoch": checkpoint.get("epoch")}


def file_sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_chorales_to_folder(model, out_dir: str | os.PathLike, result, bars: int, temperature: float,
                             qpm: float, prefix: str = "variation") -> dict:
    """Write four-part pieces written from nothing, and the manifest, into ``out_dir``.

    Args:
        model: the loaded :class:`composer.harmony.model.HarmonyModel` that wrote them.
        out_dir: the folder (created if missing).
        result: what :func:`composer.harmony.inference.generate_chorale` returned for ``bars`` bars at
            ``temperature`` and ``qpm`` (its pieces, seed, seconds and the key it was asked for).
        bars, temperature, qpm: as asked of ``generate_chorale``.
        prefix: file name prefix.

    Returns:
        The manifest (see the module docstring); ``parameters`` holds count, bars, temperature, key, seed and
        tempo, ``key_token`` the key asked for.
    """
    first = result.pieces[0]
    parameters = {"count": len(result.pieces), "bars": bars, "temperature": temperature, "key": result.key,
                  "seed": result.seed, "tempo": qpm}
    return write_pieces(out_dir, result.pieces, model=model, parameters=parameters,
                        length_ticks=bars * first.ticks_per_bar, ticks_per_beat=first.ticks_per_beat,
                        generation_seconds=result.seconds, prefix=prefix, key_token=result.key)
