"""Give the bundled folk tunes their ABC sources' metre and pickup (run once, 2026-12-01; kept as provenance).

The MIDI files of ``midi_data/folk_melodies`` were converted without time signatures (every file said 4/4
from tick 0). This reads each tune's source in the music21 corpus (``pip install music21==10.5.1`` in a
separate environment: Composer does not depend on it), checks the tune is the same (its first four
pitches), and rewrites the file with the tune's time signature; a pickup becomes a short opening bar in its
own time signature (``1/8`` then ``6/8``), as notation programs export it. Notes, tempo and track are
unchanged. Usage: ``python docs/tools/folk_metres.py midi_data/folk_melodies`` (with music21 importable
and Composer on the path).
"""
import sys
from pathlib import Path
import music21
from music21 import converter, meter, stream
root = Path(music21.__file__).parent / "corpus"
out = {}
COLLECTIONS = ["airdsAirs", "oneills1850", "ryansMammoth"]
for coll in COLLECTIONS:
    for abc in sorted((root / coll).glob("*.abc")):
        try:
            opus = converter.parse(abc, format="abc", forceSource=True)
        except Exception as e:
            print("fail", abc, e, file=sys.stderr); continue
        scores = list(opus.scores) if isinstance(opus, stream.Opus) else [opus]
        items = []
        for s in scores:
            try:
                ts = s.recurse().getElementsByClass(meter.TimeSignature).first()
                measures = s.parts[0].getElementsByClass(stream.Measure) if s.parts else s.getElementsByClass(stream.Measure)
                first = measures[0] if len(measures) else None
                bar = ts.barDuration.quarterLength if ts else 4.0
                pad = float(first.paddingLeft) if first is not None else 0.0
                firstdur = float(first.duration.quarterLength) if first is not None else 0.0
                pitches = [p.pitch.midi for p in s.stripTies().flatten().notes[:12] if hasattr(p, 'pitch')]
                items.append({"ts": ts.ratioString if ts else None, "bar": float(bar), "pad": pad,
                              "first": firstdur, "pitches": pitches, "number": s.metadata.number if s.metadata else None})
            except Exception as e:
                items.append({"error": str(e)})
        out[f"{coll}/{abc.stem}"] = items
        print(coll, abc.stem, len(items), file=sys.stderr, flush=True)
META = out
import sys, collections
from fractions import Fraction
from pathlib import Path

from composer.music.midi_io import read_midi, write_midi
from composer.music.metre import pickup_signatures, metre_of
from composer.music.notes import TimeSignature
meta = META
root = Path(sys.argv[1]); dry = len(sys.argv) > 2
stats = collections.Counter(); sigs = collections.Counter()
for path in sorted(root.rglob("*.mid")):
    coll = path.parent.name; stem, idx = path.stem.rsplit("_", 1)
    items = meta.get(f"{coll}/{stem}")
    if items is None or int(idx) >= len(items) or "error" in items[int(idx)]:
        stats["no source"] += 1; continue
    item = items[int(idx)]
    piece = read_midi(path)
    pitches = [n.pitch for n in piece.notes[:12]]
    if pitches[:4] != item["pitches"][:4]:
        stats["pitch mismatch"] += 1; continue
    if not item["ts"]:
        stats["no metre"] += 1; continue
    num, den = map(int, item["ts"].split("/"))
    tpb = piece.ticks_per_beat
    sig = TimeSignature(0, num, den)
    bar_q = Fraction(item["bar"]).limit_denominator(96)
    pad = Fraction(item["pad"]).limit_denominator(96)
    pickup_q = bar_q - pad if 0 < pad < bar_q else Fraction(0)
    pickup = pickup_q * tpb
    if pickup.denominator != 1:
        stats["pickup off grid"] += 1; continue
    try:
        signatures = pickup_signatures(sig, int(pickup), tpb)
    except ValueError:
        stats["pickup unwritable"] += 1; continue
    new = piece.replace(time_signatures=signatures)
    m = metre_of(new)
    sigs[(item["ts"], m.phase > 0)] += 1
    stats["ok"] += 1
    if not dry:
        write_midi(new, path)
print(stats); print(sigs.most_common())
