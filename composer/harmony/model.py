"""The harmony model: a bidirectional LSTM reads the given parts, a stacked LSTM writes the missing ones.

One network serves harmonization (soprano given), regeneration of any region (everything outside it
given) and free 4-part generation (nothing given)::

    given [B, T, 4] (MASK where unknown) + bar position
        -> voice-specific embeddings, summed per frame           [B, T, E]
        -> bidirectional LSTM                                     [B, T, 2*Ce]   sees past AND future
    previous frame's tokens [B, T, 4] -> summed embeddings        [B, T, E]
        ++ encoder output -> stacked LSTM decoder                 [B, T, H]      causal over frames
        -> for voice v = S, A, T, B in turn:
           z_v = tanh(W_v h_t + sum_{u<v} F_vu[token_u,t])        [B, T, Z]
           logits_v = z_v U_v + b_v                               [B, T, V]

so each frame's voices are drawn one after another (soprano first, as BachBot), each seeing the voices
already decided in the frame, the whole past through the decoder, and every given note, past and
future, through the encoder.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch
from torch import nn

from composer import shipped
from composer.core.config import Settings
from composer.core.modelfile import (HARMONY_KIND, ContentError, check_resume_state, check_state, expected_shapes,
                                     load_model_file, one_line, settings_from_dict)
from composer.harmony.grid import (MASK, MAX_PITCH, MAX_POSITIONS, MIN_PITCH, NUM_KEYS, NUM_VOICES, UNKNOWN_KEY,
                                   VOCAB_SIZE)


@dataclass(frozen=True)
class HarmonyConfig(Settings):
    """Shape of a :class:`HarmonyNet`; saved in every harmony model file.

    Attributes:
        embedding_size: width of the token and position embeddings.
        encoder_size: width of each direction of the bidirectional encoder.
        encoder_layers: layers of the encoder.
        hidden_size: width of each decoder layer.
        num_layers: decoder layers.
        head_size: width of each voice's output layer.
        dropout: dropout on embeddings, between layers and before the heads.
        num_keys: 0, or NUM_KEYS to tell the encoder the key (major/minor and tonic) at every frame.
    """

    LABEL = "harmony model settings"

    embedding_size: int = 96
    encoder_size: int = 128
    encoder_layers: int = 1
    hidden_size: int = 256
    num_layers: int = 2
    head_size: int = 128
    dropout: float = 0.3
    vocab_size: int = VOCAB_SIZE
    num_voices: int = NUM_VOICES
    num_positions: int = MAX_POSITIONS
    num_keys: int = 0

    def __post_init__(self) -> None:
        self.require_at_least_one("embedding_size", "encoder_size", "encoder_layers", "hidden_size", "num_layers",
                                  "head_size", "vocab_size", "num_voices", "num_positions")
        self.require_dropout()


class HarmonyNet(nn.Module):
    """Encoder over the given parts, causal decoder over frames, one output head per voice."""

    def __init__(self, config: HarmonyConfig) -> None:
        super().__init__()
        self.config = config
        c, voices, vocab = config, config.num_voices, config.vocab_size
        self.given_embedding = nn.Embedding(voices * vocab, c.embedding_size)
        self.position_embedding = nn.Embedding(c.num_positions, c.embedding_size)
        self.key_embedding = nn.Embedding(c.num_keys, c.embedding_size) if c.num_keys else None
        self.encoder = nn.LSTM(c.embedding_size, c.encoder_size, c.encoder_layers, batch_first=True,
                               bidirectional=True, dropout=c.dropout if c.encoder_layers > 1 else 0.0)
        self.previous_embedding = nn.Embedding(voices * vocab, c.embedding_size)
        self.decoder = nn.LSTM(c.embedding_size + 2 * c.encoder_size, c.hidden_size, c.num_layers,
                               batch_first=True, dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.head_in = nn.Linear(c.hidden_size, voices * c.head_size)
        self.within_frame = nn.Embedding(voices * voices * vocab, c.head_size)   # F_vu[token]
        self.head_out = nn.Parameter(torch.randn(voices, c.head_size, vocab) * c.head_size ** -0.5)
        self.head_bias = nn.Parameter(torch.zeros(voices, vocab))
        self.drop = nn.Dropout(c.dropout)
        self.register_buffer("voice_offsets", torch.arange(voices) * vocab, persistent=False)
        # within_frame's F_vu offsets [v, u]; from a list: tensor arithmetic here would go through PyTorch's Python
        # decompositions when a model file is checked on the meta device (importing torch._dynamo, 1-2 s)
        frame_index = torch.tensor([[(v * voices + u) * vocab for u in range(voices)] for v in range(voices)])
        self.register_buffer("frame_index", frame_index, persistent=False)
        nn.init.normal_(self.within_frame.weight, std=0.02)
        for lstm in (self.encoder, self.decoder):       # forget-gate bias 1
            for name, param in lstm.named_parameters():
                if name.startswith("bias_ih"):
                    size = param.shape[0] // 4
                    with torch.no_grad():
                        param[size:2 * size].fill_(1.0)

    # -- pieces of the forward pass, shared by training and sampling -----------------------------------
    def encode(self, given: torch.Tensor, positions: torch.Tensor, lengths: torch.Tensor | None = None,
               keys: torch.Tensor | None = None) -> torch.Tensor:
        """Read the given parts in both directions.

        Args:
            given: int64 [B, T, 4], MASK where a part is to be written.
            positions: int64 [B, T], frame position in the bar.
            lengths: int64 [B] true lengths when rows are padded at the end (None: all full).
            keys: int64 [B] key indices (see satb.key_index); None: unknown. Ignored without num_keys.

        Returns:
            [B, T, 2 * encoder_size]
        """
        x = self.given_embedding(given + self.voice_offsets).sum(2) + self.position_embedding(positions)
        if self.key_embedding is not None:
            if keys is None:
                keys = torch.full(given.shape[:1], UNKNOWN_KEY, dtype=torch.long, device=given.device)
            x = x + self.key_embedding(keys)[:, None, :]
        x = self.drop(x)                                                   # [B, T, E]
        if lengths is not None and bool((lengths < given.shape[1]).any()):
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = self.encoder(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=given.shape[1])
        else:
            out, _ = self.encoder(x)
        return self.drop(out)                                              # [B, T, 2Ce]

    def decoder_input(self, previous: torch.Tensor, encoded: torch.Tensor) -> torch.Tensor:
        """[B, T, E + 2Ce] from the previous frames' tokens [B, T, 4] and the encoder output."""
        x = self.previous_embedding(previous + self.voice_offsets).sum(2)   # [B, T, E]
        return torch.cat([self.drop(x), encoded], dim=-1)

    def head_logits(self, hidden: torch.Tensor, voice: int, decided: torch.Tensor | None,
                    projected: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of ``voice`` given the decoder output and the frame's earlier voices.

        Args:
            hidden: decoder output [..., H].
            voice: 0..3.
            decided: int64 [..., voice] tokens of voices 0..voice-1 in this frame (None when voice is 0).
            projected: ``head_in(hidden)`` [..., 4Z] if already computed (sampling reuses it per voice).

        Returns:
            [..., V]
        """
        c = self.config
        projected = self.head_in(hidden) if projected is None else projected
        z = projected[..., voice * c.head_size:(voice + 1) * c.head_size]               # [..., Z]
        if voice > 0:
            z = z + self.within_frame(decided + self.frame_index[voice, :voice]).sum(-2)
        return torch.tanh(z) @ self.head_out[voice] + self.head_bias[voice]

    def forward(self, given: torch.Tensor, target: torch.Tensor, positions: torch.Tensor,
                lengths: torch.Tensor | None = None, keys: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits for every voice of every frame.

        Args:
            given: int64 [B, T, 4] with MASK where unknown.
            target: int64 [B, T, 4] the true tokens (also fed back as the previous frame).
            positions: int64 [B, T].
            lengths: int64 [B] or None.
            keys: int64 [B] or None (see :meth:`encode`).

        Returns:
            [B, T, 4, V]
        """
        encoded = self.encode(given, positions, lengths, keys)
        previous = torch.cat([torch.full_like(target[:, :1], MASK), target[:, :-1]], dim=1)   # [B, T, 4]
        hidden, _ = self.decoder(self.decoder_input(previous, encoded))                      # [B, T, H]
        hidden = self.drop(hidden)
        logits = [self.head_logits(hidden, v, target[..., :v] if v else None)
                  for v in range(self.config.num_voices)]
        return torch.stack(logits, dim=2)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


DEFAULT_HARMONY_MODEL = shipped.HARMONY_MODEL   # the shipped chorale.pt


@dataclass
class HarmonyModel:
    """A loaded harmony model: the network (eval mode), its sampling limits and its file's contents."""

    net: HarmonyNet
    voice_limits: list[list[int]]     # per voice [lowest, highest] pitch it may write
    checkpoint: dict
    path: str = ""
    shifts: tuple[int, ...] = (0,)    # the key ensemble: transpositions the model reads the music in

    def without_key_ensemble(self) -> HarmonyModel:
        """The same model reading the music only as written (faster, a little less accurate)."""
        return dataclasses.replace(self, shifts=(0,))


# Generous bounds on a harmony model file's declared sizes, checked before anything is built from them (the
# shipped chorale.pt: widths 96-256, 1-2 layers); the weights' shapes must then match them exactly.
HARMONY_LIMITS = {"embedding_size": 1 << 16, "encoder_size": 1 << 16, "encoder_layers": 64, "hidden_size": 1 << 16,
                  "num_layers": 64, "head_size": 1 << 16}


def check_checkpoint(checkpoint: dict) -> HarmonyConfig:
    """Check a harmony model file's dict before anything large is built from it.

    The model settings are type- and range-checked (the grid's vocabulary, voices and bar positions are fixed),
    the network they describe is laid out on the ``meta`` device (no memory) and every saved tensor must have
    its shape there; the best weights must be finite; the voice limits are four pitch ranges on the grid and
    the recipe's transposition (which picks the key ensemble) a pair of whole numbers.

    Raises:
        ContentError: the first problem found (one line).
    """
    config = settings_from_dict(HarmonyConfig, checkpoint.get("model_config"), HARMONY_LIMITS)
    fixed = {"vocab_size": VOCAB_SIZE, "num_voices": NUM_VOICES, "num_positions": MAX_POSITIONS}
    for name, value in fixed.items():
        if getattr(config, name) != value:
            raise ContentError(f"its model settings give {name} {getattr(config, name)}; the 4-part grid has {value}")
    if config.num_keys not in (0, NUM_KEYS):
        raise ContentError(f"its model settings give num_keys {config.num_keys}; 0 or {NUM_KEYS}")
    shapes = expected_shapes(lambda: HarmonyNet(config))
    check_state(checkpoint.get("model_state"), shapes)
    check_resume_state(checkpoint, shapes)
    _voice_limits(checkpoint.get("satb"))
    _transposition(checkpoint["recipe"] if isinstance(checkpoint.get("recipe"), dict) else {})
    return config


def _voice_limits(satb) -> list[list[int]]:
    """The ``satb`` field's voice limits: per voice [lowest, highest], whole numbers within the grid's pitches."""
    limits = satb.get("voice_limits") if isinstance(satb, dict) else None
    if (not isinstance(limits, (list, tuple)) or len(limits) != NUM_VOICES
            or not all(isinstance(pair, (list, tuple)) and len(pair) == 2 and all(type(p) is int for p in pair)
                       and MIN_PITCH <= pair[0] <= pair[1] <= MAX_PITCH for pair in limits)):
        raise ContentError(f"its satb voice_limits are {one_line(repr(limits), 60)}, not {NUM_VOICES} "
                           f"[lowest, highest] pitches within {MIN_PITCH}..{MAX_PITCH}")
    return [list(pair) for pair in limits]


def _transposition(recipe: dict) -> None:
    config = recipe.get("config", {})
    transpose = config.get("transpose", (0, 0)) if isinstance(config, dict) else (0, 0)
    if not (isinstance(transpose, (list, tuple)) and len(transpose) == 2 and all(type(t) is int for t in transpose)):
        raise ContentError(f"its recipe's transpose is {one_line(repr(transpose), 40)}, not a pair of whole numbers "
                           f"of semitones")


def from_checkpoint(checkpoint: dict, path: str | os.PathLike) -> HarmonyModel:
    """The harmony model a model file's dict describes (best weights, eval mode), reading with its key ensemble.

    Raises:
        ContentError: contents that are malformed or do not fit together (see :func:`check_checkpoint`),
            refused before the network is built.
    """
    config = check_checkpoint(checkpoint)
    net = HarmonyNet(config)
    net.load_state_dict(checkpoint["model_state"])
    limits = _voice_limits(checkpoint["satb"])
    return HarmonyModel(net.eval(), limits, checkpoint, str(path), key_shifts(checkpoint))


def load_harmony_model(path: str | os.PathLike | None = None, key_ensemble: bool = True) -> HarmonyModel:
    """Load a harmony model file (default: the shipped ``midi_data/models/chorale.pt``).

    Args:
        path: the model file.
        key_ensemble: write every cell from the model's predictions in several keys, averaged (see
            :func:`key_shifts`); False reads the music only as written.

    Raises:
        ModelFileError: missing, corrupt, unsafe or not a harmony model file.
    """
    model = load_model_file(path if path is not None else DEFAULT_HARMONY_MODEL, kinds=(HARMONY_KIND,))
    return model if key_ensemble else model.without_key_ensemble()



KEY_ENSEMBLE = (-4, 0, 4)   # semitones: the music as written and a major third down and up


def key_shifts(checkpoint: dict) -> tuple[int, ...]:
    """The transpositions of a model's key ensemble: ``KEY_ENSEMBLE``, or only 0 for a model trained
    without transposition (it knows each piece only in its own key).

    A model trained on pieces moved at random into other keys has learnt the same music in many keys,
    and its predictions for a melody differ a little from key to key. Reading the music in several of
    them and averaging the log-probabilities of each cell (moved back to the key as written) is an
    ensemble that costs one batch. Keys next to each other predict nearly the same and add little;
    members a major third apart (as far apart as three can be) did as well as all 12 keys with a quarter
    of the batch rows, also for models trained with only -2..+2 semitones of transposition (whose training
    pieces, in Bach's many keys, still cover every key): see midi_data/models/README.md.
    """
    low, high = (checkpoint.get("recipe") or {}).get("config", {}).get("transpose", (0, 0))
    return KEY_ENSEMBLE if (int(low), int(high)) != (0, 0) else (0,)
