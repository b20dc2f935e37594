"""Parts of the app that may be missing from a build (audio, MIDI devices, the training dialog)."""

from __future__ import annotations

from typing import Any


def optional(module: str, name: str) -> Any | None:
    """``gui.<module>.<name>``, looked up now, or None while it is missing (the window still works).

    Looking it up at each use (not at import) also lets tests replace e.g. ``gui.midi_ports.input_names``.
    """
    try:
        return getattr(__import__(f"gui.{module}", fromlist=[name]), name)
    except (ImportError, AttributeError):
        return None


def optional_instance(module: str, name: str, *args: Any) -> Any | None:
    """``gui.<module>.<name>(*args)``, or None while that class is missing from the build."""
    factory = optional(module, name)
    return factory(*args) if factory is not None else None
