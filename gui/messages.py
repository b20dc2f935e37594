"""How the window's parts talk to the user: the one interface they share (the main window implements it)."""

from __future__ import annotations

from typing import Protocol


class Messages(Protocol):
    """Where a part of the window reports to the user.

    Attributes:
        last_message: the last text shown (status bar or error box).
    """

    last_message: str

    def show_message(self, text: str) -> None:
        """A problem or fact for the user, in the status bar (no dialog)."""

    def show_error(self, title: str, text: str) -> None:
        """An error in a box that does not block the caller."""
