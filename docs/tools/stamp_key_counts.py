"""Record in a melody model file the keys of the pieces it was trained on (``ModelConfig.key_counts``).

Models trained since session 11 record them as they train. This adds them to a file trained before, reading
the training split again exactly as its training did (the recipe's encoding, split fractions and chord
labels, from the file itself); nothing else in the file changes, and it is rewritten atomically.

    python docs/tools/stamp_key_counts.py midi_data/models/melody.pt midi_data/folk_melodies
    python docs/tools/stamp_key_counts.py midi_data/models/melody_chords.pt midi_data/folk_melodies

Kept as the provenance of the shipped models' ``key_counts`` (session 11).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from composer.core.atomic import write_atomically  # noqa: E402
from composer.melody.corpus import load_corpus  # noqa: E402
from composer.melody.model import ModelConfig, from_checkpoint  # noqa: E402
from composer.melody.train import TrainConfig, key_counts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("data", type=Path, help="the corpus folder the model was trained on")
    args = parser.parse_args()
    checkpoint = torch.load(args.model, map_location="cpu", weights_only=True)
    loaded = from_checkpoint(checkpoint, args.model)                 # checks the file first
    recipe = TrainConfig.from_dict(checkpoint["recipe"]["config"])
    corpus = load_corpus(args.data, loaded.vocab, recipe.valid_fraction, recipe.test_fraction,
                         chord_labels=recipe.chord_labels)
    if corpus.fingerprint != checkpoint["recipe"]["data_fingerprint"]:
        raise SystemExit(f"{args.data} is not the data {args.model} was trained on (fingerprints differ)")
    counts = key_counts(corpus.sequences["train"], loaded.vocab)
    checkpoint["model_config"] = ModelConfig.from_dict({**checkpoint["model_config"], "key_counts": counts}).to_dict()
    from_checkpoint(checkpoint, args.model)                          # the stamped file still loads

    def write(handle) -> None:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        handle.write(buffer.getvalue())

    write_atomically(args.model, write)
    names = [loaded.vocab.names[loaded.vocab.key_offset + k] for k in range(len(counts))]
    top = sorted(zip(counts, names), reverse=True)[:8]
    print(f"{args.model}: {sum(counts)} training pieces; " + ", ".join(f"{n} {c}" for c, n in top))


if __name__ == "__main__":
    main()
