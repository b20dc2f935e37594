"""Sampling token sequences from a trained model, batched across variations.

The recurrent state is carried one step at a time (the prefix is read once by the module, never re-run).
Each step goes through :class:`Stepper`, which steps a numpy copy of the network
(:mod:`composer.core.array_step`) instead of the ``nn.LSTM`` module, because at batch sizes of 1..16 the
per-call cost of the library is most of a step; the step's masks, lookbacks and draw are numpy too. For an
LSTM the first layer's input side (embedding times input weights, plus biases) is a table computed once per
model, so a step looks up a row there instead of multiplying. Tokens are drawn with the Gumbel-max trick
(:class:`composer.core.sampling.GumbelNoise`, its noise made for many steps at once), two elementwise
operations instead of ``torch.multinomial``.

A chord-conditioned model (``ModelConfig.condition_size``) gets a condition vector with every step:
the caller gives one per grid tick, and each row reads the one at its own time cursor. Their
contributions (the condition projection, and for an LSTM its first layer's input weights) are computed
once per tick before sampling, so a step costs one extra row lookup and addition.

Every step is constrained by masks: the encoding's grammar (so every sample decodes in full), the key's
scale if one is given, and EOS until the requested length is reached. A piece started from nothing draws its
KEY token from the training pieces' keys (``ModelConfig.key_counts``) where the model file records them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from composer.core.array_step import ArrayStack, select_rows
from composer.core.lstm_step import one_thread
from composer.core.sampling import GumbelNoise
from composer.melody.encoding import BOS, EOS, PAD, Vocabulary
from composer.melody.form_plan import FormPlan
from composer.melody.form_steps import FormSteps
from composer.melody.model import ComposerLM
from composer.music.keys import scale_mask
from composer.music.metre import Metre

NEG_INF = float("-inf")
DIVERSITY_PENALTY = 2.0   # nats per earlier beam group taking the same token at the same step (beam search)


def _one_thread(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with one_thread():
            return method(*args, **kwargs)
    return wrapper


class Stepper:
    """One recurrent step of a :class:`ComposerLM` for a batch, in numpy.

    The recurrent stack is stepped by :class:`composer.core.array_step.ArrayStack` (why numpy: see there);
    this class adds the embedding, the condition and the output head, copied from the model at construction.
    State is a list with one entry per layer: ``(h, c)`` for LSTM, ``h`` for GRU and RNN, each float32 [B, H].
    """

    def __init__(self, model: ComposerLM) -> None:
        config = model.config
        self.config = config
        self.embedding = _array(model.embedding.weight)                  # [V, E]
        self.stack = ArrayStack(model.rnn)
        self.projection = _transposed(model.projection)                  # [H, E], [E] (tied head) or None
        self.head = _transposed(model.head)                              # [H, V], [V]
        self.condition = _transposed(model.condition)                    # [C, E], [E] or None
        # LSTM: the first layer's input gates of every token, computed once: embedding . W_ih + biases
        self.first_gates = None
        if config.cell == "lstm":
            self.first_gates = self.stack.input_gates(self.embedding)   # [V, 4H]

    def condition_inputs(self, vectors) -> np.ndarray:
        """What each condition vector adds to a step, to pass as ``extra``: float [N, C] (array or tensor) ->
        [N, 4H] for an LSTM (its share of the first layer's gates), [N, E] for other cells.

        Raises:
            ValueError: the model takes no condition, or the vectors have the wrong width.
        """
        if self.condition is None:
            raise ValueError("this model was trained without conditioning (chords); it takes no condition")
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.config.condition_size:
            raise ValueError(f"condition vectors must be [N, {self.config.condition_size}], "
                             f"got {list(vectors.shape)}")
        weight_t, bias = self.condition
        return self.input_side(vectors @ weight_t + bias)                # [N, 4H or E]

    def input_side(self, inputs) -> np.ndarray:
        """What embedding-width inputs [N, E] (array or tensor) add to a step, to pass as ``extra``: [N, 4H] for
        an LSTM (its share of the first layer's gates), the inputs themselves for other cells."""
        if self.first_gates is not None:
            return self.stack.input_gates(inputs, bias=False)
        return np.asarray(inputs, dtype=np.float32)

    def initial_state(self, batch: int) -> list:
        return self.stack.zeros(batch)

    def from_module_state(self, state) -> list:
        """Convert ``nn.LSTM``-style state ([L, B, H] tensors) to this class's per-layer list."""
        return self.stack.from_module(state)

    def __call__(self, tokens, state: list, extra: np.ndarray | None = None) -> tuple[torch.Tensor, list]:
        """Logits of the next token, as a tensor (for beam search, which ranks in PyTorch).

        Args:
            tokens: int [B] (array or tensor), the current token of each row.
            state: per-layer state (see the class docstring).
            extra: rows of :meth:`condition_inputs` ([B, 4H] or [B, E]), or None.

        Returns:
            logits [B, V] (a tensor sharing the step's memory) and the new state.
        """
        rows = self.token_rows[np.asarray(tokens, dtype=np.int64)]       # [B, 4H or E]
        logits, state = self.step_from(rows if extra is None else rows + np.asarray(extra), state)
        return torch.from_numpy(logits), state

    @property
    def token_rows(self) -> np.ndarray:
        """[V, 4H or E]: what each token adds to a step's first-layer input side (an LSTM's input gates,
        biases included; another cell's embedding)."""
        return self.first_gates if self.first_gates is not None else self.embedding

    def step_from(self, inputs: np.ndarray, state: list) -> tuple[np.ndarray, list]:
        """Logits float32 [B, V] and the new state from a step's whole first-layer input side [B, 4H or E] (a
        token's row of :attr:`token_rows` plus what :meth:`input_side` gives for the extras)."""
        if self.first_gates is not None:   # LSTM: the first layer's input gates are given
            x, new_state = self.stack(None, state, inputs)               # [B, H]
        else:
            x, new_state = self.stack(inputs, state)                     # [B, H]
        if self.projection is not None:
            x = x @ self.projection[0] + self.projection[1]
        logits = x @ self.head[0]                                        # [B, V]
        logits += self.head[1]
        return logits, new_state

    select = staticmethod(select_rows)   # the state of the given batch rows (beam search, batch expansion)


def _array(tensor: torch.Tensor) -> np.ndarray:
    """A float32 numpy copy of a parameter."""
    return tensor.detach().float().numpy().copy()


def _transposed(linear: torch.nn.Linear | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A linear layer as (W^T [In, Out], b [Out]) float32 copies, for ``x @ W^T + b``; None for None."""
    if linear is None:
        return None
    return _array(linear.weight).T.copy(), _array(linear.bias)


@dataclass(frozen=True)
class SamplingOptions:
    """How to pick each token.

    Attributes:
        temperature: divides the logits; below 1 is safer, above 1 wilder.
        top_k: keep only the k likeliest tokens (0: off).
        top_p: keep the smallest set of tokens whose probability reaches p (1.0: off).
        key: restrict pitches to this key's scale (None: any pitch).
        seed: random seed; the same seed, model and request give the same output.
        cadence: end every row on the tonic (of ``key``, else of the row's KEY token; see
            :mod:`composer.melody.cadence`).
        key_guide: without ``key``, keep each row in the mode of its KEY token (see :mod:`composer.melody.mode`).
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    key: str | None = None
    seed: int = 0
    cadence: bool = False
    key_guide: bool = False

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be 0 (off) or positive, got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


class Sampler:
    """Draws continuations of a token prompt from a model."""

    @_one_thread                    # its tables are a few small matrix products: threads only cost here
    def __init__(self, model: ComposerLM, vocab: Vocabulary) -> None:
        if model.config.vocab_size != len(vocab):
            raise ValueError(f"model has {model.config.vocab_size} outputs, vocabulary {len(vocab)} tokens")
        self.model = model.eval()
        self.vocab = vocab
        self.stepper = Stepper(model)
        grammar = torch.from_numpy(vocab.grammar_mask())
        self.grammar_bias = torch.zeros(grammar.shape).masked_fill_(~grammar, NEG_INF)   # [V, V]
        self.shift_steps = torch.from_numpy(vocab.shift_steps)                          # [V]
        self.key_prior = key_log_prior(model.config.key_counts, vocab)                  # [24] or None

    def choose_key_as_the_corpus(self, logits: np.ndarray, last: np.ndarray) -> None:
        """Give (in place) rows about to write their KEY token (their last token is BOS) the training pieces' key
        distribution instead of the network's, which transposition in training spread over all keys.

        Args:
            logits: float32 [B, V], masks added (a token the masks forbid stays forbidden).
            last: int [B] each row's last token.
        """
        rows = np.flatnonzero(np.asarray(last) == BOS)
        if self.key_prior is None or not len(rows):
            return
        keys = slice(self.vocab.key_offset, self.vocab.shift_offset)
        chosen = logits[rows, keys]                                                     # [R, 24]
        logits[rows, keys] = np.where(chosen == NEG_INF, NEG_INF, self.key_prior)

    def key_bias(self, key: str | None) -> torch.Tensor:
        """[V] additive mask: -inf on pitches outside the key's scale."""
        bias = torch.zeros(len(self.vocab))
        if key:
            allowed = scale_mask(key)
            for token in self.vocab.pitch_ids:
                pitch = token - self.vocab.pitch_offset + self.vocab.config.min_pitch
                if not allowed[pitch]:
                    bias[token] = NEG_INF
        return bias

    def check_condition(self, condition: torch.Tensor | None) -> None:
        """Refuse a condition the model cannot take, or a missing one it needs.

        Raises:
            ValueError: naming the mismatch.
        """
        size = self.model.config.condition_size
        if condition is None and size:
            raise ValueError("this model is chord-conditioned: give a condition (chords) for every tick")
        if condition is not None and not size:
            raise ValueError("this model was trained without chord conditioning; it cannot follow chords "
                             "(use a chord model such as midi_data/models/melody_chords.pt)")
        if condition is not None and (condition.dim() != 2 or condition.size(1) != size or len(condition) == 0):
            raise ValueError(f"condition must be [ticks, {size}], got {list(condition.shape)}")

    @torch.no_grad()
    def prime(self, prompt: np.ndarray, batch: int, condition: torch.Tensor | None = None,
              form: FormSteps | None = None) -> tuple[list, torch.Tensor, int]:
        """Read the prompt once; return (state for ``batch`` rows, last token [batch], cursor ticks).

        Args:
            condition: float [ticks, C] per-tick condition vectors, for a conditioned model.
            form: the form inputs of a model that reads them.
        """
        prompt = np.asarray(prompt, dtype=np.int64)
        if len(prompt) == 0 or prompt[0] != BOS:
            raise ValueError("a prompt must start with BOS")
        if EOS in prompt:
            raise ValueError("a prompt must not contain EOS")
        state = self.stepper.initial_state(1)
        if len(prompt) > 1:
            prompt_condition = None
            if condition is not None:  # each token gets the condition at the cursor after it
                cursors = np.cumsum(self.vocab.shift_steps[prompt[:-1]]).clip(max=len(condition) - 1)
                prompt_condition = condition[torch.from_numpy(cursors)].unsqueeze(0)  # [1, T-1, C]
            prompt_form = form.prompt_form(prompt) if form is not None else None
            _, module_state = self.model(torch.from_numpy(prompt[None, :-1]), condition=prompt_condition,
                                         form=prompt_form)
            state = self.stepper.from_module_state(module_state)
        rows = torch.zeros(batch, dtype=torch.long)
        state = Stepper.select(state, rows)
        last = torch.full((batch,), int(prompt[-1]), dtype=torch.long)
        cursor = int(self.vocab.shift_steps[prompt].sum())
        return state, last, cursor

    @_one_thread
    @torch.no_grad()
    def sample(self, prompt: np.ndarray, count: int, until_tick: int, options: SamplingOptions,
               max_steps: int | None = None, on_step: Callable[[int, torch.Tensor], bool] | None = None,
               condition: torch.Tensor | None = None, metre: Metre | None = None,
               plan: FormPlan | None = None) -> list[np.ndarray]:
        """Sample ``count`` continuations of ``prompt`` until each reaches ``until_tick``.

        A row is finished when its time cursor reaches ``until_tick`` or it emits EOS, which is only allowed
        once the cursor is there. No note is held past ``until_tick`` (nor past a section boundary of
        ``plan``), so every row ends exactly there.

        Args:
            prompt: token ids starting with BOS (just ``[BOS]`` to start from nothing).
            count: rows sampled in one batch.
            until_tick: grid tick every row must reach.
            options: temperature, top-k, top-p, key and seed.
            max_steps: safety cap on steps (default: generous for the length asked).
            on_step: called after each step with (step, tokens [count]); returning True cancels.
            condition: float [ticks, C], the condition vector at each grid tick (ticks past the end use
                the last row); required by a conditioned model, refused by others.
            metre: the bar lines (default 4/4 from tick 0), read by a model with form inputs and by ``plan``.
            plan: sections to keep and repeat (:class:`composer.melody.form_plan.FormPlan`, ending at
                ``until_tick``); None: through-composed.

        Returns:
            One int64 array per row: the prompt followed by that row's tokens (no EOS, no padding).

        Raises:
            ValueError: a bad prompt, a condition that does not fit the model, or a plan that ends elsewhere.
        """
        self.check_condition(condition)
        noise = GumbelNoise(torch.Generator().manual_seed(options.seed), (count, len(self.vocab)))
        max_steps = self._step_cap(prompt, until_tick, max_steps)
        form = self.form_steps(prompt, count, until_tick, metre, plan, options.cadence, options.key, max_steps,
                               options.key_guide)
        state, last, cursor = self.prime(prompt, count, condition, form)
        lookups = _StepLookups(self.stepper.token_rows, self.tick_inputs(condition, form), form,
                               self.grammar_bias + self.key_bias(options.key))
        cursor = np.full(count, cursor, dtype=np.int64)                                # [B], all numpy
        last = last.numpy().copy()                                                      # [B]
        done = cursor >= until_tick
        outputs = []
        for step in range(max_steps):
            if done.all():
                break
            logits, state = self.stepper.step_from(lookups.inputs(last, cursor, form), state)  # [B, V]
            logits += lookups.bias(last, cursor, form)
            if step == 0:
                self.choose_key_as_the_corpus(logits, last)
            form.restrict_rows(logits, cursor)
            token = form.replay(self._draw(logits, options, noise), cursor)         # [B]: drawn, or a copy
            token = np.where(done, PAD, token)
            form.record(token, cursor)
            cursor = cursor + self.vocab.shift_steps[token]
            done = done | (token == EOS) | (cursor >= until_tick)
            outputs.append(token)
            last = np.where(token == PAD, last, token)
            if on_step is not None and on_step(step, torch.from_numpy(token)):
                break
        generated = np.stack(outputs, 1) if outputs else np.zeros((count, 0), dtype=np.int64)
        return _after_prompt(prompt, list(generated))

    def _logits(self, last: torch.Tensor, state: list, cursor: np.ndarray, inputs: np.ndarray | None,
                form: FormSteps) -> tuple[torch.Tensor, list]:
        """One step for every row: logits [R, V] and the new state, with the per-tick inputs (chords, form)
        at each row's cursor (int [R]) and the lookbacks added; a row about to write its KEY token gets the
        training pieces' keys (:meth:`choose_key_as_the_corpus`)."""
        cursor = np.asarray(cursor, dtype=np.int64)
        extra = None if inputs is None else inputs[np.minimum(cursor, len(inputs) - 1)]   # [R, 4H or E]
        logits, state = self.stepper(last, state, _plus(extra, form.lookback_extra(cursor)))
        self.choose_key_as_the_corpus(logits.numpy(), np.asarray(last))   # rows starting from nothing
        return logits, state

    def _step_cap(self, prompt: np.ndarray, until_tick: int, max_steps: int | None) -> int:
        """The most steps a request may take (default: generous for the length asked)."""
        if max_steps is not None:
            return max_steps
        return 64 + 8 * max(0, until_tick - int(self.vocab.shift_steps[np.asarray(prompt, dtype=np.int64)].sum()))

    def form_steps(self, prompt: np.ndarray, rows: int, until_tick: int, metre: Metre | None,
                   plan: FormPlan | None, cadence: bool = False, key: str | None = None,
                   max_steps: int | None = None, key_guide: bool = False) -> FormSteps:
        """The per-step form work of a request (see :mod:`composer.melody.form_steps`); with ``max_steps``
        its tables stop at the furthest tick that many steps can reach.

        Raises:
            ValueError: a plan that does not end at ``until_tick``.
        """
        if plan is not None and plan.end != until_tick:
            raise ValueError(f"the form plan ends at tick {plan.end}, the request at {until_tick}")
        beat = self.vocab.config.ticks_per_beat
        prompt = np.asarray(prompt, dtype=np.int64)
        horizon = None
        if max_steps is not None:
            farthest = int(self.vocab.shift_steps.max()) if len(self.vocab.shift_steps) else 0
            horizon = int(self.vocab.shift_steps[prompt].sum()) + max_steps * max(1, farthest)
        return FormSteps(self.model, self.stepper.input_side, self.vocab, prompt, rows,
                         metre or Metre(4 * beat, beat), plan, until_tick, cadence, key, horizon, key_guide)

    def tick_inputs(self, condition: torch.Tensor | None, form: FormSteps) -> np.ndarray | None:
        """float32 [ticks, 4H or E]: what the chords and the per-tick form inputs add to a step at each tick."""
        chords = self.stepper.condition_inputs(condition) if condition is not None else None
        per_tick = form.tick_table
        if chords is None or per_tick is None:
            return chords if per_tick is None else per_tick
        ticks = np.arange(max(len(chords), len(per_tick)))
        return chords[np.minimum(ticks, len(chords) - 1)] + per_tick[np.minimum(ticks, len(per_tick) - 1)]

    @staticmethod
    def _draw(logits: np.ndarray, options: SamplingOptions, noise: GumbelNoise) -> np.ndarray:
        """One token per row from masked logits float32 [B, V] (-inf: never), drawn from their softmax by the
        Gumbel-max trick: int64 [B]."""
        if not options.top_k and options.top_p == 1.0:                   # the default: no tail to cut
            if options.temperature != 1.0:
                logits = logits / np.float32(options.temperature)
            return (logits - noise.next_array()).argmax(-1)
        logits = torch.from_numpy(logits) / options.temperature
        if options.top_k:
            kth = torch.topk(logits, min(options.top_k, logits.size(-1)), dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, NEG_INF)
        if options.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
            cumulative = torch.softmax(sorted_logits, -1).cumsum(-1)
            drop = cumulative - torch.softmax(sorted_logits, -1) >= options.top_p  # keep the first past p
            sorted_logits = sorted_logits.masked_fill(drop, NEG_INF)
            logits = torch.full_like(logits, NEG_INF).scatter(-1, order, sorted_logits)
        return (logits - noise.next()).argmax(-1).numpy()

    @_one_thread
    @torch.no_grad()
    def beam_search(self, prompt: np.ndarray, width: int, until_tick: int, key: str | None = None,
                    count: int = 1, max_steps: int | None = None, condition: torch.Tensor | None = None,
                    diversity: float = DIVERSITY_PENALTY, metre: Metre | None = None,
                    cadence: bool = False, key_guide: bool = False) -> list[np.ndarray]:
        """``count`` likely and different continuations, by diverse beam search (Vijayakumar et al. 2018).

        The beams form ``count`` groups of ``width`` beams each, searched side by side; each returns its best
        beam. At every step the groups choose in turn, and a group's candidates pay ``diversity`` nats for each
        earlier group that chose the same token at that step, so the groups take different notes and
        rhythms instead of ``count`` copies of one line. Beams are ranked by log-probability per
        note (the total after the prompt over the notes so far), so many short notes and few long ones
        filling the same time compete fairly; the penalty only steers the choice. Deterministic.

        Args:
            width: beams per group.
            count: groups, one returned beam each.
            condition: per-tick condition vectors, as for :meth:`sample`.
            metre, cadence, key_guide: the bar lines, the closing tonic and the mode, as for :meth:`sample` (no
                form plan here).
            diversity: nats a candidate pays for every earlier group that took its token at this step
                (0: ``count`` independent copies of one beam search).

        Returns:
            Up to ``count`` arrays (prompt + tokens), best first by log-probability per note.
        """
        self.check_condition(condition)
        width, groups = max(1, width), max(1, count)
        max_steps = self._step_cap(prompt, until_tick, max_steps)
        form = self.form_steps(prompt, groups, until_tick, metre, None, cadence, key, max_steps, key_guide)
        state, last, start_cursor = self.prime(prompt, groups, condition, form)
        inputs = self.tick_inputs(condition, form)                                      # [ticks, 4H or E]
        group = torch.arange(groups)                                         # [R]: each row's group
        cursor = torch.full((groups,), start_cursor, dtype=torch.long)
        scores = torch.zeros(groups)                                         # log-probability after the prompt
        notes = torch.zeros(groups)
        histories: list[list[int]] = [[] for _ in range(groups)]
        done = cursor >= until_tick
        fixed_bias = self.key_bias(key)
        is_pitch, finished_row = _beam_tables(self.vocab)
        for _ in range(max_steps):
            if bool(done.all()):
                break
            logits, state = self._logits(last, state, cursor.numpy(), inputs, form)
            logp = torch.log_softmax(logits + self._beam_bias(last, cursor, until_tick, fixed_bias, form), -1)
            logp = torch.where(done.unsqueeze(1), finished_row, logp)
            total = scores.unsqueeze(1) + logp                               # [R, V]
            new_notes = notes.unsqueeze(1) + is_pitch * (~done).float().unsqueeze(1)
            rows, tokens = _choose_in_groups(total, new_notes, group, done, groups, width, diversity)
            scores, notes = total[rows, tokens], new_notes[rows, tokens]
            group = group.index_select(0, rows)
            state = Stepper.select(state, rows)
            form.select(rows.numpy())
            form.record(tokens.numpy(), cursor.index_select(0, rows).numpy())
            histories = [histories[r] + [t] for r, t in zip(rows.tolist(), tokens.tolist())]
            was_done = done.index_select(0, rows)
            cursor = cursor.index_select(0, rows) + self.shift_steps[tokens]
            done = was_done | (tokens == EOS) | (cursor >= until_tick)
            last = torch.where(tokens == PAD, last.index_select(0, rows), tokens)
        order = _best_of_each_group(scores / notes.clamp(min=1), group, groups)[:count]
        return _after_prompt(prompt, [np.array(histories[i], dtype=np.int64) for i in order])

    def _beam_bias(self, last: torch.Tensor, cursor: torch.Tensor, until_tick: int, fixed_bias: torch.Tensor,
                   form: FormSteps) -> torch.Tensor:
        """[R, V] additive masks of a beam step: the grammar after each row's last token, the key, no EOS before
        the end, and the form's boundaries and rhythm grid."""
        bias = self.grammar_bias.index_select(0, last) + fixed_bias
        bias[:, EOS] = torch.where(cursor < until_tick, NEG_INF, bias[:, EOS])
        form.restrict(bias, cursor.numpy())
        return bias


class _StepLookups:
    """A sampling step's two table lookups, for every row at once.

    * The first layer's input side: each row's token row (:attr:`Stepper.token_rows`), the per-tick inputs at
      its cursor (chords, form) and the form's lookback and key rows, summed.
    * The logits' additive biases: the grammar after the row's last token and the key's scale, and the form's
      per-tick limits (the rhythm grid, EOS before the end, the boundaries) and mode
      (:meth:`FormSteps.bias_tables`), summed; -inf wherever one of them forbids the token.

    Args:
        token_rows: [V, G] each token's row.
        tick_inputs: [ticks, G] the per-tick inputs, or None.
        form: the request's form steps (its lookback table and bias tables).
        step_bias: [V, V] the grammar after each token plus the key's scale.
    """

    def __init__(self, token_rows: np.ndarray, tick_inputs: np.ndarray | None, form: FormSteps,
                 step_bias: torch.Tensor) -> None:
        self.vocab_size = len(token_rows)
        self.ticks = 0 if tick_inputs is None else len(tick_inputs)
        self.lookback_offset = self.vocab_size + self.ticks
        inputs = [token_rows, *([tick_inputs] if tick_inputs is not None else []),
                  *([form.lookback_table] if form.lookback_table is not None else [])]
        self.input_table = _table(inputs)                                               # [V + ticks + F, G]
        biases = [step_bias, *form.bias_tables()]
        self.bias_offsets = np.cumsum([0] + [len(table) for table in biases[:-1]])      # [tables]
        self.bias_table = _table(biases)                                                # [rows, V]

    def inputs(self, last: np.ndarray, cursor: np.ndarray, form: FormSteps) -> np.ndarray:
        """[B, G]: the first layer's input side of each row (last token int [B], cursor int [B])."""
        columns = [last[:, None]]
        if self.ticks:
            columns.append(self.vocab_size + np.minimum(cursor, self.ticks - 1)[:, None])
        lookback = form.lookback_ids(cursor)
        if lookback is not None:
            columns.append(lookback + self.lookback_offset)
        ids = columns[0] if len(columns) == 1 else np.concatenate(columns, 1)
        return _sum_rows(self.input_table, ids)

    def bias(self, last: np.ndarray, cursor: np.ndarray, form: FormSteps) -> np.ndarray:
        """[B, V]: what to add to each row's logits."""
        ids = np.array([last, *form.bias_ids(cursor)]).T + self.bias_offsets           # [B, tables]
        return _sum_rows(self.bias_table, ids)


def _table(parts: list) -> np.ndarray:
    """float32 [N, W]: the parts' rows (arrays or tensors) one after another."""
    arrays = [np.asarray(part, dtype=np.float32) for part in parts]
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _sum_rows(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """float32 [B, W]: per row of ``ids`` (int [B, K]), the sum of those rows of ``table`` [N, W] (the ufunc's
    reduce itself: ``.sum`` adds a third at a step's sizes)."""
    return np.add.reduce(table[ids], 1)


def key_log_prior(counts: tuple[int, ...], vocab: Vocabulary) -> np.ndarray | None:
    """float32 [24]: log-probabilities of the KEY tokens in the proportions of the training pieces' counts; -inf
    for a key no training piece was in (a network trained without transposition has never read that token: it
    is there for ``--key``, not to be drawn). None without counts or KEY tokens."""
    if not counts or not vocab.config.key_tokens:
        return None
    counts = np.asarray(counts, dtype=np.float64)
    log_prior = np.full(len(counts), -np.inf)
    seen = counts > 0
    log_prior[seen] = np.log(counts[seen] / counts.sum())
    return log_prior.astype(np.float32)


def _after_prompt(prompt: np.ndarray, rows: list[np.ndarray]) -> list[np.ndarray]:
    """Each row's tokens (PAD and EOS left out) after the prompt, as int64 arrays."""
    prompt = np.asarray(prompt, dtype=np.int64)
    return [np.concatenate([prompt, row[(row != PAD) & (row != EOS)]]).astype(np.int64) for row in rows]


def _plus(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    """a + b where both are given, else whichever is."""
    if a is None or b is None:
        return b if a is None else a
    return a + b


def _choose_in_groups(total: torch.Tensor, new_notes: torch.Tensor, group: torch.Tensor, done: torch.Tensor,
                      groups: int, width: int, diversity: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of diverse beam search: each group in turn keeps its ``width`` best (row, token) candidates.

    Args:
        total: [R, V] log-probability of each row extended by each token.
        new_notes: [R, V] notes of each extension (the per-note ranking divides by it).
        group: [R] each row's group; done: [R] rows already finished (they pay no penalty).
        diversity: nats a candidate pays for every earlier group that took its token at this step.

    Returns:
        (rows, tokens), each [groups * width] at most, group by group.
    """
    vocab_size = total.size(1)
    taken = torch.zeros(vocab_size)                                  # earlier groups' tokens this step
    chosen_rows, chosen_tokens = [], []
    for g in range(groups):
        members = torch.nonzero(group == g).flatten()
        penalty = (diversity * taken).unsqueeze(0).expand(len(members), -1)
        penalty = torch.where(done.index_select(0, members).unsqueeze(1), 0.0, penalty)
        rank = ((total.index_select(0, members) - penalty)
                / new_notes.index_select(0, members).clamp(min=1)).reshape(-1)
        best = torch.topk(rank, min(width, int(torch.isfinite(rank).sum())))[1]
        rows, tokens = members[best // vocab_size], best % vocab_size
        chosen_rows.append(rows)
        chosen_tokens.append(tokens)
        live = tokens[~done.index_select(0, rows)]
        taken.index_add_(0, live, torch.ones(len(live)))
    return torch.cat(chosen_rows), torch.cat(chosen_tokens)


def _best_of_each_group(per_note: torch.Tensor, group: torch.Tensor, groups: int) -> list[int]:
    """The row of each group with the best log-probability per note, best first."""
    best = []
    for g in range(groups):
        members = torch.nonzero(group == g).flatten()
        best.append(int(members[torch.argmax(per_note.index_select(0, members))]))
    return sorted(best, key=lambda r: -float(per_note[r]))


def _beam_tables(vocab: Vocabulary) -> tuple[torch.Tensor, torch.Tensor]:
    """[V] 1 for the PITCH tokens (notes are counted by them); [V] the only continuation of a finished beam
    (PAD, at no cost)."""
    is_pitch = torch.zeros(len(vocab))
    is_pitch[list(vocab.pitch_ids)] = 1.0
    finished_row = torch.full((len(vocab),), NEG_INF)
    finished_row[PAD] = 0.0
    return is_pitch, finished_row
