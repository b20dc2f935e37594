"""Recipes and model shapes as dataclasses, read from the plain dicts that JSON and model files hold."""

from __future__ import annotations

import dataclasses
from typing import ClassVar


def dataclass_from_dict(cls, values: dict, label: str):
    """Build a settings dataclass from a dict, refusing names it does not have.

    Raises:
        ValueError: a key is not a field of ``cls`` (the message lists the known ones).
    """
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown {label}: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    return cls(**values)


def nest_fields(values: dict, groups: dict[str, tuple[str, ...]]) -> dict:
    """A recipe dict with the flat keys of each group moved into that group's dict.

    Recipes written flat (the JSON recipes, command-line flags, model files of earlier versions) and nested
    ones read the same: ``{"hidden_size": 64, "epochs": 3}`` becomes ``{"model": {"hidden_size": 64},
    "epochs": 3}`` when ``groups`` is ``{"model": ("hidden_size", ...)}``. A flat key wins over the same key
    already in the group's dict.

    Args:
        values: the recipe, flat, nested or a mix.
        groups: for each nested field, the names that belong in it.
    """
    out = dict(values)
    for group, names in groups.items():
        inner = dict(out.get(group) or {})
        inner.update({name: out.pop(name) for name in names if name in out})
        if inner or group in out:
            out[group] = inner
    return out


def complete_group(cls, given: dict, defaults: dict, label: str) -> dict:
    """A nested settings dict with every field of ``cls`` named in ``defaults``: the given values over the defaults.

    Raises:
        ValueError: a given name that is not one of the group's fields.
    """
    unknown = set(given) - set(defaults)
    if unknown:
        raise ValueError(f"unknown {label}: {', '.join(sorted(unknown))} (known: {', '.join(sorted(defaults))})")
    return {**defaults, **given}


def field_defaults(cls, exclude: tuple[str, ...] = ()) -> dict:
    """The default value of every field of a dataclass but ``exclude``."""
    return {f.name: f.default for f in dataclasses.fields(cls) if f.name not in exclude}


class Settings:
    """Base of the settings dataclasses that model files save (model shapes, encodings): a plain-dict round trip
    that refuses unknown names, and the range checks they share. Subclasses set ``LABEL`` (how messages name
    them) and are frozen dataclasses."""

    LABEL: ClassVar[str] = "settings"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        return dataclass_from_dict(cls, values, cls.LABEL)

    def require_at_least_one(self, *names: str) -> None:
        """Raises ValueError naming the first of ``names`` below 1."""
        for name in names:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def require_dropout(self) -> None:
        """Raises ValueError unless ``dropout`` is in [0, 1)."""
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
