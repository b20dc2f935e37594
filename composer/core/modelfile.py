"""Model files: one plain dict per file, written atomically, loaded without running code, checked before use.

Every model family writes the same shape; the registry ``KINDS`` says, for each ``kind`` string, what to
call the file, which function of the family checks its contents and which builds the model, so a command
loads a file once (:func:`load_model_file`) and dispatches on what it got. A melody model file holds::

    format_version   int, FORMAT_VERSION
    kind             one of KINDS: "composer-model" (melody), "composer-harmony-model", ...
    model_config     ModelConfig as a dict
    vocabulary       Vocabulary.to_dict(): encoding settings and token names
    model_state      weights with the best validation loss (used for generation)
    metrics          validation (and test) loss, perplexity, accuracy of those weights
    recipe           training config, data folder, data fingerprint, file counts, versions
    history          per-epoch rows of the learning curve
    epoch            epochs completed
    resume           (absent once stripped) last epoch's weights, optimizer, scheduler, RNG, patience

Only tensors, numbers, strings, lists and dicts: ``torch.load(..., weights_only=True)`` reads it, so a
model file from a stranger cannot run code. Nor can it make this process allocate or compute without bound
before it is refused: the archive's declared sizes are checked before anything is unpacked (``MAX_*``), and
the declared model settings are checked against the tensors' shapes (on PyTorch's ``meta`` device, which
allocates nothing) before any network or vocabulary is built. Every refusal is a :class:`ModelFileError`
whose reason is one line.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from composer.core.atomic import write_atomically

FORMAT_VERSION = 1

# The kind strings saved in model files (one per model family), defined here and nowhere else.
MELODY_KIND = "composer-model"
HARMONY_KIND = "composer-harmony-model"
POLYPHONIC_KIND = "composer-polyphonic-model"

# What a model file may ask of this process before it is refused. torch.save stores every entry
# uncompressed, so a Composer file unpacks to its own size (the shipped ones: 4-15 MB, 17-31 entries, a
# data.pkl of 5-31 KB). A file that unpacks to ten times its size is a zip bomb, not a model.
MAX_UNPACKED_BYTES = 2 * 2**30   # all entries together, uncompressed
MAX_EXPANSION = 10               # uncompressed size / file size
MAX_ENTRIES = 10_000             # one per tensor storage, plus 6
MAX_PICKLE_BYTES = 2 * 2**20     # data.pkl, the dict around the tensors: read by a Python unpickler at about
                                 # 2 MB/s and up to ~70 bytes of objects per byte in the worst case
MAX_DEPTH = 16                   # nesting of the plain data (recipe, metrics, history)
MAX_REASON = 300                 # characters of a refusal's reason


@dataclass(frozen=True)
class ModelKind:
    """One kind of model file: what to call it, and the family's functions that check and build it.

    Attributes:
        kind: the ``kind`` string saved in the file.
        description: what to call such a file in messages.
        builder: ``"module:function"`` taking ``(checkpoint, path)`` and returning the family's loaded model
            (imported only when a file of this kind is loaded, so this module depends on no family).
        checker: ``"module:function"`` taking the checkpoint and raising :class:`ContentError` for contents
            the builder cannot use, without building anything large (:func:`load_checkpoint` runs it).
    """

    kind: str
    description: str
    builder: str
    checker: str

    def build(self, checkpoint: dict, path: str | os.PathLike):
        return _function(self.builder)(checkpoint, path)

    def check(self, checkpoint: dict) -> None:
        _function(self.checker)(checkpoint)


def _function(reference: str) -> Callable:
    module, function = reference.split(":")
    return getattr(importlib.import_module(module), function)


KINDS = {k.kind: k for k in (
    ModelKind(MELODY_KIND, "melody (event) model file", "composer.melody.model:from_checkpoint",
              "composer.melody.model:check_checkpoint"),
    ModelKind(HARMONY_KIND, "4-part harmony model file", "composer.harmony.model:from_checkpoint",
              "composer.harmony.model:check_checkpoint"),
    ModelKind(POLYPHONIC_KIND, "polyphonic benchmark model file", "composer.polyphonic.model:from_checkpoint",
              "composer.polyphonic.model:check_checkpoint"),
)}
KIND_NAMES = {kind: entry.description for kind, entry in KINDS.items()}   # kind -> what to call it


def one_line(text: object, limit: int = MAX_REASON) -> str:
    """``text`` as one printable line of at most ``limit`` characters (file contents end up in messages)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


class ModelFileError(Exception):
    """A model file is missing, corrupt, unsafe, of another format version, or holds contents that cannot be used.

    Attributes:
        path: the file.
        reason: why it cannot be loaded, one line.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = one_line(reason)
        super().__init__(f"cannot load model file {self.path}: {self.reason}")


class ContentError(ValueError):
    """Contents of a model file's dict that are malformed, out of range or do not fit together (the message is
    the reason); :func:`load_checkpoint` turns it into a :class:`ModelFileError`."""


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> None:
    """Write a checkpoint dict atomically: the old file stays whole until the new one is complete.

    Args:
        checkpoint: the dict (see the module docstring).
        path: destination file.
    """
    write_atomically(path, lambda handle: torch.save(checkpoint, handle))


def load_checkpoint(path: str | os.PathLike, kinds: tuple[str, ...] = tuple(KINDS)) -> dict:
    """Read a model file safely and check its contents.

    Args:
        path: the model file.
        kinds: the kinds of model file the caller can use (default: any; see ``KINDS``).

    Raises:
        ModelFileError: missing or unreadable file, an archive that would unpack beyond the ``MAX_*`` limits,
            content that is not plain data (a pickle that would run code is refused unrun), not a Composer
            model, a format version this version of Composer does not read, or contents its family cannot
            use (malformed fields, settings that do not fit the weights, NaN or infinite weights).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "a folder, not a model file" if path.is_dir() else "no such file")
    try:
        check_archive(path)
    except ContentError as error:
        raise ModelFileError(path, str(error)) from None
    checkpoint = _unpickle(path)
    kind = checkpoint.get("kind") if isinstance(checkpoint, dict) else None
    if not isinstance(kind, str) or kind not in KIND_NAMES:
        raise ModelFileError(path, "not a Composer model file")
    if kind not in kinds:
        wanted = " or ".join(KIND_NAMES[k] for k in kinds)
        raise ModelFileError(path, f"it is a {KIND_NAMES[kind]}; this needs a {wanted}")
    _check_version(path, checkpoint.get("format_version"))
    try:
        check_common_fields(checkpoint)
        KINDS[kind].check(checkpoint)
    except MemoryError:
        raise ModelFileError(path, "not enough memory to check its contents") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RuntimeError, OverflowError) as error:
        reason = str(error) if isinstance(error, ContentError) else f"inconsistent contents: {error!r}"
        raise ModelFileError(path, reason) from None
    return checkpoint


def _unpickle(path: Path):
    """``torch.load`` of an archive whose sizes were checked; any failure is a ModelFileError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:
        raise ModelFileError(path, f"not enough memory to read it ({path.stat().st_size:,} bytes)") from None
    except Exception as error:  # noqa: BLE001 - torch.load raises many kinds for damaged files
        text = str(error)
        if "Unsupported global" in text or "Unsupported operand" in text or "GLOBAL" in text:
            reason = "it holds objects other than plain data (refused without running them)"
        else:
            lines = [line for line in text.splitlines() if line.strip()]
            reason = f"corrupt or unreadable ({lines[-1].strip() if lines else type(error).__name__})"
        raise ModelFileError(path, reason) from None


def _check_version(path: Path, version) -> None:
    if type(version) is int and version == FORMAT_VERSION:
        return
    if version is None or type(version) is int:
        hint = "newer Composer" if isinstance(version, int) and version > FORMAT_VERSION else "older Composer"
        raise ModelFileError(path, f"format version {version}; this Composer reads version {FORMAT_VERSION} "
                                   f"(the file was written by a {hint})")
    raise ModelFileError(path, f"format version {one_line(repr(version), 40)} (a {type(version).__name__}, not a "
                               f"whole number); this Composer reads version {FORMAT_VERSION}")


def load_model_file(path: str | os.PathLike, kinds: tuple[str, ...] = tuple(KINDS)):
    """Read a model file once and build the model its kind describes (weights loaded, eval mode, CPU).

    Args:
        path: the model file.
        kinds: the kinds the caller can use (default: any).

    Returns:
        The family's loaded model: :class:`composer.melody.model.MelodyModel`,
        :class:`composer.harmony.model.HarmonyModel` or :class:`composer.polyphonic.model.PolyphonicModel`;
        each has ``net``, ``checkpoint`` and ``path``.

    Raises:
        ModelFileError: see :func:`load_checkpoint`.
    """
    checkpoint = load_checkpoint(path, kinds)
    try:
        return KINDS[checkpoint["kind"]].build(checkpoint, path)
    except MemoryError:
        raise ModelFileError(path, "not enough memory to build the model it describes") from None
    except (KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError) as error:
        reason = str(error) if isinstance(error, ContentError) else f"inconsistent contents: {error}"
        raise ModelFileError(path, reason) from None


def strip_checkpoint(checkpoint: dict) -> dict:
    """A copy without the resume state (optimizer and last-epoch weights), for shipping a model."""
    return {k: v for k, v in checkpoint.items() if k != "resume"}


# -- the archive, before anything is unpacked ----------------------------------------------------------------------
def check_archive(path: Path) -> None:
    """Refuse a file that is not a zip archive, or whose declared contents exceed the ``MAX_*`` limits.

    The sizes come from the zip directory, which is also what PyTorch's reader allocates by: an entry cannot
    unpack to more than its directory says.

    Raises:
        ContentError: the reason.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":  # torch.save writes a zip archive
                raise ContentError("not a model file (Composer model files are PyTorch zip archives)")
            entries, directory = _declared_directory(handle, size)
    except OSError as error:
        raise ContentError(f"unreadable ({error.strerror or type(error).__name__})") from None
    if entries > MAX_ENTRIES or directory > MAX_ENTRIES * 256:
        raise ContentError(f"its archive declares {entries:,} entries in {directory:,} bytes of directory (a model "
                           f"file has at most {MAX_ENTRIES:,} entries)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ContentError(f"corrupt or truncated ({one_line(error, 120)})") from None
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_EXPANSION * size + 2**20:
        raise ContentError(f"its archive would unpack to {unpacked:,} bytes from {size:,} (a zip bomb? a model "
                           f"file unpacks to about its own size, at most {MAX_UNPACKED_BYTES // 2**30} GiB)")
    pickled = max((info.file_size for info in infos if info.filename.rsplit("/", 1)[-1] == "data.pkl"), default=0)
    if pickled > MAX_PICKLE_BYTES:
        raise ContentError(f"its data.pkl is {pickled:,} bytes (a model file's is at most {MAX_PICKLE_BYTES:,})")


def _declared_directory(handle, size: int) -> tuple[int, int]:
    """(entries, bytes) of the zip's central directory as its end record declares them (the zip64 record's when
    it says so), read before zipfile builds an object per entry. (0, 0) when there is no end record: zipfile
    then reports the archive as corrupt."""
    tail_size = min(size, 65_536 + 22)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        return 0, 0
    entries, directory = struct.unpack("<HL", tail[end + 10:end + 16])
    locator = end - 20
    if (entries == 0xFFFF or directory == 0xFFFFFFFF) and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
        offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
        if offset + 56 <= size:
            handle.seek(offset)
            record = handle.read(56)
            if record[:4] == b"PK\x06\x06":
                entries, directory = struct.unpack("<QQ", record[32:48])
    return entries, directory


# -- the dict's fields, common to every kind -----------------------------------------------------------------------
# fields that commands print as numbers (a string there would end a command in a traceback)
SCORE_FIELDS = frozenset({"loss", "perplexity", "accuracy", "tokens", "frames", "pieces", "frame_nll", "token_nll",
                          "total_nats", "lstm_frame_nll", "lstm_total_nats", "best_epoch", "epoch"})
RECIPE_NUMBERS = frozenset({"parameters", "train_seconds"})
RECIPE_CONFIG_NUMBERS = frozenset({"epochs"})


def kind_of(value) -> str:
    """What to call a value's type in a message: ``None``, ``a str``, ``a list`` ..."""
    return "None" if value is None else f"a {type(value).__name__}"


def is_number(value) -> bool:
    """An int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_plain(value, label: str) -> None:
    """Refuse anything but None, bools, numbers, strings, lists, tuples and dicts (keys str or int), nested at
    most ``MAX_DEPTH`` deep (which also refuses cycles), in the value of a field that commands print or read.

    Raises:
        ContentError: naming the field, where in it, and what it holds.
    """
    stack: list[tuple[object, tuple, int]] = [(value, (), 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ContentError(f"{label} is nested more than {MAX_DEPTH} deep")
        if item is None or isinstance(item, (bool, int, float, str)):
            continue
        if isinstance(item, (list, tuple)):
            stack.extend((x, (where, i), depth + 1) for i, x in enumerate(item))
        elif isinstance(item, dict):
            for key, x in item.items():
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise ContentError(f"{_where(label, where)} has a key that is {kind_of(key)}")
                stack.append((x, (where, key), depth + 1))
        else:
            raise ContentError(f"{_where(label, where)} holds {kind_of(item)} (only plain values belong there)")


def _where(label: str, where: tuple) -> str:
    """``metrics['valid']['loss']`` from the nested (parent, key) pairs ``check_plain`` keeps."""
    keys = []
    while where:
        where, key = where
        keys.append(f"[{one_line(repr(key), 30)}]")
    return label + "".join(reversed(keys))


def _require(checkpoint: dict, name: str, kind: type, what: str):
    value = checkpoint.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ContentError(f"its {name} is {kind_of(value)}, not {what}")
    return value


def check_common_fields(checkpoint: dict) -> None:
    """The fields every kind has and commands read (``model_config``, ``model_state``, ``metrics``, ``recipe``,
    ``history``, ``epoch``, ``resume``): their types, and numbers where numbers are printed.

    Raises:
        ContentError: the first field that is malformed.
    """
    model_config = _require(checkpoint, "model_config", dict, "a dict of model settings")
    check_plain(model_config, "model_config")
    _require(checkpoint, "model_state", dict, "a dict of weights")
    metrics = _require(checkpoint, "metrics", dict, "a dict of scores")
    recipe = _require(checkpoint, "recipe", dict, "a dict (the training recipe)")
    history = _require(checkpoint, "history", list, "a list of epochs")
    epoch = _require(checkpoint, "epoch", int, "a whole number of epochs")
    if epoch < 0:
        raise ContentError(f"its epoch is {epoch}, below 0")
    for name, value in (("metrics", metrics), ("recipe", recipe), ("history", history)):
        check_plain(value, name)
    _check_numbers(metrics, "metrics")
    for split, values in metrics.items():
        if isinstance(values, dict):
            _check_numbers(values, f"metrics[{split!r}]")
    _check_recipe(recipe)
    for row in history:
        if not isinstance(row, dict) or not all(is_number(v) or isinstance(v, bool) or v is None
                                                for v in row.values()):
            raise ContentError(f"its history holds {one_line(repr(row), 60)} (each epoch is a dict of numbers)")
    if "resume" in checkpoint:
        resume = _require(checkpoint, "resume", dict, "a dict (the state to resume training from)")
        if not isinstance(resume.get("model_state"), dict):
            raise ContentError(f"its resume state's model_state is {kind_of(resume.get('model_state'))}, "
                               f"not a dict of weights")


def _check_numbers(values: dict, label: str, names: frozenset = SCORE_FIELDS) -> None:
    for name in names & set(values):
        if not is_number(values[name]):
            raise ContentError(f"its {label}[{name!r}] is {kind_of(values[name])}, not a number")


def _check_recipe(recipe: dict) -> None:
    for name in ("config", "data", "train", "files"):
        if name in recipe and not isinstance(recipe[name], dict):
            raise ContentError(f"its recipe[{name!r}] is {kind_of(recipe[name])}, not a dict")
    for name in ("data_dir", "data_fingerprint", "data_file", "data_sha256"):
        if recipe.get(name) is not None and not isinstance(recipe[name], str):
            raise ContentError(f"its recipe[{name!r}] is {kind_of(recipe[name])}, not text")
    _check_numbers(recipe, "recipe", RECIPE_NUMBERS)
    _check_numbers(recipe.get("config", {}), "recipe['config']", RECIPE_CONFIG_NUMBERS)


# -- helpers for the families' checkers ----------------------------------------------------------------------------
_FIELD_TYPES = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text"}


def settings_from_dict(cls, values, limits: dict[str, int]):
    """A model-settings dataclass (a :class:`composer.core.config.Settings`) from a model file's dict, each
    field's type checked first (the dataclasses compare and do arithmetic on them), and the sizes against
    ``limits`` (generous: they only keep a hostile file from describing a network too large to even describe).

    Raises:
        ContentError: not a dict, an unknown field, a value of the wrong type, a size over its limit, or a
            value the dataclass refuses.
    """
    label = getattr(cls, "LABEL", cls.__name__)
    if not isinstance(values, dict):
        raise ContentError(f"its {label} are {kind_of(values)}, not a dict")
    types = {f.name: (f.type if isinstance(f.type, str) else f.type.__name__) for f in dataclasses.fields(cls)}
    for name, value in values.items():
        if name not in types:
            raise ContentError(f"unknown {label}: {one_line(repr(name), 60)} (known: {', '.join(sorted(types))})")
        wanted = types[name]
        ok = {"int": type(value) is int, "float": is_number(value) and math.isfinite(value),
              "bool": type(value) is bool, "str": type(value) is str and len(value) <= 100}.get(wanted, True)
        if not ok:
            raise ContentError(f"its {label} give {name} {one_line(repr(value), 40)}, not "
                               f"{_FIELD_TYPES.get(wanted, wanted)}")
        if name in limits and value > limits[name]:
            raise ContentError(f"its {label} give {name} {value:,}, over the limit of {limits[name]:,}")
    try:
        return cls.from_dict(values)
    except (ValueError, TypeError) as error:
        raise ContentError(f"its {label}: {error}") from None


class _SkipInitialisation(torch.overrides.TorchFunctionMode):
    """While a network is laid out on the meta device: in-place operations on meta tensors (its random
    initialisation) do nothing, random tensors and ranges are empty ones, and a tensor combined with a number
    keeps its shape. There is nothing to compute, and PyTorch's meta versions of these operations take seconds to import
    the first time (they load torch._dynamo)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        target = args[0] if args else kwargs.get("tensor")   # torch.nn.init passes it by name
        if name.endswith("_") and not name.endswith("__") and isinstance(target, torch.Tensor) and target.is_meta:
            return target
        if func in (torch.randn, torch.rand):   # random numbers of a shape: only the shape matters here
            return torch.empty(*args, **{k: v for k, v in kwargs.items() if k != "generator"})
        if func is torch.arange and args and all(type(a) is int for a in args) and not kwargs:
            return torch.empty(len(range(*args)), dtype=torch.long, device="meta")
        if (name.strip("_").removeprefix("r") in _SCALAR_ARITHMETIC and isinstance(target, torch.Tensor)
                and target.is_meta and len(args) == 2 and isinstance(args[1], (int, float)) and not kwargs):
            return torch.empty(target.shape, dtype=target.dtype, device="meta")   # a tensor times a number
        return func(*args, **kwargs)


_SCALAR_ARITHMETIC = {"add", "sub", "mul", "div", "truediv", "pow"}


def expected_shapes(build: Callable[[], torch.nn.Module]) -> dict[str, torch.Size]:
    """The state-dict shapes of the network ``build`` makes, built on the ``meta`` device (no memory, no time).

    Raises:
        ContentError: settings that describe no possible network (PyTorch refuses the sizes).
    """
    try:
        with torch.device("meta"), _SkipInitialisation():
            net = build()
        return {name: tensor.shape for name, tensor in net.state_dict().items()}
    except (RuntimeError, ValueError, OverflowError) as error:
        raise ContentError(f"inconsistent contents: its settings describe no possible network "
                           f"({one_line(error, 120)})") from None


def check_state(state, shapes: dict[str, torch.Size], label: str = "model_state", finite: bool = True) -> None:
    """Weights that fit the network: the same names, each a dense floating-point tensor of the expected shape,
    backed by as many bytes as it claims (views cannot multiply a small storage into a large network), and
    (``finite``) no NaN or infinite value.

    Raises:
        ContentError: the first problem found, naming the tensor.
    """
    if not isinstance(state, dict):
        raise ContentError(f"its {label} is {kind_of(state)}, not a dict of weights")
    missing = [name for name in shapes if name not in state]
    unexpected = [one_line(repr(name), 40) for name in state if name not in shapes]
    if missing or unexpected:
        parts = ([f"lacks {', '.join(missing[:3])}" + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")]
                 if missing else [])
        parts += ([f"holds unexpected {', '.join(unexpected[:3])}"
                   + (f" and {len(unexpected) - 3} more" if len(unexpected) > 3 else "")] if unexpected else [])
        raise ContentError(f"inconsistent contents: its {label} {' and '.join(parts)} (the settings describe "
                           f"{len(shapes)} tensors)")
    for name, shape in shapes.items():
        tensor = state[name]
        if not isinstance(tensor, torch.Tensor) or tensor.layout != torch.strided or tensor.is_quantized:
            raise ContentError(f"its {label}[{name!r}] is {kind_of(tensor)}, not a dense tensor")
        if not tensor.is_floating_point() or tensor.device.type != "cpu":
            raise ContentError(f"its {label}[{name!r}] holds {tensor.dtype} values on {tensor.device}, not "
                               f"floating-point weights")
        if tensor.shape != shape:
            raise ContentError(f"inconsistent contents: its {label}[{name!r}] is {list(tensor.shape)} but its "
                               f"settings need {list(shape)}")
    _check_backing(state, label)
    if finite:
        bad = [name for name in shapes if not _finite(state[name])]
        if bad:
            raise ContentError(f"its weights hold NaN or infinite values ({', '.join(bad[:3])}"
                               f"{f' and {len(bad) - 3} more' if len(bad) > 3 else ''}): the model cannot be used")


def _finite(tensor: torch.Tensor) -> bool:
    """No NaN or infinite value (the extremes propagate NaN; one pass, nothing allocated)."""
    if tensor.numel() == 0:
        return True
    low, high = torch.aminmax(tensor)
    return math.isfinite(low.item()) and math.isfinite(high.item())


def _check_backing(state: dict, label: str) -> None:
    """Refuse distinct tensors that claim more bytes of one storage than it has (tied weights, the same view
    twice, count once)."""
    views: dict[int, tuple[int, set]] = {}
    for tensor in state.values():
        storage = tensor.untyped_storage()
        key = (tensor.storage_offset(), tuple(tensor.shape), tuple(tensor.stride()), tensor.element_size())
        views.setdefault(storage.data_ptr(), (storage.nbytes(), set()))[1].add(key)
    for nbytes, keys in views.values():
        claimed = sum(math.prod(shape) * size for _, shape, _, size in keys)
        if claimed > nbytes:
            raise ContentError(f"its {label} has {len(keys)} tensor{'s' if len(keys) > 1 else ''} claiming "
                               f"{claimed:,} bytes of a {nbytes:,}-byte storage (views that would inflate the network)")


def check_resume_state(checkpoint: dict, shapes: dict[str, torch.Size]) -> None:
    """The resume state's weights, when there is one: the same names and shapes as the best ones. Their values
    are not checked here (the last epoch of a run may have diverged; commands use the best weights)."""
    if "resume" in checkpoint:
        resume = checkpoint["resume"]
        check_state(resume.get("model_state") if isinstance(resume, dict) else None, shapes,
                    "resume state's model_state", finite=False)
