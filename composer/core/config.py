"""Recipes and model shapes as dataclasses, read from the plain dicts that JSON and model files hold."""

from __future__ import annotations

import dataclasses


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
