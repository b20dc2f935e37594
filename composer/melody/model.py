"""The stacked recurrent language model over event tokens."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from composer.core.config import Settings
from composer.core.modelfile import (MELODY_KIND, ContentError, check_resume_state, check_state, expected_shapes,
                                     kind_of, load_model_file, settings_from_dict)
from composer.melody.encoding import EncodingConfig, Vocabulary
from composer.melody.form_inputs import FormLayout

CELLS = ("lstm", "gru", "rnn")
KEY_COUNT = 24      # KEY tokens: 12 major keys, then 12 minor (composer.melody.encoding)

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # GRU/RNN: h; LSTM: (h, c), each [L, B, H]


@dataclass(frozen=True)
class ModelConfig(Settings):
    """Shape of a :class:`ComposerLM`. Saved inside every model file.

    Attributes:
        vocab_size: number of token ids.
        embedding_size: width of the token embedding.
        hidden_size: width of each recurrent layer.
        num_layers: number of stacked recurrent layers.
        dropout: dropout on the embedding, between layers and before the output head.
        cell: ``lstm``, ``gru`` or ``rnn`` (tanh).
        tie_weights: share the embedding matrix with the output head (a projection maps the hidden
            state to the embedding width when the two differ).
        condition_size: width of an optional conditioning vector given with every token (e.g. the
            sounding chord, :mod:`composer.music.chords`); it is projected to the embedding width and added
            to the token embedding. 0: no conditioning (model files without this field load as 0).
        form_features: comma-separated form inputs (:mod:`composer.melody.form_inputs`: position in the bar,
            bars remaining, phrase, lookbacks); each token's ids pick rows of one embedding table that are
            added to the token embedding. "": none (model files without this field).
        key_counts: how many training pieces were written in each key, in the order of the vocabulary's KEY
            tokens (12 major, then 12 minor), before any transposition. A piece generated from nothing draws
            its KEY token from these (:class:`composer.melody.sample.Sampler`): trained on every transposition,
            the network itself gives Eb or C# major as often as G or D. (): not recorded (model files without
            this field); the network's own choice is used.
    """

    LABEL = "model settings"

    vocab_size: int
    embedding_size: int = 128
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.2
    cell: str = "lstm"
    tie_weights: bool = False
    condition_size: int = 0
    form_features: str = ""
    key_counts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        FormLayout.parse(self.form_features)   # raises ValueError on an unknown feature
        counts = tuple(self.key_counts) if isinstance(self.key_counts, (list, tuple)) else None
        if counts is None or not all(type(n) is int and 0 <= n < 1 << 40 for n in counts):
            shown = repr(self.key_counts)[:80]
            raise ValueError(f"key_counts must be a list of counts (whole numbers from 0), got {shown}")
        if counts and (len(counts) != KEY_COUNT or not sum(counts)):
            raise ValueError(f"key_counts must give {KEY_COUNT} counts, not all 0 (or none), got {len(counts)}")
        object.__setattr__(self, "key_counts", counts)         # a file's list, kept as the field's tuple
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        self.require_at_least_one("vocab_size", "embedding_size", "hidden_size", "num_layers")
        if self.condition_size < 0:
            raise ValueError(f"condition_size must be 0 (off) or positive, got {self.condition_size}")
        self.require_dropout()


class ComposerLM(nn.Module):
    """Embedding (+ projected condition) -> N stacked recurrent layers -> (projection) -> linear head."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.condition = None
        if config.condition_size:
            self.condition = nn.Linear(config.condition_size, config.embedding_size)
        self.layout = FormLayout.parse(config.form_features)
        self.form = nn.Embedding(self.layout.rows, config.embedding_size) if self.layout else None
        rnn_class = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[config.cell]
        self.rnn = rnn_class(config.embedding_size, config.hidden_size, config.num_layers,
                             dropout=config.dropout if config.num_layers > 1 else 0.0, batch_first=True)
        self.drop = nn.Dropout(config.dropout)
        head_in = config.hidden_size
        self.projection = None
        if config.tie_weights and config.hidden_size != config.embedding_size:
            self.projection = nn.Linear(config.hidden_size, config.embedding_size)
            head_in = config.embedding_size
        self.head = nn.Linear(head_in, config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.embedding.weight, std=0.05)
        if self.form is not None:
            nn.init.normal_(self.form.weight, std=0.02)
        nn.init.zeros_(self.head.bias)
        if self.config.cell == "lstm":  # forget-gate bias 1: remember by default (Jozefowicz et al. 2015)
            hidden = self.config.hidden_size
            for name, param in self.rnn.named_parameters():
                if name.startswith("bias_ih"):
                    with torch.no_grad():
                        param[hidden:2 * hidden].fill_(1.0)
        if self.condition is not None:  # starts as "no effect": an unconditioned model plus a zero input
            nn.init.zeros_(self.condition.weight)
            nn.init.zeros_(self.condition.bias)

    def forward(self, ids: torch.Tensor, state: State | None = None, condition: torch.Tensor | None = None,
                form: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
        """Next-token logits.

        Args:
            ids: int64 [B, T] token ids.
            state: recurrent state from the previous chunk, or None for zeros.
            condition: float [B, T, condition_size], the conditioning vector at each position; required
                when the model has ``condition_size``, refused when it has not.
            form: int64 [B, T, K] form input ids (:func:`composer.melody.form_inputs.sequence_ids`); required
                when the model has ``form_features``, refused when it has not.

        Returns:
            logits [B, T, V] and the state after the last step.

        Raises:
            ValueError: a condition or form input missing, unexpected, or of the wrong width.
        """
        x = self.embedding(ids)                       # [B, T, E]
        if self.condition is not None:
            if condition is None or condition.shape[-1] != self.config.condition_size:
                raise ValueError(f"this model needs a condition vector of width {self.config.condition_size} "
                                 f"at every position")
            x = x + self.condition(condition)         # [B, T, E]
        elif condition is not None:
            raise ValueError("this model was built without conditioning; it takes no condition vectors")
        x = x + self._form_input(form)
        x = self.drop(x)
        out, state = self.rnn(x, state)               # [B, T, H]
        out = self.drop(out)
        if self.projection is not None:
            out = self.projection(out)                # [B, T, E]
        return self.head(out), state                  # [B, T, V]

    def _form_input(self, form: torch.Tensor | None) -> torch.Tensor | float:
        """The sum of the form inputs' embeddings [B, T, E] (0.0 for a model without them)."""
        if self.form is None:
            if form is not None:
                raise ValueError("this model was built without form inputs; it takes none")
            return 0.0
        if form is None or form.shape[-1] != self.layout.width:
            raise ValueError(f"this model needs {self.layout.width} form input ids at every position")
        return self.form(form).sum(-2)                # [B, T, K, E] -> [B, T, E]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def detach_state(state: State | None) -> State | None:
    """Cut the graph between training chunks (truncated backpropagation through time)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


@dataclass
class MelodyModel:
    """A loaded melody model file: the network (eval mode, CPU), its vocabulary and the file's dict."""

    net: ComposerLM
    vocab: Vocabulary
    checkpoint: dict
    path: str = ""


# Generous bounds on a model file's declared sizes, checked before anything is built from them (the shipped
# models: vocabulary 184, widths 128-256, 2 layers); the weights' shapes must then match them exactly.
MODEL_LIMITS = {"vocab_size": 1 << 16, "embedding_size": 1 << 16, "hidden_size": 1 << 16, "num_layers": 64,
                "condition_size": 1 << 16}


def check_checkpoint(checkpoint: dict, weights: str = "model_state") -> tuple[ModelConfig, Vocabulary]:
    """Check a melody model file's dict before anything large is built from it.

    The vocabulary's settings and the model settings are type- and range-checked, the network they describe is
    laid out on the ``meta`` device (no memory), and every saved tensor must have its shape there; the weights
    to be used must be finite.

    Args:
        checkpoint: the file's dict.
        weights: the weights that will be loaded (``model_state`` or ``resume``): these must be finite.

    Returns:
        The model settings and the vocabulary.

    Raises:
        ContentError: the first problem found (one line).
    """
    vocabulary = checkpoint.get("vocabulary")
    if not isinstance(vocabulary, dict):
        raise ContentError(f"its vocabulary is {kind_of(vocabulary)}, not a dict")
    settings_from_dict(EncodingConfig, vocabulary.get("config"), {})   # types first, then the encoding's ranges
    try:
        vocab = Vocabulary.from_dict(vocabulary)
    except (ValueError, TypeError, KeyError) as error:
        raise ContentError(f"its vocabulary: {error}") from None
    config = settings_from_dict(ModelConfig, checkpoint.get("model_config"), MODEL_LIMITS)
    if config.vocab_size != len(vocab):
        raise ContentError(f"inconsistent contents: its model settings give vocab_size {config.vocab_size:,} but "
                           f"its vocabulary has {len(vocab):,} tokens")
    if config.key_counts and not vocab.config.key_tokens:
        raise ContentError("inconsistent contents: its model settings give key_counts but its vocabulary has no "
                           "KEY tokens")
    shapes = expected_shapes(lambda: ComposerLM(config))
    check_state(checkpoint.get("model_state"), shapes, finite=weights != "resume")
    check_resume_state(checkpoint, shapes)
    if weights == "resume":
        if not isinstance(checkpoint.get("resume"), dict):
            raise ContentError("it holds no resume state (it was stripped for shipping)")
        check_state(checkpoint["resume"].get("model_state"), shapes, "resume state's model_state")
    return config, vocab


def from_checkpoint(checkpoint: dict, path: str | os.PathLike = "", weights: str = "model_state") -> MelodyModel:
    """The model and vocabulary a melody model file's dict describes, with its weights loaded, in eval mode.

    Args:
        checkpoint: the file's dict (see :mod:`composer.core.modelfile`).
        path: where it was read from (reported in manifests and messages).
        weights: ``model_state`` (best) or ``resume`` (last epoch, for resuming training).

    Raises:
        ContentError: contents that are malformed or do not fit together (see :func:`check_checkpoint`),
            refused before the network is built.
    """
    config, vocab = check_checkpoint(checkpoint, weights)
    net = ComposerLM(config)
    net.load_state_dict(checkpoint["resume"]["model_state"] if weights == "resume" else checkpoint["model_state"])
    return MelodyModel(net.eval(), vocab, checkpoint, str(path))


def load_melody_model(path: str | os.PathLike) -> MelodyModel:
    """Load a melody model file for generation.

    Raises:
        ModelFileError: missing, unsafe, corrupt or another kind of model file; weights that do not fit.
    """
    return load_model_file(path, kinds=(MELODY_KIND,))
