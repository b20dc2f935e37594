"""The polyphonic benchmark model: token embedding + frame features -> stacked LSTM -> masked logits.

The softmax is taken over the tokens that can occur next (see :mod:`composer.polyphonic.data`), so the model
is a normalized distribution over piano rolls.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
from torch import nn

from composer.core.config import Settings
from composer.core.modelfile import (POLYPHONIC_KIND, ContentError, check_resume_state, check_state, expected_shapes,
                                     is_number, load_model_file, one_line, settings_from_dict)
from composer.polyphonic.data import (COPY_CONTEXT, COPY_STATES, INPUT_SIZE, MAX_POSITION, NUM_PITCHES, ORDERS,
                                      OUTPUT_SIZE, StepBatch)


@dataclass(frozen=True)
class PolyConfig(Settings):
    """Shape of a :class:`PolyphonicLM` and its encoding. Saved inside every polyphonic model file.

    Attributes:
        order: order of the pitches within a frame (``ascending`` or ``descending``).
        embedding_size: width of the input vector (token embedding plus the feature projections).
        hidden_size: width of each LSTM layer.
        num_layers: stacked LSTM layers.
        dropout: dropout on the input, between layers and before the head.
        beat_period: the frame index modulo this is an input feature (1 turns it off).
        frame_features: feed the previous frame and the pitches emitted so far as multi-hot vectors.
        skip_kernel: width of a translation-equivariant skip from the four feature channels straight to the
            pitch logits (a 1-D convolution over pitch; 0 turns it off).
        relative_head: the skip's kernel is computed from the LSTM output at every step (a linear map of it),
            instead of being one fixed kernel.
        tie_weights: share the pitch rows of the token embedding with the output head.
        copy_features: two more channels, the copy frame (what followed the latest earlier occurrence of the
            longest repeated context, see :func:`copy_sources`) and its pitch of the rank to come while the frame
            so far agrees with it; and an embedding of the matched length and that agreement.
    """

    LABEL = "polyphonic model settings"

    order: str = "ascending"
    embedding_size: int = 128
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.3
    beat_period: int = 4
    frame_features: bool = True
    skip_kernel: int = 25
    relative_head: bool = False
    tie_weights: bool = False
    copy_features: bool = False

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        self.require_at_least_one("embedding_size", "hidden_size", "num_layers", "beat_period")
        if self.skip_kernel < 0 or (self.skip_kernel and self.skip_kernel % 2 == 0):
            raise ValueError(f"skip_kernel must be 0 or odd, got {self.skip_kernel}")
        self.require_dropout()


CHANNELS = 4  # previous frame, emitted so far, previous frame's note of the same rank, last emitted pitch


COPY_CHANNELS = 2  # with copy_features: the copy frame, its note of the rank to come (while the frame agrees)


def num_channels(config: PolyConfig) -> int:
    return CHANNELS + (COPY_CHANNELS if config.copy_features else 0)


def valid_next_mask(inputs: torch.Tensor, order: str) -> torch.Tensor:
    """Which output tokens can follow each input token in an encoding.

    Args:
        inputs: int64 [...] input token ids.
        order: the frame order.

    Returns:
        bool [..., 130]: after a pitch, only pitches further in ``order`` and ``EOF``; after ``BOS``/``EOF`` any
        pitch, ``EOF`` or ``EOP``.
    """
    pitches = torch.arange(NUM_PITCHES, device=inputs.device)
    last = inputs.unsqueeze(-1)                                          # [..., 1]
    is_pitch = last < NUM_PITCHES
    later = pitches > last if order == "ascending" else pitches < last    # [..., 128]
    pitch_ok = torch.where(is_pitch, later, torch.ones_like(later))
    eof_ok = torch.ones_like(last, dtype=torch.bool)
    eop_ok = ~is_pitch
    return torch.cat([pitch_ok, eof_ok, eop_ok], dim=-1)


class PolyphonicLM(nn.Module):
    """Token embedding + frame features -> stacked LSTM -> logits over pitches, ``EOF``, ``EOP``."""

    def __init__(self, config: PolyConfig) -> None:
        super().__init__()
        self.config = config
        size = config.embedding_size
        self.embedding = nn.Embedding(INPUT_SIZE, size)
        self.position = nn.Embedding(MAX_POSITION + 1, size)
        self.beat = nn.Embedding(config.beat_period, size)
        self.channels = channels = num_channels(config)
        self.copy_embedding = nn.Embedding((COPY_CONTEXT + 1) * COPY_STATES, size) if config.copy_features else None
        self.frame_projection = (nn.Linear(channels * NUM_PITCHES, size, bias=False) if config.frame_features
                                 else None)
        self.rnn = nn.LSTM(size, config.hidden_size, config.num_layers, batch_first=True,
                           dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        head_in = config.hidden_size
        self.projection = None
        if config.tie_weights:
            self.projection = nn.Linear(config.hidden_size, size)
            head_in = size
        self.head = nn.Linear(head_in, OUTPUT_SIZE)
        self.skip = self.kernels = None
        if config.skip_kernel and config.relative_head:
            self.kernels = nn.Linear(config.hidden_size, channels * config.skip_kernel)
            nn.init.zeros_(self.kernels.weight)
            nn.init.zeros_(self.kernels.bias)
        elif config.skip_kernel:
            self.skip = nn.Conv1d(channels, 1, config.skip_kernel, padding=config.skip_kernel // 2)
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
        nn.init.normal_(self.embedding.weight, std=0.05)
        hidden = config.hidden_size
        for name, param in self.rnn.named_parameters():
            if name.startswith("bias_ih"):
                with torch.no_grad():
                    param[hidden:2 * hidden].fill_(1.0)  # forget-gate bias 1

    def forward(self, batch: StepBatch, state=None) -> tuple[torch.Tensor, tuple]:
        """Masked next-token logits (``-inf`` where a token cannot follow).

        Returns:
            logits [B, T, 130] and the LSTM state after the last step.
        """
        x = self.embedding(batch.inputs) + self.position(batch.position)             # [B, T, E]
        x = x + self.beat(batch.beat % self.config.beat_period)
        if self.copy_embedding is not None:
            if batch.copy_state is None or batch.channels.shape[2] != self.channels:
                raise ValueError("this model reads copy features: build its batches with step_batch(copy=True)")
            x = x + self.copy_embedding(batch.copy_state)
        b, t = batch.inputs.shape
        if self.frame_projection is not None:
            x = x + self.frame_projection(batch.channels.reshape(b, t, self.channels * NUM_PITCHES))
        out, state = self.rnn(self.drop(x), state)                                   # [B, T, H]
        out = self.drop(out)
        if self.projection is not None:
            logits = self.projection(out) @ self.embedding.weight[:OUTPUT_SIZE].t() + self.head.bias
        else:
            logits = self.head(out)                                                  # [B, T, 130]
        pitch_bias = None
        if self.skip is not None:
            channels = batch.channels.reshape(b * t, self.channels, NUM_PITCHES)     # [BT, C, 128]
            pitch_bias = self.skip(channels).reshape(b, t, NUM_PITCHES)              # [B, T, 128]
        elif self.kernels is not None:
            pitch_bias = self._relative_bias(out, batch.channels)
        if pitch_bias is not None:
            logits = logits + torch.cat([pitch_bias, pitch_bias.new_zeros(b, t, OUTPUT_SIZE - NUM_PITCHES)], -1)
        mask = valid_next_mask(batch.inputs, self.config.order)
        return logits.masked_fill(~mask, float("-inf")), state

    def _relative_bias(self, out: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        """Pitch logits from a per-step kernel over the feature channels (equivariant under transposition).

        Args:
            out: [B, T, H] LSTM output.
            channels: [B, T, C, 128].

        Returns:
            [B, T, 128]: for pitch p, sum over channel c and offset k of kernel[c, k] * channels[c, p + k - K//2].
        """
        b, t, width = out.shape[0], out.shape[1], self.config.skip_kernel
        half, span = width // 2, NUM_PITCHES + width - 1
        kernel = self.kernels(out).reshape(b * t, self.channels, width)                     # [BT, C, K]
        # the channels are sparse: add each active pitch q's kernel around q instead of convolving
        step, flat = channels.reshape(b * t, self.channels * NUM_PITCHES).nonzero(as_tuple=True)  # [A], [A]
        channel, pitch = flat // NUM_PITCHES, flat % NUM_PITCHES
        offsets = torch.arange(width, device=out.device)
        slots = pitch[:, None] - offsets[None, :] + 2 * half                                 # [A, K] in 0..span-1
        index = (step[:, None] * span + slots).flatten()
        bias = out.new_zeros(b * t * span).index_add(0, index, kernel[step, channel].flatten())
        return bias.reshape(b, t, span)[..., half:half + NUM_PITCHES]                        # [B, T, 128]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def token_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """NLL of each target under masked logits; 0 on padding (target -1).

    Args:
        logits: [B, T, 130] from :meth:`PolyphonicLM.forward`.
        targets: int64 [B, T].

    Returns:
        float [B, T] nats.
    """
    log_probs = torch.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return torch.where(targets >= 0, -picked, torch.zeros_like(picked))


@dataclass
class PolyphonicModel:
    """A loaded polyphonic model file: the network (eval mode, CPU) and the file's dict."""

    net: PolyphonicLM
    checkpoint: dict
    path: str = ""


# Generous bounds on a polyphonic model file's declared sizes, checked before anything is built from them (the
# shipped jsb.pt: widths 128-512, 2 layers, a 49-wide kernel); the weights' shapes must then match them exactly.
POLY_LIMITS = {"embedding_size": 1 << 16, "hidden_size": 1 << 16, "num_layers": 64, "beat_period": 1 << 10,
               "skip_kernel": 1 << 10}
MAX_CACHE_LENGTHS = 64   # context lengths of a repeat cache (the shipped ones: 8, from 1 to 16 frames)
MAX_CACHE_CONTEXT = 4096  # frames in one context length


def check_checkpoint(checkpoint: dict) -> PolyConfig:
    """Check a polyphonic model file's dict before anything large is built from it.

    The model settings are type- and range-checked, the network they describe is laid out on the ``meta``
    device (no memory) and every saved tensor must have its shape there; the best weights must be finite; a
    stored repeat cache must be context lengths (whole numbers) and rows of finite weights (its sums are
    checked where it is used, :func:`composer.polyphonic.repeat_cache.cache_of`).

    Raises:
        ContentError: the first problem found (one line).
    """
    config = settings_from_dict(PolyConfig, checkpoint.get("model_config"), POLY_LIMITS)
    shapes = expected_shapes(lambda: PolyphonicLM(config))
    check_state(checkpoint.get("model_state"), shapes)
    check_resume_state(checkpoint, shapes)
    cache = checkpoint.get("repeat_cache")
    if cache is not None:
        lengths = cache.get("lengths") if isinstance(cache, dict) else None
        rows = cache.get("weights") if isinstance(cache, dict) else None
        if (not isinstance(lengths, list) or not 0 < len(lengths) <= MAX_CACHE_LENGTHS
                or not all(type(n) is int and 0 < n <= MAX_CACHE_CONTEXT for n in lengths)
                or not isinstance(rows, list) or len(rows) != len(lengths) + 1
                or not all(isinstance(row, list) and len(row) == i + 1
                           and all(is_number(w) and math.isfinite(w) for w in row) for i, row in enumerate(rows))):
            raise ContentError(f"its repeat_cache is malformed (at most {MAX_CACHE_LENGTHS} context lengths and "
                               f"a row of finite weights per bucket): {one_line(repr(cache), 80)}")
    return config


def from_checkpoint(checkpoint: dict, path: str | os.PathLike) -> PolyphonicModel:
    """The model a polyphonic model file's dict describes, with its best weights, in eval mode.

    Raises:
        ContentError: contents that are malformed or do not fit together (see :func:`check_checkpoint`),
            refused before the network is built.
    """
    net = PolyphonicLM(check_checkpoint(checkpoint))
    net.load_state_dict(checkpoint["model_state"])
    return PolyphonicModel(net.eval(), checkpoint, str(path))


def load_polyphonic_model(path: str | os.PathLike) -> PolyphonicModel:
    """Load a polyphonic model file (best weights, eval mode, CPU).

    Raises:
        ModelFileError: missing, unsafe or corrupt file, another kind of model, or weights that do not fit.
    """
    return load_model_file(path, kinds=(POLYPHONIC_KIND,))
